"""Resource matching (三单制: 需求清单 need list, 资源清单 resource list, 项目清单 project list) and grid-worker
allocation (网格员配置). Pure (numpy + scipy's HiGHS): plain data in, plain data out, nothing Django.

Interface
- `match(needs, resources, *, whole=False, complete_bonus=0.0, time_limit=60.0) -> Matching`: which
  resource serves how much of which need. `Matching.assignments` are (need, resource, quantity) tuples,
  `served` maps each need to the quantity it gets, `unserved` says for every need left short why.
  `compatible_pairs(needs, resources)` is the compatibility rule alone.
- `allocate_grid_workers(grids, adjacency, workers, *, current=None, max_grids_per_worker=None, starts=8)
  -> GridAllocation`: which grid worker looks after which grids, balancing workload, each worker's grids
  connected where the map allows it.
Bad input (a negative capacity, a window that ends before it starts, a duplicate id, an unknown grid or
worker, no workers ...) is a ValueError saying what is wrong; services map it to a domain error.
The services layer turns accepted matches into projects with tasks (项目清单) and records outcomes; the
needs come from residents' demands and insight hot spots, the resources from co-building units and
volunteers. This module only decides.

Compatibility. Resource r can serve need n when all of these hold:
- **unit**: the same unit (people-hours, yuan, square metres ...): a quantity is only comparable to a
  capacity of its own unit. So needs of different units never compete, the optimisation below falls
  apart into one problem per unit, and the scale of a unit (yuan against hours) changes nothing;
- **offers**: r offers everything n requires (skills, or a kind such as "venue" or "fund"); a need that
  requires nothing is served by any resource of its unit;
- **grid**: when r is limited to some grids (`Resource.grids`), n lies in one of them;
- **time**: n's window overlaps (by a positive length; windows are half-open [start, end)) at least one of
  r's windows; a need without a window, or a resource without windows, fits any time;
- **distance**: when both have a point, their distance is within the smaller of the two limits. A resource
  without a point (a fund, advice by phone) is not bound by distance. Distances are `org.spatial`'s
  (WGS-84 tangent plane, error under 2e-5 within 20 km), the house's one distance.

Split service (default): a need's quantity may be split over several resources, and a resource's capacity
over several needs. This is a transportation problem, solved as a linear programme by HiGHS:

    maximise  Σ u_n · x_nr     over compatible pairs, x_nr ≥ 0 the quantity r gives n
    s.t.      Σ_r x_nr ≤ q_n   (no need gets more than it asked for)
              Σ_n x_nr ≤ c_r   (no resource gives more than its capacity)

The urgency u_n is the value of one unit served, so the optimum serves the most urgent units first: if a
need is short while a compatible resource gives capacity to a less urgent need, moving that capacity would
raise the objective. Hence every need left short has all its compatible resources full with needs at least
as urgent, which is what `Unserved` reports. The constraint matrix is the incidence matrix of a bipartite
graph (totally unimodular), so with whole-number quantities and capacities the vertex solution of the
simplex method is whole too: nobody is asked for 2.37 hours unless someone offered a fraction. Among equally
good matchings a second LP picks the one with the least distance travelled (Σ distance × quantity). It runs
over the optimal face (pairs with a positive reduced cost fixed at 0, constraints with a positive dual price
kept tight, both read from the first LP), which is a face of the same polytope and so keeps the whole-number
vertices; writing "objective ≥ best" as one more row would not. The solver is deterministic, so the same
input gives the same matching; ties left after the distance go the way HiGHS' simplex leaves them.

`complete_bonus` b > 0 adds b · u_n · q_n for each need served in full (a binary y_n with Σ_r x_nr ≥ q_n · y_n,
so a MILP): with b = 0.5 a completed need is worth one and a half times its units. Use it when half a job
done is worth less than its share (a repair, a move); it may leave a more urgent need short to finish a less
urgent one, and `Unserved` then says so. No distance tie-break is run in this mode.

Whole assignments (`whole=True`): each need is served in full by one resource or not at all; a resource
may serve several needs as long as their quantities fit its capacity (a generalised assignment problem):

    maximise  Σ u_n q_n · x_nr    x_nr ∈ {0, 1}, only for compatible pairs with q_n ≤ c_r
    s.t.      Σ_r x_nr ≤ 1,   Σ_n q_n · x_nr ≤ c_r

solved as a MILP by HiGHS (relative gap 1e-6, `time_limit` seconds per solve; status "time_limit" if it
stopped there, and the matching is then the best found). When no resource can hold two of the needs it could
serve, every resource serves at most one need and the problem is a bipartite assignment, solved exactly by
`scipy.optimize.linear_sum_assignment` instead. The value of a need is its urgency times its quantity, so a
large need of low urgency can outweigh a small urgent one; give urgency per need / quantity to weigh needs
by count instead.

Grid-worker allocation. Balance first (make the largest workload small, then the next largest, ...), each
worker's grids connected in the adjacency graph unless the map makes that impossible (more connected pieces
of map than workers, or `max_grids_per_worker` forcing a split). Exact min-max contiguous partitioning is
NP-hard, so the method is a construction, then local search:
1. Workers are shared over the connected pieces of the map in proportion to their workload (largest
   quotient). Each piece is cut in two by recursive bisection: two far-apart grids u and v (u farthest in
   steps from the piece's first grid, v farthest from u), the grids swept in order of (steps from u − steps
   from v), cut where the workload splits as the workers do (⌊k/2⌋ : ⌈k/2⌉); a bit cut off from either side
   joins the other, so both halves stay connected.
2. Grids still free (left out of `current`, or on pieces of map without a worker) are taken by region
   growing: the least loaded worker takes its free neighbour touching most of its grids; a piece no worker
   reaches goes whole to the least loaded worker. A worker over `max_grids_per_worker` gives boundary
   grids to neighbours with room; a worker still without grids takes a peripheral grid (last in
   breadth-first order, so never a cut grid) of the busiest worker; a worker whose grids are in pieces
   gives the smaller pieces to a neighbour when that does not raise the largest load.
3. Local search by chains of moves (ejection chains): the busiest worker passes a boundary grid to a
   neighbour, who may pass another grid on, and so on, until a worker takes one and stays below the
   busiest's load; every worker on the chain ends below that load and no connected set is cut in two. The
   shortest chain is found breadth first: over (worker, grid received) pairs for the busiest worker, over
   workers for the others (much cheaper, and they only narrow the spread). Each chain lowers the sorted
   vector of loads (largest first) lexicographically, so the search ends; a worker whose search failed is
   not searched again until a worker it looked at changes. Given `current`, the search starts from it, so
   only what improves the balance moves and most grids keep their worker.
4. Without `current`, steps 1-3 run from `starts` (8) different first cuts (where the search for u begins,
   which half takes the odd worker), and the best result is kept: fewest workers with split grids, then
   the loads sorted largest first. On 3 × 3 lattices with 3 workers this reached the brute-force optimum
   for 17 seeds of 20 (one start: 5 of 20).
The lower bound reported is max(total / workers, largest grid). Ties go to the lower position in the input
(grids in the order of `grids`, workers in the order of `workers`): the result is deterministic. Measured:
tests/test_matching.py and bench/bench_matching.py (200 grids, 40 workers: the largest load within about 5 %
of the lower bound, in about 0.1 s with 8 starts).
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, linprog, milp

from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.org.spatial import check_point, distances_m

DEFAULT_UNIT = "hour"
OBJECTIVE_TOLERANCE = 1e-7  # relative: reduced costs and prices below this count as 0 in the tie-break
MIP_REL_GAP = 1e-6
DENSE_ASSIGNMENT_CELLS = 4_000_000  # linear_sum_assignment works on a dense needs × resources matrix
STARTS = 8  # allocations built from different cuts; the best after local search is kept
ROUND = 1e-9  # solver noise: quantities closer than this to a whole number are made whole, smaller ones 0


# --- input ----------------------------------------------------------------------------------------------

def _field(what, name: str):
    """One field of a need or resource, for a message: "need 'n': quantity"."""
    return _("%(what)s: %(field)s") % {"what": what, "field": name}


def _words(value, what: str) -> frozenset[str]:
    if isinstance(value, str):  # a single skill, not its characters
        return frozenset([value])
    try:
        items = frozenset(value)
    except TypeError:
        raise ValueError(_("%(what)s must be a set of strings, got %(value)r")
                         % {"what": what, "value": value}) from None
    if not all(isinstance(item, str) for item in items):
        raise ValueError(_("%(what)s must be a set of strings, got %(value)s")
                         % {"what": what, "value": sorted(map(repr, items))})
    return items


def _number(value, what: str, *, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(_("%(what)s must be a number, got %(value)r") % {"what": what, "value": value}) from None
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        message = (_("%(what)s must be a finite number > 0, got %(value)r") if positive
                   else _("%(what)s must be a finite number ≥ 0, got %(value)r"))
        raise ValueError(message % {"what": what, "value": value})
    return x


def _instant(value, what: str) -> float:
    """A window end as a number: datetimes (naive or aware, not mixed) and dates as POSIX seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(_("%(what)s must be a datetime, a date or a finite number, got %(value)r")
                     % {"what": what, "value": value})


