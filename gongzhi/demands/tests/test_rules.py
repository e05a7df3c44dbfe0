"""The pure rules of demands: the transition table, urgency proposals, numbers, routing order and rates.
No database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.demands import rules
from gongzhi.demands.rules import IllegalTransition, next_state

actions = st.sampled_from(rules.ACTIONS)
action_sequences = st.lists(actions, max_size=40)


def walk(sequence):
    """Apply the legal actions of `sequence` from "received", skipping illegal ones; the states visited."""
    state, visited = rules.RECEIVED, [rules.RECEIVED]
    for action in sequence:
        try:
            state = next_state(state, action)
        except IllegalTransition:
            continue
        visited.append(state)
    return visited


@given(action_sequences)
def test_random_action_sequences_never_reach_an_undefined_state(sequence):
    assert set(walk(sequence)) <= set(rules.STATES)


@given(action_sequences)
def test_every_path_to_rated_passes_through_replied_verified_and_closed_in_that_order(sequence):
    visited = walk(sequence)
    for i, state in enumerate(visited):
        if state == rules.RATED:
            before = visited[:i]
            last_dispatch = max(j for j, s in enumerate(before) if s == rules.DISPATCHED)
            since = before[last_dispatch:]
            assert rules.REPLIED in since and rules.VERIFIED in since and rules.CLOSED in since
            assert since.index(rules.REPLIED) < since.index(rules.VERIFIED) < since.index(rules.CLOSED)


@given(st.sampled_from(rules.STATES), actions)
def test_a_step_is_legal_exactly_when_the_table_has_it(state, action):
    if (state, action) in rules.TRANSITIONS:
        assert next_state(state, action) in rules.STATES
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_state(state, action)
        assert refused.value.status == 409 and refused.value.code == "illegal_transition"
        assert f"{action} from {state}" in refused.value.message("en")


def test_merged_and_rejected_are_final_and_every_state_is_reachable():
    assert all(not rules.allowed_actions(state) for state in rules.FINAL_STATES)
    reachable, frontier = {rules.RECEIVED}, [rules.RECEIVED]
    while frontier:
        state = frontier.pop()
        for action in rules.allowed_actions(state):
            target = next_state(state, action)
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(rules.STATES)


def test_a_not_solved_rating_can_send_the_demand_back_to_dispatched():
    assert next_state(rules.RATED, "reopen") == rules.DISPATCHED
    assert next_state(rules.DISPATCHED, "return") == rules.RETURNED
    assert next_state(rules.RETURNED, "dispatch") == rules.DISPATCHED


# --- urgency ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("楼道里冒烟了，很呛", "emergency"),
    ("小区围墙塌了一段", "emergency"),
    ("有人触电倒地", "emergency"),
    ("家里停水一整天", "utilities"),
    ("暖气不热，屋里只有十五度", "utilities"),
    ("闻到燃气味", "utilities"),
    ("楼上漏水把我家天花板泡了", "utilities"),
    ("火车站附近的共享单车乱停", "ordinary"),
    ("想咨询一下养老驿站的开放时间", "ordinary"),
    ("楼下火锅店油烟太大", "ordinary"),
])
def test_urgency_from_cue_words(text, expected):
    assert rules.propose_urgency(text) == expected


@given(st.text(max_size=60), st.sampled_from(rules.URGENCIES))
def test_a_proposal_is_never_less_urgent_than_the_category_default(text, default):
    proposed = rules.propose_urgency(text, default)
    assert rules.URGENCIES.index(proposed) <= rules.URGENCIES.index(default)


def test_a_categorys_own_cue_words_count_too():
    assert rules.propose_urgency("电梯困人了", "ordinary", {"emergency": ["困人"]}) == "emergency"
    assert rules.propose_urgency("电梯困人了", "ordinary") == "ordinary"


# --- numbers, routing order -----------------------------------------------------------------------------

@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2999, 12, 31)),
       st.integers(min_value=1, max_value=10**7))
def test_numbers_sort_like_date_then_serial_within_a_day_and_never_collide(day, serial):
    number = rules.demand_number(day, serial)
    assert number.startswith(day.strftime("%Y%m%d")) and int(number[8:]) == serial
    assert rules.demand_number(day, serial) != rules.demand_number(day, serial + 1)


def test_routing_prefers_the_deepest_region_then_the_most_specific_category_then_priority():
    grid_any = rules.routing_key(4, 0, 0)
    community_leaf = rules.routing_key(3, 2, 0)
    community_leaf_urgent = rules.routing_key(3, 2, 9)
    community_parent = rules.routing_key(3, 1, 100)
    assert grid_any > community_leaf_urgent > community_leaf > community_parent


# --- rates ----------------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10_000)


@given(counts, counts, counts)
def test_rates_lie_between_zero_and_one_and_are_unknown_without_data(a, b, whole):
    part1, part2 = min(a, whole), min(b, whole - min(a, whole))
    for value in (rules.response_rate(part1, whole), rules.resolution_rate(part1, whole),
                  rules.satisfaction_rate(part1, part2, whole)):
        assert value is None if whole == 0 else 0 <= value <= 1


def test_satisfaction_counts_basically_satisfied_with_its_weight():
    assert rules.satisfaction_rate(6, 2, 10) == 0.8
    assert rules.satisfaction_rate(6, 2, 10, {"basically_satisfied": 0.5}) == 0.7


@given(st.fixed_dictionaries({name: st.none() | st.floats(0, 1) for name in ("response", "resolution", "satisfaction")}))
def test_the_composite_score_is_a_weighted_mean_of_the_measured_rates(measured):
    score = rules.composite_score(measured)
    if all(v is None for v in measured.values()):
        assert score is None
    else:
        present = [v for v in measured.values() if v is not None]
        assert 100 * min(present) - 1e-9 <= score <= 100 * max(present) + 1e-9


def test_the_default_weights_favour_satisfaction_and_resolution():
    assert rules.composite_score({"response": 1.0, "resolution": 0.5, "satisfaction": 0.5}) == pytest.approx(55.0)
