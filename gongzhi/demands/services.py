"""Use cases of 接诉即办: file, triage, dispatch, accept, return, start work, reply, verify, close, rate,
reopen, merge, reject. Each checks can(), runs in one transaction that locks the demand, moves it by the
transition table of rules.py, and writes one DemandEvent per step together with its core Event (so the
ledger's outbox queues it in that same transaction). Each returns a Step: the demand and its events,
whose ledger receipts are read after the commit."""

import contextvars
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from gongzhi.core import bulk, clock, events, policy
from gongzhi.core.groupcommit import GroupCommit
from gongzhi.core.text import clean_optional_text, clean_text
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import gettext_lazy
from gongzhi.ledger import services as ledger
from gongzhi.org import locating
from gongzhi.org.models import Organisation, Person, Region
from gongzhi.org.rules import mask_phone

from . import deadlines, defaults, hooks, rules
from .permissions import DispatchTarget
from .calendar import DEFAULT_TIME_LIMITS, TimeLimit
from .models import (
    Assignment, Category, Demand, DemandContact, DemandContactAccess, DemandCounter, DemandEvent, Open311Client,
    RoutingRule, Submission, TimeLimitRule,
)

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
DESK_KINDS = ("street_office", "township_government")


class OutsideGrids(ValidationFailed):
    code = "outside_grids"
    base_message = gettext_lazy("The location lies outside every grid")


class UnknownAddress(ValidationFailed):
    """An address_string the district's address register names no single place for."""

    code = "unknown_address"
    base_message = gettext_lazy("The district's address register names no place for this address")


@dataclass
class Step:
    """What a use case did: the demand as it is now and the events it wrote, oldest first."""

    demand: Demand
    events: list[DemandEvent] = field(default_factory=list)

    def receipts(self) -> list[dict | None]:
        return [receipt(e.event) for e in self.events]


def receipt(core_event, *, catch_up: bool = True) -> dict | None:
    """The ledger receipt of one step, or None while it is not yet sequenced: inside a caller's larger
    transaction (the ledger sequences after the outermost commit), or when the sequencer runs as its
    own process ("loop" mode) and has not caught up. GET …/events hands it out later."""
    try:
        return ledger.receipt_for(core_event)
    except ledger.NotSequenced:
        if not catch_up or connection.in_atomic_block or settings.GONGZHI_LEDGER_SEQUENCER != "inline":
            return None
    # Inline mode after commit: the writer's after-commit run should have sequenced it; if that run
    # failed (it is robust, i.e. logged and swallowed), catch up now.
    ledger.sequence_pending()
    try:
        return ledger.receipt_for(core_event)
    except ledger.NotSequenced:
        return None


def seed_defaults() -> dict[str, int]:
    """The default category taxonomy and time limits (idempotent; also run by migration 0002)."""
    with transaction.atomic():
        return {"categories": defaults.seed_categories(Category),
                "time_limits": defaults.seed_time_limits(TimeLimitRule)}


# --- lookups used by the use cases ---------------------------------------------------------------------

# Within one pass of the intake worker (file_submissions) the configuration tables (time limits, routing
# rules, desks) are read once per distinct key instead of once per demand; outside a pass, every call reads.
_pass_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("demands_pass_memo", default=None)


def _memoised(kind: str, key, compute):
    memo = _pass_memo.get()
    if memo is None:
        return compute()
    if (kind, key) not in memo:
        memo[(kind, key)] = compute()
    return memo[(kind, key)]


def category_by_code(code: str) -> Category:
    found = Category.objects.filter(code=code, is_active=True).first()
    if found is None:
        raise ValidationFailed(gettext_lazy("unknown category %(code)r") % {"code": code}, code="unknown_category")
    return found


def _category(value) -> Category | None:
    if value is None or value == "":
        return None
    if isinstance(value, Category):
        if not value.is_active:
            raise ValidationFailed(gettext_lazy("category %(value_code)s is no longer in use")
                                   % {"value_code": value.code}, code="unknown_category")
        return value
    return category_by_code(str(value))


