"""The ranking of units, communities, streets or categories by the three rates (响应率、解决率、满意率):
who is ranked at all, in which order, with ties, floors and the change against the previous period.
Pure: plain rows in, plain rows out. The one place these rules live; the dashboard, its CSV, the exports,
the units' own view and the monthly report all call rank() (through queries.ranking / ranking_for).

The rules (docs/rules.md, "Ranking by the three rates"):
- a row with fewer than `min_cases` cases (demands dispatched or rated in the period), or no score, is
  not ranked: it is "样本不足" (insufficient), listed after every ranked row, its counts still shown;
- a ranked row whose measured rate is below `floor` on any of the three rates is flagged and ranks below
  every row that is not flagged, whatever its score;
- within each of the two groups, the higher score first; equal scores (at `precision` decimals, the
  precision the page shows) share a rank, and the next rank skips: standard competition ranking 1, 2, 2, 4;
- the change: each row's rank and score in the previous period (ranked by the same rules), when it had one.
"""

import calendar
import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from .rules import DEFAULT_SCORE_WEIGHTS, composite_score

RATES = ("response", "resolution", "satisfaction")
DEFAULT_MIN_CASES = 5
DEFAULT_FLOOR = 0.6
DEFAULT_PRECISION = 1  # decimals of the score as the page shows it: ties are judged at that precision


class Measured(Protocol):
    """What rank() needs of a row (queries.Rates has it all): an id, the three rates (None when not
    measurable) and how many cases they rest on."""

    id: Hashable
    name: str
    cases: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None


T = TypeVar("T", bound=Measured)


@dataclass(frozen=True)
class Ranked(Generic[T]):
    """One row with its place. `rank` is None when the row is not ranked (insufficient); `out_of` is the
    number of rows ranked in the period ("排名 rank/out_of"); `below_floor` names the rates under the floor
    ("response", "resolution", "satisfaction"); previous_* are None when the row was not ranked then."""

    row: T
    score: float | None
    rank: int | None
    out_of: int
    insufficient: bool
    below_floor: tuple[str, ...] = ()
    previous_rank: int | None = None
    previous_score: float | None = None
    previous_out_of: int | None = None  # how many were ranked in the previous period (its pool)

    @property
    def is_flagged(self) -> bool:
        return bool(self.below_floor)

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous period (positive: moved up), None without both ranks."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def same_pool(self) -> bool:
        """Whether as many were ranked in the previous period as now: only then do places compare (last of
        6 is not "two places up" from 8th of 9). When the pools differ, pages show the previous rank with
        its pool ("8/9") and no arrow (docs/rules.md)."""
        return self.previous_out_of is not None and self.previous_out_of == self.out_of

    @property
    def score_change(self) -> float | None:
        """The change of the score as the page shows both (at DEFAULT_PRECISION decimals): 97.7 → 94.7 is
        -3.0, never the -2.9 of the unrounded scores."""
        if self.score is None or self.previous_score is None:
            return None
        return round(round(self.score, DEFAULT_PRECISION) - round(self.previous_score, DEFAULT_PRECISION),
                     DEFAULT_PRECISION)


def rates_of(row: Measured) -> dict[str, float | None]:
    return {"response": row.response_rate, "resolution": row.resolution_rate, "satisfaction": row.satisfaction_rate}


def below_floor(row: Measured, floor: float | None) -> tuple[str, ...]:
    """The measured rates of `row` under `floor` (a share, 0.6 = 60 %); none when floor is None."""
    if floor is None:
        return ()
    return tuple(name for name, value in rates_of(row).items() if value is not None and value < floor)


def rank(rows: Iterable[T], *, min_cases: int = DEFAULT_MIN_CASES, floor: float | None = DEFAULT_FLOOR,
         weights: Mapping[str, float] | None = None, previous: Iterable[Measured] | None = None,
         precision: int = DEFAULT_PRECISION) -> list[Ranked[T]]:
    """The rows in ranking order, each with its rank (standard competition ranking), flag and sample
    state; see the module's docstring for the rules. `weights` ({"response", "resolution", "satisfaction"}
    → weight; rules.DEFAULT_SCORE_WEIGHTS when None) give the score (rules.composite_score: the weights of
    unmeasured rates are shared out over the measured ones). `previous`: the rows of the previous period,
    ranked by the same rules and matched by id, for the change."""
    weights = dict(weights or DEFAULT_SCORE_WEIGHTS)
    placed = _place(list(rows), min_cases=min_cases, floor=floor, weights=weights, precision=precision)
    if previous is None:
        return placed
    before = {r.row.id: r for r in _place(list(previous), min_cases=min_cases, floor=floor, weights=weights,
                                          precision=precision)}
    result = []
    for r in placed:
        old = before.get(r.row.id)
        was_ranked = old is not None and old.rank is not None
        result.append(Ranked(r.row, r.score, r.rank, r.out_of, r.insufficient, r.below_floor,
                             old.rank if was_ranked else None, old.score if was_ranked else None,
                             old.out_of if was_ranked else None))
    return result


def _place(rows: Sequence[T], *, min_cases: int, floor: float | None, weights: Mapping[str, float],
           precision: int) -> list[Ranked[T]]:
    scored = [(row, composite_score(rates_of(row), weights)) for row in rows]
    ranked = [(row, score, below_floor(row, floor)) for row, score in scored
              if score is not None and row.cases >= min_cases]
    insufficient = [(row, score) for row, score in scored if score is None or row.cases < min_cases]

    def key(item) -> tuple:
        row, score, flags = item
        return (bool(flags), -round(score, precision), row.name, str(row.id))

    ranked.sort(key=key)
    result: list[Ranked[T]] = []
    previous_key, current_rank = None, 0
    for position, (row, score, flags) in enumerate(ranked, start=1):
        tie_key = (bool(flags), round(score, precision))
        if tie_key != previous_key:
            current_rank, previous_key = position, tie_key
        result.append(Ranked(row, score, current_rank, len(ranked), False, flags))
    insufficient.sort(key=lambda item: (-item[0].cases, item[0].name, str(item[0].id)))
    result += [Ranked(row, score, None, len(ranked), True, ()) for row, score in insufficient]
    return result


# --- periods ---------------------------------------------------------------------------------------------

def last_complete_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before `today`'s: the ranking's default period."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def is_whole_month(start: dt.date, end: dt.date) -> bool:
    return start.day == 1 and (start.year, start.month) == (end.year, end.month) and \
        end.day == calendar.monthrange(end.year, end.month)[1]


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period the change is measured against: the previous calendar month for a whole month (month on
    month), else the same number of days just before `start`."""
    if is_whole_month(start, end):
        return last_complete_month(start)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def find(ranked: Iterable[Ranked[T]], match: Callable[[T], bool]) -> Ranked[T] | None:
    """The first ranked row whose row matches (e.g. lambda r: r.id == unit.pk)."""
    return next((r for r in ranked if match(r.row)), None)
