"""Resource matching (三单制) and grid-worker allocation (gongzhi.duties.matching), pure. Small cases are checked
against brute force: every whole assignment, every split in whole units, every contiguous partition of a small
lattice. bench/bench_matching.py runs `district` at 1,000 × 1,000."""

import datetime as dt
import itertools
import json
import math

import numpy as np
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings, strategies as st

from gongzhi.duties.matching import (Need, Resource, allocate_grid_workers, compatible_pairs, match)


@pytest.fixture(autouse=True)
def _in_english():
    """Matching's messages are lazily translated; these tests match their English wording."""
    with translation.override("en"):
        yield

CENTRE = (116.40, 39.90)  # Dongcheng, Beijing
KM_LON = 1 / (111.32 * math.cos(math.radians(CENTRE[1])))  # degrees of longitude per km, near the centre
KM_LAT = 1 / 110.57
MONDAY = dt.datetime(2026, 12, 7, 8)
SKILLS = [f"skill-{i:02d}" for i in range(20)]


def at(east_km: float, north_km: float) -> tuple[float, float]:
    return CENTRE[0] + east_km * KM_LON, CENTRE[1] + north_km * KM_LAT


def hours(start: float, end: float) -> tuple[dt.datetime, dt.datetime]:
    return MONDAY + dt.timedelta(hours=start), MONDAY + dt.timedelta(hours=end)