def _urgency(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in rules.URGENCIES:
        raise ValidationFailed(gettext_lazy("unknown urgency %(value)r") % {"value": value}, code="unknown_urgency")
    return value


def time_limit_for(category: Category | None, urgency: str) -> TimeLimit:
    """The active time-limit rule for this urgency and the most specific of the category's ancestors
    (a rule for "every category" last); calendar.DEFAULT_TIME_LIMITS when there is none."""
    return _memoised("time_limit", (category.pk if category else None, urgency),
                     lambda: _time_limit_for(category, urgency))


def _time_limit_for(category: Category | None, urgency: str) -> TimeLimit:
    ancestry = category.ancestor_ids() if category else []
    candidates = TimeLimitRule.objects.filter(Q(category_id__in=ancestry) | Q(category__isnull=True),
                                              urgency=urgency, is_active=True)
    best = max(candidates, key=lambda r: ancestry.index(r.category_id) + 1 if r.category_id else 0, default=None)
    if best is None:
        return DEFAULT_TIME_LIMITS[urgency]
    return TimeLimit(dispatch_hours=best.dispatch_hours, feedback_hours=best.feedback_hours,
                     feedback_days=best.feedback_days, working_days=best.working_days)


def _local(moment: dt.datetime) -> dt.datetime:
    # The calendar counts in wall-clock time: give it Asia/Shanghai (settings.TIME_ZONE) datetimes.
    return timezone.localtime(moment)


def _proposed_urgency(text: str, category: Category | None) -> str:
    cues: dict[str, list[str]] = {}
    if category is not None:
        for node in Category.objects.filter(pk__in=category.ancestor_ids()):
            for urgency, words in (node.urgency_cues or {}).items():
                cues.setdefault(urgency, []).extend(words)
    return rules.propose_urgency(text, category.default_urgency if category else None, cues)


@dataclass(frozen=True)
class Route:
    """Where routing sends a demand: a rule's unit, or (rule None) the street's dispatch desk."""

    unit: Organisation | None
    rule: RoutingRule | None


def route(category: Category | None, grid: Region) -> Route:
    """Most specific rule wins (rules.routing_key): the deepest region containing the grid, then the most
    specific category among the demand's category and its ancestors (or "any"), then priority. No rule:
    the dispatch desk of the grid's street."""
    return _memoised("route", (category.pk if category else None, grid.pk), lambda: _route(category, grid))


def _route(category: Category | None, grid: Region) -> Route:
    region_ids = [int(x) for x in grid.path.strip("/").split("/")]
    category_ids = category.ancestor_ids() if category else []
    matching = list(RoutingRule.objects.filter(
        Q(region_id__in=region_ids) | Q(region__isnull=True),
        Q(category_id__in=category_ids) | Q(category__isnull=True),
        is_active=True,
    ).select_related("unit", "region"))
    if matching:
        best = max(matching, key=lambda r: (rules.routing_key(
            r.region.level if r.region_id else 0,
            category_ids.index(r.category_id) + 1 if r.category_id else 0,
            r.priority), -r.pk))
        return Route(best.unit, best)
    return Route(dispatch_desk(grid), None)


def dispatch_desk(grid: Region) -> Organisation | None:
    """The street office (or township government) of the grid's street."""
    street_id = int(grid.path.strip("/").split("/")[1])
    return _memoised("desk", street_id, lambda: Organisation.objects.filter(region_id=street_id, kind__in=DESK_KINDS)
                     .order_by("id").first())


def _allocate_number(received_at: dt.datetime) -> str:
    """The next number of the local day. The day's counter row is locked (select_for_update; on SQLite
    the IMMEDIATE write lock) until the filing transaction commits, so two filings never share a number."""
    day = timezone.localdate(received_at)
    counter, _ = DemandCounter.objects.select_for_update().get_or_create(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return rules.demand_number(day, counter.last)


# --- recording steps ------------------------------------------------------------------------------------

def _record(demand: Demand, action: str, actor, from_state: str, *, note: str = "", unit=None,
            private: dict | None = None, **public) -> DemandEvent:
    """One DemandEvent and its core Event (kind "demands.<action>"), inside the caller's transaction.
    Free text and contact data go to `private` (the ledger publishes only commitments to them)."""
    hidden = dict(private or {})
    if note:
        hidden["note"] = note
    core_event = events.record(
        f"demands.{action}", demand, actor=actor, private=hidden,
        number=demand.number, action=action, **{"from": from_state, "to": demand.state},
        unit=unit.pk if unit is not None else None, **public,
    )
    return DemandEvent.objects.create(
        demand=demand, actor=core_event.actor, at=core_event.at, from_state=from_state, to_state=demand.state,
        action=action, note=note, unit=unit, event=core_event,
    )


def _deadlines_public(demand: Demand) -> dict:
    return {name: getattr(demand, name).isoformat() if getattr(demand, name) else None
            for name in ("dispatch_due", "accept_due", "feedback_due")}


def _locked(demand: Demand) -> Demand:
    return (Demand.objects.select_for_update(of=("self",)).select_related("grid", "category", "lead_unit")
            .get(pk=demand.pk))


def _begin(user, demand: Demand, action: str, *, checked: bool = False) -> tuple[Demand, str, str]:
    """Lock the demand, check the transition (409) and the permission (401/403); (demand, from, to).
    `checked`: the caller has proved the right itself (a guest's 查询码, guests.py)."""
    locked = _locked(demand)
    to_state = rules.next_state(locked.state, action)
    if not checked:
        policy.require(user, f"demands.{action}", locked)
    return locked, locked.state, to_state


def _required(value: str | None, what: str, code: str) -> str:
    """Free text through the one check (core.text): refused when empty, only invisible characters or NUL."""
    return clean_text(value, what, code=code)


def _optional_texts(address: str, contact_name: str, contact_phone: str) -> tuple[str, str, str]:
    """A demand's optional texts: may be empty, but never hold a NUL or control character."""
    return (clean_optional_text(address, "address"), clean_optional_text(contact_name, "contact name"),
            clean_optional_text(contact_phone, "contact phone"))


def _open311_text(description: str, category) -> str:
    """An Open311 description is optional (the service's name stands in), but one that was typed and
    holds only invisible characters or a NUL is refused like any demand text."""
    if not (description or "").strip():
        return category.name
    return _required(description, "a description", "text_required")


def _end_assignments(demand: Demand, now) -> None:
    Assignment.objects.filter(demand=demand, ended_at__isnull=True).update(ended_at=now)


# --- filing -------------------------------------------------------------------------------------------

def file_demand(user, *, text: str, channel: str = Demand.Channel.WEB, longitude: float | None = None,
                latitude: float | None = None, grid: Region | None = None, address: str = "", category=None,
                urgency: str | None = None, contact_name: str = "", contact_phone: str = "",
                reporter: Person | None = None, received_at: dt.datetime | None = None, guest: bool = False,
                route: bool = True, on_behalf: str = "") -> Step:
    """File a demand from any channel (接诉). The point is placed in its grid (org's point-to-grid), and so
    in its community and street; a point outside every grid is refused and nothing is stored. Urgency is
    proposed from the category and the text's cue words; an urgency given by a resident is kept as their
    suggestion for the desk to confirm (confirm_urgency), and applies at once only when it comes from the
    desk itself: a hotline operator, a grid worker on patrol, or a dispatcher of the demand's grid. The
    channel is the entry point's (the caller's code passes it; no request field chooses it). With a
    category the demand is routed at once (a matching rule dispatches it to its unit); without, it waits at
    the dispatch desk for triage. `guest`: filed without an account (guests.py gives the 查询码): no user,
    no reporter person. `on_behalf`: filed by `user` for the `reporter`, who cannot file themself (代办, e.g.
    by their building lead: care.services.file_on_behalf); these words say who, as the filing step's note,
    and the step's public data is marked on_behalf.
    """
    if guest:
        user = None
    else:
        policy.require(user, "demands.file")
    text = _required(text, "a description", "text_required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(gettext_lazy("the description is longer than %(max_text)s characters")
                               % {"max_text": MAX_TEXT}, code="text_too_long")
    address, contact_name, contact_phone = _optional_texts(address, contact_name, contact_phone)
    if channel not in Demand.Channel.values:
        raise ValidationFailed(gettext_lazy("unknown channel %(channel)r")
                               % {"channel": channel}, code="unknown_channel")
    category = _category(category)
    given_urgency = _urgency(urgency)
    if longitude is not None or latitude is not None:
        if longitude is None or latitude is None:
            raise ValidationFailed(gettext_lazy("give both longitude and latitude"), code="location_incomplete")
        grid = locating.locate(longitude, latitude).grid
        if grid is None:
            raise OutsideGrids(f"{longitude}, {latitude}")
    elif grid is None:
        raise ValidationFailed(gettext_lazy("a location (longitude and latitude) is required"),
                               code="location_required")
    elif grid.level != Region.Level.GRID:
        raise ValidationFailed(gettext_lazy("%(grid)s is not a grid") % {"grid": grid}, code="not_a_grid")
    if channel == Demand.Channel.PATROL:
        policy.require(user, "demands.patrol", grid)
    suggested_urgency = ""
    if given_urgency and not _sets_urgency(user, channel, grid):
        suggested_urgency, given_urgency = given_urgency, None
    if reporter is None and user is not None:
        reporter = Person.objects.filter(user=user).first()
    street_id, community_id = (int(x) for x in grid.path.strip("/").split("/")[1:3])
    proposal, suggested = (None, None) if category is not None else _proposal(text)
    category_source = "reporter" if category is not None else ""
    if suggested is not None and proposal.confidence >= settings.GONGZHI_AUTO_CLASSIFY_CONFIDENCE:
        category, category_source = suggested, "classifier"

    with transaction.atomic():
        # A submission from the fast intake path was received before it is filed: its time counts.
        now = received_at or clock.now()
        demand = Demand(
            number=_allocate_number(now), channel=channel, reporter_user=user, reporter=reporter, text=text,
            category=category, urgency=given_urgency or _proposed_urgency(text, category),
            urgency_overridden=given_urgency is not None, suggested_urgency=suggested_urgency,
            longitude=longitude, latitude=latitude, address=address.strip()[:200], grid=grid,
            community_id=community_id, street_id=street_id,
            desk=dispatch_desk(grid), received_at=now, suggested_category=suggested,
            suggestion_confidence=proposal.confidence if proposal else None,
            suggestion={"alternatives": proposal.alternatives, "source": proposal.source} if proposal else {},
        )
        deadlines.set_filing_dues(demand, _local(now), time_limit_for(category, demand.urgency))
        demand.save()
        contact = {"name": contact_name.strip()[:60], "phone": contact_phone.strip()[:20]}
        if any(contact.values()):
            DemandContact.objects.create(demand=demand, **contact)
        private = {"text": text, "address": demand.address,
                   "location": [longitude, latitude] if longitude is not None else None,
                   **{f"contact_{k}": v for k, v in contact.items() if v}}
        filed = _record(demand, "file", user, "", unit=demand.desk, private=private, channel=channel,
                        note=on_behalf, **({"on_behalf": True} if on_behalf else {}),
                        grid=grid.pk, community=community_id, street=street_id,
                        category=category.code if category else None, urgency=demand.urgency,
                        suggested_urgency=suggested_urgency or None, category_source=category_source or None,
                        suggested=suggested.code if suggested else None,
                        confidence=round(proposal.confidence, 4) if proposal else None,
                        **_deadlines_public(demand))
        steps = [filed]
        if category is not None and route:  # route=False: 随手办, nobody else is to act (file_solved_on_the_spot)
            steps += _route_and_dispatch(demand)
    return Step(demand, steps)


def _sets_urgency(user, channel: str, grid: Region) -> bool:
    """Whether an urgency given at filing is the desk's decision rather than a resident's suggestion."""
    if channel in (Demand.Channel.HOTLINE, Demand.Channel.PATROL):
        return True  # the operator who took the call / the grid worker who saw it (both checked above)
    return policy.can(user, "demands.confirm_urgency", grid)


# --- the fast intake path (docs/decisions/0005-intake-queue.md) --------------------------------------------

SUBMISSION_CHANNELS = (Demand.Channel.API, Demand.Channel.WEB, Demand.Channel.OPEN311)
MAX_FILING_ATTEMPTS = 5
CATEGORY_CODES_FRESHNESS = dt.timedelta(seconds=10)
_category_codes: tuple[dt.datetime, frozenset[str]] | None = None


def _active_category_codes() -> frozenset[str]:
    """The active category codes, cached per process for CATEGORY_CODES_FRESHNESS: a code deactivated
    meanwhile is caught when the submission is filed (it is then filed without a category)."""
    global _category_codes
    now = clock.now()
    if _category_codes is None or not dt.timedelta(0) <= now - _category_codes[0] < CATEGORY_CODES_FRESHNESS:
        _category_codes = (now, frozenset(Category.objects.filter(is_active=True).values_list("code", flat=True)))
    return _category_codes[1]


def submit_demand(user, *, text: str, longitude: float | None, latitude: float | None,
                  channel: str = Demand.Channel.API, address: str = "", category: str | None = None,
                  urgency: str | None = None, contact_name: str = "", contact_phone: str = "") -> Submission:
    """Accept a demand durably for filing moments later (the fast intake path, answered 202). Every check
    that needs no lock is made now, so that bad input is refused at once with its reason and nothing is
    stored: the permission, the text, the channel, the category code, the urgency, and the point inside a
    grid (the in-memory index). The submission, its event and the ledger's outbox row are then written in
    one transaction, shared with the other submissions arriving in the same instant (core.groupcommit),
    and returned once committed; file_submissions() later files it as a Demand received at its time."""
    policy.require(user, "demands.file")
    text = _required(text, "a description", "text_required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(gettext_lazy("the description is longer than %(max_text)s characters")
                               % {"max_text": MAX_TEXT}, code="text_too_long")
    address, contact_name, contact_phone = _optional_texts(address, contact_name, contact_phone)
    if channel not in SUBMISSION_CHANNELS:
        raise ValidationFailed(gettext_lazy("channel %(channel)r cannot submit; use one of %(join)s")
                               % {"channel": channel, "join": ', '.join(SUBMISSION_CHANNELS)},
                               code="unknown_channel")
    code = (category or "").strip() or None
    if code is not None and code not in _active_category_codes():
        raise ValidationFailed(gettext_lazy("unknown category %(code)r") % {"code": code}, code="unknown_category")
    urgency = _urgency(urgency)
    if longitude is None or latitude is None:
        if longitude is None and latitude is None:
            raise ValidationFailed(gettext_lazy("a location (longitude and latitude) is required"),
                                   code="location_required")
        raise ValidationFailed(gettext_lazy("give both longitude and latitude"), code="location_incomplete")
    grid_id = locating.grid_id_at(longitude, latitude)
    if grid_id is None:
        raise OutsideGrids(f"{longitude}, {latitude}")
    payload = {"text": text, "longitude": longitude, "latitude": latitude, "address": address.strip()[:200],
               "category": code, "urgency": urgency, "contact_name": contact_name.strip()[:60],
               "contact_phone": contact_phone.strip()[:20]}
    submission = Submission(submitter=user, channel=channel, received_at=clock.now(), grid_id=grid_id,
                            payload=payload)
    return _intake.submit(submission)


def _store_submissions(submissions: list[Submission]) -> list[Submission]:
    """One transaction for a batch from the group committer: the submissions, their events, the outbox.
    Written with core.bulk.insert_rows: at a thousand a second the ORM's per-row work was the limit."""
    with transaction.atomic():
        ids = bulk.insert_rows(
            Submission, ("key", "submitter", "channel", "received_at", "grid", "payload", "state", "attempts",
                         "error_code", "error_message"),
            [(s.key, s.submitter_id, s.channel, s.received_at, s.grid_id, s.payload, s.state, 0, "", "")
             for s in submissions])
        for submission, pk in zip(submissions, ids):
            submission.pk = pk
            submission._state.adding, submission._state.db = False, connection.alias
        events.record_many("demands.submit", [
            (s, s.submitter, _submission_private(s.payload),
             {"channel": s.channel, "grid": s.grid_id, "category": s.payload["category"],
              "urgency": s.payload["urgency"], "received_at": s.received_at.isoformat()})
            for s in submissions
        ])
    return submissions


def _submission_private(payload: dict) -> dict:
    return {"text": payload["text"], "address": payload["address"],
            "location": [payload["longitude"], payload["latitude"]],
            **{k: payload[k] for k in ("contact_name", "contact_phone") if payload[k]}}


_intake = GroupCommit(_store_submissions, name="demands-intake")


@dataclass
class FilingReport:
    filed: int = 0
    refused: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return {"filed": self.filed, "refused": self.refused, "failed": self.failed}


def file_submissions(limit: int = 500) -> FilingReport:
    """The intake worker: file up to `limit` pending submissions, oldest first, each in its own transaction
    (one bad submission holds up no other). A domain error (the point no longer in a grid, the submitter
    no longer allowed) refuses it with the reason, recorded as an event; an unexpected error leaves it
    pending for the next pass, and after MAX_FILING_ATTEMPTS refuses it. Concurrent workers skip rows
    another has locked (PostgreSQL); on SQLite the write lock serialises them."""
    report = FilingReport()
    skip_locked = connection.features.has_select_for_update_skip_locked
    token = _pass_memo.set({})
    try:
        _file_pending(report, limit, skip_locked)
    finally:
        _pass_memo.reset(token)
    return report


def _file_pending(report: FilingReport, limit: int, skip_locked: bool) -> None:
    # Only what was pending when the pass began: under a steady stream of submissions a pass that also took
    # the newly arrived ones would run its whole `limit` each time, and the worker's deadline sweep and a stop
    # request would wait behind it (issue #19: reminders came late during a burst of intake).
    last_id, upto = 0, Submission.objects.aggregate(upto=Max("id"))["upto"]
    if upto is None:
        return
    for _ in range(limit):
        try:
            with transaction.atomic():
                # A submission without a grid awaits a desk's placement (place_submission), not the worker.
                pending = (Submission.objects.filter(state=Submission.State.PENDING, id__gt=last_id, id__lte=upto,
                                                     grid__isnull=False).order_by("id"))
                if skip_locked:
                    pending = pending.select_for_update(skip_locked=True, of=("self",))
                submission = pending.select_related("submitter").first()
                if submission is None:
                    break
                last_id = submission.pk
                if _file_submission(submission):
                    report.filed += 1
                else:
                    report.refused += 1
        except Exception as exc:  # noqa: BLE001 - kept pending and counted; logged with its traceback
            logger.exception("filing submission %s failed", last_id)
            report.failed += 1
            _count_failed_attempt(last_id, exc)


def _file_submission(submission: Submission) -> bool:
    """File one locked submission; True when filed, False when refused (inside the caller's transaction)."""
    data = submission.payload
    category = data.get("category")
    if category and not Category.objects.filter(code=category, is_active=True).exists():
        category = None  # retired since it was submitted: the desk triages instead of losing the demand
    try:
        with transaction.atomic():
            if "open311" in data:  # an Open311 POST answered with a token: filed as it would have been then
                request = dict(data["open311"])
                client = Open311Client.objects.get(pk=request.pop("client"))
                step = file_open311_request(client, received_at=submission.received_at, **request)
            else:
                step = file_demand(
                    submission.submitter, text=data["text"], channel=submission.channel,
                    longitude=data["longitude"], latitude=data["latitude"], address=data.get("address", ""),
                    category=category, urgency=data.get("urgency"), contact_name=data.get("contact_name", ""),
                    contact_phone=data.get("contact_phone", ""), received_at=submission.received_at,
                )
    except DomainError as exc:
        _close_submission(submission, Submission.State.REFUSED, code=exc.code, message=exc.message("en"))
        events.record("demands.refuse_submission", submission, actor=None, code=exc.code)
        return False
    _close_submission(submission, Submission.State.FILED, demand=step.demand)
    return True


def _close_submission(submission: Submission, state: str, *, demand: Demand | None = None, code: str = "",
                      message: str = "") -> None:
    submission.state, submission.demand, submission.processed_at = state, demand, clock.now()
    submission.error_code, submission.error_message = code, message[:400]
    submission.payload = {}  # the demand (and its contact row) or the event's private part keeps it
    submission.save(update_fields=["state", "demand", "processed_at", "error_code", "error_message", "payload"])


def _count_failed_attempt(submission_id: int, exc: Exception) -> None:
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.state != Submission.State.PENDING:
            return
        submission.attempts += 1
        submission.error_message = f"{type(exc).__name__}: {exc}"[:400]
        submission.save(update_fields=["attempts", "error_message"])
        if submission.attempts >= MAX_FILING_ATTEMPTS:
            _close_submission(submission, Submission.State.REFUSED, code="filing_failed",
                              message=submission.error_message)
            events.record("demands.refuse_submission", submission, actor=None, code="filing_failed")


def submission_event(submission: Submission):
    """The core Event that recorded the submission (its ledger entry is the proof it was received)."""
    from gongzhi.core.models import Event

    return Event.objects.get(kind="demands.submit", subject_type="demands.submission", subject_id=str(submission.pk))


def submission_for(user, key: str) -> Submission:
    """The caller's own submission by its key (404 for anyone else's: keys are not to be probed)."""
    found = (Submission.objects.select_related("demand").filter(key=key, submitter_id=getattr(user, "pk", None))
             .first())
    if found is None:
        raise NotFound(gettext_lazy("submission %(key)s") % {"key": key})
    return found


def _proposal(text: str) -> tuple[hooks.Proposal | None, Category | None]:
    """The registered proposer's category for an unclassified text, if it names an active category. A
    proposer that fails must not stop the filing: the demand then waits for triage like any other."""
    propose = hooks.get("propose_category")
    if propose is None:
        return None, None
    try:
        proposal = propose(text)
    except Exception:  # noqa: BLE001 - logged with its traceback; filing goes on without a suggestion
        logger.exception("the category proposer failed")
        return None, None
    suggested = Category.objects.filter(code=proposal.code, is_active=True).first() if proposal else None
    return (proposal, suggested) if suggested is not None else (None, None)


def _route_and_dispatch(demand: Demand) -> list[DemandEvent]:
    """Routing after a category is known: a matching rule dispatches (by the system, no actor)."""
    found = route(demand.category, demand.grid)
    if found.rule is None or found.unit is None:
        return []
    return [_dispatch(demand, None, found.unit, [], note="", rule=found.rule)]


def _dispatch(demand: Demand, actor, unit: Organisation, assisting: list[Organisation], *, note: str,
              rule: RoutingRule | None = None) -> DemandEvent:
    now = clock.now()
    from_state = demand.state
    demand.state = rules.next_state(from_state, "dispatch")
    _end_assignments(demand, now)
    Assignment.objects.create(demand=demand, unit=unit, role=Assignment.Role.LEAD, assigned_at=now)
    for other in assisting:
        Assignment.objects.create(demand=demand, unit=other, role=Assignment.Role.ASSISTING, assigned_at=now)
    limit = time_limit_for(demand.category, demand.urgency)
    demand.lead_unit = unit
    demand.dispatched_at = now
    # The unit gets the same window to accept (签收) as the desk had to dispatch.
    deadlines.set_due(demand, "accept_due", _local(now), limit)
    demand.accepted_at = None
    demand.save()
    return _record(demand, "dispatch", actor, from_state, note=note, unit=unit,
                   assisting=[u.pk for u in assisting], rule=rule.pk if rule else None,
                   category=demand.category.code if demand.category else None, **_deadlines_public(demand))


# --- the workflow ---------------------------------------------------------------------------------------

def triage(user, demand: Demand, *, category, urgency: str | None = None) -> Step:
    """Classify a demand waiting at the desk (分类). Urgency is proposed again unless set by hand, and the
    deadlines follow the category's time limits; a received demand is then routed (and, when a rule
    matches, dispatched). A returned demand is not routed again: the desk dispatches it by hand."""
    category = _category(category)
    if category is None:
        raise ValidationFailed(gettext_lazy("a category is required"), code="category_required")
    given_urgency = _urgency(urgency)
    with transaction.atomic():
        demand, from_state, _ = _begin(user, demand, "triage")
        demand.category = category
        if given_urgency:
            demand.urgency, demand.urgency_overridden = given_urgency, True
        elif not demand.urgency_overridden:
            demand.urgency = _proposed_urgency(demand.text, category)
        deadlines.set_filing_dues(demand, _local(demand.received_at), time_limit_for(category, demand.urgency),
                                  dispatch=from_state == rules.RECEIVED)
        demand.save()
        steps = [_record(demand, "triage", user, from_state, category=category.code, urgency=demand.urgency,
                         **_deadlines_public(demand))]
        if from_state == rules.RECEIVED:
            steps += _route_and_dispatch(demand)
    return Step(demand, steps)


def confirm_urgency(user, demand: Demand, *, urgency: str | None = None, note: str = "") -> Step:
    """The dispatch desk confirms the urgency of an open demand (确认紧急程度): the reporter's suggestion
    when `urgency` is empty, or the urgency the desk decides. The feedback deadline (and, at the desk, the
    dispatch deadline) follows the confirmed urgency; the state does not change."""
    given = _urgency(urgency)
    with transaction.atomic():
        demand, from_state, _ = _begin(user, demand, "confirm_urgency")
        confirmed = given or demand.suggested_urgency
        if not confirmed:
            raise ValidationFailed(gettext_lazy("the reporter suggested no urgency: name one"), code="urgency_required")
        demand.urgency, demand.urgency_overridden = confirmed, True
        deadlines.set_filing_dues(demand, _local(demand.received_at), time_limit_for(demand.category, confirmed),
                                  dispatch=from_state in rules.AT_DESK_STATES)
        demand.save()
        step = _record(demand, "confirm_urgency", user, from_state, note=note, urgency=confirmed,
                       suggested_urgency=demand.suggested_urgency or None, **_deadlines_public(demand))
    return Step(demand, [step])


def dispatch(user, demand: Demand, *, unit: Organisation | int | None = None, assisting=(), category=None,
             note: str = "") -> Step:
    """Dispatch (派单) to a lead unit, with assisting units for co-handling (主办 + 协办). Without a unit,
    routing decides; with no matching rule the desk must name one. A category may be set in the same step.
    Every unit named must be one the dispatcher may send this demand to ("demands.dispatch_to": the units
    serving its place, see permissions.dispatch_targets_q); any other is answered as unknown (404), as if it
    did not exist, since the units handling a demand see the reporter's name and phone. Units may be
    given by id (from a request): they are looked up only once the caller may dispatch at all."""
    assisting = list(assisting)
    pks = [getattr(u, "pk", u) for u in assisting]
    if unit is not None and getattr(unit, "pk", unit) in pks:
        raise ValidationFailed(gettext_lazy("the lead unit cannot also assist"), code="lead_also_assisting")
    if len(set(pks)) != len(pks):
        raise ValidationFailed(gettext_lazy("an assisting unit is named twice"), code="assisting_twice")
    with transaction.atomic():
        demand, from_state, _ = _begin(user, demand, "dispatch")
        unit = _named_unit(unit) if unit is not None else None
        assisting = [_named_unit(named) for named in assisting]
        for named in ([unit] if unit is not None else []) + assisting:
            _require_dispatch_target(user, demand, named)
        if category not in (None, ""):
            demand.category = _category(category)
        if demand.category is None:
            raise ValidationFailed(gettext_lazy("triage the demand (give it a category) before dispatching it"),
                                   code="category_required")
        found_rule = None
        if unit is None:
            found = route(demand.category, demand.grid)
            if found.rule is None:
                raise ValidationFailed(gettext_lazy("no routing rule matches: name the unit"), code="unit_required")
            unit, found_rule = found.unit, found.rule
        step = _dispatch(demand, user, unit, assisting, note=note.strip(), rule=found_rule)
    return Step(demand, [step])


def _named_unit(unit: Organisation | int) -> Organisation:
    if isinstance(unit, Organisation):
        return unit
    found = Organisation.objects.filter(pk=unit).first()
    if found is None:
        raise NotFound(gettext_lazy("organisation %(unit)s") % {"unit": unit}, code="unknown_unit")
    return found


def _require_dispatch_target(user, demand: Demand, unit: Organisation) -> None:
    """NotFound (code unknown_unit) unless `user` may send `demand` to `unit`: the same answer as for a unit
    that does not exist, so a desk cannot learn of units outside its reach."""
    if not policy.can(user, "demands.dispatch_to", DispatchTarget(demand, unit)):
        raise NotFound(gettext_lazy("organisation %(unit_pk)s") % {"unit_pk": unit.pk}, code="unknown_unit")


def accept(user, demand: Demand) -> Step:
    """签收: the lead unit takes the demand on (within the accept limit, for the response rate)."""
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "accept")
        demand.state, demand.accepted_at = to_state, clock.now()
        demand.save()
        step = _record(demand, "accept", user, from_state, unit=demand.lead_unit, accepted_at=demand.accepted_at.isoformat())
    return Step(demand, [step])


def return_to_dispatch(user, demand: Demand, *, reason: str) -> Step:
    """退单: the lead unit sends the demand back to the dispatch desk, saying why (not its remit, wrong
    place …). The desk gets a fresh dispatch window; the resident's feedback deadline does not move."""
    reason = _required(reason, "a reason", "reason_required")
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "return")
        now = clock.now()
        unit = demand.lead_unit
        _end_assignments(demand, now)
        limit = time_limit_for(demand.category, demand.urgency)
        demand.state, demand.lead_unit = to_state, None
        demand.dispatched_at = demand.accept_due = demand.accepted_at = None
        deadlines.set_due(demand, "dispatch_due", _local(now), limit)
        demand.save()
        step = _record(demand, "return", user, from_state, note=reason, unit=unit, **_deadlines_public(demand))
    return Step(demand, [step])


