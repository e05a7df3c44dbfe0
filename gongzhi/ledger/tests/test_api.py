"""The public read API: C2SP checkpoint and tiles under /ledger/, JSON proofs under /api/v1/ledger/, no login."""

import json

import pytest

from gongzhi.ledger import merkle, note, services, tiles
from gongzhi.ledger.models import Entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger")]

API = "/api/v1/ledger"


@pytest.fixture
def log(record_events):
    """A log of 600 entries sequenced in batches of 250 (checkpoints at 250, 500, 600)."""
    record_events(600)
    services.sequence_pending(batch_size=250)
    return [merkle.leaf_hash(t.encode()) for t in Entry.objects.order_by("index").values_list("text", flat=True)]


def published_verifier(client):
    return note.Verifier.from_vkey(client.get(f"{API}/key").json()["vkey"])


def verified(client, signed: str) -> note.Checkpoint:
    text, _ = note.open_note(signed, [published_verifier(client)])
    return note.parse_checkpoint(text)


def hexes(values):
    return [bytes.fromhex(v) for v in values]


def test_checkpoint_is_a_signed_note_that_verifies_with_the_published_key(client, log):
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    checkpoint = verified(client, response.content.decode())
    assert (checkpoint.size, checkpoint.root) == (600, merkle.root_from_leaf_hashes(log))


def test_json_checkpoint_and_key_need_no_login(client, log):
    body = client.get(f"{API}/checkpoint").json()
    assert body["size"] == 600 and body["origin"] == "test.gongzhi.local/ledger"
    assert bytes.fromhex(body["root"]) == verified(client, body["note"]).root
    assert client.get(f"{API}/key").json()["vkey"] == services.verifier_key()


def test_checkpoint_before_the_first_batch_is_404(client):
    assert client.get("/ledger/checkpoint").status_code == 404
    assert client.get(f"{API}/checkpoint").json()["code"] == "not_found"


def test_entry_by_index_and_beyond_the_tree(client, log):
    body = client.get(f"{API}/entries/7").json()
    assert body["index"] == 7 and bytes.fromhex(body["leaf_hash"]) == log[7] == merkle.leaf_hash(body["entry"].encode())
    assert json.loads(body["entry"])["fields"] == {"step": 7}
    response = client.get(f"{API}/entries/600")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("size", [1, 2, 3, 250, 256, 257, 500, 599, 600])
