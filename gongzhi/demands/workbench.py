"""The demands' counts on the home page (core.workbench): to sign for, being handled, to dispatch, to verify, to
close, overdue, and the residents' own demands to rate; each links to the queue narrowed to that step."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock
from gongzhi.core.workbench import WorkItem
from gongzhi.org.permissions import OFFICE, active_posts

from . import queries
from .models import Demand
from .permissions import dispatcher_paths, overseer_paths

GROUP = "demands"


def _url(step: str) -> str:
    return f"{reverse('demands:queue')}?step={step}"


def items(user) -> list[WorkItem]:
    """One item per step this user's posts take part in (a unit signs and handles; a desk dispatches, verifies
    and closes; a grid worker verifies); "to rate" for anyone who filed demands that wait for their rating."""
    # Units where the user holds an office post (a grid worker's or building lead's committee is not theirs to
    # handle demands for; party organisations lead, they are not dispatched demands).
    units = {p.organisation_id for p in active_posts(user) if p.role in OFFICE and not p.organisation.is_party}
    desks = dispatcher_paths(user)
    steps = []
    if units:
        steps += [("sign", _("To sign for"), 10), ("handle", _("Being handled"), 20)]
    if desks:
        steps += [("dispatch", _("To dispatch"), 10), ("close", _("To close"), 40)]
    if desks:  # a grid worker's replies to verify are on their patrol page (patrol's own count)
        steps += [("verify", _("To verify"), 30)]
    now = clock.now()
    counted = {}
    if steps:
        late = Demand.overdue_q(now)
        aggregates = {step: Count("pk", filter=queries._queue_q(user, step)) for step, _label, _o in steps}
        aggregates["overdue"] = Count("pk", filter=late)
        every = Q(pk__in=[])
        for step, _label, _o in steps:
            every |= queries._queue_q(user, step)
        counted = Demand.objects.filter(every).aggregate(**aggregates) if steps else {"overdue": 0}
    found = [WorkItem(key=f"demands.{step}", label=label, count=counted.get(step, 0), url=_url(step), group=GROUP,
                      order=order) for step, label, order in steps]
    if steps:
        found.append(WorkItem(key="demands.overdue", label=_("Overdue"), count=counted["overdue"],
                              url=_url("overdue"), urgent=True, group=GROUP, order=5))
    # Overseers who sit at no desk (a street's party secretary, the district): the overdue demands of their area,
    # which they follow up by 督办 (the board lists them).
    if not desks and overseer_paths(user) and any(p.role in OFFICE for p in active_posts(user)):
        from gongzhi.core import policy

        supervises = policy.can(user, "demands.supervision.board")
        url = reverse("demands:supervision") if supervises else reverse('demands:dashboard')
        found.append(WorkItem(key="demands.overdue_area", label=_("Overdue demands in my area"),
                              count=queries.overdue(user).count(), url=url, urgent=supervises, group=GROUP, order=6))
    to_rate = Demand.objects.filter(queries._queue_q(user, "rate")).count()
    if to_rate:
        found.append(WorkItem(key="demands.rate", label=_("Your demands to rate"), count=to_rate, url=_url("rate"),
                              group=GROUP, order=50))
    return found
