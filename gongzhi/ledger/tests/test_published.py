"""The record of the last published checkpoint (ledger/published.py) and the sequencer's guard on it: the log signs
nothing while its database lacks what was published; the operator's last resort (accept-gap) is itself published."""

import json

import pytest

from gongzhi.ledger import published, queries, recovery, services
from gongzhi.ledger.models import Entry, Pending


@pytest.fixture
def record(ledger, tmp_path):
    ledger.GONGZHI_LEDGER_PUBLISHED = str(tmp_path / "published-checkpoint")
    return tmp_path / "published-checkpoint"


@pytest.mark.django_db(transaction=True)
def test_each_signed_checkpoint_is_recorded_outside_the_database_and_the_record_never_goes_back(record, record_events):
    record_events(3)
    services.sequence_pending()
    first = json.loads(record.read_text())
    assert (first["size"], first["root"]) == (3, bytes(queries.head().root).hex())
    assert first["checkpoint"] == queries.head().checkpoint
    published.remember(2, b"\x00" * 32, "older")  # a slower process with an older checkpoint
    assert json.loads(record.read_text())["size"] == 3


@pytest.mark.django_db(transaction=True)
def test_the_sequencer_refuses_to_sign_while_published_entries_are_missing(record, record_events):
    record_events(2)
    services.sequence_pending()
    published.remember(5, b"\x01" * 32, "published elsewhere")  # as if 3 more had been published, then lost
    record_events(1)
    with pytest.raises(published.Held, match=r"3 published entries \(indexes 2 to 4\) are missing"):
        services.sequence_pending()
    assert (queries.tree_size(), Pending.objects.count()) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_a_log_of_the_published_size_with_another_root_is_held_too(record, record_events):
    record_events(2)
    services.sequence_pending()
    record.write_text(json.dumps({"size": 1, "root": "00" * 32, "checkpoint": "", "recorded_at": "then"}))
    record_events(1)
    with pytest.raises(published.Held, match="another root"):
        services.sequence_pending()


@pytest.mark.django_db(transaction=True)
def test_accepting_a_gap_publishes_the_decision_as_the_next_entry_and_signing_resumes(record, record_events):
    record_events(2)
    services.sequence_pending()
    published.remember(6, b"\x02" * 32, "published elsewhere")
    with pytest.raises(recovery.RecoveryRefused, match="reason"):
        recovery.accept_gap("no")
    assert recovery.accept_gap("the disk failed; no mirror kept entries 2 to 5") == (6, 2)
    decision = json.loads(Entry.objects.get(index=2).text)
    assert decision["kind"] == "ledger.gap_accepted"
    assert decision["fields"]["published_size"] == 6 and decision["fields"]["missing"] == 4
    assert json.loads(record.read_text())["size"] == 3  # the new record: this log, decision included
    assert list(record.parent.glob("published-checkpoint.superseded-*"))
    with pytest.raises(recovery.RecoveryRefused, match="no gap"):
        recovery.accept_gap("there is nothing to accept here")
