"""Hot spots (热点): grids where a category of demands runs above its own normal level, in an area that is
above normal too, since when, said in words; the heat of an issue; two early-warning rules. Pure (numpy + scipy).

Interface (plain data in and out; the caller reads the counts from the database)
- `counts[category, cell, period]` (or `counts[cell, period]` for one category): demands filed, periods
  oldest first, equal length (days or weeks). `adjacency`: for each cell the indices of its neighbours
  (or a scipy sparse matrix whose non-zeros are the neighbour pairs). `period_starts`: the first day of
  each period. Cell and category ids and names are labels only: they come back in the answers.
- `find_hot_spots(...) -> list[HotSpot]`: the hot spots of the latest period, each with numbers and an
  explanation in Chinese and English. `analyse(...) -> Analysis`: the same test as arrays for every cell,
  for maps. `heat_index(...)`, `rising_weeks(...)`, `repeated_reopen(...)`: small rules.

Method
1. **Baseline per cell.** expected = level(cell) × level of the city in that period. The city's level is
   the category's total in each period over its mean, so season, holidays and trend need no model (a
   week-of-year season fitted to two years of history was off by ±15 % in the tested week on synthetic
   data; this is off by under 1 %). In the tested window it is taken from the window's own totals, leaving
   out cells already far above normal. The consequence, by design: a rise of the whole category in every
   cell is not a hot spot (watch the category's city-wide series with `rising_weeks` for that). The cell's
   level is an exponentially weighted mean of its history in units of the city's level (half-life
   `half_life` periods), shrunk towards the city-wide rate by a gamma prior fitted to the spread between
   cells (empirical Bayes): a cell with little or no history gets near the city rate, never 0.
2. **Test per cell.** The observed count of the latest `window` periods against the predictive
   negative-binomial distribution: the gamma posterior of the level (uncertain for short or sparse
   history) times Poisson noise, widened by the period-to-period overdispersion measured in the category's
   history (real counts vary more than Poisson). `p_cell` = P(count ≥ observed); the mid-p value turned
   into a normal score is the cell's standardised excess.
3. **Area.** Getis–Ord Gi* z of those scores over each cell and its neighbours (binary weights, self
   included); one-sided p-values (hot, not cold); Benjamini–Hochberg over every cell × category at `q`.
4. **Hot spot** = a cell far above normal on its own (BH at q/2 on `p_cell` over every cell × category),
   or a cell in a significant area (BH at q/2 on the Gi* p-values) that is itself above normal (BH at q/2
   on `p_cell` among those cells). The first route finds a lone spike that Gi* would dilute, the second a
   cluster of cells each only moderately high; the confirmation keeps the neighbours of a cluster, whose
   Gi* is high only through the cluster, from being reported themselves. Halving q keeps the FDR of the
   union at most q/2 + q/2 (the false share of a union is at most the sum of the two); that the area
   route stays within its half for cells, not areas, is measured (benchmark), not proven.
5. **Since.** The same analysis is repeated for up to `lookback` earlier periods; `since` is the period in
   which the current unbroken run of hot periods began (the period itself for a new hot spot). A hot spot
   is *emerging* when it is new or its count has risen `rising_k` periods running.

Evaluation on synthetic lattices (recall of planted clusters, empirical FDR, false alarms on fields with
no cluster, time at 5,000 cells × 20 categories × 104 weeks): tests/test_hotspots.py and
bench/bench_hotspots.py, figures in docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats

HALF_LIFE_PERIODS = 26.0  # the last 26 weeks of history weigh as much as all the weeks before them
MAX_PRIOR_SHAPE = 1e4  # gamma prior shape when cells do not differ at all: (almost) complete pooling
MIN_HISTORY_PERIODS = 4
SCORE_CLIP = 3.0  # the yardstick of Gi* ignores how far beyond ±3 a cell's own score lies
EXTREME_P = 1e-3  # cells this far above normal are left out of the window's city-wide level
NEIGHBOUR_P = 0.05  # a neighbour is "involved" when its own count is above normal at this level
_MAX_NB_SIZE = 1e7  # beyond this the negative binomial is Poisson to many digits


# --- data -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Analysis:
    """One period's test, arrays of shape (categories, cells). `observed` and `expected` are counts over
    the window; `p_cell` the cell's own tail probability and `q_cell` its BH q-value; `z`, `p`, `q` its
    area's Gi* z, one-sided p-value and BH q-value; `is_hot` the decision (method step 4). q-values are
    over all categories × cells."""

    observed: np.ndarray
    expected: np.ndarray
    p_cell: np.ndarray
    q_cell: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    is_hot: np.ndarray


@dataclass(frozen=True)
class HotSpot:
    """A cell × category running above normal in the latest period. `cell`, `category` and the ids in
    `neighbours_involved` are the caller's labels; `period` and `since` are period start dates; `ratio`
    is observed / expected; `z`, `p`, `q` are the area's Gi* statistics, `p_cell` the cell's own test;
    `rising_for` counts the period-on-period rises up to `period`."""

    cell: Hashable
    category: Hashable
    period: dt.date
    observed: int
    expected: float
    ratio: float
    z: float
    p: float
    q: float
    p_cell: float
    since: dt.date
    rising_for: int
    is_emerging: bool
    neighbours_involved: tuple
    explanation_zh: str
    explanation_en: str

    @property
    def is_new(self) -> bool:
        return self.since == self.period


# --- building blocks ----------------------------------------------------------------------------------

def neighbour_matrix(adjacency, n_cells: int) -> sparse.csr_array:
    """Binary weights of Gi*: 1 between a cell and each neighbour (both ways) and on the diagonal."""
    if sparse.issparse(adjacency):
        coo = sparse.coo_array(adjacency)
        if coo.shape != (n_cells, n_cells):
            raise ValueError(f"adjacency must be {n_cells} × {n_cells}, got {coo.shape}")
        rows, cols = coo.row, coo.col
    else:
        if len(adjacency) != n_cells:
            raise ValueError(f"adjacency must list neighbours for each of the {n_cells} cells, got {len(adjacency)}")
        rows = np.repeat(np.arange(n_cells), [len(neighbours) for neighbours in adjacency])
        cols = np.fromiter((j for neighbours in adjacency for j in neighbours), dtype=np.int64, count=len(rows))
        if len(cols) and (cols.min() < 0 or cols.max() >= n_cells):
            raise ValueError("adjacency names a cell index out of range")
    diagonal = np.arange(n_cells)
    pairs_from = np.concatenate([rows, cols, diagonal])  # both directions, so a one-sided list is enough
    pairs_to = np.concatenate([cols, rows, diagonal])
    weights = sparse.csr_array((np.ones(len(pairs_from)), (pairs_from, pairs_to)), shape=(n_cells, n_cells))
    weights.sum_duplicates()
    weights.data[:] = 1.0  # a pair listed twice is still one neighbour
    return weights


def gi_star(values, weights: sparse.csr_array, mean=None, sd=None) -> np.ndarray:
    """Getis–Ord Gi* z-scores of `values` (last axis = cells) under `weights` (with self), standardised by
    the global `mean` and `sd` of the values (Ord & Getis 1995; by default the sample mean and standard
    deviation over all cells, per row). 0 where the statistic is undefined."""
    x = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n = x.shape[-1]
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    w_sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    local = (weights @ x.T).T
    mean = x.mean(axis=-1, keepdims=True) if mean is None else np.reshape(mean, (-1, 1))
    sd = x.std(axis=-1, keepdims=True) if sd is None else np.reshape(sd, (-1, 1))
    spread = np.sqrt(np.maximum(n * w_sq - w_sum**2, 0.0) / max(n - 1, 1))
    denominator = sd * spread
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denominator > 0, (local - mean * w_sum) / denominator, 0.0)
    return z.reshape(np.shape(values))


def benjamini_hochberg(p) -> np.ndarray:
    """BH-adjusted q-values of the p-values `p` (any shape): reject where q ≤ the chosen FDR level."""
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    m = flat.size
    if m == 0:
        return p.copy()
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q.reshape(p.shape)


def _cell_test(counts: np.ndarray, window: int, half_life: float):
    """Expected window counts, P(count ≥ observed) and mid-p normal scores, each (categories, cells)."""
    n_categories, n_cells, n_periods = counts.shape
    n_history = n_periods - window
    history = counts[:, :, :n_history]
    totals = history.sum(axis=1)
    mean_total = totals.mean(axis=1, keepdims=True)
    # The city-wide level of each period (season, holidays, trend, all at once): that period's category
    # total over the mean total. Cells are judged against their share of it, not against a fitted season.
    s_hist = np.where(mean_total > 0, totals / np.where(mean_total > 0, mean_total, 1.0), 1.0)
    w = 0.5 ** ((n_history - 1 - np.arange(n_history)) / half_life)

    exposure = (w * s_hist).sum(axis=1)                      # E: weighted periods, in city-level units
    effective = exposure**2 / np.maximum((w**2 * s_hist).sum(axis=1), 1e-300)  # Poisson-equivalent of E
    exposure = np.maximum(exposure, 1e-12)
    rate = (history @ w) / exposure[:, None]                # raw level of each cell in an average period
    city_rate = np.maximum(rate.mean(axis=1), 0.5 / (n_cells * exposure))  # half an event when none at all

    # Period-to-period variation beyond Poisson, var = μ + μ²·od, by moments over the history. Real counts
    # are overdispersed (weather, a broken pipe that brings ten calls); Poisson alone would alarm too often.
    # Σ (y − f)² − f with f = rate·s, expanded so that no (categories, cells, periods) temporary is made.
    fitted_sq = (rate**2).sum(axis=1) * (s_hist**2).sum(axis=1)
    cross = (rate * np.matmul(history, s_hist[:, :, None])[:, :, 0]).sum(axis=1)
    squares = np.einsum("knt,knt->k", history, history)
    excess = squares - 2 * cross + fitted_sq - rate.sum(axis=1) * s_hist.sum(axis=1)
    od = np.maximum(excess, 0.0) / np.maximum(fitted_sq, 1e-12)
    od_in_level = od * (w**2 * s_hist**2).sum(axis=1) / exposure**2  # its share in the weighted level

    # Gamma prior of cell levels by moments: the spread between cells minus what noise explains.
    between = (rate.var(axis=1) - city_rate / effective - city_rate**2 * od_in_level) / (1 + od_in_level)
    between = np.maximum(between, city_rate**2 / MAX_PRIOR_SHAPE)
    prior_shape, prior_rate = city_rate**2 / between, city_rate / between
    # Each cell's history as a Poisson-equivalent exposure (smaller with overdispersion; a zero-history
    # cell is judged at the city rate, so it is not trusted more than a busy one).
    cell_exposure = 1.0 / (1.0 / effective[:, None] + np.maximum(rate, city_rate[:, None]) * od_in_level[:, None])
    shape = prior_shape[:, None] + rate * cell_exposure
    rate_param = prior_rate[:, None] + cell_exposure
    level, level_var = shape / rate_param, shape / rate_param**2

    # The window's city-wide level from its own totals, leaving out cells already far above normal so that
    # a large cluster does not raise everyone's expectation (leaving them out once is enough).
    window_counts = counts[:, :, n_history:]
    observed = window_counts.sum(axis=2)
    extreme = np.zeros(observed.shape, dtype=bool)
    for _ in range(2):
        kept_level = np.where(extreme, 0.0, level).sum(axis=1)
        kept_counts = np.where(extreme[:, :, None], 0.0, window_counts).sum(axis=1)
        s_window = kept_counts / np.maximum(kept_level, 1e-300)[:, None]
        expected, at_least, mid = _predictive_tail(observed, level, level_var, s_window, od)
        extreme = at_least < EXTREME_P
    return observed, expected, at_least, stats.norm.isf(mid)


def _predictive_tail(observed, level, level_var, s_window, od):
    """Mean, P(Y ≥ observed) and mid-p of the negative binomial with the gamma level's first two moments
    times Poisson noise and the period overdispersion `od`, over the window periods' levels `s_window`."""
    s_sum, s_sq = s_window.sum(axis=1)[:, None], (s_window**2).sum(axis=1)[:, None]
    expected = np.maximum(level * s_sum, 1e-12)
    extra_var = level_var * s_sum**2 + (level**2 + level_var) * s_sq * od[:, None]
    size = np.clip(expected**2 / np.maximum(extra_var, 1e-300), 1e-8, _MAX_NB_SIZE)
    prob = size / (size + expected)
    at_least = np.minimum(stats.nbinom.sf(observed - 1, size, prob), 1.0)
    mid = np.clip(at_least - 0.5 * stats.nbinom.pmf(observed, size, prob), 1e-300, 1.0)
    return expected, at_least, mid


