"""督办 by people (issue #17 item 5): who supervises a demand, the use cases of a supervision order (an officer
issues one with a note and a time to respond by; the unit answers what it will do and by when; the
supervisor closes it), 挂牌督办 by an officer (listed publicly), and the read side of the supervision board,
the unit's orders to answer and the 督办 / 挂牌 badges.

Orders made by the deadline sweep (escalation.py) are the same rows (kind "sweep"): they are answered and
closed here too. Every use case checks can() ("demands.supervision.*", the rule below), runs in one
transaction that locks the demand, and writes its step on the demand's timeline (a DemandEvent with its
core Event: services._record), so the ledger's outbox has it in that same transaction.

Who supervises: an office holder (leader, member, staff) of a governing body at street or district level
(street office, township government, district government and their party committees; not departments, which
handle demands rather than oversee them) for demands in its region, and the office holders of the
organisation an order is addressed to (order.supervisor, e.g. a department's parent). Who answers: the posts
of the unit the order is addressed to (order.unit: the lead unit, or the desk for a dispatch deadline).
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.text import clean_optional_text, clean_public_text, clean_text
from gongzhi.org.models import Organisation, Region
from gongzhi.org.permissions import OFFICE, active_posts

from . import rules
from .models import Deadline, Demand, ListedSupervision, Notification, SupervisionOrder
from .permissions import OVERSEER_KINDS, unit_ids

MAX_NOTE = 2000
MAX_LISTING_NOTE = 300
# An order without a time to respond by (the sweep's) is to be answered within this many hours of its issue.
ANSWER_HOURS_SETTING = "GONGZHI_DEMANDS_SUPERVISION_ANSWER_HOURS"  # default 24
OFFICER_REASONS = (ListedSupervision.Reason.CONCERN, ListedSupervision.Reason.LONG_UNSOLVED,
                   ListedSupervision.Reason.OTHER)
# A demand in these states needs no supervision any more.
SETTLED_STATES = rules.FINAL_STATES | {rules.CLOSED, rules.RATED}


def answer_window() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, ANSWER_HOURS_SETTING, 24)))


# --- who ------------------------------------------------------------------------------------------------

def _supervising_posts(user):
    return [p for p in active_posts(user) if p.role in OFFICE and p.organisation.kind in OVERSEER_KINDS
            and p.organisation.region.level <= Region.Level.STREET]


def supervisor_paths(user) -> list[str]:
    """The regions (streets, the district) where `user` supervises every demand."""
    return [p.organisation.region.path for p in _supervising_posts(user)]


def office_org_ids(user) -> set[int]:
    """The organisations in which `user` holds an office: orders addressed to them are theirs to follow."""
    return {p.organisation_id for p in active_posts(user) if p.role in OFFICE}


def _covers(paths: list[str], region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths)


def _superuser(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def may_supervise(user, demand: Demand) -> bool:
    return _covers(supervisor_paths(user), demand.grid)


def may_follow(user, order: SupervisionOrder) -> bool:
    return order.supervisor_id in office_org_ids(user) or may_supervise(user, order.demand)


def may_answer(user, order: SupervisionOrder) -> bool:
    return order.unit_id is not None and order.unit_id in unit_ids(user)


def has_board(user) -> bool:
    """Whether the supervision board has anything for `user`: a supervising post, or orders addressed to an
    organisation they hold an office in."""
    if supervisor_paths(user):
        return True
    orgs = office_org_ids(user)
    return bool(orgs) and SupervisionOrder.objects.filter(supervisor_id__in=orgs).exists()


def rule(user, action: str, obj) -> bool:
    """The policy rule for "demands.supervision.*" (registered in apps.py)."""
    if action == "demands.supervision.board":
        return has_board(user)
    if action == "demands.supervision.inbox":
        return bool(unit_ids(user))
    if action == "demands.supervision.has_orders":  # the menu links the inbox only where it has something
        units = unit_ids(user)
        return bool(units) and SupervisionOrder.objects.filter(unit_id__in=units).exists()
    if action in ("demands.supervision.issue", "demands.supervision.list"):
        return isinstance(obj, Demand) and may_supervise(user, obj)
    if not isinstance(obj, SupervisionOrder):
        return False
    if action == "demands.supervision.answer":
        return may_answer(user, obj)
    if action == "demands.supervision.close":
        return may_follow(user, obj)
    if action == "demands.supervision.view":
        return may_answer(user, obj) or may_follow(user, obj)
    return False


def orders_q(user, *, as_unit: bool = False) -> Q:
    """The orders `user` follows (as a supervisor) or, `as_unit`, must answer, as a Q over SupervisionOrder."""
    if _superuser(user):
        return Q()
    if as_unit:
        return Q(unit_id__in=unit_ids(user))
    q = Q(supervisor_id__in=office_org_ids(user))
    for path in supervisor_paths(user):
        q |= Q(demand__grid__path__startswith=path)
    return q


def get_order(user, pk) -> SupervisionOrder:
    """One order by id that the user follows, must answer, or whose demand they may see; NotFound for any other,
    as for one that does not exist."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("supervision order %(pk)s") % {"pk": pk}) from None
    from .queries import visible

    # Those who may see its demand find it too (and are then refused the act, 403, not told it is absent).
    seen = orders_q(user) | orders_q(user, as_unit=True) | Q(demand__in=visible(user))
    found = (SupervisionOrder.objects.filter(seen, pk=pk)
             .select_related("demand__grid", "unit", "supervisor").first())
    if found is None:
        raise NotFound(_("supervision order %(pk)s") % {"pk": pk})
    return found


