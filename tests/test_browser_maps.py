"""The maps (issue #16 items 3 and 6) in a real headless Chromium, at desktop width with a mouse and at phone
width with touch: the region page's grid map, the cockpit's grid map coloured by a measure, and the public map
of demands, each drawn with Leaflet over the district's own map (roads with their names, buildings with their
numbers, outlines with their names) since no tile server is configured in tests."""

import json
import re

import pytest
from django.urls import reverse

from .conftest import sign_in

pytestmark = [pytest.mark.browser]

DEVICES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}
ROAD = {"type": "LineString", "coordinates": [[115.999, 39.9035], [116.015, 39.9036], [116.031, 39.9035]]}
AT_HOME = (116.0023, 39.9071)  # where the resident's demand is filed, in grid A1
CONTACT = ("王小明", "13700009999")


@pytest.fixture
def mapped_world(live_world, settings, tmp_path):
    """The World with derived outlines, a named road through its grids, a building numbered along it, and
    demands: two in grid A1 (one by a resident with a name and a phone), one in B1."""
    from gongzhi.demands import services
    from gongzhi.demands.tests.factories import IN_B1
    from gongzhi.org.geometry import derive_polygons
    from gongzhi.org.models import Building, Road
    from gongzhi.org.tests.factories import official

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    derive_polygons(live_world.district)
    Road.objects.create(region=live_world.district, name="东园路", line=ROAD)
    Building.objects.create(grid=live_world.grid_a2, name="12号", address="东园路12号", longitude=116.0121,
                            latitude=39.9041)
    services.seed_defaults()
    live_world.desk = official(live_world.street_office, "staff", "desk_for_maps")
    live_world.demands = [
        services.file_demand(live_world.desk, text=f"{CONTACT[0]}家门口井盖丢了，电话{CONTACT[1]}",
                             longitude=AT_HOME[0], latitude=AT_HOME[1], category="environment.garbage",
                             contact_name=CONTACT[0], contact_phone=CONTACT[1]).demand,
        services.file_demand(live_world.desk, text="垃圾没人清运", longitude=116.004, latitude=39.904,
                             category="environment.garbage").demand,
        services.file_demand(live_world.desk, text="路灯不亮", longitude=IN_B1[0], latitude=IN_B1[1],
                             category="environment.garbage").demand,
    ]
    return live_world


