"""Objects named inside a request (its body or query, not its path) are checked against the caller's scope
exactly like a path id: outside it they do not exist for the caller (404), and nothing is stored."""

import datetime as dt

import pytest

from gongzhi.core.errors import NotFound
from gongzhi.core.models import ApiToken
from gongzhi.org import services
from gongzhi.org.models import Post
from gongzhi.org.tests.factories import person, post

pytestmark = pytest.mark.django_db

START = dt.date(2024, 3, 1)


@pytest.fixture
def api(client):
    def make(user):
        _, raw = ApiToken.issue(user)
        return lambda method, url, **kw: getattr(client, method)(
            url, headers={"Authorization": f"Bearer {raw}"}, content_type="application/json", **kw)

    return make


# --- appointing: the service checks every object the post names -------------------------------------

def test_appoint_refuses_a_person_of_another_community_as_if_they_did_not_exist(world):
    with pytest.raises(NotFound):
        services.appoint(world.secretary_a, person=world.resident_b, organisation=world.committee_a,
                         role="grid_worker", grid=world.grid_a1, start_date=START)
    assert not Post.objects.filter(person=world.resident_b).exists()


def test_appoint_refuses_an_organisation_of_another_community(world):
    with pytest.raises(NotFound):
        services.appoint(world.secretary_a, person=world.resident_a, organisation=world.committee_b,
                         role="member", start_date=START)
    assert not Post.objects.filter(person=world.resident_a).exists()


def test_appoint_refuses_a_grid_of_another_community(world):
    with pytest.raises(NotFound):
        services.appoint(world.secretary_a, person=world.resident_a, organisation=world.committee_a,
                         role="grid_worker", grid=world.grid_b1, start_date=START)
    assert not Post.objects.filter(person=world.resident_a).exists()


def test_appoint_refuses_a_building_of_another_community(world):
    with pytest.raises(NotFound):
        services.appoint(world.secretary_a, person=world.resident_a, organisation=world.committee_a,
                         role="building_lead", building=world.building_b1, start_date=START)
    assert not Post.objects.filter(person=world.resident_a).exists()


def test_appoint_accepts_people_and_places_of_the_callers_own_community(world):
    created = services.appoint(world.secretary_a, person=world.resident_a, organisation=world.committee_a,
                               role="building_lead", building=world.building_a1, start_date=START)
    assert created.pk and created.building == world.building_a1


def test_a_street_official_appoints_across_the_communities_of_the_street(world):
    created = services.appoint(world.street_official, person=world.resident_b, organisation=world.committee_a,
                               role="grid_worker", grid=world.grid_a2, start_date=START)
    assert created.pk and created.person == world.resident_b


def test_appointing_through_the_api_a_person_of_another_community_is_404(api, world):
    response = api(world.secretary_a)("post", "/api/v1/org/posts", data={
        "person_id": world.resident_b.id, "organisation_id": world.committee_a.id, "role": "grid_worker",
        "grid_id": world.grid_a1.id, "start_date": "2024-03-01"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Post.objects.filter(person=world.resident_b).exists()


# --- list filters: an out-of-scope id in the query is 404, like in the path ----------------------------

def test_filtering_a_list_by_another_communitys_object_is_404(api, world):
    post(world.resident_b, world.committee_b, "member")
    call = api(world.secretary_a)
    for url in [
        f"/api/v1/org/buildings?grid={world.grid_b1.id}",
        f"/api/v1/org/regions?parent={world.community_b.id}",
        f"/api/v1/org/organisations?region={world.community_b.id}",
        f"/api/v1/org/posts?organisation={world.committee_b.id}",
        f"/api/v1/org/posts?person={world.resident_b.id}",
        f"/api/v1/org/people?household={world.household_b.id}",
        f"/api/v1/org/people?region={world.community_b.id}",
    ]:
        response = call("get", url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url


def test_filtering_a_list_by_an_object_in_scope_lists_it(api, world):
    person("王五", world.household_a)
    call = api(world.secretary_a)
    buildings = call("get", f"/api/v1/org/buildings?grid={world.grid_a1.id}").json()["items"]
    assert [b["id"] for b in buildings] == [world.building_a1.id]
    grids = call("get", f"/api/v1/org/regions?parent={world.community_a.id}").json()["items"]
    assert {g["name"] for g in grids} == {"东园一网格", "东园二网格"}
    organisations = call("get", f"/api/v1/org/organisations?region={world.community_a.id}").json()["items"]
    assert {o["id"] for o in organisations} == {world.committee_a.id, world.party_a.id}
    posts = call("get", f"/api/v1/org/posts?organisation={world.party_a.id}").json()["items"]
    assert [p["role"] for p in posts] == ["secretary"]
    people = call("get", f"/api/v1/org/people?household={world.household_a.id}").json()["items"]
    assert {p["name"] for p in people} == {"张三", "王五"}


def test_a_street_official_filters_by_any_community_of_the_street(api, world):
    buildings = api(world.street_official)("get", f"/api/v1/org/buildings?grid={world.grid_b1.id}").json()["items"]
    assert [b["id"] for b in buildings] == [world.building_b1.id]
