"""The case file page (案卷), walked in Debian's Chromium by the public: a case built the whole way round the loop
by the real services (complaints → issue → topic with its opinion map → 四议两公开 → decision with its project
→ progress with a photo → done → the residents' verdict), read at phone width with touch and at desktop width
with a mouse; the "verify the whole case" button pressed and its answer read; the print view looked at.
Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's temporary folder."""

import datetime as dt
import io
import re

import pytest
from PIL import Image

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "case-file"

DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def _photo() -> bytes:
    image = Image.new("RGB", (640, 480), (90, 110, 130))
    for x in range(0, 640, 40):
        for y in range(200, 480):
            image.putpixel((x, y), (20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture
def whole_case(live_world, settings, tmp_path):
    from gongzhi.cases import services
    from gongzhi.cases.tests.conftest import Loop
    from gongzhi.deliberation import services as deliberation
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
    from gongzhi.duties import services as duties

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen_at(MONDAY_9AM):
        loop = Loop(Village(live_world))
        loop.complain()
        loop.open_topic()
        adults = [a.user for a in loop.v.adults]
        texts = ["先修水管，再修路面", "费用应由村集体承担", "施工期间要保证临时供水", "应该请专业公司施工"]
        statements = [deliberation.add_statement(adults[i], loop.topic, text) for i, text in enumerate(texts)]
        for i, user in enumerate(adults[:10]):
            camp = 1 if i % 2 else -1
            for j, statement in enumerate(statements):
                vote = 1 if j in (0, 2) else camp
                deliberation.vote_statement(user, statement, vote)
        later = loop.decide()
        staff = loop.staff()
        tasks = list(loop.project.tasks.order_by("deadline"))
        with clock.frozen_at(later + dt.timedelta(days=3)):
            services.report_progress(staff, loop.case, tasks[0], note="管材已到货，符合国标", photos=[_photo()],
                                     done=True)
        with clock.frozen_at(later + dt.timedelta(days=12)):
            services.report_progress(staff, loop.case, tasks[1], note="管道已更换，路面已恢复", photos=[_photo()],
                                     done=True)
            duties.record_project_outcome(loop.v.officer, loop.project, "村西片供水管道更换完成，路面恢复")
        with clock.frozen_at(later + dt.timedelta(days=14)):
            loop.case.refresh_from_db()
            for i, user in enumerate(loop.reporters):
                services.answer(loop.case, solved=i != 2, satisfaction="satisfied" if i == 0 else "basically_satisfied",
                                comment="终于不漏水了，谢谢" if i == 0 else "", user=user)
    loop.case.refresh_from_db()
    return loop


@pytest.fixture
def working_case(live_world, settings, tmp_path):
    """Decided in March (frozen clock); the work is done now, through the pages."""
    from gongzhi.cases.tests.conftest import Loop
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen_at(MONDAY_9AM):
        loop = Loop(Village(live_world))
        loop.complain()
        loop.open_topic()
        loop.decide()
        loop.staff()
    photo = tmp_path / "work.jpg"
    photo.write_bytes(_photo())
    loop.photo_path = photo
    return loop


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


def _press(page, device: str, selector: str):
    target = page.locator(selector).first
    target.scroll_into_view_if_needed()
    if device == "phone":
        target.tap()
    else:
        target.click()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_public_reads_a_whole_case_and_verifies_every_receipt(whole_case, open_browser, shots, device):
    case = whole_case.case
    page = open_browser(device)
    page.goto("/cases/")
    assert page.locator(".case-card").count() == 1
    _press(page, device, f".case-card a[href='/cases/{case.pk}/']")
    page.wait_for_url(f"**/cases/{case.pk}/")
    for anchor in ("complaints", "deliberation", "vote", "decision", "project", "verdict"):
        assert page.locator(f"#{anchor}").is_visible()
    body = page.locator("body").inner_text()
    assert "王先生" not in body and "13800138000" not in body
    assert not re.search(r"\b[0-9a-f]{32,}\b", body)
    # The map shows the one grid with its four demands.
    page.wait_for_selector("#case-map .case-place")
    assert page.locator("#case-map .case-place .gz-count").first.inner_text() == "4"
    # The photos of the work are there, as thumbnails that load.
    thumbs = page.locator("#project .photos img")
    assert thumbs.count() == 2
    thumbs.last.scroll_into_view_if_needed()
    for i in range(2):
        thumbs.nth(i).evaluate("i => i.complete ? null : new Promise(done => i.addEventListener('load', done))")
    assert all(thumbs.nth(i).evaluate("i => i.naturalWidth") > 0 for i in range(2))
    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= DEVICES[device]["viewport"]["width"]
    shots(page, f"{device}-page")
    _press(page, device, "#verify button[type=submit]")
    page.wait_for_selector("#verify .check-result")
    result = page.locator("#verify .check-result")
    assert "good" in result.get_attribute("class")
    number = int(re.search(r"(\d+)", result.inner_text()).group(1))
    assert number > 20
    page.locator("#verify").scroll_into_view_if_needed()
    page.screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-{device}-verified.png"))
    if device == "desktop":
        page.emulate_media(media="print")
        assert not page.locator(".topbar").is_visible() and not page.locator("#verify form").is_visible()
        shots(page, "desktop-print")


def test_the_unit_reports_with_photos_the_officer_records_it_done_and_a_resident_answers(working_case, open_browser,
                                                                                        shots):
    from gongzhi.cases.models import Case, ProgressPhoto, Verdict

    loop = working_case
    case = loop.case
    url = f"/cases/{case.pk}/"
    desk = open_browser("desktop")
    sign_in(desk, loop.company_staff.username)
    desk.goto(url)
    # The deadlines (April) are past: both milestones are overdue, in red.
    assert desk.locator("#project .milestone.overdue").count() == 2
    tasks = list(loop.project.tasks.order_by("deadline"))
    for n, task in enumerate(tasks):
        milestone = desk.locator(f"#milestone-{task.pk}")
        milestone.locator("summary").click()
        milestone.locator("textarea").fill(f"第{n + 1}个节点已完成")
        milestone.locator("input[type=file]").set_input_files(str(loop.photo_path))
        milestone.locator("input[type=checkbox]").check()
        if n == 0:
            shots(desk, "desktop-progress-form")
        with desk.expect_navigation():
            milestone.locator("button[type=submit]").click()
        assert desk.locator(f"#milestone-{task.pk} .photos img").count() == 1
        assert desk.locator(f"#milestone-{task.pk} form").count() == 0
    assert ProgressPhoto.objects.filter(case=case).count() == 2
    desk.context.clear_cookies()
    sign_in(desk, loop.v.officer.username)
    desk.goto(url + "#project")
    desk.locator("textarea[name=outcome]").fill("村西片供水管道更换完成，路面恢复")
    with desk.expect_navigation():
        desk.locator("form[action$='/outcome'] button[type=submit]").click()
    case.refresh_from_db()
    assert case.status == Case.Status.ASKING

    phone = open_browser("phone")
    sign_in(phone, loop.reporters[0].username)
    phone.goto(url + "#verdict")
    form = phone.locator("form.verdict-form")
    form.scroll_into_view_if_needed()
    form.locator("input[name=solved][value=yes]").tap()
    form.locator("input[name=satisfaction][value=satisfied]").tap()
    form.locator("textarea[name=comment]").fill("不漏水了，谢谢")
    shots(phone, "phone-verdict-form")
    with phone.expect_navigation():
        form.locator("button[type=submit]").tap()
    verdict = phone.locator("#verdict")
    assert "不漏水了，谢谢" in verdict.inner_text() and phone.locator("form.verdict-form").count() == 0
    assert Verdict.objects.filter(case=case, user=loop.reporters[0], solved=True).exists()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    verdict.scroll_into_view_if_needed()
    phone.screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-phone-answered.png"))
