"""Read side of demands: the demands a user may see, their work queue, timelines, the category tree, and
the three rates (响应率、解决率、满意率) with the composite score per unit, community, street or category —
one GROUP BY query, the same function for the API, the pages and the CSV export."""

import datetime as dt
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.org.models import Region

from . import hooks, ranking, rules
from .models import Assignment, Category, Demand, DemandEvent
from .permissions import dispatch_targets_q, dispatcher_paths, grid_worker_paths, unit_ids, visible_q


def visible(user):
    """Every demand `user` may view (the only way lists are narrowed)."""
    return Demand.objects.filter(visible_q(user))


def get_visible(user, number: str) -> Demand:
    """One demand by number, or NotFound when it does not exist *or* the user may not see it."""
    found = visible(user).select_related("category", "grid", "lead_unit", "merged_into", "suggested_category").filter(number=number).first()
    if found is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    return found


def listed(user, *, state: str | None = None, category: str | None = None, unit: int | None = None,
           overdue: bool | None = None, now=None):
    """The visible demands, filtered; `category` includes its sub-categories. A `unit` narrows the visible
    demands to those it handles now, so naming a unit out of the user's reach (or none at all) finds only
    what they could see anyway: the same empty answer for a unit that exists and one that does not."""
    qs = visible(user).select_related("category", "merged_into", "suggested_category")
    if state:
        qs = qs.filter(state=state)
    if category:
        node = Category.objects.filter(code=category).first()
        qs = qs.filter(category__path__startswith=node.path) if node else qs.none()
    if unit is not None:
        qs = qs.filter(assignments__unit_id=unit, assignments__ended_at__isnull=True)
    if overdue is not None:
        late = Demand.overdue_q(now or clock.now())
        qs = qs.filter(late) if overdue else qs.exclude(late)
    return qs.distinct().order_by("-received_at", "-id")


# The steps a queue can be narrowed to (the home page's counts link to each): the label's key is the step.
QUEUE_STEPS = ("sign", "handle", "dispatch", "verify", "close", "rate", "overdue")


def _queue_q(user, step: str | None) -> Q:
    units = unit_ids(user)
    parts = {
        "sign": Q(state=rules.DISPATCHED, lead_unit_id__in=units),
        "handle": Q(state__in=[rules.ACCEPTED, rules.IN_PROGRESS], lead_unit_id__in=units),
        "dispatch": Q(pk__in=[]), "verify": Q(pk__in=[]), "close": Q(pk__in=[]), "rate": Q(pk__in=[]),
    }
    for path in dispatcher_paths(user):
        parts["dispatch"] |= Q(state__in=rules.AT_DESK_STATES, grid__path__startswith=path)
        parts["verify"] |= Q(state=rules.REPLIED, grid__path__startswith=path)
        parts["close"] |= Q(state=rules.VERIFIED, grid__path__startswith=path)
    for path in grid_worker_paths(user):
        parts["verify"] |= Q(state=rules.REPLIED, grid__path__startswith=path)
    if getattr(user, "is_authenticated", False):
        # The 回访 is the resident's word: what a grid worker or an office filed in the course of their work
        # (patrol findings, proactive demands) is not theirs to rate.
        parts["rate"] = Q(state=rules.CLOSED, reporter_user_id=user.pk) & ~Q(
            channel__in=[Demand.Channel.PATROL, Demand.Channel.PROACTIVE])
    if step in parts:
        return parts[step]
    every = Q(pk__in=[])
    for part in parts.values():
        every |= part
    if step == "overdue":
        return every & Demand.overdue_q(clock.now())
    return every


QUEUE_ORDERS = ("deadline", "newest")


def queue(user, step: str | None = None, *, order: str = "deadline", now=None):
    """What waits for this user's next step, most pressing deadline first: for the lead units they work
    in, demands to accept (step "sign"), work on and reply to ("handle"); for the desks they sit at, demands to
    triage or dispatch ("dispatch"), verify ("verify") and close ("close"); for grid workers, replies to verify
    in their grid; for residents, closed demands of theirs to rate ("rate"). Step "overdue": any of these past
    a deadline.

    order "deadline" (default): overdue demands first (Demand.overdue_q), then by the deadline of the step
    that waits (next_due: accept by for a dispatched demand, dispatch by at the desk, else first feedback
    by), the soonest first; "newest": the latest received first."""
    listed = Demand.objects.filter(_queue_q(user, step)).select_related("category", "merged_into", "suggested_category")
    if order == "newest":
        return listed.order_by("-received_at", "-id")
    late = Demand.overdue_q(now or clock.now())
    return (listed.annotate(
        is_late=Case(When(late, then=Value(0)), default=Value(1), output_field=IntegerField()),
        next_due=Case(When(state=rules.DISPATCHED, then=F("accept_due")),
                      When(state__in=list(rules.AT_DESK_STATES), then=F("dispatch_due")),
                      default=F("feedback_due")))
        .order_by("is_late", F("next_due").asc(nulls_last=True), "id"))


