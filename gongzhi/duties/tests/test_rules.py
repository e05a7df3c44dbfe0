"""Duties' pure rules: goal and task status computed from reports and dates, scorecards matching hand
computation, and responsibility lists turned into routing rules with their clashes found."""

import datetime as dt
from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.duties.rules import (
    Direction,
    Normalisation,
    ProgressReport,
    ResponsibilityConflict,
    ResponsibilityEntry,
    Scorecard,
    Status,
    Target,
    Task,
    WeightedIndicator,
    compute_score,
    goal_status,
    routing_rules,
    scorecard_from_data,
    scorecard_to_data,
    task_status,
    to_fraction,
)


@pytest.fixture(autouse=True)
def _in_english():
    """The rules' messages are lazily translated; these tests match their English wording."""
    with translation.override("en"):
        yield

START = dt.date(2026, 1, 1)
DEADLINE = START + dt.timedelta(days=100)  # 2026-04-11
DAY = dt.timedelta(days=1)


def day(n: int) -> dt.date:
    return START + n * DAY


# Satisfaction from 70 % to 90 % over 100 days: the path gains 0.2 a day; the tolerance is 2 points.
SATISFACTION = Target("satisfaction rate", 90, Direction.HIGHER, "%", 70, START, DEADLINE)
# Complaints from 100 a month down to 50: the path loses 0.5 a day; the tolerance is 5.
COMPLAINTS = Target("complaints per month", 50, Direction.LOWER, "件", 100, START, DEADLINE)


def status(target, *reports, today, **options):
    return goal_status(target, [ProgressReport(d, v) for d, v in reports], today, **options)


# --- goals ----------------------------------------------------------------------------------------------

def test_the_expected_path_runs_straight_from_start_to_target():
    assert SATISFACTION.expected_on(START) == 70
    assert SATISFACTION.expected_on(day(50)) == 80
    assert SATISFACTION.expected_on(DEADLINE) == 90
    assert SATISFACTION.expected_on(DEADLINE + DAY) == 90
    assert COMPLAINTS.expected_on(day(50)) == 75


def test_a_value_exactly_on_the_expected_path_is_on_track():
    result = status(SATISFACTION, (day(50), 80), today=day(50))
    assert result.status is Status.ON_TRACK
    assert result.expected == 80 and result.behind_by == 0
    assert result.reason_zh == "最新值 80%（2026-02-20），符合预期进度 80%"


def test_a_value_behind_by_exactly_the_tolerance_is_still_on_track():
    assert status(SATISFACTION, (day(50), 78), today=day(50)).status is Status.ON_TRACK


def test_a_value_behind_by_more_than_the_tolerance_is_at_risk():
    result = status(SATISFACTION, (day(50), "77.99"), today=day(50))
    assert result.status is Status.AT_RISK
    assert result.behind_by == Fraction("2.01")
    assert result.reason_en == ("latest 77.99 % (2026-02-20) is behind the expected 80 % by 2.01 % "
                                "(tolerance 2 %)")


def test_lower_is_better_goals_are_behind_when_the_value_is_higher_than_the_path():
    assert status(COMPLAINTS, (day(50), 80), today=day(50)).status is Status.ON_TRACK
    assert status(COMPLAINTS, (day(50), "80.01"), today=day(50)).status is Status.AT_RISK
    assert status(COMPLAINTS, (day(50), 60), today=day(50)).behind_by == -15


def test_a_report_is_held_against_the_path_on_its_own_date_not_today():
    assert status(SATISFACTION, (day(50), 80), today=day(60)).status is Status.ON_TRACK


def test_no_report_for_exactly_the_stale_period_is_on_track_and_one_more_day_at_risk():
    assert status(SATISFACTION, (day(10), 72), today=day(40)).status is Status.ON_TRACK
    late = status(SATISFACTION, (day(10), 72), today=day(41))
    assert late.status is Status.AT_RISK and late.days_since_report == 31
    assert late.reason_zh == "已 31 天没有进度报告（超过 30 天）"


