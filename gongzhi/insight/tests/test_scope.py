"""Similar demands are suggested only among the demands the caller may see (issue #13, item 1): a
neighbouring grid may lie in another community, whose demands a community's desk may not open, so they are
neither listed (API, page) nor accepted as the original of a merge."""

import datetime as dt
import json

import pytest

from gongzhi.core.errors import NotFound
from gongzhi.core.models import ApiToken
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import IN_A2, IN_B1, THURSDAY_9AM
from gongzhi.insight import queries, services
from gongzhi.org.tests.factories import official

pytestmark = pytest.mark.django_db

SAID_FIRST = "东园路1号门口垃圾堆了三天没人清运，臭味很大"
SAID_AGAIN = "东园路1号门口的垃圾三天了都没人来清运"


@pytest.fixture
def similar_world(dw, monkeypatch):
    """Community A's desk; a demand in grid A2 (community A) and the same complaint in the neighbouring grid
    B1 (community B), both profiled; then the same complaint again in A2, at the desk."""
    monkeypatch.setattr(services, "_neighbours_cache", None)  # this test's grids, not a previous test's
    desk_a = official(dw.world.committee_a, "director", "dir_a")
    in_a = dw.file(text=SAID_FIRST, where=IN_A2)
    in_b = dw.file(text=SAID_FIRST, where=IN_B1)
    services.profile_new_demands()
    again = dw.file(text=SAID_AGAIN, where=IN_A2, at=THURSDAY_9AM + dt.timedelta(hours=2))
    return {"desk_a": desk_a, "in_a": in_a, "in_b": in_b, "again": again}


def numbers(found) -> list[str]:
    return [s.number for s in found]


def test_the_finder_suggests_only_demands_the_caller_may_see(dw, similar_world):
    w = similar_world
    for_street = numbers(services.similar_demands(w["again"], 10, user=dw.dispatcher))
    assert w["in_a"].number in for_street and w["in_b"].number in for_street  # the street sees both
    for_desk_a = numbers(services.similar_demands(w["again"], 10, user=w["desk_a"]))
    assert for_desk_a == [w["in_a"].number]


def test_the_api_lists_no_similar_demand_that_a_direct_get_answers_404_for(client, dw, similar_world):
    w = similar_world
    _, raw = ApiToken.issue(w["desk_a"])
    auth = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"/api/v1/demands/{w['in_b'].number}", headers=auth).status_code == 404
    listed = client.get(f"/api/v1/demands/{w['again'].number}/similar", headers=auth)
    assert listed.status_code == 200
    assert [row["number"] for row in listed.json()] == [w["in_a"].number]
    refused = client.post(f"/api/v1/demands/{w['again'].number}/actions/merge", headers=auth,
                          data=json.dumps({"original": w["in_b"].number}), content_type="application/json")
    assert refused.status_code == 404
    w["again"].refresh_from_db()
    assert w["again"].state == "received"


def test_the_demand_page_offers_no_merge_with_a_demand_out_of_scope(client, dw, similar_world):
    w = similar_world
    client.force_login(w["desk_a"])
    page = client.get(f"/demands/{w['again'].number}/").content.decode()
    assert "similar-list" in page and w["in_a"].number in page
    assert w["in_b"].number not in page
    client.force_login(dw.dispatcher)  # the street's desk oversees both communities: offered both
    assert w["in_b"].number in client.get(f"/demands/{w['again'].number}/").content.decode()


def test_the_cockpit_checks_the_region_named_in_the_query(client, dw):
    desk_a = official(dw.world.committee_a, "director", "dir_a")
    assert queries.cockpit_region(desk_a, dw.world.community_a.pk) == dw.world.community_a
    assert queries.cockpit_region(desk_a) == dw.world.community_a
    # Another community's region answers exactly as one that does not exist (found in review: 403 told it).
    for unknown in (dw.world.community_b.pk, "987654", "9223372036854775808", "east"):
        with pytest.raises(NotFound):
            queries.cockpit_region(desk_a, unknown)
    client.force_login(desk_a)
    assert client.get(f"/insight/?region={dw.world.community_b.pk}").status_code == 404
    assert client.get("/insight/?region=9223372036854775808").status_code == 404