def similar(user, demand: Demand, limit: int = 5) -> list[hooks.SimilarDemand]:
    """Open demands like `demand` nearby that `user` may see (the similar_demands hook, when an app offers
    it), best first, for a dispatcher deciding whether to merge it: empty for anyone who may not merge it,
    or when its state allows no merge. The hook is asked for the user's demands only, and what it answers
    is narrowed again by visible(): a suggestion never names a demand a direct GET would answer 404 for."""
    find = hooks.get("similar_demands")
    if find is None or not policy.can(user, "demands.merge", demand) or "merge" not in rules.allowed_actions(
            demand.state):
        return []
    found = find(demand, limit, user=user)
    seen = set(visible(user).filter(number__in=[s.number for s in found]).values_list("number", flat=True))
    return [s for s in found if s.number in seen]


def assisting_unit_ids(demand: Demand) -> list[int]:
    return list(Assignment.objects.filter(demand=demand, ended_at__isnull=True, role=Assignment.Role.ASSISTING)
                .order_by("id").values_list("unit_id", flat=True))


def actions_for(user, demand: Demand) -> list[str]:
    """The actions the state allows and `user` may take now (for buttons and API clients)."""
    return [a for a in rules.allowed_actions(demand.state) if policy.can(user, f"demands.{a}", demand)]


def timeline(demand: Demand):
    return DemandEvent.objects.filter(demand=demand).select_related("event", "unit").order_by("id")


def category_tree(*, active_only: bool = True) -> list[dict]:
    """The taxonomy as nested {"category", "children"}, in display order."""
    qs = Category.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    nodes, top = {}, []
    for category in qs.order_by("parent_id", "sort_order", "code"):
        nodes[category.pk] = {"category": category, "children": []}
    for node in sorted(nodes.values(), key=lambda n: (n["category"].depth, n["category"].sort_order, n["category"].code)):
        parent = nodes.get(node["category"].parent_id)
        (parent["children"] if parent else top).append(node)
    return top


# --- the three rates -----------------------------------------------------------------------------------

# level -> (group key, its name); streets, communities, units and categories all have a `name`.
LEVELS = {"unit": "lead_unit", "community": "community", "street": "street", "category": "category"}


@dataclass
class Rates:
    """Counts and rates of one unit / community / street / category over a date range."""

    id: int
    name: str
    code: str | None
    cases: int  # demands dispatched or rated in the range: what a ranking's minimum sample counts
    dispatched: int
    accepted_in_time: int
    rated: int
    solved: int
    satisfied: int
    basically_satisfied: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    score: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def satisfaction_weights() -> dict[str, float]:
    return {**rules.DEFAULT_SATISFACTION_WEIGHTS, **getattr(settings, "GONGZHI_DEMANDS_SATISFACTION_WEIGHTS", {})}


