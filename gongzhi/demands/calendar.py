"""Time limits of demands: the official Chinese working-day calendar and deadline arithmetic.

Plain dates and datetimes in, plain values out. The services of the demands app compute a demand's
deadlines with `TimeLimit.deadlines` and "overdue by" with `working_time_between`.

Working days. A day is a working day unless the State Council General Office's yearly notice makes
it a holiday (放假日, including the weekdays given off in exchange); a Saturday or Sunday is a
working day only when the notice makes it one (调休上班). The notices are data the office keeps
(core.workdays: `gongzhi calendar import`, /calendar/). A year without one (see `is_known_year`) falls
back to "Monday to Friday", which is wrong around its holidays: deadlines counted through it are
provisional until the notice is imported, and are then recomputed.

Local time. All arithmetic is done in the wall-clock time of the datetime given: a timezone-aware
datetime keeps its tzinfo, so callers pass Asia/Shanghai datetimes (China has no daylight saving
time, so wall-clock and elapsed time agree). Naive datetimes are taken as local time as they are.

Working time. With `working_days=True`, working time is every hour of every working day
(00:00–24:00), or only the hours `work_hours=(opens, closes)` of every working day when given.
A moment outside working time (a holiday, a weekend, or outside `work_hours`) counts as the next
moment working time begins: a demand received on Saturday starts its clock on Monday 00:00 (or at
Monday's opening time when `work_hours` are given).
"""

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from gongzhi.core import workdays

__all__ = [
    "DEFAULT_TIME_LIMITS",
    "TimeLimit",
    "add_working_time",
    "is_known_year",
    "is_working_day",
    "provisional_years",
    "working_time_between",
]

