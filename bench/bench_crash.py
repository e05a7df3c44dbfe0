"""Benchmark: crashes and restarts (issue #19 item 4), the long version of tests/test_crash_recovery.py.

    cd /work/main && .venv/bin/python bench/bench_crash.py --minutes 4

A durable PostgreSQL server of its own (core/pgserver.py: fsync on), the test district (org's World, demands'
units, --demands dispatched demands, an API token), and gongzhi's four processes as production runs them
(gunicorn 2 workers x 4 threads, `demands work --forever` sweeping every second, `ledger sequence --forever`,
`db_worker`). --clients threads post fast-path submissions (POST /api/v1/demands/submissions), each pausing
--pause s between requests. Every --every seconds (± half, at random) one victim is killed, in turn: the web
server (SIGKILL to gunicorn's master and workers at once), the worker, the sequencer, the task worker, and
PostgreSQL itself (an immediate stop, no checkpoint, like a crash; down for --outage s, then started again;
the processes are NOT restarted for it). A killed process is started again at once. Before each cycle
--arm demands are given an accept deadline 10 minutes ahead (inside its reminder lead): each is owed one
reminder, which the sweep may be sending when the worker or PostgreSQL dies.

Recovery after a kill, from the moment the killed process is gone (for PostgreSQL: from its start) until what
it does works again: the web server answers a submission 202; the worker files a submission; the sequencer
sequences an entry; the task worker polls its queue; after PostgreSQL, all three of intake, filing and
sequencing (the slowest counts), with no process restarted.

At the end the load stops, the processes drain, and the checks of the short test are made: every
acknowledged submission filed as a demand once, no text filed twice, every owed reminder sent once (rows,
events and notifications), `gongzhi ledger verify --db` exit 0, the outbox empty. Prints a Markdown table
for docs/reliability.md and exits 1 if anything was lost or doubled.
"""

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gongzhi.core import pgserver  # noqa: E402
from tests import crashkit  # noqa: E402

VICTIMS = ("web", "worker", "sequencer", "tasks", "postgresql")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


FILED = "SELECT count(*) FROM demands_submission WHERE state = 'filed'"
SEQUENCED = "SELECT count(*) FROM ledger_entry"


def first_acknowledged(burst: crashkit.Burst, layout: crashkit.Layout, since: float) -> float:
    """Seconds from `since` until a submission sent after it is acknowledged (intake answers 202 again)."""
    crashkit.wait_for(lambda: any(s.at > since for s in burst.acknowledged()), 300, "a 202", layout)
    return min(s.at for s in burst.acknowledged() if s.at > since) - since


def grows(db: crashkit.Database, layout: crashkit.Layout, sql: str, since: float, what: str) -> float:
    """Seconds from `since` until the count `sql` grows past what it was when asked."""
    before = db.scalar(sql, default=-1)
    crashkit.wait_for(lambda: db.scalar(sql, default=-1) > max(before, 0), 300, what, layout)
    return time.monotonic() - since


def started_again(layout: crashkit.Layout, since: float, starts: int) -> float:
    """The task worker: seconds until its log says it polls again (it has no task to run here)."""
    crashkit.wait_for(lambda: layout.tail("tasks", 10**6).count("SIGTERM or Ctrl-C to stop") > starts, 300,
                      "the task worker", layout)
    return time.monotonic() - since


