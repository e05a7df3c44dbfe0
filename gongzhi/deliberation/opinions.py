"""Opinion map (意见地图) of a conversation, computed the way Polis does: participants vote agree / disagree /
pass on short statements; the vote matrix is reduced by PCA to a 2-D map, clustered into opinion groups, and
each group's representative statements, the consensus statements and the next statement to show are derived.

Pure module: plain data in, plain data out, no Django. Reimplemented from the description of Polis's math
(compdemocracy.org), checked against Polis's own groups on its open data (docs/benchmarks.md):

* **Matrix.** Participant × statement, in Polis's sign: agree −1, disagree +1, pass 0. Our public API (and
  Polis's export files) say agree 1, disagree −1: the sign is flipped once, on the way in. The last vote
  per pair wins. A statement moderated out (``excluded_statements``) keeps its column but, as in Polis, the
  whole column is zeroed: it carries no opinion, and everyone counts as having voted on it.
* **Who is clustered.** A participant is *in conversation* once they have voted (passes and excluded
  statements included) on at least ``min(7, number of statements voted on)`` statements; while fewer than
  15 are in, the most active voters are taken up to 15. Once in, always in (carried in :class:`MapState`).
* **PCA.** Missing votes are filled with the statement's mean vote, the matrix is centred on those means and
  its first two principal components taken (ARPACK). A filled-in entry equals its column's mean, so the
  centred matrix is zero wherever nobody voted: it is S − M·diag(μ) (M the 0/1 mask of cast votes), with
  the vote matrix's own sparsity, and is never made dense. Everyone who voted is projected from their own
  votes only, scaled by sqrt(N / n) for n statements voted on of N, so sparse voters are not pulled to the
  centre.
* **Groups.** k-means with 100 *base clusters* on the in-conversation participants' positions, then
  weighted k-means of the base-cluster centres into k = 2 … min(5, 2 + bases // 12) *opinion groups*; the
  k with the best silhouette (over base-cluster centres) wins, but the shown k changes only once a new k
  has won 4 updates in a row. An update starts from the previous state's components and centres, so the
  groups keep their numbers. A first map has no history: its base clusters start from k-means++ and its
  groups are the lowest-inertia result of many starts (Polis's own start included), groups numbered by size.
* **Statements.** Per group and statement, pseudocounted agree / disagree rates ``(n+1)/(N+2)``, a
  one-sample z against 1/2 and a two-proportion z against the other groups (pseudocount 1 on each count);
  representative when both are significant one-sided at 90 % (z > 1.2816), ranked by rate ratio
  ("repness") × its z × rate × its z, the group's best agreed statement first, at most 5. Consensus
  statements: over all voters, rate above 1/2 and significant, best 5 each way. Group-informed consensus:
  the product over groups of ``(agree+1)/(votes+2)``. The next statement is drawn with Polis's priority
  (few votes, far out on the map, agreed rather than passed), squared.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Hashable

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.sparse.linalg import LinearOperator, svds
from scipy.special import ndtr

AGREE, DISAGREE, PASS = 1, -1, 0  # our public convention (Polis's export files use the same)

IN_CONVERSATION_VOTES = 7  # Polis: a participant counts once they voted on min(7, statements) statements
GREEDY_PARTICIPANTS = 15  # ... or, while fewer are in, the 15 most active voters
BASE_CLUSTERS = 100
MAX_GROUPS = 5
GROUP_RESTARTS = 100  # k-means++ starts tried for the groups of a fresh map, besides Polis's own
K_SWITCH_STREAK = 4  # a new k must win this many consecutive updates before it is shown
Z_90 = 1.2816  # one-sided 90 % normal quantile
REPRESENTATIVE_PER_GROUP = 5
CONSENSUS_PER_DIRECTION = 5
_KMEANS_ITERATIONS = 100


# --- results -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementStat:
    """How one group (or everyone, for consensus) voted on one statement, and how significant that is.

    ``probability`` is the pseudocounted rate (n+1)/(N+2) of ``direction``; ``probability_z`` its z against
    1/2. For a representative statement ``repness`` is that rate divided by the same rate among the other
    groups and ``repness_z`` the two-proportion z; ``p_value`` is one-sided, of the test that selected it."""

    statement_id: Hashable
    direction: str  # 'agree' | 'disagree'
    n_votes: int  # agree + disagree + pass
    n_agree: int
    n_disagree: int
    agree_share: float  # raw shares of n_votes (0 when nobody voted)
    disagree_share: float
    probability: float
    probability_z: float
    p_value: float
    repness: float | None = None
    repness_z: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class MapState:
    """Everything one update hands to the next: who is in conversation, the PCA, the cluster centres and the
    k streak. ``to_dict()`` gives JSON-safe values; ids are kept as given (ints or strings)."""

    statements: list = field(default_factory=list)  # column order of center / components
    center: list[float] = field(default_factory=list)
    components: list[list[float]] = field(default_factory=list)  # 2 × len(statements)
    in_conversation: list = field(default_factory=list)  # participant ids, sticky
    base_centres: list[list[float]] = field(default_factory=list)
    group_centres: dict[int, list[list[float]]] = field(default_factory=dict)  # last clustering for each k
    k: int = 0  # the k shown (smoothed)
    best_k: int = 0  # the k with the best silhouette at the last update
    best_k_streak: int = 0  # consecutive updates best_k has won
    updates: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"statements": list(self.statements), "center": [float(x) for x in self.center],
                "components": [[float(x) for x in row] for row in self.components],
                "in_conversation": list(self.in_conversation),
                "base_centres": [[float(x) for x in row] for row in self.base_centres],
                "group_centres": {str(k): [[float(x) for x in row] for row in rows]
                                  for k, rows in sorted(self.group_centres.items())},
                "k": int(self.k), "best_k": int(self.best_k), "best_k_streak": int(self.best_k_streak),
                "updates": int(self.updates)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MapState":
        try:
            return cls(statements=list(data["statements"]), center=[float(x) for x in data["center"]],
                       components=[[float(x) for x in row] for row in data["components"]],
                       in_conversation=list(data["in_conversation"]),
                       base_centres=[[float(x) for x in row] for row in data["base_centres"]],
                       group_centres={int(k): [[float(x) for x in row] for row in rows]
                                      for k, rows in data["group_centres"].items()},
                       k=int(data["k"]), best_k=int(data["best_k"]), best_k_streak=int(data["best_k_streak"]),
                       updates=int(data["updates"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a map state: {error!r}") from error


@dataclass
class OpinionMap:
    """One computed opinion map. Groups are numbered 0 … k−1; only in-conversation participants have one."""

    k: int
    groups: dict  # participant -> group index
    coordinates: dict  # participant -> (x, y), everyone who voted
    group_sizes: dict[int, int]  # group -> participants
    representative: dict[int, list[StatementStat]]
    consensus: list  # statement ids: agreed ones first, then rejected ones
    consensus_stats: list[StatementStat]  # the same, with their figures
    group_informed_consensus: dict  # statement -> product over groups of (agree+1)/(votes+2)
    priorities: dict  # statement -> Polis priority weight for choosing the next statement
    excluded: frozenset
    state: MapState
    n_participants: int
    n_clustered: int
    n_statements: int  # statements with votes, not excluded
    silhouettes: dict[int, float] = field(default_factory=dict)  # k -> silhouette at this update


# --- the vote matrix ---------------------------------------------------------------------------------------

@dataclass
class _Matrix:
    participants: list  # row ids, in order of first vote
    statements: list  # column ids, in order of first vote (statements given but never voted on: not here)
    ratings: sparse.csr_matrix  # Polis sign, explicit entries = cast votes (pass stored as explicit 0)
    active: np.ndarray  # bool per column: not excluded

    @property
    def shape(self) -> tuple[int, int]:
        return self.ratings.shape


def _first_appearance(ids: Sequence) -> tuple[list, np.ndarray]:
    """Distinct ids in order of first appearance and each id's code (its position in that list)."""
    if not len(ids):
        return [], np.zeros(0, dtype=np.int64)
    array = np.asarray(ids)
    kind = array.dtype.kind if array.ndim == 1 else "O"
    if kind in "iu" and array.min() >= 0 and array.max() < 4 * len(array) + 1024:
        # Small non-negative ints (the usual database ids): first appearance by a reversed scatter, O(n).
        first_at = np.full(int(array.max()) + 1, len(array), dtype=np.int64)
        first_at[array[::-1]] = np.arange(len(array) - 1, -1, -1)
        present = np.flatnonzero(first_at < len(array))
        order = present[np.argsort(first_at[present], kind="stable")]
        code = np.empty(len(first_at), dtype=np.int64)
        code[order] = np.arange(len(order))
        return [ids[i] for i in first_at[order]], code[array]
    if kind in "iu" or (kind == "U" and all(type(key) is str for key in ids)):
        # Other plain ints or strings: sort-based, then re-ranked by first appearance.
        _, first, inverse = np.unique(array, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return [ids[i] for i in first[order]], rank[inverse.ravel()]
    position: dict = {}  # mixed types: a dict keeps 1 and "1" apart
    codes = np.fromiter((position.setdefault(key, len(position)) for key in ids), dtype=np.int64, count=len(ids))
    return list(position), codes


def _index(ids: Sequence, known: Sequence = ()) -> tuple[list, np.ndarray]:
    """Like ``_first_appearance``, but ids already ``known`` keep their positions first."""
    distinct, codes = _first_appearance(ids)
    if not len(known):
        return distinct, codes
    position = {key: i for i, key in enumerate(known)}
    for key in distinct:
        position.setdefault(key, len(position))
    remap = np.fromiter((position[key] for key in distinct), dtype=np.int64, count=len(distinct))
    return list(position), remap[codes]


def build_matrix(votes: Iterable, *, statements: Collection | None = None,
                 excluded_statements: Collection = (), previous: MapState | None = None) -> _Matrix:
    """The participant × statement rating matrix (Polis sign) from (participant, statement, vote) triples."""
    triples = votes if isinstance(votes, (list, tuple)) else list(votes)
    try:
        if triples and set(map(len, triples)) != {3}:
            raise TypeError
        # itemgetter over the list: zip(*triples) is ~10× slower at a million votes.
        participant_ids, statement_ids, values = (list(map(itemgetter(i), triples)) for i in range(3))
    except TypeError as error:
        raise ValueError("votes must be (participant, statement, vote) triples") from error
    try:
        vote_values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError("a vote must be 1 (agree), -1 (disagree) or 0 (pass)") from error
    bad = ~np.isin(vote_values, (AGREE, DISAGREE, PASS))
    if bad.any():
        raise ValueError(f"a vote must be 1 (agree), -1 (disagree) or 0 (pass), not {values[int(np.argmax(bad))]!r}")
    if statements is not None:
        allowed = set(statements)
        unknown = next((s for s in set(statement_ids) if s not in allowed), None)
        if unknown is not None:
            raise ValueError(f"vote on unknown statement {unknown!r}")
    # Keep the previous update's column order so its centre and components line up without remapping.
    known_columns = [s for s in previous.statements] if previous is not None else []
    rows, row_codes = _index(participant_ids)
    columns, column_codes = _index(statement_ids, known_columns)
    n_rows, n_columns = len(rows), len(columns)
    # Last vote per (participant, statement) wins: keep the last occurrence of each cell. Counting first
    # (a linear-time sparse build) spares the sort when, as usual, no pair was voted twice.
    counts = sparse.csr_matrix((np.ones(len(row_codes), dtype=np.int32), (row_codes, column_codes)),
                               shape=(n_rows, n_columns))
    if counts.nnz and counts.data.max() > 1:
        cell = row_codes * max(n_columns, 1) + column_codes
        _, last_from_end = np.unique(cell[::-1], return_index=True)
        keep = len(cell) - 1 - last_from_end
        row_codes, column_codes, vote_values = row_codes[keep], column_codes[keep], vote_values[keep]
    ratings = sparse.csr_matrix((-vote_values, (row_codes, column_codes)),
                                shape=(n_rows, n_columns))  # Polis sign: agree −1
    ratings.sort_indices()
    # Statements of the previous state that have no vote any more are dropped (Polis never drops; ours can
    # if votes are withdrawn).
    voted_column = np.bincount(ratings.indices, minlength=n_columns) > 0
    column_ids = list(columns)
    if not voted_column.all():
        ratings = ratings[:, np.flatnonzero(voted_column)].tocsr()
        column_ids = [s for s, voted in zip(column_ids, voted_column) if voted]
    excluded = set(excluded_statements)
    active = np.array([s not in excluded for s in column_ids], dtype=bool)
    return _Matrix(rows, column_ids, ratings, active)


# --- PCA without densifying --------------------------------------------------------------------------------

def column_means(ratings: sparse.csr_matrix, active: np.ndarray) -> np.ndarray:
    """Each statement's mean vote over those who voted on it (0 for an excluded or unvoted statement)."""
    counts = np.bincount(ratings.indices, minlength=ratings.shape[1]).astype(np.float64)
    sums = np.bincount(ratings.indices, weights=ratings.data, minlength=ratings.shape[1]).astype(np.float64)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    means[~active] = 0.0
    return means


def centred_matrix(ratings: sparse.csr_matrix, active: np.ndarray, means: np.ndarray) -> sparse.csr_matrix:
    """The mean-filled, centred matrix as a sparse matrix with the votes' own pattern: a filled-in entry equals
    its column's mean, so it centres to exactly 0; a cast vote x becomes x − mean. Excluded columns are 0."""
    data = ratings.data - means[ratings.indices]
    data[~active[ratings.indices]] = 0.0
    return sparse.csr_matrix((data, ratings.indices, ratings.indptr), shape=ratings.shape)


def centred_operator(ratings: sparse.csr_matrix, mask: sparse.csr_matrix, means: np.ndarray) -> LinearOperator:
    """The same centred matrix as an implicit operator, S − M·diag(μ): never stored, applied as two sparse
    products. (``centred_matrix`` is what the map uses; this form documents and tests the identity.)"""
    ratings_t, mask_t = ratings.T.tocsr(), mask.T.tocsr()

    def matvec(v):
        v = np.asarray(v, dtype=np.float64)
        return ratings @ v - mask @ (means[:, None] * v if v.ndim == 2 else means * v)

    def rmatvec(u):
        u = np.asarray(u, dtype=np.float64)
        corrected = mask_t @ u
        return ratings_t @ u - (means[:, None] * corrected if corrected.ndim == 2 else means * corrected)

    return LinearOperator(ratings.shape, matvec=matvec, rmatvec=rmatvec, matmat=matvec, rmatmat=rmatvec,
                          dtype=np.float64)


def principal_components(centred, n_components: int = 2, *, start: np.ndarray | None = None,
                         seed: int = 0) -> np.ndarray:
    """The top right singular vectors (n_components × columns) of a centred matrix, sparse or operator.
    Signs are fixed: aligned with ``start`` when given, else each component's largest loading positive."""
    n_rows, n_columns = centred.shape
    components = np.zeros((n_components, n_columns))
    rank = min(n_rows, n_columns)
    if rank == 0:
        return components
    if rank <= n_components + 1:
        dense = centred.toarray() if sparse.issparse(centred) else centred @ np.eye(n_columns)
        _, singular, vt = np.linalg.svd(dense, full_matrices=False)
        found = vt[:n_components]
    else:
        # ARPACK iterates on the smaller side of the matrix; start there from the previous components.
        v0 = None
        if start is not None and np.linalg.norm(start[0]) > 0:
            v0 = start[0] if n_rows >= n_columns else np.asarray(centred @ start[0]).ravel()
        if v0 is None or not np.linalg.norm(v0) > 0:
            v0 = np.random.default_rng(seed).standard_normal(min(n_rows, n_columns))
        _, singular, vt = svds(centred, k=n_components, v0=v0, which="LM", solver="arpack", tol=1e-10)
        order = np.argsort(-singular)
        singular, found = singular[order], vt[order]
    components[: len(found)] = found
    for i in range(len(found)):
        if singular[i] <= 1e-12 * max(singular[0], 1e-300):
            components[i] = 0.0
            continue
        reference = start[i] if start is not None and i < len(start) else None
        if reference is not None and np.linalg.norm(reference) > 0:
            sign = np.sign(components[i] @ reference) or 1.0
        else:
            sign = np.sign(components[i][np.argmax(np.abs(components[i]))]) or 1.0
        components[i] *= sign
    return components


def project(centred: sparse.csr_matrix, components: np.ndarray, votes_per_row: np.ndarray,
            n_columns: int) -> np.ndarray:
    """Participants' 2-D positions: their centred votes times the components, scaled by sqrt(N / n) for a
    participant who voted on n of N statements (Polis's sparsity-aware projection)."""
    positions = np.asarray(centred @ components.T)
    scale = np.sqrt(n_columns / np.maximum(votes_per_row, 1))
    return positions * scale[:, None]


# --- clustering --------------------------------------------------------------------------------------------

def _distinct_first(points: np.ndarray, k: int) -> np.ndarray:
    """The first k distinct rows, in order (Polis's k-means start)."""
    _, first = np.unique(points, axis=0, return_index=True)
    return points[np.sort(first)[:k]]


def _assign(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's nearest centre and the squared distance to it."""
    if len(points) * len(centres) > 50_000:  # a k-d tree beats the n × k distance matrix on many points
        distance, labels = cKDTree(centres).query(points, k=1)
        return labels.astype(np.int64), distance ** 2
    squared = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    labels = np.argmin(squared, axis=1)
    return labels, squared[np.arange(len(points)), labels]


def kmeans(points: np.ndarray, centres: np.ndarray, *, weights: np.ndarray | None = None,
           iterations: int = _KMEANS_ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means from the given centres, until at most one point in 1,000 changes cluster (none, below
    1,000 points); clusters left empty are dropped (as Polis does), the rest keep their order. Returns
    (centres, labels)."""
    weights = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    centres = np.array(centres, dtype=np.float64)
    labels, _ = _assign(points, centres)
    # Stop once at most one point in 1,000 changes cluster (Polis stops once no centre moves 0.01 map
    # units; on many points Lloyd's last steps only shuffle a few boundary points between base clusters).
    settled = len(points) // 1000
    for _ in range(iterations):
        mass = np.bincount(labels, weights=weights, minlength=len(centres))
        sums = np.stack([np.bincount(labels, weights=weights * points[:, d], minlength=len(centres))
                         for d in range(points.shape[1])], axis=1)
        used = mass > 0
        centres = sums[used] / mass[used][:, None]
        if not used.all():
            labels = (np.cumsum(used) - 1)[labels]
        new_labels, _ = _assign(points, centres)
        changed = int((new_labels != labels).sum())
        labels = new_labels
        if changed <= settled:
            break
    return centres, labels


def _warm_centres(points: np.ndarray, previous: np.ndarray, k: int) -> np.ndarray:
    """Start centres from the previous update's: one assignment round drops those no point is nearest to,
    then, while fewer than k and points remain uncovered, the point farthest from every centre becomes a
    new centre (Polis's "most distal" rule)."""
    labels, _ = _assign(points, previous)
    centres = previous[np.unique(labels)] if len(previous) else previous
    distinct = len(np.unique(points, axis=0))
    target = min(k, distinct)
    if len(centres) > target:
        centres = centres[:target]
    if len(centres) == 0:
        return _distinct_first(points, target)
    _, nearest = _assign(points, centres)
    new = []
    while len(centres) + len(new) < target:
        far = int(np.argmax(nearest))
        if nearest[far] <= 0:
            break
        new.append(points[far])
        nearest = np.minimum(nearest, ((points - points[far]) ** 2).sum(1))
    return np.vstack([centres, *new]) if new else centres


def _plus_plus_starts(points: np.ndarray, weights: np.ndarray, k: int, runs: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``runs`` k-means++ starts (runs × k × dims): each next centre drawn with probability ∝ weight ×
    squared distance to the nearest centre so far."""
    def draw(mass):  # one index per run, rows of mass as unnormalised probabilities
        cumulative = np.cumsum(mass, axis=1)
        total = cumulative[:, -1:]
        picks = (cumulative < rng.random((len(mass), 1)) * total).sum(1)
        return np.minimum(picks, mass.shape[1] - 1)

    chosen = draw(np.broadcast_to(weights, (runs, len(points))))[:, None]
    nearest = ((points[None, :, :] - points[chosen[:, 0]][:, None, :]) ** 2).sum(-1)
    for _ in range(1, k):
        mass = weights[None, :] * nearest
        mass[mass.sum(1) <= 0] = weights  # all points already centres: any will do
        pick = draw(mass)
        chosen = np.hstack([chosen, pick[:, None]])
        nearest = np.minimum(nearest, ((points[None, :, :] - points[pick][:, None, :]) ** 2).sum(-1))
    return points[chosen]


def _batched_kmeans(points: np.ndarray, weights: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Lloyd's k-means from many starts at once (starts: runs × k × dims). Returns each run's final
    centres and inertia; a run that emptied a cluster gets inertia +inf."""
    centres = starts.astype(np.float64).copy()
    runs, k, dims = centres.shape
    offsets = (np.arange(runs) * k)[:, None]
    tiled = np.tile(weights, runs)
    labels = None
    for _ in range(_KMEANS_ITERATIONS + 1):
        squared = np.zeros((runs, len(points), k))  # runs × n × k
        for d in range(dims):
            squared += (points[None, :, d, None] - centres[:, None, :, d]) ** 2
        new_labels = squared.argmin(-1)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        flat = (labels + offsets).ravel()
        mass = np.bincount(flat, weights=tiled, minlength=runs * k).reshape(runs, k)
        for d in range(dims):
            sums = np.bincount(flat, weights=tiled * np.tile(points[:, d], runs), minlength=runs * k)
            centres[..., d] = np.where(mass > 0, sums.reshape(runs, k) / np.maximum(mass, 1e-300), centres[..., d])
    inertia = (weights[None, :] * np.take_along_axis(squared, labels[..., None], -1)[..., 0]).sum(1)
    counts = np.bincount((labels + offsets).ravel(), minlength=runs * k).reshape(runs, k)
    inertia[(counts == 0).any(1)] = np.inf
    return centres, inertia


def group_clustering(base_centres: np.ndarray, base_sizes: np.ndarray, k: int, last, rng: np.random.Generator):
    """Weighted k-means of the base-cluster centres into k opinion groups. With the last update's centres for
    this k: a warm start from them, as Polis does (groups follow the data, they do not jump). Without: the
    lowest-inertia result of Polis's start (the first k distinct centres) and GROUP_RESTARTS k-means++
    starts. k-means on an opinion map has many local optima of nearly equal inertia; the best of many
    depends far less on the seed than any single start does."""
    if last is not None and len(last):
        return kmeans(base_centres, _warm_centres(base_centres, np.asarray(last, dtype=np.float64), k),
                      weights=base_sizes)
    first = _distinct_first(base_centres, k)
    if len(first) < k:
        return kmeans(base_centres, first, weights=base_sizes)
    starts = np.concatenate([first[None], _plus_plus_starts(base_centres, base_sizes, k, GROUP_RESTARTS, rng)])
    centres, inertia = _batched_kmeans(base_centres, base_sizes, starts)
    best = int(np.argmin(inertia)) if np.isfinite(inertia).any() else 0
    centres, labels = kmeans(base_centres, centres[best], weights=base_sizes)
    # A fresh map numbers its groups by size, largest first; later updates keep that numbering.
    order = np.argsort(-np.bincount(labels, weights=base_sizes, minlength=len(centres)), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return centres[order], rank[labels]


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette over the points (here: base-cluster centres, unweighted, as Polis does); a point alone
    in its cluster scores 0."""
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    if n_clusters < 2:
        return -1.0
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    onehot = np.eye(n_clusters)[labels]
    sums = distances @ onehot
    counts = onehot.sum(0)
    own = labels
    own_count = counts[own] - 1
    a = np.divide(sums[np.arange(len(points)), own], own_count, out=np.zeros(len(points)), where=own_count > 0)
    others = sums / np.maximum(counts, 1)[None, :]
    others[np.arange(len(points)), own] = np.inf
    others[:, counts == 0] = np.inf
    b = others.min(1)
    denominator = np.maximum(a, b)
    scores = np.divide(b - a, denominator, out=np.zeros(len(points)), where=denominator > 0)
    scores[own_count == 0] = 0.0
    return float(scores.mean())


# --- statistics of statements ------------------------------------------------------------------------------

def proportion_z(successes, trials):
    """Polis's one-sample test of a pseudocounted rate against 1/2."""
    successes, trials = np.asarray(successes, float) + 1.0, np.asarray(trials, float) + 1.0
    return 2.0 * np.sqrt(trials) * (successes / trials - 0.5)


def two_proportion_z(successes_in, successes_out, trials_in, trials_out):
    """Polis's two-proportion z-test with a pseudocount of 1 on every count; 0 when the pooled rate is 1."""
    s_in, s_out = np.asarray(successes_in, float) + 1.0, np.asarray(successes_out, float) + 1.0
    t_in, t_out = np.asarray(trials_in, float) + 1.0, np.asarray(trials_out, float) + 1.0
    pooled = (s_in + s_out) / (t_in + t_out)
    spread = np.sqrt(np.maximum(pooled * (1.0 - pooled) * (1.0 / t_in + 1.0 / t_out), 0.0))
    return np.divide(s_in / t_in - s_out / t_out, spread, out=np.zeros(np.broadcast(s_in, t_in).shape),
                     where=spread > 0)


def _stat(statement, direction, n_votes, n_agree, n_disagree, probability, probability_z, p_value,
          repness=None, repness_z=None) -> StatementStat:
    n_votes, n_agree, n_disagree = int(n_votes), int(n_agree), int(n_disagree)
    return StatementStat(statement_id=statement, direction=direction, n_votes=n_votes, n_agree=n_agree,
                         n_disagree=n_disagree, agree_share=n_agree / n_votes if n_votes else 0.0,
                         disagree_share=n_disagree / n_votes if n_votes else 0.0,
                         probability=float(probability), probability_z=float(probability_z),
                         p_value=float(p_value), repness=None if repness is None else float(repness),
                         repness_z=None if repness_z is None else float(repness_z))


def representative_statements(agree: np.ndarray, disagree: np.ndarray, seen: np.ndarray,
                              statements: Sequence, active: np.ndarray) -> dict[int, list[StatementStat]]:
    """Per group (rows of the k × statements count arrays), up to 5 representative statements, Polis's way:
    those passing both one-sided tests, ranked by repness × repness_z × rate × rate_z, with the group's best
    agreed statement first and agreements before disagreements; when none passes, the single best one."""
    k = agree.shape[0]
    result: dict[int, list[StatementStat]] = {}
    if k == 0:
        return result
    rest_agree, rest_disagree, rest_seen = agree.sum(0) - agree, disagree.sum(0) - disagree, seen.sum(0) - seen
    pa, pd = (agree + 1.0) / (seen + 2.0), (disagree + 1.0) / (seen + 2.0)
    pat, pdt = proportion_z(agree, seen), proportion_z(disagree, seen)
    ra = pa / ((rest_agree + 1.0) / (rest_seen + 2.0))
    rd = pd / ((rest_disagree + 1.0) / (rest_seen + 2.0))
    rat = two_proportion_z(agree, rest_agree, seen, rest_seen)
    rdt = two_proportion_z(disagree, rest_disagree, seen, rest_seen)
    candidates = np.flatnonzero(active)
    for g in range(k):
        def stat(j, direction=None):
            if direction == "agree" or (direction is None and rat[g, j] > rdt[g, j]):
                return _stat(statements[j], "agree", seen[g, j], agree[g, j], disagree[g, j], pa[g, j],
                             pat[g, j], ndtr(-rat[g, j]), ra[g, j], rat[g, j])
            return _stat(statements[j], "disagree", seen[g, j], agree[g, j], disagree[g, j], pd[g, j],
                         pdt[g, j], ndtr(-rdt[g, j]), rd[g, j], rdt[g, j])

        best_agree = _best_agreed(candidates, agree[g], disagree[g], pa[g], pat[g], ra[g], rat[g])
        head = [stat(best_agree, "agree")] if best_agree is not None else []
        passes = candidates[((rat[g, candidates] > Z_90) & (pat[g, candidates] > Z_90))
                            | ((rdt[g, candidates] > Z_90) & (pdt[g, candidates] > Z_90))]
        passes = passes[passes != best_agree] if best_agree is not None else passes
        if len(passes) == 0 and not head:
            # Nothing passes and nothing is agreed: the statement with the strongest difference, if any.
            if len(candidates):
                head = [stat(candidates[np.argmax(np.maximum(rat[g, candidates], rdt[g, candidates]))])]
            result[g] = head
            continue
        if len(passes) == 0:
            result[g] = head
            continue
        agrees = rat[g, passes] > rdt[g, passes]
        metric = np.where(agrees, ra[g, passes] * rat[g, passes] * pa[g, passes] * pat[g, passes],
                          rd[g, passes] * rdt[g, passes] * pd[g, passes] * pdt[g, passes])
        top = passes[np.argsort(-metric, kind="stable")[:REPRESENTATIVE_PER_GROUP]]
        chosen = (head + [stat(j) for j in top])[:REPRESENTATIVE_PER_GROUP]
        result[g] = ([s for s in chosen if s.direction == "agree"]
                     + [s for s in chosen if s.direction == "disagree"])
    return result


def _best_agreed(candidates, agree, disagree, pa, pat, ra, rat) -> int | None:
    """Polis's "best agree" of a group, found in one pass in statement order: the first statement either
    significantly agreed (z > 1.2816) or agreed by most and more than elsewhere; then any with a higher
    rate × z, or, once the one held is agreed more than elsewhere (rate ratio > 1), a higher
    ratio × ratio-z × rate × z."""
    best = None
    best_rate_score = best_full_score = 0.0
    best_ratio = 0.0
    agree_l, disagree_l = agree[candidates].tolist(), disagree[candidates].tolist()
    pa_l, pat_l, ra_l, rat_l = (x[candidates].tolist() for x in (pa, pat, ra, rat))
    for i in range(len(candidates)):
        if agree_l[i] == 0 and disagree_l[i] == 0:
            continue
        rate_score = pa_l[i] * pat_l[i]
        full_score = ra_l[i] * rat_l[i] * rate_score
        if best is None:
            better = pat_l[i] > Z_90 or (ra_l[i] > 1.0 and pa_l[i] > 0.5)
        elif best_ratio > 1.0:
            better = full_score > best_full_score
        else:
            better = rate_score > best_rate_score
        if better:
            best, best_rate_score, best_full_score, best_ratio = i, rate_score, full_score, ra_l[i]
    return None if best is None else int(candidates[best])


def consensus_statements(agree: np.ndarray, disagree: np.ndarray, seen: np.ndarray, statements: Sequence,
                         active: np.ndarray) -> list[StatementStat]:
    """Statements most voters agree (or disagree) with: rate above 1/2 and significant, best 5 each way by
    rate × z (Polis's consensus, over every voter)."""
    chosen: list[StatementStat] = []
    for direction, successes in (("agree", agree), ("disagree", disagree)):
        rate = (successes + 1.0) / (seen + 2.0)
        z = proportion_z(successes, seen)
        eligible = np.flatnonzero(active & (rate > 0.5) & (z > Z_90))
        order = eligible[np.argsort(-(rate[eligible] * z[eligible]), kind="stable")][:CONSENSUS_PER_DIRECTION]
        chosen += [_stat(statements[j], direction, seen[j], agree[j], disagree[j], rate[j], z[j], ndtr(-z[j]))
                   for j in order]
    return chosen


def priority(agree, passes, seen, extremity):
    """Polis's weight for showing a statement next: (1 − pass rate) × (1 + extremity) × agree rate, boosted
    while a statement has few votes (×(1 + 8·2^(−votes/5))), squared."""
    agree, passes, seen = np.asarray(agree, float), np.asarray(passes, float), np.asarray(seen, float)
    not_passed = 1.0 - (passes + 1.0) / (seen + 2.0)
    importance = not_passed * (np.asarray(extremity, float) + 1.0) * (agree + 1.0) / (seen + 2.0)
    return (importance * (1.0 + 8.0 * 2.0 ** (-seen / 5.0))) ** 2


# --- the map -----------------------------------------------------------------------------------------------

def _in_conversation(matrix: _Matrix, already: set) -> np.ndarray:
    counts = np.diff(matrix.ratings.indptr)  # every vote counts, passes and excluded statements included
    n_columns = matrix.shape[1]
    inside = counts >= min(IN_CONVERSATION_VOTES, n_columns)
    if already:
        inside |= np.fromiter((p in already for p in matrix.participants), dtype=bool, count=len(inside))
    missing = GREEDY_PARTICIPANTS - int(inside.sum())
    if missing > 0:
        outside = np.flatnonzero(~inside & (counts > 0))
        top = outside[np.argsort(-counts[outside], kind="stable")][:missing]
        inside[top] = True
    return inside


def _choose_k(silhouettes: dict[int, float], previous: MapState | None) -> tuple[int, int, int]:
    """(k shown, best k now, its streak): the shown k moves to the best k only once it has won
    ``K_SWITCH_STREAK`` consecutive updates (Polis's group-k smoother)."""
    if not silhouettes:
        return 0, 0, 0
    best = max(sorted(silhouettes), key=lambda k: silhouettes[k])  # ties: the smaller k
    last_best = previous.best_k if previous is not None else 0
    streak = previous.best_k_streak + 1 if previous is not None and best == last_best else 1
    shown = previous.k if previous is not None and previous.k in silhouettes else 0
    if streak >= K_SWITCH_STREAK or not shown:
        shown = best
    return shown, best, streak


def _vote_counts(ratings: sparse.csr_matrix, members: sparse.csr_matrix):
    """(agree, disagree, seen) counts per row of ``members`` (a 0/1 groups × participants matrix)."""
    def count(values):
        indicator = sparse.csr_matrix((values.astype(np.float64), ratings.indices, ratings.indptr),
                                      shape=ratings.shape)
        return np.asarray((members @ indicator).todense())

    data = ratings.data
    return count(data < 0), count(data > 0), count(np.ones_like(data, dtype=bool))  # Polis sign: agree < 0


def compute_map(votes: Iterable, *, statements: Collection | None = None, excluded_statements: Collection = (),
                previous: MapState | None = None, seed: int = 0) -> OpinionMap:
    """The opinion map of a conversation from its votes: ``(participant_id, statement_id, vote)`` triples,
    vote 1 agree / −1 disagree / 0 pass, the last vote per pair winning. ``statements`` (optional) lists
    every statement, so that those without votes yet get a priority; ``excluded_statements`` are those
    moderated out; ``previous`` is the last update's ``state`` (warm start, sticky in-conversation set, k
    smoothing). Deterministic given ``seed``."""
    excluded = frozenset(excluded_statements)
    matrix = build_matrix(votes, statements=statements, excluded_statements=excluded, previous=previous)
    n_rows, n_columns = matrix.shape
    ratings = matrix.ratings

    means = column_means(ratings, matrix.active)
    centred = centred_matrix(ratings, matrix.active, means)
    start = None
    if previous is not None and previous.components:
        # Previous components, lined up on this update's columns (new statements start at 0).
        start = np.zeros((2, n_columns))
        old = {s: i for i, s in enumerate(previous.statements)}
        old_components = np.asarray(previous.components)
        for j, s in enumerate(matrix.statements):
            if s in old and matrix.active[j]:
                start[:, j] = old_components[:, old[s]]
    components = principal_components(centred, 2, start=start, seed=seed)
    # Polis zeroes an excluded statement's whole column, blanks included, so everyone counts as having
    # "voted" on it: a participant's n is their votes on active statements plus the excluded statements.
    active_votes = np.bincount(np.repeat(np.arange(n_rows), np.diff(ratings.indptr)),
                               weights=matrix.active[ratings.indices], minlength=n_rows)
    votes_per_row = active_votes + int((~matrix.active).sum())
    positions = project(centred, components, votes_per_row, n_columns)

    inside = _in_conversation(matrix, set(previous.in_conversation) if previous is not None else set())
    clustered_rows = np.flatnonzero(inside)
    points = positions[clustered_rows]

    # Base clusters.
    base_centres = np.zeros((0, 2))
    base_labels = np.zeros(0, dtype=np.int64)
    if len(points):
        if previous is not None and previous.base_centres:
            initial = _warm_centres(points, np.asarray(previous.base_centres, dtype=np.float64), BASE_CLUSTERS)
        else:
            # Polis seeds its base clusters with the first 100 distinct positions and then carries them
            # through every update of the conversation, so they are well settled by the time the map
            # matters; a fresh map gets there from a k-means++ start (from Polis's start it stalls in a
            # worse clustering that then sways the groups and their number).
            distinct = len(np.unique(points, axis=0))
            initial = _plus_plus_starts(points, np.ones(len(points)), min(BASE_CLUSTERS, distinct), 1,
                                        np.random.default_rng([seed, 1]))[0]
        base_centres, base_labels = kmeans(points, initial)
    base_sizes = np.bincount(base_labels, minlength=len(base_centres)).astype(np.float64)

    # Opinion groups: weighted k-means of the base centres for each k, silhouette, smoothed k.
    max_k = min(MAX_GROUPS, 2 + len(base_centres) // 12, len(base_centres))
    clusterings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    silhouettes: dict[int, float] = {}
    rng = np.random.default_rng([seed, 2])
    for k in range(2, max_k + 1):
        last = previous.group_centres.get(k) if previous is not None else None
        centres, labels = group_clustering(base_centres, base_sizes, k, last, rng)
        clusterings[k] = (centres, labels)
        silhouettes[k] = silhouette(base_centres, labels)
    k, best_k, streak = _choose_k(silhouettes, previous)
    if k:
        group_centres, group_of_base = clusterings[k]
        k = len(group_centres)  # k-means may have emptied a group
    elif len(base_centres):
        group_centres, group_of_base, k = base_centres.mean(0, keepdims=True), np.zeros(len(base_centres), int), 1
    else:
        group_centres, group_of_base = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    group_of_row = np.full(n_rows, -1, dtype=np.int64)
    group_of_row[clustered_rows] = group_of_base[base_labels] if len(clustered_rows) else []

    # Statement statistics, per group and over everyone.
    member_rows = np.flatnonzero(group_of_row >= 0)
    members = sparse.csr_matrix((np.ones(len(member_rows)), (group_of_row[member_rows], member_rows)),
                                shape=(k, n_rows))
    group_agree, group_disagree, group_seen = _vote_counts(ratings, members)
    everyone = sparse.csr_matrix(np.ones((1, n_rows)))
    all_agree, all_disagree, all_seen = (c[0] for c in _vote_counts(ratings, everyone))
    representative = representative_statements(group_agree, group_disagree, group_seen, matrix.statements,
                                               matrix.active)
    consensus = consensus_statements(all_agree, all_disagree, all_seen, matrix.statements, matrix.active)

    informed = np.prod((group_agree + 1.0) / (group_seen + 2.0), axis=0) if k else np.full(n_columns, np.nan)
    # A statement's extremity: the length of the map position of someone who agreed with it alone.
    extremity = np.linalg.norm(((-1.0 - means) * components).T, axis=1) * math.sqrt(max(n_columns, 1))
    agree_total, seen_total = group_agree.sum(0), group_seen.sum(0)
    passes_total = seen_total - agree_total - group_disagree.sum(0)
    weights = priority(agree_total, passes_total, seen_total, extremity)
    group_informed = {s: float(informed[j]) for j, s in enumerate(matrix.statements) if matrix.active[j]}
    priorities = {s: float(weights[j]) for j, s in enumerate(matrix.statements) if matrix.active[j]}
    if statements is not None:
        unvoted = [s for s in statements if s not in excluded and s not in priorities]
        fresh = float(priority(0, 0, 0, 0))
        for s in unvoted:
            priorities[s] = fresh
            group_informed[s] = 0.5 ** k

    participants = matrix.participants
    state = MapState(statements=list(matrix.statements), center=means.tolist(), components=components.tolist(),
                     in_conversation=[participants[i] for i in clustered_rows],
                     base_centres=base_centres.tolist(),
                     group_centres={kk: c.tolist() for kk, (c, _) in clusterings.items()},
                     k=k if k >= 2 else 0, best_k=best_k, best_k_streak=streak,
                     updates=(previous.updates if previous is not None else 0) + 1)
    return OpinionMap(
        k=k,
        groups={participants[i]: int(group_of_row[i]) for i in member_rows},
        coordinates={p: (float(x), float(y)) for p, (x, y) in zip(participants, positions)},
        group_sizes=dict(enumerate(np.bincount(group_of_row[member_rows], minlength=k).astype(int).tolist())),
        representative=representative, consensus=[stat.statement_id for stat in consensus],
        consensus_stats=consensus, group_informed_consensus=group_informed,
        priorities=priorities, excluded=excluded, state=state, n_participants=n_rows,
        n_clustered=len(member_rows), n_statements=int(matrix.active.sum()), silhouettes=silhouettes)


# --- what to show next -------------------------------------------------------------------------------------

def next_statement(opinion_map, voted: Collection, candidates: Iterable, rng) -> Hashable | None:
    """The statement to show a participant next: drawn among ``candidates`` they have not voted on and that
    are not excluded, with probability proportional to Polis's priority; a statement the map has not seen
    yet gets the priority of one with no votes, the highest. ``opinion_map`` is an OpinionMap, a stored
    result with a "priorities" mapping, or the mapping statement → priority itself (keys may have become
    strings through JSON). ``rng`` is anything with ``random()`` (``random.Random``,
    ``numpy.random.Generator``): the same state gives the same choice. None when nothing is left."""
    excluded: Collection = ()
    if isinstance(opinion_map, OpinionMap):
        weights, excluded = opinion_map.priorities, opinion_map.excluded
    elif isinstance(opinion_map, Mapping) and isinstance(opinion_map.get("priorities"), Mapping):
        weights, excluded = opinion_map["priorities"], opinion_map.get("excluded") or ()
    else:
        weights = opinion_map or {}
    voted = set(voted)
    excluded = set(excluded) | {str(s) for s in excluded}
    pool = [s for s in dict.fromkeys(candidates) if s not in voted and s not in excluded and str(s) not in excluded]
    if not pool:
        return None
    fresh = float(priority(0, 0, 0, 0))

    def weight(s) -> float:
        value = weights.get(s, weights.get(str(s), fresh))
        return max(float(value), 0.0)

    cumulative = np.cumsum([weight(s) for s in pool])
    if cumulative[-1] <= 0:
        return pool[min(int(rng.random() * len(pool)), len(pool) - 1)]
    draw = rng.random() * cumulative[-1]
    return pool[min(int(np.searchsorted(cumulative, draw, side="right")), len(pool) - 1)]


# --- Polis export files ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolisComment:
    id: int
    author: int | None
    moderated: int  # 1 accepted, 0 not yet moderated, −1 moderated out
    text: str
    created_ms: int | None


def _read_csv(path: Path, required: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path}: empty file, expected a header row")
            header = [name.strip() for name in header]
            missing = [name for name in required if name not in header]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(header)})")
            return header, list(reader)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason})") from error
    except csv.Error as error:
        raise ValueError(f"{path}: malformed CSV ({error})") from error


def _integer(text: str, path: Path, line: int, column: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if number.is_integer():
            return int(number)
        raise ValueError(f"{path}, row {line}: {column} {text!r} is not an integer") from None


def read_polis_export(directory) -> tuple[list[tuple[int, int, int]], dict[int, PolisComment]]:
    """Votes and comments of a Polis conversation export folder. Votes come from votes.csv (each voter's last
    vote per comment by timestamp, listed in the time order of each pair's first vote, so participants come
    in the order they arrived), or, when there is no votes.csv, from the matrix of participants-votes.csv
    (its group-id column is ignored). Votes keep Polis's export sign, which is ours: 1 agree, −1 disagree,
    0 pass. Raises ValueError naming the file and row (header = row 1) of any problem."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such directory (expected a Polis export with comments.csv and votes.csv)")
    comments_path = folder / "comments.csv"
    if not comments_path.is_file():
        raise ValueError(f"{comments_path}: missing (a Polis export has comments.csv)")
    header, rows = _read_csv(comments_path, ["comment-id", "moderated"])
    at = {name: i for i, name in enumerate(header)}
    comments: dict[int, PolisComment] = {}
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) < len(header):
            raise ValueError(f"{comments_path}, row {line}: {len(row)} fields, expected {len(header)}")
        cid = _integer(row[at["comment-id"]], comments_path, line, "comment-id")
        author = row[at["author-id"]] if "author-id" in at else ""
        created = row[at["timestamp"]] if "timestamp" in at else ""
        comments[cid] = PolisComment(
            id=cid, author=_integer(author, comments_path, line, "author-id") if author.strip() else None,
            moderated=_integer(row[at["moderated"]] or "0", comments_path, line, "moderated"),
            text=row[at["comment-body"]] if "comment-body" in at else "",
            created_ms=_integer(created, comments_path, line, "timestamp") if created.strip() else None)

    votes_path = folder / "votes.csv"
    matrix_path = folder / "participants-votes.csv"
    if votes_path.is_file():
        header, rows = _read_csv(votes_path, ["timestamp", "comment-id", "voter-id", "vote"])
        at = {name: i for i, name in enumerate(header)}
        events = []
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ValueError(f"{votes_path}, row {line}: {len(row)} fields, expected {len(header)}")
            vote = _integer(row[at["vote"]], votes_path, line, "vote")
            if vote not in (AGREE, DISAGREE, PASS):
                raise ValueError(f"{votes_path}, row {line}: vote {vote} is not 1, -1 or 0")
            events.append((_integer(row[at["timestamp"]], votes_path, line, "timestamp"), line,
                           _integer(row[at["voter-id"]], votes_path, line, "voter-id"),
                           _integer(row[at["comment-id"]], votes_path, line, "comment-id"), vote))
        events.sort()  # by time, then file order
        last = {}  # insertion order: each pair's first vote, so participants keep the order they arrived in
        for _, _, voter, comment, vote in events:
            last[(voter, comment)] = vote
        votes = [(voter, comment, vote) for (voter, comment), vote in last.items()]
    elif matrix_path.is_file():
        header, rows = _read_csv(matrix_path, ["participant"])
        comment_columns = [(i, name) for i, name in enumerate(header) if name.lstrip("-").isdigit()]
        if not comment_columns:
            raise ValueError(f"{matrix_path}: no comment-id columns after the participant columns")
        participant = header.index("participant")
        votes = []
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ValueError(f"{matrix_path}, row {line}: {len(row)} fields, expected {len(header)}")
            voter = _integer(row[participant], matrix_path, line, "participant")
            for i, name in comment_columns:
                cell = row[i].strip()
                if cell:
                    vote = _integer(cell, matrix_path, line, f"comment {name}")
                    if vote not in (AGREE, DISAGREE, PASS):
                        raise ValueError(f"{matrix_path}, row {line}: vote {vote} on comment {name} is not "
                                         f"1, -1 or 0")
                    votes.append((voter, int(name), vote))
    else:
        raise ValueError(f"{folder}: neither votes.csv nor participants-votes.csv (a Polis export has one)")
    unknown = sorted({comment for _, comment, _ in votes if comment not in comments})
    if unknown:
        raise ValueError(f"{folder}: votes on comment(s) missing from comments.csv: "
                         f"{', '.join(map(str, unknown[:10]))}")
    return votes, comments


def moderated_out(comments: Mapping[int, PolisComment]) -> set[int]:
    """The comments a Polis moderator took out (moderated = −1)."""
    return {cid for cid, comment in comments.items() if comment.moderated == -1}
