"""Hot spots on synthetic grid lattices with planted clusters, the heat of an issue, and the warning rules.
No database. bench/bench_hotspots.py runs the same synthetic fields over many seeds and at full size."""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy import sparse

from gongzhi.insight import hotspots
from gongzhi.insight.hotspots import (analyse, benjamini_hochberg, find_hot_spots, gi_star, heat_index,
                                      neighbour_matrix, repeated_reopen, rising_weeks)

LAST_WEEK = dt.date(2026, 11, 23)  # a Monday


def lattice_adjacency(rows: int, cols: int, queen: bool = False) -> list[list[int]]:
    """Neighbours of each cell of a rows × cols lattice, numbered row by row: edge-sharing (rook) cells,
    plus corner-sharing ones with `queen`."""
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if queen else [])
    return [[(r + dr) * cols + c + dc for dr, dc in steps if 0 <= r + dr < rows and 0 <= c + dc < cols]
            for r in range(rows) for c in range(cols)]


def weekly_starts(periods: int, last: dt.date = LAST_WEEK) -> list[dt.date]:
    return [last - dt.timedelta(weeks=periods - 1 - t) for t in range(periods)]


def synthetic_field(seed: int, *, rows: int = 20, cols: int = 20, periods: int = 104, categories: int = 1,
                    level: float = 5.0, spread: float = 0.5, season: float = 0.3, clusters: int = 0,
                    size: int = 5, factor: float = 3.0, planted_periods: int = 3, overdispersion: float = 0.0):
    """Weekly counts (categories, cells, periods) on a rook lattice: each cell's level is lognormal around
    `level` per week (σ = `spread`), times a yearly season of ±`season` with its own phase per category,
    times gamma noise of variance `overdispersion` per cell and week (0: pure Poisson). `clusters` sets
    of `size` connected cells, each grown at random from a seed cell in one category, have their rate
    multiplied by `factor` in the last `planted_periods` weeks. Returns counts, adjacency, period starts
    and the planted (category, cell) pairs."""
    rng = np.random.default_rng(seed)
    n_cells = rows * cols
    adjacency = lattice_adjacency(rows, cols)
    starts = weekly_starts(periods)
    week = np.array([day.isocalendar().week for day in starts])
    levels = level * np.exp(rng.normal(0.0, spread, (categories, n_cells)))
    phase = rng.uniform(0, 2 * np.pi, categories)
    yearly = 1 + season * np.sin(2 * np.pi * week[None, :] / 52 + phase[:, None])
    rate = levels[:, :, None] * yearly[:, None, :]
    planted: set[tuple[int, int]] = set()
    for _ in range(clusters):
        category = int(rng.integers(categories))
        while True:
            members = [int(rng.integers(n_cells))]
            while len(members) < size:
                frontier = sorted({j for i in members for j in adjacency[i]} - set(members))
                members.append(int(rng.choice(frontier)))
            if not any((category, m) in planted for m in members):
                break
        for m in members:
            planted.add((category, m))
            rate[category, m, -planted_periods:] *= factor
    if overdispersion:
        shape = 1 / overdispersion
        rate = rate * rng.gamma(shape, 1 / shape, rate.shape)
    return rng.poisson(rate), adjacency, starts, planted


def hot_pairs(analysis) -> set[tuple[int, int]]:
    return {(int(k), int(i)) for k, i in zip(*np.nonzero(analysis.is_hot))}


# --- finding planted clusters ----------------------------------------------------------------------

def test_planted_clusters_are_found_with_recall_above_90_percent_and_few_false_discoveries():
    # Two clusters of 5 adjacent cells, rate ×3 for 3 weeks, baseline about 5 a week, tested over 3 weeks.
    found = planted_total = 0
    false_shares = []
    for seed in range(10):
        counts, adjacency, _, planted = synthetic_field(seed, clusters=2)
        hot = hot_pairs(analyse(counts, adjacency, window=3))
        found += len(hot & planted)
        planted_total += len(planted)
        false_shares.append(len(hot - planted) / max(len(hot), 1))
    assert found / planted_total >= 0.9
    # 10 seeds estimate the FDR roughly; the benchmark holds it to q = 0.05 over 200 seeds.
    assert np.mean(false_shares) <= 0.1


