"""Shapes of deliberation's JSON API. Public shapes carry no names: people appear as counts or trackers."""

import datetime as dt
from typing import Any

from ninja import Schema


class BodyIn(Schema):
    region_id: int
    kind: str
    name: str
    organisation_id: int | None = None
    rule_code: str | None = None
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
    title: str
    description: str
    origin: str = "resident"
    origin_reference: str = ""
    evidence: dict | None = None
    support_threshold: int | None = None


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
    text: str


class ReasonIn(Schema):
    reason: str


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
    vote: int


class ModerateIn(Schema):
    accept: bool
    reason: str = ""


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
    title: str
    agenda: str
    starts_at: dt.datetime
    place: str = ""
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
    minutes: str


class RollEntryOut(Schema):
    id: int
    person_id: int
    name: str
    present: bool
    how: str
    awaiting_confirmation: bool


class MotionIn(Schema):
    text: str
    method: str = "yes_no"
    options: list[str] = []
    seats: int = 1
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
    kind: str
    title: str
    body: str
    notice_days: int
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
    answer: str
