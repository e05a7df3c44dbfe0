"""The duties pages: a place's overview, its power list (adopting the preset, recording a decision: refused
with the verdict's reason or recorded and disclosed), the responsibility list that routing follows, the goal
tree and a goal's page (progress, tasks, reports done, reviews), scorecards and residents' ratings, and the
matching board (needs, resources, proposals with the reasons a need stays short, projects). Public pages
show no person's name or phone; a refused act shows its reason with a 4xx status and changes nothing."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Disclosure
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.org.models import Organisation
from gongzhi.org.tests import factories as f

from gongzhi.duties import services
from gongzhi.duties.models import (Decision, Goal, Match, Need, PowerItem, ProgressReport, Project, Resource,
                                   Responsibility, ResidentEvaluation, ReviewMeeting, Scorecard, ScoreResult, Task)

pytestmark = pytest.mark.django_db


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


@pytest.fixture
def as_(client):
    """The test client signed in as `user` (None: anonymous), in English unless told otherwise, so the
    assertions read the msgids and the domain errors' English messages."""

    def sign_in(user=None, language="en"):
        client.logout()
        if user is not None:
            client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return sign_in


def page(response) -> str:
    return response.content.decode()


def assert_no_names(body: str, village):
    for person in village.adults:
        assert person.name not in body
    assert "13812345678" not in body  # the phone every factory person has


def url(name: str, region, *args) -> str:
    return f"{reverse(f'duties:{name}', args=args)}?region={region.pk}"


def volunteers(village) -> tuple[Organisation, object]:
    """A volunteer team in the village and one of its members (a unit's person, not an officer)."""
    team = Organisation.objects.create(name="桃源志愿服务队", kind="social_organisation", region=village.village)
    f.post(village.adults[7], team, "member")
    return team, village.adults[7].user


def procurement(village) -> PowerItem:
    services.adopt_power_list(village.officer, village.village)
    return PowerItem.objects.get(region=village.village, code="procurement")


def a_goal(village, **kw) -> Goal:
    data = dict(region=village.village, title="垃圾分类覆盖率", indicator="覆盖率", unit_of_measure="%", start_value=40,
                target_value=90, direction="higher", start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 12, 31),
                owner=village.committee)
    return services.create_goal(village.officer, **{**data, **kw})


# --- the overview ---------------------------------------------------------------------------------------

def test_the_overview_opens_on_the_residents_own_village_and_links_every_list(as_, village):
    body = page(as_(village.adults[8].user).get(reverse("duties:index")))
    assert "桃源村" in body
    for name in ("powers", "responsibilities", "goals", "scorecards", "matching"):
        assert url(name, village.village) in body
    anonymous = as_().get(url("index", village.village))
    assert anonymous.status_code == 200 and "Power list" in page(anonymous)
    assert as_().get(reverse("duties:index") + "?region=99999").status_code == 404
    assert as_().get(url("index", village.grid)).status_code == 404  # a grid has no lists of its own


# --- the power list -----------------------------------------------------------------------------------------

def test_the_power_list_is_public_grouped_with_its_thresholds_and_names_no_one(as_, village):
    item = procurement(village)
    services.record_decision(village.officer, item, title="购买办公用品", amount="800",
                             signatories=["handler", "party_secretary", "committee_director"])
    response = as_(language="zh-hans").get(url("powers", village.village))
    assert response.status_code == 200
    body = page(response)
    assert "招投标与采购管理" in body and "村级物资和服务采购" in body
    assert "5 万元（含）以上属“三重一大”事项" in body and "须经四议两公开程序" in body
    assert "5,000 元以下" in body and "须经经办人、党组织书记、村（居）委会主任签字" in body
    assert "采购事项和金额" in body and "《中华人民共和国村民委员会组织法》" in body
    assert "购买办公用品" in body and "800 元" in body and "可以实施" in body
    decision = Decision.objects.get()
    assert f"#disclosure-{decision.disclosure_id}" in body
    assert 'name="signatories"' not in body  # no form for the public
    assert_no_names(body, village)