def haversine_km(p, q) -> float:
    """Great-circle distance, written apart from the module's (which is org.spatial's tangent plane)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*p, *q))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def can_serve(need: Need, resource: Resource, slack_km: float = 0.005) -> bool:
    """The compatibility rule, written out pair by pair from the module doc. Distances may exceed a limit by
    `slack_km`: this haversine and the module's tangent plane differ by up to 0.3 % (sphere against
    ellipsoid); `small_case` keeps every pair out of that band."""
    if need.unit != resource.unit or not need.requires <= resource.offers:
        return False
    if resource.grids is not None and need.grid not in resource.grids:
        return False
    if need.window is not None and resource.windows:
        start, end = need.window
        if not any(s < end and start < e for s, e in resource.windows):
            return False
    if need.point is not None and resource.point is not None:
        limits = [x for x in (need.max_distance_km, resource.max_distance_km) if x is not None]
        if limits and haversine_km(need.point, resource.point) > min(limits) + slack_km:
            return False
    return True


def small_case(seed: int, n_needs: int = 5, n_resources: int = 4, max_quantity: int = 3):
    """A few needs and resources in a 4 km square: three skills, whole quantities, windows on one morning,
    distance limits around 2 km, a fund in yuan now and then. Pairs within 5 m of a distance limit are
    moved away from it, so the test's haversine and the module's distance cannot disagree."""
    rng = np.random.default_rng(seed)
    skills = ["repair", "care", "tutor"]
    needs, resources = [], []
    for i in range(n_needs):
        fund = rng.random() < 0.15
        needs.append(Need(
            f"n{i}", {"fund"} if fund else {str(s) for s in rng.choice(skills, int(rng.integers(0, 3)), replace=False)},
            int(rng.integers(1, max_quantity + 1)) * (100 if fund else 1), urgency=int(rng.integers(1, 5)),
            unit="yuan" if fund else "hour", point=at(*rng.uniform(-2, 2, 2)),
            window=None if rng.random() < 0.4 else hours(int(rng.integers(0, 4)), int(rng.integers(4, 8))),
            max_distance_km=None if rng.random() < 0.5 else float(rng.uniform(1, 3))))
    for j in range(n_resources):
        fund = rng.random() < 0.15
        windows = [] if rng.random() < 0.4 else [hours(s, s + int(rng.integers(1, 4)))
                                                 for s in rng.integers(0, 7, int(rng.integers(1, 3))).tolist()]
        resources.append(Resource(
            f"r{j}", {"fund"} if fund else {str(s) for s in rng.choice(skills, int(rng.integers(1, 4)), replace=False)},
            int(rng.integers(0, 6)) * (100 if fund else 1), unit="yuan" if fund else "hour",
            point=None if fund else at(*rng.uniform(-2, 2, 2)), windows=windows,
            max_distance_km=None if rng.random() < 0.3 else float(rng.uniform(1.5, 3))))
    for i, need in enumerate(needs):
        for resource in resources:
            limits = [x for x in (need.max_distance_km, resource.max_distance_km) if x is not None]
            if need.point and resource.point and limits:
                if abs(haversine_km(need.point, resource.point) - min(limits)) < 0.005:
                    return small_case(seed + 10_000, n_needs, n_resources, max_quantity)
    return needs, resources


def district(seed: int, n_needs: int, n_resources: int, *, side_km: float = 10.0):
    """A district of `side_km` square: 20 skills of uneven popularity; needs ask for 1 skill (2 for one in
    five), 2-16 hours, urgency 1-5 (most of them low), a 4-hour slot in the next fortnight for 70 % of them
    and a 3 km limit for half; resources offer 1-3 skills, 4-40 hours, 1-3 slots of 4-12 hours (30 % any
    time), travel 2-5 km, from one of 100 units. One in ten of each is money (yuan, no place)."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, len(SKILLS) + 1) ** 0.6
    popularity /= popularity.sum()
    half = side_km / 2
    needs, resources = [], []
    for i in range(n_needs):
        if rng.random() < 0.1:
            needs.append(Need(i, {"fund"}, int(rng.integers(5, 50)) * 100, urgency=int(rng.integers(1, 6)),
                              unit="yuan", point=at(*rng.uniform(-half, half, 2))))
            continue
        day, hour = int(rng.integers(14)), int(rng.integers(0, 10))
        needs.append(Need(
            i, {str(s) for s in rng.choice(SKILLS, 1 if rng.random() < 0.8 else 2, replace=False, p=popularity)},
            int(rng.integers(2, 17)), urgency=int(rng.choice([1, 2, 3, 4, 5], p=[0.3, 0.3, 0.2, 0.12, 0.08])),
            point=at(*rng.uniform(-half, half, 2)),
            window=hours(24 * day + hour, 24 * day + hour + 4) if rng.random() < 0.7 else None,
            max_distance_km=3.0 if rng.random() < 0.5 else None))
    for j in range(n_resources):
        if rng.random() < 0.1:
            resources.append(Resource(j, {"fund"}, int(rng.integers(10, 200)) * 100, unit="yuan", owner=j % 100))
            continue
        windows = []
        if rng.random() < 0.7:
            for _ in range(int(rng.integers(1, 4))):
                start = 24 * int(rng.integers(14)) + int(rng.integers(0, 10))
                windows.append(hours(start, start + int(rng.integers(4, 13))))
        resources.append(Resource(
            j, {str(s) for s in rng.choice(SKILLS, int(rng.integers(1, 4)), replace=False, p=popularity)},
            int(rng.integers(4, 41)), point=at(*rng.uniform(-half, half, 2)), windows=windows,
            max_distance_km=float(rng.uniform(2, 5)), owner=j % 100))
    return needs, resources


def brute_force_whole(needs, resources) -> float:
    """The best Σ urgency × quantity over every way of giving each need one compatible resource or none."""
    choices = [[None] + [j for j, r in enumerate(resources) if can_serve(x, r) and x.quantity <= r.capacity]
               for x in needs]
    best = 0.0
    for pick in itertools.product(*choices):
        used = [0.0] * len(resources)
        for x, j in zip(needs, pick):
            if j is not None:
                used[j] += x.quantity
        if all(u <= r.capacity for u, r in zip(used, resources)):
            best = max(best, sum(x.urgency * x.quantity for x, j in zip(needs, pick) if j is not None))
    return best


def brute_force_split(needs, resources, bonus: float = 0.0) -> float:
    """The best objective over every split in whole units: resource by resource, every way of sharing its
    capacity among the needs it can serve, keeping the best value for each vector of amounts still wanted."""
    best = {tuple(int(x.quantity) for x in needs): 0.0}
    for r in resources:
        mine = [i for i, x in enumerate(needs) if can_serve(x, r)]
        after: dict[tuple, float] = {}
        for wanted, value in best.items():
            for give in itertools.product(*[range(wanted[i] + 1) for i in mine]):
                if sum(give) > r.capacity:
                    continue
                left = list(wanted)
                for i, g in zip(mine, give):
                    left[i] -= g
                gained = value + sum(needs[i].urgency * g for i, g in zip(mine, give))
                key = tuple(left)
                if gained > after.get(key, -1.0):
                    after[key] = gained
        best = after
    return max(value + bonus * sum(x.urgency * x.quantity for x, left in zip(needs, wanted) if left == 0)
               for wanted, value in best.items())