def score_weights() -> dict[str, float]:
    return dict(getattr(settings, "GONGZHI_DEMANDS_SCORE_WEIGHTS", rules.DEFAULT_SCORE_WEIGHTS))


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise ValidationFailed(_("the range ends before it starts"), code="bad_range")
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def rates(level: str, start: dt.date, end: dt.date, *, demands=None, within: Region | None = None) -> list[Rates]:
    """The three rates and the composite score per `level` for the local days start..end (inclusive).

    响应率 = demands accepted within their accept limit / demands dispatched in the range (latest dispatch);
    解决率 = rated "solved" / rated in the range; 满意率 = (satisfied + basically satisfied, weighted by
    GONGZHI_DEMANDS_SATISFACTION_WEIGHTS) / rated; score = rules.composite_score with
    GONGZHI_DEMANDS_SCORE_WEIGHTS. `demands` narrows the base queryset (e.g. queries.visible(user)).
    Counted by the database in one GROUP BY query; rows ordered best score first.
    """
    if level not in LEVELS:
        raise ValidationFailed(_("level must be one of %(join)s") % {"join": ', '.join(LEVELS)}, code="unknown_level")
    key = LEVELS[level]
    lower, upper = _day_bounds(start, end)
    in_dispatch = Q(dispatched_at__gte=lower, dispatched_at__lt=upper)
    in_rating = Q(rated_at__gte=lower, rated_at__lt=upper, solved__isnull=False)
    base = demands if demands is not None else Demand.objects.all()
    if within is not None:
        base = base.filter(grid__path__startswith=within.path)
    rows = (
        base.filter(in_dispatch | in_rating).exclude(**{f"{key}__isnull": True})
        .values(key, f"{key}__name", *(["category__code"] if level == "category" else []))
        .annotate(
            n_cases=Count("id"),
            n_dispatched=Count("id", filter=in_dispatch),
            n_accepted_in_time=Count("id", filter=in_dispatch & Q(accepted_at__lte=F("accept_due"))),
            n_rated=Count("id", filter=in_rating),
            n_solved=Count("id", filter=in_rating & Q(solved=True)),
            n_satisfied=Count("id", filter=in_rating & Q(satisfaction="satisfied")),
            n_basically_satisfied=Count("id", filter=in_rating & Q(satisfaction="basically_satisfied")),
        )
        .order_by(key)
    )
    s_weights, weights = satisfaction_weights(), score_weights()
    result = []
    for row in rows:
        measured = {
            "response": rules.response_rate(row["n_accepted_in_time"], row["n_dispatched"]),
            "resolution": rules.resolution_rate(row["n_solved"], row["n_rated"]),
            "satisfaction": rules.satisfaction_rate(row["n_satisfied"], row["n_basically_satisfied"], row["n_rated"],
                                                    s_weights),
        }
        result.append(Rates(
            id=row[key], name=row[f"{key}__name"], code=row.get("category__code"), cases=row["n_cases"],
            dispatched=row["n_dispatched"], accepted_in_time=row["n_accepted_in_time"], rated=row["n_rated"],
            solved=row["n_solved"], satisfied=row["n_satisfied"], basically_satisfied=row["n_basically_satisfied"],
            response_rate=measured["response"], resolution_rate=measured["resolution"],
            satisfaction_rate=measured["satisfaction"], score=rules.composite_score(measured, weights),
        ))
    result.sort(key=lambda r: (r.score is None, -(r.score or 0), r.name))
    return result


def rates_for(user, level: str, start: dt.date, end: dt.date, *, within: Region | None = None) -> list[Rates]:
    """rates() over the demands `user` may view (demands.view_rates)."""
    policy.require(user, "demands.view_rates", within)
    return rates(level, start, end, demands=visible(user), within=within)


# --- the ranking: ranking.py's rules over rates() ----------------------------------------------------------

def ranking_settings() -> dict:
    """rank()'s parameters as configured: GONGZHI_RANKING_MIN_CASES, GONGZHI_RANKING_FLOOR and the score's
    weights (GONGZHI_DEMANDS_SCORE_WEIGHTS)."""
    return {"min_cases": getattr(settings, "GONGZHI_RANKING_MIN_CASES", ranking.DEFAULT_MIN_CASES),
            "floor": getattr(settings, "GONGZHI_RANKING_FLOOR", ranking.DEFAULT_FLOOR),
            "weights": score_weights()}


def ranked(level: str, start: dt.date, end: dt.date, *, demands=None, within: Region | None = None,
           compare: bool = True) -> list[ranking.Ranked[Rates]]:
    """rates() per `level` for the local days start..end, ranked by ranking.rank() with the configured
    minimum sample, floor and weights: ranked rows first (not flagged, then flagged), then those with too
    few cases (rank None). With `compare`, each row carries its rank and score in the previous period
    (ranking.previous_period: the month before for a whole month, else as many days just before).
    Over every demand (CLI, tasks, the units' own standing) unless `demands` narrows them."""
    rows = rates(level, start, end, demands=demands, within=within)
    previous = None
    if compare:
        before_start, before_end = ranking.previous_period(start, end)
        previous = rates(level, before_start, before_end, demands=demands, within=within)
    return ranking.rank(rows, previous=previous, **ranking_settings())


