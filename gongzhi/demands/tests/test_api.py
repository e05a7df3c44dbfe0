"""The demands JSON API: filing, scoped lists and details, actions with receipts, errors as 4xx JSON, the
reporter's contact only for handling units, the timeline, categories and rates."""

import datetime as dt
import json

import pytest

from gongzhi.core import clock
from gongzhi.core.models import ApiToken, Event
from gongzhi.demands import services
from gongzhi.demands.models import Demand, DemandContactAccess, DemandEvent
from gongzhi.ledger import merkle, note
from gongzhi.ledger import services as ledger

from .factories import IN_A1, NOWHERE, THURSDAY_9AM

pytestmark = pytest.mark.django_db
BASE = "/api/v1/demands/"


@pytest.fixture
def as_user(client):
    def make(user):
        _, raw = ApiToken.issue(user)

        def call(method, url, body=None):
            kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"} if method == "post" else {}
            return getattr(client, method)(url, headers={"Authorization": f"Bearer {raw}"}, **kwargs)

        return call

    return make


def filed(api, **body):
    payload = {"text": "小区门口垃圾堆了三天没人清运", "longitude": IN_A1[0], "latitude": IN_A1[1],
               "contact_name": "张三", "contact_phone": "13900001111", **body}
    with clock.frozen_at(THURSDAY_9AM):
        response = api("post", BASE, payload)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_resident_files_a_demand_and_gets_its_number(as_user, dw):
    body = filed(as_user(dw.resident))
    demand = body["demand"]
    assert demand["number"] == "2026112600001" and demand["state"] == "received"
    assert demand["grid_id"] == dw.world.grid_a1.id and demand["urgency"] == "ordinary"
    assert demand["contact"] is None  # the reporter is not a handling unit
    assert len(body["receipts"]) == 1
    assert Demand.objects.get().channel == "api"


def test_requests_without_credentials_get_401(client, dw):
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, data="{}", content_type="application/json").status_code == 401


def test_a_location_outside_every_grid_is_400_and_nothing_is_stored(as_user, dw):
    events_before = Event.objects.count()
    response = as_user(dw.resident)("post", BASE, {"text": "路灯不亮", "longitude": NOWHERE[0], "latitude": NOWHERE[1]})
    assert response.status_code == 400 and response.json()["code"] == "outside_grids"
    assert Demand.objects.count() == 0 and Event.objects.count() == events_before


def test_unknown_category_and_bad_coordinates_are_400(as_user, dw):
    api = as_user(dw.resident)
    unknown = api("post", BASE, {"text": "路灯不亮", "longitude": IN_A1[0], "latitude": IN_A1[1], "category": "x.y"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_category"
    assert api("post", BASE, {"text": "路灯不亮", "longitude": 200, "latitude": 39.9}).status_code == 400
    assert Demand.objects.count() == 0


def test_an_illegal_transition_is_409_and_changes_nothing(as_user, dw):
    number = filed(as_user(dw.resident))["demand"]["number"]
    before = DemandEvent.objects.count()
    response = as_user(dw.dispatcher)("post", f"{BASE}{number}/actions/close", {})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and "不能在“received”状态下执行“close”" in body["message"]
    assert Demand.objects.get().state == "received" and DemandEvent.objects.count() == before


def test_rating_by_anyone_but_the_reporter_is_403_and_changes_nothing(as_user, dw):
    demand = dw.closed()
    response = as_user(dw.dispatcher)("post", f"{BASE}{demand.number}/actions/rate",
                                      {"solved": True, "satisfaction": "satisfied"})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    # Another resident cannot even see the demand.
    stranger = as_user(dw.other_resident)("post", f"{BASE}{demand.number}/actions/rate",
                                          {"solved": True, "satisfaction": "satisfied"})
    assert stranger.status_code == 404
    demand.refresh_from_db()
    assert demand.state == "closed" and demand.rated_at is None
    rated = as_user(dw.resident)("post", f"{BASE}{demand.number}/actions/rate",
                                 {"solved": True, "satisfaction": "basically_satisfied"})
    assert rated.status_code == 200 and rated.json()["demand"]["state"] == "rated"


def test_actions_through_the_api_return_then_redispatch_with_assisting_units(as_user, dw):
    number = filed(as_user(dw.resident), category="environment.garbage")["demand"]["number"]
    desk, handler = as_user(dw.dispatcher), as_user(dw.handler)
    dispatched = desk("post", f"{BASE}{number}/actions/dispatch",
                      {"unit_id": dw.city_management.id, "assisting_unit_ids": [dw.property_company.id]})
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["demand"]["assisting_unit_ids"] == [dw.property_company.id]
    no_reason = handler("post", f"{BASE}{number}/actions/return", {})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    returned = handler("post", f"{BASE}{number}/actions/return", {"reason": "不属于城管职责"})
    assert returned.json()["demand"]["state"] == "returned"
    again = desk("post", f"{BASE}{number}/actions/dispatch", {"unit_id": dw.property_company.id})
    assert again.json()["demand"]["lead_unit_id"] == dw.property_company.id
    accepted = as_user(dw.property_staff)("post", f"{BASE}{number}/actions/accept", {})
    assert accepted.json()["demand"]["allowed_actions"] == ["return", "start_work", "reply"]
    assert desk("post", f"{BASE}{number}/actions/fly", {}).status_code == 404
    timeline = desk("get", f"{BASE}{number}/events").json()
    assert [e["action"] for e in timeline] == ["file", "dispatch", "return", "dispatch", "accept"]
    assert timeline[2]["note"] == "不属于城管职责"


def test_contact_is_shown_to_handling_units_only_and_each_read_is_logged(as_user, dw):
    number = dw.dispatched().number
    for outsider in (dw.dispatcher, dw.grid_worker, dw.resident):
        assert as_user(outsider)("get", f"{BASE}{number}").json()["contact"] is None
    assert DemandContactAccess.objects.count() == 0
    shown = as_user(dw.handler)("get", f"{BASE}{number}").json()
    assert shown["contact"] == {"name": "张三", "phone": "13900001111"}
    access = DemandContactAccess.objects.get()
    assert access.user == dw.handler and access.channel == "api"
    listed = as_user(dw.handler)("get", BASE).json()["items"]
    assert [d["number"] for d in listed] == [number] and "contact" not in listed[0]


def test_lists_are_scoped_and_filtered(as_user, dw):
    dispatched = dw.dispatched()
    waiting = dw.file(text="变电箱冒烟")
    desk = as_user(dw.dispatcher)
    numbers = lambda url: [d["number"] for d in desk("get", url).json()["items"]]  # noqa: E731
    assert set(numbers(BASE)) == {dispatched.number, waiting.number}
    assert numbers(f"{BASE}?state=received") == [waiting.number]
    assert numbers(f"{BASE}?category=environment") == [dispatched.number]
    assert numbers(f"{BASE}?unit={dw.city_management.id}") == [dispatched.number]
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=1.5)):
        assert numbers(f"{BASE}?overdue=true") == [waiting.number]
    assert numbers(f"{BASE}?mine=true") == [waiting.number]
    assert as_user(dw.other_resident)("get", BASE).json()["items"] == []
    assert as_user(dw.other_resident)("get", f"{BASE}{waiting.number}").status_code == 404


