"""Group commit: many request threads of one process hand their rows to one writer thread, which stores
whatever has gathered in one transaction and then wakes each caller with its own result. One commit (and,
on SQLite, one fsync and one turn of the single write lock) then serves a whole batch, which is what lets
the intake fast path accept demands durably at a high rate (docs/decisions/0005-intake-queue.md)."""

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

logger = logging.getLogger(__name__)


class CommitTimeout(Exception):
    """The writer did not answer in time; the row may or may not have been stored."""


@dataclass
class _Slot:
    item: Any
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """`write_batch(items) -> results` (same length and order) must store the items in one transaction.

    `submit(item)` returns the item's result once its batch has committed, or raises the batch's error.
    A failed batch is retried item by item, so one bad row fails only its own caller. A caller that is
    already inside a transaction (a test, a larger use case) writes its item itself, in that transaction:
    the writer thread's connection could not see, or join, the caller's uncommitted work.
    """

    def __init__(self, write_batch: Callable[[list], list], *, max_batch: int = 200, name: str = "group-commit"):
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._name = name
        self._queue: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.batches = 0  # counters for the curious (benchmarks, tests)
        self.items = 0

    def submit(self, item, *, timeout: float = 30.0):
        if connection.in_atomic_block:
            return self._write_batch([item])[0]
        slot = _Slot(item)
        self._ensure_writer()
        self._queue.put(slot)
        if not slot.done.wait(timeout):
            raise CommitTimeout(f"{self._name}: no commit within {timeout:g} s")
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _ensure_writer(self) -> None:
        # After a fork (gunicorn workers) the parent's thread does not exist in the child: start our own.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        pending = self._queue
        while True:
            batch = [pending.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(pending.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Slot]) -> None:
        try:
            results = self._write_batch([slot.item for slot in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self._name}: {len(results)} results for {len(batch)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting callers, never swallowed
            self._recover_connection()
            if len(batch) > 1:
                logger.warning("%s: a batch of %d failed (%s); writing its items one by one", self._name,
                               len(batch), exc)
                for slot in batch:
                    self._commit([slot])
                return
            batch[0].error = exc
            batch[0].done.set()
            return
        self.batches += 1
        self.items += len(batch)
        for slot, result in zip(batch, results):
            slot.result = result
            slot.done.set()

    @staticmethod
    def _recover_connection() -> None:
        # A broken connection (database restarted) would fail every later batch: drop it, reconnect next time.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def in_one_transaction(write: Callable[[list], list]) -> Callable[[list], list]:
    """Wrap a batch writer so that the whole batch is one transaction."""

    def wrapped(items: list) -> list:
        with transaction.atomic():
            return write(items)

    return wrapped
