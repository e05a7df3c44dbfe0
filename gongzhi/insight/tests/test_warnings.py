"""Warnings are actions (issue #17, item 7): a dispatcher of the warning's grid (or a street or district
leader over it) opens a proactive demand (未诉先办), a dispatcher assigns the warning to a unit (its proactive
demand dispatched there at once), either dismisses it with a reason; each is one logged step, once per warning. The demands behind a warning are listed exactly; every
id in a request is checked: a warning outside the caller's scope answers 404, as does a unit they may not
send a demand to, and nothing is created. The home page counts "warnings for me"."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock, workbench
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands.models import Category, Demand
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import IN_A2, IN_B1, THURSDAY_9AM
from gongzhi.insight import queries, rules, services
from gongzhi.insight.models import Warning
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official, region, square

pytestmark = pytest.mark.django_db
NOW = THURSDAY_9AM + dt.timedelta(days=1)


@pytest.fixture
def ws(dw):
    """Two garbage demands in grid A1 behind an open warning there (high level), a third demand in A2 that is
    not behind it, a warning in community B, and a unit of another street the desk may not send to."""
    w = dw.world
    garbage = Category.objects.get(code="environment.garbage")
    behind = [dw.file(category="environment.garbage", at=THURSDAY_9AM - dt.timedelta(days=d)) for d in (3, 2)]
    other = dw.file(where=IN_A2, text="楼道灯坏了")
    warning = Warning.objects.create(
        kind=Warning.Kind.HOT_SPOT, key="hot:test:a1", raised_at=NOW, grid=w.grid_a1, community=w.community_a,
        category=garbage, unit=dw.city_management, level=Warning.Level.HIGH,
        message_zh="东园一网格垃圾问题集中，建议主动处置", message_en="Waste trouble gathers in A1",
        evidence={"observed": 2, "ratio": 4.0, "demands": [d.number for d in behind]})
    in_b = Warning.objects.create(
        kind=Warning.Kind.RISING, key="rising:test:b1", raised_at=NOW, grid=w.grid_b1, community=w.community_b,
        category=garbage, message_zh="西园一网格垃圾诉求连续三周上升", message_en="Waste rising in B1",
        evidence={"weekly": [1, 2, 3], "demands": []})
    far_street = region("street", w.district, name="远方街道")
    far_office = Organisation.objects.create(name="远方街道办事处", kind="street_office", region=far_street)
    region("grid", region("community", far_street, name="远方社区"), name="远方一网格", polygon=square(116.5, 39.9))
    return {"warning": warning, "in_b": in_b, "behind": behind, "other": other, "far_office": far_office}


def post(client, name, warning, **data):
    with clock.frozen_at(NOW):
        return client.post(reverse(f"insight:{name}", args=[warning.pk]), data)


# --- the rule of levels -------------------------------------------------------------------------------

def test_a_warning_is_high_when_its_figures_are_far_out():
    assert rules.warning_level("hot_spot", {"ratio": 3.2}) == "high"
    assert rules.warning_level("hot_spot", {"ratio": 1.8, "rising_for": 1}) == "medium"
    assert rules.warning_level("rising", {"weekly": [1, 2, 3, 4, 5]}) == "high"
    assert rules.warning_level("rising", {"weekly": [1, 2, 3]}) == "medium"
    assert rules.warning_level("repeated_reopen", {"reopened": 3}) == "high"
    assert rules.warning_level("repeated_reopen", {"reopened": 2}) == "medium"


# --- services -------------------------------------------------------------------------------------------

def test_assigning_opens_a_proactive_demand_dispatched_to_the_chosen_unit_and_logs_it(dw, ws):
    with clock.frozen_at(NOW):
        demand = services.assign_warning(dw.dispatcher, ws["warning"], dw.property_company.pk, note="请物业先清理")
    demand.refresh_from_db()
    assert (demand.channel, demand.state, demand.lead_unit) == ("proactive", "dispatched", dw.property_company)
    warning = Warning.objects.get(pk=ws["warning"].pk)
    assert (warning.state, warning.demand, warning.assigned_unit) == ("assigned", demand, dw.property_company)
    assert (warning.handled_by, warning.handled_at) == (dw.dispatcher, NOW)
    event = Event.objects.get(kind="insight.assign_warning")
    assert event.actor == dw.dispatcher and event.data == {"demand": demand.number, "unit": dw.property_company.pk}
    assert event.private == {"note": "请物业先清理"}


def test_a_unit_out_of_reach_answers_as_unknown_and_nothing_is_created(dw, ws):
    before = Demand.objects.count()
    for unit in (ws["far_office"].pk, 987654, 2**70):
        with clock.frozen_at(NOW), pytest.raises(NotFound):
            services.assign_warning(dw.dispatcher, ws["warning"], unit)
    with pytest.raises(ValidationFailed):
        services.assign_warning(dw.dispatcher, ws["warning"], "")
    assert Demand.objects.count() == before
    assert Warning.objects.get(pk=ws["warning"].pk).state == "open"
    assert not Event.objects.filter(kind="insight.assign_warning").exists()


def test_dismissing_needs_a_reason_and_keeps_it(dw, ws):
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            services.dismiss_warning(dw.dispatcher, ws["warning"], reason=blank)
        assert refused.value.code == "reason_required"
    with clock.frozen_at(NOW):
        services.dismiss_warning(dw.dispatcher, ws["warning"], reason="施工临时堆放，已协调清运")
    warning = Warning.objects.get(pk=ws["warning"].pk)
    assert (warning.state, warning.dismissal_reason, warning.handled_by) == ("dismissed", "施工临时堆放，已协调清运",
                                                                          dw.dispatcher)
    event = Event.objects.get(kind="insight.dismiss_warning")
    assert event.private == {"reason": "施工临时堆放，已协调清运"} and event.actor == dw.dispatcher


def test_a_handled_warning_is_not_handled_again(dw, ws):
    with clock.frozen_at(NOW):
        services.open_proactive_demand(dw.dispatcher, ws["warning"])
        for again in (lambda w: services.dismiss_warning(dw.dispatcher, w, reason="重复"),
                      lambda w: services.assign_warning(dw.dispatcher, w, dw.city_management.pk),
                      lambda w: services.open_proactive_demand(dw.dispatcher, w)):
            with pytest.raises(ValidationFailed) as refused:
                again(ws["warning"])
            assert refused.value.code == "warning_not_open"
    assert Demand.objects.filter(channel="proactive").count() == 1
    assert Warning.objects.get(pk=ws["warning"].pk).handled_by == dw.dispatcher


def street_party_secretary(dw):
    committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee",
                                            region=dw.world.street)
    return official(committee, "secretary", "street_secretary")


def test_the_street_party_secretary_opens_a_proactive_demand_or_dismisses_but_assigns_through_the_desk(dw, ws):
    secretary = street_party_secretary(dw)
    with clock.frozen_at(NOW), pytest.raises(PermissionDenied):
        services.assign_warning(secretary, ws["warning"], dw.city_management.pk)
    assert not Demand.objects.filter(channel="proactive").exists()
    with clock.frozen_at(NOW):
        demand = services.open_proactive_demand(secretary, ws["warning"])
        services.dismiss_warning(secretary, ws["in_b"], reason="上周已集中整治")
    assert demand.channel == "proactive" and Warning.objects.get(pk=ws["warning"].pk).handled_by == secretary
    assert Warning.objects.get(pk=ws["in_b"].pk).state == "dismissed"


def test_only_the_desks_and_leaders_over_the_grid_act_on_its_warning(dw, ws):
    for user in (dw.grid_worker, dw.world.secretary_a, dw.world.secretary_b, dw.handler):
        with pytest.raises(PermissionDenied):
            services.dismiss_warning(user, ws["warning"], reason="不需要")
    assert Warning.objects.get(pk=ws["warning"].pk).state == "open"


def test_the_demands_behind_a_warning_are_exactly_those_its_rule_counted(dw, ws):
    listed = list(queries.warning_demands(dw.dispatcher, ws["warning"]))
    assert listed == ws["behind"]
    # Without numbers in its evidence (raised before they were kept): what its rule counts.
    ws["warning"].evidence = {"since": "2026-11-16"}
    ws["warning"].raised_at = NOW + dt.timedelta(days=7)  # raised on the Monday after the week it counts
    assert list(queries.warning_demands(dw.dispatcher, ws["warning"])) == ws["behind"]
    counted = queries.demands_counted(dw.world.grid_a1, Category.objects.get(code="environment"),
                                      dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert list(counted) == ws["behind"] and ws["other"] not in counted
    assert list(queries.warning_demands(dw.other_resident, ws["warning"])) == []  # only those the user may see


# --- pages ----------------------------------------------------------------------------------------------

def test_the_warning_page_lists_its_demands_with_the_card_of_the_demands_list(client, dw, ws):
    client.force_login(dw.dispatcher)
    with clock.frozen_at(NOW):
        response = client.get(reverse("insight:warning_demands", args=[ws["warning"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for demand in ws["behind"]:
        assert f'id="demand-{demand.number}"' in page
    assert ws["other"].number not in page
    assert "13900001111" not in page  # the card as an overseer sees it: no phone
    assert reverse("insight:dismiss_warning", args=[ws["warning"].pk]) in page


def test_the_cockpit_offers_every_action_and_the_link_to_the_demands(client, dw, ws):
    client.force_login(dw.dispatcher)
    with clock.frozen_at(NOW):
        response = client.get(reverse("insight:cockpit"))
    page = response.content.decode()
    for name in ("act_on_warning", "assign_warning", "dismiss_warning", "warning_demands"):
        assert reverse(f"insight:{name}", args=[ws["warning"].pk]) in page
    row = next(r for r in response.context["warnings"] if r["warning"] == ws["warning"])
    assert dw.property_company in row["units"] and ws["far_office"] not in row["units"]
    assert row["demands_count"] == 2 and row["is_high"]
    assert response.context["warnings"][0]["warning"] == ws["warning"]  # high level first


def test_dismissing_on_the_page_needs_a_reason_and_goes_back(client, dw, ws):
    client.force_login(dw.dispatcher)
    back = reverse("insight:warnings") + "?region=%d" % dw.world.street.pk
    refused = post(client, "dismiss_warning", ws["warning"], reason=" ", next=back)
    assert refused.status_code == 302 and refused.url == back + "&error=reason_required"
    assert Warning.objects.get(pk=ws["warning"].pk).state == "open"
    done = post(client, "dismiss_warning", ws["warning"], reason="已纳入本月整治计划", next=back)
    assert done.status_code == 302 and done.url == back
    assert Warning.objects.get(pk=ws["warning"].pk).state == "dismissed"
    handled = client.get(reverse("insight:warnings") + "?state=handled").content.decode()
    assert "已纳入本月整治计划" in handled
    outside = post(client, "dismiss_warning", ws["warning"], reason="x", next="https://evil.example/")
    assert outside.url.startswith(reverse("insight:cockpit"))  # a foreign `next` is never followed


def test_assigning_on_the_page_goes_to_the_dispatched_demand(client, dw, ws):
    client.force_login(dw.dispatcher)
    response = post(client, "assign_warning", ws["warning"], unit=dw.property_company.pk)
    demand = Demand.objects.get(channel="proactive")
    assert response.status_code == 302 and response.url == reverse("demands:detail", args=[demand.number])
    assert demand.lead_unit == dw.property_company


def test_ids_in_requests_are_checked_against_the_scope(client, dw, ws):
    desk_a = official(dw.world.committee_a, "director", "dir_a")  # community A's desk: B's warning is not its
    client.force_login(desk_a)
    for name, data in (("act_on_warning", {}), ("assign_warning", {"unit": dw.city_management.pk}),
                       ("dismiss_warning", {"reason": "不需要"})):
        assert post(client, name, ws["in_b"], **data).status_code == 404
    with clock.frozen_at(NOW):
        assert client.get(reverse("insight:warning_demands", args=[ws["in_b"].pk])).status_code == 404
        assert client.get(reverse("insight:warning_demands", args=[987654])).status_code == 404
    # Its own community's warning, to a unit of another street: as if the unit did not exist.
    assert post(client, "assign_warning", ws["warning"], unit=ws["far_office"].pk).status_code == 404
    assert not Demand.objects.filter(channel="proactive").exists()
    assert set(Warning.objects.values_list("state", flat=True)) == {"open"}


def test_a_grid_worker_sees_the_warning_of_her_grid_but_is_sent_back_when_acting(client, dw, ws):
    client.force_login(dw.grid_worker)
    with clock.frozen_at(NOW):
        listed = client.get(reverse("insight:warnings"))
    assert [row["warning"] for row in listed.context["rows"]] == [ws["warning"]]
    assert reverse("insight:dismiss_warning", args=[ws["warning"].pk]) not in listed.content.decode()
    refused = post(client, "dismiss_warning", ws["warning"], reason="不需要")
    assert refused.status_code == 302 and "error=forbidden" in refused.url
    assert Warning.objects.get(pk=ws["warning"].pk).state == "open"


# --- the home page --------------------------------------------------------------------------------------

def test_warnings_for_me_counts_exactly_the_list_it_links_to(client, dw, ws):
    items = {i.key: i for i in workbench.items_for(dw.dispatcher)}
    mine = items["insight.warnings"]
    assert (mine.count, mine.urgent) == (2, True) and mine.url == reverse("insight:warnings")
    client.force_login(dw.dispatcher)
    listed = client.get(mine.url)
    assert listed.context["page_obj"].paginator.count == 2
    secretary_b = {i.key: i for i in workbench.items_for(dw.world.secretary_b)}["insight.warnings"]
    assert (secretary_b.count, secretary_b.urgent) == (1, False)  # community B's medium warning only
    assert "insight.warnings" not in {i.key for i in workbench.items_for(dw.resident)}
    Warning.objects.filter(pk=ws["warning"].pk).update(state="dismissed")
    assert {i.key: i for i in workbench.items_for(dw.dispatcher)}["insight.warnings"].count == 1


def test_a_rising_warning_keeps_the_numbers_of_the_demands_it_counted(dw, ws, monkeypatch):
    monkeypatch.setattr(services, "_neighbours_cache", None)
    monday = dt.datetime(2026, 11, 9, 10, 0, tzinfo=THURSDAY_9AM.tzinfo)
    planted = [dw.file(category="environment.garbage", where=IN_B1, at=monday + dt.timedelta(weeks=week, hours=i))
               for week, count in enumerate((1, 2, 3, 4)) for i in range(count)]
    with clock.frozen_at(dt.datetime(2026, 12, 7, 9, 0, tzinfo=THURSDAY_9AM.tzinfo)):
        report = services.analyse_hot_spots(dw.world.district, weeks=8, today=dt.date(2026, 12, 7))
    in_b1 = [w for w in report.warnings if w.grid == dw.world.grid_b1]
    assert len(in_b1) == 1
    assert set(in_b1[0].evidence["demands"]) <= {d.number for d in planted}
    assert len(in_b1[0].evidence["demands"]) >= 9  # the rising weeks' demands (2 + 3 + 4), at least


def test_the_cockpits_cached_figures_follow_every_change(client, dw, ws):
    client.force_login(dw.dispatcher)
    with clock.frozen_at(NOW):
        before = client.get(reverse("insight:cockpit")).context["totals"]["demands"]
        assert client.get(reverse("insight:cockpit")).context["totals"]["demands"] == before  # from the cache
        dw.file(where=IN_A2, text="路灯不亮")  # a new demand: its event is newer than the cached figures
        assert client.get(reverse("insight:cockpit")).context["totals"]["demands"] == before + 1


def test_a_hot_spot_on_the_cockpit_carries_the_actions_of_its_warning(client, dw, ws):
    from gongzhi.insight.models import HotSpot, HotSpotRun

    w = dw.world
    garbage = Category.objects.get(code="environment.garbage")
    run = HotSpotRun.objects.create(at=NOW, region=w.district, periods=8, last_period_start=dt.date(2026, 11, 16),
                                    cells=3, categories=1, demands=2)
    spot = HotSpot.objects.create(run=run, grid=w.grid_a1, category=garbage, period_start=dt.date(2026, 11, 16),
                                  since=dt.date(2026, 11, 16), observed=2, expected=0.5, ratio=4.0, z=3.0, q=0.01,
                                  explanation_zh="东园一网格垃圾诉求集中", explanation_en="Waste gathers in A1")
    ws["warning"].key = f"hot:{w.grid_a1.pk}:{garbage.pk}:2026-11-16"
    ws["warning"].save()
    client.force_login(dw.dispatcher)
    with clock.frozen_at(NOW):
        response = client.get(reverse("insight:cockpit"))
    row = next(r for r in response.context["hot_spots"] if r["spot"] == spot)
    assert row["warning"]["warning"] == ws["warning"] and row["warning"]["can_act"]
    section = response.content.decode().split('id="hot-spots"')[1].split('id="warnings"')[0]
    assert reverse("insight:act_on_warning", args=[ws["warning"].pk]) in section
    assert reverse("insight:warning_demands", args=[ws["warning"].pk]) in section
    assert reverse("insight:open_topic_from_hot_spot", args=[spot.pk]) in section
