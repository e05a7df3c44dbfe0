"""The grid worker's patrol (issue #17 item 2), walked in Debian's Chromium at phone width with touch: signed
in, the worker checks in at a place of today's patrol with the phone's location, loses the connection (a
basement), records a finding solved on the spot (随手办) with a photo, sees it waiting on the phone, gets the
connection back and sees it sent; the server then holds a closed patrol demand with the "after" photo and the
time it was recorded on the phone. And the community office's plan page at desktop width with a mouse."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.demands.models import Photo
from gongzhi.patrol import services
from gongzhi.patrol.models import CheckIn, Finding, PatrolPlace, PatrolPlan

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "patrol"
GATE = (116.008, 39.902)  # 东门 of grid A1 (the factories' World)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def patrol_world(demand_world):
    w = demand_world.world
    gate = services.add_place(demand_world.grid_worker, w.grid_a1, name="东门", longitude=GATE[0], latitude=GATE[1])
    services.create_plan(w.secretary_a, w.grid_a1, name="日常巡查", buildings=[w.building_a1], places=[gate],
                         every_days=1, start_date=timezone.localdate() - dt.timedelta(days=3))
    return demand_world


def test_a_grid_worker_checks_in_and_records_a_finding_offline_that_is_sent_when_back_online(
        browser, live_server, patrol_world, shots, tmp_path):
    from PIL import Image

    photo = tmp_path / "after.jpg"
    Image.new("RGB", (800, 600), (90, 140, 60)).save(photo, "JPEG", quality=88)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", permissions=["geolocation"],
                                  geolocation={"longitude": GATE[0] + 0.0001, "latitude": GATE[1] + 0.0001}, **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, patrol_world.grid_worker.username)
        page.goto("/patrol/")
        tasks = page.locator(".patrol-task")
        assert tasks.count() == 2
        page.locator("#patrol-map.leaflet-container path.leaflet-interactive").first.wait_for()
        shots(page, "phone-today")

        assert page.locator("#patrol-left").inner_text() == "2"
        gate = page.locator(".patrol-task", has_text="东门")
        gate.locator("button").tap()
        gate.locator(".task-state", has_text="✓").wait_for()
        # The header's count follows the check-in, without a reload.
        assert page.locator("#patrol-left").inner_text() == "1"
        toggle = page.locator("#patrol-only-left a")  # 只看未完成: shown once some but not all are done, 44px tall
        assert toggle.is_visible() and toggle.bounding_box()["height"] >= 44
        assert all(page.locator("#finding-form .big-choice").nth(i).bounding_box()["height"] >= 44 for i in range(2))
        check_in = CheckIn.objects.get()
        assert check_in.task.name == "东门" and not check_in.is_flagged and check_in.distance < 30
        assert page.locator("#outbox-status").inner_text().strip() in ("Sent", "已发送")

        # Into the basement: the page comes from the phone's own copy (the service worker keeps it from the
        # last visit online), with the check-in made.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto("/patrol/")
        context.set_offline(True)
        page.reload()
        assert page.locator(".patrol-task").count() == 2
        assert "done" in (page.locator(".patrol-task", has_text="东门").get_attribute("class") or "")
        page.fill("#id_text", "楼道里堆放的纸箱挡住了消防通道")
        page.locator("input[name=solved][value=yes]").check()
        page.fill("#id_solution", "已联系住户把纸箱搬走")
        page.set_input_files("#id_photos", str(photo))
        form_button = page.locator("#finding-form button[type=submit]")
        form_button.scroll_into_view_if_needed()
        form_button.tap()
        status = page.locator("#outbox-status")
        page.locator("#outbox-status[data-waiting='1']").wait_for()
        assert "1" in status.inner_text()
        assert page.locator("#finding-list li.queued").count() == 1
        status.scroll_into_view_if_needed()
        shots(page, "phone-queued-offline")
        assert not Finding.objects.exists()

        before_online = timezone.now()
        context.set_offline(False)
        page.locator("#outbox-status[data-waiting='0']").wait_for()
        page.locator("#outbox-status.sent").wait_for()
        assert page.locator("#finding-list li.queued").count() == 0
        # The finding's demand number is labelled, links to its page, and its state is in words.
        sent_row = page.locator("#finding-list li").first
        sent_row.locator(".finding-number a").wait_for()
        assert sent_row.locator(".finding-number").inner_text().startswith(("Demand number", "诉求编号"))
        assert sent_row.locator(".state").inner_text() in ("solved on the spot · closed", "随手办·已办结",
                                                           "随手办 · 已办结")
        # The "sent" message covers no field: with the finding form's first label at the top of the screen,
        # nothing lies over it.
        label = page.locator("#finding-form label").first
        label.evaluate("e => e.scrollIntoView({block: 'start'})")
        box, toast = label.bounding_box(), status.bounding_box()
        assert box["y"] < 60, box  # really at the top, where a sticky bar sat
        assert toast["y"] + toast["height"] <= box["y"] or toast["y"] >= box["y"] + box["height"], (toast, box)
        assert page.locator("#finding-state.sent").inner_text()  # the state, under the form's button
        shots(page, "phone-sent")
        sent_row.locator(".finding-number a").scroll_into_view_if_needed()
        shots(page, "phone-sent-list")

        finding = Finding.objects.select_related("demand").get()
        demand = finding.demand
        assert finding.solved_on_the_spot and demand.channel == "patrol" and demand.state == "closed"
        assert demand.reply == "已联系住户把纸箱搬走"
        assert demand.photos.get().stage == Photo.Stage.REPLY
        # Recorded on the phone while offline, received after the connection returned: both kept.
        assert finding.recorded_at <= before_online <= finding.received_at
        assert demand.received_at == finding.recorded_at
        assert abs(finding.longitude - (GATE[0] + 0.0001)) < 1e-6

        page.goto(f"/demands/{demand.number}/")
        shots(page, "phone-demand")
    finally:
        context.close()


def test_the_community_office_adds_a_plan_on_the_plan_page(page, patrol_world, shots):
    w = patrol_world.world
    sign_in(page, w.secretary_a.username)
    page.goto(f"/patrol/plans/?grid={w.grid_a1.pk}")
    assert page.locator(".patrol-plans tbody tr", has_text="日常巡查").count() == 1
    # A new place: a click on the map fills in where it is.
    page.locator("#plan-map.leaflet-container path.leaflet-interactive").first.wait_for()
    page.locator("#plan-map").click()
    assert page.input_value("#place_longitude") and page.input_value("#place_latitude")
    page.fill("#place_name", "垃圾分类站")
    page.locator("#place-form button[type=submit]").click()
    page.locator(".patrol-places li", has_text="垃圾分类站").wait_for()
    assert PatrolPlace.objects.get(name="垃圾分类站").grid == w.grid_a1
    page.fill("#id_name", "周末巡查")
    page.locator("#plan-form input[name=places]").first.click()
    page.locator("#plan-form input[name=weekdays][value='5']").click()
    page.locator("#plan-form input[name=weekdays][value='6']").click()
    page.locator("#plan-form button[type=submit]").click()
    page.locator(".patrol-plans tbody tr", has_text="周末巡查").wait_for()
    plan = PatrolPlan.objects.get(name="周末巡查")
    assert plan.weekdays == [5, 6] and [p.name for p in plan.places.all()] == ["东门"]
    shots(page, "desktop-plans")