def start_work(user, demand: Demand) -> Step:
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "start_work")
        demand.state = to_state
        demand.save()
        step = _record(demand, "start_work", user, from_state, unit=demand.lead_unit)
    return Step(demand, [step])


def reply(user, demand: Demand, *, text: str) -> Step:
    """答复: the lead unit's answer to the resident (text required)."""
    text = _required(text, "the reply text", "text_required")
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "reply")
        demand.state, demand.reply, demand.replied_at = to_state, text, clock.now()
        demand.save()
        step = _record(demand, "reply", user, from_state, unit=demand.lead_unit, private={"reply": text},
                       on_time=bool(demand.feedback_due and demand.replied_at <= demand.feedback_due))
    return Step(demand, [step])


def verify(user, demand: Demand, *, note: str = "") -> Step:
    """核查: the grid worker of the demand's grid (or a dispatcher) checks the reply against the place."""
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "verify")
        demand.state, demand.verified_at = to_state, clock.now()
        demand.save()
        step = _record(demand, "verify", user, from_state, note=note.strip())
    return Step(demand, [step])


def close(user, demand: Demand, *, note: str = "") -> Step:
    """办结: the desk closes a verified demand; it now waits for the resident's rating."""
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "close")
        demand.state, demand.closed_at = to_state, clock.now()
        demand.save()
        step = _record(demand, "close", user, from_state, note=note.strip())
    return Step(demand, [step])