def test_the_officers_forms_under_each_item_read_exactly_as_rendered_one_by_one(as_, village):
    """The page renders the two blank forms once and stamps them with each item (speed): each item's forms
    are the same HTML as Django renders for that item alone, its definition escaped in the textarea."""
    import re

    from django.template.loader import render_to_string
    from django.utils import translation

    from gongzhi.duties import views

    procurement(village)
    body = page(as_(village.officer).get(url("powers", village.village)))
    token = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')
    body = token.sub(r'\1"', body)
    items = list(PowerItem.objects.filter(region=village.village))
    assert len(items) == 36 and any('"' in json.dumps(i.definition, ensure_ascii=False) for i in items)
    with translation.override("en"):
        units = views._plan_units(village.officer, village.village)  # the officer may plan: the project's fields too
        for item in items:
            decision = views._decision_form(village.village, item.pk, units=units)
            for template, form in (("duties/_decision_form.html", decision),
                                   ("duties/_edit_item_form.html", views._edit_form(item))):
                alone = render_to_string(template, {"form": form, "item_id": item.pk, "csrf_token": "x",
                                                    "milestones": views.forms.milestone_rows(form)})
                assert token.sub(r'\1"', alone) in body, (template, item.code)
    assert str(views.STAND_IN) not in body and views.STAND_IN_DEFINITION not in body


def test_an_officer_adopts_the_preset_list_which_a_resident_cannot(as_, village):
    assert "Adopt the preset power list" not in page(as_(village.adults[8].user).get(url("powers", village.village)))
    refused = as_(village.adults[8].user).post(url("adopt_power_list", village.village))
    assert refused.status_code == 403 and not PowerItem.objects.exists()
    officer = as_(village.officer)
    assert "Adopt the preset power list" in page(officer.get(url("powers", village.village)))
    response = officer.post(url("adopt_power_list", village.village))
    assert response.status_code == 302 and PowerItem.objects.filter(region=village.village).count() == 36
    assert "36 items" in page(officer.get(response["Location"]))


def test_an_officer_records_a_routine_decision_with_signatures_and_it_is_disclosed(as_, village):
    item = procurement(village)
    officer = as_(village.officer)
    assert 'name="signatories"' in page(officer.get(url("powers", village.village)))
    response = officer.post(reverse("duties:record_decision", args=[item.pk]), {
        "title": "购买办公用品", "amount": "800", "topic": "", "details": "打印纸和墨盒",
        "signatories": ["handler", "party_secretary", "committee_director"]})
    decision = Decision.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#decision-{decision.pk}")
    assert decision.is_major is False and decision.disclosure is not None
    body = page(officer.get(response["Location"]))
    assert "The decision is recorded." in body and "It is published on the disclosure board." in body
    assert f"?region={village.village.pk}#disclosure-{decision.disclosure_id}" in body


def test_a_refused_decision_shows_the_verdicts_reason_in_chinese_and_stores_nothing(as_, village):
    item = procurement(village)
    client = as_(village.officer, language="zh-hans")
    response = client.post(reverse("duties:record_decision", args=[item.pk]),
                           {"title": "购买办公用品", "amount": "800", "signatories": ["handler"]})
    assert response.status_code == 400
    body = page(response)
    assert "缺少党组织书记、村（居）委会主任的签字" in body and "missing the signature" not in body
    assert 'value="购买办公用品"' in body  # the form as typed
    major = client.post(reverse("duties:record_decision", args=[item.pk]), {"title": "采购冷库", "amount": "300000"})
    assert major.status_code == 400 and "须经四议两公开程序，尚无" in page(major)
    topic = deliberation.propose_topic(village.officer, region=village.village, title="采购冷库", description="30万元",
                                       origin="organisation")
    deliberation.start_procedure(village.officer, topic, "four_deliberations_two_disclosures")
    assert f'<option value="{topic.pk}">采购冷库</option>' in page(client.get(url("powers", village.village)))
    early = client.post(reverse("duties:record_decision", args=[item.pk]),
                        {"title": "采购冷库", "amount": "300000", "topic": topic.pk})
    assert early.status_code == 400 and "尚无" in page(early)
    resident = as_(village.adults[8].user).post(reverse("duties:record_decision", args=[item.pk]),
                                               {"title": "x", "amount": "10"})
    assert resident.status_code == 403
    assert not Decision.objects.exists() and not Disclosure.objects.exists()


