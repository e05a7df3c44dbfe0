"""Soak (issue #19, item 6): the production layout under a bounded, steady load on loopback for --minutes
(default 10) at --rate fast-path submissions a second (default 500: half the intake goal of 1,000/s,
docs/benchmarks.md "Intake: the fast path"), mixed with reads and writes of every kind of user.

    .venv/bin/python bench/bench_soak.py                      # 10 minutes at 500 submissions/s
    .venv/bin/python bench/bench_soak.py --minutes 2 --rate 100 --markdown /tmp/soak.md --json /tmp/soak.json

What it starts, in a temp folder it deletes at the end:
1. a PostgreSQL cluster of its own (core/pgserver.py, durable: fsync and synchronous commit on);
2. `gongzhi migrate`, `gongzhi demo` (the whole demo district: 7,000 demands, cases, supervision orders,
   the cockpit's data; about 90 s; --quick builds the district alone); API tokens for the
   demo resident and the district; --ratings of the demo's rated demands are given back to the resident as
   closed and unrated (a direct UPDATE in the set-up, not a step), so the resident has one to rate each time;
3. scripts/run.sh, as `make serve` runs it: gunicorn with --workers processes of 4 threads, the intake
   worker (`demands work --forever`), the ledger sequencer (GONGZHI_LEDGER_SEQUENCER=loop) and the task
   worker (GONGZHI_TASK_WORKER=1), the access log to a file.

The load is open-loop: each kind of request arrives at its own fixed rate whatever the server does (a
slow answer does not slow the arrivals); requests wait for a free client connection (--clients for the
intake, --page-clients for everything else), and a latency counts from when the request was due, so time
spent waiting for a connection is in it ("served" is from sending to the whole answer) (one still waiting --give-up seconds after it was due, default 60, is
not sent and counts as failed with status -1, as a client that gave up). The kinds (per second, pages scaled by --read-scale):

    api.submit          POST /api/v1/demands/submissions as the resident (bearer token)   --rate
    api.submission      GET  /api/v1/demands/submissions/<key> (the resident polls one)   0.5
    api.list            GET  /api/v1/demands/?limit=20 as the district (bearer token)     0.5
    public.*            /, /cases/, a case file, /demands/public/, Open311's services.json
    resident.*          /, /demands/mine/, /demands/new/ (the report form), a rating (POST, 回访)
    grid_worker.*       / (the workbench), /demands/queue/
    district.*          / (the workbench), /demands/supervision/ (督办台), /insight/ (the cockpit)

Every --sample seconds (default 5) it reads from /proc the resident memory (VmRSS) and CPU time of each
process (the web server's master and each worker, the intake worker, the sequencer, the task worker,
PostgreSQL's processes together, this load generator), and from the database the submissions waiting to
be filed (the worker's backlog), those filed, and the ledger's outbox. At the end: per minute and in
total, throughput, latency p50/p95/p99 and errors per kind; RSS per process and its growth from minute 2
to the end; CPU per process; the filing rate the worker reached. Then it checks that every submission
answered 202 is stored, stops the layout with SIGTERM (as a supervisor does), and says whether it stopped
cleanly. --markdown FILE writes the tables for docs/reliability.md, --json FILE everything measured.
"""

import argparse
import datetime as dt
import heapq
import http.client
import json
import os
import platform
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_demands import cpu_model, memory_gb  # noqa: E402  (the machine, as every bench reports it)

GOAL_INTAKE_PER_S = 1_000
TICK = os.sysconf("SC_CLK_TCK")
TEXTS = ("小区门口垃圾堆了三天没人清运，味道很大。", "楼道灯坏了一个多星期，物业一直没修。", "路面有一个坑，骑车容易摔。",
         "楼上邻居装修，早上六点就开始砸墙。", "暖气不热，屋里只有十五度。", "共享单车把小区出入口堵住了。")
CATEGORIES = ("environment.garbage", "housing.property_service", "traffic.roads", "environment.noise",
              "utilities.heating", "traffic.bicycles")
# The resident's fast-path submissions must not meet the per-user limit (30/h): lifted out of reach, still
# counted (docs/decisions/0007-rate-limits.md), as in bench_demands.py.
RATE_LIMITS = json.dumps({"file_demand": {"user": "1000000000/h", "address": "1000000000/h"}})
ROLES = ("resident", "grid_worker", "district")


def password(username: str) -> str:
    return "gongzhi-demo-" + username.replace("_", "-")


