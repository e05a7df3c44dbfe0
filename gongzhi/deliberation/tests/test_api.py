"""deliberation's JSON API: proposing and reading topics, bad input as 4xx JSON with nothing stored, a
meeting's quorum, a secret ballot through to the published list and its recount, the disclosure board."""

import datetime as dt
import json

import pytest

from gongzhi.core import clock
from gongzhi.core.models import ApiToken

from gongzhi.deliberation import moderation, services
from gongzhi.deliberation.models import Disclosure, Motion, Topic

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


def test_a_resident_proposes_a_topic_and_anyone_reads_it_without_signing_in(village, api):
    response = api(village.adults[6].user)("post", "topics", {"region_id": village.village.pk, "title": "修路",
                                                              "description": "村口积水", "support_threshold": 3})
    assert response.status_code == 201, response.content
    topic_id = response.json()["id"]
    # Held for moderation: not found for the public until an officer publishes it.
    assert response.json()["status"] == "pending" and api()("get", f"topics/{topic_id}").status_code == 404
    moderation.approve_topic(village.officer, Topic.objects.get(pk=topic_id))
    public = api()("get", f"topics/{topic_id}")
    assert public.status_code == 200
    body = public.json()
    assert body["status"] == "collecting" and body["support_threshold"] == 3 and body["stages"] == []
    assert "proposer" not in body and village.adults[6].name not in public.content.decode()


@pytest.mark.parametrize("payload, code", [
    ({"region_id": 999999, "title": "x", "description": "y"}, "unknown_region"),
    # Refused by the OpenAPI document's own constraints (minLength, enum): the generic "invalid".
    ({"title": "", "description": "y"}, "invalid"),
    ({"title": "x", "description": "y", "origin": "nowhere"}, "invalid"),
])
def test_bad_proposals_are_refused_with_a_reason_and_store_nothing(village, api, payload, code):
    payload = {"region_id": village.village.pk, **payload}
    response = api(village.adults[6].user)("post", "topics", payload)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not Topic.objects.exists()


def test_writing_needs_a_sign_in(village, api):
    response = api()("post", "topics", {"region_id": village.village.pk, "title": "x", "description": "y"})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_secret_ballot_through_the_api_then_the_published_list_and_a_recount(village, api):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    assert api()("get", f"meetings/{meeting.pk}/quorum").json()["met"] is True
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        opened = api(village.officer)("post", f"meetings/{meeting.pk}/motions",
                                      {"text": "选址", "method": "plurality", "options": ["村东", "村西"], "secret": True})
        assert opened.status_code == 201, opened.content
        motion_id = opened.json()["id"]
        receipts = []
        for person, choice in zip(village.adults[:5], ["村东", "村西", "村东", "村东", "村西"]):
            receipt = api(person.user)("post", f"motions/{motion_id}/ballots", {"choice": choice})
            assert receipt.status_code == 201
            receipts.append((receipt.json(), choice))
        second = api(village.adults[0].user)("post", f"motions/{motion_id}/ballots", {"choice": "村西"})
        assert second.status_code == 409 and second.json()["code"] == "already_voted"
        unknown = api(village.adults[5].user)("post", f"motions/{motion_id}/ballots", {"choice": "村北"})
        assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_option"
        early = api()("get", f"motions/{motion_id}/ballots")
        assert early.status_code == 400 and early.json()["code"] == "vote_open"
        closed = api(village.officer)("post", f"motions/{motion_id}/close")
    assert closed.json()["result"]["tally"]["winners"] == ["村东"]
    published = {row["tracker"]: row["choice"] for row in api()("get", f"motions/{motion_id}/ballots").json()}
    assert len(published) == 5
    for receipt, choice in receipts:
        assert published[receipt["tracker"]] == choice
        assert services.tracker_for(motion_id, receipt["nonce"], choice) == receipt["tracker"]
    recount = api()("get", f"motions/{motion_id}/recount").json()
    assert recount["matches_published_result"] is True
    late = api(village.adults[6].user)("post", f"motions/{motion_id}/ballots", {"choice": "村西"})
    assert late.status_code == 400 and late.json()["code"] == "vote_closed"
    assert Motion.objects.get(pk=motion_id).ballots.count() == 5


def test_the_roll_with_names_is_for_officers_only(village, api):
    meeting, _ = village.open_meeting("villagers_meeting", present=village.adults[:2])
    assert api(village.adults[6].user)("get", f"meetings/{meeting.pk}/roll").status_code == 403
    roll = api(village.officer)("get", f"meetings/{meeting.pk}/roll").json()
    assert len(roll) == 12 and sum(row["present"] for row in roll) == 2
    public = api()("get", f"meetings/{meeting.pk}").content.decode()
    assert village.adults[0].name not in public


