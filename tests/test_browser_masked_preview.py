"""The masked preview in a real headless Chromium, on a phone (390 px, touch) and a desktop (1280 px, mouse):
while a resident types a topic, a statement or an objection, the box under the field says what the public will
not see; the posted topic shows it masked and the notice says what was masked. No inline script runs (the
Content-Security-Policy watcher of conftest fails the test on any violation)."""

import pytest
from django.urls import reverse

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
VIEWPORTS = {"phone": ({"width": 390, "height": 844}, True), "desktop": ({"width": 1280, "height": 900}, False)}


@pytest.fixture
def village(live_world, settings, tmp_path):
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village

    settings.GONGZHI_LEDGER_KEY = tmp_path / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "pseudonym.key"
    with clock.frozen_at(MONDAY_9AM):
        yield Village(live_world)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_resident_sees_what_will_be_masked_while_typing_and_after_posting(browser, live_server, village,
                                                                            screenshot, device):
    from gongzhi.deliberation import services

    viewport, touch = VIEWPORTS[device]
    topic = services.propose_topic(village.officer, region=village.village, title="村口停车", description="征求意见",
                                   origin="organisation")
    item = services.publish(village.officer, region=village.village, kind="finances", title="三季度财务公开",
                            body="收入12万元", notice_days=7)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport, has_touch=touch,
                                  is_mobile=touch)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(tab, village.adults[6].user.username)

    tab.goto(reverse("deliberation:topics"))
    tab.fill("#id_title", "村口路灯坏了")
    description = tab.locator("#id_description")
    description.click()
    description.type("晚上太黑，有事打 138 1234 5678，我家在幸福路12号3栋201室", delay=5)
    box = tab.locator("#id_description ~ .masked-preview")
    box.locator("li").first.wait_for()
    shown = box.inner_text()
    assert "138****5678" in shown and "**号" in shown and "138 1234 5678" in shown and "12号3栋201室" in shown
    assert tab.locator("#id_title ~ .masked-preview").is_hidden()  # nothing to mask in the title
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box.scroll_into_view_if_needed()
    screenshot(tab, f"masked-preview-topic-{device}")
    tab.locator("#propose button[type=submit]").click()
    tab.wait_for_load_state()
    body = tab.content()
    assert "138****5678" in body and "138 1234 5678" not in body and "幸福路**号" in body
    assert "公开时已遮盖" in body or "Masked when published" in body
    screenshot(tab, f"masked-preview-topic-posted-{device}")

    tab.goto(reverse("deliberation:topic", args=[topic.pk]))
    tab.locator("details.add-statement summary").click()
    statement = tab.locator("details.add-statement textarea[name=text]")
    statement.click()
    statement.type("支持，联系 010-6275 1234", delay=5)
    tab.locator("details.add-statement .masked-preview li").first.wait_for()
    assert "010-****1234" in tab.locator("details.add-statement .masked-preview").inner_text()
    screenshot(tab, f"masked-preview-statement-{device}")

    tab.goto(reverse("deliberation:disclosures"))
    tab.locator(f"#disclosure-{item.pk} summary").first.click()
    objection = tab.locator(f"#disclosure-{item.pk} textarea").first
    objection.click()
    objection.type("身份证 110101 19900307 123X", delay=5)
    tab.locator(f"#disclosure-{item.pk} .masked-preview li").first.wait_for()
    assert "[身份证号]" in tab.locator(f"#disclosure-{item.pk} .masked-preview").inner_text()
    screenshot(tab, f"masked-preview-objection-{device}")
    assert errors == []
    context.close()
