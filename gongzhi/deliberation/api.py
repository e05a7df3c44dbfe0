"""deliberation's JSON API under /api/v1/deliberation/: topics, discussion, opinion maps, bodies, meetings (and
their index), motions and ballots, procedures, moderation, opinions collected by building leads and the
disclosure board. Reading what is public needs no sign-in."""

from typing import Literal

from django.http import HttpResponse
from ninja import File, Router, Status
from ninja.files import UploadedFile

from gongzhi.core import policy, ratelimit
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.scrub import scrub
from gongzhi.org.models import Organisation, Person, Region
from gongzhi.org.queries import get_scoped

from . import collected, moderation, procedures, queries, services
from .models import Attachment, Ballot, Body, Comment, Disclosure, Meeting, Motion, Objection, RollEntry, Statement, Topic
from .schemas import (
    AnswerIn, BallotIn, BodyIn, BodyOut, CloseMeetingIn, CollectedCountsOut, CollectedOpinionIn, CommentOut, DisclosureIn, DisclosureOut, MeetingIn,
    MeetingOut, MemberIn, ModerateIn, ModerationQueueOut, MotionIn, MotionOut, PaperBallotIn, PaperBallotOut, PaperBallotsOut,
    PaperVoterIn, PersonIn, ProcedureIn, PublishedBallot,
    QuorumOut, ReasonIn, ReceiptOut, RollEntryOut, StageIn, StatementIn, StatementOut, TextIn, TopicDetailOut, TopicIn,
    TopicOut,
    VoteIn,
)

router = Router(tags=["deliberation"])


def _get(model, pk):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("%(verbose_name)s %(pk)s") % {"verbose_name": model._meta.verbose_name, "pk": pk})
    return found


def _ref(model, pk, what):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationFailed(_("no %(what)s %(pk)s") % {"what": model._meta.verbose_name, "pk": pk},
                               code=f"unknown_{what}")
    return found


# --- bodies -------------------------------------------------------------------------------------------

@router.get("/bodies", response=list[BodyOut], auth=None)
def list_bodies(request, region_id: int | None = None):
    rows = Body.objects.all()
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    return rows


@router.post("/bodies", response={201: BodyOut})
def create_body(request, payload: BodyIn):
    try:
        body = services.create_body(
            request.user, region=_ref(Region, payload.region_id, "region"), kind=payload.kind, name=payload.name,
            organisation=_ref(Organisation, payload.organisation_id, "organisation"), rule_code=payload.rule_code,
            custom_rule=payload.custom_rule)
    except ValueError as exc:  # a custom rule that makes no sense
        raise ValidationFailed(str(exc), code="invalid_rule") from None
    return Status(201, body)


@router.post("/bodies/{body_id}/members", response={201: dict})
def add_member(request, body_id: int, payload: MemberIn):
    member = services.add_body_member(request.user, _get(Body, body_id), _ref(Person, payload.person_id, "person"),
                                      is_principal=payload.is_principal,
                                      unit=_ref(Organisation, payload.unit_id, "organisation"))
    return Status(201, {"id": member.pk})


# --- topics -------------------------------------------------------------------------------------------

@router.get("/topics", response=list[TopicOut], auth=None)
def list_topics(request, region_id: int | None = None, status: str | None = None):
    return queries.topics(region_id=region_id, status=status)[:200]


@router.post("/topics", response={201: TopicOut})
def propose_topic(request, payload: TopicIn):
    ratelimit.check(request, "topic")
    topic = services.propose_topic(
        request.user, region=_ref(Region, payload.region_id, "region"), title=payload.title,
        description=payload.description, origin=payload.origin, origin_reference=payload.origin_reference,
        evidence=payload.evidence, support_threshold=payload.support_threshold)
    return Status(201, topic)


@router.get("/topics/{topic_id}", response=TopicDetailOut, auth=None)
def topic_detail(request, topic_id: int):
    return queries.topic_detail(queries.visible_topic(request.user, topic_id))


@router.post("/topics/{topic_id}/support", response=TopicOut)
def support(request, topic_id: int):
    return services.support_topic(request.user, queries.visible_topic(request.user, topic_id))


@router.post("/topics/{topic_id}/attachments", response={201: dict})
def attach(request, topic_id: int, file: UploadedFile = File(...)):
    row = services.add_attachment(request.user, queries.visible_topic(request.user, topic_id), name=file.name or "file",
                                  content=file.read(services.MAX_ATTACHMENT_BYTES + 1),
                                  content_type=file.content_type or "")
    return Status(201, {"id": row.pk, "name": row.name, "sha256": row.sha256, "size": row.size})


