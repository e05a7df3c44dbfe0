"""Objects named inside a request are checked against the caller's scope like the demand in the path (issue
#13, item 1): the units a dispatch names (lead and assisting), the original of a merge, the demands offered
as similar. A unit or demand out of reach is answered as if it did not exist (404); what is in reach still
works, including the units the routing rules name for the demand's place."""

import json

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.core.models import ApiToken
from gongzhi.demands import hooks, queries, services
from gongzhi.demands.forms import DispatchForm
from gongzhi.demands.models import Assignment, Demand, RoutingRule
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official, region, square

from .factories import THURSDAY_9AM, category

pytestmark = pytest.mark.django_db
BASE = "/api/v1/demands/"
IN_VILLAGE = (116.055, 39.905)  # the grid of a village in another township


class Township:
    """Another township of the district: a village with one grid, its villagers' committee and the
    committee's director (who would see a reporter's name and phone if a demand were sent there)."""

    def __init__(self, world):
        self.township = region("township", world.district, name="永宁镇", admin_code="110199002000")
        self.village = region("village", self.township, name="河西村", admin_code="110199002001")
        self.grid = region("grid", self.village, name="河西一网格", grid_code="V1", polygon=square(116.05, 39.90))
        self.committee = Organisation.objects.create(name="河西村村民委员会", kind="villagers_committee",
                                                     region=self.village)
        self.director = official(self.committee, "director", "village_dir")


@pytest.fixture
def township(dw):
    return Township(dw.world)


@pytest.fixture
def desk_a(dw):
    """The dispatch desk of community A: its residents' committee's director."""
    return official(dw.world.committee_a, "director", "dir_a")


def at_desk(dw):
    with clock.frozen_at(THURSDAY_9AM):
        return dw.file(category=None)


def dispatch(user, demand, **kw):
    with clock.frozen_at(THURSDAY_9AM):
        return services.dispatch(user, demand, category="other", **kw)


# --- dispatch: the units named ---------------------------------------------------------------------------

def test_a_community_desk_cannot_dispatch_to_a_village_committee_of_another_township(dw, desk_a, township):
    demand = at_desk(dw)
    with pytest.raises(NotFound) as refused:
        dispatch(desk_a, demand, unit=township.committee)
    assert refused.value.code == "unknown_unit"
    demand.refresh_from_db()
    assert demand.state == "received" and demand.lead_unit is None
    assert not Assignment.objects.filter(demand=demand).exists()
    # So the village committee's director never gets to see it, nor the reporter's phone.
    assert not Demand.objects.filter(queries.visible_q(township.director), pk=demand.pk).exists()
    assert services.contact_for_handler(township.director, demand, purpose="x", channel="web") is None


def test_an_assisting_unit_out_of_reach_is_refused_like_the_lead_unit(dw, desk_a, township):
    demand = at_desk(dw)
    with pytest.raises(NotFound) as refused:
        dispatch(desk_a, demand, unit=dw.city_management, assisting=[township.committee])
    assert refused.value.code == "unknown_unit"
    demand.refresh_from_db()
    assert demand.state == "received" and not Assignment.objects.filter(demand=demand).exists()


def test_a_community_desk_dispatches_to_its_own_units_and_to_those_serving_the_place_from_above(dw, desk_a):
    w = dw.world
    for unit in (dw.city_management, w.street_office, w.committee_a, dw.property_company):
        demand = dispatch(desk_a, at_desk(dw), unit=unit).demand
        assert demand.state == "dispatched" and demand.lead_unit == unit


def test_a_community_desk_does_not_dispatch_to_a_neighbouring_communitys_committee(dw, desk_a):
    with pytest.raises(NotFound):
        dispatch(desk_a, at_desk(dw), unit=dw.world.committee_b)
    # The street's desk covers both communities and may.
    assert dispatch(dw.dispatcher, at_desk(dw), unit=dw.world.committee_b).demand.lead_unit == dw.world.committee_b