def rate(user, demand: Demand, *, solved: bool, satisfaction: str, note: str = "", guest: bool = False) -> Step:
    """回访: the reporter says whether it was solved and how satisfied they are. Only the reporter may
    answer for a demand they filed (not even an administrator answers for them). "Not solved" reopens the
    demand to the same unit at once."""
    if satisfaction not in Demand.Satisfaction.values:
        raise ValidationFailed(gettext_lazy("unknown satisfaction %(satisfaction)r")
                               % {"satisfaction": satisfaction}, code="unknown_satisfaction")
    if not isinstance(solved, bool):
        raise ValidationFailed(gettext_lazy("solved must be true or false"), code="solved_required")
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "rate", checked=guest)
        if guest:  # the 查询码 was checked by the caller (guests.rate): only for a demand filed without an account
            user = None
            if demand.reporter_user_id is not None or not hasattr(demand, "guest_tracking"):
                raise PermissionDenied("demands.rate")
        elif demand.reporter_user_id is not None and demand.reporter_user_id != user.pk:
            raise PermissionDenied("demands.rate")
        demand.state, demand.solved, demand.satisfaction, demand.rated_at = to_state, solved, satisfaction, clock.now()
        demand.save()
        steps = [_record(demand, "rate", user, from_state, note=note.strip(), unit=demand.lead_unit,
                         solved=solved, satisfaction=satisfaction)]
        if not solved:
            steps.append(_reopen(demand, None, note="rated not solved"))
    return Step(demand, steps)


