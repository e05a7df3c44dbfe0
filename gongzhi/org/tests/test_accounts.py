"""Residents' own accounts (issue #16 item 1): sign up with a mobile number and the code texted to it, sign in
with the number, a new password by code, "I live here" confirmed by the grid worker; and a guest's reports
filed with a confirmed number join the account opened with it (item 2)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from gongzhi.core import phone_codes
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.core.models import Event, OutgoingSms, PhoneCode
from gongzhi.org import accounts
from gongzhi.org.models import Household, HouseholdClaim, Person, ResidentAccount
from gongzhi.org.tests.factories import official

PHONE = "13712345678"
PASSWORD = "qingshui-river-42"


def last_code(phone: str = PHONE) -> str:
    sent = OutgoingSms.objects.filter(phone=phone).order_by("-id").first()
    assert sent is not None, "no text message to " + phone
    return re.search(r"\d{6}", sent.text)[0]


@pytest.fixture
def texts(django_capture_on_commit_callbacks):
    """Text messages go out once their transaction commits (never inside a test's own): `texts(call, *args)`
    makes the call and sends what it queued."""
    def deliver(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return deliver


def open_account(texts, name="王女士", phone=PHONE):
    texts(accounts.send_sign_up_code, phone)
    return accounts.sign_up(phone=phone, code=last_code(phone), password=PASSWORD, name=name)


def test_a_code_is_texted_and_only_its_digest_and_the_numbers_digest_are_kept(db, texts):
    texts(accounts.send_sign_up_code, "137 1234 5678")
    code = last_code()
    row = PhoneCode.objects.get()
    assert PHONE not in str(row.__dict__) and code not in str(row.__dict__)
    assert row.phone_digest == phone_codes.digest(PHONE) and row.purpose == "sign_up"
    assert "10" in OutgoingSms.objects.get().text  # says how long it is valid


def test_sign_up_opens_a_resident_account_signed_in_by_mobile_number(db, client, texts):
    user = open_account(texts)
    assert ResidentAccount.objects.filter(user=user).exists()
    assert user.username != PHONE and PHONE not in user.username  # no page naming a user shows the number
    person = Person.objects.get(user=user)
    assert person.name == "王女士" and person.personal_data.phone == PHONE
    assert Event.objects.filter(kind="org.account_opened", subject_id=str(person.pk)).exists()
    assert client.login(username="137-1234-5678", password=PASSWORD)  # typed as people type it
    client.logout()
    assert not client.login(username=PHONE, password="wrong-password-1")


def test_a_wrong_code_is_refused_counted_and_five_wrong_end_the_code(db, texts):
    texts(accounts.send_sign_up_code, PHONE)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed) as refused:
            accounts.sign_up(phone=PHONE, code=wrong, password=PASSWORD, name="王")
        assert refused.value.code == "wrong_code"
    with pytest.raises(ValidationFailed):  # the right code no longer opens it
        accounts.sign_up(phone=PHONE, code=code, password=PASSWORD, name="王")
    assert not ResidentAccount.objects.exists() and not get_user_model().objects.exists()


def test_a_weak_password_is_refused_before_the_code_is_used_up(db, texts):
    texts(accounts.send_sign_up_code, PHONE)
    with pytest.raises(ValidationFailed) as refused:
        accounts.sign_up(phone=PHONE, code=last_code(), password="12345678", name="王")
    assert refused.value.code == "weak_password"
    assert accounts.sign_up(phone=PHONE, code=last_code(), password=PASSWORD, name="王")  # the same code works


def test_codes_are_limited_per_number(db, texts):
    texts(accounts.send_sign_up_code, PHONE)
    with pytest.raises(RateLimited) as refused:
        texts(accounts.send_sign_up_code, PHONE)
    assert refused.value.retry_after and refused.value.retry_after <= 60
    assert OutgoingSms.objects.count() == 1


def test_an_invalid_number_and_a_number_with_an_account_are_refused(db, texts):
    with pytest.raises(ValidationFailed) as refused:
        texts(accounts.send_sign_up_code, "12345")
    assert refused.value.code == "invalid_phone"
    open_account(texts)
    with pytest.raises(Conflict):
        texts(accounts.send_sign_up_code, PHONE)


def test_a_new_password_by_code_and_the_same_answer_for_a_number_without_account(db, client, texts):
    open_account(texts)
    texts(accounts.send_reset_code, "13900000000")  # no account: nothing is sent, and nothing says so
    assert not OutgoingSms.objects.filter(phone="13900000000").exists()
    texts(accounts.send_reset_code, PHONE)
    accounts.reset_password(phone=PHONE, code=last_code(), password="another-river-43")
    assert client.login(username=PHONE, password="another-river-43")


def test_a_guests_reports_with_a_confirmed_number_join_the_account_opened_with_it(dw, texts):
    from gongzhi.demands import guests
    from gongzhi.demands.models import Demand
    from gongzhi.demands.tests.factories import IN_A1

    texts(phone_codes.send, PHONE, PhoneCode.Purpose.GUEST)
    step, _ = guests.file(text="路灯不亮", longitude=IN_A1[0], latitude=IN_A1[1], contact_phone=PHONE,
                          phone_code=last_code(), channel="web")
    other, _ = guests.file(text="井盖松动", longitude=IN_A1[0], latitude=IN_A1[1], channel="web")  # no number
    with pytest.raises(ValidationFailed) as refused:  # a number without its code is not taken
        guests.file(text="垃圾", longitude=IN_A1[0], latitude=IN_A1[1], contact_phone="13900009999", channel="web")
    assert refused.value.code == "phone_unconfirmed"

    user = open_account(texts)
    assert user.joined_reports == 1
    assert set(Demand.objects.filter(reporter_user=user).values_list("pk", flat=True)) == {step.demand.pk}
    assert Demand.objects.get(pk=other.demand.pk).reporter_user is None


def test_i_live_here_is_confirmed_by_the_grid_worker_of_that_building_only(world, texts):
    user = open_account(texts)
    claim = accounts.claim_household(user, building=world.building_a1, unit="3-302")
    assert claim.status == "pending"
    grid_worker_a = official(world.committee_a, "grid_worker", "gw_a1", grid=world.grid_a1)
    grid_worker_b = official(world.committee_b, "grid_worker", "gw_b1", grid=world.grid_b1)
    assert list(accounts.pending_claims(grid_worker_b)) == []
    with pytest.raises(NotFound):
        accounts.decide_claim(grid_worker_b, claim, confirm=True)
    assert list(accounts.pending_claims(grid_worker_a)) == [claim]
    accounts.decide_claim(grid_worker_a, claim, confirm=True)
    person = Person.objects.get(user=user)
    assert person.household == Household.objects.get(building=world.building_a1, unit="3-302")
    assert person.residence == world.community_a
    assert Event.objects.filter(kind="org.household_confirmed").count() == 1
    with pytest.raises(Conflict):
        accounts.decide_claim(grid_worker_a, claim, confirm=False, note="不对")


def test_turning_a_claim_down_needs_a_reason_the_resident_reads(world, client, texts):
    user = open_account(texts)
    claim = accounts.claim_household(user, building=world.building_a1, unit="9-909")
    grid_worker = official(world.committee_a, "grid_worker", "gw_a1", grid=world.grid_a1)
    with pytest.raises(ValidationFailed):
        accounts.decide_claim(grid_worker, claim, confirm=False)
    texts(accounts.decide_claim, grid_worker, claim, confirm=False, note="这栋楼没有9单元，请核对")
    assert "这栋楼没有9单元" in OutgoingSms.objects.filter(phone=PHONE).latest("id").text  # told by text too
    client.force_login(user)
    page = client.get(reverse("org:my_household")).content.decode()
    assert "这栋楼没有9单元，请核对" in page


def test_an_official_without_a_resident_account_cannot_claim(world):
    with pytest.raises(PermissionDenied):
        accounts.claim_household(world.secretary_a, building=world.building_a1, unit="1")
    assert not HouseholdClaim.objects.exists()


# --- the pages ------------------------------------------------------------------------------------------------

def test_the_sign_up_page_sends_a_code_then_opens_the_account_and_signs_in(db, client, texts):
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("sign_up"))
    assert page.status_code == 200 and "开通账号" in page.content.decode()
    sent = texts(client.post, reverse("sign_up"), {"phone": PHONE, "name": "王女士", "send_code": "1"})
    assert sent.status_code == 200 and "137****5678" in sent.content.decode()
    done = client.post(reverse("sign_up"), {"phone": PHONE, "code": last_code(), "name": "王女士",
                                            "password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("org:my_household")
    assert client.get(reverse("org:my_household")).status_code == 200  # signed in


def test_the_sign_up_page_says_what_is_wrong_in_chinese_and_keeps_no_password(db, client, texts):
    client.cookies["django_language"] = "zh-hans"
    texts(client.post, reverse("sign_up"), {"phone": PHONE, "send_code": "1"})
    wrong = client.post(reverse("sign_up"), {"phone": PHONE, "code": "000001" if last_code() != "000001" else "000002",
                                             "name": "王", "password": PASSWORD, "password_again": PASSWORD})
    body = wrong.content.decode()
    assert wrong.status_code == 400 and "验证码不对" in body and PASSWORD not in body
    differ = client.post(reverse("sign_up"), {"phone": PHONE, "code": last_code(), "name": "王",
                                              "password": PASSWORD, "password_again": PASSWORD + "x"})
    assert differ.status_code == 400 and "两次输入的密码不一致" in differ.content.decode()


def test_the_code_endpoint_answers_json_and_refuses_with_a_reason(db, client, texts):
    ok = texts(client.post, reverse("send_code"), {"phone": PHONE, "purpose": "guest"})
    assert ok.status_code == 200 and ok.json()["resend_after"] == 60
    again = client.post(reverse("send_code"), {"phone": PHONE, "purpose": "guest"})
    assert again.status_code == 429 and again.json()["code"] == "rate_limited" and again["Retry-After"]
    bad = client.post(reverse("send_code"), {"phone": "123", "purpose": "guest"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_phone"
    assert client.post(reverse("send_code"), {"phone": PHONE, "purpose": "x"}).status_code == 400
    assert client.get(reverse("send_code")).status_code == 405


def test_the_grid_workers_claims_page_confirms(world, client, texts):
    user = open_account(texts)
    claim = accounts.claim_household(user, building=world.building_a1, unit="3-302")
    grid_worker = official(world.committee_a, "grid_worker", "gw_a1", grid=world.grid_a1)
    client.force_login(grid_worker)
    page = client.get(reverse("org:claims")).content.decode()
    assert "王女士" in page and "3-302" in page and PHONE not in page
    answer = client.post(reverse("org:decide_claim", args=[claim.pk]), {"decision": "confirm"})
    assert answer.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "confirmed"
    client.force_login(user)  # a resident has no claims page
    assert client.get(reverse("org:claims")).status_code == 403
    assert client.post(reverse("org:decide_claim", args=[claim.pk]), {"decision": "confirm"}).status_code == 404


def test_a_resident_account_is_texted_at_its_number_when_its_report_moves(dw, texts):
    from gongzhi.demands import services
    from gongzhi.demands.tests.factories import IN_A1

    user = open_account(texts)
    step = services.file_demand(user, text="楼道灯坏了", longitude=IN_A1[0], latitude=IN_A1[1])  # no contact typed
    texts(services.dispatch, dw.dispatcher, step.demand, unit=dw.city_management, category="environment.garbage")
    told = OutgoingSms.objects.filter(phone=PHONE, text__contains=step.demand.number)
    assert told.count() == 1


def test_where_i_live_finds_buildings_by_address_or_community_and_sends_the_claim(world, client, texts):
    user = open_account(texts)
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    by_address = client.get(reverse("org:my_household"), {"q": "东园路"})
    assert by_address.status_code == 200 and "东园路1号" in by_address.content.decode()
    by_community = client.get(reverse("org:my_household"), {"q": "西园社区"}).content.decode()
    assert "西园路9号" in by_community and "东园路1号" not in by_community
    sent = client.post(reverse("org:my_household"), {"building": world.building_b1.pk, "unit": "2单元301"})
    assert sent.status_code == 302
    assert HouseholdClaim.objects.get(person__user=user).building == world.building_b1
    page = client.get(reverse("org:my_household")).content.decode()
    assert "等待网格员确认" in page


def test_a_resident_account_finds_its_own_name_and_number_filled_in_when_filing(db, client, texts):
    user = open_account(texts)
    client.force_login(user)
    form = client.get(reverse("demands:new")).context["form"]
    assert (form["contact_name"].value(), form["contact_phone"].value()) == ("王女士", PHONE)