def test_a_party_organisation_is_never_a_dispatch_target(dw, desk_a):
    with pytest.raises(NotFound):
        dispatch(desk_a, at_desk(dw), unit=dw.world.party_a)
    with pytest.raises(NotFound):
        dispatch(dw.dispatcher, at_desk(dw), unit=dw.world.party_a)


def test_a_unit_the_routing_rules_name_for_the_place_may_be_dispatched_to_wherever_it_sits(dw, desk_a, township):
    # A water company registered in the other township serves the whole district by the responsibility list.
    water = Organisation.objects.create(name="永宁水务公司", kind="co_building_unit", region=township.village)
    demand = at_desk(dw)
    with pytest.raises(NotFound):
        dispatch(desk_a, demand, unit=water)
    RoutingRule.objects.create(category=category("utilities.water"), region=dw.world.district, unit=water)
    assert dispatch(desk_a, demand, unit=water).demand.lead_unit == water
    # A rule for another place does not open the way: only rules of the demand's own regions count.
    elsewhere = Organisation.objects.create(name="永宁环卫所", kind="co_building_unit", region=township.village)
    RoutingRule.objects.create(category=category("environment.garbage"), region=township.township, unit=elsewhere)
    with pytest.raises(NotFound):
        dispatch(desk_a, at_desk(dw), unit=elsewhere)


def test_the_dispatch_form_offers_exactly_the_units_the_service_accepts(dw, desk_a, township):
    demand = at_desk(dw)
    offered = set(DispatchForm(demand=demand, action="dispatch", user=desk_a).fields["unit"].queryset)
    assert {dw.city_management, dw.world.street_office, dw.world.committee_a, dw.property_company} <= offered
    assert not offered & {township.committee, dw.world.committee_b, dw.world.party_a}
    street_offered = set(DispatchForm(demand=demand, action="dispatch", user=dw.dispatcher).fields["unit"].queryset)
    assert dw.world.committee_b in street_offered and township.committee not in street_offered


# --- merge: the original named -----------------------------------------------------------------------------

def test_merging_into_a_demand_the_desk_may_not_see_is_refused_as_unknown(dw, desk_a, township):
    duplicate = at_desk(dw)
    with clock.frozen_at(THURSDAY_9AM):
        elsewhere = dw.file(where=IN_VILLAGE)
    with pytest.raises(NotFound):
        services.merge_into(desk_a, duplicate, elsewhere)
    duplicate.refresh_from_db()
    assert duplicate.state == "received" and duplicate.merged_into is None


def test_an_out_of_scope_originals_state_is_not_revealed_by_the_refusal(dw, desk_a, township):
    with clock.frozen_at(THURSDAY_9AM):
        elsewhere = dw.file(where=IN_VILLAGE)
    services.reject(township.director, elsewhere, reason="非诉求内容")  # final: "merge_into_final" if it leaked
    with pytest.raises(NotFound) as refused:
        services.merge_into(desk_a, at_desk(dw), elsewhere)
    assert refused.value.code == "not_found"


def test_merging_into_a_demand_of_the_desks_own_community_still_works(dw, desk_a):
    original, duplicate = at_desk(dw), at_desk(dw)
    merged = services.merge_into(desk_a, duplicate, original).demand
    assert merged.state == "merged" and merged.merged_into == original


# --- similar demands ----------------------------------------------------------------------------------------

def test_similar_demands_the_caller_may_not_see_are_dropped_whatever_the_finder_suggests(dw, desk_a, township):
    mine, near = at_desk(dw), at_desk(dw)
    with clock.frozen_at(THURSDAY_9AM):
        elsewhere = dw.file(where=IN_VILLAGE)
    asked_for = []

    def careless(demand, limit, *, user):  # suggests every other demand, whoever asks
        asked_for.append(user)
        return [hooks.SimilarDemand(number=d.number, score=0.9) for d in Demand.objects.exclude(pk=demand.pk)][:limit]

    previous = hooks.get("similar_demands")
    hooks.register("similar_demands", careless)
    try:
        found = [s.number for s in queries.similar(desk_a, mine, 10)]
        nobody = queries.similar(dw.resident, mine, 10)  # the reporter may not merge: nothing offered
    finally:
        hooks.register("similar_demands", previous) if previous else hooks.unregister("similar_demands")
    assert asked_for == [desk_a]  # the finder is told whose view to search
    assert found == [near.number] and elsewhere.number not in found
    assert nobody == []


