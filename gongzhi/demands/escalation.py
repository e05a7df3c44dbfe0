"""Escalation (督办) of 接诉即办: the deadline sweep that reminds units of near deadlines, issues supervision
orders (督办单) to their superiors when a deadline passes, and puts open demands that were reopened or
overdue again and again on the listed-supervision list (挂牌督办); plus the read side the dashboards use.

The deadlines live in the demands' rows and every reminder, order and listing is a row unique per
(demand, deadline, due) or (demand, reason): the sweep keeps no timer of its own, so it may run at any
interval, twice, or after a restart, and creates each thing exactly once. It runs from
`gongzhi demands sweep [--forever]` in-process, or as tasks.sweep_deadlines_task under `gongzhi db_worker`.

Who supervises (superior_of): the unit's parent organisation when it has one; otherwise, for a unit
serving a community, village or grid (a residents' committee, a property company …), the street office
or township government of its street; for a unit serving a street or the district (a street office, a
government department), the district government. No superior on record: the order is still issued,
addressed to no one, and shows on the dashboards.

No grace: an order is issued once a deadline has passed. The dispatch deadline of a demand waiting at the desk
counts hours (the dispatch window: 2 working hours for an ordinary demand, calendar.py), so its order may come the same
afternoon, "0 days" late: the pages then say how many hours late. Its unit is the demand's desk (the street
office or township government of its street, services.dispatch_desk), which can dispatch it; the desk's superior
(the district government) follows the order.
"""

import datetime as dt
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from gongzhi.core import clock, events
from gongzhi.org.models import Organisation, Region

from . import notifications, queries, rules
from .calendar import TimeLimit
from .models import Deadline, DeadlineReminder, Demand, DemandEvent, ListedSupervision, SupervisionOrder
from .services import time_limit_for

STREET_OFFICE_KINDS = ("street_office", "township_government")

# --- configuration ----------------------------------------------------------------------------------------
# GONGZHI_DEMANDS_REMINDER_FRACTION   remind when this share of the time limit is left (default 0.2) …
# GONGZHI_DEMANDS_REMINDER_MAX_HOURS  … but never earlier than this many hours before the deadline (24)
# GONGZHI_DEMANDS_LISTING_REOPENS     挂牌督办 once reopened this many times (2)
# GONGZHI_DEMANDS_LISTING_OVERDUES    挂牌督办 once this many deadlines were missed (2)


def _setting(name: str, default):
    return getattr(settings, f"GONGZHI_DEMANDS_{name}", default)


# --- pure rules -------------------------------------------------------------------------------------------

def reminder_lead(limit_hours: float, *, fraction: float = 0.2, max_hours: float = 24) -> dt.timedelta:
    """How long before a deadline its reminder goes out: `fraction` of the time limit, at most `max_hours`
    (a 2 h limit is reminded 24 min ahead, a 7-day one a day ahead, not 33.6 h)."""
    return dt.timedelta(hours=max(0.0, min(limit_hours * fraction, max_hours)))


@dataclass(frozen=True)
class DeadlineSpec:
    """One deadline: its *_due field, the states in which it runs (as Demand.is_*_overdue), its time limit."""

    kind: str
    states: frozenset[str]

    @property
    def field(self) -> str:
        return f"{self.kind}_due"

    def limit_hours(self, limit: TimeLimit) -> float:
        if self.kind == Deadline.FEEDBACK:
            return limit.feedback_hours if limit.feedback_hours is not None else 24 * (limit.feedback_days or 0)
        return limit.dispatch_hours  # the unit's accept window equals the desk's dispatch window

    def runs(self, demand: Demand) -> bool:
        return demand.state in self.states and getattr(demand, self.field) is not None


SPECS = (
    DeadlineSpec(Deadline.DISPATCH, rules.AT_DESK_STATES),
    DeadlineSpec(Deadline.ACCEPT, frozenset({rules.DISPATCHED})),
    DeadlineSpec(Deadline.FEEDBACK, rules.AT_DESK_STATES | rules.HANDLING_STATES),
)
SPEC = {spec.kind: spec for spec in SPECS}


# --- who answers for a deadline, and who supervises them ----------------------------------------------------

def responsible_unit(demand: Demand, kind: str) -> Organisation | None:
    """The unit that must take the step: the dispatch desk for dispatching (and for feedback while the
    demand waits at the desk), the lead unit otherwise."""
    if kind == Deadline.DISPATCH or demand.state in rules.AT_DESK_STATES:
        return demand.desk
    return demand.lead_unit


