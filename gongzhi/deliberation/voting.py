"""Vote counting (计票): ballots in, winners and a round-by-round tally out. Pure Python + numpy, no Django.

Methods: yes/no/abstain, plurality, approval, instant-runoff (IRV) and single transferable vote (STV) — one
round engine, driven by `RankedRules`, whose options mirror RCTab's counting rules —, Schulze, Borda, and the
villagers' committee majority election (村民委员会选举). Whether a count makes a decision (quorum, thresholds
of a body's rules) is `rules.py`'s business, not this module's.

Ties that decide something (who is eliminated, who takes the last seat) are broken by a declared `Tiebreak`
and every such break is reported in its round: first, optionally, by earlier rounds' tallies (backwards),
then by the declared candidate order or by a seeded draw. Ties that decide nothing (the order of losers in
`ranking`) follow the declared candidate order and are not reported.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Literal

import numpy as np

WRITE_IN = "Undeclared Write-ins"  # the name RCTab gives the undeclared write-in (UWI) candidate

# A ballot matrix holds one code per rank: a candidate's index (>= 0), or one of these.
SKIPPED_CODE = -1     # a skipped rank (undervote): no mark at this rank
OVERVOTE_CODE = -2    # more than one mark at this rank, candidates unknown (a CVR's `overvote` marker)
TIE_CODE_BASE = -3    # -3 - g: several named candidates at this rank, tie group g (PrefLib `{a,b}`)


class Mark(Enum):
    """The two non-candidate marks a rank can hold, for `BallotSet.from_rankings`."""

    SKIPPED = "undervote"
    OVERVOTE = "overvote"


Number = int | float
OvervoteRule = Literal["exhaust", "skip", "exhaust-if-multiple-continuing", "set-aside"]
OVERVOTE_RULES = ("exhaust", "skip", "exhaust-if-multiple-continuing", "set-aside")
ThresholdRule = Literal["majority-of-continuing", "droop", "hare"]
THRESHOLD_RULES = ("majority-of-continuing", "droop", "hare")


# --- ballots ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class BallotSet:
    """Ballots as a matrix: row i is `counts[i]` identical ballots, `marks[i, r]` its mark at rank r+1.

    `candidates` is the declared order (used by the `order` tie-break); `tie_groups[g]` lists the candidate
    indices marked together at a rank coded `-3 - g`. `write_in` names the undeclared write-in candidate
    when the source has one (RCTab's "Undeclared Write-ins")."""

    candidates: tuple[str, ...]
    marks: np.ndarray
    counts: np.ndarray
    tie_groups: tuple[tuple[int, ...], ...] = ()
    write_in: str | None = None
    source: str = ""

    def __post_init__(self):
        marks = np.asarray(self.marks)
        counts = np.asarray(self.counts, dtype=np.int64)
        if marks.ndim != 2 or counts.ndim != 1 or marks.shape[0] != counts.shape[0]:
            raise ValueError("marks must be (rows, ranks) and counts (rows,)")
        if not np.issubdtype(marks.dtype, np.signedinteger):
            raise ValueError("marks must be signed integers")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidate names must be unique")
        if counts.size and counts.min() < 0:
            raise ValueError("ballot counts must not be negative")
        lowest = TIE_CODE_BASE - len(self.tie_groups) + 1  # the last tie group's code (-2 with none)
        if marks.size and (marks.max() >= len(self.candidates) or marks.min() < lowest):
            raise ValueError("a mark refers to no candidate or tie group")
        if self.write_in is not None and self.write_in not in self.candidates:
            raise ValueError(f"write-in candidate {self.write_in!r} is not among the candidates")
        object.__setattr__(self, "marks", marks)
        object.__setattr__(self, "counts", counts)

    @property
    def total(self) -> int:
        """Number of ballots (rows weighted by their counts)."""
        return int(self.counts.sum())

    @property
    def ranks(self) -> int:
        return self.marks.shape[1]

    @classmethod
    def from_rankings(cls, rankings: Iterable, candidates: Sequence[str] | None = None, *,
                      write_in: str | None = None, source: str = "") -> BallotSet:
        """Build from readable rankings. Each item is a ranking or `(count, ranking)`; a ranking is a sequence
        of ranks, each a candidate name, a collection of names marked at the same rank (a tie), `None` or
        `Mark.SKIPPED` (no mark) or `Mark.OVERVOTE` (several unknown marks). Without `candidates`, the
        candidates are every name used, in alphabetical order (so the result does not depend on ballot order)."""
        items = []
        for item in rankings:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int) and not isinstance(item[1], str):
                count, ranking = item
            else:
                count, ranking = 1, item
            if isinstance(ranking, str):
                raise ValueError(f"a ranking must be a sequence of ranks, not the string {ranking!r}")
            items.append((count, [_rank_names(rank) for rank in ranking]))
        if candidates is None:
            names = {name for _, ranking in items for rank in ranking if isinstance(rank, tuple) for name in rank}
            candidates = sorted(names)
        candidates = tuple(candidates)
        index = {name: i for i, name in enumerate(candidates)}
        groups: dict[tuple[int, ...], int] = {}
        width = max((len(ranking) for _, ranking in items), default=0)
        marks = np.full((len(items), width), SKIPPED_CODE, dtype=np.int32)
        for row, (_, ranking) in enumerate(items):
            for r, rank in enumerate(ranking):
                if rank is Mark.SKIPPED:
                    continue
                if rank is Mark.OVERVOTE:
                    marks[row, r] = OVERVOTE_CODE
                    continue
                unknown = [name for name in rank if name not in index]
                if unknown:
                    raise ValueError(f"ballot {row + 1}: unknown candidate {unknown[0]!r}")
                members = tuple(sorted({index[name] for name in rank}))
                marks[row, r] = members[0] if len(members) == 1 else tie_code(groups, members)
        tie_groups = tuple(sorted(groups, key=groups.get))
        return cls(candidates, marks, np.array([c for c, _ in items], dtype=np.int64), tie_groups, write_in, source)

    def rankings(self) -> list[tuple[int, list]]:
        """The ballots back as `(count, ranking)` in the form `from_rankings` reads (tests, debugging)."""
        out = []
        for row in range(self.marks.shape[0]):
            ranking = []
            for code in self.marks[row]:
                code = int(code)
                if code >= 0:
                    ranking.append(self.candidates[code])
                elif code == SKIPPED_CODE:
                    ranking.append(Mark.SKIPPED)
                elif code == OVERVOTE_CODE:
                    ranking.append(Mark.OVERVOTE)
                else:
                    ranking.append(frozenset(self.candidates[i] for i in self.tie_groups[TIE_CODE_BASE - code]))
            out.append((int(self.counts[row]), ranking))
        return out