def supervising_org(user, demand: Demand) -> Organisation | None:
    """The organisation in whose name `user` supervises `demand`: their post's body nearest to the demand."""
    posts = [p for p in _supervising_posts(user) if demand.grid.path.startswith(p.organisation.region.path)]
    if posts:
        return max(posts, key=lambda p: (p.organisation.region.level, p.organisation.kind not in
                                         Organisation.PARTY_KINDS)).organisation
    return demand.desk  # the superuser: in the name of the demand's street


# --- the deadline an order is about -------------------------------------------------------------------------

def _specs():
    from .escalation import SPECS

    return SPECS


def missed_deadline(demand: Demand, now: dt.datetime | None = None) -> tuple[str, dt.datetime] | None:
    """(kind, due) of the earliest running deadline that has passed; None when none has."""
    now = now or clock.now()
    passed = [(getattr(demand, s.field), s.kind) for s in _specs() if s.runs(demand) and getattr(demand, s.field) < now]
    if not passed:
        return None
    due, kind = min(passed)
    return kind, due


def running_deadline(demand: Demand, now: dt.datetime | None = None) -> tuple[str, dt.datetime] | None:
    """The deadline an order on `demand` is about: the earliest passed one, else the nearest still running."""
    found = missed_deadline(demand, now)
    if found:
        return found
    running = [(getattr(demand, s.field), s.kind) for s in _specs() if s.runs(demand)]
    if not running:
        return None
    due, kind = min(running)
    return kind, due


