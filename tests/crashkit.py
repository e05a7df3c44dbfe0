"""What the crash tests (tests/test_crash_recovery.py) and the crash bench (bench/bench_crash.py) share: a
district on a database of its own, gongzhi's processes started as production starts them (scripts/run.sh's
lines, each in a process group of its own so that SIGKILL reaches gunicorn's workers with their master), a
burst of fast-path intake from client threads that remembers what was acknowledged, and the checks that
nothing acknowledged was lost, nothing was filed twice and every reminder fired once.

Everything is looked at through a plain connection (psycopg or sqlite3, no Django): the test sees only what
the processes committed."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GONGZHI = str(BIN / "gongzhi")
PATH = "/api/v1/demands/submissions"
# The burst's one resident token files everything: its limits are lifted out of reach (still counted).
RATE_LIMITS = json.dumps({"file_demand": {"user": "1000000000/h", "address": "1000000000/h"}})
MARK = "崩溃测试"  # every burst text starts with it, then a number: unique, so duplicates show

# Run in a subprocess on the new database: migrate, org's World and demands' units, `count` demands dispatched to
# the city-management department with every deadline a month away (arm() brings some within their reminder
# lead), profiled as the worker's periodic job would (so that it does not wait on a held demand), and an API
# token for the resident. Prints what the test needs as JSON.
BUILD = """
import datetime as dt, json, sys, time
import django
django.setup()
from django.core.management import call_command
began = time.monotonic()
call_command("migrate", verbosity=0)
migrated = time.monotonic() - began
from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.demands.models import Demand
from gongzhi.demands.tests.factories import DemandWorld, IN_A1, IN_A2, IN_B1
from gongzhi.insight import services as insight
from gongzhi.org.tests.factories import World
dw = DemandWorld(World())
pks = [dw.dispatched().pk for _ in range(int(sys.argv[1]))]
far = clock.now() + dt.timedelta(days=30)
Demand.objects.filter(pk__in=pks).update(accept_due=far, feedback_due=far)
insight.profile_new_demands()
_, token = ApiToken.issue(dw.resident, "crash test")
print(json.dumps({"token": token, "demands": pks, "points": [IN_A1, IN_A2, IN_B1],
                  "migrate_s": migrated, "build_s": time.monotonic() - began}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """The database the processes share, read and written with a plain connection."""

    def __init__(self, url: str, sqlite_path: Path | None = None):
        self.url, self.sqlite_path = url, sqlite_path

    def connect(self, timeout: float = 2):
        if self.sqlite_path is not None:
            return sqlite3.connect(self.sqlite_path, timeout=timeout, isolation_level=None)
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(timeout)))

    @property
    def mark(self) -> str:
        """The parameter placeholder."""
        return "?" if self.sqlite_path is not None else "%s"

    def rows(self, sql: str, params=()) -> list[tuple]:
        connection = self.connect()
        try:
            return list(connection.execute(sql, params).fetchall())
        finally:
            connection.close()

    def scalar(self, sql: str, default=None):
        """The first value; `default` when the database does not answer (restarting, SQLite busy)."""
        try:
            return self.rows(sql)[0][0]
        except Exception:
            if default is None:
                raise
            return default


