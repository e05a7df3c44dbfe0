"""The case file's loop through the real services: the case opens with the topic put from an issue, every
step that follows moves it and tells the residents who raised the problem; at the end their verdict is the
goal's value and the unit's indicator, and "not solved" from most of them reopens the project."""

import datetime as dt

import pytest

from gongzhi.cases import services
from gongzhi.cases.models import Case, Verdict
from gongzhi.core import clock
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event, OutgoingSms
from gongzhi.demands.models import Notification
from gongzhi.duties import indicators
from gongzhi.duties import services as duties
from gongzhi.duties.models import Project, Task

pytestmark = pytest.mark.django_db


def _case_notices(user):
    return list(Notification.objects.filter(recipient_user=user, kind="case").order_by("id")
                .values_list("text", "link"))


def _finish_work(loop, later):
    staff = loop.staff()
    for task in loop.project.tasks.order_by("deadline"):
        with clock.frozen_at(later + dt.timedelta(days=5)):
            services.report_progress(staff, loop.case, task, note="已完成", done=True)
    with clock.frozen_at(later + dt.timedelta(days=6)):
        duties.record_project_outcome(loop.v.officer, loop.project, "管道已更换，路面恢复")
    loop.case.refresh_from_db()


def test_a_topic_opened_from_an_issue_opens_its_case_linking_every_demand_and_telling_each_reporter(
        loop, django_capture_on_commit_callbacks):
    filed = loop.complain()
    with django_capture_on_commit_callbacks(execute=True):
        case = loop.open_topic()
    assert case.status == Case.Status.DELIBERATING and case.issue_id is not None
    assert set(case.demands.values_list("pk", flat=True)) == {d.pk for d in filed}
    assert case.topic.case == case and all(d.case_links.get().case == case for d in filed)
    for user in loop.reporters:
        notices = _case_notices(user)
        assert len(notices) == 1 and notices[0][1] == f"/cases/{case.pk}/"
    # The guest who reported without an account is told by text message to the phone they gave.
    assert OutgoingSms.objects.filter(phone="13800138000").count() >= 1
    assert Event.objects.filter(kind="cases.open", subject_id=str(case.pk)).count() == 1


def _hot_spot(loop, category):
    from gongzhi.insight.models import HotSpot, HotSpotRun

    run = HotSpotRun.objects.create(at=clock.now(), region=loop.v.village, periods=8,
                                    last_period_start=clock.today() - dt.timedelta(days=7), cells=1, categories=1,
                                    demands=4)
    return HotSpot.objects.create(run=run, grid=loop.v.grid, category=category, period_start=run.last_period_start,
                                  since=clock.today() - dt.timedelta(days=14), observed=4, expected=0.5, ratio=8.0,
                                  z=3.1, q=0.01, explanation_zh="供水问题比往常多", explanation_en="more water problems")


def test_a_case_from_a_hot_spot_links_the_spot_and_its_demands_and_one_from_an_issue_links_its_grids_hot_spot(loop):
    from gongzhi.demands.models import Category
    from gongzhi.insight import services as insight

    filed = loop.complain(category="utilities.water")
    water = Category.objects.get(code="utilities.water")
    spot = _hot_spot(loop, water)
    topic = insight.open_topic_from_hot_spot(loop.v.officer, spot)
    assert topic.case.hot_spot == spot and topic.case.issue is None
    assert set(topic.case.demands.values_list("pk", flat=True)) == {d.pk for d in filed}
    from_issue = loop.open_topic()
    assert from_issue.issue is not None and from_issue.hot_spot == spot and from_issue.pk != topic.case.pk


def test_the_officer_may_word_the_topic_and_the_case_carries_it(loop):
    loop.complain()
    case = loop.open_topic(title="村西片自来水管反复破裂")
    assert case.topic.title == case.title == "村西片自来水管反复破裂"
    assert case.topic.evidence["volume"] == 4  # the evidence is the issue's, whatever the words


def test_a_topic_not_from_insight_opens_no_case(loop):
    from gongzhi.deliberation import services as deliberation

    topic = deliberation.propose_topic(loop.v.officer, region=loop.v.village, title="修缮村委会", description="屋顶漏雨",
                                       origin="organisation")
    assert not Case.objects.filter(topic=topic).exists()


def test_vote_decision_and_project_move_the_case_and_tell_complainants_and_supporters(loop):
    loop.complain()
    loop.open_topic()
    supporter = loop.v.adults[11].user
    loop.me_too([supporter])
    later = loop.decide()
    case = loop.case
    assert case.status == Case.Status.IN_PROGRESS
    assert case.decision == loop.decision and case.project == loop.project
    project = Project.objects.get(pk=loop.project.pk)
    assert project.decision == loop.decision and project.unit == loop.company
    assert str(project.budget) == "300000.00" and project.goal.target_value == 80.0
    assert list(project.tasks.values_list("goal_id", flat=True)) == [project.goal_id] * 2
    texts = [t for t, _ in _case_notices(loop.reporters[0])]
    # Opened; the villagers' representatives' vote counted (the party's and the committees' stages are on the
    # case file, without a message each); the decision; the project.
    assert len(texts) == 4
    assert [link.rpartition("#")[2] for _, link in _case_notices(loop.reporters[0])] == [
        "/cases/%d/" % case.pk, "vote", "decision", "project"]
    assert _case_notices(supporter)[-1] == _case_notices(loop.reporters[0])[-1]
    assert any(link.endswith("#project") for _, link in _case_notices(supporter))
    assert later > clock.now()


