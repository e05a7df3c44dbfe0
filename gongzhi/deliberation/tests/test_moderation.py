"""Moderation as Decidim does it: residents' new topics are held until an officer publishes them (officers and
body members are trusted); a topic or comment reported by enough different people is hidden pending an
officer's review, who restores or removes it with a reason; each decision is an event."""

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import workbench
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.deliberation import moderation, services
from gongzhi.deliberation.models import Comment, Report, Support, Topic
from gongzhi.org.tests import factories as f

pytestmark = pytest.mark.django_db


def as_(client, user=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


def proposal(village, who=6, title="村口装路灯"):
    return services.propose_topic(village.adults[who].user, region=village.village, title=title,
                                  description="晚上太黑", support_threshold=3)


def public_topic(village, title="村规民约修订"):
    return services.propose_topic(village.officer, region=village.village, title=title, description="征求意见",
                                  origin="organisation")


# --- pre-moderation -------------------------------------------------------------------------------------

def test_a_residents_topic_is_held_and_shown_only_to_its_proposer_and_the_officers(client, village):
    topic = proposal(village)
    assert topic.status == Topic.Status.PENDING and not topic.is_public
    assert "村口装路灯" not in text(as_(client).get(reverse("deliberation:topics")))
    assert as_(client).get(reverse("deliberation:topic", args=[topic.pk])).status_code == 404
    assert as_(client, village.adults[7].user).get(reverse("deliberation:topic", args=[topic.pk])).status_code == 404
    assert as_(client, village.adults[6].user).get(reverse("deliberation:topic", args=[topic.pk])).status_code == 200
    assert as_(client, village.officer).get(reverse("deliberation:topic", args=[topic.pk])).status_code == 200
    assert as_(client).get(f"/api/v1/deliberation/topics/{topic.pk}").status_code == 404


def test_nobody_supports_or_discusses_a_held_topic(village):
    topic = proposal(village)
    with pytest.raises(PermissionDenied):
        services.support_topic(village.adults[7].user, topic)
    with pytest.raises(PermissionDenied):
        services.add_comment(village.adults[7].user, topic, "支持")
    assert not Support.objects.exists() and not Comment.objects.exists()


def test_officers_and_representatives_are_not_held(village):
    assert public_topic(village).status == Topic.Status.AGENDA
    by_officer = services.propose_topic(village.officer, region=village.village, title="修桥", description="桥坏了")
    assert by_officer.status == Topic.Status.COLLECTING
    village.body("villagers_representatives_meeting")  # adults 0, 2, 4, 6, 8 are representatives
    assert proposal(village, who=6).status == Topic.Status.COLLECTING
    assert proposal(village, who=7, title="修渠").status == Topic.Status.PENDING


def test_pre_moderation_can_be_turned_off(village, settings):
    settings.GONGZHI_TOPIC_PREMODERATION = False
    assert proposal(village).status == Topic.Status.COLLECTING


def test_an_officer_publishes_a_held_topic_from_the_queue_and_it_is_logged(client, village):
    topic = proposal(village)
    officer = as_(client, village.officer)
    queue = text(officer.get(reverse("deliberation:moderation")))
    assert "村口装路灯" in queue and "晚上太黑" in queue
    assert village.adults[6].name not in queue  # the queue names no proposer
    response = officer.post(reverse("deliberation:approve_topic", args=[topic.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("deliberation:moderation")
    topic.refresh_from_db()
    assert topic.status == Topic.Status.COLLECTING and topic.moderated_by == village.officer
    assert Event.objects.filter(kind="deliberation.approve_topic", subject_id=str(topic.pk)).exists()
    assert "村口装路灯" in text(as_(client).get(reverse("deliberation:topics")))
    again = as_(client, village.officer).post(reverse("deliberation:approve_topic", args=[topic.pk]))
    assert again.status_code == 409


def test_a_rejection_needs_a_reason_which_the_proposer_sees(client, village):
    topic = proposal(village)
    officer = as_(client, village.officer)
    blank = officer.post(reverse("deliberation:reject_topic", args=[topic.pk]), {f"reject-{topic.pk}-reason": ""})
    assert blank.status_code == 400
    topic.refresh_from_db()
    assert topic.status == Topic.Status.PENDING
    done = officer.post(reverse("deliberation:reject_topic", args=[topic.pk]),
                        {f"reject-{topic.pk}-reason": "与本村事务无关"})
    assert done.status_code == 302
    topic.refresh_from_db()
    assert topic.status == Topic.Status.REJECTED and topic.moderation_reason == "与本村事务无关"
    assert Event.objects.filter(kind="deliberation.reject_topic").exists()
    own = text(as_(client, village.adults[6].user).get(reverse("deliberation:topic", args=[topic.pk])))
    assert "与本村事务无关" in own and "Not published." in own
    assert as_(client).get(reverse("deliberation:topic", args=[topic.pk])).status_code == 404


def test_only_an_officer_of_the_place_moderates(client, village, world):
    topic = proposal(village)
    assert as_(client, village.adults[7].user).get(reverse("deliberation:moderation")).status_code == 403
    assert as_(client, village.adults[7].user).post(
        reverse("deliberation:approve_topic", args=[topic.pk])).status_code == 403
    # Community B's director moderates B, not this village: the village's topic is not in their queue.
    assert "村口装路灯" not in text(as_(client, world.secretary_b).get(reverse("deliberation:moderation")))
    with pytest.raises(PermissionDenied):
        moderation.approve_topic(world.secretary_b, topic)
    topic.refresh_from_db()
    assert topic.status == Topic.Status.PENDING


# --- reports and the threshold ----------------------------------------------------------------------------

def test_reports_from_three_different_people_hide_a_topic_until_an_officer_restores_it(client, village):
    topic = public_topic(village)
    moderation.report_topic(village.adults[6].user, topic, "广告")
    with pytest.raises(Conflict):
        moderation.report_topic(village.adults[6].user, topic, "还是广告")
    moderation.report_topic(village.adults[7].user, topic, "广告")
    topic.refresh_from_db()
    assert topic.is_public  # two different people: not yet
    response = as_(client, village.adults[8].user).post(reverse("deliberation:report_topic", args=[topic.pk]),
                                                       {"report-topic-reason": "虚假信息"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.hidden_at is not None and not topic.is_public
    assert Event.objects.filter(kind="deliberation.hide_topic_after_reports").exists()
    assert "村规民约修订" not in text(as_(client).get(reverse("deliberation:topics")))
    queue = text(as_(client, village.officer).get(reverse("deliberation:moderation")))
    assert "村规民约修订" in queue and "虚假信息" in queue
    assert as_(client, village.officer).post(reverse("deliberation:restore_topic", args=[topic.pk])).status_code == 302
    topic.refresh_from_db()
    assert topic.is_public and "村规民约修订" in text(as_(client).get(reverse("deliberation:topics")))
    assert Report.objects.filter(topic=topic).count() == 3  # the reports stay stored


def test_the_threshold_is_a_setting(village, settings):
    settings.GONGZHI_REPORTS_TO_HIDE = 1
    topic = public_topic(village)
    moderation.report_topic(village.adults[6].user, topic, "广告")
    topic.refresh_from_db()
    assert topic.hidden_at is not None


def test_an_officer_removes_a_reported_topic_with_a_reason(client, village, settings):
    settings.GONGZHI_REPORTS_TO_HIDE = 1
    topic = public_topic(village)
    moderation.report_topic(village.adults[6].user, topic, "广告")
    response = as_(client, village.officer).post(reverse("deliberation:remove_topic", args=[topic.pk]),
                                                {f"remove-{topic.pk}-reason": "商业广告"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.status == Topic.Status.REJECTED and topic.moderation_reason == "商业广告"
    assert Event.objects.filter(kind="deliberation.remove_topic").exists()


def test_reports_hide_a_comment_pending_review_and_an_officer_restores_or_keeps_it_hidden(client, village, settings):
    settings.GONGZHI_REPORTS_TO_HIDE = 2
    topic = public_topic(village)
    comment = services.add_comment(village.adults[9].user, topic, "广告：便宜卖房")
    other = services.add_comment(village.adults[9].user, topic, "我同意")
    reporter = as_(client, village.adults[6].user)
    assert reporter.post(reverse("deliberation:report_comment", args=[comment.pk]), {"reason": "广告"}).status_code == 302
    services.report(village.adults[7].user, comment=comment, reason="广告")
    services.report(village.adults[6].user, comment=other, reason="x")
    services.report(village.adults[7].user, comment=other, reason="x")
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_by is None
    page = text(as_(client).get(reverse("deliberation:topic", args=[topic.pk])))
    assert "便宜卖房" not in page and "waiting for a moderator" in page
    queue = text(as_(client, village.officer).get(reverse("deliberation:moderation")))
    assert "便宜卖房" in queue
    officer = as_(client, village.officer)
    assert officer.post(reverse("deliberation:remove_comment", args=[comment.pk]),
                        {f"remove-comment-{comment.pk}-reason": "商业广告"}).status_code == 302
    assert officer.post(reverse("deliberation:restore_comment", args=[other.pk])).status_code == 302
    comment.refresh_from_db()
    other.refresh_from_db()
    assert comment.hidden_by == village.officer and comment.hidden_reason == "商业广告"
    assert not other.is_hidden
    assert "商业广告" in text(as_(client).get(reverse("deliberation:topic", args=[topic.pk])))


def test_the_proposer_cannot_report_their_own_topic_button_and_a_resident_sees_it(client, village):
    topic = services.propose_topic(village.officer, region=village.village, title="修桥", description="桥坏了",
                                   origin="organisation")
    assert "Report this topic" in text(as_(client, village.adults[6].user).get(
        reverse("deliberation:topic", args=[topic.pk])))
    assert "Report this topic" not in text(as_(client, village.officer).get(
        reverse("deliberation:topic", args=[topic.pk])))
    assert "Report this topic" not in text(as_(client).get(reverse("deliberation:topic", args=[topic.pk])))


# --- the officer's work item --------------------------------------------------------------------------------

def test_officers_see_how_many_topics_await_moderation_and_the_link_lists_them(client, village):
    proposal(village)
    proposal(village, who=7, title="修渠")
    items = {i.key: i for i in workbench.items_for(village.officer)}
    item = items["deliberation.moderation"]
    assert item.count == 2 and item.url == reverse("deliberation:moderation")
    queue = text(as_(client, village.officer).get(item.url))
    assert "村口装路灯" in queue and "修渠" in queue
    assert "deliberation.moderation" not in {i.key for i in workbench.items_for(village.adults[9].user)}


def test_a_reason_made_only_of_spaces_is_refused(village):
    topic = proposal(village)
    with pytest.raises(ValidationFailed):
        moderation.reject_topic(village.officer, topic, "   ")


def test_users_without_a_person_are_held(village):
    lone = f.user("lone")
    assert moderation.is_premoderated(lone, village.village)
