"""The org pages: each renders for a user in scope, hides what lies outside it (404, not 403, so an
object's existence does not leak), masks personal data until a logged, purposeful reveal."""

import json

import pytest
from django.urls import reverse

from gongzhi.org.models import PersonalDataAccess, Post
from gongzhi.org.rules import mask_id_number, mask_phone
from gongzhi.org.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Each World creates three users; the production hasher would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_secretary_a(client, world):
    client.force_login(world.secretary_a)
    return client


def html(response) -> str:
    return response.content.decode()


# --- sign-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, needs_id", [
    ("org:regions", False), ("org:region", True), ("org:organisations", False), ("org:organisation", True),
    ("org:person", True), ("org:coverage", False),
])
def test_every_org_page_sends_an_anonymous_visitor_to_sign_in(client, world, name, needs_id):
    url = reverse(name, args=[world.community_a.pk]) if needs_id else reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- regions ------------------------------------------------------------------------------------


def test_region_browser_starts_at_the_community_a_secretary_covers(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:regions"))
    assert response.status_code == 200
    page = html(response)
    assert reverse("org:region", args=[world.community_a.pk]) in page
    assert "东园一网格" in page and "东园二网格" in page
    assert "西园社区" not in page and "西园一网格" not in page


def test_region_browser_of_a_street_official_covers_both_communities(client, world):
    client.force_login(world.street_official)
    page = html(client.get(reverse("org:regions")))
    assert "和平街道" in page and "东园社区" in page and "西园社区" in page


def test_community_page_shows_facts_counts_children_and_a_map_of_its_grids(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:region", args=[world.community_a.pk]))
    assert response.status_code == 200
    page = html(response)
    assert "110199001001" in page  # administrative code
    assert "东园社区党委" in page and "东园社区居委会" in page
    stats = response.context["counts"]
    assert stats == {"grids": 2, "buildings": 1, "households": 1, "residents": 1, "party_organisations": 1}
    shapes = response.context["map_data"]["shapes"]
    assert [s["name"] for s in shapes] == ["东园一网格", "东园二网格"]
    assert shapes[0]["url"] == reverse("org:region", args=[world.grid_a1.pk])
    assert shapes[0]["geometry"]["type"] == "Polygon"
    assert "code" not in shapes[0]  # the map names the grids; it shows no codes
    assert 'id="map-data"' in page and "leaflet/leaflet.js" in page and "web/gzmap.js" in page
    assert "web/regionmap.js" in page and "plotly" not in page
    assert f'data-basemap-url="/api/v1/org/basemap?within={world.community_a.pk}"' in page


def test_breadcrumbs_link_only_the_ancestors_in_scope(as_secretary_a, world):
    page = html(as_secretary_a.get(reverse("org:region", args=[world.grid_a1.pk])))
    assert "和平街道" in page and "示范区" in page
    assert reverse("org:region", args=[world.street.pk]) not in page
    assert reverse("org:region", args=[world.community_a.pk]) in page


def test_grid_page_lists_its_buildings_residents_and_grid_worker_in_post(as_secretary_a, world):
    worker = factories.person("王网格员")
    factories.post(worker, world.committee_a, "grid_worker", grid=world.grid_a1)
    response = as_secretary_a.get(reverse("org:region", args=[world.grid_a1.pk]))
    page = html(response)
    assert "1号楼" in page and "东园路1号" in page
    assert "王网格员" in page
    assert reverse("org:person", args=[world.resident_a.pk]) in page
    # a grid has no child shapes: the map shows its own outline and its buildings
    data = response.context["map_data"]
    assert [s["url"] for s in data["shapes"]] == [None]
    assert data["points"][0]["name"] == "1号楼"


def test_the_grid_worker_sees_themself_on_their_own_grids_page(client, world):
    """Their post hangs on the community's committee, above the grid they cover: still listed on the grid."""
    worker = factories.official(world.committee_a, "grid_worker", "gw_self", grid=world.grid_a1)
    client.force_login(worker)
    response = client.get(reverse("org:region", args=[world.grid_a1.pk]))
    assert response.status_code == 200
    assert [p.person_id for p in response.context["grid_workers"]] == [worker.person.pk]
    assert "No grid worker in post" not in html(response) and "暂无在岗网格员" not in html(response)


def test_grid_without_worker_says_so(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:region", args=[world.grid_a2.pk]))
    assert list(response.context["grid_workers"]) == []


def test_community_secretary_gets_404_on_the_other_communitys_pages(as_secretary_a, world):
    for url in (
        reverse("org:region", args=[world.community_b.pk]),
        reverse("org:region", args=[world.grid_b1.pk]),
        reverse("org:organisation", args=[world.committee_b.pk]),
        reverse("org:person", args=[world.resident_b.pk]),
    ):
        response = as_secretary_a.get(url)
        assert response.status_code == 404, url
        assert "西园" not in html(response)


def test_unknown_region_is_404(as_secretary_a):
    assert as_secretary_a.get(reverse("org:region", args=[999999])).status_code == 404


# --- organisations ------------------------------------------------------------------------------


def test_organisation_list_shows_only_the_secretarys_community(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:organisations"))
    assert response.status_code == 200
    names = {o.name for o in response.context["page_obj"]}
    assert names == {"东园社区居委会", "东园社区党委"}
    assert "西园社区居委会" not in html(response)


def test_organisation_list_filters_party_and_kind(client, world):
    client.force_login(world.street_official)
    party = {o.name for o in client.get(reverse("org:organisations"), {"party": "party"}).context["page_obj"]}
    assert party == {"东园社区党委"}
    non_party = {o.name for o in client.get(reverse("org:organisations"), {"party": "non_party"}).context["page_obj"]}
    assert non_party == {"和平街道办事处", "东园社区居委会", "西园社区居委会"}
    committees = client.get(reverse("org:organisations"), {"kind": "residents_committee"}).context["page_obj"]
    assert {o.name for o in committees} == {"东园社区居委会", "西园社区居委会"}


def test_organisation_page_shows_parent_children_host_and_posts(as_secretary_a, world):
    branch = factories.Organisation.objects.create(name="东园第一党支部", kind="party_branch",
                                                   region=world.community_a, parent=world.party_a,
                                                   host=world.committee_a)
    response = as_secretary_a.get(reverse("org:organisation", args=[world.party_a.pk]))
    assert response.status_code == 200
    assert "东园第一党支部" in html(response)
    branch_page = html(as_secretary_a.get(reverse("org:organisation", args=[branch.pk])))
    assert reverse("org:organisation", args=[world.party_a.pk]) in branch_page  # parent, in scope
    assert reverse("org:organisation", args=[world.committee_a.pk]) in branch_page  # host unit
    assert "东园社区居委会" in branch_page


def test_one_person_holding_two_posts_shows_both(as_secretary_a, world):
    chief = Post.objects.get(person__user=world.secretary_a).person
    factories.post(chief, world.committee_a, "director", title="居委会主任")
    response = as_secretary_a.get(reverse("org:organisation", args=[world.party_a.pk]))
    (holder,) = response.context["holders"]
    assert holder["person"] == chief
    assert {p.organisation_id for p in holder["posts"]} == {world.party_a.pk, world.committee_a.pk}
    page = html(response)
    assert "居委会主任" in page and "东园社区居委会" in page


def test_ended_post_is_not_shown(as_secretary_a, world):
    import datetime as dt

    former = factories.person("赵前任")
    factories.post(former, world.party_a, "deputy_secretary", start=dt.date(2018, 1, 1),
                   end_date=dt.date(2019, 1, 1))
    assert "赵前任" not in html(as_secretary_a.get(reverse("org:organisation", args=[world.party_a.pk])))


# --- a person's page and the reveal -------------------------------------------------------------


def test_person_page_masks_phone_and_id_number(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:person", args=[world.resident_a.pk]))
    assert response.status_code == 200
    page = html(response)
    assert "张三" in page
    record = world.resident_a.personal_data
    assert mask_phone(record.phone) in page and mask_id_number(record.id_number) in page
    assert record.phone not in page and record.id_number not in page
    assert PersonalDataAccess.objects.count() == 0


def test_secretary_reveals_a_residents_phone_and_the_read_is_logged(as_secretary_a, world):
    url = reverse("org:reveal_personal_data", args=[world.resident_a.pk])
    response = as_secretary_a.post(url, {"purpose": "入户走访"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = html(response)
    record = world.resident_a.personal_data
    assert record.phone in page and record.id_number in page
    assert "<html" not in page  # htmx gets only the fragment to swap in
    access = PersonalDataAccess.objects.get()
    assert access.user == world.secretary_a and access.person == world.resident_a
    assert access.purpose == "入户走访" and access.channel == "web"
    assert sorted(access.fields) == ["id_number", "phone"]


def test_reveal_without_javascript_returns_the_whole_page(as_secretary_a, world):
    response = as_secretary_a.post(reverse("org:reveal_personal_data", args=[world.resident_a.pk]),
                                   {"purpose": "核实诉求"})
    assert response.status_code == 200
    assert "<html" in html(response) and "13900001111" in html(response)


def test_street_official_never_sees_phone_or_id_number_and_only_what_they_revealed_is_logged(client, world):
    client.force_login(world.street_official)
    response = client.post(reverse("org:reveal_personal_data", args=[world.resident_a.pk]),
                           {"purpose": "核实诉求办理情况"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = html(response)
    assert "139****1111" in page and "13900001111" not in page
    assert "110105198001010032" not in page
    assert response.context["card"].revealed == ["name", "address"]
    assert PersonalDataAccess.objects.get().fields == ["name", "address"]


@pytest.mark.parametrize("data", [{}, {"purpose": ""}, {"purpose": "   "}, {"purpose": "x" * 121}])
def test_reveal_without_a_valid_purpose_is_400_with_a_reason(as_secretary_a, world, data):
    response = as_secretary_a.post(reverse("org:reveal_personal_data", args=[world.resident_a.pk]), data,
                                   HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert response.context["form"].errors["purpose"]
    assert 'role="alert"' in html(response)
    assert "13900001111" not in html(response)
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_of_someone_out_of_scope_is_404(as_secretary_a, world):
    response = as_secretary_a.post(reverse("org:reveal_personal_data", args=[world.resident_b.pk]),
                                   {"purpose": "入户走访"})
    assert response.status_code == 404
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_needs_post(as_secretary_a, world):
    assert as_secretary_a.get(reverse("org:reveal_personal_data", args=[world.resident_a.pk])).status_code == 405


# --- coverage -----------------------------------------------------------------------------------


def test_coverage_report_lists_the_gaps_in_scope(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:coverage"))
    assert response.status_code == 200
    report = response.context["report"]
    assert {g.name for g in report.grids_without_worker} == {"东园一网格", "东园二网格"}
    assert [b.name for b in report.buildings_without_lead] == ["1号楼"]
    page = html(response)
    assert reverse("org:region", args=[world.grid_a2.pk]) in page
    assert "西园" not in page.split("<main>")[1]


def test_coverage_narrowed_to_a_grid(as_secretary_a, world):
    response = as_secretary_a.get(reverse("org:coverage"), {"region": world.grid_a2.pk})
    assert response.status_code == 200
    assert [g.name for g in response.context["report"].grids_without_worker] == ["东园二网格"]
    assert response.context["report"].buildings_without_lead == []


def test_coverage_of_a_region_out_of_scope_is_404(as_secretary_a, world):
    assert as_secretary_a.get(reverse("org:coverage"), {"region": world.community_b.pk}).status_code == 404


def test_coverage_is_403_without_the_permission(client, world):
    lead = factories.official(world.committee_a, "building_lead", building=world.building_a1)
    client.force_login(lead)
    response = client.get(reverse("org:coverage"))
    assert response.status_code == 403
    assert "403" in html(response)


# --- language -----------------------------------------------------------------------------------


def test_pages_are_chinese_first_and_switch_to_english(as_secretary_a, world):
    url = reverse("org:region", args=[world.community_a.pk])
    assert '<html lang="zh-hans">' in html(as_secretary_a.get(url))
    response = as_secretary_a.post("/i18n/setlang/", {"language": "en", "next": url})
    assert response.status_code == 302
    assert '<html lang="en">' in html(as_secretary_a.get(url))


def test_map_data_is_embedded_as_json(as_secretary_a, world):
    page = html(as_secretary_a.get(reverse("org:region", args=[world.community_a.pk])))
    opening = '<script id="map-data" type="application/json">'
    start = page.index(opening) + len(opening)
    data = json.loads(page[start:page.index("</script>", start)])
    assert len(data["shapes"]) == 2 and data["points"] == []