def _window(value, what: str) -> tuple[float, float]:
    try:
        start, end = value
    except (TypeError, ValueError):
        raise ValueError(_("%(what)s must be a (start, end) pair, got %(value)r")
                         % {"what": what, "value": value}) from None
    a = _instant(start, _("%(what)s start") % {"what": what})
    b = _instant(end, _("%(what)s end") % {"what": what})
    if not a < b:
        raise ValueError(_("%(what)s must end after it starts, got %(value)r") % {"what": what, "value": value})
    return a, b


def _point(value, what: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lon, lat = value
    except (TypeError, ValueError):
        raise ValueError(_("%(what)s must be a (lon, lat) pair, got %(value)r")
                         % {"what": what, "value": value}) from None
    try:
        return check_point(lon, lat)
    except ValueError as error:
        raise ValueError(_("%(what)s: %(error)s") % {"what": what, "error": error}) from None


@dataclass(frozen=True)
class Need:
    """One line of the need list (需求清单): `quantity` units of `unit` that need everything in `requires`,
    worth `urgency` per unit served. Optional: where (`point` (lon, lat), `grid`), when (`window`, a
    (start, end) pair of datetimes or numbers) and how far a helper may come from (`max_distance_km`)."""

    id: Hashable
    requires: frozenset[str]
    quantity: float
    urgency: float = 1.0
    unit: str = DEFAULT_UNIT
    point: tuple[float, float] | None = None
    grid: Hashable | None = None
    window: tuple[Any, Any] | None = None
    max_distance_km: float | None = None

    def __post_init__(self):
        what = _("need %(id)r") % {"id": self.id}
        object.__setattr__(self, "requires", _words(self.requires, _field(what, "requires")))
        object.__setattr__(self, "quantity", _number(self.quantity, _field(what, "quantity"), positive=True))
        object.__setattr__(self, "urgency", _number(self.urgency, _field(what, "urgency"), positive=True))
        object.__setattr__(self, "point", _point(self.point, _field(what, "point")))
        if self.window is not None:
            _window(self.window, _field(what, "window"))
        if self.max_distance_km is not None:
            object.__setattr__(self, "max_distance_km", _number(self.max_distance_km, _field(what, "max_distance_km")))


@dataclass(frozen=True)
class Resource:
    """One line of the resource list (资源清单): `capacity` units of `unit`, offering what `offers` names
    (skills, or kinds: person, venue, fund ...), from `owner` (a co-building unit or a volunteer). Optional:
    `point` (lon, lat), `grids` it is limited to, `windows` when it is available ((start, end) pairs; none
    means any time) and `max_distance_km` it will travel."""

    id: Hashable
    offers: frozenset[str]
    capacity: float
    unit: str = DEFAULT_UNIT
    point: tuple[float, float] | None = None
    grids: frozenset | None = None
    windows: tuple = ()
    max_distance_km: float | None = None
    owner: Hashable | None = None

    def __post_init__(self):
        what = _("resource %(id)r") % {"id": self.id}
        object.__setattr__(self, "offers", _words(self.offers, _field(what, "offers")))
        object.__setattr__(self, "capacity", _number(self.capacity, _field(what, "capacity")))
        object.__setattr__(self, "point", _point(self.point, _field(what, "point")))
        if self.grids is not None:
            object.__setattr__(self, "grids", frozenset(self.grids))
        windows = tuple(self.windows)
        for i, window in enumerate(windows):
            _window(window, _field(what, f"window {i}"))
        object.__setattr__(self, "windows", windows)
        if self.max_distance_km is not None:
            object.__setattr__(self, "max_distance_km",
                               _number(self.max_distance_km, _field(what, "max_distance_km")))


def _unique(items: Sequence, what: str) -> dict:
    index: dict = {}
    for i, item in enumerate(items):
        if item.id in index:
            raise ValueError(_("%(what)s id %(id)r appears more than once") % {"what": what, "id": item.id})
        index[item.id] = i
    return index


# --- compatibility ----------------------------------------------------------------------------------------

@dataclass
class Compatibility:
    """Compatible pairs as arrays (need index, resource index, distance in km or 0 without points), sorted by
    need then resource, and for each need how many resources pass each check in turn (the funnel)."""

    need: np.ndarray
    resource: np.ndarray
    distance_km: np.ndarray
    offer_count: np.ndarray  # same unit and offers what the need requires
    grid_count: np.ndarray  # ... and serves the need's grid
    time_count: np.ndarray  # ... and is available in the need's window
    count: np.ndarray  # ... and is near enough: compatible


def compatible_pairs(needs: Sequence[Need], resources: Sequence[Resource]) -> Compatibility:
    """Every (need, resource) pair that passes the compatibility rule of the module doc, vectorised."""
    n, m = len(needs), len(resources)
    # unit and offers: needs × skills times resources × (skills not offered) counts what is missing
    units = {unit: i for i, unit in enumerate(dict.fromkeys([x.unit for x in needs] + [r.unit for r in resources]))}
    ok = (np.array([units[x.unit] for x in needs], dtype=np.int64)[:, None]
          == np.array([units[r.unit] for r in resources], dtype=np.int64)[None, :])
    skills = {s: i for i, s in enumerate(sorted({s for x in needs for s in x.requires}))}
    if skills:
        required = np.zeros((n, len(skills)), dtype=np.float32)
        for i, x in enumerate(needs):
            required[i, [skills[s] for s in x.requires]] = 1
        lacking = np.ones((m, len(skills)), dtype=np.float32)
        for j, r in enumerate(resources):
            lacking[j, [skills[s] for s in r.offers if s in skills]] = 0
        ok &= (required @ lacking.T) == 0
    offer_count = ok.sum(axis=1)

    # grid: only resources limited to some grids can fail it
    grid_codes: dict = {}
    need_grid = np.array([-1 if x.grid is None else grid_codes.setdefault(x.grid, len(grid_codes)) for x in needs],
                         dtype=np.int64)
    for j, r in enumerate(resources):
        if r.grids is not None:
            ok[:, j] &= np.isin(need_grid, [grid_codes[g] for g in r.grids if g in grid_codes])
    grid_count = ok.sum(axis=1)

    # time: any of the resource's windows overlaps the need's by a positive length
    timed_needs = [i for i, x in enumerate(needs) if x.window is not None]
    timed_resources = [j for j, r in enumerate(resources) if r.windows]
    if timed_needs and timed_resources:
        starts, ends = np.array([_window(needs[i].window, "window") for i in timed_needs]).T
        flat = [(k, *_window(w, "window")) for k, j in enumerate(timed_resources) for w in resources[j].windows]
        owner, w_start, w_end = (np.array(column) for column in zip(*flat))
        overlap = (starts[:, None] < w_end[None, :]) & (w_start[None, :] < ends[:, None])
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])  # windows are grouped by resource
        available = np.logical_or.reduceat(overlap, first, axis=1)
        ok[np.ix_(timed_needs, timed_resources)] &= available
    time_count = ok.sum(axis=1)

    # distance: both points known, within the smaller limit
    distance = np.zeros((n, m))
    placed_needs = [i for i, x in enumerate(needs) if x.point is not None]
    placed_resources = [j for j, r in enumerate(resources) if r.point is not None]
    if placed_needs and placed_resources:
        lon, lat = np.array([needs[i].point for i in placed_needs]).T
        lons, lats = np.array([resources[j].point for j in placed_resources]).T
        km = distances_m(lon[:, None], lat[:, None], lons[None, :], lats[None, :]) / 1000.0
        distance[np.ix_(placed_needs, placed_resources)] = km
        need_limit = np.array([math.inf if needs[i].max_distance_km is None else needs[i].max_distance_km
                               for i in placed_needs])
        resource_limit = np.array([math.inf if resources[j].max_distance_km is None
                                   else resources[j].max_distance_km for j in placed_resources])
        ok[np.ix_(placed_needs, placed_resources)] &= km <= np.minimum(need_limit[:, None],
                                                                       resource_limit[None, :]) + 1e-9
    need_index, resource_index = np.nonzero(ok)
    return Compatibility(need_index, resource_index, distance[need_index, resource_index], offer_count,
                         grid_count, time_count, ok.sum(axis=1))


