"""`gongzhi ledger verify` and `export`: a clean log verifies from the database, an export file and a
live server; each kind of tampering (a changed byte, a deleted entry, two swapped entries, a rewritten
stored hash, a rewritten history) is detected and the first bad entry named."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from gongzhi.core import events
from gongzhi.core.models import Event
from gongzhi.ledger import merkle, note, services, storage, verify
from gongzhi.ledger.models import Checkpoint, Entry, LogHead, Opening, Subtree

pytestmark = pytest.mark.usefixtures("ledger")

SIZE = 40


def record(count, start=0):
    """`count` events, every fifth with a private phone number, in one transaction."""
    with transaction.atomic():
        for i in range(start, start + count):
            private = {"phone": f"1380000{i:04d}"} if i % 5 == 0 else None
            events.record("demand.step", f"D-{i}", step=i, private=private)


@pytest.fixture
def log():
    """40 entries sequenced in batches of 16: checkpoints at 16, 32 and 40."""
    record(SIZE)
    services.sequence_pending(batch_size=16)
    assert LogHead.objects.get().size == SIZE


def run_verify(*args, state):
    out, err = io.StringIO(), io.StringIO()
    call_command("ledger", "verify", *args, "--state", str(state), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failure(*args, state, details=False):
    """The first line a failed verify prints (with details: and everything else it printed)."""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ledger", "verify", *args, "--state", str(state), stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    return (str(raised.value), err.getvalue()) if details else str(raised.value)


def sql(statement, params=()):
    """Raw SQL with {entry}, {subtree}, {opening} and {index} quoted for the database at hand."""
    names = {"entry": Entry._meta.db_table, "subtree": Subtree._meta.db_table, "opening": Opening._meta.db_table,
             "index": "index", "key": "key"}
    with connection.cursor() as cursor:
        cursor.execute(statement.format(**{k: connection.ops.quote_name(v) for k, v in names.items()}), params)


def change_one_byte(index):
    text = Entry.objects.get(index=index).text
    changed = text.replace(f'"step":{index}', f'"step":{index + 1}', 1)
    assert len(changed) == len(text) and changed != text
    sql("UPDATE {entry} SET text = %s WHERE {index} = %s", [changed, index])


def delete_entry(index):
    sql("DELETE FROM {opening} WHERE entry_id = %s", [index])
    sql("DELETE FROM {entry} WHERE {index} = %s", [index])


def swap_entries(first, second):
    # Openings follow their entries (foreign keys are checked at commit on both databases).
    for table in ("opening", "entry"):
        column = "entry_id" if table == "opening" else "{index}"
        for old, new in ((first, -1), (second, first), (-1, second)):
            sql(f"UPDATE {{{table}}} SET {column} = %s WHERE {column} = %s", [new, old])


def rewrite_stored_hash(level, index):
    sql("UPDATE {subtree} SET hash = %s WHERE {key} = %s", [b"\x07" * 32, storage.subtree_key(level, index)])


TAMPERING = [
    pytest.param(lambda: change_one_byte(21), "entry 21: leaf hash mismatch", id="one-byte"),
    pytest.param(lambda: delete_entry(7), "entry 7 missing", id="deleted"),
    pytest.param(lambda: swap_entries(12, 13), "entries 12 and 13 out of order", id="swapped-neighbours"),
    pytest.param(lambda: swap_entries(17, 29), "entries 17 and 29 out of order", id="swapped-apart"),
    pytest.param(lambda: rewrite_stored_hash(3, 2), "stored hash level 3 index 2 wrong", id="stored-hash"),
]


# --- the database ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clean_log_verifies_from_the_database_with_every_event_matched(log, tmp_path):
    out, err = run_verify("--db", state=tmp_path / "state.json")
    assert f"OK test.gongzhi.local/ledger: tree size {SIZE}" in out
    assert "3 checkpoint signatures" in out and f"{SIZE} events compared" in out
    assert "trusting the verifier key" in err  # first use, and said so


@pytest.mark.django_db
def test_entries_from_before_per_subject_pseudonyms_still_verify_and_new_ones_use_them(tmp_path, monkeypatch):
    from django.contrib.auth import get_user_model

    alice = get_user_model().objects.create_user("alice")
    per_subject = services.pseudonym
    # A log sequenced by the earlier version: one pseudonym per person, no switch index on the head.
    monkeypatch.setattr(services, "pseudonym", lambda user_id, subject=None: per_subject(user_id))
    with transaction.atomic():
        events.record("demand.filed", "D-1", actor=alice)
        events.record("demand.filed", "D-2", actor=alice)
    services.sequence_pending()
    LogHead.objects.update(actors_per_subject_from=None)
    monkeypatch.setattr(services, "pseudonym", per_subject)
    with transaction.atomic():
        events.record("demand.rated", "D-1", actor=alice)
        events.record("demand.rated", "D-2", actor=alice)
    services.sequence_pending()
    actors = [json.loads(t)["actor"] for t in Entry.objects.order_by("index").values_list("text", flat=True)]
    assert actors[0] == actors[1] == services.pseudonym(alice.pk)  # old entries stay as they were
    assert actors[2] != actors[3] and services.pseudonym(alice.pk) not in actors[2:]
    assert LogHead.objects.get().actors_per_subject_from == 2
    out, err = run_verify("--db", state=tmp_path / "state.json")
    assert "OK " in out and "4 events compared" in out
    assert "entries 0 to 1 name their actors by the legacy per-person pseudonym" in out + err
    # The switch index is checked, not trusted: moving it makes the old entries fail.
    LogHead.objects.update(actors_per_subject_from=0)
    assert failure("--db", state=tmp_path / "state2.json").startswith("FAILED: entry 0: does not match event")


@pytest.mark.django_db
@pytest.mark.parametrize("tamper,expected", TAMPERING)
def test_tampering_with_the_database_is_detected_and_the_first_bad_entry_named(log, tmp_path, tamper, expected):
    tamper()
    assert failure("--db", state=tmp_path / "state.json") == f"FAILED: {expected}"


@pytest.mark.django_db
def test_an_entry_rewritten_together_with_its_leaf_hash_no_longer_matches_its_event(log, tmp_path):
    text = Entry.objects.get(index=21).text.replace('"step":21', '"step":99')
    sql("UPDATE {entry} SET text = %s, leaf_hash = %s WHERE {index} = %s",
        [text, merkle.leaf_hash(text.encode()), 21])
    message = failure("--db", state=tmp_path / "state.json")
    assert message.startswith("FAILED: entry 21: does not match event") and "fields" in message


@pytest.mark.django_db
def test_a_committed_value_changed_in_the_event_journal_no_longer_opens_the_commitment(log, tmp_path):
    event = Event.objects.get(subject_id="D-10")
    Event.objects.filter(pk=event.pk).update(private={"phone": "13999999999"})
    message = failure("--db", state=tmp_path / "state.json")
    assert message.startswith("FAILED: entry 10: does not match event") and "commitments" in message


@pytest.mark.django_db
def test_an_event_without_an_entry_that_is_not_queued_fails_the_database_check(log, tmp_path):
    with connection.cursor() as cursor:  # written around the ORM: no post_save, so not queued
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(Event._meta.db_table)} (kind, subject_type, subject_id, at, data, "
            "private) SELECT kind, subject_type, 'D-x', at, data, private FROM "
            f"{connection.ops.quote_name(Event._meta.db_table)} WHERE id = %s",
            [Event.objects.order_by("id").first().pk],
        )
    assert "1 events have no ledger entry and are not queued" in failure("--db", state=tmp_path / "s.json")


@pytest.mark.django_db
def test_queued_events_are_reported_but_do_not_fail(log, tmp_path):
    record(2, start=SIZE)
    out, err = run_verify("--db", state=tmp_path / "state.json")
    assert "OK" in out and "2 events are queued" in err


# --- export files ------------------------------------------------------------------------------------


def export(path):
    call_command("ledger", "export", str(path), stdout=io.StringIO())
    return path


@pytest.mark.django_db
def test_an_export_holds_key_checkpoints_entries_and_stored_hashes_and_verifies_offline(log, tmp_path):
    path = export(tmp_path / "ledger.jsonl")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["format"] == "gongzhi-ledger-export/v1" and lines[0]["vkey"] == services.verifier_key()
    assert [line["size"] for line in lines[1:4]] == [16, 32, 40]
    entries = lines[4:]
    assert [e["index"] for e in entries] == list(range(SIZE))
    assert len(entries[15]["hashes"]) == 4  # leaf 15 completes subtrees at levels 1-4
    out, _ = run_verify("--export", str(path), "--key", services.verifier_key(), state=tmp_path / "state.json")
    assert f"OK test.gongzhi.local/ledger: tree size {SIZE}" in out


@pytest.mark.django_db
@pytest.mark.parametrize("tamper,expected", TAMPERING)
def test_an_export_of_a_tampered_database_fails_offline(log, tmp_path, tamper, expected):
    tamper()
    path = export(tmp_path / "ledger.jsonl")
    assert failure("--export", str(path), state=tmp_path / "state.json") == f"FAILED: {expected}"


@pytest.mark.django_db
@pytest.mark.parametrize("edit,expected", [
    (lambda lines: lines[:11] + lines[12:], "entry 7 missing"),
    (lambda lines: lines[:16] + [lines[17], lines[16]] + lines[18:], "entries 12 and 13 out of order"),
    (lambda lines: lines[:4] + [lines[4].replace("demand.step", "demand.stop")] + lines[5:],
     "entry 0: leaf hash mismatch"),
])
def test_editing_the_export_file_is_detected(log, tmp_path, edit, expected):
    path = export(tmp_path / "ledger.jsonl")
    path.write_text("\n".join(edit(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")
    assert failure("--export", str(path), state=tmp_path / "state.json") == f"FAILED: {expected}"


@pytest.mark.django_db
def test_a_pinned_key_that_is_not_the_logs_fails(log, tmp_path):
    other = note.Signer.generate("test.gongzhi.local/ledger").verifier_key()
    path = export(tmp_path / "ledger.jsonl")
    message = failure("--export", str(path), "--key", other, state=tmp_path / "state.json")
    assert "not the pinned" in message or "does not verify" in message


@pytest.mark.django_db
def test_the_state_file_pins_the_key_and_a_shrunk_log_fails(log, tmp_path):
    state = tmp_path / "state.json"
    run_verify("--db", state=state)
    remembered = json.loads(state.read_text())["logs"]["test.gongzhi.local/ledger"]
    assert (remembered["size"], remembered["vkey"]) == (SIZE, services.verifier_key())
    record(3, start=SIZE)
    services.sequence_pending()
    out, err = run_verify("--db", state=state)
    assert f"consistent with the checkpoint of size {SIZE}" in out and "trusting" not in err
    # Rolled back to an older checkpoint: the state file remembers the larger tree.
    state.write_text(state.read_text().replace(f'"size": {SIZE + 3}', f'"size": {SIZE + 9}'))
    message = failure("--db", state=state)
    assert message.startswith(f"FAILED: the log shrank: checkpoint of size {SIZE + 3} after size {SIZE + 9} ")


# --- a live server -----------------------------------------------------------------------------------


def rewrite_history():
    """What an operator with the signing key could do: drop the log, drop one event, sequence again."""
    Opening.objects.all().delete()
    Entry.objects.all().delete()
    Subtree.objects.all().delete()
    Checkpoint.objects.all().delete()
    LogHead.objects.all().delete()
    Event.objects.filter(subject_id="D-3").delete()
    services.queue_unsequenced()
    record(5, start=SIZE)
    services.sequence_pending()


@pytest.mark.django_db(transaction=True)
def test_a_live_server_verifies_over_http_and_a_rewritten_history_is_caught_next_time(log, live_server, tmp_path):
    state = tmp_path / "state.json"
    out, err = run_verify("--url", live_server.url, state=state)
    assert f"OK test.gongzhi.local/ledger: tree size {SIZE}" in out and "trusting the verifier key" in err
    assert "1 checkpoint signatures" in out

    rewrite_history()
    assert LogHead.objects.get().size == SIZE - 1 + 5  # a bigger, internally valid, re-signed log
    message = failure("--url", live_server.url, state=state)
    assert message == (f"FAILED: the checkpoint of size {SIZE + 4} is not consistent with the checkpoint of size "
                       f"{SIZE} verified on {json.loads(state.read_text())['logs']['test.gongzhi.local/ledger']['verified_at']}:"
                       " the log's history was rewritten")


@pytest.mark.django_db(transaction=True)
def test_a_changed_entry_is_caught_through_the_tiles(log, live_server, tmp_path):
    change_one_byte(21)
    assert failure("--url", live_server.url, state=tmp_path / "state.json") == "FAILED: entry 21: leaf hash mismatch"


def test_an_unreachable_server_is_not_a_verification(tmp_path, db):
    with pytest.raises(CommandError) as raised:
        run_verify("--url", "http://127.0.0.1:9", state=tmp_path / "state.json")
    assert raised.value.returncode == 2 and "cannot verify" in str(raised.value)


# --- the algorithm, pure ------------------------------------------------------------------------------


@pytest.mark.parametrize("values,expected", [
    ([1, 2, 3, 4], None),
    ([1, 3, 2, 4], (1, 2)),
    ([1, 5, 3, 4, 2, 6], (1, 4)),
    ([1, 3, 2, 2], (1, None)),
    ([], None),
])
def test_find_swap_names_the_pair_that_restores_the_order(values, expected):
    assert verify.find_swap(values) == expected


class MemorySource(verify.Source):
    """A log held in lists, for checking the algorithm without a database or a server."""

    def __init__(self, entries, notes, vkey, stored=None):
        self.rows, self.notes, self.vkey = list(entries), notes, vkey
        leaves = [merkle.leaf_hash(data) for _, data in self.rows]
        self.stored = stored if stored is not None else merkle.DictHashSource.from_leaf_hashes(leaves).hashes

    def served_key(self):
        return self.vkey

    def checkpoints(self):
        return self.notes

    def entries(self, size):
        return iter(self.rows)

    def holds_level(self, level):
        return True

    def stored_hashes(self, coords):
        return {c: self.stored[c] for c in coords if c in self.stored}


def memory_log(n, signer):
    entries = [(i, json.dumps({"event": i + 1, "step": i}, separators=(",", ":")).encode()) for i in range(n)]
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for _, d in entries])
    return entries, note.sign_note(note.format_checkpoint(signer.name, n, root), [signer])


def test_the_algorithm_accepts_a_good_log_and_rejects_a_fork_and_a_foreign_signature():
    signer = note.Signer.generate("memory/log")
    entries, signed = memory_log(10, signer)
    report = verify.verify(MemorySource(entries, [signed], signer.verifier_key()), key=signer.verifier_key())
    assert report.ok and report.counts["entries"] == 10

    _, other = memory_log(11, signer)
    forked = note.sign_note(note.format_checkpoint(signer.name, 10, b"\x01" * 32), [signer])
    report = verify.verify(MemorySource(entries, [forked, signed], signer.verifier_key()), key=signer.verifier_key())
    assert any("different roots (a fork)" in p.message for p in report.problems)

    stranger = note.Signer.generate("memory/log")
    report = verify.verify(MemorySource(entries, [signed], stranger.verifier_key()), key=stranger.verifier_key())
    assert not report.ok and "has no checkpoint signed by" in report.problems[-1].message