def ranking_for(user, level: str, start: dt.date, end: dt.date, *, within: Region | None = None,
                compare: bool = True) -> list[ranking.Ranked[Rates]]:
    """The ranking `user` may see (demands.view_rates; over queries.visible(user)), as the dashboard, its
    CSV and the monthly report show it: a list of ranking.Ranked, each with
      .row (Rates: name, cases, counts and the three rates), .score, .rank (None: 样本不足), .out_of (how
      many are ranked), .insufficient, .below_floor (names of the rates under the floor; .is_flagged),
      .previous_rank, .previous_score, .rank_change (places gained), .score_change.
    `level`: unit | community | street | category; start..end: local days, inclusive."""
    policy.require(user, "demands.view_rates", within)
    return ranked(level, start, end, demands=visible(user), within=within, compare=compare)


STANDING_KINDS = frozenset({"department", "property_company"})


@dataclass
class Standing:
    """A unit's own place in the units' ranking over one period (the queue page's "我单位")."""

    unit_id: int
    unit_name: str
    label: str
    start: dt.date
    end: dt.date
    place: "ranking.Ranked[Rates] | None"  # None: nothing dispatched to or rated of the unit in the period
    out_of: int  # units ranked in the period
    is_last_month: bool  # the last complete month (the ranking's period), else this month so far


def unit_standing(user, *, today: dt.date | None = None) -> list[Standing]:
    """For each unit `user` works in: its rates and rank among all units this month so far, and in the
    last complete month (the dashboard's default period, with the change against the month before).
    Only the unit's own row is returned: of the others, only how many are ranked (out_of)."""
    mine = unit_ids(user)
    if not mine:
        return []
    from gongzhi.org.models import Organisation

    today = today or clock.today()
    periods = [(_("This month so far"), today.replace(day=1), today, False),
               (_("Last month"), *ranking.last_complete_month(today), True)]
    orgs = list(Organisation.objects.filter(pk__in=mine).order_by("name").values_list("pk", "name", "kind"))
    result = []
    for label, start, end, compare in periods:
        rows = ranked("unit", start, end, compare=compare)
        by_id = {r.row.id: r for r in rows}
        out_of = rows[0].out_of if rows else 0
        result += [Standing(unit_id, name, str(label), start, end, by_id.get(unit_id), out_of, compare)
                   for unit_id, name, _kind in orgs]
    # Departments and property companies always see theirs; another body (a street office, a committee)
    # only when demands were dispatched to it as a unit in one of the periods.
    handling = {pk for pk, _name, kind in orgs if kind in STANDING_KINDS} | {s.unit_id for s in result if s.place}
    result = [s for s in result if s.unit_id in handling]
    result.sort(key=lambda s: s.unit_name)  # stable: per unit, this month then last month
    return result


# --- for the pages ---------------------------------------------------------------------------------------

def reported_by(user):
    """The demands `user` filed themselves, newest first ("my demands")."""
    if not getattr(user, "is_authenticated", False):
        return Demand.objects.none()
    return (Demand.objects.filter(reporter_user_id=user.pk).select_related("category", "grid", "merged_into", "suggested_category")
            .order_by("-received_at", "-id"))


DESK_ORDERS = ("deadline", "least_sure")


def at_desk(user, *, order: str = "deadline"):
    """Demands waiting at the dispatch desks `user` sits at (received or returned): the triage list, the
    dispatch deadline nearest first, or ("least_sure") the classifier's least confident proposals first,
    so that a person's answers teach the next model the most (active learning)."""
    q = Q(pk__in=[])
    for path in dispatcher_paths(user):
        q |= Q(grid__path__startswith=path)
    listed = Demand.objects.filter(q, state__in=rules.AT_DESK_STATES).select_related("category", "grid",
                                                                                      "suggested_category")
    if order == "least_sure":
        return listed.order_by(F("suggestion_confidence").asc(nulls_last=True), F("dispatch_due").asc(nulls_last=True),
                               "id")
    return listed.order_by(F("dispatch_due").asc(nulls_last=True), "id")


def awaiting_placement(user):
    """Open311 requests whose address the register could not place, oldest first, for the dispatch desks
    to place on the map (services.place_submission): all of them to every desk, none to anyone else."""
    from .models import Submission

    if not policy.can(user, "demands.place"):
        return Submission.objects.none()
    return Submission.objects.filter(state=Submission.State.PENDING, grid__isnull=True).order_by("received_at", "id")


def categories_by_code(codes) -> dict[str, Category]:
    return {c.code: c for c in Category.objects.filter(code__in={c for c in codes if c})}


