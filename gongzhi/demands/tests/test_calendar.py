"""The working-day calendar and deadline arithmetic of demands: the notices' dates, worked examples, properties.

Pure tests: they need no database and run with `-p no:django` as well.
"""

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core import workdays
from gongzhi.demands.calendar import (
    DEFAULT_TIME_LIMITS,
    TimeLimit,
    add_working_time,
    is_known_year,
    is_working_day,
    working_time_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = (time(9), time(17))


@pytest.fixture(name="settings")
def django_settings_stand_in():
    """The root conftest's autouse fixture asks for pytest-django's `settings`; these tests touch no Django."""
    return SimpleNamespace()


def days(first: str, last: str) -> list[date]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    out = []
    while day <= end:
        out.append(day)
        day += timedelta(days=1)
    return out


# --- the notices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        *days("2024-02-10", "2024-02-17"),
        *days("2024-10-01", "2024-10-07"),
        date(2025, 1, 1),
        *days("2025-01-28", "2025-02-04"),  # 春节 from 除夕, new in 2025
        *days("2025-05-01", "2025-05-05"),  # 5月2日 a statutory holiday from 2025
        *days("2025-05-31", "2025-06-02"),
        *days("2025-10-01", "2025-10-08"),  # 国庆 and 中秋 together
        *days("2026-01-01", "2026-01-03"),
        *days("2026-02-15", "2026-02-23"),  # a 9-day 春节
        *days("2026-06-19", "2026-06-21"),
        *days("2026-09-25", "2026-09-27"),
        *days("2026-10-01", "2026-10-07"),
    ],
    ids=str,
)
def test_notice_holidays_are_days_off(day):
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 2, 4),  # Sunday
        date(2024, 2, 18),  # Sunday
        date(2024, 5, 11),  # Saturday
        date(2024, 10, 12),  # Saturday
        date(2025, 1, 26),  # Sunday
        date(2025, 2, 8),  # Saturday
        date(2025, 4, 27),  # Sunday
        date(2025, 9, 28),  # Sunday
        date(2025, 10, 11),  # Saturday
        date(2026, 1, 4),  # Sunday
        date(2026, 2, 14),  # Saturday
        date(2026, 2, 28),  # Saturday
        date(2026, 5, 9),  # Saturday
        date(2026, 9, 20),  # Sunday
        date(2026, 10, 10),  # Saturday
    ],
    ids=str,
)
def test_adjusted_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_spring_festival_eve_2024_was_only_encouraged_off_so_it_is_a_working_day():
    assert is_working_day(date(2024, 2, 9))


def test_ordinary_days_follow_the_week():
    assert is_working_day(date(2025, 3, 12))  # Wednesday
    assert not is_working_day(date(2025, 3, 15))  # Saturday
    assert not is_working_day(date(2025, 3, 16))  # Sunday


def test_a_datetime_is_judged_by_its_date():
    assert not is_working_day(datetime(2025, 10, 3, 10, 0, tzinfo=SHANGHAI))


@pytest.mark.parametrize(("year", "statutory_days"), [(2024, 11), (2025, 13), (2026, 13)])
def test_each_year_gives_off_exactly_its_statutory_holiday_days(year, statutory_days):
    # 调休 only swaps days: weekdays off minus weekend days worked is what 《全国年节及纪念日放假办法》
    # grants (11 days, 13 from 2025 on), which catches a mistyped date in the data.
    calendar = workdays.year_calendar(year)
    weekdays_off = [d for d in calendar.holidays if d.weekday() < 5]
    assert len(weekdays_off) - len(calendar.working) == statutory_days == workdays.statutory_days(year)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_adjusted_working_days_are_weekend_days_and_never_holidays(year):
    calendar = workdays.year_calendar(year)
    assert calendar.working and all(d.weekday() >= 5 for d in calendar.working)
    assert not calendar.holidays & calendar.working


def test_known_years_are_those_with_a_notice():
    assert all(is_known_year(year) for year in (2024, 2025, 2026))
    assert not is_known_year(2027)  # no notice in the library's release, and none imported here
    assert not is_known_year(2100)


def test_years_without_a_notice_fall_back_to_weekends_only():
    assert is_working_day(date(2027, 1, 1))  # a Friday: 元旦, but no notice for 2027 yet
    assert not is_working_day(date(2027, 1, 2))  # Saturday


# --- worked examples -----------------------------------------------------------------------------


