"""HEAD on the ledger's public pages and C2SP endpoints answers as GET does, without the body (RFC 9110
§9.1): log monitors ask HEAD for a checkpoint's or a tile's length and caching headers."""

import pytest

from gongzhi.ledger import merkle, services, tiles
from gongzhi.ledger.models import Entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger")]


@pytest.fixture
def log(record_events):
    record_events(300)
    services.sequence_pending(batch_size=300)
    return [merkle.leaf_hash(t.encode()) for t in Entry.objects.order_by("index").values_list("text", flat=True)]


def same_answer_without_body(client, url: str) -> int:
    got, head = client.get(url), client.head(url)
    assert head.status_code == got.status_code, url
    assert head.content == b"", url
    assert head["Content-Type"] == got["Content-Type"], url
    assert set(head.headers) == set(got.headers), url
    if "Cache-Control" in got:
        assert head["Cache-Control"] == got["Cache-Control"], url
    if not got.streaming:
        assert int(head["Content-Length"]) == len(got.content), url
    return head.status_code


def test_head_on_the_ledger_page_checkpoint_and_tiles_is_get_without_the_body(client, log):
    urls = ["/ledger/", "/ledger/receipt/", "/ledger/checkpoint", "/ledger/tile/0/000",
            "/ledger/tile/0/001.p/44", "/ledger/tile/entries/000", "/api/v1/ledger/checkpoint", "/api/v1/ledger/key"]
    assert tiles.tiles_for_size(300)  # the tiles asked for exist in a log of 300
    assert {url: same_answer_without_body(client, url) for url in urls} == dict.fromkeys(urls, 200)


def test_head_of_a_missing_tile_is_404_like_get(client, log):
    assert same_answer_without_body(client, "/ledger/tile/0/009") == 404
    assert same_answer_without_body(client, "/ledger/tile/0/x999/x999/x999/x999/x999/x999/x999/999") in (400, 404)


def test_head_is_not_a_way_around_a_post_only_route(client, log):
    # HEAD is GET without a body, nothing more: where GET is refused, HEAD is too.
    assert client.post("/ledger/checkpoint").status_code == 405
    assert client.get("/api/v1/demands/submissions").status_code == 405
    assert client.head("/api/v1/demands/submissions").status_code == 405


def test_a_refusal_names_head_among_the_allowed_methods_where_get_is(client, log):
    refused = client.post("/ledger/checkpoint")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"
