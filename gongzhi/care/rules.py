"""Pure rules of special care: when the next visit to a person in a care group falls due, and whether it is
overdue. Plain dates in, plain values out (no Django)."""

import datetime as dt

OVERDUE, THIS_WEEK, LATER = "overdue", "this_week", "later"
WEEK = 7  # "due this week": within the next seven days, today included


def next_due(*, registered_on: dt.date, last_visit_on: dt.date | None, every_days: int) -> dt.date:
    """The day by which the next visit is due: `every_days` after the last visit, or after the registration
    when the person has not been visited since (a newly registered person is visited within one interval)."""
    if every_days < 1:
        raise ValueError("a visit interval is at least one day")
    start = max(d for d in (registered_on, last_visit_on) if d is not None)
    return start + dt.timedelta(days=every_days)


def status(due: dt.date, today: dt.date) -> str:
    """OVERDUE once the due day has passed, THIS_WEEK when it falls in the next WEEK days, else LATER."""
    if today > due:
        return OVERDUE
    if (due - today).days < WEEK:
        return THIS_WEEK
    return LATER


def days_overdue(due: dt.date, today: dt.date) -> int:
    return max(0, (today - due).days)


def sort_key(due: dt.date, today: dt.date) -> tuple[int, int]:
    """Overdue first (the longest overdue first), then by the due day, soonest first."""
    return (0 if today > due else 1, (due - today).days)