def test_before_any_report_the_stale_period_counts_from_the_start_date():
    fresh = status(SATISFACTION, today=day(30))
    assert fresh.status is Status.ON_TRACK and fresh.reason_en == "no report yet, 30 days after the start"
    assert status(SATISFACTION, today=day(31)).status is Status.AT_RISK


def test_both_risks_are_given_as_reasons():
    result = status(SATISFACTION, (day(10), 69), today=day(45), stale_after_days=20)
    assert result.status is Status.AT_RISK
    assert result.reason_zh.count("；") == 1


def test_the_deadline_day_itself_is_not_overdue_but_the_day_after_is():
    on_the_day = status(SATISFACTION, (DEADLINE, 80), today=DEADLINE)
    assert on_the_day.status is Status.AT_RISK and on_the_day.days_left == 0
    overdue = status(SATISFACTION, (DEADLINE, 89), today=DEADLINE + DAY)
    assert overdue.status is Status.OVERDUE and overdue.days_left == -1
    assert overdue.reason_zh == "已过期限（2026-04-11）1 天，最新值 89%（2026-04-11），未达到目标 90%"


def test_meeting_the_target_exactly_is_achieved_even_early():
    result = status(SATISFACTION, (day(20), 90), today=day(20))
    assert result.status is Status.ACHIEVED
    assert result.reason_en == "latest 90 % (2026-01-21): meets the target 90 %"


def test_a_target_met_after_the_deadline_is_achieved_late():
    result = status(COMPLAINTS, (DEADLINE + 3 * DAY, 50), today=DEADLINE + 5 * DAY)
    assert result.status is Status.ACHIEVED
    assert result.reason_zh.endswith("比期限晚 3 天")


def test_the_latest_report_counts_and_on_the_same_day_the_later_one_in_the_list():
    assert status(SATISFACTION, (day(50), 90), (day(40), 60), today=day(50)).status is Status.ACHIEVED
    assert status(SATISFACTION, (day(50), 90), (day(50), 80), today=day(50)).status is Status.ON_TRACK


def test_a_goal_to_hold_a_level_is_achieved_while_the_level_holds():
    hold = Target("response rate", 95, "higher", "%", 95, START, DEADLINE)
    assert status(hold, today=day(5)).status is Status.ACHIEVED
    assert status(hold, (day(5), 94), today=day(5)).status is Status.AT_RISK


def test_floats_are_read_as_the_decimals_they_print_as():
    assert to_fraction(0.85) == Fraction(17, 20)
    target = Target("rate", 0.9, "higher", "", 0.7, START, DEADLINE)
    assert status(target, (day(50), 0.78), today=day(50)).status is Status.ON_TRACK  # exactly the tolerance


@pytest.mark.parametrize("arguments, message", [
    (("x", 60, "higher", "%", 70, START, DEADLINE), "worse than the start value"),
    (("x", 80, "lower", "%", 70, START, DEADLINE), "worse than the start value"),
    (("x", 90, "higher", "%", 70, START, START), "after the start date"),
    (("x", 90, "up", "%", 70, START, DEADLINE), "direction"),
    (("x", "ninety", "higher", "%", 70, START, DEADLINE), "must be a number"),
    (("", 90, "higher", "%", 70, START, DEADLINE), "needs an indicator"),
])
def test_an_impossible_target_is_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Target(*arguments)


def test_reports_from_before_the_start_or_after_today_are_refused():
    with pytest.raises(ValueError, match="before the start date"):
        status(SATISFACTION, (START - DAY, 70), today=day(5))
    with pytest.raises(ValueError, match="after today"):
        status(SATISFACTION, (day(6), 70), today=day(5))


days_in = st.integers(min_value=0, max_value=100)


@given(days_in)
def test_a_fresh_report_exactly_on_the_path_is_on_track_or_achieved(n):
    for target in (SATISFACTION, COMPLAINTS):
        result = status(target, (day(n), target.expected_on(day(n))), today=day(n))
        assert result.status in (Status.ON_TRACK, Status.ACHIEVED)
        assert (result.status is Status.ACHIEVED) == (n == 100)


