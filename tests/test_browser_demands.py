"""接诉即办 in a real headless Chromium on a phone-sized screen (390×844): a resident files a demand by tapping
the grid map, the dispatch desk dispatches it, the handling unit accepts and replies, the desk verifies and
closes, and the resident rates it. Each party has a browser context of its own; screenshots are kept as
test artefacts (GONGZHI_SCREENSHOT_DIR, or the test's temporary folder)."""


import pytest
from django.urls import reverse

from gongzhi.demands.models import Demand, DemandContactAccess

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "demands"  # screenshots: tests/conftest.py shots
PHONE = {"width": 390, "height": 844}
CONTACT_PHONE = "13900001111"


@pytest.fixture
def phone(browser, live_server):
    """A new phone-sized browser context (its own cookies: one person) per call."""
    contexts = []

    def open_as(username: str):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True,
                                      has_touch=True, device_scale_factor=2)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        sign_in(tab, username)
        return tab

    yield open_as
    for context in contexts:
        context.close()


def card(page, number: str):
    return page.locator(f"#demand-{number}")


def test_a_demand_goes_round_the_loop_on_a_phone(demand_world, phone, shots):
    dw = demand_world

    # 1. The resident files a demand in three steps: where (a tap on the map inside grid A1), what, confirm.
    resident = phone(dw.resident.username)
    resident.goto(reverse("demands:new"))
    resident.wait_for_selector("#demand-map[data-ready=true]")
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    assert resident.locator("#step-what").is_hidden() and resident.locator("#step-confirm").is_hidden()
    resident.locator("#step-where .step-next").tap()  # no place yet: the step says so and stays
    assert "地图" in resident.locator("#step-where .step-missing").inner_text()
    assert resident.locator("#step-what").is_hidden()
    grid_a1 = resident.locator(f"#demand-map path.grid-{dw.world.grid_a1.pk}")
    grid_a1.scroll_into_view_if_needed()
    box = grid_a1.bounding_box()
    resident.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    located = resident.locator("#located.inside")
    located.wait_for()
    assert "东园一网格" in located.inner_text()
    assert located.get_attribute("data-grid-id") == str(dw.world.grid_a1.pk)
    longitude = float(resident.input_value("input[name=longitude]"))
    latitude = float(resident.input_value("input[name=latitude]"))
    assert 116.0 < longitude < 116.01 and 39.9 < latitude < 39.91  # inside grid A1's square
    resident.locator("#step-where .step-next").tap()
    resident.locator("textarea[name=text]").fill("小区门口垃圾堆了三天没人清运，气味很大")
    resident.locator("#step-what .step-next").tap()
    resident.fill("input[name=contact_name]", "张三")
    resident.fill("input[name=contact_phone]", CONTACT_PHONE)
    assert "绝不公开" in resident.locator("#step-confirm .public-note").inner_text()
    shots(resident, "1-resident-files")

    resident.locator("button.submit").tap()
    resident.wait_for_selector("#demand-detail[data-state=received]")
    demand = Demand.objects.get()
    assert resident.locator(".filed .big-number").inner_text() == demand.number
    assert demand.grid == dw.world.grid_a1 and demand.reporter_user == dw.resident
    entry = demand.events.get().event_id
    assert resident.locator(f".filed a[href='{reverse('demands:receipt', args=[demand.number, entry])}']").is_visible()
    assert resident.locator(f".filed a[href='{reverse('ledger:receipt')}']").is_visible()
    assert CONTACT_PHONE not in resident.content()  # the reporter's page shows no contact block
    shots(resident, "2-resident-filed")

    # 2. The dispatch desk sets the category and dispatches to the city-management department.
    desk = phone(dw.dispatcher.username)
    desk.goto(reverse("demands:triage"))
    at_desk = card(desk, demand.number)
    at_desk.locator(".act-dispatch summary").click()
    form = at_desk.locator(".act-dispatch form")
    form.locator("select[name=category]").select_option("environment.garbage")
    form.locator("select[name=unit]").select_option(str(dw.city_management.pk))
    form.locator("button[type=submit]").click()
    desk.wait_for_selector(f"#demand-{demand.number}[data-state=dispatched]")
    shots(desk, "3-desk-dispatched")

    # 3. The handler accepts and replies from the queue; the contact is shown to them on the demand's page.
    handler = phone(dw.handler.username)
    handler.goto(reverse("demands:queue"))
    queued = card(handler, demand.number)
    assert queued.locator(".deadlines li").count() >= 1
    shots(handler, "4-handler-queue")
    queued.locator(".act-accept button").click()
    handler.wait_for_selector(f"#demand-{demand.number}[data-state=accepted]")
    assert card(handler, demand.number).locator(".notice.ok").is_visible()
    card(handler, demand.number).locator(".act-reply summary").click()
    reply = card(handler, demand.number).locator(".act-reply form")
    reply.locator("textarea[name=text]").fill("已安排环卫车辆清运，现场已清理干净。")
    reply.locator("button[type=submit]").click()
    handler.wait_for_selector(f"#demand-{demand.number}[data-state=replied]")
    assert "已安排环卫车辆清运" in card(handler, demand.number).locator(".reply").inner_text()
    shots(handler, "5-handler-replied")

    handler.goto(reverse("demands:detail", args=[demand.number]))
    assert handler.locator(".contact [data-field=phone]").inner_text() == CONTACT_PHONE
    assert DemandContactAccess.objects.filter(user=dw.handler, demand=demand, channel="web").exists()

    # 4. The desk verifies and closes on the demand's page.
    desk.goto(reverse("demands:detail", args=[demand.number]))
    assert desk.locator(".contact").count() == 0  # the desk is not a handling unit
    desk.locator(".act-verify summary").click()
    desk.locator(".act-verify button[type=submit]").click()
    desk.wait_for_selector("#demand-detail[data-state=verified]")
    desk.locator(".act-close summary").click()
    desk.locator(".act-close button[type=submit]").click()
    desk.wait_for_selector("#demand-detail[data-state=closed]")
    assert desk.locator(".act-rate").count() == 0  # only the reporter answers the 回访

    # 5. The resident sees the reply under "my demands" and rates it.
    resident.goto(reverse("demands:mine"))
    mine = card(resident, demand.number)
    assert "已安排环卫车辆清运" in mine.locator(".reply").inner_text()
    rating = mine.locator(".act-rate form")
    assert rating.is_visible()
    shots(resident, "6-resident-to-rate")
    rating.locator("input[name=solved][value=yes]").check()
    rating.locator("input[name=satisfaction][value=satisfied]").check()
    rating.locator("button[type=submit]").click()
    resident.wait_for_selector(f"#demand-{demand.number}[data-state=rated]")
    assert card(resident, demand.number).locator(".rating").is_visible()
    assert card(resident, demand.number).locator(".act-rate").count() == 0
    shots(resident, "7-resident-rated")

    demand.refresh_from_db()
    assert (demand.state, demand.solved, demand.satisfaction) == ("rated", True, "satisfied")
    assert list(demand.events.values_list("action", flat=True)) == [
        "file", "dispatch", "accept", "reply", "verify", "close", "rate"]

    resident.goto(reverse("demands:detail", args=[demand.number]))
    assert resident.locator(".timeline li").count() == 7
    shots(resident, "8-resident-timeline")
    assert len(list(shots.folder.glob("demands-*.png"))) >= 8