# --- the responsibility list --------------------------------------------------------------------------------

def test_the_responsibility_list_is_public_and_says_that_routing_follows_it(as_, dw):
    w = dw.world
    services.set_responsibility(w.street_official, unit=dw.property_company, region=w.community_a,
                                matters=["environment.garbage"], duty="小区内垃圾清运", priority=5)
    body = page(as_().get(url("responsibilities", w.community_a)))
    assert "东园物业" in body and "environment.garbage" in body and "小区内垃圾清运" in body
    from gongzhi.demands.models import Category

    garbage = Category.objects.get(code="environment.garbage")
    assert (garbage.name_en or garbage.name) in body  # the matter by its name, from demands' registered lookup
    assert "The demands routing follows this list" in body
    assert "Add to the list" not in body and "张三" not in body and "13900001111" not in body


def test_an_officer_adds_changes_and_retires_an_entry_and_routing_follows(as_, dw):
    from gongzhi.demands.models import RoutingRule

    w = dw.world
    officer = as_(w.secretary_a)
    assert "Add to the list" in page(officer.get(url("responsibilities", w.community_a)))
    added = officer.post(url("add_responsibility", w.community_a), {
        "unit": dw.property_company.pk, "role": "", "matters": "environment.garbage", "duty": "垃圾清运",
        "priority": "5"})
    entry = Responsibility.objects.get()
    assert added.status_code == 302 and RoutingRule.objects.get(responsibility=entry).unit == dw.property_company
    changed = officer.post(url("edit_responsibility", w.community_a, entry.pk), {
        "unit": dw.city_management.pk, "role": "", "matters": "environment.garbage，environment.noise",
        "duty": "垃圾和污水", "priority": "5"})
    entry.refresh_from_db()
    assert changed.status_code == 302 and entry.unit == dw.city_management
    assert sorted(entry.matters) == ["environment.garbage", "environment.noise"]
    retired = officer.post(url("retire_responsibility", w.community_a, entry.pk))
    entry.refresh_from_db()
    assert retired.status_code == 302 and not entry.is_active
    assert not RoutingRule.objects.filter(responsibility__isnull=False).exists()


def test_an_unknown_category_or_a_resident_changes_nothing(as_, dw):
    w = dw.world
    unknown = as_(w.secretary_a).post(url("add_responsibility", w.community_a), {
        "unit": dw.property_company.pk, "matters": "no.such.category", "duty": "x", "priority": "0"})
    assert unknown.status_code == 400 and "no demand category no.such.category" in page(unknown)
    resident = as_(dw.resident).post(url("add_responsibility", w.community_a), {
        "unit": dw.property_company.pk, "matters": "environment.garbage", "duty": "x", "priority": "0"})
    assert resident.status_code == 403
    assert not Responsibility.objects.exists()


# --- goals and tasks ------------------------------------------------------------------------------------------

def test_the_goal_tree_shows_each_goals_status_progress_and_tasks_to_everyone(as_, village):
    goal = a_goal(village)
    a_goal(village, title="示范户创建", indicator="户数", unit_of_measure="户", start_value=0, target_value=20,
           parent=goal)
    services.add_task(village.officer, goal=goal, title="增设分类投放点", unit=village.committee,
                      deadline=dt.date(2026, 3, 4), quality_standard="每组一处")
    with clock.frozen_at(dt.datetime(2026, 7, 1, 2, tzinfo=dt.timezone.utc)):
        services.report_progress(village.officer, goal=goal, value=45, note="入户宣传")
        body = page(as_().get(url("goals", village.village)))
    assert "垃圾分类覆盖率" in body and "示范户创建" in body and "增设分类投放点" in body
    assert "st-at_risk" in body and "behind the expected" in body and "st-overdue" in body  # the task: late
    assert 'aria-valuenow="10.0"' in body  # 45 of the way from 40 to 90
    assert "Set the goal" not in body
    assert_no_names(body, village)


