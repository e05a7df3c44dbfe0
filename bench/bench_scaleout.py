"""Benchmark: from one app server to several, on loopback, on the engines a city would use (docs/deployment.md,
"From one server to a city"):

    load generator --HTTP--> nginx (upstream, least_conn) --> N gunicorn "app servers" (1 process × 4 threads
    each, own port) --> PgBouncer (transaction pooling) --> PostgreSQL primary (fsync on)
                                                     \\--> its streaming hot standby (cockpit, public pages)
    Redis (the task queue, django-tasks-rq) and one intake worker (`gongzhi demands work --forever`).

    cd /work/main && .venv/bin/python bench/bench_scaleout.py                 # 1, 2 and 4 app servers
    .venv/bin/python bench/bench_scaleout.py --servers 1 2 --seconds 10                  # shorter

Everything is started here in temp folders on free ports (core/pgserver.py, core/loopback.py) and stopped at
the end. The district is the demo's (org.demo without its extensions) with no demands at first: those filed
by the warm-up and the runs (thousands) are what the cockpit and the public list read, so their pages are
cheaper here than in a district with years of demands (docs/benchmarks.md has those at volume).

The mix, from --clients threads with keep-alive connections through nginx, for --seconds per configuration:
  intake   40 %  POST /api/v1/demands/submissions (the fast path: 202 = stored durably), a resident's token
  public   40 %  GET /demands/public/ and /ledger/checkpoint, anonymous (read from the replica)
  cockpit  20 %  GET /insight/ as the demo district's officer (read from the replica)
Reported per configuration: requests/s by kind and in all, p50/p95 latency by kind, errors, the replica's
replay lag (pg_stat_replication, sampled every 0.5 s: the largest), and CPU ms per request of each group of
processes (app servers, intake worker, PostgreSQL both, PgBouncer, nginx, Redis, load generator), from /proc.
All of it shares the machine's cores with the load generator itself: the figures are of the whole layout on
one machine, as a capacity floor, not of a rack of separate servers.
"""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_demands import BENCH_RATE_LIMITS, TEXTS, cpu_model, cpu_seconds, memory_gb, percentile  # noqa: E402

MIX = (("intake", 0.4), ("public", 0.4), ("cockpit", 0.2))


