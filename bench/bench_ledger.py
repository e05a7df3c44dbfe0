"""Benchmark: the transparency log (gongzhi.ledger) — appends/s, record-to-checkpoint latency, proof
latency at 10,000,000 entries, bytes per entry. Runs on a scratch database it creates and deletes:
a SQLite file, or, when DATABASE_URL names a PostgreSQL server, a fresh database on that server.

    cd /work/main && .venv/bin/python bench/bench_ledger.py
    DATABASE_URL=postgres://gongzhi@127.0.0.1:54391/postgres .venv/bin/python bench/bench_ledger.py

Phases:
1. Synthetic 10M log (--proof-size). Entries `{"synthetic":i}` are written straight into ledger_entry
   and every complete subtree hash (computed with merkle.Frontier, exactly as the sequencer would)
   into ledger_subtree, in bulk (SQLite executemany with synchronous=OFF; PostgreSQL COPY), with
   foreign-key checks off because no core.Event rows are made for them (event ids 10^12 + i). The
   head gets the size, root and frontier. Then random inclusion and consistency proofs are timed
   (raw: merkle + DatabaseHashSource; and through the JSON API with Django's test client), and a
   sample is verified against the root.
2. Sequencer throughput (durable): --events events are recorded (bulk, with their Pending rows),
   then `services.sequence_pending()` drains them in batches of --batch, one fsync'd transaction
   and one signed checkpoint per batch. Appends on top of the 10M log, so at realistic depth.
3. End to end: --writers processes record events (--per-txn per transaction, one commit each) as
   fast as they can for --seconds while `gongzhi ledger sequence --forever` runs.
4. Latency: one writer records --rate events/s (one per transaction); for each event, the time from
   its `at` to the signing of the first checkpoint that includes it.
5. Bytes per entry: the ledger tables' size (rows + indexes) per entry, minus the entry text itself.
"""

import argparse
import bisect
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_APPENDS_PER_S = 5_000
GOAL_LATENCY_P99_S = 1.0
GOAL_PROOF_P99_MS = 1.0
SYNTHETIC_EVENT_BASE = 10**12


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- scratch database ---------------------------------------------------------------------------------


