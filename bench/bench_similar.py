"""Benchmark: similar demands (gongzhi.insight.similar) — the cost of a signature, and of adding and querying
a new demand against an index of 1,000,000 demands over 5,000 grids and a year; issue clustering; memory.
Pure Python + numpy, in memory; no database.

    cd /work/main && .venv/bin/python bench/bench_similar.py

1. Build. --demands synthetic demands (the generator of gongzhi/insight/tests/test_similar.py: ten
   complaints, each clause in one of 2-3 wordings, random openings, closings, filler words and punctuation,
   at one of three named places per grid and one of six buildings) are spread over --days days and a
   100 × 50 lattice of grids about 500 m a side; grid activity is lognormal (σ 1), so busy grids see
   several times the average. Each text is signed and added. Reported: time per signature and per add,
   the whole build, and the process's resident memory before and after (per demand).
2. New demands. --new demands arrive after the last day: half of them reword (one clause said another
   way, new opening, closing and punctuation) a demand of the last 14 days at the same place and
   building, half are random. Each is timed through signature + `similar` + `add`; reported p50/p95/p99
   in ms, the `similar` call alone, and the number of candidates read. For the rewordings: how often the
   first suggestion is the original, or a demand about the same complaint at the same building, or at
   the same place (the background holds such true duplicates, often more recent than the original, and
   the score prefers recent ones). Goal: ≤ 50 ms per new demand (p99).
3. Issues. An IssueClusterer is fed the demands of the last --cluster-days days in filing order; time per
   demand (p50/p95/p99), the issues made, and their purity: the share of demands whose issue's most
   common complaint (and place) is their own.
"""

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.insight.similar import Demand, IssueClusterer, SimilarityIndex, signature  # noqa: E402
from gongzhi.insight.tests.test_similar import (BUILDINGS, COMPLAINTS, START, City, demand_text,  # noqa: E402
                                                reword, wording)

