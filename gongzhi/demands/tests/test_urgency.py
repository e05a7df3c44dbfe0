"""Self-declared privileges (issue #13 item 7): a resident's urgency is a suggestion the dispatch desk
confirms, and the channel is set by the server from the entry point, never by a request field."""

import json

import pytest

from gongzhi.core.models import ApiToken
from gongzhi.demands import services
from gongzhi.demands.models import Demand

from .factories import IN_A1, THURSDAY_9AM

pytestmark = pytest.mark.django_db
BASE = "/api/v1/demands/"
PLAIN = "小区门口垃圾堆了三天没人清运"  # no urgency cue words: proposed "ordinary"


@pytest.fixture
def as_user(client):
    def make(user):
        _, raw = ApiToken.issue(user)

        def call(method, url, body=None):
            kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"} if method == "post" else {}
            return getattr(client, method)(url, headers={"Authorization": f"Bearer {raw}"}, **kwargs)

        return call

    return make


def file_as(api, **fields):
    body = {"text": PLAIN, "longitude": IN_A1[0], "latitude": IN_A1[1], **fields}
    return api("post", BASE, body)


def test_a_residents_urgency_and_channel_are_not_taken_from_the_request(as_user, dw):
    response = file_as(as_user(dw.resident), urgency="emergency", channel="hotline")
    assert response.status_code == 201, response.content
    shown = response.json()["demand"]
    assert shown["channel"] == "api"
    assert shown["urgency"] == "ordinary" and shown["suggested_urgency"] == "emergency"
    assert shown["is_urgency_confirmed"] is False
    demand = Demand.objects.get(number=shown["number"])
    assert (demand.channel, demand.urgency, demand.suggested_urgency) == ("api", "ordinary", "emergency")


def test_the_desk_confirms_the_suggested_urgency_and_the_deadline_follows(as_user, dw):
    number = file_as(as_user(dw.resident), urgency="emergency").json()["demand"]["number"]
    before = Demand.objects.get(number=number).feedback_due
    refused = as_user(dw.resident)("post", f"{BASE}{number}/actions/confirm_urgency", {})
    assert refused.status_code == 403
    desk = as_user(dw.dispatcher)
    assert "confirm_urgency" in desk("get", f"{BASE}{number}").json()["allowed_actions"]
    confirmed = desk("post", f"{BASE}{number}/actions/confirm_urgency", {})
    assert confirmed.status_code == 200, confirmed.content
    shown = confirmed.json()["demand"]
    assert shown["urgency"] == "emergency" and shown["is_urgency_confirmed"] is True
    after = Demand.objects.get(number=number)
    assert after.feedback_due < before  # an emergency is answered sooner than an ordinary demand
    assert [e["action"] for e in desk("get", f"{BASE}{number}/events").json()] == ["file", "confirm_urgency"]


def test_the_desk_may_change_the_suggested_urgency_once_and_only_a_suggestion_is_confirmed(as_user, dw):
    desk = as_user(dw.dispatcher)
    suggested = file_as(as_user(dw.resident), urgency="emergency").json()["demand"]["number"]
    changed = desk("post", f"{BASE}{suggested}/actions/confirm_urgency", {"urgency": "utilities"})
    assert changed.json()["demand"]["urgency"] == "utilities"
    assert "confirm_urgency" not in changed.json()["demand"]["allowed_actions"]
    again = desk("post", f"{BASE}{suggested}/actions/confirm_urgency", {"urgency": "emergency"})
    assert again.status_code == 403
    plain = file_as(as_user(dw.resident)).json()["demand"]["number"]
    assert "confirm_urgency" not in desk("get", f"{BASE}{plain}").json()["allowed_actions"]
    assert desk("post", f"{BASE}{plain}/actions/confirm_urgency", {}).status_code == 403


def test_a_dispatcher_filing_in_their_own_grid_sets_the_urgency_at_once(dw):
    with_urgency = services.file_demand(dw.dispatcher, text=PLAIN, longitude=IN_A1[0], latitude=IN_A1[1],
                                        urgency="emergency", channel=Demand.Channel.API).demand
    assert (with_urgency.urgency, with_urgency.urgency_overridden, with_urgency.suggested_urgency) == (
        "emergency", True, "")


def test_patrol_is_the_grid_workers_entry_point_only(as_user, dw):
    patrol = file_as(as_user(dw.grid_worker), patrol=True, urgency="utilities")
    assert patrol.status_code == 201, patrol.content
    assert patrol.json()["demand"]["channel"] == "patrol"
    assert patrol.json()["demand"]["urgency"] == "utilities"  # the grid worker's own finding
    refused = file_as(as_user(dw.resident), patrol=True)
    assert refused.status_code == 403
    assert not Demand.objects.filter(reporter_user=dw.resident).exists()


def test_the_web_form_files_with_channel_web_whatever_is_posted(client, dw):
    client.force_login(dw.resident)
    response = client.post("/demands/new/", {"text": PLAIN, "longitude": IN_A1[0], "latitude": IN_A1[1],
                                             "channel": "hotline", "urgency": "emergency"})
    assert response.status_code in (200, 302)
    demand = Demand.objects.get(reporter_user=dw.resident)
    assert demand.channel == "web" and demand.urgency == "ordinary"


def test_an_imported_hotline_order_keeps_the_operators_urgency(dw):
    step = services.file_demand(dw.dispatcher, text=PLAIN, longitude=IN_A1[0], latitude=IN_A1[1],
                                urgency="complex", channel=Demand.Channel.HOTLINE)
    assert step.demand.urgency == "complex" and step.demand.urgency_overridden
