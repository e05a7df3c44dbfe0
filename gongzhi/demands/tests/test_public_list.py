"""The public list of demands (issue #16 item 6): what was reported and where it stands, by grid, with the
text scrubbed of phone numbers and the reporter's name, and only published photos; filters."""

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.demands import photos, services
from gongzhi.org.tests.factories import World

from .factories import DemandWorld
from .test_photos import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dw():
    return DemandWorld(World())


def test_anyone_sees_the_demands_scrubbed_by_grid_with_only_published_photos(dw):
    demand = dw.file(text="张三家门口的井盖丢了，很危险，请联系13812345678")
    kept, shown = photos.add(dw.resident, demand, [jpeg(colour=(10, 10, 10)), jpeg(colour=(200, 200, 200))])
    photos.publish(dw.dispatcher, shown)
    rejected = dw.file(text="测试一下")
    services.reject(dw.dispatcher, rejected, reason="无效诉求")
    page = Client().get(reverse("demands:public")).content.decode()
    assert demand.number in page and "井盖丢了" in page and "东园一网格" in page
    assert "13812345678" not in page and "张三" not in page  # the contact's name and phone scrubbed
    assert "东园路" not in page  # no address, the grid only
    assert reverse("demands:photo_thumb", args=[demand.number, shown.pk]) in page
    assert reverse("demands:photo_thumb", args=[demand.number, kept.pk]) not in page
    assert rejected.number not in page


def test_filters_by_community_category_and_state(dw):
    here = dw.file(text="路灯不亮")
    there = dw.file(text="垃圾没人清运", where=(116.025, 39.905))  # grid B1, community B
    client = Client()
    only_a = client.get(reverse("demands:public"), {"community": dw.world.community_a.pk}).content.decode()
    assert here.number in only_a and there.number not in only_a
    done = client.get(reverse("demands:public"), {"state": "done"}).content.decode()
    assert here.number not in done and there.number not in done
    dw.closed()
    assert "data-number" in client.get(reverse("demands:public"), {"state": "done"}).content.decode()
