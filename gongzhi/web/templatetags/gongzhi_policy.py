"""Template access to the one permission gate, core.policy.can(), e.g. to show a menu link only to
those the page behind it would not refuse."""

from django import template

from gongzhi.core import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, action: str, obj=None) -> bool:
    """{% can "org.view_access_log" as may_audit %}: may the signed-in user do `action` (on `obj`)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return policy.can(user, action, obj)
