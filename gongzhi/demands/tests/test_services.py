"""The use cases of 接诉即办: intake and placement, routing, time limits, the workflow with its events and
ledger entries, permissions, the reporter's contact and the three rates."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection

from gongzhi.core import clock
from gongzhi.core.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands import queries, rules, services
from gongzhi.demands.models import (
    Assignment, Category, Demand, DemandContactAccess, DemandCounter, DemandEvent, RoutingRule, TimeLimitRule,
)
from gongzhi.ledger import merkle, note
from gongzhi.ledger import services as ledger
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

from .factories import IN_A1, IN_A2, IN_B1, NOWHERE, SHANGHAI, THURSDAY_9AM, category

pytestmark = pytest.mark.django_db


def at(hours: float) -> dt.datetime:
    return THURSDAY_9AM + dt.timedelta(hours=hours)


def actions(demand):
    return list(DemandEvent.objects.filter(demand=demand).order_by("id").values_list("action", "from_state", "to_state"))


# --- intake --------------------------------------------------------------------------------------------

def test_default_taxonomy_and_time_limits_are_seeded(db):
    services.seed_defaults()
    assert Category.objects.filter(parent__isnull=True).count() >= 10
    assert category("utilities.water").default_urgency == "utilities"
    assert category("safety.fire").default_urgency == "emergency"
    assert category("utilities.water").parent.code == "utilities"
    assert set(TimeLimitRule.objects.values_list("urgency", flat=True)) == set(rules.URGENCIES)
    assert services.seed_defaults() == services.seed_defaults()  # idempotent


def test_moving_a_category_keeps_its_subtree_paths_true(db):
    services.seed_defaults()
    housing, water = category("housing"), category("utilities.water")
    water.parent = housing
    water.save()
    moved = Category.objects.create(code="utilities.water.pipes", name="管道", parent=water)
    utilities = category("utilities")
    utilities.parent = housing
    utilities.save()
    assert category("utilities.power").path == f"{housing.path}{utilities.pk}/{category('utilities.power').pk}/"
    assert Category.objects.get(pk=moved.pk).ancestor_ids() == [housing.pk, water.pk, moved.pk]


def test_filing_places_the_demand_in_its_grid_community_and_street(dw):
    demand = dw.file(where=IN_B1)
    w = dw.world
    assert (demand.grid, demand.community, demand.street) == (w.grid_b1, w.community_b, w.street)
    assert demand.state == "received" and demand.desk == w.street_office
    assert demand.number == "2026112600001"
    assert demand.reporter == w.resident_a and demand.contact.phone == "13900001111"


def test_numbers_count_per_local_day(dw):
    first = dw.file()
    second = dw.file()
    # 23:30 UTC on the 26th is already the 27th in Beijing.
    next_day = dw.file(at=dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC))
    assert [first.number, second.number, next_day.number] == ["2026112600001", "2026112600002", "2026112700001"]


def test_a_point_outside_every_grid_is_refused_and_nothing_is_stored(dw):
    events_before = Event.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        dw.file(where=NOWHERE)
    assert refused.value.code == "outside_grids"
    assert Demand.objects.count() == 0 and DemandCounter.objects.count() == 0
    assert Event.objects.count() == events_before


def test_filing_needs_a_signed_in_user_text_and_a_location(dw):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        services.file_demand(AnonymousUser(), text="路灯不亮", longitude=IN_A1[0], latitude=IN_A1[1])
    with pytest.raises(ValidationFailed) as empty:
        services.file_demand(dw.resident, text="   ", longitude=IN_A1[0], latitude=IN_A1[1])
    assert empty.value.code == "text_required"
    with pytest.raises(ValidationFailed) as nowhere:
        services.file_demand(dw.resident, text="路灯不亮")
    assert nowhere.value.code == "location_required"
    assert Demand.objects.count() == 0


def test_only_grid_workers_report_patrol_findings_in_their_grid(dw):
    with pytest.raises(PermissionDenied):
        dw.file(channel="patrol")
    with clock.frozen_at(THURSDAY_9AM):
        step = services.file_demand(dw.grid_worker, text="巡查发现井盖缺失", channel="patrol",
                                    longitude=IN_A1[0], latitude=IN_A1[1], category="traffic.roads")
    assert step.demand.channel == "patrol" and step.demand.urgency == "emergency"


def test_urgency_comes_from_cue_words_and_category_and_can_be_set_by_hand(dw):
    assert dw.file(text="楼道里冒烟了").urgency == "emergency"
    assert dw.file(text="家里停水一天了").urgency == "utilities"
    assert dw.file(text="想咨询养老驿站的开放时间").urgency == "ordinary"
    assert dw.file(text="想咨询供暖费", category="utilities.heating").urgency == "utilities"
    # A resident's urgency is a suggestion for the desk; the desk's own is set at once.
    suggested = dw.file(text="家里停水一天了", urgency="complex")
    assert (suggested.urgency, suggested.suggested_urgency, suggested.urgency_overridden) == (
        "utilities", "complex", False)
    chosen = services.file_demand(dw.dispatcher, text="家里停水一天了", longitude=IN_A1[0], latitude=IN_A1[1],
                                  urgency="complex").demand
    assert chosen.urgency == "complex" and chosen.urgency_overridden


def test_deadlines_follow_the_time_limits_of_the_urgency(dw):
    emergency = dw.file(text="变电箱冒烟")
    assert emergency.dispatch_due == at(1) and emergency.feedback_due == at(2)
    ordinary = dw.file(text="小区绿地需要修剪")
    assert ordinary.dispatch_due == at(2)
    # Seven working days from Thursday 26 November: Monday 7 December, same time.
    assert ordinary.feedback_due == dt.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


def test_a_category_time_limit_rule_overrides_the_default(dw):
    TimeLimitRule.objects.create(category=category("environment"), urgency="ordinary", dispatch_hours=4,
                                 feedback_hours=48, working_days=False)
    demand = dw.file(category="environment.garbage")
    assert demand.dispatch_due == at(4) and demand.feedback_due == at(48)


# --- routing ---------------------------------------------------------------------------------------------

def test_routing_most_specific_rule_wins(dw):
    w = dw.world
    units = {name: Organisation.objects.create(name=name, kind="department", region=w.district)
             for name in ("any-district", "env-street", "env-community", "garbage-community", "garbage-community-9",
                          "grid-a1", "inactive")}
    rule = RoutingRule.objects.create
    rule(region=w.district, category=None, unit=units["any-district"])
    rule(region=w.street, category=category("environment"), unit=units["env-street"])
    rule(region=w.community_a, category=category("environment"), unit=units["env-community"])
    rule(region=w.community_a, category=category("environment.garbage"), unit=units["garbage-community"])
    rule(region=w.community_a, category=category("environment.garbage"), unit=units["garbage-community-9"], priority=9)
    rule(region=w.grid_a1, category=None, unit=units["grid-a1"])
    rule(region=w.grid_a2, category=None, unit=units["inactive"], is_active=False)

    def routed(code, grid):
        return services.route(category(code), grid).unit.name

    assert routed("environment.garbage", w.grid_a1) == "grid-a1"               # deepest region first
    assert routed("environment.garbage", w.grid_a2) == "garbage-community-9"   # then category, then priority
    assert routed("environment.noise", w.grid_a2) == "env-community"           # a parent category matches
    assert routed("environment.noise", w.grid_b1) == "env-street"
    assert routed("traffic.parking", w.grid_b1) == "any-district"


def test_no_matching_rule_leaves_the_demand_at_the_streets_dispatch_desk(dw):
    found = services.route(category("traffic.parking"), dw.world.grid_a1)
    assert found.rule is None and found.unit == dw.world.street_office
    demand = dw.file(category="traffic.parking")
    assert demand.state == "received" and demand.lead_unit is None


def test_filing_with_a_category_that_a_rule_matches_dispatches_at_once(dw):
    RoutingRule.objects.create(region=dw.world.street, category=category("environment"), unit=dw.city_management)
    with clock.frozen_at(THURSDAY_9AM):
        step = services.file_demand(dw.resident, text="垃圾满溢", longitude=IN_A2[0], latitude=IN_A2[1],
                                    category="environment.garbage")
    assert [e.action for e in step.events] == ["file", "dispatch"]
    demand = step.demand
    assert demand.state == "dispatched" and demand.lead_unit == dw.city_management
    assert step.events[1].actor is None  # dispatched by the routing rule, not a person
    assert demand.accept_due == at(2)


# --- the workflow ---------------------------------------------------------------------------------------

def test_happy_path_through_every_state_writes_one_event_per_step(dw):
    demand = dw.file()
    with clock.frozen_at(at(0.5)):
        demand = services.triage(dw.dispatcher, demand, category="environment.garbage").demand
        assert demand.state == "received" and demand.category.code == "environment.garbage"
        demand = services.dispatch(dw.dispatcher, demand, unit=dw.city_management,
                                   assisting=[dw.property_company]).demand
    assert demand.dispatched_at == at(0.5) and demand.accept_due == at(2.5)
    assert set(Assignment.objects.filter(demand=demand).values_list("unit__name", "role")) == {
        ("区城管委", "lead"), ("东园物业", "assisting")}
    with clock.frozen_at(at(1)):
        demand = services.accept(dw.handler, demand).demand
    with clock.frozen_at(at(2)):
        demand = services.start_work(dw.handler, demand).demand
    with clock.frozen_at(at(5)):
        demand = services.reply(dw.handler, demand, text="已清运完毕").demand
    with clock.frozen_at(at(6)):
        demand = services.verify(dw.grid_worker, demand, note="现场已干净").demand
    with clock.frozen_at(at(7)):
        demand = services.close(dw.dispatcher, demand).demand
    with clock.frozen_at(at(8)):
        demand = services.rate(dw.resident, demand, solved=True, satisfaction="satisfied").demand

    assert actions(demand) == [
        ("file", "", "received"), ("triage", "received", "received"), ("dispatch", "received", "dispatched"),
        ("accept", "dispatched", "accepted"), ("start_work", "accepted", "in_progress"),
        ("reply", "in_progress", "replied"), ("verify", "replied", "verified"), ("close", "verified", "closed"),
        ("rate", "closed", "rated"),
    ]
    demand.refresh_from_db()
    assert demand.state == "rated" and demand.solved is True and demand.satisfaction == "satisfied"
    assert (demand.accepted_at, demand.replied_at, demand.verified_at, demand.closed_at, demand.rated_at) == (
        at(1), at(5), at(6), at(7), at(8))
    assert demand.reply == "已清运完毕" and not demand.is_overdue(at(9))
    kinds = list(Event.objects.filter(subject_type="demands.demand", subject_id=str(demand.pk))
                 .order_by("id").values_list("kind", flat=True))
    assert kinds == [f"demands.{a}" for a, _, _ in actions(demand)]
    reply_event = DemandEvent.objects.get(demand=demand, action="reply").event
    assert reply_event.private["reply"] == "已清运完毕" and "reply" not in reply_event.data
    assert reply_event.data["from"] == "in_progress" and reply_event.data["on_time"] is True


def test_return_needs_a_reason_goes_back_to_the_desk_and_is_dispatched_again(dw):
    demand = dw.dispatched()
    with pytest.raises(ValidationFailed) as no_reason:
        services.return_to_dispatch(dw.handler, demand, reason=" ")
    assert no_reason.value.code == "reason_required"
    with clock.frozen_at(at(1)):
        demand = services.return_to_dispatch(dw.handler, demand, reason="属物业管理范围，非城管职责").demand
    assert demand.state == "returned" and demand.lead_unit is None and demand.dispatch_due == at(3)
    assert not Assignment.objects.filter(demand=demand, ended_at__isnull=True).exists()
    assert queries.queue(dw.dispatcher).filter(pk=demand.pk).exists()
    with clock.frozen_at(at(1.5)):
        demand = services.dispatch(dw.dispatcher, demand, unit=dw.property_company).demand
    assert demand.state == "dispatched" and demand.lead_unit == dw.property_company
    with pytest.raises(PermissionDenied):
        services.accept(dw.handler, demand)  # the first unit no longer holds it
    demand = services.accept(dw.property_staff, demand).demand
    assert [a for a, _, _ in actions(demand)] == ["file", "dispatch", "return", "dispatch", "accept"]
    assert DemandEvent.objects.get(demand=demand, action="return").note == "属物业管理范围，非城管职责"


def test_not_solved_rating_reopens_to_the_same_unit_then_it_is_solved(dw):
    demand = dw.closed()
    with clock.frozen_at(at(24)):
        step = services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied")
    demand = step.demand
    assert [e.action for e in step.events] == ["rate", "reopen"]
    assert demand.state == "dispatched" and demand.lead_unit == dw.city_management and demand.reopen_count == 1
    # The "not solved" answer stands (and counts in the rates) until the resident answers again.
    assert demand.solved is False and demand.accepted_at is None and demand.accept_due == at(26)
    rated = DemandEvent.objects.get(demand=demand, action="rate").event
    assert rated.data["solved"] is False and rated.data["satisfaction"] == "not_satisfied"
    with clock.frozen_at(at(25)):
        demand = services.accept(dw.handler, demand).demand
        demand = services.reply(dw.handler, demand, text="已再次清理并增加清运频次").demand
        demand = services.verify(dw.grid_worker, demand).demand
        demand = services.close(dw.dispatcher, demand).demand
        demand = services.rate(dw.resident, demand, solved=True, satisfaction="basically_satisfied").demand
    assert demand.state == "rated" and demand.solved and demand.reopen_count == 1
    assert [a for a, _, _ in actions(demand)][-7:] == ["rate", "reopen", "accept", "reply", "verify", "close", "rate"]


def test_an_illegal_transition_is_refused_with_409_and_changes_nothing(dw):
    demand = dw.file()
    before = (Event.objects.count(), DemandEvent.objects.count())
    with pytest.raises(rules.IllegalTransition) as refused:
        services.accept(dw.handler, demand)
    assert refused.value.status == 409 and refused.value.code == "illegal_transition"
    assert "accept from received" in refused.value.message("en")
    demand.refresh_from_db()
    assert demand.state == "received" and (Event.objects.count(), DemandEvent.objects.count()) == before


def test_only_the_reporter_rates_their_demand_not_even_an_administrator(dw, django_user_model):
    demand = dw.closed()
    admin = django_user_model.objects.create_superuser("root", password="pw-test-123")
    for someone in (dw.other_resident, dw.dispatcher, dw.handler, admin):
        with pytest.raises(PermissionDenied):
            services.rate(someone, demand, solved=True, satisfaction="satisfied")
    demand.refresh_from_db()
    assert demand.state == "closed" and demand.rated_at is None


def test_handlers_act_only_on_demands_of_their_unit_and_dispatchers_only_in_their_area(dw):
    demand = dw.dispatched()
    with pytest.raises(PermissionDenied):
        services.accept(dw.property_staff, demand)
    other_street_dispatcher = official(dw.world.committee_b, "staff")  # community B's desk, demand is in A
    with pytest.raises(PermissionDenied):
        services.reopen(other_street_dispatcher, dw.closed(), reason="复核")


def test_merge_and_reject(dw):
    original, duplicate, nonsense = dw.file(), dw.file(), dw.file(text="测试测试")
    with pytest.raises(ValidationFailed) as no_reason:
        services.reject(dw.dispatcher, nonsense, reason="")
    assert no_reason.value.code == "reason_required"
    assert services.reject(dw.dispatcher, nonsense, reason="非诉求内容").demand.state == "rejected"
    merged = services.merge_into(dw.dispatcher, duplicate, original).demand
    assert merged.state == "merged" and merged.merged_into == original
    with pytest.raises(rules.IllegalTransition):
        services.dispatch(dw.dispatcher, merged, unit=dw.city_management, category="environment.garbage")
    with pytest.raises(ValidationFailed):
        services.merge_into(dw.dispatcher, original, merged)


def test_overdue_helpers_agree_with_the_overdue_query(dw):
    late = dw.file(text="变电箱冒烟")          # emergency: dispatch due at 10:00
    fine = dw.file(text="小区绿地需要修剪")    # ordinary: dispatch due at 11:00
    now = at(1.5)
    assert late.is_overdue(now) and late.is_dispatch_overdue(now) and not fine.is_overdue(now)
    assert list(Demand.objects.filter(Demand.overdue_q(now))) == [late]


# --- ledger -------------------------------------------------------------------------------------------

def test_every_step_is_in_the_ledger_with_a_receipt_that_verifies(dw):
    demand = dw.closed()
    services.rate(dw.resident, demand, solved=True, satisfaction="satisfied")
    ledger.sequence_pending()
    steps = DemandEvent.objects.filter(demand=demand).select_related("event").order_by("id")
    assert len(steps) == 7
    for step in steps:
        receipt = services.receipt(step.event)
        entry = json.loads(receipt["entry"])
        assert entry["subject"] == f"demands.demand:{demand.pk}" and entry["kind"] == f"demands.{step.action}"
        text, _ = note.open_note(receipt["checkpoint"], [note.Verifier.from_vkey(ledger.verifier_key())])
        checkpoint = note.parse_checkpoint(text)
        proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
        leaf = merkle.leaf_hash(receipt["entry"].encode())
        assert merkle.verify_inclusion(leaf, receipt["index"], checkpoint.size, proof, checkpoint.root)
    filed = json.loads(services.receipt(steps[0].event)["entry"])
    assert "13900001111" not in json.dumps(filed) and "垃圾" not in json.dumps(filed)
    assert {"text", "contact_phone", "contact_name"} <= set(filed["commitments"])


def test_step_receipts_wait_while_inside_a_larger_transaction(dw):
    step = services.accept(dw.handler, dw.dispatched())
    assert step.receipts() == [None]  # the test's transaction is still open: not sequenced yet


# --- contact data --------------------------------------------------------------------------------------

def test_contact_is_shown_to_handling_units_only_and_each_read_is_logged(dw):
    demand = dw.dispatched()
    view = services.read_contact(dw.handler, demand, purpose="联系居民核实", channel="api")
    assert view.values == {"name": "张三", "phone": "13900001111"} and view.revealed == ["name", "phone"]
    log = DemandContactAccess.objects.get()
    assert (log.user, log.demand, log.fields, log.purpose) == (dw.handler, demand, ["name", "phone"], "联系居民核实")
    for outsider in (dw.dispatcher, dw.grid_worker, dw.other_resident):
        masked = services.read_contact(outsider, demand, purpose="查看", channel="api")
        assert masked.values == {"name": "张*", "phone": "139****1111"} and masked.revealed == []
        assert services.contact_for_handler(outsider, demand, purpose="查看", channel="api") is None
    assert DemandContactAccess.objects.count() == 1


# --- scoped reads --------------------------------------------------------------------------------------

def test_visibility_follows_reporter_units_and_area(dw):
    in_a = dw.dispatched()
    in_b = dw.file(where=IN_B1)
    w = dw.world
    assert set(queries.visible(dw.resident)) == {in_a, in_b}
    assert set(queries.visible(dw.other_resident)) == set()
    assert set(queries.visible(dw.handler)) == {in_a}          # a department sees what it is assigned
    assert set(queries.visible(dw.dispatcher)) == {in_a, in_b}  # the street desk sees the street
    assert set(queries.visible(w.secretary_a)) == {in_a}        # community A's party secretary
    assert set(queries.visible(w.secretary_b)) == {in_b}
    assert set(queries.visible(dw.grid_worker)) == {in_a}
    assert set(queries.queue(dw.handler)) == {in_a} and set(queries.queue(dw.dispatcher)) == {in_b}


# --- rates -----------------------------------------------------------------------------------------------

def _crafted(dw):
    """Six demands in November 2026: the city-management department gets four (three accepted in time,
    one late; rated: solved+satisfied, solved+basically, not solved+not satisfied), the property company
    two (one accepted in time and rated solved+satisfied, one never accepted)."""
    base = THURSDAY_9AM - dt.timedelta(days=10)

    def one(unit, *, accepted_after=None, solved=None, satisfaction="", grid_point=IN_A1, code="environment.garbage"):
        demand = dw.file(at=base, where=grid_point, category=code)
        fields = {"state": "dispatched", "lead_unit": unit, "dispatched_at": base,
                  "accept_due": base + dt.timedelta(hours=2)}
        if accepted_after is not None:
            fields.update(state="accepted", accepted_at=base + dt.timedelta(hours=accepted_after))
        if solved is not None:
            fields.update(state="rated", solved=solved, satisfaction=satisfaction, rated_at=base + dt.timedelta(days=3))
        Demand.objects.filter(pk=demand.pk).update(**fields)

    cm, pc = dw.city_management, dw.property_company
    one(cm, accepted_after=1, solved=True, satisfaction="satisfied")
    one(cm, accepted_after=1.5, solved=True, satisfaction="basically_satisfied", grid_point=IN_B1)
    one(cm, accepted_after=2, solved=False, satisfaction="not_satisfied", code="traffic.parking")
    one(cm, accepted_after=5)
    one(pc, accepted_after=0.5, solved=True, satisfaction="satisfied")
    one(pc)


def test_the_three_rates_per_unit_on_a_crafted_set(dw, django_assert_num_queries):
    _crafted(dw)
    with django_assert_num_queries(1):
        rows = {r.name: r for r in queries.rates("unit", dt.date(2026, 11, 1), dt.date(2026, 11, 30))}
    cm, pc = rows["区城管委"], rows["东园物业"]
    assert (cm.dispatched, cm.accepted_in_time, cm.rated, cm.solved) == (4, 3, 3, 2)
    assert cm.response_rate == 0.75 and cm.resolution_rate == pytest.approx(2 / 3)
    assert cm.satisfaction_rate == pytest.approx(2 / 3)
    assert cm.score == pytest.approx(100 * (0.1 * 0.75 + 0.3 * 2 / 3 + 0.6 * 2 / 3))
    assert (pc.dispatched, pc.accepted_in_time, pc.rated) == (2, 1, 1)
    assert (pc.response_rate, pc.resolution_rate, pc.satisfaction_rate) == (0.5, 1.0, 1.0)
    assert list(rows) == ["东园物业", "区城管委"]  # best score first


def test_rates_per_street_community_and_category_and_configured_weights(dw, settings):
    _crafted(dw)
    november = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    [street] = queries.rates("street", *november)
    assert (street.name, street.dispatched, street.rated, street.solved) == ("和平街道", 6, 4, 3)
    communities = {r.name: (r.dispatched, r.rated) for r in queries.rates("community", *november)}
    assert communities == {"东园社区": (5, 3), "西园社区": (1, 1)}
    categories = {r.code: r.rated for r in queries.rates("category", *november)}
    assert categories == {"environment.garbage": 3, "traffic.parking": 1}
    settings.GONGZHI_DEMANDS_SATISFACTION_WEIGHTS = {"basically_satisfied": 0.5}
    [street] = queries.rates("street", *november)
    assert street.satisfaction_rate == pytest.approx((2 + 0.5) / 4)
    assert queries.rates("street", dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == []
    with pytest.raises(ValidationFailed):
        queries.rates("planet", *november)


# --- concurrency ----------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_get_distinct_consecutive_numbers(world, ledger_keys):
    from .factories import DemandWorld

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Runs with a file database (GONGZHI_TEST_DB_NAME) and on PostgreSQL.
        pytest.skip("threads need a server database: shared-cache in-memory SQLite fails rather than waits")
    dw = DemandWorld(world)
    errors = []

    def file_some():
        try:
            for _ in range(3):
                dw.file()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_some) for _ in range(4)]
    with clock.frozen_at(THURSDAY_9AM):  # clock is process-wide: freeze it before the threads nest in it
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    numbers = sorted(Demand.objects.values_list("number", flat=True))
    assert numbers == [f"20261126{i:05d}" for i in range(1, 13)]
