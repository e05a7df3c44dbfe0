"""The API's side of the meetings index, moderation and the building lead's collected opinions: the same use
cases as the pages, refusals as 4xx JSON with nothing stored."""

import json

import pytest

from gongzhi.core.models import ApiToken
from gongzhi.deliberation import services
from gongzhi.deliberation.models import CollectedOpinion, Topic
from gongzhi.org.tests import factories as f

BASE = "/api/v1/deliberation/"


@pytest.fixture
def api(client):
    def make(user=None):
        headers = {}
        if user is not None:
            _, raw = ApiToken.issue(user)
            headers["Authorization"] = f"Bearer {raw}"

        def call(method, url, body=None):
            kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"} if method == "post" else {}
            return getattr(client, method)(BASE + url, headers=headers, **kwargs)

        return call

    return make


def test_the_meetings_index_lists_by_body_and_state(village, api):
    meeting, _starts = village.open_meeting("party_members_meeting")
    everything = api()("get", "meetings").json()
    assert [m["id"] for m in everything] == [meeting.pk]
    assert api()("get", "meetings?state=upcoming").json() == []
    assert [m["id"] for m in api()("get", f"meetings?state=open&body_id={meeting.body_id}").json()] == [meeting.pk]
    assert api()("get", "meetings?body_id=999999").status_code == 400
    assert api()("get", "meetings?state=later").status_code in (400, 422)


def test_an_officer_publishes_a_held_topic_through_the_api(village, api):
    created = api(village.adults[6].user)("post", "topics", {"region_id": village.village.pk, "title": "修路",
                                                             "description": "积水"}).json()
    assert created["status"] == "pending"
    queue = api(village.officer)("get", "moderation").json()
    assert [t["id"] for t in queue["pending"]] == [created["id"]]
    assert api(village.adults[7].user)("get", "moderation").status_code == 403
    refused = api(village.adults[7].user)("post", f"moderation/topics/{created['id']}/approve")
    assert refused.status_code == 403 and Topic.objects.get().status == "pending"
    done = api(village.officer)("post", f"moderation/topics/{created['id']}/approve")
    assert done.status_code == 200 and done.json()["status"] == "collecting"


def test_reports_through_the_api_hide_a_topic_at_the_threshold(village, api, settings):
    settings.GONGZHI_REPORTS_TO_HIDE = 2
    topic = services.propose_topic(village.officer, region=village.village, title="修桥", description="d",
                                   origin="organisation")
    assert api(village.adults[6].user)("post", f"topics/{topic.pk}/report", {"reason": "广告"}).status_code == 201
    again = api(village.adults[6].user)("post", f"topics/{topic.pk}/report", {"reason": "广告"})
    assert again.status_code == 409 and again.json()["code"] == "already_reported"
    assert api(village.adults[7].user)("post", f"topics/{topic.pk}/report", {"reason": "广告"}).status_code == 201
    assert api()("get", f"topics/{topic.pk}").status_code == 404
    assert api(village.officer)("post", f"moderation/topics/{topic.pk}/restore").json()["id"] == topic.pk
    assert api()("get", f"topics/{topic.pk}").status_code == 200


def test_a_building_lead_records_an_opinion_through_the_api_only_for_their_building(village, api):
    lead = f.official(village.committee, "building_lead", "lead_api", building=village.building)
    topic = services.propose_topic(village.officer, region=village.village, title="停车", description="d",
                                   origin="organisation")
    topic = services.start_procedure(village.officer, topic, "community_consultation")
    services.record_stage(village.officer, topic, "topic_proposal")
    done = api(lead)("post", f"topics/{topic.pk}/collected-opinions",
                     {"person_id": village.adults[0].pk, "stance": "agree"})
    assert done.status_code == 201 and done.json()["stage_code"] == "opinion_seeking"
    outsider = f.person("外人", village.world.household_b, user=f.user("outsider_api"))
    elsewhere = api(lead)("post", f"topics/{topic.pk}/collected-opinions",
                          {"person_id": outsider.pk, "stance": "agree"})
    assert elsewhere.status_code == 404
    assert CollectedOpinion.objects.count() == 1
    assert api()("get", f"topics/{topic.pk}/collected-opinions").json() == {
        "total": 1, "agree": 1, "disagree": 0, "comment": 0, "signature": 0}