def analyse(counts, adjacency, *, window: int = 1, q: float = 0.05,
            half_life: float = HALF_LIFE_PERIODS) -> Analysis:
    """The hot-spot test of the latest `window` periods of `counts` (method steps 1–4 of the module doc)."""
    data = _as_counts(counts)
    _check_window(window, data.shape[2], q)
    return _analyse(data, neighbour_matrix(adjacency, data.shape[1]), window, q, half_life)


def _check_window(window: int, n_periods: int, q: float) -> None:
    if window < 1 or n_periods - window < MIN_HISTORY_PERIODS:
        raise ValueError(f"need a window of at least 1 period and {MIN_HISTORY_PERIODS} periods of history "
                         f"before it; got window {window} of {n_periods} periods")
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")


def _analyse(data: np.ndarray, weights: sparse.csr_array, window: int, q: float, half_life: float) -> Analysis:
    observed, expected, p_cell, score = _cell_test(data, window, half_life)
    # The yardstick of Gi* (global mean and sd) from scores winsorised at ±3, and the sd never below the
    # scores' null sd of 1: otherwise the hot cells themselves inflate the sd and hide their own area
    # (ten cells at a score of 5 raise the sd of a 400-cell field from 1 to about 1.3). A category-wide rise
    # still moves the mean, so it does not make every cell a hot spot.
    clipped = np.clip(score, -SCORE_CLIP, SCORE_CLIP)
    z = gi_star(score, weights, mean=clipped.mean(axis=1), sd=np.maximum(clipped.std(axis=1), 1.0))
    p = stats.norm.sf(z)
    # Neighbouring Gi* share cells, so their z are positively correlated; BH still controls the FDR under
    # this positive regression dependence (Benjamini & Yekutieli 2001: one-sided tests of a multivariate
    # normal with non-negative correlations), so no Benjamini–Yekutieli penalty is needed.
    q_area = benjamini_hochberg(p)
    q_cell = benjamini_hochberg(p_cell)
    in_hot_area = q_area <= q / 2
    if in_hot_area.any():
        in_hot_area[in_hot_area] = benjamini_hochberg(p_cell[in_hot_area]) <= q / 2
    is_hot = (q_cell <= q / 2) | in_hot_area
    return Analysis(observed=observed, expected=expected, p_cell=p_cell, q_cell=q_cell, z=z, p=p, q=q_area,
                    is_hot=is_hot)


