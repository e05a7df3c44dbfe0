"""Periodic jobs for the long-running worker (`gongzhi demands work --forever`): apps above register what
should run every so often; the worker runs what is due. Jobs must be idempotent: a restart runs each once."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    function: Callable[[], object]
    every_seconds: float
    first_after_seconds: float = 0.0
    next_at: float | None = None


_jobs: dict[str, Job] = {}


def register(name: str, function: Callable[[], object], every_seconds: float, *,
             first_after_seconds: float = 0.0) -> None:
    """Run `function` every `every_seconds`, the first time `first_after_seconds` after the worker starts
    (heavy jobs wait, so that a restarted worker first catches up with its queue)."""
    _jobs[name] = Job(name, function, every_seconds, first_after_seconds)


def jobs() -> list[Job]:
    return list(_jobs.values())


def run_due(now: float | None = None) -> list[str]:
    """Run every job whose time has come; the names of those that ran. A job that fails is logged and tried
    again at its next time: one broken job stops no other."""
    now = time.monotonic() if now is None else now
    ran = []
    for job in list(_jobs.values()):
        if job.next_at is None:
            job.next_at = now + job.first_after_seconds
        if now < job.next_at:
            continue
        job.next_at = now + job.every_seconds
        try:
            job.function()
            ran.append(job.name)
        except Exception:  # noqa: BLE001 - logged with its traceback; the loop goes on
            logger.exception("periodic job %s failed", job.name)
    return ran