def check_feasible(matching, needs, resources):
    by_need = {x.id: x for x in needs}
    by_resource = {r.id: r for r in resources}
    given_out = {r.id: 0.0 for r in resources}
    received = {x.id: 0.0 for x in needs}
    for need, resource, quantity in matching.assignments:
        assert quantity > 0
        assert can_serve(by_need[need], by_resource[resource]), (need, resource)
        given_out[resource] += quantity
        received[need] += quantity
    for r in resources:
        assert given_out[r.id] <= r.capacity + 1e-6, r.id
    for x in needs:
        assert received[x.id] <= x.quantity + 1e-6
        assert matching.served[x.id] == pytest.approx(received[x.id])
    short = {u.need for u in matching.unserved}
    assert short == {x.id for x in needs if received[x.id] < x.quantity - 1e-6}


# --- matching: optimality -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_whole_assignment_is_as_good_as_every_assignment_tried_one_by_one(seed):
    needs, resources = small_case(seed)
    matching = match(needs, resources, whole=True)
    check_feasible(matching, needs, resources)
    assert matching.status == "optimal"
    assert matching.objective == pytest.approx(brute_force_whole(needs, resources))
    for need, resource, quantity in matching.assignments:  # whole: one resource, all of it
        assert quantity == next(x.quantity for x in needs if x.id == need)
    assert len({a.need for a in matching.assignments}) == len(matching.assignments)


def test_both_whole_assignment_solvers_are_exercised_and_agree_with_brute_force():
    """A resource that can hold one need at a time is a bipartite assignment (linear_sum_assignment); one
    that holds several is a generalised assignment (MILP)."""
    one_each = ([Need(i, {"care"}, 3, urgency=u) for i, u in enumerate([1, 4, 2, 3])],
                [Resource(j, {"care"}, c) for j, c in enumerate([5, 3, 4])])
    several = ([Need(i, {"care"}, q, urgency=u) for i, (q, u) in enumerate([(2, 1), (2, 4), (3, 2), (1, 3)])],
               [Resource(j, {"care"}, c) for j, c in enumerate([4, 3])])
    for (needs, resources), solver in ((one_each, "linear_sum_assignment"), (several, "highs-milp")):
        matching = match(needs, resources, whole=True)
        assert matching.solver == solver
        assert matching.objective == pytest.approx(brute_force_whole(needs, resources))
    assert match(*one_each, whole=True).served == {0: 0, 1: 3, 2: 3, 3: 3}


@pytest.mark.parametrize("seed", range(30))
def test_split_service_is_as_good_as_every_split_in_whole_units(seed):
    needs, resources = small_case(seed, max_quantity=2)
    needs = [x for x in needs if x.unit == "hour"]  # amounts in yuan would make the brute force too long
    matching = match(needs, resources)
    check_feasible(matching, needs, resources)
    assert matching.status == "optimal" and matching.solver in ("highs-lp", "none")
    assert matching.objective == pytest.approx(brute_force_split(needs, resources))


@pytest.mark.parametrize("seed", range(15))
def test_completion_bonus_is_as_good_as_every_split_with_the_bonus(seed):
    needs, resources = small_case(seed + 500, max_quantity=2)
    needs = [x for x in needs if x.unit == "hour"]
    matching = match(needs, resources, complete_bonus=0.5)
    check_feasible(matching, needs, resources)
    assert matching.objective == pytest.approx(brute_force_split(needs, resources, bonus=0.5))


