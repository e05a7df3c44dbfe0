"""Duties use cases against the database: a large expenditure walked through the power list, routing that
follows the responsibility list, goals and tasks whose status moves with progress and time, scorecards that
match hand computation, and matching turned into projects."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import translation

from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Disclosure
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.org.tests import factories as f

from gongzhi.duties import indicators, services
from gongzhi.duties.models import Decision, Goal, Match, PowerItem, Project, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


def _stage(village, kind, topic, stage, *, present=None, amount=None, yes=True):
    """One meeting stage of the topic's procedure, decided by a yes/no vote of those present."""
    meeting, starts = village.open_meeting(kind, topic=topic, present=present)
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = deliberation.open_motion(village.officer, meeting, text=topic.title, topic=topic, stage_code=stage,
                                          amount=amount)
        for entry in meeting.roll.select_related("person"):
            if entry.is_present:
                deliberation.cast_ballot(entry.person.user, motion, "yes" if yes else "no")
        deliberation.close_motion(village.officer, motion)
        deliberation.close_meeting(village.officer, meeting, minutes="会议记录")
        motion.refresh_from_db()
        meeting.refresh_from_db()
        deliberation.record_stage(village.officer, topic, stage, meeting=meeting, motion=motion)
    return motion


def test_a_large_expenditure_is_refused_until_four_deliberations_two_disclosures_ran_then_it_is_disclosed(village):
    services.adopt_power_list(village.officer, village.village)
    item = PowerItem.objects.get(region=village.village, code="procurement")
    spend = {"title": "采购冷库制冷设备", "amount": "300000.00"}

    # 1. No resolution at all. The reason reads in the user's language.
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, **spend)
    assert err.value.code == "no_resolution"
    assert "四议两公开" in err.value.message("zh-hans") and "needs" in err.value.message("en")

    # 2. A resolution, but of the wrong body and outside the procedure: the two committees alone.
    meeting, starts = village.open_meeting("two_committees_joint_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = deliberation.open_motion(village.officer, meeting, text="同意采购", amount="300000")
        for entry in meeting.roll.select_related("person"):
            deliberation.cast_ballot(entry.person.user, motion, "yes")
        motion = deliberation.close_motion(village.officer, motion)
    assert motion.is_passed
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, motion=motion, **spend)
    assert err.value.code in {"wrong_procedure", "wrong_body"}

    # 3. The procedure, but the villagers' representatives' meeting lacks its quorum: its resolution cannot
    #    be put, so the procedure stops short of a resolution and the decision is refused.
    topic = deliberation.propose_topic(village.officer, region=village.village, title="采购冷库制冷设备",
                                       description="30万元", origin="organisation")
    topic = deliberation.start_procedure(village.officer, topic, "four_deliberations_two_disclosures")
    codes = [s.code for s in deliberation.topic_procedure(topic).stages]
    _stage(village, "party_branch_committee", topic, codes[0])
    _stage(village, "two_committees_joint_meeting", topic, codes[1])
    _stage(village, "party_members_meeting", topic, codes[2])
    representatives = [m.person for m in deliberation.members_of(village.body("villagers_representatives_meeting"))]
    meeting, starts = village.open_meeting("villagers_representatives_meeting", topic=topic,
                                           present=representatives[:3])  # 3 of 5: under two thirds
    with clock.frozen_at(starts + dt.timedelta(minutes=20)), pytest.raises(ValidationFailed) as no_quorum:
        deliberation.open_motion(village.officer, meeting, text="采购", topic=topic, stage_code=codes[3],
                                 amount="300000")
    assert no_quorum.value.code == "no_quorum"
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, topic=topic, **spend)
    assert err.value.code == "no_resolution"

    # 4. A quorate, passed resolution for 300,000 yuan, published and through its notice period.
    _stage(village, "villagers_representatives_meeting", topic, codes[3], amount="300000")
    notice = deliberation.publish(village.officer, region=village.village, kind="resolution", title="决议公开",
                                  body="采购冷库制冷设备30万元", notice_days=7, topic=topic)
    with pytest.raises(ValidationFailed) as err:  # resolution not yet published through its notice
        services.record_decision(village.officer, item, topic=topic, **spend)
    assert err.value.code == "procedure_incomplete"
    with clock.frozen_at(clock.now() + dt.timedelta(days=30)):
        deliberation.complete_disclosure(notice)
        deliberation.record_stage(village.officer, topic, codes[4], disclosure=notice)
        with pytest.raises(ValidationFailed) as err:  # more than the resolution approved
            services.record_decision(village.officer, item, topic=topic, title="采购", amount="300000.01")
        assert err.value.code == "amount_exceeds_approval"
        decision = services.record_decision(village.officer, item, topic=topic, **spend)

    assert decision.is_major and decision.amount == Decimal("300000.00")
    assert decision.disclosure is not None and decision.disclosure.kind == "finances"
    assert decision.disclosure.topic == topic and "300,000" in decision.disclosure.body.replace("300000", "300,000")
    assert Decision.objects.count() == 1
    refusals = [e.data["code"] for e in Event.objects.filter(kind="duties.decision_refused").order_by("id")]
    assert refusals[0] == "no_resolution" and refusals[1] in {"wrong_procedure", "wrong_body"}
    assert refusals[2:] == ["no_resolution", "procedure_incomplete", "amount_exceeds_approval"]


