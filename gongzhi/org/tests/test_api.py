"""The org JSON API: authentication, scope (404 outside it), masking, logging, errors as JSON."""

import datetime as dt

import pytest
from django.core.management import call_command

from gongzhi.core.models import ApiToken, Event
from gongzhi.org.models import PersonalDataAccess, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def make(user):
        _, raw = ApiToken.issue(user)
        return lambda method, url, **kw: getattr(client, method)(
            url, headers={"Authorization": f"Bearer {raw}"}, content_type="application/json", **kw
        )

    return make


def test_requests_without_credentials_get_401_json(client, world):
    response = client.get("/api/v1/org/regions")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_is_refused(client, world):
    response = client.get("/api/v1/org/regions", headers={"Authorization": "Bearer gz_not-a-token"})
    assert response.status_code == 401


def test_revoked_token_is_refused(client, world):
    token, raw = ApiToken.issue(world.secretary_a)
    token.revoked_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    token.save()
    response = client.get("/api/v1/org/regions", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_community_secretary_lists_only_own_community(as_user, world):
    api = as_user(world.secretary_a)
    names = {r["name"] for r in api("get", "/api/v1/org/regions?limit=100").json()["items"]}
    assert names == {"东园社区", "东园一网格", "东园二网格"}
    tree = api("get", "/api/v1/org/regions/tree").json()
    assert [n["name"] for n in tree] == ["东园社区"]
    assert {c["name"] for c in tree[0]["children"]} == {"东园一网格", "东园二网格"}


def test_other_communitys_objects_are_404_for_a_community_secretary(as_user, world):
    api = as_user(world.secretary_a)
    for url in [
        f"/api/v1/org/regions/{world.community_b.id}",
        f"/api/v1/org/regions/{world.grid_b1.id}/geojson",
        f"/api/v1/org/buildings/{world.building_b1.id}",
        f"/api/v1/org/organisations/{world.committee_b.id}",
        f"/api/v1/org/people/{world.resident_b.id}",
    ]:
        response = api("get", url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert api("get", f"/api/v1/org/buildings/{world.building_a1.id}").status_code == 200
    reveal = api("post", f"/api/v1/org/people/{world.resident_b.id}/personal-data", data={"purpose": "visit"})
    assert reveal.status_code == 404


def test_region_geojson_is_a_feature_collection_of_children(as_user, world):
    body = as_user(world.street_official)("get", f"/api/v1/org/regions/{world.community_a.id}/geojson").json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["grid_code"] for f in body["features"]} == {"A1", "A2"}
    assert all(f["geometry"]["type"] == "Polygon" for f in body["features"])


def test_people_list_is_masked_and_paginated_without_a_query_per_person(as_user, world, django_assert_max_num_queries):
    from gongzhi.org.tests.factories import person

    for i in range(12):
        person(f"居民{i}", world.household_a, phone=f"1390000{i:04d}")
    api = as_user(world.secretary_a)
    with django_assert_max_num_queries(12):
        body = api("get", "/api/v1/org/people?limit=5").json()
    assert body["count"] == 14 and len(body["items"]) == 5
    assert all("****" in p["phone_masked"] for p in body["items"])


def test_person_is_masked_in_listings(as_user, world):
    body = as_user(world.secretary_a)("get", f"/api/v1/org/people/{world.resident_a.id}").json()
    assert body["phone_masked"] == "139****1111"
    assert "13900001111" not in str(body)
    assert PersonalDataAccess.objects.count() == 0


def test_secretary_reveals_personal_data_and_the_read_is_logged(as_user, world):
    api = as_user(world.secretary_a)
    body = api("post", f"/api/v1/org/people/{world.resident_a.id}/personal-data",
               data={"purpose": "上门走访"}).json()
    assert body["phone"] == "13900001111"
    assert body["id_number"] == "110105198001010032"
    assert set(body["revealed"]) == {"phone", "id_number"}
    access = PersonalDataAccess.objects.get()
    assert access.user == world.secretary_a and access.person == world.resident_a
    assert access.purpose == "上门走访" and access.channel == "api"


def test_street_official_never_gets_phone_or_id_number_and_a_refused_field_is_not_logged(as_user, world):
    body = as_user(world.street_official)(
        "post", f"/api/v1/org/people/{world.resident_a.id}/personal-data",
        data={"purpose": "统计", "fields": ["phone", "id_number"]},
    ).json()
    assert body["phone"] == "139****1111"
    assert body["id_number"] == "110105**********32"
    assert body["revealed"] == []
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_without_purpose_is_400(as_user, world):
    api = as_user(world.secretary_a)
    response = api("post", f"/api/v1/org/people/{world.resident_a.id}/personal-data", data={"purpose": " "})
    assert response.status_code == 400
    assert PersonalDataAccess.objects.count() == 0
    missing = api("post", f"/api/v1/org/people/{world.resident_a.id}/personal-data", data={})
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"


def test_street_official_appoints_the_community_secretary_as_director_too(as_user, world):
    secretary = world.secretary_a.person
    response = as_user(world.street_official)("post", "/api/v1/org/posts", data={
        "person_id": secretary.id, "organisation_id": world.committee_a.id, "role": "director",
        "start_date": "2024-03-01",
    })
    assert response.status_code == 201, response.content
    roles = set(Post.objects.filter(person=secretary).values_list("role", flat=True))
    assert roles == {"secretary", "director"}  # 一肩挑
    assert Event.objects.filter(kind="org.post_appointed").count() == 1


def test_nobody_appoints_themselves(as_user, world):
    response = as_user(world.secretary_a)("post", "/api/v1/org/posts", data={
        "person_id": world.secretary_a.person.id, "organisation_id": world.committee_a.id, "role": "director",
        "start_date": "2024-03-01",
    })
    assert response.status_code == 403
    assert Post.objects.filter(person=world.secretary_a.person).count() == 1


def test_community_secretary_appoints_a_grid_worker_but_not_a_fellow_leader(as_user, world):
    api = as_user(world.secretary_a)
    worker = api("post", "/api/v1/org/posts", data={
        "person_id": world.resident_a.id, "organisation_id": world.committee_a.id, "role": "grid_worker",
        "grid_id": world.grid_a1.id, "start_date": "2024-03-01",
    })
    assert worker.status_code == 201, worker.content
    leader = api("post", "/api/v1/org/posts", data={
        "person_id": world.resident_a.id, "organisation_id": world.committee_a.id, "role": "director",
        "start_date": "2024-03-01",
    })
    assert leader.status_code == 403
    assert set(Post.objects.filter(person=world.resident_a).values_list("role", flat=True)) == {"grid_worker"}


def test_staff_cannot_appoint(as_user, world):
    from gongzhi.org.tests.factories import official

    staff = official(world.committee_a, "staff", "clerk_a")
    response = as_user(staff)("post", "/api/v1/org/posts", data={
        "person_id": staff.person.id, "organisation_id": world.committee_a.id, "role": "director",
        "start_date": "2024-03-01",
    })
    assert response.status_code == 403
    assert not Post.objects.filter(person=staff.person, role="director").exists()


def test_an_ended_post_cannot_be_revived(as_user, world):
    post = Post.objects.get(person__user=world.secretary_b)
    api = as_user(world.street_official)
    assert api("post", f"/api/v1/org/posts/{post.id}/end", data={"end_date": "2024-01-01"}).status_code == 200
    again = api("post", f"/api/v1/org/posts/{post.id}/end", data={"end_date": "2099-01-01"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    post.refresh_from_db()
    assert post.end_date.isoformat() == "2024-01-01"


def test_appointing_in_another_community_is_refused_and_stores_nothing(as_user, world):
    before = Post.objects.count()
    response = as_user(world.secretary_a)("post", "/api/v1/org/posts", data={
        "person_id": world.secretary_a.person.id, "organisation_id": world.committee_b.id,
        "role": "member", "start_date": "2024-03-01",
    })
    assert response.status_code == 404
    assert Post.objects.count() == before


def test_grid_worker_post_without_grid_is_rejected_with_reason(as_user, world):
    response = as_user(world.street_official)("post", "/api/v1/org/posts", data={
        "person_id": world.resident_a.id, "organisation_id": world.committee_a.id,
        "role": "grid_worker", "start_date": "2024-03-01",
    })
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Post.objects.filter(person=world.resident_a).exists()


def test_malformed_body_is_400_with_field_reason(as_user, world):
    response = as_user(world.secretary_a)("post", "/api/v1/org/posts", data={"person_id": "x"})
    assert response.status_code == 400
    assert "person_id" in response.json()["message"]


def test_end_post_before_start_is_refused(as_user, world):
    post = Post.objects.get(person__user=world.secretary_a)
    response = as_user(world.secretary_a)("post", f"/api/v1/org/posts/{post.id}/end", data={"end_date": "2019-01-01"})
    assert response.status_code == 400
    post.refresh_from_db()
    assert post.end_date is None


def test_coverage_for_street_official_finds_grid_and_committee_gaps(as_user, world):
    body = as_user(world.street_official)("get", "/api/v1/org/coverage").json()
    assert {g["grid_code"] for g in body["grids_without_worker"]} == {"A1", "A2", "B1"}
    assert [c["name"] for c in body["committees_without_party_organisation"]] == ["西园社区居委会"]
    assert {b["name"] for b in body["buildings_without_lead"]} == {"1号楼", "9号楼"}


def test_coverage_is_limited_to_the_callers_scope(as_user, world):
    body = as_user(world.secretary_a)("get", "/api/v1/org/coverage").json()
    assert {g["grid_code"] for g in body["grids_without_worker"]} == {"A1", "A2"}
    assert body["committees_without_party_organisation"] == []


def test_session_auth_works_for_a_signed_in_browser(client, world):
    client.login(username="sec_a", password="pw-test-123")
    assert client.get("/api/v1/org/regions").status_code == 200


def test_openapi_spec_lists_the_org_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "gongzhi API"
    for path in ["/api/v1/org/regions", "/api/v1/org/locate", "/api/v1/org/coverage", "/api/v1/org/posts"]:
        assert path in spec["paths"]


def test_token_command_prints_a_working_token(client, world, capsys):
    call_command("token", "create", "sec_a")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("gz_")
    assert client.get("/api/v1/org/regions", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_token_command_for_unknown_user_fails(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("token", "create", "nobody")


def test_session_write_without_csrf_token_is_a_json_403(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.login(username="street_dir", password="pw-test-123")
    response = client.post("/api/v1/org/posts", data={}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_the_same_post_cannot_be_held_twice(as_user, world):
    api = as_user(world.secretary_a)
    payload = {"person_id": world.resident_a.id, "organisation_id": world.committee_a.id, "role": "grid_worker",
               "grid_id": world.grid_a1.id, "start_date": "2024-03-01"}
    assert api("post", "/api/v1/org/posts", data=payload).status_code == 201
    again = api("post", "/api/v1/org/posts", data=payload)
    assert again.status_code in (400, 409) and again.json()["message"]
    assert Post.objects.filter(person=world.resident_a).count() == 1
