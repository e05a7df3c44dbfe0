"""The home page per role (今日工作) and the menu per post: what each signed-in person sees is their own work,
each count a link to exactly the demands behind it; the post switch (一肩挑) narrows both."""

import re

import pytest
from django.urls import reverse

from gongzhi.demands.tests.factories import IN_A1, DemandWorld
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def dw(world, settings, tmp_path):
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    return DemandWorld(world)


def _items(html: str) -> dict[str, int]:
    """{item key: count} of the home page's work items."""
    return {key: int(count) for key, count in re.findall(
        r'data-item="([^"]+)">\s*<a href="[^"]*"><span class="count">(\d+)</span>', html)}


def _menu(html: str) -> set[str]:
    return set(re.findall(r'data-menu="([^"]+)"', html))


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_unit_sees_what_it_must_sign_for_and_the_link_lists_exactly_those(client, dw):
    waiting = dw.dispatched()
    other = dw.dispatched(text="路灯坏了好几天，晚上很黑")
    html = _home(client, dw.handler)
    items = _items(html)
    assert items["demands.sign"] == 2
    assert "demands.dispatch" not in items  # a department does not sit at a dispatch desk
    assert {"queue", "home"} <= _menu(html)
    assert "triage" not in _menu(html) and "org" not in _menu(html)
    listed = client.get(reverse("demands:queue") + "?step=sign").content.decode()
    assert waiting.number in listed and other.number in listed
    assert client.get(reverse("demands:queue") + "?step=handle").content.decode().count(waiting.number) == 0


def test_the_dispatch_desk_counts_what_waits_at_the_desk(client, dw):
    dw.file()
    dw.file(text="楼道灯不亮")
    items = _items(_home(client, dw.dispatcher))
    assert items["demands.dispatch"] == 2
    assert items["demands.sign"] == 0  # the street office may lead a demand itself; none is dispatched to it
    assert "triage" in _menu(_home(client, dw.dispatcher))


def test_a_grid_worker_verifies_and_is_not_asked_to_rate_their_own_patrol_reports(client, dw):
    from gongzhi.demands import services
    from gongzhi.demands.models import Demand

    demand = dw.dispatched()
    services.accept(dw.handler, demand)
    services.reply(dw.handler, Demand.objects.get(pk=demand.pk), text="已安排清运，现场已清理干净")
    html = _home(client, dw.grid_worker)
    assert _items(html)["patrol.verify"] == 1  # on the patrol page, once: not again under demands
    assert "demands.verify" not in _items(html)
    assert "rates" not in _menu(html) and "triage" not in _menu(html)
    # A patrol report the grid worker filed and that was closed: not theirs to rate.
    patrol = services.file_demand(dw.grid_worker, text="巡查发现井盖缺失", longitude=IN_A1[0], latitude=IN_A1[1],
                                  channel=Demand.Channel.PATROL).demand
    Demand.objects.filter(pk=patrol.pk).update(state="closed")
    assert "demands.rate" not in _items(_home(client, dw.grid_worker))
    assert patrol.number not in client.get(reverse("demands:queue") + "?step=rate").content.decode()


def test_a_resident_gets_the_front_door_and_their_own_menu(client, dw):
    closed = dw.closed()
    html = _home(client, dw.resident)
    assert 'class="workbench"' not in html  # no 今日工作: a resident holds no post
    assert _items(html) == {"demands.rate": 1}  # what waits for them: their closed demand, to rate
    assert closed.number in client.get(reverse("demands:queue") + "?step=rate").content.decode()
    # No link to the staff's pages, which would only answer "no access".
    for name in ("org:coverage", "org:regions", "org:organisations"):
        assert f'href="{reverse(name)}"' not in html
    assert _menu(html) >= {"report", "mine"}
    assert not _menu(html) & {"insight", "triage", "rates", "queue", "org", "home"}


def test_a_visitor_sees_the_public_menu(client, dw):
    html = client.get(reverse("web:home")).content.decode()
    assert _menu(html) >= {"report", "track", "public"}
    assert "insight" not in _menu(html)


