"""The district's own map (issue #16 item 3): roads with their names, buildings with their numbers, region
outlines with their names, as the public /api/v1/org/basemap gives them to the pages' maps; and the map's
search finding roads and road numbers."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from gongzhi.org import queries
from gongzhi.org.geometry import derive_polygons
from gongzhi.org.models import Building, Road

pytestmark = pytest.mark.django_db

EAST_ROAD = {"type": "LineString", "coordinates": [[116.0, 39.9035], [116.015, 39.9035], [116.03, 39.9035]]}


@pytest.fixture
def mapped(world):
    """The World with derived outlines, a road through all three grids and a building numbered along it."""
    derive_polygons(world.district)
    world.road = Road.objects.create(region=world.district, name="东园路", line=EAST_ROAD)
    world.numbered = Building.objects.create(grid=world.grid_a2, name="12号", address="东园路12号",
                                             longitude=116.0121, latitude=39.9039)
    return world


def basemap(client, **params):
    response = client.get("/api/v1/org/basemap", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_road_line_is_a_geojson_line_in_lon_lat(world):
    Road(region=world.district, name="幸福路", line=EAST_ROAD).full_clean()
    for bad in ({"type": "Point", "coordinates": [116.0, 39.9]},
                {"type": "LineString", "coordinates": [[116.0, 39.9]]},
                {"type": "LineString", "coordinates": [[216.0, 39.9], [116.0, 39.9]]},
                "东园路"):
        with pytest.raises(ValidationError):
            Road(region=world.district, name="幸福路", line=bad).full_clean()


def test_the_basemap_is_public_and_draws_regions_roads_and_building_numbers(mapped):
    body = basemap(Client())
    assert body["tiles"] is None
    levels = {(r["name"], r["level"]) for r in body["regions"]}
    assert {("示范区", "district"), ("东园社区", "community"), ("东园一网格", "grid"), ("西园一网格", "grid")} <= levels
    assert [r["name"] for r in body["roads"]] == ["东园路"]
    assert body["roads"][0]["line"]["type"] == "LineString"
    assert {b["number"] for b in body["buildings"]} == {"1号楼", "9号楼", "12号"}


def test_the_basemap_holds_no_household_person_code_or_id(mapped):
    text = json.dumps(basemap(Client()), ensure_ascii=False)
    for private in ("张三", "李四", "13900001111", "110105198001010032", "1-101", "2-202"):
        assert private not in text
    for code in ("110199001001", '"A1"', '"B1"'):  # administrative and grid codes are not for the public map
        assert code not in text
    assert '"id"' not in text and "address" not in text


def test_the_basemap_within_a_grid_keeps_to_that_grid(mapped):
    body = basemap(Client(), within=mapped.grid_a2.pk)
    assert [r["name"] for r in body["regions"]] == ["东园二网格"]
    assert [b["number"] for b in body["buildings"]] == ["12号"]
    # The road is cut to the grid's surroundings: it no longer reaches grid B1.
    (road,) = body["roads"]
    longitudes = [p[0] for p in road["line"]["coordinates"]]
    assert road["name"] == "东园路" and min(longitudes) > 116.005 and max(longitudes) < 116.025


def test_an_unknown_region_is_a_json_404(mapped):
    response = Client().get("/api/v1/org/basemap", {"within": 999999})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@override_settings(GONGZHI_MAP_TILES="https://tiles.example.org/{z}/{x}/{y}.png", GONGZHI_MAP_ATTRIBUTION="示例")
def test_with_a_tile_server_the_tiles_are_the_base_and_only_outlines_come_along(mapped):
    body = basemap(Client())
    assert body["tiles"] == {"url": "https://tiles.example.org/{z}/{x}/{y}.png", "attribution": "示例", "max_zoom": 18}
    assert body["regions"] and body["roads"] == [] and body["buildings"] == []


def test_the_search_finds_a_road_and_a_number_on_it(mapped):
    found = queries.find_places("东园路")
    assert found[0]["kind"] == "road" and found[0]["label"] == "东园路 · 示范区"
    assert found[0]["latitude"] == pytest.approx(39.9035)
    numbered = queries.find_places("东园路12号")
    assert [(p["kind"], p["label"]) for p in numbered] == [("building", "东园路12号 · 东园二网格")]
    assert (numbered[0]["longitude"], numbered[0]["latitude"]) == (116.0121, 39.9039)