def scratch_database(workdir: Path):
    """(url, drop) for a fresh database beside the server in DATABASE_URL, or a SQLite file."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"gongzhi_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

        return urlunsplit(urlsplit(server)._replace(path=f"/{name}")), drop
    return f"sqlite:///{workdir / 'bench-ledger.sqlite3'}", lambda: None


# --- phase 1: a synthetic log of n entries ---------------------------------------------------------------


def synthesise(n: int, chunk: int = 200_000):
    from django.db import connection, transaction

    from gongzhi.ledger import merkle, storage
    from gongzhi.ledger.models import Entry, LogHead, Subtree

    frontier = merkle.Frontier()
    leaf_hash, append = merkle.leaf_hash, frontier.append
    sqlite = connection.vendor == "sqlite"
    connection.ensure_connection()
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
    entry_table, subtree_table = Entry._meta.db_table, Subtree._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            if not sqlite:
                cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
            for start in range(0, n, chunk):
                entries, subtrees = [], []
                for i in range(start, min(start + chunk, n)):
                    text = b'{"synthetic":%d}' % i
                    leaf = leaf_hash(text)
                    entries.append((i, SYNTHETIC_EVENT_BASE + i, leaf, text.decode()))
                    for level, index, value in append(leaf)[1:]:
                        subtrees.append((storage.subtree_key(level, index), value))
                if sqlite:
                    raw = connection.connection
                    raw.executemany(f'INSERT INTO {entry_table} ("index", event_id, leaf_hash, text) VALUES (?,?,?,?)',
                                    entries)
                    raw.executemany(f'INSERT INTO {subtree_table} ("key", hash) VALUES (?,?)', subtrees)
                else:
                    with cursor.copy(f'COPY {entry_table} ("index", event_id, leaf_hash, text) FROM STDIN') as copy:
                        for row in entries:
                            copy.write_row(row)
                    with cursor.copy(f'COPY {subtree_table} ("key", hash) FROM STDIN') as copy:
                        for row in subtrees:
                            copy.write_row(row)
        LogHead.objects.update_or_create(
            pk=1, defaults={"size": n, "root": frontier.root(), "frontier": frontier.to_json(), "checkpoint": ""}
        )
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {entry_table}")
            cursor.execute(f"ANALYZE {subtree_table}")
    return frontier.root()


def time_proofs(n: int, samples: int, root: bytes):
    from django.test import Client

    from gongzhi.ledger import merkle, storage

    rng = random.Random(6962)
    inclusion, consistency, api_inclusion, api_consistency = [], [], [], []
    leaves = {}
    for _ in range(samples):
        index = rng.randrange(n)
        source = storage.DatabaseHashSource()
        start = time.perf_counter()
        proof = merkle.inclusion_proof(source, index, n)
        inclusion.append(time.perf_counter() - start)
        leaves[index] = proof
        first = rng.randrange(1, n)
        start = time.perf_counter()
        merkle.consistency_proof(storage.DatabaseHashSource(), first, n)
        consistency.append(time.perf_counter() - start)
    # Checked outside the timings: the synthetic tree is a real RFC 6962 tree.
    for index in list(leaves)[:50]:
        leaf = merkle.leaf_hash(b'{"synthetic":%d}' % index)
        assert merkle.verify_inclusion(leaf, index, n, leaves[index], root), index
    client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS accepts by default
    for _ in range(min(samples, 1000)):
        index, first = rng.randrange(n), rng.randrange(1, n)
        start = time.perf_counter()
        response = client.get("/api/v1/ledger/proof/inclusion", {"index": index, "tree_size": n})
        api_inclusion.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content
        start = time.perf_counter()
        response = client.get("/api/v1/ledger/proof/consistency", {"first": first, "second": n})
        api_consistency.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content
    return inclusion, consistency, api_inclusion, api_consistency


# --- phases 2-4 ------------------------------------------------------------------------------------------


def bulk_record(count: int):
    from django.db import transaction

    from gongzhi.core import clock
    from gongzhi.core.models import Event
    from gongzhi.ledger.models import Pending

    with transaction.atomic():
        events = Event.objects.bulk_create(
            [Event(kind="demand.step", subject_type="demands.demand", subject_id=str(i), at=clock.now(),
                   data={"step": i, "status": "dispatched", "grid": f"G-{i % 500:03d}"},
                   private={"phone": f"138{i:08d}"}) for i in range(count)],
            batch_size=2000,
        )
        Pending.objects.bulk_create([Pending(event_id=e.pk) for e in events], batch_size=2000)


def writer_main(args):
    """Subprocess: record events (one commit per --per-txn events) at --rate/s (0 = flat out)."""
    import django

    django.setup()
    from django.db import transaction

    from gongzhi.core import events

    deadline = time.monotonic() + args.seconds
    interval = args.per_txn / args.rate if args.rate else 0
    next_at, written = time.monotonic(), 0
    while time.monotonic() < deadline:
        with transaction.atomic():
            for _ in range(args.per_txn):
                events.record("demand.step", f"W{os.getpid()}-{written}", step=written, status="dispatched",
                              private={"phone": f"139{written:08d}"})
                written += 1
        if interval:
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    print(written)


def end_to_end(env, writers: int, seconds: float, per_txn: int, rate: int = 0):
    """Run writers with `gongzhi ledger sequence --forever`; return (events written, entries added, elapsed)."""
    from gongzhi.ledger import queries

    before = queries.tree_size()
    loop = subprocess.Popen([str(Path(sys.executable).parent / "gongzhi"), "ledger", "sequence", "--forever"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    loop.stdout.readline()
    start = time.monotonic()
    procs = [
        subprocess.Popen([sys.executable, __file__, "--writer", "--seconds", str(seconds), "--per-txn", str(per_txn),
                          "--rate", str(rate)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(writers)
    ]
    written = 0
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        if proc.returncode:
            raise RuntimeError(err.decode()[-3000:])
        written += int(out.split()[-1])
    writers_done = time.monotonic() - start
    # Let the sequencer catch up, then stop it.
    from gongzhi.ledger.models import Pending

    while Pending.objects.exists():
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    loop.terminate()
    loop.communicate(timeout=60)
    return written, queries.tree_size() - before, writers_done, elapsed


def latencies_since(size_before: int):
    """Seconds from each event's `at` to the first checkpoint whose tree includes it."""
    from gongzhi.ledger.models import Checkpoint, Entry

    checkpoints = list(
        Checkpoint.objects.filter(size__gt=size_before).order_by("size").values_list("size", "signed_at")
    )
    sizes = [size for size, _ in checkpoints]
    result = []
    for index, at in Entry.objects.filter(index__gte=size_before).values_list("index", "event__at"):
        size, signed_at = checkpoints[bisect.bisect_right(sizes, index)]
        result.append((signed_at - at).total_seconds())
    return result


def table_bytes():
    """{table: bytes including its indexes} for the ledger's tables."""
    from django.db import connection

    tables = ["ledger_entry", "ledger_subtree", "ledger_checkpoint", "ledger_opening", "ledger_pending",
              "ledger_loghead"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")
            owner = {name: table for name, table in cursor.fetchall()}
            cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
            sizes = {}
            for name, size in cursor.fetchall():
                table = owner.get(name, name)
                sizes[table] = sizes.get(table, 0) + size
            return {t: sizes.get(t, 0) for t in tables}
        result = {}
        for table in tables:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            result[table] = cursor.fetchone()[0]
        return result


def per_table(sizes: dict, entries: int) -> str:
    return ", ".join(f"{table.removeprefix('ledger_')} {size / entries:.0f}" for table, size in sizes.items() if size)


def entry_text_bytes():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(LENGTH(CAST(text AS BLOB))) FROM ledger_entry" if connection.vendor ==
                       "sqlite" else "SELECT COUNT(*), SUM(OCTET_LENGTH(text)) FROM ledger_entry")
        count, total = cursor.fetchone()
    return count, total or 0


