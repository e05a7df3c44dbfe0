"""Benchmark: demands (接诉即办) — intake throughput over HTTP against the production server, and the three
rates over 1,000,000 demands. Runs on a scratch database it creates and deletes: a SQLite file, or, when
DATABASE_URL names a PostgreSQL server, a fresh database on that server.

    cd /work/main && .venv/bin/python bench/bench_demands.py
    DATABASE_URL=postgres://gongzhi@127.0.0.1:54403/postgres .venv/bin/python bench/bench_demands.py

1. Intake. The demo district (org.demo, without its extensions) is built, the demo resident gets an API
   token, and gunicorn (`gunicorn gongzhi.wsgi`, --workers, --threads) serves it on a free 127.0.0.1
   port. A load generator in this process (--clients threads, each with its own keep-alive
   http.client connection) POSTs /api/v1/demands/ — a text, a point at one of the district's buildings,
   a category on half of them (routed, when a rule matches: the demo has none here, so they wait at the
   desk), a contact — for --seconds (at most --count requests), and stops by itself. Reported: demands
   accepted (201) per second, latency p50/p95/p99, errors; the database is checked to hold exactly that
   many demands, each with its event in the ledger's outbox or log. Run once per ledger sequencer mode
   (--modes): "inline" (each request sequences its event after its commit) and "loop" (a separate
   `gongzhi ledger sequence --forever` process; requests only write the outbox row).
   --profile N then files N demands in-process through the API (Django's test client) under cProfile
   and prints where the time goes: token check, point-to-grid, number (the day's counter row, locked),
   routing and time limits, the event and outbox writes, inline sequencing.
2. Rates (PostgreSQL only). --demands rows (default 1,000,000) are synthesised over the year before today in
   the demo district by `gongzhi bench seed`'s code (gongzhi/demands/seeding.py; demands and contacts, no
   steps): dispatched to its units, accepted in time or late, rated solved or not with each satisfaction level. queries.rates() is then timed per level
   (unit, community, street, category) for the last month and for the whole year: median and max of
   --repeat runs. Goal: ≤ 1 s on PostgreSQL.
"""

import argparse
import cProfile
import datetime as dt
import http.client
import json
import os
import platform
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

GOAL_INTAKE_PER_S = 1_000
GOAL_INTAKE_P95_MS = 50
GOAL_RATES_S = 1.0
TEXTS = ("小区门口垃圾堆了三天没人清运，味道很大。", "楼道灯坏了一个多星期，物业一直没修。", "路面有一个坑，骑车容易摔。",
         "楼上邻居装修，早上六点就开始砸墙。", "暖气不热，屋里只有十五度。", "共享单车把小区出入口堵住了。")
CATEGORIES = ("environment.garbage", "housing.property_service", "traffic.roads", "environment.noise",
              "utilities.heating", "traffic.bicycles")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def scratch_database(workdir: Path, tag: str):
    """(url, drop) for a fresh database beside the server in DATABASE_URL, or a SQLite file."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"gongzhi_bench_{tag}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

        return urlunsplit(urlsplit(server)._replace(path=f"/{name}")), drop
    return f"sqlite:///{workdir / f'bench-{tag}.sqlite3'}", lambda: None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One resident's token files the whole load: its limits are lifted out of reach, but still counted, so the
# figures include the rate limit's cost (docs/decisions/0007-rate-limits.md).
BENCH_RATE_LIMITS = json.dumps({"file_demand": {"user": "1000000000/h", "address": "1000000000/h"}})


def setup_django(url: str, var: Path, sequencer: str):
    os.environ.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="gongzhi.settings",
                      GONGZHI_LEDGER_SEQUENCER=sequencer, PYTHONPATH=str(ROOT))
    os.environ.setdefault("GONGZHI_RATE_LIMITS", BENCH_RATE_LIMITS)
    import django

    django.setup()


def database_version() -> str:
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "SQLite " + connection.connection.execute("select sqlite_version()").fetchone()[0]
    number = connection.connection.info.server_version
    return f"PostgreSQL {number // 10000}.{number % 10000}"


def load_district():
    """The demo district without the demo demands; the resident's API token; the buildings' points."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from gongzhi.core.models import ApiToken
    from gongzhi.org import demo
    from gongzhi.org.models import Building

    call_command("migrate", verbosity=0)
    saved = list(demo.EXTENSIONS)
    demo.EXTENSIONS.clear()
    try:
        demo.build_demo()
    finally:
        demo.EXTENSIONS[:] = saved
    _, token = ApiToken.issue(get_user_model().objects.get(username="resident"), "bench")
    points = list(Building.objects.order_by("id").values_list("longitude", "latitude"))
    return token, points