def prepare_main() -> int:
    """--prepare (a child process, on the primary directly): the demo district, a token for
    the resident, a signed-in session for the district's officer, the buildings' points."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from bench_demands import load_district

    token, points = load_district()
    officer = get_user_model().objects.get(username="district")
    session = SessionStore()
    session[SESSION_KEY] = str(officer.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = officer.get_session_auth_hash()
    session.create()
    print(json.dumps({"token": token, "points": points, "session": session.session_key,
                      "cookie": settings.SESSION_COOKIE_NAME}))
    return 0


def postmaster(server) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


def children(pid: int) -> list[int]:
    found = [pid]
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += children(int(child))
    except OSError:
        pass
    return found


class Load:
    def __init__(self, port: int, prepared: dict, seconds: float, clients: int, seed: int, mix=None):
        self.port, self.prepared, self.seconds, self.clients = port, prepared, seconds, clients
        self.mix = mix or MIX
        self.rng = random.Random(seed)
        self.results: list[tuple[str, float, float, int]] = []
        self.lock = threading.Lock()

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, bytes | None, dict]:
        if kind == "intake":
            lon, lat = rng.choice(self.prepared["points"])
            body = {"text": rng.choice(TEXTS), "longitude": lon, "latitude": lat, "contact_name": "王女士",
                    "contact_phone": f"139{rng.randrange(10**8):08d}", "channel": "api"}
            return ("POST", "/api/v1/demands/submissions", json.dumps(body, ensure_ascii=False).encode(),
                    {"Authorization": f"Bearer {self.prepared['token']}", "Content-Type": "application/json"})
        if kind == "public":
            return "GET", rng.choice(("/demands/public/", "/ledger/checkpoint")), None, {}
        return "GET", "/insight/", None, {"Cookie": f"{self.prepared['cookie']}={self.prepared['session']}"}

    def client(self, seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        kinds, weights = zip(*self.mix)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        mine = []
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            method, path, body, headers = self.request(kind, rng)
            start = time.perf_counter()
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            mine.append((kind, start, time.perf_counter(), status))
        conn.close()
        with self.lock:
            self.results.extend(mine)

    def run(self) -> list:
        deadline = time.perf_counter() + self.seconds
        threads = [threading.Thread(target=self.client, args=(self.rng.randrange(10**9), deadline))
                   for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.results


def lag_sampler(primary, stop: threading.Event, samples: list) -> None:
    while not stop.is_set():
        try:
            out = primary.psql("SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0), "
                               "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication")
            if out:
                ms, behind = out.split("|")
                samples.append((float(ms), int(float(behind))))
        except Exception:  # noqa: BLE001 - a sample missed under load
            pass
        stop.wait(0.5)


def run_configuration(n: int, args, env: dict, worker_pids: list, others: dict, prepared: dict, primary, tmp: Path,
                      mix=None, seconds=None) -> dict:
    from gongzhi.core import loopback

    ports = [loopback.free_port() for _ in range(n)]
    servers = []
    for port in ports:
        log = open(tmp / f"gunicorn-{port}.log", "w")
        servers.append(subprocess.Popen([str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}",
                                         "--workers", "1", "--threads", str(args.threads), "--timeout", "120",
                                         "--log-level", "warning"],
                                        env=env, stdout=log, stderr=subprocess.STDOUT))
    nginx = loopback.Nginx(ports).start()
    try:
        for port, server in zip(ports, servers):
            loopback.wait_port(port, server, timeout=120)
            # Each app server answers each kind once before the clock starts: Django imports views on first use,
            # seconds of CPU that belong to starting a server, not to serving.
            warm = Load(port, prepared, 0, 1, seed=port)
            for kind, _ in MIX:
                method, path, body, headers = warm.request(kind, random.Random(port))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                conn.request(method, path, body, headers)
                conn.getresponse().read()
                conn.close()
        Load(nginx.port, prepared, args.warmup, args.clients, seed=n, mix=mix).run()  # connections, caches
        groups = {"app servers": [p for s in servers for p in children(s.pid)],
                  "intake worker": worker_pids, **others, "nginx": children(nginx.process.pid)}
        before = {name: cpu_seconds(pids) for name, pids in groups.items()} | {"load generator": time.process_time()}
        stop, lag = threading.Event(), []
        sampler = threading.Thread(target=lag_sampler, args=(primary, stop, lag), daemon=True)
        sampler.start()
        results = Load(nginx.port, prepared, seconds or args.seconds, args.clients, seed=100 + n, mix=mix).run()
        after = {name: cpu_seconds(pids) for name, pids in groups.items()} | {"load generator": time.process_time()}
        stop.set()
        sampler.join()
    finally:
        nginx.destroy()
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
    elapsed = max(r[2] for r in results) - min(r[1] for r in results)
    ok = {"intake": 202, "public": 200, "cockpit": 200}
    by_kind = {}
    for kind, _ in MIX:
        mine = [r for r in results if r[0] == kind]
        if not mine:
            continue
        good = [(end - start) * 1e3 for k, start, end, status in mine if status == ok[kind]]
        by_kind[kind] = {"per_s": len(good) / elapsed, "errors": len(mine) - len(good),
                         "p50": percentile(good, 50) if good else None, "p95": percentile(good, 95) if good else None}
    total = sum(k["per_s"] for k in by_kind.values()) * elapsed
    return {"servers": n, "seconds": elapsed, "per_s": total / elapsed, "kinds": by_kind,
            "statuses": {str(s): sum(1 for r in results if r[3] == s) for s in sorted({r[3] for r in results})},
            "lag_ms_max": max((s[0] for s in lag), default=None), "lag_bytes_max": max((s[1] for s in lag), default=None),
            "cpu_ms_per_request": {name: (after[name] - before[name]) * 1e3 / max(1, total) for name in after},
            "requests": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--phase-seconds", type=float, default=8, help="each kind alone afterwards (0: skip)")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp folder (the app servers' logs)")
    args = parser.parse_args()
    if args.prepare:
        return prepare_main()

    from gongzhi.core import loopback
    from gongzhi.core.pgserver import PgServer

    if absent := loopback.missing():
        sys.exit(f"bench_scaleout needs Debian's {', '.join(absent)} (scripts/system-packages.sh --ops)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    cleanup = []
    try:
        primary = PgServer.create(durable=True, settings={"shared_buffers": "'256MB'"})
        primary.start()
        cleanup.append(primary.destroy)
        replica = primary.replica()
        cleanup.append(replica.destroy)
        bouncer = loopback.PgBouncer({"gongzhi": (primary, "postgres"),
                                      "gongzhi_replica": (replica, "postgres")}, pool_size=20).start()
        cleanup.append(bouncer.destroy)
        redis = loopback.Redis().start()
        cleanup.append(redis.destroy)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GONGZHI_", "DATABASE_URL"))}
        base.update(GONGZHI_VAR_DIR=str(tmp / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings", PYTHONPATH=str(ROOT),
                    GONGZHI_CONN_MAX_AGE="60", GONGZHI_RATE_LIMITS=BENCH_RATE_LIMITS,
                    GONGZHI_LEDGER_STATE=str(tmp / "ledger-state.json"))
        direct = dict(base, DATABASE_URL=primary.url())
        began = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--prepare"], env=direct, check=True,
                             capture_output=True, text=True)
        prepared = json.loads(out.stdout.strip().splitlines()[-1])
        setup_s = time.perf_counter() - began
        env = dict(base, DATABASE_URL=bouncer.url("gongzhi"), GONGZHI_PGBOUNCER="1",
                   GONGZHI_REPLICA_URL=bouncer.url("gongzhi_replica"), GONGZHI_TASKS_REDIS_URL=redis.url())
        worker = subprocess.Popen([str(BIN / "gongzhi"), "demands", "work", "--forever", "--sweep-interval", "60"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "w"))
        cleanup.append(lambda: (worker.send_signal(signal.SIGTERM), worker.wait(30)))
        others = {"postgres (both)": [p for server in (primary, replica) for p in children(postmaster(server))],
                  "pgbouncer": children(bouncer.process.pid), "redis": children(redis.process.pid)}
        runs = []
        for n in args.servers:
            runs.append(run_configuration(n, args, env, [worker.pid], others, prepared, primary, tmp))
            print(f"  {n} app server(s): {runs[-1]['per_s']:.0f} requests/s", file=sys.stderr)
        # Each kind alone on one app server, for its own CPU cost (the extrapolation in docs/deployment.md).
        alone = {kind: run_configuration(1, args, env, [worker.pid], others, prepared, primary, tmp,
                                         mix=((kind, 1.0),), seconds=args.phase_seconds)
                 for kind in ("intake", "public", "cockpit")} if args.phase_seconds else {}
        time.sleep(2)
        filed = int(primary.psql("SELECT count(*) FROM demands_submission WHERE state = 'filed'"))
        waiting = int(primary.psql("SELECT count(*) FROM demands_submission WHERE state <> 'filed'"))
        report = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_model(),
                  "cores": os.cpu_count(), "memory_gb": round(memory_gb(), 1),
                  "postgres": primary.psql("SHOW server_version"), "setup_s": setup_s,
                  "clients": args.clients, "runs": runs, "alone": alone, "submissions_filed": filed, "submissions_waiting": waiting,
                  "load": os.getloadavg()}
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception:  # noqa: BLE001 - stop the rest
                pass
        if not args.keep_logs:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
    if args.json:
        print(json.dumps(report, indent=1))
    print_report(report)
    return 0


def print_report(r: dict) -> None:
    print(f"\nbench_scaleout: {r['date']}, {r['cpu']}, {r['cores']} cores, {r['memory_gb']} GB, PostgreSQL "
          f"{r['postgres']} (primary fsync on + streaming hot standby), PgBouncer transaction pooling, nginx, "
          f"Redis; {r['clients']} client threads; load average at "
          f"the end {r['load'][0]:.1f}")
    print("\n| app servers | requests/s | vs 1 | intake/s (p50/p95 ms) | public/s (p50/p95) | cockpit/s (p50/p95) "
          "| errors | replica lag max |")
    print("|---|---|---|---|---|---|---|---|")
    first = r["runs"][0]["per_s"]
    for run in r["runs"]:
        k = run["kinds"]

        def cell(kind):
            x = k[kind]
            return f"{x['per_s']:.0f} ({x['p50'] or 0:.0f}/{x['p95'] or 0:.0f})"
        errors = sum(x["errors"] for x in k.values())
        lag = "n/a" if run["lag_ms_max"] is None else f"{run['lag_ms_max']:.0f} ms, {run['lag_bytes_max']:,} B"
        print(f"| {run['servers']} | {run['per_s']:.0f} | {run['per_s'] / first:.2f}× | {cell('intake')} | "
              f"{cell('public')} | {cell('cockpit')} | {errors} | {lag} |")
    print("\nCPU ms per request (all kinds), by process group:")
    names = list(r["runs"][0]["cpu_ms_per_request"])
    print("| app servers | " + " | ".join(names) + " | total |")
    print("|---|" + "---|" * (len(names) + 1))
    for run in r["runs"]:
        cpu = run["cpu_ms_per_request"]
        print(f"| {run['servers']} | " + " | ".join(f"{cpu[name]:.2f}" for name in names)
              + f" | {sum(cpu.values()):.2f} |")
    if r["alone"]:
        print("\nEach kind alone (one app server): requests/s, p50/p95 ms, CPU ms per request by group:")
        for kind, run in r["alone"].items():
            x = run["kinds"][kind]
            cpu = run["cpu_ms_per_request"]
            print(f"| {kind} | {x['per_s']:.0f}/s | {x['p50'] or 0:.0f}/{x['p95'] or 0:.0f} ms | "
                  + ", ".join(f"{name} {value:.2f}" for name, value in cpu.items()) + f" | total {sum(cpu.values()):.2f} |")
    print(f"\nsubmissions filed by the intake worker by the end: {r['submissions_filed']:,}; "
          f"still waiting: {r['submissions_waiting']:,}")


if __name__ == "__main__":
    sys.exit(main())
