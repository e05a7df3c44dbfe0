"""Scope rules: a post sees and acts only within its organisation's region subtree."""

import pytest

from gongzhi.core import policy
from gongzhi.org import queries
from gongzhi.org.models import Building, Person, Region


pytestmark = pytest.mark.django_db


def test_community_secretary_sees_own_community_only(world):
    regions = set(queries.scoped(world.secretary_a, Region).values_list("name", flat=True))
    assert regions == {"东园社区", "东园一网格", "东园二网格"}
    assert policy.can(world.secretary_a, "org.view", world.building_a1)
    assert not policy.can(world.secretary_a, "org.view", world.building_b1)
    assert list(queries.scoped(world.secretary_a, Building)) == [world.building_a1]


def test_street_official_sees_whole_street(world):
    names = set(queries.scoped(world.street_official, Region).values_list("name", flat=True))
    assert {"和平街道", "东园社区", "西园社区", "西园一网格"} <= names
    assert "示范区" not in names


def test_street_official_cannot_read_a_residents_id_number(world):
    assert policy.can(world.street_official, "org.view", world.resident_a)
    assert not policy.can(world.street_official, "org.personal.id_number", world.resident_a)
    assert policy.can(world.secretary_a, "org.personal.id_number", world.resident_a)
    assert not policy.can(world.secretary_a, "org.personal.id_number", world.resident_b)


def test_ended_post_grants_nothing(world):
    from gongzhi.org.models import Post
    import datetime as dt

    Post.objects.filter(person__user=world.secretary_a).update(end_date=dt.date(2021, 1, 1))
    world.secretary_a._gongzhi_posts = None
    assert not policy.can(world.secretary_a, "org.view", world.building_a1)
    assert queries.scoped(world.secretary_a, Person).count() == 0


def test_property_company_staff_see_structure_but_not_residents(world):
    from gongzhi.org.models import Organisation
    from gongzhi.org.tests.factories import official

    company = Organisation.objects.create(name="安居物业", kind="property_company", region=world.community_a)
    staff = official(company, "staff", "pm_staff")
    assert policy.can(staff, "org.view", world.building_a1)
    assert not policy.can(staff, "org.view", world.resident_a)
    assert queries.scoped(staff, Person).count() == 0
    assert not policy.can(staff, "org.change", world.community_a)
    assert not policy.can(staff, "org.view_coverage", world.community_a)
    assert not policy.can(staff, "org.personal.phone", world.resident_a)


def test_building_lead_sees_only_the_people_of_their_building(world):
    from gongzhi.org.models import Building, Household
    from gongzhi.org.tests.factories import official, person

    other_building = Building.objects.create(grid=world.grid_a1, name="2号楼", address="东园路2号",
                                             longitude=116.006, latitude=39.906)
    neighbour = person("王五", Household.objects.create(building=other_building, unit="3-303"))
    lead = official(world.committee_a, "building_lead", "lead_a", building=world.building_a1)
    assert policy.can(lead, "org.personal.phone", world.resident_a)
    assert not policy.can(lead, "org.personal.phone", neighbour)
    assert not policy.can(lead, "org.view", neighbour)
    assert set(queries.scoped(lead, Person)) == {world.resident_a}
    assert policy.can(lead, "org.view", other_building)  # the grid's structure stays visible


def test_unit_staff_do_not_see_who_holds_posts(world):
    from gongzhi.org.models import Organisation, Post
    from gongzhi.org.tests.factories import official

    company = Organisation.objects.create(name="安居物业", kind="property_company", region=world.community_a)
    staff = official(company, "staff", "pm_staff2")
    assert queries.scoped(staff, Post).count() == 0
    assert not policy.can(staff, "org.view", Post.objects.filter(person__user=world.secretary_a).get())