@router.get("/topics/{topic_id}/attachments", response=list[dict], auth=None)
def attachments(request, topic_id: int):
    return [{"id": a.pk, "name": a.name, "sha256": a.sha256, "size": a.size, "at": a.at.isoformat()}
            for a in queries.visible_topic(request.user, topic_id).attachments.defer("content")]


@router.get("/attachments/{attachment_id}", auth=None)
def download(request, attachment_id: int):
    row = _get(Attachment, attachment_id)
    response = HttpResponse(bytes(row.content), content_type=row.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(row.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@router.get("/topics/{topic_id}/comments", response=list[CommentOut], auth=None)
def comments(request, topic_id: int):
    return [queries.public_comment(c) for c in queries.visible_topic(request.user, topic_id).comments.all()]


@router.post("/topics/{topic_id}/comments", response={201: CommentOut})
def add_comment(request, topic_id: int, payload: TextIn):
    ratelimit.check(request, "comment")
    return Status(201, queries.public_comment(services.add_comment(request.user, queries.visible_topic(request.user, topic_id), payload.text)))


@router.post("/comments/{comment_id}/hide", response=CommentOut)
def hide_comment(request, comment_id: int, payload: ReasonIn):
    return queries.public_comment(services.hide_comment(request.user, _get(Comment, comment_id), payload.reason))


@router.post("/comments/{comment_id}/report", response={201: dict})
def report_comment(request, comment_id: int, payload: ReasonIn):
    ratelimit.check(request, "report")
    row = services.report(request.user, comment=_get(Comment, comment_id), reason=payload.reason)
    return Status(201, {"id": row.pk})


@router.get("/topics/{topic_id}/statements", response=list[StatementOut], auth=None)
def statements(request, topic_id: int):
    return queries.statements_with_counts(queries.visible_topic(request.user, topic_id))


@router.post("/topics/{topic_id}/statements", response={201: StatementOut})
def add_statement(request, topic_id: int, payload: StatementIn):
    ratelimit.check(request, "statement")
    return Status(201, services.add_statement(request.user, queries.visible_topic(request.user, topic_id), payload.text))


@router.post("/statements/{statement_id}/vote", response=dict)
def vote_statement(request, statement_id: int, payload: VoteIn):
    ratelimit.check(request, "statement_vote")
    row = services.vote_statement(request.user, _get(Statement, statement_id), payload.vote)
    return {"statement": row.statement_id, "vote": row.vote}


@router.post("/statements/{statement_id}/moderate", response=StatementOut)
def moderate(request, statement_id: int, payload: ModerateIn):
    return services.moderate_statement(request.user, _get(Statement, statement_id), accept=payload.accept,
                                       reason=payload.reason)


@router.post("/statements/{statement_id}/report", response={201: dict})
def report_statement(request, statement_id: int, payload: ReasonIn):
    ratelimit.check(request, "report")
    row = services.report(request.user, statement=_get(Statement, statement_id), reason=payload.reason)
    return Status(201, {"id": row.pk})


@router.get("/topics/{topic_id}/map", response=dict, auth=None)
def opinion_map(request, topic_id: int):
    return services.opinion_map(queries.visible_topic(request.user, topic_id))


@router.get("/topics/{topic_id}/next-statement", response={200: StatementOut, 204: None})
def next_statement(request, topic_id: int):
    statement = services.next_statement(request.user, queries.visible_topic(request.user, topic_id))
    return Status(204, None) if statement is None else statement


@router.post("/topics/{topic_id}/draft-resolution", response=TopicOut)
def draft_resolution(request, topic_id: int):
    return services.draft_resolution_from_consensus(request.user, queries.visible_topic(request.user, topic_id))


@router.post("/topics/{topic_id}/procedure", response=TopicOut)
def start_procedure(request, topic_id: int, payload: ProcedureIn):
    return services.start_procedure(request.user, queries.visible_topic(request.user, topic_id), payload.procedure)


@router.post("/topics/{topic_id}/stages", response={201: TopicDetailOut})
def record_stage(request, topic_id: int, payload: StageIn):
    topic = queries.visible_topic(request.user, topic_id)
    services.record_stage(
        request.user, topic, payload.stage, meeting=_ref(Meeting, payload.meeting_id, "meeting"),
        motion=_ref(Motion, payload.motion_id, "motion"), disclosure=_ref(Disclosure, payload.disclosure_id,
                                                                          "disclosure"),
        minutes=payload.minutes, signatures=payload.signatures, outcome=payload.outcome, reason=payload.reason)
    topic.refresh_from_db()
    return Status(201, queries.topic_detail(topic))


@router.get("/procedures", response=dict, auth=None)
def list_procedures(request):
    return {code: procedures.procedure_to_data(p) for code, p in procedures.PROCEDURES.items()}


# --- meetings -----------------------------------------------------------------------------------------

@router.post("/meetings", response={201: MeetingOut})
def schedule_meeting(request, payload: MeetingIn):
    meeting = services.schedule_meeting(
        request.user, _ref(Body, payload.body_id, "body"), title=payload.title, agenda=payload.agenda,
        starts_at=payload.starts_at, place=payload.place, topic=_ref(Topic, payload.topic_id, "topic"))
    return Status(201, queries.meeting_out(meeting))


@router.get("/meetings/{meeting_id}", response=MeetingOut, auth=None)
def meeting(request, meeting_id: int):
    return queries.meeting_out(_get(Meeting, meeting_id))


@router.post("/meetings/{meeting_id}/open", response=MeetingOut)
def open_meeting(request, meeting_id: int):
    return queries.meeting_out(services.open_meeting(request.user, _get(Meeting, meeting_id)))


@router.post("/meetings/{meeting_id}/sign-in", response=QuorumOut)
def sign_in(request, meeting_id: int):
    entry = services.sign_in(request.user, _get(Meeting, meeting_id))
    return queries.quorum_out(entry.meeting)


@router.get("/meetings/{meeting_id}/quorum", response=QuorumOut, auth=None)
def meeting_quorum(request, meeting_id: int):
    """The quorum of an open or closed meeting; 404 `meeting_not_open` while it is still scheduled."""
    quorum = queries.quorum_out(_get(Meeting, meeting_id))
    if quorum is None:
        raise NotFound(_("the quorum is counted once the meeting opens"), code="meeting_not_open")
    return quorum


@router.get("/meetings/{meeting_id}/roll", response=list[RollEntryOut])
def roll(request, meeting_id: int):
    found = _get(Meeting, meeting_id)
    policy.require(request.user, "deliberation.view_roll", found.body.region)
    return queries.roll(found)


@router.post("/meetings/{meeting_id}/attendance", response={201: RollEntryOut})
def record_attendance(request, meeting_id: int, payload: PersonIn):
    entry = services.record_attendance(request.user, _get(Meeting, meeting_id),
                                       _ref(Person, payload.person_id, "person"))
    return Status(201, queries.roll_entry_out(entry))


@router.post("/attendance/{entry_id}/confirm", response=RollEntryOut)
def confirm_attendance(request, entry_id: int):
    return queries.roll_entry_out(services.confirm_attendance(request.user, _get(RollEntry, entry_id)))


@router.post("/meetings/{meeting_id}/close", response=MeetingOut)
def close_meeting(request, meeting_id: int, payload: CloseMeetingIn):
    return queries.meeting_out(services.close_meeting(request.user, _get(Meeting, meeting_id),
                                                      minutes=payload.minutes))


# --- motions and ballots ------------------------------------------------------------------------------

@router.post("/meetings/{meeting_id}/motions", response={201: MotionOut})
def open_motion(request, meeting_id: int, payload: MotionIn):
    motion = services.open_motion(
        request.user, _get(Meeting, meeting_id), text=payload.text, method=payload.method, options=payload.options,
        seats=payload.seats, secret=payload.secret, topic=_ref(Topic, payload.topic_id, "topic"),
        stage_code=payload.stage_code, amount=payload.amount)
    return Status(201, queries.motion_out(motion))


@router.get("/motions/{motion_id}", response=MotionOut, auth=None)
def motion(request, motion_id: int):
    return queries.motion_out(_get(Motion, motion_id))


@router.post("/motions/{motion_id}/ballots", response={201: ReceiptOut})
def cast_ballot(request, motion_id: int, payload: BallotIn):
    receipt = services.cast_ballot(request.user, _get(Motion, motion_id), payload.choice)
    return Status(201, {"tracker": receipt.tracker, "nonce": receipt.nonce})


def _paper_ballots_out(request, motion: Motion) -> dict:
    box = services.paper_ballots(request.user, motion)
    return {"handed_in": box.handed_in, "entered": box.entered, "confirmed": box.confirmed,
            "box_opened": box.box_opened,
            "awaiting": [{"ballot": str(b.pk), "choice": choice, "entered_by_me": b.entered_by_id == request.user.pk}
                         for b, choice in box.awaiting]}


@router.post("/motions/{motion_id}/paper-voters", response={201: PaperBallotsOut})
def mark_paper_ballot(request, motion_id: int, payload: PaperVoterIn):
    """Secret vote, step one: mark on the roll that a present member handed in a paper ballot. Names no ballot."""
    found = _get(Motion, motion_id)
    services.mark_paper_ballot(request.user, found, _ref(Person, payload.person_id, "person"))
    return Status(201, _paper_ballots_out(request, found))


@router.post("/motions/{motion_id}/paper-ballots", response={201: PaperBallotOut})
def enter_paper_ballot(request, motion_id: int, payload: PaperBallotIn):
    """Enter what a paper ballot says. Open vote: with `voter_person_id`. Secret vote: without it (400
    `voter_not_allowed`), from the opened box; at most as many as were marked handed in."""
    ballot = services.enter_paper_ballot(request.user, _get(Motion, motion_id), payload.choice,
                                         voter=_ref(Person, payload.voter_person_id, "person"))
    return Status(201, {"ballot": str(ballot.pk), "tracker": ballot.tracker})


@router.get("/motions/{motion_id}/paper-ballots", response=PaperBallotsOut)
def paper_ballots(request, motion_id: int):
    """For the motion's officers: paper ballots handed in, entered, confirmed, and those awaiting a second officer."""
    return _paper_ballots_out(request, _get(Motion, motion_id))


@router.post("/ballots/{ballot_id}/confirm", response=dict)
def confirm_paper_ballot(request, ballot_id: str):
    ballot = Ballot.objects.filter(pk=ballot_id).first() if _is_uuid(ballot_id) else None
    if ballot is None:
        raise NotFound(_("ballot %(ballot_id)s") % {"ballot_id": ballot_id})
    ballot = services.confirm_paper_ballot(request.user, ballot)
    return {"ballot": str(ballot.pk), "confirmed": True}


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@router.post("/motions/{motion_id}/close", response=MotionOut)
def close_motion(request, motion_id: int):
    return queries.motion_out(services.close_motion(request.user, _get(Motion, motion_id)))


@router.get("/motions/{motion_id}/ballots", response=list[PublishedBallot], auth=None)
def published_ballots(request, motion_id: int):
    found = _get(Motion, motion_id)
    if found.status != Motion.Status.CLOSED:
        raise ValidationFailed(_("the ballot list is published when the vote closes"), code="vote_open")
    return services.published_ballots(found)


@router.get("/motions/{motion_id}/recount", response=dict, auth=None)
def recount(request, motion_id: int):
    found = _get(Motion, motion_id)
    if found.status != Motion.Status.CLOSED:
        raise ValidationFailed(_("the ballot list is published when the vote closes"), code="vote_open")
    tally = services.recount(services.published_ballots(found), method=found.method, options=found.options,
                             seats=found.seats)
    return {"tally": tally, "matches_published_result": tally == found.result.get("tally")}


# --- disclosure ---------------------------------------------------------------------------------------

def _disclosure_out(item: Disclosure) -> dict:
    return {
        "id": item.pk, "region_id": item.region_id, "topic_id": item.topic_id, "kind": item.kind,
        "title": item.title, "body": item.body, "published_at": item.published_at, "notice_days": item.notice_days,
        "notice_ends_at": item.notice_ends_at, "status": item.status,
        "objections": [{"id": o.pk, "text": scrub(o.text), "filed_at": o.filed_at, "answer": o.answer,
                        "answered_at": o.answered_at} for o in item.objections.all()],
    }


@router.get("/disclosures", response=list[DisclosureOut], auth=None)
def disclosures(request, region_id: int | None = None):
    return [_disclosure_out(d) for d in queries.disclosures(region_id=region_id)[:200]]


@router.post("/disclosures", response={201: DisclosureOut})
def publish(request, payload: DisclosureIn):
    item = services.publish(request.user, region=_ref(Region, payload.region_id, "region"), kind=payload.kind,
                            title=payload.title, body=payload.body, notice_days=payload.notice_days,
                            topic=_ref(Topic, payload.topic_id, "topic"))
    return Status(201, _disclosure_out(item))


@router.get("/disclosures/{disclosure_id}", response=DisclosureOut, auth=None)
def disclosure(request, disclosure_id: int):
    return _disclosure_out(_get(Disclosure, disclosure_id))


@router.post("/disclosures/{disclosure_id}/objections", response={201: dict})
def file_objection(request, disclosure_id: int, payload: TextIn):
    ratelimit.check(request, "objection")
    objection = services.file_objection(request.user, _get(Disclosure, disclosure_id), payload.text)
    return Status(201, {"id": objection.pk})


@router.post("/objections/{objection_id}/answer", response=DisclosureOut)
def answer_objection(request, objection_id: int, payload: AnswerIn):
    objection = services.answer_objection(request.user, _get(Objection, objection_id), payload.answer)
    return _disclosure_out(objection.disclosure)


@router.post("/disclosures/{disclosure_id}/complete", response=DisclosureOut)
def complete(request, disclosure_id: int):
    return _disclosure_out(services.complete_disclosure(_get(Disclosure, disclosure_id), user=request.user))


# --- the meetings index, moderation, opinions collected by building leads ----------------------------------

@router.get("/meetings", response=list[MeetingOut], auth=None)
def list_meetings(request, body_id: int | None = None, state: Literal["upcoming", "open", "closed"] | None = None):
    """Meetings of one body or all, in one state (upcoming, open, closed): the meetings index."""
    if body_id is not None:
        _ref(Body, body_id, "body")
    rows = queries.meetings(body_id=body_id, state=state).select_related("body")[:200]
    return [queries.meeting_out(m) for m in rows]


@router.post("/topics/{topic_id}/report", response={201: dict})
def report_topic(request, topic_id: int, payload: ReasonIn):
    ratelimit.check(request, "report")
    row = moderation.report_topic(request.user, queries.visible_topic(request.user, topic_id), payload.reason)
    return Status(201, {"id": row.pk})


@router.get("/moderation", response=ModerationQueueOut)
def moderation_queue(request):
    policy.require(request.user, "deliberation.moderate")
    return {"pending": list(moderation.awaiting_moderation(request.user)),
            "hidden_topics": list(moderation.hidden_topics(request.user)),
            "hidden_comments": [queries.public_comment(c) for c in moderation.hidden_comments(request.user)]}


@router.post("/moderation/topics/{topic_id}/approve", response=TopicOut)
def approve_topic(request, topic_id: int):
    return moderation.approve_topic(request.user, _get(Topic, topic_id))


@router.post("/moderation/topics/{topic_id}/reject", response=TopicOut)
def reject_topic(request, topic_id: int, payload: ReasonIn):
    return moderation.reject_topic(request.user, _get(Topic, topic_id), payload.reason)


@router.post("/moderation/topics/{topic_id}/restore", response=TopicOut)
def restore_topic(request, topic_id: int):
    return moderation.restore_topic(request.user, _get(Topic, topic_id))


@router.post("/moderation/topics/{topic_id}/remove", response=TopicOut)
def remove_topic(request, topic_id: int, payload: ReasonIn):
    return moderation.remove_topic(request.user, _get(Topic, topic_id), payload.reason)


@router.post("/moderation/comments/{comment_id}/restore", response=CommentOut)
def restore_comment(request, comment_id: int):
    return queries.public_comment(moderation.restore_comment(request.user, _get(Comment, comment_id)))


@router.post("/moderation/comments/{comment_id}/remove", response=CommentOut)
def remove_comment(request, comment_id: int, payload: ReasonIn):
    return queries.public_comment(moderation.remove_comment(request.user, _get(Comment, comment_id), payload.reason))


@router.get("/topics/{topic_id}/collected-opinions", response=CollectedCountsOut, auth=None)
def collected_counts(request, topic_id: int):
    return collected.counts(queries.visible_topic(request.user, topic_id))


@router.post("/topics/{topic_id}/collected-opinions", response={201: dict})
def record_collected_opinion(request, topic_id: int, payload: CollectedOpinionIn):
    topic = queries.visible_topic(request.user, topic_id)
    person = get_scoped(request.user, Person, payload.person_id)
    row = collected.record_collected_opinion(request.user, topic, person, stance=payload.stance, text=payload.text)
    return Status(201, {"id": row.pk, "stance": row.stance, "stage_code": row.stage_code,
                        "collected_at": row.collected_at.isoformat()})