def test_completion_bonus_finishes_one_need_instead_of_half_serving_two():
    needs = [Need("paint", {"paint"}, 4, urgency=2), Need("fence", {"paint"}, 4, urgency=2)]
    resources = [Resource("volunteer", {"paint"}, 4)]
    bonus = match(needs, resources, complete_bonus=0.5)
    assert sorted(bonus.served.values()) == [0, 4]
    assert bonus.objective == pytest.approx(2 * 4 * 1.5) and bonus.solver == "highs-milp"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_split_service_in_a_district_is_whole_numbered_within_capacities_and_compatible(seed):
    needs, resources = district(seed, 120, 100, side_km=4.0)
    matching = match(needs, resources)
    check_feasible(matching, needs, resources)
    assert all(float(q).is_integer() for _, _, q in matching.assignments)  # totally unimodular
    assert matching.compatible_pairs == len(compatible_pairs(needs, resources).need)


def test_split_service_at_a_larger_size_matches_an_independent_lp():
    """The objective equals HiGHS' interior-point answer to the same LP built densely, without the tie-break."""
    from scipy.optimize import linprog

    needs, resources = district(7, 150, 120, side_km=5.0)
    ok = np.array([[can_serve(x, r) for r in resources] for x in needs])
    pairs = np.argwhere(ok)
    a = np.zeros((len(needs) + len(resources), len(pairs)))
    a[pairs[:, 0], np.arange(len(pairs))] = 1
    a[len(needs) + pairs[:, 1], np.arange(len(pairs))] = 1
    lp = linprog(-np.array([needs[i].urgency for i in pairs[:, 0]], dtype=float), A_ub=a,
                 b_ub=[x.quantity for x in needs] + [r.capacity for r in resources], method="highs-ipm")
    assert match(needs, resources).objective == pytest.approx(-lp.fun, rel=1e-7)


# --- matching: the rules -----------------------------------------------------------------------------------

def test_the_more_urgent_need_wins_a_contested_resource():
    needs = [Need("leaking roof", {"repair"}, 3, urgency=1), Need("no heating", {"repair"}, 3, urgency=5)]
    resources = [Resource("plumber", {"repair", "care"}, 3)]
    for whole in (False, True):
        matching = match(needs, resources, whole=whole)
        assert matching.assignments == [("no heating", "plumber", 3)]
        (short,) = matching.unserved
        assert short.need == "leaking roof" and short.reason == "capacity_taken"
        assert short.taken_by == ["no heating"] and short.by_more_urgent
        assert "更紧急" in short.message_zh and "at least as urgent" in short.message_en


def test_whole_assignment_values_a_need_by_urgency_times_quantity_and_says_so():
    """A large need of low urgency can outweigh a small urgent one when needs cannot be split."""
    needs = [Need("small urgent", {"care"}, 1, urgency=3), Need("large", {"care"}, 5, urgency=1)]
    matching = match(needs, [Resource("r", {"care"}, 5)], whole=True)
    assert matching.served == {"small urgent": 0, "large": 5} and matching.objective == 5
    (short,) = matching.unserved
    assert short.taken_by == ["large"] and not short.by_more_urgent and "more total value" in short.message_en
    assert match(needs, [Resource("r", {"care"}, 5)]).served == {"small urgent": 1, "large": 4}


def test_split_service_shares_a_resource_by_urgency_then_fills_the_rest():
    needs = [Need("a", {"care"}, 4, urgency=1), Need("b", {"care"}, 4, urgency=3), Need("c", {"care"}, 4, urgency=2)]
    matching = match(needs, [Resource("r", {"care"}, 6)])
    assert matching.served == {"a": 0, "b": 4, "c": 2}
    assert [(u.need, u.served, u.reason) for u in matching.unserved] == [("a", 0, "capacity_taken"),
                                                                         ("c", 2, "capacity_taken")]
    assert matching.unserved[1].message_en.startswith("served 2 of 4 hour;")


def test_a_need_is_split_across_resources_each_within_its_capacity():
    matching = match([Need("move", {"lift"}, 10)],
                     [Resource("r1", {"lift"}, 4), Resource("r2", {"lift"}, 3), Resource("r3", {"lift"}, 5)])
    assert matching.served == {"move": 10} and not matching.unserved
    capacity = {"r1": 4, "r2": 3, "r3": 5}
    assert len(matching.assignments) >= 2 and all(q <= capacity[r] for _, r, q in matching.assignments)
    whole = match([Need("move", {"lift"}, 10)], [Resource("r1", {"lift"}, 4), Resource("r3", {"lift"}, 5)],
                  whole=True)
    assert whole.served == {"move": 0} and whole.unserved[0].reason == "no_resource_large_enough"
    assert whole.unserved[0].funnel["capacity"] == 0 and "容量都不足10" in whole.unserved[0].message_zh