@given(days_in, st.fractions(min_value=60, max_value=89, max_denominator=1000))
def test_before_the_deadline_a_fresh_report_is_at_risk_exactly_when_it_is_more_than_the_tolerance_behind(n, value):
    result = status(SATISFACTION, (day(n), value), today=day(n))
    expected = 70 + Fraction(n, 5)
    assert result.status is (Status.AT_RISK if expected - value > 2 else Status.ON_TRACK)


@given(st.integers(min_value=0, max_value=200), st.fractions(min_value=0, max_value=120, max_denominator=1000))
def test_a_met_target_is_achieved_whatever_the_date_and_an_unmet_one_after_the_deadline_is_overdue(n, value):
    today = day(n)
    result = status(SATISFACTION, (today, value), today=today)
    if value >= 90:
        assert result.status is Status.ACHIEVED
    elif today > DEADLINE:
        assert result.status is Status.OVERDUE
    else:
        assert result.status in (Status.ON_TRACK, Status.AT_RISK)


# --- tasks ----------------------------------------------------------------------------------------------

TASK_DEADLINE = dt.date(2026, 6, 30)


def test_a_task_not_done_on_its_deadline_day_is_at_risk_and_the_day_after_overdue():
    task = Task(TASK_DEADLINE)
    on_the_day = task_status(task, TASK_DEADLINE)
    assert on_the_day.status is Status.AT_RISK and on_the_day.days_left == 0
    after = task_status(task, TASK_DEADLINE + DAY)
    assert after.status is Status.OVERDUE
    assert after.reason_zh == "已过期限（2026-06-30）1 天，未完成"


def test_a_task_is_at_risk_with_exactly_the_warning_days_left_and_on_track_with_one_more():
    task = Task(TASK_DEADLINE)
    assert task_status(task, TASK_DEADLINE - 3 * DAY).status is Status.AT_RISK
    assert task_status(task, TASK_DEADLINE - 4 * DAY).status is Status.ON_TRACK
    assert task_status(task, TASK_DEADLINE - 4 * DAY, warn_days=4).status is Status.AT_RISK


def test_a_task_done_in_time_and_up_to_standard_is_achieved():
    task = Task(TASK_DEADLINE, completed_on=TASK_DEADLINE, quality_met=True)
    result = task_status(task, TASK_DEADLINE + 10 * DAY)
    assert result.status is Status.ACHIEVED and "晚" not in result.reason_zh


def test_a_task_done_late_and_up_to_standard_is_achieved_late():
    task = Task(TASK_DEADLINE, completed_on=TASK_DEADLINE + 2 * DAY, quality_met=True)
    result = task_status(task, TASK_DEADLINE + 10 * DAY)
    assert result.status is Status.ACHIEVED and result.reason_en.endswith("2 days late")


def test_a_task_below_its_quality_standard_is_at_risk_until_the_deadline_then_overdue():
    task = Task(TASK_DEADLINE, completed_on=TASK_DEADLINE - 5 * DAY, quality_met=False)
    assert task_status(task, TASK_DEADLINE).status is Status.AT_RISK
    assert task_status(task, TASK_DEADLINE + DAY).status is Status.OVERDUE


def test_a_task_done_in_time_waits_on_track_for_its_check_but_done_late_it_is_overdue():
    assert task_status(Task(TASK_DEADLINE, completed_on=TASK_DEADLINE), TASK_DEADLINE + 9 * DAY).status \
        is Status.ON_TRACK
    late = Task(TASK_DEADLINE, completed_on=TASK_DEADLINE + DAY)
    assert task_status(late, TASK_DEADLINE + DAY).status is Status.OVERDUE


def test_a_task_with_a_percentage_is_held_against_its_straight_path():
    task_start = TASK_DEADLINE - 100 * DAY
    halfway = task_start + 50 * DAY  # 50 % expected
    assert task_status(Task(TASK_DEADLINE, start_date=task_start, percent_complete=40), halfway).status \
        is Status.ON_TRACK  # exactly ten points behind
    behind = task_status(Task(TASK_DEADLINE, start_date=task_start, percent_complete="39.99"), halfway)
    assert behind.status is Status.AT_RISK and behind.expected == 50


