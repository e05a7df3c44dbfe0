"""Benchmark: ranked-choice counting (gongzhi.deliberation.voting) — instant-runoff over 1,000,000 ballots and
20 candidates, in memory. Goal: ≤ 10 s and ≤ 2 GB peak resident memory for the IRV count.

    cd /work/main && .venv/bin/python bench/bench_voting.py

Ballots are drawn from a Plackett–Luce model: candidate i has popularity ∝ 1/(i+1)^0.8 and each ballot
ranks the candidates in order of log(popularity) + Gumbel noise, so the count runs through every round with
realistic transfers. Each ballot ranks a random number of candidates (1 to 20, geometric with mean about 6);
1 % of the marks are skipped ranks and 0.2 % overvotes (the CVR markers), so the reading rules are exercised.
Rows are not merged: every ballot is its own row, the worst case. Reported: the time and memory to build the
ballot matrix (not part of the goal), then for each count the wall time (best of --repeat), the rounds, the
winner and the peak resident memory during the count (VmHWM, reset before each count through
/proc/self/clear_refs; it includes the process, Python, numpy and the ballots, about 65 MB before counting).
"""

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.deliberation.voting import (OVERVOTE_CODE, SKIPPED_CODE, BallotReading, BallotSet,  # noqa: E402
                                         RankedRules, Tiebreak, count_ranked)

GOAL_SECONDS = 10.0
GOAL_MB = 2048.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def reset_peak() -> bool:
    """Reset the process's peak resident memory (VmHWM), so the next reading is the count's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_ballots(n_ballots: int, n_candidates: int, seed: int) -> BallotSet:
    rng = np.random.default_rng(seed)
    popularity = np.log(1.0 / np.arange(1, n_candidates + 1) ** 0.8)
    marks = np.empty((n_ballots, n_candidates), dtype=np.int8)
    lengths = np.minimum(rng.geometric(1 / 6, size=n_ballots), n_candidates)
    step = 100_000
    for start in range(0, n_ballots, step):  # in slices, to keep the float arrays small
        stop = min(start + step, n_ballots)
        keys = popularity + rng.gumbel(size=(stop - start, n_candidates))
        part = np.argsort(-keys, axis=1).astype(np.int8)
        part[np.arange(n_candidates) >= lengths[start:stop, None]] = SKIPPED_CODE
        noise = rng.random(part.shape)
        ranked = part >= 0
        part[ranked & (noise < 0.01)] = SKIPPED_CODE
        part[ranked & (noise >= 0.01) & (noise < 0.012)] = OVERVOTE_CODE
        marks[start:stop] = part
    names = tuple(f"Candidate {i + 1:02d}" for i in range(n_candidates))
    return BallotSet(names, marks, np.ones(n_ballots, dtype=np.int64))


def timed(ballots: BallotSet, rules: RankedRules, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = count_ranked(ballots, rules)
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    print("ranked-choice counting benchmark (gongzhi.deliberation.voting)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}")
    print(f"  resident before: {status_mb('VmRSS'):.0f} MB")

    start = time.perf_counter()
    ballots = make_ballots(args.ballots, args.candidates, args.seed)
    built = time.perf_counter() - start
    print(f"1. {args.ballots:,} ballots × {args.candidates} candidates built in {built:.1f} s (matrix "
          f"{ballots.marks.nbytes / 1e6:.0f} MB as {ballots.marks.dtype}); resident {status_mb('VmRSS'):.0f} MB")

    counts = [
        ("IRV, default rules (set-aside ties, unlimited skips)", RankedRules(), True),
        ("IRV, RCTab Maine-style rules (overvote exhausts, ≤1 skipped rank, batch elimination)",
         RankedRules(reading=BallotReading(overvote="exhaust", max_skipped_ranks=1), batch_elimination=True,
                     tiebreak=Tiebreak(backwards=False, fallback="random")), True),
        ("STV, 5 seats, Droop, 4-decimal fractional transfers",
         RankedRules(seats=5, reading=BallotReading(overvote="skip")), False),
    ]
    failed = False
    for number, (label, rules, in_goal) in enumerate(counts, start=2):
        was_reset = reset_peak()
        seconds, result = timed(ballots, rules, args.repeat)
        final = result.rounds[-1]
        exhausted = final.exhausted
        peak = status_mb("VmHWM")
        scope = "during the count, ballots included" if was_reset else "of the process"
        verdict = ""
        if in_goal:
            ok = seconds <= GOAL_SECONDS and peak <= GOAL_MB
            failed |= not ok
            verdict = f"  [{'meets' if ok else 'MISSES'} the goal ≤ {GOAL_SECONDS:.0f} s, ≤ {GOAL_MB:.0f} MB]"
        print(f"{number}. {label}")
        print(f"   {seconds:.2f} s (best of {args.repeat}); {len(result.rounds)} rounds; winners "
              f"{', '.join(result.winners)}; final round exhausted {exhausted:,}; peak resident {peak:.0f} MB "
              f"({scope}){verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
