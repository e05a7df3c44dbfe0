"""Template tags of care for other apps' pages: the notices to the building a resident lives in (shown on
org's "where I live" page by including care/_my_building_notices.html)."""

from django import template

from .. import queries

register = template.Library()


@register.simple_tag
def building_notices_for(user) -> dict:
    building, notices = queries.notices_for_resident(user)
    return {"building": building, "notices": notices}