def test_an_override_is_refused_and_logged_even_for_a_superuser(village):
    services.adopt_power_list(village.officer, village.village)
    item = PowerItem.objects.get(region=village.village, code="procurement")
    admin = f.user("root", is_superuser=True)
    with pytest.raises(PermissionDenied) as err:
        services.record_decision(admin, item, title="强行采购", amount="80000", override=True)
    assert err.value.code == "override_refused"
    assert Event.objects.filter(kind="duties.override_refused", actor=admin).exists()
    assert not Decision.objects.exists() and not Disclosure.objects.exists()


def test_a_routine_expenditure_below_the_threshold_needs_signatures_not_a_procedure(village):
    services.adopt_power_list(village.officer, village.village)
    item = PowerItem.objects.get(region=village.village, code="procurement")
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, title="购买办公用品", amount="800")
    assert err.value.code == "missing_signature"
    decision = services.record_decision(village.officer, item, title="购买办公用品", amount="800",
                                        signatories=["handler", "party_secretary", "committee_director"])
    assert decision.is_major is False


def test_a_resident_cannot_record_decisions_or_edit_the_list(village):
    services.adopt_power_list(village.officer, village.village)
    item = PowerItem.objects.get(region=village.village, code="procurement")
    with pytest.raises(PermissionDenied):
        services.record_decision(village.adults[8].user, item, title="x", amount="10")
    with pytest.raises(PermissionDenied):
        services.edit_power_item(village.adults[8].user, item, item.definition)


def test_adopting_the_list_twice_adds_nothing_and_edits_keep_their_code(village):
    first = services.adopt_power_list(village.officer, village.village)
    assert len(first) == 36 and services.adopt_power_list(village.officer, village.village) == []
    item = PowerItem.objects.get(region=village.village, code="procurement")
    changed = dict(item.definition, major_threshold="20000")
    services.edit_power_item(village.officer, item, changed)
    item.refresh_from_db()
    assert item.definition["major_threshold"] in ("20000", "20000.00", 20000)
    with pytest.raises(ValidationFailed):
        services.edit_power_item(village.officer, item, dict(item.definition, code="other"))


# --- responsibility list → routing ----------------------------------------------------------------------------