def test_an_impossible_task_is_refused():
    with pytest.raises(ValueError, match="not completed cannot have been checked"):
        Task(TASK_DEADLINE, quality_met=True)
    with pytest.raises(ValueError, match="after today"):
        task_status(Task(TASK_DEADLINE, completed_on=TASK_DEADLINE), TASK_DEADLINE - DAY)
    with pytest.raises(ValueError, match="between 0 and 100"):
        Task(TASK_DEADLINE, percent_complete=101)


# --- scorecards -----------------------------------------------------------------------------------------

def grid_scorecard(**changes) -> Scorecard:
    indicators = [
        WeightedIndicator("satisfaction", "满意率", "satisfaction rate", 50, Normalisation.LINEAR,
                  "demands.satisfaction_rate", worst=60, best=100),
        WeightedIndicator("response", "响应率", "response rate", 30, Normalisation.RATIO, "demands.response_rate",
                  target=95),
        WeightedIndicator("complaints", "重复投诉", "repeat complaints", 20, Normalisation.RATIO, "demands.repeat_count",
                  target=10, direction=Direction.LOWER),
    ]
    return Scorecard("grid_worker", "网格员考评", "grid worker evaluation", "post",
                     tuple(changes.get("indicators", indicators)))


VALUES = {"satisfaction": 90, "response": 76, "complaints": 20}


def test_the_score_matches_hand_computation():
    # satisfaction (90 − 60) / (100 − 60) = 0.75; response 76 / 95 = 0.8; complaints 10 / 20 = 0.5.
    # (50 × 0.75 + 30 × 0.8 + 20 × 0.5) / 100 × 100 = 37.5 + 24 + 10 = 71.5
    result = compute_score(grid_scorecard(), VALUES)
    assert result.score == Fraction("71.5")
    assert [(b.code, b.normalised, b.points) for b in result.breakdown] == [
        ("satisfaction", Fraction(3, 4), Fraction("37.5")),
        ("response", Fraction(4, 5), Fraction(24)),
        ("complaints", Fraction(1, 2), Fraction(10)),
    ]
    assert result.unmeasured == ()


def test_an_unmeasured_indicator_is_left_out_and_its_weight_shared_by_default():
    result = compute_score(grid_scorecard(), {"satisfaction": 90, "response": 76})
    assert result.score == Fraction("76.875")  # (37.5 + 24) / 80 × 100
    assert result.unmeasured == ("complaints",)


def test_an_unmeasured_indicator_scores_zero_when_configured_so():
    assert compute_score(grid_scorecard(), {"satisfaction": 90, "response": 76}, missing="zero").score \
        == Fraction("61.5")


def test_nothing_measured_gives_no_score_rather_than_zero():
    assert compute_score(grid_scorecard(), {}).score is None


def test_linear_normalisation_is_clamped_and_may_run_downwards():
    satisfaction = grid_scorecard().indicators[0]
    assert satisfaction.normalise(100) == 1 and satisfaction.normalise(120) == 1
    assert satisfaction.normalise(60) == 0 and satisfaction.normalise(10) == 0
    days_to_reply = WeightedIndicator("reply_days", "答复天数", "days to reply", 1, "linear", "demands.reply_days",
                              worst=30, best=0)
    assert days_to_reply.normalise(15) == Fraction(1, 2)
    assert days_to_reply.normalise(0) == 1


def test_a_ratio_is_capped_at_one_unless_a_higher_cap_is_set():
    response = grid_scorecard().indicators[1]
    assert response.normalise(95) == 1 and response.normalise(190) == 1
    bonus = WeightedIndicator("visits", "走访户数", "households visited", 1, "ratio", "org.visits", target=100, cap="1.2")
    assert bonus.normalise(110) == Fraction(11, 10) and bonus.normalise(150) == Fraction(6, 5)


def test_a_lower_is_better_ratio_of_zero_scores_the_cap():
    assert grid_scorecard().indicators[2].normalise(0) == 1