def reopen(user, demand: Demand, *, reason: str) -> Step:
    """Send a replied, verified, closed or rated demand back to its lead unit (the verifier or the desk
    found it not done). A "not solved" rating does this by itself."""
    reason = _required(reason, "a reason", "reason_required")
    with transaction.atomic():
        demand, _, _ = _begin(user, demand, "reopen")
        step = _reopen(demand, user, note=reason)
    return Step(demand, [step])


def _reopen(demand: Demand, actor, *, note: str) -> DemandEvent:
    now = clock.now()
    from_state = demand.state
    demand.state = rules.next_state(from_state, "reopen")
    limit = time_limit_for(demand.category, demand.urgency)
    local_now = _local(now)
    demand.reopen_count += 1
    demand.dispatched_at = now
    deadlines.set_due(demand, "accept_due", local_now, limit)
    deadlines.set_due(demand, "feedback_due", local_now, limit)
    # A new round: the previous steps stay in the events. The resident's last answer (solved? satisfied?)
    # stands in the rates until they answer again, so a "not solved" keeps counting against the unit.
    demand.accepted_at = demand.replied_at = demand.verified_at = demand.closed_at = None
    demand.save()
    return _record(demand, "reopen", actor, from_state, note=note, unit=demand.lead_unit,
                   reopen_count=demand.reopen_count, **_deadlines_public(demand))


