"""Fair rankings and the units' work (issue #17, items 4 and 6) in Debian's Chromium:

- at desktop width with a mouse, a street official picks a month and the unit level on the rates dashboard
  and reads the ranking: tied units share first place, a unit below the floor comes after them whatever its
  score, a unit with too few cases is listed last as such, every rate shows its cases, and the change
  against the month before;
- at phone width with touch, a unit's staff member sees the unit's own rates and rank on the queue, sorts by
  deadline, and replies to a demand with an "after" photo taken with the phone (a real JPEG from Pillow).

Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's temporary folder."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from PIL import Image

from gongzhi.core import clock
from gongzhi.demands.models import Demand, Photo
from gongzhi.demands.tests.factories import THURSDAY_9AM
from gongzhi.demands.tests.test_ranking_pages import OCTOBER_29, send
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "rankings"  # screenshots: tests/conftest.py shots
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def open_browser(browser, live_server):
    contexts = []

    def open_on(device: dict, username: str):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        sign_in(tab, username)
        return tab

    yield open_on
    for context in contexts:
        context.close()


@pytest.fixture
def november(demand_world, settings):
    """November 2026: the city management and the water bureau each accepted 5 of 5 in time (a tie); the
    property company 0 of 5 (below the floor); the housing bureau had 1 demand (too few). October: the
    property company 5 of 5 in time, the city management 0 of 5."""
    settings.GONGZHI_RANKING_MIN_CASES = 5
    settings.GONGZHI_RANKING_FLOOR = 0.6
    dw = demand_world
    dw.water = Organisation.objects.create(name="区水务局", kind="department", department="水务", region=dw.world.district)
    dw.water_staff = official(dw.water, "staff", "sw_staff")
    dw.housing = Organisation.objects.create(name="区住建委", kind="department", department="住建",
                                             region=dw.world.district)
    for i in range(5):
        october = OCTOBER_29 + dt.timedelta(minutes=7 * i)
        send(dw, dw.property_company, at=october, accept_with=dw.property_staff)
        send(dw, dw.city_management, at=october + dt.timedelta(minutes=3))
        at = THURSDAY_9AM + dt.timedelta(minutes=7 * i)
        send(dw, dw.city_management, at=at, accept_with=dw.handler)
        send(dw, dw.water, at=at + dt.timedelta(minutes=2), accept_with=dw.water_staff)
        send(dw, dw.property_company, at=at + dt.timedelta(minutes=4))
    send(dw, dw.housing, at=THURSDAY_9AM)
    return dw


def test_a_street_official_reads_a_fair_ranking_with_the_mouse(november, open_browser, shots):
    dw = november
    desk = open_browser(DESKTOP, dw.world.street_official.username)
    desk.goto(reverse("demands:dashboard"))
    last_month = (clock.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert desk.locator("input[name=month]").input_value() == last_month  # opens on the last complete month
    desk.locator("select[name=level]").select_option("unit")
    desk.locator("input[name=month]").fill("2026-11")
    desk.locator("form.filters button[type=submit]").click()
    desk.wait_for_selector("#rates-table tbody tr[data-id]")
    desk.wait_for_selector("#rates-chart[data-ready=true]")

    def row(unit):
        return desk.locator(f"#rates-table tr[data-id='{unit.pk}']")

    assert row(dw.city_management).get_attribute("data-rank") == "1"
    assert row(dw.water).get_attribute("data-rank") == "1"  # a tie shares the rank ...
    assert row(dw.property_company).get_attribute("data-rank") == "3"  # ... and the next one skips
    assert row(dw.housing).get_attribute("data-rank") == ""
    order = desk.locator("#rates-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert order[2:] == [str(dw.property_company.pk), str(dw.housing.pk)]
    assert "100.0% (5/5)" in row(dw.water).inner_text()
    company = row(dw.property_company).inner_text()
    # First of 2 in October, third of 3 now: pools of different sizes, so no arrow but the place then
    # with its pool (docs/rules.md).
    change = row(dw.property_company).locator("[data-col=change]").inner_text()
    assert "0.0% (0/5)" in company and "1/2" in change and "▼" not in change
    assert row(dw.property_company).locator(".badge.floor").is_visible()
    assert row(dw.housing).locator(".badge.few").is_visible()
    change = row(dw.city_management).locator("[data-col=change]").inner_text()
    assert "2/2" in change and "▲" not in change
    # The floor badge names the rate, also in its title for the mouse.
    badge = row(dw.property_company).locator(".badge.floor")
    badge.hover()
    assert "响应率" in badge.get_attribute("title") and "响应率" in badge.inner_text()
    assert desk.locator("#ranking-rules").is_visible()
    desk.locator("#ranking").scroll_into_view_if_needed()
    shots(desk, "1-dashboard-desktop")


def jpeg_file(path) -> str:
    Image.new("RGB", (1200, 900), (40, 160, 60)).save(path, "JPEG", quality=85)
    return str(path)


def test_a_unit_replies_with_an_after_photo_on_a_phone(november, open_browser, shots, tmp_path):
    dw = november
    phone = open_browser(PHONE, dw.handler.username)
    phone.goto(reverse("demands:queue"))
    standing = phone.locator("#unit-standing")
    assert standing.is_visible() and "区城管委" in standing.locator("summary").inner_text()
    assert not standing.locator(".standing").first.is_visible()  # folded: the queue comes first on a phone
    standing.locator("summary").tap()
    assert standing.locator(".standing").first.is_visible()
    assert phone.locator(".queue-order a[aria-current]").count() == 1
    shots(phone, "2-unit-queue-phone")
    # Overdue first: the first card on the page is marked overdue.
    assert "overdue" in phone.locator(".demand-card").first.get_attribute("class")

    demand = Demand.objects.filter(lead_unit=dw.city_management, state="accepted").order_by("id").first()
    card = phone.locator(f"#demand-{demand.number}")
    card.locator(".act-reply summary").tap()
    form = card.locator(".act-reply form")
    photo_field = form.locator("input[type=file][name=photos]")
    assert photo_field.is_visible()
    box = photo_field.bounding_box()
    assert box["width"] > 300 and box["height"] >= 40  # big enough for a thumb
    form.locator("textarea[name=text]").fill("已清运完毕，现场已恢复整洁，附处理后照片。")
    photo_field.set_input_files(jpeg_file(tmp_path / "after.jpg"))
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-3-unit-reply-form-phone.png"))
    form.locator("button[type=submit]").tap()
    phone.wait_for_selector(f"#demand-{demand.number}[data-state=replied]")
    assert phone.locator(f"#demand-{demand.number} .notice.ok").is_visible()
    assert list(Photo.objects.filter(demand=demand).values_list("stage", flat=True)) == [Photo.Stage.REPLY]

    phone.goto(reverse("demands:detail", args=[demand.number]))
    assert phone.locator("#photos img").count() >= 1 or phone.locator("img[src*='-thumb.jpg']").count() >= 1
    shots(phone, "4-demand-with-after-photo-phone")
