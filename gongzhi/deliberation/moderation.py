"""Moderation use cases (as Decidim does it): residents' new topics held until an officer approves them
(pre-moderation), reports of topics and comments, and hiding what enough different people reported until an
officer restores or removes it. Each act checks can(), runs in one transaction and records its event.

The threshold is GONGZHI_REPORTS_TO_HIDE (settings; read at call time): reports from that many different
people hide a topic or a comment at once, pending review. Reports are not votes: an officer decides.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict
from gongzhi.core.i18n import gettext_lazy
from gongzhi.core.text import clean_public_text
from gongzhi.org.models import Person, Region

from . import permissions
from .models import BodyMember, Comment, Report, Topic


def reports_to_hide() -> int:
    return max(1, int(getattr(settings, "GONGZHI_REPORTS_TO_HIDE", 3)))


def is_premoderated(user, region: Region) -> bool:
    """Whether a resident's proposal by `user` in `region` waits for an officer. Officers of the place and
    configured members of one of its bodies (representatives, members of a 议事会) are trusted; so is
    everyone when GONGZHI_TOPIC_PREMODERATION is off."""
    if not getattr(settings, "GONGZHI_TOPIC_PREMODERATION", True):
        return False
    if policy.can(user, "deliberation.moderate", region):
        return False
    today = clock.today()
    person = Person.objects.filter(user=user).first()
    if person is None:
        return True
    memberships = (BodyMember.objects.filter(person=person, since__lte=today)
                   .filter(Q(until__isnull=True) | Q(until__gte=today)).select_related("body__region"))
    return not any(region.path.startswith(m.body.region.path) for m in memberships)


def _reason(text: str) -> str:
    return clean_public_text(text, "reason", max_length=200)


def _released_status(topic: Topic) -> str:
    return Topic.Status.AGENDA if topic.support_threshold == 0 else Topic.Status.COLLECTING


def approve_topic(user, topic: Topic) -> Topic:
    """An officer publishes a held proposal: it starts collecting support (or goes on the agenda)."""
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        policy.require(user, "deliberation.moderate", topic.region)
        if topic.status != Topic.Status.PENDING:
            raise Conflict(gettext_lazy("the topic is not awaiting moderation"), code="not_pending")
        now = clock.now()
        topic.status, topic.moderated_by, topic.moderated_at, topic.updated_at = _released_status(topic), user, now, now
        topic.save(update_fields=["status", "moderated_by", "moderated_at", "updated_at"])
        events.record("deliberation.approve_topic", topic, actor=user, status=topic.status)
    return topic


def reject_topic(user, topic: Topic, reason: str) -> Topic:
    """An officer does not publish a held proposal, with a reason the proposer sees."""
    reason = _reason(reason)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        policy.require(user, "deliberation.moderate", topic.region)
        if topic.status != Topic.Status.PENDING:
            raise Conflict(gettext_lazy("the topic is not awaiting moderation"), code="not_pending")
        now = clock.now()
        topic.status, topic.moderation_reason = Topic.Status.REJECTED, reason
        topic.moderated_by, topic.moderated_at, topic.updated_at = user, now, now
        topic.save(update_fields=["status", "moderation_reason", "moderated_by", "moderated_at", "updated_at"])
        events.record("deliberation.reject_topic", topic, actor=user, reason=reason)
    return topic


def report_topic(user, topic: Topic, reason: str) -> Report:
    """A resident reports a topic (举报). Once GONGZHI_REPORTS_TO_HIDE different people have, the topic is
    hidden pending an officer's review."""
    reason = _reason(reason)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        policy.require(user, "deliberation.report", topic)
        try:
            with transaction.atomic():
                row = Report.objects.create(topic=topic, reporter=user, reason=reason, at=clock.now())
        except IntegrityError:
            raise Conflict(gettext_lazy("you have already reported this topic"), code="already_reported") from None
        reporters = Report.objects.filter(topic=topic).values("reporter").distinct().count()
        events.record("deliberation.report", row, actor=user, topic=topic.pk, private={"reason": reason})
        if reporters >= reports_to_hide():
            topic.hidden_at = clock.now()
            topic.save(update_fields=["hidden_at"])
            events.record("deliberation.hide_topic_after_reports", topic, reports=reporters)
    return row


