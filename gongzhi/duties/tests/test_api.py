"""duties' JSON API: the lists are public, a refused decision is 4xx JSON with the verdict's reason and
stores nothing, progress moves a goal's computed status."""

import datetime as dt
import json

import pytest

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)

from gongzhi.duties import services
from gongzhi.duties.models import Decision, PowerItem

BASE = "/api/v1/duties/"


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


@pytest.fixture
def api(client):
    def make(user=None):
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {ApiToken.issue(user)[1]}"

        def call(method, url, body=None):
            kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"} if method == "post" else {}
            return getattr(client, method)(BASE + url, headers=headers, **kwargs)

        return call

    return make


def test_the_power_list_is_public_and_a_refused_decision_is_a_reasoned_4xx(village, api):
    services.adopt_power_list(village.officer, village.village)
    listed = api()("get", f"power-items?region_id={village.village.pk}").json()
    item = next(i for i in listed if i["code"] == "procurement")
    assert len(listed) == 36 and item["definition"]["major"]["procedure_code"] == "four_deliberations_two_disclosures"
    refused = api(village.officer)("post", f"power-items/{item['id']}/decisions",
                                   {"title": "采购设备", "amount": "300000"})
    assert refused.status_code == 400 and refused.json()["code"] == "no_resolution"
    assert refused.json()["message"].startswith("输入有误：须经四议两公开程序")
    assert not Decision.objects.exists()
    accepted = api(village.officer)("post", f"power-items/{item['id']}/decisions",
                                    {"title": "购买办公用品", "amount": "800",
                                     "signatories": ["handler", "party_secretary", "committee_director"]})
    assert accepted.status_code == 201 and accepted.json()["is_major"] is False
    assert [d["title"] for d in api()("get", f"decisions?region_id={village.village.pk}").json()] == ["购买办公用品"]
    assert api(village.adults[8].user)("post", f"power-items/{item['id']}/decisions",
                                       {"title": "x", "amount": "1"}).status_code == 403


def test_progress_through_the_api_moves_the_goals_computed_status(village, api):
    goal = services.create_goal(village.officer, region=village.village, title="覆盖率", indicator="覆盖率",
                                start_value=40, target_value=90, direction="higher", start_date=dt.date(2026, 3, 1),
                                deadline=dt.date(2026, 12, 31), owner=village.committee)
    with clock.frozen_at(dt.datetime(2026, 7, 1, 2, tzinfo=dt.timezone.utc)):
        response = api(village.officer)("post", f"goals/{goal.pk}/progress", {"value": 45, "note": "入户"})
        assert response.status_code == 201 and response.json()["status"] == "at_risk"
        listed = api()("get", f"goals?region_id={village.village.pk}").json()
    assert listed[0]["status"] == "at_risk" and listed[0]["latest"] == 45.0


def test_an_unknown_region_is_404(db, api):
    response = api()("get", "power-items?region_id=999999")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not PowerItem.objects.exists()
