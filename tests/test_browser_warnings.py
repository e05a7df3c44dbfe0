"""Warnings are actions (issue #17, item 7), walked in Debian's Chromium at desktop width with a mouse, as the
street party secretary (街道党工委书记, the demo's street_secretary) meets them: on the analysis cockpit she
opens a warning's demands (the exact list behind it), opens a proactive demand (未诉先办) from it, and
dismisses another warning with a reason, which then shows among the handled warnings. She acts as a leader
over the street; assigning to a unit of one's choice is the dispatch desk's. Screenshots at 1280 and 390."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands.models import Category, Demand
from gongzhi.insight.models import Warning

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "warnings"  # screenshots: tests/conftest.py shots


@pytest.fixture
def warnings_world(demand_world):
    """Three garbage demands in grid A1 behind a high warning there, a lamp demand in A2 behind another."""
    from gongzhi.demands.tests.factories import IN_A2

    dw = demand_world
    w = dw.world
    now = clock.now()
    behind = [dw.file(category="environment.garbage", text=f"东园路{i}号门口垃圾堆了三天没人清运",
                      at=now - dt.timedelta(days=3 + i)) for i in range(3)]
    lamp = dw.file(where=IN_A2, text="东园二网格楼道灯坏了一周，物业一直没人修", category="housing.property_service",
                   at=now - dt.timedelta(days=2))
    garbage = Category.objects.get(code="environment.garbage")
    first = Warning.objects.create(
        kind=Warning.Kind.HOT_SPOT, key="hot:browser:a1", raised_at=now, grid=w.grid_a1, community=w.community_a,
        category=garbage, unit=dw.city_management, level=Warning.Level.HIGH,
        message_zh="东园一网格「环境与卫生」类诉求集中：近一周 3 件，约为平常的 4 倍。",
        message_en="A1: environment demands gather, 3 last week, about 4 times the usual.",
        evidence={"ratio": 4.0, "demands": [d.number for d in behind]})
    second = Warning.objects.create(
        kind=Warning.Kind.RISING, key="rising:browser:a2", raised_at=now - dt.timedelta(hours=1), grid=w.grid_a2,
        community=w.community_a, category=lamp.category,
        message_zh="东园二网格诉求连续三周上升（每周 1, 2, 3 件）。", message_en="A2: demands rose three weeks running.",
        evidence={"weekly": [1, 2, 3], "demands": [lamp.number]})
    return {"dw": dw, "first": first, "second": second, "behind": behind, "lamp": lamp}


def test_a_street_officer_follows_a_warning_to_its_demands_acts_on_it_and_dismisses_another(
        browser, live_server, warnings_world, shots):
    from gongzhi.org.models import Organisation
    from gongzhi.org.tests.factories import official

    ww = warnings_world
    committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee",
                                            region=ww["dw"].world.street)
    officer = official(committee, "secretary", "street_secretary")  # 街道党工委书记, as the demo's street_secretary
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, officer.username)

    page.goto(reverse("insight:cockpit"))
    first = page.locator(f"#warnings li#warning-{ww['first'].pk}")
    first.scroll_into_view_if_needed()
    assert first.locator(".badge.late").count() == 1  # high level
    assert first.locator("details.warning-assign").count() == 0  # assigning is the dispatch desk's
    assert page.locator("#warnings li.insight-warning").first.get_attribute("data-id") == str(ww["first"].pk)
    shots(page, "cockpit-1280")

    # The demands behind it: exactly those three.
    first.locator("a.warning-demands-link").click()
    page.wait_for_url(f"**{reverse('insight:warning_demands', args=[ww['first'].pk])}")
    numbers = page.locator(".cards-list .demand-card a.number").all_inner_texts()
    assert sorted(numbers) == sorted(d.number for d in ww["behind"])
    assert ww["lamp"].number not in page.content()
    shots(page, "demands-1280")

    # A proactive demand from it, opened from the same page.
    page.locator(f"#warning-{ww['first'].pk} form.act-proactive button[type=submit]").click()
    page.wait_for_url("**/demands/*/")
    proactive = Demand.objects.get(channel="proactive")
    assert proactive.number in page.locator("main").inner_text()
    ww["first"].refresh_from_db()
    assert (ww["first"].state, ww["first"].demand) == ("acted", proactive)

    # The other warning: dismissed with a reason, from the warnings list.
    page.goto(reverse("insight:warnings"))
    second = page.locator(f"li#warning-{ww['second'].pk}")
    assert page.locator(f"li#warning-{ww['first'].pk}").count() == 0  # no longer open
    second.locator("details.warning-dismiss summary").click()
    submit = second.locator("details.warning-dismiss button[type=submit]")
    submit.click()  # no reason yet: the browser holds the form back (required), nothing is sent
    assert Warning.objects.get(pk=ww["second"].pk).state == "open"
    second.locator("textarea[name=reason]").fill("已在本月路灯检修计划中，无需另行处置")
    shots(page, "dismiss-1280")
    submit.click()
    page.wait_for_load_state()
    assert page.locator(f"li#warning-{ww['second'].pk}").count() == 0
    ww["second"].refresh_from_db()
    assert (ww["second"].state, ww["second"].dismissal_reason) == ("dismissed", "已在本月路灯检修计划中，无需另行处置")
    page.locator(".insight-tabs a").nth(1).click()  # the handled ones
    page.wait_for_load_state()
    handled = page.locator(f"li#warning-{ww['second'].pk}")
    assert "已在本月路灯检修计划中" in handled.inner_text()
    assert page.locator(f"li#warning-{ww['first'].pk} a[href*='{proactive.number}']").count() == 1
    shots(page, "handled-1280")
    assert errors == []
    context.close()

    # The same pages at phone width: nothing wider than the screen.
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    tab = phone.new_page()
    sign_in(tab, officer.username)
    for url, name in ((reverse("insight:warnings") + "?state=handled", "handled-390"),
                      (reverse("insight:warning_demands", args=[ww["first"].pk]), "demands-390"),
                      (reverse("insight:cockpit"), "cockpit-390")):
        tab.goto(url)
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        shots(tab, name)
    phone.close()
