"""Similar demands (相似诉求) and issues (a cluster of demands about one thing): a text signature for Chinese
demand text, an index of "open demands nearby that say the same", and incremental clustering. Pure (numpy).

Interface (plain data in and out; the caller keeps signatures in a binary column and feeds demands in)
- `signature(text) -> Signature`; `similarity(a, b) -> float` in [0, 1]; `Signature.to_bytes()` /
  `Signature.from_bytes(data)` for a binary column (6 bytes per n-gram, about 500 for a 50-character text).
- `SimilarityIndex(neighbours)`: `add(Demand(...))`, `set_open(id, is_open)`, `forget_before(cutoff)`,
  and `similar(signature, grid, lon, lat, at) -> list[Match]`, best first, each with its score and parts.
- `IssueClusterer(neighbours)`: `add(Demand(...)) -> Assignment` (the issue joined or founded, and
  the issues merged into it), `issues` (id -> Issue), `issue_of(demand id)`, `set_open(id, is_open)`.

Rules
- **Signature.** The text is NFKC-normalised (full-width letters and digits become half-width), lower-cased,
  stripped of whitespace and cut at punctuation; each piece gives its character bigrams and trigrams (a
  one-character piece gives itself). No word segmentation: n-grams need no dictionary, survive typos and
  odd segmentation, and cost about 0.1 ms. Each n-gram is hashed (CRC-32) and weighted 1 + ln(count),
  times 0.3 when every occurrence lies wholly inside stock phrases of complaints (您好, 希望, 尽快, 处理,
  谢谢 …, found in the text), which say nothing about the matter. Long texts keep the 128 n-grams with the
  smallest hashes, a consistent sample: two texts keep a shared n-gram alike. Weights are stored as
  float16; similarity is the cosine of the weight vectors, so symmetric, in [0, 1], 1 for a non-empty
  text with itself and 0 with an empty one.
- **Candidates.** Demands are kept in buckets by (grid, week). A query reads only the buckets of its grid
  and of the grids `neighbours[grid]` lists, within `window_days` before or after its time, so its cost
  grows with the demands nearby, not with the size of the index. Adjacency is symmetric: a pair listed
  once is enough.
- **Similarity in the index** is the cosine after weighting each n-gram by its rarity among the candidates
  and the query (local IDF, ln((n + 1)/(df + 1)) + 1 over n documents): the 小区's name and the local stock
  phrases, shared by most demands around, count less than the words about the matter. It is symmetric for
  a pair read in the same context, in [0, 1], and 1 for a copy; `similarity()` is the same without context.
- **Score.** similarity × distance factor × time factor: 0.5^(metres / `distance_half_m`) between the two
  points (`org.spatial.distances_m`), or, when either has no point, 1 in the same grid and 0.5 in a
  neighbouring one; and 0.5^(days apart / `time_half_days`). Equal scores go to the lower demand id.
- **Issues.** A new demand joins the issue whose recent members it resembles most: the mean of similarity
  × distance factor over the issue's latest `representatives` members among its candidates (nearby, within
  the window, open or not) must reach `join_threshold`; otherwise it founds an issue. The distance factor
  here has its own half-distance, 150 m by default: one thing is reported from about one place, and the
  same complaint 300 m away is usually another thing. Then any other candidate issue that the demand would
  also have joined is merged into the oldest of them when the mean text similarity between their
  representatives reaches `merge_threshold`. Ties go to the lower issue id, so the result depends only on
  the order of the demands.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from gongzhi.org.spatial import distances_m

FILLER_WEIGHT = 0.3
FILLER_PHRASES = ("您好", "你好", "请问", "希望", "尽快", "处理", "解决", "反映", "问题", "谢谢", "麻烦", "相关部门",
                  "一下", "我们", "这个", "那个", "已经", "一直", "现在", "情况", "帮忙", "能否", "是否", "非常", "严重",
                  "影响", "市民", "来电", "投诉", "诉求", "要求", "你们", "有关")
MAX_FEATURES = 128
_FORMAT = 1  # first byte of Signature.to_bytes
_PIECE = re.compile(r"[\W_]+")  # \w in Unicode mode keeps CJK characters, letters and digits
_SPACE = re.compile(r"\s+")
_DAY = 86_400.0


_FILLER = re.compile("|".join(sorted(FILLER_PHRASES, key=len, reverse=True)))


def _grams(text: str) -> tuple[list[str], set[str]]:
    """The n-grams of the text, repeats included, and those found at least once outside stock phrases."""
    grams: list[str] = []
    matter: set[str] = set()
    for piece in _PIECE.split(text):
        if len(piece) == 1:
            grams.append(piece)
            if not _FILLER.fullmatch(piece):
                matter.add(piece)
            continue
        bigrams = [piece[i:i + 2] for i in range(len(piece) - 1)]
        trigrams = [piece[i:i + 3] for i in range(len(piece) - 2)]
        grams += bigrams
        grams += trigrams
        stock = [found.span() for found in _FILLER.finditer(piece)]
        if not stock:
            matter.update(bigrams, trigrams)
            continue
        covered = [0] * (len(piece) + 1)  # covered[i]: characters before i inside stock phrases
        inside = bytearray(len(piece))
        for start, end in stock:
            inside[start:end] = b"\x01" * (end - start)
        for i, flag in enumerate(inside):
            covered[i + 1] = covered[i] + flag
        matter.update(gram for i, gram in enumerate(bigrams) if covered[i + 2] - covered[i] < 2)
        matter.update(gram for i, gram in enumerate(trigrams) if covered[i + 3] - covered[i] < 3)
    return grams, matter


# --- signatures ---------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Signature:
    """Sorted unique n-gram hashes (uint32), their float16 weights, and the norm of the weights."""

    features: np.ndarray
    weights: np.ndarray
    norm: float

    @classmethod
    def of(cls, features: np.ndarray, weights: np.ndarray) -> Signature:
        weights = np.asarray(weights, dtype=np.float16)
        return cls(np.asarray(features, dtype=np.uint32), weights,
                   math.sqrt(float(np.dot(weights.astype(np.float64), weights.astype(np.float64)))))

    def __len__(self) -> int:
        return len(self.features)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Signature) and np.array_equal(self.features, other.features)
                and np.array_equal(self.weights, other.weights))

    __hash__ = None

    def to_bytes(self) -> bytes:
        return (bytes([_FORMAT]) + self.features.astype("<u4").tobytes() + self.weights.astype("<f2").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        if not data or data[0] != _FORMAT or (len(data) - 1) % 6:
            raise ValueError("not a signature made by Signature.to_bytes")
        n = (len(data) - 1) // 6
        features = np.frombuffer(data, dtype="<u4", count=n, offset=1).astype(np.uint32)
        weights = np.frombuffer(data, dtype="<f2", count=n, offset=1 + 4 * n).astype(np.float16)
        return cls.of(features, weights)


def signature(text: str) -> Signature:
    """The signature of a demand's text (see the module doc)."""
    all_grams, matter = _grams(_SPACE.sub("", unicodedata.normalize("NFKC", text or "")).lower())
    counts = Counter(all_grams)
    if not counts:
        return Signature.of(np.empty(0, np.uint32), np.empty(0, np.float16))
    features = np.array([zlib.crc32(gram.encode()) for gram in counts], dtype=np.uint32)
    weights = np.array([(1.0 if n == 1 else 1.0 + math.log(n)) * (1.0 if gram in matter else FILLER_WEIGHT)
                        for gram, n in counts.items()])
    order = np.argsort(features, kind="stable")[:MAX_FEATURES]  # the smallest hashes: a consistent sample
    features, weights = features[order], weights[order]
    # Two different n-grams with one CRC (about one pair in 4e9) share a feature: add their weights.
    unique, first = np.unique(features, return_index=True)
    if len(unique) < len(features):
        weights = np.add.reduceat(weights, first)
    return Signature.of(unique, weights)


