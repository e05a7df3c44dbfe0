"""The duties pages in a real headless Chromium at phone width: the power list fits the screen; an officer
records a routine purchase under it with the signatures it needs and sees it in the decisions recorded; a
goal's page draws its progress chart; every duties page fits a phone, with no JavaScript error."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def village(live_world, settings, tmp_path):
    """The deliberation tests' village, committed for the live server, with the clock at its Monday."""
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village

    settings.GONGZHI_LEDGER_KEY = tmp_path / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "pseudonym.key"
    with clock.frozen_at(MONDAY_9AM):
        yield Village(live_world)


def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return context, tab, errors


def fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def at(name: str, region, *args) -> str:
    return f"{reverse(f'duties:{name}', args=args)}?region={region.pk}"


def test_an_officer_records_a_routine_decision_on_the_power_list_at_phone_width(browser, live_server, village,
                                                                                screenshot):
    from gongzhi.duties import services
    from gongzhi.duties.models import Decision

    services.adopt_power_list(village.officer, village.village)
    context, tab, errors = phone(browser, live_server)
    tab.goto(at("powers", village.village))
    assert tab.locator(".power-item").count() == 36
    assert tab.locator("#item-procurement .threshold").inner_text() == "5 万元（含）以上属“三重一大”事项"
    assert tab.locator("#item-procurement details.record-decision").count() == 0  # the public reads only
    assert fits(tab)
    screenshot(tab, "duties-powers-phone")

    sign_in(tab, village.officer.username)
    tab.goto(at("powers", village.village))
    item = tab.locator("#item-procurement")
    item.locator("details.record-decision > summary").click()
    item.locator("input[name=title]").fill("购买办公用品")
    item.locator("input[name=amount]").fill("800")
    for code in ("handler", "party_secretary", "committee_director"):
        item.locator(f"input[name=signatories][value={code}]").check()
    assert fits(tab)
    item.locator(".decision-form button[type=submit]").click()
    tab.wait_for_load_state()
    assert tab.locator(".messages li.success a[href*='/deliberation/disclosures/']").count() == 1
    decision = Decision.objects.get()
    row = tab.locator(f"#decision-{decision.pk}")
    assert "购买办公用品" in row.inner_text() and "800 元" in row.inner_text()
    assert fits(tab)
    screenshot(tab, "duties-decision-recorded-phone")
    assert errors == []
    context.close()


def test_a_goal_page_draws_its_progress_chart_and_every_duties_page_fits_a_phone(browser, live_server, village,
                                                                                screenshot):
    from gongzhi.duties import services

    goal = services.create_goal(village.officer, region=village.village, title="垃圾分类覆盖率", indicator="覆盖率",
                                unit_of_measure="%", start_value=40, target_value=90, direction="higher",
                                start_date=dt.date(2026, 1, 1), deadline=dt.date(2026, 12, 31),
                                owner=village.committee)
    for day, value in ((dt.date(2026, 1, 20), 43), (dt.date(2026, 2, 10), 46), (dt.date(2026, 3, 1), 49)):
        with clock.frozen_at(dt.datetime.combine(day, dt.time(2), tzinfo=dt.timezone.utc)):
            services.report_progress(village.officer, goal=goal, value=value, note="入户宣传")
    services.add_task(village.officer, goal=goal, title="增设分类投放点", unit=village.committee,
                      deadline=dt.date(2026, 4, 30), quality_standard="每个村民小组一处")
    services.publish_need(village.officer, region=village.village, title="独居老人助餐", skills=["cooking"],
                          quantity=10, urgency=5, longitude=116.105, latitude=39.905)
    context, tab, errors = phone(browser, live_server)
    sign_in(tab, village.officer.username)
    tab.goto(reverse("duties:goal", args=[goal.pk]))
    tab.wait_for_selector("#goal-chart[data-ready=true]")
    assert tab.locator("#goal-chart").get_attribute("data-points") == "3"
    assert tab.locator("#goal-chart .scatterlayer .trace").count() == 2  # reported values and the expected path
    assert fits(tab)
    screenshot(tab, "duties-goal-phone")
    for name in ("index", "responsibilities", "goals", "scorecards", "matching"):
        tab.goto(at(name, village.village))
        assert fits(tab), name
        screenshot(tab, f"duties-{name}-phone")
    assert errors == []
    context.close()
