"""Every error under /api/v1/ is the JSON {"code", "message"}; numbers a database cannot hold are a 4xx,
not a 500; a 500 is logged with its traceback; an anonymous write is 401 (#13 items 11 and 15)."""

import json
import logging

import pytest

from gongzhi.core.models import ApiToken

pytestmark = pytest.mark.django_db
HUGE = 2**63  # one past the largest 64-bit integer


@pytest.fixture
def token(world):
    _, raw = ApiToken.issue(world.street_official)
    return {"Authorization": f"Bearer {raw}"}


def is_house_error(response) -> bool:
    body = response.json()
    return response["Content-Type"].startswith("application/json") and set(body) >= {"code", "message"}


@pytest.mark.parametrize("url", [
    f"/api/v1/org/people?offset={HUGE}",
    f"/api/v1/org/posts?offset={HUGE}",
    f"/api/v1/org/regions?offset={HUGE}",
    f"/api/v1/org/buildings?grid={HUGE}",
    f"/api/v1/demands/?unit={HUGE}",
    f"/api/v1/demands/?offset={HUGE}",
    f"/api/v1/ledger/proof/inclusion?index={HUGE}",
])
def test_an_integer_past_64_bits_in_a_query_is_400(client, token, url):
    response = client.get(url, headers=token)
    assert response.status_code == 400, response.content
    assert is_house_error(response)


def test_an_integer_past_64_bits_in_a_path_names_nothing(client, token):
    for url in (f"/api/v1/ledger/entries/{HUGE}", f"/api/v1/deliberation/meetings/{HUGE}",
                f"/api/v1/ledger/entries/{HUGE - 1}"):
        response = client.get(url, headers=token)
        assert response.status_code == 404, (url, response.content)
        assert is_house_error(response)


@pytest.mark.parametrize("path", [
    "/ledger/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
    "/ledger/tile/entries/x999/x999/x999/x999/x999/x999/x999/999",
    "/ledger/tile/2/x999/x999/x999/x999/x999/999",
])
def test_a_tile_past_any_tree_is_404(client, db, path):
    assert client.get(path).status_code == 404


def test_unknown_paths_and_methods_under_the_api_answer_json(client, token):
    missing = client.get("/api/v1/no/such/thing", headers=token)
    assert missing.status_code == 404 and is_house_error(missing)
    wrong_method = client.delete("/api/v1/ledger/checkpoint")
    assert wrong_method.status_code == 405 and is_house_error(wrong_method)
    assert "GET" in wrong_method["Allow"]


def test_a_failure_inside_an_operation_is_a_json_500_logged_with_its_traceback(client, token, monkeypatch, caplog):
    from gongzhi.ledger import queries

    def broken():
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(queries, "latest_checkpoint", broken)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="gongzhi.api"):
        response = client.get("/api/v1/ledger/checkpoint")
    assert response.status_code == 500 and is_house_error(response)
    assert response.json()["code"] == "server_error" and "fire" not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "gongzhi.api"]
    assert logged and logged[0].exc_info and "the disk is on fire" in str(logged[0].exc_info[1])


def test_an_anonymous_api_write_is_401_not_a_csrf_refusal(world):
    from django.test import Client

    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post("/api/v1/demands/", data=json.dumps({"text": "路灯不亮"}),
                              content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    # A signed-in browser session without the CSRF token is still refused (403): CSRF guards sessions.
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(world.street_official)
    refused = signed_in.post("/api/v1/demands/", data=json.dumps({"text": "路灯不亮"}),
                             content_type="application/json")
    assert refused.status_code == 403 and is_house_error(refused)
