"""duties' JSON API under /api/v1/duties/: the public power and responsibility lists, decisions, goals with
their computed status; recording a decision, changing the responsibility list and reporting progress."""

from typing import Literal

from ninja import Field, Router, Schema, Status

from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.openapi import free_text, optional_text
from gongzhi.org.models import Organisation, Post, Region

from . import services
from .models import Decision, Goal, PowerItem, Responsibility

router = Router(tags=["duties"])


def _region(region_id: int) -> Region:
    region = Region.objects.filter(pk=region_id).first()
    if region is None:
        raise NotFound(_("region %(region_id)s") % {"region_id": region_id})
    return region


def _get(model, pk):
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("%(verbose_name)s %(pk)s") % {"verbose_name": model._meta.verbose_name, "pk": pk})
    return found


def _decision_out(d: Decision) -> dict:
    return {"id": d.pk, "item": d.item.code, "title": d.title, "amount": str(d.amount) if d.amount is not None else None,
            "is_major": d.is_major, "topic_id": d.topic_id, "motion_id": d.motion_id, "verdict": d.verdict,
            "disclosure_id": d.disclosure_id, "recorded_at": d.recorded_at.isoformat()}


class DecisionIn(Schema):
    title: str = free_text(160)
    amount: str | None = Field(None, pattern=r"^\s*[0-9]{1,13}(\.[0-9]{1,2})?\s*$",
                               description="yuan, to the fen, as a string such as \"50000\" or \"1234.50\"")
    kind: str | None = None
    topic_id: int | None = None
    motion_id: int | None = None
    signatories: list[str] = []
    details: str = optional_text(4000)


class ResponsibilityIn(Schema):
    unit_id: int
    region_id: int
    matters: list[str] = Field(..., min_length=1, description="demand category codes (at least one)")
    duty: str = free_text(4000)
    priority: int = 0
    role: Literal[("", *Post.Role.values)] = Field("", description="a post, or empty for the whole unit")


class ProgressIn(Schema):
    value: float
    note: str = free_text(4000)
    evidence: str = optional_text(4000)


@router.get("/power-items", response=list[dict], auth=None)
def power_items(request, region_id: int):
    return [{"id": i.pk, "code": i.code, "name": i.name, "group": i.group, "kind": i.kind, "definition": i.definition}
            for i in PowerItem.objects.filter(region=_region(region_id), is_active=True)]


@router.post("/power-items/{item_id}/decisions", response={201: dict})
def record_decision(request, item_id: int, payload: DecisionIn):
    from gongzhi.deliberation.models import Motion, Topic

    def ref(model, pk, what):
        if pk is None:
            return None
        found = model.objects.filter(pk=pk).first()
        if found is None:
            raise ValidationFailed(_("no %(what)s %(pk)s") % {"what": model._meta.verbose_name, "pk": pk},
                                   code=f"unknown_{what}")
        return found

    decision = services.record_decision(
        request.user, _get(PowerItem, item_id), title=payload.title, amount=payload.amount, kind=payload.kind,
        topic=ref(Topic, payload.topic_id, "topic"), motion=ref(Motion, payload.motion_id, "motion"),
        signatories=payload.signatories, details=payload.details)
    return Status(201, _decision_out(decision))


@router.get("/decisions", response=list[dict], auth=None)
def decisions(request, region_id: int):
    region = _region(region_id)
    return [_decision_out(d) for d in Decision.objects.filter(item__region__path__startswith=region.path)
            .select_related("item")[:500]]


@router.get("/responsibilities", response=list[dict], auth=None)
def responsibilities(request, region_id: int):
    region = _region(region_id)
    return [{"id": e.pk, "unit_id": e.unit_id, "unit": e.unit.name, "region_id": e.region_id, "role": e.role,
             "matters": e.matters, "duty": e.duty, "priority": e.priority}
            for e in Responsibility.objects.filter(is_active=True, region__path__startswith=region.path)
            .select_related("unit")]


@router.post("/responsibilities", response={201: dict})
def add_responsibility(request, payload: ResponsibilityIn):
    unit = Organisation.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise ValidationFailed(_("no organisation %(unit_id)s") % {"unit_id": payload.unit_id}, code="unknown_unit")
    entry = services.set_responsibility(request.user, unit=unit, region=_region(payload.region_id),
                                        matters=payload.matters, duty=payload.duty, priority=payload.priority,
                                        role=payload.role)
    return Status(201, {"id": entry.pk, "matters": entry.matters})


@router.get("/goals", response=list[dict], auth=None)
def goals(request, region_id: int):
    region = _region(region_id)
    out = []
    for goal in Goal.objects.filter(region__path__startswith=region.path).select_related("owner"):
        assessment = services.goal_status(goal)
        out.append({"id": goal.pk, "title": goal.title, "indicator": goal.indicator, "unit": goal.unit_of_measure,
                    "start_value": goal.start_value, "target_value": goal.target_value,
                    "deadline": goal.deadline.isoformat(), "owner": goal.owner.name,
                    "live_indicator": goal.live_indicator, "status": assessment.status.value,
                    "reason_zh": assessment.reason_zh, "reason_en": assessment.reason_en,
                    "latest": float(assessment.latest.value) if assessment.latest else None})
    return out


@router.post("/goals/{goal_id}/progress", response={201: dict})
def report_progress(request, goal_id: int, payload: ProgressIn):
    report = services.report_progress(request.user, goal=_get(Goal, goal_id), value=payload.value, note=payload.note,
                                      evidence=payload.evidence)
    goal = Goal.objects.get(pk=goal_id)
    return Status(201, {"report": report.pk, "status": goal.status})
