"""The analysis cockpit in a real headless Chromium at phone width: the grid map (Leaflet) draws one shape per
grid, switching the measure recolours it, and the trend chart (Plotly) draws its lines."""

import pytest
from django.urls import reverse

from .conftest import sign_in

pytestmark = [pytest.mark.browser]


def test_the_cockpit_map_and_trend_draw_and_the_measure_switches(browser, live_server, live_world, screenshot,
                                                                settings, tmp_path):
    from gongzhi.demands import services

    settings.GONGZHI_LEDGER_KEY = tmp_path / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "pseudonym.key"
    from gongzhi.demands.tests.factories import IN_A1, IN_B1
    from gongzhi.org.tests.factories import official

    services.seed_defaults()
    desk = official(live_world.street_office, "staff", "desk_for_cockpit")
    for where in (IN_A1, IN_A1, IN_B1):
        services.file_demand(desk, text="垃圾没人清运", longitude=where[0], latitude=where[1],
                             category="environment.garbage")
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, desk.username)
    page.goto(reverse("insight:cockpit") + f"?region={live_world.street.pk}")
    page.wait_for_selector("#insight-map[data-ready=true]")
    assert page.locator("#insight-map path.insight-grid").count() == 3  # A1, A2, B1
    page.wait_for_selector("#insight-trend[data-ready=true]")
    assert page.locator("#insight-trend .scatterlayer .trace").count() >= 1
    page.locator("input[name=measure]").nth(1).check()
    page.wait_for_function("() => document.querySelector('#insight-map').dataset.measure === 'open'")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    assert errors == []
    screenshot(page, "insight-cockpit-phone")
    context.close()
