"""Pure rules of patrol: when a plan is due, how far a check-in is from its place, and which device times a
queued record may carry. No Django here."""

import datetime as dt
import math

EARTH_RADIUS_M = 6_371_008.8
MAX_CLIENT_AGE = dt.timedelta(days=7)
# A phone's clock may run a little ahead of the server's: this much "future" is taken as now.
CLOCK_SKEW = dt.timedelta(minutes=5)


def is_due(day: dt.date, *, start_date: dt.date, every_days: int | None, weekdays: list[int]) -> bool:
    """Whether a plan starting on `start_date` has a patrol on `day`: on its named weekdays (0 = Monday),
    or every `every_days` days counted from the start date. Never before the start."""
    if day < start_date:
        return False
    if weekdays:
        return day.weekday() in weekdays
    if every_days:
        return (day - start_date).days % every_days == 0
    return False


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, WGS-84 mean radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def recorded_time(client: dt.datetime | None, received: dt.datetime) -> tuple[dt.datetime | None, str]:
    """The time to record for something the device says happened at `client`, received at `received`:
    (time, "") when acceptable (none given: the received time), else (None, why): in the future beyond
    the clock skew allowed, or older than MAX_CLIENT_AGE."""
    if client is None:
        return received, ""
    if client.tzinfo is None:
        return None, "naive"
    if client > received + CLOCK_SKEW:
        return None, "future"
    if client < received - MAX_CLIENT_AGE:
        return None, "too_old"
    return min(client, received), ""
