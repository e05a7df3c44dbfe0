"""Reporting without an account (issue #16 item 2): a guest files with a photo, gets the number and the 查询码
once, follows the demand from another browser with them, and rates it after the reply."""

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import Event
from gongzhi.demands import guests, services
from gongzhi.demands.models import Demand, GuestTracking
from gongzhi.org.tests.factories import World

from .factories import IN_A1, THURSDAY_9AM, DemandWorld
from .test_photos import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dw():
    return DemandWorld(World())


def file_as_guest(client) -> tuple[Demand, str]:
    photo = io.BytesIO(jpeg())
    photo.name = "IMG_1.jpg"
    with clock.frozen_at(THURSDAY_9AM):
        answer = client.post(reverse("demands:report"), {"text": "单元门口的路灯坏了一周", "longitude": IN_A1[0],
                                                         "latitude": IN_A1[1], "photos": [photo]})
    assert answer.status_code == 302 and answer["Location"] == reverse("demands:guest_done")
    page = client.get(reverse("demands:guest_done")).content.decode()
    number = re.search(r'id="guest-number">(\d+)<', page).group(1)
    code = re.search(r'id="guest-code">([A-Z0-9]+)<', page).group(1)
    return Demand.objects.get(number=number), code


def test_a_guest_files_with_a_photo_and_gets_the_number_and_the_code_once(client, dw):
    demand, code = file_as_guest(client)
    assert demand.reporter_user is None and demand.reporter is None
    assert demand.photos.count() == 1
    assert len(code) == guests.CODE_LENGTH and set(code) <= set(guests.ALPHABET)
    tracking = GuestTracking.objects.get(demand=demand)
    assert code not in tracking.code_digest
    assert not any(code in str(e.data) + str(e.private) for e in Event.objects.all())  # nowhere in the journal
    assert client.get(reverse("demands:guest_done"))["Location"] == reverse("demands:track")  # shown once
    # The browser that filed it follows it at once.
    page = client.get(reverse("demands:tracked", args=[demand.number]))
    assert page.status_code == 200 and "单元门口的路灯坏了一周" in page.content.decode()


def test_another_browser_follows_it_with_the_number_and_code_only(dw):
    demand, code = file_as_guest(Client())
    other = Client()
    url = reverse("demands:tracked", args=[demand.number])
    assert other.get(url)["Location"].startswith(reverse("demands:track"))
    photo = demand.photos.get()
    assert other.get(reverse("demands:photo", args=[demand.number, photo.pk])).status_code == 404
    wrong_code = other.post(reverse("demands:track"), {"number": demand.number, "code": "ABCDEFGH"})
    wrong_number = other.post(reverse("demands:track"), {"number": "2099010100001", "code": code})
    assert wrong_code.status_code == wrong_number.status_code == 400
    def said(answer) -> str:
        return re.search(r'<p class="error" role="alert">(.*?)</p>', answer.content.decode()).group(1)

    assert said(wrong_code) == said(wrong_number)  # nothing tells which one was wrong
    found = other.post(reverse("demands:track"), {"number": demand.number, "code": code.lower()[:4] + " " + code[4:]})
    assert found.status_code == 302 and found["Location"] == url
    assert other.get(url).status_code == 200
    assert other.get(reverse("demands:photo", args=[demand.number, photo.pk])).status_code == 200


def test_the_guest_rates_it_after_the_reply(client, dw):
    demand, code = file_as_guest(client)
    with clock.frozen_at(THURSDAY_9AM.replace(hour=10)):
        demand = services.dispatch(dw.dispatcher, demand, unit=dw.city_management, category="environment.garbage").demand
        demand = services.accept(dw.handler, demand).demand
        demand = services.reply(dw.handler, demand, text="路灯已更换，恢复照明").demand
        demand = services.verify(dw.grid_worker, demand).demand
        demand = services.close(dw.dispatcher, demand).demand
    page = client.get(reverse("demands:tracked", args=[demand.number])).content.decode()
    assert "路灯已更换" in page and 'name="satisfaction"' in page
    answer = client.post(reverse("demands:guest_rate", args=[demand.number]),
                         {"solved": "yes", "satisfaction": "satisfied", "note": "谢谢"})
    assert answer.status_code == 302
    demand.refresh_from_db()
    assert demand.state == "rated" and demand.solved is True
    step = demand.events.get(action="rate")
    assert step.actor is None


def test_a_code_does_not_rate_a_demand_filed_with_an_account(dw):
    demand = dw.closed()
    with pytest.raises(PermissionDenied):
        guests.rate(demand, solved=True, satisfaction="satisfied")


def test_look_ups_are_rate_limited_per_address(settings, dw):
    settings.GONGZHI_RATE_LIMITS = {**settings.GONGZHI_RATE_LIMITS, "track": {"address": "3/h"}}
    client = Client()
    statuses = [client.post(reverse("demands:track"), {"number": "1", "code": "X"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_a_signed_in_resident_is_sent_to_the_usual_form(client, dw):
    client.force_login(dw.resident)
    assert client.get(reverse("demands:report"))["Location"] == reverse("demands:new")