def merge_into(user, demand: Demand, original: Demand, *, note: str = "") -> Step:
    """Mark a demand as a duplicate of `original` (same problem, same place); it ends here and the
    original carries the work. An original the user may not view is answered as unknown (404), before
    anything about it (its state) is said."""
    if not policy.can(user, "demands.view", original):
        raise NotFound(gettext_lazy("demand %(original_number)s") % {"original_number": original.number})
    if original.pk == demand.pk:
        raise ValidationFailed(gettext_lazy("a demand cannot duplicate itself"), code="merge_into_itself")
    if original.state in rules.FINAL_STATES:
        raise ValidationFailed(gettext_lazy("%(original_number)s is %(state)s")
                               % {"original_number": original.number, "state": original.get_state_display()},
                               code="merge_into_final")
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "merge")
        _end_assignments(demand, clock.now())
        demand.state, demand.merged_into, demand.lead_unit = to_state, original, None
        demand.save()
        step = _record(demand, "merge", user, from_state, note=note.strip(), merged_into=original.number)
    return Step(demand, [step])


def reject(user, demand: Demand, *, reason: str) -> Step:
    """Reject an invalid demand (not a demand, abusive, outside any remit), with the reason."""
    reason = _required(reason, "a reason", "reason_required")
    with transaction.atomic():
        demand, from_state, to_state = _begin(user, demand, "reject")
        demand.state = to_state
        demand.save()
        step = _record(demand, "reject", user, from_state, note=reason)
    return Step(demand, [step])


# --- the reporter's contact -----------------------------------------------------------------------------

@dataclass
class ContactView:
    values: dict[str, str]
    revealed: list[str]


def mask_name(name: str) -> str:
    """张** : the family name only."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def read_contact(user, demand: Demand, *, purpose: str, channel: str) -> ContactView:
    """The reporter's name and phone as `user` may see them: in full for the units handling the demand,
    each such read logged in DemandContactAccess (个人信息保护法, need-to-know); masked for anyone else."""
    if not purpose.strip():
        raise ValidationFailed(gettext_lazy("a purpose is required to read contact data"), code="purpose_required")
    record = DemandContact.objects.filter(demand=demand).first()
    values = {"name": record.name if record else "", "phone": record.phone if record else ""}
    if not policy.can(user, "demands.view_contact", demand):
        return ContactView({"name": mask_name(values["name"]), "phone": mask_phone(values["phone"])}, [])
    revealed = [f for f, v in values.items() if v]
    if revealed:
        with transaction.atomic():
            DemandContactAccess.objects.create(user=user, demand=demand, fields=revealed, purpose=purpose.strip()[:120],
                                               channel=channel, at=clock.now())
    return ContactView(values, revealed)


def contact_for_handler(user, demand: Demand, *, purpose: str, channel: str) -> dict | None:
    """The contact in full for a handling unit (the read logged), None for anyone else: pages and the API
    show the contact only where it is needed, never masked placeholders."""
    if not policy.can(user, "demands.view_contact", demand):
        return None
    return read_contact(user, demand, purpose=purpose, channel=channel).values


# --- Open311 GeoReport v2: client keys and intake (the HTTP adapter is open311.py) -------------------------

def _open311_digest(raw: str) -> str:
    import hashlib

    return hashlib.sha256(raw.encode()).hexdigest()


def _open311_account(client):
    """The user account an Open311 client files demands as (one per client, no password): the actor of
    its filing steps, so the journal and the ledger say which client a demand came through."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    account, _ = get_user_model().objects.get_or_create(
        username=f"open311-client-{client.pk}",
        defaults={"first_name": client.name[:150], "password": make_password(None)},
    )
    return account


def issue_open311_key(name: str, *, contact: str = ""):
    """A new Open311 client and its API key; only the key's SHA-256 is kept, the raw key is returned once.
    Recorded as a core event (demands.open311_key_issued)."""
    import secrets

    from .models import Open311Client

    name = _required(name, "a client name", "name_required")[:100]
    raw = "o3_" + secrets.token_urlsafe(32)  # the 8-character prefix keeps 5 random characters
    with transaction.atomic():
        client = Open311Client.objects.create(name=name, contact=contact.strip()[:200], prefix=raw[:8],
                                              digest=_open311_digest(raw), created_at=clock.now())
        _open311_account(client)
        events.record("demands.open311_key_issued", client, name=client.name, prefix=client.prefix)
    return client, raw