# --- matching -------------------------------------------------------------------------------------------

class Assignment(NamedTuple):
    """`quantity` of `need` served by `resource` (ids as given)."""

    need: Hashable
    resource: Hashable
    quantity: float


@dataclass(frozen=True)
class Unserved:
    """A need that got less than it asked for, and why. `reason`:
    - "no_compatible_resource": no resource passes every check; `funnel` says how many pass each in turn;
    - "no_resource_large_enough" (whole assignments): compatible resources exist, none has the capacity;
    - "no_capacity": the compatible resources have a capacity of 0 (a list not yet filled in);
    - "capacity_taken": the compatible resources (`compatible`) gave their capacity to the needs in
      `taken_by` (most urgent first); `by_more_urgent` tells whether all of those are at least as urgent."""

    need: Hashable
    quantity: float
    served: float
    reason: str
    funnel: dict[str, int]
    compatible: list = field(default_factory=list)
    taken_by: list = field(default_factory=list)
    by_more_urgent: bool = True
    message_zh: str = ""
    message_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"need": self.need, "quantity": self.quantity, "served": self.served, "reason": self.reason,
                "funnel": dict(self.funnel), "compatible": list(self.compatible), "taken_by": list(self.taken_by),
                "by_more_urgent": self.by_more_urgent, "message_zh": self.message_zh,
                "message_en": self.message_en}


@dataclass
class Matching:
    """The proposed matching. `assignments` in need order, then resource order; `served` has every need
    (0 when unserved); `unserved` every need served less than its quantity, in need order. `objective` is
    Σ urgency × served quantity (+ the completion bonus); `status` "optimal" or "time_limit" (then `gap` is
    the solver's relative gap); `solver` names the method; `seconds` the time taken, compatibility included."""

    assignments: list[Assignment]
    served: dict
    unserved: list[Unserved]
    objective: float
    status: str
    solver: str
    seconds: float
    gap: float = 0.0
    compatible_pairs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"assignments": [{"need": a.need, "resource": a.resource, "quantity": a.quantity}
                                for a in self.assignments],
                "served": [{"need": need, "quantity": quantity} for need, quantity in self.served.items()],
                "unserved": [u.to_dict() for u in self.unserved], "objective": self.objective,
                "status": self.status, "solver": self.solver, "gap": self.gap, "seconds": self.seconds,
                "compatible_pairs": self.compatible_pairs}