def superior_of(unit: Organisation | None) -> Organisation | None:
    """The organisation a supervision order about `unit` is addressed to (the rule in the module docstring)."""
    if unit is None:
        return None
    if unit.parent_id:
        return unit.parent
    region = unit.region
    ids = [int(x) for x in region.path.strip("/").split("/")]
    if region.level >= Region.Level.COMMUNITY and len(ids) >= 2:
        candidates = Organisation.objects.filter(region_id=ids[1], kind__in=STREET_OFFICE_KINDS)
    else:
        candidates = Organisation.objects.filter(region_id=ids[0], kind="district_government")
    return candidates.exclude(pk=unit.pk).order_by("id").first()


# --- the sweep --------------------------------------------------------------------------------------------

@dataclass
class SweepReport:
    reminders: int = 0
    supervision_orders: int = 0
    resolved: int = 0
    listed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def sweep_deadlines(now: dt.datetime | None = None, *, should_stop=None) -> SweepReport:
    """One pass over every running deadline at `now` (default clock.now()): reminders for those within
    their lead time, supervision orders for those passed, resolution of orders whose step is done, and
    挂牌督办 for open demands reopened or overdue too often. Idempotent; each new row is its own transaction
    with its core event and notifications. `should_stop()` is asked between rows (never inside one's
    transaction): once true the pass ends early, and the next pass does what this one left."""
    now = now or clock.now()
    stop = should_stop or (lambda: False)
    report = SweepReport()
    max_lead = dt.timedelta(hours=float(_setting("REMINDER_MAX_HOURS", 24)))

    def each(step, pks, *args) -> int:
        done = 0
        for pk in pks:
            if stop():
                break
            done += step(pk, *args)
        return done

    for spec in SPECS:
        due = spec.field
        not_reminded = ~Exists(DeadlineReminder.objects.filter(demand=OuterRef("pk"), deadline=spec.kind,
                                                               due=OuterRef(due)))
        near = Demand.objects.filter(not_reminded, state__in=spec.states,
                                     **{f"{due}__gt": now, f"{due}__lte": now + max_lead})
        report.reminders += each(_remind, list(near.values_list("pk", flat=True)), spec, now)
        not_ordered = ~Exists(SupervisionOrder.objects.filter(demand=OuterRef("pk"), deadline=spec.kind,
                                                              due=OuterRef(due)))
        late = Demand.objects.filter(not_ordered, state__in=spec.states, **{f"{due}__lt": now})
        report.supervision_orders += each(_supervise, list(late.values_list("pk", flat=True)), spec, now)
        if stop():
            return report
    open_orders = SupervisionOrder.objects.filter(resolved_at__isnull=True).values_list("pk", flat=True)
    report.resolved = each(_resolve, list(open_orders), now)
    if stop():
        return report
    report.listed = _list_repeated(now)
    return report


def _locked(pk: int) -> Demand:
    return (Demand.objects.select_for_update(of=("self",)).select_related("category", "lead_unit", "desk")
            .get(pk=pk))


def _due_public(demand: Demand, spec: DeadlineSpec) -> dict:
    return {"number": demand.number, "deadline": spec.kind, "due": getattr(demand, spec.field).isoformat()}


def _remind(pk: int, spec: DeadlineSpec, now: dt.datetime) -> bool:
    with transaction.atomic():
        demand = _locked(pk)  # re-checked under the lock: the unit may have acted since the query
        if not spec.runs(demand) or not now < getattr(demand, spec.field):
            return False
        due = getattr(demand, spec.field)
        lead = reminder_lead(spec.limit_hours(time_limit_for(demand.category, demand.urgency)),
                             fraction=float(_setting("REMINDER_FRACTION", 0.2)),
                             max_hours=float(_setting("REMINDER_MAX_HOURS", 24)))
        if now < due - lead or DeadlineReminder.objects.filter(demand=demand, deadline=spec.kind, due=due).exists():
            return False
        unit = responsible_unit(demand, spec.kind)
        event = events.record("demands.remind", demand, **_due_public(demand, spec),
                              unit=unit.pk if unit else None)
        reminder = DeadlineReminder.objects.create(demand=demand, deadline=spec.kind, due=due, unit=unit,
                                                   sent_at=now, event=event)
        notifications.on_reminder(reminder)
    return True


def _supervise(pk: int, spec: DeadlineSpec, now: dt.datetime) -> bool:
    with transaction.atomic():
        demand = _locked(pk)
        if not spec.runs(demand) or not getattr(demand, spec.field) < now:
            return False
        due = getattr(demand, spec.field)
        if SupervisionOrder.objects.filter(demand=demand, deadline=spec.kind, due=due).exists():
            return False
        unit = responsible_unit(demand, spec.kind)
        supervisor = superior_of(unit)
        # An officer's order is open on the demand: it covers this deadline too, so the new order is recorded
        # (the deadline was missed) but closed at once as merged into it, and the unit is not asked twice.
        from .supervision import merged_note, open_officer_order

        officer = open_officer_order(demand)
        if officer is not None and not (SPEC[officer.deadline].runs(demand)
                                        and getattr(demand, SPEC[officer.deadline].field) == officer.due):
            officer = None  # its own step is done: this pass resolves it, so it covers nothing new
        event = events.record("demands.supervise", demand, **_due_public(demand, spec),
                              unit=unit.pk if unit else None, supervisor=supervisor.pk if supervisor else None,
                              merged_into=officer.pk if officer else None)
        order = SupervisionOrder.objects.create(
            demand=demand, deadline=spec.kind, due=due, unit=unit, supervisor=supervisor, issued_at=now, event=event,
            resolved_at=now if officer else None, close_note=merged_note(officer) if officer else "")
        _on_timeline(demand, "supervise", event, unit)
        if officer is None:
            notifications.on_supervision_order(order)
    return True