def test_routing_follows_an_edit_of_the_responsibility_list(dw):
    from gongzhi.demands import services as demands
    from gongzhi.demands.models import Category, RoutingRule

    w = dw.world
    category = Category.objects.get(code="environment.garbage")
    officer = w.street_official
    before = demands.route(category, w.grid_a1).unit
    entry = services.set_responsibility(officer, unit=dw.property_company, region=w.community_a,
                                        matters=["environment.garbage"], duty="小区内垃圾清运", priority=5)
    assert demands._route(category, w.grid_a1).unit == dw.property_company != before
    services.set_responsibility(officer, unit=dw.city_management, region=w.community_a,
                                matters=["environment.garbage"], duty="垃圾清运", priority=5, entry=entry)
    assert demands._route(category, w.grid_a1).unit == dw.city_management
    assert RoutingRule.objects.filter(responsibility=entry).count() == 1
    services.retire_responsibility(officer, entry)
    assert demands._route(category, w.grid_a1).unit == before
    assert not RoutingRule.objects.filter(responsibility__isnull=False).exists()


def test_a_responsibility_naming_an_unknown_category_or_clashing_changes_nothing(dw):
    from gongzhi.demands.models import RoutingRule
    from gongzhi.duties.models import Responsibility

    w = dw.world
    with pytest.raises(ValidationFailed) as err:
        services.set_responsibility(w.street_official, unit=dw.property_company, region=w.community_a,
                                    matters=["no.such.category"], duty="x")
    assert err.value.code == "unknown_category"
    services.set_responsibility(w.street_official, unit=dw.property_company, region=w.community_a,
                                matters=["environment.garbage"], duty="x", priority=1)
    with pytest.raises(ValidationFailed) as err:
        services.set_responsibility(w.street_official, unit=dw.city_management, region=w.community_a,
                                    matters=["environment.garbage"], duty="y", priority=1)
    assert err.value.code == "responsibility_conflict"
    assert "以同一优先级（1）认领了同一类诉求" in err.value.message("zh-hans")
    assert "all claim “environment.garbage”" in err.value.message("en")
    assert Responsibility.objects.count() == 1 and RoutingRule.objects.filter(responsibility__isnull=False).count() == 1


# --- goals and tasks ------------------------------------------------------------------------------------------

def test_an_invalid_goal_is_refused_in_the_active_language(village):
    def create(language):
        with translation.override(language), pytest.raises(ValidationFailed) as err:
            services.create_goal(village.officer, region=village.village, title="垃圾分类覆盖率", indicator="覆盖率",
                                 start_value="四十", target_value=90, direction="higher",
                                 start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 12, 31),
                                 owner=village.committee)
        assert err.value.code == "invalid_goal"
        return err.value.message()

    chinese = create("zh-hans")
    assert "起始值应为数字" in chinese
    assert not re.search(r"[A-Za-z]{2,}", chinese), chinese
    assert "the start value must be a number, got '四十'" in create("en")


def test_goal_status_moves_with_progress_and_time(village):
    goal = services.create_goal(village.officer, region=village.village, title="垃圾分类覆盖率", indicator="覆盖率",
                                unit_of_measure="%", start_value=40, target_value=90, direction="higher",
                                start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 12, 31), owner=village.committee)
    assert goal.status == "on_track"
    with clock.frozen_at(dt.datetime(2026, 7, 1, 2, tzinfo=dt.timezone.utc)):
        # Expected by July: about 40 + 50 × 122/305 = 60; 45 is far behind.
        services.report_progress(village.officer, goal=goal, value=45, note="入户宣传")
        goal.refresh_from_db()
        assert goal.status == "at_risk"
        services.report_progress(village.officer, goal=goal, value=62, note="新增投放点")
        goal.refresh_from_db()
        assert goal.status == "on_track"
    with clock.frozen_at(dt.datetime(2027, 1, 2, 2, tzinfo=dt.timezone.utc)):
        assert services.refresh_statuses() >= 1
        goal.refresh_from_db()
        assert goal.status == "overdue"
    changes = Event.objects.filter(kind="duties.status_changed", subject_id=str(goal.pk))
    assert [e.data["after"] for e in changes] == ["at_risk", "on_track", "overdue"]