@pytest.mark.parametrize("changes, message", [
    ({"weight": 0}, "more than 0"),
    ({"weight": -1}, "more than 0"),
    ({"worst": 100}, "must differ"),
    ({"best": None}, "worst and a best"),
    ({"target": 5}, "no target"),
    ({"cap": 2}, "cap is for ratios"),
    ({"live_indicator": "Demands Rate"}, "must be a code"),
    ({"normalisation": "log"}, "'linear' or 'ratio'"),
    ({"code": "Satisfaction"}, "lower-case"),
])
def test_an_invalid_linear_indicator_is_refused(changes, message):
    fields = dict(code="satisfaction", name_zh="满意率", name_en="satisfaction rate", weight=50,
                  normalisation="linear", live_indicator="demands.satisfaction_rate", worst=60, best=100)
    with pytest.raises(ValueError, match=message):
        WeightedIndicator(**{**fields, **changes})


@pytest.mark.parametrize("changes, message", [
    ({"target": 0}, "more than 0"),
    ({"target": None}, "has a target"),
    ({"cap": "0.9"}, "at least 1"),
    ({"direction": "sideways"}, "'higher' or 'lower'"),
])
def test_an_invalid_ratio_indicator_is_refused(changes, message):
    fields = dict(code="response", name_zh="响应率", name_en="response rate", weight=30, normalisation="ratio",
                  live_indicator="demands.response_rate", target=95)
    with pytest.raises(ValueError, match=message):
        WeightedIndicator(**{**fields, **changes})


def test_a_scorecard_refuses_duplicate_codes_no_indicators_and_unknown_values():
    card = grid_scorecard()
    with pytest.raises(ValueError, match="used twice"):
        grid_scorecard(indicators=card.indicators + card.indicators[:1])
    with pytest.raises(ValueError, match="at least one indicator"):
        grid_scorecard(indicators=())
    with pytest.raises(ValueError, match="no indicator speed"):
        compute_score(card, {**VALUES, "speed": 1})
    with pytest.raises(ValueError, match="cannot be negative"):
        compute_score(card, {**VALUES, "response": -1})


def test_a_scorecard_round_trips_through_plain_data():
    card = grid_scorecard()
    assert scorecard_from_data(scorecard_to_data(card)) == card
    with pytest.raises(ValueError, match="unknown scorecard field"):
        scorecard_from_data({**scorecard_to_data(card), "owner": "me"})


weights = st.fractions(min_value=Fraction(1, 100), max_value=100, max_denominator=1000)
values = st.fractions(min_value=0, max_value=200, max_denominator=1000)


@given(st.lists(st.tuples(weights, values), min_size=1, max_size=6))
def test_a_score_is_the_weighted_mean_of_normalised_values_and_lies_between_0_and_100(pairs):
    indicators = tuple(WeightedIndicator(f"i{n}", "指标", "indicator", w, "linear", "test.value", worst=0, best=100)
                       for n, (w, _) in enumerate(pairs))
    card = Scorecard("test", "测试", "test", "unit", indicators)
    result = compute_score(card, {f"i{n}": v for n, (_, v) in enumerate(pairs)})
    expected = 100 * sum(w * min(1, v / 100) for w, v in pairs) / sum(w for w, _ in pairs)
    assert result.score == expected
    assert 0 <= result.score <= 100
    assert sum(b.points for b in result.breakdown) == result.score


@given(st.fractions(min_value=Fraction(1, 10), max_value=10, max_denominator=1000))
def test_scaling_every_weight_leaves_the_score_unchanged(factor):
    scaled = tuple(WeightedIndicator(i.code, i.name_zh, i.name_en, i.weight * factor, i.normalisation, i.live_indicator,
                             i.worst, i.best, i.target, i.direction, i.cap) for i in grid_scorecard().indicators)
    assert compute_score(grid_scorecard(indicators=scaled), VALUES).score == Fraction("71.5")


# --- responsibility list → routing rules ----------------------------------------------------------------

def test_each_matter_and_region_of_an_entry_becomes_a_routing_rule():
    specs = routing_rules([
        ResponsibilityEntry("city_management", ("environment.noise", "commerce.street_vending"), ("street_a",),
                            post="squad_leader", reference="第 1 条"),
        ResponsibilityEntry("property_company", ("housing.elevator",), (None,), priority=5, reference="第 2 条"),
    ])
    assert [(s.category, s.region, s.unit, s.priority) for s in specs] == [
        ("commerce.street_vending", "street_a", "city_management", 0),
        ("environment.noise", "street_a", "city_management", 0),
        ("housing.elevator", None, "property_company", 5),
    ]
    assert specs[0].posts == ("squad_leader",) and specs[0].references == ("第 1 条",)


