"""Readiness checks (django-health-check): the database answers reads and writes, the worker beats, the ledger's
sequencer keeps up, the var folder has room. Each check says in words what it found, failing or not; nothing it
says names a host, a path, a user or a secret. Thresholds are settings (README, "Health and metrics").

/health/live/ runs no check at all: it answers as long as the web process does (no database), so a supervisor
can tell a hung process from a failing dependency. /health/ready/ runs all four: 200 when all pass, 503 with
each failing check's reason otherwise."""

from __future__ import annotations

import dataclasses
import shutil
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, transaction
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from gongzhi.core import clock, heartbeat
from gongzhi.core.models import Heartbeat
from gongzhi.ledger.models import Pending


def heartbeat_intervals() -> float:
    return float(getattr(settings, "GONGZHI_HEALTH_HEARTBEAT_INTERVALS", 3))


def sequencer_lag_limit() -> float:
    return float(getattr(settings, "GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS", 120))


def min_free_mb() -> float:
    return float(getattr(settings, "GONGZHI_HEALTH_MIN_FREE_MB", 1024))


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


@dataclasses.dataclass
class GongzhiCheck(HealthCheck):
    """A check run in the request's own thread (so it uses, and Django closes, the request's database
    connection), that keeps what it found in `detail` when it passes too."""

    name = "check"
    detail: str = dataclasses.field(default="", repr=False)

    async def run(self):
        try:
            self.detail = await sync_to_async(self.probe, thread_sensitive=True)()
        except DatabaseError as error:  # said in words, not as the library's "unknown error" with a traceback
            raise ServiceUnavailable(f"could not be checked: the database did not answer ({type(error).__name__})") \
                from error

    def probe(self) -> str:  # returns what it found; raises ServiceUnavailable(reason) when failing
        raise NotImplementedError


@dataclasses.dataclass
class DatabaseCheck(GongzhiCheck):
    """Reads and writes: the web server's own heartbeat row is written and read back in a transaction that
    commits, so a read-only standby, a full disk under the database or a lost connection all fail here."""

    name = "database"

    def probe(self) -> str:
        began = time.perf_counter()
        try:
            with transaction.atomic():
                row = heartbeat.record("web", 0)
                found = Heartbeat.objects.filter(pk=row.pk).values_list("pid", flat=True).first()
        except DatabaseError as error:
            # The class only: a driver's message may name the server, the user or the database.
            raise ServiceUnavailable(f"the database did not answer a write ({type(error).__name__})") from error
        if found != row.pid:
            raise ServiceUnavailable("the database did not return the row just written")
        return f"read and wrote in {(time.perf_counter() - began) * 1000:.0f} ms"


@dataclasses.dataclass
class WorkerCheck(GongzhiCheck):
    """The worker (`gongzhi demands work --forever`) beats on every pass of its loop; its freshest beat on any
    server must be younger than GONGZHI_HEALTH_HEARTBEAT_INTERVALS times its sweep interval. The same for the
    sweeper (`gongzhi demands sweep --forever`) once one has beaten."""

    name = "worker"

    def probe(self) -> str:
        beat = heartbeat.latest(heartbeat.WORKER)
        if beat is None:
            raise ServiceUnavailable("no worker has ever beaten: is `gongzhi demands work --forever` running?")
        age = max(0.0, (clock.now() - beat.beat_at).total_seconds())
        limit = heartbeat_intervals() * beat.interval_seconds
        if age > limit:
            raise ServiceUnavailable(f"the worker last beat {_seconds(age)} ago; stale after {_seconds(limit)} "
                                     f"({heartbeat_intervals():g} × its sweep interval of "
                                     f"{_seconds(beat.interval_seconds)})")
        said = f"last beat {_seconds(age)} ago (stale after {_seconds(limit)})"
        # Where deadlines and jobs run in a process of their own (deploy/systemd/gongzhi-sweeper.service), that one
        # is checked too, once it has ever beaten.
        sweeper = heartbeat.latest(heartbeat.SWEEPER)
        if sweeper is not None:
            age = max(0.0, (clock.now() - sweeper.beat_at).total_seconds())
            limit = heartbeat_intervals() * sweeper.interval_seconds
            if age > limit:
                raise ServiceUnavailable(f"the sweeper (`gongzhi demands sweep --forever`) last beat {_seconds(age)} "
                                         f"ago; stale after {_seconds(limit)}")
            said += f"; sweeper {_seconds(age)} ago"
        return said


def sequencer_lag() -> tuple[int, float]:
    """(events waiting in the ledger's outbox, age in seconds of the oldest of them; 0 when none)."""
    oldest = Pending.objects.order_by("event_id").values_list("event__at", flat=True).first()
    if oldest is None:
        return 0, 0.0
    return Pending.objects.count(), max(0.0, (clock.now() - oldest).total_seconds())


@dataclasses.dataclass
class SequencerCheck(GongzhiCheck):
    """Every event waits in the ledger's outbox until the sequencer puts it in the public log; the oldest
    waiting must be younger than GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS."""

    name = "ledger_sequencer"

    def probe(self) -> str:
        count, age = sequencer_lag()
        if count == 0:
            return "no event waiting to be sequenced"
        limit = sequencer_lag_limit()
        found = f"{count} event{'s' if count != 1 else ''} waiting to be sequenced, the oldest for {_seconds(age)}"
        if age > limit:
            hint = (" (is `gongzhi ledger sequence --forever` running?)"
                    if settings.GONGZHI_LEDGER_SEQUENCER == "loop" else "")
            raise ServiceUnavailable(f"{found}; the limit is {_seconds(limit)}{hint}")
        return found


@dataclasses.dataclass
class DiskCheck(GongzhiCheck):
    """The folder of GONGZHI_VAR_DIR (photos, the ledger's key, the rate-limit counters, metrics) must keep at
    least GONGZHI_HEALTH_MIN_FREE_MB free."""

    name = "disk"

    def probe(self) -> str:
        free_mb = shutil.disk_usage(settings.VAR_DIR).free / 2**20
        found = f"{free_mb:,.0f} MB free in the var folder (at least {min_free_mb():,.0f} MB wanted)"
        if free_mb < min_free_mb():
            raise ServiceUnavailable(found)
        return found


READINESS = (DatabaseCheck, WorkerCheck, SequencerCheck, DiskCheck)
