"""Objects named inside a request (a body's organisation and members, attendance, a motion's topic, what a
stage record rests on, a notice's topic) are checked against the caller's scope like the id in the path: a
person or unit the caller may not see is answered as an unknown id, another place's topic or vote is refused,
and nothing is stored. The same acts inside the caller's place still work."""

import datetime as dt
import json

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import ApiToken
from gongzhi.deliberation import services
from gongzhi.deliberation.models import Body, BodyMember, Disclosure, Motion, StageRecord
from gongzhi.deliberation.tests.elsewhere import deliberate_in_community_b

BASE = "/api/v1/deliberation/"


@pytest.fixture
def api(client):
    def make(user):
        _, raw = ApiToken.issue(user)

        def call(method, url, body=None):
            return getattr(client, method)(BASE + url, data=json.dumps(body or {}), content_type="application/json",
                                           headers={"Authorization": f"Bearer {raw}"})

        return call

    return make


@pytest.fixture
def elsewhere(village, world):
    return deliberate_in_community_b(world)


def _topic_in_procedure(village, procedure="four_deliberations_two_disclosures"):
    topic = services.propose_topic(village.officer, region=village.village, title="村道硬化", description="d",
                                   origin="organisation")
    return services.start_procedure(village.officer, topic, procedure)


# --- bodies --------------------------------------------------------------------------------------------

def test_a_body_cannot_name_an_organisation_of_another_community(village, world):
    with pytest.raises(ValidationFailed) as err:
        services.create_body(village.officer, region=village.village, kind="residents_committee", name="x",
                             organisation=world.committee_b)
    assert err.value.code == "unknown_organisation"
    assert not Body.objects.exists()


def test_a_street_officer_cannot_give_one_community_another_communitys_committee(world, village):
    with pytest.raises(ValidationFailed) as err:
        services.create_body(world.street_official, region=world.community_a, kind="residents_committee",
                             name="东园居委会", organisation=world.committee_b)
    assert err.value.code == "wrong_region"
    body = services.create_body(world.street_official, region=world.community_a, kind="residents_committee",
                                name="东园居委会", organisation=world.committee_a)
    assert body.organisation == world.committee_a


def test_a_body_member_from_another_community_is_an_unknown_person(village, world):
    body = village.body("villagers_representatives_meeting")
    before = BodyMember.objects.count()
    with pytest.raises(ValidationFailed) as err:
        services.add_body_member(village.officer, body, world.resident_b)
    assert err.value.code == "unknown_person"
    assert BodyMember.objects.count() == before
    services.add_body_member(village.officer, body, village.adults[1])
    assert BodyMember.objects.count() == before + 1


def test_through_the_api_an_out_of_scope_member_reads_exactly_like_a_missing_one(village, world, api):
    body = village.body("villagers_representatives_meeting")
    call = api(village.officer)
    outside = call("post", f"bodies/{body.pk}/members", {"person_id": world.resident_b.pk})
    missing = call("post", f"bodies/{body.pk}/members", {"person_id": 99999999})
    assert outside.status_code == missing.status_code == 400
    assert outside.json()["code"] == missing.json()["code"] == "unknown_person"
    unit = call("post", f"bodies/{body.pk}/members", {"person_id": village.adults[1].pk,
                                                      "unit_id": world.committee_b.pk})
    assert unit.status_code == 400 and unit.json()["code"] == "unknown_organisation"
    assert not BodyMember.objects.filter(person__in=[world.resident_b, village.adults[1]]).exists()


# --- meetings and motions ----------------------------------------------------------------------------------

def test_attendance_of_someone_out_of_scope_is_an_unknown_person_and_of_a_villager_off_the_roll_is_refused(village,
                                                                                                          world):
    meeting, starts = village.open_meeting("party_branch_committee", present=[])
    with clock.frozen_at(starts + dt.timedelta(minutes=5)):
        with pytest.raises(ValidationFailed) as err:
            services.record_attendance(village.officer, meeting, world.resident_b)
        assert err.value.code == "unknown_person"
        with pytest.raises(ValidationFailed) as err:
            services.record_attendance(village.officer, meeting, village.adults[11])
        assert err.value.code == "not_on_roll"
        entry = services.record_attendance(village.officer, meeting, village.adults[1])
    assert entry.present_since is not None