def recovered(victim: str, burst, db, layout, since: float, starts: int) -> float:
    """How long until what the victim does works again (see the module docstring)."""
    if victim == "web":
        return first_acknowledged(burst, layout, since)
    if victim == "worker":
        return grows(db, layout, FILED, since, "a submission filed")
    if victim == "sequencer":
        return grows(db, layout, SEQUENCED, since, "an entry sequenced")
    if victim == "tasks":
        return started_again(layout, since, starts)
    # PostgreSQL: every process working again, none restarted
    return max(first_acknowledged(burst, layout, since), grows(db, layout, FILED, since, "a submission filed"),
               grows(db, layout, SEQUENCED, since, "an entry sequenced"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4)
    parser.add_argument("--every", type=float, default=8, help="mean seconds between kills")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between one client's requests")
    parser.add_argument("--demands", type=int, default=60, help="dispatched demands to arm for reminders")
    parser.add_argument("--arm", type=int, default=10, help="demands armed before each cycle")
    parser.add_argument("--outage", type=float, default=2, help="seconds PostgreSQL stays down")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    work = Path(tempfile.mkdtemp(prefix="gongzhi-crash-"))
    server = pgserver.PgServer.create(durable=True)
    layout = burst = None
    try:
        server.start()
        server.psql("CREATE DATABASE gongzhi")
        url = server.url("gongzhi")
        db = crashkit.Database(url)
        env = crashkit.environment(url, work / "var")
        began = time.monotonic()
        built = crashkit.build(env, args.demands)
        print(f"built the district in {time.monotonic() - began:.0f} s (migrate {built['migrate_s']:.0f} s)",
              flush=True)
        pool = list(built["demands"])
        owed: dict[int, int] = {}
        waiting: set[int] = set()  # armed, reminder not yet seen: not armed again until it is

        def arm() -> None:
            reminded = dict(db.rows("SELECT demand_id, count(*) FROM demands_deadlinereminder "
                                    "WHERE deadline = 'accept' GROUP BY demand_id"))
            waiting.difference_update(pk for pk in list(waiting) if reminded.get(pk, 0) >= owed[pk])
            ready = [pk for pk in pool if pk not in waiting]
            chosen = rng.sample(ready, min(args.arm, len(ready)))
            crashkit.arm(db, chosen)
            for pk in chosen:
                owed[pk] = owed.get(pk, 0) + 1
                waiting.add(pk)

        layout = crashkit.Layout(work, env, crashkit.free_port())
        arm()
        layout.start()
        layout.wait_answering()
        burst = crashkit.Burst(layout.port, built["token"], built["points"], clients=args.clients,
                               pause=args.pause).start()
        burst.wait_acknowledged(20, layout=layout)
        recovery: dict[str, list[float]] = {victim: [] for victim in VICTIMS}
        started_at = time.monotonic()
        cycle = 0
        while time.monotonic() - started_at < args.minutes * 60:
            victim = VICTIMS[cycle % len(VICTIMS)]
            cycle += 1
            arm()
            time.sleep(rng.uniform(args.every / 2, args.every * 1.5))
            if victim == "postgresql":
                server.kill()
                time.sleep(args.outage)
                server.start()
                since = time.monotonic()
            else:
                starts = layout.tail("tasks", 10**6).count("SIGTERM or Ctrl-C to stop")
                layout.kill(victim)
                since = time.monotonic()
                layout.start(victim)
            took = recovered(victim, burst, db, layout, since, starts if victim == "tasks" else 0)
            recovery[victim].append(took)
            print(f"cycle {cycle:3d}: killed {victim:10s} recovered in {took:5.1f} s; "
                  f"acknowledged {len(burst.acknowledged())}, sent {burst.count()}", flush=True)
        run_seconds = time.monotonic() - started_at
        burst.stop()
        crashkit.drain(db, layout, sum(owed.values()), seconds=300)
        layout.alive()
        findings = crashkit.check(db, env, burst, owed)
        layout.stop()
    finally:
        if burst is not None:
            burst.stop()
        if layout is not None:
            layout.stop()
        server.destroy()

    statuses = burst.statuses()
    figures = {
        "date": dt.date.today().isoformat(), "cpu": cpu_model(), "minutes": round(run_seconds / 60, 1),
        "cycles": cycle, "kills": {**layout.kills, "postgresql": len(recovery["postgresql"])},
        "sent": findings.sent, "acknowledged": findings.acknowledged, "answers": statuses,
        "stored": findings.stored, "filed_from_burst": findings.demands, "lost": len(findings.lost),
        "duplicates": len(findings.duplicates), "reminders_owed": sum(owed.values()),
        "reminders_sent": findings.reminders, "reminder_notifications": findings.reminder_notifications,
        "reminded_twice": len(findings.reminded_twice), "not_reminded": len(findings.not_reminded),
        "ledger_verify": "ok" if not findings.verify else findings.verify,
        "recovery_s": {v: {"n": len(t), "median": round(statistics.median(t), 1), "max": round(max(t), 1)}
                       for v, t in recovery.items() if t},
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    print("\n| killed | times | recovery median (s) | recovery max (s) |\n|---|---:|---:|---:|")
    for victim, r in figures["recovery_s"].items():
        print(f"| {victim} | {r['n']} | {r['median']} | {r['max']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    problems = findings.problems()
    print("\nproblems:", problems or "none")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
