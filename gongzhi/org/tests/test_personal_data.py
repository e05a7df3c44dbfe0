"""Who sees what of a resident (permissions.PERSONAL_DATA_ACCESS): posts serving residents face to face
see names, party membership and addresses; overseers see them masked and may reveal them with a purpose
in words, each reveal logged and limited per hour; the district's data officer reads the log (#13 item 5)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied, RateLimited, ValidationFailed
from gongzhi.org import queries, services
from gongzhi.org.models import Organisation, PersonalDataAccess, Post
from gongzhi.org.permissions import MASKED, PERSONAL_DATA_ACCESS, PERSONAL_FIELDS, REVEAL, SHOWN
from gongzhi.org.rules import is_meaningful_purpose, mask_address, mask_name
from gongzhi.org.tests import factories
from gongzhi.org.tests.test_api import as_user  # noqa: F401 (the API client fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):
    """The district's data officer (数据安全员) in the district government."""
    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=world.district)
    return factories.official(government, "data_officer", "data_officer")


@pytest.fixture
def party_member(world):
    world.resident_a.is_party_member = True
    world.resident_a.party_branch = world.party_a
    world.resident_a.save()
    return world.resident_a


# --- the pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [".", "x", "123", "。。。", "aaaa", "啊啊啊", "测试", "test", "asdf qwer",
                                     "ab ab ab", "", "   ", "1.2.3"])
def test_a_purpose_without_real_words_is_refused(purpose):
    assert not is_meaningful_purpose(purpose)


@pytest.mark.parametrize("purpose", ["入户走访", "统计", "核实诉求 2026113000019", "home visit about repair"])
def test_a_purpose_in_words_is_accepted(purpose):
    assert is_meaningful_purpose(purpose)


@given(st.text(alphabet=st.characters(categories=["Nd", "P", "Zs", "S"]), max_size=60))
def test_digits_punctuation_and_symbols_are_never_a_purpose(text):
    assert not is_meaningful_purpose(text)


def test_names_and_addresses_are_masked_to_what_an_overseer_needs():
    assert mask_name("张三") == "张某" and mask_name("欧阳娜娜") == "欧某"
    assert mask_address("东园路1号 1号楼 1-101") == "东园路** ** **"
    assert "101" not in mask_address("西园路9号2单元202室")


def test_the_table_gives_no_overseer_phone_or_id_number_and_the_data_officer_nothing():
    for role, fields in PERSONAL_DATA_ACCESS.items():
        assert fields["phone"][1] == fields["id_number"][1] == MASKED, role
        assert set(fields) == set(PERSONAL_FIELDS)
    assert all(tiers == (MASKED, MASKED) for tiers in PERSONAL_DATA_ACCESS["data_officer"].values())
    assert PERSONAL_DATA_ACCESS["secretary"]["name"] == (SHOWN, REVEAL)


# --- who sees what --------------------------------------------------------------------------------


def test_street_official_sees_names_party_and_address_masked(world, party_member):
    card = services.person_card(world.street_official, world.resident_a)
    assert card.name == "张某"
    assert card.is_party_member is None and card.party_branch is None
    assert "1-101" not in card.address and card.address.startswith("东园路")
    assert card.phone == "139****1111"
    assert card.revealable == ["name", "party", "address"]


def test_community_secretary_sees_name_party_and_address_in_full_without_a_log(world, party_member):
    card = services.person_card(world.secretary_a, world.resident_a)
    assert card.name == "张三"
    assert card.is_party_member is True and card.party_branch == "东园社区党委"
    assert card.address == "东园路1号 1号楼 1-101"
    assert card.phone == "139****1111"  # the contact stays behind a logged reveal
    assert card.revealable == ["phone", "id_number"]
    assert PersonalDataAccess.objects.count() == 0


def test_an_overseers_reveal_is_logged_with_its_purpose(world, party_member):
    card = services.read_personal_data(world.street_official, world.resident_a, purpose=" 核实 信访件 当事人 ",
                                       channel="api")
    assert card.name == "张三" and card.is_party_member is True
    assert card.revealed == ["name", "party", "address"]
    assert card.phone == "139****1111"
    access = PersonalDataAccess.objects.get()
    assert access.user == world.street_official and access.person == world.resident_a
    assert access.fields == ["name", "party", "address"] and access.purpose == "核实 信访件 当事人"


