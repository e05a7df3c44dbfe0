"""Group commit: callers on many threads share one writer; each gets its own result, batches form while
the writer is busy, one bad item fails only its caller, and a caller inside a transaction writes itself."""

import threading

import pytest
from django.db import transaction

from gongzhi.core.groupcommit import CommitTimeout, GroupCommit


class GatedWriter:
    """Records each batch; the first batch waits until the test opens the gate."""

    def __init__(self):
        self.batches: list[list] = []
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self, items):
        self.entered.set()
        if not self.batches:
            self.gate.wait(10)
        if "bad" in items:
            raise ValueError("bad item")
        self.batches.append(list(items))
        self.threads.append(threading.current_thread().name)
        return [f"stored {item}" for item in items]


def submit_from_threads(committer, items):
    results, errors = {}, {}

    def one(item):
        try:
            results[item] = committer.submit(item)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors[item] = exc

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads, results, errors


def wait_until_queued(committer, n):
    for _ in range(100_000):
        if committer._queue.qsize() >= n:
            return
        threading.Event().wait(0.001)
    raise AssertionError("items never queued")


def test_items_arriving_while_the_writer_is_busy_share_one_batch_and_each_caller_gets_its_result():
    writer = GatedWriter()
    committer = GroupCommit(writer, name="test-commit")
    first, results, errors = submit_from_threads(committer, ["a"])
    assert writer.entered.wait(10)  # the writer has taken "a" and waits at the gate
    more, more_results, more_errors = submit_from_threads(committer, [f"x{i}" for i in range(9)])
    wait_until_queued(committer, 9)
    writer.gate.set()
    for thread in first + more:
        thread.join(10)
    assert results == {"a": "stored a"} and not errors and not more_errors
    assert more_results == {f"x{i}": f"stored x{i}" for i in range(9)}
    assert writer.batches[0] == ["a"] and sorted(writer.batches[1]) == sorted(more_results)
    assert committer.batches == 2 and committer.items == 10
    assert set(writer.threads) == {"test-commit"}


def test_a_bad_item_fails_only_its_own_caller():
    writer = GatedWriter()
    committer = GroupCommit(writer, name="test-commit")
    blocker, _, _ = submit_from_threads(committer, ["first"])
    assert writer.entered.wait(10)
    threads, results, errors = submit_from_threads(committer, ["ok1", "bad", "ok2"])
    wait_until_queued(committer, 3)
    writer.gate.set()
    for thread in blocker + threads:
        thread.join(10)
    assert results == {"ok1": "stored ok1", "ok2": "stored ok2"}
    assert isinstance(errors["bad"], ValueError)


def test_a_writer_that_does_not_answer_in_time_is_a_timeout_not_a_hang():
    writer = GatedWriter()
    committer = GroupCommit(writer, name="test-commit")
    with pytest.raises(CommitTimeout):
        committer.submit("slow", timeout=0.05)
    writer.gate.set()


@pytest.mark.django_db
def test_a_caller_inside_a_transaction_writes_in_it_on_its_own_thread():
    writer = GatedWriter()
    writer.gate.set()
    committer = GroupCommit(writer, name="test-commit")
    with transaction.atomic():
        assert committer.submit("mine") == "stored mine"
    assert writer.threads == [threading.current_thread().name]
    assert committer._thread is None  # no writer thread was needed
