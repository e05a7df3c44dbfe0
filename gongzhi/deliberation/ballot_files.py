"""Ballot files in, `voting.BallotSet` out: PrefLib (.soc/.soi/.toc/.toi), cast-vote-record CSV, and RCTab's
contest configuration (its counting rules as `voting.RankedRules`). Bad input is a ValueError naming the
file and, where there is one, the line."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gongzhi.deliberation.voting import (OVERVOTE_CODE, SKIPPED_CODE, WRITE_IN, BallotReading, BallotSet,
                                         RankedRules, Tiebreak, tie_code)

PREFLIB_TYPES = ("soc", "soi", "toc", "toi")


def read_ballots(path: str | Path, *, candidates: Sequence[str] | None = None,
                 labels: CvrLabels | None = None, aliases: Mapping[str, str] | None = None) -> BallotSet:
    """Read a ballot file, its format told by its suffix: .soc/.soi/.toc/.toi (PrefLib) or .csv (CVR).
    `candidates`, `labels` and `aliases` apply to CVR files only."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in PREFLIB_TYPES:
        if candidates is not None or labels is not None or aliases is not None:
            raise ValueError(f"{path}: declared candidates, CVR labels and aliases apply to CVR files only; "
                             f"a PrefLib file declares its own alternatives")
        return read_preflib(path)
    if suffix == "csv":
        return read_cvr_csv(path, candidates=candidates, labels=labels or CvrLabels(), aliases=aliases)
    raise ValueError(f"{path}: unknown ballot file format {path.suffix or '(no suffix)'!r}; "
                     f"expected .soc, .soi, .toc, .toi (PrefLib) or .csv (cast-vote records)")


def _open_text(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a ballot file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror})") from None


# --- PrefLib ---------------------------------------------------------------------------------------------

_META = re.compile(r"#\s*([^:]+?)\s*:\s*(.*?)\s*$")
_ALTERNATIVE = re.compile(r"ALTERNATIVE NAME (\d+)$")
_COUNT = re.compile(r"\s*(\d+)\s*:(.*)$")


def _preflib_ranks(text: str) -> list[tuple[int, ...]]:
    """`1,2,{3,4},5` → [(1,), (2,), (3, 4), (5,)]; raises ValueError on anything else."""
    ranks, text = [], text.strip()
    if not text:
        return ranks
    i = 0
    while True:
        if text.startswith("{", i):
            end = text.find("}", i)
            if end < 0:
                raise ValueError("unclosed '{'")
            inner = [part.strip() for part in text[i + 1:end].split(",")]
            if not all(part.isdigit() for part in inner):
                raise ValueError(f"bad tie {text[i:end + 1]!r}: alternatives must be numbers")
            ranks.append(tuple(int(part) for part in inner))
            i = end + 1
        else:
            end = text.find(",", i)
            end = len(text) if end < 0 else end
            part = text[i:end].strip()
            if not part.isdigit():
                raise ValueError(f"bad alternative {part!r}: expected a number or a tie like {{3,4}}")
            ranks.append((int(part),))
            i = end
        while i < len(text) and text[i] == " ":
            i += 1
        if i == len(text):
            return ranks
        if text[i] != ",":
            raise ValueError(f"expected ',' at {text[i:i + 10]!r}")
        i += 1


