"""Rate limits on filing demands: per user and per address, on the web form, the JSON API, the WSGI fast
path and Open311; a 429 with Retry-After and the reason as JSON (or the page again for people)."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.demands import fastpath, services
from gongzhi.demands.models import Demand, Submission

from .factories import IN_A1, THURSDAY_9AM

pytestmark = pytest.mark.django_db
FILE = "/api/v1/demands/"
SUBMISSIONS = "/api/v1/demands/submissions"


@pytest.fixture
def limits(settings):
    settings.GONGZHI_RATE_LIMITS = {**settings.GONGZHI_RATE_LIMITS,
                                    "file_demand": {"user": "2/h", "address": "3/h"},
                                    "open311_request": {"user": "2/h", "address": "100/h"}}
    return settings.GONGZHI_RATE_LIMITS


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user)
    return {"Authorization": f"Bearer {raw}"}


def demand(text="小区门口垃圾堆了三天没人清运") -> str:
    return json.dumps({"text": text, "longitude": IN_A1[0], "latitude": IN_A1[1]})


def file(client, headers, address="203.0.113.20", url=FILE):
    with clock.frozen_at(THURSDAY_9AM):
        return client.post(url, demand(), content_type="application/json", headers=headers, REMOTE_ADDR=address)


def test_a_resident_past_the_limit_gets_429_with_retry_after_and_the_reason(client, dw, limits):
    headers = bearer(dw.resident)
    assert [file(client, headers).status_code for _ in range(2)] == [201, 201]
    refused = file(client, headers, address="198.51.100.1")  # another address does not help: per user
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    body = refused.json()
    assert body["code"] == "rate_limited" and body["details"]["scope"] == "user"
    assert body["details"]["limit"] == "2/h" and body["details"]["retry_after"] == int(refused["Retry-After"])
    assert Demand.objects.count() == 2
    # Another resident is not held back by the first one's count.
    assert file(client, bearer(dw.other_resident), address="198.51.100.1").status_code == 201


def test_one_address_past_its_limit_is_refused_whoever_files(client, dw, limits):
    assert file(client, bearer(dw.resident)).status_code == 201
    assert file(client, bearer(dw.other_resident)).status_code == 201
    assert file(client, bearer(dw.grid_worker)).status_code == 201
    refused = file(client, bearer(dw.dispatcher))
    assert refused.status_code == 429 and refused.json()["details"]["scope"] == "address"
    assert file(client, bearer(dw.dispatcher), address="192.0.2.77").status_code == 201


def test_the_fast_path_counts_a_submission_once_and_django_answers_the_refusal(
        dw, limits, keep_the_test_connection):
    app = fastpath.wrap(WSGIHandler())
    headers = bearer(dw.resident)

    def submit():
        body = demand().encode()
        started = {}
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": SUBMISSIONS, "CONTENT_TYPE": "application/json",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "HTTP_HOST": "testserver",
                   "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
                   "REMOTE_ADDR": "203.0.113.30", "HTTP_AUTHORIZATION": headers["Authorization"]}
        with clock.frozen_at(THURSDAY_9AM):
            out = b"".join(app(environ, lambda status, hdrs: started.update(status=status, headers=dict(hdrs))))
        return started["status"], started["headers"], json.loads(out)

    assert [submit()[0] for _ in range(2)] == ["202 Accepted"] * 2
    status, headers_out, body = submit()
    assert status.startswith("429") and body["code"] == "rate_limited"
    assert int(headers_out["Retry-After"]) > 0
    assert Submission.objects.count() == 2


def test_the_api_and_the_fast_path_share_one_count(client, dw, limits):
    headers = bearer(dw.resident)
    assert file(client, headers, url=SUBMISSIONS).status_code == 202
    assert file(client, headers).status_code == 201
    assert file(client, headers, url=SUBMISSIONS).status_code == 429


def test_the_web_form_past_the_limit_shows_the_reason_with_429(client, dw, limits):
    client.force_login(dw.resident)
    form = {"text": "楼道灯坏了", "longitude": IN_A1[0], "latitude": IN_A1[1]}
    for _ in range(2):
        with clock.frozen_at(THURSDAY_9AM):
            client.post("/demands/new/", form, REMOTE_ADDR="203.0.113.40")
    with clock.frozen_at(THURSDAY_9AM):
        refused = client.post("/demands/new/", form, REMOTE_ADDR="203.0.113.40")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "请求过于频繁" in page and "每个账号每小时最多 2 次" in page
    assert client.get("/demands/new/", REMOTE_ADDR="203.0.113.40").status_code == 200  # reading is not limited


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_client_past_its_limit_gets_429_in_its_format(client, dw, limits, fmt):
    _, key = services.issue_open311_key("东城随手拍", contact="ops@example.org")
    post = {"api_key": key, "service_code": "environment.garbage", "lat": IN_A1[1], "long": IN_A1[0],
            "description": "小区门口垃圾堆了三天没人清运"}
    with clock.frozen_at(THURSDAY_9AM):
        answers = [client.post(f"/open311/v2/requests.{fmt}", post, REMOTE_ADDR="203.0.113.50") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert int(refused["Retry-After"]) > 0
    text = refused.content.decode()
    assert "rate_limited" in text
    if fmt == "json":
        [error] = json.loads(text)
        assert error["code"] == 429
    else:
        assert text.startswith("<?xml")
