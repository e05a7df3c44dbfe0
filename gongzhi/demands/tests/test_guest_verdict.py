"""A resident who reported without an account answers the case's verdict through the number and 查询码 of their
demand (issue #18 item 3): the tracking page shows the case the demand is part of and its state; while the
residents are asked, the verdict form; the answer counts once; a browser without the code cannot answer."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gongzhi.cases.models import Case, Verdict
from gongzhi.cases.tests.conftest import loop  # noqa: F401 (fixture: the whole loop in a village)
from gongzhi.cases.tests.test_services import _finish_work
from gongzhi.core import clock
from gongzhi.demands import guests
from gongzhi.demands.models import GuestTracking
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

CODE = "K7QX2M9P"


def _guest_browser(demand) -> Client:
    """A browser that typed the demand's number and 查询码 on the tracking page."""
    GuestTracking.objects.get_or_create(demand=demand, defaults={"code_digest": guests._digest(CODE),
                                                                 "created_at": clock.now()})
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    found = browser.post(reverse("demands:track"), {"number": demand.number, "code": CODE})
    assert found.status_code == 302 and found["Location"] == reverse("demands:tracked", args=[demand.number])
    return browser


def test_a_guest_answers_the_verdict_once_through_the_tracking_code(loop):
    filed = loop.complain()
    guest_demand = next(d for d in filed if d.reporter_user_id is None)
    loop.open_topic()
    later = loop.decide()
    browser = _guest_browser(guest_demand)
    tracked = reverse("demands:tracked", args=[guest_demand.number])
    verdict_url = reverse("demands:guest_verdict", args=[guest_demand.number])
    with clock.frozen_at(later + dt.timedelta(days=1)):
        page = browser.get(tracked).content.decode()
        assert reverse("cases:detail", args=[loop.case.pk]) in page and 'id="verdict"' in page
        assert verdict_url not in page  # the work is under way: nothing to answer yet
        early = browser.post(verdict_url, {"solved": "yes", "satisfaction": "satisfied"})
        assert early.status_code == 302 and not Verdict.objects.exists()
    _finish_work(loop, later)
    assert loop.case.status == Case.Status.ASKING
    with clock.frozen_at(later + dt.timedelta(days=7)):
        page = browser.get(tracked).content.decode()
        assert verdict_url in page and 'name="satisfaction"' in page
        # Another browser, without the code, cannot answer for this demand.
        stranger = Client().post(verdict_url, {"solved": "no", "satisfaction": "not_satisfied"})
        assert stranger.status_code == 404 and not Verdict.objects.exists()
        answered = browser.post(verdict_url, {"solved": "yes", "satisfaction": "basically_satisfied",
                                              "comment": "水管修好了"})
        assert answered.status_code == 302 and answered["Location"].endswith("#verdict")
        verdict = Verdict.objects.get()
        assert verdict.demand == guest_demand and verdict.user is None and verdict.solved
        assert verdict.satisfaction == "basically_satisfied" and verdict.round == loop.case.verdict_round
        page = browser.get(tracked).content.decode()
        assert "Your verdict:" in page and verdict_url not in page
        again = browser.post(verdict_url, {"solved": "no", "satisfaction": "not_satisfied"}, follow=True)
        assert Verdict.objects.count() == 1 and "answered already" in again.content.decode()


def test_a_verdict_form_left_blank_says_what_is_missing_and_stores_nothing(loop):
    filed = loop.complain()
    guest_demand = next(d for d in filed if d.reporter_user_id is None)
    loop.open_topic()
    later = loop.decide()
    _finish_work(loop, later)
    browser = _guest_browser(guest_demand)
    with clock.frozen_at(later + dt.timedelta(days=7)):
        response = browser.post(reverse("demands:guest_verdict", args=[guest_demand.number]), {}, follow=True)
    body = response.content.decode()
    assert "Say whether it is solved." in body and "Say how satisfied you are." in body
    assert not Verdict.objects.exists()