def test_the_budget_cannot_exceed_the_amount_approved_and_nothing_is_stored(loop):
    loop.complain()
    loop.open_topic()
    later = loop.decide(with_project=False)
    with clock.frozen_at(later), pytest.raises(ValidationFailed) as refused:
        duties.start_project(loop.v.officer, loop.decision, duties.ProjectPlan(
            unit=loop.company, budget="300000.01", milestones=(duties.Milestone("施工", later.date() + dt.timedelta(days=1)),)))
    assert refused.value.code == "over_budget"
    assert not Project.objects.exists() and not Task.objects.exists()
    with clock.frozen_at(later):
        project = duties.start_project(loop.v.officer, loop.decision, duties.ProjectPlan(
            unit=loop.company, milestones=(duties.Milestone("施工", later.date() + dt.timedelta(days=1)),)))
        with pytest.raises(Conflict):
            duties.start_project(loop.v.officer, loop.decision, duties.ProjectPlan(
                unit=loop.company, milestones=(duties.Milestone("施工", later.date() + dt.timedelta(days=1)),)))
    loop.case.refresh_from_db()
    assert loop.case.project == project and loop.case.status == Case.Status.IN_PROGRESS


def test_residents_answer_once_and_most_saying_solved_closes_the_case_and_moves_the_indicators(loop):
    loop.complain()
    loop.open_topic()
    later = loop.decide()
    with clock.frozen_at(later + dt.timedelta(days=6)), pytest.raises(Conflict) as early:
        services.answer(loop.case, solved=True, satisfaction="satisfied", user=loop.reporters[0])
    assert early.value.code == "not_asking"
    with clock.frozen_at(later + dt.timedelta(days=5)), pytest.raises(Conflict) as open_tasks:
        duties.record_project_outcome(loop.v.officer, loop.project, "完成")
    assert open_tasks.value.code == "milestones_open"
    _finish_work(loop, later)
    case = loop.case
    assert case.status == Case.Status.ASKING and case.verdict_round == 1
    assert "#verdict" in _case_notices(loop.reporters[1])[-1][1]
    from gongzhi.cases import workbench

    def waiting(user):
        return {i.key: i.count for i in workbench.work_items(user)}.get("cases.verdict", 0)

    assert [waiting(u) for u in loop.reporters] == [1, 1, 1] and waiting(loop.v.adults[10].user) == 0
    following = {i.key: i.count for i in workbench.work_items(loop.reporters[0])}
    assert following["cases.mine"] == 1 and "cases.mine" not in {i.key for i in workbench.work_items(loop.v.adults[10].user)}
    when = later + dt.timedelta(days=8)
    with clock.frozen_at(when):
        with pytest.raises(PermissionDenied):
            services.answer(case, solved=True, satisfaction="satisfied", user=loop.v.adults[10].user)
        services.answer(case, solved=True, satisfaction="satisfied", user=loop.reporters[0], comment="修好了")
        with pytest.raises(Conflict):
            services.answer(case, solved=False, satisfaction="not_satisfied", user=loop.reporters[0])
        with pytest.raises(ValidationFailed):
            services.answer(case, solved=True, satisfaction="great", user=loop.reporters[1])
        assert waiting(loop.reporters[0]) == 0 and waiting(loop.reporters[1]) == 1
        services.answer(case, solved=True, satisfaction="basically_satisfied", user=loop.reporters[1])
        services.answer(case, solved=False, satisfaction="not_satisfied", user=loop.reporters[2])
        guest_demand = case.demands.get(reporter_user__isnull=True)
        services.answer(case, solved=True, satisfaction="satisfied", demand=guest_demand)
    case.refresh_from_db()
    assert case.status == Case.Status.SOLVED and case.closed_at is not None  # everyone asked answered
    assert services.tally(case)["solved_share"] == 75.0
    goal = loop.project.goal
    goal.refresh_from_db()
    assert goal.reports.filter(value__isnull=False).order_by("-id").first().value == 75.0
    day = when.date()
    solved = indicators.get("cases.solved_share")
    assert solved.for_unit(loop.company, day, day) == 75.0
    assert solved.for_region(loop.v.village, day, day) == 75.0
    assert indicators.get("cases.satisfaction").for_unit(loop.company, day, day) == 75.0
    assert solved.for_unit(loop.company, day - dt.timedelta(days=30), day - dt.timedelta(days=1)) is None
    assert "3 of 4" in _case_notices(loop.reporters[0])[-1][0] or "4 位" in _case_notices(loop.reporters[0])[-1][0]
    assert Verdict.objects.filter(case=case).count() == 4


