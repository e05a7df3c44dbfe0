"""Issue #14: the workers (`demands work --forever`, `db_worker`) stop on SIGTERM/SIGINT even when the
signals come in a burst during a sweep that is writing, and leave no lock behind and nothing half-recorded;
a restarted worker finishes what the stopped one left. On SQLite and on PostgreSQL (each test has a database
of its own, core/tests/throwaway.py)."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from gongzhi.core.tests.throwaway import GONGZHI, on_postgresql, throwaway_database

BIN = Path(sys.executable).parent

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

ORDERS = "SELECT count(*) FROM demands_supervisionorder"
EVENTS = "SELECT count(*) FROM core_event WHERE kind = 'demands.supervise'"
ORPHANS = ("SELECT count(*) FROM demands_supervisionorder o LEFT JOIN core_event e ON e.id = o.event_id "
           "WHERE e.id IS NULL")
DEMANDS_SUPERVISED = "SELECT count(DISTINCT demand_id) FROM demands_supervisionorder"

WORKERS = {
    "demands work": [GONGZHI, "demands", "work", "--forever", "--sweep-interval", "1"],
    "db_worker": [GONGZHI, "db_worker", "--interval", "0.2", "--no-startup-delay"],
}


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def started(argv: list[str], env: dict, **pipes):
    """The process, killed when the block ends if it is still running (a test that failed half-way)."""
    process = subprocess.Popen(argv, env=env, text=True, preexec_fn=default_signals, **pipes)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def default_signals() -> None:
    """In the child, before it runs: Ctrl-C and SIGTERM at their defaults. A test run started in the background
    of a shell without job control inherits SIGINT ignored, and a shell script cannot trap a signal ignored
    when it started: what these tests check would not be what a terminal or a supervisor meets."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop(process: subprocess.Popen, *signals) -> tuple[str, str]:
    """Send the signals (the second 1 ms after the first, the rest at once), let the process end by itself
    within 5 s (TimeoutExpired otherwise), and give what it wrote."""
    process.send_signal(signals[0])
    time.sleep(0.001)
    for sig in signals[1:]:
        process.send_signal(sig)
    process.wait(timeout=5)
    return process.communicate()


def alive(process: subprocess.Popen) -> bool:
    """True while it runs; a process that ended before its time fails the test with what it said."""
    if process.poll() is not None:
        out, err = process.communicate()
        raise AssertionError(f"exited {process.returncode} early: {(out or '')[-2000:]} {(err or '')[-4000:]}")
    return True


def run(database, *argv, timeout=300):
    result = subprocess.run(argv, env=database.env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-4000:])
    return result


def assert_every_order_complete(database) -> int:
    """Every supervision order written has its event, and no order lacks one: none half-recorded."""
    orders, events, orphans = (database.scalar(sql) for sql in (ORDERS, EVENTS, ORPHANS))
    assert (orders, orphans) == (events, 0), (orders, events, orphans)
    return orders


