"""The care pages answered over HTTP: each page for its people, 403 for those who may see the place but not act
there, 404 outside their sight, bad forms 400 with nothing stored."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.conf import settings
from django.urls import reverse

from gongzhi.care import services
from gongzhi.care.models import Notice, Visit
from gongzhi.core import clock
from gongzhi.demands.models import Demand

from .factories import MONDAY, photo_bytes

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


def test_the_care_list_shows_the_overdue_first_with_their_schedule(cw, client):
    with clock.frozen_at(MONDAY - dt.timedelta(days=20)):
        services.register(cw.grid_worker_a1, person=cw.elderly, group="elderly_alone")
    with clock.frozen_at(MONDAY):
        page = _as(client, cw.grid_worker_a1).get(reverse("care:home") + "?status=overdue")
    body = page.content.decode()
    assert page.status_code == 200 and "王秀英" in body and "care-overdue" in body
    assert "110105194001010021" not in body  # no ID number on the list
    with clock.frozen_at(MONDAY):
        assert "王秀英" not in client.get(reverse("care:home") + "?status=this_week").content.decode()
        assert "王秀英" in client.get(reverse("care:home"), {"grid": cw.world.grid_a1.pk}).content.decode()
        assert client.get(reverse("care:home"), {"grid": cw.world.grid_b1.pk}).status_code == 404


def test_a_building_lead_goes_from_the_care_list_to_their_building_and_a_resident_is_refused(cw, client):
    response = _as(client, cw.lead).get(reverse("care:home"))
    assert response.status_code == 302 and response.url == reverse("care:building", args=[cw.world.building_a1.pk])
    assert _as(client, cw.dw.resident).get(reverse("care:home")).status_code == 403


def test_the_building_page_shows_households_masked_for_the_lead(cw, client):
    body = _as(client, cw.lead).get(reverse("care:building", args=[cw.world.building_a1.pk])).content.decode()
    assert "张三" in body and "139****1111" in body and "13900001111" not in body
    assert "李四" not in body
    assert client.get(reverse("care:building", args=[cw.world.building_b1.pk])).status_code == 404


def test_the_lead_files_on_behalf_through_the_page(cw, client):
    _as(client, cw.lead)
    url = reverse("care:on_behalf", args=[cw.world.building_a1.pk])
    assert "王秀英" in client.get(url).content.decode()
    response = client.post(url, {"person": cw.elderly.pk, "text": "楼下路灯不亮，老人晚上出门不便",
                                 "photos": SimpleUploadedFile("a.jpg", photo_bytes(), "image/jpeg")})
    assert response.status_code == 302
    demand = Demand.objects.get(reporter=cw.elderly)
    listed = client.get(reverse("care:building_demands", args=[cw.world.building_a1.pk])).content.decode()
    assert demand.number in listed and "代办" in listed
    bad = client.post(url, {"person": cw.world.resident_b.pk, "text": "楼道灯坏了"})
    assert bad.status_code == 400 and Demand.objects.count() == 1


def test_a_visit_logged_through_the_page_with_a_photo_and_its_photo_served_to_the_grid_only(cw, client):
    _as(client, cw.grid_worker_a1)
    household = cw.world.household_a
    assert client.get(reverse("care:household", args=[household.pk])).status_code == 200
    response = client.post(reverse("care:log_visit", args=[household.pk]), {
        "kind": "care", "person": cw.world.resident_a.pk, "note": "身体很好",
        "photos": SimpleUploadedFile("v.jpg", photo_bytes(), "image/jpeg")})
    assert response.status_code == 302
    photo = Visit.objects.get().photos.get()
    served = client.get(reverse("care:visit_photo_thumb", args=[photo.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert _as(client, cw.grid_worker_b1).get(reverse("care:visit_photo", args=[photo.pk])).status_code == 404
    assert _as(client, cw.lead).get(reverse("care:visit_photo", args=[photo.pk])).status_code == 403


def test_a_visit_form_with_an_unknown_kind_is_400_and_stores_nothing(cw, client):
    _as(client, cw.grid_worker_a1)
    response = client.post(reverse("care:log_visit", args=[cw.world.household_a.pk]), {"kind": "party"})
    assert response.status_code == 400 and not Visit.objects.exists()
    assert client.post(reverse("care:log_visit", args=[cw.world.household_b.pk]), {"kind": "care"}).status_code == 404


def test_registering_and_ending_through_the_household_page(cw, client):
    _as(client, cw.grid_worker_a1)
    url = reverse("care:register", args=[cw.household_a2.pk])
    assert client.post(url, {"person": cw.elderly.pk, "group": "elderly_alone"}).status_code == 302
    registration = cw.elderly.care_registrations.get()
    assert client.post(url, {"person": cw.elderly.pk, "group": "elderly_alone"}).status_code == 409
    end = reverse("care:end_registration", args=[registration.pk])
    assert _as(client, cw.grid_worker_b1).post(end, {"reason": "搬走了"}).status_code == 404
    assert _as(client, cw.lead).post(end, {"reason": "搬走了"}).status_code == 403
    assert _as(client, cw.grid_worker_a1).post(end, {"reason": "搬去与子女同住"}).status_code == 302
    registration.refresh_from_db()
    assert registration.ended_at is not None


def test_notices_posted_by_the_lead_appear_where_residents_live(cw, client):
    _as(client, cw.lead)
    url = reverse("care:notices", args=[cw.world.building_a1.pk])
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "周三上午停水检修，请提前储水"}).status_code == 302
    assert Notice.objects.count() == 1
    from gongzhi.org.models import ResidentAccount

    ResidentAccount.objects.create(user=cw.dw.resident, phone_digest="0" * 64, confirmed_at=clock.now())
    home = _as(client, cw.dw.resident).get(reverse("org:my_household")).content.decode()
    assert "周三上午停水检修" in home
    assert _as(client, cw.grid_worker_a1).post(url, {"text": "网格员通知"}).status_code == 403


def test_log_a_visit_from_the_overdue_list_preselects_the_person_and_the_forms_have_distinct_ids(cw, client):
    with clock.frozen_at(MONDAY - dt.timedelta(days=20)):
        services.register(cw.grid_worker_a1, person=cw.elderly, group="elderly_alone")
    _as(client, cw.grid_worker_a1)
    with clock.frozen_at(MONDAY):
        listed = client.get(reverse("care:home") + "?status=overdue").content.decode()
    url = reverse("care:household", args=[cw.household_a2.pk])
    link = f"{url}?person={cw.elderly.pk}#visit"
    assert f'href="{link}"' in listed
    body = client.get(f"{url}?person={cw.elderly.pk}").content.decode()
    assert f'<option value="{cw.elderly.pk}" selected>' in body
    assert body.count('id="visit_person"') == 1 and body.count('id="register_person"') == 1
    assert 'id="id_person"' not in body and 'id="id_note"' not in body
    assert 'for="visit_note"' in body and 'for="register_note"' in body
    # A person of another household (or not a number) is refused, not silently ignored.
    assert client.get(f"{url}?person={cw.world.resident_a.pk}").status_code == 400
    assert client.get(f"{url}?person=abc").status_code == 400
    # The visit form still posts under its field names.
    assert client.post(reverse("care:log_visit", args=[cw.household_a2.pk]),
                       {"kind": "care", "person": cw.elderly.pk, "note": "精神不错"}).status_code == 302
    assert Visit.objects.get().person == cw.elderly


def test_a_demand_filed_on_behalf_says_so_by_its_channel_and_the_leads_messages_say_it_is_the_residents(
        cw, client):
    from gongzhi.demands import services as demand_services
    from gongzhi.demands.models import Notification

    step = services.file_on_behalf(cw.lead, building=cw.world.building_a1, person=cw.elderly.pk,
                                   text="楼道灯坏了，老人晚上看不见")
    demand = step.demand
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _as(client, cw.lead).get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "filed on behalf (代办) by the building lead" in page
    demand_services.dispatch(cw.dw.dispatcher, demand, unit=cw.dw.city_management,
                             category="environment.garbage")
    told = Notification.objects.get(recipient_user=cw.lead, kind="dispatch")
    assert demand.number in told.text
    assert "for a resident" in told.text or "代居民" in told.text
    assert not told.text.startswith("Your demand") and "您的诉求" not in told.text
    # A demand the lead files for themself keeps the usual words, and no 代办 beside its channel.
    own = demand_services.file_demand(cw.lead, text="我家门口的路灯坏了", longitude=116.005,
                                      latitude=39.905).demand
    assert "filed on behalf" not in client.get(reverse("demands:detail", args=[own.number])).content.decode()
    demand_services.dispatch(cw.dw.dispatcher, own, unit=cw.dw.city_management,
                             category="environment.garbage")
    mine = Notification.objects.get(recipient_user=cw.lead, kind="dispatch", demand=own)
    assert "for a resident" not in mine.text and "代居民" not in mine.text