def match(needs: Sequence[Need], resources: Sequence[Resource], *, whole: bool = False,
          complete_bonus: float = 0.0, time_limit: float | None = 60.0) -> Matching:
    """The matching that serves the most urgency-weighted quantity within capacities (三单制 matching; see
    the module doc for the formulation). `whole=True`: each need in full by one resource, or not at all."""
    started = time.perf_counter()
    needs, resources = list(needs), list(resources)
    for what, items, kind in (("needs", needs, Need), ("resources", resources, Resource)):
        bad = [item for item in items if not isinstance(item, kind)]
        if bad:
            raise ValueError(_("%(what)s must be %(kind)s objects, got %(value)r")
                             % {"what": what, "kind": kind.__name__, "value": bad[0]})
    _unique(needs, "need")
    _unique(resources, "resource")
    bonus = _number(complete_bonus, "complete_bonus")
    if whole and bonus:
        raise ValueError(_("complete_bonus applies to split service only: whole assignments always complete a need"))
    if time_limit is not None:
        time_limit = _number(time_limit, "time_limit", positive=True)

    pairs = compatible_pairs(needs, resources)
    quantity = np.array([x.quantity for x in needs])
    urgency = np.array([x.urgency for x in needs])
    capacity = np.array([r.capacity for r in resources])
    ni, ri, km = pairs.need, pairs.resource, pairs.distance_km
    large_enough = None
    if whole:
        keep = capacity[ri] >= quantity[ni] - ROUND
        large_enough = np.bincount(ni[keep], minlength=len(needs))
        ni, ri, km = ni[keep], ri[keep], km[keep]
    if len(ni) == 0 or not capacity[ri].any():
        x, status, solver, gap = np.zeros(len(ni)), "optimal", "none", 0.0
    elif whole:
        x, status, solver, gap = _solve_whole(ni, ri, quantity, urgency, capacity, time_limit)
    elif bonus:
        x, status, solver, gap = _solve_split_with_bonus(ni, ri, quantity, urgency, capacity, bonus, time_limit)
    else:
        x, status, solver, gap = _solve_split(ni, ri, km, quantity, urgency, capacity, time_limit)

    x = np.where(np.abs(x - np.round(x)) < ROUND, np.round(x), x)
    used = x > 0
    ni, ri, x = ni[used], ri[used], x[used]
    served = np.bincount(ni, weights=x, minlength=len(needs))
    objective = float(urgency @ served)
    if bonus:
        objective += float(bonus * (urgency * quantity) @ (served >= quantity - ROUND))
    assignments = [Assignment(needs[i].id, resources[j].id, _plain(q)) for i, j, q in zip(ni, ri, x)]
    unserved = _explain(needs, resources, pairs, large_enough, ni, ri, served, quantity, urgency, capacity,
                        status)
    return Matching(assignments, {need.id: _plain(s) for need, s in zip(needs, served)}, unserved, objective,
                    status, solver, time.perf_counter() - started, gap, int(len(pairs.need)))


