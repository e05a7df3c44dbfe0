"""Benchmark: hot spots (gongzhi.insight.hotspots) — recall of planted clusters, empirical FDR and false
alarms on synthetic lattices over many seeds, and the time of one analysis at 5,000 cells × 20 categories
× 104 weeks. Pure numpy/scipy, in memory; no database.

    cd /work/main && .venv/bin/python bench/bench_hotspots.py

1. Accuracy. For each seed, a 20 × 20 rook lattice, 104 weekly counts per cell: lognormal cell levels
   (median --level a week, σ 0.5), a yearly season of ±30 %, Poisson noise; two clusters of 5 connected
   cells (grown at random) get their rate multiplied by a factor in the last 3 weeks. The generator is
   `synthetic_field` of gongzhi/insight/tests/test_hotspots.py, the one the tests use. Reported per
   scenario (factor, window tested): recall of planted cells, empirical FDR (mean over seeds of the false
   share of reported cells; 0 when none reported), and the pooled false share. Fields without clusters
   (Poisson, and overdispersed with gamma noise of variance 0.2) give the share of runs with any alarm.
   Goal: recall ≥ 0.9 at FDR ≤ 0.05 for ×3 over 3 weeks tested over 3 weeks; any-alarm rate ≤ q = 0.05.
2. Size. A 100 × 50 lattice (5,000 cells) × 20 categories × 104 weeks at a median of 1 demand per cell,
   category and week, 20 clusters planted (×3, 3 weeks). Timed: `analyse` (one period, all categories,
   arrays for maps) and `find_hot_spots` (plus the look-back for `since` and the explanations); median of
   --repeats runs. Recall and false discoveries of that run are printed too (sparser counts than part 1).
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.insight.hotspots import analyse, find_hot_spots  # noqa: E402
from gongzhi.insight.tests.test_hotspots import lattice_adjacency, synthetic_field  # noqa: E402

GOAL_RECALL = 0.9
Q = 0.05
# (rate factor in the last 3 weeks, weeks tested together); the first is the goal's scenario.
SCENARIOS = ((3.0, 3), (3.0, 1), (2.0, 3), (5.0, 1))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def hot_pairs(analysis) -> set:
    return {(int(k), int(i)) for k, i in zip(*np.nonzero(analysis.is_hot))}


def accuracy(seeds: int, level: float, factor: float, window: int):
    found = planted_total = false_total = reported_total = 0
    false_shares, seconds = [], []
    for seed in range(seeds):
        counts, adjacency, _, planted = synthetic_field(seed, clusters=2, factor=factor, level=level)
        start = time.perf_counter()
        hot = hot_pairs(analyse(counts, adjacency, window=window, q=Q))
        seconds.append(time.perf_counter() - start)
        found += len(hot & planted)
        planted_total += len(planted)
        false_total += len(hot - planted)
        reported_total += len(hot)
        false_shares.append(len(hot - planted) / max(len(hot), 1))
    return (found / planted_total, statistics.mean(false_shares), false_total / max(reported_total, 1),
            statistics.median(seconds))


def null_alarms(seeds: int, level: float, window: int, overdispersion: float) -> float:
    adjacency = lattice_adjacency(20, 20)
    alarms = 0
    for seed in range(seeds):
        counts = synthetic_field(10_000 + seed, level=level, overdispersion=overdispersion)[0]
        alarms += bool(analyse(counts, adjacency, window=window, q=Q).is_hot.any())
    return alarms / seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--level", type=float, default=5.0, help="median demands per cell and week (part 1)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    print("hot-spot benchmark (gongzhi.insight.hotspots)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")

    print(f"\n1. accuracy: 20 × 20 rook lattice, 104 weeks, cell levels median {args.level:g}/week (lognormal σ 0.5), "
          f"season ±30 %; 2 clusters of 5 connected cells, rate × factor in the last 3 weeks; q = {Q}; "
          f"{args.seeds} seeds per line")
    verdict_ok = True
    for i, (factor, window) in enumerate(SCENARIOS):
        recall, fdr, pooled, seconds = accuracy(args.seeds, args.level, factor, window)
        tested = "this week" if window == 1 else f"last {window} weeks together"
        print(f"  ×{factor:g} for 3 weeks, tested {tested:<23} recall {recall:6.1%}   empirical FDR {fdr:5.1%}"
              f"   (pooled false share {pooled:5.1%}; {seconds * 1000:.1f} ms per analysis)")
        if i == 0:
            verdict_ok = recall >= GOAL_RECALL and fdr <= Q
    for window in (1, 3):
        for overdispersion in (0.0, 0.2):
            rate = null_alarms(args.seeds, args.level, window, overdispersion)
            noise = "Poisson" if not overdispersion else f"overdispersed (gamma noise var {overdispersion:g})"
            print(f"  no cluster, {noise:<36} window {window}: runs with any alarm {rate:5.1%}")
            verdict_ok &= rate <= Q
    low = null_alarms(args.seeds, 0.3, 1, 0.0)
    print(f"  no cluster, sparse field (median 0.3/week), window 1:        runs with any alarm {low:5.1%}")
    verdict_ok &= low <= Q

    print("\n2. size: 100 × 50 lattice = 5,000 cells × 20 categories × 104 weeks, median 1 demand per cell, "
          "category and week; 20 clusters (×3, 3 weeks)")
    counts, adjacency, starts, planted = synthetic_field(2026, rows=50, cols=100, categories=20, level=1.0,
                                                         clusters=20)
    print(f"  {int(counts.sum()):,} demands; {len(planted)} planted cell-categories")
    names = [f"网格{i}" for i in range(counts.shape[1])]
    categories = [(f"类别{k}", f"Category {k}") for k in range(counts.shape[0])]
    timings = {}
    for name, run in (("analyse (window 1)", lambda: analyse(counts, adjacency)),
                      ("analyse (window 3)", lambda: analyse(counts, adjacency, window=3)),
                      ("find_hot_spots (window 3, look-back 8)",
                       lambda: find_hot_spots(counts, adjacency, starts, window=3, cell_names=names,
                                              category_names=categories))):
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = run()
            runs.append(time.perf_counter() - start)
        timings[name] = result
        print(f"  {name:<40} median {statistics.median(runs):.2f} s (runs {', '.join(f'{r:.2f}' for r in runs)})")
    hot = hot_pairs(timings["analyse (window 3)"])
    spots = timings["find_hot_spots (window 3, look-back 8)"]
    print(f"  window 3 at this size: recall {len(hot & planted) / len(planted):.1%}, {len(hot - planted)} false of "
          f"{len(hot)} reported ({len(spots)} hot spots explained)")
    busy, adjacency_busy, _, planted_busy = synthetic_field(2027, rows=50, cols=100, categories=20, level=5.0,
                                                            clusters=20)
    hot = hot_pairs(analyse(busy, adjacency_busy, window=3))
    recall = len(hot & planted_busy) / len(planted_busy)
    print(f"  the same at a median of 5 a week (part 1's rate): recall {recall:.1%}, "
          f"{len(hot - planted_busy)} false of {len(hot)} reported")
    if spots:
        print(f"  e.g. {spots[0].explanation_zh}\n       {spots[0].explanation_en}")

    print(f"\n  goal: recall >= {GOAL_RECALL:.0%} at empirical FDR <= {Q:.0%} (×3, 3 weeks, window 3) and "
          f"any-alarm rate <= {Q:.0%} without clusters: {'MET' if verdict_ok else 'NOT MET'}")
    return 0 if verdict_ok else 1


if __name__ == "__main__":
    sys.exit(main())