@pytest.mark.parametrize("purpose", [".", "x", "123", "aaaa"])
def test_a_reveal_with_a_purpose_not_in_words_is_refused_and_not_logged(world, purpose):
    with pytest.raises(ValidationFailed) as refused:
        services.read_personal_data(world.secretary_a, world.resident_a, purpose=purpose, channel="api")
    assert refused.value.code == "purpose_not_meaningful"
    assert PersonalDataAccess.objects.count() == 0


def test_reveals_over_the_hourly_limit_are_refused_and_free_up_after_an_hour(world, settings):
    settings.GONGZHI_REVEALS_PER_HOUR = 3
    start = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))
    people = [factories.person(f"居民{i}", world.household_a) for i in range(4)]
    with clock.frozen_at(start):
        for p in people[:3]:
            services.read_personal_data(world.secretary_a, p, purpose="入户走访", channel="api")
    with clock.frozen_at(start + dt.timedelta(minutes=30)):
        with pytest.raises(RateLimited) as refused:
            services.read_personal_data(world.secretary_a, people[3], purpose="入户走访", channel="api")
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert 0 < refused.value.retry_after <= 30 * 60 + 1
    assert PersonalDataAccess.objects.count() == 3
    # Another user's limit is their own.
    services.read_personal_data(world.secretary_b, world.resident_b, purpose="入户走访", channel="api")
    with clock.frozen_at(start + dt.timedelta(minutes=61)):
        services.read_personal_data(world.secretary_a, people[3], purpose="入户走访", channel="api")
    assert PersonalDataAccess.objects.filter(user=world.secretary_a).count() == 4


def test_a_refused_field_is_neither_shown_nor_logged_nor_counted(world):
    card = services.read_personal_data(world.street_official, world.resident_a, purpose="入户走访",
                                       channel="api", fields=("phone", "id_number"))
    assert card.revealed == [] and card.phone == "139****1111"
    assert PersonalDataAccess.objects.count() == 0


def test_export_with_personal_data_needs_a_purpose_in_words(world):
    from gongzhi.org import imports

    with pytest.raises(ValidationFailed):
        imports.export_people(with_personal_data=True, purpose=".")
    assert PersonalDataAccess.objects.count() == 0


# --- the data officer's access log --------------------------------------------------------------


def test_data_officer_sees_the_reveals_of_their_district_masked(world, officer):
    services.read_personal_data(world.secretary_a, world.resident_a, purpose="入户走访", channel="web")
    services.read_personal_data(world.street_official, world.resident_b, purpose="核实 信访件", channel="api")
    entries = list(queries.access_log(officer))
    assert [e.person for e in entries] == [world.resident_b, world.resident_a]
    assert list(queries.access_log(officer, user="sec_a")) == [entries[1]]
    assert list(queries.access_log(officer, since=clock.today() + dt.timedelta(days=1))) == []


def test_nobody_but_the_data_officer_and_the_administrator_reads_the_log(world, officer):
    services.read_personal_data(world.secretary_a, world.resident_a, purpose="入户走访", channel="web")
    for user in (world.secretary_a, world.secretary_b, world.street_official):
        with pytest.raises(PermissionDenied):
            queries.access_log(user)
    admin = factories.user("root", is_superuser=True, is_staff=True)
    assert queries.access_log(admin).count() == 1


def test_a_data_officer_of_another_district_sees_nothing_of_this_one(world):
    other = factories.region("district", name="外区")
    government = Organisation.objects.create(name="外区人民政府", kind="district_government", region=other)
    stranger = factories.official(government, "data_officer")
    services.read_personal_data(world.secretary_a, world.resident_a, purpose="入户走访", channel="web")
    assert queries.access_log(stranger).count() == 0


def test_the_data_officer_sees_residents_masked_and_cannot_reveal(world, officer):
    card = services.read_personal_data(officer, world.resident_a, purpose="抽查 访问 记录", channel="api")
    assert card.name == "张某" and card.revealed == [] and card.revealable == []


