"""Similar open demands nearby and "me too" (issue #16 item 5): before filing, a resident sees what is already
reported within 300 m and open, as the public sees it, and may add themself to it once."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.core.models import Event
from gongzhi.demands import nearby
from gongzhi.demands.models import Support
from gongzhi.demands.tests.factories import IN_A1, IN_B1, THURSDAY_9AM

LATER = THURSDAY_9AM + dt.timedelta(days=2)


def test_distance_is_right_within_a_metre_for_a_few_hundred_metres():
    # 0.001° of latitude is 111.2 m on the sphere of 6,371 km.
    assert abs(nearby.distance_m(116.0, 39.9, 116.0, 39.901) - 111.19) < 1
    # 0.001° of longitude at 39.9° N is 111.19 × cos(39.9°) = 85.3 m.
    assert abs(nearby.distance_m(116.0, 39.9, 116.001, 39.9) - 85.3) < 1


def test_open_demands_within_300_m_are_listed_nearest_first_as_the_public_sees_them(dw):
    near = dw.file(text="垃圾桶满了，电话13900001111", where=(IN_A1[0] + 0.001, IN_A1[1]))  # ~85 m
    nearer = dw.file(text="路灯不亮", where=(IN_A1[0], IN_A1[1] + 0.0005))  # ~56 m
    far = dw.file(text="很远的问题", where=IN_B1)  # 1.7 km
    closed = dw.closed(where=IN_A1)
    with clock.frozen_at(LATER):
        found = nearby.open_near(*IN_A1)
    numbers = [f["number"] for f in found]
    assert numbers == [nearer.number, near.number]
    assert far.number not in numbers and closed.number not in numbers
    shown = found[1]
    assert "13900001111" not in shown["text"] and "垃圾桶满了" in shown["text"]
    assert set(shown) == {"number", "category", "state", "grid", "text", "metres", "supporters", "received"}
    assert shown["metres"] == 90 and shown["grid"] == "东园一网格"


def test_demands_older_than_60_days_are_not_offered(dw):
    dw.file(where=IN_A1)
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=61)):
        assert nearby.open_near(*IN_A1) == []


# Not hexadecimal, so it can never turn up by chance inside the stored digest.
GUEST_SESSION = "guest-session-key"


def test_me_too_counts_once_per_account_and_once_per_guest_session(dw):
    demand = dw.file(where=IN_A1)
    with clock.frozen_at(LATER):
        _, count, added = nearby.me_too(demand.number, user=dw.other_resident)
        assert (count, added) == (1, True)
        assert nearby.me_too(demand.number, user=dw.other_resident)[1:] == (1, False)
        assert nearby.me_too(demand.number, session_key=GUEST_SESSION)[1:] == (2, True)
        assert nearby.me_too(demand.number, session_key=GUEST_SESSION)[1:] == (2, False)
        assert nearby.me_too(demand.number, user=dw.resident)[1:] == (2, False)  # one's own report
    assert Event.objects.filter(kind="demands.me_too").count() == 2
    assert GUEST_SESSION not in Support.objects.get(user=None).session_digest


def test_me_too_on_a_closed_or_unknown_demand_is_refused(dw):
    closed = dw.closed(where=IN_A1)
    with pytest.raises(NotFound):
        nearby.me_too(closed.number, user=dw.other_resident)
    with pytest.raises(NotFound):
        nearby.me_too("nothing", user=dw.other_resident)
    assert not Support.objects.exists()


def test_the_endpoints_answer_json_to_anyone_and_refuse_bad_input(dw, client):
    demand = dw.file(where=IN_A1)
    with clock.frozen_at(LATER):
        answer = client.get(reverse("demands:nearby"), {"longitude": IN_A1[0], "latitude": IN_A1[1]})
        assert answer.status_code == 200 and [d["number"] for d in answer.json()["demands"]] == [demand.number]
        body = answer.content.decode()
        assert "张三" not in body and "13900001111" not in body and str(IN_A1[0]) not in body
        assert client.get(reverse("demands:nearby"), {"longitude": "x"}).status_code == 400
        assert client.get(reverse("demands:nearby"), {"longitude": 500, "latitude": 1}).status_code == 400
        first = client.post(reverse("demands:me_too", args=[demand.number]))  # a guest: by its session
        assert first.status_code == 200 and first.json()["supporters"] == 1 and first.json()["added"]
        again = client.post(reverse("demands:me_too", args=[demand.number]))
        assert again.json() == {**again.json(), "supporters": 1, "added": False}
        assert client.post(reverse("demands:me_too", args=["nothing"])).status_code == 404
        assert client.get(reverse("demands:me_too", args=[demand.number])).status_code == 405


def test_the_units_handling_it_see_how_many_residents_said_me_too(dw, client):
    demand = dw.dispatched(where=IN_A1)
    with clock.frozen_at(LATER):
        nearby.me_too(demand.number, user=dw.other_resident)
        nearby.me_too(demand.number, session_key="guest-session")
    client.cookies["django_language"] = "zh-hans"
    client.force_login(dw.handler)
    page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "另有 2 位居民也反映了" in page
