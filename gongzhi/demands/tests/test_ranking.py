"""The ranking's rules (demands/ranking.py), pure: who is ranked, in which order, ties, the floor, the
minimum sample and the change against the previous period. Property tests over random rows."""

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.demands import ranking

EQUAL = {"response": 1.0, "resolution": 1.0, "satisfaction": 1.0}


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    cases: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None


def row(id, cases=10, response=None, resolution=None, satisfaction=None, name=None) -> Row:
    return Row(id, name or f"单位{id}", cases, response, resolution, satisfaction)


rates = st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.55, 0.6, 0.75, 0.9, 1.0]), st.floats(0, 1))


@st.composite
def rows(draw, max_size=12):
    n = draw(st.integers(0, max_size))
    return [Row(i, draw(st.sampled_from(["东园", "西园", "前营村", "后营村"])) + str(i), draw(st.integers(0, 30)),
                draw(rates), draw(rates), draw(rates)) for i in range(n)]


settings_ = st.fixed_dictionaries({
    "min_cases": st.integers(0, 10),
    "floor": st.one_of(st.none(), st.sampled_from([0.5, 0.6, 0.8])),
    "weights": st.sampled_from([None, EQUAL, {"response": 0.3, "resolution": 0.35, "satisfaction": 0.35}]),
})


# --- properties ------------------------------------------------------------------------------------------

@given(rows(), settings_)
def test_every_row_is_listed_once_ranked_ones_first(given_rows, config):
    result = ranking.rank(given_rows, **config)
    assert sorted(r.row.id for r in result) == [r.id for r in given_rows]
    ranked_flags = [r.rank is not None for r in result]
    assert ranked_flags == sorted(ranked_flags, reverse=True)  # no ranked row after an unranked one


@given(rows(), settings_)
def test_too_few_cases_is_never_ranked(given_rows, config):
    for r in ranking.rank(given_rows, **config):
        if r.row.cases < config["min_cases"]:
            assert r.rank is None and r.insufficient
        assert (r.rank is None) == r.insufficient


@given(rows(), settings_)
def test_a_flagged_row_never_ranks_above_one_that_is_not(given_rows, config):
    result = [r for r in ranking.rank(given_rows, **config) if r.rank is not None]
    for flagged in (r for r in result if r.is_flagged):
        for clean in (r for r in result if not r.is_flagged):
            assert clean.rank < flagged.rank


@given(rows(), settings_)
def test_equal_scores_share_a_rank_and_the_next_skips(given_rows, config):
    result = [r for r in ranking.rank(given_rows, **config) if r.rank is not None]
    for r in result:
        ahead = [o for o in result if (o.is_flagged, -round(o.score, 1)) < (r.is_flagged, -round(r.score, 1))]
        assert r.rank == 1 + len(ahead)  # standard competition ranking: 1, 2, 2, 4
        assert r.out_of == len(result)
    for a in result:
        for b in result:
            if a.is_flagged == b.is_flagged and round(a.score, 1) == round(b.score, 1):
                assert a.rank == b.rank


@given(rows(), settings_)
def test_ranks_follow_the_score_within_each_group(given_rows, config):
    result = [r for r in ranking.rank(given_rows, **config) if r.rank is not None]
    for a, b in zip(result, result[1:]):
        assert a.rank <= b.rank
        if a.is_flagged == b.is_flagged:
            assert round(a.score, 1) >= round(b.score, 1)


@given(rows(), settings_)
def test_flags_name_exactly_the_rates_under_the_floor(given_rows, config):
    for r in ranking.rank(given_rows, **config):
        if r.rank is None:
            continue
        floor = config["floor"]
        expected = () if floor is None else tuple(
            name for name, value in ranking.rates_of(r.row).items() if value is not None and value < floor)
        assert r.below_floor == expected


@given(rows(), rows(), settings_)
def test_the_previous_rank_is_the_rank_the_same_rules_gave_then(now, before, config):
    then = {r.row.id: r for r in ranking.rank(before, **config)}
    for r in ranking.rank(now, previous=before, **config):
        old = then.get(r.row.id)
        assert r.previous_rank == (old.rank if old else None)
        if r.rank is not None and r.previous_rank is not None:
            assert r.rank_change == r.previous_rank - r.rank


# --- examples --------------------------------------------------------------------------------------------

def test_the_issue_example_a_village_at_zero_response_ranks_below_every_unflagged_one():
    rows_ = [row(1, 11, response=0.0, resolution=1.0, satisfaction=1.0, name="前营村"),
             row(2, 20, response=0.9, resolution=0.7, satisfaction=0.7, name="东园社区"),
             row(3, 2, response=1.0, resolution=1.0, satisfaction=1.0, name="西园社区")]
    result = ranking.rank(rows_, min_cases=5, floor=0.6)
    assert [(r.row.name, r.rank, r.below_floor, r.insufficient) for r in result] == [
        ("东园社区", 1, (), False), ("前营村", 2, ("response",), False), ("西园社区", None, (), True)]
    assert result[1].score > result[0].score  # a higher score does not lift it above the unflagged one


def test_five_at_100_share_first_place_and_the_next_is_sixth():
    perfect = [row(i, 10, 1.0, 1.0, 1.0) for i in range(5)]
    result = ranking.rank([*perfect, row(9, 10, 0.9, 0.9, 0.9)], min_cases=5)
    assert [r.rank for r in result] == [1, 1, 1, 1, 1, 6]


def test_scores_are_compared_at_the_precision_shown():
    a, b = row(1, 10, 0.8000, 0.8, 0.8), row(2, 10, 0.80004, 0.8, 0.8)
    assert [r.rank for r in ranking.rank([a, b], weights=EQUAL)] == [1, 1]


def test_a_row_without_any_measured_rate_is_not_ranked():
    [r] = ranking.rank([row(1, 10)], min_cases=0)
    assert r.rank is None and r.insufficient and r.score is None


def test_weights_decide_the_order():
    fast, kind = row(1, 10, 1.0, 0.6, 0.6), row(2, 10, 0.6, 0.6, 1.0)
    by_response = {"response": 1.0, "resolution": 0.0, "satisfaction": 0.0}
    assert [r.row.id for r in ranking.rank([kind, fast], weights=by_response)] == [1, 2]
    assert [r.row.id for r in ranking.rank([kind, fast])] == [2, 1]  # default: satisfaction weighs most


def test_the_default_period_is_the_last_complete_month_and_its_previous_the_month_before():
    assert ranking.last_complete_month(dt.date(2026, 12, 7)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert ranking.last_complete_month(dt.date(2027, 1, 1)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert ranking.previous_period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == (dt.date(2026, 10, 1),
                                                                                   dt.date(2026, 10, 31))
    assert ranking.previous_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (dt.date(2026, 2, 1),
                                                                                 dt.date(2026, 2, 28))
    # Any other range: as many days just before.
    assert ranking.previous_period(dt.date(2026, 11, 10), dt.date(2026, 11, 16)) == (dt.date(2026, 11, 3),
                                                                                    dt.date(2026, 11, 9))


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), st.integers(0, 90))
def test_the_previous_period_ends_the_day_before_and_is_as_long_unless_a_month(start, days):
    end = start + dt.timedelta(days=days)
    before_start, before_end = ranking.previous_period(start, end)
    assert before_end == start - dt.timedelta(days=1)
    if not ranking.is_whole_month(start, end):
        assert (before_end - before_start) == (end - start)
    else:
        assert ranking.is_whole_month(before_start, before_end)
