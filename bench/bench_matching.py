"""Benchmark: resource matching (三单制) and grid-worker allocation (gongzhi.duties.matching) — 1,000 needs ×
1,000 resources in a 10 km district, and 200 grids shared by 40 grid workers. Pure Python + numpy + scipy
(HiGHS), in memory; no database.

    cd /work/main && .venv/bin/python bench/bench_matching.py

1. Matching. The district of gongzhi/duties/tests/test_matching.py: 20 skills of uneven popularity, needs
   asking for 1 skill (2 for one in five), 2-16 hours, urgency 1-5, a 4-hour slot in the next fortnight for
   70 % of them and a 3 km limit for half; resources offering 1-3 skills, 4-40 hours, 1-3 slots (30 % any
   time), travel 2-5 km; one in ten of each is money (yuan). Each mode runs --repeat times on the same
   data; reported: the median wall time (compatibility included, and apart), objective, served share
   (of the hours and yuan asked, and of the hours weighted by urgency), needs served in full, why the
   others are not, the distance travelled per hour served, and the solver's status. Goal: split service
   ≤ 5 s.
2. Grid allocation. --grids grids on a lattice (rook neighbours, plus a diagonal neighbour for one cell
   corner in three, as irregular polygons give), workloads lognormal (σ 0.5, so busy grids see about
   twice the typical load); --workers workers. Reported: time, the largest load against the lower bound
   max(total / workers, largest grid), the spread, contiguity, and the same with one start instead of
   eight. Then one worker more, from the current allocation: how many grids change hands.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.duties.matching import allocate_grid_workers, compatible_pairs, match  # noqa: E402
from gongzhi.duties.tests.test_matching import district  # noqa: E402

GOAL_S = 5.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def irregular_lattice(rows: int, cols: int, seed: int) -> dict[int, set[int]]:
    rng = np.random.default_rng(seed)
    adjacency = {r * cols + c: set() for r in range(rows) for c in range(cols)}
    for r in range(rows):
        for c in range(cols):
            g = r * cols + c
            if c + 1 < cols:
                adjacency[g].add(g + 1)
            if r + 1 < rows:
                adjacency[g].add(g + cols)
            if r + 1 < rows and c + 1 < cols and rng.random() < 1 / 3:  # one diagonal of the corner
                a, b = (g, g + cols + 1) if rng.random() < 0.5 else (g + 1, g + cols)
                adjacency[a].add(b)
    return adjacency


def bench_matching(args) -> None:
    needs, resources = district(args.seed, args.needs, args.resources, side_km=args.side_km)
    asked = sum(x.quantity for x in needs if x.unit == "hour"), sum(x.quantity for x in needs if x.unit == "yuan")
    valued = sum(x.urgency * x.quantity for x in needs if x.unit == "hour")
    compat_s = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        pairs = compatible_pairs(needs, resources)
        compat_s.append(time.perf_counter() - t0)
    print(f"\n1. matching: {len(needs):,} needs × {len(resources):,} resources in a {args.side_km:g} km district; "
          f"{len(pairs.need):,} compatible pairs ({len(pairs.need) / (len(needs) * len(resources)):.2%}); "
          f"{int((pairs.count == 0).sum())} needs have none")
    print(f"  asked: {asked[0]:,.0f} hours, {asked[1]:,.0f} yuan; Σ urgency × hours {valued:,.0f}")
    print(f"  compatibility alone: median {statistics.median(compat_s):.3f} s")
    by_id = {x.id: x for x in needs}
    for label, options in (("split service (LP + distance tie-break)", {}),
                           ("split, completion bonus 0.5 (MILP)", {"complete_bonus": 0.5}),
                           ("whole assignments", {"whole": True})):
        runs = [match(needs, resources, **options) for _ in range(args.repeat)]
        matching = runs[-1]
        seconds = [m.seconds for m in runs]
        served = matching.served
        hours = sum(q for i, q in served.items() if by_id[i].unit == "hour")
        yuan = sum(q for i, q in served.items() if by_id[i].unit == "yuan")
        weighted = sum(by_id[i].urgency * q for i, q in served.items() if by_id[i].unit == "hour")
        km = {(needs[i].id, resources[j].id): d for i, j, d in zip(pairs.need, pairs.resource, pairs.distance_km)}
        travel = sum(km[need, resource] * q for need, resource, q in matching.assignments
                     if by_id[need].unit == "hour")
        full = sum(q >= by_id[i].quantity for i, q in served.items())
        whole_numbers = all(float(q).is_integer() for _, _, q in matching.assignments)
        reasons = Counter(u.reason for u in matching.unserved)
        split_needs = sum(c > 1 for c in Counter(a.need for a in matching.assignments).values())
        print(f"  {label}: median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}); "
              f"{matching.solver}, status {matching.status}, gap {matching.gap:g}")
        print(f"    objective {matching.objective:,.1f}; served {hours / asked[0]:.1%} of hours "
              f"({weighted / valued:.1%} weighted by urgency), {yuan / asked[1]:.1%} of yuan; {full:,} needs in "
              f"full, {split_needs} split over several resources; {len(matching.assignments):,} assignments, "
              f"all whole numbers: {whole_numbers}; {travel / hours:.2f} km per hour served")
        print(f"    short: {len(matching.unserved)} — " + ", ".join(f"{r} {c}" for r, c in sorted(reasons.items())))
        if not options:
            verdict = "met" if statistics.median(seconds) <= GOAL_S else "NOT met"
            print(f"    goal ≤ {GOAL_S:g} s: {verdict}")


def bench_allocation(args) -> None:
    rows = args.rows
    cols = -(-args.grids // rows)
    adjacency = irregular_lattice(rows, cols, args.seed)
    rng = np.random.default_rng(args.seed)
    grids = {g: round(float(10 * np.exp(rng.normal(0, 0.5))), 1) for g in adjacency}
    workers = [f"worker {i:03d}" for i in range(args.workers)]
    print(f"\n2. grid allocation: {len(grids)} grids ({rows} × {cols} lattice, irregular), {len(workers)} workers, "
          f"total workload {sum(grids.values()):,.1f}, largest grid {max(grids.values()):g}")
    for starts in (8, 1):
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            allocation = allocate_grid_workers(grids, adjacency, workers, starts=starts)
            runs.append(time.perf_counter() - t0)
        sizes = [len(g) for g in allocation.grids.values()]
        print(f"  {starts} start{'s' if starts > 1 else ''}: median {statistics.median(runs):.3f} s; largest load "
              f"{allocation.max_load:g} against a lower bound {allocation.lower_bound:.2f} "
              f"(×{allocation.max_load / allocation.lower_bound:.3f}); spread {allocation.spread:g}; "
              f"all contiguous: {all(allocation.is_contiguous.values())}; {min(sizes)}-{max(sizes)} grids each; "
              f"{allocation.steps} chains")
    base = allocate_grid_workers(grids, adjacency, workers)
    t0 = time.perf_counter()
    more = allocate_grid_workers(grids, adjacency, workers + ["new worker"], current=base.grids)
    seconds = time.perf_counter() - t0
    moved = sum(g not in base.grids[w] for w in workers for g in more.grids[w])
    print(f"  one worker more, from the current allocation: {seconds:.3f} s; {moved} grids change hands "
          f"({len(more.grids['new worker'])} to the new worker); largest load {more.max_load:g} against "
          f"{more.lower_bound:.2f} (×{more.max_load / more.lower_bound:.3f}); all contiguous: "
          f"{all(more.is_contiguous.values())}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=1_000)
    parser.add_argument("--resources", type=int, default=1_000)
    parser.add_argument("--side-km", type=float, default=10.0)
    parser.add_argument("--grids", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    print("matching benchmark (gongzhi.duties.matching)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__} (HiGHS)")
    bench_matching(args)
    bench_allocation(args)


if __name__ == "__main__":
    main()
