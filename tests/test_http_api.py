"""The JSON API over real HTTP against a running server (pytest-django's live_server)."""

import json
import urllib.error
import urllib.request

import pytest

from gongzhi.core.models import ApiToken
from gongzhi.org.models import PersonalDataAccess


def fetch(url, token=None, method="GET", body=None):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_token_scoped_api_over_http(live_server, live_world):
    _, token = ApiToken.issue(live_world.secretary_a)
    base = live_server.url + "/api/v1/org"

    status, body = fetch(f"{base}/regions?limit=50", token)
    assert status == 200
    assert {r["name"] for r in body["items"]} == {"东园社区", "东园一网格", "东园二网格"}

    status, body = fetch(f"{base}/regions/{live_world.community_b.id}", token)
    assert status == 404 and body["code"] == "not_found"

    status, body = fetch(f"{base}/people/{live_world.resident_a.id}/personal-data", token, method="POST",
                         body={"purpose": "入户走访"})
    assert status == 200 and body["phone"] == "13900001111"
    assert PersonalDataAccess.objects.filter(person=live_world.resident_a, channel="api").count() == 1


def test_errors_are_json_with_reason_over_http(live_server, live_world):
    status, body = fetch(live_server.url + "/api/v1/org/regions")
    assert status == 401 and body["code"] == "not_authenticated" and body["message"]
    _, token = ApiToken.issue(live_world.secretary_a)
    status, body = fetch(live_server.url + "/api/v1/org/posts", token, method="POST", body={"role": 3})
    assert status == 400 and body["code"] == "invalid"


def test_openapi_spec_is_served(live_server):
    status, spec = fetch(live_server.url + "/api/v1/openapi.json")
    assert status == 200
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/org/regions/{region_id}/geojson" in spec["paths"]
