"""A rate limit as a person meets it in Chromium: the vote card's htmx request refused with 429 leaves the
card as it was and says why at the top of the page (web/gongzhi.js), without a CSP violation."""

import pytest
from django.urls import reverse

from .conftest import sign_in
from .test_browser_deliberation import phone, village  # noqa: F401  (village is a fixture)

pytestmark = [pytest.mark.browser]


def test_a_vote_past_the_limit_is_refused_with_the_reason_shown(browser, live_server, village, settings):
    from gongzhi.deliberation import services

    settings.GONGZHI_RATE_LIMITS = {**settings.GONGZHI_RATE_LIMITS,
                                    "statement_vote": {"user": "1/h", "address": "100/h"}}
    topic = services.propose_topic(village.officer, region=village.village, title="村规民约修订", description="征求意见",
                                   origin="organisation")
    for text in ("保留集体林地", "增加停车位", "禁止焚烧秸秆"):
        services.add_statement(village.officer, topic, text)
    context, tab, errors = phone(browser, live_server)
    sign_in(tab, village.adults[11].user.username)
    tab.goto(reverse("deliberation:topic", args=[topic.pk]))
    first = tab.locator("#vote-card").get_attribute("data-statement")
    tab.locator("#vote-card button[data-vote=agree]").click()
    tab.wait_for_function("(first) => document.querySelector('#vote-card').dataset.statement !== first", arg=first)
    second = tab.locator("#vote-card").get_attribute("data-statement")
    tab.locator("#vote-card button[data-vote=agree]").click()
    notice = tab.wait_for_selector("#rate-limited[role=alert]")
    assert "请求过于频繁" in notice.inner_text() and "每小时最多 1 次" in notice.inner_text()
    assert tab.locator("#vote-card").get_attribute("data-statement") == second  # the card stayed
    assert errors == []
    context.close()
