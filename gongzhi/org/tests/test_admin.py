"""The Django admin works for the org model, and its edits are recorded as events."""

import pytest

from gongzhi.core.models import Event
from gongzhi.org.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.org", "pw-test-123")
    client.login(username="root", password="pw-test-123")
    return client


def test_admin_lists_render(admin_client):
    for model in ["region", "building", "household", "organisation", "person", "post", "personaldata",
                  "personaldataaccess"]:
        assert admin_client.get(f"/admin/org/{model}/").status_code == 200, model


def test_admin_never_shows_a_full_phone(admin_client, world):
    html = admin_client.get("/admin/org/person/").content.decode()
    assert "139****1111" in html and "13900001111" not in html
    detail = admin_client.get(f"/admin/org/personaldata/{world.resident_a.pk}/change/").content.decode()
    assert "13900001111" not in detail


def test_admin_edit_is_recorded_as_an_event(admin_client, world):
    url = f"/admin/org/region/{world.grid_a1.pk}/change/"
    response = admin_client.post(url, {
        "name": "东园第一网格", "kind": "grid", "parent": world.community_a.pk, "admin_code": "",
        "grid_code": "A1", "polygon": '{"type": "Polygon", "coordinates": [[[116, 39.9], [116.01, 39.9], '
                                      '[116.01, 39.91], [116, 39.9]]]}',
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Region.objects.get(pk=world.grid_a1.pk).name == "东园第一网格"
    event = Event.objects.get(kind="org.admin_changed")
    assert event.subject_id == str(world.grid_a1.pk) and "name" in event.data["fields"]


def test_moving_a_region_re_roots_its_subtree(world):
    from gongzhi.org.tests.factories import region

    other_street = region("street", world.district, name="新街道")
    world.community_a.parent = other_street
    world.community_a.save()
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.path == f"{other_street.path}{world.community_a.pk}/{world.grid_a1.pk}/"
    assert set(other_street.subtree().values_list("name", flat=True)) == {"新街道", "东园社区", "东园一网格", "东园二网格"}
