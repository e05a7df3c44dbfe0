"""Read side of insight for the cockpit pages and the API: per-grid figures of a region, weekly trends,
top issues, hot spots of the latest run, warnings and the active model's quality. Scoping: the caller
passes a region the user may view (permissions.rule "insight.view")."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound
from gongzhi.core.i18n import gettext_lazy
from gongzhi.demands import rules as demand_rules
from gongzhi.demands import tally
from gongzhi.demands.models import Category, Demand
from gongzhi.org.models import Region

from .models import ClassifierModel, HotSpot, HotSpotRun, Issue, Warning


def viewable_regions(user) -> list[Region]:
    """The regions whose cockpit `user` may open, widest first (their overseer scopes)."""
    from gongzhi.demands.permissions import overseer_paths

    if getattr(user, "is_superuser", False):
        return list(Region.objects.filter(parent__isnull=True).order_by("id"))
    paths = sorted(set(overseer_paths(user)), key=lambda p: (p.count("/"), p))
    return [r for r in (Region.objects.filter(path=p).first() for p in paths) if r is not None]


def cockpit_region(user, chosen: str | int | None = None) -> Region:
    """The region whose cockpit `user` asks for: `chosen` (an id), else the widest they oversee. The region
    named in the query is checked like any object the user names: one they may not view the cockpit of
    ("insight.view") answers NotFound, as one that does not exist; with none named, a user who oversees
    nothing is refused (PermissionDenied)."""
    chosen = str(chosen or "")
    if chosen:
        known = chosen.isdigit() and int(chosen) < 2**63  # a larger id names nothing (and overflows the database)
        region = Region.objects.defer("polygon").filter(pk=int(chosen)).first() if known else None
        if region is None or not policy.can(user, "insight.view", region):
            raise NotFound(gettext_lazy("region %(chosen)s") % {"chosen": chosen})
    else:
        viewable = viewable_regions(user)
        region = viewable[0] if viewable else None
    policy.require(user, "insight.view", region)
    if region is None:  # a superuser on an empty deployment
        raise NotFound(gettext_lazy("region"))
    return region


@dataclass
class GridFigures:
    grid_id: int
    name: str
    polygon: dict | None
    demands: int
    open: int
    overdue: int
    rated: int
    solved: int
    hot_spots: int

    @property
    def resolution_rate(self) -> float | None:
        return self.solved / self.rated if self.rated else None


def _grid_ids(region: Region) -> list[int]:
    return list(Region.objects.filter(level=Region.Level.GRID, path__startswith=region.path).values_list("id", flat=True))


def _week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def grid_figures(region: Region, *, weeks: int = 13, now=None) -> list[GridFigures]:
    """Each grid of `region`: demands received in the last `weeks` weeks (this one and those before it), of
    them still open, overdue now, rated and rated solved, and hot spots in the latest analysis: what the
    cockpit map colours by. The received, rated and solved counts come from the weekly tally
    (demands/tally.py); the open and overdue ones from the open demands alone (an index on the state)."""
    now = now or clock.now()
    this_week = _week_of(timezone.localdate(now))
    first = this_week - dt.timedelta(weeks=weeks - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    grids = list(Region.objects.filter(level=Region.Level.GRID, path__startswith=region.path).order_by("path")
                 .values("id", "name", "polygon"))
    counted = {grid_id: (n, rated, solved) for grid_id, n, rated, solved
               in tally.weekly([g["id"] for g in grids], first, this_week + dt.timedelta(weeks=1), by=("grid",))}
    open_now = {row["grid_id"]: row for row in (  # from the partial index demand_open_by_received
        Demand.objects.filter(state__in=sorted(demand_rules.OPEN_STATES), grid__path__startswith=region.path, received_at__gte=since)
        .values("grid_id").annotate(open=Count("id"), overdue=Count("id", filter=Demand.overdue_q(now))))}
    run = latest_run(region)
    hot = {}
    if run is not None:
        for row in run.hot_spots.filter(grid__path__startswith=region.path).values("grid_id").annotate(n=Count("id")):
            hot[row["grid_id"]] = row["n"]
    out = []
    for g in grids:
        n, rated, solved = counted.get(g["id"], (0, 0, 0))
        o = open_now.get(g["id"], {})
        out.append(GridFigures(g["id"], g["name"], g["polygon"], n, o.get("open", 0), o.get("overdue", 0),
                               rated, solved, hot.get(g["id"], 0)))
    return out


def weekly_trend(region: Region, *, weeks: int = 26, top: int = 6, now=None) -> dict:
    """Demands per week in `region` for its `top` first-level categories (and the rest as "other"):
    {"weeks": [iso dates], "series": [{"code", "name", "counts"}]}. From the weekly tally (demands/tally.py)."""
    now = now or clock.now()
    this_week = _week_of(timezone.localdate(now))
    first = this_week - dt.timedelta(weeks=weeks - 1)
    roots = {c.pk: c for c in Category.objects.filter(parent__isnull=True)}
    per_root: dict[int | None, dict[dt.date, int]] = {}
    for week, root, n, _, _ in tally.weekly(_grid_ids(region), first, this_week + dt.timedelta(weeks=1),
                                            by=("week", "category")):
        per_root.setdefault(root, {})[week] = n
    days = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    totals = sorted(((sum(v.values()), k) for k, v in per_root.items() if k is not None), reverse=True)
    series = []
    for _, root in totals[:top]:
        series.append({"code": roots[root].code, "name": roots[root].name,
                       "counts": [per_root[root].get(d, 0) for d in days]})
    rest = [k for _, k in totals[top:]] + ([None] if None in per_root else [])
    if rest:
        series.append({"code": "", "name": "其他/未分类", "counts": [sum(per_root[k].get(d, 0) for k in rest)
                                                                 for d in days]})
    return {"weeks": [d.isoformat() for d in days], "series": series}


def top_issues(region: Region, *, limit: int = 10):
    return (Issue.objects.filter(community__path__startswith=region.path, merged_into__isnull=True)
            .select_related("category", "grid", "community").order_by("-heat", "-id")[:limit])


def latest_run(region: Region | None = None) -> HotSpotRun | None:
    """The latest hot-spot analysis that covered `region` (run over it or over a region containing it);
    any region's latest when None."""
    runs = HotSpotRun.objects.order_by("-at", "-id")
    if region is not None:
        parts = region.path.strip("/").split("/")
        runs = runs.filter(region__path__in=["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)])
    return runs.first()


def hot_spots(region: Region):
    run = latest_run(region)
    if run is None:
        return HotSpot.objects.none()
    return run.hot_spots.filter(grid__path__startswith=region.path).select_related("grid", "category")


def warnings(region: Region, *, state: str | None = Warning.State.OPEN):
    """The warnings of `region` (of its communities, or of its grid when it is one), in `state`."""
    # A warning's grid lies in its community: the community's path covers every region above a grid.
    within = (Q(grid__path__startswith=region.path) if region.level == Region.Level.GRID
              else Q(community__path__startswith=region.path))
    qs = Warning.objects.filter(within).select_related("grid", "building", "category", "unit", "demand",
                                                       "assigned_unit")
    return qs.filter(state=state) if state else qs


def warnings_for(user, *, state: str | None = Warning.State.OPEN):
    """The warnings in every region whose cockpit `user` may open ("warnings for me" on the home page and
    the warnings list without a region)."""
    regions = viewable_regions(user)
    if not regions:
        return Warning.objects.none()
    within = Q()
    for region in regions:
        within |= (Q(grid__path__startswith=region.path) if region.level == Region.Level.GRID
                   else Q(community__path__startswith=region.path))
    qs = Warning.objects.filter(within).select_related("grid", "building", "category", "unit", "demand",
                                                       "assigned_unit")
    return qs.filter(state=state) if state else qs


def may_see_warning(user, warning: Warning) -> bool:
    """Whether `user` may see `warning`: they view the cockpit of its community or of its grid."""
    return any(place is not None and policy.can(user, "insight.view", place)
               for place in (warning.community, warning.grid))


def demands_counted(grid: Region, category: Category, since: dt.date, until: dt.date):
    """The demands a hot-spot or rising warning counts: in `grid`, under the first-level `category`,
    received in [since, until) local time, not merged (the counts of services.analyse_hot_spots)."""
    start = timezone.make_aware(dt.datetime.combine(since, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(until, dt.time()))
    return (Demand.objects.filter(grid=grid, received_at__gte=start, received_at__lt=end,
                                  category__path__startswith=category.path)
            .exclude(state=demand_rules.MERGED).order_by("received_at", "id"))


def warning_demands(user, warning: Warning):
    """The demands behind a warning that `user` may see (demands.queries.visible), oldest first: those its
    evidence names (kept when it was raised); for a warning raised before the evidence named them, those its
    rule counts (demands_counted up to the week it was raised)."""
    from gongzhi.demands import queries as demand_queries

    numbers = (warning.evidence or {}).get("demands")
    if numbers is not None:
        found = Demand.objects.filter(number__in=numbers).order_by("received_at", "id")
    elif warning.grid_id and warning.category_id and (warning.evidence or {}).get("since"):
        since = dt.date.fromisoformat(warning.evidence["since"])
        raised = timezone.localdate(warning.raised_at)
        found = demands_counted(warning.grid, warning.category, since, raised - dt.timedelta(days=raised.weekday()))
    else:
        found = Demand.objects.none()
    return found.filter(demand_queries.visible_q(user)).select_related("grid", "category")


def active_model() -> ClassifierModel | None:
    return ClassifierModel.objects.filter(is_active=True).first()


def model_versions(limit: int = 20):
    return ClassifierModel.objects.order_by("-id")[:limit]


def warnings_of_hot_spots(spots) -> dict[int, Warning]:
    """{hot spot id: the warning it raised} (services._warn_hot_spot keys a warning by grid, category and
    the week the hot spot began, as "hot:…" or "rising:…")."""
    keys = {}
    for h in spots:
        for kind in ("hot", "rising"):
            keys[f"{kind}:{h.grid_id}:{h.category_id}:{h.since}"] = h.pk
    found = Warning.objects.filter(key__in=list(keys)).select_related("grid", "category", "unit", "demand",
                                                                      "assigned_unit")
    return {keys[w.key]: w for w in found}