# name: (who, method, path or a key of the set-up's lists, requests per second at --read-scale 1, answers taken as success)
PAGE_KINDS = {
    "api.submission": ("api:resident", "GET", "{submission}", 0.5, (200,)),
    "api.list": ("api:district", "GET", "/api/v1/demands/?limit=20", 0.5, (200,)),
    "public.home": (None, "GET", "/", 1.0, (200,)),
    "public.cases": (None, "GET", "/cases/", 0.5, (200,)),
    "public.case": (None, "GET", "{case}", 0.5, (200,)),
    "public.demands": (None, "GET", "/demands/public/", 0.3, (200,)),
    "public.open311": (None, "GET", "/open311/v2/services.json", 0.5, (200,)),
    "resident.home": ("resident", "GET", "/", 0.3, (200,)),
    "resident.mine": ("resident", "GET", "/demands/mine/", 0.5, (200,)),
    "resident.form": ("resident", "GET", "/demands/new/", 0.3, (200,)),
    "resident.rate": ("resident", "POST", "{rating}", 0.2, (302,)),
    "grid_worker.home": ("grid_worker", "GET", "/", 0.5, (200,)),
    "grid_worker.queue": ("grid_worker", "GET", "/demands/queue/", 0.5, (200,)),
    "district.home": ("district", "GET", "/", 0.3, (200,)),
    "district.supervision": ("district", "GET", "/demands/supervision/", 0.3, (200,)),
    "district.cockpit": ("district", "GET", "/insight/", 0.3, (200,)),
}
SUBMIT = "api.submit"


# --- the machine and /proc ---------------------------------------------------------------------------------

# cpu_model() and memory_gb(): bench_demands' (imported above), as bench_scaleout uses them.


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stat(pid: int) -> tuple[float, float] | None:
    """(CPU seconds of the process, CPU seconds of its children that ended and were waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def memory(pid: int, field: str = "VmRSS") -> int | None:
    """kB of the process's VmRSS (or RssAnon), None when it has ended."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- set-up (in a child process: Django's settings are per process) ----------------------------------------------

def prepare_main(ratings: int) -> int:
    """--prepare: tokens, points, case files, the resident's demands to rate; JSON on the last line."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from gongzhi.cases.models import Case
    from gongzhi.core.models import ApiToken
    from gongzhi.demands import rules
    from gongzhi.demands.models import Demand
    from gongzhi.org.models import Building

    users = get_user_model().objects
    resident = users.get(username="resident")
    _, resident_token = ApiToken.issue(resident, "soak")
    _, district_token = ApiToken.issue(users.get(username="district"), "soak")
    points = list(Building.objects.order_by("id").values_list("longitude", "latitude"))
    to_rate = list(Demand.objects.filter(state=rules.RATED).order_by("-id").values_list("pk", flat=True)[:ratings])
    Demand.objects.filter(pk__in=to_rate).update(reporter_user=resident, state=rules.CLOSED, solved=None,
                                                 satisfaction="", rated_at=None)
    numbers = list(Demand.objects.filter(pk__in=to_rate).order_by("id").values_list("number", flat=True))
    number = connection.connection.info.server_version
    print(json.dumps({"tokens": {"resident": resident_token, "district": district_token}, "points": points,
                      "cases": list(Case.objects.order_by("id").values_list("pk", flat=True)),
                      "ratings": numbers, "database": f"PostgreSQL {number // 10000}.{number % 10000}"}))
    return 0


# --- the load ----------------------------------------------------------------------------------------------

class Session:
    """A signed-in browser's cookies (sign-in through the form, as a browser does)."""

    def __init__(self, port: int, username: str):
        self.cookies: dict[str, str] = {}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._request(conn, "GET", "/accounts/login/")
        body = urllib.parse.urlencode({"username": username, "password": password(username),
                                       "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        status = self._request(conn, "POST", "/accounts/login/", body,
                               {"Content-Type": "application/x-www-form-urlencoded"})
        conn.close()
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"sign-in as {username} answered {status}")

    def _request(self, conn, method, path, body=None, headers=None) -> int:
        conn.request(method, path, body, {**(headers or {}), "Cookie": self.header()})
        response = conn.getresponse()
        response.read()
        self.take(response)
        return response.status

    def take(self, response) -> None:
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


