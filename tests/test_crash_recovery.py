"""Issue #19 item 4: nothing lost when a process dies. gongzhi's processes (gunicorn with 2 workers, the intake
worker and deadline sweep `demands work --forever`, the ledger sequencer, the task worker) run as production
runs them while client threads post fast-path submissions; the processes are SIGKILLed one by one mid-burst
and started again, or PostgreSQL itself is killed (an immediate stop: no checkpoint, like a crash) and
started again under them. Afterwards: every submission answered 202 is filed as a demand, none twice; every
reminder the sweep owed was sent once although the worker died mid-sweep; the ledger verifies and its outbox
is empty. The long version with many cycles: bench/bench_crash.py (figures in docs/reliability.md).

The PostgreSQL tests run on a durable server of their own (core/pgserver.py: fsync on), in the PostgreSQL
pass of `make test` only: they do not use the suite's database, so running them in both passes would test
the same thing twice. The SQLite test (the web server, the worker and the sequencer killed) runs in the SQLite
pass."""

import os
import shutil
import time
import uuid

import pytest
from django.conf import settings

from gongzhi.core import pgserver
from tests import crashkit
from tests.crashkit import Burst, Database, Layout

ON_SQLITE = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
IN_CI = os.environ.get("CI") in ("1", "true")
DEMANDS = 30  # demands owed a reminder when the worker starts: it is killed half-way through sending them


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """A durable PostgreSQL server of our own with the district built once, as a template database (migrating
    takes most of the time): each test gets a copy of it and of its GONGZHI_VAR_DIR (keys, secret)."""
    if ON_SQLITE:
        pytest.skip("runs in the PostgreSQL pass (its own server: once is enough)")
    if not pgserver.available():
        if IN_CI:
            pytest.fail("PostgreSQL's binaries are missing (scripts/system-packages.sh --ops installs them)")
        pytest.skip("PostgreSQL's binaries are not installed")
    server = pgserver.PgServer.create(durable=True)
    try:
        server.start()
        server.psql("CREATE DATABASE district")
        var = tmp_path_factory.mktemp("district-var")
        built = crashkit.build(crashkit.environment(server.url("district"), var), DEMANDS)
        yield server, var, built
    finally:
        server.destroy()


@pytest.fixture
def postgresql(district, tmp_path):
    server, var, built = district
    name = f"crash_{uuid.uuid4().hex[:8]}"
    server.psql(f"CREATE DATABASE {name} TEMPLATE district")
    shutil.copytree(var, tmp_path / "var")
    try:
        yield server, server.url(name), tmp_path / "var", built
    finally:
        if server.running():
            server.psql(f"DROP DATABASE {name} WITH (FORCE)")


def started(tmp_path, url: str, var, built, sqlite_path=None):
    """The demands armed (owed a reminder), the web server, sequencer and task worker running; not the worker."""
    db = Database(url, sqlite_path)
    env = crashkit.environment(url, var)
    crashkit.arm(db, built["demands"])
    layout = Layout(tmp_path, env, crashkit.free_port())
    layout.start("web", "sequencer", "tasks")
    layout.wait_answering()
    return db, env, layout


def assert_nothing_lost(db, env, burst, built, layout):
    burst.stop()
    crashkit.drain(db, layout, len(built["demands"]))
    layout.alive()  # none died by itself
    findings = crashkit.check(db, env, burst, built["demands"])
    layout.stop()
    print(findings)
    assert findings.problems() == [], findings.problems()
    assert findings.acknowledged > 0 and findings.demands >= findings.acknowledged
    assert findings.reminders == len(built["demands"]) == findings.reminder_notifications
    return findings


