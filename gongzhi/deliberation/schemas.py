"""Shapes of deliberation's JSON API. Public shapes carry no names: people appear as counts or trackers."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from gongzhi.core.openapi import free_text, optional_text

from . import rules
from .models import Body, Disclosure, Motion, Topic


def _choices(choices) -> Any:
    return Literal[tuple(choices.values)]


class BodyIn(Schema):
    region_id: int
    kind: _choices(Body.Kind)
    name: str = free_text(120)
    organisation_id: int | None = Field(None, description="the committee or branch, for the kinds that name one")
    rule_code: Literal[tuple([*rules.PRESETS, "custom"])] | None = Field(
        None, description="a preset decision rule, or custom (with custom_rule); empty: the kind's default")
    custom_rule: dict | None = None


class BodyOut(Schema):
    id: int
    name: str
    kind: str
    region_id: int
    organisation_id: int | None
    rule_code: str


class MemberIn(Schema):
    person_id: int
    is_principal: bool = False
    unit_id: int | None = None


class TopicIn(Schema):
    region_id: int
    title: str = free_text(120)
    description: str = free_text(20000)
    origin: _choices(Topic.Origin) = "resident"
    origin_reference: str = optional_text(80)
    evidence: dict | None = None
    support_threshold: int | None = Field(None, ge=0)


class StageOut(Schema):
    sequence: int
    stage_code: str
    outcome: str
    reason: str
    due: int | None
    present: int | None
    meeting_id: int | None
    motion_id: int | None
    disclosure_id: int | None
    at: dt.datetime


class TopicOut(Schema):
    id: int
    title: str
    description: str
    region_id: int
    origin: str
    origin_reference: str
    status: str
    support_threshold: int
    support_count: int
    procedure_code: str
    returned_reason: str
    draft_resolution: str
    created_at: dt.datetime


class TopicDetailOut(TopicOut):
    evidence: dict
    stages: list[StageOut]
    next_stage: str | None
    statements: int
    comments: int


class TextIn(Schema):
    text: str = free_text(2000)


class StatementIn(Schema):
    text: str = free_text(280)


class ReasonIn(Schema):
    reason: str = free_text(200)


class CommentOut(Schema):
    id: int
    text: str
    at: dt.datetime
    hidden: bool
    hidden_reason: str


class StatementOut(Schema):
    id: int
    text: str
    status: str
    moderation_reason: str
    agrees: int = 0
    disagrees: int = 0
    passes: int = 0


class VoteIn(Schema):
    vote: Literal[1, -1, 0] = Field(description="1 agree, -1 disagree, 0 pass")


class ModerateIn(Schema):
    accept: bool
    reason: str = optional_text(200, description="required when refusing")


class ProcedureIn(Schema):
    procedure: str


class StageIn(Schema):
    stage: str
    meeting_id: int | None = None
    motion_id: int | None = None
    disclosure_id: int | None = None
    minutes: str = ""
    signatures: list[str] = []
    outcome: str | None = None
    reason: str = ""


class MeetingIn(Schema):
    body_id: int
    title: str = free_text(160)
    agenda: str = free_text(20000)
    starts_at: dt.datetime
    place: str = optional_text(160)
    topic_id: int | None = None


class QuorumOut(Schema):
    met: bool
    due: int
    present: int
    explanation_zh: str
    explanation_en: str


class MeetingOut(Schema):
    id: int
    body_id: int
    body_kind: str
    topic_id: int | None
    title: str
    agenda: str
    place: str
    starts_at: dt.datetime
    status: str
    minutes: str
    quorum: QuorumOut | None
    motions: list[int]


class PersonIn(Schema):
    person_id: int


class CloseMeetingIn(Schema):
    minutes: str = free_text(100000)


class RollEntryOut(Schema):
    id: int
    person_id: int
    name: str
    present: bool
    how: str
    awaiting_confirmation: bool


class MotionIn(Schema):
    text: str = free_text(20000)
    method: _choices(Motion.Method) = "yes_no"
    options: list[str] = Field([], description="for an election: two or more distinct options")
    seats: int = Field(1, ge=1)
    secret: bool = False
    topic_id: int | None = None
    stage_code: str = ""
    amount: str | None = None  # yuan, for a spending or a project: what the resolution approves


class MotionOut(Schema):
    id: int
    meeting_id: int
    topic_id: int | None
    stage_code: str
    text: str
    method: str
    options: list[str]
    seats: int
    is_secret: bool
    status: str
    result: dict
    is_passed: bool | None
    published_ballots_sha256: str
    ballots_cast: int
    amount: str | None


class BallotIn(Schema):
    choice: Any


class PaperBallotIn(Schema):
    """A paper ballot as entered: for an open vote with its voter; for a secret vote without one (who handed
    it in is marked apart, POST /motions/{id}/paper-voters)."""
    choice: Any
    voter_person_id: int | None = None


class PaperVoterIn(Schema):
    person_id: int


class PaperBallotOut(Schema):
    ballot: str
    tracker: str | None = None  # an open vote's only: a secret vote's tracker is published when it closes


class AwaitingBallot(Schema):
    ballot: str
    choice: Any
    entered_by_me: bool


class PaperBallotsOut(Schema):
    handed_in: int
    entered: int
    confirmed: int
    box_opened: bool
    awaiting: list[AwaitingBallot]


class ReceiptOut(Schema):
    tracker: str
    nonce: str


class PublishedBallot(Schema):
    tracker: str
    choice: Any


class DisclosureIn(Schema):
    region_id: int
    kind: _choices(Disclosure.Kind)
    title: str = free_text(160)
    body: str = free_text(100000)
    notice_days: int = Field(..., ge=1, le=90)
    topic_id: int | None = None


class ObjectionOut(Schema):
    id: int
    text: str
    filed_at: dt.datetime
    answer: str
    answered_at: dt.datetime | None


class DisclosureOut(Schema):
    id: int
    region_id: int
    topic_id: int | None
    kind: str
    title: str
    body: str
    published_at: dt.datetime
    notice_days: int
    notice_ends_at: dt.datetime
    status: str
    objections: list[ObjectionOut]


class AnswerIn(Schema):
    answer: str = free_text(4000)


# --- moderation and collected opinions ------------------------------------------------------------------

class ModerationQueueOut(Schema):
    pending: list[TopicOut]
    hidden_topics: list[TopicOut]
    hidden_comments: list[CommentOut]


class CollectedOpinionIn(Schema):
    person_id: int
    stance: Literal["agree", "disagree", "comment", "signature"]
    text: str = optional_text(500)


class CollectedCountsOut(Schema):
    total: int
    agree: int
    disagree: int
    comment: int
    signature: int
