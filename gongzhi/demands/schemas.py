"""API shapes of demands. The reporter's contact appears only in DemandDetailOut.contact, filled for the
units handling the demand (and each such read logged)."""

import datetime as dt

from ninja import Field, Schema

from gongzhi.ledger.schemas import ReceiptOut


class DemandIn(Schema):
    text: str = Field(..., max_length=4000, description="the description, in the resident's words")
    longitude: float | None = Field(None, ge=-180, le=180)
    latitude: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=200)
    category: str | None = Field(None, description="a category code (GET categories); empty: the desk triages")
    urgency: str | None = Field(None, description="emergency | utilities | ordinary | complex; empty: proposed")
    channel: str = Field("api", description="web | patrol | hotline | api")
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=20)


class ActionIn(Schema):
    """Body of POST …/actions/{action}; each action reads the fields it needs."""

    unit_id: int | None = Field(None, description="dispatch: the lead unit (empty: routing decides)")
    assisting_unit_ids: list[int] = Field([], description="dispatch: assisting units (协办)")
    category: str | None = Field(None, description="triage / dispatch: category code")
    urgency: str | None = Field(None, description="triage: override the proposed urgency")
    reason: str = Field("", max_length=2000, description="return / reject / reopen: required")
    text: str = Field("", max_length=4000, description="reply: the answer to the resident")
    note: str = Field("", max_length=2000)
    solved: bool | None = Field(None, description="rate: was it solved?")
    satisfaction: str | None = Field(None, description="rate: satisfied | basically_satisfied | not_satisfied")
    original: str | None = Field(None, description="merge: the number of the demand this one duplicates")


class DemandOut(Schema):
    number: str
    channel: str
    state: str
    text: str
    category: str | None
    category_name: str | None
    urgency: str
    longitude: float | None
    latitude: float | None
    address: str
    grid_id: int
    community_id: int
    street_id: int
    lead_unit_id: int | None
    dispatch_due: dt.datetime | None
    accept_due: dt.datetime | None
    feedback_due: dt.datetime | None
    received_at: dt.datetime
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    replied_at: dt.datetime | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    rated_at: dt.datetime | None
    reply: str
    solved: bool | None
    satisfaction: str
    merged_into: str | None
    reopen_count: int
    is_overdue: bool
    suggested_category: str | None = Field(None, description="the classifier's proposal while unclassified")
    suggestion_confidence: float | None = None

    @staticmethod
    def resolve_suggested_category(obj):
        return obj.suggested_category.code if obj.suggested_category_id else None

    @staticmethod
    def resolve_category(obj):
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_category_name(obj):
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_merged_into(obj):
        return obj.merged_into.number if obj.merged_into_id else None

    @staticmethod
    def resolve_is_overdue(obj):
        return obj.is_overdue()


class ContactOut(Schema):
    name: str
    phone: str


class DemandDetailOut(DemandOut):
    assisting_unit_ids: list[int]
    allowed_actions: list[str] = Field(description="what the caller may do next")
    contact: ContactOut | None = Field(description="only for the units handling the demand; each read is logged")


class StepOut(Schema):
    demand: DemandDetailOut
    receipts: list[ReceiptOut | None] = Field(
        description="ledger receipt of each step written (null while not yet sequenced: see GET …/events)")


class EventOut(Schema):
    action: str
    from_state: str
    to_state: str
    at: dt.datetime
    unit_id: int | None
    note: str
    event_id: int
    receipt: ReceiptOut | None


class CategoryNode(Schema):
    code: str
    name: str
    name_en: str
    default_urgency: str
    children: list["CategoryNode"] = []


class RatesOut(Schema):
    id: int
    name: str
    code: str | None
    dispatched: int
    accepted_in_time: int
    rated: int
    solved: int
    satisfied: int
    basically_satisfied: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    score: float | None


class SubmissionOut(Schema):
    """A submission to the fast intake path: 202 on POST, then polled at `status_url` until it is
    `filed` (with the demand's number) or `refused` (with the reason)."""

    key: str
    state: str = Field(description="pending | filed | refused")
    received_at: dt.datetime
    status_url: str
    number: str | None = Field(None, description="the demand's number once filed")
    error_code: str | None = None
    error_message: str | None = None
    receipt: ReceiptOut | None = Field(None, description="ledger receipt of the submission (GET only)")


class SimilarOut(Schema):
    number: str
    score: float = Field(description="text similarity × distance decay × time decay, 0..1")
    parts: dict
