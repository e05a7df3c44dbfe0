"""The work queue and the dispatch desk cost the same few queries for a page of 3 cards or of 30 (what each
card reads, the units handling it and the 督办 badges, is read for the whole page at once), and the unit's
standing above the queue is counted once per 5 minutes, not on every load."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands import services, supervision

from .factories import THURSDAY_9AM

pytestmark = pytest.mark.django_db
LATER = THURSDAY_9AM + dt.timedelta(days=1)


def _load(client, url):
    """The page once more (the first load fills the standing's cache), its queries counted."""
    with clock.frozen_at(LATER):
        client.get(url)
        with CaptureQueriesContext(connection) as seen:
            response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in seen.captured_queries]


def _handlers_queue(dw, n):
    """n demands in the handler's queue: every third accepted (step "handle"), the rest to sign for; one
    under a supervision order (督办)."""
    demands = []
    for i in range(n):
        demand = dw.dispatched(at=THURSDAY_9AM - dt.timedelta(hours=i))
        if i % 3 == 1:
            with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=2)):
                demand = services.accept(dw.handler, demand).demand
        demands.append(demand)
    return demands


def _queries_of_queue(client, dw, n):
    demands = _handlers_queue(dw, n)
    client.force_login(dw.handler)
    response, sql = _load(client, reverse("demands:queue"))
    return demands, response, sql


def test_the_queue_costs_the_same_queries_for_3_cards_and_for_30(client, dw):
    _, first, three = _queries_of_queue(client, dw, 3)
    assert len(first.context["cards"]) == 3
    demands, response, thirty = _queries_of_queue(client, dw, 27)  # 3 + 27 = 30 cards on the page
    assert len(response.context["cards"]) == 30
    assert len(thirty) == len(three), "\n".join(thirty)

    # The cards show what they showed: each its actions, its grid, its deadlines.
    cards = {c["demand"].number: c for c in response.context["cards"]}
    waiting, accepted = demands[0], demands[1]
    assert [a["name"] for a in cards[waiting.number]["actions"]] == ["accept", "return"]
    assert "reply" in [a["name"] for a in cards[accepted.number]["actions"]]
    assert [a["name"] for a in cards[accepted.number]["actions"]] != ["accept", "return"]
    assert [d["name"] for d in cards[waiting.number]["deadlines"]] == ["accept_due", "feedback_due"]
    text = response.content.decode()
    card = re.search(rf'<article[^>]*id="demand-{waiting.number}".*?</article>', text, re.S).group(0)
    assert dw.world.grid_a1.name in card
    assert 'name="action" value="accept"' in card or "accept" in card


def test_the_queue_still_shows_the_supervision_badge_of_its_card(client, dw):
    plain, supervised = _handlers_queue(dw, 2)
    # An open 督办 order on one of them, read with the page's batch.
    with clock.frozen_at(LATER):
        supervision.issue_order(dw.world.street_official, supervised, note="群众反映多次",
                                respond_by=LATER + dt.timedelta(days=2))
    client.force_login(dw.handler)
    response, _ = _load(client, reverse("demands:queue"))
    text = response.content.decode()
    shown = {n: re.search(rf'<article[^>]*id="demand-{n}".*?</header>', text, re.S).group(0)
             for n in (plain.number, supervised.number)}
    assert 'class="badge supervised"' in shown[supervised.number]
    assert 'class="badge supervised"' not in shown[plain.number]


def test_the_desk_costs_the_same_queries_for_3_cards_and_for_30(client, dw):
    def desk(n):
        for i in range(n):
            dw.file(at=THURSDAY_9AM - dt.timedelta(hours=i))
        client.force_login(dw.dispatcher)
        response, sql = _load(client, reverse("demands:triage"))
        return response, sql

    _, three = desk(3)
    response, thirty = desk(27)
    assert len(response.context["cards"]) == 30
    assert len(thirty) == len(three), "\n".join(thirty)
    assert all("dispatch" in [a["name"] for a in c["actions"]] for c in response.context["cards"])
    # Every card's dispatch form still offers the units serving its place (read once per grid, not per card).
    text = response.content.decode()
    for card in response.context["cards"][:: 10]:
        form = re.search(rf'<article[^>]*id="demand-{card["demand"].number}".*?</article>', text, re.S).group(0)
        lead = re.search(r'<select name="unit"[^>]*>(.*?)</select>', form, re.S).group(1)
        assert f'value="{dw.city_management.pk}"' in lead and dw.city_management.name in lead
        assert f'value="{dw.property_company.pk}"' in lead


def _ranking_queries(sql):
    return [q for q in sql if "COUNT(" in q and "lead_unit_id" in q and "GROUP BY" in q]


def test_the_units_standing_is_counted_once_then_read_from_the_cache(client, dw, settings):
    _handlers_queue(dw, 2)
    client.force_login(dw.handler)
    url = reverse("demands:queue")
    with clock.frozen_at(LATER):
        with CaptureQueriesContext(connection) as first:
            shown = client.get(url)
        with CaptureQueriesContext(connection) as second:
            again = client.get(url)
    first_sql = [q["sql"] for q in first.captured_queries]
    assert _ranking_queries(first_sql), "\n".join(first_sql)  # the test looks for the right query
    assert not _ranking_queries([q["sql"] for q in second.captured_queries])
    # The same standing both times: the unit, its rates this month and last.
    assert [(s["standing"].unit_name, s["standing"].label) for s in shown.context["standing"]] == \
        [(s["standing"].unit_name, s["standing"].label) for s in again.context["standing"]]
    assert {s["standing"].unit_name for s in again.context["standing"]} == {dw.city_management.name}
    assert any(s["row"] for s in again.context["standing"])  # this month: its cases are counted
    assert again.context["standing_minutes"] == 5  # the page says how old its figures may be
    panel = re.search(r'<details class="panel unit-standing".*?</details>', again.content.decode(), re.S).group(0)
    assert "Counted at most 5 minutes ago." in panel or "最多 5 分钟前统计。" in panel  # before / after the .po

    # Another period (the next month) is counted afresh; with the cache off, every load counts.
    with clock.frozen_at(LATER + dt.timedelta(days=40)):
        with CaptureQueriesContext(connection) as next_month:
            client.get(url)
    assert _ranking_queries([q["sql"] for q in next_month.captured_queries])
    settings.GONGZHI_STANDING_CACHE_SECONDS = 0
    with clock.frozen_at(LATER):
        with CaptureQueriesContext(connection) as uncached:
            fresh = client.get(url)
    assert _ranking_queries([q["sql"] for q in uncached.captured_queries])
    assert fresh.context["standing_minutes"] == 0
    assert "Counted at most" not in fresh.content.decode() and "分钟前统计" not in fresh.content.decode()