_ONE_DAY = timedelta(days=1)


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day under the holiday notice for its year (core.workdays)."""
    return workdays.is_working_day(day)


def is_known_year(year: int) -> bool:
    """Whether `year`'s holiday notice is known (the office's entry or the library's). For any other year
    every Monday to Friday counts as a working day: its holidays are unknown, not absent."""
    return workdays.is_known_year(year)


def provisional_years(start: datetime, end: datetime) -> list[int]:
    """The years from `start` to `end` whose notice is not known: a deadline counted across them in working
    days is provisional (recomputed when the notice is imported)."""
    return [year for year in range(start.year, max(start.year, end.year) + 1) if not is_known_year(year)]


def _next_working_day(day: date) -> date:
    day += _ONE_DAY
    while not is_working_day(day):
        day += _ONE_DAY
    return day


def _working_periods(moment: datetime, work_hours: tuple[time, time] | None) -> Iterator[tuple[datetime, datetime]]:
    """The working periods from `moment` on, in order, as naive [start, end) pairs; endless.

    The first period is cut to begin at `moment` when `moment` falls inside it. Periods of
    consecutive working days are not merged (without `work_hours` one ends where the next begins).
    """
    day = moment.date()
    while True:
        if is_working_day(day):
            if work_hours is None:
                opens, closes = datetime.combine(day, time.min), datetime.combine(day + _ONE_DAY, time.min)
            else:
                opens, closes = datetime.combine(day, work_hours[0]), datetime.combine(day, work_hours[1])
            if closes > moment:
                yield max(opens, moment), closes
        day += _ONE_DAY


def _check_datetime(name: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(value).__name__}")


def _check_work_hours(work_hours: object, working_days: object) -> None:
    if not isinstance(working_days, bool):
        raise ValueError("working_days must be True or False")
    if work_hours is None:
        return
    if not working_days:
        raise ValueError("work_hours only apply when counting working days (working_days=True)")
    if not (
        isinstance(work_hours, tuple)
        and len(work_hours) == 2
        and all(isinstance(t, time) and t.tzinfo is None for t in work_hours)
    ):
        raise ValueError("work_hours must be a pair of naive times (opens, closes)")
    if not work_hours[0] < work_hours[1]:
        raise ValueError("work_hours must open before they close; use None for the whole day")


def add_working_time(
    start: datetime,
    hours: float | None = None,
    days: int | None = None,
    *,
    working_days: bool,
    work_hours: tuple[time, time] | None = None,
) -> datetime:
    """The deadline `hours` or `days` after `start`; give exactly one of them.

    With `working_days=False` this is plain `start + timedelta(...)`: the limit runs around the
    clock through weekends and holidays (emergencies, utilities).

    With `working_days=True`:
    - `start` is first moved to the next moment of working time if it is outside it (see the
      module docstring): received on a holiday, the clock starts when the next working day begins;
    - `days=n` is the same clock time on the n-th working day after that moment (so a working day
      is always a whole one, and the deadline always falls on a working day, within `work_hours`
      when given);
    - `hours=h` counts only the working time of working days: 24 h per working day, or only the
      `work_hours` of each working day. A deadline that uses up a period exactly is the end of that
      period (17:00, not 09:00 of the next working day; 24:00 is written as the next day's 00:00).

    Zero hours give `start` itself; zero days give `start` moved to working time (the moment and
    clock time the days are counted from). Raises ValueError for negative, non-finite, both or
    neither amounts, malformed `work_hours` (which need working_days=True), or a deadline past the
    end of the calendar.
    """
    _check_datetime("start", start)
    _check_work_hours(work_hours, working_days)
    if (hours is None) == (days is None):
        raise ValueError("give exactly one of hours or days")
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, numbers.Real) or not math.isfinite(hours) or hours < 0
    ):
        raise ValueError(f"hours must be a finite number ≥ 0, not {hours!r}")
    if days is not None and (isinstance(days, bool) or not isinstance(days, numbers.Integral) or days < 0):
        raise ValueError(f"days must be a whole number ≥ 0, not {days!r}")

    try:
        return _deadline(start, hours, days, working_days, work_hours)
    except OverflowError:
        raise ValueError(f"the deadline from {start} would fall after the year 9999") from None


def _deadline(
    start: datetime, hours: float | None, days: int | None, working_days: bool, work_hours: tuple[time, time] | None
) -> datetime:
    amount = timedelta(hours=float(hours)) if hours is not None else timedelta(days=int(days))
    if not working_days:
        return start + amount

    local = start.replace(tzinfo=None)
    periods = _working_periods(local, work_hours)
    if days is not None:
        anchor, _ = next(periods)
        day = anchor.date()
        for _ in range(days):
            day = _next_working_day(day)
        deadline = datetime.combine(day, anchor.time())
    elif not amount:
        # Not moved to working time: a deadline ending a period (17:00) plus nothing stays 17:00.
        deadline = local
    else:
        remaining = amount
        for period_start, period_end in periods:
            if period_end - period_start >= remaining:
                deadline = period_start + remaining
                break
            remaining -= period_end - period_start
    return deadline.replace(tzinfo=start.tzinfo)


def working_time_between(
    start: datetime,
    end: datetime,
    *,
    working_days: bool,
    work_hours: tuple[time, time] | None = None,
) -> timedelta:
    """The working time from `start` to `end` (e.g. how long a demand has been overdue).

    With `working_days=False` this is `end - start`. With `working_days=True` only working time
    counts, as in `add_working_time`, whose inverse it is: for any h,
    `working_time_between(s, add_working_time(s, hours=h, ...), ...) == timedelta(hours=h)`.
    Negative when `end` is before `start`. An aware `end` is first converted to `start`'s timezone;
    mixing naive and aware datetimes raises ValueError.
    """
    _check_datetime("start", start)
    _check_datetime("end", end)
    _check_work_hours(work_hours, working_days)
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError("start and end must both be naive or both be timezone-aware")
    if start.tzinfo is not None:
        end = end.astimezone(start.tzinfo)
    if not working_days:
        return end - start
    local_start, local_end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if local_end < local_start:
        return -working_time_between(end, start, working_days=True, work_hours=work_hours)

    total = timedelta(0)
    for period_start, period_end in _working_periods(local_start, work_hours):
        if period_start >= local_end:
            break
        total += min(period_end, local_end) - period_start
    return total


@dataclass(frozen=True)
class TimeLimit:
    """How long the units have for one urgency of demand, both counted from receipt.

    `dispatch_hours`: until the demand must be dispatched (派单) to a unit.
    `feedback_hours` or `feedback_days` (exactly one): until the unit's first feedback (答复).
    `working_days`: whether the limits count only working time (see `add_working_time`) or run
    around the clock.
    """

    dispatch_hours: float
    feedback_hours: float | None = None
    feedback_days: int | None = None
    working_days: bool = False

    def __post_init__(self) -> None:
        # Fail when the limit is configured, not when the first demand arrives.
        probe = datetime(2025, 1, 6, 9)
        add_working_time(probe, hours=self.dispatch_hours, working_days=self.working_days)
        add_working_time(probe, hours=self.feedback_hours, days=self.feedback_days, working_days=self.working_days)

    def deadlines(
        self, received_at: datetime, work_hours: tuple[time, time] | None = None
    ) -> tuple[datetime, datetime]:
        """(dispatch due, feedback due) for a demand received at `received_at`.

        `work_hours` narrow working time to office hours; they apply only to limits counted in
        working days — limits running around the clock ignore them.
        """
        hours_of_work = work_hours if self.working_days else None
        dispatch_due = add_working_time(
            received_at, hours=self.dispatch_hours, working_days=self.working_days, work_hours=hours_of_work
        )
        feedback_due = add_working_time(
            received_at,
            hours=self.feedback_hours,
            days=self.feedback_days,
            working_days=self.working_days,
            work_hours=hours_of_work,
        )
        return dispatch_due, feedback_due


# The "DB11-style" defaults of the demands issue, after Beijing's 接诉即办 practice, keyed by urgency;
# the demands app seeds its configurable limits from them.
# - emergency (紧急, risk to life or property): dispatch within 1 h, first feedback within 2 h,
#   around the clock.
# - utilities (水电气热, water, power, gas, heating): dispatch within 2 h, feedback within 24 h,
#   around the clock — an outage does not wait for Monday.
# - ordinary (一般) and complex (较复杂): feedback within 7 and 15 days. We read these as *working*
#   days, as Chinese administrative time limits usually are (行政许可法 第八十二条), so a
#   demand received before the Spring Festival does not fall due during it. The rules set no
#   dispatch limit for them; we use 2 working hours, the same as utilities, so an ordinary demand
#   received on Friday evening or during a holiday is dispatched in the first hours of the next
#   working day.
DEFAULT_TIME_LIMITS: Mapping[str, TimeLimit] = MappingProxyType(
    {
        "emergency": TimeLimit(dispatch_hours=1, feedback_hours=2, working_days=False),
        "utilities": TimeLimit(dispatch_hours=2, feedback_hours=24, working_days=False),
        "ordinary": TimeLimit(dispatch_hours=2, feedback_days=7, working_days=True),
        "complex": TimeLimit(dispatch_hours=2, feedback_days=15, working_days=True),
    }
)