class Load:
    """Open-loop arrivals for each kind at a fixed rate; client threads with keep-alive connections take
    them in order. Results: per kind, (due, started, ended, status) relative to the start."""

    def __init__(self, port: int, prepared: dict, args):
        self.port, self.args = port, args
        self.tokens = prepared["tokens"]
        self.points = prepared["points"]
        self.cases = prepared["cases"]
        self.ratings = list(prepared["ratings"])
        self.sessions = {role: Session(port, role) for role in ROLES}
        self.submission_keys: list[str] = []
        self.results: dict[str, list[tuple]] = defaultdict(list)
        self.lock = threading.Lock()
        self.queues = {"intake": queue.Queue(), "pages": queue.Queue()}
        self.rng = random.Random(19)
        self.start = 0.0

    # what each request sends
    def submit_request(self, rng):
        lon, lat = rng.choice(self.points)
        k = rng.randrange(len(TEXTS))
        body = {"text": TEXTS[k], "longitude": lon, "latitude": lat, "contact_name": "王女士",
                "contact_phone": f"139{rng.randrange(10**8):08d}", "channel": "api"}
        if k % 2:
            body["category"] = CATEGORIES[k]
        return ("POST", "/api/v1/demands/submissions", json.dumps(body, ensure_ascii=False).encode(),
                {"Authorization": f"Bearer {self.tokens['resident']}", "Content-Type": "application/json"})

    def page_request(self, kind, rng):
        who, method, path, _, _ = PAGE_KINDS[kind]
        headers, body = {}, None
        if path == "{submission}":
            with self.lock:
                keys = self.submission_keys[-50:]
            if not keys:
                return None
            path = f"/api/v1/demands/submissions/{rng.choice(keys)}"
        elif path == "{case}":
            if not self.cases:  # --quick: no case files
                return None
            path = f"/cases/{rng.choice(self.cases)}/"
        elif path == "{rating}":
            with self.lock:
                number = self.ratings.pop() if self.ratings else None
            if number is None:
                return None
            path = f"/demands/{number}/actions/rate/"
            session = self.sessions["resident"]
            body = urllib.parse.urlencode({"solved": "yes", "satisfaction": rng.choice(["satisfied", "basically_satisfied"]),
                                           "note": "", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if who and who.startswith("api:"):
            headers["Authorization"] = f"Bearer {self.tokens[who[4:]]}"
        elif who:
            headers["Cookie"] = self.sessions[who].header()
        return method, path, body, headers

    def warm_up(self, rounds: int = 2) -> dict:
        """Each kind a few times, one at a time (both web workers, their caches), before the clock starts; the
        kinds that answered otherwise than expected, with their statuses."""
        rng = random.Random(7)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        refused = defaultdict(list)
        for _ in range(rounds):
            for kind in [SUBMIT, *(k for k in PAGE_KINDS if k != "resident.rate")]:  # ratings: one each
                request = self.submit_request(rng) if kind == SUBMIT else self.page_request(kind, rng)
                if request is None:
                    continue
                method, path, body, headers = request
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                content = response.read()
                if kind == SUBMIT and response.status == 202:
                    self.submission_keys.append(json.loads(content)["key"])
                if response.status not in ((202,) if kind == SUBMIT else PAGE_KINDS[kind][4]):
                    refused[kind].append(response.status)
        conn.close()
        return dict(refused)

    def client(self, pool: str):
        rng = random.Random()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        mine = defaultdict(list)
        keys = []
        while True:
            job = self.queues[pool].get()
            if job is None:
                break
            kind, due = job
            if time.perf_counter() - self.start - due > self.args.give_up:
                # Due so long ago that a client would have given up: counted as failed (status -1), not sent,
                # so that an overloaded server does not leave hours of queued requests behind the run.
                mine[kind].append((due, due, due + self.args.give_up, -1))
                continue
            request = self.submit_request(rng) if kind == SUBMIT else self.page_request(kind, rng)
            if request is None:
                continue
            method, path, body, headers = request
            started = time.perf_counter()
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                content = response.read()
                status = response.status
                if kind == SUBMIT and status == 202 and len(keys) < 1000 and rng.random() < 0.01:
                    keys.append(json.loads(content)["key"])
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                status = 0
            ended = time.perf_counter()
            mine[kind].append((due, started - self.start, ended - self.start, status))
            if keys and len(mine[kind]) % 100 == 0:
                with self.lock:
                    self.submission_keys.extend(keys)
                keys = []
        conn.close()
        with self.lock:
            for kind, rows in mine.items():
                self.results[kind].extend(rows)

    def run(self, seconds: float):
        rates = {SUBMIT: self.args.rate}
        rates |= {kind: spec[3] * self.args.read_scale for kind, spec in PAGE_KINDS.items() if spec[3] * self.args.read_scale > 0}
        pools = [threading.Thread(target=self.client, args=("intake",)) for _ in range(self.args.clients)]
        pools += [threading.Thread(target=self.client, args=("pages",)) for _ in range(self.args.page_clients)]
        for thread in pools:
            thread.start()
        self.start = time.perf_counter()
        # Each kind's first arrival at a random phase within its interval, then every 1/rate seconds.
        heap = [(self.rng.random() / rate, kind) for kind, rate in rates.items()]
        heapq.heapify(heap)
        while heap:
            due, kind = heapq.heappop(heap)
            if due >= seconds:
                continue
            wait = self.start + due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.queues["intake" if kind == SUBMIT else "pages"].put((kind, due))
            heapq.heappush(heap, (due + 1 / rates[kind], kind))
        for name, pool_size in (("intake", self.args.clients), ("pages", self.args.page_clients)):
            for _ in range(pool_size):
                self.queues[name].put(None)
        for thread in pools:
            thread.join()


# --- sampling the processes and the queues -----------------------------------------------------------------------

class Sampler(threading.Thread):
    def __init__(self, layout_pid: int, postmaster_pid: int, database_url: str, interval: float):
        super().__init__(daemon=True)
        self.layout_pid, self.postmaster_pid = layout_pid, postmaster_pid
        self.database_url, self.interval = database_url, interval
        self.samples: list[dict] = []
        self.stopping = threading.Event()
        self.start_time = 0.0
        self.census: dict[tuple[int, str], float] = {}
        self.beside: dict[str, float] = defaultdict(float)  # CPU seconds of the others during the run

    def processes(self) -> dict[str, int]:
        """label → pid of each process of the layout, from /proc (scripts/run.sh's children and gunicorn's)."""
        found = {}
        for pid in children(self.layout_pid):
            line = cmdline(pid)
            if "gunicorn" in line:
                found["web server (master)"] = pid
                for n, worker in enumerate(sorted(children(pid)), 1):
                    found[f"web worker {n}"] = worker
            elif "demands work" in line:
                found["intake worker"] = pid
            elif "ledger sequence" in line:
                found["ledger sequencer"] = pid
            elif "db_worker" in line:
                found["task worker"] = pid
        found["load generator"] = os.getpid()
        return found

    def postgres(self) -> tuple[float, int]:
        own, ended = stat(self.postmaster_pid) or (0.0, 0.0)
        cpu, rss = own + ended, memory(self.postmaster_pid, "RssAnon") or 0
        for pid in children(self.postmaster_pid):
            s = stat(pid)
            if s:
                cpu += s[0]
                rss += memory(pid, "RssAnon") or 0
        return cpu, rss

    def queues(self, connection) -> dict:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM demands_submission WHERE state = 'pending'),"
            " (SELECT count(*) FROM demands_submission WHERE state = 'filed'),"
            " (SELECT count(*) FROM demands_submission WHERE state = 'refused'),"
            " (SELECT count(*) FROM ledger_pending),"
            " (SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING'))"
        ).fetchone()
        return dict(zip(("backlog", "filed", "refused", "outbox", "tasks"), row))

    def machine(self) -> dict:
        """The machine's busy CPU seconds (all cores, from /proc/stat) and its load average: with ours, what
        else ran beside the soak."""
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        busy = sum(int(x) for i, x in enumerate(fields[:8]) if i not in (3, 4)) / TICK  # all but idle, iowait
        return {"busy": busy, "load": os.getloadavg()[0]}

    def others(self, ours: set[int]) -> dict[tuple[int, str], float]:
        """CPU seconds so far of every process on the machine that is not ours, by (pid, command)."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in ours:
                continue
            s = stat(int(entry.name))
            if s:
                found[(int(entry.name), re.sub(r"\s+", " ", cmdline(int(entry.name)))[:110] or "(kernel)")] = s[0]
        return found

    def active_queries(self, connection) -> list:
        """Statements running for more than a second in the soak's database: what a slow minute waited on."""
        return [list(row) for row in connection.execute(
            "SELECT round(extract(epoch FROM now() - query_start)::numeric, 1), coalesce(wait_event, ''),"
            " left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_activity WHERE state = 'active'"
            " AND pid <> pg_backend_pid() AND now() - query_start > interval '1 second' ORDER BY 1 DESC LIMIT 5")]

    def sample(self, connection) -> dict:
        at = time.perf_counter() - self.start_time
        procs = {}
        for label, pid in self.processes().items():
            s, rss = stat(pid), memory(pid)
            if s and rss:
                procs[label] = {"pid": pid, "cpu": s[0], "rss": rss}
        cpu, rss = self.postgres()
        procs["PostgreSQL (all its processes)"] = {"pid": self.postmaster_pid, "cpu": cpu, "rss": rss}
        try:
            counts = self.queues(connection)
            counts["slow_queries"] = self.active_queries(connection)
        except Exception as error:  # a probe must not end the soak; the gap shows in the figures
            counts = {"error": str(error)[:200]}
        ours = {p["pid"] for p in procs.values()} | {self.postmaster_pid, self.layout_pid}
        census = self.others(ours | set(children(self.postmaster_pid)))
        for key, cpu in census.items():  # what each process used since the last sample (if it was there then)
            if key in self.census:
                self.beside[key[1]] += cpu - self.census[key]
        self.census = census
        return {"t": at, "procs": procs, **counts, **self.machine()}

    def run(self):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while not self.stopping.is_set():
                self.samples.append(self.sample(connection))
                self.stopping.wait(self.interval)
            self.samples.append(self.sample(connection))


