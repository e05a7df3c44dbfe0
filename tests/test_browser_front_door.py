"""The front door (issue #16), walked in Debian's Chromium as residents meet it, at desktop width with a
mouse and at phone width with touch:

- a guest reports a problem in three steps with a photo and a dragged pin, confirms their number with the
  texted code, gets the number and the 查询码, follows the demand from another browser by number and code,
  and rates it once the unit replied and it was closed;
- a resident opens an account with a mobile number and the texted code, files, is told when it is
  replied (message centre with its badge, and a text message), and rates it;
- the receipt of a filing is checked on the public page, with the green tick;
- the public list shows the demand without any personal data.

The units' side (dispatch, accept, reply, verify, close) runs through the services here: its own pages are
walked in test_browser_demands.py. Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's temporary folder
(docs/user-guide.md shows some)."""

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from gongzhi.core.models import OutgoingSms
from gongzhi.demands import services
from gongzhi.demands.models import Demand, DemandContact, Photo

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "front-door"  # screenshots: tests/conftest.py shots

DEVICES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
GUEST_PHONE = "13812340001"
RESIDENT_PHONE = "13812340002"
PASSWORD = "dongyuan-road-12"


@pytest.fixture
def open_browser(browser, live_server):
    contexts = []

    def open_on(device: str):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **DEVICES[device])
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_on
    for context in contexts:
        context.close()


def press(page, device: str, selector: str):
    """A tap on a phone, a mouse click on a desktop, on the element brought into view."""
    target = page.locator(selector).first
    target.scroll_into_view_if_needed()
    if device == "phone":
        target.tap()
    else:
        target.click()


def point_at(page, device: str, x: float, y: float):
    if device == "phone":
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def drag(page, device: str, start: tuple[float, float], end: tuple[float, float]):
    """Drag with the mouse, or with a finger (Chrome's touch events through the DevTools protocol)."""
    (x0, y0), (x1, y1) = start, end
    if device == "desktop":
        page.mouse.move(x0, y0)
        page.mouse.down()
        for k in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10)
        page.mouse.up()
        return
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for k in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + (x1 - x0) * k / 10, "y": y0 + (y1 - y0) * k / 10}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def photo_file(tmp_path) -> Path:
    from gongzhi.demands.tests.test_photos import jpeg

    path = tmp_path / "IMG_0412.jpg"
    path.write_bytes(jpeg(gps=(116.005, 39.905)))
    return path


def texted_code(phone: str) -> str:
    sent = OutgoingSms.objects.filter(phone=phone).order_by("-id").first()
    assert sent is not None, f"no text message to {phone}"
    return re.search(r"\d{6}", sent.text)[0]


def set_the_place(page, device: str, grid_id: int) -> tuple[float, float]:
    """Step 1: a tap or click inside the grid drops the pin; then the pin is dragged a little. The new point."""
    page.wait_for_selector("#demand-map[data-ready=true]")
    grid = page.locator(f"#demand-map path.grid-{grid_id}")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    point_at(page, device, box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4)
    page.locator("#located.inside").wait_for()
    first = (float(page.input_value("input[name=longitude]")), float(page.input_value("input[name=latitude]")))
    pin = page.locator("#demand-map .leaflet-marker-icon").bounding_box()
    centre = (pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] * 0.7)
    drag(page, device, centre, (centre[0] + box["width"] * 0.2, centre[1] + box["height"] * 0.2))
    page.wait_for_function("(first) => document.querySelector('input[name=longitude]').value !== first",
                           arg=f"{first[0]:.6f}")
    page.locator("#located.inside").wait_for()
    moved = (float(page.input_value("input[name=longitude]")), float(page.input_value("input[name=latitude]")))
    assert moved[0] > first[0] and moved[1] < first[1], (first, moved)  # right and down: east and south
    return moved


def handle_and_close(dw, demand: Demand):
    """The units' side, as their pages do it (walked in test_browser_demands.py)."""
    services.dispatch(dw.dispatcher, demand, unit=dw.city_management, category="environment.garbage")
    services.accept(dw.handler, Demand.objects.get(pk=demand.pk))
    services.reply(dw.handler, Demand.objects.get(pk=demand.pk), text="已安排环卫车辆清运，现场已清理干净。")
    services.verify(dw.grid_worker, Demand.objects.get(pk=demand.pk))
    services.close(dw.dispatcher, Demand.objects.get(pk=demand.pk))


