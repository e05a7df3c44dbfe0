"""Read side of demands: the demands a user may see, their work queue, timelines, the category tree, and
the three rates (响应率、解决率、满意率) with the composite score per unit, community, street or category —
one GROUP BY query, the same function for the API, the pages and the CSV export."""

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.keyset import Key
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.org.models import Region

from . import hooks, ranking, rules
from .models import Assignment, Category, Demand, DemandEvent
from .permissions import dispatch_targets_q, dispatcher_paths, grid_worker_paths, overseer_paths, unit_ids, visible_q


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
# The lists' sort keys, for keyset pagination (core.keyset): each the order_by of its query, ending with id.
NEWEST_FIRST = [Key("received_at", descending=True), Key("id", descending=True)]
QUEUE_KEYS = {"deadline": [Key("is_late"), Key("next_due", nullable=True), Key("id")], "newest": NEWEST_FIRST}


def queue(user, step: str | None = None, *, order: str = "deadline", now=None):
    """What waits for this user's next step, most pressing deadline first: for the lead units they work
    in, demands to accept (step "sign"), work on and reply to ("handle"); for the desks they sit at, demands to
    triage or dispatch ("dispatch"), verify ("verify") and close ("close"); for grid workers, replies to verify
    in their grid; for residents, closed demands of theirs to rate ("rate"). Step "overdue": any of these past
    a deadline.

    order "deadline" (default): overdue demands first (Demand.overdue_q), then by the deadline of the step
    that waits (next_due: accept by for a dispatched demand, dispatch by at the desk, else first feedback
    by), the soonest first; "newest": the latest received first."""
    listed = Demand.objects.filter(_queue_q(user, step)).select_related("category", "grid", "merged_into",
                                                                        "suggested_category")
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
    return _rates_over(level, [(start, end)], demands=demands, within=within)[0]


def _rates_over(level: str, periods: list[tuple[dt.date, dt.date]], *, demands=None,
                within: Region | None = None) -> list[list[Rates]]:
    """rates() for each of `periods`, counted in one GROUP BY query (the ranking and its previous period
    in one pass over the demands, not two)."""
    if level not in LEVELS:
        raise ValidationFailed(_("level must be one of %(join)s") % {"join": ', '.join(LEVELS)}, code="unknown_level")
    key = LEVELS[level]
    windows, anywhere = [], Q(pk__in=[])
    for start, end in periods:
        lower, upper = _day_bounds(start, end)
        in_dispatch = Q(dispatched_at__gte=lower, dispatched_at__lt=upper)
        in_rating = Q(rated_at__gte=lower, rated_at__lt=upper, solved__isnull=False)
        windows.append((in_dispatch, in_rating))
        anywhere |= in_dispatch | in_rating
    counts = {}
    for i, (in_dispatch, in_rating) in enumerate(windows):
        counts.update({
            f"p{i}_cases": Count("id", filter=in_dispatch | in_rating),
            f"p{i}_dispatched": Count("id", filter=in_dispatch),
            f"p{i}_accepted_in_time": Count("id", filter=in_dispatch & Q(accepted_at__lte=F("accept_due"))),
            f"p{i}_rated": Count("id", filter=in_rating),
            f"p{i}_solved": Count("id", filter=in_rating & Q(solved=True)),
            f"p{i}_satisfied": Count("id", filter=in_rating & Q(satisfaction="satisfied")),
            f"p{i}_basically_satisfied": Count("id", filter=in_rating & Q(satisfaction="basically_satisfied")),
        })
    base = demands if demands is not None else Demand.objects.all()
    if within is not None:
        base = base.filter(grid__path__startswith=within.path)
    rows = (
        base.filter(anywhere).exclude(**{f"{key}__isnull": True})
        .values(key, f"{key}__name", *(["category__code"] if level == "category" else []))
        .annotate(**counts)
        .order_by(key)
    )
    s_weights, weights = satisfaction_weights(), score_weights()
    results: list[list[Rates]] = [[] for _period in periods]
    for row in rows:
        for i, result in enumerate(results):
            n = {name: row[f"p{i}_{name}"] for name in ("cases", "dispatched", "accepted_in_time", "rated", "solved",
                                                       "satisfied", "basically_satisfied")}
            if not n["cases"]:
                continue  # nothing of this one in this period: no row, as a query of that period alone
            measured = {
                "response": rules.response_rate(n["accepted_in_time"], n["dispatched"]),
                "resolution": rules.resolution_rate(n["solved"], n["rated"]),
                "satisfaction": rules.satisfaction_rate(n["satisfied"], n["basically_satisfied"], n["rated"],
                                                        s_weights),
            }
            result.append(Rates(
                id=row[key], name=row[f"{key}__name"], code=row.get("category__code"), cases=n["cases"],
                dispatched=n["dispatched"], accepted_in_time=n["accepted_in_time"], rated=n["rated"],
                solved=n["solved"], satisfied=n["satisfied"], basically_satisfied=n["basically_satisfied"],
                response_rate=measured["response"], resolution_rate=measured["resolution"],
                satisfaction_rate=measured["satisfaction"], score=rules.composite_score(measured, weights),
            ))
    for result in results:
        result.sort(key=lambda r: (r.score is None, -(r.score or 0), r.name))
    return results


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
    if not compare:
        return ranking.rank(rates(level, start, end, demands=demands, within=within), **ranking_settings())
    # Both periods counted in one query (not one per period).
    rows, previous = _rates_over(level, [(start, end), ranking.previous_period(start, end)], demands=demands,
                                 within=within)
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