def test_a_resource_must_offer_everything_the_need_requires_in_the_same_unit():
    needs = [Need("ramp", {"carpentry", "welding"}, 2), Need("grant", {"fund"}, 500, unit="yuan")]
    resources = [Resource("carpenter", {"carpentry"}, 10), Resource("workshop", {"carpentry", "welding", "paint"}, 1),
                 Resource("fund in hours", {"fund"}, 1000), Resource("unit fund", {"fund"}, 300, unit="yuan")]
    matching = match(needs, resources)
    assert sorted(matching.assignments) == [("grant", "unit fund", 300), ("ramp", "workshop", 1)]


def test_time_windows_must_overlap_by_a_positive_length():
    need = Need("visit", {"care"}, 2, window=hours(9, 11))
    resources = [Resource("morning", {"care"}, 5, windows=[hours(6, 9)]),  # ends as the need starts
                 Resource("evening", {"care"}, 5, windows=[hours(18, 20), hours(11, 13)]),
                 Resource("late morning", {"care"}, 1, windows=[hours(6, 7), hours(10, 12)]),
                 Resource("any time", {"care"}, 5)]
    pairs = compatible_pairs([need], resources)
    assert [resources[j].id for j in pairs.resource] == ["late morning", "any time"]
    matching = match([Need("visit", {"care"}, 2, window=hours(9, 11), urgency=1)], resources[:3])
    assert matching.served == {"visit": 1}
    unserved = match([need], resources[:2]).unserved[0]
    assert unserved.reason == "no_compatible_resource" and unserved.funnel == {"offers": 2, "grid": 2, "time": 0,
                                                                              "distance": 0}
    assert "时间" in unserved.message_zh and "time window" in unserved.message_en


def test_windows_may_be_numbers_or_dates():
    assert compatible_pairs([Need("n", set(), 1, window=(0, 10))],
                            [Resource("r", set(), 1, windows=[(10, 20)])]).count.tolist() == [0]
    assert compatible_pairs([Need("n", set(), 1, window=(dt.date(2026, 12, 7), dt.date(2026, 12, 8)))],
                            [Resource("r", set(), 1, windows=[hours(10, 20)])]).count.tolist() == [1]


def test_distance_is_within_the_smaller_limit_and_a_resource_without_a_place_is_not_bound():
    need = Need("escort", {"care"}, 1, point=at(0, 0), max_distance_km=3)
    resources = [Resource("2 km away, goes 5", {"care"}, 1, point=at(2, 0), max_distance_km=5),
                 Resource("2 km away, goes 1", {"care"}, 1, point=at(0, 2), max_distance_km=1),
                 Resource("4 km away, no limit", {"care"}, 1, point=at(0, -4)),
                 Resource("by phone", {"care"}, 1, max_distance_km=0.5)]
    pairs = compatible_pairs([need], resources)
    assert [resources[j].id for j in pairs.resource] == ["2 km away, goes 5", "by phone"]
    assert pairs.distance_km[0] == pytest.approx(2.0, rel=5e-3)
    short = match([need], resources[1:3]).unserved[0]
    assert short.funnel["time"] == 2 and short.funnel["distance"] == 0 and "distance" in short.message_en


def test_a_resource_limited_to_grids_serves_only_needs_in_them():
    needs = [Need("in", {"care"}, 1, grid="G1"), Need("out", {"care"}, 1, grid="G2"), Need("nowhere", {"care"}, 1)]
    matching = match(needs, [Resource("grid worker", {"care"}, 3, grids={"G1"})])
    assert matching.served == {"in": 1, "out": 0, "nowhere": 0}
    assert {u.need: u.funnel["grid"] for u in matching.unserved} == {"out": 0, "nowhere": 0}
    assert "G2" in matching.unserved[0].message_zh


