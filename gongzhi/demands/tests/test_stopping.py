"""Issue #14: the worker stops on SIGTERM/SIGINT even when the signals come in a burst during a sweep
that is writing, and leaves no lock behind and nothing half-recorded."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
                                reason="runs the real console script against a throwaway SQLite file")

# Run in a subprocess against the throwaway database: org's World, demands' units, and OVERDUE demands
# dispatched on 26 November 2026 whose accept deadline passed long ago: each needs a supervision order.
BUILD = """
import sys, django
django.setup()
from gongzhi.org.tests.factories import World
from gongzhi.demands.tests.factories import DemandWorld
dw = DemandWorld(World())
for _ in range(int(sys.argv[1])):
    dw.dispatched()
"""
OVERDUE = 60


def migrated(tmp_path: Path, database: Path) -> dict:
    """The environment of a console-script process on a migrated SQLite file of its own."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "GONGZHI_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "GONGZHI_LOG_LEVEL": "INFO"}
    migrate = subprocess.run([str(BIN / "gongzhi"), "migrate", "-v", "0"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    return env


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def count(database: Path, sql: str) -> int:
    connection = sqlite3.connect(database, timeout=0.2)
    try:
        return connection.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # locked for a moment by the worker's write, or not created yet
        return 0
    finally:
        connection.close()


def test_a_burst_of_stop_signals_during_a_writing_sweep_stops_the_worker_and_leaves_no_lock(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = migrated(tmp_path, database)
    build = subprocess.run([sys.executable, "-c", BUILD, str(OVERDUE)], env=env, capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stderr
    assert count(database, "SELECT count(*) FROM demands_supervisionorder") == 0

    worker = subprocess.Popen([str(BIN / "gongzhi"), "demands", "work", "--forever", "--sweep-interval", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Signal it while the sweep is writing: its first supervision orders are committed, not all of them.
        wait_for(lambda: count(database, "SELECT count(*) FROM demands_supervisionorder") > 0, 120,
                 "the sweep to write")
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.001)
        worker.send_signal(signal.SIGTERM)
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    out, err = worker.communicate()
    assert worker.returncode in (0, 1), err  # ended by itself (a clean stop or the third signal's _exit)

    connection = sqlite3.connect(database, timeout=0.5, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")  # the write lock, at once: no process holds it any more
        connection.execute("ROLLBACK")
        # Every supervision order written is complete: with its event, and no event without its order.
        orders = connection.execute("SELECT count(*) FROM demands_supervisionorder").fetchone()[0]
        events = connection.execute("SELECT count(*) FROM core_event WHERE kind = 'demands.supervise'").fetchone()[0]
        orphans = connection.execute("SELECT count(*) FROM demands_supervisionorder o LEFT JOIN core_event e "
                                     "ON e.id = o.event_id WHERE e.id IS NULL").fetchone()[0]
    finally:
        connection.close()
    print("supervision orders written before the stop:", orders, "of", OVERDUE, "exit", worker.returncode)
    assert orders >= 1 and orders == events and orphans == 0


def test_a_stop_signal_ends_the_loop_after_its_step_and_it_says_what_it_did(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = migrated(tmp_path, database)
    worker = subprocess.Popen([str(BIN / "gongzhi"), "demands", "work", "--forever", "--sweep-interval", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "SIGTERM or Ctrl-C to stop" in worker.stdout.readline()
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.001)
        worker.send_signal(signal.SIGTERM)  # a second one while stopping changes nothing
        worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    _, err = worker.communicate()
    assert worker.returncode == 0, err
    assert "stopping… (SIGTERM)" in err
    assert "stopped: filed 0, refused 0, sweeps " in err


REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours(marker: str) -> list[int]:
    """The processes still running with this test's own GONGZHI_VAR_DIR in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the processes left through /proc")
def test_ctrl_c_on_make_demos_server_and_worker_stops_both_and_a_new_demo_can_start(tmp_path):
    database = tmp_path / "db.sqlite3"
    marker = f"GONGZHI_VAR_DIR={tmp_path}"
    env = migrated(tmp_path, database)
    port = free_port()
    # Its own session and process group, as a terminal's foreground job: Ctrl-C signals the whole group.
    make = subprocess.Popen(["make", "--no-print-directory", "serve-demo", f"BIN={BIN}", f"PORT={port}"], cwd=REPO,
                            env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(ours(marker)) >= 4, 60, "make, the shell, the worker and gunicorn")
        deadline = time.monotonic() + 60
        while True:  # gunicorn answers
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and make.poll() is None, make.stdout.read1().decode()
                time.sleep(0.1)
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=5)
        left = ours(marker)  # make returned: nothing of it may be left running (the worker was waited for)
    finally:
        for pid in ours(marker):
            os.kill(pid, signal.SIGKILL)
        if make.poll() is None:
            make.wait()
    assert left == []
    with socket.socket() as s:  # the port is free again, for a new server (which binds as gunicorn does: a
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # closed connection's TIME_WAIT is no owner)
        s.bind(("127.0.0.1", port))
    connection = sqlite3.connect(database, timeout=0.5, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    finally:
        connection.close()
