"""Point to grid against the database (locating.py) and the public /locate endpoint, including how the
per-process index notices new, moved and deleted grids and buildings."""

import datetime as dt

import numpy as np
import pytest
from django.test import Client
from django.utils import translation

from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.org import locating
from gongzhi.org.models import Building, Region
from gongzhi.org.spatial import NO_ID
from gongzhi.org.tests.factories import square

pytestmark = pytest.mark.django_db

LOCATE = "/api/v1/org/locate"


@pytest.fixture(autouse=True)
def fresh_index():
    # The index outlives a test's rolled-back rows; start each test without one.
    locating.forget_index()
    yield
    locating.forget_index()


def test_a_point_in_grid_a1_finds_a1_and_its_building(world):
    found = locating.locate(116.004, 39.905)
    assert found.grid == world.grid_a1
    assert found.building == world.building_a1
    assert found.building.name == "1号楼"
    # 0.001° of longitude at 39.905° N is about 85.4 m.
    assert found.distance_m == pytest.approx(85.4, abs=0.5)


def test_a_point_off_every_grid_finds_nothing(world):
    found = locating.locate(116.10, 39.95)
    assert (found.grid, found.building, found.distance_m) == (None, None, None)


def test_a_grid_without_buildings_gives_the_grid_and_no_building(world):
    found = locating.locate(116.015, 39.905)
    assert (found.grid, found.building, found.distance_m) == (world.grid_a2, None, None)


def test_a_point_on_the_edge_between_a1_and_a2_goes_to_the_lower_id(world):
    assert world.grid_a1.pk < world.grid_a2.pk
    assert locating.locate(116.01, 39.905).grid == world.grid_a1


def test_bad_coordinates_are_a_validation_error(world):
    with pytest.raises(ValidationFailed, match="纬度"):
        locating.locate(116.0, float("nan"))
    with translation.override("en"), pytest.raises(ValidationFailed, match="latitude"):
        locating.locate(116.0, float("nan"))


def test_locate_many_gives_ids_aligned_with_the_points(world):
    found = locating.locate_many(np.array([116.004, 116.10, 116.025]), np.array([39.905, 39.95, 39.905]))
    assert found.grid_ids.tolist() == [world.grid_a1.pk, NO_ID, world.grid_b1.pk]
    assert found.building_ids.tolist() == [world.building_a1.pk, NO_ID, world.building_b1.pk]
    assert np.isnan(found.distances_m[1]) and found.distances_m[2] == 0.0


def test_a_new_grid_is_found_by_the_next_lookup(world):
    assert locating.locate(116.035, 39.905).grid is None
    new = Region.objects.create(kind="grid", parent=world.community_b, name="西园二网格", grid_code="B2",
                                polygon=square(116.03, 39.90))
    assert locating.locate(116.035, 39.905).grid == new


def test_moved_and_deleted_buildings_are_seen_at_once(world):
    near = Building.objects.create(grid=world.grid_a1, name="2号楼", address="东园路2号",
                                   longitude=116.002, latitude=39.902)
    assert locating.locate(116.0021, 39.9021).building == near
    near.longitude, near.latitude = 116.009, 39.909
    near.save()
    assert locating.locate(116.0021, 39.9021).building == world.building_a1
    near.delete()
    assert locating.locate(116.009, 39.909).building == world.building_a1


def test_changes_without_signals_are_seen_once_the_index_is_no_longer_fresh(world):
    # queryset.update() sends no signal: this is what a change made by another process looks like here.
    start = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        assert locating.locate(116.035, 39.905).grid is None
        Region.objects.filter(pk=world.grid_b1.pk).update(polygon=square(116.03, 39.90))
        assert locating.locate(116.035, 39.905).grid is None  # still trusted: within FRESHNESS
    with clock.frozen_at(start + locating.FRESHNESS + dt.timedelta(seconds=1)):
        assert locating.locate(116.035, 39.905).grid == world.grid_b1
        Building.objects.filter(pk=world.building_b1.pk).update(longitude=116.031, latitude=39.901)
    with clock.frozen_at(start + 2 * locating.FRESHNESS + dt.timedelta(seconds=2)):
        found = locating.locate(116.031, 39.901)
        assert (found.grid, found.building, found.distance_m) == (world.grid_b1, world.building_b1, 0.0)


def test_a_grid_deleted_by_another_process_is_not_returned_while_the_index_is_still_fresh(world):
    with clock.frozen_at(dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)):
        assert locating.locate(116.015, 39.905).grid == world.grid_a2
        stale = locating._cached
        world.grid_a2.delete()
        locating._cached = stale  # as if the delete had happened in another process: no signal here
        found = locating.locate(116.015, 39.905)
        assert (found.grid, found.building, found.distance_m) == (None, None, None)


def test_the_api_locates_without_signing_in(world):
    response = Client().get(LOCATE, {"longitude": "116.004", "latitude": "39.905"})
    assert response.status_code == 200
    body = response.json()
    assert body["inside"] is True
    assert body["grid"]["grid_code"] == "A1"
    assert body["building"]["name"] == "1号楼"
    assert body["building_distance_m"] == pytest.approx(85.4, abs=0.5)


def test_the_api_says_inside_false_off_every_grid(world):
    body = Client().get(LOCATE, {"longitude": "116.10", "latitude": "39.95"}).json()
    assert (body["inside"], body["grid"], body["building"], body["building_distance_m"]) == (False, None, None, None)


@pytest.mark.parametrize("query, field", [
    ({"longitude": "116.004", "latitude": "200"}, "latitude"),
    ({"longitude": "east", "latitude": "39.905"}, "longitude"),
    ({"longitude": "nan", "latitude": "39.905"}, "longitude"),
    ({"longitude": "116.004"}, "latitude"),
])
def test_the_api_refuses_bad_coordinates_with_a_reason(world, query, field):
    response = Client().get(LOCATE, query)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["message"]


def test_the_map_search_finds_buildings_by_address_and_regions_by_name_without_signing_in(world):
    client = Client()
    by_address = client.get("/api/v1/org/places", {"q": "东园路1号"}).json()
    assert by_address[0]["kind"] == "building" and by_address[0]["name"] == "1号楼"
    assert (by_address[0]["longitude"], by_address[0]["latitude"]) == (world.building_a1.longitude,
                                                                      world.building_a1.latitude)
    grids = client.get("/api/v1/org/places", {"q": "东园一网格"}).json()
    assert [p["kind"] for p in grids] == ["grid"] and "东园社区" in grids[0]["label"]
    # The point given for a region lies inside it, so that the map opens on the right grid.
    found = locating.locate(grids[0]["longitude"], grids[0]["latitude"])
    assert found.grid == world.grid_a1
    assert client.get("/api/v1/org/places", {"q": "东"}).json() == []  # one character finds nothing
    people = client.get("/api/v1/org/places", {"q": world.resident_a.name}).json()
    assert people == []  # never people
