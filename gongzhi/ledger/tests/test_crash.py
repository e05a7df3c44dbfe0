"""Durability and concurrency with real processes: kill the sequencer mid-batch, restart it, and check
that nothing acknowledged was lost and the stored tree is exactly the tree of the entries; several
writer processes sequencing at once never share an index.

Each test gets its own database (a SQLite file, or a fresh database on the PostgreSQL server named
by DATABASE_URL), migrated and driven only through subprocesses of the `gongzhi` command.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gongzhi.core.tests.throwaway import throwaway_database

ROOT = Path(__file__).resolve().parents[3]
GONGZHI = str(Path(sys.executable).parent / "gongzhi")

RECORD = """
import sys, django
django.setup()
from django.db import transaction
from gongzhi.core import events
count, per_transaction, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for start in range(0, count, per_transaction):
    with transaction.atomic():
        for i in range(start, min(start + per_transaction, count)):
            events.record("test.step", f"{prefix}-{i}", step=i, private={"phone": "1380000%04d" % i})
"""

CHECK = """
import hashlib, json, sys, django
django.setup()
from gongzhi.core.models import Event
from gongzhi.ledger import merkle, note, services, storage
from gongzhi.ledger.models import Entry, LogHead, Pending, Subtree
rows = list(Entry.objects.order_by("index").values_list("index", "event_id", "leaf_hash", "text"))
leaves = [merkle.leaf_hash(text.encode()) for *_, text in rows]
head = LogHead.objects.filter(pk=1).first()
expected = {storage.subtree_key(level, index): value
            for (level, index), value in merkle.DictHashSource.from_leaf_hashes(leaves).hashes.items() if level}
checkpoint_ok = None
if head is not None and head.checkpoint:
    text, _ = note.open_note(head.checkpoint, [note.Verifier.from_vkey(services.verifier_key())])
    checkpoint = note.parse_checkpoint(text)
    checkpoint_ok = (checkpoint.size, checkpoint.root) == (head.size, bytes(head.root))
sequenced = {event_id for _, event_id, _, _ in rows}
print(json.dumps({
    "size": head.size if head else 0,
    "entries": len(rows),
    "events": Event.objects.count(),
    "pending": Pending.objects.count(),
    "indexes_contiguous": [index for index, *_ in rows] == list(range(len(rows))),
    "one_entry_per_event": len(sequenced) == len(rows),
    "unsequenced_are_pending": set(Event.objects.values_list("id", flat=True)) - sequenced
        == set(Pending.objects.values_list("event_id", flat=True)),
    "leaf_hashes_ok": [bytes(row[2]) for row in rows] == leaves,
    "root_ok": bytes(head.root) == merkle.root_from_leaf_hashes(leaves) if head else not rows,
    "subtrees_ok": {key: bytes(value) for key, value in Subtree.objects.values_list("key", "hash")} == expected,
    "checkpoint_ok": checkpoint_ok,
    "digest": [hashlib.sha256("".join(text for *_, text in rows[:n]).encode()).hexdigest()
               for n in map(int, sys.argv[1:])],
}))
"""


@pytest.fixture
def log_database(tmp_path):
    """A migrated database for subprocesses, and the environment that points them at it."""
    with throwaway_database(tmp_path, "gongzhi_crash", GONGZHI_LEDGER_SEQUENCER="loop",
                            GONGZHI_LEDGER_BATCH_SIZE="50") as database:
        yield database.env


def run(env, *argv, expect=0, timeout=120, **extra):
    result = subprocess.run(argv, env={**env, **extra}, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == expect, (argv, result.returncode, result.stdout[-2000:], result.stderr[-4000:])
    return result


def record(env, count, per_transaction=25, prefix="demand", **extra):
    run(env, sys.executable, "-c", RECORD, str(count), str(per_transaction), prefix, **extra)


def check(env, *digest_lengths):
    return json.loads(run(env, sys.executable, "-c", CHECK, *map(str, digest_lengths)).stdout)


def assert_consistent(state):
    for name in ("indexes_contiguous", "one_entry_per_event", "unsequenced_are_pending", "leaf_hashes_ok",
                 "root_ok", "subtrees_ok"):
        assert state[name] is True, (name, state)
    assert state["size"] == state["entries"]
    assert state["checkpoint_ok"] in (True, None)


@pytest.mark.parametrize("stage", ["entries", "hashes", "head"])
def test_a_crash_inside_a_batch_loses_nothing_acknowledged_and_leaves_the_tree_consistent(log_database, stage):
    record(log_database, 400)
    # The third batch dies after writing its `stage` rows, before its commit: batches 1-2 (100
    # entries) were acknowledged.
    run(log_database, GONGZHI, "ledger", "sequence", "--forever", expect=86,
        GONGZHI_LEDGER_TEST_CRASH=f"{stage}:3")
    after_crash = check(log_database, 100)
    assert_consistent(after_crash)
    assert (after_crash["size"], after_crash["pending"], after_crash["checkpoint_ok"]) == (100, 300, True)

    run(log_database, GONGZHI, "ledger", "sequence", "--once")
    after_restart = check(log_database, 100)
    assert_consistent(after_restart)
    assert (after_restart["size"], after_restart["events"], after_restart["pending"]) == (400, 400, 0)
    assert after_restart["checkpoint_ok"] is True
    assert after_restart["digest"] == after_crash["digest"]  # the acknowledged entries did not change


def test_kill_9_while_sequencing_forever_then_restart(log_database):
    record(log_database, 3000, per_transaction=100)
    sequencer = subprocess.Popen([GONGZHI, "ledger", "sequence", "--forever"], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env={**log_database, "GONGZHI_LEDGER_BATCH_SIZE": "20"})
    try:
        assert sequencer.stdout.readline().startswith(b"sequencing every")
        deadline = time.monotonic() + 60
        while check(log_database)["size"] == 0 and time.monotonic() < deadline:
            pass  # each check is a subprocess: it waits long enough by itself
    finally:
        sequencer.send_signal(signal.SIGKILL)
        sequencer.wait(timeout=30)
    assert sequencer.returncode == -signal.SIGKILL
    after_kill = check(log_database)
    assert_consistent(after_kill)
    assert 0 < after_kill["size"]
    run(log_database, GONGZHI, "ledger", "sequence", "--once")
    final = check(log_database)
    assert_consistent(final)
    assert (final["size"], final["pending"], final["checkpoint_ok"]) == (3000, 0, True)


def test_concurrent_writer_processes_and_a_sequencer_never_share_an_index(log_database):
    loop = subprocess.Popen([GONGZHI, "ledger", "sequence", "--forever", "--interval", "0.02"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=log_database)
    try:
        writers = [
            subprocess.Popen([sys.executable, "-c", RECORD, "150", "1", f"writer{n}"], cwd=ROOT,
                             stderr=subprocess.PIPE, env={**log_database, "GONGZHI_LEDGER_SEQUENCER": "inline"})
            for n in range(3)
        ]
        for writer in writers:
            _, stderr = writer.communicate(timeout=180)
            assert writer.returncode == 0, stderr.decode()[-3000:]
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.communicate(timeout=60)
    assert loop.returncode == 0
    state = check(log_database)
    assert_consistent(state)
    assert (state["size"], state["events"], state["pending"], state["checkpoint_ok"]) == (450, 450, 0, True)