def rate(page, device: str, form: str):
    page.locator(f"{form} input[name=solved][value=yes]").check()
    page.locator(f"{form} input[name=satisfaction][value=satisfied]").check()
    press(page, device, f"{form} button[type=submit]")


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_guest_reports_with_a_photo_and_a_dragged_pin_follows_it_by_number_and_code_and_rates_it(
        demand_world, open_browser, shots, tmp_path, device):
    dw = demand_world
    guest = open_browser(device)
    guest.goto("/")
    press(guest, device, f"a[href='{reverse('demands:report')}']")  # 我要反映
    guest.wait_for_url(f"**{reverse('demands:report')}")
    assert guest.evaluate("document.documentElement.scrollWidth") <= DEVICES[device]["viewport"]["width"]

    point = set_the_place(guest, device, dw.world.grid_a1.pk)
    shots(guest, f"guest-0-where-{device}")
    if device == "phone":
        press(guest, device, "#step-where .step-next")
    guest.locator("textarea[name=text]").fill("小区门口垃圾堆了三天没人清运，气味很大")
    guest.set_input_files("input[name=photos]", str(photo_file(tmp_path)))
    if device == "phone":
        press(guest, device, "#step-what .step-next")
    guest.locator("input[name=contact_phone]").fill(GUEST_PHONE)
    press(guest, device, "[data-send-code]")
    guest.locator("#code-status.notice").wait_for()
    assert "138****0001" in guest.locator("#code-status").inner_text()
    guest.locator("input[name=phone_code]").fill(texted_code(GUEST_PHONE))
    shots(guest, f"guest-1-report-{device}")
    press(guest, device, "button.submit")

    guest.wait_for_selector("#guest-filed")
    number, code = guest.inner_text("#guest-number").strip(), guest.inner_text("#guest-code").strip()
    shots(guest, f"guest-2-number-and-code-{device}")
    demand = Demand.objects.get(number=number)
    assert demand.reporter_user is None and demand.grid == dw.world.grid_a1
    assert (round(demand.longitude, 6), round(demand.latitude, 6)) == (round(point[0], 6), round(point[1], 6))
    assert DemandContact.objects.get(demand=demand).phone == GUEST_PHONE
    photo = Photo.objects.get(demand=demand)
    assert photo.longitude is None  # the camera's position was not kept: not asked for

    # From another phone or computer: the public look-up by number and 查询码.
    elsewhere = open_browser(device)
    elsewhere.goto("/")
    press(elsewhere, device, f"a[href='{reverse('demands:track')}']")  # 查询进度
    elsewhere.fill("#track-number", number)
    elsewhere.fill("#track-code", code.lower())  # as typed: case does not matter
    press(elsewhere, device, "form.track-form button[type=submit]")
    elsewhere.wait_for_selector("#demand-detail[data-state=received]")
    assert elsewhere.locator(".photo-grid img").count() == 1

    handle_and_close(dw, demand)
    assert OutgoingSms.objects.filter(phone=GUEST_PHONE, text__contains=number).count() >= 2  # dispatched, replied…
    elsewhere.reload()
    elsewhere.wait_for_selector("#demand-detail[data-state=closed]")
    assert "已安排环卫车辆清运" in elsewhere.inner_text(".reply")
    shots(elsewhere, f"guest-3-follow-and-rate-{device}")
    rate(elsewhere, device, "#rate form")
    elsewhere.wait_for_selector("#demand-detail[data-state=rated]")
    demand.refresh_from_db()
    assert (demand.state, demand.solved, demand.satisfaction) == ("rated", True, "satisfied")

    # The public list shows it without the reporter's number, name or the exact place.
    public = open_browser(device)
    public.goto(reverse("demands:public") + "?state=done")
    body = public.content()
    assert GUEST_PHONE not in body and "138****0001" not in body and f"{point[0]:.6f}" not in body


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_resident_opens_an_account_with_a_texted_code_files_is_told_of_the_reply_and_rates(
        demand_world, open_browser, shots, device):
    dw = demand_world
    resident = open_browser(device)
    resident.goto(reverse("login"))
    press(resident, device, f"a[href='{reverse('sign_up')}']")
    resident.wait_for_url(f"**{reverse('sign_up')}")
    resident.fill("input[name=phone]", RESIDENT_PHONE)
    press(resident, device, "[data-send-code]")
    resident.locator("#code-status.notice").wait_for()
    resident.fill("input[name=code]", texted_code(RESIDENT_PHONE))
    resident.fill("input[name=name]", "王女士")
    resident.fill("input[name=password]", PASSWORD)
    resident.fill("input[name=password_again]", PASSWORD)
    shots(resident, f"resident-1-sign-up-{device}")
    press(resident, device, "button[name=sign_up]")
    resident.wait_for_url(f"**{reverse('org:my_household')}")
    assert "账号已开通" in resident.content()

    # Signed out and in again with the number, then a report in three steps.
    resident.context.clear_cookies()
    resident.goto(reverse("login"))
    resident.fill("input[name=username]", RESIDENT_PHONE)
    resident.fill("input[name=password]", PASSWORD)
    resident.locator("input[name=password]").press("Enter")
    resident.wait_for_load_state()
    resident.goto(reverse("demands:new"))
    set_the_place(resident, device, dw.world.grid_a1.pk)
    if device == "phone":
        press(resident, device, "#step-where .step-next")
    resident.locator("textarea[name=text]").fill("楼道灯坏了，晚上看不见台阶")
    if device == "phone":
        press(resident, device, "#step-what .step-next")
    press(resident, device, "button.submit")
    resident.wait_for_selector("#demand-detail[data-state=received]")
    demand = Demand.objects.get(text__startswith="楼道灯坏了")
    assert demand.reporter_user.resident_account is not None

    # The receipt of the filing, checked on the public page: a green tick and the entry in words.
    with resident.expect_download() as downloaded:
        press(resident, device, ".filed a[download]")
    receipt = Path(downloaded.value.path()).read_text()
    resident.goto(reverse("ledger:receipt"))
    resident.fill("#receipt-form textarea[name=receipt]", receipt)
    press(resident, device, "#receipt-form button[type=submit]")
    verdict = resident.locator("#receipt-result .verdict")
    verdict.wait_for()
    assert verdict.inner_text().startswith("✔") and "签名的检查点证实" in verdict.inner_text()
    shots(resident, f"resident-receipt-checked-{device}")

    handle_and_close(dw, demand)
    resident.goto("/")
    badge = resident.locator(".messages-link .unread-count")
    assert int(badge.inner_text()) >= 2  # dispatched, replied, closed (asked to rate)
    press(resident, device, ".messages-link")
    assert demand.number in resident.inner_text(".messages-list")
    shots(resident, f"resident-2-messages-{device}")
    assert OutgoingSms.objects.filter(phone=RESIDENT_PHONE, text__contains=demand.number).exists()

    resident.goto(reverse("demands:mine"))
    rate(resident, device, f"#demand-{demand.number} .act-rate form")
    resident.wait_for_selector(f"#demand-{demand.number}[data-state=rated]")
    shots(resident, f"resident-3-rated-{device}")
    demand.refresh_from_db()
    assert (demand.state, demand.satisfaction) == ("rated", "satisfied")