def test_not_solved_from_most_reopens_the_project_for_review_and_tells_the_unit(loop):
    loop.complain()
    loop.open_topic()
    later = loop.decide()
    _finish_work(loop, later)
    case = loop.case
    with clock.frozen_at(later + dt.timedelta(days=8)):
        services.answer(case, solved=False, satisfaction="not_satisfied", user=loop.reporters[0])
        services.answer(case, solved=False, satisfaction="not_satisfied", user=loop.reporters[1])
    # Not everyone answered: the round ends when its time is up.
    assert services.sweep(now=later + dt.timedelta(days=9)) == 0
    with clock.frozen_at(later + dt.timedelta(days=30)):
        assert services.sweep() == 1
    case.refresh_from_db()
    project = Project.objects.get(pk=loop.project.pk)
    assert case.status == Case.Status.REVIEW and project.completed_at is None and project.reopened_at is not None
    assert "2" in project.review_reason
    from gongzhi.cases import workbench

    review = {i.key: i.count for i in workbench.work_items(loop.v.officer)}
    assert review["cases.review"] == 1 and "cases.review" not in {i.key for i in workbench.work_items(loop.reporters[0])}
    assert Notification.objects.filter(recipient_unit=loop.company, kind="case", link__endswith="#verdict").exists()
    # The unit reworks, the officer records it done again: a second round of asking.
    with clock.frozen_at(later + dt.timedelta(days=31)):
        duties.record_project_outcome(loop.v.officer, project, "复核后重新更换阀门")
    case.refresh_from_db()
    assert case.status == Case.Status.ASKING and case.verdict_round == 2
    with clock.frozen_at(later + dt.timedelta(days=32)):
        services.answer(case, solved=True, satisfaction="satisfied", user=loop.reporters[0])
    assert services.tally(case)["answers"] == 1 and services.tally(case, round=1)["answers"] == 2


def test_an_officer_checks_a_milestone_a_failed_check_reopens_it_and_recording_the_project_done_accepts_the_rest(loop):
    loop.complain()
    loop.open_topic()
    later = loop.decide()
    staff = loop.staff()
    first, second = loop.project.tasks.order_by("deadline")
    with clock.frozen_at(later + dt.timedelta(days=2)):
        services.report_progress(staff, loop.case, first, note="管材到货", done=True)
        with pytest.raises(PermissionDenied):
            duties.check_task(staff, first, quality_met=True, note="自己验收")
        duties.check_task(loop.v.officer, first, quality_met=False, note="管材规格不符，整改")
        first.refresh_from_db()
        assert first.completed_at is None and first.quality_met is None
        services.report_progress(staff, loop.case, first, note="已更换为合格管材", done=True)
        duties.check_task(loop.v.officer, first, quality_met=True, note="合格")
        with pytest.raises(Conflict):
            duties.check_task(loop.v.officer, first, quality_met=True, note="再验一次")
        services.report_progress(staff, loop.case, second, note="管道已更换", done=True)
        duties.record_project_outcome(loop.v.officer, loop.project, "完工")
    assert [t.status for t in loop.project.tasks.order_by("deadline")] == ["achieved", "achieved"]
    assert Event.objects.filter(kind="duties.check_task").count() == 3


def test_the_unit_answers_all_its_demands_of_the_case_at_once_and_each_verdict_rates_its_reporters_own(loop):
    from gongzhi.demands import services as demands
    from gongzhi.demands.models import Demand

    filed = loop.complain()
    loop.open_topic()
    later = loop.decide()
    staff = loop.staff()
    desk = loop.v.officer
    for demand in filed:
        demands.dispatch(desk, demand, unit=loop.company, category="utilities.water")
    _finish_work(loop, later)
    case = loop.case
    with clock.frozen_at(later + dt.timedelta(days=7)):
        with pytest.raises(ValidationFailed) as nothing:
            services.reply_to_demands(loop.v.adults[10].user, case, text="不是本单位")
        assert nothing.value.code == "nothing_to_reply"
        replied = services.reply_to_demands(staff, case, text="供水管道已整体更换，详见案卷。")
        assert {d.pk for d in replied} == {d.pk for d in filed}
        for demand in filed:
            demands.verify(desk, demand, note="现场查看已修复")
            demands.close(desk, demand)
        services.answer(case, solved=True, satisfaction="satisfied", user=loop.reporters[0])
        services.answer(case, solved=False, satisfaction="not_satisfied", user=loop.reporters[1])
    states = dict(Demand.objects.filter(pk__in=[d.pk for d in filed]).values_list("reporter_user_id", "state"))
    assert states[loop.reporters[0].pk] == "rated"
    assert states[loop.reporters[1].pk] == "dispatched"  # "not solved" reopened it to the unit
    assert states[loop.reporters[2].pk] == "closed"  # not answered yet
    first = Demand.objects.get(reporter_user=loop.reporters[0])
    assert first.solved is True and first.satisfaction == "satisfied"