def test_inclusion_proofs_verify_for_every_leaf_of_older_and_current_trees(client, log, size):
    root = merkle.root_from_leaf_hashes(log[:size])
    for index in sorted({0, 1, size // 2, size - 2, size - 1} & set(range(size))):
        body = client.get(f"{API}/proof/inclusion", {"index": index, "tree_size": size}).json()
        assert bytes.fromhex(body["root"]) == root
        assert merkle.verify_inclusion(log[index], index, size, hexes(body["proof"]), root)


def test_inclusion_proof_defaults_to_the_current_tree(client, log):
    body = client.get(f"{API}/proof/inclusion", {"index": 5}).json()
    assert body["tree_size"] == 600


def test_a_proof_request_reads_the_head_and_then_all_hashes_at_once(client, log, django_assert_num_queries):
    with django_assert_num_queries(2):
        client.get(f"{API}/proof/inclusion", {"index": 300, "tree_size": 599})
    with django_assert_num_queries(2):
        client.get(f"{API}/proof/consistency", {"first": 300, "second": 599})


def test_consistency_of_the_empty_tree_with_itself(client, db, record_events):
    services.ensure_checkpoint()
    body = client.get(f"{API}/proof/consistency", {"first": 0, "second": 0}).json()
    assert body["proof"] == [] and bytes.fromhex(body["second_root"]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("first,second", [(1, 600), (250, 500), (250, 600), (255, 257), (7, 8), (600, 600), (3, 3)])
def test_consistency_proofs_verify_between_tree_sizes(client, log, first, second):
    body = client.get(f"{API}/proof/consistency", {"first": first, "second": second}).json()
    first_root, second_root = merkle.root_from_leaf_hashes(log[:first]), merkle.root_from_leaf_hashes(log[:second])
    assert hexes([body["first_root"], body["second_root"]]) == [first_root, second_root]
    assert merkle.verify_consistency(first, second, first_root, second_root, hexes(body["proof"]))


def test_consistency_between_two_published_checkpoints(client, log, record_events):
    old = verified(client, client.get("/ledger/checkpoint").content.decode())
    record_events(1)
    services.sequence_pending()
    new = verified(client, client.get("/ledger/checkpoint").content.decode())
    proof = client.get(f"{API}/proof/consistency", {"first": old.size, "second": new.size}).json()["proof"]
    assert new.size == 601 and merkle.verify_consistency(old.size, new.size, old.root, new.root, hexes(proof))


@pytest.mark.parametrize(
    "url,params,code",
    [
        ("proof/inclusion", {"index": 600}, "beyond_tree_size"),
        ("proof/inclusion", {"index": 3, "tree_size": 3}, "beyond_tree_size"),
        ("proof/inclusion", {"index": 0, "tree_size": 601}, "beyond_tree_size"),
        ("proof/inclusion", {"index": -1}, "invalid"),  # the document says minimum 0
        ("proof/consistency", {"first": 9, "second": 8}, "first_after_second"),
        ("proof/consistency", {"first": 1, "second": 601}, "beyond_tree_size"),
        ("proof/consistency", {"first": -1, "second": 8}, "invalid"),
        ("proof/by-hash", {"hash": "zz"}, "invalid"),  # the document's pattern: 64 hex digits
        ("proof/inclusion", {"index": "x"}, "invalid"),
    ],
)
def test_bad_proof_requests_get_400_json_with_a_reason(client, log, url, params, code):
    response = client.get(f"{API}/{url}", params)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["message"]


def test_proof_by_hash_finds_the_entry(client, log):
    body = client.get(f"{API}/proof/by-hash", {"hash": log[421].hex(), "tree_size": 500}).json()
    assert (body["index"], body["tree_size"]) == (421, 500)
    assert merkle.verify_inclusion(log[421], 421, 500, hexes(body["proof"]), merkle.root_from_leaf_hashes(log[:500]))
    missing = client.get(f"{API}/proof/by-hash", {"hash": log[550].hex(), "tree_size": 500})
    assert missing.status_code == 404


def test_receipt_by_index_verifies_against_its_checkpoint(client, log):
    receipt = client.get(f"{API}/receipts/42").json()
    checkpoint = verified(client, receipt["checkpoint"])
    assert merkle.verify_inclusion(merkle.leaf_hash(receipt["entry"].encode()), 42, checkpoint.size,
                                   hexes(receipt["inclusion_proof"]), checkpoint.root)


def test_tiles_rebuild_the_tree_of_the_checkpoint(client, log):
    size = verified(client, client.get("/ledger/checkpoint").content.decode()).size
    hashes = {}
    for level, index, width in tiles.tiles_for_size(size):
        response = client.get(f"/ledger/{tiles.tile_path(level, index, width)}")
        assert response.status_code == 200, (level, index, width)
        for offset, value in enumerate(tiles.decode_tile(response.content, width)):
            hashes[(8 * level, index * 256 + offset)] = value
    assert [hashes[(0, i)] for i in range(size)] == log
    assert hashes[(8, 0)] == merkle.root_from_leaf_hashes(log[:256])
    assert merkle.root(merkle.DictHashSource.from_leaf_hashes(hashes[(0, i)] for i in range(size)), size) == \
        merkle.root_from_leaf_hashes(log)


def test_full_tiles_are_immutable_and_partial_ones_exist_only_up_to_the_tree(client, log):
    full = client.get("/ledger/tile/0/001")
    assert "immutable" in full["Cache-Control"] and len(full.content) == 256 * 32
    partial = client.get("/ledger/tile/0/002.p/88")
    assert partial.status_code == 200 and "immutable" not in partial["Cache-Control"]
    assert client.get("/ledger/tile/0/002.p/89").status_code == 404
    assert client.get("/ledger/tile/0/002").status_code == 404
    assert client.get("/ledger/tile/1/000.p/2").content == merkle.root_from_leaf_hashes(log[:256]) + \
        merkle.root_from_leaf_hashes(log[256:512])
    assert client.get("/ledger/tile/0/x000/001").status_code == 400
    assert client.get("/ledger/tile/40/000").status_code == 404


def test_entry_bundles_hold_the_entries_behind_level_0_tiles(client, log):
    full = tiles.decode_entry_bundle(client.get("/ledger/tile/entries/000").content)
    partial = tiles.decode_entry_bundle(client.get("/ledger/tile/entries/002.p/88").content)
    assert len(full) == 256 and len(partial) == 88
    assert [merkle.leaf_hash(e) for e in full + partial] == log[:256] + log[512:600]
    assert client.get("/ledger/tile/entries/003.p/1").status_code == 404