@pytest.mark.parametrize("device", list(DEVICES))
def test_a_resident_says_where_they_live_and_the_grid_worker_confirms_it(demand_world, open_browser, shots, device):
    from gongzhi.org.models import HouseholdClaim, Person

    from .conftest import PASSWORD as OFFICIAL_PASSWORD

    dw = demand_world
    resident = open_browser(device)
    resident.goto(reverse("sign_up"))
    resident.fill("input[name=phone]", RESIDENT_PHONE)
    press(resident, device, "[data-send-code]")
    resident.locator("#code-status.notice").wait_for()
    resident.fill("input[name=code]", texted_code(RESIDENT_PHONE))
    resident.fill("input[name=name]", "王女士")
    resident.fill("input[name=password]", PASSWORD)
    resident.fill("input[name=password_again]", PASSWORD)
    press(resident, device, "button[name=sign_up]")
    resident.wait_for_url(f"**{reverse('org:my_household')}")
    resident.fill("#building-q", "东园路")
    resident.locator("#building-q").press("Enter")
    resident.locator("input[name=building]").first.wait_for()
    resident.locator("input[name=building]").first.check()
    resident.fill("#unit", "2单元301")
    shots(resident, f"resident-4-where-i-live-{device}")
    press(resident, device, "form:has(#unit) button[type=submit]")
    resident.locator(".state-pending").wait_for()
    claim = HouseholdClaim.objects.get(person__user__username__startswith="r-")

    worker = open_browser(device)
    worker.goto(reverse("login"))
    worker.fill("input[name=username]", dw.grid_worker.username)
    worker.fill("input[name=password]", OFFICIAL_PASSWORD)
    worker.locator("input[name=password]").press("Enter")
    worker.wait_for_load_state()
    press(worker, device, f".topbar a[href='{reverse('org:claims')}']")
    assert "王女士" in worker.inner_text(".claims") and "2单元301" in worker.inner_text(".claims")
    assert RESIDENT_PHONE not in worker.content()
    shots(worker, f"grid-worker-claims-{device}")
    press(worker, device, ".claim button[value=confirm]")
    worker.locator("text=目前没有待确认的申请").wait_for()

    resident.reload()
    assert "2单元301" in resident.inner_text(".notice.ok")
    claim.refresh_from_db()
    assert claim.status == "confirmed"
    assert Person.objects.get(user__resident_account__isnull=False, name="王女士").household.unit == "2单元301"