def test_seven_working_days_skip_the_2025_spring_festival():
    # Working days after Mon 01-27: 02-05, 02-06, 02-07, Sat 02-08 (adjusted), 02-10, 02-11, 02-12.
    start = datetime(2025, 1, 27, 10, 0, tzinfo=SHANGHAI)
    assert add_working_time(start, days=7, working_days=True) == datetime(2025, 2, 12, 10, 0, tzinfo=SHANGHAI)


def test_adjusted_sunday_before_the_festival_counts_as_a_working_day():
    start = datetime(2025, 1, 24, 15, 0)  # Friday
    assert add_working_time(start, days=1, working_days=True) == datetime(2025, 1, 26, 15, 0)  # Sunday
    assert add_working_time(start, days=2, working_days=True) == datetime(2025, 1, 27, 15, 0)
    assert add_working_time(start, days=3, working_days=True) == datetime(2025, 2, 5, 15, 0)


def test_the_2026_spring_festival_starts_after_an_adjusted_saturday():
    start = datetime(2026, 2, 13, 10, 0)  # Friday
    assert add_working_time(start, days=1, working_days=True) == datetime(2026, 2, 14, 10, 0)
    assert add_working_time(start, days=2, working_days=True) == datetime(2026, 2, 24, 10, 0)


def test_fifteen_working_days_skip_national_day_2025():
    start = datetime(2025, 9, 26, 9, 0)  # Friday
    # 09-28 (Sun, adjusted) and 10-11 (Sat, adjusted) count; 10-01..10-08 do not.
    assert add_working_time(start, days=15, working_days=True) == datetime(2025, 10, 23, 9, 0)


def test_received_during_a_holiday_the_clock_starts_on_the_next_working_day():
    start = datetime(2025, 1, 30, 12, 0)  # 春节
    assert add_working_time(start, days=1, working_days=True) == datetime(2025, 2, 6, 0, 0)
    assert add_working_time(start, days=0, working_days=True) == datetime(2025, 2, 5, 0, 0)
    assert add_working_time(start, hours=2, working_days=True) == datetime(2025, 2, 5, 2, 0)
    assert add_working_time(start, hours=0, working_days=True) == start


def test_working_hours_count_only_office_hours_and_skip_the_festival():
    start = datetime(2025, 1, 27, 16, 0)
    # One office hour on 01-27, the other seven on 02-05.
    assert add_working_time(start, hours=8, working_days=True, work_hours=OFFICE) == datetime(2025, 2, 5, 16, 0)


def test_a_deadline_that_uses_up_the_day_is_the_close_of_that_day():
    start = datetime(2025, 3, 14, 9, 0)  # Friday
    assert add_working_time(start, hours=8, working_days=True, work_hours=OFFICE) == datetime(2025, 3, 14, 17, 0)


def test_after_hours_the_clock_starts_at_the_next_opening():
    start = datetime(2025, 3, 14, 20, 0)  # Friday evening
    assert add_working_time(start, hours=1, working_days=True, work_hours=OFFICE) == datetime(2025, 3, 17, 10, 0)
    assert add_working_time(start, days=1, working_days=True, work_hours=OFFICE) == datetime(2025, 3, 18, 9, 0)


def test_calendar_time_runs_through_holidays():
    start = datetime(2025, 1, 28, 23, 30, tzinfo=SHANGHAI)  # 除夕
    assert add_working_time(start, hours=2, working_days=False) == datetime(2025, 1, 29, 1, 30, tzinfo=SHANGHAI)
    assert add_working_time(start, days=7, working_days=False) == datetime(2025, 2, 4, 23, 30, tzinfo=SHANGHAI)


def test_aware_datetimes_keep_their_timezone_and_count_in_its_local_time():
    start = datetime(2025, 1, 27, 10, 0, tzinfo=SHANGHAI)
    naive = add_working_time(start.replace(tzinfo=None), days=1, working_days=True)
    aware = add_working_time(start, days=1, working_days=True)
    assert aware.tzinfo is SHANGHAI
    assert aware.replace(tzinfo=None) == naive == datetime(2025, 2, 5, 10, 0)


def test_overdue_by_counts_only_working_time():
    due = datetime(2025, 1, 27, 17, 0, tzinfo=SHANGHAI)
    now = datetime(2025, 2, 5, 10, 0, tzinfo=SHANGHAI)
    assert working_time_between(due, now, working_days=True) == timedelta(hours=7 + 10)
    assert working_time_between(due, now, working_days=True, work_hours=OFFICE) == timedelta(hours=1)
    assert working_time_between(due, now, working_days=False) == timedelta(days=8, hours=17)


def test_time_before_the_deadline_is_negative():
    due = datetime(2025, 3, 14, 17, 0)
    now = datetime(2025, 3, 14, 15, 0)
    assert working_time_between(due, now, working_days=True) == timedelta(hours=-2)


