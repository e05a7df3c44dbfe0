"""In a real headless Chromium: a resident pastes their receipt into the public "verify a receipt"
page and sees it checked; one changed character turns the result red."""

import json

import pytest
from django.db import transaction

from gongzhi.core import events
from gongzhi.ledger import queries, services

pytestmark = [pytest.mark.browser]


@pytest.fixture
def receipt(transactional_db, settings, tmp_path):
    """A committed, sequenced log of 12 entries and the receipt of entry 5."""
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_SEQUENCER = "loop"
    with transaction.atomic():
        for i in range(12):
            events.record("demand.step", f"D-{i}", step=i)
    services.sequence_pending()
    return json.dumps(queries.receipt(5), ensure_ascii=False, indent=2)


def submit(page, text):
    page.fill("#receipt-form textarea[name=receipt]", text)
    page.click("#receipt-form button[type=submit]")
    page.wait_for_selector("#receipt-result")
    return page.locator("#receipt-result")


def test_a_pasted_receipt_is_verified_and_one_changed_character_fails(page, receipt, screenshot):
    page.goto("/ledger/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#summary .big").inner_text().startswith("共 12 条记录")  # in words, first
    assert not page.locator("[data-field=root]").is_visible()  # hashes, key and commands folded away
    page.click("#technical summary")
    assert page.locator("[data-field=size]").inner_text() == "12"
    screenshot(page, "ledger")
    page.click("a[href='/ledger/receipt/']")
    page.wait_for_selector("#receipt-form")

    result = submit(page, receipt)
    assert result.get_attribute("data-result") == "ok"
    assert page.locator("#receipt-result [data-check][data-ok=true]").count() == 5
    verdict = page.locator("#receipt-result .verdict").inner_text()
    assert verdict.startswith("✔") and "第 5 条记录" in verdict and "签名的检查点证实" in verdict  # in words
    assert not page.locator("#receipt-result .checks").is_visible()  # the technical details are folded away
    screenshot(page, "ledger-receipt-ok")

    tampered = receipt.replace("demand.step", "demand.stap", 1)
    assert sum(a != b for a, b in zip(tampered, receipt)) == 1
    result = submit(page, tampered)
    assert result.get_attribute("data-result") == "fail"
    assert page.locator("#receipt-result [data-check=inclusion]").get_attribute("data-ok") == "false"
    assert page.locator("#receipt-result .verdict").inner_text().startswith("✘")
    assert page.locator("#receipt-result .checks").is_visible()  # a failure shows which check failed
    screenshot(page, "ledger-receipt-tampered")