def test_among_equally_good_matchings_the_nearest_resource_serves():
    need = Need("n", {"care"}, 2, point=at(0, 0))
    far, near = Resource("far", {"care"}, 2, point=at(3, 0)), Resource("near", {"care"}, 2, point=at(1, 0))
    assert match([need], [far, near]).assignments == [("n", "near", 2)]
    assert match([need], [near, far]).assignments == [("n", "near", 2)]


def test_no_compatible_resource_is_explained_by_the_first_check_that_fails():
    matching = match([Need("choir", {"music"}, 2), Need("hall", {"venue"}, 1, unit="day")],
                     [Resource("tutor", {"maths"}, 4)])
    assert [u.reason for u in matching.unserved] == ["no_compatible_resource"] * 2
    assert matching.unserved[0].funnel == {"offers": 0, "grid": 0, "time": 0, "distance": 0}
    assert matching.unserved[0].message_en == "no resource offers music in hour"
    assert matching.unserved[1].message_zh == "没有资源提供venue（单位：day）"


def test_output_is_deterministic_and_json_ready():
    needs, resources = district(3, 200, 150)
    first, second = match(needs, resources).to_dict(), match(list(needs), list(resources)).to_dict()
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    json.dumps(first, ensure_ascii=False)
    assert first["status"] == "optimal" and first["compatible_pairs"] > 0
    whole_a, whole_b = match(needs, resources, whole=True).to_dict(), match(needs, resources, whole=True).to_dict()
    whole_a.pop("seconds"), whole_b.pop("seconds")
    assert whole_a == whole_b


@pytest.mark.parametrize("options", [{}, {"whole": True}, {"complete_bonus": 0.5}])
def test_a_solver_stopped_at_its_time_limit_still_gives_a_feasible_matching_and_says_so(options):
    needs, resources = district(1, 300, 200)
    matching = match(needs, resources, time_limit=1e-6, **options)
    assert matching.status == "time_limit" and matching.gap > 0
    check_feasible(matching, needs, resources)
    assert all("time limit" in u.message_en and "时间上限" in u.message_zh for u in matching.unserved)


def test_nothing_to_match_gives_an_empty_matching():
    assert match([], []).objective == 0
    matching = match([Need("n", {"care"}, 1)], [Resource("r", {"care"}, 0)])
    assert matching.assignments == [] and matching.solver == "none"
    assert matching.unserved[0].reason == "no_capacity" and matching.unserved[0].taken_by == []
    assert matching.unserved[0].message_en == "1 resource offers care, none has any capacity"


@pytest.mark.parametrize("make, message", [
    (lambda: Resource("r", {"care"}, -1), "capacity must be a finite number ≥ 0"),
    (lambda: Need("n", {"care"}, 0), "quantity must be a finite number > 0"),
    (lambda: Need("n", {"care"}, 1, urgency=0), "urgency must be a finite number > 0"),
    (lambda: Need("n", {"care"}, float("nan")), "quantity must be a finite number"),
    (lambda: Need("n", {"care"}, 1, window=hours(3, 3)), "window must end after it starts"),
    (lambda: Need("n", {"care"}, 1, window=("monday", "tuesday")), "must be a datetime, a date or a finite number"),
    (lambda: Resource("r", {"care"}, 1, point=(200, 40)), "longitude must be a finite number"),
    (lambda: Resource("r", {"care"}, 1, max_distance_km=-2), "max_distance_km must be a finite number ≥ 0"),
    (lambda: Need("n", {1, 2}, 1), "requires must be a set of strings"),
    (lambda: match([Need("n", set(), 1), Need("n", set(), 2)], []), "need id 'n' appears more than once"),
    (lambda: match([], [Resource("r", set(), 1), Resource("r", set(), 1)]), "resource id 'r' appears more"),
    (lambda: match([Need("n", set(), 1)], [], whole=True, complete_bonus=1), "complete_bonus applies to split"),
    (lambda: match([("n", 1)], []), "needs must be Need objects"),
])
def test_bad_input_is_a_value_error_saying_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_single_skill_may_be_given_as_a_string():
    assert Need("n", "first aid", 1).requires == frozenset({"first aid"})


# --- grid-worker allocation -------------------------------------------------------------------------------

def lattice(rows: int, cols: int) -> dict[int, set[int]]:
    return {r * cols + c: {(r + dr) * cols + c + dc for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                           if 0 <= r + dr < rows and 0 <= c + dc < cols}
            for r in range(rows) for c in range(cols)}