def test_working_time_between_converts_end_to_the_timezone_of_start():
    start = datetime(2025, 3, 14, 9, 0, tzinfo=SHANGHAI)
    end = datetime(2025, 3, 14, 3, 0, tzinfo=ZoneInfo("UTC"))  # 11:00 in Shanghai
    assert working_time_between(start, end, working_days=True, work_hours=OFFICE) == timedelta(hours=2)


# --- default time limits -------------------------------------------------------------------------


def test_defaults_cover_the_four_urgencies():
    assert set(DEFAULT_TIME_LIMITS) == {"emergency", "utilities", "ordinary", "complex"}


def test_emergency_limits_run_around_the_clock_even_on_new_years_eve():
    received = datetime(2025, 1, 28, 23, 30, tzinfo=SHANGHAI)
    assert DEFAULT_TIME_LIMITS["emergency"].deadlines(received) == (
        datetime(2025, 1, 29, 0, 30, tzinfo=SHANGHAI),
        datetime(2025, 1, 29, 1, 30, tzinfo=SHANGHAI),
    )


def test_utilities_get_feedback_within_24_hours_on_a_holiday():
    received = datetime(2025, 10, 3, 8, 0, tzinfo=SHANGHAI)
    assert DEFAULT_TIME_LIMITS["utilities"].deadlines(received, work_hours=OFFICE) == (
        datetime(2025, 10, 3, 10, 0, tzinfo=SHANGHAI),
        datetime(2025, 10, 4, 8, 0, tzinfo=SHANGHAI),
    )


def test_ordinary_and_complex_count_working_days_across_the_spring_festival():
    received = datetime(2025, 1, 27, 10, 0, tzinfo=SHANGHAI)
    assert DEFAULT_TIME_LIMITS["ordinary"].deadlines(received) == (
        datetime(2025, 1, 27, 12, 0, tzinfo=SHANGHAI),
        datetime(2025, 2, 12, 10, 0, tzinfo=SHANGHAI),
    )
    # Working days 8 to 15: 02-13, 02-14, 02-17 … 02-21, 02-24.
    _, complex_feedback_due = DEFAULT_TIME_LIMITS["complex"].deadlines(received)
    assert complex_feedback_due == datetime(2025, 2, 24, 10, 0, tzinfo=SHANGHAI)


def test_an_ordinary_demand_received_on_sunday_evening_is_dispatched_monday_morning():
    received = datetime(2025, 3, 16, 22, 0)
    dispatch_due, _ = DEFAULT_TIME_LIMITS["ordinary"].deadlines(received, work_hours=OFFICE)
    assert dispatch_due == datetime(2025, 3, 17, 11, 0)


def test_a_time_limit_is_refused_when_configured_badly():
    with pytest.raises(ValueError):
        TimeLimit(dispatch_hours=2, feedback_hours=24, feedback_days=1)
    with pytest.raises(ValueError):
        TimeLimit(dispatch_hours=2)
    with pytest.raises(ValueError):
        TimeLimit(dispatch_hours=-1, feedback_hours=2)


# --- bad input -----------------------------------------------------------------------------------


START = datetime(2025, 3, 14, 9, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither
        {"hours": 1, "days": 1},  # both
        {"hours": -0.5},
        {"days": -1},
        {"days": 1.5},
        {"days": True},
        {"hours": float("nan")},
        {"hours": float("inf")},
        {"hours": "2"},
        {"hours": 1, "work_hours": (time(17), time(9))},  # closes before it opens
        {"hours": 1, "work_hours": (time(9), time(9))},
        {"hours": 1, "work_hours": (time(9),)},
    ],
    ids=repr,
)
def test_bad_amounts_are_refused(kwargs):
    with pytest.raises(ValueError):
        add_working_time(START, working_days=True, **kwargs)


def test_work_hours_without_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_time(START, hours=1, working_days=False, work_hours=OFFICE)


def test_a_deadline_past_the_calendar_is_refused():
    with pytest.raises(ValueError):
        add_working_time(datetime(9999, 12, 30), days=5, working_days=True)


def test_a_date_is_not_a_start():
    with pytest.raises(ValueError):
        add_working_time(date(2025, 3, 14), days=1, working_days=True)


def test_naive_and_aware_cannot_be_mixed():
    with pytest.raises(ValueError):
        working_time_between(START, START.replace(tzinfo=SHANGHAI), working_days=True)


# --- properties ----------------------------------------------------------------------------------