def find_hot_spots(counts, adjacency, period_starts: Sequence[dt.date], *,
                   cells: Sequence[Hashable] | None = None, cell_names: Sequence[str] | None = None,
                   categories: Sequence[Hashable] | None = None,
                   category_names: Sequence[str | tuple[str, str]] | None = None,
                   window: int = 1, q: float = 0.05, lookback: int = 8, rising_k: int = 3,
                   half_life: float = HALF_LIFE_PERIODS) -> list[HotSpot]:
    """The hot spots of the latest period, strongest area first (see the module doc for the method).

    `cells` / `categories` are the ids returned (default: indices); `cell_names` and `category_names`
    (a name, or a (Chinese, English) pair) are used in the explanations. `window` periods are tested
    together; `lookback` earlier periods are analysed to find `since`."""
    data = _as_counts(counts)
    n_categories, n_cells, n_periods = data.shape
    _check_window(window, n_periods, q)
    weights = neighbour_matrix(adjacency, n_cells)
    starts = [_as_date(day) for day in period_starts]
    if len(starts) != n_periods:
        raise ValueError(f"period_starts must give {n_periods} dates, got {len(starts)}")
    cell_ids = list(range(n_cells)) if cells is None else list(cells)
    category_ids = list(range(n_categories)) if categories is None else list(categories)
    if len(cell_ids) != n_cells or len(category_ids) != n_categories:
        raise ValueError("cells and categories must match the shape of counts")
    names = [str(c) for c in cell_ids] if cell_names is None else list(cell_names)
    labels = [_pair(name) for name in (category_names or [str(c) for c in category_ids])]

    def analysis_at(last: int) -> Analysis:
        return _analyse(data[:, :, : last + 1], weights, window, q, half_life)

    now = analysis_at(n_periods - 1)
    hot = now.is_hot
    first_hot = np.full(hot.shape, n_periods - 1)
    running = hot.copy()
    for last in range(n_periods - 2, n_periods - 2 - lookback, -1):
        if not running.any() or last + 1 - window < MIN_HISTORY_PERIODS:
            break
        running &= analysis_at(last).is_hot
        first_hot[running] = last

    unit = _unit(starts)
    found = []
    for k, i in zip(*np.nonzero(hot)):
        neighbours = [j for j in weights.indices[weights.indptr[i]:weights.indptr[i + 1]]
                      if j != i and now.p_cell[k, j] <= NEIGHBOUR_P]
        neighbours.sort(key=lambda j: (now.p_cell[k, j], j))
        observed, expected = int(now.observed[k, i]), float(now.expected[k, i])
        since = starts[first_hot[k, i]]
        rising_for = _rises_at_end(data[k, i])
        spot = dict(
            cell=cell_ids[i], category=category_ids[k], period=starts[-1], observed=observed,
            expected=expected, ratio=observed / expected, z=float(now.z[k, i]), p=float(now.p[k, i]),
            q=float(now.q[k, i]), p_cell=float(now.p_cell[k, i]), since=since, rising_for=rising_for,
            is_emerging=since == starts[-1] or rising_for >= rising_k,
            neighbours_involved=tuple(cell_ids[j] for j in neighbours))
        zh, en = _explain(names[i], labels[k], observed, expected, since, starts[-1], window, unit,
                          rising_for if rising_for >= rising_k else 0, [names[j] for j in neighbours])
        found.append(HotSpot(**spot, explanation_zh=zh, explanation_en=en))
    found.sort(key=lambda spot: -spot.z)
    return found


