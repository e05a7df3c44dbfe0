"""The log's read side: the head and checkpoints, entries, proofs, tiles and entry bundles.

Everything here is public (the log holds no personal data) and works for any tree size up to the
current head with O(log n) indexed reads per proof. Out-of-range requests raise domain errors
(400 with a reason, or 404). Range readers (`entries`, `leaf_hashes`, `checkpoints`) are the seams a
verifier or exporter pages through.
"""

from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy

from . import merkle, storage, tiles
from .models import Checkpoint, Cosignature, LogHead

TILE_WIDTH = tiles.TILE_WIDTH


class BeyondTree(ValidationFailed):
    code = "beyond_tree_size"
    base_message = gettext_lazy("Beyond the current size of the log")


def head() -> LogHead | None:
    return LogHead.objects.filter(pk=1).first()


def tree_size() -> int:
    current = head()
    return current.size if current else 0


def latest_checkpoint() -> LogHead:
    """The head with its signed checkpoint; NotFound before the first checkpoint is signed."""
    current = head()
    if current is None or not current.checkpoint:
        raise NotFound(gettext_lazy("no checkpoint has been signed yet"))
    return current


def signed_checkpoint(current: LogHead | None = None) -> str:
    """The latest checkpoint note with the witnesses' cosignature lines for its size appended."""
    current = current or latest_checkpoint()
    lines = Cosignature.objects.filter(size=current.size).order_by("id").values_list("line", flat=True)
    return current.checkpoint + "".join(lines)


def checkpoints(*, since_size: int = 0, limit: int = 1000) -> list[Checkpoint]:
    """Checkpoints in the order they were signed, from tree size `since_size` on."""
    return list(Checkpoint.objects.filter(size__gte=since_size).order_by("id")[:limit])


def _check_size(size: int | None, *, what: str = "tree_size") -> int:
    current = tree_size()
    if size is None:
        return current
    if size < 0:
        raise ValidationFailed(gettext_lazy("%(what)s must not be negative") % {"what": what}, code="negative_size")
    if size > current:
        raise BeyondTree(gettext_lazy("%(what)s %(size)s > %(current)s")
                         % {"what": what, "size": size, "current": current}, tree_size=current)
    return size


# No log grows past 2^62 entries; an index beyond it (or a tile past it) is answered 404 before it
# reaches the database, whose 64-bit integers it could overflow.
MAX_INDEX = 2**62


def _within_any_tree(first: int, what: str) -> None:
    if first >= MAX_INDEX:
        raise NotFound(gettext_lazy("%(what)s is beyond any tree") % {"what": what})


def entry(index: int) -> dict:
    if index < 0:
        raise ValidationFailed(gettext_lazy("index must not be negative"), code="negative_index")
    _within_any_tree(index, f"entry {index}")
    rows = storage.entry_texts(index, index + 1)
    if not rows:
        raise NotFound(gettext_lazy("entry %(index)s") % {"index": index}, tree_size=tree_size())
    _, text, leaf = rows[0]
    return {"index": index, "entry": text, "leaf_hash": leaf.hex()}


def entries(start: int, end: int) -> list[tuple[int, str, bytes]]:
    """(index, canonical text, leaf hash) of entries [start, end)."""
    return storage.entry_texts(start, end)


def leaf_hashes(start: int, end: int) -> list[bytes]:
    return storage.leaf_hashes(start, end)


def root_at(size: int) -> bytes:
    return merkle.root(storage.DatabaseHashSource(), _check_size(size))


def inclusion(index: int, size: int | None = None) -> dict:
    """Audit path of entry `index` in the tree of `size` (default: the current tree)."""
    size = _check_size(size)
    if not 0 <= index < size:
        raise BeyondTree(gettext_lazy("index %(index)s is not in a tree of size %(size)s")
                         % {"index": index, "size": size}, tree_size=size)
    source = storage.DatabaseHashSource(prefetch=[(0, index), *merkle.range_coords(0, size)])
    proof = merkle.inclusion_proof(source, index, size)
    leaf = source.get_hashes([(0, index)])[0]
    return {
        "index": index,
        "tree_size": size,
        "leaf_hash": leaf.hex(),
        "root": merkle.root(source, size).hex(),
        "proof": [node.hex() for node in proof],
    }


