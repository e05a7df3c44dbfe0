"""RFC 6962 Merkle tree math (SHA-256): hashes, roots, inclusion and consistency proofs, append.

Pure functions over plain bytes; storage is reached only through a `HashSource`.

Storage model. The log stores the hash of every *complete* subtree, addressed by (level, index):
level 0 index i is leaf hash i; level L index N is the hash of leaves [N·2^L, (N+1)·2^L). A stored
hash never changes once written, so a tree of any size can be rebuilt from them: the root of size n
is the fold of the O(log n) complete subtrees that tile [0, n), and every node of every RFC 6962
proof is the root of a range that decomposes the same way. Each proof function therefore works in
three steps — list the coordinates it needs, fetch them with ONE `get_hashes` call (one database
query of O(log n) rows), combine — so a slow store costs one round trip, not log n of them.

`Frontier` is the write side: the compact range of the right edge, which tells the sequencer which
new complete subtrees each appended leaf creates.

Verification (`verify_inclusion`, `verify_consistency`) follows RFC 9162 §2.1.3.2 / §2.1.4.2 and
the edge-case semantics of transparency-dev/merkle (see /work/shared/data/rfc6962/README.md):
a leaf hash, root or proof node that is not 32 bytes is rejected (except that two equal sizes
only need an empty proof and byte-equal roots), a consistency proof from size 0 is never accepted,
and bad input yields False, never an exception.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "DictHashSource",
    "Frontier",
    "HashReader",
    "HashSource",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_coords",
    "root",
    "root_from_leaf_hashes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]  # (level, index)


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 ‖ d) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """MTH of an interior node = SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split_point(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), where RFC 6962 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the recursive definition: the reference the fast paths are checked against."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split_point(n)
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


# --- storage ---------------------------------------------------------------------------------

HashReader = Callable[[int, int], bytes]
"""A plain `get(level, index) -> bytes` callable; accepted wherever a HashSource is (one call per hash)."""


@runtime_checkable
class HashSource(Protocol):
    """Batch access to stored complete-subtree hashes.

    `get_hashes` returns the hashes in the order of `coords` (duplicates allowed) and raises
    (KeyError or a storage error) if one is missing: a missing hash is a broken log, not a proof
    failure.
    """

    def get_hashes(self, coords: list[Coord]) -> list[bytes]: ...


class DictHashSource:
    """In-memory HashSource over {(level, index): hash}; counts batch calls so tests can check them."""

    def __init__(self, hashes: dict[Coord, bytes] | None = None):
        self.hashes: dict[Coord, bytes] = dict(hashes or {})
        self.calls = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> "DictHashSource":
        """Every complete-subtree hash of the tree with these leaves, as the sequencer stores them."""
        frontier = Frontier()
        source = cls()
        for leaf in leaf_hashes:
            source.store(frontier.append(leaf))
        return source

    def store(self, new_hashes: Iterable[tuple[int, int, bytes]]) -> None:
        """Keep the (level, index, hash) triples returned by `Frontier.append`."""
        for level, index, value in new_hashes:
            self.hashes[(level, index)] = value

    def get_hashes(self, coords: list[Coord]) -> list[bytes]:
        self.calls += 1
        return [self.hashes[coord] for coord in coords]


def _fetch(source: HashSource | HashReader, coords: list[Coord]) -> list[bytes]:
    if not coords:
        return []
    if isinstance(source, HashSource):
        hashes = list(source.get_hashes(list(coords)))
    else:
        hashes = [source(level, index) for level, index in coords]
    if len(hashes) != len(coords):
        raise ValueError(f"hash source returned {len(hashes)} hashes for {len(coords)} coordinates")
    return hashes


# --- ranges of the tree ------------------------------------------------------------------------


def range_coords(start: int, end: int) -> list[Coord]:
    """The complete subtrees, left to right, that make up MTH(D[start:end]) in RFC 6962 split order.

    They are the binary decomposition of end - start: largest first. That matches the RFC's split
    (largest power of two < n on the left) only when those pieces sit on stored boundaries, which
    holds when `start` is a multiple of the largest piece — true of every range a root or proof
    needs. Other ranges raise ValueError rather than silently return a different hash.
    """
    if not 0 <= start < end:
        raise ValueError(f"need 0 <= start < end, got [{start}, {end})")
    top = 1 << ((end - start).bit_length() - 1)
    if start % top:
        raise ValueError(f"[{start}, {end}) is not made of stored complete subtrees")
    coords = []
    position = start
    for level in range(top.bit_length() - 1, -1, -1):
        if (end - position) >> level:
            coords.append((level, position >> level))
            position += 1 << level
    return coords


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive complete subtrees, largest first: they nest to the right."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _ranges_to_hashes(source: HashSource | HashReader, ranges: list[tuple[int, int]]) -> list[bytes]:
    """MTH of each range, with a single fetch for all of them."""
    coords_per_range = [range_coords(start, end) for start, end in ranges]
    fetched = _fetch(source, [coord for coords in coords_per_range for coord in coords])
    hashes, offset = [], 0
    for coords in coords_per_range:
        hashes.append(_fold(fetched[offset : offset + len(coords)]))
        offset += len(coords)
    return hashes