# --- words ----------------------------------------------------------------------------------------

def _unit(starts: list[dt.date]) -> tuple[str, str]:
    step = (starts[1] - starts[0]).days if len(starts) > 1 else 0
    return {1: ("天", "day"), 7: ("周", "week")}.get(step, ("期", "period"))


def _explain(where: str, what: tuple[str, str], observed: int, expected: float, since: dt.date,
             period: dt.date, window: int, unit: tuple[str, str], rising_for: int,
             neighbours: list[str]) -> tuple[str, str]:
    unit_zh, unit_en = unit
    span_zh = f"本{unit_zh}" if window == 1 else f"近{window}{unit_zh}"
    span_en = f"this {unit_en}" if window == 1 else f"in the last {window} {unit_en}s"
    ratio = observed / expected
    zh = (f"{where}的「{what[0]}」类诉求明显高于常态：{span_zh}{observed}件，常态约{expected:.1f}件"
          f"（{ratio:.1f}倍）")
    en = (f"{what[1]} demands in {where} are well above normal: {observed} {span_en} against about "
          f"{expected:.1f} expected (×{ratio:.1f})")
    if since == period:
        zh += f"，本{unit_zh}首次成为热点"
        en += f"; first flagged this {unit_en}"
    else:
        week_zh = "所在周" if unit_en == "week" else ""
        zh += f"，自{since.year}年{since.month}月{since.day}日{week_zh}起持续偏高"
        en += f"; flagged every {unit_en} since {'the week of ' if unit_en == 'week' else ''}{since:%Y-%m-%d}"
    if rising_for:
        zh += f"，已连续{rising_for}{unit_zh}上升"
        en += f", rising {rising_for} {unit_en}s running"
    if neighbours:
        more_zh = f"等{len(neighbours)}个网格" if len(neighbours) > 3 else ""
        more_en = f" and {len(neighbours) - 3} more" if len(neighbours) > 3 else ""
        zh += f"；相邻的{'、'.join(neighbours[:3])}{more_zh}同样偏高"
        en += f"; neighbouring {', '.join(neighbours[:3])}{more_en} also above normal"
    return zh + "。", en + "."


