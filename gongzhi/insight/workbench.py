"""insight's count on the home page (core.workbench): "warnings for me", the open early warnings in the regions
whose cockpit the user may open, urgent when any is of high level; it links to the warnings list, which lists
exactly those."""

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core.workbench import WorkItem

from . import queries
from .models import Warning

GROUP = "insight"


def items(user) -> list[WorkItem]:
    if not queries.viewable_regions(user):
        return []
    found = queries.warnings_for(user)
    counts = {row["level"]: row["n"] for row in found.order_by().values("level").annotate(n=Count("id"))}
    total, high = sum(counts.values()), counts.get(Warning.Level.HIGH, 0)
    return [WorkItem(key="insight.warnings", label=_("Warnings for me"), count=total, url=reverse("insight:warnings"),
                     urgent=bool(high), group=GROUP, order=10,
                     hint=_("%(n)s of high level") % {"n": high} if high else "")]