# From before the first notice to after the last, so runs cross known and unknown years.
naive_moments = st.datetimes(min_value=datetime(2023, 12, 1), max_value=datetime(2027, 1, 31))
moments = st.one_of(naive_moments, naive_moments.map(lambda dt: dt.replace(tzinfo=SHANGHAI)))
# Opening hours of at least half an hour, so a run of hundreds of hours stays within a few years.
office_hours = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 23 * 60 - 30), st.integers(30, 24 * 60 - 1)).filter(lambda p: p[0] + 30 <= p[1]).map(
        lambda p: (time(p[0] // 60, p[0] % 60), time(p[1] // 60, p[1] % 60))
    ),
)
day_counts = st.integers(min_value=0, max_value=40)
# Whole quarter hours are exact in binary floating point, so sums compare exactly.
hour_counts = st.integers(min_value=0, max_value=4 * 300).map(lambda quarters: quarters / 4)


@given(moments, day_counts, day_counts, office_hours)
def test_more_working_days_give_a_later_deadline(start, n, m, work_hours):
    small, large = sorted((n, m))
    earlier = add_working_time(start, days=small, working_days=True, work_hours=work_hours)
    later = add_working_time(start, days=large, working_days=True, work_hours=work_hours)
    assert earlier < later if small < large else earlier == later


@given(moments, hour_counts, hour_counts, office_hours)
def test_more_working_hours_give_a_later_deadline(start, h, k, work_hours):
    small, large = sorted((h, k))
    earlier = add_working_time(start, hours=small, working_days=True, work_hours=work_hours)
    later = add_working_time(start, hours=large, working_days=True, work_hours=work_hours)
    assert earlier < later if small < large else earlier == later


@given(moments, day_counts, day_counts, office_hours)
def test_n_then_m_working_days_are_n_plus_m_working_days(start, n, m, work_hours):
    def add(moment, count):
        return add_working_time(moment, days=count, working_days=True, work_hours=work_hours)

    assert add(add(start, n), m) == add(start, n + m)


@given(moments, hour_counts, hour_counts, office_hours)
def test_h_then_k_working_hours_are_h_plus_k_working_hours(start, h, k, work_hours):
    def add(moment, count):
        return add_working_time(moment, hours=count, working_days=True, work_hours=work_hours)

    assert add(add(start, h), k) == add(start, h + k)


@given(moments, day_counts, office_hours)
def test_a_deadline_in_working_days_falls_on_a_working_day_within_work_hours(start, n, work_hours):
    deadline = add_working_time(start, days=n, working_days=True, work_hours=work_hours)
    assert is_working_day(deadline.date())
    if work_hours is not None:
        assert work_hours[0] <= deadline.time() < work_hours[1]


@given(moments, st.one_of(day_counts.map(lambda n: {"days": n}), hour_counts.map(lambda h: {"hours": h})), st.booleans())
def test_a_deadline_is_never_before_the_start_and_keeps_its_timezone(start, amount, working_days):
    deadline = add_working_time(start, working_days=working_days, **amount)
    assert deadline >= start
    assert deadline.tzinfo is start.tzinfo


@given(moments, st.floats(min_value=0, max_value=2000), office_hours)
def test_working_time_between_inverts_add_working_time(start, h, work_hours):
    deadline = add_working_time(start, hours=h, working_days=True, work_hours=work_hours)
    assert working_time_between(start, deadline, working_days=True, work_hours=work_hours) == timedelta(hours=h)


@given(moments, day_counts, office_hours)
def test_n_working_days_hold_n_full_working_days(start, n, work_hours):
    deadline = add_working_time(start, days=n, working_days=True, work_hours=work_hours)
    day_length = (
        timedelta(days=1)
        if work_hours is None
        else datetime.combine(date.min, work_hours[1]) - datetime.combine(date.min, work_hours[0])
    )
    assert working_time_between(start, deadline, working_days=True, work_hours=work_hours) == n * day_length


@given(naive_moments, naive_moments, naive_moments, office_hours)
def test_working_time_between_adds_up_across_a_middle_moment(a, b, c, work_hours):
    def between(x, y):
        return working_time_between(x, y, working_days=True, work_hours=work_hours)

    assert between(a, b) + between(b, c) == between(a, c)
    assert between(b, a) == -between(a, b)


@given(moments, st.floats(min_value=0, max_value=2000), day_counts)
def test_calendar_time_is_plain_timedelta_arithmetic(start, h, n):
    assert add_working_time(start, hours=h, working_days=False) == start + timedelta(hours=h)
    assert add_working_time(start, days=n, working_days=False) == start + timedelta(days=n)