def test_an_officer_sets_a_goal_and_a_bad_target_or_a_resident_is_refused(as_, village):
    form = {"title": "道路硬化", "indicator": "公里", "unit_of_measure": "km", "start_value": "0", "target_value": "3",
            "direction": "higher", "start_date": "2026-03-01", "deadline": "2026-09-30", "owner": village.committee.pk,
            "parent": "", "live_indicator": ""}
    officer = as_(village.officer)
    assert "Set the goal" in page(officer.get(url("goals", village.village)))
    done = officer.post(url("create_goal", village.village), form)
    goal = Goal.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("duties:goal", args=[goal.pk])
    backwards = officer.post(url("create_goal", village.village), {**form, "deadline": "2026-02-01"})
    assert backwards.status_code == 400 and "the deadline must come after the start date" in page(backwards)
    resident = as_(village.adults[8].user).post(url("create_goal", village.village), form)
    assert resident.status_code == 403 and Goal.objects.count() == 1


def test_the_goal_page_carries_its_chart_data_and_reports_without_names(as_, village):
    goal = a_goal(village)
    with clock.frozen_at(dt.datetime(2026, 5, 1, 2, tzinfo=dt.timezone.utc)):
        services.report_progress(village.officer, goal=goal, value=55, note="新增投放点，联系13912345678")
        response = as_().get(reverse("duties:goal", args=[goal.pk]))
    body = page(response)
    assert response.status_code == 200 and "plotly/plotly.min.js" in body and "web/duties.js" in body
    start = body.index('id="goal-chart-data"')
    chart = json.loads(body[body.index(">", start) + 1:body.index("</script>", start)])
    assert chart["reported"] == {"x": ["2026-05-01"], "y": [55.0]}
    assert chart["expected"] == {"x": ["2026-03-01", "2026-12-31"], "y": [40.0, 90.0]}
    assert "139****5678" in body and "13912345678" not in body
    assert_no_names(body, village)
    assert as_().get(reverse("duties:goal", args=[999])).status_code == 404


def test_an_officer_reports_progress_and_adds_a_task_which_a_resident_cannot(as_, village):
    goal = a_goal(village)
    officer = as_(village.officer)
    reported = officer.post(reverse("duties:report_progress", args=[goal.pk]), {"value": "50", "note": "宣传"})
    assert reported.status_code == 302 and ProgressReport.objects.get().value == 50
    empty = officer.post(reverse("duties:report_progress", args=[goal.pk]), {"value": "60", "note": ""})
    assert empty.status_code == 400 and "Check the form: nothing was saved." in page(empty)
    added = officer.post(reverse("duties:add_task", args=[goal.pk]), {
        "title": "培训督导员", "unit": village.committee.pk, "deadline": "2026-04-30", "quality_standard": "每组一名"})
    task = Task.objects.get()
    assert added.status_code == 302 and added["Location"].endswith(f"#task-{task.pk}")
    resident = as_(village.adults[8].user)
    assert resident.post(reverse("duties:report_progress", args=[goal.pk]),
                         {"value": "90", "note": "x"}).status_code == 403
    task = {"title": "x", "unit": village.committee.pk, "deadline": "2026-04-30", "quality_standard": "x"}
    assert resident.post(reverse("duties:add_task", args=[goal.pk]), task).status_code == 403
    assert ProgressReport.objects.count() == 1 and Task.objects.count() == 1


