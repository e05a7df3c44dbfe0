"""The 接诉即办 closed loop end to end over real HTTP against a running server: a resident's app files
through Open311, the desk dispatches, the unit returns it, the desk re-dispatches, the new unit accepts
and replies, the grid worker verifies, the desk closes, the call-back says "not solved", the demand
reopens to the same unit, is answered again and finally rated solved. Events, deadlines, the ledger
and the three rates are checked along the way."""

import datetime as dt
import io
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.management import call_command

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.demands.models import Demand, DemandEvent
from gongzhi.demands.tests.factories import IN_A1, THURSDAY_9AM


@pytest.fixture
def loop_world(live_world, tmp_path, settings):
    from gongzhi.demands.tests.factories import DemandWorld

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    return DemandWorld(live_world)


def call(url, *, token=None, method="GET", json_body=None, form=None):
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    if form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_demand_goes_round_the_whole_loop_over_http(live_server, loop_world):
    dw = loop_world
    out = io.StringIO()
    call_command("open311", "key", "create", "居民随手拍", stdout=out)
    api_key = out.getvalue().strip().split()[-1]
    tokens = {name: ApiToken.issue(user)[1] for name, user in {
        "desk": dw.dispatcher, "city": dw.handler, "property": dw.property_staff, "grid": dw.grid_worker,
        "other": dw.other_resident}.items()}
    base = live_server.url + "/api/v1/demands/"
    moment = THURSDAY_9AM

    def at(minutes):
        return clock.frozen_at(moment + dt.timedelta(minutes=minutes))

    def act(who, action, minutes, **body):
        with at(minutes):
            status, payload = call(f"{base}{number}/actions/{action}", token=tokens[who], method="POST",
                                   json_body=body)
        assert status == 200, (action, payload)
        return payload["demand"]

    # 1. A resident's app files through Open311 (form-encoded, with its API key).
    with at(0):
        status, created = call(live_server.url + "/open311/v2/requests.json", method="POST", form={
            "api_key": api_key, "service_code": "environment.garbage", "lat": IN_A1[1], "long": IN_A1[0],
            "description": "小区门口垃圾堆了三天没人清运", "first_name": "三", "last_name": "张",
            "phone": "13900001111"})
    assert status == 200, created
    number = created[0]["service_request_id"]
    demand = Demand.objects.get(number=number)
    assert demand.state == "received" and demand.grid_id == dw.world.grid_a1.id
    assert demand.dispatch_due is not None and demand.feedback_due > demand.received_at

    # 2. Dispatch, return with a reason, re-dispatch to the property company.
    assert act("desk", "dispatch", 20, unit_id=dw.city_management.id)["state"] == "dispatched"
    with at(30):
        status, body = call(f"{base}{number}/actions/return", token=tokens["city"], method="POST", json_body={})
    assert status == 400 and body["code"] == "reason_required"
    assert act("city", "return", 30, reason="属物业管理范围")["state"] == "returned"
    assert act("desk", "dispatch", 40, unit_id=dw.property_company.id)["state"] == "dispatched"

    # 3. Accept, reply, verify, close; an illegal step is refused and changes nothing.
    assert act("property", "accept", 50)["state"] == "accepted"
    with at(55):
        status, body = call(f"{base}{number}/actions/close", token=tokens["desk"], method="POST", json_body={})
    assert status == 409 and body["code"] == "illegal_transition"
    assert Demand.objects.get(number=number).state == "accepted"
    assert act("property", "reply", 120, text="已安排保洁清运")["state"] == "replied"
    assert act("grid", "verify", 180)["state"] == "verified"
    assert act("desk", "close", 200)["state"] == "closed"

    # 4. Someone other than the reporter cannot rate; the call-back says "not solved": it reopens.
    with at(1440):
        status, body = call(f"{base}{number}/actions/rate", token=tokens["other"], method="POST",
                            json_body={"solved": True, "satisfaction": "satisfied"})
    assert status in (403, 404)
    reopened = act("desk", "rate", 1440, solved=False, satisfaction="not_satisfied")
    assert reopened["state"] == "dispatched" and reopened["lead_unit_id"] == dw.property_company.id
    assert Demand.objects.get(number=number).reopen_count == 1

    # 5. Second round, rated solved.
    act("property", "accept", 1500)
    act("property", "reply", 1600, text="已彻底清运并增加清运频次")
    act("grid", "verify", 1700)
    act("desk", "close", 1710)
    assert act("desk", "rate", 2000, solved=True, satisfaction="satisfied")["state"] == "rated"

    # Every step is an event, in order, each with a ledger receipt.
    with at(2010):
        status, timeline = call(f"{base}{number}/events", token=tokens["desk"])
    assert status == 200
    assert [e["action"] for e in timeline] == [
        "file", "dispatch", "return", "dispatch", "accept", "reply", "verify", "close", "rate", "reopen",
        "accept", "reply", "verify", "close", "rate"]
    assert DemandEvent.objects.filter(demand__number=number).count() == len(timeline)
    assert all(e["receipt"] is not None for e in timeline)

    # The three rates for the street: dispatched once (final lead unit), accepted in time, rated solved.
    with at(2020):
        status, rows = call(f"{base}rates?level=street&start=2026-11-01&end=2026-11-30", token=tokens["desk"])
    assert status == 200
    [street] = rows
    assert (street["dispatched"], street["accepted_in_time"], street["rated"], street["solved"]) == (1, 1, 1, 1)
    assert street["response_rate"] == street["resolution_rate"] == street["satisfaction_rate"] == 1.0
    assert street["score"] == 100.0

    # Open311 shows the request closed, with no personal data.
    status, [public] = call(live_server.url + f"/open311/v2/requests/{number}.json")
    assert status == 200 and public["status"] == "closed"
    assert "张三" not in json.dumps(public, ensure_ascii=False) and "13900001111" not in json.dumps(public)


def test_a_not_solved_answer_counts_against_the_unit_until_the_resident_answers_again(db, ledger_world):
    from gongzhi.demands import queries, services

    dw = ledger_world
    demand = dw.closed()
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        demand = services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied").demand
    assert demand.state == "dispatched" and demand.reopen_count == 1
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1, hours=1)):
        [street] = queries.rates("street", start, end)
    assert (street.rated, street.solved, street.resolution_rate, street.satisfaction_rate) == (1, 0, 0.0, 0.0)


@pytest.fixture
def ledger_world(world, tmp_path, settings):
    from gongzhi.demands.tests.factories import DemandWorld

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    return DemandWorld(world)
