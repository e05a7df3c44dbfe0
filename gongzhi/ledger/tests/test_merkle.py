"""RFC 6962 Merkle math: upstream vectors and probes, and a naive reference implementation as oracle."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.ledger import merkle
from gongzhi.ledger.merkle import (
    EMPTY_ROOT,
    DictHashSource,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_coords,
    root,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

# ../shared next to the repository checkout; absent on machines without the shared data.
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "rfc6962"


def _cases(relative: str, key: str | None = None) -> list:
    path = DATA / relative
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} is absent"))]
    data = json.loads(path.read_text())
    rows = data[key] if key else data
    if isinstance(rows, dict):
        rows = sorted(rows.items(), key=lambda item: int(item[0]))
    return [pytest.param(row, id=row.get("file", str(i)) if isinstance(row, dict) else row[0]) for i, row in enumerate(rows)]


def _vectors() -> dict:
    path = DATA / "vectors.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text())


def _h(values):
    return [bytes.fromhex(v) for v in values]


@pytest.fixture(scope="module")
def upstream_tree():
    """The 8-leaf tree of the upstream test constants, stored the way the sequencer stores it."""
    leaves = [leaf_hash(bytes.fromhex(entry)) for entry in _vectors()["leaf_inputs"]]
    return leaves, DictHashSource.from_leaf_hashes(leaves)


# --- a naive implementation straight from RFC 6962 §2.1, over the whole leaf list ---------------


def naive_mth(leaves):
    return root_from_leaf_hashes(leaves)


def _k(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_path(m, leaves):
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return naive_path(m, leaves[:k]) + [naive_mth(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [naive_mth(leaves[:k])]


def naive_subproof(m, leaves, whole):
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, leaves[:k], whole) + [naive_mth(leaves[k:])]
    return naive_subproof(m - k, leaves[k:], False) + [naive_mth(leaves[:k])]


def naive_proof(m, leaves):
    return naive_subproof(m, leaves, True)


def make_leaves(n):
    return [leaf_hash(b"entry %d" % i) for i in range(n)]


class RecordingSource(DictHashSource):
    def get_hashes(self, coords):
        self.requested = list(coords)
        return super().get_hashes(coords)


# --- upstream vectors --------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("vectors.json", "hasher_vectors"))
def test_hasher_matches_upstream_vector(case):
    want = bytes.fromhex(case["want"])
    if case["op"] == "empty_root":
        assert EMPTY_ROOT == want
    elif case["op"] == "leaf":
        assert leaf_hash(bytes.fromhex(case["input_hex"])) == want
    else:
        assert node_hash(bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"])) == want


def test_stored_hashes_of_upstream_tree_match_node_hashes_by_level(upstream_tree):
    _, source = upstream_tree
    for level, hashes in enumerate(_vectors()["node_hashes_by_level"]):
        for index, want in enumerate(hashes):
            assert source.hashes[(level, index)].hex() == want
    assert len(source.hashes) == 8 + 4 + 2 + 1


@pytest.mark.parametrize("case", _cases("vectors.json", "root_hashes_by_tree_size"))
def test_root_of_every_prefix_matches_upstream(case, upstream_tree):
    leaves, source = upstream_tree
    size, want = int(case[0]), case[1]
    assert root(source, size).hex() == want
    assert root_from_leaf_hashes(leaves[:size]).hex() == want


@pytest.mark.parametrize(
    "case", _cases("vectors.json", "inclusion_proofs") + _cases("vectors.json", "derived_all_inclusion_proofs")
)
def test_inclusion_proof_matches_upstream_and_verifies(case, upstream_tree):
    leaves, source = upstream_tree
    index, size = case["leaf_index"], case["tree_size"]
    proof = inclusion_proof(source, index, size)
    assert [p.hex() for p in proof] == case["proof"]
    assert verify_inclusion(leaves[index], index, size, proof, root(source, size))


@pytest.mark.parametrize(
    "case", _cases("vectors.json", "consistency_proofs") + _cases("vectors.json", "derived_all_consistency_proofs")
)
def test_consistency_proof_matches_upstream_and_verifies(case, upstream_tree):
    _, source = upstream_tree
    first, second = case["size1"], case["size2"]
    proof = consistency_proof(source, first, second)
    assert [p.hex() for p in proof] == case["proof"]
    assert verify_consistency(first, second, root(source, first), root(source, second), proof)


@pytest.mark.parametrize("case", _cases("probes/inclusion_probes.json"))
def test_inclusion_probe_verdict_matches_upstream(case):
    ok = verify_inclusion(
        bytes.fromhex(case["leafHash"]), case["leafIdx"], case["treeSize"], _h(case["proof"]), bytes.fromhex(case["root"])
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("case", _cases("probes/consistency_probes.json"))
def test_consistency_probe_verdict_matches_upstream(case):
    ok = verify_consistency(
        case["size1"], case["size2"], bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"]), _h(case["proof"])
    )
    assert ok is (not case["wantErr"]), case["desc"]


# --- ranges and roots --------------------------------------------------------------------------


def test_range_coords_lists_complete_subtrees_largest_first():
    assert range_coords(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert range_coords(4, 7) == [(1, 2), (0, 6)]
    assert range_coords(8, 16) == [(3, 1)]
    assert range_coords(5, 6) == [(0, 5)]


@pytest.mark.parametrize("start,end", [(1, 4), (2, 6), (3, 3), (4, 2), (-1, 2)])
def test_range_coords_refuses_ranges_that_are_not_rfc_subtrees(start, end):
    with pytest.raises(ValueError):
        range_coords(start, end)


def test_empty_tree_root_is_sha256_of_nothing_and_needs_no_fetch():
    source = DictHashSource()
    assert root(source, 0) == EMPTY_ROOT == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert source.calls == 0


def test_plain_callable_works_as_a_hash_reader():
    source = DictHashSource.from_leaf_hashes(make_leaves(13))
    reader = lambda level, index: source.hashes[(level, index)]  # noqa: E731
    assert root(reader, 13) == root(source, 13)
    assert inclusion_proof(reader, 5, 13) == inclusion_proof(source, 5, 13)
    assert consistency_proof(reader, 6, 13) == consistency_proof(source, 6, 13)


@pytest.mark.parametrize("index,size", [(0, 0), (3, 3), (-1, 4)])
def test_inclusion_proof_refuses_index_outside_tree(index, size):
    with pytest.raises(ValueError):
        inclusion_proof(DictHashSource.from_leaf_hashes(make_leaves(4)), index, size)


def test_consistency_proof_from_empty_or_same_size_is_empty_and_backwards_is_refused():
    source = DictHashSource.from_leaf_hashes(make_leaves(4))
    assert consistency_proof(source, 0, 4) == []
    assert consistency_proof(source, 4, 4) == []
    with pytest.raises(ValueError):
        consistency_proof(source, 4, 3)


# --- against the naive implementation ----------------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=sizes)
def test_inclusion_proof_from_stored_hashes_equals_naive_path_with_one_fetch(data, size):
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves = make_leaves(size)
    source = RecordingSource(DictHashSource.from_leaf_hashes(leaves).hashes)
    proof = inclusion_proof(source, index, size)
    assert proof == naive_path(index, leaves)
    assert source.calls <= 1 and len(getattr(source, "requested", [])) <= 2 * size.bit_length()
    assert verify_inclusion(leaves[index], index, size, proof, naive_mth(leaves))
    if size > 1:
        assert not verify_inclusion(leaves[index], index ^ 1, size, proof, naive_mth(leaves))
        assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, naive_mth(leaves))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), second=sizes)
def test_consistency_proof_from_stored_hashes_equals_naive_proof_with_one_fetch(data, second):
    first = data.draw(st.integers(min_value=1, max_value=second))
    leaves = make_leaves(second)
    source = RecordingSource(DictHashSource.from_leaf_hashes(leaves).hashes)
    proof = consistency_proof(source, first, second)
    assert proof == naive_proof(first, leaves)
    assert source.calls <= 1 and len(getattr(source, "requested", [])) <= 2 * second.bit_length() + 1
    first_root, second_root = naive_mth(leaves[:first]), naive_mth(leaves)
    assert verify_consistency(first, second, first_root, second_root, proof)
    if first < second:
        assert not verify_consistency(first, second, leaf_hash(b"forged"), second_root, proof)
        assert not verify_consistency(first, second, first_root, second_root, proof[:-1])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), size=sizes)
def test_subtree_root_of_aligned_range_equals_naive_mth(data, size):
    leaves = make_leaves(size)
    source = DictHashSource.from_leaf_hashes(leaves)
    level = data.draw(st.integers(min_value=0, max_value=size.bit_length() - 1))
    start = data.draw(st.integers(min_value=0, max_value=(size - 1) >> level)) << level
    end = data.draw(st.integers(min_value=start + 1, max_value=min(size, start + (1 << level))))
    assert subtree_root(source, start, end) == naive_mth(leaves[start:end])


def test_tampered_proof_node_fails_verification():
    leaves = make_leaves(11)
    source = DictHashSource.from_leaf_hashes(leaves)
    proof = inclusion_proof(source, 6, 11)
    tampered = [proof[0][:-1] + bytes([proof[0][-1] ^ 1])] + proof[1:]
    assert verify_inclusion(leaves[6], 6, 11, proof, root(source, 11))
    assert not verify_inclusion(leaves[6], 6, 11, tampered, root(source, 11))


def test_verifiers_return_false_rather_than_raise_on_junk():
    good = leaf_hash(b"x")
    assert verify_inclusion(b"short", 0, 1, [], b"short") is False
    assert verify_inclusion(good, 0, 1, ["not bytes"], good) is False
    assert verify_inclusion(good, -1, 1, [], good) is False
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []) is False
    assert verify_consistency(2, 1, good, good, [good]) is False
    assert verify_consistency(1, 2, good, good, [b"short"]) is False


# --- Frontier ----------------------------------------------------------------------------------


def all_complete_subtrees(leaves):
    """{(level, index): MTH} for every complete subtree, computed naively."""
    out, level = {}, 0
    while (1 << level) <= len(leaves):
        width = 1 << level
        for index in range(len(leaves) // width):
            out[(level, index)] = naive_mth(leaves[index * width : (index + 1) * width])
        level += 1
    return out


def test_frontier_stores_every_complete_subtree_and_tracks_root_at_every_size():
    leaves = make_leaves(300)
    frontier, stored = Frontier(), {}
    assert frontier.root() == EMPTY_ROOT and frontier.size == 0
    for n, leaf in enumerate(leaves, start=1):
        created = frontier.append(leaf)
        assert created[0] == (0, n - 1, leaf)
        assert len(created) <= n.bit_length()
        for level, index, value in created:
            assert (level, index) not in stored, "a complete subtree is written once"
            stored[(level, index)] = value
        assert frontier.size == n
        assert frontier.root() == naive_mth(leaves[:n])
        if n in (1, 2, 3, 7, 8, 100, 255, 256, 257, 300):
            assert stored == all_complete_subtrees(leaves[:n])
    assert stored == all_complete_subtrees(leaves)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=0, max_value=300))
def test_frontier_survives_json_and_rebuilds_from_stored_hashes(size):
    leaves = make_leaves(size)
    source = DictHashSource()
    frontier = Frontier()
    for leaf in leaves:
        source.store(frontier.append(leaf))
    reloaded = Frontier.from_json(frontier.to_json())
    assert reloaded == frontier and reloaded.root() == frontier.root()
    assert Frontier.from_json(json.loads(frontier.to_json())) == frontier
    rebuilt = Frontier.from_source(source, size)
    assert rebuilt == frontier and source.calls <= 1
    extra = leaf_hash(b"next")
    assert reloaded.append(extra) == frontier.append(extra)


@pytest.mark.parametrize(
    "stored", ['{"size": 3, "hashes": []}', '{"size": 1, "hashes": ["00"]}', '{"hashes": []}', '{"size": "1", "hashes": []}']
)
def test_frontier_from_json_refuses_inconsistent_data(stored):
    with pytest.raises(ValueError):
        Frontier.from_json(stored)


def test_module_has_no_django_dependency():
    assert "django" not in merkle.__dict__ and "django" not in open(merkle.__file__).read()