@pytest.fixture(params=list(DEVICES))
def device(request, browser, live_server):
    """A browser context of each kind: a desktop with a mouse, a phone with touch."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **DEVICES[request.param])
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.kind = request.param
    yield tab
    context.close()


def press(page, target, fx: float = 0.5, fy: float = 0.5):
    """A click with the mouse on the desktop, a tap on the phone, at a fraction of the target's box (its map
    scrolled into view first: a tap outside the screen reaches nothing)."""
    page.evaluate("node => node.closest('.gz-map').scrollIntoView({block: 'center'})", target.element_handle())
    box = target.bounding_box()
    x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
    if page.kind == "phone":
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def zoom_to(page, selector: str, zoom: float, lat: float = 39.905, lon: float = 116.015):
    """Zoom the map to `zoom` at a point and wait until its labels are sorted out again."""
    before = page.evaluate("s => document.querySelector(s).dataset.decluttered", selector)
    page.evaluate("([s, z, lat, lon]) => document.querySelector(s).gzMap.setView([lat, lon], z, {animate: false})",
                  [selector, zoom, lat, lon])
    page.wait_for_function("([s, z, before]) => document.querySelector(s).dataset.zoom === String(z)"
                           " && document.querySelector(s).dataset.decluttered !== before", arg=[selector, zoom, before])


# Whether a label is shown: drawn, not hidden by the decluttering, and inside its map (Leaflet clips the rest).
SHOWN = """(() => { const shown = n => {
    const r = n.getBoundingClientRect(), map = n.closest('.gz-map').getBoundingClientRect();
    return !n.closest('.gz-hidden') && r.width > 0 && r.right > map.left && r.left < map.right
        && r.bottom > map.top && r.top < map.bottom;
}; return %s; })()"""


def visible_texts(page, selector: str) -> list[str]:
    """The labels a person can see: drawn and not hidden by the decluttering."""
    return page.eval_on_selector_all(selector, SHOWN % "nodes => nodes.filter(shown).map(n => n.textContent)")


def overlapping_labels(page, selector: str) -> list[list[str]]:
    """Pairs of shown labels whose boxes overlap (none, when the decluttering works)."""
    return page.eval_on_selector_all(selector, SHOWN % """nodes => {
        const pairs = [];
        nodes = nodes.filter(shown);
        nodes.forEach((a, i) => nodes.forEach((b, j) => {
            const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
            if (i < j && p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
                pairs.push([a.textContent, b.textContent]);
        }));
        return pairs;
    }""")


def test_the_region_map_draws_its_grids_over_roads_and_a_press_opens_a_grid(mapped_world, device, screenshot):
    page, world = device, mapped_world
    sign_in(page, world.secretary_a.username)
    page.goto(reverse("org:region", args=[world.community_a.pk]))
    page.wait_for_selector("#map[data-ready=true][data-base=own]")
    grids = page.locator("#map path.region-link")
    assert grids.count() == 2  # 东园一网格, 东园二网格
    assert page.locator("#map path.gz-road").count() == 1
    assert {"东园一网格", "东园二网格"} <= set(visible_texts(page, "#map .gz-page-label > span"))
    zoom_to(page, "#map", 15)
    assert "东园路" in visible_texts(page, "#map .gz-road-label > span")
    assert overlapping_labels(page, "#map .gz-label > span") == []
    page.locator("#map").scroll_into_view_if_needed()
    screenshot(page, f"maps-region-{page.kind}")

    zoom_to(page, "#map", 14.5, lon=116.005)  # grid A1 in the middle
    first = page.locator(f"#map path[data-url='{reverse('org:region', args=[world.grid_a1.pk])}']")
    press(page, first, 0.3, 0.25)
    page.wait_for_url(re.compile(re.escape(reverse("org:region", args=[world.grid_a1.pk])) + "$"))
    page.wait_for_selector("#map[data-ready=true]")
    assert page.locator("h1").inner_text() == "东园一网格"
    assert page.locator("#map .region-building").count() == 1  # 1号楼
    assert page.errors == []
    screenshot(page, f"maps-grid-{page.kind}")


def test_the_cockpit_map_colours_the_grids_with_a_legend_and_a_press_opens_a_grid(mapped_world, device, screenshot):
    page, world = device, mapped_world
    sign_in(page, world.desk.username)
    page.goto(reverse("insight:cockpit") + f"?region={world.street.pk}")
    page.wait_for_selector("#insight-map[data-ready=true][data-base=own]")
    grids = page.locator("#insight-map path.insight-grid")
    assert grids.count() == 3  # A1, A2, B1
    fills = page.eval_on_selector_all("#insight-map path.insight-grid", "ps => ps.map(p => p.getAttribute('fill'))")
    assert len(set(fills)) >= 2  # A1 has two demands, A2 none: not one colour for all
    legend = page.locator("#insight-legend").inner_text()
    assert "0" in legend and page.locator("#insight-legend .ramp").count() == 1
    assert page.locator("#insight-map path.gz-road").count() == 1
    page.locator("input[name=measure]").nth(1).check()
    page.wait_for_function("() => document.querySelector('#insight-map').dataset.measure === 'open'")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    zoom_to(page, "#insight-map", 15, lon=116.005)  # grid A1 in the middle
    assert "东园路" in visible_texts(page, "#insight-map .gz-road-label > span")
    assert any("东园一网格" in text for text in visible_texts(page, "#insight-map .insight-value > span"))
    page.locator("#insight-map").scroll_into_view_if_needed()
    screenshot(page, f"maps-cockpit-{page.kind}")

    zoom_to(page, "#insight-map", 14.5)  # grid A2 in the middle
    a2 = page.locator(f"#insight-map path[data-url='{reverse('org:region', args=[world.grid_a2.pk])}']")
    press(page, a2, 0.3, 0.25)
    page.wait_for_url(re.compile(re.escape(reverse("org:region", args=[world.grid_a2.pk])) + "$"))
    assert page.locator("h1").inner_text() == "东园二网格"
    assert page.errors == []


def test_the_public_map_counts_demands_per_grid_without_personal_data(mapped_world, device, screenshot):
    page, world = device, mapped_world
    page.goto(reverse("demands:public"))
    page.wait_for_selector("#public-map[data-ready=true][data-base=own]")
    assert page.locator("#public-map path.gz-road").count() == 1
    page.locator("#public-map").scroll_into_view_if_needed()
    screenshot(page, f"maps-public-overview-{page.kind}")
    zoom_to(page, "#public-map", 16, lon=116.005)  # grid A1 in the middle
    page.wait_for_function("() => document.querySelector('#public-map').dataset.level === 'grid'")
    counts = page.eval_on_selector_all("#public-map .public-grid .gz-count", "ns => ns.map(n => n.textContent)")
    assert sorted(counts) == ["1", "2"]  # B1 and A1: grids, not the demands' own points
    assert "东园一网格" in visible_texts(page, "#public-map .public-grid .gz-name")
    assert "东园路" in visible_texts(page, "#public-map .gz-road-label > span")
    assert overlapping_labels(page, "#public-map .gz-label > span") == []
    page.locator("#public-map").scroll_into_view_if_needed()
    screenshot(page, f"maps-public-{page.kind}")
    zoom_to(page, "#public-map", 17, lat=39.9041, lon=116.0121)  # building numbers show from zoom 17
    assert "12号" in visible_texts(page, "#public-map .gz-building-label > span")
    assert overlapping_labels(page, "#public-map .gz-label > span") == []
    screenshot(page, f"maps-public-buildings-{page.kind}")
    zoom_to(page, "#public-map", 16, lon=116.005)  # grid A1 in the middle

    a1 = page.locator("#public-map .public-grid .gz-count").filter(has_text="2")
    press(page, a1)
    popup = page.locator("#public-map .gz-popup")
    popup.wait_for()
    page.wait_for_function("() => getComputedStyle(document.querySelector('#public-map .leaflet-popup')).opacity === '1'")
    assert "东园一网格" in popup.inner_text() and "东园社区" in popup.inner_text()
    screenshot(page, f"maps-public-popup-{page.kind}")

    # Nothing that could find the resident: not in the page, not in the map's data.
    data = page.request.get(reverse("demands:public_map")).json()
    shown = page.content() + json.dumps(data, ensure_ascii=False)
    for private in (*CONTACT, f"{AT_HOME[0]}", f"{AT_HOME[1]}", world.grid_a1.grid_code, "1-101", "张三"):
        assert private not in shown, private
    assert all(set(g) == {"name", "community", "longitude", "latitude", "total", "open", "done", "categories"}
               for g in data["grids"])
    assert page.errors == []
