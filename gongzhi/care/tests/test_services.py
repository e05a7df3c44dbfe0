"""Care use cases (care/services.py, queries.py): scope, masking, the overdue schedule, 代办 and notices."""

import datetime as dt
import io

import pytest
from PIL import Image

from gongzhi.care import queries, services
from gongzhi.care.models import CareRegistration, Notice, Visit, VisitPhoto
from gongzhi.core import clock
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands import queries as demand_queries
from gongzhi.demands.models import Demand, DemandEvent
from gongzhi.org.models import Building

from .factories import MONDAY, photo_bytes

pytestmark = pytest.mark.django_db


def _register(cw, person, group="elderly_alone", *, days_ago=20):
    with clock.frozen_at(MONDAY - dt.timedelta(days=days_ago)):
        return services.register(cw.grid_worker_a1, person=person, group=group)


# --- scope ----------------------------------------------------------------------------------------------

def test_a_grid_worker_logs_a_visit_in_their_grid(cw):
    w = cw.world
    with clock.frozen_at(MONDAY):
        visit = services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="routine", person=w.resident_a,
                                   note="家中一切正常")
    assert visit.visitor == cw.grid_worker_a1 and visit.person == w.resident_a
    assert Event.objects.filter(kind="care.visit_logged", subject_id=str(visit.pk)).exists()


def test_a_grid_worker_cannot_log_a_visit_to_a_household_outside_their_grid(cw):
    w = cw.world
    with pytest.raises(NotFound):
        services.log_visit(cw.grid_worker_a1, household=w.household_b, kind="routine")
    with pytest.raises(NotFound):
        services.log_visit(cw.grid_worker_b1, household=w.household_a, kind="routine")
    assert not Visit.objects.exists()


def test_a_building_lead_sees_the_household_but_logs_no_care_visit(cw):
    with pytest.raises(PermissionDenied):
        services.log_visit(cw.lead, household=cw.world.household_a, kind="care")


def test_the_person_visited_must_live_in_the_household(cw):
    w = cw.world
    with pytest.raises(NotFound):
        services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="care", person=cw.elderly.pk)
    with pytest.raises(NotFound):  # another grid's resident, named by id in the request
        services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="care", person=w.resident_b.pk)
    assert not Visit.objects.exists()


def test_a_followed_up_demand_must_be_one_the_visitor_may_see(cw):
    w = cw.world
    elsewhere = cw.dw.file(where=(116.025, 39.905), text="西园路9号楼道灯坏了")  # grid B1
    with pytest.raises(NotFound):
        services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="follow_up", follow_up=elsewhere.number)
    with pytest.raises(ValidationFailed):
        services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="follow_up")
    mine = cw.dw.file(text="东园路1号门口垃圾没人清运")
    visit = services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="follow_up", follow_up=mine.number)
    assert visit.follow_up_of == mine


def test_registering_is_for_the_office_and_the_grid_worker_of_the_persons_grid(cw):
    registration = services.register(cw.grid_worker_a1, person=cw.elderly, group="elderly_alone", note="子女在外地")
    assert registration.group.visit_every_days == 7
    with pytest.raises(Conflict):
        services.register(cw.office_a, person=cw.elderly, group="elderly_alone")
    services.register(cw.office_a, person=cw.elderly, group="low_income")
    with pytest.raises(NotFound):
        services.register(cw.grid_worker_b1, person=cw.elderly, group="disabled")
    with pytest.raises(PermissionDenied):
        services.register(cw.lead, person=cw.elderly, group="disabled")
    with pytest.raises(ValidationFailed):
        services.register(cw.grid_worker_a1, person=cw.elderly, group="no_such_group")
    assert CareRegistration.objects.filter(person=cw.elderly).count() == 2


def test_an_ended_registration_leaves_the_list_and_may_be_made_again(cw):
    registration = _register(cw, cw.elderly)
    with pytest.raises(ValidationFailed):
        services.end_registration(cw.grid_worker_a1, registration, reason="  ")
    services.end_registration(cw.grid_worker_a1, registration, reason="搬去与子女同住")
    with clock.frozen_at(MONDAY):
        assert queries.care_rows(cw.grid_worker_a1) == []
    services.register(cw.grid_worker_a1, person=cw.elderly, group="elderly_alone")


# --- the overdue schedule --------------------------------------------------------------------------------

def test_a_person_not_visited_for_longer_than_their_interval_is_overdue_until_visited(cw):
    _register(cw, cw.elderly, days_ago=20)  # elderly living alone: every 7 days
    with clock.frozen_at(MONDAY):
        [row] = queries.care_rows(cw.grid_worker_a1)
        assert row.is_overdue and row.days_overdue == 13 and row.last_visit is None
        assert queries.counts(cw.grid_worker_a1) == {"overdue": 1, "this_week": 0}
        services.log_visit(cw.grid_worker_a1, household=cw.household_a2, kind="care", person=cw.elderly)
        [row] = queries.care_rows(cw.grid_worker_a1)
        assert not row.is_overdue and row.due == MONDAY.date() + dt.timedelta(days=7)
        assert queries.care_rows(cw.grid_worker_a1, status="overdue") == []


