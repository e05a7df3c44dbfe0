"""督办 in the JSON API, under /api/v1/demands/supervision/ (supervision.py): the orders the caller follows or
must answer, issuing an order on a demand named in the body, answering and closing an order, listing a demand
publicly. The same use cases as the pages; a demand or order out of the caller's scope answers 404."""

import datetime as dt
from typing import Literal

from ninja import Field, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from gongzhi.core.openapi import free_text, optional_text

from . import queries, supervision


OrderStatus = Literal["open", "answered", "closed"]


class OrderOut(Schema):
    id: int
    number: str = Field(..., description="the demand's number")
    kind: Literal["sweep", "officer"]
    deadline: Literal["dispatch", "accept", "feedback"] = Field(..., description="the deadline it is about")
    due: dt.datetime = Field(..., description="when that deadline was (or is) due")
    unit_id: int | None = Field(None, description="the unit that must answer")
    supervisor_id: int | None = Field(None, description="the organisation that follows it")
    issued_at: dt.datetime
    respond_by: dt.datetime | None = Field(None, description="the officer's new deadline (none for the sweep's)")
    note: str
    answer: str
    promised_by: dt.date | None
    answered_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_by_supervisor: bool
    working_days_late: int | None


class OrderIn(Schema):
    number: str = Field(..., max_length=24, description="the demand to supervise, in the caller's street or district")
    note: str = free_text(supervision.MAX_NOTE, description="the note to the unit")
    respond_by: dt.datetime = Field(..., description="the new deadline: in the future, within a year")


class AnswerIn(Schema):
    text: str = free_text(supervision.MAX_NOTE, description="what the unit will do")
    promised_by: dt.date = Field(..., description="the day it will be done by: today or later")


class CloseIn(Schema):
    note: str = optional_text(supervision.MAX_NOTE)


class ListingIn(Schema):
    number: str = Field(..., max_length=24)
    reason: Literal["concern", "unsolved", "other"]
    note: str = optional_text(supervision.MAX_LISTING_NOTE, description="public; required with reason other")


class ListingOut(Schema):
    id: int
    number: str
    reason: str
    note: str
    listed_at: dt.datetime


def _out(order) -> dict:
    return {
        "id": order.pk, "number": order.demand.number, "kind": order.kind, "deadline": order.deadline,
        "due": order.due, "unit_id": order.unit_id, "supervisor_id": order.supervisor_id,
        "issued_at": order.issued_at, "respond_by": order.respond_by, "note": order.note, "answer": order.answer,
        "promised_by": order.promised_by, "answered_at": order.answered_at, "resolved_at": order.resolved_at,
        "closed_by_supervisor": order.closed_by_id is not None,
        "working_days_late": supervision.working_days_late(order.due),
    }


def register(router) -> None:
    """Add the operations to demands' router (api.py), so they are demands' own operations."""

    @router.get("/supervision/orders", response=list[OrderOut])
    @paginate(LimitOffsetPagination)
    def orders(request, status: OrderStatus = "open", to_answer: bool = False):
        """The orders the caller follows (the supervision board), oldest missed deadline first; `to_answer=true`:
        those addressed to the caller's units instead."""
        found = (supervision.inbox(request.auth, status=status) if to_answer
                 else supervision.board_orders(request.auth, status=status))
        return [_out(o) for o in found]

    @router.post("/supervision/orders", response={201: OrderOut})
    def issue(request, payload: OrderIn):
        """Issue a supervision order on a demand of the caller's street or district (403 for others who may see
        it). 400 `respond_by_past` for a deadline not in the future; 409 `already_supervised` while an officer's
        order on it is open."""
        demand = queries.get_visible(request.auth, payload.number)
        order = supervision.issue_order(request.auth, demand, note=payload.note, respond_by=payload.respond_by)
        return Status(201, _out(order))

    @router.post("/supervision/orders/{order_id}/answer", response=OrderOut)
    def answer(request, order_id: int, payload: AnswerIn):
        """The unit's answer: what it will do and by when (its posts only; 409 once answered or closed)."""
        order = supervision.get_order(request.auth, order_id)
        return _out(supervision.answer_order(request.auth, order, text=payload.text, promised_by=payload.promised_by))

    @router.post("/supervision/orders/{order_id}/close", response=OrderOut)
    def close(request, order_id: int, payload: CloseIn):
        """The supervisor closes the order."""
        order = supervision.get_order(request.auth, order_id)
        return _out(supervision.close_order(request.auth, order, note=payload.note))

    @router.post("/supervision/listings", response={201: ListingOut})
    def list_publicly(request, payload: ListingIn):
        """挂牌督办: list a demand of the caller's street or district publicly, with the reason."""
        demand = queries.get_visible(request.auth, payload.number)
        listing = supervision.list_publicly(request.auth, demand, reason=payload.reason, note=payload.note)
        return Status(201, {"id": listing.pk, "number": demand.number, "reason": listing.reason, "note": listing.note,
                            "listed_at": listing.listed_at})
