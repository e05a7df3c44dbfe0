"""Heartbeats of the long-running processes: each beats as it goes round its loop (one small row per kind of
process and host, overwritten in place), so the readiness check and the metrics can tell, from any server,
how long ago a worker last showed it was alive (gongzhi/ops)."""

from __future__ import annotations

import os
import socket
import time

from django.db import transaction

from . import clock
from .models import Heartbeat

WORKER = "worker"
SWEEPER = "sweeper"  # `gongzhi demands sweep --forever`, when deadlines and jobs run apart from filing
# At most one write per this many seconds, however fast the loop goes round (an idle worker polls twice a second).
MAX_WRITE_SECONDS = 10.0


def host_name() -> str:
    return socket.gethostname()[:255]


class Beater:
    """Call beat() on every pass of a loop; it writes the row when the last write is older than a fraction of
    the interval (at most every MAX_WRITE_SECONDS), so a loop that goes round quickly costs one UPDATE now and
    then. `interval` is the longest the loop means to go between passes when all is well."""

    def __init__(self, kind: str, interval: float, *, monotonic=time.monotonic):
        self.kind = kind
        self.monotonic = monotonic
        self.interval = max(float(interval), 1.0)
        self.every = min(MAX_WRITE_SECONDS, self.interval / 2)
        self.started_at = clock.now()
        self.last = None  # monotonic() of the last write

    def beat(self) -> bool:
        """Record a beat if one is due; True when it wrote. A failed write (the database away) is left to the
        loop's own error handling: the next pass tries again."""
        now = self.monotonic()
        if self.last is not None and now - self.last < self.every:
            return False
        record(self.kind, self.interval, started_at=self.started_at)
        self.last = now
        return True


def record(kind: str, interval: float, *, started_at=None) -> Heartbeat:
    """Write this process's beat for `kind` now (one row per kind and host)."""
    now = clock.now()
    with transaction.atomic():
        row, _ = Heartbeat.objects.update_or_create(
            kind=kind, host=host_name(),
            defaults={"pid": os.getpid(), "beat_at": now, "interval_seconds": float(interval),
                      "started_at": started_at or now},
        )
    return row


def latest(kind: str) -> Heartbeat | None:
    """The freshest beat of `kind` on any host, or None when none has beaten yet."""
    return Heartbeat.objects.filter(kind=kind).order_by("-beat_at").first()
