"""The deliberation pages: the topic list and a topic's page (support, discussion, documents, the opinion
map's vote card and moderation), a meeting's page (roll for officers only, two-person attendance, live
quorum, motions, ballots with their tracker), a motion's result with its published ballot list, and the
disclosure board. Public pages show no resident's name or phone; a refused act shows its reason with a
4xx status and changes nothing."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.deliberation import moderation, services
from gongzhi.deliberation.models import (Attachment, Ballot, Comment, Disclosure, Meeting, Motion, Objection, RollEntry,
                                         Statement, StatementVote, Support, Topic, VoterMark)
from gongzhi.org.tests import factories as f

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
PHONE = "13912345678"


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


def names(village):
    return [p.name for p in village.adults]


def assert_no_names(page: str, village):
    for name in names(village):
        assert name not in page
    assert "13812345678" not in page  # the phone every factory person has


def organisation_topic(village, title="村口道路修缮"):
    return services.propose_topic(village.officer, region=village.village, title=title, description="雨天积水，需要修缮",
                                  origin="organisation")


def topic_url(topic):
    return reverse("deliberation:topic", args=[topic.pk])


def page(response) -> str:
    return response.content.decode()


# --- the topic list ---------------------------------------------------------------------------------------

def test_the_topic_list_is_public_filters_by_status_and_names_no_one(as_, village):
    proposal = services.propose_topic(village.adults[6].user, region=village.village, title="增设路灯",
                                      description="村西路段夜里太黑", support_threshold=3)
    held = services.propose_topic(village.adults[8].user, region=village.village, title="村口装摄像头",
                                  description="防盗")
    proposal = moderation.approve_topic(village.officer, proposal)
    decided = organisation_topic(village, title="垃圾分类方案")
    response = as_().get(reverse("deliberation:topics"))
    assert response.status_code == 200
    body = page(response)
    assert "增设路灯" in body and "垃圾分类方案" in body and "support 0 / 3" in body
    assert held.title not in body  # still awaiting moderation
    assert_no_names(body, village)
    assert "Sign in to propose a topic" in body
    only_collecting = page(as_().get(reverse("deliberation:topics"), {"status": "collecting"}))
    assert proposal.title in only_collecting and decided.title not in only_collecting
    elsewhere = page(as_().get(reverse("deliberation:topics"), {"region": village.world.community_b.pk}))
    assert proposal.title not in elsewhere


def test_a_resident_proposes_a_topic_where_they_live(as_, village):
    client = as_(village.adults[6].user)
    form = page(client.get(reverse("deliberation:topics")))
    assert f'value="{village.village.pk}"' in form and f'value="{village.grid.pk}"' in form  # community and grid
    response = client.post(reverse("deliberation:propose"), {"region": village.village.pk, "title": "修建健身广场",
                                                              "description": "老人和孩子没有活动场地"})
    topic = Topic.objects.get(title="修建健身广场")
    assert response.status_code == 302 and response["Location"] == topic_url(topic)
    assert topic.status == Topic.Status.PENDING and topic.proposer == village.adults[6].user
    own = client.get(topic_url(topic))  # the proposer sees their held topic, and why it is not public yet
    assert own.status_code == 200 and "Awaiting moderation" in page(own)
    assert as_(village.adults[7].user).get(topic_url(topic)).status_code == 404


def test_a_proposal_for_another_community_is_refused_with_its_reason_and_saves_nothing(as_, village):
    outsider = f.user("outsider")
    f.person("外人", village.world.household_b, user=outsider)
    response = as_(outsider).post(reverse("deliberation:propose"), {"region": village.village.pk, "title": "修路",
                                                                   "description": "d"})
    assert response.status_code == 403
    assert "You are not allowed to do this" in page(response) and "Residents take part" in page(response)
    empty = as_(village.adults[6].user).post(reverse("deliberation:propose"), {"region": village.village.pk,
                                                                              "title": "", "description": "d"})
    assert empty.status_code == 400 and "Check the form: nothing was saved." in page(empty)
    assert not Topic.objects.exists()


# --- a topic's page ---------------------------------------------------------------------------------------

def test_the_topic_page_is_public_scrubbed_and_shows_hidden_comments_by_their_reason(as_, village):
    topic = services.propose_topic(village.officer, region=village.village, title="停车难", description="晚上车位不够",
                                   origin="agenda", evidence={"kind": "issue", "volume": 7, "grids": ["桃源一组"],
                                                              "samples": [f"有人说电话{PHONE}"]})
    services.add_comment(village.adults[6].user, topic, f"我同意，有事打{PHONE}")
    rude = services.add_comment(village.adults[7].user, topic, "骂人的话")
    services.hide_comment(village.officer, rude, "人身攻击")
    Attachment.objects.create(topic=topic, name="方案.pdf", content_type="application/pdf", content=b"%PDF",
                              sha256="0" * 64, size=4, uploaded_by=village.officer, at=clock.now())
    response = as_().get(topic_url(topic))
    assert response.status_code == 200
    body = page(response)
    assert "晚上车位不够" in body and "桃源一组" in body and "方案.pdf" in body
    assert "139****5678" in body and PHONE not in body
    assert "人身攻击" in body and "骂人的话" not in body
    assert_no_names(body, village)
    assert "Sign in to vote" in body and "Sign in to take part" in body


def test_an_unknown_topic_is_a_404_page(as_, village):
    assert as_().get(reverse("deliberation:topic", args=[999])).status_code == 404


def test_support_is_counted_once_and_a_second_support_is_refused(as_, village):
    topic = services.propose_topic(village.adults[6].user, region=village.village, title="路灯", description="不亮",
                                   support_threshold=5)
    moderation.approve_topic(village.officer, topic)
    client = as_(village.adults[7].user)
    assert "I support this topic" in page(client.get(topic_url(topic)))
    response = client.post(reverse("deliberation:support", args=[topic.pk]))
    assert response.status_code == 302
    again = client.post(reverse("deliberation:support", args=[topic.pk]))
    assert again.status_code == 409 and "you already support this topic" in page(again)
    topic.refresh_from_db()
    assert topic.support_count == 1 and Support.objects.count() == 1


def test_a_resident_posts_and_reports_a_comment_and_only_an_officer_hides_it(as_, village):
    topic = organisation_topic(village)
    client = as_(village.adults[6].user)
    assert client.post(reverse("deliberation:add_comment", args=[topic.pk]), {"text": "赞成"}).status_code == 302
    comment = Comment.objects.get()
    assert client.post(reverse("deliberation:report_comment", args=[comment.pk]),
                       {"reason": "广告"}).status_code == 302
    refused = as_(village.adults[7].user).post(reverse("deliberation:hide_comment", args=[comment.pk]),
                                              {"reason": "x"})
    assert refused.status_code == 403
    comment.refresh_from_db()
    assert not comment.is_hidden
    officer = as_(village.officer)
    assert "1 report" in page(officer.get(topic_url(topic)))
    assert officer.post(reverse("deliberation:hide_comment", args=[comment.pk]),
                        {"reason": "与议题无关"}).status_code == 302
    comment.refresh_from_db()
    assert comment.hidden_reason == "与议题无关"


def test_an_officer_attaches_a_document_anyone_downloads_and_a_resident_cannot_attach(as_, village):
    topic = organisation_topic(village)
    upload = SimpleUploadedFile("预算.csv", "项目,金额\n修路,30000\n".encode(), content_type="text/csv")
    assert as_(village.officer).post(reverse("deliberation:add_attachment", args=[topic.pk]),
                                     {"file": upload}).status_code == 302
    found = Attachment.objects.get()
    download = as_().get(reverse("deliberation:attachment", args=[found.pk]))
    assert download.status_code == 200 and download.content.decode().startswith("项目")
    assert download["Content-Disposition"].startswith("attachment;")
    other = SimpleUploadedFile("x.txt", b"x", content_type="text/plain")
    refused = as_(village.adults[6].user).post(reverse("deliberation:add_attachment", args=[topic.pk]),
                                              {"file": other})
    assert refused.status_code == 403 and Attachment.objects.count() == 1


def test_the_procedure_shows_done_next_and_the_reason_of_a_return(as_, village):
    topic = organisation_topic(village)
    refused = as_(village.adults[6].user).post(reverse("deliberation:start_procedure", args=[topic.pk]),
                                              {"procedure": "four_deliberations_two_disclosures"})
    assert refused.status_code == 403
    assert as_(village.officer).post(reverse("deliberation:start_procedure", args=[topic.pk]),
                                     {"procedure": "four_deliberations_two_disclosures"}).status_code == 302
    topic.refresh_from_db()
    body = page(as_().get(topic_url(topic)))
    assert 'class="stage stage-next"' in body and body.count('class="stage stage-later"') == 5
    stage = services.topic_procedure(topic).stages[0]
    meeting, starts = village.open_meeting("party_branch_committee", topic=topic)
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="提议", topic=topic, stage_code=stage.code)
        for entry in meeting.roll.select_related("person"):
            services.cast_ballot(entry.person.user, motion, "no")
        services.close_motion(village.officer, motion)
        services.record_stage(village.officer, topic, stage.code, meeting=meeting, motion=motion)
    body = page(as_().get(topic_url(topic)))
    assert "Returned at" in body and "the vote" in body


def test_an_officer_calls_a_meeting_on_the_topic_with_due_notice(as_, village):
    topic = organisation_topic(village)
    body = village.body("villagers_meeting")
    data = {"body": body.pk, "title": "村民会议", "agenda": "议修路", "place": "村委会"}
    too_soon = as_(village.officer).post(reverse("deliberation:schedule_meeting", args=[topic.pk]),
                                         {**data, "starts_at": "2026-03-04T09:00"})
    assert too_soon.status_code == 400 and "needs 7 days" in page(too_soon)
    assert not Meeting.objects.exists()
    response = as_(village.officer).post(reverse("deliberation:schedule_meeting", args=[topic.pk]),
                                         {**data, "starts_at": "2026-03-10T09:00"})
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("deliberation:meeting", args=[meeting.pk])
    assert meeting.topic == topic


# --- the opinion map ----------------------------------------------------------------------------------------

def statements(village, topic, texts=("修路先修村西", "费用由村集体出", f"有问题找{PHONE}")):
    return [services.add_statement(village.officer, topic, t) for t in texts]


def test_a_resident_votes_in_the_card_through_htmx_and_the_card_moves_on(as_, village):
    topic = organisation_topic(village)
    first, second, third = statements(village, topic)
    client = as_(village.adults[6].user)
    card = client.get(topic_url(topic)).context["card"]
    assert card["statement"] in (first, second, third) and card["voted"] == 0 and card["total"] == 3
    shown = [card["statement"]]
    response = client.post(reverse("deliberation:vote_statement", args=[shown[0].pk]), {"vote": "1"}, **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "statement-voted"
    assert StatementVote.objects.get(participant=village.adults[6].user).statement == shown[0]
    after = page(response)
    assert "Your vote is counted." in after and "Statement 2 of 3" in after
    assert f'/statements/{shown[0].pk}/vote"' not in after
    assert PHONE not in after  # the third statement's phone, if it is the one shown, is scrubbed


def test_a_vote_on_a_statement_taken_out_is_refused_in_the_card_and_not_stored(as_, village):
    topic = organisation_topic(village)
    first, *_ = statements(village, topic)
    services.moderate_statement(village.officer, first, accept=False, reason="重复")
    client = as_(village.adults[6].user)
    refused = client.post(reverse("deliberation:vote_statement", args=[first.pk]), {"vote": "1"}, **HTMX)
    assert refused.status_code == 400 and "this statement is not open for votes" in page(refused)
    assert "HX-Trigger" not in refused
    nonsense = client.post(reverse("deliberation:vote_statement", args=[first.pk]), {"vote": "7"}, **HTMX)
    assert nonsense.status_code == 400 and "Choose agree, disagree or pass." in page(nonsense)
    without_js = client.post(reverse("deliberation:vote_statement", args=[first.pk]), {"vote": "1"})
    assert without_js.status_code == 400 and "<h1>" in page(without_js) and "not open for votes" in page(without_js)
    assert not StatementVote.objects.exists()
    second = Statement.objects.filter(status=Statement.Status.ACCEPTED).first()
    done = client.post(reverse("deliberation:vote_statement", args=[second.pk]), {"vote": "-1"})
    assert done.status_code == 302 and done["Location"].endswith("#vote")
    assert StatementVote.objects.get().vote == -1


def test_an_outsider_sees_no_vote_buttons_and_cannot_vote(as_, village):
    topic = organisation_topic(village)
    first, *_ = statements(village, topic)
    outsider = f.user("outsider")
    f.person("外人", village.world.household_b, user=outsider)
    client = as_(outsider)
    assert "Only residents of this place" in page(client.get(topic_url(topic)))
    refused = client.post(reverse("deliberation:vote_statement", args=[first.pk]), {"vote": "1"})
    assert refused.status_code == 403 and not StatementVote.objects.exists()


def test_statements_are_added_once_and_a_moderated_one_shows_its_reason_not_its_text(as_, village):
    topic = organisation_topic(village)
    client = as_(village.adults[6].user)
    url = reverse("deliberation:add_statement", args=[topic.pk])
    assert client.post(url, {"text": "先修排水沟"}).status_code == 302
    again = client.post(url, {"text": "先修排水沟"})
    assert again.status_code == 409 and "the same statement is already there" in page(again)
    statement = Statement.objects.get()
    reporter = as_(village.adults[7].user)
    assert reporter.post(reverse("deliberation:report_statement", args=[statement.pk]),
                         {"reason": "含广告"}).status_code == 302
    blank = reporter.post(reverse("deliberation:report_statement", args=[statement.pk]), {"reason": ""})
    assert blank.status_code == 400 and statement.reports.count() == 1
    client = as_(village.adults[6].user)
    refused = client.post(reverse("deliberation:moderate_statement", args=[statement.pk]),
                          {"accept": "0", "reason": "不喜欢"})
    assert refused.status_code == 403
    officer = as_(village.officer)
    assert "1 report" in page(officer.get(topic_url(topic)))
    assert officer.post(reverse("deliberation:moderate_statement", args=[statement.pk]),
                        {"accept": "0", "reason": "含广告"}).status_code == 302
    body = page(as_().get(topic_url(topic)))
    assert "含广告" in body and "先修排水沟" not in body
    officer = as_(village.officer)
    assert "先修排水沟" in page(officer.get(topic_url(topic)))  # moderators still read it
    assert officer.post(reverse("deliberation:moderate_statement", args=[statement.pk]),
                        {"accept": "1"}).status_code == 302
    statement.refresh_from_db()
    assert statement.status == Statement.Status.ACCEPTED


def vote_a_map(village, topic):
    """Two camps of six on six statements; everyone agrees with the last two."""
    texts = ["保留集体林地", "增加停车位", "禁止焚烧秸秆", "建文化广场", "垃圾定点投放", "公开财务明细"]
    rows = [services.add_statement(village.officer, topic, t) for t in texts]
    for i, person in enumerate(village.adults):
        side = 1 if i % 2 else -1
        for j, statement in enumerate(rows):
            services.vote_statement(person.user, statement, 1 if j >= 4 else (side if j % 2 else -side))
    return rows


def test_the_map_shows_anonymous_points_groups_and_consensus_and_an_officer_drafts_from_it(as_, village):
    topic = organisation_topic(village)
    vote_a_map(village, topic)
    response = as_().get(topic_url(topic))
    data = response.context["map"]["plot"]
    assert len(data["points"]) == len(village.adults)
    assert all(set(p) == {"x", "y", "group"} for p in data["points"])
    body = page(response)
    assert 'id="opinion-map-data"' in body and "plotly/plotly.min.js" in body and "web/deliberation.js" in body
    assert "What each group thinks" in body and "Group A" in body
    assert_no_names(body, village)
    assert "Draft resolution from consensus" not in body
    section = as_().get(reverse("deliberation:opinion_map", args=[topic.pk]))
    assert section.status_code == 200 and json.loads(
        section.content.decode().split('id="opinion-map-data" type="application/json">')[1].split("</script>")[0])
    refused = as_(village.adults[6].user).post(reverse("deliberation:draft_resolution", args=[topic.pk]))
    assert refused.status_code == 403
    topic.refresh_from_db()
    assert topic.draft_resolution == ""
    officer = as_(village.officer)
    assert "Draft resolution from consensus" in page(officer.get(topic_url(topic)))
    assert officer.post(reverse("deliberation:draft_resolution", args=[topic.pk])).status_code == 302
    topic.refresh_from_db()
    assert topic.draft_resolution.startswith("1. ")
    assert topic.draft_resolution.splitlines()[0][3:] in page(as_().get(topic_url(topic)))


# --- a meeting's page -----------------------------------------------------------------------------------------

def test_the_meeting_page_is_public_with_figures_but_no_roll(as_, village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:5])
    with clock.frozen_at(starts + dt.timedelta(minutes=10)):
        response = as_().get(reverse("deliberation:meeting", args=[meeting.pk]))
    assert response.status_code == 200
    body = page(response)
    assert response.context["quorum"]["due"] == 12 and response.context["quorum"]["present"] == 5
    assert 'data-figure="present">5<' in body and 'id="roll"' not in body
    assert_no_names(body, village)
    resident = page(as_(village.adults[9].user).get(reverse("deliberation:meeting", args=[meeting.pk])))
    assert 'id="roll"' not in resident and "Sign in (签到)" in resident
    own_name = f'<span class="who-name">{village.adults[9].name}</span>'
    assert own_name in resident  # the top bar names the signed-in resident themself; no one else is named
    assert_no_names(resident.replace(own_name, ""), village)


def test_officers_see_the_roll_with_names(as_, village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:5])
    body = page(as_(village.officer).get(reverse("deliberation:meeting", args=[meeting.pk])))
    assert 'id="roll"' in body and all(name in body for name in names(village))


def test_a_member_signs_in_and_the_quorum_box_counts_them(as_, village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:6])
    quorum_url = reverse("deliberation:quorum", args=[meeting.pk])
    with clock.frozen_at(starts + dt.timedelta(minutes=10)):
        before = page(as_().get(quorum_url))
        assert 'data-figure="present">6<' in before and "not met" in before and 'hx-trigger="every 3s"' in before
        response = as_(village.adults[6].user).post(reverse("deliberation:sign_in", args=[meeting.pk]))
        assert response.status_code == 302
        after = page(as_().get(quorum_url))
        assert 'data-figure="present">7<' in after and 'data-figure="met">met<' in after
        again = as_(village.adults[6].user).post(reverse("deliberation:sign_in", args=[meeting.pk]))
        assert again.status_code == 409 and "you have already signed in" in page(again)
        refused = as_(village.clerk).post(reverse("deliberation:sign_in", args=[meeting.pk]))
    assert refused.status_code == 403 and "not on this meeting" in page(refused)
    assert RollEntry.objects.filter(meeting=meeting, present_since__isnull=False).count() == 7


def test_the_secretary_opens_the_meeting_at_its_time_not_before(as_, village):
    body = village.body("villagers_meeting")
    starts = clock.now() + dt.timedelta(days=7)
    meeting = services.schedule_meeting(village.officer, body, title="村民会议", agenda="议程", starts_at=starts)
    url = reverse("deliberation:open_meeting", args=[meeting.pk])
    early = as_(village.officer).post(url)
    assert early.status_code == 400 and "cannot open before its announced time" in page(early)
    assert not RollEntry.objects.exists()
    assert as_(village.adults[6].user).post(url).status_code == 403
    with clock.frozen_at(starts):
        assert as_(village.officer).post(url).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.OPEN and meeting.roll.count() == 12


def test_attendance_entered_by_the_secretary_counts_once_another_officer_confirms(as_, village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:6])
    with clock.frozen_at(starts + dt.timedelta(minutes=15)):
        client = as_(village.officer)
        assert client.post(reverse("deliberation:record_attendance", args=[meeting.pk]),
                           {"person": village.adults[6].pk}).status_code == 302
        entry = RollEntry.objects.get(meeting=meeting, person=village.adults[6])
        body = page(client.get(reverse("deliberation:meeting", args=[meeting.pk])))
        assert "awaiting a second officer" in body and "entered by you" in body
        same = client.post(reverse("deliberation:confirm_attendance", args=[entry.pk]))
        assert same.status_code == 400 and "a second person must confirm" in page(same)
        entry.refresh_from_db()
        assert not entry.is_present
        clerk = as_(village.clerk)
        assert 'Confirm present' in page(clerk.get(reverse("deliberation:meeting", args=[meeting.pk])))
        assert clerk.post(reverse("deliberation:confirm_attendance", args=[entry.pk])).status_code == 302
    entry.refresh_from_db()
    assert entry.is_present and services.quorum(meeting).is_met


def test_a_motion_opens_only_with_a_quorum(as_, village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:6])
    url = reverse("deliberation:open_motion", args=[meeting.pk])
    data = {"text": "同意修路", "method": "yes_no", "options": "", "seats": 1}
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        refused = as_(village.officer).post(url, data)
        assert refused.status_code == 400 and "no quorum" in page(refused).lower()
        assert "同意修路" in page(refused)  # the form keeps what was typed
        assert not Motion.objects.exists()
        services.sign_in(village.adults[6].user, meeting)
        assert as_(village.adults[6].user).post(url, data).status_code == 403
        assert as_(village.officer).post(url, data).status_code == 302
    assert Motion.objects.get().text == "同意修路"


def open_vote(village, *, method="yes_no", options=(), secret=False, present=8):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:present])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="表决事项", method=method, options=list(options),
                                      secret=secret)
    return meeting, motion, starts + dt.timedelta(minutes=25)


def test_a_member_casts_a_secret_ballot_keeps_the_tracker_and_finds_it_published_after_close(as_, village):
    meeting, motion, now = open_vote(village, secret=True)
    client = as_(village.adults[3].user)
    with clock.frozen_at(now):
        form = page(client.get(reverse("deliberation:meeting", args=[meeting.pk])))
        assert "Cast my ballot" in form and 'name="choice" value="abstain"' in form
        response = client.post(reverse("deliberation:cast_ballot", args=[motion.pk]), {"choice": "yes"}, **HTMX)
        assert response.status_code == 201
        tracker, nonce = response.context["m"]["receipt"]["tracker"], response.context["m"]["receipt"]["nonce"]
        body = page(response)
        assert tracker in body and nonce in body and "shown only this once" in body
        assert services.tracker_for(motion.pk, nonce, "yes") == tracker
        ballot = Ballot.objects.get()  # sealed while the vote is open: no voter, and no tracker in the clear
        assert ballot.voter is None and ballot.tracker is None and ballot.sealed
        again = client.post(reverse("deliberation:cast_ballot", args=[motion.pk]), {"choice": "no"}, **HTMX)
        assert again.status_code == 409 and "already voted" in page(again)
        assert "You have voted on this motion." in page(client.get(reverse("deliberation:meeting", args=[meeting.pk])))
        open_page = page(as_().get(reverse("deliberation:motion", args=[motion.pk])))
        assert tracker not in open_page and "Voting is open: 1 ballot so far." in open_page
        services.close_motion(village.officer, motion)
    result = as_().get(reverse("deliberation:motion", args=[motion.pk]))
    body = page(result)
    assert tracker in body and "/api/v1/deliberation/motions/%d/recount" % motion.pk in body
    assert "not passed" in body  # 1 yes of 8 present
    assert_no_names(body, village)


def test_someone_absent_or_off_the_roll_cannot_vote(as_, village):
    meeting, motion, now = open_vote(village)
    with clock.frozen_at(now):
        absent = as_(village.adults[10].user)
        assert "Sign in to the meeting above to vote." in page(absent.get(reverse("deliberation:meeting",
                                                                                  args=[meeting.pk])))
        refused = absent.post(reverse("deliberation:cast_ballot", args=[motion.pk]), {"choice": "yes"})
        assert refused.status_code == 403 and "sign in to the meeting before voting" in page(refused)
        blank = as_(village.adults[1].user).post(reverse("deliberation:cast_ballot", args=[motion.pk]), {})
        assert blank.status_code == 400 and "choose one" in page(blank)
    assert not Ballot.objects.exists()


def test_ranked_and_approval_ballots_are_read_from_their_forms(as_, village):
    meeting, ranked, now = open_vote(village, method="irv", options=["甲", "乙", "丙"])
    with clock.frozen_at(now):
        approval = services.open_motion(village.officer, meeting, text="多选", method="approval",
                                        options=["东", "西", "南"])
        client = as_(village.adults[2].user)
        body = page(client.get(reverse("deliberation:meeting", args=[meeting.pk])))
        assert 'name="rank-2"' in body and 'type="checkbox" name="choice" value="西"' in body
        tie = client.post(reverse("deliberation:cast_ballot", args=[ranked.pk]), {"rank-0": "1", "rank-1": "1"})
        assert tie.status_code == 400 and "two options have rank 1" in page(tie)
        assert client.post(reverse("deliberation:cast_ballot", args=[ranked.pk]),
                           {"rank-0": "2", "rank-1": "", "rank-2": "1"}).status_code == 201
        assert client.post(reverse("deliberation:cast_ballot", args=[approval.pk]),
                           {"choice": ["东", "南"]}).status_code == 201
    assert Ballot.objects.get(motion=ranked).choice == ["丙", "甲"]
    assert Ballot.objects.get(motion=approval).choice == ["东", "南"]


def test_the_result_page_shows_instant_runoff_rounds(as_, village):
    meeting, motion, now = open_vote(village, method="irv", options=["甲", "乙", "丙"], secret=True, present=9)
    ballots = [["甲", "乙"], ["乙", "甲"], ["丙", "乙"], ["甲"], ["乙"], ["丙", "甲"], ["甲", "丙"], ["乙", "丙"],
               ["丙", "乙"]]
    with clock.frozen_at(now):
        for person, choice in zip(village.adults[:9], ballots):
            services.cast_ballot(person.user, motion, choice)
        services.close_motion(village.officer, motion)
    response = as_().get(reverse("deliberation:motion", args=[motion.pk]))
    result = response.context["result"]
    assert len(result["rounds"]) >= 2 and result["winners"]
    body = page(response)
    assert "Round 2" in body and "甲 &gt; 乙" in body and len(response.context["published"]) == 9


def test_a_secret_paper_vote_is_marked_on_the_paper_roll_and_entered_from_the_ballot_box_on_two_pages(as_, village):
    meeting, motion, now = open_vote(village, secret=True)
    officer, handed_in = as_(village.officer), village.adults[7]
    with clock.frozen_at(now):
        meeting_page = page(officer.get(reverse("deliberation:meeting", args=[meeting.pk])))
        assert reverse("deliberation:paper_roll", args=[motion.pk]) in meeting_page
        assert reverse("deliberation:ballot_box", args=[motion.pk]) in meeting_page
        roll = officer.get(reverse("deliberation:paper_roll", args=[motion.pk]))
        assert roll.status_code == 200 and handed_in.name in page(roll)
        # Step one: the roll mark, which takes a person and no choice.
        marked = officer.post(reverse("deliberation:mark_paper_ballot", args=[motion.pk]), {"person": handed_in.pk})
        assert marked.status_code == 302 and marked["Location"] == reverse("deliberation:paper_roll", args=[motion.pk])
        assert VoterMark.objects.get(motion=motion, person=handed_in).is_paper and not Ballot.objects.exists()
        assert "has voted" in page(officer.get(reverse("deliberation:paper_roll", args=[motion.pk])))
        # Step two, on the ballot box page: a choice and no voter (a voter given is refused).
        box = page(officer.get(reverse("deliberation:ballot_box", args=[motion.pk])))
        assert 'name="voter"' not in box and 'name="choice"' in box
        named = officer.post(reverse("deliberation:enter_paper_ballot", args=[motion.pk]),
                             {"choice": "yes", "voter": handed_in.pk})
        assert named.status_code == 400 and "names no voter" in page(named) and not Ballot.objects.exists()
        entered = officer.post(reverse("deliberation:enter_paper_ballot", args=[motion.pk]), {"choice": "yes"})
        assert entered.status_code == 302 and entered["Location"] == reverse("deliberation:ballot_box", args=[motion.pk])
        ballot = Ballot.objects.get()
        assert ballot.voter_id is None and ballot.choice is None  # sealed while the vote is open
        box = page(officer.get(reverse("deliberation:ballot_box", args=[motion.pk])))
        assert "Paper ballots awaiting a second officer" in box and "entered by you" in box
        # Numbered as listed, not by id: the id is only in the clerk's confirm form's address.
        assert "Ballot 1" in box and "Ballot 2" not in box and str(ballot.pk)[:8] not in box
        # The box is open: nobody else can hand one in.
        late = officer.post(reverse("deliberation:mark_paper_ballot", args=[motion.pk]), {"person": village.adults[6].pk})
        assert late.status_code == 400 and "ballot box has been opened" in page(late)
        same = officer.post(reverse("deliberation:confirm_paper_ballot", args=[ballot.pk]))
        assert same.status_code == 400 and "a second person must confirm" in page(same)
        early = officer.post(reverse("deliberation:close_motion", args=[motion.pk]))
        assert early.status_code == 400 and "paper ballots await" in page(early)
        again = as_(handed_in.user).post(reverse("deliberation:cast_ballot", args=[motion.pk]), {"choice": "no"})
        assert again.status_code == 409
        resident = as_(village.adults[5].user)
        assert resident.get(reverse("deliberation:ballot_box", args=[motion.pk])).status_code == 403
        assert resident.get(reverse("deliberation:paper_roll", args=[motion.pk])).status_code == 403
        assert resident.post(reverse("deliberation:mark_paper_ballot", args=[motion.pk]),
                             {"person": village.adults[6].pk}).status_code == 403
        clerk = as_(village.clerk)
        assert "yes" in page(clerk.get(reverse("deliberation:ballot_box", args=[motion.pk]))).lower()
        assert clerk.post(reverse("deliberation:confirm_paper_ballot", args=[ballot.pk])).status_code == 302
        assert as_(village.officer).post(reverse("deliberation:close_motion", args=[motion.pk])).status_code == 302
    motion.refresh_from_db()
    assert motion.status == Motion.Status.CLOSED and motion.result["tally"]["yes"] == 1


def test_an_open_votes_paper_ballot_is_entered_with_its_voter_on_the_ballot_box_page(as_, village):
    meeting, motion, now = open_vote(village)
    with clock.frozen_at(now):
        officer = as_(village.officer)
        box = page(officer.get(reverse("deliberation:ballot_box", args=[motion.pk])))
        assert 'name="voter"' in box and village.adults[7].name in box
        assert officer.get(reverse("deliberation:meeting", args=[meeting.pk])).status_code == 200
        assert officer.post(reverse("deliberation:enter_paper_ballot", args=[motion.pk]),
                            {"choice": "no", "voter": village.adults[7].pk}).status_code == 302
        ballot = Ballot.objects.get()
        assert ballot.voter == village.adults[7] and ballot.choice == "no"
        assert as_(village.clerk).post(reverse("deliberation:confirm_paper_ballot", args=[ballot.pk])).status_code == 302
    assert Ballot.objects.get().confirmed_by == village.clerk


def test_the_meeting_closes_with_minutes_once_its_votes_are_closed(as_, village):
    meeting, motion, now = open_vote(village)
    url = reverse("deliberation:close_meeting", args=[meeting.pk])
    with clock.frozen_at(now):
        refused = as_(village.officer).post(url, {"minutes": "会议记录"})
        assert refused.status_code == 400 and "close the open votes first" in page(refused)
        services.close_motion(village.officer, motion)
        assert as_(village.adults[4].user).post(url, {"minutes": "x"}).status_code == 403
        assert as_(village.officer).post(url, {"minutes": "会议记录：表决一项"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED
    assert "会议记录：表决一项" in page(as_().get(reverse("deliberation:meeting", args=[meeting.pk])))


# --- the disclosure board ----------------------------------------------------------------------------------------

def test_the_board_is_public_with_days_left_and_scrubbed_objections(as_, village):
    item = services.publish(village.officer, region=village.village, kind="finances", title="三季度财务公开",
                            body="收入12万元，支出9万元", notice_days=7)
    objection = services.file_objection(village.adults[9].user, item, f"修路款为何超支？请回电{PHONE}")
    services.answer_objection(village.officer, objection, "因材料涨价，详见附表")
    services.publish(village.officer, region=village.village, kind="resolution", title="决议公开", body="决议",
                     notice_days=5)
    with clock.frozen_at(clock.now() + dt.timedelta(days=2)):
        response = as_().get(reverse("deliberation:disclosures"))
    body = page(response)
    assert "三季度财务公开" in body and "5 days left to object" in body and "3 days left to object" in body
    assert "139****5678" in body and PHONE not in body and "因材料涨价" in body
    assert_no_names(body, village)
    assert "Sign in to object" in body and "Publish a notice" not in body
    only = page(as_().get(reverse("deliberation:disclosures"), {"kind": "resolution"}))
    assert "决议公开" in only and "三季度财务公开" not in only


def test_a_resident_objects_during_the_notice_period_and_not_after(as_, village):
    item = services.publish(village.officer, region=village.village, kind="village_affairs", title="低保名单公示",
                            body="名单", notice_days=7)
    url = reverse("deliberation:file_objection", args=[item.pk])
    field = f"object-{item.pk}-text"
    client = as_(village.adults[8].user)
    assert client.post(url, {field: "有人不符合条件"}).status_code == 302
    with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
        late = client.post(url, {field: "还有问题"})
    assert late.status_code == 400 and "the notice period is over" in page(late)
    assert list(Objection.objects.values_list("text", flat=True)) == ["有人不符合条件"]


def test_an_officer_publishes_and_answers_and_a_resident_can_do_neither(as_, village):
    data = {"region": village.village.pk, "kind": "finances", "title": "财务公开", "body": "明细", "notice_days": 7,
            "topic": ""}
    officer = as_(village.officer)
    assert "Publish a notice" in page(officer.get(reverse("deliberation:disclosures")))
    assert officer.post(reverse("deliberation:publish"), data).status_code == 302
    item = Disclosure.objects.get()
    refused = as_(village.adults[6].user).post(reverse("deliberation:publish"), {**data, "title": "假公示"})
    assert refused.status_code == 403 and Disclosure.objects.count() == 1
    objection = services.file_objection(village.adults[6].user, item, "为什么")
    answer_url = reverse("deliberation:answer_objection", args=[objection.pk])
    field = f"answer-{objection.pk}-answer"
    assert as_(village.adults[7].user).post(answer_url, {field: "我来答"}).status_code == 403
    assert as_(village.officer).post(answer_url, {field: "详见附件"}).status_code == 302
    objection.refresh_from_db()
    assert objection.answer == "详见附件"


def test_the_nav_links_to_deliberation_in_chinese_first(as_, village):
    body = page(as_(language="zh-hans").get(reverse("deliberation:topics")))
    assert 'href="/deliberation/"' in body and '<html lang="zh-hans">' in body
