"""The patrol pages through HTTP: today's page, check-in and finding as the page's script sends them
(JSON), the plan pages, verifying with photos; every id in a request checked against the caller's scope."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from gongzhi.core import clock
from gongzhi.demands.models import Demand, Photo
from gongzhi.demands.tests.factories import IN_A1
from gongzhi.patrol import services
from gongzhi.patrol.models import CheckIn, Finding, PatrolPlan

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _tasks(grid):
    return {t.name: t for t in services.tasks_for(grid, clock.today())}


def test_todays_page_lists_the_workers_stops_and_only_theirs(pw):
    page = client(pw.grid_worker).get("/patrol/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "1号楼" in body and "东门" in body and "9号楼" not in body
    assert 'id="outbox-status"' in body and "patrol/patrol.js" in body


def test_todays_page_for_someone_without_a_grid_says_so(pw):
    page = client(pw.resident).get("/patrol/")
    assert page.status_code == 200 and b"patrol-task" not in page.content


def test_only_those_left_lists_the_stops_not_yet_checked_in(pw):
    task = _tasks(pw.world.grid_a1)["东门"]
    client(pw.grid_worker).post(f"/patrol/tasks/{task.pk}/check-in/", {"client_key": "view-left-001"}, **JSON)
    body = client(pw.grid_worker).get("/patrol/?left=1").content.decode()
    assert "1号楼" in body and "东门" not in body


def test_check_in_answers_json_once_per_key(pw):
    task = _tasks(pw.world.grid_a1)["东门"]
    c = client(pw.grid_worker)
    recorded = timezone.now() - dt.timedelta(minutes=5)
    data = {"client_key": "view-check-01", "longitude": "116.008", "latitude": "39.902",
            "recorded_at": recorded.isoformat()}
    first = c.post(f"/patrol/tasks/{task.pk}/check-in/", data, **JSON)
    again = c.post(f"/patrol/tasks/{task.pk}/check-in/", data, **JSON)
    assert first.status_code == 201 and first.json()["flagged"] is False
    assert again.status_code == 200 and again.json()["created"] is False
    assert CheckIn.objects.get().recorded_at == recorded


def test_check_in_on_another_grids_task_is_404_like_a_task_that_does_not_exist(pw):
    task_b = _tasks(pw.world.grid_b1)["9号楼"]
    c = client(pw.grid_worker)
    other = c.post(f"/patrol/tasks/{task_b.pk}/check-in/", {"client_key": "view-other-01"}, **JSON)
    missing = c.post("/patrol/tasks/999999/check-in/", {"client_key": "view-other-02"}, **JSON)
    assert other.status_code == missing.status_code == 404
    assert not CheckIn.objects.exists()


def test_check_in_with_a_future_time_is_a_clear_400(pw):
    task = _tasks(pw.world.grid_a1)["东门"]
    answer = client(pw.grid_worker).post(
        f"/patrol/tasks/{task.pk}/check-in/",
        {"client_key": "view-future-1", "recorded_at": (timezone.now() + dt.timedelta(hours=2)).isoformat()}, **JSON)
    assert answer.status_code == 400 and answer.json()["code"] == "recorded_at_future"


def test_a_finding_posted_by_the_page_becomes_a_closed_patrol_demand(pw, photo):
    recorded = timezone.now() - dt.timedelta(hours=1)
    answer = client(pw.grid_worker).post("/patrol/findings/", {
        "client_key": "view-finding-1", "text": "消防通道被电动车堵住", "solved": "yes",
        "solution": "已劝离车主", "longitude": IN_A1[0], "latitude": IN_A1[1], "recorded_at": recorded.isoformat(),
        "photos": [SimpleUploadedFile("after.jpg", photo, content_type="image/jpeg")]}, **JSON)
    assert answer.status_code == 201, answer.content
    demand = Demand.objects.get(number=answer.json()["number"])
    assert demand.state == "closed" and demand.channel == "patrol" and demand.received_at == recorded
    assert demand.photos.get().stage == Photo.Stage.REPLY


def test_a_finding_naming_another_grids_task_is_404(pw, photo):
    task_b = _tasks(pw.world.grid_b1)["9号楼"]
    answer = client(pw.grid_worker).post("/patrol/findings/", {
        "client_key": "view-finding-2", "text": "x", "solved": "no", "longitude": IN_A1[0], "latitude": IN_A1[1],
        "task": task_b.pk}, **JSON)
    assert answer.status_code == 404 and not Finding.objects.exists()


def test_a_finding_without_text_is_a_400_with_the_fields(pw):
    answer = client(pw.grid_worker).post("/patrol/findings/", {"client_key": "view-finding-3", "solved": "no"},
                                         **JSON)
    assert answer.status_code == 400 and "text" in answer.json()["fields"]


def test_the_plan_page_shows_the_grids_plans_and_adds_one(pw):
    c = client(pw.world.secretary_a)
    page = c.get(f"/patrol/plans/?grid={pw.world.grid_a1.pk}")
    assert page.status_code == 200 and "日常巡查" in page.content.decode()
    done = c.post("/patrol/plans/add/", {"grid": pw.world.grid_a1.pk, "name": "周末巡查", "places": [pw.gate_a.pk],
                                         "weekdays": ["5", "6"]})
    assert done.status_code == 302
    assert PatrolPlan.objects.get(name="周末巡查").weekdays == [5, 6]


def test_plan_pages_answer_404_for_another_communitys_grid_plan_or_building(pw):
    c = client(pw.world.secretary_a)
    w = pw.world
    assert c.get(f"/patrol/plans/?grid={w.grid_b1.pk}").status_code == 404
    assert c.post("/patrol/plans/add/", {"grid": w.grid_b1.pk, "name": "越权", "every_days": 1,
                                         "buildings": [w.building_b1.pk]}).status_code == 404
    assert c.post("/patrol/plans/add/", {"grid": w.grid_a1.pk, "name": "越权", "every_days": 1,
                                         "buildings": [w.building_b1.pk]}).status_code == 404
    assert c.post("/patrol/plans/places/", {"grid": w.grid_b1.pk, "name": "越权", "longitude": 116.025,
                                            "latitude": 39.905}).status_code == 404
    assert c.post(f"/patrol/plans/{pw.plan_b.pk}/end/").status_code == 404
    assert not PatrolPlan.objects.filter(name="越权").exists()
    pw.plan_b.refresh_from_db()
    assert pw.plan_b.is_active


def _replied(pw):
    from gongzhi.demands import services as demand_services

    demand = pw.dispatched(at=timezone.now() - dt.timedelta(hours=3))
    demand = demand_services.accept(pw.handler, demand).demand
    return demand_services.reply(pw.handler, demand, text="已清运").demand


def test_verifying_from_the_patrol_pages_with_a_photo(pw, photo):
    demand = _replied(pw)
    c = client(pw.grid_worker)
    listed = c.get("/patrol/verify/").content.decode()
    assert f"/patrol/verify/{demand.number}/" in listed
    assert c.get(f"/patrol/verify/{demand.number}/").status_code == 200
    done = c.post(f"/patrol/verify/{demand.number}/", {
        "note": "现场已清理", "photos": [SimpleUploadedFile("p.jpg", photo, content_type="image/jpeg")]})
    assert done.status_code == 302
    demand.refresh_from_db()
    assert demand.state == "verified" and demand.photos.filter(stage="reply").count() == 1


def test_verifying_outside_ones_grid_is_404(pw, photo):
    demand = _replied(pw)
    c = client(pw.grid_worker_b)
    assert c.get(f"/patrol/verify/{demand.number}/").status_code == 404
    assert c.post(f"/patrol/verify/{demand.number}/", {"note": "x"}).status_code == 404
    assert demand.number not in c.get("/patrol/verify/").content.decode()
    demand.refresh_from_db()
    assert demand.state == "replied"


def test_a_finding_answers_its_number_link_and_state_in_words_and_the_list_labels_the_number(pw, photo):
    from django.conf import settings

    c = client(pw.grid_worker)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    answer = c.post("/patrol/findings/", {
        "client_key": "view-finding-4", "text": "路灯不亮", "solved": "no", "longitude": IN_A1[0],
        "latitude": IN_A1[1]}, **JSON)
    assert answer.status_code == 201, answer.content
    number = answer.json()["number"]
    assert answer.json()["url"] == f"/demands/{number}/"
    assert answer.json()["state"] == "submitted"
    body = c.get("/patrol/").content.decode()
    assert f'Demand number <a href="/demands/{number}/">{number}</a>' in body
    assert '<span class="badge state">submitted</span>' in body


def test_the_grid_worker_reports_a_replied_demand_not_done_and_the_desk_is_told_to_reopen_it(pw, photo):
    from gongzhi.core import policy
    from gongzhi.core.models import Event
    from gongzhi.demands.models import DemandEvent, Notification

    demand = _replied(pw)
    c = client(pw.grid_worker)
    page = c.get(f"/patrol/verify/{demand.number}/").content.decode()
    assert 'id="not-done-form"' in page and 'value="not_done"' in page
    # The grid worker may verify but not reopen (a dispatcher's action): the desk reopens.
    assert policy.can(pw.grid_worker, "demands.verify", demand)
    assert not policy.can(pw.grid_worker, "demands.reopen", demand)
    missing = c.post(f"/patrol/verify/{demand.number}/", {"outcome": "not_done", "note": ""})
    assert missing.status_code == 400 and not DemandEvent.objects.filter(action="verify_failed").exists()
    sent = c.post(f"/patrol/verify/{demand.number}/", {
        "outcome": "not_done", "note": "垃圾仍堆在楼道口",
        "photos": [SimpleUploadedFile("p.jpg", photo, content_type="image/jpeg")]})
    assert sent.status_code == 302
    demand.refresh_from_db()
    assert demand.state == "replied" and demand.verified_at is None
    step = DemandEvent.objects.get(demand=demand, action="verify_failed")
    assert step.note == "垃圾仍堆在楼道口" and step.actor == pw.grid_worker
    assert Event.objects.filter(kind="demands.verify_failed", subject_id=str(demand.pk)).count() == 1
    notice = Notification.objects.get(demand=demand, recipient_unit_id=demand.desk_id, kind="return")
    assert demand.number in notice.text and "垃圾仍堆在楼道口" in notice.text
    assert demand.photos.filter(stage="reply").count() == 1
    assert 'class="badge warn"' in c.get("/patrol/verify/").content.decode()  # still listed, marked
    # The desk then reopens it to the unit, with the existing service.
    from gongzhi.demands import services as demand_services

    assert demand_services.reopen(pw.dispatcher, demand, reason=step.note).demand.state == "dispatched"


def test_reporting_not_done_outside_ones_grid_is_404_and_on_a_demand_not_replied_is_409(pw):
    demand = _replied(pw)
    assert client(pw.grid_worker_b).post(f"/patrol/verify/{demand.number}/",
                                         {"outcome": "not_done", "note": "x"}).status_code == 404
    c = client(pw.grid_worker)
    assert c.post(f"/patrol/verify/{demand.number}/", {"note": "好了"}).status_code == 302
    assert c.post(f"/patrol/verify/{demand.number}/", {"outcome": "not_done", "note": "x"}).status_code == 409
