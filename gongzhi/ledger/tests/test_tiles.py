"""tlog-tiles addressing: the spec's examples, canonical paths, tile contents against the Merkle tree."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.ledger.merkle import DictHashSource, leaf_hash, subtree_root
from gongzhi.ledger.tiles import (
    ENTRIES,
    TILE_WIDTH,
    decode_entry_bundle,
    decode_tile,
    encode_entry_bundle,
    encode_tile,
    entries_path,
    entry_bundles_for_size,
    new_tiles,
    parse_tile_path,
    tile_coords,
    tile_path,
    tiles_for_size,
)


def test_index_is_written_in_three_digit_groups_as_in_the_spec():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 0) == "tile/0/000"
    assert tile_path(1, 999) == "tile/1/999"
    assert tile_path(1, 1000) == "tile/1/x001/000"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert entries_path(1234067) == "tile/entries/x001/x234/067"
    assert entries_path(3, 112) == "tile/entries/003.p/112"


def test_parse_reads_back_the_spec_examples():
    assert parse_tile_path("tile/0/x001/x234/067") == (0, 1234067, 256)
    assert parse_tile_path("tile/entries/x001/x234/067.p/5") == (ENTRIES, 1234067, 5)
    assert parse_tile_path("tile/63/000") == (63, 0, 256)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",  # index not zero-padded
        "tile/0/0001",  # four digits
        "tile/00/000",  # level with leading zero
        "tile/64/000",  # level above 63
        "tile/0/x000/001",  # leading zero group
        "tile/0/001/x234",  # x on the last group
        "tile/0/x001/234/067",  # missing x on an inner group
        "tile/0/000.p/0",  # empty partial tile
        "tile/0/000.p/256",  # "partial" full tile
        "tile/0/000.p/012",  # width with leading zero
        "tile/0/000.p/",
        "tile/data/000",
        "/tile/0/000",
        "tile/0/000/",
        "tile/-1/000",
        "tile/0/٠٠٠",  # Arabic-Indic digits
    ],
)
def test_parse_refuses_non_canonical_paths(path):
    with pytest.raises(ValueError):
        parse_tile_path(path)


@given(
    level=st.one_of(st.integers(min_value=0, max_value=63), st.just(ENTRIES)),
    index=st.integers(min_value=0, max_value=2**64),
    width=st.integers(min_value=1, max_value=256),
)
def test_every_tile_path_parses_back_to_its_tile(level, index, width):
    assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)


@pytest.mark.parametrize("level,index,width", [(64, 0, 256), (-1, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257), ("data", 0, 256)])
def test_tile_path_refuses_impossible_tiles(level, index, width):
    with pytest.raises(ValueError):
        tile_path(level, index, width)


def test_tree_of_70000_has_the_tiles_the_spec_lists():
    tiles = tiles_for_size(70_000)
    level0 = [t for t in tiles if t[0] == 0]
    assert len(level0) == 274 and level0[-1] == (0, 273, 112)
    assert all(width == 256 for _, _, width in level0[:-1])
    assert [t for t in tiles if t[0] == 1] == [(1, 0, 256), (1, 1, 17)]
    assert [t for t in tiles if t[0] == 2] == [(2, 0, 1)]
    assert len(tiles) == 277


def test_tree_of_256_is_one_full_tile_and_a_partial_level_1_tile():
    assert tiles_for_size(256) == [(0, 0, 256), (1, 0, 1)]
    assert tiles_for_size(0) == []
    assert entry_bundles_for_size(257) == [(0, 256), (1, 1)]


@given(size=st.integers(min_value=0, max_value=300_000))
def test_tiles_cover_every_stored_hash_exactly_once_at_tile_levels(size):
    tiles = tiles_for_size(size)
    for level in range(4):
        widths = sum(width for tile_level, _, width in tiles if tile_level == level)
        assert widths == size >> (8 * level)
    assert all(1 <= width <= 256 for _, _, width in tiles)
    assert len(set((level, index) for level, index, _ in tiles)) == len(tiles)


@given(sizes=st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=6))
def test_new_tiles_of_each_growth_step_rebuild_the_final_tile_set(sizes):
    sizes = sorted(sizes)
    assert new_tiles(0, sizes[0]) == tiles_for_size(sizes[0])
    latest = {(level, index): width for level, index, width in tiles_for_size(sizes[0])}
    for old, new in zip(sizes, sizes[1:]):
        for level, index, width in new_tiles(old, new):
            assert width > latest.get((level, index), 0), "only added or widened tiles"
            latest[(level, index)] = width
    assert sorted((level, index, width) for (level, index), width in latest.items()) == sorted(tiles_for_size(sizes[-1]))


def test_new_tiles_of_one_more_leaf_touch_one_tile_per_level():
    assert new_tiles(255, 256) == [(0, 0, 256), (1, 0, 1)]
    assert new_tiles(256, 257) == [(0, 1, 1)]
    assert new_tiles(5, 5) == []
    with pytest.raises(ValueError):
        new_tiles(6, 5)


def test_tile_coords_address_merkle_level_eight_times_tile_level():
    assert tile_coords(0, 0, 3) == [(0, 0), (0, 1), (0, 2)]
    assert tile_coords(1, 2, 2) == [(8, 512), (8, 513)]
    assert len(tile_coords(2, 0)) == 256


def test_level_1_tile_hashes_are_roots_of_full_level_0_tiles():
    size = 3 * 256 + 5
    source = DictHashSource.from_leaf_hashes(leaf_hash(b"%d" % i) for i in range(size))
    for level, index, width in tiles_for_size(size):
        hashes = source.get_hashes(tile_coords(level, index, width))
        assert decode_tile(encode_tile(hashes), width) == hashes
        if level == 1:
            for offset, value in enumerate(hashes):
                tile0 = index * TILE_WIDTH + offset
                assert value == subtree_root(source, tile0 * 256, (tile0 + 1) * 256)


def test_tile_bodies_must_be_whole_hashes():
    with pytest.raises(ValueError):
        decode_tile(b"\x00" * 33, 1)
    with pytest.raises(ValueError):
        encode_tile([b"\x00" * 31])
    with pytest.raises(ValueError):
        encode_tile([])


def test_entry_bundle_is_uint16_length_prefixed():
    assert encode_entry_bundle([b"a", b"", "街".encode()]) == b"\x00\x01a\x00\x00\x00\x03\xe8\xa1\x97"
    assert decode_entry_bundle(b"\x00\x01a\x00\x00") == [b"a", b""]


@given(entries=st.lists(st.binary(max_size=300), max_size=256))
def test_entry_bundles_round_trip(entries):
    assert decode_entry_bundle(encode_entry_bundle(entries)) == entries


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x02a", b"\x00\x01ab"])
def test_truncated_or_overlong_bundles_are_refused(data):
    with pytest.raises(ValueError):
        decode_entry_bundle(data)


def test_entries_beyond_uint16_or_more_than_a_tile_are_refused():
    with pytest.raises(ValueError):
        encode_entry_bundle([b"x" * 65_536])
    assert len(encode_entry_bundle([b"x" * 65_535])) == 65_537
    with pytest.raises(ValueError):
        encode_entry_bundle([b""] * 257)