def default_rates_level(user) -> str:
    """The dashboard's default level: the one below the user's widest scope (a district's officials: its
    streets; a street's: its communities; a community's or a grid's: the units); a unit's staff, who oversee
    no region: the units (unit_ranking_for)."""
    paths = overseer_paths(user)
    if not paths:
        return "unit"
    widest = Region.objects.filter(path__in=paths).order_by("level").values_list("level", flat=True).first()
    return {Region.Level.DISTRICT: "street", Region.Level.STREET: "community"}.get(widest, "unit")


def pool_region(region: Region) -> Region:
    """The region a unit is ranked in: its own region, raised to its street when it sits lower (a property
    company registered in a community is ranked among the street's units, as the street's dashboard ranks
    it; a community is too small a pool)."""
    if region.level <= Region.Level.STREET:
        return region
    parts = region.path.strip("/").split("/")
    street = "/" + "/".join(parts[:Region.Level.STREET]) + "/"
    return Region.objects.defer("polygon").filter(path=street).first() or region


def unit_pool(user) -> Region | None:
    """For a unit's staff who oversee no region (a department's, a property company's): the region their
    units are ranked in, their first unit's own region (the queue page's standing names the same pool)."""
    if overseer_paths(user):
        return None
    from gongzhi.org.models import Organisation

    region_id = (Organisation.objects.filter(pk__in=unit_ids(user)).order_by("name")
                 .values_list("region_id", flat=True).first())
    region = Region.objects.defer("polygon").filter(pk=region_id).first() if region_id else None
    return pool_region(region) if region else None


def unit_ranking_for(user, start: dt.date, end: dt.date, *, compare: bool = True) -> tuple[Region | None, list]:
    """The units' ranking a unit's staff see on the dashboard: every unit ranked in their unit's region over
    every demand there (the pool and rules of that region's dashboard at unit level, and of unit_standing),
    so that the queue, the unit's dashboard and the region's dashboard give one figure."""
    policy.require(user, "demands.view_rates")
    region = unit_pool(user)
    return region, ranked("unit", start, end, within=region, compare=compare)


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
    region_name: str = ""  # the pool: the units ranked in the unit's own region ("在东华街道 11 个单位中")


STANDING_CACHE_SECONDS = 300


def standing_cache_seconds() -> int:
    """How long a unit's standing may be read from the cache (GONGZHI_STANDING_CACHE_SECONDS; 0: counted on
    every load)."""
    return int(getattr(settings, "GONGZHI_STANDING_CACHE_SECONDS", STANDING_CACHE_SECONDS))


def _standing_pool(pool: Region, start: dt.date, end: dt.date, compare: bool) -> list[ranking.Ranked[Rates]]:
    """The units' ranking of one pool and period (ranked("unit", ...), a grouped count over every demand of the
    period: about a second at 10M demands) from Django's cache, computed at most once per
    GONGZHI_STANDING_CACHE_SECONDS (default 5 minutes) per pool, period and ranking rules, not on every load of
    every unit's queue. Never invalidated: a figure of a month may lag the newest steps by that long (the
    dashboard, the CSV and the monthly report count afresh)."""
    seconds = standing_cache_seconds()
    if not seconds:
        return ranked("unit", start, end, within=pool, compare=compare)
    from django.core.cache import cache
    from django.db import router

    rules_key = hashlib.sha256(repr(sorted(ranking_settings().items())).encode()).hexdigest()[:16]
    key = (f"demands.standing:{router.db_for_read(Demand)}:{pool.pk}:{start.isoformat()}:{end.isoformat()}:"
           f"{int(compare)}:{rules_key}")
    rows = cache.get(key)
    if rows is None:
        rows = ranked("unit", start, end, within=pool, compare=compare)
        cache.set(key, rows, seconds)
    return rows


def unit_standing(user, *, today: dt.date | None = None) -> list[Standing]:
    """For each unit `user` works in: its rates and rank among the units of the unit's own region (the
    ranking of that region's dashboard at unit level: same pool, same rules) this month so far, and in the
    last complete month (the dashboard's default period, with the change against the month before).
    Only the unit's own row is returned: of the others, only how many are ranked (out_of)."""
    mine = unit_ids(user)
    if not mine:
        return []
    from gongzhi.org.models import Organisation

    today = today or clock.today()
    periods = [(_("This month so far"), today.replace(day=1), today, False),
               (_("Last month"), *ranking.last_complete_month(today), True)]
    orgs = list(Organisation.objects.filter(pk__in=mine).order_by("name")
                .values_list("pk", "name", "kind", "region_id"))
    pools = {r.pk: pool_region(r) for r in Region.objects.defer("polygon").filter(pk__in={o[3] for o in orgs})}
    result = []
    for label, start, end, compare in periods:
        for pool in {p.pk: p for p in pools.values()}.values():
            rows = _standing_pool(pool, start, end, compare)
            by_id = {r.row.id: r for r in rows}
            out_of = rows[0].out_of if rows else 0
            result += [Standing(unit_id, name, str(label), start, end, by_id.get(unit_id), out_of, compare,
                                pool.name)
                       for unit_id, name, _kind, where in orgs if pools[where].pk == pool.pk]
    # Departments and property companies always see theirs; another body (a street office, a committee)
    # only when demands were dispatched to it as a unit in one of the periods.
    handling = {o[0] for o in orgs if o[2] in STANDING_KINDS} | {s.unit_id for s in result if s.place}
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
DESK_KEYS = {"deadline": [Key("dispatch_due", nullable=True), Key("id")],
             "least_sure": [Key("suggestion_confidence", nullable=True), Key("dispatch_due", nullable=True), Key("id")]}


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