def working_days_late(due: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    """Working days (core.workdays: the office's calendar) from the day after `due` to today, local time."""
    if due is None:
        return None
    first = timezone.localtime(due).date() + dt.timedelta(days=1)
    today = timezone.localtime(now or clock.now()).date()
    if first > today:
        return 0
    return _working_days(first, today)


def _working_days(first: dt.date, last: dt.date) -> int:
    """Working days in first..last; each day asked of the calendar (cached there), at most a few hundred."""
    from gongzhi.core import workdays

    days, day = 0, first
    while day <= last:
        days += workdays.is_working_day(day)
        day += dt.timedelta(days=1)
    return days


def hours_late(due: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    """Whole hours (at least 1) since `due` when it passed less than a day ago, else None: a 2-hour dispatch
    deadline missed this afternoon is "3 hours late", not "0 days"."""
    if due is None:
        return None
    late = (now or clock.now()) - due
    if late <= dt.timedelta(0) or late >= dt.timedelta(days=1):
        return None
    return max(1, int(late.total_seconds() // 3600))


def calendar_days_late(due: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    if due is None:
        return None
    return max(0, (timezone.localtime(now or clock.now()).date() - timezone.localtime(due).date()).days)


# --- use cases --------------------------------------------------------------------------------------------

def _lock(demand: Demand) -> Demand:
    from .services import _locked

    return _locked(demand)


def _record(*args, **kwargs):
    from .services import _record as record

    return record(*args, **kwargs)


def _notify(demand: Demand, text: str, *, unit_id: int | None, at: dt.datetime) -> None:
    from django.utils import translation

    from .notifications import _notify as notify

    with translation.override(settings.LANGUAGE_CODE):
        notify(Notification.Kind.SUPERVISION, demand, str(text), unit_id=unit_id, at=at)


def _webhooks(units: set, event: str, demand: Demand, at: dt.datetime, order: SupervisionOrder) -> None:
    from .notifications import queue_webhooks

    queue_webhooks(units, event, demand, at=at, extra={"supervision": {
        "id": order.pk, "kind": order.kind, "deadline": order.deadline, "due": order.due.isoformat(),
        "respond_by": order.respond_by.isoformat() if order.respond_by else None,
        "unit_id": order.unit_id, "supervisor_id": order.supervisor_id}})


def issue_order(user, demand: Demand, *, note: str, respond_by: dt.datetime | None) -> SupervisionOrder:
    """An officer's 督办单 on a demand of their street or district: addressed to the unit responsible for the
    step now due (escalation.responsible_unit), with a note and a time to act and answer by, which must lie
    in the future. One open officer order per demand (a second is refused: follow the first or close it)."""
    note = clean_text(note, "a note", max_length=MAX_NOTE, code="note_required")
    if respond_by is None:
        raise ValidationFailed(_("Give the new deadline."), code="respond_by_required")
    if timezone.is_naive(respond_by):
        respond_by = timezone.make_aware(respond_by)
    with transaction.atomic():
        demand = _lock(demand)
        policy.require(user, "demands.supervision.issue", demand)
        now = clock.now()
        if respond_by <= now:
            raise ValidationFailed(_("The new deadline must be in the future."), code="respond_by_past")
        if respond_by > now + dt.timedelta(days=366):
            raise ValidationFailed(_("The new deadline must be within a year."), code="respond_by_too_far")
        if demand.state in SETTLED_STATES:
            raise Conflict(_("Demand %(number)s is settled: there is nothing to supervise.")
                           % {"number": demand.number}, code="demand_settled")
        about = running_deadline(demand, now)
        if about is None:
            raise Conflict(_("No step of demand %(number)s is waiting on a deadline: there is nothing to supervise.")
                           % {"number": demand.number}, code="no_running_deadline")
        kind, due = about
        from .escalation import responsible_unit

        unit = responsible_unit(demand, kind)
        if unit is None:
            raise Conflict(_("No unit is responsible for demand %(number)s yet.") % {"number": demand.number},
                           code="no_responsible_unit")
        if SupervisionOrder.objects.filter(demand=demand, kind=SupervisionOrder.Kind.OFFICER,
                                           resolved_at__isnull=True).exists():
            raise Conflict(_("Demand %(number)s already has an open supervision order: follow it up or close it "
                             "first.") % {"number": demand.number}, code="already_supervised")
        supervisor = supervising_org(user, demand)
        step = _record(demand, "supervise", user, demand.state, note=note, unit=unit, order_kind="officer", deadline=str(kind),
                       due=due.isoformat(), respond_by=respond_by.isoformat(),
                       supervisor=supervisor.pk if supervisor else None)
        order = SupervisionOrder.objects.create(
            demand=demand, kind=SupervisionOrder.Kind.OFFICER, deadline=kind, due=due, unit=unit,
            supervisor=supervisor, issued_at=now, issued_by=user, note=note, respond_by=respond_by, event=step.event)
        _absorb_sweep_orders(user, demand, order, now)
        _notify(demand, _("Supervision order on demand %(number)s from %(supervisor)s: answer what you will do and "
                          "by when, by %(respond_by)s.") % {
            "number": demand.number, "supervisor": supervisor.name if supervisor else "",
            "respond_by": timezone.localtime(respond_by).strftime("%Y-%m-%d %H:%M")}, unit_id=unit.pk, at=now)
        _webhooks({unit.pk}, "supervision", demand, now, order)
    return order


def merged_note(order: SupervisionOrder) -> str:
    """The closing note of a deadline order absorbed by an officer's order, in the site's language (stored)."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return str(_("Merged into supervision order #%(n)s") % {"n": order.pk})


def _absorb_sweep_orders(user, demand: Demand, order: SupervisionOrder, now: dt.datetime) -> int:
    """An officer's order takes over the open orders the sweep made on the same demand: they are closed with
    the note "merged into order #n" (each a step on the timeline), so the unit answers one order, not two."""
    absorbed = 0
    for sweep in (SupervisionOrder.objects.select_for_update()
                  .filter(demand=demand, kind=SupervisionOrder.Kind.SWEEP, resolved_at__isnull=True).order_by("id")):
        note = merged_note(order)
        _record(demand, "close_supervision", user, demand.state, note=note, unit=sweep.unit, order=sweep.pk,
                merged_into=order.pk)
        sweep.resolved_at, sweep.closed_by, sweep.close_note = now, user, note
        sweep.save(update_fields=["resolved_at", "closed_by", "close_note"])
        absorbed += 1
    return absorbed


def open_officer_order(demand: Demand) -> SupervisionOrder | None:
    return (SupervisionOrder.objects.filter(demand=demand, kind=SupervisionOrder.Kind.OFFICER,
                                            resolved_at__isnull=True).order_by("-id").first())


def order_deadlines(demand: Demand, now: dt.datetime | None = None) -> list[dict]:
    """The time an open officer's order gave the unit to act by (督办限期), as an entry of the demand's deadlines
    (views._deadlines): once an officer set a new deadline, the page shows what is expected now."""
    now = now or clock.now()
    order = open_officer_order(demand)
    if order is None or order.respond_by is None:
        return []
    return [{"name": "respond_by", "label": _("Supervision deadline"), "at": order.respond_by,
             "is_overdue": order.respond_by < now, "provisional": None, "order": order}]


def answer_order(user, order: SupervisionOrder, *, text: str, promised_by: dt.date | None) -> SupervisionOrder:
    """The unit's required response to a supervision order: what it will do, and the day by which."""
    text = clean_text(text, "an answer", max_length=MAX_NOTE, code="answer_required")
    if promised_by is None:
        raise ValidationFailed(_("Say by when it will be done."), code="promised_by_required")
    with transaction.atomic():
        demand = _lock(order.demand)
        order = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        order.demand = demand
        policy.require(user, "demands.supervision.answer", order)
        if order.resolved_at is not None:
            raise Conflict(_("This supervision order is closed."), code="order_closed")
        if order.answered_at is not None:
            raise Conflict(_("This supervision order has been answered already."), code="already_answered")
        now = clock.now()
        if promised_by < timezone.localtime(now).date():
            raise ValidationFailed(_("The day it will be done by cannot be in the past."), code="promised_by_past")
        _record(demand, "answer_supervision", user, demand.state, note=text, unit=order.unit, order=order.pk,
                promised_by=promised_by.isoformat())
        order.answer, order.promised_by, order.answered_at, order.answered_by = text, promised_by, now, user
        order.save(update_fields=["answer", "promised_by", "answered_at", "answered_by"])
        _notify(demand, _("%(unit)s answered the supervision order on demand %(number)s: done by %(day)s.") % {
            "unit": order.unit.name if order.unit_id else "", "number": demand.number,
            "day": promised_by.isoformat()}, unit_id=order.supervisor_id, at=now)
        _webhooks({order.supervisor_id}, "supervision_answered", demand, now, order)
    return order


def close_order(user, order: SupervisionOrder, *, note: str = "") -> SupervisionOrder:
    """The supervisor closes an order (督办办结), with an optional note; an order is otherwise resolved when
    its step is done (the sweep, escalation._resolve)."""
    note = clean_optional_text(note, "a note", max_length=MAX_NOTE)
    with transaction.atomic():
        demand = _lock(order.demand)
        order = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
        order.demand = demand
        policy.require(user, "demands.supervision.close", order)
        if order.resolved_at is not None:
            raise Conflict(_("This supervision order is closed."), code="order_closed")
        now = clock.now()
        _record(demand, "close_supervision", user, demand.state, note=note, unit=order.unit, order=order.pk)
        order.resolved_at, order.closed_by, order.close_note = now, user, note
        order.save(update_fields=["resolved_at", "closed_by", "close_note"])
    return order


def list_publicly(user, demand: Demand, *, reason: str, note: str = "") -> ListedSupervision:
    """挂牌督办 by an officer: the demand is listed on the public side with the reason (one of
    OFFICER_REASONS; "other" needs it in words). The words are public: scrubbed of personal data when stored.
    Once per demand."""
    if reason not in OFFICER_REASONS:
        raise ValidationFailed(_("Choose a reason for listing."), code="unknown_reason")
    note = clean_optional_text(note, "a reason", max_length=MAX_LISTING_NOTE)
    if reason == ListedSupervision.Reason.OTHER and not note:
        raise ValidationFailed(_("Say the reason in words."), code="reason_required")
    note = clean_public_text(note, "a reason", max_length=MAX_LISTING_NOTE) if note else ""
    with transaction.atomic():
        demand = _lock(demand)
        policy.require(user, "demands.supervision.list", demand)
        if demand.state in SETTLED_STATES:
            raise Conflict(_("Demand %(number)s is settled: there is nothing to supervise.")
                           % {"number": demand.number}, code="demand_settled")
        if ListedSupervision.objects.filter(demand=demand).exists():
            raise Conflict(_("Demand %(number)s is listed already.") % {"number": demand.number},
                           code="already_listed")
        now = clock.now()
        unit = demand.lead_unit or demand.desk
        supervisor = supervising_org(user, demand)
        count = SupervisionOrder.objects.filter(demand=demand).count()
        step = _record(demand, "list_supervision", user, demand.state, note=note, unit=unit, reason=reason,
                       count=count, supervisor=supervisor.pk if supervisor else None)
        listing = ListedSupervision.objects.create(demand=demand, reason=reason, note=note, count=count, unit=unit,
                                                   supervisor=supervisor, listed_at=now, listed_by=user,
                                                   event=step.event)
        from .notifications import on_listed

        on_listed(listing)
    return listing


# --- read side ------------------------------------------------------------------------------------------

STATUSES = ("open", "answered", "closed")


def status_q(status: str) -> Q:
    return {"open": Q(resolved_at__isnull=True, answered_at__isnull=True),
            "answered": Q(resolved_at__isnull=True, answered_at__isnull=False),
            "closed": Q(resolved_at__isnull=False)}[status]


def late_answer_q(now: dt.datetime) -> Q:
    """Open orders not answered in time: past their respond-by, or (none set) past the answer window."""
    return Q(resolved_at__isnull=True, answered_at__isnull=True) & (
        Q(respond_by__lt=now) | Q(respond_by__isnull=True, issued_at__lt=now - answer_window()))


def board_orders(user, *, status: str = "open", unit: int | None = None, community: int | None = None,
                 late: bool = False, now=None):
    """The orders `user` follows, in one status (`late`: only those not answered in time), oldest missed
    deadline first."""
    qs = SupervisionOrder.objects.filter(orders_q(user), status_q(status))
    if late:
        qs = qs.filter(late_answer_q(now or clock.now()))
    if unit is not None:
        qs = qs.filter(unit_id=unit)
    if community is not None:
        qs = qs.filter(demand__community_id=community)
    return (qs.select_related("demand__grid", "demand__community", "demand__category", "unit", "supervisor",
                              "issued_by")
            .order_by("due", "issued_at", "id"))


def overdue_unsupervised(user, *, unit: int | None = None, community: int | None = None, now=None):
    """Overdue demands in `user`'s supervision scope with no open order: the ones to supervise, oldest first."""
    now = now or clock.now()
    if _superuser(user):
        qs = Demand.objects.all()
    else:
        paths = supervisor_paths(user)
        if not paths:
            return Demand.objects.none()
        q = Q(pk__in=[])
        for path in paths:
            q |= Q(grid__path__startswith=path)
        qs = Demand.objects.filter(q)
    qs = qs.filter(Demand.overdue_q(now)).exclude(
        Exists(SupervisionOrder.objects.filter(demand=OuterRef("pk"), resolved_at__isnull=True)))
    if unit is not None:
        qs = qs.filter(Q(lead_unit_id=unit) | Q(lead_unit__isnull=True, desk_id=unit))
    if community is not None:
        qs = qs.filter(community_id=community)
    return (qs.select_related("grid", "community", "category", "lead_unit", "desk")
            .order_by(F("feedback_due").asc(nulls_last=True), F("accept_due").asc(nulls_last=True), "id"))


def inbox(user, *, status: str = "open"):
    """The orders addressed to the units `user` works in, in one status, the earliest respond-by first."""
    return (SupervisionOrder.objects.filter(orders_q(user, as_unit=True), status_q(status))
            .select_related("demand__grid", "demand__community", "demand__category", "unit", "supervisor",
                            "issued_by")
            .order_by(F("respond_by").asc(nulls_first=True), "issued_at", "id"))


def board_filter_choices(user) -> tuple[list, list]:
    """(units, communities) to filter the board by: those of the orders and overdue demands in scope."""
    units = set(SupervisionOrder.objects.filter(orders_q(user)).values_list("unit_id", flat=True))
    overdue = overdue_unsupervised(user)
    units |= set(overdue.values_list("lead_unit_id", flat=True)) | set(overdue.values_list("desk_id", flat=True))
    units.discard(None)
    communities = set(SupervisionOrder.objects.filter(orders_q(user)).values_list("demand__community_id", flat=True))
    communities |= set(overdue.values_list("community_id", flat=True))
    if not _superuser(user):
        for path in supervisor_paths(user):
            communities |= set(Region.objects.filter(path__startswith=path, level=Region.Level.COMMUNITY)
                               .values_list("pk", flat=True))
    return (list(Organisation.objects.filter(pk__in=units).order_by("name").values_list("pk", "name")),
            list(Region.objects.filter(pk__in=communities).order_by("path").values_list("pk", "name")))


def badges(demand: Demand) -> dict:
    """{"supervised": an open order, "listed": 挂牌督办} for one demand; read once and kept on the object."""
    cached = getattr(demand, "_supervision_badges", None)
    if cached is None:
        if hasattr(demand, "is_supervised") and hasattr(demand, "is_listed"):
            cached = {"supervised": demand.is_supervised, "listed": demand.is_listed}
        else:
            row = (Demand.objects.filter(pk=demand.pk).annotate(**badge_annotations())
                   .values("is_supervised", "is_listed").first() or {"is_supervised": False, "is_listed": False})
            cached = {"supervised": row["is_supervised"], "listed": row["is_listed"]}
        demand._supervision_badges = cached
    return cached


def badge_annotations() -> dict:
    """For a Demand queryset's .annotate(): is_supervised and is_listed, as badges() reads them."""
    return {"is_supervised": Exists(SupervisionOrder.objects.filter(demand=OuterRef("pk"), resolved_at__isnull=True)),
            "is_listed": Exists(ListedSupervision.objects.filter(demand=OuterRef("pk")))}


def prefetch_badges(demands) -> None:
    """Read the badges of a page of demands in two queries (instead of one per demand in badges())."""
    demands = [d for d in demands if getattr(d, "_supervision_badges", None) is None]
    if not demands:
        return
    ids = [d.pk for d in demands]
    supervised = set(SupervisionOrder.objects.filter(demand_id__in=ids, resolved_at__isnull=True)
                     .values_list("demand_id", flat=True))
    listed = listed_ids(ids)
    for demand in demands:
        demand._supervision_badges = {"supervised": demand.pk in supervised, "listed": demand.pk in listed}


def listed_ids(demand_ids) -> set[int]:
    """Which of these demands are listed (挂牌督办), for the public list."""
    return set(ListedSupervision.objects.filter(demand_id__in=list(demand_ids)).values_list("demand_id", flat=True))


def listings_of(demand: Demand):
    return ListedSupervision.objects.filter(demand=demand).order_by("listed_at", "id")


def orders_of(demand: Demand):
    """Every order on a demand, newest first (the demand's page)."""
    return (SupervisionOrder.objects.filter(demand=demand).select_related("unit", "supervisor", "issued_by",
                                                                          "answered_by", "closed_by")
            .order_by("-issued_at", "-id"))


def deadline_label(kind: str) -> str:
    return Deadline(kind).label


# --- today's work (core.workbench, registered in apps.py) ------------------------------------------------------

def work_items(user) -> list:
    """For supervisors: the open orders they follow (those not answered in time urgent); for units: the orders
    waiting for their answer (urgent). Each links to the board or the inbox filtered to exactly those."""
    from django.urls import reverse

    from gongzhi.core.workbench import WorkItem

    items = []
    if not getattr(user, "is_authenticated", False):
        return items
    now = clock.now()
    if policy.can(user, "demands.supervision.board"):
        mine = SupervisionOrder.objects.filter(orders_q(user))
        board = reverse("demands:supervision")
        late = mine.filter(late_answer_q(now)).count()
        items += [
            WorkItem("supervision.late", _("Supervision orders not answered in time"), late,
                     f"{board}?status=open&late=1", urgent=bool(late), group="supervision", order=10),
            WorkItem("supervision.open", _("Supervision orders awaiting the unit's answer"),
                     mine.filter(status_q("open")).count(), f"{board}?status=open", group="supervision", order=20),
            WorkItem("supervision.answered", _("Answered supervision orders to follow"),
                     mine.filter(status_q("answered")).count(), f"{board}?status=answered", group="supervision",
                     order=30),
        ]
    if unit_ids(user):
        waiting = inbox(user, status="open").count()
        if waiting:
            items.append(WorkItem("supervision.to_answer", _("Supervision orders to answer"), waiting,
                                  f"{reverse('demands:supervision_inbox')}?status=open", urgent=True,
                                  group="supervision", order=5))
    return items


# --- the demo (org.demo extension, registered in apps.py) -------------------------------------------------------

def build_demo(seed: int) -> str:
    """The deadline sweep over the demo's year as it ends now: the orders (and listings) it would have made, so
    the street's and the district's board shows the overdue demands' orders and their age."""
    from .escalation import sweep_deadlines

    report = sweep_deadlines()
    return (f"{report.supervision_orders} supervision orders, {report.listed} listed, "
            f"{report.reminders} reminders")


def reset_demo() -> dict[str, int]:
    return {}  # the orders and listings go with the demo's demands (on_delete CASCADE)