@pytest.mark.parametrize("overdispersion", [0.0, 0.2])
def test_a_field_without_clusters_rarely_raises_any_alarm(overdispersion):
    # Under the global null BH bounds the chance of any alarm by q = 0.05; allow noise over 40 runs.
    alarms = sum(bool(analyse(synthetic_field(100 + seed, overdispersion=overdispersion)[0],
                              lattice_adjacency(20, 20)).is_hot.any()) for seed in range(40))
    assert alarms <= 4


def test_a_lone_spike_is_a_hot_spot_and_its_quiet_neighbours_are_not():
    counts, adjacency, _, _ = synthetic_field(7)
    spike = 210  # row 10, column 10
    counts[0, spike, -1] = 30  # about six times its usual week
    analysis = analyse(counts, adjacency)
    assert analysis.is_hot[0, spike]
    assert not any(analysis.is_hot[0, j] for j in adjacency[spike])


def test_a_rise_of_the_whole_category_everywhere_is_not_a_hot_spot():
    counts, adjacency, _, _ = synthetic_field(8)
    rng = np.random.default_rng(8)
    counts[0, :, -1] = rng.poisson(2 * counts[0, :, :-1].mean(axis=1))
    assert counts[0, :, -1].sum() > 1.8 * counts[0, :, -2].sum()
    assert not analyse(counts, adjacency).is_hot.any()


def test_a_grid_with_no_history_expects_a_little_and_is_not_hot_for_its_first_demand():
    counts, adjacency, _, _ = synthetic_field(9, level=1.0)
    counts[0, 55, :] = 0
    counts[0, 55, -1] = 1
    analysis = analyse(counts, adjacency)
    city_rate = counts[0, :, :-1].mean()
    assert 0 < analysis.expected[0, 55] < city_rate  # shrunk towards the city, never to 0
    assert not analysis.is_hot[0, 55]


def test_expected_counts_follow_each_cells_level_and_the_citys_level_in_the_tested_week():
    counts, adjacency, _, _ = synthetic_field(10, spread=1.0, season=0.5)
    analysis = analyse(counts, adjacency)
    recent_mean = counts[0, :, -27:-1].mean(axis=1)
    assert np.corrcoef(analysis.expected[0], recent_mean)[0, 1] > 0.95
    assert analysis.expected[0].sum() == pytest.approx(counts[0, :, -1].sum(), rel=0.05)


# --- hot spots in words, since when --------------------------------------------------------------

def planted_field(seed: int, cells: list[int], weeks: int, factor: float = 5.0):
    """A field without clusters, then `cells` set to `factor` times their usual week for the last `weeks`."""
    counts, adjacency, starts, _ = synthetic_field(seed)
    for cell in cells:
        counts[0, cell, -weeks:] = round(factor * counts[0, cell, :-weeks].mean())
    return counts, adjacency, starts


def test_a_hot_spot_says_where_what_how_much_and_since_when_in_chinese_and_english():
    cells = [210, 211, 230]
    counts, adjacency, starts = planted_field(11, cells, weeks=3)
    names = [f"第{i}网格" for i in range(400)]
    spots = find_hot_spots(counts, adjacency, starts, cells=[1000 + i for i in range(400)], cell_names=names,
                           categories=["environment.garbage"], category_names=[("垃圾清运", "Garbage collection")])
    assert {spot.cell for spot in spots} == {1000 + i for i in cells}
    spot = next(s for s in spots if s.cell == 1210)
    assert spot.category == "environment.garbage"
    assert spot.period == starts[-1]
    assert spot.since == starts[-3]
    assert not spot.is_new
    assert spot.observed == counts[0, 210, -1]
    assert spot.ratio == pytest.approx(spot.observed / spot.expected)
    assert spot.ratio > 3
    assert set(spot.neighbours_involved) == {1211, 1230}
    assert spot.explanation_zh.startswith("第210网格的「垃圾清运」类诉求明显高于常态")
    assert f"本周{spot.observed}件" in spot.explanation_zh and f"常态约{spot.expected:.1f}件" in spot.explanation_zh
    assert "自2026年11月9日所在周起持续偏高" in spot.explanation_zh
    assert "第211网格" in spot.explanation_zh and "第230网格" in spot.explanation_zh
    assert spot.explanation_en.startswith("Garbage collection demands in 第210网格 are well above normal")
    assert f"{spot.observed} this week against about {spot.expected:.1f} expected" in spot.explanation_en
    assert "since the week of 2026-11-09" in spot.explanation_en


