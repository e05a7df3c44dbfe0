"""Warnings as officials meet them (the review of the demo): the intro says only what the user can do, a handled
warning says who handled it and when, a proactive demand carries its place and what to check there, and the
repeated-reopen warning's text agrees with the demands it lists."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands import services as demands
from gongzhi.demands.models import Category
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import THURSDAY_9AM
from gongzhi.insight import services
from gongzhi.insight.models import Warning
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

pytestmark = pytest.mark.django_db
NOW = THURSDAY_9AM + dt.timedelta(days=1)
ASSIGN = "assign it to a unit"


@pytest.fixture
def warning(dw):
    w = dw.world
    return Warning.objects.create(
        kind=Warning.Kind.HOT_SPOT, key="hot:test:a1", raised_at=NOW, grid=w.grid_a1, community=w.community_a,
        category=Category.objects.get(code="environment.garbage"), unit=dw.city_management,
        level=Warning.Level.HIGH, message_zh="东园一网格垃圾问题集中，建议主动处置", message_en="Waste gathers in A1",
        evidence={"observed": 2, "ratio": 4.0, "demands": []})


def intro(client, user, query=""):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the assertions read the English wording
    with clock.frozen_at(NOW):
        page = client.get(reverse("insight:warnings") + query).content.decode()
    start = page.index('class="muted small warnings-intro"')
    return page[start:page.index("</p>", start)]


def test_the_intro_promises_only_what_the_user_can_do(client, dw, warning):
    assert ASSIGN in intro(client, dw.dispatcher)  # the desk assigns
    committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee",
                                            region=dw.world.street)
    secretary = official(committee, "secretary", "street_secretary")  # acts, but assigns through the desk
    text = intro(client, secretary)
    assert ASSIGN not in text and "Open a proactive demand" in text and "dismiss" in text
    text = intro(client, dw.grid_worker)  # sees the warning of her grid, may not act on it
    assert ASSIGN not in text and "Open a proactive demand" not in text


def test_a_dismissed_warning_says_who_dismissed_it_and_when(client, dw, warning):
    with clock.frozen_at(NOW):
        services.dismiss_warning(dw.dispatcher, warning, reason="施工临时堆放，已协调清运")
    client.force_login(dw.world.street_official)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("insight:warnings") + "?state=handled").content.decode()
    who = dw.dispatcher.person.name
    assert who and f"dismissed by {who} at {NOW.astimezone(dt.timezone(dt.timedelta(hours=8))):%Y-%m-%d %H:%M}" in page
    assert "施工临时堆放，已协调清运" in page


def test_a_proactive_demand_carries_the_grid_a_point_in_it_and_what_to_check(dw, warning):
    with clock.frozen_at(NOW):
        demand = services.open_proactive_demand(dw.dispatcher, warning)
    grid = dw.world.grid_a1
    assert grid.name in demand.address and demand.grid == grid
    assert demand.longitude is not None and demand.latitude is not None
    assert demand.text.startswith("【未诉先办】东园一网格垃圾问题集中")
    assert f"地点：{demand.address}" in demand.text and "请到现场" in demand.text


def test_a_proactive_demand_from_a_building_warning_is_at_the_building(dw, warning):
    building = dw.world.building_a1
    warning.kind, warning.building = Warning.Kind.REPEATED_REOPEN, building
    warning.save()
    with clock.frozen_at(NOW):
        demand = services.open_proactive_demand(dw.dispatcher, warning)
    assert building.address in demand.address and dw.world.grid_a1.name in demand.address
    assert (demand.longitude, demand.latitude) == (building.longitude, building.latitude)
    assert "回访" in demand.text


def test_the_repeated_reopen_warning_agrees_with_the_demands_it_lists(dw):
    demand = dw.closed()
    at = THURSDAY_9AM + dt.timedelta(days=1)
    for _ in range(2):  # rated "not solved" twice, handled again each time
        with clock.frozen_at(at):
            demand = demands.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied").demand
        at += dt.timedelta(hours=1)
        for act in (lambda d: demands.accept(dw.handler, d), lambda d: demands.reply(dw.handler, d, text="已再次清运"),
                    lambda d: demands.verify(dw.grid_worker, d), lambda d: demands.close(dw.dispatcher, d)):
            with clock.frozen_at(at):
                demand = act(demand).demand
            at += dt.timedelta(hours=1)
    with clock.frozen_at(at):  # … and the third time "solved, satisfied"
        demand = demands.rate(dw.resident, demand, solved=True, satisfaction="satisfied").demand
    with clock.frozen_at(at + dt.timedelta(days=1)):
        found = services.warn_repeated_reopens(threshold=2)
    assert len(found) == 1
    warning = found[0]
    assert warning.evidence["demands"] == [demand.number] and warning.evidence["reopened"] == 2
    assert "1件诉求" in warning.message_zh and "共2次" in warning.message_zh
    assert "均已评为解决" in warning.message_zh  # as the listed demand's page shows: solved, satisfied