def test_the_disclosure_board_is_public_and_scrubs_objections(village, api):
    item = services.publish(village.officer, region=village.village, kind="finances", title="财务公开", body="收支",
                            notice_days=5)
    filed = api(village.adults[7].user)("post", f"disclosures/{item.pk}/objections",
                                        {"text": "请联系我 13900002222 说明支出"})
    assert filed.status_code == 201
    board = api()("get", f"disclosures?region_id={village.village.pk}")
    assert board.status_code == 200
    text = board.content.decode()
    assert "13900002222" not in text and "139****2222" in text
    refused = api(village.adults[7].user)("post", f"disclosures/{item.pk}/complete")
    assert refused.status_code == 403
    assert Disclosure.objects.get().status == Disclosure.Status.IN_NOTICE


def test_an_officer_attaches_a_document_that_anyone_can_download_with_its_hash(village, api, client):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    topic = services.propose_topic(village.officer, region=village.village, title="冷库", description="方案",
                                   origin="organisation")
    _, raw = ApiToken.issue(village.officer)
    content = "冷库预算：30万元".encode()
    response = client.post(f"{BASE}topics/{topic.pk}/attachments", {"file": SimpleUploadedFile("预算.txt", content)},
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 201, response.content
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    listed = api()("get", f"topics/{topic.pk}/attachments").json()
    assert [a["name"] for a in listed] == ["预算.txt"]
    download = client.get(f"{BASE}attachments/{listed[0]['id']}")
    assert download.status_code == 200 and download.content == content
    _, resident = ApiToken.issue(village.adults[6].user)
    refused = client.post(f"{BASE}topics/{topic.pk}/attachments", {"file": SimpleUploadedFile("x.txt", b"x")},
                          headers={"Authorization": f"Bearer {resident}"})
    assert refused.status_code == 403 and topic.attachments.count() == 1


def test_a_secret_paper_ballot_through_the_api_is_a_roll_mark_and_a_separate_ballot_that_names_no_voter(village, api):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    officer, clerk = api(village.officer), api(village.clerk)
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion_id = officer("post", f"meetings/{meeting.pk}/motions", {"text": "同意", "secret": True}).json()["id"]
        # The old single call (choice and voter together) is refused for a secret vote, and stores nothing.
        joined = officer("post", f"motions/{motion_id}/paper-ballots",
                         {"choice": "yes", "voter_person_id": village.adults[7].pk})
        assert joined.status_code == 400 and joined.json()["code"] == "voter_not_allowed"
        mark = officer("post", f"motions/{motion_id}/paper-voters", {"person_id": village.adults[7].pk})
        assert mark.status_code == 201, mark.content
        assert mark.json() == {"handed_in": 1, "entered": 0, "confirmed": 0, "box_opened": False, "awaiting": []}
        entered = officer("post", f"motions/{motion_id}/paper-ballots", {"choice": "no"})
        assert entered.status_code == 201, entered.content
        body = entered.json()
        assert set(body) == {"ballot", "tracker"} and body["tracker"] is None  # published only with the list
        more = officer("post", f"motions/{motion_id}/paper-ballots", {"choice": "yes"})
        assert more.status_code == 400 and more.json()["code"] == "more_ballots_than_handed_in"
        late = officer("post", f"motions/{motion_id}/paper-voters", {"person_id": village.adults[6].pk})
        assert late.status_code == 400 and late.json()["code"] == "ballot_box_opened"
        assert api(village.adults[6].user)("get", f"motions/{motion_id}/paper-ballots").status_code == 403
        box = clerk("get", f"motions/{motion_id}/paper-ballots").json()
        assert box["awaiting"] == [{"ballot": body["ballot"], "choice": "no", "entered_by_me": False}]
        assert officer("post", f"ballots/{body['ballot']}/confirm").json()["code"] == "same_person"
        assert clerk("post", f"ballots/{body['ballot']}/confirm").status_code == 200
        closed = officer("post", f"motions/{motion_id}/close").json()
    assert closed["result"]["tally"]["no"] == 1 and closed["result"]["paper"] == {"handed_in": 1, "entered": 1}
    assert [row["choice"] for row in api()("get", f"motions/{motion_id}/ballots").json()] == ["no"]


def test_an_open_votes_paper_ballot_through_the_api_names_its_voter_and_answers_its_tracker(village, api):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    officer = api(village.officer)
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion_id = officer("post", f"meetings/{meeting.pk}/motions", {"text": "同意"}).json()["id"]
        refused = officer("post", f"motions/{motion_id}/paper-voters", {"person_id": village.adults[7].pk})
        assert refused.status_code == 400 and refused.json()["code"] == "not_secret"
        entered = officer("post", f"motions/{motion_id}/paper-ballots",
                          {"choice": "yes", "voter_person_id": village.adults[7].pk})
        assert entered.status_code == 201 and len(entered.json()["tracker"]) == 64