# --- the report ------------------------------------------------------------------------------------------------

def summarise(load: Load, sampler: Sampler, seconds: float) -> dict:
    minutes = max(1, int(round(seconds / 60)))
    per_minute = []
    kinds = sorted(load.results, key=lambda k: (k != SUBMIT, k))

    def expected(kind):
        return (202,) if kind == SUBMIT else PAGE_KINDS[kind][4]

    def figures(rows, kind, span):
        good = [(r[2] - r[0]) * 1e3 for r in rows if r[3] in expected(kind)]
        errors = defaultdict(int)
        for r in rows:
            if r[3] not in expected(kind):
                errors[str(r[3])] += 1
        return {"requests": len(rows), "ok": len(good), "per_s": len(good) / span,
                "p50": percentile(good, 50), "p95": percentile(good, 95), "p99": percentile(good, 99),
                "max": max(good) if good else float("nan"), "errors": dict(errors),
                "waited_p95": percentile([(r[1] - r[0]) * 1e3 for r in rows], 95),
                "served_p50": percentile([(r[2] - r[1]) * 1e3 for r in rows if r[3] in expected(kind)], 50),
                "served_p95": percentile([(r[2] - r[1]) * 1e3 for r in rows if r[3] in expected(kind)], 95)}

    samples = sampler.samples

    def sample_at(t):
        return min(samples, key=lambda s: abs(s["t"] - t)) if samples else None

    for m in range(minutes):
        lo, hi = m * 60, min(seconds, (m + 1) * 60)
        row = {"minute": m + 1, "kinds": {}}
        for kind in kinds:
            rows = [r for r in load.results[kind] if lo <= r[0] < hi]
            row["kinds"][kind] = figures(rows, kind, hi - lo)
        pages = [r for kind in kinds if kind != SUBMIT for r in load.results[kind] if lo <= r[0] < hi]
        good_pages = [(r[2] - r[0]) * 1e3 for kind in kinds if kind != SUBMIT
                      for r in load.results[kind] if lo <= r[0] < hi and r[3] in expected(kind)]
        row["pages"] = {"requests": len(pages), "ok": len(good_pages), "per_s": len(good_pages) / (hi - lo),
                        "p50": percentile(good_pages, 50), "p95": percentile(good_pages, 95),
                        "p99": percentile(good_pages, 99)}
        a, b = sample_at(lo), sample_at(hi)
        if a and b and b["t"] > a["t"]:
            span = b["t"] - a["t"]
            row["filed_per_s"] = (b.get("filed", 0) - a.get("filed", 0)) / span
            row["backlog"], row["outbox"], row["tasks"] = b.get("backlog"), b.get("outbox"), b.get("tasks")
            row["cpu"] = {label: (b["procs"][label]["cpu"] - a["procs"][label]["cpu"]) / span
                          for label in b["procs"] if label in a["procs"]
                          and a["procs"][label]["pid"] == b["procs"][label]["pid"]}
            row["rss_mb"] = {label: p["rss"] / 1024 for label, p in b["procs"].items()}
            row["machine_cores"] = (b["busy"] - a["busy"]) / span
            row["others_cores"] = row["machine_cores"] - sum(row["cpu"].values())
            row["load"] = b["load"]
        per_minute.append(row)

    total = {kind: figures(load.results[kind], kind, seconds) for kind in kinds}
    first, last = sample_at(60), samples[-1] if samples else None
    growth = {}
    if first and last:
        for label, p in last["procs"].items():
            q = first["procs"].get(label)
            if q and q["pid"] == p["pid"]:
                growth[label] = {"minute_2_mb": q["rss"] / 1024, "end_mb": p["rss"] / 1024,
                                 "growth_mb": (p["rss"] - q["rss"]) / 1024,
                                 "per_minute_mb": (p["rss"] - q["rss"]) / 1024 / max(1e-9, (last["t"] - first["t"]) / 60)}
            else:
                growth[label] = {"replaced": True}
    whole = {}
    if samples:
        a, b = samples[0], samples[-1]
        span = max(1e-9, b["t"] - a["t"])
        whole = {label: (b["procs"][label]["cpu"] - a["procs"][label]["cpu"]) / span
                 for label in b["procs"] if label in a["procs"] and a["procs"][label]["pid"] == b["procs"][label]["pid"]}
    pids = {label: sorted({s["procs"][label]["pid"] for s in samples if label in s["procs"]}) for label in
            (samples[-1]["procs"] if samples else {})}
    # Others by command, a pytest run's numbers and ports folded: what kind of work ran beside.
    folded = defaultdict(float)
    for cmd, cpu in sampler.beside.items():
        folded[re.sub(r"\d+", "N", cmd)[:100]] += cpu
    span = max(1e-9, samples[-1]["t"] - samples[0]["t"]) if samples else 1
    beside = dict(sorted(((k, v / span) for k, v in folded.items() if v / span >= 0.01), key=lambda kv: -kv[1])[:15])
    slow = sorted((q + [round(x["t"])] for x in samples for q in x.get("slow_queries", [])), key=lambda q: -q[0])
    return {"per_minute": per_minute, "total": total, "rss_growth": growth, "cpu_cores": whole,
            "beside": beside, "slow_queries": slow[:15],
            "pids": pids, "timeline": [{k: v for k, v in s.items() if k != "procs"} for s in samples]}