# --- the API answers the same ----------------------------------------------------------------------------

@pytest.fixture
def api(client):
    def make(user):
        _, raw = ApiToken.issue(user)

        def post(url, body):
            return client.post(url, data=json.dumps(body), content_type="application/json",
                               headers={"Authorization": f"Bearer {raw}"})

        return post

    return make


def test_the_api_answers_404_for_a_dispatch_unit_out_of_reach_as_for_one_that_does_not_exist(api, dw, desk_a,
                                                                                              township):
    demand = at_desk(dw)
    post = api(desk_a)
    url = f"{BASE}{demand.number}/actions/dispatch"
    with clock.frozen_at(THURSDAY_9AM):
        out_of_reach = post(url, {"unit_id": township.committee.pk, "category": "other"})
        assisting = post(url, {"unit_id": dw.city_management.pk, "assisting_unit_ids": [township.committee.pk],
                               "category": "other"})
        missing = post(url, {"unit_id": 987654, "category": "other"})
        assert (out_of_reach.status_code, assisting.status_code, missing.status_code) == (404, 404, 404)
        assert out_of_reach.json()["code"] == assisting.json()["code"] == missing.json()["code"] == "unknown_unit"
        done = post(url, {"unit_id": dw.city_management.pk, "category": "other"})
    assert done.status_code == 200 and done.json()["demand"]["lead_unit_id"] == dw.city_management.pk


def test_the_api_answers_404_for_a_merge_into_a_demand_out_of_reach(api, dw, desk_a, township):
    duplicate, original = at_desk(dw), at_desk(dw)
    with clock.frozen_at(THURSDAY_9AM):
        elsewhere = dw.file(where=IN_VILLAGE)
    post = api(desk_a)
    refused = post(f"{BASE}{duplicate.number}/actions/merge", {"original": elsewhere.number})
    assert refused.status_code == 404
    duplicate.refresh_from_db()
    assert duplicate.state == "received"
    merged = post(f"{BASE}{duplicate.number}/actions/merge", {"original": original.number})
    assert merged.status_code == 200 and merged.json()["demand"]["state"] == "merged"


def test_the_dispatch_page_refuses_a_unit_out_of_reach_and_nothing_changes(client, dw, desk_a, township):
    demand = at_desk(dw)
    client.force_login(desk_a)
    with clock.frozen_at(THURSDAY_9AM):
        answer = client.post(f"/demands/{demand.number}/actions/dispatch/",
                             {"unit": township.committee.pk, "category": "other", "view": "detail"},
                             headers={"HX-Request": "true"})
    assert answer.status_code == 400 and "河西村村民委员会" not in answer.content.decode()
    demand.refresh_from_db()
    assert demand.state == "received"



def test_filtering_the_list_by_a_unit_out_of_reach_finds_nothing_of_its_demands(client, dw, desk_a, township):
    with clock.frozen_at(THURSDAY_9AM):
        elsewhere = dw.file(where=IN_VILLAGE, category=None)
        services.dispatch(township.director, elsewhere, unit=township.committee, category="other")
        mine = dispatch(desk_a, at_desk(dw), unit=dw.city_management).demand
    _, raw = ApiToken.issue(desk_a)
    auth = {"Authorization": f"Bearer {raw}"}
    by_their_unit = client.get(f"{BASE}?unit={township.committee.pk}", headers=auth)
    by_no_unit = client.get(f"{BASE}?unit=987654", headers=auth)
    assert by_their_unit.status_code == by_no_unit.status_code == 200
    assert by_their_unit.json() == by_no_unit.json() == {"items": [], "count": 0}
    by_my_unit = client.get(f"{BASE}?unit={dw.city_management.pk}", headers=auth).json()
    assert [row["number"] for row in by_my_unit["items"]] == [mine.number]
