"""The case file's API shapes: a case's list row, the whole chain of one case (as far as the caller may see it),
a resident's verdict, receipts and their check."""

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from gongzhi.core.openapi import VISIBLE_TEXT_PATTERN, optional_text

from .models import Verdict


class CaseRowOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    region_id: int
    region: str
    topic_id: int
    opened_at: dt.datetime
    updated_at: dt.datetime
    demand_count: int


class DemandsOut(Schema):
    count: int = Field(..., description="every demand that raised the case's problem")
    numbers: list[str] = Field(..., description="the numbers of those the caller may see (none for the public)")


class IssueOut(Schema):
    id: int
    volume: int
    reporters: int


class HotSpotOut(Schema):
    id: int
    grid: str
    category: str
    since: dt.date


class TopicLinkOut(Schema):
    id: int
    title: str
    status: str
    support_count: int
    url: str


class MeetingLinkOut(Schema):
    id: int
    title: str
    body_kind: str
    status: str
    starts_at: dt.datetime
    due: int | None
    present: int | None
    is_quorate: bool | None


class MotionLinkOut(Schema):
    id: int
    meeting_id: int
    text: str
    status: str
    amount: str | None
    is_passed: bool | None
    result: dict
    ballots_url: str = Field(..., description="the published list of ballots (after the count)")


class DecisionLinkOut(Schema):
    id: int
    title: str
    amount: str | None
    is_major: bool
    item_code: str
    item_name: str
    motion_id: int | None
    verdict: dict = Field(..., description="the power list's check of the record: accepted, code, reasons")
    recorded_at: dt.datetime


class DisclosureLinkOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    published_at: dt.datetime
    notice_ends_at: dt.datetime
    objections: int


class ReportOut(Schema):
    id: int
    note: str
    on: dt.date
    at: dt.datetime


class PhotoOut(Schema):
    id: int
    task_id: int | None
    url: str
    thumbnail_url: str
    width: int
    height: int
    sha256: str
    uploaded_at: dt.datetime


class MilestoneOut(Schema):
    id: int
    title: str
    deadline: dt.date
    quality_standard: str
    status: str
    completed_at: dt.datetime | None
    reports: list[ReportOut]


class GoalOut(Schema):
    id: int
    indicator: str
    unit_of_measure: str
    target_value: float
    deadline: dt.date
    status: str
    latest: float | None


class ProjectOut(Schema):
    id: int
    title: str
    unit_id: int | None
    unit: str
    budget: str | None
    outcome: str
    completed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    review_reason: str
    goal: GoalOut | None
    milestones: list[MilestoneOut]


class TallyOut(Schema):
    round: int
    answers: int
    solved: int
    not_solved: int
    satisfied: int
    solved_share: float | None
    satisfied_share: float | None


class CaseOut(CaseRowOut):
    verdict_round: int
    asked_at: dt.datetime | None
    answers_due: dt.datetime | None
    closed_at: dt.datetime | None
    demands: DemandsOut
    issue: IssueOut | None
    hot_spot: HotSpotOut | None
    topic: TopicLinkOut
    meetings: list[MeetingLinkOut]
    motions: list[MotionLinkOut]
    decision: DecisionLinkOut | None
    disclosures: list[DisclosureLinkOut]
    project: ProjectOut | None
    photos: list[PhotoOut]
    verdicts: list[TallyOut] = Field(..., description="the residents' answers counted per round of asking")
    may_answer: bool = Field(..., description="whether the caller may answer the verdict now")


class VerdictIn(Schema):
    solved: bool
    satisfaction: Literal[tuple(Verdict.Satisfaction.values)]
    comment: str = optional_text(300)


class VerdictOut(Schema):
    id: int
    round: int
    solved: bool
    satisfaction: str
    case_status: str
    tally: TallyOut


class ProgressOut(Schema):
    report_id: int
    task_id: int
    task_status: str
    photos: list[PhotoOut]


class CheckIn(Schema):
    quality_met: bool = Field(..., description="true: accepted; false: sent back to the unit to be put right")
    note: str = Field(..., min_length=1, max_length=2000, pattern=VISIBLE_TEXT_PATTERN)


class CheckResultOut(Schema):
    task_id: int
    task_status: str
    completed: bool
    quality_met: bool | None


class ReceiptRowOut(Schema):
    event_id: int
    kind: str
    subject: str
    at: dt.datetime
    receipt: dict | None = Field(..., description="the ledger receipt, or null while not yet sequenced")


class CheckOut(Schema):
    event_id: int
    kind: str
    ok: bool
    index: int | None
    failed: list[str]


class VerifyOut(Schema):
    checked: int
    ok: int
    failed: int
    pending: int = Field(..., description="steps not yet in the ledger (sequenced shortly after they happen)")
    tree_size: int | None
    steps: list[CheckOut]