# --- 1. intake over HTTP -----------------------------------------------------------------------------------

def bodies(points, n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lon, lat = rng.choice(points)
        k = rng.randrange(len(TEXTS))
        body = {"text": TEXTS[k], "longitude": lon, "latitude": lat, "contact_name": "王女士",
                "contact_phone": f"139{rng.randrange(10**8):08d}", "channel": "api"}
        if i % 2:
            body["category"] = CATEGORIES[k]
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


PATHS = {"submissions": ("/api/v1/demands/submissions", 202), "file": ("/api/v1/demands/", 201)}


def drive(port: int, token: str, payloads: list[bytes], clients: int, seconds: float,
          url: str = PATHS["submissions"][0]) -> list[tuple]:
    """POST the payloads from `clients` threads until they run out or `seconds` pass; (start, end, status)."""
    results: list[tuple] = []
    lock = threading.Lock()
    cursor = iter(payloads)
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def next_payload():
        with lock:
            return next(cursor, None)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline and (payload := next_payload()) is not None:
            start = time.perf_counter()
            try:
                conn.request("POST", url, payload, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            mine.append((start, time.perf_counter(), status))
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def cpu_seconds(pids) -> float:
    """user + system CPU seconds of these processes so far (from /proc; 0 where unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def process_tree(pid: int) -> list[int]:
    """pid and its children (gunicorn's master and workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(c) for c in children)]


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited") from None
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def intake(args, mode: str) -> dict:
    """One intake run in a fresh scratch database, in its own process (settings are per process)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-demands-"))
    url, drop = scratch_database(workdir, "intake")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_LEDGER_")}
    env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(workdir / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings",
               GONGZHI_LEDGER_SEQUENCER=mode, PYTHONPATH=str(ROOT))
    env.setdefault("GONGZHI_CONN_MAX_AGE", "60")  # persistent connections, as in production
    env.setdefault("GONGZHI_RATE_LIMITS", BENCH_RATE_LIMITS)
    processes = []
    try:
        out = subprocess.run([sys.executable, __file__, "--prepare"], env=env, check=True, capture_output=True,
                             text=True)
        prepared = json.loads(out.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--threads", str(args.threads), "--log-level", "warning"], env=env)
        processes.append(server)
        if mode == "loop":
            processes.append(subprocess.Popen([str(BIN / "gongzhi"), "ledger", "sequence", "--forever"], env=env,
                                              stdout=subprocess.DEVNULL))
        wait_until_up(port, server)
        payloads = bodies(prepared["points"], args.count + 200, seed=7)
        url, ok_status = PATHS[args.path]
        drive(port, prepared["token"], payloads[:200], args.clients, 30, url)  # warm-up: connections, caches, index
        server_pids, database_pids = process_tree(server.pid), postgres_pids()
        sequencer_pids = [p.pid for p in processes[1:]]

        def cpu_now():
            return (cpu_seconds(server_pids), cpu_seconds(sequencer_pids), cpu_seconds(database_pids),
                    time.process_time())

        cpu_before = cpu_now()
        results = drive(port, prepared["token"], payloads[200:], args.clients, args.seconds, url)
        cpu = [after - before for before, after in zip(cpu_before, cpu_now())]
        accepted = [r for r in results if r[2] == ok_status]
        elapsed = max(r[1] for r in results) - min(r[0] for r in results)
        latencies = [(end - start) * 1e3 for start, end, status in accepted]
        statuses = {}
        for _, _, status in results:
            statuses[status] = statuses.get(status, 0) + 1
        for process in reversed(processes[:1]):  # the server; the sequencer (if any) keeps running
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        drain = None
        if args.path == "submissions" and args.drain:
            # The intake worker files what was accepted: how fast it drains the queue, in one process.
            start = time.perf_counter()
            work = subprocess.run([str(BIN / "gongzhi"), "demands", "work", "--json"], env=env, check=True,
                                  capture_output=True, text=True)
            drain = {"seconds": time.perf_counter() - start, **json.loads(work.stdout.strip().splitlines()[-1])}
        time.sleep(1.0 if mode == "loop" else 0)  # let the sequencer catch up
        check = subprocess.run([sys.executable, __file__, "--count-stored"], env=env, check=True,
                               capture_output=True, text=True)
        stored = json.loads(check.stdout.strip().splitlines()[-1])
        return {"mode": mode, "requests": len(results), "accepted": len(accepted), "seconds": elapsed,
                "per_s": len(accepted) / elapsed, "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                "p99": percentile(latencies, 99), "statuses": statuses, "stored": stored, "drain": drain,
                "cpu_ms": {name: seconds * 1e3 / max(1, len(accepted))
                           for name, seconds in zip(("server", "ledger sequencer", "database", "load generator"), cpu)},
                "database": prepared["database"]}
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def prepare_main() -> int:
    """--prepare (a child process): migrate, build the district, print the token and the points as JSON."""
    import django

    django.setup()
    token, points = load_district()
    print(json.dumps({"token": token, "points": points, "database": database_version()}))
    return 0


def count_stored_main() -> int:
    """--count-stored (a child process): demands stored, and their file events in the log and in the outbox."""
    import django

    django.setup()
    from gongzhi.core.models import Event
    from gongzhi.demands.models import Demand, Submission
    from gongzhi.ledger.models import Entry, Pending

    kinds = ("demands.file", "demands.submit")
    print(json.dumps({"demands": Demand.objects.count(), "submissions": Submission.objects.count(),
                      "filed": Submission.objects.filter(state="filed").count(),
                      "events": Event.objects.filter(kind__in=kinds).count(),
                      "in_log": Entry.objects.filter(event__kind__in=kinds).count(),
                      "pending": Pending.objects.filter(event__kind__in=kinds).count()}))
    return 0


BUCKETS = (
    ("token check (ApiToken.find_user)", "gongzhi/core/models.py", "find_user"),
    ("file_demand, the use case (incl. the rows below)", "gongzhi/demands/services.py", "file_demand"),
    ("  point to grid (locating.locate)", "gongzhi/org/locating.py", "locate"),
    ("  number: the day's counter row, locked", "gongzhi/demands/services.py", "_allocate_number"),
    ("  routing (services.route)", "gongzhi/demands/services.py", "route"),
    ("  time limits (services.time_limit_for)", "gongzhi/demands/services.py", "time_limit_for"),
    ("  urgency cues (services._proposed_urgency)", "gongzhi/demands/services.py", "_proposed_urgency"),
    ("  event + outbox rows (services._record)", "gongzhi/demands/services.py", "_record"),
    ("  ledger sequencing after commit (inline mode)", "gongzhi/ledger/services.py", "sequence_pending"),
    ("response: ledger receipts (services.receipt)", "gongzhi/demands/services.py", "receipt"),
)


def profile_main(n: int) -> int:
    """--profile-run (a child process): N API filings in-process under cProfile; shares of the time."""
    import django

    django.setup()
    from django.test import Client

    token, points = load_district()
    client = Client(SERVER_NAME="127.0.0.1")
    payloads = bodies(points, n + 20, seed=11)
    headers = {"Authorization": f"Bearer {token}"}
    for payload in payloads[:20]:
        client.post("/api/v1/demands/", payload, content_type="application/json", headers=headers)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for payload in payloads[20:]:
        response = client.post("/api/v1/demands/", payload, content_type="application/json", headers=headers)
        assert response.status_code == 201, response.content
    profiler.disable()
    wall = time.perf_counter() - start
    profiled = pstats.Stats(profiler)
    print(f"\n   where the time goes, sequencer {os.environ['GONGZHI_LEDGER_SEQUENCER']}: {n} API filings in-process "
          f"(Django test client, {database_version()}) under cProfile, which slows Python about 2×: "
          f"{wall / n * 1e3:.2f} ms per request")
    for label, path, name in BUCKETS:
        cumulative = sum(value[3] for (filename, _, function), value in profiled.stats.items()
                         if filename.endswith(path) and function == name)
        print(f"     {label:50} {cumulative / n * 1e3:7.2f} ms  {100 * cumulative / profiled.total_tt:5.1f} %")
    return 0


# --- 2. the three rates over a million demands ------------------------------------------------------------------

def synthesise_demands(n: int, seed: int, today: dt.date) -> float:
    """n demands over the year before `today` in the district already built, by the seed command's code
    (gongzhi/demands/seeding.py, `gongzhi bench seed`): demands and contacts, no steps; seconds taken."""
    from gongzhi.demands import seeding

    start = time.perf_counter()
    seeding.seed(n, years=1, end=today, seed_value=seed, steps=False, force=True)
    return time.perf_counter() - start


def rates_main(args) -> int:
    """--rates-run (a child process): district, n synthetic demands, queries.rates() timed per level."""
    import django

    django.setup()
    from django.db import connection

    from gongzhi.demands import queries
    from gongzhi.demands.models import Demand

    load_district()
    if connection.vendor != "postgresql":
        print("   skipped: the demands are synthesised with `gongzhi bench seed`, which needs PostgreSQL")
        print(json.dumps({"worst_median_s": 0.0}))
        return 0
    today = dt.date.today()
    seconds = synthesise_demands(args.demands, seed=3, today=today)
    print(f"   {Demand.objects.count():,} demands synthesised in {seconds:.0f} s ({database_version()})")
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    ranges = (("last month", last_month_end.replace(day=1), last_month_end),
              ("whole year", today - dt.timedelta(days=365), today))
    worst = 0.0
    for label, start, end in ranges:
        for level in queries.LEVELS:
            runs = []
            for _ in range(args.repeat):
                begin = time.perf_counter()
                rows = queries.rates(level, start, end)
                runs.append(time.perf_counter() - begin)
            worst = max(worst, statistics.median(runs))
            dispatched = sum(r.dispatched for r in rows)
            print(f"   {label:10} {level:9} {len(rows):4} rows over {dispatched:8,} dispatched: "
                  f"median {statistics.median(runs) * 1e3:7.1f} ms, max {max(runs) * 1e3:7.1f} ms")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            print(f"   (PostgreSQL max_parallel_workers_per_gather = {cursor.fetchone()[0]})")
    print(json.dumps({"worst_median_s": worst}))
    return 0


def rates(args) -> float | None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-demands-rates-"))
    url, drop = scratch_database(workdir, "rates")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_LEDGER_")}
    env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(workdir / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings",
               PYTHONPATH=str(ROOT))
    try:
        run = subprocess.run([sys.executable, __file__, "--rates-run", "--demands", str(args.demands),
                              "--repeat", str(args.repeat)], env=env, check=True, capture_output=True, text=True)
        lines = run.stdout.rstrip().splitlines()
        print("\n".join(lines[:-1]))
        return json.loads(lines[-1])["worst_median_s"]
    finally:
        drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="inline,loop", help="ledger sequencer modes to run intake with")
    parser.add_argument("--no-drain", dest="drain", action="store_false",
                        help="do not time `gongzhi demands work` filing the accepted submissions afterwards")
    parser.add_argument("--path", choices=sorted(PATHS), default="submissions",
                        help="submissions: the fast path, answered 202 (default); file: filed in the request, 201")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections of the load generator")
    parser.add_argument("--seconds", type=float, default=15, help="intake run length")
    parser.add_argument("--count", type=int, default=50_000, help="most requests per intake run")
    parser.add_argument("--profile", type=int, default=500, help="requests profiled in-process (0: skip)")
    parser.add_argument("--demands", type=int, default=1_000_000, help="demands synthesised for the rates (0: skip)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each rates query")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count-stored", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-run", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rates-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        return prepare_main()
    if args.count_stored:
        return count_stored_main()
    if args.profile_run:
        return profile_main(args.profile_run)
    if args.rates_run:
        return rates_main(args)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print("demands benchmark (gongzhi.demands)")
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; {memory_gb():.0f} GB RAM; "
          f"load average {load}; python {platform.python_version()}")
    server = os.environ.get("DATABASE_URL", "")
    print(f"  database: {'PostgreSQL at ' + urlsplit(server).netloc if server.startswith('postgres') else 'SQLite file'}"
          f"; date {dt.date.today()}")
    ok = True
    print(f"\n1. intake over HTTP: gunicorn gongzhi.wsgi --workers {args.workers} --threads {args.threads}, "
          f"GONGZHI_CONN_MAX_AGE={os.environ.get('GONGZHI_CONN_MAX_AGE', '60')}, {args.clients} client connections, "
          f"{args.seconds:g} s per run (after 200 warm-up requests)")
    for mode in [m for m in args.modes.split(",") if m]:
        r = intake(args, mode)
        met = r["per_s"] >= GOAL_INTAKE_PER_S and r["p95"] <= GOAL_INTAKE_P95_MS
        ok &= met
        errors = {k: v for k, v in r["statuses"].items() if k != PATHS[args.path][1]}
        print(f"   sequencer {mode:6}: {r['accepted']:,} accepted in {r['seconds']:.1f} s = {r['per_s']:,.0f} demands/s; "
              f"latency p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms; "
              f"errors {errors or 'none'} ({r['database']})")
        costs = "; ".join(f"{name} {ms:.2f}" for name, ms in r["cpu_ms"].items())
        total = sum(r["cpu_ms"].values())
        print(f"      CPU per accepted request, ms: {costs}; total {total:.2f} "
              f"(so {os.cpu_count()} idle cores would carry about {os.cpu_count() * 1e3 / total:,.0f}/s)")
        stored = r["stored"]
        if r["drain"]:
            d = r["drain"]
            print(f"      drained by one `gongzhi demands work` afterwards: {d['filed']:,} filed, {d['refused']} refused, "
                  f"{d['failed']} failed in {d['seconds']:.1f} s = {d['filed'] / d['seconds']:,.0f} filings/s")
        print(f"      stored: {stored['submissions']:,} submissions ({stored['filed']:,} filed), {stored['demands']:,} "
              f"demands, {stored['in_log']:,} of their events in the log, {stored['pending']:,} still in the outbox")
        expected = stored["submissions"] if args.path == "submissions" else stored["demands"]
        if expected != r["accepted"] + 200 or (args.drain and args.path == "submissions" and stored["filed"] != expected):
            print("      MISMATCH: stored rows differ from accepted requests (+200 warm-up)")
            ok = False
    if args.profile:
        for mode in [m for m in args.modes.split(",") if m]:
            workdir = Path(tempfile.mkdtemp(prefix="bench-demands-profile-"))
            url, drop = scratch_database(workdir, "profile")
            env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_LEDGER_")}
            env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(workdir / "var"), GONGZHI_LEDGER_SEQUENCER=mode,
                       DJANGO_SETTINGS_MODULE="gongzhi.settings", PYTHONPATH=str(ROOT))
            try:
                run = subprocess.run([sys.executable, __file__, "--profile-run", str(args.profile)], env=env,
                                     check=True, capture_output=True, text=True)
                print(run.stdout.rstrip())
            finally:
                drop()
                subprocess.run(["rm", "-rf", str(workdir)], check=False)
    if args.demands:
        print(f"\n2. the three rates over {args.demands:,} demands (queries.rates, {args.repeat} runs each)")
        worst = rates(args)
        if worst is not None:
            met = worst <= GOAL_RATES_S
            verdict = ("met" if met else "NOT met") if server.startswith("postgres") else "set for PostgreSQL"
            print(f"   slowest median {worst * 1e3:.0f} ms: goal ≤ {GOAL_RATES_S:g} s {verdict}")
            ok &= met or not server.startswith("postgres")
    print(f"\n  goals (intake ≥ {GOAL_INTAKE_PER_S:,}/s with p95 ≤ {GOAL_INTAKE_P95_MS} ms; rates ≤ {GOAL_RATES_S:g} s "
          f"on PostgreSQL): {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