def test_the_processes_killed_mid_burst_lose_no_acknowledged_demand_and_send_each_reminder_once(tmp_path,
                                                                                                 postgresql):
    server, url, var, built = postgresql
    db, env, layout = started(tmp_path, url, var, built)
    burst = Burst(layout.port, built["token"], built["points"], clients=4, pause=0.2)
    try:
        held = crashkit.hold_a_demand(db, built["demands"])
        layout.start("worker")
        burst.start()
        sent_before_kill = crashkit.sweep_waiting(db, layout)
        assert 0 < sent_before_kill < DEMANDS
        layout.kill("worker")  # mid-sweep: half the reminders sent, the next one's transaction open
        held.close()
        layout.start("worker")
        burst.wait_acknowledged(20, layout=layout)

        layout.restart("web")  # master and both workers at once, group commits in flight
        time.sleep(0.5)
        layout.restart("sequencer")  # a batch in its transaction, or between batches
        layout.restart("tasks")
        burst.wait_acknowledged(20, layout=layout)  # the restarted web server answers again
        layout.restart("worker")  # this time while filing submissions
        burst.wait_acknowledged(10, layout=layout)
        layout.restart("web")  # again: the clients' open connections cut mid-request

        findings = assert_nothing_lost(db, env, burst, built, layout)
        assert layout.kills == {"web": 2, "worker": 2, "sequencer": 1, "tasks": 1}
    finally:
        burst.stop()
        layout.stop()


def test_postgresql_killed_mid_burst_and_started_again_the_processes_recover_without_a_restart(tmp_path,
                                                                                                postgresql):
    server, url, var, built = postgresql
    db, env, layout = started(tmp_path, url, var, built)
    burst = Burst(layout.port, built["token"], built["points"], clients=4, pause=0.2)
    try:
        held = crashkit.hold_a_demand(db, built["demands"])
        layout.start("worker")
        burst.start()
        crashkit.sweep_waiting(db, layout)
        burst.wait_acknowledged(20, layout=layout)

        server.kill()  # every connection cut, mid-sweep, mid-group-commit, mid-sequencing
        held.close()
        down_at = time.monotonic()
        time.sleep(1.5)
        during = [s for s in burst.sent if s.at > down_at + 0.2]
        server.start()
        up_at = time.monotonic()
        outage = [s.status for s in during if s.at < up_at]
        # Refused at once, not hung; and cleanly: a server error or no answer, never a 4xx blaming the client.
        # (A 202 may still arrive for a request committed just before the kill: stored, as checked below.)
        assert any(status != 202 for status in outage), burst.statuses()
        assert all(status in (0, 202) or status >= 500 for status in outage), burst.statuses()

        first = burst.wait_acknowledged(1, seconds=60, layout=layout)  # the same processes, none restarted
        print(f"intake answered 202 again {first:.1f} s after PostgreSQL started")
        burst.wait_acknowledged(20, seconds=60, layout=layout)
        layout.alive()
        assert sum(layout.kills.values()) == 0

        findings = assert_nothing_lost(db, env, burst, built, layout)
        assert findings.sent > findings.acknowledged
    finally:
        burst.stop()
        layout.stop()


def test_on_sqlite_the_web_server_and_worker_killed_mid_burst_lose_no_acknowledged_demand(tmp_path):
    if not ON_SQLITE:
        pytest.skip("the SQLite variant runs in the SQLite pass")
    path, var = tmp_path / "db.sqlite3", tmp_path / "var"
    built = crashkit.build(crashkit.environment(f"sqlite:///{path}", var), DEMANDS)
    db, env, layout = started(tmp_path, f"sqlite:///{path}", var, built, path)
    burst = Burst(layout.port, built["token"], built["points"], clients=4, pause=0.2)
    try:
        layout.start("worker")
        burst.start()
        burst.wait_acknowledged(30, layout=layout)
        layout.restart("web")
        layout.wait_answering()
        burst.wait_acknowledged(30, layout=layout)
        layout.restart("worker")
        layout.restart("sequencer")
        burst.wait_acknowledged(30, layout=layout)
        layout.restart("web")
        layout.wait_answering()
        burst.wait_acknowledged(30, layout=layout)
        assert_nothing_lost(db, env, burst, built, layout)
    finally:
        burst.stop()
        layout.stop()