def similarity(a: Signature, b: Signature) -> float:
    """Cosine similarity of two signatures, in [0, 1]; 0 when either is empty."""
    if not a.norm or not b.norm:
        return 0.0
    _, ia, ib = np.intersect1d(a.features, b.features, assume_unique=True, return_indices=True)
    dot = float(np.dot(a.weights[ia].astype(np.float64), b.weights[ib].astype(np.float64)))
    return min(1.0, max(0.0, dot / (a.norm * b.norm)))


# --- the index --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demand:
    """What the index keeps of one demand. `at` is when it was filed (aware datetimes; naive ones are read as
    local time); `lon`/`lat` may be None; `reporter` (any id) counts distinct reporters of an issue."""

    id: int
    signature: Signature
    grid: int
    lon: float | None
    lat: float | None
    at: dt.datetime
    is_open: bool = True
    category: Hashable | None = None
    reporter: Hashable | None = None


@dataclass(frozen=True)
class Match:
    """A similar demand: `score` = `similarity` × `distance_factor` × `time_factor` (see the module doc)."""

    demand_id: int
    score: float
    similarity: float
    distance_m: float | None
    days_apart: float
    distance_factor: float
    time_factor: float
    grid: int


@dataclass
class _Candidates:
    """The demands a query reads, aligned arrays, with the context of their local weighting."""

    rows: np.ndarray
    similarity: np.ndarray
    distance_m: np.ndarray  # NaN without points
    distance_factor: np.ndarray
    days_apart: np.ndarray
    time_factor: np.ndarray
    features: np.ndarray    # every candidate's features, concatenated; weighted[] and owner[] alongside
    weighted: np.ndarray
    owner: np.ndarray
    norms: np.ndarray       # weighted norm of each candidate
    same_grid: np.ndarray   # in the query's own grid (not a neighbouring one)

    @property
    def score(self) -> np.ndarray:
        return self.similarity * self.distance_factor * self.time_factor

    def between(self, i: int, j: int) -> float:
        """Similarity of candidates i and j under the same local weighting."""
        if not self.norms[i] or not self.norms[j]:
            return 0.0
        a, b = np.flatnonzero(self.owner == i), np.flatnonzero(self.owner == j)
        _, ia, ib = np.intersect1d(self.features[a], self.features[b], assume_unique=True, return_indices=True)
        return min(1.0, float(np.dot(self.weighted[a][ia], self.weighted[b][ib])) / (self.norms[i] * self.norms[j]))