def test_a_tap_outside_every_grid_sets_no_point(demand_world, phone):
    resident = phone(demand_world.resident.username)
    resident.goto(reverse("demands:new"))
    resident.wait_for_selector("#demand-map[data-ready=true]")
    plot = resident.locator("#demand-map")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    # The grids form a row across the middle; the top-left corner of the map lies north of all of them.
    resident.touchscreen.tap(box["x"] + 8, box["y"] + 8)
    resident.locator("#located.outside").wait_for()
    assert resident.input_value("input[name=longitude]") == ""


def test_the_dashboard_draws_its_chart_on_a_phone(demand_world, phone, shots):
    from gongzhi.demands import services

    dw = demand_world
    demand = services.file_demand(dw.resident, text="路灯不亮", longitude=116.005, latitude=39.905).demand
    services.dispatch(dw.dispatcher, demand, unit=dw.city_management, category="environment.garbage")
    official = phone(dw.world.street_official.username)
    from gongzhi.core import clock

    # This month (the dashboard opens on the last complete month by default).
    official.goto(reverse("demands:dashboard") + f"?level=community&month={clock.today():%Y-%m}")
    official.wait_for_selector("#rates-chart[data-ready=true]")
    assert official.locator("#rates-table tbody tr").count() == 1
    assert "东园社区" in official.locator("#rates-table").inner_text()
    shots(official, "9-dashboard")


DESKTOP = {"width": 1366, "height": 900}


def test_on_a_desktop_a_mouse_click_sets_the_point_and_the_pin_can_be_dragged(demand_world, browser, live_server,
                                                                                shots):
    """The bug of issue #16: a click with a mouse on the desktop map did nothing."""
    dw = demand_world
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, dw.resident.username)
        page.goto(reverse("demands:new"))
        page.wait_for_selector("#demand-map[data-ready=true]")
        grid_a1 = page.locator(f"#demand-map path.grid-{dw.world.grid_a1.pk}")
        grid_a1.scroll_into_view_if_needed()
        box = grid_a1.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
        page.locator("#located.inside").wait_for()
        first = float(page.input_value("input[name=longitude]"))
        # Drag the pin to the right within the same grid: the point follows.
        pin = page.locator("#demand-map .leaflet-marker-icon").bounding_box()
        x, y = pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] - 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + box["width"] * 0.3, y, steps=8)
        page.mouse.up()
        page.wait_for_function(f"document.querySelector('input[name=longitude]').value > '{first:.6f}'")
        page.locator("#located.inside").wait_for()
        assert float(page.input_value("input[name=longitude]")) > first
        assert page.locator("#located").get_attribute("data-grid-id") == str(dw.world.grid_a1.pk)
        shots(page, "0-desktop-map")
    finally:
        context.close()


def test_a_resident_finds_their_building_by_address_and_the_point_is_set(demand_world, phone, shots):
    dw = demand_world
    resident = phone(dw.resident.username)
    resident.goto(reverse("demands:new"))
    resident.wait_for_selector("#demand-map[data-ready=true]")
    resident.fill("#place-search", "东园路1号")
    resident.locator("#place-results button.place-building").first.tap()
    resident.locator("#located.inside").wait_for()
    assert resident.locator("#located").get_attribute("data-grid-id") == str(dw.world.grid_a1.pk)
    assert float(resident.input_value("input[name=longitude]")) == pytest.approx(dw.world.building_a1.longitude,
                                                                                 abs=1e-6)
    shots(resident, "0-search-building")