def subtree_root(source: HashSource | HashReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from stored hashes (end > start; see `range_coords` for which ranges)."""
    return _ranges_to_hashes(source, [(start, end)])[0]


def root(source: HashSource | HashReader, size: int) -> bytes:
    """MTH(D[size]): the tree head's root hash."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    if size == 0:
        return EMPTY_ROOT
    return subtree_root(source, 0, size)


# --- proofs ------------------------------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Ranges whose MTHs form PATH(index, D[size]) (RFC 6962 §2.1.1), in proof order."""
    siblings = []  # found top-down; PATH lists them bottom-up
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if index < lo + k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo = lo + k
    return siblings[::-1]


def inclusion_proof(source: HashSource | HashReader, index: int, size: int) -> list[bytes]:
    """The audit path PATH(index, D[size]) of RFC 6962 §2.1.1; ValueError unless 0 <= index < size."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _ranges_to_hashes(source, _inclusion_ranges(index, size))


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Ranges whose MTHs form PROOF(first, D[second]) (RFC 6962 §2.1.2), in proof order."""
    siblings = []  # top-down; SUBPROOF appends each after recursing, so they come out bottom-up
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split_point(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    # SUBPROOF(m, D[m], b): nothing if this is the old tree itself, else the old subtree's MTH.
    head = [] if whole else [(lo, hi)]
    return head + siblings[::-1]


def consistency_proof(source: HashSource | HashReader, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 §2.1.2.

    Empty when first == second, and also when first == 0: the RFC defines proofs only for
    0 < first < second and every tree extends the empty one (verifiers still refuse size 0).
    ValueError unless 0 <= first <= second.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []
    return _ranges_to_hashes(source, _consistency_ranges(first, second))


def _all_hashes(*hashes: bytes) -> bool:
    return all(isinstance(h, (bytes, bytearray)) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Does `proof` show the leaf with this hash at `index` in the tree of `size` with `root`? (RFC 9162 §2.1.3.2)"""
    if not (0 <= index < size) or not _all_hashes(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                # fn is the last node of its level with no sibling: climb until it is a right child.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Does `proof` show the tree (second, second_root) extends (first, first_root)? (RFC 9162 §2.1.4.2)"""
    if first <= 0 or second < first:
        return False
    if first == second:
        # Nothing to compute: upstream compares the roots as given, whatever their length.
        return not proof and first_root == second_root
    if not proof or not _all_hashes(first_root, second_root, *proof):
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # the old tree is a complete subtree: its root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# --- appending ---------------------------------------------------------------------------------


class Frontier:
    """The right edge of the tree: the hashes of its maximal complete subtrees, largest first.

    A tree of size n has one such subtree per set bit of n, so the frontier is O(log n) hashes, yet
    it is all the sequencer needs to append: each new leaf merges with equal-sized neighbours, and
    every merge is a newly complete subtree to store.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if size < 0:
            raise ValueError(f"negative tree size {size}")
        levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
        if len(levels) != len(hashes) or not _all_hashes(*hashes):
            raise ValueError(f"a tree of size {size} needs {len(levels)} frontier hashes of {HASH_SIZE} bytes")
        self._size = size
        self._nodes: list[tuple[int, bytes]] = [(level, bytes(h)) for level, h in zip(levels, hashes)]

    @property
    def size(self) -> int:
        return self._size

    @property
    def nodes(self) -> list[tuple[int, bytes]]:
        """(level, hash) of each maximal complete subtree, left (largest) to right."""
        return list(self._nodes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the complete subtrees it completes as (level, index, hash), leaf first."""
        if not _all_hashes(leaf_hash):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index = self._size
        level, value = 0, bytes(leaf_hash)
        created = [(0, index, value)]
        while self._nodes and self._nodes[-1][0] == level:
            _, left = self._nodes.pop()
            value = node_hash(left, value)
            level += 1
            created.append((level, index >> level, value))
        self._nodes.append((level, value))
        self._size += 1
        return created

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        return _fold([value for _, value in self._nodes])

    def to_json(self) -> str:
        """Compact JSON text {"size": n, "hashes": [hex, …]} to store beside the tree head."""
        return json.dumps(
            {"size": self._size, "hashes": [value.hex() for _, value in self._nodes]}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, data: "str | bytes | dict") -> "Frontier":
        """Inverse of `to_json`; also takes the already-decoded dict (e.g. from a JSONField)."""
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        try:
            size, hex_hashes = data["size"], data["hashes"]
            if not isinstance(size, int) or isinstance(size, bool) or not isinstance(hex_hashes, list):
                raise TypeError
            hashes = [bytes.fromhex(value) for value in hex_hashes]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a stored frontier: {data!r}") from error
        return cls(size, hashes)

    @classmethod
    def from_source(cls, source: HashSource | HashReader, size: int) -> "Frontier":
        """Rebuild the frontier of a stored tree of `size` leaves (one fetch)."""
        if size < 0:
            raise ValueError(f"negative tree size {size}")
        return cls(size, _fetch(source, range_coords(0, size)) if size else [])

    def __eq__(self, other):
        return isinstance(other, Frontier) and (self._size, self._nodes) == (other._size, other._nodes)

    def __repr__(self):
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}…)"