def build(env: dict, count: int) -> dict:
    result = subprocess.run([sys.executable, "-c", BUILD, str(count)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def arm(db: Database, pks: list[int], minutes: float = 10) -> None:
    """Bring these dispatched demands' accept deadline `minutes` ahead: inside the reminder lead (20 % of the
    2-hour window, 24 min), so each is owed exactly one reminder for this new deadline."""
    due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    connection = db.connect()
    try:
        if db.sqlite_path is not None:  # as Django stores it there: UTC, without the offset
            value = due.replace(tzinfo=None).isoformat(" ")
            connection.executemany("UPDATE demands_demand SET accept_due = ? WHERE id = ?", [(value, pk) for pk in pks])
        else:
            connection.execute("UPDATE demands_demand SET accept_due = %s WHERE id = ANY(%s)", (due, list(pks)))
    finally:
        connection.close()


def environment(url: str, var: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DJANGO_"))}
    env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="gongzhi.settings",
               PYTHONPATH=str(ROOT), GONGZHI_LEDGER_SEQUENCER="loop", GONGZHI_RATE_LIMITS=RATE_LIMITS,
               GONGZHI_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
               # `ledger verify` remembers the log it verified (trust on first use): here, this log only
               GONGZHI_LEDGER_STATE=str(var / "verify-state.json"), **extra)
    return env


# --- the processes -----------------------------------------------------------------------------------------

def commands(port: int, sweep_interval: float = 1) -> dict[str, list[str]]:
    """scripts/run.sh's processes (the sweep every `sweep_interval` s instead of every minute)."""
    return {
        "web": [str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "--threads", "4", "--graceful-timeout", "3", "--log-level", "warning"],
        "worker": [GONGZHI, "demands", "work", "--forever", "--sweep-interval", str(sweep_interval),
                   "--poll", "0.2"],
        "sequencer": [GONGZHI, "ledger", "sequence", "--forever"],
        "tasks": [GONGZHI, "db_worker", "--no-startup-delay", "--interval", "0.5"],
    }


class Layout:
    """gongzhi's four processes; each in a session (process group) of its own, its output in a log file."""

    def __init__(self, workdir: Path, env: dict, port: int, sweep_interval: float = 1):
        self.workdir, self.env, self.port = workdir, env, port
        self.argv = commands(port, sweep_interval)
        self.processes: dict[str, subprocess.Popen] = {}
        self.kills: dict[str, int] = {name: 0 for name in self.argv}

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self, *names: str) -> None:
        for name in names or tuple(self.argv):
            with self.log(name).open("ab") as out:
                self.processes[name] = subprocess.Popen(self.argv[name], env=self.env, cwd=ROOT, stdout=out,
                                                        stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, name: str) -> None:
        """SIGKILL to the process's whole group: gunicorn's master and its workers at the same instant."""
        process = self.processes[name]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        self.kills[name] += 1

    def restart(self, name: str) -> None:
        self.kill(name)
        self.start(name)

    def alive(self) -> None:
        """Every process still runs: one that ended by itself (a loop that died) fails the test."""
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited {process.returncode}:\n{self.tail(name)}"

    def tail(self, name: str, chars: int = 3000) -> str:
        try:
            return self.log(name).read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM if name != "web" else signal.SIGINT)
                except ProcessLookupError:
                    pass
        for name, process in self.processes.items():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait_answering(self, seconds: float = 60) -> float:
        """Seconds until the web server answers HTTP (after a start or restart)."""
        began = time.monotonic()
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/accounts/login/")
                connection.getresponse().read()
                connection.close()
                return time.monotonic() - began
            except (OSError, http.client.HTTPException):
                assert time.monotonic() - began < seconds, f"the web server did not answer:\n{self.tail('web')}"
                self.alive()
                time.sleep(0.05)


# --- the burst ---------------------------------------------------------------------------------------------

@dataclass
class Sent:
    text: str
    status: int  # 0: no answer (connection refused or cut)
    key: str | None
    at: float


@dataclass
class Burst:
    """`clients` threads POSTing fast-path submissions, each with a unique text, until stop(). Every answer is
    kept: what was acknowledged (202 with its key) must be stored; the rest may or may not be."""

    port: int
    token: str
    points: list
    clients: int = 4
    pause: float = 0.0  # between one client's requests (a realistic rate, not the most it can)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._count = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]

    def start(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _next_text(self) -> tuple[str, list]:
        with self._lock:
            self._count += 1
            return f"{MARK} {self._count}：楼道灯坏了", self.points[self._count % len(self.points)]

    def _client(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        connection = None
        while not self._stop.is_set():
            text, (lon, lat) = self._next_text()
            body = json.dumps({"text": text, "longitude": lon, "latitude": lat, "contact_name": "王女士",
                               "contact_phone": "13900001111"}, ensure_ascii=False).encode()
            status, key = 0, None
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", PATH, body, headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
                if status == 202:
                    key = json.loads(answer)["key"]
            except (OSError, http.client.HTTPException, ValueError):
                if connection is not None:
                    connection.close()
                connection = None
            with self._lock:
                self.sent.append(Sent(text, status, key, time.monotonic()))
            if status != 202:
                time.sleep(0.05)  # refused or down: do not spin
            elif self.pause:
                time.sleep(self.pause)

    def acknowledged(self) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.status == 202]

    def count(self) -> int:
        with self._lock:
            return len(self.sent)

    def statuses(self) -> dict[int, int]:
        with self._lock:
            found: dict[int, int] = {}
            for s in self.sent:
                found[s.status] = found.get(s.status, 0) + 1
            return found

    def wait_acknowledged(self, more: int, seconds: float = 60, layout: Layout | None = None) -> float:
        """Wait until `more` further submissions were acknowledged; the seconds it took."""
        began, target = time.monotonic(), len(self.acknowledged()) + more
        while len(self.acknowledged()) < target:
            assert time.monotonic() - began < seconds, f"no intake for {seconds} s: {self.statuses()}"
            if layout is not None:
                layout.alive()
            time.sleep(0.02)
        return time.monotonic() - began


# --- the checks --------------------------------------------------------------------------------------------

PENDING_SUBMISSIONS = "SELECT count(*) FROM demands_submission WHERE state = 'pending'"
OUTBOX = "SELECT count(*) FROM ledger_pending"
REMINDERS = "SELECT count(*) FROM demands_deadlinereminder"


def wait_for(condition, seconds: float, what: str, layout: Layout | None = None) -> float:
    began = time.monotonic()
    while not condition():
        if layout is not None:
            layout.alive()
        if time.monotonic() - began > seconds:
            logs = "".join(f"\n--- {n}\n{layout.tail(n, 1500)}" for n in layout.argv) if layout else ""
            raise AssertionError(f"timed out after {seconds} s waiting for {what}{logs}")
        time.sleep(0.05)
    return time.monotonic() - began


def drain(db: Database, layout: Layout, reminders: int, seconds: float = 90) -> None:
    """Wait until the processes have filed every submission, sequenced every event and sent every reminder."""
    wait_for(lambda: db.scalar(PENDING_SUBMISSIONS, default=-1) == 0, seconds, "the submissions filed", layout)
    wait_for(lambda: db.scalar(REMINDERS, default=-1) >= reminders, seconds, "the reminders", layout)
    wait_for(lambda: db.scalar(OUTBOX, default=-1) == 0, seconds, "the ledger's outbox to empty", layout)


BLOCKED = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
           "AND datname = current_database()")