def tie_code(groups: dict[tuple[int, ...], int], members: tuple[int, ...]) -> int:
    """The mark code of a tie among `members` (sorted candidate indices), registering the group if new."""
    if members not in groups:
        groups[members] = len(groups)
    return TIE_CODE_BASE - groups[members]


def _rank_names(rank) -> tuple[str, ...] | Mark:
    if rank is None or rank is Mark.SKIPPED or rank == "":
        return Mark.SKIPPED
    if rank is Mark.OVERVOTE:
        return Mark.OVERVOTE
    if isinstance(rank, str):
        return (rank,)
    names = tuple(rank)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"a rank must be a name, a collection of names, None or a Mark, not {rank!r}")
    return names


# --- results ---------------------------------------------------------------------------------------------

@dataclass
class Round:
    """One round (轮次) of a count. `tally` holds the continuing and elected candidates' votes; `exhausted`
    the inactive ballots (by reason in `inactive`); `transfers[c]` where the votes of a candidate eliminated
    or elected in this round went at the start of the next round ("exhausted" = to no one)."""

    number: int
    tally: dict[str, Number]
    elected: list[str] = field(default_factory=list)
    eliminated: list[str] = field(default_factory=list)
    exhausted: Number = 0
    inactive: dict[str, Number] = field(default_factory=dict)
    threshold: Number | None = None
    transfers: dict[str, dict[str, Number]] = field(default_factory=dict)
    residual_surplus: dict[str, Number] = field(default_factory=dict)
    tiebreaks: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {"round": self.number, "tally": dict(self.tally), "elected": list(self.elected),
               "eliminated": list(self.eliminated), "exhausted": self.exhausted}
        if self.inactive:
            out["inactive"] = dict(self.inactive)
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.transfers:
            out["transfers"] = {k: dict(v) for k, v in self.transfers.items()}
        if self.residual_surplus:
            out["residual_surplus"] = dict(self.residual_surplus)
        if self.tiebreaks:
            out["tiebreaks"] = [dict(t) for t in self.tiebreaks]
        out.update(self.extra)
        return out


@dataclass
class TallyResult:
    """The outcome of a count: `winners` in order of election, `ranking` of every candidate (winners first),
    the rounds, and the number of ballots (`blank_ballots` of them marked nothing and count in no round)."""

    method: str
    seats: int
    winners: list[str]
    ranking: list[str]
    rounds: list[Round]
    ballots: int
    blank_ballots: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {"method": self.method, "seats": self.seats, "winners": list(self.winners),
               "ranking": list(self.ranking), "ballots": self.ballots, "blank_ballots": self.blank_ballots}
        out.update(self.extra)
        out["rounds"] = [r.to_dict() for r in self.rounds]
        return out


# --- ties ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tiebreak:
    """How a tie that decides something is broken.

    1. `backwards`: look at the previous round's tallies, then the one before, and so on: the tied candidate
       with the fewest votes there is eliminated (the most votes: elected); stop at the first round that
       separates them. Only round-by-round methods (IRV, STV) have earlier rounds.
    2. `fallback="order"`: the declared candidate order — the candidate declared later is eliminated, the one
       declared earlier is elected (RCTab's `useCandidateOrder`). `fallback="random"`: a draw with Python's
       `random.Random(seed)`, one `choice` per tie among the tied in declared order, in the order ties occur
       (reproducible for a seed; not the same draw as RCTab's Java generator)."""

    backwards: bool = True
    fallback: Literal["order", "random"] = "order"
    seed: int = 0

    NAMES = ("backwards-then-order", "backwards-then-random", "order", "random")

    @classmethod
    def named(cls, name: str, seed: int = 0) -> Tiebreak:
        """`backwards-then-order`, `backwards-then-random`, `order` or `random`."""
        if name not in cls.NAMES:
            raise ValueError(f"unknown tie-break {name!r}; choose one of {', '.join(cls.NAMES)}")
        return cls(backwards=name.startswith("backwards"), fallback=name.rsplit("-", 1)[-1], seed=seed)

    @property
    def name(self) -> str:
        return ("backwards-then-" if self.backwards else "") + self.fallback