def fmt_ms(x) -> str:
    return "–" if x != x else (f"{x:.0f}" if x >= 10 else f"{x:.1f}")


def markdown(report: dict) -> str:
    s = report["summary"]
    out = ["| min | submissions/s (202) | p50 / p95 / p99 ms | other requests/s | p50 / p95 / p99 ms | errors | "
           "filed/s | backlog | outbox | CPU cores: web / worker / seq / PG / load gen. | others' cores, load avg | "
           "RSS MB: web workers / worker / seq / tasks |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in s["per_minute"]:
        sub = row["kinds"].get(SUBMIT, {})
        pages = row["pages"]
        errors = sum(sum(k["errors"].values()) for k in row["kinds"].values())
        cpu = row.get("cpu", {})
        web = sum(v for label, v in cpu.items() if label.startswith("web"))
        rss = row.get("rss_mb", {})
        workers = " + ".join(f"{v:.0f}" for label, v in sorted(rss.items()) if label.startswith("web worker"))
        out.append(
            f"| {row['minute']} | {sub.get('per_s', 0):.0f} | {fmt_ms(sub.get('p50', float('nan')))} / "
            f"{fmt_ms(sub.get('p95', float('nan')))} / {fmt_ms(sub.get('p99', float('nan')))} | {pages['per_s']:.1f} | "
            f"{fmt_ms(pages['p50'])} / {fmt_ms(pages['p95'])} / {fmt_ms(pages['p99'])} | {errors} | "
            f"{row.get('filed_per_s', 0):.0f} | {row.get('backlog', '–'):,} | {row.get('outbox', '–'):,} | "
            f"{web:.2f} / {cpu.get('intake worker', 0):.2f} / {cpu.get('ledger sequencer', 0):.2f} / "
            f"{cpu.get('PostgreSQL (all its processes)', 0):.2f} / {cpu.get('load generator', 0):.2f} | "
            f"{row.get('others_cores', float('nan')):.2f}, {row.get('load', float('nan')):.1f} | "
            f"{workers} / {rss.get('intake worker', 0):.0f} / {rss.get('ledger sequencer', 0):.0f} / "
            f"{rss.get('task worker', 0):.0f} |")
    out += ["", "| kind | requests | ok/s | p50 ms | p95 ms | p99 ms | max ms | served p50 / p95 ms | "
                "errors (status: count) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for kind, f in s["total"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(f["errors"].items())) or "none"
        out.append(f"| {kind} | {f['requests']:,} | {f['per_s']:.2f} | {fmt_ms(f['p50'])} | {fmt_ms(f['p95'])} | "
                   f"{fmt_ms(f['p99'])} | {fmt_ms(f['max'])} | {fmt_ms(f.get('served_p50', float('nan')))} / "
                   f"{fmt_ms(f.get('served_p95', float('nan')))} | {errors} |")
    out += ["", "| process | RSS at minute 2, MB | at the end, MB | growth, MB | per minute, MB | CPU, cores (mean) |",
            "|---|---|---|---|---|---|"]
    for label, g in s["rss_growth"].items():
        cpu = s["cpu_cores"].get(label, float("nan"))
        if g.get("replaced"):
            out.append(f"| {label} | (replaced during the run: pids {s['pids'].get(label)}) | | | | {cpu:.2f} |")
        else:
            out.append(f"| {label} | {g['minute_2_mb']:.1f} | {g['end_mb']:.1f} | {g['growth_mb']:+.1f} | "
                       f"{g['per_minute_mb']:+.2f} | {cpu:.2f} |")
    if s.get("beside"):
        out += ["", "What else ran on the machine (CPU, cores on average over the run, by command; processes that lived less than one sample interval are missed):", ""]
        out += [f"- {cores:.2f}: `{cmd}`" for cmd, cores in s["beside"].items()]
    if s.get("slow_queries"):
        out += ["", "Statements seen running for more than a second (seconds, wait event, statement, at second):", ""]
        out += [f"- {q[0]} s {q[1] or '-'} `{q[2]}` (t={q[3]} s)" for q in s["slow_queries"]]
    return "\n".join(out) + "\n"


# --- the run -----------------------------------------------------------------------------------------------------

def run(args) -> int:
    from gongzhi.core.pgserver import PgServer

    work = Path(tempfile.mkdtemp(prefix="gongzhi-soak-"))
    server = None
    layout = None
    try:
        server = PgServer.create(durable=True, settings={"shared_buffers": "'256MB'"})
        server.start()
        url = server.url()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DATABASE_URL"))}
        env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(work / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings",
                   PYTHONPATH=str(ROOT), GONGZHI_LEDGER_SEQUENCER="loop", GONGZHI_TASK_WORKER="1",
                   GONGZHI_WEB_WORKERS=str(args.workers), GONGZHI_CONN_MAX_AGE="60", GONGZHI_RATE_LIMITS=RATE_LIMITS,
                   BIN=str(BIN), HOST="127.0.0.1")
        began = time.perf_counter()
        print(f"set-up: PostgreSQL on port {server.port}; migrate, {'the district' if args.quick else 'the demo'}, "
              "…", flush=True)
        gongzhi = str(BIN / "gongzhi")
        subprocess.run([gongzhi, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
        if args.quick:
            subprocess.run([sys.executable, "-c", "import django; django.setup(); from gongzhi.org import demo; "
                            "demo.EXTENSIONS.clear(); demo.build_demo()"], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        else:
            subprocess.run([gongzhi, "demo"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        needed = int(args.minutes * 60 * PAGE_KINDS["resident.rate"][3] * args.read_scale * 1.2) + 20
        out = subprocess.run([sys.executable, __file__, "--prepare", str(needed)], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True)
        prepared = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"set-up done in {time.perf_counter() - began:.0f} s ({prepared['database']}, "
              f"{len(prepared['ratings'])} demands for the resident to rate)", flush=True)

        port = free_port()
        env["PORT"] = str(port)
        access_log = open(work / "access.log", "wb")
        layout = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh")], env=env, cwd=ROOT, stdout=access_log,
                                  stderr=open(work / "run.log", "wb"),
                                  preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL),
                                                      signal.signal(signal.SIGTERM, signal.SIG_DFL)))
        print(f"the layout answers after {wait_until_up(port, layout):.1f} s", flush=True)
        load = Load(port, prepared, args)
        refused = load.warm_up()
        if refused:
            print(f"warning: in the warm-up these answered otherwise than expected: {refused}", flush=True)

        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        sampler = Sampler(layout.pid, postmaster, url, args.sample)
        seconds = args.minutes * 60
        print(f"load: {args.rate:g} submissions/s and {sum(k[3] for k in PAGE_KINDS.values()) * args.read_scale:.1f} "
              f"other requests/s for {args.minutes:g} min on port {port} …", flush=True)
        stored_before = count_submissions(url)
        sampler.start_time = time.perf_counter()
        sampler.start()
        started_at = dt.datetime.now(dt.timezone.utc)
        load.run(seconds)
        sampler.stopping.set()
        sampler.join()
        accepted = sum(1 for r in load.results[SUBMIT] if r[3] == 202)
        stored = count_submissions(url) - stored_before
        summary = summarise(load, sampler, seconds)
        final = sampler.samples[-1] if sampler.samples else {}

        # Stopping as a supervisor does: SIGTERM to run.sh, which stops each process and waits for it.
        t0 = time.perf_counter()
        layout.send_signal(signal.SIGTERM)
        try:
            code = layout.wait(timeout=60)
        except subprocess.TimeoutExpired:
            code = None
        stop_seconds = time.perf_counter() - t0
        run_log = (work / "run.log").read_text(errors="replace")
        tracebacks = run_log.count("Traceback")
        report = {
            "command": " ".join(sys.argv), "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
            "started": started_at.isoformat(timespec="seconds"), "minutes": args.minutes, "rate": args.rate,
            "read_scale": args.read_scale, "web_workers": args.workers, "clients": args.clients,
            "page_clients": args.page_clients, "database": prepared["database"], "demo": not args.quick,
            "machine": f"{platform.system()} {platform.release()} {platform.machine()}, {cpu_model()}, "
                       f"{os.cpu_count()} cores, {memory_gb():.0f} GB RAM; Python {platform.python_version()}",
            "accepted": accepted, "stored": stored, "backlog_at_end": final.get("backlog"),
            "outbox_at_end": final.get("outbox"), "stop_exit": code, "stop_seconds": stop_seconds,
            "tracebacks_in_log": tracebacks, "summary": summary,
            "load_average_at_end": os.getloadavg(),
        }
        print_report(report, run_log)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        if args.markdown:
            Path(args.markdown).write_text(markdown(report))
        if args.keep:
            print(f"kept: {work} (PostgreSQL still running at {url})")
        problems = []
        if stored != accepted:
            problems.append(f"{accepted} submissions answered 202 but {stored} stored")
        if code != 143:
            problems.append(f"the layout did not stop cleanly on SIGTERM (exit {code})")
        errors = sum(sum(f["errors"].values()) for f in summary["total"].values())
        if errors and args.strict:
            problems.append(f"{errors} requests failed")
        for problem in problems:
            print("PROBLEM:", problem)
        return 1 if problems else 0
    except BaseException:
        if (work / "run.log").exists():
            print("the processes' log:\n" + (work / "run.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        if layout is not None and layout.poll() is None:
            layout.send_signal(signal.SIGTERM)
            try:
                layout.wait(timeout=30)
            except subprocess.TimeoutExpired:
                layout.kill()
        if not args.keep:
            if server is not None:
                server.destroy()
            shutil.rmtree(work, ignore_errors=True)


def count_submissions(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SELECT count(*) FROM demands_submission").fetchone()[0]


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 300) -> float:
    """Seconds until the sign-in page answers (each web worker imports the whole site when it starts)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError("scripts/run.sh exited before the server answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                return time.perf_counter() - began
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer")


def print_report(report: dict, run_log: str) -> None:
    s = report["summary"]
    print(f"\nsoak: {report['minutes']:g} min at {report['rate']:g} submissions/s, started {report['started']}, "
          f"{report['web_workers']} web workers × 4 threads, {report['database']}; {report['machine']}")
    print(markdown(report))
    t = s["timeline"]
    print(f"accepted (202) {report['accepted']:,}; stored {report['stored']:,}; at the end: "
          f"{report['backlog_at_end']} waiting to be filed, {report['outbox_at_end']} in the ledger's outbox")
    if len(t) > 2 and "filed" in t[-1] and "filed" in t[0]:
        print(f"filing rate over the run: {(t[-1]['filed'] - t[0]['filed']) / (t[-1]['t'] - t[0]['t']):.0f}/s")
    print(f"stop: exit {report['stop_exit']} in {report['stop_seconds']:.1f} s; "
          f"{report['tracebacks_in_log']} tracebacks in the processes' log; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in report['load_average_at_end'])}")
    stopping = [line for line in run_log.splitlines() if re.search(r"stopp|still running|killed|Traceback", line)]
    if stopping:
        print("the processes' log on stopping:\n  " + "\n  ".join(stopping[-20:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=GOAL_INTAKE_PER_S / 2, help="fast-path submissions a second")
    parser.add_argument("--read-scale", type=float, default=1.0, help="multiplies the other kinds' rates")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (GONGZHI_WEB_WORKERS)")
    parser.add_argument("--clients", type=int, default=16, help="keep-alive connections for the submissions")
    parser.add_argument("--page-clients", type=int, default=6, help="keep-alive connections for the rest")
    parser.add_argument("--give-up", type=float, default=60,
                        help="seconds after which a request still waiting for a connection is counted failed (-1)")
    parser.add_argument("--sample", type=float, default=5, help="seconds between samples of /proc and the queues")
    parser.add_argument("--quick", action="store_true", help="the district alone, not the whole demo")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any failed request")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and PostgreSQL running")
    parser.add_argument("--json")
    parser.add_argument("--markdown")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare is not None:
        return prepare_main(args.prepare)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
