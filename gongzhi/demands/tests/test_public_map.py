"""The public map of demands (issue #16 item 6): per grid, how many reports and where they stand, with the
public list's filters; never a demand's own point, a name, a phone, an address, a number or an id."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from shapely.geometry import Point, shape

from gongzhi.demands import services
from gongzhi.org.tests.factories import World

from .factories import IN_B1, DemandWorld

pytestmark = pytest.mark.django_db
AT_HOME = (116.0023, 39.9071)  # a resident's door in grid A1, off the grid's centre


@pytest.fixture
def dw():
    return DemandWorld(World())


def grids(**params) -> dict:
    response = Client().get(reverse("demands:public_map"), params)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return {g["name"]: g for g in response.json()["grids"]}


def test_counts_per_grid_at_a_point_of_the_grid_not_of_the_demand(dw):
    dw.file(text="路灯不亮", where=AT_HOME)
    dw.file(text="垃圾没人清运")
    dw.closed()
    dw.file(text="路灯不亮", where=IN_B1)
    rejected = dw.file(text="测试一下")
    services.reject(dw.dispatcher, rejected, reason="无效诉求")
    found = grids()
    assert set(found) == {"东园一网格", "西园一网格"}
    a1, b1 = found["东园一网格"], found["西园一网格"]
    assert (a1["total"], a1["open"], a1["done"]) == (3, 2, 1)  # the rejected one is not shown
    assert (b1["total"], b1["open"], b1["done"]) == (1, 1, 0)
    assert a1["community"] == "东园社区"
    assert shape(dw.world.grid_a1.polygon).contains(Point(a1["longitude"], a1["latitude"]))
    inside = shape(dw.world.grid_a1.polygon).representative_point()
    assert (a1["longitude"], a1["latitude"]) == (round(inside.x, 5), round(inside.y, 5))  # the grid's, for every demand


def test_filters_by_community_category_and_state(dw):
    dw.file(text="垃圾没人清运", category="environment.garbage", where=IN_B1)
    dw.file(text="楼道灯坏了")
    dw.closed(category="environment.garbage")
    assert set(grids(community=dw.world.community_b.pk)) == {"西园一网格"}
    assert grids(category="environment")["东园一网格"]["total"] == 1
    assert grids(category="environment")["东园一网格"]["categories"][0]["count"] == 1
    assert set(grids(state="done")) == {"东园一网格"}
    assert grids(state="open")["东园一网格"]["total"] == 1
    assert grids(community="x", state="nonsense").keys() == {"东园一网格", "西园一网格"}  # unknown filters: all


def test_no_personal_data_point_number_or_id_reaches_the_public_map(dw):
    demand = dw.file(text="张三家门口的井盖丢了，很危险，请联系13812345678", category="environment.garbage",
                     where=AT_HOME)
    body = json.dumps(Client().get(reverse("demands:public_map")).json(), ensure_ascii=False)
    for private in ("张三", "13900001111", "13812345678", "井盖", "东园路", "1号楼", demand.number,
                    str(AT_HOME[0]), str(AT_HOME[1]), dw.world.grid_a1.grid_code):
        assert private not in body, private
    assert '"id"' not in body and "_id" not in body


def test_the_public_page_carries_the_map_and_no_personal_data(dw):
    dw.file(text="张三家门口的井盖丢了，请联系13812345678")
    page = Client().get(reverse("demands:public"), {"community": dw.world.community_a.pk}).content.decode()
    assert 'id="public-map"' in page
    assert f'data-map-url="{reverse("demands:public_map")}?community={dw.world.community_a.pk}"' in page
    assert f"/api/v1/org/basemap?within={dw.world.community_a.pk}" in page
    assert "13812345678" not in page and "13900001111" not in page and "东园路" not in page