def _on_timeline(demand: Demand, action: str, event, unit: Organisation | None) -> None:
    """The sweep's order, resolution or listing as a step of the demand's timeline (its state unchanged).
    Written with bulk_create, which sends no post_save, so no demand_changed: the sweep notifies for itself."""
    DemandEvent.objects.bulk_create([DemandEvent(demand=demand, actor=None, at=event.at, from_state=demand.state,
                                                 to_state=demand.state, action=action, unit=unit, event=event)])


def _resolve(pk: int, now: dt.datetime) -> bool:
    """Close an open order once its step is done or its deadline replaced (re-dispatch, reopen)."""
    with transaction.atomic():
        order = SupervisionOrder.objects.select_for_update(of=("self",)).select_related("demand").get(pk=pk)
        spec = SPEC[order.deadline]
        demand = order.demand
        if order.resolved_at is not None or (spec.runs(demand) and getattr(demand, spec.field) == order.due):
            return False
        order.resolved_at = now
        order.save(update_fields=["resolved_at"])
        event = events.record("demands.resolve_supervision", demand, number=demand.number, deadline=order.deadline,
                              due=order.due.isoformat(), state=demand.state)
        _on_timeline(demand, "resolve_supervision", event, order.unit)
    return True


def _list_repeated(now: dt.datetime) -> int:
    reopens = int(_setting("LISTING_REOPENS", 2))
    overdues = int(_setting("LISTING_OVERDUES", 2))
    # Only demands still open: one rated (and not reopened) or merged / rejected needs no supervision now.
    running = Demand.objects.exclude(state__in=rules.FINAL_STATES | {rules.RATED})

    def unlisted(reason):
        return ~Exists(ListedSupervision.objects.filter(demand=OuterRef("pk"), reason=reason))

    R = ListedSupervision.Reason
    reopened = running.filter(unlisted(R.REOPENED), reopen_count__gte=reopens).values_list("pk", flat=True)
    # Counted from the (small) orders table, not by grouping every demand.
    late_often = (SupervisionOrder.objects.values("demand_id").annotate(orders=Count("id"))
                  .filter(orders__gte=overdues).values("demand_id"))
    overdue = running.filter(unlisted(R.OVERDUE), pk__in=late_often).values_list("pk", flat=True)
    return (sum(_list(pk, R.REOPENED, reopens, now) for pk in list(reopened))
            + sum(_list(pk, R.OVERDUE, overdues, now) for pk in list(overdue)))


def _list(pk: int, reason: str, threshold: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        demand = _locked(pk)
        count = (demand.reopen_count if reason == ListedSupervision.Reason.REOPENED
                 else SupervisionOrder.objects.filter(demand=demand).count())
        if (count < threshold or demand.state in rules.FINAL_STATES | {rules.RATED}
                or ListedSupervision.objects.filter(demand=demand, reason=reason).exists()):
            return False
        unit = demand.lead_unit or demand.desk
        supervisor = superior_of(unit)
        event = events.record("demands.list_supervision", demand, number=demand.number, reason=reason, count=count,
                              unit=unit.pk if unit else None, supervisor=supervisor.pk if supervisor else None)
        listing = ListedSupervision.objects.create(demand=demand, reason=reason, count=count, unit=unit,
                                                   supervisor=supervisor, listed_at=now, event=event)
        _on_timeline(demand, "list_supervision", event, unit)
        notifications.on_listed(listing)
    return True


# --- read side: what the dashboards show --------------------------------------------------------------------

def open_supervision_orders(user):
    """Open supervision orders on the demands `user` may view, oldest deadline first (the overdue board)."""
    return (SupervisionOrder.objects.filter(resolved_at__isnull=True, demand__in=queries.visible(user))
            .select_related("demand", "unit", "supervisor").order_by("due", "id"))


def listed_supervision(user):
    """The 挂牌督办 list: listings of demands `user` may view, newest first."""
    return (ListedSupervision.objects.filter(demand__in=queries.visible(user))
            .select_related("demand", "unit", "supervisor").order_by("-listed_at", "-id"))