def test_a_visit_to_the_household_counts_but_a_visit_to_another_member_does_not(cw):
    _register(cw, cw.elderly, days_ago=20)
    lead_person = cw.lead.person
    with clock.frozen_at(MONDAY):
        services.log_visit(cw.grid_worker_a1, household=cw.household_a2, kind="routine", person=lead_person)
        assert queries.care_rows(cw.grid_worker_a1)[0].is_overdue
        services.log_visit(cw.grid_worker_a1, household=cw.household_a2, kind="routine")
        assert not queries.care_rows(cw.grid_worker_a1)[0].is_overdue


def test_the_list_puts_the_overdue_first_and_the_longest_overdue_first(cw):
    w = cw.world
    _register(cw, w.resident_a, "disabled", days_ago=15)      # every 14 days: overdue by 1
    _register(cw, cw.elderly, "elderly_alone", days_ago=20)   # every 7 days: overdue by 13
    _register(cw, cw.lead.person, "low_income", days_ago=3)   # every 30 days: later
    with clock.frozen_at(MONDAY):
        rows = queries.care_rows(cw.grid_worker_a1)
    assert [(r.person.name, r.days_overdue) for r in rows] == [("王秀英", 13), ("张三", 1), ("赵六", 0)]
    assert [r.status for r in rows] == ["overdue", "overdue", "later"]


def test_a_grid_worker_sees_only_their_grids_register_and_the_office_its_community(cw):
    _register(cw, cw.elderly)
    with clock.frozen_at(MONDAY):
        assert queries.care_rows(cw.grid_worker_b1) == []
        assert len(queries.care_rows(cw.office_a)) == 1
        with pytest.raises(PermissionDenied):
            queries.care_rows(cw.lead)


def test_visit_photos_are_stored_without_exif(cw):
    visit = services.log_visit(cw.grid_worker_a1, household=cw.world.household_a, kind="care",
                               photos=[photo_bytes()])
    [stored] = VisitPhoto.objects.filter(visit=visit)
    with stored.image.open("rb") as f:
        image = Image.open(io.BytesIO(f.read()))
        assert image.format == "JPEG" and not dict(image.getexif())
    with pytest.raises(ValidationFailed):
        services.log_visit(cw.grid_worker_a1, household=cw.world.household_a, kind="care", photos=[b"not a picture"])
    assert Visit.objects.count() == 1


def test_a_demand_filed_from_a_visit_is_the_residents_and_comes_from_the_patrol(cw):
    w = cw.world
    visit = services.log_visit(cw.grid_worker_a1, household=w.household_a, kind="routine", person=w.resident_a,
                               demand_text="家里卫生间漏水到楼下，需要物业维修")
    demand = visit.filed_demand
    assert demand.channel == Demand.Channel.PATROL and demand.reporter == w.resident_a
    assert demand.grid == w.grid_a1


# --- the building lead: their building only, masked as their post allows ----------------------------------

def test_a_building_lead_sees_only_their_building(cw):
    w = cw.world
    other = Building.objects.create(grid=w.grid_a1, name="2号楼", address="东园路2号", longitude=116.006,
                                    latitude=39.906)
    assert list(queries.buildings(cw.lead)) == [w.building_a1]
    assert queries.building_for(cw.lead, w.building_a1.pk) == w.building_a1
    with pytest.raises(PermissionDenied):  # the same grid: the building is known, its page is not theirs
        queries.building_for(cw.lead, other.pk)
    with pytest.raises(NotFound):  # another community's building does not exist for them
        queries.building_for(cw.lead, w.building_b1.pk)


def test_a_building_lead_sees_names_but_not_numbers_of_their_buildings_residents(cw):
    households = queries.households(cw.lead, cw.world.building_a1)
    cards = {m["person"].pk: m["card"] for h in households for m in h["members"]}
    card = cards[cw.world.resident_a.pk]
    assert card.name == "张三" and "东园路1号" in card.address  # shown to a building lead (near tier)
    assert card.phone == "139****1111" and "phone" in card.revealable  # revealed only on request, logged
    assert "1980" not in card.id_number and "id_number" not in card.revealable
    assert card.is_party_member is None  # party membership masked for a building lead
    assert cw.world.resident_b.pk not in cards