def placement_grids(user):
    """The grids `user` may place a request in: those of the desks they sit at (every grid for the
    superuser), by street, community and name."""
    grids = Region.objects.filter(level=Region.Level.GRID).select_related("parent").defer("polygon", "parent__polygon")
    if not (getattr(user, "is_superuser", False) and user.is_active):
        q = Q(pk__in=[])
        for path in dispatcher_paths(user):
            q |= Q(path__startswith=path)
        grids = grids.filter(q)
    return grids.order_by("path")


def overdue(user, *, within: Region | None = None, now=None):
    """The visible demands past a deadline (Demand.overdue_q), the longest overdue first."""
    qs = visible(user).filter(Demand.overdue_q(now or clock.now())).select_related("category", "grid", "lead_unit")
    if within is not None:
        qs = qs.filter(grid__path__startswith=within.path)
    return qs.order_by(F("feedback_due").asc(nulls_last=True), "id")


def grid_outlines() -> list[dict]:
    """Every grid with a boundary, as the public may see it on the filing map: name, code, community
    and outline only."""
    rows = (Region.objects.filter(level=Region.Level.GRID, polygon__isnull=False)
            .select_related("parent").order_by("path"))
    return [{"id": g.pk, "name": g.name, "code": g.grid_code or "", "community": g.parent.name if g.parent_id else "",
             "geometry": g.polygon} for g in rows]


def dispatch_units(user, demand: Demand):
    """Units `user` may send `demand` to (permissions.dispatch_targets_q: the units serving its place, those
    inside the user's desk and those the routing rules name for it), the same ones dispatch accepts."""
    from gongzhi.org.models import Organisation

    return (Organisation.objects.filter(dispatch_targets_q(user, demand)).select_related("region")
            .order_by("region__path", "kind", "name"))


def assisting_units(demand: Demand):
    """The assisting units (协办) handling `demand` now."""
    from gongzhi.org.models import Organisation

    return Organisation.objects.filter(pk__in=assisting_unit_ids(demand)).order_by("name")


# --- Open311 GeoReport v2 (read side; the adapter is open311.py) -------------------------------------------

# Open311 knows two statuses. "closed" means resolved or ended: closed (办结), rated (回访 done), merged
# into another demand, rejected as invalid. Every other state is still "open" — including replied and
# verified, which wait for the desk to close them, and returned, which waits for a new dispatch.
OPEN311_CLOSED_STATES = frozenset({rules.CLOSED, rules.RATED, rules.MERGED, rules.REJECTED})
OPEN311_MAX_REQUESTS = 1000


def open311_status(state: str) -> str:
    return "closed" if state in OPEN311_CLOSED_STATES else "open"


def open311_services():
    """The Open311 services: every active category without active sub-categories (the leaves of the
    taxonomy), with its parent (the Open311 `group`)."""
    active_parents = Category.objects.filter(is_active=True, parent__isnull=False).values("parent_id")
    return (Category.objects.filter(is_active=True).exclude(pk__in=active_parents).select_related("parent")
            .order_by("path"))


def open311_service(code: str) -> Category:
    """One Open311 service by its service_code; NotFound (404, as the standard says) for anything else."""
    found = open311_services().filter(code=code).first()
    if found is None:
        raise NotFound(_("service_code %(code)s") % {"code": code}, code="unknown_service_code")
    return found


def open311_requests(*, numbers: list[str] | None = None, service_codes: list[str] | None = None,
                     start: dt.datetime | None = None, end: dt.datetime | None = None,
                     statuses: list[str] | None = None, limit: int = OPEN311_MAX_REQUESTS):
    """Demands as Open311 service requests, newest first, at most `limit`. `numbers` (service_request_id)
    overrides every other filter, as the standard says; otherwise requested_datetime in [start, end].
    A demand still without a category is not one yet: its service_code would be null, which the standard's
    schema refuses; it appears once the desk has triaged it."""
    from django.db.models import Max

    qs = (Demand.objects.filter(category__isnull=False)
          .select_related("category", "lead_unit", "desk", "merged_into", "reporter", "grid__parent__parent")
          .annotate(last_event_at=Max("events__at")))
    if numbers is not None:
        qs = qs.filter(number__in=numbers)
    else:
        if service_codes:
            qs = qs.filter(category__code__in=service_codes)
        if start is not None:
            qs = qs.filter(received_at__gte=start)
        if end is not None:
            qs = qs.filter(received_at__lte=end)
        if statuses and set(statuses) != {"open", "closed"}:
            closed = Q(state__in=OPEN311_CLOSED_STATES)
            qs = qs.filter(closed if "closed" in statuses else ~closed)
    return qs.order_by("-received_at", "-id")[:limit]


