"""`gongzhi db_worker`: django-tasks-db's task worker, stopping as every long-running command here does
(issue #14, core/stopping.py).

The library's own worker logs from inside its signal handler (logging takes a lock: a second signal in
the middle can hang the process for ever, as `demands work` once did) and leaves with `sys.exit` from
wherever the signal lands. This one keeps the library's options, queue query, claiming and running of a
task, and replaces the loop around them: the handler only counts signals (StopFlag); the loop looks
between tasks and sleeps in short slices; a task in progress finishes (the deadline sweep asks
`stopping.stop_requested()` between its rows and ends early, each row committed whole); a third signal
within 5 s ends the process at once, and the database rolls back what was not committed.

Worker ids name the host and process (`host:pid:random`), so a worker starting later can tell a task that
a forced exit left "running" for ever from one another live worker runs: it marks the former failed, and
re-queues the deadline sweep's chain if that was the task cut off.

The command is management/commands/db_worker.py (gongzhi.core is listed before django_tasks_db in
INSTALLED_APPS, so it is the `db_worker`).
"""

import logging
import os
import socket
from collections.abc import Callable

from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from gongzhi.core.stopping import StopFlag

logger = logging.getLogger("gongzhi.tasks")


_on_abandoned: dict[str, Callable[[DBTaskResult], None]] = {}


def on_abandoned(task_path: str, function: Callable[[DBTaskResult], None]) -> None:
    """Call `function(task_result)` when a task of `task_path` is found abandoned (apps above register,
    e.g. demands restarts its sweep's chain)."""
    _on_abandoned[task_path] = function


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(12)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


class WorkerStopped(RuntimeError):
    """Recorded on a task a worker was made to leave half-way (a third stop signal, or killed)."""


class StoppableWorker(upstream.Worker):
    def __init__(self, **kwargs):
        self.stop = StopFlag()
        super().__init__(**kwargs)
        self.finished = {"succeeded": 0, "failed": 0}

    # The library's loop and handler set `running`; here it only reflects the flag.
    @property
    def running(self) -> bool:
        return not self.stop.requested

    @running.setter
    def running(self, value) -> None:
        pass

    def configure_signals(self) -> None:
        self.stop.install()

    def reset_signals(self) -> None:
        self.stop.restore()

    def shutdown(self, signum, frame) -> None:  # never installed: the flag's handler is
        raise AssertionError("StoppableWorker.shutdown is not a signal handler")

    def _queue(self):
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def _claim_next(self):
        """The next ready task, claimed in one exclusive transaction; None when there is none or the
        database is busy (a locked SQLite file is tried again next round); False on nothing ready."""
        tasks = self._queue()
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result if task_result is not None else False
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None
            raise

    def run(self) -> None:
        logger.info("task worker %s: queues %s; SIGTERM or Ctrl-C to stop", self.worker_id,
                    ",".join(self.queue_names))
        reap_abandoned(self.backend_name)
        if self.startup_delay and self.interval:
            self.stop.wait(self.interval * 0.5)  # workers started together do not all poll at once
        while not self.stop.requested:
            close_old_connections()
            try:
                task_result = self._claim_next()
            except (OperationalError, InterfaceError):
                # The database restarted or the connection dropped (issue #19): nothing was claimed; drop the
                # connection and try again after the interval, as a locked SQLite file is, instead of dying.
                logger.exception("task worker: the database did not answer; trying again in %g s", self.interval)
                connections.close_all()
                self.stop.wait(self.interval or 1)
                continue
            if task_result:
                self.run_task(task_result)
                task_result.refresh_from_db(fields=["status"])
                self.finished["succeeded" if task_result.status == TaskResultStatus.SUCCESSFUL else "failed"] += 1
            elif task_result is False and self.batch:
                logger.info("no task left: the batch is done")
                break
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                logger.info("ran the most tasks asked for (%d)", self.max_tasks)
                break
            close_old_connections()
            if not task_result:
                self.stop.wait(self.interval)
        if self.stop.requested:
            logger.info("stopping… (%s)", self.stop.reason)
        connections.close_all()
        logger.info("stopped: tasks succeeded %d, failed %d", self.finished["succeeded"], self.finished["failed"])


def reap_abandoned(backend_name: str) -> int:
    """Tasks left RUNNING by a worker of this host whose process is gone (forced out mid-task): mark them
    failed, so they do not read as running for ever, and call what an app registered for that task (the
    deadline sweep's chain is queued again). How many were reaped."""
    host = socket.gethostname()[:40]
    reaped = 0
    running = DBTaskResult.objects.filter(backend_name=backend_name, status=TaskResultStatus.RUNNING)
    for task_result in running:
        last = (task_result.worker_ids or [""])[-1].split(":")
        if len(last) != 3 or last[0] != host or not last[1].isdigit() or _alive(int(last[1])):
            continue
        task_result.set_failed(WorkerStopped(f"worker {':'.join(last)} stopped while running this task"))
        reaped += 1
        logger.warning("task %s (%s) was left running by a stopped worker: marked failed", task_result.id,
                       task_result.task_name)
        if task_result.task_path in _on_abandoned:
            _on_abandoned[task_result.task_path](task_result)
    return reaped
