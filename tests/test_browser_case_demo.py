"""The demo's complete case read by the public in Debian's Chromium (issue #18, "Done when"): not signed in, from the
list of case files to the lift case of the demo community, every link of the chain on the one page — the complaints,
the opinion map with its groups and common ground, the meetings with their roll and quorum and the vote with its
published ballot list, the decision under the power list with its disclosure, the work with photos of each
milestone, the residents' verdict — then "verify the whole case" checks every receipt against the ledger's signed
checkpoint. At phone width with touch (the list and the case), and at desktop width with a mouse (the check).

Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's temporary folder (tests/conftest.py shots)."""

import re

import pytest
from django.test import override_settings

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "case-demo"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def demo_case(transactional_db, settings, tmp_path):
    """The whole demo district, committed so the live server's thread sees it (flushed after the test), with
    every ledger entry sequenced under a signed checkpoint; the demo's complete case."""
    from gongzhi.cases.demo import demo_cases
    from gongzhi.ledger import services as ledger
    from gongzhi.org import demo

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = FAST_HASHERS
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        demo.build_demo()
    while ledger.sequence_pending():
        pass
    return demo_cases()["complete"]


def _first_number(text: str) -> int:
    return int(re.search(r"\d+", text)[0])


def _loaded_images(page, selector: str) -> int:
    return page.locator(selector).evaluate_all("els => els.filter(e => e.complete && e.naturalWidth > 0).length")


def test_the_public_reads_the_demo_case_link_by_link_and_every_receipt_verifies(browser, live_server, demo_case,
                                                                                shots):
    case = demo_case
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    phone.set_default_timeout(20_000)
    page = phone.new_page()

    # The list of case files: the complete case is there, solved, and leads to its file.
    page.goto("/cases/")
    card = page.locator(".case-card").filter(has=page.locator(f'a[href="/cases/{case.pk}/"]'))
    assert card.count() == 1
    assert card.locator(".case-status.st-solved").count() == 1
    shots(page, "list-390")
    card.locator(f'a[href="/cases/{case.pk}/"]').tap()
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert page.locator("h1").inner_text().strip() == case.title
    assert page.locator(".case-head .case-status.st-solved").count() == 1
    # The chain's links lead to each section of the page.
    anchors = page.locator(".case-chain a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert anchors == ["#complaints", "#deliberation", "#vote", "#decision", "#project", "#verdict"]
    for anchor in anchors:
        assert page.locator(f"{anchor}.case-step.done").count() == 1, anchor

    # The complaints: how many, from how many residents, in their (scrubbed) words, on a map of grids.
    complaints = page.locator("#complaints")
    assert complaints.locator(".figures b").first.inner_text() == str(case.demands.count())
    assert complaints.locator(".samples li").count() >= 1
    assert "电梯" in complaints.locator(".samples").inner_text()
    assert complaints.locator("#case-map").count() == 1
    # The opinion map: groups and the common ground they share; the procedure's stages all passed.
    deliberation = page.locator("#deliberation")
    assert deliberation.locator(".groups > li").count() >= 2
    assert deliberation.locator(".common-ground li").count() >= 1
    assert deliberation.locator(".stages li.ok").count() == 7 and deliberation.locator(".stages li.bad").count() == 0
    # The meetings: the residents' meeting's roll met its quorum, the motion passed, its ballots are published.
    vote = page.locator("#vote")
    assert vote.locator(".meeting").count() == 2
    assert vote.locator(".quorum.ok").count() == 2 and vote.locator(".quorum.bad").count() == 0
    assert vote.locator(".motion .result.ok").count() == 2
    ballots = vote.locator('.motion a[href*="#ballots"]')
    assert ballots.count() == 2
    ballot_list = ballots.last.get_attribute("href")
    # The decision: a major matter (三重一大) under the power list, its disclosure with the objection answered.
    decision = page.locator("#decision")
    assert decision.locator(".major-badge").count() == 1
    assert decision.locator(".facts dd").count() >= 3
    assert decision.locator(".disclosures li").count() >= 1
    # The work: the responsible unit, every milestone done, photos of the work that load.
    project = page.locator("#project")
    assert "北京永宁物业管理有限公司" in project.locator(".facts").inner_text()
    milestones = project.locator(".milestones > li")
    assert milestones.count() == 3 and project.locator(".milestones > li.done").count() == 3
    photos = project.locator(".photos img")
    assert photos.count() == case.photos.count() >= 3
    for i in range(photos.count()):
        photos.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('#project .photos img')]"
                           ".every(e => e.complete && e.naturalWidth > 0)")
    assert _loaded_images(page, "#project .photos img") == photos.count()
    # The verdict: everyone asked answered, most say solved.
    verdict = page.locator("#verdict")
    solved, not_solved = (int(b.inner_text()) for b in verdict.locator(".figures b").all())
    assert solved > not_solved >= 1
    assert verdict.locator(".good").count() >= 1
    page.locator("#verdict").scroll_into_view_if_needed()
    shots(page, "case-390")

    # The published ballot list is public too.
    page.goto(ballot_list)
    assert page.locator("#ballots").count() == 1
    phone.close()

    # "Verify the whole case", at a desk: every receipt verifies against the current signed checkpoint.
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", **DESKTOP)
    desk.set_default_timeout(30_000)
    page = desk.new_page()
    page.goto(f"/cases/{case.pk}/")
    # Each section lists its steps' receipts, each downloadable, none waiting to be written to the ledger.
    assert page.locator(".case-step details.receipts").count() == 6
    downloads = page.locator(f'.case-step details.receipts a[href^="/cases/{case.pk}/receipts/"]').count()
    assert downloads >= 20 and page.locator(".case-step details.receipts .muted").count() == 0
    announced = _first_number(page.locator("#verify p.small").first.inner_text())
    page.locator("#verify button[type=submit]").click()
    result = page.locator("#verify .check-result")
    result.wait_for()
    assert f"/cases/{case.pk}/verify/" in page.url
    assert result.count() == 1
    assert "good" in result.get_attribute("class") and page.locator("#verify .check-result.bad").count() == 0
    assert _first_number(result.inner_text()) == announced  # every receipt was checked, and all verified
    shots(page, "verified-1280")
    desk.close()