def test_a_live_indicator_feeds_the_goal(village):
    values = {"now": 97.0}
    indicators.register(indicators.Indicator("test.live_rate", "测试", "test",
                                             for_region=lambda region, start, end: values["now"]))
    goal = services.create_goal(village.officer, region=village.village, title="满意率", indicator="满意率",
                                unit_of_measure="%", start_value=80, target_value=95, direction="higher",
                                start_date=dt.date(2026, 1, 1), deadline=dt.date(2026, 12, 31),
                                owner=village.committee, live_indicator="test.live_rate")
    assert goal.status == "achieved"
    values["now"] = 70.0
    assert services.goal_status(goal).status == "at_risk"


def test_the_demands_rates_are_registered_as_live_indicators():
    assert {"demands.response_rate", "demands.resolution_rate", "demands.satisfaction_rate"} <= {
        i.code for i in indicators.all_indicators()}


def test_a_task_becomes_overdue_after_its_deadline_and_its_unit_reports_it_done(village):
    goal = services.create_goal(village.officer, region=village.village, title="修路", indicator="公里",
                                start_value=0, target_value=3, direction="higher", start_date=dt.date(2026, 3, 1),
                                deadline=dt.date(2026, 9, 30), owner=village.committee)
    task = services.add_task(village.officer, goal=goal, title="硬化村东道路", unit=village.committee,
                             deadline=dt.date(2026, 3, 20), quality_standard="路面厚度20厘米，验收合格")
    with clock.frozen_at(dt.datetime(2026, 3, 25, 2, tzinfo=dt.timezone.utc)):
        services.refresh_statuses()
        task.refresh_from_db()
        assert task.status == "overdue"
        with pytest.raises(PermissionDenied):
            services.complete_task(village.adults[8].user, task, quality_met=None, note="完成")
        services.complete_task(village.officer, task, quality_met=True, note="已验收")
    task.refresh_from_db()
    assert task.completed_at is not None and task.status != "overdue"


# --- scorecards -------------------------------------------------------------------------------------------

def test_scorecards_match_hand_computation(village):
    card = services.define_scorecard(village.officer, village.village, {
        "code": "committee", "name_zh": "村委考评", "name_en": "committee", "subject": "unit",
        "indicators": [
            {"code": "done", "name_zh": "任务完成率", "name_en": "tasks done", "weight": "2", "normalisation": "linear",
             "worst": "0", "best": "100", "live_indicator": "duties.task_completion"},
            {"code": "residents", "name_zh": "群众评价", "name_en": "residents", "weight": "1",
             "normalisation": "linear", "worst": "20", "best": "100", "live_indicator": "duties.resident_evaluation"},
        ]})
    goal = services.create_goal(village.officer, region=village.village, title="g", indicator="i", start_value=0,
                                target_value=1, direction="higher", start_date=dt.date(2026, 3, 1),
                                deadline=dt.date(2026, 6, 30), owner=village.committee)
    tasks = [services.add_task(village.officer, goal=goal, title=f"t{i}", unit=village.committee,
                               deadline=dt.date(2026, 3, 20 + i), quality_standard="q") for i in range(4)]
    for task in tasks[:2]:
        services.complete_task(village.officer, task, quality_met=True, note="done")
    services.evaluate_unit(village.adults[8].user, village.committee, score=4)
    services.evaluate_unit(village.adults[9].user, village.committee, score=5)
    [result] = services.compute_scores(village.officer, card, [village.committee], dt.date(2026, 3, 1),
                                       dt.date(2026, 3, 31))
    # Tasks: 2 of 4 done = 50 → 0.5 × weight 2; residents: mean 4.5 × 20 = 90 → (90 − 20) / 80 = 0.875 × 1.
    assert result.score == pytest.approx(100 * (2 * 0.5 + 1 * 0.875) / 3)
    assert {row["code"]: row["value"] for row in result.breakdown} == {"done": 50.0, "residents": 90.0}