def test_a_motion_cannot_be_put_on_another_communitys_topic(village, elsewhere):
    meeting, starts = village.open_meeting("two_committees_joint_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        with pytest.raises(ValidationFailed) as err:
            services.open_motion(village.officer, meeting, text="同意", topic=elsewhere.topic)
        assert err.value.code == "wrong_region"
        assert not Motion.objects.filter(meeting=meeting).exists()
        own = services.propose_topic(village.officer, region=village.village, title="t", description="d",
                                     origin="organisation")
        assert services.open_motion(village.officer, meeting, text="同意", topic=own).topic == own


def test_through_the_api_a_motion_on_another_communitys_topic_is_refused(village, elsewhere, api):
    meeting, starts = village.open_meeting("two_committees_joint_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        response = api(village.officer)("post", f"meetings/{meeting.pk}/motions",
                                        {"text": "同意", "topic_id": elsewhere.topic.pk})
    assert response.status_code == 400 and response.json()["code"] == "wrong_region"
    assert not Motion.objects.filter(meeting=meeting).exists()


# --- stage records -------------------------------------------------------------------------------------------

def test_a_stage_cannot_rest_on_another_communitys_meeting(village, elsewhere):
    topic = _topic_in_procedure(village)
    first = services.topic_procedure(topic).stages[0].code
    with pytest.raises(ValidationFailed) as err:
        services.record_stage(village.officer, topic, first, meeting=elsewhere.meeting, motion=elsewhere.motion)
    assert err.value.code == "wrong_region"
    assert not StageRecord.objects.exists()


def test_a_step_stage_cannot_carry_another_topics_motion(village, elsewhere):
    topic = _topic_in_procedure(village, "community_consultation")
    first = services.topic_procedure(topic).stages[0].code
    with pytest.raises(ValidationFailed) as err:
        services.record_stage(village.officer, topic, first, motion=elsewhere.motion)
    assert err.value.code == "wrong_motion"
    assert not StageRecord.objects.exists()
    record = services.record_stage(village.officer, topic, first)
    assert record.motion is None and record.outcome == "done"


def test_through_the_api_a_stage_citing_another_communitys_vote_is_refused(village, elsewhere, api):
    topic = _topic_in_procedure(village)
    first = services.topic_procedure(topic).stages[0].code
    response = api(village.officer)("post", f"topics/{topic.pk}/stages", {
        "stage": first, "meeting_id": elsewhere.meeting.pk, "motion_id": elsewhere.motion.pk})
    assert response.status_code == 400 and response.json()["code"] == "wrong_region"
    assert not StageRecord.objects.exists()


# --- disclosure ------------------------------------------------------------------------------------------

def test_a_notice_cannot_be_about_another_communitys_topic(village, elsewhere):
    with pytest.raises(ValidationFailed) as err:
        services.publish(village.officer, region=village.village, kind="resolution", title="决议公开", body="内容",
                         notice_days=7, topic=elsewhere.topic)
    assert err.value.code == "wrong_region"
    assert not Disclosure.objects.filter(topic=elsewhere.topic).exists()
    own = _topic_in_procedure(village)
    notice = services.publish(village.officer, region=village.village, kind="resolution", title="决议公开",
                              body="内容", notice_days=7, topic=own)
    assert notice.topic == own


def test_through_the_api_a_notice_about_another_communitys_topic_is_refused(village, elsewhere, api):
    response = api(village.officer)("post", "disclosures", {
        "region_id": village.village.pk, "kind": "resolution", "title": "决议公开", "body": "内容",
        "notice_days": 7, "topic_id": elsewhere.topic.pk})
    assert response.status_code == 400 and response.json()["code"] == "wrong_region"
    assert not Disclosure.objects.filter(topic=elsewhere.topic).exists()
