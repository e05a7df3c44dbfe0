"""The pure rules of patrol: when a plan is due, distances, which device times are accepted."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.patrol import rules

START = dt.date(2026, 11, 2)  # a Monday
UTC = dt.UTC


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=400))
def test_every_n_days_is_due_exactly_on_multiples_of_n_from_the_start(n, offset):
    day = START + dt.timedelta(days=offset)
    assert rules.is_due(day, start_date=START, every_days=n, weekdays=[]) == (offset % n == 0)


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, unique=True), st.integers(0, 60))
def test_a_weekday_plan_is_due_on_its_weekdays_only(weekdays, offset):
    day = START + dt.timedelta(days=offset)
    assert rules.is_due(day, start_date=START, every_days=None, weekdays=weekdays) == (day.weekday() in weekdays)


def test_nothing_is_due_before_the_start():
    assert not rules.is_due(START - dt.timedelta(days=1), start_date=START, every_days=1, weekdays=[])
    assert not rules.is_due(START - dt.timedelta(days=7), start_date=START, every_days=None, weekdays=[0])


@given(st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80))
def test_distance_is_symmetric_and_never_negative(lon1, lat1, lon2, lat2):
    d = rules.distance_m(lon1, lat1, lon2, lat2)
    assert d >= 0
    assert abs(d - rules.distance_m(lon2, lat2, lon1, lat1)) < 1e-6


def test_a_thousandth_of_a_degree_of_latitude_is_about_111_metres():
    assert 110 < rules.distance_m(116.0, 39.9, 116.0, 39.901) < 112
    assert rules.distance_m(116.0, 39.9, 116.0, 39.9) == 0


def test_a_device_time_in_the_future_or_older_than_seven_days_is_refused():
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert rules.recorded_time(now + dt.timedelta(hours=1), now) == (None, "future")
    assert rules.recorded_time(now - dt.timedelta(days=7, minutes=1), now) == (None, "too_old")
    assert rules.recorded_time(dt.datetime(2026, 12, 7, 9, 0), now) == (None, "naive")


def test_a_device_time_within_bounds_is_kept_and_none_means_received():
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    earlier = now - dt.timedelta(days=6, hours=23)
    assert rules.recorded_time(earlier, now) == (earlier, "")
    assert rules.recorded_time(None, now) == (now, "")
    # a phone a minute fast: taken as now, never after the receipt
    assert rules.recorded_time(now + dt.timedelta(minutes=1), now) == (now, "")