def test_a_cluster_appearing_this_week_is_new_and_emerging():
    counts, adjacency, starts = planted_field(12, [100, 101, 120], weeks=1, factor=6.0)
    spots = find_hot_spots(counts, adjacency, starts)
    assert {spot.cell for spot in spots} == {100, 101, 120}
    assert all(spot.is_new and spot.is_emerging and spot.since == starts[-1] for spot in spots)
    assert all("本周首次成为热点" in spot.explanation_zh for spot in spots)


def test_hot_spots_come_strongest_area_first_with_statistics_that_agree():
    counts, adjacency, starts = planted_field(13, [50, 51, 70, 300], weeks=2)
    spots = find_hot_spots(counts, adjacency, starts)
    assert len(spots) >= 3
    assert [s.z for s in spots] == sorted((s.z for s in spots), reverse=True)
    for spot in spots:
        assert spot.p == pytest.approx(0.5 * math.erfc(spot.z / math.sqrt(2)))
        assert spot.p <= spot.q <= 1 and 0 <= spot.p_cell <= 1


# --- the statistics against their definitions ------------------------------------------------------

@st.composite
def graphs_with_values(draw):
    n = draw(st.integers(3, 12))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    values = draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n))
    adjacency = [[] for _ in range(n)]
    for a, b in edges:
        if a != b:
            adjacency[a].append(b)
    return adjacency, np.array(values)


@given(graphs_with_values())
@settings(max_examples=60, deadline=None)
def test_gi_star_equals_the_getis_ord_formula_cell_by_cell(case):
    adjacency, x = case
    n = len(x)
    neighbours = [set(adjacency[i]) | {j for j in range(n) if i in adjacency[j]} | {i} for i in range(n)]
    z = gi_star(x, neighbour_matrix(adjacency, n))
    mean, sd = x.mean(), x.std()
    for i in range(n):
        w = len(neighbours[i])
        denominator = sd * math.sqrt((n * w - w * w) / (n - 1))
        if denominator > 1e-6:
            assert z[i] == pytest.approx((sum(x[j] for j in neighbours[i]) - mean * w) / denominator, abs=1e-6)
        elif denominator == 0:
            assert z[i] == 0


def test_neighbour_matrix_is_symmetric_binary_with_self_from_lists_or_sparse():
    one_sided = [[1, 1], [], [1]]
    weights = neighbour_matrix(one_sided, 3).toarray()
    assert weights.tolist() == [[1, 1, 0], [1, 1, 1], [0, 1, 1]]
    as_sparse = sparse.csr_array(([5.0, 2.0], ([0, 2], [1, 1])), shape=(3, 3))
    assert neighbour_matrix(as_sparse, 3).toarray().tolist() == weights.tolist()
    with pytest.raises(ValueError):
        neighbour_matrix([[3], [], []], 3)


@given(st.lists(st.floats(0, 1), max_size=40), st.floats(0.01, 0.5))
def test_benjamini_hochberg_rejects_exactly_the_step_up_set(p, q):
    p = np.array(p)
    thresholds = np.arange(1, len(p) + 1) * q / max(len(p), 1)
    # Exactly on a step-up threshold the two roundings (p·n/k ≤ q here, p ≤ k·q/n below) may disagree.
    assume(all(np.min(np.abs(p - t)) > 1e-12 for t in thresholds) if len(p) else True)
    rejected = benjamini_hochberg(p) <= q
    ordered = np.sort(p)
    passing = [k for k in range(1, len(p) + 1) if ordered[k - 1] <= k * q / len(p)]
    cutoff = ordered[max(passing) - 1] if passing else -1.0
    assert rejected.tolist() == (p <= cutoff).tolist()