class _TieBreaker:
    """A Tiebreak at work during one count: holds the draw's generator and the declared order."""

    def __init__(self, tiebreak: Tiebreak, candidates: Sequence[str]):
        self.tiebreak = tiebreak
        self.candidates = candidates
        self.rng = random.Random(tiebreak.seed)

    def choose(self, tied: Sequence[int], purpose: Literal["eliminate", "elect"],
               history: Sequence[np.ndarray] = ()) -> tuple[int, dict]:
        """One of `tied` (candidate indices) to eliminate or elect, and the report of how it was chosen."""
        tied = sorted(tied)
        pick = min if purpose == "eliminate" else max
        remaining, how = list(tied), None
        if self.tiebreak.backwards:
            for back, past in enumerate(reversed(history[:-1]), start=1):
                target = pick(past[c] for c in remaining)
                remaining = [c for c in remaining if past[c] == target]
                if len(remaining) == 1:
                    how = f"tally of round {len(history) - back}"
                    break
        if how is None:
            if self.tiebreak.fallback == "order":
                remaining = [remaining[-1] if purpose == "eliminate" else remaining[0]]
                how = "declared candidate order"
            else:
                remaining = [self.rng.choice(remaining)]
                how = f"random draw (seed {self.tiebreak.seed})"
        chosen = remaining[0]
        return chosen, {"purpose": purpose, "tied": [self.candidates[c] for c in tied],
                        "chosen": self.candidates[chosen], "by": how}

    def top(self, scores: Sequence, k: int) -> tuple[list[int], list[int], list[dict]]:
        """The k best by score (the winners), all candidates ranked, and the tie-breaks the cut needed.
        Ties away from the cut keep the declared order."""
        order = sorted(range(len(scores)), key=lambda c: (-scores[c], c))
        k = min(k, len(order))
        chosen, breaks = order[:k], []
        if 0 < k < len(order) and scores[order[k - 1]] == scores[order[k]]:
            level = scores[order[k - 1]]
            above = [c for c in order if scores[c] > level]
            tied = [c for c in order if scores[c] == level]
            chosen = list(above)
            while len(chosen) < k:
                pick, record = self.choose(tied, "elect")
                breaks.append(record)
                chosen.append(pick)
                tied.remove(pick)
        ranking = chosen + [c for c in order if c not in chosen]
        return chosen, ranking, breaks


# --- yes / no / abstain ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class YesNoAbstain:
    yes: int
    no: int
    abstain: int

    @property
    def cast(self) -> int:
        """Votes cast, abstentions included (whether they count toward a quorum is the rules' decision)."""
        return self.yes + self.no + self.abstain

    def to_dict(self) -> dict:
        return {"yes": self.yes, "no": self.no, "abstain": self.abstain, "cast": self.cast}


_YES_NO = {"yes": "yes", "赞成": "yes", "同意": "yes", "no": "no", "反对": "no", "不同意": "no",
           "abstain": "abstain", "弃权": "abstain"}


def count_yes_no_abstain(votes: Iterable[str] | Mapping[str, int]) -> YesNoAbstain:
    """Count yes / no / abstain votes: an iterable of choices, or a mapping choice → number of votes.
    Choices: yes/no/abstain (any case) or 赞成/同意, 反对/不同意, 弃权. Anything else is a ValueError."""
    items = votes.items() if isinstance(votes, Mapping) else ((v, 1) for v in votes)
    counts = {"yes": 0, "no": 0, "abstain": 0}
    for choice, n in items:
        key = _YES_NO.get(str(choice).strip().lower())
        if key is None:
            raise ValueError(f"not a yes/no/abstain vote: {choice!r}")
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"number of {choice!r} votes must be a non-negative integer, not {n!r}")
        counts[key] += n
    return YesNoAbstain(**counts)


# --- ranked counts (IRV, STV, plurality's first choices) --------------------------------------------------

@dataclass(frozen=True)
class BallotReading:
    """How a ranked ballot is read: which rank counts for which candidate.

    A ballot counts for its highest-ranked continuing candidate. On the way down the ranks:
    - `max_rankings`: ranks after this one are ignored (None: all).
    - `max_skipped_ranks`: when more consecutive ranks than this are skipped before the next mark (counting
      from the top of the ballot), the ballot is exhausted there ("skipped rankings"). None: unlimited.
      An overvoted rank is a mark, not a skip.
    - `overvote`, for a rank holding several marks: `exhaust` the ballot ("overvotes"); `skip` the rank;
      `exhaust-if-multiple-continuing`: exhaust when two or more of the named candidates there are
      continuing, count for the one that is, pass over if none is; `set-aside`: while two or more are
      continuing the ballot counts for no one ("set aside"), and it comes back when only one is. An unnamed
      overvote (a CVR's `overvote` marker) exhausts the ballot under every rule but `skip`.
    - `exhaust_on_duplicate`: a candidate ranked again below exhausts the ballot ("repeated rankings").
    A ballot with no mark at all is blank: it counts in no round (RCTab's "undervotes")."""

    overvote: OvervoteRule = "set-aside"
    max_skipped_ranks: int | None = None
    max_rankings: int | None = None
    exhaust_on_duplicate: bool = False

    def __post_init__(self):
        if self.overvote not in OVERVOTE_RULES:
            raise ValueError(f"unknown overvote rule {self.overvote!r}; choose one of {', '.join(OVERVOTE_RULES)}")
        if self.max_skipped_ranks is not None and self.max_skipped_ranks < 0:
            raise ValueError("max_skipped_ranks must be >= 0 or None (unlimited)")
        if self.max_rankings is not None and self.max_rankings < 1:
            raise ValueError("max_rankings must be >= 1 or None (all)")


