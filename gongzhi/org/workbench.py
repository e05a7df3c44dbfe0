"""org's counts on the home page (core.workbench): residents waiting to be confirmed where they live (grid
workers, community offices), and for the data officer the week's reveals of personal data to review."""

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock, policy
from gongzhi.core.workbench import WorkItem

from .models import Post

REVIEW_DAYS = 7


def items(user) -> list[WorkItem]:
    from . import accounts, queries
    from .permissions import active_posts

    found = []
    roles = {p.role for p in active_posts(user)}
    if policy.can(user, "org.confirm_household") and (roles & {Post.Role.GRID_WORKER} or any(
            p.organisation.region.level == p.organisation.region.Level.COMMUNITY for p in active_posts(user))):
        waiting = accounts.pending_claims(user).count()
        found.append(WorkItem(key="org.claims", label=_("Residents to confirm where they live"), count=waiting,
                              url=reverse("org:claims"), group="org", order=10))
    if policy.can(user, "org.view_access_log") and Post.Role.DATA_OFFICER in roles:
        since = clock.today() - dt.timedelta(days=REVIEW_DAYS - 1)
        reveals = queries.access_log(user, since=since).count() + sum(
            rows.count() for rows in queries.other_access_logs(user, since=since).values())
        found.append(WorkItem(key="org.reveals", label=_("Reveals of personal data in the last 7 days"),
                              count=reveals, url=f"{reverse('org:access_log')}?since={since.isoformat()}",
                              group="privacy", order=10))
    return found
