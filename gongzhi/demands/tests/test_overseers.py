"""Overseers (leaders of the bodies over a demand who do not act on it) read its text, address and reply
scrubbed: what and where, not who (#13 item 5). Those acting on it read them as filed."""

import pytest
from django.urls import reverse

from gongzhi.core.models import ApiToken
from gongzhi.demands import queries

pytestmark = pytest.mark.django_db

TEXT = "我是张三，电话13912345678，楼下垃圾三天没清运"


def test_an_overseer_reads_the_text_and_address_scrubbed(dw):
    demand = dw.file(text=TEXT, address="东园路1号 1-101")
    seen = queries.as_seen_by(dw.world.secretary_a, demand)  # party secretary over the community, no desk
    assert "13912345678" not in seen["text"] and "张三" not in seen["text"] and "张某" in seen["text"]
    assert "1-101" not in seen["address"] and seen["address"].startswith("东园路")
    full = queries.as_seen_by(dw.dispatcher, demand)
    assert full["text"] == TEXT and full["address"] == "东园路1号 1-101"
    assert queries.as_seen_by(dw.resident, demand)["text"] == TEXT


def test_the_demand_page_and_api_scrub_for_an_overseer(client, dw):
    demand = dw.file(text=TEXT, address="东园路1号 1-101")
    client.force_login(dw.world.secretary_a)
    response = client.get(reverse("demands:detail", args=[demand.number]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "13912345678" not in page and "1-101" not in page and "垃圾" in page
    _, raw = ApiToken.issue(dw.world.secretary_a)
    body = client.get(f"/api/v1/demands/{demand.number}", headers={"Authorization": f"Bearer {raw}"}).json()
    assert "13912345678" not in body["text"] and "1-101" not in body["address"]
    _, raw = ApiToken.issue(dw.dispatcher)
    body = client.get(f"/api/v1/demands/{demand.number}", headers={"Authorization": f"Bearer {raw}"}).json()
    assert body["text"] == TEXT


def test_an_overseer_reads_the_steps_notes_scrubbed_too(client, dw):
    """A reason or a rating comment can carry a phone number as well as the text can (found in review)."""
    from gongzhi.demands import services

    demand = dw.file(text=TEXT, address="东园路1号 1-101")
    services.reject(dw.dispatcher, demand, reason="张三另打电话 139 1234 5678 说已自行解决")
    overseer = [step.note for step in queries.timeline_as_seen_by(dw.world.secretary_a, demand) if step.note]
    assert overseer and all("1234" not in note and "张三" not in note for note in overseer)
    assert any("张三" in step.note for step in queries.timeline_as_seen_by(dw.dispatcher, demand))
    _, raw = ApiToken.issue(dw.world.secretary_a)
    events = client.get(f"/api/v1/demands/{demand.number}/events", headers={"Authorization": f"Bearer {raw}"})
    assert events.status_code == 200 and "1234" not in events.content.decode()
    client.force_login(dw.world.secretary_a)
    page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "139 1234 5678" not in page and "另打电话" in page
