"""Care and building work (issue #17 items 2-3) in Debian's Chromium, at phone width with touch: the building
lead opens their building, files a demand for a resident without a phone (代办) with a photo, and sees it
listed; the grid worker sees an overdue care visit, logs it with a photo, and it is no longer overdue. The
same pages at 1280 px with a mouse, for the screenshots (GONGZHI_SCREENSHOT_DIR, or a temporary folder)."""

import datetime as dt

import pytest

from gongzhi.care import services
from gongzhi.care.models import Visit
from gongzhi.core import clock
from gongzhi.demands.models import Demand, DemandEvent

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "care"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def care_world(demand_world):
    from gongzhi.care.tests.factories import CareWorld

    cw = CareWorld(demand_world)
    with clock.frozen_at(clock.now() - dt.timedelta(days=20)):
        services.register(cw.grid_worker_a1, person=cw.elderly, group="elderly_alone")
    return cw


@pytest.fixture
def open_browser(browser, live_server):
    contexts = []

    def open_on(device: dict):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_on
    for context in contexts:
        context.close()


def tap(page, selector: str):
    target = page.locator(selector).first
    target.scroll_into_view_if_needed()
    target.tap()


@pytest.fixture
def photo_file(tmp_path):
    from gongzhi.care.tests.factories import photo_bytes

    path = tmp_path / "photo.jpg"
    path.write_bytes(photo_bytes())
    return str(path)


def test_the_building_lead_files_for_a_resident_and_the_grid_worker_catches_up_an_overdue_visit(
        care_world, open_browser, shots, photo_file):
    cw = care_world
    building = cw.world.building_a1

    # The building lead, on their phone: the care entry leads to their building.
    lead = open_browser(PHONE)
    sign_in(lead, cw.lead.username)
    lead.goto("/care/")
    lead.wait_for_url(f"**/care/buildings/{building.pk}/")
    households = lead.inner_text(".care-households")
    assert "张三" in households and "139****1111" in households and "13900001111" not in lead.content()
    shots(lead, "lead-1-building-390")
    tap(lead, "a.care-on-behalf")
    lead.locator("select[name=person]").select_option(label=f"王秀英 · {cw.household_a2.unit}")
    lead.fill("textarea[name=text]", "王秀英家暖气不热，老人行动不便，请尽快上门查看")
    lead.set_input_files("input[name=photos]", photo_file)
    shots(lead, "lead-2-on-behalf-390")
    tap(lead, ".care-on-behalf-form button[type=submit]")
    lead.wait_for_url(f"**/care/buildings/{building.pk}/demands/")
    demand = Demand.objects.get(reporter=cw.elderly)
    row = lead.locator(f"[data-number='{demand.number}']")
    assert "代办" in row.inner_text()
    assert "代办" in DemandEvent.objects.get(demand=demand, action="file").note
    assert demand.photos.count() == 1
    shots(lead, "lead-3-open-demands-390")
    tap(lead, f"[data-number='{demand.number}'] a")  # their own filing: its page, with the 代办 in the timeline
    lead.locator(".timeline").first.wait_for(state="attached")
    assert "代办" in lead.inner_text("main")
    assert "代办" in lead.inner_text("dl.facts")  # beside the channel, not only in the timeline's note

    # The grid worker, on their phone: 王秀英 is overdue, at the top; a visit with a photo clears it.
    worker = open_browser(PHONE)
    sign_in(worker, cw.grid_worker_a1.username)
    worker.goto("/care/")
    first = worker.locator(".care-row").first
    assert "王秀英" in first.inner_text() and "care-overdue" in first.get_attribute("class")
    shots(worker, "worker-1-overdue-390")
    tap(worker, ".care-row.care-overdue a.care-visit-link")
    worker.locator(".care-visit-form").wait_for()
    worker.locator("select[name=kind]").select_option("care")
    # The person tapped on the overdue list is already chosen (not 全户).
    person = worker.locator(".care-visit-form select[name=person]")
    assert person.input_value() == str(cw.elderly.pk)
    # Each label focuses its own form's field (the register form below has its own ids).
    worker.locator(".care-visit-form label[for=visit_note]").tap()
    assert worker.evaluate("document.activeElement.closest('.care-visit-form') !== null")
    details = worker.locator(".care-details-link")
    assert details.count() and all(details.nth(i).bounding_box()["height"] >= 44 for i in range(details.count()))
    worker.fill("textarea[name=note]", "老人精神不错，暖气已报修")
    worker.set_input_files(".care-visit-form input[name=photos]", photo_file)
    shots(worker, "worker-2-visit-form-390")
    tap(worker, ".care-visit-form button[type=submit]")
    worker.locator(".care-visits img").first.wait_for()
    visit = Visit.objects.get(person=cw.elderly)
    assert visit.photos.count() == 1 and visit.visitor == cw.grid_worker_a1
    shots(worker, "worker-3-visit-logged-390")
    worker.goto("/care/")
    row = worker.locator(".care-row", has_text="王秀英")
    assert "care-overdue" not in row.get_attribute("class")
    worker.goto("/care/?status=overdue")
    assert worker.locator(".care-row").count() == 0
    shots(worker, "worker-4-nothing-overdue-390")

    # The same pages on a desktop with a mouse.
    desk = open_browser(DESKTOP)
    sign_in(desk, cw.grid_worker_a1.username)
    desk.goto("/care/")
    shots(desk, "worker-list-1280")
    desk.goto(f"/care/households/{cw.household_a2.pk}/")
    shots(desk, "worker-household-1280")
    lead_desk = open_browser(DESKTOP)
    sign_in(lead_desk, cw.lead.username)
    lead_desk.goto(f"/care/buildings/{building.pk}/")
    shots(lead_desk, "lead-building-1280")
    lead_desk.goto(f"/care/buildings/{building.pk}/notices/")
    lead_desk.fill("textarea[name=text]", "周三上午停水检修，请提前储水")
    lead_desk.click(".care-notice-form button[type=submit]")
    lead_desk.locator(".care-notice").first.wait_for()
    shots(lead_desk, "lead-notices-1280")