def read_preflib(path: str | Path) -> BallotSet:
    """Read a PrefLib file (the 2022 format: `# KEY: value` metadata lines, then `count: a,b,{c,d}` lines,
    braces marking a tie). `.soc`/`.toc` must rank every alternative, `.soc`/`.soi` may not hold ties.
    Candidates are the alternatives in number order, named by `# ALTERNATIVE NAME i:` (else "i")."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in PREFLIB_TYPES:
        raise ValueError(f"{path}: not a PrefLib file (expected .soc, .soi, .toc or .toi)")
    meta: dict[str, str] = {}
    names: dict[int, str] = {}
    rows: list[tuple[int, list[tuple[int, ...]], int]] = []
    with _open_text(path) as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            match = _META.match(line)
            if match:
                key, value = match.group(1).upper(), match.group(2)
                alt = _ALTERNATIVE.match(key)
                if alt:
                    names[int(alt.group(1))] = value
                else:
                    meta[key] = value
            continue
        match = _COUNT.match(line)
        if not match:
            if "," in line.split(":")[0] or ":" not in line:
                raise ValueError(f"{path}, line {number}: expected 'count: ranking' (the current PrefLib format), "
                                 f"found {line.strip()[:60]!r}")
            raise ValueError(f"{path}, line {number}: the count before ':' must be a whole number")
        try:
            ranks = _preflib_ranks(match.group(2))
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error}") from None
        rows.append((int(match.group(1)), ranks, number))

    declared = meta.get("DATA TYPE", "").lower()
    if declared and declared != kind:
        raise ValueError(f"{path}: the file says DATA TYPE {declared} but is named .{kind}")
    size = _meta_int(path, meta, "NUMBER ALTERNATIVES")
    if size is None:
        size = max([*names, *(a for _, ranks, _ in rows for rank in ranks for a in rank)], default=0)
    unknown = [i for i in names if not 1 <= i <= size]
    if unknown:
        raise ValueError(f"{path}: ALTERNATIVE NAME {unknown[0]} is outside 1..{size}")
    candidates = [names.get(i, str(i)) for i in range(1, size + 1)]
    if len(set(candidates)) != len(candidates):
        raise ValueError(f"{path}: two alternatives have the same name")

    groups: dict[tuple[int, ...], int] = {}
    width = max((len(ranks) for _, ranks, _ in rows), default=0)
    marks = np.full((len(rows), width), SKIPPED_CODE, dtype=np.int32)
    for row, (_, ranks, number) in enumerate(rows):
        seen: set[int] = set()
        for r, rank in enumerate(ranks):
            for a in rank:
                if not 1 <= a <= size:
                    raise ValueError(f"{path}, line {number}: alternative {a} is outside 1..{size}")
                if a in seen:
                    raise ValueError(f"{path}, line {number}: alternative {a} appears twice")
                seen.add(a)
            if len(rank) > 1 and kind in ("soc", "soi"):
                raise ValueError(f"{path}, line {number}: a tie {{…}} in a strict-order (.{kind}) file")
            members = tuple(sorted(a - 1 for a in rank))
            marks[row, r] = members[0] if len(members) == 1 else tie_code(groups, members)
        if kind in ("soc", "toc") and len(seen) != size:
            raise ValueError(f"{path}, line {number}: ranks {len(seen)} of {size} alternatives, "
                             f"but a complete-order (.{kind}) file ranks them all")
    counts = np.array([c for c, _, _ in rows], dtype=np.int64)
    voters = _meta_int(path, meta, "NUMBER VOTERS")
    if voters is not None and voters != int(counts.sum()):
        raise ValueError(f"{path}: NUMBER VOTERS is {voters} but the lines add up to {int(counts.sum())}")
    unique = _meta_int(path, meta, "NUMBER UNIQUE ORDERS")
    if unique is not None and unique != len(rows):
        raise ValueError(f"{path}: NUMBER UNIQUE ORDERS is {unique} but there are {len(rows)} lines")
    tie_groups = tuple(sorted(groups, key=groups.get))
    return BallotSet(tuple(candidates), marks, counts, tie_groups, source=str(path))


def _meta_int(path: Path, meta: dict, key: str) -> int | None:
    if key not in meta:
        return None
    try:
        return int(meta[key])
    except ValueError:
        raise ValueError(f"{path}: {key} must be a whole number, not {meta[key]!r}") from None


# --- cast-vote records -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CvrLabels:
    """What a CVR cell can say besides a candidate's name (RCTab's cvrFileSources settings)."""

    skipped: str = "undervote"            # no mark at this rank
    overvote: str = "overvote"            # several marks at this rank
    write_in: str = "UWI"                 # undeclared write-in: counts for the candidate WRITE_IN
    overvote_delimiter: str | None = None  # "A|B": the named candidates marked at this rank
    blank_is_write_in: bool = False       # an empty cell is an undeclared write-in, not a skipped rank


_RANK_COLUMN = re.compile(r"rank\s*(\d+)$", re.IGNORECASE)


def read_cvr_csv(path: str | Path, *, candidates: Sequence[str] | None = None, labels: CvrLabels = CvrLabels(),
                 aliases: Mapping[str, str] | None = None) -> BallotSet:
    """Read a cast-vote-record CSV: a header, columns `rank1`…`rankN` (a candidate's name or a label of
    `labels`; an empty cell is a skipped rank) and an optional `count` (ballots with that row; default 1);
    other columns are ignored. Names are stripped of surrounding spaces; `aliases` maps other spellings to
    a name. With `candidates` (the declared order), any other name is an error; without, the candidates are
    the names found, in alphabetical order. The undeclared write-in candidate WRITE_IN is always a candidate.
    Identical rows are merged."""
    path = Path(path)
    aliases = {k.strip(): v.strip() for k, v in (aliases or {}).items()}
    declared = None if candidates is None else [name.strip() for name in candidates]
    if declared is not None and len(set(declared)) != len(declared):
        raise ValueError(f"{path}: the declared candidates repeat a name")
    tallies: dict[tuple, int] = {}
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path}: empty file; expected a header with rank1, rank2, … columns")
            rank_columns = _rank_columns(path, header)
            count_column = next((i for i, h in enumerate(header) if h.strip().lower() == "count"), None)
            width = len(rank_columns)
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")
                count = 1
                if count_column is not None:
                    text = row[count_column].strip()
                    if not text.isdigit():
                        raise ValueError(f"{path}, line {line}: count must be a whole number, not {text!r}")
                    count = int(text)
                ranking = tuple(_cell(path, line, r + 1, row[column], labels, aliases, declared)
                                for r, column in enumerate(rank_columns))
                tallies[ranking] = tallies.get(ranking, 0) + count
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not UTF-8 text") from None
        except csv.Error as error:
            raise ValueError(f"{path}, line {reader.line_num}: {error}") from None

    if declared is None:
        names = sorted({name for ranking in tallies for rank in ranking if isinstance(rank, tuple)
                        for name in rank} - {WRITE_IN})
    else:
        names = [name for name in declared if name != WRITE_IN]
    names.append(WRITE_IN)
    index = {name: i for i, name in enumerate(names)}
    groups: dict[tuple[int, ...], int] = {}
    marks = np.full((len(tallies), width), SKIPPED_CODE, dtype=np.int32)
    for row, ranking in enumerate(tallies):
        for r, rank in enumerate(ranking):
            if rank == SKIPPED_CODE or rank == OVERVOTE_CODE:
                marks[row, r] = rank
            elif len(rank) == 1:
                marks[row, r] = index[rank[0]]
            else:
                marks[row, r] = tie_code(groups, tuple(sorted({index[name] for name in rank})))
    tie_groups = tuple(sorted(groups, key=groups.get))
    counts = np.fromiter(tallies.values(), dtype=np.int64, count=len(tallies))
    return BallotSet(tuple(names), marks, counts, tie_groups, write_in=WRITE_IN, source=str(path))


def _rank_columns(path: Path, header: list[str]) -> list[int]:
    found = {}
    for i, name in enumerate(header):
        match = _RANK_COLUMN.match(name.strip())
        if match:
            found[int(match.group(1))] = i
    if not found:
        raise ValueError(f"{path}, line 1: no rank columns; expected rank1, rank2, … (found {', '.join(header)})")
    if sorted(found) != list(range(1, len(found) + 1)):
        raise ValueError(f"{path}, line 1: rank columns must be rank1…rank{len(found)} with none missing "
                         f"(found {', '.join(f'rank{k}' for k in sorted(found))})")
    return [found[k] for k in range(1, len(found) + 1)]


def _cell(path, line, rank, text, labels: CvrLabels, aliases, declared):
    text = text.strip()
    if not text:
        return (WRITE_IN,) if labels.blank_is_write_in else SKIPPED_CODE
    if text == labels.skipped:
        return SKIPPED_CODE
    if text == labels.overvote:
        return OVERVOTE_CODE
    parts = text.split(labels.overvote_delimiter) if labels.overvote_delimiter else [text]
    names = []
    for part in parts:
        part = part.strip()
        name = WRITE_IN if part == labels.write_in else aliases.get(part, part)
        if not name:
            raise ValueError(f"{path}, line {line}, rank{rank}: empty name in {text!r}")
        if declared is not None and name != WRITE_IN and name not in declared:
            raise ValueError(f"{path}, line {line}, rank{rank}: {name!r} is not a declared candidate")
        names.append(name)
    return tuple(dict.fromkeys(names))


# --- RCTab contest configuration ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RctabConfig:
    """An RCTab contest configuration read as our terms: the method (irv or stv), its RankedRules, the
    declared candidates (order matters to the `order` tie-break), aliases and the CVR labels."""

    method: str
    rules: RankedRules
    candidates: tuple[str, ...]
    labels: CvrLabels
    aliases: dict[str, str] = field(default_factory=dict)


_TIEBREAKS = {"useCandidateOrder": "order", "random": "random",
              "previousRoundCountsThenRandom": "backwards-then-random"}
_OVERVOTES = {"exhaustImmediately": "exhaust", "alwaysSkipToNextRank": "skip",
              "exhaustIfMultipleContinuing": "exhaust-if-multiple-continuing"}
_MODES = {"singleWinnerMajority": ("irv", True), "multiWinnerAllowMultipleWinnersPerRound": ("stv", True),
          "multiWinnerAllowOnlyOneWinnerPerRound": ("stv", False)}


def read_rctab_config(path: str | Path) -> RctabConfig:
    """Read an RCTab contest configuration (JSON): its `rules`, `candidates` and the first CVR source's labels.
    Rules we do not count by (bottoms-up and multi-pass modes, interactive tie-breaks, stopping early) are a
    ValueError rather than a silently different count."""
    path = Path(path)
    with _open_text(path) as handle:
        try:
            config = json.load(handle)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(config, dict) or not isinstance(config.get("rules"), dict):
        raise ValueError(f"{path}: not an RCTab contest configuration (no 'rules' object)")
    rules = config["rules"]

    def text(key, default=""):
        value = rules.get(key, default)
        return "" if value is None else str(value).strip()

    def whole(key, default=None, *, words=()):
        value = text(key)
        if value == "" or value.lower() in words:
            return default
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{path}: rules.{key} must be a whole number, not {value!r}") from None

    def flag(key):
        value = rules.get(key, False)
        return value if isinstance(value, bool) else str(value).lower() == "true"

    mode = text("winnerElectionMode")
    if mode not in _MODES:
        raise ValueError(f"{path}: winnerElectionMode {mode!r} is not supported "
                         f"(supported: {', '.join(_MODES)})")
    method, several_per_round = _MODES[mode]
    seats = whole("numberOfWinners", 1)
    if method == "irv" and seats != 1:
        raise ValueError(f"{path}: singleWinnerMajority with numberOfWinners {seats}")
    tiebreak_mode = text("tiebreakMode")
    if tiebreak_mode not in _TIEBREAKS:
        raise ValueError(f"{path}: tiebreakMode {tiebreak_mode!r} is not supported "
                         f"(supported: {', '.join(_TIEBREAKS)})")
    overvote = text("overvoteRule")
    if overvote not in _OVERVOTES:
        raise ValueError(f"{path}: overvoteRule {overvote!r} is not supported (supported: {', '.join(_OVERVOTES)})")
    if text("stopTabulationEarlyAfterRound"):
        raise ValueError(f"{path}: stopTabulationEarlyAfterRound is not supported")
    if method == "irv":
        threshold = "droop" if flag("doesFirstRoundDetermineThreshold") else "majority-of-continuing"
    else:
        threshold = "hare" if flag("hareQuota") else "droop"

    sources = config.get("cvrFileSources") or [{}]
    source = sources[0] if isinstance(sources[0], dict) else {}
    labels = CvrLabels(skipped=str(source.get("skippedRankLabel") or "undervote"),
                       overvote=str(source.get("overvoteLabel") or "overvote"),
                       write_in=str(source.get("undeclaredWriteInLabel") or "UWI"),
                       overvote_delimiter=str(source.get("overvoteDelimiter") or "") or None,
                       blank_is_write_in=flag("treatBlankAsUndeclaredWriteIn")
                       or bool(source.get("treatBlankAsUndeclaredWriteIn")))
    candidates, aliases, excluded = [], {}, set()
    for entry in config.get("candidates") or []:
        name = str(entry.get("name", "")).strip() if isinstance(entry, dict) else ""
        if not name:
            raise ValueError(f"{path}: a candidate without a name")
        candidates.append(name)
        for alias in entry.get("aliases") or []:
            aliases[str(alias).strip()] = name
        if entry.get("excluded") in (True, "true"):
            excluded.add(name)
    try:
        ranked = RankedRules(
            seats=seats,
            reading=BallotReading(overvote=_OVERVOTES[overvote],
                                  max_skipped_ranks=whole("maxSkippedRanksAllowed", None, words=("unlimited",)),
                                  max_rankings=whole("maxRankingsAllowed", None, words=("max",)),
                                  exhaust_on_duplicate=flag("exhaustOnDuplicateCandidate")),
            threshold=threshold,
            non_integer_threshold=flag("nonIntegerWinningThreshold"),
            decimals=whole("decimalPlacesForVoteArithmetic", 4),
            multiple_winners_per_round=several_per_round,
            continue_until_two=flag("continueUntilTwoCandidatesRemain"),
            batch_elimination=flag("batchElimination"),
            minimum_vote_threshold=whole("minimumVoteThreshold", 0),
            tiebreak=Tiebreak.named(_TIEBREAKS[tiebreak_mode], whole("randomSeed", 0)),
            excluded=frozenset(excluded))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return RctabConfig(method, ranked, tuple(candidates), labels, aliases)