def test_the_tasks_unit_reports_it_done_and_only_an_officer_checks_its_quality(as_, village):
    team, member = volunteers(village)
    goal = a_goal(village)
    task = services.add_task(village.officer, goal=goal, title="分类宣传", unit=team, deadline=dt.date(2026, 3, 31),
                             quality_standard="覆盖全部农户")
    client = as_(member)
    assert "Report it done" in page(client.get(reverse("duties:goal", args=[goal.pk])))
    checked = client.post(reverse("duties:complete_task", args=[task.pk]), {"note": "已完成", "quality": "yes"})
    assert checked.status_code == 403 and "an officer checks the quality standard" in page(checked)
    task.refresh_from_db()
    assert task.completed_at is None
    outsider = as_(village.adults[8].user).post(reverse("duties:complete_task", args=[task.pk]), {"note": "x"})
    assert outsider.status_code == 403
    done = as_(member).post(reverse("duties:complete_task", args=[task.pk]), {"note": "已入户宣传"})
    task.refresh_from_db()
    assert done.status_code == 302 and task.completed_at is not None and task.quality_met is None
    again = as_(member).post(reverse("duties:complete_task", args=[task.pk]), {"note": "again"})
    assert again.status_code == 409


def test_a_review_meeting_is_recorded_and_its_participants_are_for_officers(as_, village):
    goal = a_goal(village)
    officer = as_(village.officer)
    done = officer.post(url("hold_review", village.village), {
        "held_on": "2026-03-02", "participants": "村两委、驻村干部", "conclusions": "加快投放点建设", "goals": [goal.pk]})
    review = ReviewMeeting.objects.get()
    assert done.status_code == 302 and list(review.goals.all()) == [goal]
    public = page(as_().get(url("goals", village.village)))
    assert "加快投放点建设" in public and "村两委、驻村干部" not in public
    assert "村两委、驻村干部" in page(as_(village.officer).get(url("goals", village.village)))
    refused = as_(village.adults[8].user).post(url("hold_review", village.village), {
        "held_on": "2026-03-02", "participants": "x", "conclusions": "y"})
    assert refused.status_code == 403 and ReviewMeeting.objects.count() == 1


# --- scorecards and residents' ratings ---------------------------------------------------------------------------

def test_an_officer_defines_a_scorecard_computes_scores_and_sees_the_breakdown(as_, village):
    officer = as_(village.officer)
    body = page(officer.get(url("scorecards", village.village)))
    assert "duties.task_completion" in body and "Define a scorecard" in body
    rows = [{"code": "done", "name_zh": "任务完成率", "name_en": "tasks completed", "weight": "2",
             "normalisation": "linear", "worst": "0", "best": "100", "live_indicator": "duties.task_completion"}]
    defined = officer.post(url("define_scorecard", village.village), {"name": "村委考评", "indicators": json.dumps(rows)})
    card = Scorecard.objects.get()
    assert defined.status_code == 302 and card.name == "村委考评"
    goal = a_goal(village)
    for i in range(2):
        task = services.add_task(village.officer, goal=goal, title=f"t{i}", unit=village.committee,
                                 deadline=dt.date(2026, 3, 20), quality_standard="q")
    services.complete_task(village.officer, task, quality_met=True, note="done")
    computed = officer.post(url("compute_scores", village.village),
                            {"scorecard": card.pk, "period_start": "2026-03-01", "period_end": "2026-03-31"})
    assert computed.status_code == 302
    result = ScoreResult.objects.get(unit=village.committee)
    assert result.score == pytest.approx(50.0)
    body = page(officer.get(url("scorecards", village.village)))
    assert "Results for 2026-03-01 – 2026-03-31" in body and '<th class="num">tasks completed</th>' in body
    assert "桃源村村民委员会" in body and "+50.0" in body