def consistency(first: int, second: int | None = None) -> dict:
    """Proof that the tree of size `second` (default: current) extends the tree of size `first`."""
    second = _check_size(second, what="second")
    if first < 0:
        raise ValidationFailed(gettext_lazy("first must not be negative"), code="negative_size")
    if first > second:
        raise ValidationFailed(gettext_lazy("first %(first)s > second %(second)s")
                               % {"first": first, "second": second}, code="first_after_second")
    source = storage.DatabaseHashSource(
        prefetch=[*(merkle.range_coords(0, first) if first else []), *(merkle.range_coords(0, second) if second else [])]
    )
    proof = merkle.consistency_proof(source, first, second)
    return {
        "first": first,
        "second": second,
        "first_root": merkle.root(source, first).hex(),
        "second_root": merkle.root(source, second).hex(),
        "proof": [node.hex() for node in proof],
    }


def by_hash(leaf_hash_hex: str, size: int | None = None) -> dict:
    """Inclusion proof of the first entry with this leaf hash (hex) in the tree of `size`."""
    try:
        leaf = bytes.fromhex(leaf_hash_hex)
    except ValueError:
        leaf = b""
    if len(leaf) != merkle.HASH_SIZE:
        raise ValidationFailed(gettext_lazy("hash must be 64 hex digits"), code="bad_hash")
    size = _check_size(size)
    index = storage.index_of_leaf(leaf, size)
    if index is None:
        raise NotFound(gettext_lazy("no entry with leaf hash %(leaf_hash_hex)s in a tree of size %(size)s")
                       % {"leaf_hash_hex": leaf_hash_hex, "size": size})
    return inclusion(index, size)


def receipt(index: int) -> dict:
    """Entry `index` with its inclusion proof in the latest signed checkpoint, and that checkpoint."""
    current = latest_checkpoint()
    if not 0 <= index < current.size:
        raise NotFound(gettext_lazy("entry %(index)s") % {"index": index}, tree_size=current.size)
    proof = inclusion(index, current.size)
    return {
        "index": index,
        "entry": storage.entry_texts(index, index + 1)[0][1],
        "leaf_hash": proof["leaf_hash"],
        "tree_size": current.size,
        "inclusion_proof": proof["proof"],
        "checkpoint": signed_checkpoint(current),
    }


# --- C2SP tlog-tiles -----------------------------------------------------------------------------


def tile(level: int, index: int, width: int | None) -> bytes:
    """The hashes of tile (level, index): `width` of them (partial tile) or TILE_WIDTH (full).

    A full tile is served only once complete; a partial one only with exactly as many hashes as
    requested exist (clients ask for the width their checkpoint implies).
    """
    want = width or TILE_WIDTH
    if level * tiles.TILE_HEIGHT >= 64:
        raise NotFound(gettext_lazy("tile level %(level)s is beyond any tree") % {"level": level})
    _within_any_tree((index + 1) * TILE_WIDTH << (level * tiles.TILE_HEIGHT), f"tile {level}/{index}")
    hashes = storage.level_hashes(level * tiles.TILE_HEIGHT, index * TILE_WIDTH, index * TILE_WIDTH + want)
    if len(hashes) < want:
        raise NotFound(gettext_lazy("tile %(level)s/%(index)s has %(hashes_count)s of %(want)s hashes")
                       % {"level": level, "index": index, "hashes_count": len(hashes), "want": want})
    return b"".join(hashes)


def entry_bundle(index: int, width: int | None) -> bytes:
    want = width or TILE_WIDTH
    _within_any_tree((index + 1) * TILE_WIDTH, f"entry bundle {index}")
    rows = storage.entry_texts(index * TILE_WIDTH, index * TILE_WIDTH + want)
    if len(rows) < want:
        raise NotFound(gettext_lazy("entry bundle %(index)s has %(rows_count)s of %(want)s entries")
                       % {"index": index, "rows_count": len(rows), "want": want})
    return tiles.encode_entry_bundle([text.encode() for _, text, _ in rows])