def test_counts_must_be_whole_non_negative_numbers_with_enough_history():
    adjacency = lattice_adjacency(2, 2)
    with pytest.raises(ValueError):
        analyse(-np.ones((4, 10)), adjacency)
    with pytest.raises(ValueError):
        analyse(np.full((4, 10), 0.5), adjacency)
    with pytest.raises(ValueError):
        analyse(np.ones((4, 4)), adjacency)
    assert not analyse(np.ones((4, 10)), adjacency).is_hot.any()


# --- heat of an issue ----------------------------------------------------------------------------

counts_st = st.integers(0, 10_000)
share_st = st.floats(0, 1)
age_st = st.floats(-5, 3650)


@given(counts_st, counts_st, counts_st, age_st, share_st, st.integers(1, 500), st.floats(0.01, 1))
def test_heat_grows_with_volume_reporters_support_and_unresolved_share(volume, reporters, support, age, share,
                                                                        more, more_share):
    base = heat_index(volume, reporters, support, age, share)
    assert heat_index(volume + more, reporters, support, age, share) >= base
    assert heat_index(volume, reporters + more, support, age, share) >= base
    assert heat_index(volume, reporters, support + more, age, share) >= base
    assert heat_index(volume, reporters, support, age, min(1.0, share + more_share)) >= base
    assert base >= 0


@given(counts_st, counts_st, counts_st, age_st, share_st, st.floats(0.01, 100))
def test_heat_cools_with_age(volume, reporters, support, age, share, later):
    assert heat_index(volume, reporters, support, age + later, share) <= heat_index(volume, reporters, support,
                                                                                   age, share)


def test_heat_halves_each_half_life_and_reporters_weigh_more_than_repeat_calls():
    fresh = heat_index(10, 5, 3, 0, 1.0)
    assert heat_index(10, 5, 3, 7, 1.0) == pytest.approx(fresh / 2)
    assert heat_index(10, 10, 0, 0, 1.0) > heat_index(10, 1, 0, 0, 1.0)
    assert heat_index(10, 5, 3, 0, 0.0) == pytest.approx(fresh * hotspots.RESOLVED_HEAT_FLOOR)
    assert heat_index(0, 0, 0, 0, 1.0) == 0


@pytest.mark.parametrize("bad", [dict(volume=-1), dict(unresolved_share=1.5), dict(age_days=math.nan),
                                 dict(reporters=math.inf)])
def test_heat_rejects_impossible_inputs(bad):
    args = dict(volume=3, reporters=2, support=0, age_days=1.0, unresolved_share=0.5) | bad
    with pytest.raises(ValueError):
        heat_index(**args)


# --- warning rules ---------------------------------------------------------------------------------

def test_rising_weeks_names_the_first_week_of_a_rise_of_k_weeks_running():
    assert rising_weeks([4, 3, 2, 3, 5, 8], k=3) == 3
    assert rising_weeks([4, 3, 2, 3, 5, 8], k=4) is None
    assert rising_weeks([1, 2, 3, 3], k=1) is None  # flat last week ends the run
    assert rising_weeks([0, 1], k=1) == 1


@given(st.lists(st.integers(0, 20), max_size=30), st.integers(1, 6))
def test_rising_weeks_finds_a_run_exactly_when_the_last_k_steps_all_rise(series, k):
    since = rising_weeks(series, k)
    all_rise = len(series) > k and all(series[i] > series[i - 1] for i in range(len(series) - k, len(series)))
    assert (since is not None) == all_rise
    if since is not None:
        assert all(series[i] > series[i - 1] for i in range(since, len(series)))
        assert since == 1 or series[since - 1] <= series[since - 2]


def test_repeated_reopen_counts_reopens_per_demand_above_the_threshold():
    events = [(7, "dispatch"), (7, "reopen"), (9, "reopen"), (7, "close"), (7, "reopen"), (8, "reopen"),
              (8, "reopen"), (8, "reopen"), (9, "rate")]
    assert repeated_reopen(events, threshold=2) == {7: 2, 8: 3}
    assert repeated_reopen(events, threshold=3) == {8: 3}
    assert list(repeated_reopen(events, threshold=1)) == [7, 9, 8]
