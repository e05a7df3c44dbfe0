"""demands' JSON API under /api/v1/demands/: file, list and read demands, act on them (each step answered
with its ledger receipt), their timeline, the category tree and the three rates."""

import datetime as dt
from typing import Literal

from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from gongzhi.core import clock, policy, ratelimit
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Organisation, Region
from gongzhi.org.queries import get_scoped

from . import queries, services
from .schemas import (
    ActionIn, CategoryNode, DemandDetailOut, DemandIn, DemandOut, EventOut, RatesOut, SimilarOut, StepOut,
    SubmissionIn, SubmissionOut,
)
from .models import Demand

router = Router(tags=["demands"])

from . import supervision_api  # noqa: E402

supervision_api.register(router)  # 督办: /api/v1/demands/supervision/…, before "/{number}…"


class _Detail:
    """A demand with the fields DemandDetailOut adds (which must not touch the model: `contact` is the
    reverse accessor of DemandContact)."""

    def __init__(self, demand, **extra):
        self._demand = demand
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._demand, name)


def _detail(user, demand) -> _Detail:
    return _Detail(
        demand,
        assisting_unit_ids=queries.assisting_unit_ids(demand),
        allowed_actions=queries.actions_for(user, demand),
        contact=services.contact_for_handler(user, demand, purpose="handling the demand", channel="api"),
    )


def _step(user, step: services.Step) -> dict:
    receipts = step.receipts()
    return {"demand": _detail(user, step.demand), "receipts": receipts}


# Each action's call of its use case with the fields of ActionIn it needs.
ACTIONS = {
    "triage": lambda u, d, p: services.triage(u, d, category=p.category, urgency=p.urgency),
    "dispatch": lambda u, d, p: services.dispatch(
        u, d, unit=p.unit_id, assisting=p.assisting_unit_ids, category=p.category, note=p.note),
    "accept": lambda u, d, p: services.accept(u, d),
    "return": lambda u, d, p: services.return_to_dispatch(u, d, reason=p.reason),
    "start_work": lambda u, d, p: services.start_work(u, d),
    "reply": lambda u, d, p: services.reply(u, d, text=p.text),
    "verify": lambda u, d, p: services.verify(u, d, note=p.note),
    "close": lambda u, d, p: services.close(u, d, note=p.note),
    "rate": lambda u, d, p: services.rate(u, d, solved=p.solved, satisfaction=p.satisfaction, note=p.note),
    "reopen": lambda u, d, p: services.reopen(u, d, reason=p.reason),
    "merge": lambda u, d, p: services.merge_into(u, d, queries.get_visible(u, p.original or ""), note=p.note),
    "reject": lambda u, d, p: services.reject(u, d, reason=p.reason),
    "confirm_urgency": lambda u, d, p: services.confirm_urgency(u, d, urgency=p.urgency, note=p.note),
}

ActionName = Literal[tuple(ACTIONS)]


@router.get("/categories", response=list[CategoryNode])
def categories(request):
    """The category tree; `code` is what POST demands and Open311's service_code take."""
    def node(item):
        c = item["category"]
        return {"code": c.code, "name": c.name, "name_en": c.name_en, "default_urgency": c.default_urgency,
                "children": [node(child) for child in item["children"]]}

    return [node(item) for item in queries.category_tree()]


@router.get("/rates", response=list[RatesOut])
def rates(request, level: str = "street", start: dt.date | None = None, end: dt.date | None = None,
          within: int | None = None):
    """响应率, 解决率, 满意率 and the composite score per unit | community | street | category for the local
    days start..end (default: this month so far), best score first."""
    today = clock.today()
    start = start or today.replace(day=1)
    end = end or today
    region = get_scoped(request.auth, Region, within) if within is not None else None
    return [r.as_dict() for r in queries.rates_for(request.auth, level, start, end, within=region)]