def test_a_resident_evaluates_a_unit_once_a_month(village):
    services.evaluate_unit(village.adults[8].user, village.committee, score=3)
    with pytest.raises(Exception) as err:
        services.evaluate_unit(village.adults[8].user, village.committee, score=5)
    assert getattr(err.value, "code", "") == "already_evaluated"
    with pytest.raises(ValidationFailed):
        services.evaluate_unit(village.adults[9].user, village.committee, score=6)


def test_accountability_is_recorded_and_logged_without_its_facts_in_clear(village):
    record = services.record_accountability(village.officer, unit=village.committee, facts="未按期完成道路硬化",
                                            outcome="约谈村委会主任")
    event = Event.objects.get(kind="duties.hold_accountable")
    assert record.pk and "facts" not in event.data and event.private["facts"] == "未按期完成道路硬化"


# --- matching -------------------------------------------------------------------------------------------

def test_proposed_matches_serve_the_most_urgent_need_and_become_a_project(village):
    unit = village.committee
    urgent = services.publish_need(village.officer, region=village.village, title="独居老人助餐", skills=["cooking"],
                                   quantity=10, urgency=5, longitude=116.105, latitude=39.905)
    mild = services.publish_need(village.officer, region=village.village, title="村晚排练", skills=["cooking"],
                                 quantity=10, urgency=1, longitude=116.105, latitude=39.905)
    services.publish_resource(village.officer, owner=unit, region=village.village, title="志愿厨师", offers=["cooking"],
                              capacity=10, longitude=116.106, latitude=39.906)
    rows, result = services.propose_matches(village.officer, village.village)
    assert [(m.need_id, m.quantity) for m in rows] == [(urgent.pk, 10)]
    assert [u.need for u in result.unserved] == [mild.pk]
    match = services.accept_match(village.officer, rows[0], deadline=dt.date(2026, 4, 1),
                                  quality_standard="每日两餐，按时送达")
    assert match.state == Match.State.ACCEPTED and Project.objects.get().tasks.count() == 1
    # Capacity now taken: a new proposal has nothing left to give.
    rows, _ = services.propose_matches(village.officer, village.village)
    assert rows == []
    services.record_project_outcome(village.officer, match.project, "已服务30人次")
    urgent.refresh_from_db()
    assert urgent.is_open is False and Task.objects.filter(project=match.project).exists()
    assert Goal.objects.count() == 0


def test_goals_and_tasks_stay_inside_their_region(village, world):
    with pytest.raises(ValidationFailed) as err:
        services.create_goal(village.officer, region=village.village, title="g", indicator="i", start_value=0,
                             target_value=1, direction="higher", start_date=dt.date(2026, 3, 1),
                             deadline=dt.date(2026, 6, 30), owner=world.committee_b)
    assert err.value.code == "wrong_region" and not Goal.objects.exists()


def test_grid_workers_are_allocated_by_the_demands_each_grid_receives(dw):
    w = dw.world
    second = f.official(w.committee_a, "grid_worker", "gw_a2", grid=w.grid_a2)
    for _ in range(3):
        dw.file()  # three demands in A1
    with clock.frozen_at(dt.datetime(2026, 11, 30, 2, tzinfo=dt.timezone.utc)):
        result = services.propose_grid_allocation(w.street_official, w.community_a)
    assigned = sorted(g for grids in result.grids.values() for g in grids)
    assert assigned == sorted([w.grid_a1.pk, w.grid_a2.pk])
    assert all(result.is_contiguous.values()) and result.max_load == 3
    people = {p.person_id for p in second.person.posts.all()} | {dw.grid_worker.person.pk}
    assert set(result.grids) == people
    assert Event.objects.filter(kind="duties.propose_grid_allocation").exists()
    with pytest.raises(PermissionDenied):
        services.propose_grid_allocation(dw.grid_worker, w.community_a)