@dataclass(frozen=True)
class RankedRules:
    """The counting rules of IRV (seats=1) and STV (seats>1), mirroring RCTab's configuration.

    - `threshold`: `majority-of-continuing` — floor(V/2)+1 of the votes V for continuing candidates,
      recomputed every round (single seat only); `droop` — floor(V/(seats+1))+1 of round 1's votes, fixed;
      `hare` — floor(V/seats)+1 of round 1's votes, fixed. With `non_integer_threshold` the quotient is kept
      to `decimals` places and the smallest unit (10^-decimals) is added instead of 1. Default: majority for
      one seat, Droop for several. A candidate with votes >= threshold is elected.
    - `multiple_winners_per_round`: elect everyone over the threshold in a round (False: only the highest).
      When the continuing candidates are no more than the seats left, they are all elected.
    - `continue_until_two`: (one seat) keep eliminating until two candidates remain, even past a majority.
    - Elimination, when no one is elected in a round, tried in this order: the undeclared write-in alone
      when it has votes (`eliminate_write_in_first`, RCTab's rule); every candidate under
      `minimum_vote_threshold`; `batch_elimination` — the largest group (two or more) of lowest candidates
      whose votes together are fewer than the next candidate's; otherwise the single lowest, ties broken by
      `tiebreak`.
    - STV surplus: an elected candidate's surplus S of total T moves on with every ballot counting for them:
      the fraction S/T is truncated to `decimals` places, and each ballot's new value is its value times
      that fraction, truncated to `decimals` places; the rounding remainder is reported as residual surplus,
      and the winner keeps exactly the threshold. Surpluses move at the start of the next round. When the
      last seats are filled by candidates with a surplus, one more round shows it transferred; what would be
      exhausted there is reported as `final_round_surplus`.
    - `excluded`: declared candidates not in the count (withdrawn)."""

    seats: int = 1
    reading: BallotReading = BallotReading()
    threshold: ThresholdRule | None = None
    non_integer_threshold: bool = False
    decimals: int = 4
    multiple_winners_per_round: bool = True
    continue_until_two: bool = False
    batch_elimination: bool = False
    minimum_vote_threshold: int = 0
    eliminate_write_in_first: bool = True
    tiebreak: Tiebreak = Tiebreak()
    excluded: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.seats < 1:
            raise ValueError("seats must be at least 1")
        if self.threshold is not None and self.threshold not in THRESHOLD_RULES:
            raise ValueError(f"unknown threshold {self.threshold!r}; choose one of {', '.join(THRESHOLD_RULES)}")
        if self.threshold == "majority-of-continuing" and self.seats > 1:
            raise ValueError("the majority-of-continuing threshold is for one seat; use droop or hare for STV")
        if not 0 <= self.decimals <= 9:
            raise ValueError("decimals must be between 0 and 9")
        if self.minimum_vote_threshold < 0:
            raise ValueError("minimum_vote_threshold must be >= 0")
        object.__setattr__(self, "excluded", frozenset(self.excluded))

    @property
    def threshold_rule(self) -> ThresholdRule:
        return self.threshold or ("majority-of-continuing" if self.seats == 1 else "droop")


# ballot states in the ranked count
_ACTIVE, _EXHAUSTED, _OVERVOTES, _SKIPPED, _REPEATED, _SET_ASIDE, _FINAL_SURPLUS, _BLANK = range(8)
_INACTIVE = {_EXHAUSTED: "exhausted_choices", _OVERVOTES: "overvotes", _SKIPPED: "skipped_rankings",
             _REPEATED: "repeated_rankings", _SET_ASIDE: "set_aside", _FINAL_SURPLUS: "final_round_surplus"}


class _RankedCount:
    """Where every ballot stands: the rank it is at (`pos`), the candidate it counts for (`cur`, -1: none),
    its state, and its value in units of 10^-decimals. Candidates only ever leave the count, so a ballot
    only moves down its ranks: moving it on re-reads from where it stands, never from the top."""

    def __init__(self, ballots: BallotSet, reading: BallotReading, unit: int, continuing: np.ndarray):
        self.reading = reading
        self.n_candidates = len(ballots.candidates)
        marks = ballots.marks
        if reading.max_rankings is not None:
            marks = marks[:, :reading.max_rankings]
        self.marks = marks
        self.width = marks.shape[1]
        rows = marks.shape[0]
        self.counts = ballots.counts
        self.unit = unit
        self.value = np.full(rows, unit, dtype=np.int64)
        self.weight = self.counts * unit
        self.cur = np.full(rows, -1, dtype=np.int32)
        self.pos = np.full(rows, -1, dtype=np.int32)
        self.last = np.full(rows, -1, dtype=np.int32)
        self.state = np.full(rows, _ACTIVE, dtype=np.int8)
        groups = np.zeros((len(ballots.tie_groups), self.n_candidates), dtype=bool)
        for g, members in enumerate(ballots.tie_groups):
            groups[g, list(members)] = True
        self.groups = groups
        self.continuing = continuing
        self.advance(np.arange(rows))

    def _finish(self, rows: np.ndarray, state: int) -> None:
        self.cur[rows] = -1
        self.state[rows] = state

    def advance(self, rows: np.ndarray) -> None:
        """Move `rows` down their ranks to their next continuing candidate, or make them inactive."""
        reading, marks, continuing = self.reading, self.marks, self.continuing
        self.state[rows] = _ACTIVE
        todo = rows
        while todo.size:
            p = self.pos[todo] + 1
            self.pos[todo] = p
            end = p >= self.width
            if end.any():
                done = todo[end]
                self.cur[done] = -1
                self.state[done] = np.where(self.last[done] < 0, _BLANK, _EXHAUSTED)
                todo, p = todo[~end], p[~end]
            if not todo.size:
                break
            m = marks[todo, p]
            keep = m == SKIPPED_CODE  # a skipped rank: read on
            marked = ~keep
            if reading.max_skipped_ranks is not None:
                too_many = marked & (p - self.last[todo] - 1 > reading.max_skipped_ranks)
                self._finish(todo[too_many], _SKIPPED)
                marked &= ~too_many
            self.last[todo[marked]] = p[marked]
            over = marked & (m == OVERVOTE_CODE)
            if reading.overvote == "skip":
                keep |= over
            else:
                self._finish(todo[over], _OVERVOTES)
            tie = marked & (m <= TIE_CODE_BASE)
            if tie.any():
                keep |= self._read_tie(todo, m, tie)
            cand = marked & (m >= 0)
            if reading.exhaust_on_duplicate and cand.any():
                idx = np.flatnonzero(cand)
                earlier = (marks[todo[idx]] == m[idx, None]) & (np.arange(self.width) < p[idx, None])
                repeated = idx[earlier.any(axis=1)]
                self._finish(todo[repeated], _REPEATED)
                cand[repeated] = False
            found = cand & continuing[np.maximum(m, 0)]
            self.cur[todo[found]] = m[found]
            keep |= cand & ~found
            todo = todo[keep]

    def _read_tie(self, todo: np.ndarray, m: np.ndarray, tie: np.ndarray) -> np.ndarray:
        """Apply the overvote rule to rows at a named tie; returns the mask of rows that read on."""
        rule = self.reading.overvote
        keep = np.zeros(len(todo), dtype=bool)
        if rule == "skip":
            keep[tie] = True
            return keep
        if rule == "exhaust":
            self._finish(todo[tie], _OVERVOTES)
            return keep
        idx = np.flatnonzero(tie)
        live = self.groups[TIE_CODE_BASE - m[idx]] & self.continuing
        n_live = live.sum(axis=1)
        several = idx[n_live >= 2]
        if rule == "set-aside":
            self._finish(todo[several], _SET_ASIDE)
        else:
            self._finish(todo[several], _OVERVOTES)
        one = n_live == 1
        self.cur[todo[idx[one]]] = live[one].argmax(axis=1)
        keep[idx[n_live == 0]] = True
        return keep

    def rows_of(self, candidates: Sequence[int]) -> np.ndarray:
        """Rows counting for any of `candidates`."""
        mask = np.zeros(self.n_candidates + 1, dtype=bool)
        mask[np.asarray(candidates, dtype=np.int64) + 1] = True
        return np.flatnonzero(mask[self.cur + 1])

    def set_aside_rows(self) -> np.ndarray:
        rows = np.flatnonzero(self.state == _SET_ASIDE)
        self.pos[rows] -= 1  # read the tied rank again
        return rows

    def tally(self) -> np.ndarray:
        active = self.cur >= 0
        sums = np.bincount(self.cur[active], weights=self.weight[active], minlength=self.n_candidates)
        return np.rint(sums).astype(np.int64)

    def inactive(self) -> np.ndarray:
        return np.rint(np.bincount(self.state, weights=self.weight, minlength=8)).astype(np.int64)