def workloads(seed: int, grids, sigma: float = 0.5) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    return {g: round(float(10 * np.exp(rng.normal(0, sigma))), 1) for g in grids}


def connected(cells: set, adjacency) -> bool:
    if not cells:
        return True
    start = next(iter(cells))
    seen, stack = {start}, [start]
    while stack:
        for h in adjacency[stack.pop()]:
            if h in cells and h not in seen:
                seen.add(h)
                stack.append(h)
    return seen == cells


def check_partition(allocation, grids, adjacency):
    assigned = [g for held in allocation.grids.values() for g in held]
    assert sorted(assigned) == sorted(grids)  # every grid exactly once
    for worker, held in allocation.grids.items():
        assert allocation.load[worker] == pytest.approx(sum(grids[g] for g in held))
        assert allocation.is_contiguous[worker] == connected(set(held), adjacency)
    assert allocation.max_load == pytest.approx(max(allocation.load.values()))
    assert allocation.lower_bound == pytest.approx(max(sum(grids.values()) / len(allocation.grids),
                                                       max(grids.values())))


@pytest.mark.parametrize("rows, cols, workers, sigma", [(20, 10, 40, 0.5), (20, 10, 40, 1.0), (10, 10, 7, 0.5),
                                                       (12, 15, 9, 0.8), (30, 30, 60, 0.5)])
@pytest.mark.parametrize("seed", range(3))
def test_allocation_on_a_lattice_is_contiguous_complete_and_close_to_the_lower_bound(rows, cols, workers, sigma,
                                                                                    seed):
    adjacency = lattice(rows, cols)
    grids = workloads(seed, adjacency, sigma)
    allocation = allocate_grid_workers(grids, adjacency, [f"worker {i}" for i in range(workers)])
    check_partition(allocation, grids, adjacency)
    assert all(allocation.is_contiguous.values())
    assert allocation.max_load <= 1.12 * allocation.lower_bound


def test_equal_grids_are_shared_as_evenly_as_whole_grids_allow():
    adjacency = lattice(10, 10)
    allocation = allocate_grid_workers({g: 1 for g in adjacency}, adjacency, list("ABCDEFG"))
    assert sorted(len(held) for held in allocation.grids.values()) == [14, 14, 14, 14, 14, 15, 15]
    assert allocation.max_load == 15 and allocation.spread == 1 and all(allocation.is_contiguous.values())


def brute_force_max_load(grids, adjacency, k: int) -> float:
    best = math.inf
    ids = list(grids)
    for owners in itertools.product(range(k), repeat=len(ids)):
        if owners[0] != 0:  # workers are interchangeable
            continue
        sets = [{g for g, o in zip(ids, owners) if o == w} for w in range(k)]
        if all(connected(s, adjacency) for s in sets):
            best = min(best, max(sum(grids[g] for g in s) for s in sets))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_allocation_of_a_small_lattice_is_near_the_best_contiguous_partition(seed):
    adjacency = lattice(3, 3)
    grids = workloads(seed, adjacency, sigma=0.7)
    allocation = allocate_grid_workers(grids, adjacency, ["A", "B", "C"])
    check_partition(allocation, grids, adjacency)
    best = brute_force_max_load(grids, adjacency, 3)
    assert best <= allocation.max_load + 1e-9 <= 1.15 * best


def test_allocation_is_deterministic():
    adjacency = lattice(15, 12)
    grids = workloads(4, adjacency, 0.8)
    a = allocate_grid_workers(grids, adjacency, [f"w{i}" for i in range(20)]).to_dict()
    b = allocate_grid_workers(dict(grids), {g: set(n) for g, n in adjacency.items()}, [f"w{i}" for i in range(20)])
    a.pop("seconds")
    b = b.to_dict()
    b.pop("seconds")
    assert a == b


