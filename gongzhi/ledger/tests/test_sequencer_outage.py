"""The sequencer loop through a database outage (issue #19): it keeps retrying and resumes by itself, logging
the first failure with its traceback and then a line every 10 s, not a traceback on every try (10 a second:
a PostgreSQL restart of a few seconds wrote thousands of lines). tests/test_crash_recovery.py shows the
same against a real PostgreSQL killed and restarted."""

import logging

import pytest
from django.db.utils import OperationalError

from gongzhi.ledger import services

pytestmark = pytest.mark.django_db(transaction=True)  # the code under test closes its connection: no test transaction to lose


def test_an_outage_is_retried_quietly_and_sequencing_resumes(ledger, record_events, monkeypatch, caplog):
    record_events(3)
    tries, sleeps = [], []
    real = services.sequence_pending

    def down_for_a_while(**kwargs):
        tries.append(1)
        if len(tries) <= 250:  # 25 s of outage at interval 0.1
            raise OperationalError("connection failed: the database system is starting up")
        return real(**kwargs)

    monkeypatch.setattr(services, "sequence_pending", down_for_a_while)
    with caplog.at_level(logging.INFO, logger="gongzhi.ledger"):
        total = services.run_sequencer(interval=0.1, should_stop=lambda: len(tries) > 251, sleep=sleeps.append)

    assert total == 3  # resumed: the events waiting are sequenced
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "sequencing failed" in tracebacks[0].getMessage()
    assert len([r for r in caplog.records if "still does not answer" in r.getMessage()]) == 2  # at 10 s and 20 s
    assert any("answers again; sequencing resumed after 250 failed tries" in r.getMessage() for r in caplog.records)
    assert sleeps[:250] == [0.1] * 250  # retried at the loop's pace throughout