# --- main ----------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proof-size", type=int, default=10_000_000, help="synthetic log size (0: skip)")
    parser.add_argument("--proofs", type=int, default=2000, help="proofs timed of each kind")
    parser.add_argument("--events", type=int, default=100_000, help="events drained by the sequencer")
    parser.add_argument("--batch", type=int, default=2000, help="entries per sequencer transaction")
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--per-txn", type=int, default=10, help="events per writer transaction (end to end)")
    parser.add_argument("--rate", type=int, default=500, help="offered events/s in the latency phase")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer:
        return writer_main(args)

    workdir = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    url, drop = scratch_database(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_LEDGER_")}
    env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(workdir / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings",
               GONGZHI_LEDGER_SEQUENCER="loop", GONGZHI_LEDGER_BATCH_SIZE=str(args.batch), PYTHONPATH=str(ROOT))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gongzhi.ledger import queries, services

    try:
        call_command("migrate", verbosity=0)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print("ledger benchmark (gongzhi.ledger)")
        print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            version = connection.connection.execute("select sqlite_version()").fetchone()[0]
        else:
            number = connection.connection.info.server_version
            version = f"{number // 10000}.{number % 10000}"
        print(f"  python {platform.python_version()}; database {connection.vendor} {version}")
        ok = True

        if args.proof_size:
            start = time.perf_counter()
            root = synthesise(args.proof_size)
            print(f"\n1. synthetic log of {args.proof_size:,} entries written in {time.perf_counter() - start:.0f} s "
                  f"(root {root.hex()[:16]}…)")
            inc, con, api_inc, api_con = time_proofs(args.proof_size, args.proofs, root)
            for name, values in (("inclusion proof (raw)", inc), ("consistency proof (raw)", con),
                                 ("GET proof/inclusion (JSON API)", api_inc),
                                 ("GET proof/consistency (JSON API)", api_con)):
                p50, p99 = percentile(values, 50) * 1e3, percentile(values, 99) * 1e3
                print(f"   {name:34} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   ({len(values)} samples)")
            ok &= percentile(inc, 99) * 1e3 <= GOAL_PROOF_P99_MS and percentile(con, 99) * 1e3 <= GOAL_PROOF_P99_MS
            synthetic_tables = table_bytes()
            total = sum(synthetic_tables.values())
            text_bytes = entry_text_bytes()[1] / args.proof_size
            print(f"   ledger tables: {total / 2**20:,.0f} MiB = {total / args.proof_size:.0f} bytes/entry, of which "
                  f"entry text {text_bytes:.0f} ({per_table(synthetic_tables, args.proof_size)})")

        services.ensure_checkpoint()
        size_before = queries.tree_size()
        text_before = entry_text_bytes()
        bytes_before = table_bytes()
        bulk_record(args.events)
        start = time.perf_counter()
        done = services.sequence_pending(batch_size=args.batch)
        elapsed = time.perf_counter() - start
        rate = done / elapsed
        print(f"\n2. sequencer: {done:,} entries in {elapsed:.2f} s = {rate:,.0f} appends/s "
              f"(batches of {args.batch}, durable commit + signed checkpoint per batch; tree size {size_before:,} → "
              f"{queries.tree_size():,})")
        ok &= rate >= GOAL_APPENDS_PER_S

        bytes_after, text_after = table_bytes(), entry_text_bytes()
        entries = text_after[0] - text_before[0]
        texts = text_after[1] - text_before[1]
        grown = {t: bytes_after[t] - bytes_before[t] for t in bytes_after}
        overhead = (sum(grown.values()) - texts) / entries
        print(f"   storage of those entries: {sum(grown.values()) / entries:.0f} bytes/entry, of which entry text "
              f"{texts / entries:.0f} and overhead {overhead:.0f} "
              f"({per_table(grown, entries)})")

        written, added, writing_s, elapsed = end_to_end(env, args.writers, args.seconds, args.per_txn)
        print(f"\n3. end to end: {args.writers} writer processes ({args.per_txn} events per transaction) + "
              f"`ledger sequence --forever`: {written:,} events recorded in {args.seconds:g} s "
              f"= {written / args.seconds:,.0f} events/s; all {added:,} sequenced {elapsed - writing_s:.2f} s after "
              f"the writers stopped")

        size_before = queries.tree_size()
        written, added, writing_s, elapsed = end_to_end(env, 1, args.seconds, 1, rate=args.rate)
        lat = latencies_since(size_before)
        print(f"\n4. latency at {args.rate} events/s offered (1 writer, 1 event per transaction, {written:,} events): "
              f"record → signed checkpoint p50 {percentile(lat, 50) * 1e3:.0f} ms, "
              f"p99 {percentile(lat, 99) * 1e3:.0f} ms, max {max(lat) * 1e3:.0f} ms")
        ok &= percentile(lat, 99) <= GOAL_LATENCY_P99_S

        print(f"\n  goals (appends >= {GOAL_APPENDS_PER_S:,}/s, latency p99 <= {GOAL_LATENCY_P99_S:g} s, "
              f"proof p99 <= {GOAL_PROOF_P99_MS:g} ms): {'MET' if ok else 'NOT MET'}")
        return 0 if ok else 1
    finally:
        connection.close()
        drop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