def test_a_new_worker_takes_grids_from_busy_neighbours_and_most_grids_keep_their_worker():
    adjacency = lattice(10, 10)
    grids = workloads(1, adjacency)
    before = allocate_grid_workers(grids, adjacency, list("ABCDEFG"))
    current = {w: list(held) for w, held in before.grids.items()}
    left_out = current["A"].pop()  # a grid nobody holds now
    after = allocate_grid_workers(grids, adjacency, list("ABCDEFGH"), current=current)
    check_partition(after, grids, adjacency)
    assert all(after.is_contiguous.values()) and after.grids["H"]
    assert left_out in [g for held in after.grids.values() for g in held]
    kept = sum(g in before.grids[w] for w in "ABCDEFG" for g in after.grids[w])
    assert kept >= 0.7 * len(grids)
    assert after.max_load < before.max_load and after.max_load <= 1.12 * after.lower_bound


def test_a_balanced_current_allocation_is_left_alone():
    adjacency = lattice(4, 4)
    current = {"A": [0, 1, 4, 5], "B": [2, 3, 6, 7], "C": [8, 9, 12, 13], "D": [10, 11, 14, 15]}
    allocation = allocate_grid_workers({g: 2 for g in adjacency}, adjacency, list("ABCD"), current=current)
    assert allocation.grids == current and allocation.steps == 0


def test_separate_pieces_of_map_get_their_own_workers_and_islands_are_reported_not_contiguous():
    adjacency = {**lattice(6, 6), **{100 + g: {100 + h for h in near} for g, near in lattice(3, 3).items()}}
    grids = {g: 4.0 for g in adjacency}
    allocation = allocate_grid_workers(grids, adjacency, list("ABCDE"))
    check_partition(allocation, grids, adjacency)
    assert all(allocation.is_contiguous.values())
    assert sum(all(g >= 100 for g in held) for held in allocation.grids.values()) == 1  # 36 + 9 grids, 4 + 1
    islands = {**adjacency, 200: set(), 201: set(), 202: set()}
    grids = {g: 4.0 for g in islands}
    allocation = allocate_grid_workers(grids, islands, ["A", "B"])
    check_partition(allocation, grids, islands)
    assert not all(allocation.is_contiguous.values())  # 5 pieces of map, 2 workers


def test_max_grids_per_worker_is_respected():
    adjacency = lattice(10, 10)
    for seed in range(4):
        grids = workloads(seed, adjacency, sigma=1.0)
        allocation = allocate_grid_workers(grids, adjacency, [f"w{i}" for i in range(11)], max_grids_per_worker=10)
        check_partition(allocation, grids, adjacency)
        assert max(len(held) for held in allocation.grids.values()) <= 10


def test_more_workers_than_grids_leaves_some_without_grids():
    allocation = allocate_grid_workers({"g1": 3, "g2": 4}, {"g1": {"g2"}}, ["A", "B", "C"])
    assert sorted(map(len, allocation.grids.values())) == [0, 1, 1]
    assert allocation.max_load == 4 and allocation.lower_bound == 4


@pytest.mark.parametrize("call, message", [
    (lambda: allocate_grid_workers({1: 1}, {}, []), "there are no grid workers"),
    (lambda: allocate_grid_workers({1: 1}, {1: {2}}, ["A"]), "lists 2 as a neighbour of 1, but it is not among"),
    (lambda: allocate_grid_workers({1: 1}, {3: set()}, ["A"]), "adjacency names grid 3"),
    (lambda: allocate_grid_workers({1: -1}, {}, ["A"]), "workload of grid 1 must be a finite number ≥ 0"),
    (lambda: allocate_grid_workers({1: 1}, {}, ["A", "A"]), "grid worker 'A' appears more than once"),
    (lambda: allocate_grid_workers({1: 1, 2: 1}, {}, ["A"], max_grids_per_worker=1), "cannot cover 2 grids"),
    (lambda: allocate_grid_workers({1: 1}, {}, ["A"], max_grids_per_worker=0), "max_grids_per_worker must be"),
    (lambda: allocate_grid_workers({1: 1}, {}, ["A"], current={"B": [1]}), "names worker 'B'"),
    (lambda: allocate_grid_workers({1: 1}, {}, ["A"], current={"A": [9]}), "gives worker 'A' grid 9"),
    (lambda: allocate_grid_workers({1: 1}, {}, ["A", "B"], current={"A": [1], "B": [1]}), "grid 1 to two workers"),
])
def test_bad_allocation_input_is_a_value_error_saying_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()
