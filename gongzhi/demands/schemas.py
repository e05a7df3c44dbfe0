"""API shapes of demands. The reporter's contact appears only in DemandDetailOut.contact, filled for the
units handling the demand (and each such read logged)."""

import datetime as dt

from typing import Literal

from ninja import Field, Schema

from gongzhi.core.openapi import free_text, optional_text

from gongzhi.ledger.schemas import ReceiptOut

Urgency = Literal["emergency", "utilities", "ordinary", "complex"]


class DemandIn(Schema):
    """A demand as a resident (or a grid worker on patrol) files it. The channel is not a field: the server
    sets it from the entry point (this API: "api"; `patrol`: "patrol")."""

    text: str = free_text(4000, description="the description, in the resident's words")
    longitude: float = Field(..., ge=-180, le=180, description="with latitude: the point, inside a grid")
    latitude: float = Field(..., ge=-90, le=90)
    address: str = optional_text(200)
    category: str | None = Field(None, description="a category code (GET categories); empty: the desk triages")
    urgency: Urgency | None = Field(
        None, description="the reporter's suggestion, which the dispatch desk confirms (confirm_urgency); "
        "applied at once only when the caller dispatches for the demand's grid; empty: proposed from the text")
    patrol: bool = Field(False, description="a grid worker's report from patrol (巡查上报) in their own grid; "
                         "403 for anyone else")
    contact_name: str = optional_text(60)
    contact_phone: str = optional_text(20)


class SubmissionIn(DemandIn):
    """A demand for the fast intake path (patrol reports are filed directly, with POST /demands/)."""

    patrol: Literal[False] = Field(False, description="always false here")


class ActionIn(Schema):
    """Body of POST …/actions/{action}; each action reads the fields it needs."""

    unit_id: int | None = Field(None, description="dispatch: the lead unit (empty: routing decides)")
    assisting_unit_ids: list[int] = Field([], description="dispatch: assisting units (协办)")
    category: str | None = Field(None, description="triage / dispatch: category code")
    urgency: Urgency | None = Field(None, description="triage: override the proposed urgency; confirm_urgency: "
                                    "the urgency confirmed (empty: the reporter's suggestion)")
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
    suggested_urgency: str | None = Field(None, description="the reporter's suggestion, when they gave one")
    is_urgency_confirmed: bool = Field(False, description="set by the dispatch desk (or a rule proposing it)")
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

    # Text, address and reply as the caller may read them: scrubbed for overseers (queries.as_seen_by).
    @staticmethod
    def resolve_text(obj, context):
        return _seen(obj, context)["text"]

    @staticmethod
    def resolve_address(obj, context):
        return _seen(obj, context)["address"]

    @staticmethod
    def resolve_reply(obj, context):
        return _seen(obj, context)["reply"]

    @staticmethod
    def resolve_suggested_category(obj):
        return obj.suggested_category.code if obj.suggested_category_id else None

    @staticmethod
    def resolve_suggested_urgency(obj):
        return obj.suggested_urgency or None

    @staticmethod
    def resolve_is_urgency_confirmed(obj):
        return obj.urgency_overridden

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
    cases: int  # demands dispatched or rated in the range (what the ranking's minimum sample counts)
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


def _seen(obj, context) -> dict:
    from .queries import as_seen_by

    request = (context or {}).get("request")
    return as_seen_by(getattr(request, "auth", None), getattr(obj, "_demand", obj))