def reporter_names(demands) -> dict[int, list[str]]:
    """{demand id: the names its reporter is known by (the contact's, the person's)}, for core.scrub to
    mask in text shown to people with no need for them."""
    from .models import DemandContact

    names: dict[int, list[str]] = {}
    for demand_id, name in DemandContact.objects.filter(demand__in=demands).values_list("demand_id", "name"):
        names.setdefault(demand_id, []).append(name)
    for demand in demands:
        if demand.reporter is not None:
            names.setdefault(demand.pk, []).append(demand.reporter.name)
    return names


def open311_intake(demand_ids) -> dict[int, dict]:
    """{demand id: what its Open311 client sent beyond the demand's own fields} (media_url, address_id …),
    from the demands.open311_filed events: public fields and private ones merged."""
    from gongzhi.core.models import Event

    rows = Event.objects.filter(kind="demands.open311_filed", subject_type="demands.demand",
                                subject_id__in=[str(pk) for pk in demand_ids]).values("subject_id", "data", "private")
    return {int(row["subject_id"]): {**row["data"], **row["private"]} for row in rows}


def as_seen_by(user, demand: Demand) -> dict[str, str]:
    """The demand's text, address and reply as `user` may read them: as filed for those acting on it
    (permissions.sees_in_full), else with phone and ID numbers, the reporter's name and house numbers
    scrubbed (core.scrub, org.rules.mask_address): an overseer learns what and where, not who."""
    cached = getattr(demand, "_gongzhi_seen", None)
    if cached is not None and cached[0] == getattr(user, "pk", None):
        return cached[1]
    from gongzhi.core.scrub import scrub
    from gongzhi.org.rules import mask_address

    from .permissions import sees_in_full

    if sees_in_full(user, demand):
        seen = {"text": demand.text, "address": demand.address, "reply": demand.reply, "names": None}
    else:
        from .models import DemandContact

        contact = DemandContact.objects.filter(demand=demand).values_list("name", flat=True).first()
        names = [contact] if contact else []
        person = getattr(demand.reporter_user, "person", None) if demand.reporter_user_id else None
        if person is not None:
            names.append(person.name)
        seen = {"text": scrub(demand.text, names=names),
                "address": mask_address(scrub(demand.address, names=names)),
                "reply": scrub(demand.reply, names=names), "names": names}
    demand._gongzhi_seen = (getattr(user, "pk", None), seen)
    return seen


def timeline_as_seen_by(user, demand: Demand) -> list[DemandEvent]:
    """The timeline with each step's note (a rating's comment, a reason for returning or rejecting) as
    `user` may read it: scrubbed like the text for an overseer (as_seen_by). The rows are not saved."""
    from gongzhi.core.scrub import scrub

    names = as_seen_by(user, demand)["names"]
    steps = list(timeline(demand))
    if names is not None:
        for step in steps:
            step.note = scrub(step.note, names=names) if step.note else step.note
    return steps


def contact_reads(viewer, user: str | None, since, until):
    """The reads of reporters' contacts (DemandContactAccess) that `viewer`, a data officer, audits: of demands in
    their region, or by people holding a post there (org.permissions.access_log_q's rule); newest first."""
    from django.db.models import Exists, OuterRef

    from gongzhi.org.models import Post
    from gongzhi.org.permissions import scopes

    from .models import DemandContactAccess

    qs = DemandContactAccess.objects.select_related("user__person", "demand")
    if not (getattr(viewer, "is_superuser", False) and viewer.is_active):
        q = Q(pk__in=[])
        for scope in scopes(viewer, "org.view_access_log"):
            q |= Q(demand__grid__path__startswith=scope.path)
            q |= Exists(Post.objects.filter(person__user=OuterRef("user"),
                                            organisation__region__path__startswith=scope.path))
        qs = qs.filter(q)
    if user:
        qs = qs.filter(user__username=user)
    if since is not None:
        qs = qs.filter(at__date__gte=since)
    if until is not None:
        qs = qs.filter(at__date__lte=until)
    return qs.order_by("-at", "-id")
