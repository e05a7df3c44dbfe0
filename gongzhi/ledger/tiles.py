"""Tile addressing for the C2SP tlog-tiles static API: paths, coverage of a tree, entry bundles.

A tile is a row of up to 256 consecutive stored hashes: the tile at tile level L, index N holds the
complete-subtree hashes at Merkle level 8·L with indexes 256·N … 256·N + W − 1 (W = 256 for a full
tile, 1…255 for the partial tile at a tree's right edge). Level 0 tiles are leaf hashes; each hash
of a level 1 tile is the root of a full level 0 tile, and so on. Entry bundles carry the entries
behind a level 0 tile, each as a big-endian uint16 length and the bytes.

Paths, as the spec fixes them: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, with N
written in 3-digit groups, all but the last prefixed with ``x`` (1234067 → ``x001/x234/067``). The
parser accepts only the one canonical spelling of each tile, so a cache or file store never holds
the same tile under two names.
"""

import re
from collections.abc import Sequence

from .merkle import HASH_SIZE

__all__ = [
    "ENTRIES",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "decode_entry_bundle",
    "decode_tile",
    "encode_entry_bundle",
    "encode_tile",
    "entries_path",
    "entry_bundles_for_size",
    "new_tiles",
    "parse_tile_path",
    "tile_coords",
    "tile_path",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
ENTRIES = "entries"

_PATH = re.compile(r"tile/(?P<level>entries|0|[1-9][0-9]*)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]*))?")


def _check_width(width: int) -> None:
    if not isinstance(width, int) or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width!r} must be between 1 and {TILE_WIDTH}")


def _encode_index(index: int) -> str:
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join(["x" + group for group in groups[:-1]] + groups[-1:])


def tile_path(level: "int | str", index: int, width: int = TILE_WIDTH) -> str:
    """The path of a tile (`level` 0…63) or, with level ``"entries"``, of an entry bundle."""
    if level != ENTRIES and (not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= MAX_TILE_LEVEL):
        raise ValueError(f"tile level {level!r} must be 0…{MAX_TILE_LEVEL} or {ENTRIES!r}")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"tile index {index!r} must be a non-negative integer")
    _check_width(width)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{_encode_index(index)}{suffix}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The path of the entry bundle behind level 0 tile `index`."""
    return tile_path(ENTRIES, index, width)


def parse_tile_path(path: str) -> tuple["int | str", int, int]:
    """(level or "entries", index, width) of a canonical tile path; ValueError for anything else."""
    match = _PATH.fullmatch(path) if isinstance(path, str) else None
    if match is None:
        raise ValueError(f"not a tile path: {path!r}")
    level: int | str = match["level"] if match["level"] == ENTRIES else int(match["level"])
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = int(match["width"]) if match["width"] else TILE_WIDTH
    if match["width"] and width >= TILE_WIDTH:
        raise ValueError(f"partial tile width must be below {TILE_WIDTH}: {path!r}")
    # Round-tripping rejects the non-canonical spellings the pattern lets through (x000/001, levels > 63).
    if tile_path(level, index, width) != path:
        raise ValueError(f"not the canonical path of its tile: {path!r}")
    return level, index, width


def tile_coords(tile_level: int, tile_index: int, width: int = TILE_WIDTH) -> list[tuple[int, int]]:
    """The (Merkle level, index) of each stored hash in a tile, in tile order."""
    _check_width(width)
    level = TILE_HEIGHT * tile_level
    first = tile_index * TILE_WIDTH
    return [(level, first + offset) for offset in range(width)]


def tiles_for_size(size: int) -> list[tuple[int, int, int]]:
    """Every tile (level, index, width) of a tree of `size` leaves: full tiles, then the partial one, per level.

    Lists the whole tree (about size / 255 tiles); use `new_tiles` to follow a growing log.
    """
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    tiles = []
    level = 0
    while (hashes := size >> (TILE_HEIGHT * level)) > 0:
        full, partial = divmod(hashes, TILE_WIDTH)
        tiles.extend((level, index, TILE_WIDTH) for index in range(full))
        if partial:
            tiles.append((level, full, partial))
        level += 1
    return tiles


def new_tiles(old_size: int, new_size: int) -> list[tuple[int, int, int]]:
    """The tiles (level, index, width) that a tree growing from `old_size` to `new_size` adds or widens.

    What a publisher must write after a checkpoint; O(log n + number of such tiles), unlike
    `tiles_for_size`, which lists the whole tree.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"a tree cannot shrink from {old_size} to {new_size}")
    tiles = []
    level = 0
    while (new_hashes := new_size >> (TILE_HEIGHT * level)) > 0:
        old_hashes = old_size >> (TILE_HEIGHT * level)
        for index in range(old_hashes // TILE_WIDTH, -(-new_hashes // TILE_WIDTH)):
            width = min(TILE_WIDTH, new_hashes - index * TILE_WIDTH)
            if width != min(TILE_WIDTH, max(0, old_hashes - index * TILE_WIDTH)):
                tiles.append((level, index, width))
        level += 1
    return tiles


def entry_bundles_for_size(size: int) -> list[tuple[int, int]]:
    """Every entry bundle (index, width) of a tree of `size` leaves."""
    return [(index, width) for level, index, width in tiles_for_size(size) if level == 0]


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    """Tile body: the hashes concatenated (8,192 bytes for a full tile)."""
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(h) != HASH_SIZE for h in hashes):
        raise ValueError(f"a tile is 1…{TILE_WIDTH} hashes of {HASH_SIZE} bytes")
    return b"".join(hashes)


def decode_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """The `width` hashes of a tile body; ValueError if the length is not exactly width × 32."""
    _check_width(width)
    if len(data) != width * HASH_SIZE:
        raise ValueError(f"tile of width {width} must be {width * HASH_SIZE} bytes, not {len(data)}")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entry bundle body: each entry as a big-endian uint16 length followed by its bytes."""
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"an entry is at most {MAX_ENTRY_SIZE} bytes, this one is {len(entry)}")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(bytes(entry))
    return b"".join(parts)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; ValueError on a truncated bundle or trailing bytes."""
    entries, position = [], 0
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise ValueError("entry bundle ends inside an entry")
        entries.append(bytes(data[position : position + length]))
        position += length
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    return entries