class _Numbers:
    """Votes are counted in integer units of 10^-decimals; this turns them into plain numbers."""

    def __init__(self, unit: int):
        self.unit = unit
        self.places = len(str(unit)) - 1

    def __call__(self, units) -> Number:
        units = int(units)
        whole, rest = divmod(units, self.unit)
        return whole if rest == 0 else float(Decimal(units).scaleb(-self.places))


def _threshold(votes: int, divisor: int, unit: int, non_integer: bool) -> int:
    if non_integer:
        return votes // divisor + 1
    return (votes // (divisor * unit) + 1) * unit


def count_ranked(ballots: BallotSet, rules: RankedRules = RankedRules(), *, method: str | None = None) -> TallyResult:
    """IRV (one seat) or STV (several): rounds of counting ballots for their highest continuing candidate,
    electing those who reach the threshold (moving their surplus on) or eliminating the last, as `RankedRules`
    describe. The rules follow RCTab's; see the class docstrings for each option."""
    names = ballots.candidates
    unknown = sorted(rules.excluded - set(names))
    if unknown:
        raise ValueError(f"excluded candidate {unknown[0]!r} is not among the candidates")
    n = len(names)
    seats = rules.seats
    unit = 10 ** rules.decimals if seats > 1 else 1  # one seat: no surplus, so no fractions
    number = _Numbers(unit)
    continuing = np.array([name not in rules.excluded for name in names], dtype=bool)
    count = _RankedCount(ballots, rules.reading, unit, continuing)
    breaker = _TieBreaker(rules.tiebreak, names)
    write_in = names.index(ballots.write_in) if ballots.write_in and rules.eliminate_write_in_first else None
    rule = rules.threshold_rule
    divisor = {"majority-of-continuing": 2, "droop": seats + 1, "hare": seats}[rule]

    rounds: list[Round] = []
    history: list[np.ndarray] = []
    elected: list[int] = []
    eliminated: list[list[int]] = []
    kept: dict[int, int] = {}   # winners whose surplus moved on keep exactly the threshold
    threshold = None
    final_round = False
    while True:
        tally = count.tally()
        for w, units in kept.items():
            tally[w] = units
        history.append(tally)
        cont = [c for c in range(n) if continuing[c]]
        if threshold is None or rule == "majority-of-continuing":
            threshold = _threshold(int(tally[cont].sum()), divisor, unit, rules.non_integer_threshold)
        shown = [c for c in range(n) if continuing[c] or c in elected]
        exhausted, inactive = _inactive_report(count, number)
        record = Round(number=len(rounds) + 1, tally={names[c]: number(tally[c]) for c in shown},
                       exhausted=exhausted, inactive=inactive, threshold=number(threshold))
        rounds.append(record)
        if final_round or not cont:
            break

        remaining = seats - len(elected)
        newly: list[int] = []
        if len(cont) <= remaining:
            newly = sorted(cont, key=lambda c: (-tally[c], c))
        elif not (seats == 1 and rules.continue_until_two and len(cont) > 2):
            over = sorted((c for c in cont if tally[c] >= threshold), key=lambda c: (-tally[c], c))
            room = remaining if rules.multiple_winners_per_round else 1
            newly = over[:room]
            if len(over) > room and tally[over[room - 1]] == tally[over[room]]:
                level = tally[over[room - 1]]
                newly = [c for c in over if tally[c] > level]
                tied = [c for c in over if tally[c] == level]
                while len(newly) < room:
                    pick, report = breaker.choose(tied, "elect", history)
                    record.tiebreaks.append(report)
                    newly.append(pick)
                    tied.remove(pick)

        if newly:
            record.elected = [names[c] for c in newly]
            elected += newly
            continuing[newly] = False
            surplus = [c for c in newly if tally[c] > threshold]
            if len(elected) == seats or not any(continuing):
                if seats == 1 or not surplus:
                    break
                final_round = True
            movers = [c for c in newly if tally[c] >= threshold] if seats > 1 else []
            rows, origin, moved = _move_surplus(count, movers, tally, threshold, unit, final_round)
            _report_transfers(record, count, rows, origin, moved, names, number, kept, threshold)
            continue

        losers, report = _choose_elimination(tally, cont, rules, write_in, remaining, unit, breaker, history)
        if report:
            record.tiebreaks.append(report)
        losers.sort(key=lambda c: (tally[c], c))
        record.eliminated = [names[c] for c in losers]
        eliminated.append(losers)
        continuing[losers] = False
        rows = np.concatenate([count.rows_of(losers), count.set_aside_rows()])
        origin = count.cur[rows].copy()
        count.advance(rows)
        _report_transfers(record, count, rows, origin, None, names, number, kept, threshold)

    winners = [names[c] for c in elected]
    last = history[-1]
    standing = sorted((c for c in range(n) if continuing[c]), key=lambda c: (-last[c], c))
    ranking = winners + [names[c] for c in standing]
    for group in reversed(eliminated):
        ranking += [names[c] for c in reversed(group)]
    ranking += [name for name in names if name in rules.excluded]
    blank = int(count.counts[count.state == _BLANK].sum())
    return TallyResult(method=method or ("irv" if seats == 1 else "stv"), seats=seats, winners=winners,
                       ranking=ranking, rounds=rounds, ballots=ballots.total, blank_ballots=blank,
                       extra={"unfilled_seats": seats - len(winners)} if len(winners) < seats else {})


def _inactive_report(count: _RankedCount, number) -> tuple[Number, dict[str, Number]]:
    """The inactive ballots in all and by reason (the three common reasons always, the others when present)."""
    inactive = count.inactive()
    by_reason = {label: number(inactive[s]) for s, label in _INACTIVE.items()
                 if inactive[s] or s in (_EXHAUSTED, _OVERVOTES, _SKIPPED)}
    return number(sum(inactive[s] for s in _INACTIVE)), by_reason


def _move_surplus(count: _RankedCount, movers: list[int], tally: np.ndarray, threshold: int, unit: int,
                  final_round: bool):
    """Reduce the value of every ballot counting for a winner in `movers` to its share of the surplus and
    move it on, with the set-aside ballots (a winner may have left their tie). Returns (rows, origin,
    surplus per winner)."""
    rows = count.rows_of(movers)
    fraction = np.zeros(count.n_candidates, dtype=np.int64)
    surplus = {}
    for w in movers:
        s = int(tally[w]) - threshold
        surplus[w] = s
        fraction[w] = s * unit // int(tally[w]) if tally[w] > 0 else 0
    own = rows
    count.value[own] = count.value[own] * fraction[count.cur[own]] // unit
    count.weight[own] = count.counts[own] * count.value[own]
    rows = np.concatenate([own, count.set_aside_rows()])
    origin = count.cur[rows].copy()
    count.advance(rows)
    if final_round:  # the count is over: what the surplus leaves to no one is not exhausted, it is the final surplus
        gone = own[count.state[own] != _ACTIVE]
        count.state[gone] = _FINAL_SURPLUS
    return rows, origin, surplus


def _report_transfers(record: Round, count: _RankedCount, rows: np.ndarray, origin: np.ndarray,
                      surplus: dict | None, names, number, kept: dict, threshold: int) -> None:
    """Record where the moved ballots went (`origin` → where they count now) and, for winners, the surplus
    that rounding left behind; winners keep exactly the threshold from now on."""
    n = count.n_candidates
    destination = np.where(count.cur[rows] >= 0, count.cur[rows], n)
    source = np.where(origin >= 0, origin, n)  # n: set-aside ballots coming back
    amounts = np.bincount(source * (n + 1) + destination, weights=count.weight[rows], minlength=(n + 1) ** 2)
    matrix = np.rint(amounts).astype(np.int64).reshape(n + 1, n + 1)
    for src in range(n + 1):
        moved = {("exhausted" if dst == n else names[dst]): number(matrix[src, dst])
                 for dst in range(n + 1) if matrix[src, dst] and dst != src}
        if moved or (surplus and src in surplus):
            record.transfers["(set aside)" if src == n else names[src]] = moved
    if surplus:
        for w, s in surplus.items():
            kept[w] = threshold
            residual = s - int(matrix[w].sum())
            if residual:
                record.residual_surplus[names[w]] = number(residual)


def _choose_elimination(tally, cont, rules: RankedRules, write_in, remaining, unit, breaker, history):
    if write_in is not None and write_in in cont and tally[write_in] > 0:
        return [write_in], None
    if rules.minimum_vote_threshold:
        below = [c for c in cont if tally[c] < rules.minimum_vote_threshold * unit]
        if below and len(cont) - len(below) >= max(remaining, 1):
            return below, None
    if rules.batch_elimination:
        order = sorted(cont, key=lambda c: (tally[c], c))
        running, size = 0, 0
        for k in range(1, len(order)):
            running += int(tally[order[k - 1]])
            if running < tally[order[k]] and len(order) - k >= max(remaining, 1):
                size = k
        if size >= 2:
            return order[:size], None
    low = min(tally[c] for c in cont)
    tied = [c for c in cont if tally[c] == low]
    if len(tied) == 1:
        return tied, None
    chosen, report = breaker.choose(tied, "eliminate", history)
    return [chosen], report


def irv(ballots: BallotSet, rules: RankedRules = RankedRules()) -> TallyResult:
    """Instant-runoff voting: one seat, `count_ranked` with a one-seat `RankedRules`."""
    if rules.seats != 1:
        raise ValueError("instant-runoff elects one candidate; use stv for several seats")
    return count_ranked(ballots, rules, method="irv")


def stv(ballots: BallotSet, rules: RankedRules) -> TallyResult:
    """Single transferable vote for `rules.seats` seats (Droop threshold unless the rules say otherwise)."""
    return count_ranked(ballots, rules, method="stv")


# --- single-round methods --------------------------------------------------------------------------------

def _check_seats(seats: int) -> None:
    if seats < 1:
        raise ValueError("seats must be at least 1")


def plurality(ballots: BallotSet, seats: int = 1, *, reading: BallotReading = BallotReading(),
              tiebreak: Tiebreak = Tiebreak(backwards=False)) -> TallyResult:
    """Plurality (first past the post): each ballot counts for its first choice, read as IRV's round 1 reads
    it (`reading`); the `seats` candidates with most votes win."""
    _check_seats(seats)
    everyone = np.ones(len(ballots.candidates), dtype=bool)
    count = _RankedCount(ballots, reading, 1, everyone)
    exhausted, inactive = _inactive_report(count, _Numbers(1))
    return _single_round("plurality", ballots, seats, [int(v) for v in count.tally()], tiebreak,
                         exhausted=exhausted, inactive=inactive, blank=int(count.inactive()[_BLANK]))


def _approvals(ballots: BallotSet) -> np.ndarray:
    """(rows, candidates) bool: the candidates each ballot names at any rank, ties included."""
    marks = ballots.marks
    named = np.zeros((marks.shape[0], len(ballots.candidates)), dtype=bool)
    for r in range(marks.shape[1]):
        column = marks[:, r]
        rows = np.flatnonzero(column >= 0)
        named[rows, column[rows]] = True
        for g, members in enumerate(ballots.tie_groups):
            rows = np.flatnonzero(column == TIE_CODE_BASE - g)
            if rows.size:
                named[np.ix_(rows, list(members))] = True
    return named


def approval(ballots: BallotSet, seats: int = 1, *, tiebreak: Tiebreak = Tiebreak(backwards=False)) -> TallyResult:
    """Approval voting: a ballot approves every candidate it names (at any rank); most approvals win."""
    _check_seats(seats)
    named = _approvals(ballots)
    tally = ballots.counts @ named.astype(np.int64)
    blank = int(ballots.counts[~named.any(axis=1)].sum())
    return _single_round("approval", ballots, seats, [int(v) for v in tally], tiebreak, blank=blank)


def _single_round(method, ballots: BallotSet, seats, scores, tiebreak: Tiebreak, *, exhausted=0, inactive=None,
                  blank=0, extra=None, result_extra=None) -> TallyResult:
    breaker = _TieBreaker(tiebreak, ballots.candidates)
    chosen, ranking, breaks = breaker.top(scores, seats)
    names = ballots.candidates
    record = Round(number=1, tally={names[c]: scores[c] for c in range(len(names))},
                   elected=[names[c] for c in chosen], exhausted=exhausted, inactive=inactive or {},
                   tiebreaks=breaks, extra=extra or {})
    return TallyResult(method=method, seats=seats, winners=[names[c] for c in chosen],
                       ranking=[names[c] for c in ranking], rounds=[record], ballots=ballots.total,
                       blank_ballots=blank, extra=result_extra or {})


def _levels(ballots: BallotSet) -> np.ndarray:
    """(rows, candidates): the rank at which each ballot first names each candidate; unnamed candidates
    share the bottom level. Skipped and unnamed-overvote ranks carry no preference and are passed over."""
    marks = ballots.marks
    bottom = marks.shape[1]
    levels = np.full((marks.shape[0], len(ballots.candidates)), bottom, dtype=np.int32)
    for r in range(marks.shape[1] - 1, -1, -1):  # from the bottom up, so the first mention wins
        column = marks[:, r]
        rows = np.flatnonzero(column >= 0)
        levels[rows, column[rows]] = r
        for g, members in enumerate(ballots.tie_groups):
            rows = np.flatnonzero(column == TIE_CODE_BASE - g)
            if rows.size:
                levels[np.ix_(rows, list(members))] = r
    return levels


def pairwise(ballots: BallotSet) -> tuple[np.ndarray, int]:
    """d[a, b] = ballots ranking a above b (a ranked candidate is above every unranked one; candidates at the
    same rank, or both unranked, are tied), and the number of ballots naming at least one candidate."""
    levels = _levels(ballots)
    counts = ballots.counts.astype(np.float64)
    bottom = ballots.marks.shape[1]
    useful = (levels < bottom).any(axis=1)
    n = levels.shape[1]
    d = np.zeros((n, n), dtype=np.int64)
    for a in range(n):
        d[a] = np.rint(counts @ (levels[:, a, None] < levels)).astype(np.int64)
    return d, int(ballots.counts[useful].sum())


def schulze(ballots: BallotSet, seats: int = 1, *, tiebreak: Tiebreak = Tiebreak(backwards=False)) -> TallyResult:
    """Schulze (beatpath) method. From the pairwise matrix d, a path's strength is its weakest link, a link
    a→b existing when d[a,b] > d[b,a] with strength d[a,b] (winning votes); p[a,b] is the strongest path.
    a is ranked above b when p[a,b] > p[b,a]; that relation is transitive, so candidates are ordered by how
    many others they beat this way. The winners are the first `seats` of that order; a tie at the cut
    (equal number beaten) is broken by `tiebreak` and reported. The round's `tally` is that number."""
    _check_seats(seats)
    d, useful = pairwise(ballots)
    n = d.shape[0]
    p = np.where(d > d.T, d, 0)
    np.fill_diagonal(p, 0)
    for i in range(n):
        p = np.maximum(p, np.minimum(p[:, i, None], p[None, i, :]))
        np.fill_diagonal(p, 0)
    beats = p > p.T
    wins = [int(v) for v in beats.sum(axis=1)]
    names = ballots.candidates
    extra = {"pairwise": {names[a]: {names[b]: int(d[a, b]) for b in range(n) if b != a} for a in range(n)},
             "strongest_paths": {names[a]: {names[b]: int(p[a, b]) for b in range(n) if b != a} for a in range(n)}}
    result = _single_round("schulze", ballots, seats, wins, tiebreak, blank=ballots.total - useful, extra=extra)
    unbeaten = [names[a] for a in range(n) if not beats[:, a].any()]
    result.extra["schulze_winners"] = unbeaten  # every candidate no one beats (several only on a tie)
    return result


def borda(ballots: BallotSet, seats: int = 1, *, tiebreak: Tiebreak = Tiebreak(backwards=False)) -> TallyResult:
    """Borda count. A ballot gives each candidate one point for every candidate it ranks below them and half
    a point for every candidate at the same rank; unranked candidates share the bottom rank. So with n
    candidates a full strict ranking gives n-1, n-2, …, 0, and a candidate's score is the sum of their
    pairwise results (wins 1, ties ½). Ballots naming no one give no points."""
    _check_seats(seats)
    d, useful = pairwise(ballots)
    n = d.shape[0]
    ties = useful - d - d.T
    doubled = [int(2 * d[a].sum() + ties[a].sum() - ties[a, a]) for a in range(n)]
    scores = [v // 2 if v % 2 == 0 else v / 2 for v in doubled]
    return _single_round("borda", ballots, seats, scores, tiebreak, blank=ballots.total - useful)


# --- villagers' committee election (村民委员会选举) ---------------------------------------------------------

def majority_election(ballots: BallotSet, seats: int, *, quota: Fraction = Fraction(1, 2),
                      further_round_factor: int = 2, tiebreak: Tiebreak = Tiebreak(backwards=False)) -> TallyResult:
    """Multi-seat majority election, as for a villagers' committee (Organic Law of Villagers' Committees,
    art. 15: elected with more than half of the votes of those who voted).

    Each ballot may mark up to `seats` candidates (a ballot marking more is invalid and counts for no one,
    but it was cast). A candidate with more than `quota` of the ballots cast (blank and invalid included)
    is elected. When more candidates pass than there are seats, the most voted take them; candidates tied
    at the last seat are not elected — the law wants a new vote among them — and go to the further round.
    Unfilled seats go to a further round (另行选举) whose candidates are the non-elected candidates in order
    of votes, `further_round_factor` per unfilled seat (the law's "at most twice as many"); a tie at that
    cut is broken by `tiebreak` and reported. Who is elected in the further round (often with a lower
    share of the votes) is decided by its own count."""
    _check_seats(seats)
    if not 0 < quota < 1:
        raise ValueError("quota must be a fraction between 0 and 1")
    if further_round_factor < 1:
        raise ValueError("further_round_factor must be at least 1")
    names = ballots.candidates
    n = len(names)
    named = _approvals(ballots)
    valid = named.sum(axis=1) <= seats
    votes = [int(v) for v in ballots.counts[valid] @ named[valid].astype(np.int64)]
    cast = ballots.total
    needed = int(quota * cast) + 1  # more than quota × cast
    order = sorted(range(n), key=lambda c: (-votes[c], c))
    passing = [c for c in order if votes[c] >= needed]
    elected = passing[:seats]
    if len(passing) > seats and votes[passing[seats - 1]] == votes[passing[seats]]:
        elected = [c for c in passing if votes[c] > votes[passing[seats - 1]]]
    unfilled = seats - len(elected)
    breaker = _TieBreaker(tiebreak, names)
    others = [c for c in order if c not in elected]
    room = min(len(others), further_round_factor * unfilled)
    further, breaks = [], []
    if room:  # the elected score -1 so the cut never reaches them
        further, _, breaks = breaker.top([-1 if c in elected else votes[c] for c in range(n)], room)
    invalid = int(ballots.counts[~valid].sum())
    record = Round(number=1, tally={names[c]: votes[c] for c in range(n)}, elected=[names[c] for c in elected],
                   exhausted=invalid, inactive={"invalid": invalid} if invalid else {}, threshold=needed,
                   tiebreaks=breaks)
    blank = int(ballots.counts[~named.any(axis=1)].sum())
    return TallyResult(method="majority", seats=seats, winners=[names[c] for c in elected],
                       ranking=[names[c] for c in elected + others], rounds=[record], ballots=cast,
                       blank_ballots=blank,
                       extra={"unfilled_seats": unfilled, "further_round": [names[c] for c in further]})


METHODS = ("plurality", "approval", "irv", "stv", "schulze", "borda", "majority")

__all__ = ["BallotReading", "BallotSet", "METHODS", "Mark", "RankedRules", "Round", "TallyResult", "Tiebreak",
           "WRITE_IN", "YesNoAbstain", "approval", "borda", "count_ranked", "count_yes_no_abstain", "irv",
           "majority_election", "pairwise", "plurality", "schulze", "stv"]