def revoke_open311_key(prefix: str):
    """Revoke the one active key starting with `prefix` (its first 8 characters); the client's account is
    deactivated with it. ValidationFailed unless exactly one active key matches."""
    from django.contrib.auth import get_user_model

    from .models import Open311Client

    with transaction.atomic():
        clients = list(Open311Client.objects.select_for_update().filter(prefix=prefix[:8], revoked_at__isnull=True))
        if len(clients) != 1:
            raise ValidationFailed(gettext_lazy("%(clients_count)s active keys start with %(prefix)r; need exactly one")
                                   % {"clients_count": len(clients), "prefix": prefix},
                                   code="key_not_unique")
        client = clients[0]
        client.revoked_at = clock.now()
        client.save(update_fields=["revoked_at"])
        get_user_model().objects.filter(username=f"open311-client-{client.pk}").update(is_active=False)
        events.record("demands.open311_key_revoked", client, name=client.name, prefix=client.prefix)
    return client


def open311_client_for(raw_key: str | None):
    """The active Open311 client holding this raw API key, or None; marks the key as used."""
    from .models import Open311Client

    if not raw_key:
        return None
    client = Open311Client.objects.filter(digest=_open311_digest(raw_key), revoked_at__isnull=True).first()
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=clock.now())
    return client


def _open311_location(longitude: float | None, latitude: float | None, address_id: str, address: str,
                      placed_in: int | None = None):
    """Where an Open311 request lies: (longitude, latitude, grid, building, address). The point when given;
    else the building an address_id names; else the grid a dispatch desk placed it in (placed_in, see
    place_submission); else where address_string lies by the address register (org's place_address: a
    building, or a grid without a point). An address the register cannot place raises UnknownAddress: no
    demand is filed without a grid (submit_open311_request sends it to the desks instead)."""
    from gongzhi.org.models import Building

    building = grid = None
    if longitude is None and latitude is None and placed_in is not None and not address_id:
        grid = Region.objects.get(pk=placed_in, level=Region.Level.GRID)
    elif longitude is None and latitude is None and address_id:
        building = Building.objects.filter(pk=int(address_id) if address_id.isdigit() else None).first()
        if building is None:
            raise ValidationFailed(gettext_lazy("unknown address_id %(address_id)r")
                                   % {"address_id": address_id}, code="unknown_address_id")
    elif longitude is None and latitude is None and address:
        found = locating.place_address(address)
        if found is None:
            raise UnknownAddress(gettext_lazy("address_string %(address)r names no place in the district's address register: "
                                              "give lat and long, or an address_id") % {"address": address})
        building, grid = found.building, found.grid
    elif longitude is None and latitude is None:
        raise ValidationFailed(gettext_lazy("a location is required: lat and long, an address_id or an address_string"),
                               code="location_required")
    if building is not None:
        return building.longitude, building.latitude, building.grid, building, address or building.address
    return longitude, latitude, grid, None, address


def file_open311_request(client, *, service_code: str, longitude: float | None = None,
                         latitude: float | None = None, address_id: str = "", address: str = "",
                         description: str = "", first_name: str = "", last_name: str = "", phone: str = "",
                         email: str = "", device_id: str = "", account_id: str = "", media_url: str = "",
                         received_at: dt.datetime | None = None, placed_in: int | None = None) -> Step:
    """POST Service Request of Open311 GeoReport v2, filed through file_demand (channel "open311").

    service_code is a category code (404 when unknown, as the standard says). The location is lat/long,
    an address_id naming one of our buildings, or an address_string alone, placed by the district's address
    register (_open311_location), or in the grid a desk placed it in (placed_in); an address nobody placed is
    refused with its reason (receive_open311_request sends it to the desks instead). Without
    a description the service's name is the demand's text (the standard makes description optional). The
    reporter's name and phone go to the demand's contact; email, device_id, account_id and media_url to the
    private part of a demands.open311_filed event (the ledger publishes only commitments to them). The
    resident has no account here, so the demand has no reporter account: as for hotline demands, the desk
    takes the 回访 after calling back. Everything in one transaction: on any error nothing is stored."""
    from .queries import open311_service

    category = open311_service(service_code)
    longitude, latitude, grid, building, address = _open311_location(longitude, latitude, address_id, address,
                                                                     placed_in)
    if first_name and last_name and not (first_name + last_name).isascii():
        name = f"{last_name}{first_name}"  # Chinese order: family name first, no space
    else:
        name = " ".join(part for part in (first_name, last_name) if part)
    with transaction.atomic():
        account = _open311_account(client)
        step = file_demand(account, text=_open311_text(description, category), channel=Demand.Channel.OPEN311,
                           longitude=longitude, latitude=latitude, grid=grid if longitude is None else None,
                           address=address, category=category, contact_name=name, contact_phone=phone,
                           received_at=received_at)
        demand = step.demand
        Demand.objects.filter(pk=demand.pk).update(reporter_user=None)
        demand.reporter_user = None
        private = {key: value.strip() for key, value in
                   {"email": email, "device_id": device_id, "account_id": account_id, "media_url": media_url}.items()
                   if value and value.strip()}
        events.record("demands.open311_filed", demand, actor=account, private=private, number=demand.number,
                      client=client.pk, service_code=category.code,
                      address_id=str(building.pk) if building is not None else None)
    return step


def submit_open311_request(client, *, service_code: str, longitude: float | None = None,
                           latitude: float | None = None, address_id: str = "", address: str = "",
                           description: str = "", first_name: str = "", last_name: str = "", phone: str = "",
                           email: str = "", device_id: str = "", account_id: str = "", media_url: str = "",
                           ) -> Submission:
    """POST Service Request answered with a token (GeoReport v2 allows it; GONGZHI_OPEN311_TOKENS): the
    checks of file_open311_request that need no lock now (unknown service_code 404, no location, a point
    outside every grid, an unknown address_id), the request stored as a submission through the fast intake
    path, and file_open311_request run by the intake worker. GET tokens/{token} then gives the id.
    An address_string the register cannot place is not refused (GeoReport v2 allows an address alone): the
    submission is stored without a grid and waits for a dispatch desk to place it on the map
    (place_submission); the worker leaves it alone until then."""
    from .queries import open311_service

    category = open311_service(service_code)
    if (longitude is None) != (latitude is None):
        raise ValidationFailed(gettext_lazy("give both lat and long"), code="location_incomplete")
    try:
        *point, grid, _building, _address = _open311_location(longitude, latitude, address_id, address)
    except UnknownAddress:
        point, grid = [None, None], None  # to the desks: a person places it (place_submission)
    if point[0] is None:
        grid_id = grid.pk if grid is not None else None  # placed by the register in a grid, without a point
    else:
        grid_id = locating.grid_id_at(*point)
        if grid_id is None:
            raise OutsideGrids(f"{point[0]}, {point[1]}")
    request = {"client": client.pk, "service_code": category.code, "longitude": longitude, "latitude": latitude,
               "address_id": address_id, "address": address, "description": description,
               "first_name": first_name, "last_name": last_name, "phone": phone, "email": email,
               "device_id": device_id, "account_id": account_id, "media_url": media_url}
    address, _, phone = _optional_texts(address, "", phone)
    payload = {"text": _open311_text(description, category), "longitude": point[0], "latitude": point[1],
               "address": address.strip()[:200], "category": category.code, "urgency": None,
               "contact_name": " ".join(p for p in (first_name, last_name) if p)[:60],
               "contact_phone": phone.strip()[:20], "open311": request}
    submission = Submission(submitter=_open311_account(client), channel=Demand.Channel.OPEN311,
                            received_at=clock.now(), grid_id=grid_id, payload=payload)
    return _intake.submit(submission)


