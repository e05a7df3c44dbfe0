"""The one source of 'now' and 'today', so tests can move time without sleeping."""

import datetime as dt
from contextlib import contextmanager

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextmanager
def frozen_at(moment: dt.datetime):
    """Make now() return `moment` inside the block (tests only)."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield moment
    finally:
        _frozen = previous
