"""Benchmark: opinion maps (gongzhi.deliberation.opinions) — a full map at 20,000 participants × 10,000
statements × 1,000,000 votes, the incremental refresh at 2,000 × 900, and the agreement with Polis's own
groups on the Polis open data. Pure numpy/scipy, in memory; no database.

    cd /work/main && .venv/bin/python bench/bench_opinions.py

1. Full map. --participants × --statements with --votes votes from three planted opinion groups (45/35/20 %;
   each statement agreed by one group and disagreed by the others; a vote follows its group with
   probability 0.8, else pass or the opposite; votes per participant lognormal). The generator is
   `planted_votes` of gongzhi/deliberation/tests/test_opinions.py, the one the tests use. Timed:
   `compute_map` from the list of (participant, statement, vote) tuples to the finished map (groups,
   coordinates, statements, state), median of --repeats runs. Reported: the peak resident memory of the
   process (which also holds the vote list), k, and the adjusted Rand index against the planted groups.
   Goal: ≤ 2 s and ≤ 4 GB.
2. Incremental refresh. --small-participants × --small-statements with --small-votes planted votes; a first
   map, then --refreshes rounds that each add --batch new votes (a few from new participants) and recompute
   from the previous state. Reported: time per refresh (p50 / max), a fresh map of the same votes for
   comparison, and how many participants kept their group. Goal: ≤ 1 s.
3. Polis. For each conversation under ../shared/data/polis (CC BY 4.0, The Computational Democracy
   Project): our groups against Polis's group-id column (never an input) on the participants both
   clustered: adjusted Rand index, the share of participants clustered by both, k (ours / Polis's), time.
   Then the same ARI for seeds 0 … 4 (the starts of k-means are random), to show the spread.
"""

import argparse
import csv
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.deliberation import opinions  # noqa: E402
from gongzhi.deliberation.tests.test_opinions import as_votes, planted_votes  # noqa: E402

GOAL_FULL_S, GOAL_FULL_GB, GOAL_REFRESH_S = 2.0, 4.0, 1.0
POLIS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "polis"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ari(truth, opinion_map) -> float:
    """Adjusted Rand index against the planted groups, on the planted participants the map clustered."""
    ids = [p for p in opinion_map.groups if p < len(truth)]
    return adjusted_rand_score([int(truth[p]) for p in ids], [opinion_map.groups[p] for p in ids])


def full_map(args) -> None:
    participant, statement, vote, truth = planted_votes(args.participants, args.statements, args.votes,
                                                        groups=3, seed=args.seed)
    votes = as_votes(participant, statement, vote)
    print(f"\n1. full map: {args.participants:,} participants × {args.statements:,} statements, "
          f"{len(votes):,} votes (3 planted groups)")
    print(f"  resident memory with the vote list built: {rss_mb():,.0f} MB")
    times, opinion_map = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        opinion_map = opinions.compute_map(votes, seed=args.seed)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    peak = peak_rss_mb()
    print(f"  compute_map: median {median:.2f} s of {args.repeats} (runs {', '.join(f'{t:.2f}' for t in times)})"
          f" — goal ≤ {GOAL_FULL_S:g} s: {'met' if median <= GOAL_FULL_S else 'NOT met'}")
    print(f"  peak resident memory of the process: {peak:,.0f} MB — goal ≤ {GOAL_FULL_GB:g} GB: "
          f"{'met' if peak <= GOAL_FULL_GB * 1024 else 'NOT met'}")
    print(f"  k = {opinion_map.k}, group sizes {list(opinion_map.group_sizes.values())}, "
          f"{opinion_map.n_clustered:,} clustered; "
          f"ARI against the planted groups {ari(truth, opinion_map):.3f}; "
          f"silhouettes {', '.join(f'{k}: {s:.3f}' for k, s in opinion_map.silhouettes.items())}")