class _Column:
    """A growable numpy array; it grows by half each time, so at most a third of it lies unused."""

    def __init__(self, dtype, fill=0):
        self.data = np.full(1024, fill, dtype=dtype)
        self.size = 0
        self.fill = fill

    def extend(self, values: np.ndarray) -> int:
        start, end = self.size, self.size + len(values)
        if end > len(self.data):
            self._grow(end)
        self.data[start:end] = values
        self.size = end
        return start

    def append(self, value) -> None:
        if self.size == len(self.data):
            self._grow(self.size + 1)
        self.data[self.size] = value
        self.size += 1

    def _grow(self, needed: int) -> None:
        grown = np.full(max(needed, len(self.data) * 3 // 2), self.fill, dtype=self.data.dtype)
        grown[: self.size] = self.data[: self.size]
        self.data = grown


class SimilarityIndex:
    """Demands by (grid, week) bucket, with their signatures in one flat pool (see the module doc)."""

    def __init__(self, neighbours: Mapping[int, Iterable[int]] | None = None, *, window_days: float = 30.0,
                 bucket_days: float = 7.0, distance_half_m: float = 500.0, time_half_days: float = 14.0):
        near: dict[int, set[int]] = {}
        for grid, others in (neighbours or {}).items():
            for other in others:
                if other != grid:  # both ways, so a pair listed once is enough
                    near.setdefault(grid, set()).add(other)
                    near.setdefault(other, set()).add(grid)
        self.neighbours = {grid: tuple(sorted(others)) for grid, others in near.items()}
        self.window_days = window_days
        self.bucket_seconds = bucket_days * _DAY
        self.distance_half_m = distance_half_m
        self.time_half_days = time_half_days
        self._categories: dict[Hashable, int] = {}
        self._reset_storage()

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, demand_id) -> bool:
        return demand_id in self._row_of

    def add(self, demand: Demand) -> None:
        if demand.id in self._row_of:
            raise ValueError(f"demand {demand.id} is already in the index")
        at = demand.at.timestamp()
        row = self._id.size
        start = self._features.extend(demand.signature.features)
        self._weights.extend(demand.signature.weights)
        category = (-1 if demand.category is None
                    else self._categories.setdefault(demand.category, len(self._categories)))
        for column, value in ((self._id, demand.id), (self._grid, demand.grid),
                              (self._lon, np.nan if demand.lon is None else demand.lon),
                              (self._lat, np.nan if demand.lat is None else demand.lat), (self._at, at),
                              (self._open, demand.is_open), (self._category, category), (self._start, start),
                              (self._length, len(demand.signature)), (self._norm, demand.signature.norm)):
            column.append(value)
        self._row_of[demand.id] = row
        self._buckets.setdefault((demand.grid, int(at // self.bucket_seconds)), []).append(row)

    def set_open(self, demand_id: int, is_open: bool) -> None:
        self._open.data[self._row_of[demand_id]] = is_open

    def is_open(self, demand_id: int) -> bool:
        return bool(self._open.data[self._row_of[demand_id]])

    def similar(self, sig: Signature, grid: int, lon: float | None, lat: float | None, at: dt.datetime, *,
                limit: int = 5, min_similarity: float = 0.3, open_only: bool = True,
                category: Hashable | None = None, exclude: Iterable[int] = ()) -> list[Match]:
        """The most similar demands nearby (same or neighbouring grid, within the window), best score first:
        at most `limit`, each with text similarity ≥ `min_similarity`; only open ones unless `open_only` is
        False; only of `category` when given; never those in `exclude` (e.g. the demand itself)."""
        found = self._candidates(sig, grid, lon, lat, at.timestamp(), open_only=open_only, category=category,
                                 exclude=exclude)
        keep = found.similarity >= min_similarity
        rows, score = found.rows[keep], found.score[keep]
        ids = self._id.data[rows]
        best = np.lexsort((ids, -score))[:limit]
        picked = np.flatnonzero(keep)[best]
        return [Match(demand_id=int(self._id.data[found.rows[i]]), score=float(found.score[i]),
                      similarity=float(found.similarity[i]),
                      distance_m=None if np.isnan(found.distance_m[i]) else float(found.distance_m[i]),
                      days_apart=float(found.days_apart[i]), distance_factor=float(found.distance_factor[i]),
                      time_factor=float(found.time_factor[i]), grid=int(self._grid.data[found.rows[i]]))
                for i in picked]

    def _candidates(self, sig: Signature, grid: int, lon, lat, at: float, *, open_only: bool,
                    category: Hashable | None = None, exclude: Iterable[int] = ()) -> _Candidates:
        window = self.window_days * _DAY
        first, last = int((at - window) // self.bucket_seconds), int((at + window) // self.bucket_seconds)
        rows: list[int] = []
        for near in (grid, *self.neighbours.get(grid, ())):
            for bucket in range(first, last + 1):
                rows.extend(self._buckets.get((near, bucket), ()))
        rows = np.array(rows, dtype=np.int64)
        keep = np.abs(self._at.data[rows] - at) <= window
        if open_only:
            keep &= self._open.data[rows]
        if category is not None:
            keep &= self._category.data[rows] == self._categories.get(category, -2)
        excluded = [self._row_of[i] for i in exclude if i in self._row_of]
        if excluded:
            keep &= ~np.isin(rows, excluded)
        rows = np.unique(rows[keep])  # a grid listed twice as a neighbour must not count twice

        lengths = self._length.data[rows].astype(np.int64)
        owner = np.repeat(np.arange(len(rows)), lengths)
        positions = _positions(self._start.data[rows], lengths)
        features = self._features.data[positions]
        # Local IDF: an n-gram found in most demands around here (the 小区's name, the local stock phrases)
        # tells them apart less than the words about the matter. The query counts as one document.
        in_query = _member(features, sig.features)
        unique, inverse, df = np.unique(features, return_inverse=True, return_counts=True)
        documents = len(rows) + 1
        idf = np.log((documents + 1) / (df + _member(unique, sig.features) + 1)) + 1
        weighted = self._weights.data[positions].astype(np.float64) * idf[inverse]
        norms = np.sqrt(np.bincount(owner, weights=weighted**2, minlength=len(rows)))
        query_df = np.zeros(len(sig))
        if len(unique) and len(sig):
            slot = np.minimum(np.searchsorted(unique, sig.features), len(unique) - 1)
            query_df = np.where(unique[slot] == sig.features, df[slot], 0)
        query = sig.weights.astype(np.float64) * (np.log((documents + 1) / (query_df + 2)) + 1)
        query_norm = math.sqrt(float(np.dot(query, query)))
        dots = np.zeros(len(rows))
        if in_query.any():
            slot = np.searchsorted(sig.features, features[in_query])
            dots = np.bincount(owner[in_query], weights=weighted[in_query] * query[slot], minlength=len(rows))
        denominators = norms * query_norm
        with np.errstate(divide="ignore", invalid="ignore"):
            text = np.clip(np.where(denominators > 0, dots / denominators, 0.0), 0.0, 1.0)

        has_point = lon is not None and lat is not None
        metres = np.full(len(rows), np.nan)
        if has_point and len(rows):
            metres = distances_m(float(lon), float(lat), self._lon.data[rows], self._lat.data[rows])
        same_grid = self._grid.data[rows] == grid
        days = np.abs(self._at.data[rows] - at) / _DAY
        return _Candidates(rows, text, metres, _distance_factor(metres, same_grid, self.distance_half_m), days,
                           0.5 ** (days / self.time_half_days), features, weighted, owner, norms, same_grid)

    def forget_before(self, cutoff: dt.datetime) -> int:
        """Drop the demands filed before `cutoff` (a deployment keeps about the window, not years); returns how
        many. The storage is rewritten without them, so memory follows what is kept."""
        size = self._id.size
        kept = np.flatnonzero(self._at.data[:size] >= cutoff.timestamp())
        if len(kept) == size:
            return 0
        old = {name: getattr(self, name).data for name in _ROW_COLUMNS + ("_start", "_features", "_weights")}
        self._reset_storage()
        lengths = old["_length"][kept].astype(np.int64)
        positions = _positions(old["_start"][kept], lengths)
        self._features.extend(old["_features"][positions])
        self._weights.extend(old["_weights"][positions])
        self._start.extend(np.cumsum(lengths) - lengths)
        for name in _ROW_COLUMNS:
            getattr(self, name).extend(old[name][kept])
        for row, (demand_id, grid, at) in enumerate(zip(old["_id"][kept].tolist(), old["_grid"][kept].tolist(),
                                                        old["_at"][kept].tolist())):
            self._row_of[demand_id] = row
            self._buckets.setdefault((grid, int(at // self.bucket_seconds)), []).append(row)
        return size - len(kept)

    def _reset_storage(self) -> None:
        self._row_of: dict[int, int] = {}
        self._buckets: dict[tuple[int, int], list[int]] = {}
        self._id, self._grid = _Column(np.int64), _Column(np.int64)
        self._lon, self._lat = _Column(np.float64, np.nan), _Column(np.float64, np.nan)
        self._at, self._open, self._category = _Column(np.float64), _Column(np.bool_), _Column(np.int32, -1)
        self._length, self._norm = _Column(np.int32), _Column(np.float32)
        self._start, self._features, self._weights = _Column(np.int64), _Column(np.uint32), _Column(np.float16)


_ROW_COLUMNS = ("_id", "_grid", "_lon", "_lat", "_at", "_open", "_category", "_length", "_norm")


def _distance_factor(metres: np.ndarray, same_grid: np.ndarray, half_m: float) -> np.ndarray:
    """0.5^(metres / half_m); without a point (NaN), 1 in the same grid and 0.5 in a neighbouring one."""
    return np.where(np.isnan(metres), np.where(same_grid, 1.0, 0.5), 0.5 ** (np.nan_to_num(metres) / half_m))


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of `values` are in the sorted array `sorted_set`."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    slot = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[slot] == values


def _positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices into the pool of the slices [start, start + length), concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


# --- issues -----------------------------------------------------------------------------------------

@dataclass
class Issue:
    """A cluster of demands about one thing: members in the order they came, distinct reporters, first and
    last filing time, how many members are open, and the grid of the demand that founded it."""

    id: int
    grid: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    members: list[int] = field(default_factory=list)
    reporters: set = field(default_factory=set)
    open_count: int = 0

    @property
    def volume(self) -> int:
        return len(self.members)

    @property
    def unresolved_share(self) -> float:
        return self.open_count / len(self.members) if self.members else 0.0


@dataclass(frozen=True)
class Assignment:
    """Where a new demand went: the issue it joined or founded, its mean similarity to that issue's
    representatives (1.0 when it founded it), and the issues merged into it on the way."""

    demand_id: int
    issue_id: int
    is_new_issue: bool
    score: float
    merged: tuple[int, ...] = ()


class IssueClusterer:
    """Incremental clustering of demands into issues over a SimilarityIndex it owns (see the module doc)."""

    def __init__(self, neighbours: Mapping[int, Iterable[int]] | None = None, *, join_threshold: float = 0.25,
                 merge_threshold: float = 0.3, representatives: int = 5, window_days: float = 30.0,
                 distance_half_m: float = 150.0):
        self.index = SimilarityIndex(neighbours, window_days=window_days)
        self.distance_half_m = distance_half_m
        self.join_threshold = join_threshold
        self.merge_threshold = merge_threshold
        self.representatives = representatives
        self.issues: dict[int, Issue] = {}
        self._issue_of: dict[int, int] = {}
        self._next_id = 1

    def issue_of(self, demand_id: int) -> int:
        return self._issue_of[demand_id]

    def set_open(self, demand_id: int, is_open: bool) -> None:
        issue = self.issues[self._issue_of[demand_id]]
        if self.index.is_open(demand_id) != is_open:
            issue.open_count += 1 if is_open else -1
        self.index.set_open(demand_id, is_open)

    def add(self, demand: Demand) -> Assignment:
        found = self.index._candidates(demand.signature, demand.grid, demand.lon, demand.lat,
                                       demand.at.timestamp(), open_only=False)
        position = {demand_id: i for i, demand_id in enumerate(self.index._id.data[found.rows].tolist())}
        representatives: dict[int, list[int]] = {}  # issue id -> candidate positions of its latest members
        for issue_id in sorted({self._issue_of[i] for i in position}):
            recent = [position[m] for m in reversed(self.issues[issue_id].members) if m in position]
            representatives[issue_id] = recent[: self.representatives]
        # One thing is reported from about one place: the same complaint 300 m away is another issue.
        closeness = found.similarity * _distance_factor(found.distance_m, found.same_grid, self.distance_half_m)
        affinity = {issue_id: float(closeness[reps].mean()) for issue_id, reps in representatives.items()}
        fitting = sorted((issue_id for issue_id, a in affinity.items() if a >= self.join_threshold),
                         key=lambda issue_id: (-affinity[issue_id], issue_id))

        self.index.add(demand)
        if not fitting:
            issue = Issue(id=self._next_id, grid=demand.grid, first_seen=demand.at, last_seen=demand.at)
            self._next_id += 1
            self.issues[issue.id] = issue
            self._enrol(issue, demand)
            return Assignment(demand.id, issue.id, True, 1.0)

        target = self.issues[fitting[0]]
        self._enrol(target, demand)
        merged = []
        for other_id in fitting[1:]:
            pairs = [found.between(i, j) for i in representatives[fitting[0]] for j in representatives[other_id]]
            if sum(pairs) / len(pairs) >= self.merge_threshold:
                other = self.issues[other_id]
                survivor, absorbed = (target, other) if target.id < other.id else (other, target)
                self._absorb(survivor, absorbed)
                merged.append(absorbed.id)
                target = survivor
        return Assignment(demand.id, target.id, False, affinity[fitting[0]], tuple(sorted(merged)))

    def _filed_at(self, demand_id: int) -> float:
        return float(self.index._at.data[self.index._row_of[demand_id]]) if demand_id in self.index else -math.inf

    def _enrol(self, issue: Issue, demand: Demand) -> None:
        issue.members.append(demand.id)
        if demand.reporter is not None:
            issue.reporters.add(demand.reporter)
        issue.first_seen, issue.last_seen = min(issue.first_seen, demand.at), max(issue.last_seen, demand.at)
        issue.open_count += bool(demand.is_open)
        self._issue_of[demand.id] = issue.id

    def _absorb(self, survivor: Issue, absorbed: Issue) -> None:
        # Members stay in filing order, so "the latest members" means the same after a merge (the sort is
        # stable; members already forgotten by the index go first, as the oldest).
        survivor.members = sorted(survivor.members + absorbed.members, key=self._filed_at)
        survivor.reporters |= absorbed.reporters
        survivor.first_seen = min(survivor.first_seen, absorbed.first_seen)
        survivor.last_seen = max(survivor.last_seen, absorbed.last_seen)
        survivor.open_count += absorbed.open_count
        for demand_id in absorbed.members:
            self._issue_of[demand_id] = survivor.id
        del self.issues[absorbed.id]
