"""The task worker (`gongzhi db_worker`) outlives a dropped database connection (issue #19): PostgreSQL restarted
under it, its claim fails with OperationalError; it logs, drops the connection and claims again next round
instead of ending. tests/test_crash_recovery.py shows the same against a real PostgreSQL killed and restarted."""

import logging
import signal

import pytest
from django.db.utils import OperationalError

from gongzhi.core import taskworker

pytestmark = pytest.mark.django_db(transaction=True)  # the code under test closes its connection: no test transaction to lose


def test_a_claim_that_fails_on_a_lost_connection_is_tried_again_and_the_worker_goes_on(monkeypatch, caplog):
    worker = taskworker.StoppableWorker(queue_names=["default"], interval=0.01, batch=False, backend_name="default",
                                        startup_delay=False, max_tasks=None, worker_id=taskworker.new_worker_id(),
                                        excluded_queue_names=[])
    claims = []
    claim = worker._claim_next

    def claim_with_the_database_gone_at_first():
        claims.append(1)
        if len(claims) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        if len(claims) == 4:
            worker.stop._on_signal(signal.SIGTERM, None)  # as a supervisor's stop, once it claimed again
        return claim()

    monkeypatch.setattr(worker, "_claim_next", claim_with_the_database_gone_at_first)
    with caplog.at_level(logging.ERROR, logger="gongzhi.tasks"):
        worker.run()

    assert len(claims) == 4  # two failed, then it claimed (nothing ready) and claimed again before the stop
    assert caplog.text.count("the database did not answer") == 2
    assert worker.finished == {"succeeded": 0, "failed": 0}