def test_two_posts_of_one_unit_claiming_the_same_matter_give_one_rule():
    specs = routing_rules([
        ResponsibilityEntry("community_a", ("community.disputes",), ("grid_1",), post="grid_worker"),
        ResponsibilityEntry("community_a", ("community.disputes",), ("grid_1",), post="mediator"),
    ])
    assert len(specs) == 1 and specs[0].posts == ("grid_worker", "mediator")
    assert specs[0].references == ("entry 1", "entry 2")


def test_two_units_claiming_one_category_in_one_region_at_one_priority_is_an_error_naming_both():
    with pytest.raises(ResponsibilityConflict) as raised:
        routing_rules([
            ResponsibilityEntry("city_management", ("environment.noise",), ("street_a",), reference="城管 第 3 条"),
            ResponsibilityEntry("environment_bureau", ("environment.noise",), ("street_a",),
                                reference="生态环境 第 7 条"),
        ])
    (conflict,) = raised.value.conflicts
    assert conflict.units == ("city_management", "environment_bureau")
    assert conflict.references == ("城管 第 3 条", "生态环境 第 7 条")
    assert "city_management" in str(raised.value) and "environment_bureau" in str(raised.value)
    assert conflict.message_zh == ("city_management、environment_bureau 在区域 street_a以同一优先级（0）认领了同一类"
                                   "诉求“environment.noise”（城管 第 3 条；生态环境 第 7 条）")


def test_every_clash_is_reported_at_once():
    with pytest.raises(ResponsibilityConflict) as raised:
        routing_rules([
            ResponsibilityEntry("a", ("x.one", "x.two"), (None,)),
            ResponsibilityEntry("b", ("x.one", "x.two"), (None,)),
        ])
    assert [c.category for c in raised.value.conflicts] == ["x.one", "x.two"]


def test_claims_that_differ_in_priority_region_or_category_depth_do_not_clash():
    specs = routing_rules([
        ResponsibilityEntry("city_management", ("environment.noise",), ("street_a",), priority=0),
        ResponsibilityEntry("environment_bureau", ("environment.noise",), ("street_a",), priority=1),
        ResponsibilityEntry("community_a", ("environment.noise",), ("community_a",)),
        ResponsibilityEntry("environment_bureau", ("environment",), ("street_a",)),
    ])
    assert len(specs) == 4


def test_an_unknown_category_or_an_empty_entry_is_refused():
    with pytest.raises(ValueError, match="unknown category 'environment.nois'"):
        routing_rules([ResponsibilityEntry("a", ("environment.nois",))], known_categories={"environment.noise"})
    with pytest.raises(ValueError, match="no matters"):
        ResponsibilityEntry("a", ())
    with pytest.raises(ValueError, match="not one string"):
        ResponsibilityEntry("a", "environment.noise")
    with pytest.raises(ValueError, match="no region"):
        ResponsibilityEntry("a", ("x",), ())


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["x.1", "x.2", "y"]),
                          st.sampled_from([None, "r1", "r2"]), st.integers(0, 2)), max_size=12))
def test_routing_rules_either_give_one_rule_per_claimed_key_or_name_a_clash(claims):
    entries = [ResponsibilityEntry(unit, (category,), (region,), priority=priority)
               for unit, category, region, priority in claims]
    owners: dict = {}
    for unit, category, region, priority in claims:
        owners.setdefault((category, region, priority), set()).add(unit)
    clashes = {key for key, units in owners.items() if len(units) > 1}
    if clashes:
        with pytest.raises(ResponsibilityConflict) as raised:
            routing_rules(entries)
        assert {(c.category, c.region, c.priority) for c in raised.value.conflicts} == clashes
    else:
        specs = routing_rules(entries)
        assert {(s.category, s.region, s.priority): s.unit for s in specs} == {
            key: next(iter(units)) for key, units in owners.items()}