def test_categories_tree(as_user, dw):
    tree = as_user(dw.resident)("get", f"{BASE}categories").json()
    utilities = next(node for node in tree if node["code"] == "utilities")
    assert utilities["name"] == "公用事业" and utilities["default_urgency"] == "utilities"
    assert "utilities.water" in [child["code"] for child in utilities["children"]]


def test_rates_endpoint_is_scoped_to_those_who_oversee(as_user, dw):
    with clock.frozen_at(THURSDAY_9AM):
        demand = dw.closed()
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        services.rate(dw.resident, demand, solved=True, satisfaction="satisfied")
    url = f"{BASE}rates?level=street&start=2026-11-01&end=2026-11-30"
    [street] = as_user(dw.dispatcher)("get", url).json()
    assert (street["name"], street["dispatched"], street["rated"], street["score"]) == ("和平街道", 1, 1, 100.0)
    assert as_user(dw.other_resident)("get", url).status_code == 403
    bad = as_user(dw.dispatcher)("get", f"{BASE}rates?level=galaxy")
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_level"


@pytest.mark.django_db(transaction=True)
def test_each_step_over_http_answers_with_a_receipt_that_verifies(as_user, world, ledger_keys):
    from .factories import DemandWorld

    dw = DemandWorld(world)
    body = filed(as_user(dw.resident), category="environment.garbage")
    number = body["demand"]["number"]
    receipts = list(body["receipts"])
    for user, action, payload in [
        (dw.dispatcher, "dispatch", {"unit_id": dw.city_management.id}),
        (dw.handler, "accept", {}),
        (dw.handler, "reply", {"text": "已清运"}),
    ]:
        response = as_user(user)("post", f"{BASE}{number}/actions/{action}", payload)
        assert response.status_code == 200, response.content
        receipts += response.json()["receipts"]
    verifier = note.Verifier.from_vkey(ledger.verifier_key())
    demand = Demand.objects.get(number=number)
    for receipt, step in zip(receipts, DemandEvent.objects.filter(demand=demand).order_by("id"), strict=True):
        assert receipt is not None and json.loads(receipt["entry"])["event"] == step.event_id
        checkpoint = note.parse_checkpoint(note.open_note(receipt["checkpoint"], [verifier])[0])
        leaf = merkle.leaf_hash(receipt["entry"].encode())
        proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
        assert merkle.verify_inclusion(leaf, receipt["index"], checkpoint.size, proof, checkpoint.root)
    timeline = as_user(dw.resident)("get", f"{BASE}{number}/events").json()
    assert all(e["receipt"] is not None for e in timeline)
