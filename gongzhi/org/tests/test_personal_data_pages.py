"""The personal-data pages as a Chinese official reads them: the access log is in the menu of those who
may read it, and it and the person page name the details in words (姓名、住址 …), not field names (#13 item 5)."""

import re

import pytest
from django.urls import reverse

from gongzhi.org import services
from gongzhi.org.models import Organisation
from gongzhi.org.tests import factories

pytestmark = pytest.mark.django_db

FIELD_LABELS = ("姓名", "党员身份", "住址", "手机号", "身份证号")
RAW_FIELD_NAMES = ("name", "party", "address", "phone", "id_number")


@pytest.fixture
def officer(world):
    """The district's data officer (数据安全员) in the district government."""
    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=world.district)
    return factories.official(government, "data_officer", "data_officer")


def _menu(client) -> str:
    page = client.get(reverse("web:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    return re.search(r'<header class="topbar">.*?</header>', page, re.S).group(0)


def test_the_access_log_is_in_the_menu_of_the_data_officer_and_the_administrator_only(client, world, officer):
    link = f'href="{reverse("org:access_log")}"'
    client.force_login(officer)
    assert link in _menu(client) and "查阅记录" in _menu(client)
    client.force_login(factories.user("root", is_superuser=True, is_staff=True))
    assert link in _menu(client)
    for user in (world.secretary_a, world.street_official):
        client.force_login(user)
        assert link not in _menu(client), user.username
    client.logout()
    assert link not in _menu(client)


def test_the_access_log_names_the_details_and_channels_in_chinese(client, world, officer):
    world.resident_a.is_party_member, world.resident_a.party_branch = True, world.party_a
    world.resident_a.save()
    services.read_personal_data(world.street_official, world.resident_a, purpose="核实 信访件", channel="api")
    services.read_personal_data(world.secretary_a, world.resident_a, purpose="入户走访", channel="web")
    client.force_login(officer)
    page = client.get(reverse("org:access_log"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    table = re.search(r'<table class="access-log[^"]*">.*?</table>', page, re.S).group(0)
    cells = re.sub(r"<[^>]+>", " ", table)
    for label in (*FIELD_LABELS, "查阅人", "被查阅人", "查阅内容", "网页", "接口"):
        assert label in cells, label
    for raw in (*RAW_FIELD_NAMES, "web", "api", "By", "Whose"):
        assert not re.search(rf"\b{raw}\b", cells), raw
    assert "个人信息查阅记录" in page


def test_the_person_page_labels_the_masked_details_in_chinese(client, world):
    client.force_login(world.street_official)
    page = client.get(reverse("org:person", args=[world.resident_a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    for label in (*FIELD_LABELS, "个人信息", "不显示"):
        assert label in text, label
    for english in ("Personal data", "not shown", "Party membership", "ID number"):
        assert english not in text, english