# --- heat of an issue ----------------------------------------------------------------------------------

DEFAULT_HEAT_WEIGHTS = {"volume": 1.0, "reporters": 2.0, "support": 0.5}
HEAT_HALF_LIFE_DAYS = 7.0
RESOLVED_HEAT_FLOOR = 0.2


def heat_index(volume: int, reporters: int, support: int, age_days: float, unresolved_share: float, *,
               weights: dict[str, float] | None = None, half_life_days: float = HEAT_HALF_LIFE_DAYS,
               resolved_floor: float = RESOLVED_HEAT_FLOOR) -> float:
    """热度 of an issue (a cluster of demands about one thing), ≥ 0, for ranking:

        (w_v·ln(1+volume) + w_r·ln(1+reporters) + w_s·ln(1+support))
        × 0.5^(age_days / half_life_days) × (floor + (1 − floor)·unresolved_share)

    Logarithms because the tenth call about a dark street lamp says less than the second; distinct
    reporters weigh most, since many people mean a wide problem and one person calling daily does not;
    support (+1s) weighs least, being cheap. `age_days` is the time since the latest demand (negative,
    from clock skew, counts as 0); a resolved issue keeps `resolved_floor` of its heat so that it stays
    visible while it cools. Non-decreasing in volume, reporters, support and unresolved share, and
    non-increasing in age."""
    w = {**DEFAULT_HEAT_WEIGHTS, **(weights or {})}
    for name, value in (("volume", volume), ("reporters", reporters), ("support", support)):
        if not value >= 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    if not 0.0 <= unresolved_share <= 1.0:
        raise ValueError(f"unresolved_share must be in [0, 1], got {unresolved_share!r}")
    if math.isnan(age_days) or half_life_days <= 0 or not 0.0 <= resolved_floor <= 1.0:
        raise ValueError("age_days must be a number, half_life_days > 0 and resolved_floor in [0, 1]")
    if min(w.values()) < 0:
        raise ValueError("heat weights must be ≥ 0")
    mass = (w["volume"] * math.log1p(volume) + w["reporters"] * math.log1p(reporters)
            + w["support"] * math.log1p(support))
    recency = 0.5 ** (max(age_days, 0.0) / half_life_days)
    return mass * recency * (resolved_floor + (1.0 - resolved_floor) * unresolved_share)


