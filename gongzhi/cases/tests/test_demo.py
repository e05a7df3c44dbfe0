"""The demo's cases (issue #18 item 5): `gongzhi demo` leaves one case taken the whole way round the loop by the
services, with every link and every message, and one case stuck at a missed milestone on the supervision board.
The whole demo is built once for the module inside an outer transaction that is rolled back at the end."""

import pytest
from django.db import transaction
from django.test import override_settings

from gongzhi.cases import demo, services
from gongzhi.cases.models import Case
from gongzhi.core.models import Event
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Disclosure, StageRecord, Topic
from gongzhi.demands.models import Notification
from gongzhi.duties import services as duties
from gongzhi.org import demo as org_demo

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            result = org_demo.build_demo()
            yield result, demo.demo_cases(), media
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_the_demo_case_runs_from_many_complaints_to_a_solved_verdict_with_every_link(built):
    result, cases, _ = built
    case = cases["complete"]
    assert result.extensions["cases"]["solved"] == case.pk
    assert case.status == Case.Status.SOLVED and case.closed_at is not None
    # Complaints: several residents, with accounts and by phone as guests, all in the one issue.
    complaints = services.complainant_demands(case)
    assert complaints.count() >= 6
    assert complaints.filter(reporter_user__isnull=True).exists()
    assert complaints.filter(reporter_user__username="resident").exists()
    assert case.issue is not None and case.issue.volume == complaints.count()
    assert len({d.received_at.date() for d in complaints}) >= 6  # over weeks, not one afternoon
    # The topic came from the issue, and its opinion map has groups and common ground.
    assert case.topic.origin == Topic.Origin.AGENDA and case.topic.evidence["issue"] == case.issue_id
    opinions = deliberation.opinion_map(case.topic)
    assert len(opinions["group_sizes"]) >= 2 and opinions["common_ground"]
    # 社区协商, run to the end: a residents' meeting with its frozen roll, quorate, passed the amount.
    stages = list(StageRecord.objects.filter(topic=case.topic).order_by("sequence")
                  .values_list("stage_code", "outcome"))
    assert [code for code, _ in stages] == ["topic_proposal", "opinion_seeking", "consultation", "resolution",
                                            "notice", "implementation", "evaluation"]
    assert all(outcome != StageRecord.Outcome.FAILED for _, outcome in stages)
    resolution = StageRecord.objects.get(topic=case.topic, stage_code="resolution")
    motion, meeting = resolution.motion, resolution.meeting
    assert meeting.body.kind == "residents_meeting" and meeting.roll.count() == resolution.due
    assert motion.is_passed and motion.result["quorate"] and resolution.present * 2 > resolution.due
    assert motion.amount == case.decision.amount
    # The decision under the power list, 三重一大 by its amount, disclosed through its notice period.
    decision = case.decision
    assert decision.is_major and decision.topic_id == case.topic_id and decision.item.code == demo.LIFT_ITEM
    assert decision.disclosure.status == Disclosure.Status.COMPLETED
    assert decision.disclosure.completed_at >= decision.disclosure.notice_ends_at
    assert decision.disclosure.objections.filter(answered_at__isnull=False).count() == 1
    # The project: unit, budget, goal, every milestone done with photos, the outcome recorded.
    project = case.project
    assert project.decision_id == decision.pk and project.unit.kind == "property_company"
    assert project.budget == decision.amount and project.goal is not None and project.completed_at is not None
    tasks = list(project.tasks.all())
    assert len(tasks) == len(demo.LIFT_MILESTONES) and all(t.completed_at for t in tasks)
    assert {p.task_id for p in case.photos.all()} == {t.pk for t in tasks}
    # The verdict: everyone who raised it answered, most say solved; the goal carries the share.
    users, guests = services.followers(case)
    counts = services.tally(case)
    assert counts["answers"] == len(users) + len(guests) and counts["solved"] > counts["not_solved"] > 0
    assert project.goal.reports.order_by("-id").first().value == counts["solved_share"]


def test_every_complainant_with_an_account_was_told_at_each_step(built):
    _, cases, _ = built
    case = cases["complete"]
    users, _ = services.followers(case)
    assert len(users) >= 4
    link = services.link(case)
    for user_id in users:
        told = list(Notification.objects.filter(recipient_user_id=user_id, kind=Notification.Kind.CASE,
                                                link__startswith=link).values_list("link", flat=True))
        anchors = {href.partition("#")[2] for href in told}
        assert {"", "vote", "decision", "project", "verdict"} <= anchors, (user_id, told)


def test_the_solved_case_answered_each_of_its_demands_and_the_verdicts_rated_them(built):
    _, cases, _ = built
    case = cases["complete"]
    states = list(services.complainant_demands(case).values_list("state", flat=True))
    # Each complaint was answered, checked and closed; each verdict rated its reporter's own (a "not solved"
    # reopened that one to the unit). None is left waiting at a desk or overdue without an answer.
    assert set(states) <= {"rated", "closed", "dispatched"}
    own = services.complainant_demands(case).filter(reporter_user__isnull=False)
    assert set(own.values_list("state", flat=True)) <= {"rated", "dispatched"} and own.filter(state="rated").exists()
    reopened = services.complainant_demands(case).filter(state="dispatched")
    assert all(d.reopen_count == 1 and d.solved is False for d in reopened)
    case.issue.refresh_from_db()
    assert case.issue.unresolved == reopened.count()  # closed and rated count as resolved


def test_the_running_case_is_stuck_at_a_missed_milestone_on_the_board(built):
    _, cases, _ = built
    case = cases["running"]
    assert case.status == Case.Status.IN_PROGRESS and case.decision is not None
    missed = list(duties.missed_milestones([case.region.path]))
    assert missed and {t.project_id for t in missed} == {case.project_id}
    assert case.region.is_village


def test_the_demo_cases_are_recorded_in_the_journal_and_go_with_the_reset(built):
    _, cases, media = built
    complete = cases["complete"]
    assert Event.objects.filter(kind="cases.open", subject_id=str(complete.pk)).exists()
    assert Event.objects.filter(kind="cases.conclude", subject_id=str(complete.pk)).exists()
    photos = [p.image.name for p in complete.photos.all()]
    with transaction.atomic():
        deleted = demo.reset_demo_cases()
        assert deleted["cases"] == 2 and deleted["case_photos"] == len(photos)
        assert not Case.objects.exists()
        assert not Notification.objects.filter(kind=Notification.Kind.CASE, link__startswith=services.link(complete)) \
            .exists()
        transaction.set_rollback(True)


def test_the_district_finds_the_running_case_missed_milestone_on_the_supervision_board(built, client):
    from django.contrib.auth import get_user_model

    _, cases, _ = built
    case = cases["running"]
    missed = duties.missed_milestones([case.region.path]).first()
    client.force_login(get_user_model().objects.get(username="district"))
    page = client.get("/demands/supervision/?milestones=1").content.decode()
    assert missed.title in page and services.link(case) in page