def test_a_bad_scorecard_or_period_is_refused_and_a_resident_cannot_define_one(as_, village):
    officer = as_(village.officer)
    not_json = officer.post(url("define_scorecard", village.village), {"name": "x", "indicators": "[{"})
    assert not_json.status_code == 400 and "Not valid JSON" in page(not_json)
    unknown = officer.post(url("define_scorecard", village.village), {"name": "x", "indicators": json.dumps([{
        "code": "x", "name_zh": "x", "name_en": "x", "weight": "1", "normalisation": "linear", "worst": "0",
        "best": "1", "live_indicator": "no.such"}])})
    assert unknown.status_code == 400 and "no indicator" in page(unknown)
    resident = as_(village.adults[8].user).post(url("define_scorecard", village.village),
                                               {"name": "x", "indicators": "[]"})
    assert resident.status_code == 403 and not Scorecard.objects.exists()
    card = services.define_scorecard(village.officer, village.village, {
        "code": "c", "name_zh": "c", "name_en": "c", "subject": "unit", "indicators": [
            {"code": "done", "name_zh": "d", "name_en": "d", "weight": "1", "normalisation": "linear", "worst": "0",
             "best": "100", "live_indicator": "duties.task_completion"}]})
    backwards = as_(village.officer).post(url("compute_scores", village.village),
                             {"scorecard": card.pk, "period_start": "2026-03-31", "period_end": "2026-03-01"})
    assert backwards.status_code == 400 and not ScoreResult.objects.exists()


def test_a_resident_rates_a_unit_where_they_live_once_a_month(as_, village):
    client = as_(village.adults[8].user)
    body = page(client.get(url("scorecards", village.village)))
    assert "Rate a unit serving where you live" in body and "桃源村村民委员会" in body
    rated = client.post(url("evaluate_unit", village.village), {"unit": village.committee.pk, "score": "4",
                                                                "comment": "办事快"})
    assert rated.status_code == 302 and ResidentEvaluation.objects.get().score == 4
    again = client.post(url("evaluate_unit", village.village), {"unit": village.committee.pk, "score": "5"})
    assert again.status_code == 409 and "you have evaluated this unit this month" in page(again)
    outsider = f.user("outsider")
    f.person("外人", village.world.household_b, user=outsider)
    refused = as_(outsider).post(url("evaluate_unit", village.village), {"unit": village.committee.pk, "score": "1"})
    assert refused.status_code == 403 and ResidentEvaluation.objects.count() == 1
    assert "Rate a unit" not in page(as_().get(url("scorecards", village.village)))


# --- the matching board ----------------------------------------------------------------------------------------------

def test_needs_and_resources_are_published_and_the_need_defaults_to_the_places_centre(as_, village):
    team, member = volunteers(village)
    officer = as_(village.officer)
    body = page(officer.get(url("matching", village.village)))
    assert 'name="longitude" value="116.105"' in body and "Propose matches" in body
    published = officer.post(url("publish_need", village.village), {
        "title": "独居老人助餐", "skills": "cooking, 送餐", "quantity": "10", "urgency": "5", "longitude": "116.105",
        "latitude": "39.905"})
    need = Need.objects.get()
    assert published.status_code == 302 and need.skills == ["cooking", "送餐"]
    offered = as_(member).post(url("publish_resource", village.village), {
        "owner": team.pk, "title": "志愿厨师", "offers": "cooking，送餐", "capacity": "6", "longitude": "116.106",
        "latitude": "39.906"})
    assert offered.status_code == 302 and Resource.objects.get().owner == team
    resident = as_(village.adults[8].user).post(url("publish_need", village.village), {
        "title": "x", "skills": "x", "quantity": "1", "urgency": "1", "longitude": "116.1", "latitude": "39.9"})
    assert resident.status_code == 403
    stranger = as_(village.adults[8].user).post(url("publish_resource", village.village), {
        "owner": team.pk, "title": "x", "offers": "x", "capacity": "1", "longitude": "116.1", "latitude": "39.9"})
    assert stranger.status_code == 400  # not a unit of theirs: not among the choices
    assert Need.objects.count() == 1 and Resource.objects.count() == 1
    public = page(as_().get(url("matching", village.village)))
    assert "独居老人助餐" in public and "志愿厨师" in public and "Propose matches" not in public
    assert_no_names(public, village)