# --- early-warning rules --------------------------------------------------------------------------

def _rises_at_end(series) -> int:
    """How many period-on-period strict rises end at the last period."""
    values = np.asarray(series, dtype=np.float64)
    rises = 0
    for i in range(len(values) - 1, 0, -1):
        if values[i] > values[i - 1]:
            rises += 1
        else:
            break
    return rises


def rising_weeks(series: Sequence[float], k: int = 3) -> int | None:
    """When `series` (a category's counts in one cell, oldest first) rose in each of its last `k` periods:
    the index of the first period of that rise (the first one above its predecessor); else None."""
    if k < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    rises = _rises_at_end(series)
    return len(series) - rises if rises >= k else None


REOPEN = "reopen"  # the action name of 重办 in demands.rules.TRANSITIONS


def repeated_reopen(events: Iterable[tuple[Hashable, str]], threshold: int = 2) -> dict[Hashable, int]:
    """Demands reopened (重办) at least `threshold` times: {demand id: reopen count}, in the order the demands
    first appear. `events` are (demand id, action) pairs; other actions are ignored."""
    if threshold < 1:
        raise ValueError(f"threshold must be ≥ 1, got {threshold}")
    reopened: dict[Hashable, int] = {}
    for demand, action in events:
        if action == REOPEN:
            reopened[demand] = reopened.get(demand, 0) + 1
    return {demand: n for demand, n in reopened.items() if n >= threshold}


# --- input -----------------------------------------------------------------------------------------

def _as_counts(counts) -> np.ndarray:
    given = np.asarray(counts)
    if given.ndim == 2:
        given = given[None]
    if given.ndim != 3:
        raise ValueError(f"counts must be (cells, periods) or (categories, cells, periods), got shape {given.shape}")
    data = given.astype(np.float64)
    whole = np.issubdtype(given.dtype, np.integer) or bool((data == np.floor(data)).all())  # NaN fails too
    if not whole or data.min(initial=0.0) < 0:
        raise ValueError("counts must be whole numbers ≥ 0")
    return data


def _as_date(day) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day))


def _pair(name) -> tuple[str, str]:
    return (name, name) if isinstance(name, str) else (str(name[0]), str(name[1]))
