"""When a care visit falls due and when it is overdue (care/rules.py): pure, with property tests."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.care import rules

DAY = dt.date(2026, 12, 7)


def test_the_next_visit_is_due_one_interval_after_the_last():
    assert rules.next_due(registered_on=dt.date(2026, 10, 1), last_visit_on=dt.date(2026, 12, 1),
                          every_days=7) == dt.date(2026, 12, 8)


def test_a_person_never_visited_is_due_one_interval_after_registration():
    assert rules.next_due(registered_on=dt.date(2026, 12, 1), last_visit_on=None, every_days=7) == dt.date(2026, 12, 8)


def test_a_visit_before_the_registration_does_not_make_it_overdue_at_once():
    assert rules.next_due(registered_on=dt.date(2026, 12, 1), last_visit_on=dt.date(2026, 9, 1),
                          every_days=14) == dt.date(2026, 12, 15)


def test_overdue_only_after_the_due_day_has_passed():
    assert rules.status(DAY, DAY) == rules.THIS_WEEK
    assert rules.status(DAY - dt.timedelta(days=1), DAY) == rules.OVERDUE
    assert rules.days_overdue(DAY - dt.timedelta(days=3), DAY) == 3
    assert rules.status(DAY + dt.timedelta(days=6), DAY) == rules.THIS_WEEK
    assert rules.status(DAY + dt.timedelta(days=7), DAY) == rules.LATER


def test_an_interval_below_one_day_is_refused():
    with pytest.raises(ValueError):
        rules.next_due(registered_on=DAY, last_visit_on=None, every_days=0)


@given(st.lists(st.integers(min_value=-60, max_value=60), min_size=1, max_size=30))
def test_overdue_sorts_first_and_the_longest_overdue_first(offsets):
    dues = [DAY + dt.timedelta(days=o) for o in offsets]
    ordered = sorted(dues, key=lambda d: rules.sort_key(d, DAY))
    states = [rules.status(d, DAY) == rules.OVERDUE for d in ordered]
    assert states == sorted(states, reverse=True)  # every overdue one before every other
    overdue = [d for d in ordered if rules.status(d, DAY) == rules.OVERDUE]
    assert overdue == sorted(overdue)  # the earliest due (longest overdue) first


@given(st.integers(min_value=1, max_value=90), st.integers(min_value=0, max_value=200))
def test_a_visit_today_is_never_overdue(every, since_registration):
    registered = DAY - dt.timedelta(days=since_registration)
    due = rules.next_due(registered_on=registered, last_visit_on=DAY, every_days=every)
    assert rules.status(due, DAY) != rules.OVERDUE
