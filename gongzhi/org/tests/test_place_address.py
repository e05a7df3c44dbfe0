"""A typed address placed by the district's own address register (locating.place_address)."""

import pytest

from gongzhi.org import locating
from gongzhi.org.models import Building

pytestmark = pytest.mark.django_db


def test_the_building_whose_address_the_text_contains_the_longest_winning(world):
    assert locating.place_address("东园路1号门口").building == world.building_a1
    assert locating.place_address("  西园路９号 ").building == world.building_b1  # spaces, full-width digit
    longer = Building.objects.create(grid=world.grid_a2, name="1号楼", address="东园路1号院1号楼",
                                     longitude=116.015, latitude=39.905)
    found = locating.place_address("东园路1号院1号楼2单元")
    assert (found.building, found.grid) == (longer, world.grid_a2)


def test_the_start_of_addresses_in_one_grid_gives_that_grid_and_across_grids_nothing(world):
    found = locating.place_address("西园路")
    assert (found.grid, found.building) == (world.grid_b1, None)
    Building.objects.create(grid=world.grid_a2, name="5号楼", address="东园路5号", longitude=116.015, latitude=39.905)
    assert locating.place_address("东园路") is None
    assert locating.place_address("火星路99号") is None
    assert locating.place_address("东") is None and locating.place_address("") is None
