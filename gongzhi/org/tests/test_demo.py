"""The demo district: its shape, its geometry, its people, its planted coverage gaps and its command.

The district is built once for the module inside an outer transaction that is rolled back at the
end; each test runs in a savepoint inside it, so tests may change data without affecting others.
"""

import datetime as dt
import hashlib
import io
import re
from collections import Counter

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from shapely.geometry import Point, shape
from shapely.ops import unary_union
from shapely.strtree import STRtree

from gongzhi.core.models import Event
from gongzhi.org import demo as demo_module
from gongzhi.org.models import Building, Household, Organisation, Person, PersonalData, Post, Region
from gongzhi.org.queries import active_posts_q, coverage
from gongzhi.org.rules import is_valid_admin_code, is_valid_id_number, is_valid_phone

pytestmark = pytest.mark.django_db

# Hashing nine passwords with the production hasher would cost two seconds per build.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module", autouse=True)
def district_only():
    """These tests are about the district; the apps above org that extend the demo (demands' year of
    demands) test their own part, so their extensions are left out here."""
    with mock.patch.object(demo_module, "EXTENSIONS", []):
        yield


@pytest.fixture(scope="module")
def demo(district_only, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo_module.build_demo()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fingerprint() -> str:
    """A digest of what the seed decides: names, identities, places and posts (not database ids)."""
    rows = sorted(
        f"{p.name}|{p.gender}|{p.birth_date}|{p.relation_to_head}|{p.personal_data.id_number}|{p.personal_data.phone}"
        for p in Person.objects.select_related("personal_data")
    )
    rows += sorted(f"{r.admin_code}|{r.grid_code}|{r.name}|{r.polygon}" for r in Region.objects.all())
    rows += sorted(f"{b.address}|{b.longitude}|{b.latitude}|{b.floors}" for b in Building.objects.all())
    rows += sorted(f"{p.person.name}|{p.organisation.name}|{p.role}|{p.title}"
                   for p in Post.objects.select_related("person", "organisation"))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def person_of(username: str) -> Person:
    return Person.objects.get(user__username=username)


# --- shape --------------------------------------------------------------------------------


def test_district_has_streets_a_township_communities_villages_and_grids(demo):
    district = demo.district
    assert district.admin_code == demo_module.DISTRICT_CODE and district.kind == "district"
    streets = list(district.children.all())
    assert len(streets) == 4
    assert {s.kind for s in streets} == {"street", "township"}
    for street in streets:
        expected = "village" if street.kind == "township" else "community"
        assert {c.kind for c in street.children.all()} == {expected}
    communities = Region.objects.filter(path__startswith=district.path, level=Region.Level.COMMUNITY)
    assert communities.count() == 16
    assert communities.filter(kind="village").count() == 4
    grids = Region.objects.filter(path__startswith=district.path, kind="grid")
    assert grids.count() == 120
    assert len(set(Counter(g.parent_id for g in grids).values())) > 1  # communities differ in size
    for region in Region.objects.filter(path__startswith=district.path).exclude(kind="grid"):
        assert is_valid_admin_code(region.admin_code)
        if region.parent_id:
            assert region.admin_code.startswith(district.admin_code[:6])
    for grid in grids.select_related("parent"):
        assert re.fullmatch(rf"{grid.parent.admin_code}-G\d\d", grid.grid_code)


def test_counts_are_in_range_and_reported(demo):
    counts = demo.counts
    assert 5000 <= counts["residents"] <= 8000
    assert 0.06 <= counts["party_members"] / counts["residents"] <= 0.10
    assert 500 <= counts["buildings"] <= 1000
    assert counts["households"] == Household.objects.count()
    assert counts["posts"] == Post.objects.count()
    event = Event.objects.get(kind="org.demo_loaded")
    assert event.subject_id == str(demo.district.pk)
    assert event.data["residents"] == counts["residents"]


def test_households_mix_ages_relations_and_registrations(demo):
    people = Person.objects.filter(household__isnull=False)
    ages = [p.age_on(demo_module.REFERENCE_DATE) for p in people]
    assert sum(a < 18 for a in ages) > 500
    assert sum(a >= 60 for a in ages) > 800
    assert Household.objects.exclude(members__relation_to_head="户主").count() == 0
    migrants = people.filter(registered_residence__isnull=True)
    assert migrants.count() > 300
    assert not migrants.filter(registered_elsewhere="").exists()
    assert people.filter(registered_residence=F("residence")).count() > 0.7 * people.count()
    assert not people.filter(is_party_member=True, party_branch__isnull=True).exists()
    assert not people.filter(is_party_member=False, party_branch__isnull=False).exists()
    assert not Person.objects.filter(residence__isnull=False).exclude(residence__level=Region.Level.COMMUNITY).exists()


# --- geometry -----------------------------------------------------------------------------


def test_grids_tile_each_community_without_overlap_or_gap(demo):
    grids = list(Region.objects.filter(kind="grid", path__startswith=demo.district.path))
    shapes = [shape(g.polygon) for g in grids]
    for g, s in zip(grids, shapes, strict=True):
        ring = g.polygon["coordinates"][0]
        assert ring[0] == ring[-1] and s.is_valid and s.exterior.is_ccw, g.name
    tree = STRtree(shapes)
    for i, s in enumerate(shapes):
        for j in tree.query(s):
            if j != i:
                assert s.intersection(shapes[j]).area < 1e-12, (grids[i].name, grids[j].name)
    union = unary_union(shapes)
    assert union.area == pytest.approx(sum(s.area for s in shapes), rel=1e-9)
    for community in Region.objects.filter(path__startswith=demo.district.path, level=Region.Level.COMMUNITY):
        mine = unary_union([shape(g.polygon) for g in grids if g.parent_id == community.pk])
        derived = shape(community.polygon)
        assert derived.geom_type == "Polygon", community.name
        assert derived.symmetric_difference(mine).area < 1e-12, community.name
    assert shape(demo.district.polygon).symmetric_difference(union).area < 1e-12


def test_every_building_stands_inside_its_grid(demo):
    buildings = Building.objects.select_related("grid")
    assert buildings.count() == demo.counts["buildings"]
    per_grid = Counter()
    for b in buildings:
        assert shape(b.grid.polygon).contains(Point(b.longitude, b.latitude)), b.address
        per_grid[b.grid_id] += 1
    assert len(per_grid) == 120 and min(per_grid.values()) >= 4
    assert len(set(buildings.values_list("address", flat=True))) == buildings.count()
    village_houses = buildings.filter(grid__parent__kind="village")
    assert village_houses.exists() and all("组" in b.name and b.floors <= 3 for b in village_houses)


# --- identities ---------------------------------------------------------------------------


def test_every_id_number_is_valid_and_matches_birth_date_and_gender(demo):
    records = PersonalData.objects.select_related("person")
    assert records.count() == Person.objects.count()
    ids = []
    for record in records:
        person, number = record.person, record.id_number
        assert is_valid_id_number(number), number
        assert number[6:14] == person.birth_date.strftime("%Y%m%d")
        assert int(number[16]) % 2 == (1 if person.gender == "M" else 0)
        assert is_valid_phone(record.phone) and len(record.phone) == 11
        if not person.registered_elsewhere and person.household_id:
            assert number.startswith(demo.district.admin_code[:6])
        ids.append(number)
    assert len(set(ids)) == len(ids)


# --- coverage -----------------------------------------------------------------------------


def test_coverage_finds_exactly_the_planted_gaps(demo):
    report = coverage(demo.district)
    assert demo_module.coverage_gaps(report) == demo.planted_gaps
    assert len(demo.planted_gaps["grids_without_worker"]) == 3
    assert len(demo.planted_gaps["buildings_without_lead"]) == demo_module.BUILDINGS_WITHOUT_LEAD
    assert len(demo.planted_gaps["units_without_party_presence"]) == 2
    assert demo.planted_gaps["committees_without_party_organisation"] == ["锦绣家园社区居民委员会"]


def test_community_without_party_organisation_has_none_at_all(demo):
    community = Region.objects.get(name=demo_module.COMMUNITY_WITHOUT_PARTY)
    party = Organisation.objects.filter(region__path__startswith=community.path, kind__in=Organisation.PARTY_KINDS)
    assert not party.exists()
    members = Person.objects.filter(residence=community, is_party_member=True)
    assert members.exists()
    assert {m.party_branch.region.name for m in members} == {demo_module.PARTY_HOME_OF_UNORGANISED}


def test_former_grid_worker_does_not_cover_the_grid(demo):
    community, k = demo_module.GRID_WITH_FORMER_WORKER
    grid = Region.objects.get(name=f"{community}第{demo_module.chinese_number(k)}网格")
    posts = Post.objects.filter(grid=grid, role="grid_worker")
    assert posts.count() == 1 and posts.get().end_date is not None
    assert grid.grid_code in demo.planted_gaps["grids_without_worker"]


def test_filling_a_gap_removes_it_from_coverage(demo):
    grid = Region.objects.get(grid_code=demo.planted_gaps["grids_without_worker"][0])
    committee = Organisation.objects.get(region=grid.parent, kind__in=["residents_committee", "villagers_committee"])
    Post.objects.create(person=person_of("grid_worker"), organisation=committee, role="grid_worker",
                        start_date=dt.date(2024, 1, 1), grid=grid)
    gaps = demo_module.coverage_gaps(coverage(demo.district))
    assert gaps["grids_without_worker"] == demo.planted_gaps["grids_without_worker"][1:]


# --- organisations and posts --------------------------------------------------------------


def test_party_tree_nests_from_district_committee_down_to_groups(demo):
    party = Organisation.objects.filter(kind__in=Organisation.PARTY_KINDS).select_related("parent")
    roots = [o for o in party if o.parent_id is None]
    assert {o.name for o in roots} == {"中共永宁区委员会", "国网北京永宁供电公司党委"}
    assert all(o.parent.is_party for o in party if o.parent_id)
    groups = party.filter(kind="party_group")
    assert groups.count() == 120 - 4  # every grid but those of the community without a party organisation
    assert all(g.parent.kind == "party_branch" for g in groups)
    streets = party.filter(region__level=Region.Level.STREET, host__isnull=True)
    assert {o.kind for o in streets} == {"party_working_committee", "party_committee"}
    hosted = Organisation.objects.filter(host__kind="property_company")
    assert hosted.count() == 3 and all(o.is_party for o in hosted)
    departments = Organisation.objects.filter(kind="department")
    assert {"城管", "住建", "环保", "民政", "市场监管", "水务"} <= set(departments.values_list("department", flat=True))
    assert all(d.parent.kind == "district_government" for d in departments)
    assert Organisation.objects.filter(kind="co_building_unit").count() == 3


def test_most_community_secretaries_are_also_directors(demo):
    one_shoulder = 0
    for community in Region.objects.filter(level=Region.Level.COMMUNITY):
        secretary = Post.objects.filter(active_posts_q(), role="secretary", organisation__region=community,
                                        organisation__kind__in=["party_committee", "party_general_branch",
                                                                "party_branch"], organisation__parent__region__level=2)
        director = Post.objects.filter(active_posts_q(), role="director", organisation__region=community,
                                       organisation__kind__in=["residents_committee", "villagers_committee"])
        assert director.count() == 1, community.name
        if secretary.exists() and secretary.get().person_id == director.get().person_id:
            one_shoulder += 1
    assert one_shoulder == 16 - 2 - 1


def test_one_shoulder_secretary_holds_two_active_posts(demo):
    for username in ("community_secretary", "village_secretary"):
        posts = Post.objects.filter(active_posts_q(), person=person_of(username)).select_related("organisation")
        assert sorted(p.role for p in posts) == ["director", "secretary"]
        assert len({p.organisation.region_id for p in posts}) == 1
        assert {p.organisation.is_party for p in posts} == {True, False}


def test_responsibility_posts_point_at_their_place_or_unit(demo):
    workers = Post.objects.filter(role="grid_worker").select_related("organisation", "grid")
    assert all(p.grid.parent_id == p.organisation.region_id for p in workers)
    leads = Post.objects.filter(role="building_lead").select_related("person__household__building", "building")
    lived_in = set(Household.objects.values_list("building_id", flat=True))
    # A lead lives in the building; a building nobody lives in (numbered along a road) has a lead of its grid.
    assert all(p.person.household.building_id == p.building_id if p.building_id in lived_in
               else p.person.household.building.grid_id == p.building.grid_id for p in leads)
    instructors = Post.objects.filter(role="instructor").select_related("served_organisation")
    assert instructors.count() == 6
    assert {p.served_organisation.kind for p in instructors} == {"property_company", "owners_committee"}
    assert not Organisation.objects.filter(pk__in=instructors.values("served_organisation"), hosted__isnull=False)
    assert Post.objects.filter(role="group_leader").count() > 100
    assert not Post.objects.filter(start_date__gt=dt.date(2025, 1, 1)).exists()


def test_demo_users_act_through_posts_in_their_scope(demo):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {plan.username for plan in demo_module.LOGINS} | {demo_module.NEWCOMER}
    assert not users[demo_module.NEWCOMER].has_usable_password()  # a claim to look at, not a login
    assert users["admin"].is_superuser and users["admin"].is_staff
    for plan in demo_module.LOGINS:
        user = users[plan.username]
        assert user.check_password(plan.password) and len(plan.password) >= 12
        posts = Post.objects.filter(active_posts_q(), person=person_of(plan.username))
        assert posts.exists() == (plan.username != "resident"), plan.username
        if plan.username != "admin":
            assert not user.is_superuser and not user.is_staff
    scope = {login.username: login.scope for login in demo.logins}
    assert scope["district"] == "永宁区"
    assert scope["street_secretary"] == "东华街道"
    assert scope["community_secretary"] == "东华园社区"
    assert scope["village_secretary"] == "前营村"
    assert scope["grid_worker"] == scope["building_lead"] == "东华园社区第一网格"
    assert Post.objects.get(person=person_of("property_staff")).organisation.kind == "property_company"
    assert person_of("resident").household_id is not None


# --- the command --------------------------------------------------------------------------


def run_demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts_now() -> dict[str, int]:
    return demo_module.demo_counts(demo_module.demo_district())


def test_running_the_command_twice_changes_nothing_and_prints_the_logins(demo):
    before = counts_now()
    for _ in range(2):
        output = run_demo()
        assert "demo district already loaded" in output
        assert "http://127.0.0.1:8000/" in output
        for plan in demo_module.LOGINS:
            assert plan.username in output and plan.password in output and plan.role_zh in output
    assert counts_now() == before == demo.counts
    assert Region.objects.filter(admin_code=demo_module.DISTRICT_CODE).count() == 1


def test_reset_rebuilds_the_same_district(demo, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    before = fingerprint()
    old_pk = demo.district.pk
    output = run_demo("--reset")
    assert "demo district deleted" in output and "built in" in output
    district = demo_module.demo_district()
    assert district.pk != old_pk
    assert counts_now() == demo.counts
    assert fingerprint() == before  # same seed, same district
    assert get_user_model().objects.count() == len(demo_module.LOGINS) + 1  # and the newcomer's account
    assert Person.objects.filter(user__isnull=False).count() == len(demo_module.LOGINS) + 1
    assert demo_module.coverage_gaps(coverage(district)) == demo.planted_gaps
    assert Event.objects.filter(kind="org.demo_reset").count() == 1


def test_build_refuses_to_run_twice(demo):
    with pytest.raises(RuntimeError):
        demo_module.build_demo()


# --- the map ------------------------------------------------------------------------------


def test_the_demo_has_named_roads_and_buildings_numbered_along_them(demo):
    from gongzhi.org.models import Road
    from gongzhi.org.queries import basemap, find_places

    roads = Road.objects.filter(region=demo.district)
    assert {name for name, *_ in demo_module.ROADS} == set(roads.values_list("name", flat=True))
    assert {"东园路", "幸福路", "永宁大街"} <= set(roads.values_list("name", flat=True))
    district = shape(demo.district.polygon).buffer(1e-9)
    for road in roads:
        assert district.contains(shape(road.line)), road.name
    # Numbers along a through road: odd on one side, even on the other, each inside its grid (see
    # test_every_building_stands_inside_its_grid), and found by the map's search.
    along = Building.objects.filter(address__startswith="东园路").exclude(address__contains="院")
    numbers = sorted(int(b.name.removesuffix("号")) for b in along)
    assert 12 in numbers and len(numbers) >= 20
    (found,) = [p for p in find_places("东园路12号") if p["kind"] == "building"]
    twelve = along.get(name="12号")
    assert (found["longitude"], found["latitude"]) == (twelve.longitude, twelve.latitude)
    assert found["label"].startswith("东园路12号 · ")
    road = shape(roads.get(name="东园路").line)
    assert road.distance(Point(twelve.longitude, twelve.latitude)) < 0.001  # within about 100 m of the road
    # The public base map carries the roads and the numbers, and no one's name.
    layers = basemap(demo.district)
    assert {"东园路", "永宁大街"} <= {r["name"] for r in layers["roads"]}
    assert "12号" in {b["number"] for b in layers["buildings"]}
    assert not set(Person.objects.values_list("name", flat=True)[:200]) & {r["name"] for r in layers["regions"]}


def test_the_demo_resident_signs_in_with_their_number_and_a_newcomer_waits_for_the_grid_worker(demo):
    from django.contrib.auth import authenticate

    from gongzhi.org import accounts
    from gongzhi.org.models import HouseholdClaim

    resident = person_of("resident")
    user = authenticate(None, username=resident.personal_data.phone, password="gongzhi-demo-resident")
    assert user is not None and user.username == "resident"
    grid_worker = get_user_model().objects.get(username="grid_worker")
    waiting = list(accounts.pending_claims(grid_worker))
    assert len(waiting) == 1 and waiting[0].unit == "3单元502"
    assert waiting[0].person.user.username == demo_module.NEWCOMER
    assert not HouseholdClaim.objects.exclude(pk=waiting[0].pk).exists()