@pytest.mark.parametrize("worker", list(WORKERS))
def test_a_burst_of_stop_signals_during_a_writing_sweep_stops_the_worker_and_leaves_no_lock(tmp_path, worker):
    with throwaway_database(tmp_path, "gongzhi_stop", GONGZHI_LOG_LEVEL="INFO") as database:
        run(database, sys.executable, "-c", BUILD, str(OVERDUE))
        assert database.scalar(ORDERS) == 0
        if worker == "db_worker":  # the deadline sweep as a task, rescheduling itself every 60 s
            run(database, GONGZHI, "demands", "sweep", "--enqueue", "--interval", "60")

        with started(WORKERS[worker], database.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
            # Signal it while the sweep is writing: its first supervision orders are committed, not all.
            wait_for(lambda: alive(process) and database.scalar(ORDERS, default=0) > 0, 120, "the sweep to write")
            _, err = stop(process, signal.SIGTERM, signal.SIGTERM, signal.SIGINT)
        assert process.returncode in (0, 1), err  # ended by itself (a clean stop, or the third signal's _exit)

        database.assert_write_lock_free()
        written = assert_every_order_complete(database)
        print(worker, "wrote", written, "supervision orders before the stop; exit", process.returncode)
        assert 1 <= written

        # Started again, the worker finishes what the stopped one left: every overdue demand supervised once.
        if worker == "db_worker":
            # The sweep task the forced exit cut off is marked failed and the chain queued again; --batch
            # runs what is ready and returns.
            running = "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
            cut_off = database.scalar(running)
            again = run(database, GONGZHI, "db_worker", "--batch", "--no-startup-delay")
            assert database.scalar(running) == 0, again.stdout + again.stderr
            if not cut_off:  # the sweep had ended (stopped between rows) before the exit: its next link is a
                run(database, GONGZHI, "demands", "sweep")  # minute away, so sweep now
        else:
            run(database, GONGZHI, "demands", "sweep")
        assert database.scalar(DEMANDS_SUPERVISED) == OVERDUE
        assert_every_order_complete(database)


def test_a_stop_signal_ends_the_loop_after_its_step_and_it_says_what_it_did(tmp_path):
    with throwaway_database(tmp_path, "gongzhi_stop", GONGZHI_LOG_LEVEL="INFO") as database:
        with started(WORKERS["demands work"], database.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as worker:
            assert "SIGTERM or Ctrl-C to stop" in worker.stdout.readline()
            _, err = stop(worker, signal.SIGTERM, signal.SIGTERM)  # a second one while stopping changes nothing
        assert worker.returncode == 0, err
        assert "stopping… (SIGTERM)" in err
        assert "stopped: filed 0, refused 0, sweeps " in err
        database.assert_write_lock_free()


def test_the_task_worker_stops_after_its_task_and_says_what_it_ran(tmp_path):
    with throwaway_database(tmp_path, "gongzhi_stop", GONGZHI_LOG_LEVEL="INFO") as database:
        run(database, GONGZHI, "demands", "sweep", "--enqueue", "--interval", "60")
        with started(WORKERS["db_worker"], database.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as worker:
            # The queued sweep ran (nothing overdue: it is quick) and queued the next one, 60 s on.
            wait_for(lambda: alive(worker) and database.scalar(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'", default=0) == 1,
                60, "the sweep task")
            out, _ = stop(worker, signal.SIGTERM, signal.SIGINT)  # a second one while stopping changes nothing
        assert worker.returncode == 0, out
        assert "SIGTERM or Ctrl-C to stop" in out
        # SIGTERM was sent first, but two signals pending together are handled lowest number first (SIGINT).
        assert "stopping… (SIGTERM)" in out or "stopping… (SIGINT)" in out
        assert "stopped: tasks succeeded 1, failed 0" in out
        assert database.scalar("SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY'") == 1
        database.assert_write_lock_free()


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


def answers(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "the server did not answer"
            time.sleep(0.1)


def commands(pids: list[int]) -> list[str]:
    found = []
    for pid in pids:
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip())
        except OSError:
            pass
    return found


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                after_name = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(after_name[1]) == pid:
                found.append(int(entry.name))
    return found


def ended(process: subprocess.Popen, log: Path, marker: str, seconds: float = 15) -> None:
    """Wait for the script to end. Not a measure of its speed (it bounds its stop itself: GONGZHI_STOP_GRACE
    seconds, a second more, then it kills; it prints how long it took): a guard against a hang, which fails
    with what it printed and what is still running."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after {seconds} s: {commands(ours(marker))}\n"
                             f"{log.read_text()[-4000:]}") from None


@contextmanager
def all_running(tmp_path: Path, database, argv: list[str], at_least: int, **extra):
    """`argv` (make run, or scripts/run.sh) started in a session and process group of its own, as a terminal's
    foreground job, and answering; gives (process, log, marker, loops). Whatever of it is left is killed after."""
    marker = f"GONGZHI_VAR_DIR={tmp_path}"
    log = tmp_path / "output.log"
    with log.open("wb") as output_file:
        process = subprocess.Popen(argv, cwd=REPO, env={**database.env, **extra}, start_new_session=True,
                                   preexec_fn=default_signals,
                                   stdout=output_file, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(ours(marker)) >= at_least, 60, f"{at_least} processes")
        answers(int(database.env["PORT"]), process)
        loops = [c for c in commands(ours(marker)) if "/gongzhi " in c]  # the workers (gunicorn runs gongzhi.wsgi)
        # Each loop has started (installed its handlers and said how to stop it).
        wait_for(lambda: log.read_text().count("SIGTERM or Ctrl-C to stop") == len(loops), 60, "the loops")
        yield process, log, marker, loops
    finally:
        for pid in ours(marker):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait()


def assert_nothing_left_and_a_new_start_works(database, marker: str, port: int) -> None:
    with socket.socket() as s:  # the port is free again, for a new server (which binds as gunicorn does: a
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # closed connection's TIME_WAIT is no owner)
        s.bind(("127.0.0.1", port))
    database.assert_write_lock_free()

    # And it starts again at once, on the same database and port.
    again = subprocess.Popen(["scripts/run.sh"], cwd=REPO, env={**database.env, "BIN": str(BIN)},
                             preexec_fn=default_signals,
                             start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        answers(port, again)
        again.send_signal(signal.SIGINT)
        again.wait(timeout=15)
    finally:
        for pid in ours(marker):
            os.kill(pid, signal.SIGKILL)
        if again.poll() is None:
            again.wait()
    assert again.returncode == 130


# How the processes are stopped: as a terminal's Ctrl-C does `make demo`'s (SIGINT to the foreground
# process group), or as a supervisor stops production's (SIGTERM to scripts/run.sh alone), there with
# every optional process running too (the ledger sequencer, the task worker).
STOPS = {
    "ctrl-c on make": (["make", "--no-print-directory", "run", f"BIN={BIN}"], {}, 4),
    "supervisor's SIGTERM": (["scripts/run.sh"], {"GONGZHI_LEDGER_SEQUENCER": "loop", "GONGZHI_TASK_WORKER": "1",
                                                  "BIN": str(BIN)}, 6),
}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the processes left through /proc")
@pytest.mark.parametrize("stop", list(STOPS))
def test_stopping_the_server_and_workers_leaves_nothing_running_and_a_new_start_works(tmp_path, stop):
    argv, extra, at_least = STOPS[stop]
    port = free_port()
    with throwaway_database(tmp_path, "gongzhi_stop", PORT=str(port), **extra) as database:
        with all_running(tmp_path, database, argv, at_least) as (process, log, marker, loops):
            if stop == "ctrl-c on make":
                os.killpg(process.pid, signal.SIGINT)
            else:
                assert any("ledger sequence --forever" in c for c in loops), loops
                assert any("db_worker" in c for c in loops), loops
                process.send_signal(signal.SIGTERM)
            ended(process, log, marker)
            left = commands(ours(marker))  # it returned: nothing of it may be left running (each was waited for)
        output = log.read_text()
        assert left == [], (left, output[-3000:])
        assert process.returncode in (130, 143, -signal.SIGINT), output[-3000:]  # make re-raises the SIGINT
        assert output.count("stopping… (") == len(loops), output[-3000:]  # each said it stopped
        assert "gongzhi: stopped in " in output, output[-3000:]  # (how long: timing is not asserted)
        assert_nothing_left_and_a_new_start_works(database, marker, port)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the processes left through /proc")
def test_a_process_stuck_where_no_signal_reaches_it_is_killed_after_the_grace_and_the_rest_stop_cleanly(tmp_path):
    """A loop stuck in a long call (here: stopped with SIGSTOP, which no other signal wakes) and a web worker
    stuck the same way do not keep the script from ending: after GONGZHI_STOP_GRACE seconds it signals again,
    a second later it kills them, and says so; the sequencer, not stuck, heard the stop. (Which of the others
    had ended by then depends on the machine's load: not asserted.)"""
    port = free_port()
    with throwaway_database(tmp_path, "gongzhi_stop", PORT=str(port), GONGZHI_LEDGER_SEQUENCER="loop") as database:
        with all_running(tmp_path, database, ["scripts/run.sh"], 5, BIN=str(BIN), GONGZHI_STOP_GRACE="2") as (
                process, log, marker, loops):
            started_by_script = {pid: " ".join(commands([pid])) for pid in children(process.pid)}
            worker = next(pid for pid, command in started_by_script.items() if "demands work --forever" in command)
            server = next(pid for pid, command in started_by_script.items() if "gunicorn" in command)
            web_worker = children(server)[0]
            os.kill(worker, signal.SIGSTOP)
            os.kill(web_worker, signal.SIGSTOP)
            process.send_signal(signal.SIGTERM)
            ended(process, log, marker)
            left = commands(ours(marker))
        output = log.read_text()
        assert left == [], (left, output[-3000:])
        assert process.returncode == 143, output[-3000:]
        signalled = re.search(r"still running 2 s after the stop, signalled again: (.*)", output)
        killed = re.search(r"still running 3 s after the stop, killed: (.*)", output)
        assert signalled and killed, output[-3000:]
        assert f"worker ({worker})" in signalled[1] and f"worker ({worker})" in killed[1], output[-3000:]
        assert "ledger.sequencer stopping… (SIGTERM)" in output, output[-3000:]  # the one not stuck heard the stop
        assert "gongzhi: stopped in " in output
        assert_nothing_left_and_a_new_start_works(database, marker, port)


@pytest.mark.django_db
def test_a_task_left_running_by_a_worker_that_is_gone_is_marked_failed_and_the_sweeps_chain_queued_again():
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from gongzhi.core import taskworker
    from gongzhi.demands import tasks

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has any more
    host = socket.gethostname()[:40]
    assert tasks.schedule_sweep(60, start_now=True)
    cut_off = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    cut_off.claim(f"{host}:{gone.pid}:abc")
    live = DBTaskResult.objects.create(task_path="gongzhi.demands.tasks.deliver_webhook_task", backend_name="default",
                                       args_kwargs={"args": [1], "kwargs": {}}, status=TaskResultStatus.RUNNING,
                                       queue_name="default", priority=0,
                                       worker_ids=[f"{host}:{os.getpid()}:def"])  # this process: alive
    elsewhere = DBTaskResult.objects.create(task_path=live.task_path, backend_name="default",
                                            args_kwargs=live.args_kwargs, status=TaskResultStatus.RUNNING,
                                            queue_name="default", priority=0,
                                            worker_ids=[f"another-host:{gone.pid}:ghi"])  # cannot tell: left

    assert taskworker.reap_abandoned("default") == 1

    cut_off.refresh_from_db()
    assert cut_off.status == TaskResultStatus.FAILED
    assert cut_off.exception_class_path == "gongzhi.core.taskworker.WorkerStopped"
    assert {r.status for r in DBTaskResult.objects.filter(pk__in=[live.pk, elsewhere.pk])} == {
        TaskResultStatus.RUNNING}
    queued = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert queued.task_path == tasks.sweep_deadlines_task.module_path
    assert queued.args_kwargs["kwargs"] == {"reschedule_seconds": 60}


@pytest.mark.django_db
def test_a_sweep_forced_out_after_queueing_its_successor_has_that_successor_brought_forward():
    """The race CI met: a sweep asked to stop ends between rows and queues the next link; the worker is then
    forced out before the link is marked done. The reaper finds a link already waiting: it must not leave the
    unswept rows for a minute, so the waiting link is made due now (and no second one is queued)."""
    import datetime as dt

    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from gongzhi.core import clock, taskworker
    from gongzhi.demands import tasks

    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()[:40]
    assert tasks.schedule_sweep(60, start_now=True)
    cut_off = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    cut_off.claim(f"{host}:{gone.pid}:abc")
    assert tasks.schedule_sweep(60)  # the successor it queued before the forced exit, a minute away
    successor = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert successor.run_after > clock.now() + dt.timedelta(seconds=50)

    assert taskworker.reap_abandoned("default") == 1
    waiting = DBTaskResult.objects.get(status=TaskResultStatus.READY)  # still one link: a chain, never two
    assert waiting.pk == successor.pk and waiting.run_after <= clock.now()


def test_a_sweep_task_asked_to_stop_queues_its_successor_due_at_once(monkeypatch):
    from gongzhi.demands import escalation, notifications, tasks

    queued = []
    monkeypatch.setattr(tasks, "schedule_sweep", lambda seconds, start_now=False: queued.append((seconds, start_now)))
    monkeypatch.setattr(notifications, "deliver_due", lambda: {})
    monkeypatch.setattr(escalation, "sweep_deadlines", lambda should_stop: escalation.SweepReport())
    for asked in (False, True):
        monkeypatch.setattr(tasks.stopping, "stop_requested", lambda asked=asked: asked)
        tasks.sweep_deadlines_task.call(reschedule_seconds=60)
    assert queued == [(60, False), (60, True)]
