"""The demands pages: filing on the map, my demands and the rating, the unit's queue, the dispatch desk,
a demand's page (actions from can(), the contact only for handlers, receipts) and the rates dashboard,
whose numbers are those of queries.rates, the CSV and the API."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.demands import queries, services
from gongzhi.demands.models import Assignment, Demand, DemandContactAccess
from gongzhi.demands.views import CSV_COLUMNS
from gongzhi.ledger import services as ledger

from .factories import IN_A1, IN_A2, IN_B1, NOWHERE, THURSDAY_9AM

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
PHONE = "13900001111"  # the contact DemandWorld.file() gives


@pytest.fixture
def as_(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def act(client, demand, action, data=None, **kw):
    return client.post(reverse("demands:act", args=[demand.number, action]), data or {}, **kw)


# --- filing ---------------------------------------------------------------------------------------------

def test_the_filing_page_draws_every_grid_outline_and_nothing_private(as_, dw):
    response = as_(dw.resident).get(reverse("demands:new"))
    assert response.status_code == 200
    grids = response.context["map_data"]["grids"]
    assert {g["name"] for g in grids} == {"东园一网格", "东园二网格", "西园一网格"}
    assert set(grids[0]) == {"id", "name", "code", "community", "geometry"}
    page = response.content.decode().replace('<span class="who-name">张三</span>', "")  # one's own name, at the top
    assert 'id="demand-map"' in page and "leaflet/leaflet.js" in page and "plotly" not in page
    assert "/api/v1/org/locate" in page
    for private in ("张三", "13900001111", "1号楼", "东园路1号"):  # residents, phones, buildings: none of it
        assert private not in page


def test_a_resident_files_with_a_map_point_and_sees_the_number_and_the_receipt(as_, dw):
    client = as_(dw.resident)
    with clock.frozen_at(THURSDAY_9AM):
        response = client.post(reverse("demands:new"), {
            "text": "楼道灯坏了一个星期", "category": "", "longitude": IN_A2[0], "latitude": IN_A2[1],
            "contact_name": "张三", "contact_phone": PHONE,
        })
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("demands:detail", args=[demand.number]) + "?filed=1"
    assert (demand.channel, demand.grid, demand.reporter_user) == ("web", dw.world.grid_a2, dw.resident)
    assert demand.contact.phone == PHONE

    ledger.sequence_pending()  # what the commit of a real request triggers (tests run inside one transaction)
    page = client.get(response.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert demand.number in text and "filed" in text
    receipt = page.context["card"]["timeline"][0]["receipt"]
    assert receipt is not None and f"#{receipt['index']}" in text
    assert reverse("ledger:receipt") in text
    assert reverse("demands:receipt", args=[demand.number, demand.events.get().event_id]) in text


def test_without_the_map_a_grid_and_an_address_place_the_demand(as_, dw):
    response = as_(dw.resident).post(reverse("demands:new"), {
        "text": "路口井盖松动", "grid": dw.world.grid_b1.pk, "address": "西园路9号门口"})
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert (demand.grid, demand.address, demand.longitude) == (dw.world.grid_b1, "西园路9号门口", None)


def test_a_point_outside_every_grid_is_refused_on_the_form_and_nothing_is_stored(as_, dw):
    response = as_(dw.resident).post(reverse("demands:new"), {
        "text": "这里有问题", "longitude": NOWHERE[0], "latitude": NOWHERE[1]})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Demand.objects.exists()


def test_no_place_at_all_is_refused(as_, dw):
    response = as_(dw.resident).post(reverse("demands:new"), {"text": "这里有问题"})
    assert response.status_code == 400 and not Demand.objects.exists()


def test_pages_need_a_sign_in(client, dw):
    response = client.get(reverse("demands:new"))
    assert response.status_code == 302 and reverse("login") in response.url


# --- my demands and the rating ------------------------------------------------------------------------------

def test_my_demands_lists_mine_with_state_and_timeline_only(as_, dw):
    mine = dw.dispatched()
    other = services.file_demand(dw.other_resident, text="别人的诉求", longitude=IN_A1[0],
                                 latitude=IN_A1[1]).demand
    response = as_(dw.resident).get(reverse("demands:mine"))
    assert response.status_code == 200
    assert [c["demand"] for c in response.context["cards"]] == [mine]
    text = response.content.decode()
    assert mine.number in text and other.number not in text
    assert [step["event"].action for step in response.context["cards"][0]["timeline"]] == ["file", "dispatch"]


def test_a_resident_cannot_open_another_residents_demand(as_, dw):
    demand = dw.file()
    client = as_(dw.other_resident)
    assert client.get(reverse("demands:detail", args=[demand.number])).status_code == 404
    assert act(client, demand, "rate", {"solved": "yes", "satisfaction": "satisfied"}).status_code == 404
    assert client.get(reverse("demands:receipt", args=[demand.number, demand.events.get().event_id])).status_code == 404


def test_only_the_reporter_sees_the_rating_form_and_rates(as_, dw, client):
    demand = dw.closed()
    # The desk may reopen a closed demand but not answer the 回访 for the resident.
    desk = as_(dw.dispatcher).get(reverse("demands:detail", args=[demand.number]))
    assert "rate" not in [a["name"] for a in desk.context["card"]["actions"]]
    assert "act-rate" not in desk.content.decode()
    client.logout()

    client = as_(dw.resident)
    page = client.get(reverse("demands:mine"))
    assert [a["name"] for a in page.context["cards"][0]["actions"]] == ["rate"]
    assert 'name="satisfaction"' in page.content.decode()

    response = act(client, demand, "rate", {"solved": "yes", "satisfaction": "basically_satisfied", "view": "card",
                                            "timeline": "1"}, headers=HTMX)
    assert response.status_code == 200
    demand.refresh_from_db()
    assert (demand.state, demand.solved, demand.satisfaction) == ("rated", True, "basically_satisfied")
    text = response.content.decode()
    assert 'data-state="rated"' in text and "act-rate" not in text


def test_a_rating_without_an_answer_is_refused_and_changes_nothing(as_, dw):
    demand = dw.closed()
    response = act(as_(dw.resident), demand, "rate", {"solved": "yes", "view": "card"}, headers=HTMX)
    assert response.status_code == 400
    assert 'name="satisfaction"' in response.content.decode()  # the form comes back with its error
    demand.refresh_from_db()
    assert demand.state == "closed"


# --- the unit's queue -------------------------------------------------------------------------------------

def test_the_handlers_queue_shows_deadlines_and_highlights_the_overdue(as_, dw):
    late = dw.dispatched(at=THURSDAY_9AM - dt.timedelta(days=20))
    fresh = dw.dispatched()
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=1)):
        response = as_(dw.handler).get(reverse("demands:queue"))
    assert response.status_code == 200
    cards = {c["demand"].number: c for c in response.context["cards"]}
    assert set(cards) == {late.number, fresh.number}
    assert [a["name"] for a in cards[fresh.number]["actions"]] == ["accept", "return"]
    assert any(d["is_overdue"] for d in cards[late.number]["deadlines"])
    assert not any(d["is_overdue"] for d in cards[fresh.number]["deadlines"])
    text = response.content.decode()
    assert re.search(rf'class="demand-card overdue" id="demand-{late.number}"', text)
    assert re.search(rf'class="demand-card" id="demand-{fresh.number}"', text)


def test_a_handler_accepts_starts_and_replies_through_htmx(as_, dw):
    demand = dw.dispatched()
    client = as_(dw.handler)
    response = act(client, demand, "accept", {"view": "card"}, headers=HTMX)
    assert response.status_code == 200 and 'data-state="accepted"' in response.content.decode()
    assert response.context["card"]["notice"]
    assert act(client, demand, "start_work", {"view": "card"}, headers=HTMX).status_code == 200

    refused = act(client, demand, "reply", {"view": "card", "text": "   "}, headers=HTMX)
    assert refused.status_code == 400
    demand.refresh_from_db()
    assert demand.state == "in_progress"

    done = act(client, demand, "reply", {"view": "card", "text": "已清运完毕"}, headers=HTMX)
    assert done.status_code == 200
    demand.refresh_from_db()
    assert (demand.state, demand.reply) == ("replied", "已清运完毕")


def test_a_return_needs_a_reason_and_then_leaves_the_handlers_sight(as_, dw):
    demand = dw.dispatched()
    client = as_(dw.handler)
    refused = act(client, demand, "return", {"view": "card", "reason": ""}, headers=HTMX)
    assert refused.status_code == 400
    demand.refresh_from_db()
    assert demand.state == "dispatched"

    response = act(client, demand, "return", {"view": "card", "reason": "不属于城管职责"}, headers=HTMX)
    assert response.status_code == 200
    demand.refresh_from_db()
    assert demand.state == "returned"
    assert response.context["card"]["actions"] == []  # no longer theirs
    assert client.get(reverse("demands:detail", args=[demand.number])).status_code == 404


def test_an_illegal_step_is_a_409_with_the_reason_and_nothing_changes(as_, dw):
    demand = dw.dispatched()
    response = act(as_(dw.handler), demand, "reply", {"view": "card", "text": "答复"}, headers=HTMX)
    assert response.status_code == 409
    assert response.context["card"]["error"]
    demand.refresh_from_db()
    assert demand.state == "dispatched"


def test_a_plain_form_post_is_redirected_back_with_a_message(as_, dw):
    demand = dw.dispatched()
    queue_url = reverse("demands:queue")
    response = act(as_(dw.handler), demand, "accept", {"next": queue_url})
    assert response.status_code == 302 and response.url == queue_url
    demand.refresh_from_db()
    assert demand.state == "accepted"


def test_an_unknown_action_is_404(as_, dw):
    demand = dw.dispatched()
    assert act(as_(dw.handler), demand, "teleport").status_code == 404


# --- the dispatch desk ---------------------------------------------------------------------------------------

def test_the_dispatcher_triages_and_dispatches_with_an_assisting_unit(as_, dw):
    demand = dw.file()
    client = as_(dw.dispatcher)
    page = client.get(reverse("demands:triage"))
    assert page.status_code == 200
    card = page.context["cards"][0]
    assert card["demand"] == demand
    assert {"triage", "dispatch", "reject", "merge"} <= {a["name"] for a in card["actions"]}
    dispatch_form = next(a["form"] for a in card["actions"] if a["name"] == "dispatch")
    units = list(dispatch_form.fields["unit"].queryset)
    assert dw.city_management in units and dw.property_company in units and dw.world.party_a not in units

    triaged = act(client, demand, "triage", {"view": "card", "category": "environment.garbage"}, headers=HTMX)
    assert triaged.status_code == 200
    response = act(client, demand, "dispatch", {"view": "card", "unit": dw.city_management.pk,
                                                "assisting": [dw.property_company.pk]}, headers=HTMX)
    assert response.status_code == 200
    demand.refresh_from_db()
    assert (demand.state, demand.lead_unit, demand.category.code) == ("dispatched", dw.city_management,
                                                                      "environment.garbage")
    roles = dict(Assignment.objects.filter(demand=demand, ended_at__isnull=True).values_list("unit", "role"))
    assert roles == {dw.city_management.pk: "lead", dw.property_company.pk: "assisting"}
    assert client.get(reverse("demands:triage")).context["cards"] == []


def test_a_dispatch_without_a_category_is_refused(as_, dw):
    demand = dw.file()
    response = act(as_(dw.dispatcher), demand, "dispatch", {"view": "card", "unit": dw.city_management.pk},
                   headers=HTMX)
    assert response.status_code == 400
    demand.refresh_from_db()
    assert demand.state == "received"


@pytest.mark.parametrize("who", ["resident", "handler"])
def test_the_dispatch_desk_is_403_for_residents_and_departments(as_, dw, who):
    response = as_(getattr(dw, who)).get(reverse("demands:triage"))
    assert response.status_code == 403


# --- a demand's page --------------------------------------------------------------------------------------

def test_the_handler_sees_the_contact_and_the_read_is_logged(as_, dw):
    demand = dw.dispatched()
    response = as_(dw.handler).get(reverse("demands:detail", args=[demand.number]))
    assert response.status_code == 200
    assert PHONE in response.content.decode() and "张三" in response.content.decode()
    access = DemandContactAccess.objects.get()
    assert (access.user, access.demand, access.channel) == (dw.handler, demand, "web")


@pytest.mark.parametrize("who", ["dispatcher", "grid_worker", "resident"])
def test_the_contact_is_hidden_from_everyone_but_the_handlers(as_, dw, who):
    demand = dw.dispatched()
    response = as_(getattr(dw, who)).get(reverse("demands:detail", args=[demand.number]))
    assert response.status_code == 200
    assert PHONE not in response.content.decode()
    assert response.context["contact"] is None
    assert not DemandContactAccess.objects.exists()


def test_the_detail_offers_exactly_what_can_allows(as_, dw):
    demand = dw.dispatched()
    for user, expected in ((dw.handler, ["accept", "return"]), (dw.dispatcher, ["merge"]), (dw.resident, [])):
        response = as_(user).get(reverse("demands:detail", args=[demand.number]))
        assert [a["name"] for a in response.context["card"]["actions"]] == expected
        assert [a["name"] for a in response.context["card"]["actions"]] == queries.actions_for(user, demand)


def test_the_detail_shows_the_timeline_deadlines_and_receipts(as_, dw):
    demand = dw.dispatched()
    ledger.sequence_pending()
    response = as_(dw.resident).get(reverse("demands:detail", args=[demand.number]))
    card = response.context["card"]
    assert [s["event"].action for s in card["timeline"]] == ["file", "dispatch"]
    assert all(s["receipt"] is not None for s in card["timeline"])
    assert [d["name"] for d in card["deadlines"]] == ["accept_due", "feedback_due"]


def test_an_action_on_the_detail_page_returns_the_refreshed_body(as_, dw):
    demand = dw.dispatched()
    response = act(as_(dw.handler), demand, "accept", {"view": "detail"}, headers=HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith('<div id="demand-detail" data-state="accepted"')
    assert "act-start_work" in text and "act-reply" in text


def test_a_receipt_downloads_as_the_ledger_json(as_, dw):
    demand = dw.file()
    event = demand.events.get()
    ledger.sequence_pending()
    response = as_(dw.resident).get(reverse("demands:receipt", args=[demand.number, event.event_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body == services.receipt(event.event, catch_up=False)
    assert {"index", "entry", "leaf_hash", "tree_size", "inclusion_proof", "checkpoint"} <= set(body)


# --- the dashboard ----------------------------------------------------------------------------------------

@pytest.fixture
def november(dw):
    """Demands of November 2026 across the street: one rated solved and satisfied, one rated not solved (and so
    reopened), one dispatched in the other community."""
    first = dw.closed(at=THURSDAY_9AM)
    second = dw.closed(at=THURSDAY_9AM + dt.timedelta(minutes=5))
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=8)):
        services.rate(dw.resident, first, solved=True, satisfaction="satisfied")
        services.rate(dw.resident, second, solved=False, satisfaction="not_satisfied")
    dw.dispatched(at=THURSDAY_9AM + dt.timedelta(hours=9), where=IN_B1)
    return dw


@pytest.mark.parametrize("level", ["street", "community", "unit", "category"])
def test_dashboard_numbers_equal_queries_rates_and_the_csv(as_, november, level):
    client = as_(november.world.street_official)
    query = {"level": level, "month": "2026-11"}
    page = client.get(reverse("demands:dashboard"), query)
    assert page.status_code == 200
    expected = queries.rates(level, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    shown = [placed.row for placed in page.context["rows"]]  # in ranking order (ranking.rank)
    assert expected and sorted(shown, key=lambda r: r.id) == sorted(expected, key=lambda r: r.id)
    text = page.content.decode()
    for row in expected:
        cells = re.search(rf'<tr data-id="{row.id}"[^>]*>(.*?)</tr>', text, re.S).group(1)
        assert f'data-col="cases">{row.cases}<' in cells
        if row.dispatched:
            assert f"({row.accepted_in_time}/{row.dispatched})" in cells
        if row.rated:
            assert f"({row.solved}/{row.rated})" in cells

    response = client.get(reverse("demands:rates_csv"), query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(expected)
    for got, want in zip(rows, shown, strict=True):
        for name, value in want.as_dict().items():
            assert got[name] == ("" if value is None else str(value)), name


def test_dashboard_the_csv_and_the_api_agree(as_, november):
    official = november.world.street_official
    params = {"level": "community", "start": "2026-11-01", "end": "2026-11-30"}
    page = as_(official).get(reverse("demands:dashboard"), params)
    _, raw = ApiToken.issue(official)
    api = as_(official).get("/api/v1/demands/rates", params, headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    assert sorted(api.json(), key=lambda r: r["id"]) == sorted((p.row.as_dict() for p in page.context["rows"]),
                                                               key=lambda r: r["id"])
    by_name = {p.row.name: p.row for p in page.context["rows"]}
    # The "not solved" one was reopened at once: dispatched again, its "not solved" still counted.
    east = by_name["东园社区"]
    assert (east.dispatched, east.accepted_in_time, east.rated, east.solved) == (2, 1, 2, 1)
    assert (by_name["西园社区"].dispatched, by_name["西园社区"].rated) == (1, 0)


def test_dashboard_defaults_to_the_last_complete_month_and_lists_the_overdue(as_, dw):
    late = dw.dispatched(at=THURSDAY_9AM - dt.timedelta(days=20))
    response = as_(dw.world.street_official).get(reverse("demands:dashboard"))
    assert response.status_code == 200
    last_day = clock.today().replace(day=1) - dt.timedelta(days=1)
    assert (response.context["start"], response.context["end"]) == (last_day.replace(day=1), last_day)
    assert [c["demand"] for c in response.context["overdue"]] == [late]
    assert late.number in response.content.decode()


def test_the_dashboard_and_its_csv_are_403_for_a_resident(as_, dw):
    client = as_(dw.resident)
    assert client.get(reverse("demands:dashboard")).status_code == 403
    assert client.get(reverse("demands:rates_csv")).status_code == 403


def test_residents_see_no_staff_links(as_, dw):
    text = as_(dw.resident).get(reverse("demands:mine")).content.decode()
    assert reverse("demands:new") in text
    assert reverse("demands:triage") not in text and reverse("demands:dashboard") not in text


def test_merging_into_an_unknown_number_is_a_400_on_the_card(as_, dw):
    demand = dw.file()
    response = act(as_(dw.dispatcher), demand, "merge", {"view": "card", "original": "2099010100001"}, headers=HTMX)
    assert response.status_code == 400 and response.context["card"]["error"]
    demand.refresh_from_db()
    assert demand.state == "received"
