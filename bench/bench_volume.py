"""Benchmark: volume — pages and queries over millions of demands on PostgreSQL (issue #19 item 2).

    cd /work/main && .venv/bin/python bench/bench_volume.py --demands 1000000
    DATABASE_URL=postgres://gongzhi@127.0.0.1:5432/postgres .venv/bin/python bench/bench_volume.py --demands 10000000

A scratch database is made (on the server in DATABASE_URL when it names PostgreSQL, else on a PostgreSQL
cluster of our own, core/pgserver.py, in a temp folder), migrated, and filled by `gongzhi bench seed --demands N
--ledger queue` (the demo district, N demands over --years years, contacts, steps; their events left in the
ledger's outbox: building the entries is timed separately by the seed at smaller N). Then, in a fresh process,
each page (Django's test client, signed in as the demo's officers; the whole view with its template) and each
query is run --runs times after one warm-up: median and p95. For the slowest SQL statements of each, EXPLAIN
(ANALYZE, BUFFERS) is printed (--plans 0 to skip). The scratch database (and cluster) is dropped at the end
unless --keep.

Goals at 10,000,000 demands: a monthly rate table or ranking ≤ 1 s, a list page ≤ 200 ms, the cockpit ≤ 500 ms.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

GOALS_MS = {"rates": 1000, "list": 200, "cockpit": 500}


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")).split()[1]) / 2**20
    except (OSError, StopIteration):
        memory = 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.platform()}; CPU {cpu}; {os.cpu_count()} cores; {memory:.0f} GB RAM; load average {load}; "
            f"python {platform.python_version()}")


def scratch(args):
    """(url, drop) of a fresh database."""
    import psycopg

    server = os.environ.get("DATABASE_URL", "")
    cluster = None
    if not server.startswith(("postgres://", "postgresql://")):
        from gongzhi.core.pgserver import PgServer

        cluster = PgServer.create(durable=False, settings={
            "shared_buffers": args.shared_buffers, "work_mem": "64MB", "maintenance_work_mem": "512MB",
            "max_wal_size": "8GB", "effective_cache_size": "8GB", "random_page_cost": "1.1"})
        cluster.start()
        server = cluster.url()
    name = f"gongzhi_volume_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')

    def drop():
        if cluster is not None:
            cluster.destroy()
            return
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return urlunsplit(urlsplit(server)._replace(path=f"/{name}")), drop


# --- measuring (in a child process with the scratch database's settings) ----------------------------------

def timed(call, runs: int) -> dict:
    call()  # warm-up: caches, plans
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    ordered = sorted(times)
    return {"median": statistics.median(times), "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]}


def explain(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def captured(call):
    """Run call once; its SQL statements with their time, slowest first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))