def hold_a_demand(db: Database, armed: list[int]):
    """Lock the middle one of the demands owed a reminder: the sweep (newest first) reminds half of them,
    then waits on this row, so the worker is surely killed mid-sweep. The connection; close it to let go."""
    connection = db.connect()
    connection.execute("BEGIN")
    connection.execute("SELECT id FROM demands_demand WHERE id = %s FOR UPDATE", (sorted(armed)[len(armed) // 2],))
    return connection


def sweep_waiting(db: Database, layout: Layout) -> int:
    """Wait until the sweep has sent some reminders and waits on the held row; how many it sent."""
    wait_for(lambda: db.scalar(REMINDERS, default=0) > 0 and db.scalar(BLOCKED, default=0) > 0,
                      60, "the sweep to wait on the held demand", layout)
    return db.scalar(REMINDERS)


@dataclass
class Findings:
    sent: int
    acknowledged: int
    stored: int            # submissions of the burst in the database (acknowledged or not)
    demands: int           # demands filed from the burst
    lost: list[str]        # acknowledged but not filed as a demand
    duplicates: list[str]  # a text filed as more than one demand
    reminders: int
    reminded_twice: list[int]
    not_reminded: list[int]
    reminder_notifications: int
    verify: str

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} acknowledged submission(s) lost: {self.lost[:5]}")
        if self.duplicates:
            found.append(f"{len(self.duplicates)} text(s) filed twice: {self.duplicates[:5]}")
        if self.reminded_twice or self.not_reminded:
            found.append(f"reminders: twice {self.reminded_twice[:5]}, never {self.not_reminded[:5]}")
        if self.reminder_notifications != self.reminders:
            found.append(f"{self.reminder_notifications} reminder notifications for {self.reminders} reminders")
        if self.verify:
            found.append(f"ledger verify --db: {self.verify}")
        return found


def check(db: Database, env: dict, burst: Burst, owed: dict[int, int] | list[int]) -> Findings:
    """What the burst and the kills left, compared with what the clients were told and the reminders owed
    (per demand: how many accept deadlines it was given within its reminder lead; a list: one each)."""
    owed = dict.fromkeys(owed, 1) if isinstance(owed, list) else owed
    acknowledged = {s.key: s.text for s in burst.acknowledged()}
    like = f"{MARK} %"
    filed = dict(db.rows("SELECT s.key, d.text FROM demands_submission s JOIN demands_demand d ON d.id = s.demand_id "
                         "WHERE s.state = 'filed'"))
    stored = db.scalar("SELECT count(*) FROM demands_submission WHERE channel = 'api'")
    lost = [key for key, text in acknowledged.items() if filed.get(key) != text]
    duplicates = [text for text, n in db.rows(f"SELECT text, count(*) FROM demands_demand WHERE text LIKE {db.mark} "
                                              "GROUP BY text HAVING count(*) > 1", (like,))]
    demands = db.rows(f"SELECT count(*) FROM demands_demand WHERE text LIKE {db.mark}", (like,))[0][0]
    per_demand = dict(db.rows("SELECT demand_id, count(*) FROM demands_deadlinereminder WHERE deadline = 'accept' "
                              "GROUP BY demand_id"))
    events = {int(pk): n for pk, n in db.rows("SELECT subject_id, count(*) FROM core_event WHERE kind = "
                                              "'demands.remind' GROUP BY subject_id")}
    twice = sorted(pk for pk in set(per_demand) | set(events)
                   if max(per_demand.get(pk, 0), events.get(pk, 0)) > owed.get(pk, 0))
    never = sorted(pk for pk, n in owed.items() if min(per_demand.get(pk, 0), events.get(pk, 0)) < n)
    notifications = db.scalar("SELECT count(*) FROM demands_notification WHERE kind = 'reminder'")
    reminders = db.scalar(REMINDERS)
    done = subprocess.run([GONGZHI, "ledger", "verify", "--db"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    verify = "" if done.returncode == 0 else f"exit {done.returncode}: {(done.stdout + done.stderr)[-1500:]}"
    return Findings(burst.count(), len(acknowledged), stored, demands, lost, duplicates, reminders, twice, never,
                    notifications, verify)