def test_the_header_names_the_person_and_the_post(client, world):
    html = _home(client, world.secretary_a)
    assert "who-post" in html and "东园社区党委" in html
    assert "post-switch" not in html  # one post: nothing to switch


def test_one_person_with_two_posts_switches_between_them(client, world, dw):
    """一肩挑: the party secretary of 东园 also directs its residents' committee (a dispatch desk). Acting as the
    party secretary only, the desk's work and menu go; back to all posts, they return."""
    secretary = world.secretary_a
    post(secretary.person, world.committee_a, "director")
    dw.file()
    html = _home(client, secretary)
    assert "post-switch" in html
    assert "demands.dispatch" in _items(html) and "triage" in _menu(html)
    party_post = secretary.person.posts.get(organisation=world.party_a)
    response = client.post(reverse("web:acting_post"), {"post": party_post.pk, "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("web:home")).content.decode()
    assert "demands.dispatch" not in _items(html) and "triage" not in _menu(html)
    demand_number = dw.file(text="楼道灯不亮").number
    # The switch narrows what they may do: the desk's list is no longer theirs.
    assert demand_number not in client.get(reverse("demands:queue") + "?step=dispatch").content.decode()
    client.post(reverse("web:acting_post"), {"post": "", "next": "/"})
    assert "demands.dispatch" in _items(client.get(reverse("web:home")).content.decode())


def test_switching_to_a_post_that_is_not_yours_is_refused(client, world):
    other = official(world.committee_b, "staff", "someone_else")
    client.force_login(world.secretary_a)
    other_post = other.person.posts.get()
    response = client.post(reverse("web:acting_post"), {"post": other_post.pk})
    assert response.status_code == 400
    assert client.post(reverse("web:acting_post"), {"post": "abc"}).status_code == 400
    # Nothing was chosen: the secretary still acts with their own post.
    assert "who-post" in client.get(reverse("web:home")).content.decode()


def test_switching_refuses_an_outside_next_address(client, world):
    client.force_login(world.secretary_a)
    response = client.post(reverse("web:acting_post"), {"post": "", "next": "https://evil.example/"})
    assert response["Location"] == reverse("web:home")


def test_a_grid_worker_sees_the_residents_waiting_to_be_confirmed(client, world, dw):
    from gongzhi.core import clock
    from gongzhi.org.models import HouseholdClaim

    newcomer = world.resident_b
    HouseholdClaim.objects.create(person=newcomer, building=world.building_a1, unit="3-303", created_at=clock.now())
    assert _items(_home(client, dw.grid_worker))["org.claims"] == 1
    assert "org.claims" not in _items(_home(client, dw.handler))  # a department confirms no one


def test_the_data_officer_reviews_the_weeks_reveals(client, world):
    import datetime as dt

    from gongzhi.core import clock
    from gongzhi.org.models import Organisation, PersonalDataAccess

    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=world.district)
    officer = official(government, "data_officer", "data_officer")
    for days_ago in (0, 3, 10):
        PersonalDataAccess.objects.create(user=world.secretary_a, person=world.resident_a, fields=["phone"],
                                          purpose="回访诉求办理情况", channel="page",
                                          at=clock.now() - dt.timedelta(days=days_ago))
    html = _home(client, officer)
    assert _items(html)["org.reveals"] == 2  # the one ten days ago is outside the week
    assert _menu(html) >= {"access_log", "models"}
    assert not _menu(html) & {"queue", "rates", "triage"}


def test_a_street_leader_at_no_desk_sees_the_overdue_demands_of_the_street(client, world, dw):
    """The street's party secretary dispatches nothing, but follows up what is late in the street (督办)."""
    import datetime as dt

    from gongzhi.core import clock

    working_committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee",
                                                    region=world.street)
    leader = official(working_committee, "secretary", "street_party_secretary")
    late = dw.dispatched()
    with clock.frozen_at(late.feedback_due + dt.timedelta(days=3)):
        items = _items(_home(client, leader))
        assert items["demands.overdue_area"] == 1
        assert "demands.dispatch" not in items
