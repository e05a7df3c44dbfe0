"""Patrol's use cases: plans, the day's tasks, check-ins (near, far, none; sent twice; out of scope),
findings solved on the spot or filed (one transaction, photos, original time), verifying with photos."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage

from gongzhi.core import clock
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands.models import Demand, DemandEvent, Photo
from gongzhi.demands.photos import PhotoRefused
from gongzhi.demands.tests.factories import IN_A1, IN_B1, THURSDAY_9AM
from gongzhi.patrol import queries, services
from gongzhi.patrol.models import CheckIn, Finding, PatrolPlan, PatrolTask

from .conftest import jpeg

pytestmark = pytest.mark.django_db
AT = THURSDAY_9AM + dt.timedelta(hours=1)


def _task(pw, grid, stop_name):
    with clock.frozen_at(AT):
        return next(t for t in services.tasks_for(grid, clock.today()) if t.name == stop_name)


# --- plans and tasks ------------------------------------------------------------------------------------

def test_tasks_for_a_day_are_generated_once_however_often_asked(pw):
    day = AT.date()
    first = services.tasks_for(pw.world.grid_a1, day)
    again = services.tasks_for(pw.world.grid_a1, day)
    assert sorted(t.name for t in first) == ["1号楼", "东门"]
    assert [t.pk for t in first] == [t.pk for t in again]
    assert PatrolTask.objects.filter(grid=pw.world.grid_a1, day=day).count() == 2


def test_a_weekday_plan_makes_tasks_on_its_weekdays_only(pw):
    plan = services.create_plan(pw.grid_worker, pw.world.grid_a1, name="周一巡查", places=[pw.gate_a],
                                weekdays=[0], start_date=dt.date(2026, 11, 1))
    monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    assert any(t.plan_id == plan.pk for t in services.tasks_for(pw.world.grid_a1, monday))
    assert not any(t.plan_id == plan.pk for t in services.tasks_for(pw.world.grid_a1, tuesday))


def test_a_stopped_plan_makes_no_more_tasks(pw):
    services.end_plan(pw.world.secretary_a, pw.plan_a)
    assert services.tasks_for(pw.world.grid_a1, AT.date()) == []
    assert Event.objects.filter(kind="patrol.end_plan").count() == 1


def test_a_plan_naming_another_grids_building_is_refused_as_unknown(pw):
    with pytest.raises(NotFound):
        services.create_plan(pw.grid_worker, pw.world.grid_a1, name="x", buildings=[pw.world.building_b1],
                             every_days=1)
    assert not PatrolPlan.objects.filter(name="x").exists()


def test_only_the_community_office_and_the_grids_worker_manage_its_plans(pw):
    w = pw.world
    services.create_plan(w.secretary_a, w.grid_a1, name="党委安排", buildings=[w.building_a1], every_days=2)
    services.create_plan(pw.grid_worker, w.grid_a1, name="我的安排", buildings=[w.building_a1], every_days=3)
    for outsider in (w.secretary_b, pw.grid_worker_b, pw.resident, pw.handler):
        with pytest.raises(PermissionDenied):
            services.create_plan(outsider, w.grid_a1, name="越权", buildings=[w.building_a1], every_days=1)
    with pytest.raises(PermissionDenied):  # a grid worker manages their own grid, not the neighbour's
        services.create_plan(pw.grid_worker, w.grid_a2, name="越权", every_days=1)


def test_a_plan_says_either_every_n_days_or_weekdays(pw):
    for schedule in ({}, {"every_days": 2, "weekdays": [1]}, {"weekdays": [7]}, {"every_days": 400}):
        with pytest.raises(ValidationFailed):
            services.create_plan(pw.grid_worker, pw.world.grid_a1, name="x", places=[pw.gate_a], **schedule)


def test_a_place_must_lie_in_its_grid(pw):
    with pytest.raises(ValidationFailed) as refused:
        services.add_place(pw.grid_worker, pw.world.grid_a1, name="远处", longitude=IN_B1[0], latitude=IN_B1[1])
    assert refused.value.code == "place_outside_grid"
    place = services.add_place(pw.grid_worker, pw.world.grid_a1, name="垃圾站", longitude=116.003, latitude=39.903)
    assert place.grid == pw.world.grid_a1


# --- check-ins ------------------------------------------------------------------------------------------

def test_a_check_in_at_the_place_is_not_flagged_and_keeps_both_times(pw):
    task = _task(pw, pw.world.grid_a1, "东门")
    recorded = AT - dt.timedelta(minutes=20)
    with clock.frozen_at(AT):
        row, created = services.check_in(pw.grid_worker, task, client_key="key-near-0001", longitude=116.0081,
                                          latitude=39.9021, accuracy=15, recorded_at=recorded)
    assert created and not row.is_flagged and row.distance < 20
    assert row.recorded_at == recorded and row.received_at == AT
    event = Event.objects.get(kind="patrol.check_in")
    assert event.data["flagged"] is False and event.private["location"] == [116.0081, 39.9021]


def test_a_check_in_far_from_the_place_is_kept_and_flagged(pw, settings):
    task = _task(pw, pw.world.grid_a1, "东门")
    with clock.frozen_at(AT):
        far, _ = services.check_in(pw.grid_worker, task, client_key="key-far-00001", longitude=116.008,
                                   latitude=39.906)  # about 445 m north
        nowhere, _ = services.check_in(pw.grid_worker, task, client_key="key-none-0001")
    assert far.is_flagged and 400 < far.distance < 500
    assert nowhere.is_flagged and nowhere.distance is None
    settings.GONGZHI_PATROL_CHECK_IN_RADIUS_M = 600
    with clock.frozen_at(AT):
        wide, _ = services.check_in(pw.grid_worker, task, client_key="key-wide-0001", longitude=116.008,
                                    latitude=39.906)
    assert not wide.is_flagged


def test_a_check_in_sent_twice_is_stored_once(pw):
    task = _task(pw, pw.world.grid_a1, "东门")
    with clock.frozen_at(AT):
        first, created = services.check_in(pw.grid_worker, task, client_key="key-twice-001")
        second, again = services.check_in(pw.grid_worker, task, client_key="key-twice-001")
    assert created and not again and first.pk == second.pk
    assert CheckIn.objects.count() == 1 and Event.objects.filter(kind="patrol.check_in").count() == 1


def test_another_workers_key_is_refused(pw):
    task_a, task_b = _task(pw, pw.world.grid_a1, "东门"), _task(pw, pw.world.grid_b1, "9号楼")
    with clock.frozen_at(AT):
        services.check_in(pw.grid_worker, task_a, client_key="key-shared-01")
        with pytest.raises(Conflict):
            services.check_in(pw.grid_worker_b, task_b, client_key="key-shared-01")


def test_a_grid_worker_cannot_check_in_on_another_grids_task(pw):
    task_b = _task(pw, pw.world.grid_b1, "9号楼")
    with clock.frozen_at(AT), pytest.raises(PermissionDenied):
        services.check_in(pw.grid_worker, task_b, client_key="key-other-001")
    with pytest.raises(NotFound):
        queries.get_task(pw.grid_worker, task_b.pk)
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize("recorded, code", [
    (AT + dt.timedelta(hours=1), "recorded_at_future"),
    (AT - dt.timedelta(days=8), "recorded_at_too_old"),
    (AT - dt.timedelta(days=1), "wrong_day"),
])
def test_a_check_in_with_a_time_out_of_bounds_is_refused(pw, recorded, code):
    task = _task(pw, pw.world.grid_a1, "东门")
    with clock.frozen_at(AT), pytest.raises(ValidationFailed) as refused:
        services.check_in(pw.grid_worker, task, client_key="key-time-0001", recorded_at=recorded)
    assert refused.value.code == code
    assert CheckIn.objects.count() == 0


def test_a_client_key_must_look_like_one(pw):
    task = _task(pw, pw.world.grid_a1, "东门")
    with clock.frozen_at(AT), pytest.raises(ValidationFailed):
        services.check_in(pw.grid_worker, task, client_key="short")


# --- findings -------------------------------------------------------------------------------------------

def test_a_finding_solved_on_the_spot_is_a_closed_patrol_demand_with_its_after_photo(pw, photo):
    seen = AT - dt.timedelta(hours=2)
    with clock.frozen_at(AT):
        finding, created = services.record_finding(
            pw.grid_worker, client_key="find-solved-01", text="楼道里堆放的纸箱挡住了消防通道", solved=True,
            solution="已联系住户搬走纸箱", longitude=IN_A1[0], latitude=IN_A1[1], photos=[photo],
            recorded_at=seen)
    demand = finding.demand
    assert created and finding.solved_on_the_spot
    assert demand.channel == Demand.Channel.PATROL and demand.state == "closed"
    assert demand.received_at == seen and demand.closed_at == seen and demand.reply == "已联系住户搬走纸箱"
    assert demand.lead_unit == pw.world.committee_a
    assert finding.recorded_at == seen and finding.received_at == AT
    after = Photo.objects.get(demand=demand)
    assert after.stage == Photo.Stage.REPLY and default_storage.exists(after.image.name)
    assert list(DemandEvent.objects.filter(demand=demand).values_list("action", flat=True)) == [
        "file", "solve_on_spot", "photo"]
    assert Event.objects.filter(kind="patrol.finding", subject_id=str(finding.pk)).exists()


def test_a_solved_finding_without_an_after_photo_is_refused(pw):
    with clock.frozen_at(AT), pytest.raises(ValidationFailed):
        services.record_finding(pw.grid_worker, client_key="find-nophoto-1", text="井盖松动", solved=True,
                                solution="已固定", longitude=IN_A1[0], latitude=IN_A1[1])
    assert not Demand.objects.exists()


def test_a_finding_is_one_transaction_a_bad_photo_stores_nothing(pw):
    with clock.frozen_at(AT), pytest.raises(PhotoRefused):
        services.record_finding(pw.grid_worker, client_key="find-badphoto", text="路灯不亮", solved=True,
                                solution="已报修", longitude=IN_A1[0], latitude=IN_A1[1], photos=[b"not a picture"])
    assert not Demand.objects.exists() and not Finding.objects.exists()
    assert not Event.objects.filter(kind__startswith="demands.").exists()


def test_a_filed_finding_enters_the_loop_with_its_photos_as_reported(pw, photo):
    with clock.frozen_at(AT):
        finding, _ = services.record_finding(
            pw.grid_worker, client_key="find-filed-001", text="小区东门路面塌陷一个坑", solved=False,
            longitude=IN_A1[0], latitude=IN_A1[1], photos=[photo])
    demand = finding.demand
    assert demand.channel == Demand.Channel.PATROL and demand.state not in ("closed", "verified")
    assert Photo.objects.get(demand=demand).stage == Photo.Stage.REPORT


def test_a_finding_sent_twice_makes_one_demand(pw, photo):
    kwargs = dict(client_key="find-twice-001", text="垃圾桶满溢", solved=True, solution="已清理",
                  longitude=IN_A1[0], latitude=IN_A1[1], photos=[photo])
    with clock.frozen_at(AT):
        first, created = services.record_finding(pw.grid_worker, **kwargs)
        second, again = services.record_finding(pw.grid_worker, **kwargs)
    assert created and not again and first.pk == second.pk
    assert Demand.objects.count() == 1


def test_a_finding_outside_the_workers_grid_is_refused(pw, photo):
    with clock.frozen_at(AT), pytest.raises(PermissionDenied):
        services.record_finding(pw.grid_worker, client_key="find-outside1", text="别处的问题", solved=True,
                                solution="已处理", longitude=IN_B1[0], latitude=IN_B1[1], photos=[photo])
    task_b = _task(pw, pw.world.grid_b1, "9号楼")
    with clock.frozen_at(AT), pytest.raises(PermissionDenied):
        services.record_finding(pw.grid_worker, client_key="find-outside2", text="别处的问题", solved=False,
                                longitude=IN_A1[0], latitude=IN_A1[1], task=task_b)
    assert not Demand.objects.exists()


# --- verifying ------------------------------------------------------------------------------------------

def _replied(pw):
    demand = pw.dispatched()
    with clock.frozen_at(AT):
        from gongzhi.demands import services as demand_services

        demand = demand_services.accept(pw.handler, demand).demand
        return demand_services.reply(pw.handler, demand, text="已清运").demand


def test_verifying_with_photos_keeps_them_with_the_after_photos(pw, photo):
    demand = _replied(pw)
    assert list(queries.to_verify(pw.grid_worker)) == [demand]
    assert list(queries.to_verify(pw.grid_worker_b)) == []
    with clock.frozen_at(AT + dt.timedelta(hours=1)):
        step = services.verify(pw.grid_worker, demand, note="现场已清理", photos=[photo, jpeg((0, 90, 0))])
    assert step.demand.state == "verified"
    assert Photo.objects.filter(demand=demand, stage=Photo.Stage.REPLY).count() == 2
    assert list(queries.to_verify(pw.grid_worker)) == []


def test_a_grid_worker_cannot_verify_outside_their_grid(pw, photo):
    demand = _replied(pw)
    with pytest.raises(PermissionDenied):
        services.verify(pw.grid_worker_b, demand, photos=[photo])
    demand.refresh_from_db()
    assert demand.state == "replied" and not Photo.objects.filter(demand=demand).exists()


# --- the home page's counts -----------------------------------------------------------------------------

def test_a_grid_worker_sees_stops_left_and_demands_to_verify(pw):
    _replied(pw)
    with clock.frozen_at(AT):
        items = {i.key: i for i in queries.work_items(pw.grid_worker)}
        services.check_in(pw.grid_worker, _task(pw, pw.world.grid_a1, "东门"), client_key="key-home-0001")
        after = {i.key: i for i in queries.work_items(pw.grid_worker)}
    assert items["patrol.left"].count == 2 and after["patrol.left"].count == 1
    assert items["patrol.verify"].count == 1 and items["patrol.verify"].url == "/patrol/verify/"
    assert queries.work_items(pw.world.secretary_a) == []
