"""deliberation's read side: lists and the public shapes of topics, meetings, motions and disclosures.
Public shapes carry no names; the roll (names) is for officers only (the API and pages check that)."""

from django.db.models import Count, Q

from gongzhi.core.scrub import scrub
from gongzhi.org.models import Region

from . import procedures, services
from .models import Disclosure, Meeting, Motion, RollEntry, Statement, Topic


def topics(*, region_id: int | None = None, status: str | None = None):
    rows = Topic.objects.select_related("region")
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
    if status:
        rows = rows.filter(status=status)
    return rows


def next_stage_code(topic: Topic) -> str | None:
    if topic.status != Topic.Status.IN_PROCEDURE or not topic.procedure_definition:
        return None
    stage = procedures.next_stage(services.topic_procedure(topic), services.stage_history(topic))
    return stage.code if stage else None


def topic_detail(topic: Topic) -> dict:
    fields = ("id", "title", "description", "region_id", "origin", "origin_reference", "status",
              "support_threshold", "support_count", "procedure_code", "returned_reason", "draft_resolution",
              "created_at", "evidence")
    out = {f: getattr(topic, f) for f in fields}
    out["stages"] = list(topic.stages.order_by("sequence"))
    out["next_stage"] = next_stage_code(topic)
    out["statements"] = topic.statements.filter(status=Statement.Status.ACCEPTED).count()
    out["comments"] = topic.comments.count()
    return out


def public_comment(comment) -> dict:
    return {"id": comment.pk, "text": "" if comment.is_hidden else scrub(comment.text), "at": comment.at,
            "hidden": comment.is_hidden, "hidden_reason": comment.hidden_reason}


def statements_with_counts(topic: Topic, *, include_rejected: bool = True):
    rows = topic.statements.annotate(
        agrees=Count("votes", filter=Q(votes__vote=1)), disagrees=Count("votes", filter=Q(votes__vote=-1)),
        passes=Count("votes", filter=Q(votes__vote=0)))
    if not include_rejected:
        rows = rows.filter(status=Statement.Status.ACCEPTED)
    return list(rows)


def quorum_out(meeting: Meeting) -> dict | None:
    if meeting.status == Meeting.Status.SCHEDULED:
        return None
    check = services.quorum(meeting)
    figures = services.attendance(meeting)
    return {"met": check.is_met, "due": figures.due, "present": figures.present,
            "explanation_zh": check.explanation_zh, "explanation_en": check.explanation_en}


def meeting_out(meeting: Meeting) -> dict:
    return {
        "id": meeting.pk, "body_id": meeting.body_id, "body_kind": meeting.body.kind, "topic_id": meeting.topic_id,
        "title": meeting.title, "agenda": meeting.agenda, "place": meeting.place, "starts_at": meeting.starts_at,
        "status": meeting.status, "minutes": meeting.minutes, "quorum": quorum_out(meeting),
        "motions": list(meeting.motions.values_list("pk", flat=True)),
    }


def roll_entry_out(entry: RollEntry) -> dict:
    return {"id": entry.pk, "person_id": entry.person_id, "name": entry.person.name, "present": entry.is_present,
            "how": entry.how, "awaiting_confirmation": entry.how == RollEntry.How.RECORDED and not entry.confirmed_by_id}


def roll(meeting: Meeting) -> list[dict]:
    return [roll_entry_out(e) for e in meeting.roll.select_related("person")]


def motion_out(motion: Motion) -> dict:
    return {
        "id": motion.pk, "meeting_id": motion.meeting_id, "topic_id": motion.topic_id,
        "stage_code": motion.stage_code, "text": motion.text, "method": motion.method, "options": motion.options,
        "seats": motion.seats, "is_secret": motion.is_secret, "status": motion.status, "result": motion.result,
        "is_passed": motion.is_passed, "published_ballots_sha256": motion.published_ballots_sha256,
        "ballots_cast": motion.ballots.count(),
        "amount": str(motion.amount) if motion.amount is not None else None,
    }


def disclosures(*, region_id: int | None = None):
    rows = Disclosure.objects.select_related("region").prefetch_related("objections")
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
    return rows