def test_proposing_shows_the_matches_and_why_a_need_stays_short_then_a_project_runs_to_its_outcome(as_, village):
    urgent = services.publish_need(village.officer, region=village.village, title="独居老人助餐", skills=["cooking"],
                                   quantity=10, urgency=5, longitude=116.105, latitude=39.905)
    services.publish_need(village.officer, region=village.village, title="村晚排练", skills=["cooking"], quantity=10,
                          urgency=1, longitude=116.105, latitude=39.905)
    services.publish_resource(village.officer, owner=village.committee, region=village.village, title="志愿厨师",
                              offers=["cooking"], capacity=10, longitude=116.106, latitude=39.906)
    officer = as_(village.officer)
    assert as_(village.adults[8].user).post(url("propose_matches", village.village)).status_code == 403
    proposed = as_(village.officer).post(url("propose_matches", village.village))
    assert proposed.status_code == 302
    body = page(officer.get(proposed["Location"]))
    assert "1 match proposed." in body and "1 need is not fully served" in body
    assert "Not fully served" in body and "村晚排练" in body
    match = Match.objects.get()
    assert match.need == urgent
    missing = officer.post(reverse("duties:accept_match", args=[match.pk]), {"deadline": "2026-04-01",
                                                                            "quality_standard": ""})
    assert missing.status_code == 400 and not Project.objects.exists()
    accepted = officer.post(reverse("duties:accept_match", args=[match.pk]), {
        "deadline": "2026-04-01", "quality_standard": "每日两餐，按时送达"})
    project = Project.objects.get()
    assert accepted.status_code == 302 and accepted["Location"].endswith(f"#project-{project.pk}")
    twice = officer.post(reverse("duties:accept_match", args=[match.pk]), {
        "deadline": "2026-04-01", "quality_standard": "x"})
    assert twice.status_code == 409 and Project.objects.count() == 1
    board = page(officer.get(url("matching", village.village)))
    assert "志愿厨师 → 独居老人助餐" in board and "每日两餐，按时送达" in board and "Record the outcome" in board
    done = officer.post(reverse("duties:record_outcome", args=[project.pk]), {"outcome": "已服务30人次"})
    project.refresh_from_db()
    urgent.refresh_from_db()
    assert done.status_code == 302 and project.completed_at is not None and not urgent.is_open
    again = officer.post(reverse("duties:record_outcome", args=[project.pk]), {"outcome": "x"})
    assert again.status_code == 409


def test_an_officer_edits_a_power_item_and_a_bad_definition_changes_nothing(client, village):
    from gongzhi.duties import services as duty_services
    from gongzhi.duties.models import PowerItem

    duty_services.adopt_power_list(village.officer, village.village)
    item = PowerItem.objects.get(region=village.village, code="procurement")
    client.force_login(village.officer)
    url = reverse("duties:edit_power_item", args=[item.pk])
    page = client.get(reverse("duties:powers") + f"?region={village.village.pk}").content.decode()
    assert url in page
    bad = client.post(url, {"definition": json.dumps(dict(item.definition, code="other"))})
    assert bad.status_code == 400
    item.refresh_from_db()
    assert item.definition["code"] == "procurement"
    changed = dict(item.definition, name_zh="采购管理（修订）")
    assert client.post(url, {"definition": json.dumps(changed)}).status_code == 302
    item.refresh_from_db()
    assert item.name == "采购管理（修订）"
    client.force_login(village.adults[8].user)
    assert client.post(url, {"definition": json.dumps(item.definition)}).status_code == 403


def test_an_officer_sees_a_proposed_grid_worker_allocation_and_a_resident_cannot(client, dw):
    w = dw.world
    f.official(w.committee_a, "grid_worker", "gw_a2_view", grid=w.grid_a2)
    url = reverse("duties:propose_grid_allocation") + f"?region={w.community_a.pk}"
    client.force_login(w.street_official)
    response = client.post(url)
    page = response.content.decode()
    assert response.status_code == 200 and w.grid_a1.name in page and w.grid_a2.name in page
    client.force_login(dw.resident)
    assert client.post(url).status_code == 403
