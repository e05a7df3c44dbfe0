"""The ledger's use cases: outbox, sequencing in batches, checkpoints, commitments, receipts, concurrency."""

import datetime as dt
import hashlib
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from gongzhi.core import events
from gongzhi.core.canonical import canonical_json
from gongzhi.core.models import Event
from gongzhi.ledger import merkle, note, queries, services, storage
from gongzhi.ledger.models import Checkpoint, Entry, LogHead, Opening, Pending, Subtree

pytestmark = pytest.mark.usefixtures("ledger")


def stored_leaf_hashes():
    return [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]


def verified_checkpoint(signed: str) -> note.Checkpoint:
    text, names = note.open_note(signed, [note.Verifier.from_vkey(services.verifier_key())])
    assert names == [services.origin()]
    return note.parse_checkpoint(text)


@pytest.mark.django_db
def test_recorded_events_are_queued_in_their_own_transaction(record_events):
    recorded = record_events(3)
    assert sorted(Pending.objects.values_list("event_id", flat=True)) == [e.pk for e in recorded]
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_events_are_sequenced_in_id_order_with_consecutive_indexes(record_events):
    recorded = record_events(25)
    assert services.sequence_pending(batch_size=7) == 25
    entries = list(Entry.objects.order_by("index").values_list("index", "event_id"))
    assert entries == [(i, e.pk) for i, e in enumerate(recorded)]
    assert Pending.objects.count() == 0
    assert services.sequence_pending() == 0


@pytest.mark.django_db
def test_rolled_back_events_never_reach_the_log(record_events):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record("test.step", "demand-1")
        raise RuntimeError("the domain change failed")
    kept = record_events(1)
    services.sequence_pending()
    assert list(Entry.objects.values_list("event_id", flat=True)) == [kept[0].pk]


@pytest.mark.django_db
def test_stored_root_equals_the_root_recomputed_from_all_entries(record_events):
    record_events(37)
    services.sequence_pending(batch_size=10)
    record_events(30)
    services.sequence_pending(batch_size=10)
    texts = Entry.objects.order_by("index").values_list("text", flat=True)
    leaves = [merkle.leaf_hash(t.encode()) for t in texts]
    assert leaves == stored_leaf_hashes()
    head = LogHead.objects.get()
    assert head.size == 67
    assert bytes(head.root) == merkle.root_from_leaf_hashes(leaves)
    assert merkle.Frontier.from_json(head.frontier).root() == bytes(head.root)


@pytest.mark.django_db
def test_every_complete_subtree_is_stored_exactly_as_recomputed(record_events):
    record_events(70)
    services.sequence_pending(batch_size=9)
    expected = {
        storage.subtree_key(level, index): value
        for (level, index), value in merkle.DictHashSource.from_leaf_hashes(stored_leaf_hashes()).hashes.items()
        if level
    }
    assert {key: bytes(value) for key, value in Subtree.objects.values_list("key", "hash")} == expected


@pytest.mark.django_db
def test_each_batch_signs_a_checkpoint_consistent_with_the_previous_one(record_events):
    record_events(10)
    services.sequence_pending(batch_size=4)
    checkpoints = list(Checkpoint.objects.order_by("id"))
    assert [c.size for c in checkpoints] == [4, 8, 10]
    for older, newer in zip(checkpoints, checkpoints[1:]):
        old, new = verified_checkpoint(older.note), verified_checkpoint(newer.note)
        proof = [bytes.fromhex(h) for h in queries.consistency(old.size, new.size)["proof"]]
        assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)


@pytest.mark.django_db
def test_checkpoint_verifies_with_the_published_key_and_matches_the_head(record_events):
    record_events(5)
    services.sequence_pending()
    head = LogHead.objects.get()
    checkpoint = verified_checkpoint(head.checkpoint)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == ("test.gongzhi.local/ledger", 5, bytes(head.root))


@pytest.mark.django_db
def test_a_checkpoint_exists_for_the_empty_log_once_the_sequencer_starts():
    checkpoint = verified_checkpoint(services.ensure_checkpoint())
    assert (checkpoint.size, checkpoint.root) == (0, merkle.EMPTY_ROOT)


def test_signing_key_is_created_once_owner_only_and_kept(ledger):
    vkey = services.generate_key()
    path = services.key_path()
    assert path.stat().st_mode & 0o777 == 0o600
    assert services.generate_key() == vkey
    assert note.Verifier.from_vkey(vkey).name == "test.gongzhi.local/ledger"
    assert services.generate_key(force=True) != vkey


