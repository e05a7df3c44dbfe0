"""A unit's reads of a reporter's contact (DemandContactAccess) reach the data officer's audit: the access log page
lists them, and the officer's home counts them with the week's reveals; another district's officer sees none."""

import pytest
from django.urls import reverse

from gongzhi.org.models import Organisation, Region
from gongzhi.org.tests.factories import official, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):
    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=world.district)
    return official(government, "data_officer", "data_officer")


def test_the_units_reads_of_a_reporters_contact_are_in_the_data_officers_log(client, dw, officer):
    demand = dw.dispatched()
    client.force_login(dw.handler)
    assert client.get(reverse("demands:detail", args=[demand.number])).status_code == 200  # shows the contact
    client.force_login(officer)
    page = client.get(reverse("org:access_log")).content.decode()
    section = page.split('id="contact-reads"')[1]
    assert demand.number in section and "cg_staff" in section
    assert "13900001111" not in page  # the log says whose and what, never the number itself
    home = client.get(reverse("web:home")).content.decode()
    assert 'data-item="org.reveals"' in home
    count = home.split('data-item="org.reveals"')[1].split('class="count">')[1].split("<")[0]
    assert int(count) >= 1


def test_another_districts_officer_sees_none_of_them(client, dw, officer):
    demand = dw.dispatched()
    client.force_login(dw.handler)
    client.get(reverse("demands:detail", args=[demand.number]))
    elsewhere = region("district", name="别区", admin_code="110198000000")
    government = Organisation.objects.create(name="别区人民政府", kind="district_government", region=elsewhere)
    other = official(government, "data_officer", "other_officer")
    client.force_login(other)
    page = client.get(reverse("org:access_log")).content.decode()
    assert demand.number not in page.split('id="contact-reads"')[1]
    assert Region.objects.filter(pk=elsewhere.pk).exists()