# --- pages and API ---------------------------------------------------------------------------------


def test_street_officials_region_page_lists_residents_masked(client, world):
    client.force_login(world.street_official)
    page = client.get(reverse("org:region", args=[world.grid_a1.pk])).content.decode()
    assert "张某" in page and "张三" not in page and "1-101" not in page
    client.force_login(world.secretary_a)
    page = client.get(reverse("org:region", args=[world.grid_a1.pk])).content.decode()
    assert "张三" in page and "1-101" in page


def test_person_page_for_an_overseer_masks_and_offers_a_reveal(client, world, party_member):
    client.force_login(world.street_official)
    page = client.get(reverse("org:person", args=[world.resident_a.pk])).content.decode()
    assert "张某" in page and "张三" not in page and "东园社区党委" not in page and "1-101" not in page
    assert 'name="purpose"' in page
    response = client.post(reverse("org:reveal_personal_data", args=[world.resident_a.pk]),
                           {"purpose": "."}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "张三" not in response.content.decode()
    response = client.post(reverse("org:reveal_personal_data", args=[world.resident_a.pk]),
                           {"purpose": "核实 信访件"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "张三" in response.content.decode()


def test_the_web_reveal_over_the_limit_is_429_with_retry_after(client, world, settings):
    settings.GONGZHI_REVEALS_PER_HOUR = 1
    client.force_login(world.secretary_a)
    url = reverse("org:reveal_personal_data", args=[world.resident_a.pk])
    assert client.post(url, {"purpose": "入户走访"}, HTTP_HX_REQUEST="true").status_code == 200
    response = client.post(url, {"purpose": "入户走访"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "13900001111" not in response.content.decode() and 'role="alert"' in response.content.decode()


def test_api_people_list_masks_names_and_party_for_an_overseer(as_user, world, party_member):
    body = as_user(world.street_official)("get", f"/api/v1/org/people?region={world.grid_a1.pk}").json()
    zhang = next(p for p in body["items"] if p["id"] == world.resident_a.pk)
    assert zhang["name"] == "张某" and zhang["is_party_member"] is None and zhang["household_id"] is None
    body = as_user(world.secretary_a)("get", f"/api/v1/org/people/{world.resident_a.pk}").json()
    assert body["name"] == "张三" and body["is_party_member"] is True


def test_api_bulk_reveal_with_a_dot_purpose_is_refused(as_user, world):
    api = as_user(world.secretary_a)
    response = api("post", f"/api/v1/org/people/{world.resident_a.pk}/personal-data", data={"purpose": "."})
    assert response.status_code == 400 and response.json()["code"] == "purpose_not_meaningful"
    assert PersonalDataAccess.objects.count() == 0


def test_api_reveal_over_the_limit_is_429_rate_limited(as_user, world, settings):
    settings.GONGZHI_REVEALS_PER_HOUR = 2
    api = as_user(world.secretary_a)
    url = f"/api/v1/org/people/{world.resident_a.pk}/personal-data"
    codes = [api("post", url, data={"purpose": "入户走访"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert api("post", url, data={"purpose": "入户走访"}).json()["code"] == "rate_limited"
    assert PersonalDataAccess.objects.count() == 2


def test_access_log_page_and_api_for_the_data_officer_only(client, as_user, world, officer):
    services.read_personal_data(world.secretary_a, world.resident_a, purpose="入户走访", channel="web")
    client.force_login(officer)
    response = client.get(reverse("org:access_log"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "入户走访" in page and "张某" in page and "张三" not in page and "sec_a" in page
    body = as_user(officer)("get", "/api/v1/org/access-log?user=sec_a").json()
    assert body["count"] == 1 and body["items"][0]["person"] == "张某"
    assert body["items"][0]["fields"] == ["phone", "id_number"]
    client.force_login(world.secretary_a)
    assert client.get(reverse("org:access_log")).status_code == 403
    assert as_user(world.secretary_a)("get", "/api/v1/org/access-log").status_code == 403
    client.logout()
    assert client.get(reverse("org:access_log")).status_code in (302, 401)
