"""A demand whose text is only invisible characters, or holds a NUL, is refused with its reason and nothing is
stored, whichever way it comes in: the service, the JSON API, the fast intake path, Open311 (issue #13
item 15)."""

import io
import json
import urllib.parse

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import ApiToken, Event
from gongzhi.demands import fastpath, services
from gongzhi.demands.models import Demand, Submission

from .factories import IN_A1, THURSDAY_9AM, DjangoApp

pytestmark = pytest.mark.django_db

BAD_TEXTS = ["\u200b", "\u200b\u200c\u200d\ufeff", "\x00", "垃圾没人清运\x00", "\u3000 \u2060\t", "\u3164"]


def stored() -> tuple[int, int, int]:
    return (Demand.objects.count(), Submission.objects.count(),
            Event.objects.filter(kind__startswith="demands.").count())


@pytest.fixture
def bearer(dw):
    _, raw = ApiToken.issue(dw.resident)
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_the_services_refuse_invisible_or_nul_text_and_store_nothing(dw, text):
    before = stored()
    with clock.frozen_at(THURSDAY_9AM):
        for act in (lambda: services.file_demand(dw.resident, text=text, longitude=IN_A1[0], latitude=IN_A1[1]),
                    lambda: services.submit_demand(dw.resident, text=text, longitude=IN_A1[0], latitude=IN_A1[1])):
            with pytest.raises(ValidationFailed) as refused:
                act()
            assert refused.value.code in ("text_required", "invalid_text")
            assert refused.value.message("en").startswith("Invalid input: a description")
    assert stored() == before


def test_a_nul_in_the_address_or_contact_is_refused_too(dw):
    with clock.frozen_at(THURSDAY_9AM), pytest.raises(ValidationFailed) as refused:
        services.file_demand(dw.resident, text="路灯坏了", longitude=IN_A1[0], latitude=IN_A1[1],
                             address="东园路\x001号")
    assert refused.value.code == "invalid_text" and not Demand.objects.exists()


def test_text_with_invisible_ends_is_filed_trimmed(dw):
    with clock.frozen_at(THURSDAY_9AM):
        step = services.file_demand(dw.resident, text="\ufeff\u200b路灯坏了\u200b ", longitude=IN_A1[0],
                                    latitude=IN_A1[1])
    assert step.demand.text == "路灯坏了"


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_the_api_answers_400_with_the_reason(client, dw, bearer, text):
    before = stored()
    for url in ("/api/v1/demands/", "/api/v1/demands/submissions"):
        with clock.frozen_at(THURSDAY_9AM):
            response = client.post(url, json.dumps({"text": text, "longitude": IN_A1[0], "latitude": IN_A1[1]}),
                                   content_type="application/json", headers=bearer)
        assert response.status_code == 400, (url, response.content)
        answer = response.json()
        assert answer["code"] in ("text_required", "invalid_text", "invalid") and answer["message"], answer
    assert stored() == before


@pytest.mark.parametrize("text", ["\u200b\ufeff", "路灯坏了\x00"])
def test_the_fast_path_refuses_it_without_storing(dw, bearer, keep_the_test_connection, text):
    payload = json.dumps({"text": text, "longitude": IN_A1[0], "latitude": IN_A1[1]}).encode()
    started = {}
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/demands/submissions", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(payload)), "wsgi.input": io.BytesIO(payload), "HTTP_HOST": "testserver",
           "HTTP_AUTHORIZATION": bearer["Authorization"]}
    django = DjangoApp()
    out = b"".join(fastpath.wrap(django)(env, lambda status, headers: started.update(status=status)))
    if django.calls:  # handed on untouched: Django's own endpoint answers, tested above
        assert json.loads(django.calls[0]) == {"text": text, "longitude": IN_A1[0], "latitude": IN_A1[1]}
    else:
        assert started["status"].startswith("400"), started
        assert json.loads(out)["code"] in ("text_required", "invalid_text")
    assert not Submission.objects.exists()


@pytest.mark.parametrize("description", ["\u200b\u200b", "\ufeff\u2060"])
def test_open311_refuses_a_typed_description_of_invisible_characters(client, dw, description):
    _, key = services.issue_open311_key("东城随手拍", contact="ops@example.org")
    before = stored()
    with clock.frozen_at(THURSDAY_9AM):
        response = client.post("/open311/v2/requests.json", data=urllib.parse.urlencode({
            "api_key": key, "service_code": "environment.garbage", "lat": IN_A1[1], "long": IN_A1[0],
            "description": description}), content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert 400 <= response.status_code < 500, response.content
    assert stored()[0] == before[0] and stored()[1] == before[1]