def _plain(value: float) -> float | int:
    """A quantity as int when whole (readable in JSON and in tests), else float."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _incidence(ni, ri, n_needs, n_resources, weights=None) -> sparse.csr_matrix:
    """Rows: one per need, then one per resource; columns: one per pair."""
    e = len(ni)
    data = np.ones(2 * e) if weights is None else np.r_[np.ones(e), weights]
    rows = np.r_[ni, n_needs + ri]
    cols = np.r_[np.arange(e), np.arange(e)]
    return sparse.csr_matrix((data, (rows, cols)), shape=(n_needs + n_resources, e))


def _solution(result, size: int) -> tuple[np.ndarray, str, float]:
    """HiGHS' answer as (x, status, relative gap). Zero is always feasible, so a stop at the time limit
    without a point found still gives one: nothing assigned."""
    if result.status == 0:
        return result.x, "optimal", 0.0
    if result.status == 1:  # iteration or time limit
        gap = getattr(result, "mip_gap", None)
        x = result.x if result.x is not None else np.zeros(size)
        return x, "time_limit", math.inf if gap is None else float(gap)
    raise RuntimeError(f"HiGHS failed on a problem that is always feasible: {result.message}")


def _solve_split(ni, ri, km, quantity, urgency, capacity, time_limit):
    a = _incidence(ni, ri, len(quantity), len(capacity))
    b = np.r_[quantity, capacity]
    options = {"presolve": True} | ({"time_limit": time_limit} if time_limit else {})
    value = urgency[ni]
    first = linprog(-value, A_ub=a, b_ub=b, bounds=(0, None), method="highs-ds", options=options)
    x, status, gap = _solution(first, len(ni))
    if status != "optimal" or not km.any():
        return x, status, "highs-lp", gap
    # The nearest among equally good matchings: minimise distance over the optimal face, which complementary
    # slackness with the first LP's duals describes (pairs with a positive reduced cost stay empty, rows with
    # a positive price stay full). A face of the transportation polytope keeps its whole-number vertices;
    # the objective written as a constraint would not.
    scale = OBJECTIVE_TOLERANCE * max(1.0, float(value.max()))
    open_pairs = first.lower.marginals <= scale
    full_rows = first.ineqlin.marginals < -scale
    a = a.tocsc()[:, open_pairs].tocsr()
    second = linprog(km[open_pairs], A_ub=a[~full_rows], b_ub=b[~full_rows], A_eq=a[full_rows],
                     b_eq=b[full_rows], bounds=(0, None), method="highs-ds", options=options)
    if second.status != 0 or -value[open_pairs] @ second.x > first.fun + scale * max(1.0, -first.fun):
        return x, status, "highs-lp", gap  # keep the first answer rather than fail on the tie-break
    x = np.zeros(len(ni))
    x[open_pairs] = second.x
    return x, "optimal", "highs-lp", 0.0


def _solve_split_with_bonus(ni, ri, quantity, urgency, capacity, bonus, time_limit):
    n, e = len(quantity), len(ni)
    a = _incidence(ni, ri, n, len(capacity))
    # y_n ≤ Σ_r x_nr / q_n, written q_n y_n − Σ_r x_nr ≤ 0
    complete = sparse.hstack([-a[:n], sparse.diags(quantity)])
    matrix = sparse.vstack([sparse.hstack([a, sparse.csr_matrix((a.shape[0], n))]), complete]).tocsr()
    upper = np.r_[quantity, capacity, np.zeros(n)]
    c = -np.r_[urgency[ni], bonus * urgency * quantity]
    options = {"mip_rel_gap": MIP_REL_GAP} | ({"time_limit": time_limit} if time_limit else {})
    # With the y fixed, the x are a transportation problem again; HiGHS' MIP answer need not be a vertex of it,
    # so when every amount is whole the x are declared whole too (almost free: the relaxation is integral).
    whole_units = bool(np.all(np.mod(upper, 1) == 0))
    result = milp(c, constraints=LinearConstraint(matrix, -np.inf, upper),
                  integrality=np.r_[np.full(e, int(whole_units)), np.ones(n)],
                  bounds=Bounds(0, np.r_[np.full(e, np.inf), np.ones(n)]), options=options)
    x, status, gap = _solution(result, e + n)
    return x[:e], status, "highs-milp", gap


def _solve_whole(ni, ri, quantity, urgency, capacity, time_limit):
    value = urgency[ni] * quantity[ni]
    n, m = len(quantity), len(capacity)
    if _one_need_per_resource(ni, ri, quantity, capacity) and n * m <= DENSE_ASSIGNMENT_CELLS:
        # a resource holds at most one of its needs: a bipartite assignment; non-pairs weigh 0 and are dropped
        rows, row_of = np.unique(ni, return_inverse=True)
        cols, col_of = np.unique(ri, return_inverse=True)
        weight = np.zeros((len(rows), len(cols)))
        weight[row_of, col_of] = value
        chosen_rows, chosen_cols = linear_sum_assignment(weight, maximize=True)
        chosen = {(rows[i], cols[j]) for i, j in zip(chosen_rows, chosen_cols) if weight[i, j] > 0}
        x = np.array([(i, j) in chosen for i, j in zip(ni, ri)], dtype=float) * quantity[ni]
        return x, "optimal", "linear_sum_assignment", 0.0
    a = _incidence(ni, ri, n, m, weights=quantity[ni])
    options = {"mip_rel_gap": MIP_REL_GAP} | ({"time_limit": time_limit} if time_limit else {})
    result = milp(-value, constraints=LinearConstraint(a, -np.inf, np.r_[np.ones(n), capacity]),
                  integrality=np.ones(len(ni)), bounds=Bounds(0, 1), options=options)
    x, status, gap = _solution(result, len(ni))
    return np.round(x) * quantity[ni], status, "highs-milp", gap


def _one_need_per_resource(ni, ri, quantity, capacity) -> bool:
    """True when no resource can hold two of the needs it could serve (its two smallest exceed it)."""
    order = np.lexsort((quantity[ni], ri))
    r_sorted, q_sorted = ri[order], quantity[ni][order]
    same_next = r_sorted[1:] == r_sorted[:-1]
    first_of_group = np.r_[True, r_sorted[1:] != r_sorted[:-1]][:-1]
    pair = same_next & first_of_group  # positions holding a resource's smallest, followed by its second
    return bool(np.all(q_sorted[:-1][pair] + q_sorted[1:][pair] > capacity[r_sorted[:-1][pair]] + ROUND))


def _explain(needs, resources, pairs, large_enough, ni, ri, served, quantity, urgency, capacity,
             status) -> list[Unserved]:
    compatible: dict[int, list[int]] = {}
    for i, j in zip(pairs.need.tolist(), pairs.resource.tolist()):
        compatible.setdefault(i, []).append(j)
    takers: dict[int, list[int]] = {}
    for i, j in zip(ni.tolist(), ri.tolist()):
        takers.setdefault(j, []).append(i)
    stopped = status != "optimal"
    out = []
    for i, x in enumerate(needs):
        if served[i] >= quantity[i] - ROUND:
            continue
        funnel = {"offers": int(pairs.offer_count[i]), "grid": int(pairs.grid_count[i]),
                  "time": int(pairs.time_count[i]), "distance": int(pairs.count[i])}
        if large_enough is not None:
            funnel["capacity"] = int(large_enough[i])
        mine = compatible.get(i, [])
        if not mine:
            reason = "no_compatible_resource"
        elif large_enough is not None and not large_enough[i]:
            reason = "no_resource_large_enough"
        elif not capacity[mine].any():
            reason = "no_capacity"
        else:
            reason = "capacity_taken"
        taken = sorted({k for j in mine for k in takers.get(j, []) if k != i}, key=lambda k: (-urgency[k], k))
        more_urgent = all(urgency[k] >= urgency[i] for k in taken)
        zh, en = _messages(x, reason, funnel, len(mine), len(taken), more_urgent, served[i], stopped)
        out.append(Unserved(x.id, _plain(quantity[i]), _plain(served[i]), reason, funnel,
                            [resources[j].id for j in mine], [needs[k].id for k in taken], more_urgent, zh, en))
    return out


def _many(count: int, noun: str, verb: str = "") -> str:
    """"1 resource offers", "3 resources offer"."""
    if count == 1:
        return f"1 {noun}" + (f" {verb}s" if verb else "")
    return f"{count} {noun}s" + (f" {verb}" if verb else "")


def _messages(need: Need, reason, funnel, n_compatible, n_taken, more_urgent, served, stopped) -> tuple[str, str]:
    what_zh = "、".join(sorted(need.requires)) or "任何资源"
    what_en = ", ".join(sorted(need.requires)) or "anything"
    if reason == "no_compatible_resource":
        if not funnel["offers"]:
            zh = f"没有资源提供{what_zh}（单位：{need.unit}）"
            en = f"no resource offers {what_en} in {need.unit}"
        elif not funnel["grid"]:
            zh = f"{funnel['offers']}项资源可提供{what_zh}，但都不服务网格{need.grid}"
            en = f"{_many(funnel['offers'], 'resource', 'offer')} {what_en}, none serves grid {need.grid}"
        elif not funnel["time"]:
            zh = f"{funnel['grid']}项资源可提供{what_zh}，但时间都不合适"
            en = f"{_many(funnel['grid'], 'resource', 'offer')} {what_en}, none is available in the time window"
        else:
            zh = f"{funnel['time']}项资源可提供{what_zh}且时间合适，但都超出距离限制"
            en = f"{_many(funnel['time'], 'resource', 'offer')} {what_en} in time, none within the distance limit"
    elif reason == "no_resource_large_enough":
        zh = f"{funnel['distance']}项资源可提供{what_zh}，但容量都不足{_plain(need.quantity)}{need.unit}"
        en = (f"{_many(funnel['distance'], 'resource', 'offer')} {what_en}, none has capacity "
              f"{_plain(need.quantity)} {need.unit}")
    elif reason == "no_capacity":
        zh = f"{n_compatible}项资源可提供{what_zh}，但都没有容量"
        en = f"{_many(n_compatible, 'resource', 'offer')} {what_en}, none has any capacity"
    elif more_urgent:
        zh = f"{n_compatible}项可用资源的容量已分配给{n_taken}项同等或更紧急的需求"
        en = (f"the capacity of {_many(n_compatible, 'compatible resource')} went to {_many(n_taken, 'need')} "
              "at least as urgent")
    else:
        zh = f"{n_compatible}项可用资源的容量已分配给{n_taken}项其他需求，其总价值更高"
        en = (f"the capacity of {_many(n_compatible, 'compatible resource')} went to "
              f"{_many(n_taken, 'other need')} of more total value")
    if served > 0:
        zh = f"已满足{_plain(served)}/{_plain(need.quantity)}{need.unit}；" + zh
        en = f"served {_plain(served)} of {_plain(need.quantity)} {need.unit}; " + en
    if stopped:
        zh += "（求解达到时间上限，结果可能不是最优）"
        en += " (the solver stopped at its time limit; the matching may not be optimal)"
    return zh, en


# --- grid-worker allocation -------------------------------------------------------------------------------

@dataclass
class GridAllocation:
    """Grids of each worker (in the order of the input grids), their workload, whether they are connected
    in the adjacency graph, the largest load and its lower bound max(total / workers, largest grid), the
    spread (largest − smallest load), and the number of chains of moves the local search applied."""

    grids: dict[Hashable, list]
    load: dict[Hashable, float]
    is_contiguous: dict[Hashable, bool]
    max_load: float
    lower_bound: float
    spread: float
    steps: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"workers": [{"worker": w, "grids": list(g), "load": self.load[w],
                             "is_contiguous": self.is_contiguous[w]} for w, g in self.grids.items()],
                "max_load": self.max_load, "lower_bound": self.lower_bound, "spread": self.spread,
                "steps": self.steps, "seconds": self.seconds}


class _Map:
    """Grids as indices 0..n-1 in input order, with workloads and symmetric neighbour lists."""

    def __init__(self, grids: Mapping, adjacency: Mapping):
        self.ids = list(grids)
        self.index = {g: i for i, g in enumerate(self.ids)}
        self.weight = [_number(w, _("workload of grid %(grid)r") % {"grid": g}) for g, w in grids.items()]
        neighbours: list[set[int]] = [set() for _ in self.ids]
        for g, near in adjacency.items():
            if g not in self.index:
                raise ValueError(_("adjacency names grid %(grid)r, which is not among the grids") % {"grid": g})
            for h in near:
                if h not in self.index:
                    raise ValueError(_("adjacency lists %(near)r as a neighbour of %(grid)r, but it is not among "
                                       "the grids")
                                     % {"near": h, "grid": g})
                if h != g:
                    neighbours[self.index[g]].add(self.index[h])
                    neighbours[self.index[h]].add(self.index[g])
        self.neighbours = [sorted(s) for s in neighbours]

    def components(self) -> list[list[int]]:
        seen = [False] * len(self.ids)
        out = []
        for start in range(len(self.ids)):
            if not seen[start]:
                seen[start] = True
                part, queue = [], deque([start])
                while queue:
                    g = queue.popleft()
                    part.append(g)
                    for h in self.neighbours[g]:
                        if not seen[h]:
                            seen[h] = True
                            queue.append(h)
                out.append(sorted(part))
        return out

    def hops(self, sources: Iterable[int], within: set[int]) -> dict[int, int]:
        dist = {s: 0 for s in sources}
        queue = deque(dist)
        while queue:
            g = queue.popleft()
            for h in self.neighbours[g]:
                if h in within and h not in dist:
                    dist[h] = dist[g] + 1
                    queue.append(h)
        return dist

    def is_connected(self, region: set[int]) -> bool:
        if len(region) <= 1:
            return True
        return len(self.hops([min(region)], region)) == len(region)

    def pieces(self, region: set[int]) -> list[set[int]]:
        left, out = set(region), []
        while left:
            piece = set(self.hops([min(left)], left))
            out.append(piece)
            left -= piece
        return out


def allocate_grid_workers(grids: Mapping[Hashable, float], adjacency: Mapping[Hashable, Iterable[Hashable]],
                          workers: Sequence[Hashable], *, current: Mapping[Hashable, Iterable[Hashable]] | None = None,
                          max_grids_per_worker: int | None = None, starts: int = STARTS) -> GridAllocation:
    """Grid workers (网格员) to grids by workload: balanced (the largest load as small as the search finds),
    each worker's grids connected where possible (see the module doc). `grids`: grid → workload ≥ 0;
    `adjacency`: grid → neighbouring grids (symmetrised; grids left out have none); `current`: worker →
    grids, a starting point to change as little as needed; `starts`: how many different first cuts to
    search from, keeping the best (time grows with it; not used with `current`)."""
    started = time.perf_counter()
    workers = list(workers)
    if not workers:
        raise ValueError(_("there are no grid workers to allocate"))
    if len(set(workers)) != len(workers):
        duplicate = next(w for w in workers if workers.count(w) > 1)
        raise ValueError(_("grid worker %(worker)r appears more than once") % {"worker": duplicate})
    the_map = _Map(grids, adjacency)
    n, k = len(the_map.ids), len(workers)
    limit = max(n, 1) if max_grids_per_worker is None else max_grids_per_worker
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(_("max_grids_per_worker must be a whole number ≥ 1, got %(value)r")
                         % {"value": max_grids_per_worker})
    if limit * k < n:
        raise ValueError(_("%(workers)s workers with at most %(limit)s grids each cannot cover %(grids)s grids")
                         % {"workers": k, "limit": limit, "grids": n})
    if not isinstance(starts, int) or isinstance(starts, bool) or starts < 1:
        raise ValueError(_("starts must be a whole number ≥ 1, got %(value)r") % {"value": starts})

    owner = [-1] * n
    if current is not None:
        worker_index = {w: i for i, w in enumerate(workers)}
        for w, held in current.items():
            if w not in worker_index:
                raise ValueError(_("the current allocation names worker %(worker)r, who is not among the workers")
                                 % {"worker": w})
            for g in held:
                if g not in the_map.index:
                    raise ValueError(_("the current allocation gives worker %(worker)r grid %(grid)r, which is "
                                       "not among the grids") % {"worker": w, "grid": g})
                if owner[the_map.index[g]] != -1:
                    raise ValueError(_("the current allocation gives grid %(grid)r to two workers") % {"grid": g})
                owner[the_map.index[g]] = worker_index[w]
        if any(owner.count(w) > limit for w in range(k)):
            raise ValueError(_("the current allocation gives a worker more than %(limit)s grids") % {"limit": limit})
        search = _Search(the_map, k, limit, owner)
        search.grow()
        search.seed_empty_workers()
        search.repair()
        search.improve()
    else:
        search = None
        for start in range(starts):
            candidate = _Search(the_map, k, limit, list(owner))
            candidate.partition(start)
            candidate.grow()
            candidate.shed()
            candidate.seed_empty_workers()
            candidate.repair()
            candidate.improve()
            if search is None or candidate.rank() < search.rank():
                search = candidate

    total, largest = sum(the_map.weight), max(the_map.weight, default=0.0)
    loads = search.load
    return GridAllocation(
        grids={w: [the_map.ids[g] for g in sorted(search.region[i])] for i, w in enumerate(workers)},
        load={w: _plain(round(loads[i], 9)) for i, w in enumerate(workers)},
        is_contiguous={w: the_map.is_connected(search.region[i]) for i, w in enumerate(workers)},
        max_load=_plain(round(max(loads), 9)), lower_bound=max(total / k, largest),
        spread=_plain(round(max(loads) - min(loads), 9)), steps=search.steps,
        seconds=time.perf_counter() - started)


class _Search:
    """The state of the allocation: owner of each grid (-1: free), each worker's set of grids and load."""

    def __init__(self, the_map: _Map, k: int, limit: int, owner: list[int]):
        self.map, self.k, self.limit = the_map, k, limit
        self.owner = owner
        self.region: list[set[int]] = [set() for _ in range(k)]
        self.load = [0.0] * k
        for g, w in enumerate(owner):
            if w >= 0:
                self.region[w].add(g)
                self.load[w] += the_map.weight[g]
        self.steps = 0
        self.shapes: list[dict] = [{} for _ in range(k)]  # per worker: (joining, leaving) -> keeps shape

    def give(self, g: int, w: int):
        old = self.owner[g]
        if old >= 0:
            self.region[old].discard(g)
            self.load[old] -= self.map.weight[g]
            self.shapes[old].clear()
        self.owner[g] = w
        self.region[w].add(g)
        self.load[w] += self.map.weight[g]
        self.shapes[w].clear()

    def rank(self) -> tuple:
        """Better allocations rank lower: fewer workers whose grids are in pieces, then the loads sorted
        largest first (compared as rounded to 1e-9, so float noise decides nothing)."""
        broken = sum(not self.map.is_connected(region) for region in self.region)
        return broken, sorted((round(load, 9) for load in self.load), reverse=True)

    def partition(self, start: int = 0):
        """Workers shared over the connected pieces of the map by largest quotient; each piece cut in two
        by recursive bisection. `start` varies the cuts: where the search for the far-apart grids begins,
        and which side takes the larger half of an odd number of workers."""
        parts = self.map.components()
        weight = [sum(self.map.weight[g] for g in part) for part in parts]
        share = [0] * len(parts)
        for _ in range(min(self.k, len(self.map.ids))):
            best = max((p for p in range(len(parts)) if share[p] < len(parts[p])),
                       key=lambda p: ((weight[p] + 1e-12) / (share[p] + 1), len(parts[p]), -p))
            share[best] += 1
        first = 0
        for part, count in zip(parts, share):
            if count:
                self._bisect(part, list(range(first, first + count)), start)
                first += count

    def _bisect(self, part: list[int], workers: list[int], start: int):
        """Cut `part` between two far-apart grids u and v, at the point of the sweep by (steps from u − steps
        from v) where the workload splits as the workers do; pieces cut off either side join the other."""
        stack = [(part, workers)]
        while stack:
            part, workers = stack.pop()
            if not part:
                continue  # a degenerate cut: these workers start empty and take grids later
            if len(workers) == 1 or len(part) <= len(workers):
                for i, g in enumerate(part):  # one worker, or a grid each (the cut fell badly)
                    self.give(g, workers[min(i, len(workers) - 1)])
                continue
            within = set(part)
            anchor = part[(start // 2) * len(part) // STARTS % len(part)]
            from_anchor = self.map.hops([anchor], within)
            u = max(part, key=lambda g: (from_anchor[g], -g))
            from_u = self.map.hops([u], within)
            v = max(part, key=lambda g: (from_u[g], -g))
            from_v = self.map.hops([v], within)
            order = sorted(part, key=lambda g: (from_u[g] - from_v[g], from_u[g], g))
            k1 = (len(workers) + start % 2) // 2
            target = sum(self.map.weight[g] for g in part) * k1 / len(workers)
            cumulative = np.cumsum([self.map.weight[g] for g in order])
            k2 = len(workers) - k1  # each side keeps at least a grid and at most `limit` grids per worker,
            low, high = max(k1, len(part) - k2 * self.limit), min(len(part) - k2, k1 * self.limit)
            if low > high:  # unless an earlier cut left too many grids here: `shed` will move the excess
                low, high = k1, len(part) - k2
            cuts = np.arange(low, high + 1)
            cut = int(cuts[np.argmin(np.abs(cumulative[cuts - 1] - target))])
            side_u, side_v = set(order[:cut]), set(order[cut:])
            for piece in self.map.pieces(side_u):
                if u not in piece:
                    side_u -= piece
                    side_v |= piece
            for piece in self.map.pieces(side_v):
                if v not in piece:
                    side_v -= piece
                    side_u |= piece
            stack.append((sorted(side_v), workers[k1:]))
            stack.append((sorted(side_u), workers[:k1]))

    def grow(self):
        """Free grids (those `current` left out, or pieces of map without a worker) are taken by region
        growing: the least loaded worker that can grow takes its free neighbour that touches most of its
        grids; a piece of map no worker reaches goes to the least loaded worker with room (heaviest first)."""
        free = {g for g in range(len(self.map.ids)) if self.owner[g] < 0}
        while free:
            heap = [(self.load[w], w) for w in range(self.k) if self.region[w] and len(self.region[w]) < self.limit]
            heapq.heapify(heap)
            while heap and free:
                load, w = heapq.heappop(heap)
                frontier = {h for g in self.region[w] for h in self.map.neighbours[g] if h in free}
                if not frontier:
                    continue
                g = max(frontier, key=lambda h: (sum(self.owner[x] == w for x in self.map.neighbours[h]), -h))
                self.give(g, w)
                free.discard(g)
                if len(self.region[w]) < self.limit:
                    heapq.heappush(heap, (self.load[w], w))
            if free:
                pieces = self.map.pieces(free)
                piece = max(pieces, key=lambda p: (sum(self.map.weight[g] for g in p), -min(p)))
                g = min(piece)
                room = [w for w in range(self.k) if len(self.region[w]) < self.limit]
                w = min(room, key=lambda w: (not any(self.owner[h] == w for h in self.map.neighbours[g]),
                                             self.load[w], w))
                self.give(g, w)
                free.discard(g)

    def shed(self):
        """A worker over `max_grids_per_worker` (after a cut that did not fall evenly) gives boundary grids
        to neighbours with room, the least loaded first, or else to any worker with room."""
        for w in range(self.k):
            while len(self.region[w]) > self.limit:
                options = [(not self._keeps_shape(w, None, g), self.load[y], y, g) for g in sorted(self.region[w])
                           for y in {self.owner[h] for h in self.map.neighbours[g]} - {w}
                           if len(self.region[y]) < self.limit]
                if options:
                    *_, y, g = min(options)
                else:
                    y = min((v for v in range(self.k) if len(self.region[v]) < self.limit),
                            key=lambda v: (self.load[v], v))
                    g = max(self.region[w])
                self.give(g, y)

    def seed_empty_workers(self):
        """A worker without grids takes a peripheral grid (last in breadth-first order, so never a cut grid)
        of the busiest worker that has two grids or more."""
        for w in range(self.k):
            if self.region[w]:
                continue
            donors = [v for v in range(self.k) if len(self.region[v]) >= 2]
            if not donors:
                return
            v = max(donors, key=lambda v: (self.load[v], -v))
            region = self.region[v]
            if self.map.is_connected(region):
                order = self.map.hops([min(region)], region)
                g = max(order, key=lambda g: (order[g], g))
            else:
                g = max(min(self.map.pieces(region), key=lambda p: (len(p), min(p))))
            self.give(g, w)

    def repair(self):
        """A worker whose grids are in several pieces gives its smaller pieces to a neighbouring worker with
        room when that does not raise the largest load."""
        top = max(self.load)
        for w in range(self.k):
            if self.map.is_connected(self.region[w]):
                continue
            pieces = sorted(self.map.pieces(self.region[w]), key=lambda p: (-len(p), min(p)))
            for piece in pieces[1:]:
                weight = sum(self.map.weight[g] for g in piece)
                takers = {self.owner[h] for g in piece for h in self.map.neighbours[g]} - {w}
                takers = [v for v in takers if len(self.region[v]) + len(piece) <= self.limit
                          and self.load[v] + weight <= top + 1e-9]
                if takers:
                    v = min(takers, key=lambda v: (self.load[v], v))
                    for g in sorted(piece):
                        self.give(g, v)

    def _keeps_shape(self, w: int, joining, leaving) -> bool:
        """Whether worker w's grids stay connected (if they were) after taking `joining` and giving `leaving`.
        Remembered until w's grids change: the same questions come back in search after search."""
        memo = self.shapes[w]
        if None not in memo:
            memo[None] = self.map.is_connected(self.region[w])
        if not memo[None]:
            return True
        if (joining, leaving) not in memo:
            after = self.region[w] - {leaving}
            if joining is not None:
                after.add(joining)
            memo[joining, leaving] = bool(after) and self.map.is_connected(after)
        return memo[joining, leaving]

    def improve(self):
        """Chains of moves that take the busiest worker below its load without bringing anyone else up to it,
        then the same for the next busiest, and so on, until no worker has one."""
        failed: dict[int, set[int]] = {}  # worker -> the workers its last fruitless search looked at
        while True:
            top = max(self.load)
            for a in sorted(range(self.k), key=lambda w: (-self.load[w], w)):
                if a in failed:  # nothing it looked at has changed since: it would fail again
                    continue
                chain, seen = self._chain(a, thorough=self.load[a] >= top - 1e-9)
                if not chain:
                    failed[a] = seen
                    continue
                changed = {a} | {w for _, w in chain}
                for g, w in chain:
                    self.give(g, w)
                self.steps += 1
                failed = {b: looked for b, looked in failed.items() if not looked & changed}
                break
            else:
                return

    def _chain(self, a: int, thorough: bool) -> tuple[list[tuple[int, int]] | None, set[int]]:
        """The shortest chain a → x1 → ... → xm (breadth first over (worker, grid received) pairs, no worker
        twice on a chain): every worker passes one boundary grid to the next, every worker on it ends below
        a's load, and nobody's connected set is cut. Returned as (grid, new owner) moves, or None, with the
        workers looked at."""
        weight, eps = self.map.weight, 1e-9
        bound = self.load[a] - eps
        queue = deque([(a, None, None)])  # (worker, grid it receives, the node it came from)
        reached, looked = {(a, None)}, {a}
        while queue:
            node = queue.popleft()
            x, incoming, _ = node
            on_chain, back = set(), node
            while back is not None:
                on_chain.add(back[0])
                back = back[2]
            base = self.load[x] + (weight[incoming] if incoming is not None else 0.0)
            for g in sorted(self.region[x]):
                if base - weight[g] >= bound:
                    continue
                takers = sorted({self.owner[h] for h in self.map.neighbours[g] if h != incoming} - on_chain)
                if not takers or not self._keeps_shape(x, incoming, g):
                    continue
                looked.update(takers)
                for y in takers:
                    if self.load[y] + weight[g] < bound and len(self.region[y]) < self.limit:
                        moves, back = [(g, y)], node
                        while back[1] is not None:
                            moves.append((back[1], back[0]))
                            back = back[2]
                        return moves, looked
                for y in takers:
                    if (y, g if thorough else None) not in reached:
                        reached.add((y, g if thorough else None))
                        queue.append((y, g, node))
        return None, looked
