"""Objects named inside a request are checked against the caller's scope like the id in the path: a decision
rests only on its own place's topics and votes, a responsibility entry stays where its editor may act, a task's
person, an accountability record's task and person, and an accepted match's project lie in the caller's place.
Refused requests store nothing; the same acts inside the place still work."""

import datetime as dt
import json

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import ApiToken
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.deliberation.tests.elsewhere import deliberate_in_community_b
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)

from gongzhi.duties import services
from gongzhi.duties.models import AccountabilityRecord, Decision, Match, PowerItem, Project, Responsibility, Task

pytestmark = pytest.mark.django_db

BASE = "/api/v1/duties/"
SPEND = {"title": "采购冷库制冷设备", "amount": "300000.00"}


@pytest.fixture
def village(world, ledger_keys):
    from gongzhi.demands.services import seed_defaults

    seed_defaults()  # the responsibility list names demand categories: have them whatever ran before
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


@pytest.fixture
def elsewhere(village, world):
    return deliberate_in_community_b(world)


@pytest.fixture
def item(village):
    services.adopt_power_list(village.officer, village.village)
    return PowerItem.objects.get(region=village.village, code="procurement")


def _goal(village):
    return services.create_goal(village.officer, region=village.village, title="村道硬化", indicator="公里",
                                start_value=0, target_value=3, direction="higher", start_date=dt.date(2026, 3, 1),
                                deadline=dt.date(2026, 12, 31), owner=village.committee)


# --- decisions ------------------------------------------------------------------------------------------

def test_a_decision_cannot_cite_another_communitys_motion_as_its_authority(village, elsewhere, item):
    assert elsewhere.motion.is_passed and elsewhere.motion.amount is not None
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, motion=elsewhere.motion, **SPEND)
    assert err.value.code == "wrong_region"
    assert not Decision.objects.exists()


def test_a_decision_cannot_cite_another_communitys_topic(village, elsewhere, item):
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, topic=elsewhere.topic, **SPEND)
    assert err.value.code == "wrong_region"
    assert not Decision.objects.exists()


def test_a_decision_citing_a_topic_cannot_add_a_motion_of_another_topic(village, item):
    topic = services.deliberation.propose_topic(village.officer, region=village.village, title="修路",
                                                description="d", origin="organisation")
    other = services.deliberation.propose_topic(village.officer, region=village.village, title="修桥",
                                                description="d", origin="organisation")
    meeting, starts = village.open_meeting("two_committees_joint_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.deliberation.open_motion(village.officer, meeting, text="同意修桥", topic=other)
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, topic=topic, motion=motion, **SPEND)
    assert err.value.code == "wrong_motion"
    assert not Decision.objects.exists()


def test_a_decision_on_the_places_own_motion_gets_past_the_scope_check_to_the_power_list(village, item):
    meeting, starts = village.open_meeting("two_committees_joint_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.deliberation.open_motion(village.officer, meeting, text="同意采购", amount="300000")
        for entry in meeting.roll.select_related("person"):
            services.deliberation.cast_ballot(entry.person.user, motion, "yes")
        motion = services.deliberation.close_motion(village.officer, motion)
    with pytest.raises(ValidationFailed) as err:
        services.record_decision(village.officer, item, motion=motion, **SPEND)
    assert err.value.code != "wrong_region"  # judged by the power list: the joint meeting alone is not enough
    routine = PowerItem.objects.get(region=village.village, code="procurement")
    decision = services.record_decision(village.officer, routine, title="购买办公用品", amount="800",
                                        signatories=["handler", "party_secretary", "committee_director"])
    assert decision.pk


def test_through_the_api_a_decision_citing_another_communitys_motion_is_refused(village, elsewhere, item, client):
    response = client.post(f"{BASE}power-items/{item.pk}/decisions",
                           data=json.dumps({**SPEND, "motion_id": elsewhere.motion.pk}),
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {ApiToken.issue(village.officer)[1]}"})
    assert response.status_code == 400 and response.json()["code"] == "wrong_region"
    assert not Decision.objects.exists()


# --- the responsibility list ---------------------------------------------------------------------------------

def test_an_officer_cannot_take_over_another_communitys_responsibility_entry(village, world):
    entry = services.set_responsibility(world.secretary_b, unit=world.committee_b, region=world.community_b,
                                        matters=["environment.garbage"], duty="垃圾清运")
    with pytest.raises(PermissionDenied):
        services.set_responsibility(village.officer, unit=village.committee, region=village.village,
                                    matters=["environment.garbage"], duty="垃圾清运", entry=entry)
    entry.refresh_from_db()
    assert entry.region == world.community_b and entry.unit == world.committee_b
    services.set_responsibility(world.secretary_b, unit=world.committee_b, region=world.community_b,
                                matters=["environment.garbage"], duty="每日清运", entry=entry)
    assert Responsibility.objects.get(pk=entry.pk).duty == "每日清运"


# --- goals, tasks, accountability ---------------------------------------------------------------------------

def test_a_task_cannot_name_a_person_of_another_community(village, world):
    goal = _goal(village)
    with pytest.raises(ValidationFailed) as err:
        services.add_task(village.officer, goal=goal, title="t", unit=village.committee, deadline=dt.date(2026, 6, 1),
                          quality_standard="q", person=world.resident_b)
    assert err.value.code == "unknown_person"
    assert not Task.objects.exists()
    task = services.add_task(village.officer, goal=goal, title="t", unit=village.committee,
                             deadline=dt.date(2026, 6, 1), quality_standard="q", person=village.adults[3])
    assert task.person == village.adults[3]


def test_accountability_names_only_the_units_own_task_and_people_in_scope(village, world):
    task = services.add_task(village.officer, goal=_goal(village), title="t", unit=village.committee,
                             deadline=dt.date(2026, 6, 1), quality_standard="q")
    with pytest.raises(ValidationFailed) as err:
        services.record_accountability(village.officer, unit=village.branch, facts="f", outcome="o", task=task)
    assert err.value.code == "wrong_task"
    with pytest.raises(ValidationFailed) as err:
        services.record_accountability(village.officer, unit=village.committee, facts="f", outcome="o",
                                       person=world.resident_b)
    assert err.value.code == "unknown_person"
    assert not AccountabilityRecord.objects.exists()
    record = services.record_accountability(village.officer, unit=village.committee, facts="f", outcome="o",
                                            task=task, person=village.adults[3])
    assert record.task == task and record.person == village.adults[3]


# --- matching ---------------------------------------------------------------------------------------------

def test_an_accepted_match_cannot_join_another_communitys_project(village, world):
    services.publish_need(village.officer, region=village.village, title="助餐", skills=["cooking"], quantity=10,
                          urgency=5, longitude=116.105, latitude=39.905)
    services.publish_resource(village.officer, owner=village.committee, region=village.village, title="志愿厨师",
                              offers=["cooking"], capacity=10, longitude=116.106, latitude=39.906)
    rows, _ = services.propose_matches(village.officer, village.village)
    foreign = Project.objects.create(region=world.community_b, title="西园项目", created_by=world.secretary_b,
                                     created_at=clock.now())
    with pytest.raises(PermissionDenied):
        services.accept_match(village.officer, rows[0], project=foreign, deadline=dt.date(2026, 4, 1),
                              quality_standard="按时送达")
    assert Match.objects.get(pk=rows[0].pk).state == Match.State.PROPOSED and not foreign.tasks.exists()
    match = services.accept_match(village.officer, rows[0], deadline=dt.date(2026, 4, 1), quality_standard="按时送达")
    assert match.project.region == village.village