GOAL_MS = 50.0
ROWS, COLS = 50, 100


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(values_ms) -> str:
    p50, p95, p99 = np.percentile(values_ms, [50, 95, 99])
    return f"p50 {p50:.2f}  p95 {p95:.2f}  p99 {p99:.2f}  max {max(values_ms):.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demands", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--new", type=int, default=2_000)
    parser.add_argument("--cluster-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    print("similar-demands benchmark (gongzhi.insight.similar)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}")

    rng = np.random.default_rng(args.seed)
    city = City(ROWS, COLS, seed=args.seed)
    n_grids = ROWS * COLS
    activity = np.exp(rng.normal(0, 1, n_grids))
    grids = rng.choice(n_grids, args.demands, p=activity / activity.sum())
    offsets = np.sort(rng.uniform(0, args.days, args.demands))
    kinds = rng.integers(len(COMPLAINTS), size=args.demands)
    places, buildings = rng.integers(3, size=args.demands), rng.integers(6, size=args.demands)
    words = np.zeros((args.demands, 4), dtype=np.int8)

    index = SimilarityIndex(city.neighbours())
    rss_before = rss_mb()
    sign_s = add_s = 0.0
    start_build = time.perf_counter()
    for i in range(args.demands):
        grid, kind, place, building = int(grids[i]), int(kinds[i]), int(places[i]), int(buildings[i])
        words[i] = wording(rng, kind)
        text = demand_text(rng, kind, words[i].tolist(), city.places[grid][place], BUILDINGS[building])
        t0 = time.perf_counter()
        sig = signature(text)
        t1 = time.perf_counter()
        lon, lat = city.point(grid, place, building)
        index.add(Demand(i, sig, grid, lon, lat, START + dt.timedelta(days=float(offsets[i])), category=kind,
                         reporter=int(rng.integers(10**7))))
        t2 = time.perf_counter()
        sign_s += t1 - t0
        add_s += t2 - t1
        if (i + 1) % 200_000 == 0:
            print(f"    ... {i + 1:,} added ({time.perf_counter() - start_build:.0f} s)", flush=True)
    build_s = time.perf_counter() - start_build
    rss_after = rss_mb()
    n = args.demands
    print(f"\n1. build: {n:,} demands, {n_grids:,} grids (100 × 50, lognormal activity), {args.days:g} days")
    print(f"  signature {sign_s / n * 1e6:.0f} µs per text, add {add_s / n * 1e6:.1f} µs per demand; whole build "
          f"(with text generation) {build_s:.0f} s")
    grown = rss_after - rss_before
    print(f"  resident memory {rss_before:,.0f} MB before, {rss_after:,.0f} MB after: {grown:,.0f} MB, "
          f"{grown * 2**20 / n:,.0f} bytes per demand")
    columns = [value for value in vars(index).values() if hasattr(value, "data") and hasattr(value, "size")]
    allocated = sum(column.data.nbytes for column in columns) / 2**20
    used = sum(column.data[: column.size].nbytes for column in columns) / 2**20
    pool = index._features.size
    print(f"  of which numpy columns {allocated:,.0f} MB allocated, {used:,.0f} MB used ({pool / n:.0f} n-grams "
          f"per demand at 6 bytes); the rest is the id map and the (grid, week) buckets")

    last = START + dt.timedelta(days=args.days)
    recent = np.flatnonzero(offsets >= args.days - 14)
    total_ms, query_ms, candidates = [], [], []
    strict = same_building = same_place = duplicates = unmatched = 0
    for j in range(args.new):
        at = last + dt.timedelta(minutes=10 * j)
        is_duplicate = j % 2 == 0
        if is_duplicate:
            source = int(rng.choice(recent))
            grid, kind = int(grids[source]), int(kinds[source])
            place, building = int(places[source]), int(buildings[source])
            text = demand_text(rng, kind, reword(rng, kind, words[source].tolist()), city.places[grid][place],
                               BUILDINGS[building])
        else:
            grid, kind = int(rng.integers(n_grids)), int(rng.integers(len(COMPLAINTS)))
            place, building = int(rng.integers(3)), int(rng.integers(6))
            text = demand_text(rng, kind, wording(rng, kind), city.places[grid][place], BUILDINGS[building])
        lon, lat = city.point(grid, place, building)
        t0 = time.perf_counter()
        sig = signature(text)
        t1 = time.perf_counter()
        matches = index.similar(sig, grid, lon, lat, at)
        t2 = time.perf_counter()
        index.add(Demand(n + j, sig, grid, lon, lat, at, category=kind))
        t3 = time.perf_counter()
        total_ms.append((t3 - t0) * 1000)
        query_ms.append((t2 - t1) * 1000)
        candidates.append(len(index._candidates(sig, grid, lon, lat, at.timestamp(), open_only=True).rows))
        if is_duplicate:
            duplicates += 1
            unmatched += not matches
            if matches and matches[0].demand_id == source:
                strict += 1
            if matches and matches[0].demand_id < n:
                top = matches[0].demand_id
                at_place = (grids[top], kinds[top], places[top]) == (grid, kind, place)
                same_place += bool(at_place)
                same_building += bool(at_place and buildings[top] == building)
    print(f"\n2. new demands: {args.new:,} (half rewordings of a demand of the last 14 days), index of "
          f"{len(index):,}")
    print(f"  signature + similar + add: {percentiles(total_ms)}")
    print(f"  similar alone:             {percentiles(query_ms)}")
    print(f"  candidates read per query: median {statistics.median(candidates):.0f}, p99 "
          f"{np.percentile(candidates, 99):.0f}, max {max(candidates)}")
    print(f"  rewordings, first suggestion: the original {strict / duplicates:.1%}; the original or another demand "
          f"about the same complaint at the same building {same_building / duplicates:.1%}, at the same place "
          f"(小区) {same_place / duplicates:.1%}; none above the similarity threshold {unmatched / duplicates:.1%}")
    p99 = float(np.percentile(total_ms, 99))

    cutoff = args.days - args.cluster_days
    feed = np.flatnonzero(offsets >= cutoff)
    clusterer = IssueClusterer(city.neighbours())
    cluster_ms = []
    rng_words = np.random.default_rng(args.seed + 1)
    for i in feed.tolist():
        grid, kind, place, building = int(grids[i]), int(kinds[i]), int(places[i]), int(buildings[i])
        text = demand_text(rng_words, kind, words[i].tolist(), city.places[grid][place], BUILDINGS[building])
        demand = Demand(i, signature(text), grid, *city.point(grid, place, building),
                        START + dt.timedelta(days=float(offsets[i])), reporter=i)
        t0 = time.perf_counter()
        clusterer.add(demand)
        cluster_ms.append((time.perf_counter() - t0) * 1000)
    sizes = [issue.volume for issue in clusterer.issues.values()]
    print(f"\n3. issues: the last {args.cluster_days:g} days, {len(feed):,} demands, clustered in filing order")
    print(f"  per demand: {percentiles(cluster_ms)}")
    print(f"  {len(sizes):,} issues; {sum(s > 1 for s in sizes):,} with more than one demand; largest "
          f"{max(sizes)}; mean {statistics.mean(sizes):.2f} demands per issue")
    # Purity: the share of demands whose issue's most common label is their own label.
    for name, label in (("complaint", lambda i: int(kinds[i])),
                        ("complaint and place", lambda i: (int(kinds[i]), int(grids[i]), int(places[i])))):
        agreeing = 0
        for issue in clusterer.issues.values():
            labels = [label(m) for m in issue.members]
            agreeing += max(labels.count(x) for x in set(labels))
        print(f"  purity by {name}: {agreeing / len(feed):.1%} of demands share their issue's most common {name}")

    print(f"\n  goal: <= {GOAL_MS:g} ms per new demand (p99, signature + similar + add) at {len(index):,} stored: "
          f"{'MET' if p99 <= GOAL_MS else 'NOT MET'}")
    return 0 if p99 <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
