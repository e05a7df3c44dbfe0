"""duties' JSON API under /api/v1/duties/: the public power and responsibility lists, decisions, goals with
their computed status; recording a decision, changing the responsibility list and reporting progress."""

import datetime as dt
from typing import Literal

from ninja import Field, Router, Schema, Status

from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.openapi import free_text, optional_text
from gongzhi.org.models import Organisation, Post, Region

from . import services
from .models import Decision, Goal, PowerItem, Project, Responsibility

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


class MilestoneIn(Schema):
    title: str = free_text(160)
    deadline: dt.date
    quality_standard: str = optional_text(4000)


class ProjectPlanIn(Schema):
    """What a decision approving an amount or a project starts: the responsible unit, the budget (at most the
    amount approved; default: that amount) and the milestones, each a task with its deadline."""

    unit_id: int
    milestones: list[MilestoneIn] = Field(..., min_length=1, max_length=30)
    title: str = optional_text(160)
    budget: str | None = Field(None, pattern=r"^\s*[0-9]{1,13}(\.[0-9]{1,2})?\s*$",
                               description="yuan, to the fen, as a string such as \"50000\"")
    solved_target: float = Field(services.DEFAULT_SOLVED_TARGET, gt=0, le=100,
                                 description="the share (%) of residents asked who must say the problem is solved")


class OutcomeIn(Schema):
    outcome: str = free_text(4000)


def _plan(payload: ProjectPlanIn) -> services.ProjectPlan:
    unit = Organisation.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        # As for a unit out of the caller's scope (services._require_known): the answer does not tell which.
        raise ValidationFailed(_("no %(what)s %(pk)s") % {"what": Organisation._meta.verbose_name,
                                                          "pk": payload.unit_id}, code="unknown_organisation")
    return services.ProjectPlan(
        unit=unit, title=payload.title, budget=payload.budget, solved_target=payload.solved_target,
        milestones=tuple(services.Milestone(m.title, m.deadline, m.quality_standard) for m in payload.milestones))


def _project_out(p: Project) -> dict:
    return {"id": p.pk, "title": p.title, "decision_id": p.decision_id, "unit_id": p.unit_id,
            "budget": str(p.budget) if p.budget is not None else None, "goal_id": p.goal_id,
            "milestones": list(p.tasks.order_by("deadline", "pk").values_list("pk", flat=True)),
            "completed_at": p.completed_at.isoformat() if p.completed_at else None}


class DecisionIn(Schema):
    title: str = free_text(160)
    amount: str | None = Field(None, pattern=r"^\s*[0-9]{1,13}(\.[0-9]{1,2})?\s*$",
                               description="yuan, to the fen, as a string such as \"50000\" or \"1234.50\"")
    kind: str | None = None
    topic_id: int | None = None
    motion_id: int | None = None
    signatories: list[str] = []
    details: str = optional_text(4000)
    project: ProjectPlanIn | None = Field(None, description="the project the decision starts, if it approves one")


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
        signatories=payload.signatories, details=payload.details,
        project=_plan(payload.project) if payload.project is not None else None)
    out = _decision_out(decision)
    project = Project.objects.filter(decision=decision).first()
    return Status(201, {**out, "project": _project_out(project) if project else None})


@router.post("/decisions/{decision_id}/project", response={201: dict})
def start_project(request, decision_id: int, payload: ProjectPlanIn):
    """Start the project a recorded decision approves (one per decision)."""
    project = services.start_project(request.user, _get(Decision, decision_id), _plan(payload))
    return Status(201, _project_out(project))


@router.post("/projects/{project_id}/outcome", response=dict)
def record_project_outcome(request, project_id: int, payload: OutcomeIn):
    """Record a project done, with its outcome (a decision's project: once every milestone is done)."""
    project = services.record_project_outcome(request.user, _get(Project, project_id), payload.outcome)
    return _project_out(project)


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