@pytest.mark.django_db
def test_entry_is_canonical_json_of_kind_subject_actor_time_and_fields(record_events):
    event = record_events(1, kind="demand.dispatched", grid="G-12")[0]
    services.sequence_pending()
    text = Entry.objects.get().text
    entry = json.loads(text)
    assert canonical_json(entry).decode() == text
    assert entry == {
        "actor": None,
        "commitments": {},
        "event": event.pk,
        "fields": {"grid": "G-12", "step": 0},
        "kind": "demand.dispatched",
        "subject": "str:demand-0",
        "time": event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


@pytest.mark.django_db
def test_private_values_appear_in_the_log_only_as_commitments():
    secrets_ = {"name": "王小明", "phone": "13812345678",
                "description": "我家楼下的路灯坏了，电话 13812345678"}
    with transaction.atomic():
        events.record("demand.filed", "D-1", private={"description": secrets_["description"]},
                      name=secrets_["name"], phone=secrets_["phone"], category="路灯")
    services.sequence_pending()
    entry = json.loads(Entry.objects.get().text)
    assert entry["fields"] == {"category": "路灯"}
    assert set(entry["commitments"]) == {"name", "phone", "description"}
    text = Entry.objects.get().text
    for value in secrets_.values():
        assert value not in text
    assert "13812345678" not in text and "王小明" not in text


@pytest.mark.django_db
def test_a_commitment_opens_with_the_stored_salt_and_the_submitted_value():
    with transaction.atomic():
        events.record("demand.filed", "D-1", private={"description": "楼道堆物", "phone": "13900001111"})
    services.sequence_pending()
    entry = Entry.objects.get()
    public = json.loads(entry.text)["commitments"]
    salts = Opening.objects.get(entry=entry).salts
    for field, value in {"description": "楼道堆物", "phone": "13900001111"}.items():
        recomputed = hashlib.sha256(bytes.fromhex(salts[field]) + canonical_json(value)).hexdigest()
        assert recomputed == public[field]
        assert hashlib.sha256(bytes.fromhex(salts[field]) + canonical_json(value + " ")).hexdigest() != public[field]
    assert services.openings(entry.index)["phone"]["value"] == "13900001111"


@pytest.mark.django_db
def test_the_same_value_gets_a_different_commitment_in_each_entry():
    with transaction.atomic():
        events.record("demand.filed", "D-1", private={"phone": "13900001111"})
        events.record("demand.filed", "D-2", private={"phone": "13900001111"})
    services.sequence_pending()
    first, second = (json.loads(t)["commitments"]["phone"] for t in Entry.objects.values_list("text", flat=True))
    assert first != second


@pytest.mark.django_db
def test_actor_is_a_pseudonym_per_person_per_subject_that_reveals_no_user_id():
    users = get_user_model().objects
    alice, bob = users.create_user("alice"), users.create_user("bob")
    with transaction.atomic():
        events.record("demand.filed", "D-1", actor=alice)
        events.record("demand.rated", "D-1", actor=bob)
        events.record("demand.rated", "D-1", actor=alice)
        events.record("demand.filed", "D-2", actor=alice)
    services.sequence_pending()
    actors = [json.loads(t)["actor"] for t in Entry.objects.order_by("index").values_list("text", flat=True)]
    # Same person, same subject: the same pseudonym ("the one who filed D-1 rated it").
    assert actors[0] == actors[2]
    # Two persons, same subject: different; same person, two subjects: different (D-1 and D-2 cannot be joined).
    assert actors[1] != actors[0] and actors[3] != actors[0]
    assert len(set(actors)) == 3
    assert len(actors[0]) == 32 and actors[0] not in (str(alice.pk), "alice")
    assert actors[0] == services.pseudonym(alice.pk, "str:D-1") != services.pseudonym(alice.pk)
    assert LogHead.objects.get().actors_per_subject_from == 0


@pytest.mark.django_db
def test_public_values_too_large_for_an_entry_bundle_are_committed_instead():
    with transaction.atomic():
        events.record("org.people_imported", "import-1", created=3,
                      errors=["第 %d 行有误" % i for i in range(9000)])
    services.sequence_pending()
    entry = Entry.objects.get()
    assert len(entry.text.encode()) <= 65535
    assert json.loads(entry.text)["fields"] == {"created": 3}
    assert services.openings(entry.index)["errors"]["value"][0] == "第 0 行有误"


@pytest.mark.django_db
def test_events_inserted_around_the_orm_are_queued_by_the_sweep():
    from gongzhi.core import clock

    Event.objects.bulk_create([Event(kind="test.bulk", subject_type="x", subject_id=str(i), at=clock.now())
                               for i in range(4)])
    assert Pending.objects.count() == 0
    assert services.queue_unsequenced() == 4
    assert services.queue_unsequenced() == 0
    assert services.sequence_pending() == 4


@pytest.mark.django_db
def test_a_proof_reads_the_database_in_one_query(record_events, django_assert_max_num_queries):
    record_events(300)
    services.sequence_pending()
    source = storage.DatabaseHashSource()
    with django_assert_max_num_queries(1):
        proof = merkle.inclusion_proof(source, 137, 300)
    head = LogHead.objects.get()
    assert merkle.verify_inclusion(stored_leaf_hashes()[137], 137, 300, proof, bytes(head.root))
    with django_assert_max_num_queries(1):
        merkle.consistency_proof(source, 77, 300)


@pytest.mark.django_db
def test_receipt_proves_the_event_is_in_the_signed_checkpoint(record_events):
    event = record_events(9)[4]
    services.sequence_pending()
    receipt = services.receipt_for(event)
    checkpoint = verified_checkpoint(receipt["checkpoint"])
    assert receipt["tree_size"] == checkpoint.size == 9
    assert json.loads(receipt["entry"])["event"] == event.pk
    leaf = merkle.leaf_hash(receipt["entry"].encode())
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    assert merkle.verify_inclusion(leaf, receipt["index"], checkpoint.size, proof, checkpoint.root)


@pytest.mark.django_db
def test_receipt_before_sequencing_is_refused(record_events):
    event = record_events(1)[0]
    with pytest.raises(services.NotSequenced):
        services.receipt_for(event)


@pytest.mark.django_db(transaction=True)
def test_inline_mode_sequences_right_after_the_writer_commits(ledger, record_events):
    ledger.GONGZHI_LEDGER_SEQUENCER = "inline"
    recorded = record_events(3)
    assert list(Entry.objects.order_by("index").values_list("event_id", flat=True)) == [e.pk for e in recorded]
    assert Checkpoint.objects.count() == 1  # one transaction, one group commit


@pytest.mark.django_db(transaction=True)
def test_inline_mode_still_sequences_when_an_inner_savepoint_rolls_back(ledger):
    ledger.GONGZHI_LEDGER_SEQUENCER = "inline"
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            events.record("test.step", "undone")
            raise RuntimeError("inner step failed")
        kept = events.record("test.step", "kept")
    assert list(Entry.objects.values_list("event_id", flat=True)) == [kept.pk]


@pytest.mark.django_db(transaction=True)
def test_append_and_wait_returns_a_receipt_with_openings_for_the_submitter(ledger):
    ledger.GONGZHI_LEDGER_SEQUENCER = "inline"
    receipt = services.append_and_wait("demand.filed", "D-9", private={"phone": "13700000000"}, with_openings=True,
                                       category="噪音")
    opening = receipt["openings"]["phone"]
    assert opening["value"] == "13700000000"
    assert json.loads(receipt["entry"])["commitments"]["phone"] == opening["commitment"]
    assert "13700000000" not in receipt["entry"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sequencers_never_share_an_index(ledger):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # test_crash.py covers SQLite with concurrent processes instead.
        pytest.skip("threads need a server database: shared-cache in-memory SQLite fails rather than waits")
    errors = []

    def writer(name):
        try:
            for i in range(40):
                with transaction.atomic():
                    events.record("test.step", f"{name}-{i}")
                services.sequence_pending(batch_size=5)
        except Exception as error:  # reported below: an exception in a thread would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    services.sequence_pending()
    indexes = list(Entry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(120))
    assert Entry.objects.values("event_id").distinct().count() == 120 == Event.objects.count()
    assert bytes(LogHead.objects.get().root) == merkle.root_from_leaf_hashes(stored_leaf_hashes())


@pytest.mark.django_db
def test_the_loop_waits_after_a_batch_that_was_not_full_and_not_after_a_full_one(record_events, monkeypatch):
    """Under a steady stream the loop gathers `interval` of events per batch (their fixed cost is shared);
    while a backlog fills whole batches it does not wait."""
    record_events(5)
    passes, waits = [], []
    real = services.sequence_pending

    def counted(**kwargs):
        done = real(**kwargs)
        passes.append(done)
        if len(passes) == 1:
            record_events(1)  # one more arrives while the first pass runs
        return done

    monkeypatch.setattr(services, "sequence_pending", counted)
    monkeypatch.setattr(services.time, "sleep", lambda seconds: waits.append((len(passes), seconds)))
    total = services.run_sequencer(interval=0.25, batch_size=5, should_stop=lambda: len(passes) >= 2)
    assert passes == [5, 1] and total == 6
    assert waits == [(2, 0.25)]  # no wait after the full first pass; a wait after the second