def refresh(args) -> None:
    participant, statement, vote, truth = planted_votes(args.small_participants, args.small_statements,
                                                        args.small_votes, groups=3, seed=args.seed + 1)
    votes = as_votes(participant, statement, vote)
    print(f"\n2. incremental refresh: {args.small_participants:,} participants × {args.small_statements:,} "
          f"statements, {len(votes):,} votes, then {args.refreshes} refreshes of {args.batch:,} new votes")
    start = time.perf_counter()
    opinion_map = opinions.compute_map(votes, seed=args.seed)
    first_s = time.perf_counter() - start
    rng = np.random.default_rng(args.seed)
    times, kept = [], []
    next_participant = args.small_participants
    for _ in range(args.refreshes):
        # New votes by the same people (their group's stance), plus a few newcomers joining group 0.
        more = planted_votes(args.small_participants, args.small_statements, args.batch, groups=3,
                             seed=int(rng.integers(1 << 30)), group_of=truth)
        votes += as_votes(*more[:3])
        votes += [(next_participant, s, opinions.AGREE if s % 3 == 0 else opinions.DISAGREE)
                  for s in rng.choice(args.small_statements, 10, replace=False).tolist()]
        next_participant += 1
        start = time.perf_counter()
        updated = opinions.compute_map(votes, previous=opinion_map.state, seed=args.seed)
        times.append(time.perf_counter() - start)
        kept.append(np.mean([updated.groups.get(p) == g for p, g in opinion_map.groups.items()]))
        opinion_map = updated
    start = time.perf_counter()
    fresh = opinions.compute_map(votes, seed=args.seed)
    fresh_s = time.perf_counter() - start
    p50 = statistics.median(times)
    print(f"  first map {first_s * 1000:.0f} ms; refresh from the previous state: p50 {p50 * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms — goal ≤ {GOAL_REFRESH_S:g} s: "
          f"{'met' if max(times) <= GOAL_REFRESH_S else 'NOT met'}")
    print(f"  a fresh map of the final votes: {fresh_s * 1000:.0f} ms; participants keeping their group number "
          f"per refresh: min {min(kept):.3f}; final k {opinion_map.k}, ARI against planted "
          f"{ari(truth, opinion_map):.3f} (fresh map {ari(truth, fresh):.3f})")


def polis(args) -> None:
    folders = sorted(p for p in POLIS.iterdir() if (p / "participants-votes.csv").is_file()) if POLIS.is_dir() else []
    if not folders:
        print(f"\n3. Polis: no data at {POLIS}; skipped")
        return
    print(f"\n3. Polis open data ({POLIS}): our groups against Polis's group-id (seed {args.seed})")
    print(f"  {'conversation':32s} {'participants':>12s} {'comments':>8s} {'votes':>7s} {'ARI':>6s} "
          f"{'both/union':>10s} {'k ours/Polis':>12s} {'ms':>5s}   ARI for seeds 0-4")
    figures = []
    for folder in folders:
        with (folder / "participants-votes.csv").open(encoding="utf-8", newline="") as handle:
            theirs = {int(r["participant"]): int(r["group-id"]) for r in csv.DictReader(handle) if r["group-id"]}
        with (folder / "summary.csv").open(encoding="utf-8", newline="") as handle:
            polis_k = int(next(row[1] for row in csv.reader(handle) if row and row[0] == "groups"))
        votes, comments = opinions.read_polis_export(folder)
        excluded = opinions.moderated_out(comments)

        def score(seed):
            start = time.perf_counter()
            opinion_map = opinions.compute_map(votes, statements=sorted(comments), excluded_statements=excluded,
                                               seed=seed)
            elapsed = time.perf_counter() - start
            both = sorted(set(opinion_map.groups) & set(theirs))
            value = adjusted_rand_score([theirs[p] for p in both], [opinion_map.groups[p] for p in both])
            return value, len(both) / len(set(opinion_map.groups) | set(theirs)), opinion_map, elapsed

        value, share, opinion_map, elapsed = score(args.seed)
        spread = [score(seed)[0] for seed in range(5)]
        figures.append(value)
        print(f"  {folder.name:32s} {opinion_map.n_participants:>12,} {len(comments):>8,} {len(votes):>7,} "
              f"{value:>6.3f} {share:>10.3f} {opinion_map.k:>7} / {polis_k:<4} {elapsed * 1000:>5.0f}   "
              + " ".join(f"{x:.3f}" for x in spread))
    print(f"  median ARI {statistics.median(figures):.3f} (goal ≥ 0.8)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--small-participants", type=int, default=2_000)
    parser.add_argument("--small-statements", type=int, default=900)
    parser.add_argument("--small-votes", type=int, default=100_000)
    parser.add_argument("--refreshes", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-full", action="store_true", help="only parts 2 and 3")
    args = parser.parse_args(argv)

    print("opinion-map benchmark (gongzhi.deliberation.opinions)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")
    if not args.skip_full:
        full_map(args)
    refresh(args)
    polis(args)


if __name__ == "__main__":
    main()