def report_comment(user, comment: Comment, reason: str) -> Report:
    """A resident reports a comment; reports from GONGZHI_REPORTS_TO_HIDE different people hide it pending
    review (its place says so; no officer's name)."""
    reason = _reason(reason)
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("topic").get(pk=comment.pk)
        policy.require(user, "deliberation.report", comment.topic)
        try:
            with transaction.atomic():
                row = Report.objects.create(comment=comment, reporter=user, reason=reason, at=clock.now())
        except IntegrityError:
            raise Conflict(gettext_lazy("you have already reported this comment"), code="already_reported") from None
        events.record("deliberation.report", row, actor=user, comment=comment.pk, private={"reason": reason})
        reporters = Report.objects.filter(comment=comment).values("reporter").distinct().count()
        if reporters >= reports_to_hide() and not comment.is_hidden:
            # No officer and no reason yet: its place says it waits for review (hidden_by stays empty).
            comment.hidden_at, comment.hidden_reason = clock.now(), ""
            comment.save(update_fields=["hidden_at", "hidden_reason"])
            events.record("deliberation.hide_comment_after_reports", comment, reports=reporters)
    return row


def restore_topic(user, topic: Topic) -> Topic:
    """An officer finds a reported topic within the rules: it is shown again (its reports stay stored)."""
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        policy.require(user, "deliberation.moderate", topic.region)
        if topic.hidden_at is None:
            raise Conflict(gettext_lazy("the topic is not hidden"), code="not_hidden")
        now = clock.now()
        topic.hidden_at, topic.moderated_by, topic.moderated_at = None, user, now
        topic.save(update_fields=["hidden_at", "moderated_by", "moderated_at"])
        events.record("deliberation.restore_topic", topic, actor=user)
    return topic


def remove_topic(user, topic: Topic, reason: str) -> Topic:
    """An officer upholds the reports: the topic stays out of public view, marked not approved, with a reason."""
    reason = _reason(reason)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        policy.require(user, "deliberation.moderate", topic.region)
        if topic.hidden_at is None:
            raise Conflict(gettext_lazy("the topic is not hidden"), code="not_hidden")
        now = clock.now()
        topic.status, topic.moderation_reason = Topic.Status.REJECTED, reason
        topic.hidden_at, topic.moderated_by, topic.moderated_at, topic.updated_at = None, user, now, now
        topic.save(update_fields=["status", "moderation_reason", "hidden_at", "moderated_by", "moderated_at",
                                  "updated_at"])
        events.record("deliberation.remove_topic", topic, actor=user, reason=reason)
    return topic


def restore_comment(user, comment: Comment) -> Comment:
    """An officer shows again a comment hidden by reports."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("topic__region").get(pk=comment.pk)
        policy.require(user, "deliberation.moderate", comment.topic)
        if not comment.is_hidden or comment.hidden_by_id is not None:
            raise Conflict(gettext_lazy("the comment is not waiting for review"), code="not_hidden")
        comment.hidden_at, comment.hidden_reason = None, ""
        comment.save(update_fields=["hidden_at", "hidden_reason"])
        events.record("deliberation.restore_comment", comment, actor=user)
    return comment


def remove_comment(user, comment: Comment, reason: str) -> Comment:
    """An officer keeps hidden a comment hidden by reports, with their reason in its place."""
    reason = _reason(reason)
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("topic__region").get(pk=comment.pk)
        policy.require(user, "deliberation.moderate", comment.topic)
        if not comment.is_hidden or comment.hidden_by_id is not None:
            raise Conflict(gettext_lazy("the comment is not waiting for review"), code="not_hidden")
        comment.hidden_reason, comment.hidden_by = reason, user
        comment.save(update_fields=["hidden_reason", "hidden_by"])
        events.record("deliberation.hide_comment", comment, actor=user, reason=reason)
    return comment


# --- the officer's queue (read side) ----------------------------------------------------------------------

def _officer_q(user, lookup: str) -> Q:
    paths = permissions.officer_paths(user)
    if not paths:
        return Q(pk__in=[])
    within = Q()
    for path in paths:
        within |= Q(**{f"{lookup}__startswith": path})
    return within


def awaiting_moderation(user):
    """Held proposals in the places the user moderates, oldest first."""
    return (Topic.objects.filter(_officer_q(user, "region__path"), status=Topic.Status.PENDING)
            .select_related("region").order_by("created_at", "id"))


def hidden_topics(user):
    """Topics hidden after reports, pending the user's review."""
    return (Topic.objects.filter(_officer_q(user, "region__path"), hidden_at__isnull=False)
            .select_related("region").order_by("hidden_at", "id"))


def hidden_comments(user):
    """Comments hidden after reports (no officer has decided yet)."""
    return (Comment.objects.filter(_officer_q(user, "topic__region__path"), hidden_at__isnull=False,
                                   hidden_by__isnull=True).select_related("topic").order_by("hidden_at", "id"))


def queue_count(user) -> int:
    return awaiting_moderation(user).count() + hidden_topics(user).count() + hidden_comments(user).count()