def cases():
    """(group, name, callable) for every page and query measured."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from gongzhi.core import keyset
    from gongzhi.demands import queries, ranking
    from gongzhi.demands.models import Demand
    from gongzhi.insight import services as insight

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["district", "street_secretary", "community_secretary", "property_staff", "grid_worker"])}
    clients = {}
    for username, user in users.items():
        # A session made by hand: force_login's sign-in signal would log the address "unknown".
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                        HASH_SESSION_KEY: user.get_session_auth_hash()})
        session.save()
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="localhost")
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        clients[username] = client
    anonymous = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="localhost")
    today = dt.date.today()
    month = ranking.last_complete_month(today)

    def page(client, url):
        def call():
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200, (url, response.status_code)
            return response
        return call

    # A cursor 50 pages deep into the public list, as a reader paging on would reach it.
    public = Demand.objects.exclude(state__in=("merged", "rejected"))
    deep = keyset.paginate(public, queries.NEWEST_FIRST, {}, per_page=20)
    for _ in range(49):
        deep = keyset.paginate(public, queries.NEWEST_FIRST, {"page": deep.next_query.split("=", 1)[1]}, per_page=20)
    deep_token = deep.next_query
    out = []
    for level in queries.LEVELS:
        out.append(("rates", f"rates, last month, per {level}", lambda level=level: queries.rates(level, *month)))
    out.append(("rates", "ranking, last month, per unit (and its previous month)",
                lambda: queries.ranked("unit", *month)))
    out.append(("rates", "rates dashboard page (district, last month)",
                page(clients["district"], f"/demands/dashboard/?start={month[0]}&end={month[1]}")))
    out.append(("list", "public list, page 1", page(anonymous, "/demands/public/")))
    out.append(("list", "public list, page 51 (keyset)", page(anonymous, f"/demands/public/?{deep_token}")))
    out.append(("list", "public list, one community, page 1",
                page(anonymous, f"/demands/public/?community={Demand.objects.values_list('community_id', flat=True).first()}")))
    for username in ("district", "street_secretary", "property_staff"):
        if username in clients:
            out.append(("list", f"work queue of {username}", page(clients[username], "/demands/queue/")))
    out.append(("list", "dispatch desk (triage) of street_secretary", page(clients["street_secretary"], "/demands/triage/")))
    out.append(("cockpit", "analysis cockpit (district)", page(clients["district"], "/insight/")))

    def cockpit_uncached():
        from django.core.cache import cache

        cache.clear()
        page(clients["district"], "/insight/")()

    out.append(("cockpit", "analysis cockpit (district), cache cleared", cockpit_uncached))
    out.append(("refresh", "insight: profile 20 new demands", lambda: insight.profile_new_demands(limit=20)))

    def recategorise(keep_tally: bool):
        """What the tally's trigger costs a write: 10,000 of the newest demands recategorised and filed again
        (copied as new rows), in a transaction rolled back, with the trigger and with it paused."""
        from django.db import connection, transaction

        from gongzhi.demands import tally

        def call():
            with transaction.atomic():
                if not keep_tally:
                    tally.pause()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT min(id) FROM (SELECT id FROM demands_demand ORDER BY id DESC LIMIT 10000) t")
                    newest = cursor.fetchone()[0]
                    cursor.execute("UPDATE demands_demand SET category_id = (SELECT min(id) FROM demands_category "
                                   "WHERE parent_id IS NOT NULL) WHERE id >= %s", [newest])
                transaction.set_rollback(True)
        return call

    out.append(("write", "10,000 demands recategorised, with the tally's trigger", recategorise(True)))
    out.append(("write", "10,000 demands recategorised, trigger paused", recategorise(False)))
    out.append(("refresh", "insight: hot spots (26 weeks, whole district)", lambda: insight.analyse_hot_spots()))
    return out


def measure_main(args) -> int:
    import django

    django.setup()
    from django.db import connection

    results = []
    for group, name, call in cases():
        try:
            figures = timed(call, args.runs)
        except Exception as error:  # a page that fails is reported, and the others still measured
            print(f"   {name}: FAILED {error!r}")
            results.append({"group": group, "name": name, "error": repr(error)})
            continue
        goal = GOALS_MS.get(group)
        verdict = "" if goal is None else ("met" if figures["median"] <= goal else "NOT met")
        print(f"   {group:8} {name:62} median {figures['median']:8.1f} ms  p95 {figures['p95']:8.1f} ms  {verdict}",
              flush=True)
        results.append({"group": group, "name": name, **figures, "goal_ms": goal})
        if args.plans:
            # The statements that took longest when captured (a busy machine's noise included), each explained
            # again; the --plans whose plans say they ran longest are printed.
            explained = []
            for query in captured(call)[:8]:
                if query["sql"].lstrip().upper().startswith("SELECT"):
                    plan = explain(query["sql"], None)
                    ran = next((float(line.split(":")[1].split()[0]) for line in plan
                                if line.startswith("Execution Time")), 0.0)
                    explained.append((ran, query["sql"], plan))
            for ran, sql, plan in sorted(explained, key=lambda item: -item[0])[: args.plans]:
                print(f"      its longest statement ({ran:.1f} ms explained): {sql[:300]}")
                for line in plan:
                    print(f"        {line}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"   database size {cursor.fetchone()[0]}")
    print(json.dumps(results))
    return 0


PARTITION_SQL = {
    "rates of a month (dispatched or rated in it), per street": """
        SELECT street_id, count(*) FILTER (WHERE dispatched_at >= %(a)s AND dispatched_at < %(b)s),
               count(*) FILTER (WHERE dispatched_at >= %(a)s AND dispatched_at < %(b)s AND accepted_at <= accept_due),
               count(*) FILTER (WHERE rated_at >= %(a)s AND rated_at < %(b)s AND solved)
        FROM {table} WHERE (dispatched_at >= %(a)s AND dispatched_at < %(b)s) OR (rated_at >= %(a)s AND rated_at < %(b)s)
        GROUP BY street_id""",
    "demands received in a month, per grid": """
        SELECT grid_id, count(*) FROM {table} WHERE received_at >= %(a)s AND received_at < %(b)s GROUP BY grid_id""",
    "newest 21 of the public list": """
        SELECT id, number FROM {table} WHERE state NOT IN ('merged', 'rejected')
        ORDER BY received_at DESC, id DESC LIMIT 21""",
}


def partition_experiment(url: str, runs: int) -> None:
    """The demands copied into a table partitioned by month of received_at (what declarative partitioning would
    give, foreign keys aside: docs/decisions), with the same indexes; the same queries timed on both."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        months = conn.execute("SELECT date_trunc('month', min(received_at)), date_trunc('month', max(received_at)) "
                              "FROM demands_demand").fetchone()
        start = time.perf_counter()
        conn.execute("DROP TABLE IF EXISTS volume_partitioned")
        conn.execute("CREATE TABLE volume_partitioned (LIKE demands_demand INCLUDING DEFAULTS) "
                     "PARTITION BY RANGE (received_at)")
        month, n = months[0], 0
        while month <= months[1]:
            conn.execute(f"CREATE TABLE volume_partitioned_{n} PARTITION OF volume_partitioned FOR VALUES FROM "
                         f"('{month.isoformat()}') TO ('{(month + dt.timedelta(days=32)).replace(day=1).isoformat()}')")
            month, n = (month + dt.timedelta(days=32)).replace(day=1), n + 1
        conn.execute("INSERT INTO volume_partitioned SELECT * FROM demands_demand")
        for columns in ("received_at, id", "dispatched_at", "rated_at", "street_id, rated_at", "state, feedback_due"):
            conn.execute(f"CREATE INDEX ON volume_partitioned ({columns})")
        conn.execute("VACUUM ANALYZE volume_partitioned")
        print(f"   partitioned copy: {n} monthly partitions, built in {time.perf_counter() - start:.0f} s")
        b = conn.execute("SELECT date_trunc('month', max(received_at)) FROM demands_demand").fetchone()[0]
        a = (b - dt.timedelta(days=1)).replace(day=1)
        for name, sql in PARTITION_SQL.items():
            figures = {}
            for table in ("demands_demand", "volume_partitioned"):
                query = sql.format(table=table)
                figures[table] = timed(lambda query=query: conn.execute(query, {"a": a, "b": b}).fetchall(), runs)
            print(f"   {name:55} plain table {figures['demands_demand']['median']:7.1f} ms, "
                  f"partitioned {figures['volume_partitioned']['median']:7.1f} ms (medians)")
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.format(table="volume_partitioned"),
                                {"a": a, "b": b}).fetchall()
            print("        partitioned plan: " + "; ".join(row[0].strip() for row in plan[:3]))
        conn.execute("DROP TABLE volume_partitioned")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demands", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each page and query (after a warm-up)")
    parser.add_argument("--plans", type=int, default=1, help="EXPLAIN ANALYZE the N slowest statements of each")
    parser.add_argument("--shared-buffers", default="2GB", help="of the cluster this script starts")
    parser.add_argument("--no-steps", dest="steps", action="store_false",
                        help="seed demands and contacts only (no steps/events): for 10M on a busy machine")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database; print its URL")
    parser.add_argument("--url", help="measure this already seeded database (no seeding, nothing dropped)")
    parser.add_argument("--partitions", action="store_true",
                        help="also time a few queries on a copy of the demands partitioned by month (decision 0012)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return measure_main(args)
    print("volume benchmark (gongzhi bench seed + pages and queries)")
    print(f"  machine: {machine()}; date {dt.date.today()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-volume-"))
    drop = lambda: None  # noqa: E731
    if args.url:
        url = args.url
    else:
        url, drop = scratch(args)
    # The ledger sequenced by its own process, as in production (GONGZHI_LEDGER_SEQUENCER=loop): inline, the
    # first page that records an event would sequence the seed's millions of queued events in the request.
    env = {**os.environ, "DATABASE_URL": url, "GONGZHI_VAR_DIR": str(workdir / "var"),
           "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "PYTHONPATH": str(ROOT), "GONGZHI_LEDGER_SEQUENCER": "loop"}
    try:
        if not args.url:
            subprocess.run([str(BIN / "gongzhi"), "migrate", "-v0"], env=env, check=True)
            start = time.perf_counter()
            seeded = subprocess.run([str(BIN / "gongzhi"), "bench", "seed", "--demands", str(args.demands),
                                     "--years", str(args.years), "--ledger", "queue", "--json",
                                     *([] if args.steps else ["--no-steps"])],
                                    env=env, check=True, capture_output=True, text=True)
            report = json.loads(seeded.stdout.strip().splitlines()[-1])
            print(f"\n1. seeded in {time.perf_counter() - start:.0f} s: {report['demands']:,} demands "
                  f"({report['demands_per_s']:,}/s), {report['contacts']:,} contacts, {report['events']:,} events "
                  f"({report['queued']:,} in the ledger's outbox); seconds per part {report['seconds']}")
        # Migrations added since the seed (an index, a rollup) are applied before measuring, and timed.
        start = time.perf_counter()
        subprocess.run([str(BIN / "gongzhi"), "migrate", "-v0"], env=env, check=True)
        print(f"   migrate before measuring: {time.perf_counter() - start:.1f} s")
        print(f"\n2. pages and queries ({args.runs} runs each after a warm-up; goals: rates ≤ {GOALS_MS['rates']} ms, "
              f"lists ≤ {GOALS_MS['list']} ms, cockpit ≤ {GOALS_MS['cockpit']} ms)")
        child = subprocess.Popen([sys.executable, __file__, "--measure", "--runs", str(args.runs), "--plans",
                                  str(args.plans)], env=env, stdout=subprocess.PIPE, text=True)
        last = ""
        for line in child.stdout:  # each figure as it is measured
            if last:
                print(last, end="", flush=True)
            last = line
        if child.wait() != 0:
            raise subprocess.CalledProcessError(child.returncode, child.args)
        results = json.loads(last)
        if args.partitions:
            print("\n3. the same queries on a copy of the demands partitioned by month of receipt")
            partition_experiment(url, args.runs)
        missed = [r["name"] for r in results if r.get("goal_ms") and (r.get("error") or r["median"] > r["goal_ms"])]
        print(f"\n  goals: {'MET' if not missed else 'NOT MET: ' + '; '.join(missed)}")
        if args.keep:
            print(f"  kept: DATABASE_URL={url}")
        return 0 if not missed else 1
    finally:
        if not args.keep:
            drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