def test_a_building_lead_revealing_a_residents_phone_is_logged(cw, client):
    from django.urls import reverse

    from gongzhi.org.models import PersonalDataAccess

    client.force_login(cw.lead)
    url = reverse("org:reveal_personal_data", args=[cw.world.resident_a.pk])
    response = client.post(url, {"purpose": "通知停水检修需电话联系"})
    assert response.status_code == 200 and "13900001111" in response.content.decode()
    access = PersonalDataAccess.objects.get(user=cw.lead)
    assert access.person == cw.world.resident_a and access.fields == ["phone"]
    assert client.post(reverse("org:reveal_personal_data", args=[cw.world.resident_b.pk]),
                       {"purpose": "通知停水检修需电话联系"}).status_code == 404
    assert PersonalDataAccess.objects.count() == 1


# --- 代办 and notices -----------------------------------------------------------------------------------------

def test_a_building_lead_files_a_demand_for_a_resident_and_the_timeline_says_so(cw):
    step = services.file_on_behalf(cw.lead, building=cw.world.building_a1, person=cw.elderly.pk,
                                   text="王秀英家暖气不热，老人行动不便", photos=[photo_bytes()])
    demand = step.demand
    assert demand.reporter == cw.elderly and demand.reporter_user == cw.lead
    assert demand.channel == Demand.Channel.WEB and demand.photos.count() == 1
    filed = DemandEvent.objects.get(demand=demand, action="file")
    assert "代办" in filed.note and "赵六" in filed.note
    assert filed.event.data["on_behalf"] is True
    assert demand in queries.open_demands(cw.world.building_a1)
    assert demand in demand_queries.reported_by(cw.lead)  # the lead follows it in "my demands"


def test_filing_on_behalf_is_for_a_resident_of_the_leads_own_building(cw):
    before = Demand.objects.count()
    with pytest.raises(NotFound):
        services.file_on_behalf(cw.lead, building=cw.world.building_a1, person=cw.world.resident_b.pk, text="楼道灯坏了")
    with pytest.raises(NotFound):
        services.file_on_behalf(cw.lead, building=cw.world.building_b1, person=cw.world.resident_b.pk, text="楼道灯坏了")
    with pytest.raises(PermissionDenied):
        services.file_on_behalf(cw.grid_worker_a1, building=cw.world.building_a1, person=cw.elderly.pk, text="楼道灯坏了")
    with pytest.raises(ValidationFailed):  # a bad photo refuses the whole filing
        services.file_on_behalf(cw.lead, building=cw.world.building_a1, person=cw.elderly.pk, text="楼道灯坏了",
                                photos=[b"GIF89a broken"])
    assert Demand.objects.count() == before


def test_a_notice_reaches_the_residents_of_the_building_only(cw):
    w = cw.world
    notice = services.post_notice(cw.lead, building=w.building_a1, text="周三上午停水检修，请提前储水")
    assert Event.objects.filter(kind="care.notice_posted", subject_id=str(notice.pk)).exists()
    building, shown = queries.notices_for_resident(cw.dw.resident)  # 张三 lives in building A1
    assert building == w.building_a1 and shown == [notice]
    w.resident_b.user = cw.dw.other_resident
    w.resident_b.save()
    assert queries.notices_for_resident(cw.dw.other_resident) == (w.building_b1, [])
    with pytest.raises(NotFound):
        services.post_notice(cw.lead, building=w.building_b1, text="别的楼的通知")
    with pytest.raises(PermissionDenied):
        services.post_notice(cw.grid_worker_a1, building=w.building_a1, text="网格员不发楼栋通知")
    assert Notice.objects.count() == 1


def test_work_items_count_what_waits_and_link_to_the_filtered_list(cw):
    from gongzhi.core import workbench

    _register(cw, cw.elderly, days_ago=20)
    services.post_notice(cw.lead, building=cw.world.building_a1, text="周三上午停水检修，请提前储水")
    services.file_on_behalf(cw.lead, building=cw.world.building_a1, person=cw.elderly.pk, text="暖气不热")
    with clock.frozen_at(MONDAY):
        items = {i.key: i for i in workbench.items_for(cw.grid_worker_a1) if i.key.startswith("care.")}
        assert items["care.overdue"].count == 1 and items["care.overdue"].urgent
        assert items["care.overdue"].url == "/care/?status=overdue"
    lead_items = {i.key: i for i in workbench.items_for(cw.lead) if i.key.startswith("care.")}
    building = cw.world.building_a1.pk
    assert lead_items[f"care.building_demands.{building}"].count == 1
    assert lead_items[f"care.building_demands.{building}"].url == f"/care/buildings/{building}/demands/"
    assert lead_items[f"care.notices.{building}"].count == 1
    assert not [i for i in workbench.items_for(cw.dw.resident) if i.key.startswith("care.")]
    from gongzhi.org.models import ResidentAccount

    ResidentAccount.objects.create(user=cw.dw.resident, phone_digest="0" * 64, confirmed_at=clock.now())
    cw.dw.resident.refresh_from_db()
    [mine] = [i for i in workbench.items_for(cw.dw.resident) if i.key.startswith("care.")]
    assert mine.count == 1 and mine.url == "/org/my-household/"