@router.post("/", response={201: StepOut})
def file_demand(request, payload: DemandIn):
    """File a demand. 400 `outside_grids` when the point lies outside every grid (nothing is stored)."""
    ratelimit.check(request, "file_demand")
    step = services.file_demand(
        request.auth, text=payload.text, channel=Demand.Channel.PATROL if payload.patrol else Demand.Channel.API,
        longitude=payload.longitude,
        latitude=payload.latitude, address=payload.address, category=payload.category, urgency=payload.urgency,
        contact_name=payload.contact_name, contact_phone=payload.contact_phone,
    )
    return Status(201, _step(request.auth, step))


def submission_answer(submission, *, receipt=None) -> dict:
    """SubmissionOut's fields (the fast path in fastpath.py renders the same)."""
    return {
        "key": submission.key, "state": submission.state, "received_at": submission.received_at,
        "status_url": f"/api/v1/demands/submissions/{submission.key}",
        "number": submission.demand.number if submission.demand_id else None,
        "error_code": submission.error_code or None, "error_message": submission.error_message or None,
        "receipt": receipt,
    }


@router.post("/submissions", response={202: SubmissionOut})
def submit_demand(request, payload: SubmissionIn):
    """The fast intake path: the demand is stored durably and answered 202 at once; the intake worker
    (`gongzhi demands work`) then places, numbers and routes it. Bad input (unknown category, a point
    outside every grid …) is refused here with its 4xx and nothing is stored."""
    ratelimit.check(request, "file_demand")
    submission = services.submit_demand(
        request.auth, text=payload.text, channel=Demand.Channel.API, longitude=payload.longitude,
        latitude=payload.latitude, address=payload.address, category=payload.category, urgency=payload.urgency,
        contact_name=payload.contact_name, contact_phone=payload.contact_phone,
    )
    return Status(202, submission_answer(submission))


@router.get("/submissions/{key}", response=SubmissionOut)
def get_submission(request, key: str):
    """A submission of the caller's: pending, filed (with the demand's number) or refused (with why)."""
    submission = services.submission_for(request.auth, key)
    return submission_answer(submission, receipt=services.receipt(services.submission_event(submission)))


@router.get("/", response=list[DemandOut])
@paginate(LimitOffsetPagination)
def list_demands(request, state: str | None = None, category: str | None = None, unit: int | None = None,
                 overdue: bool | None = None, mine: bool = False):
    """The demands the caller may see, newest first; `mine=true`: their own work queue instead."""
    if mine:
        return queries.queue(request.auth)
    return queries.listed(request.auth, state=state, category=category, unit=unit, overdue=overdue)


@router.get("/{number}", response=DemandDetailOut)
def get_demand(request, number: str):
    return _detail(request.auth, queries.get_visible(request.auth, number))


@router.get("/{number}/events", response=list[EventOut])
def demand_events(request, number: str):
    """The timeline: every step with who-unit, when, from, to, note and its ledger receipt."""
    demand = queries.get_visible(request.auth, number)
    return [
        {"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "at": e.at, "unit_id": e.unit_id,
         "note": e.note, "event_id": e.event_id, "receipt": services.receipt(e.event, catch_up=False)}
        for e in queries.timeline_as_seen_by(request.auth, demand)
    ]


@router.get("/{number}/similar", response=list[SimilarOut])
def similar_demands(request, number: str):
    """Open demands nearby that say the same and that the caller may see, best first, for a dispatcher
    deciding whether to merge (403 for anyone who may not merge this demand; empty when no analysis app
    offers suggestions)."""
    demand = queries.get_visible(request.auth, number)
    policy.require(request.auth, "demands.merge", demand)
    return [{"number": s.number, "score": s.score, "parts": s.parts} for s in queries.similar(request.auth, demand, 10)]


@router.post("/{number}/actions/{action}", response=StepOut)
def act(request, number: str, action: ActionName, payload: ActionIn):
    """Move the demand: triage, dispatch, accept, return, start_work, reply, verify, close, rate, reopen,
    merge, reject, confirm_urgency. 409 `illegal_transition` when the state does not allow it; nothing
    changes then."""
    demand = queries.get_visible(request.auth, number)
    return _step(request.auth, ACTIONS[action](request.auth, demand, payload))