def submission_by_key(key: str) -> Submission:
    """A submission by its key alone (Open311 tokens: the key is the capability), 404 when unknown."""
    found = Submission.objects.select_related("demand").filter(key=key).first()
    if found is None:
        raise NotFound(gettext_lazy("token %(key)s") % {"key": key}, code="unknown_token")
    return found


def receive_open311_request(client, **fields) -> Step | Submission:
    """POST Service Request: filed in the request (a Step), or answered with a token (a Submission) when the
    site asks for tokens (GONGZHI_OPEN311_TOKENS) or when the address register cannot place the
    address_string: GeoReport v2 allows an address alone, so it goes to the dispatch desks to be placed."""
    if not settings.GONGZHI_OPEN311_TOKENS:
        try:
            return file_open311_request(client, **fields)
        except UnknownAddress:
            pass  # nothing was stored: the location is checked before the transaction
    return submit_open311_request(client, **fields)


def _awaiting_placement(submission: Submission) -> Submission:
    """The submission locked, while it still waits for a desk; 404 otherwise (placed, filed or refused
    meanwhile, or one the intake worker files by itself)."""
    locked = (Submission.objects.select_for_update()
              .filter(pk=submission.pk, state=Submission.State.PENDING, grid__isnull=True).first())
    if locked is None:
        raise NotFound(gettext_lazy("submission %(key)s") % {"key": submission.key}, code="not_awaiting_placement")
    return locked


def place_submission(user, submission: Submission, grid_id: int) -> Submission:
    """A dispatch desk places on the map an Open311 request whose address the register could not place,
    in a grid of its own dispatch scope (any other grid answers 404, as one that does not exist), and the
    request is filed at once by the intake worker's own filing (_file_submission): numbered, routed, and
    received at the submission's time, so the time limits count from the resident's request and the wait
    for placement counts against the desks. Returns the submission, filed (or refused, with the reason the
    filing gave)."""
    policy.require(user, "demands.place")
    grid = Region.objects.filter(pk=grid_id, level=Region.Level.GRID).first()
    if grid is None or not policy.can(user, "demands.place", grid):
        raise NotFound(gettext_lazy("grid %(grid_id)s") % {"grid_id": grid_id}, code="unknown_grid")
    with transaction.atomic():
        submission = _awaiting_placement(submission)
        payload = dict(submission.payload)
        payload["open311"] = {**payload["open311"], "placed_in": grid.pk}
        submission.grid, submission.payload = grid, payload
        submission.save(update_fields=["grid", "payload"])
        events.record("demands.place_submission", submission, actor=user, grid=grid.pk)
        _file_submission(submission)
    return submission


def refuse_submission(user, submission: Submission, *, reason: str) -> Submission:
    """A dispatch desk refuses a request awaiting placement (no such place in the district, not a matter
    for it), with a reason the Open311 client reads at GET tokens/{token}."""
    policy.require(user, "demands.place")
    reason = _required(reason, "a reason", "reason_required")[:400]
    with transaction.atomic():
        submission = _awaiting_placement(submission)
        _close_submission(submission, Submission.State.REFUSED, code="refused_by_desk", message=reason)
        events.record("demands.refuse_submission", submission, actor=user, code="refused_by_desk",
                      private={"reason": reason})
    return submission


# --- patrol (issue #17): solved on the spot (随手办) and verification with photos, for gongzhi.patrol --------

def _grid_worker_unit(user, grid: Region) -> Organisation | None:
    """The organisation through which `user` works as grid worker of `grid` (their committee), if any."""
    from gongzhi.org.models import Post
    from gongzhi.org.permissions import active_posts

    return next((p.organisation for p in active_posts(user)
                 if p.role == Post.Role.GRID_WORKER and p.grid_id
                 and grid.path.startswith(p.grid.path)), None)


def file_solved_on_the_spot(user, *, text: str, solution: str, longitude: float | None, latitude: float | None,
                            after_photos: list[bytes], report_photos: list[bytes] = (), category=None,
                            received_at: dt.datetime | None = None) -> Step:
    """随手办: a grid worker on patrol found a problem in their own grid and solved it there and then. All one
    transaction: the demand is filed (channel "patrol"; not routed, since nobody else is to act), then closed
    in one step "solve_on_spot" (received → closed) whose note says what was done, its unit the grid
    worker's committee; the "after" photos (at least one) are stored as photos of stage "reply", the photos
    of the problem as "report". `received_at`: when it was seen (a record queued offline keeps its time)."""
    from . import photos
    from .models import Photo

    solution = _required(solution, "what was done", "text_required")
    if not after_photos:
        raise ValidationFailed(gettext_lazy("a photo after solving it is required"), code="photo_required")
    with transaction.atomic():
        step = file_demand(user, text=text, channel=Demand.Channel.PATROL, longitude=longitude,
                           latitude=latitude, category=category, received_at=received_at, route=False)
        demand = _locked(step.demand)
        if report_photos:
            photos.add(user, demand, list(report_photos), stage=Photo.Stage.REPORT)
        when = received_at or clock.now()
        from_state, unit = demand.state, _grid_worker_unit(user, demand.grid)
        demand.state, demand.lead_unit, demand.reply = rules.CLOSED, unit, solution
        demand.accepted_at = demand.replied_at = demand.verified_at = demand.closed_at = when
        demand.save()
        solved = _record(demand, "solve_on_spot", user, from_state, unit=unit, private={"reply": solution},
                         closed_at=when.isoformat())
        photos.add(user, demand, list(after_photos), stage=Photo.Stage.REPLY, checked=True)
    return Step(demand, [*step.events, solved])


def verify_with_photos(user, demand: Demand, *, note: str = "", contents: list[bytes] = ()) -> Step:
    """核查 with photos of the place: the reply is checked (verify: the grid worker of the demand's grid or a
    dispatcher) and the photos taken then are kept with the "after" photos (stage "reply"), one transaction."""
    from . import photos
    from .models import Photo

    with transaction.atomic():
        step = verify(user, demand, note=note)
        if contents:
            photos.add(user, step.demand, list(contents), stage=Photo.Stage.REPLY, checked=True)
    return step


def report_not_done(user, demand: Demand, *, note: str, contents: list[bytes] = ()) -> Step:
    """核查未通过: the verifier (demands.verify: the grid worker of the demand's grid) found a replied demand not
    done. Reopening is the desk's (demands.reopen is a dispatcher's action), so the state does not change: the
    step "verify_failed" keeps the note (required) and the photos of the place (stage "reply"), and the dispatch
    desk is told (notifications: kind "return") to reopen it. One transaction."""
    from . import photos
    from .models import Photo

    note = _required(note, "what is not done", "note_required")
    with transaction.atomic():
        demand = _locked(demand)
        if demand.state != rules.REPLIED:
            raise rules.IllegalTransition(gettext_lazy("%(action)s from %(state)s")
                                          % {"action": "verify_failed", "state": demand.state},
                                          state=demand.state, action="verify_failed")
        policy.require(user, "demands.verify", demand)
        step = _record(demand, "verify_failed", user, demand.state, note=note, unit=demand.desk)
        if contents:
            photos.add(user, demand, list(contents), stage=Photo.Stage.REPLY, checked=True)
    return Step(demand, [step])
