"""Duties use cases: one function per act, each checking can(), running in one transaction and recording
its event (hence a ledger entry). The rules are pure: powers.py (what a decision needs), rules.py (status,
scores, responsibility → routing), matching.py (needs × resources)."""

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import bilingual, gettext_lazy, join_lazy
from gongzhi.core.scrub import scrub
from gongzhi.core.text import clean_optional_text, clean_public_text
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Motion, StageRecord, Topic
from gongzhi.org.models import Organisation, Person, Post, Region

from . import indicators, matching, powers, rules
from .models import (AccountabilityRecord, Decision, Goal, Match, Need, PowerItem, ProgressReport, Project,
                     Resource, Responsibility, ResidentEvaluation, ReviewMeeting, Scorecard, ScoreResult, Task)
from .signals import responsibilities_changed


def _verdict(verdict: powers.Verdict):
    """The verdict's words in the language shown: powers.check_decision words each verdict in both languages from
    the power list's own bilingual catalogue (which is data, not a gettext message), and stores both."""
    return bilingual(verdict.message_zh, verdict.message_en)


def _text(value: str, what: str, *, max_length: int | None = None) -> str:
    """Free text through the one check (core.text): no NUL, not only invisible characters, not too long;
    and, since everything typed here is published, scrubbed of personal data before it is stored."""
    return clean_public_text(value, what, max_length=max_length)


def _optional_public(value: str, what: str) -> str:
    """An optional published text: may be empty; checked and scrubbed like _text otherwise."""
    return scrub(clean_optional_text(value, what))


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


# --- power list -----------------------------------------------------------------------------------------

def adopt_power_list(user, region: Region, preset: str | None = None) -> list[PowerItem]:
    """Give a village or community the preset power list (小微权力清单) of its kind; items already there
    (same code) are kept as they are, so adopting again adds only what is new."""
    policy.require(user, "duties.manage", region)
    if region.level != Region.Level.COMMUNITY:
        raise ValidationFailed(gettext_lazy("a power list belongs to a village or community"), code="wrong_region")
    preset = preset or ("village" if region.kind == "village" else "community")
    if preset not in powers.POWER_LISTS:
        raise ValidationFailed(gettext_lazy("unknown power list %(preset)r")
                               % {"preset": preset}, code="unknown_preset")
    now = clock.now()
    with transaction.atomic():
        have = set(PowerItem.objects.filter(region=region).values_list("code", flat=True))
        created = [PowerItem.objects.create(region=region, code=code, name=item.name_zh, group=item.group,
                                            kind=item.kind, definition=powers.item_to_data(item), preset=preset,
                                            updated_at=now)
                   for code, item in powers.POWER_LISTS[preset].items() if code not in have]
        events.record("duties.adopt_power_list", region, actor=user, preset=preset, items=[i.code for i in created])
    return created


def edit_power_item(user, item: PowerItem, definition: dict) -> PowerItem:
    """Replace an item's definition (thresholds, procedure, disclosure); the new one must read cleanly."""
    policy.require(user, "duties.manage", item.region)
    try:
        parsed = powers.item_from_data(definition)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), code="invalid_power_item") from None
    if parsed.code != item.code:
        raise ValidationFailed(gettext_lazy("an item keeps its code"), code="code_changed")
    # The list is published: its free text is scrubbed like any other published text (core.scrub).
    parsed = dataclasses.replace(parsed, name_zh=scrub(parsed.name_zh), name_en=scrub(parsed.name_en),
                                 note=scrub(parsed.note), legal_basis=tuple(scrub(b) for b in parsed.legal_basis))
    with transaction.atomic():
        item = _locked(PowerItem, item.pk)
        before = item.definition
        item.definition, item.name, item.group, item.kind = powers.item_to_data(parsed), parsed.name_zh, \
            parsed.group, parsed.kind
        item.updated_at = clock.now()
        item.save(update_fields=["definition", "name", "group", "kind", "updated_at"])
        events.record("duties.edit_power_item", item, actor=user, before=before, after=item.definition)
    return item


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(gettext_lazy("not an amount: %(value)r")
                               % {"value": value}, code="invalid_amount") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(gettext_lazy("an amount is at least 0, to the fen"), code="invalid_amount")
    return amount


def record_summary(*, topic: Topic | None = None, motion: Motion | None = None) -> powers.RecordSummary | None:
    """What the deliberation record shows, for powers.check_decision: the topic's procedure and the stages
    of its current round (after its last return), or one meeting's motion."""
    if topic is not None:
        rows = list(StageRecord.objects.filter(topic=topic).select_related("meeting__body", "motion")
                    .order_by("sequence"))
        last_failure = max((i for i, r in enumerate(rows) if r.outcome == StageRecord.Outcome.FAILED), default=-1)
        stages, approved = [], None
        for row in rows[last_failure + 1:]:
            stages.append(_stage_summary(row.stage_code, row.outcome != StageRecord.Outcome.FAILED, row.meeting,
                                         row.motion))
            if row.motion is not None and row.motion.amount is not None:
                approved = row.motion.amount
        if not topic.procedure_code:
            return None
        return powers.RecordSummary(procedure_code=topic.procedure_code, stages=tuple(stages),
                                    approved_amount=approved)
    if motion is not None:
        return powers.RecordSummary(stages=(_stage_summary("meeting", bool(motion.is_passed), motion.meeting, motion),),
                                    approved_amount=motion.amount)
    return None


def _stage_summary(code: str, passed: bool, meeting, motion) -> powers.StageSummary:
    result = motion.result if motion is not None else {}
    return powers.StageSummary(stage_code=code, is_passed=passed,
                               body_kind=meeting.body.kind if meeting is not None else None,
                               is_quorate=result.get("quorate") if motion is not None else None,
                               rule=result.get("rule") if motion is not None else None)


def record_decision(user, item: PowerItem, *, title: str, amount=None, kind: str | None = None,
                    topic: Topic | None = None, motion: Motion | None = None, signatories=(), details: str = "",
                    override: bool = False, project: "ProjectPlan | None" = None) -> Decision:
    """Record a decision under a power item. Refused, with the reason, unless the record shows the procedure
    the item requires run to a passed, quorate resolution of the right body (powers.check_decision); the
    refusal is logged, and so is an attempt to override it, which is refused too. Disclosed where the item
    says so."""
    policy.require(user, "duties.decide", item.region)
    _check_decision_record(user, item, topic, motion)
    title = _text(title, "title", max_length=160)
    amount = _amount(amount)
    definition = powers.item_from_data(item.definition)
    try:
        proposed = powers.ProposedDecision(amount=amount, kind=kind)
        record = record_summary(topic=topic, motion=motion) or powers.RecordSummary()
        record = dataclasses.replace(record, signatories=tuple(signatories))
        verdict = powers.check_decision(definition, proposed, record)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_decision") from None
    facts = {"item": item.code, "title": title, "amount": str(amount) if amount is not None else None,
             "topic": getattr(topic, "pk", None), "motion": getattr(motion, "pk", None),
             "signatories": sorted(signatories)}
    if not verdict.is_accepted or override:
        # Logged in a transaction of its own, so the refusal stays on record although nothing else is stored.
        with transaction.atomic():
            events.record("duties.override_refused" if override else "duties.decision_refused", item, actor=user,
                          code=verdict.code, reason_zh=verdict.message_zh, reason_en=verdict.message_en, **facts)
        if override:
            raise PermissionDenied(gettext_lazy("decisions under the power list cannot be overridden; %(verdict)s")
                                   % {"verdict": gettext_lazy("record it normally") if verdict.is_accepted else _verdict(verdict)},
                                   code="override_refused")
        raise ValidationFailed(_verdict(verdict), code=verdict.code)
    with transaction.atomic():
        decision = Decision.objects.create(
            item=item, title=title, amount=amount, details=_optional_public(details, "details"), is_major=verdict.classification.is_major,
            topic=topic, motion=motion, verdict=verdict.to_data(), recorded_by=user, recorded_at=clock.now())
        notice = _disclose(user, decision, definition)
        if notice is not None:
            decision.disclosure = notice
            decision.save(update_fields=["disclosure"])
        events.record("duties.record_decision", decision, actor=user, major=decision.is_major,
                      disclosure=getattr(notice, "pk", None), **facts)
        if project is not None:
            start_project(user, decision, project)
    return decision


# --- a decision becomes work ------------------------------------------------------------------------------

# The share of the residents asked who must say the problem is solved for a decision's project to reach its
# goal (%), unless the plan says otherwise.
DEFAULT_SOLVED_TARGET = 80.0


@dataclasses.dataclass(frozen=True)
class Milestone:
    title: str
    deadline: dt.date
    quality_standard: str = ""


@dataclasses.dataclass(frozen=True)
class ProjectPlan:
    """What a decision approving an amount or a project starts: who answers for it, with what budget, and its
    milestones (each a task with its deadline)."""

    unit: Organisation
    milestones: tuple[Milestone, ...]
    title: str = ""
    budget: object = None
    solved_target: float = DEFAULT_SOLVED_TARGET


def verdict_days() -> int:
    """How long the residents who raised a problem are asked, once its project is done, whether it is solved
    (GONGZHI_CASE_VERDICT_DAYS, 14)."""
    from django.conf import settings

    return int(getattr(settings, "GONGZHI_CASE_VERDICT_DAYS", 14))


def _check_plan(user, decision: Decision, plan: ProjectPlan, region: Region) -> tuple[Decimal | None, list]:
    _require_known(user, plan.unit, "organisation")
    _within(region, plan.unit.region, "the responsible unit")
    budget = _amount(plan.budget) if plan.budget not in (None, "") else decision.amount
    if budget is not None and decision.amount is not None and budget > decision.amount:
        raise ValidationFailed(gettext_lazy("the budget is more than the decision approved (%(amount)s yuan)")
                               % {"amount": powers.yuan(decision.amount)}, code="over_budget")
    milestones = list(plan.milestones)
    if not milestones:
        raise ValidationFailed(gettext_lazy("give the project at least one milestone with its deadline"),
                               code="milestones_required")
    if len(milestones) > 30:
        raise ValidationFailed(gettext_lazy("a project has at most 30 milestones"), code="too_many_milestones")
    today = clock.today()
    for milestone in milestones:
        if not isinstance(milestone.deadline, dt.date) or milestone.deadline <= today:
            raise ValidationFailed(gettext_lazy("a milestone's deadline is after today"), code="deadline_passed")
    if not 0 < float(plan.solved_target) <= 100:
        raise ValidationFailed(gettext_lazy("the share of residents saying it is solved is between 1 and 100"),
                               code="invalid_target")
    return budget, sorted(milestones, key=lambda m: m.deadline)


def start_project(user, decision: Decision, plan: ProjectPlan) -> Project:
    """Start the project a decision approves, with the decision as its authority: the project with its
    responsible unit and budget (at most the amount approved), a goal (the share of residents who say the
    problem is solved, target `solved_target` by the last milestone) and one task per milestone for the unit.
    One project per decision; one transaction, one event each (the ledger has the project's birth)."""
    region = decision.item.region
    policy.require(user, "duties.plan", region)
    budget, milestones = _check_plan(user, decision, plan, region)
    title = _text(plan.title or decision.title, "title", max_length=160)
    with transaction.atomic():
        decision = _locked(Decision, decision.pk)
        if Project.objects.filter(decision=decision).exists():
            raise Conflict(gettext_lazy("the decision has started its project already"), code="project_exists")
        today = clock.today()
        goal = Goal.objects.create(
            region=region, title=title, indicator="居民认为问题已解决的比例", unit_of_measure="%", start_value=0.0,
            target_value=float(plan.solved_target), direction=Goal.Direction.HIGHER, start_date=today,
            deadline=milestones[-1].deadline + dt.timedelta(days=verdict_days()), owner=plan.unit, created_by=user, created_at=clock.now())
        project = Project.objects.create(region=region, title=title, decision=decision, unit=plan.unit, budget=budget,
                                         goal=goal, created_by=user, created_at=clock.now())
        events.record("duties.create_goal", goal, actor=user, target=goal.target_value,
                      deadline=goal.deadline.isoformat(), project=project.pk)
        for milestone in milestones:
            task = Task.objects.create(
                goal=goal, project=project, title=_text(milestone.title, "title", max_length=160), unit=plan.unit,
                deadline=milestone.deadline, created_at=clock.now(),
                quality_standard=_optional_public(milestone.quality_standard, "quality standard") or "按决议完成")
            _refresh_status(task)
            events.record("duties.add_task", task, actor=user, unit=plan.unit.pk, deadline=task.deadline.isoformat(),
                          goal=goal.pk, project=project.pk)
        _refresh_status(goal)
        events.record("duties.start_project", project, actor=user, decision=decision.pk, unit=plan.unit.pk,
                      budget=str(budget) if budget is not None else None, milestones=len(milestones),
                      goal=goal.pk)
    return project


def reopen_project(project: Project, *, reason: str, actor=None) -> Project:
    """Reopen a completed project for review: the residents who raised the problem said, most of them, that it
    is not solved (called by the case file's verdict, with no actor), or an officer reopens it."""
    if actor is not None:
        policy.require(actor, "duties.plan", project.region)
    with transaction.atomic():
        project = _locked(Project, project.pk)
        if project.completed_at is None:
            raise Conflict(gettext_lazy("the project is not completed"), code="not_completed")
        project.completed_at, project.reopened_at = None, clock.now()
        project.review_reason = _text(reason, "reason")
        project.save(update_fields=["completed_at", "reopened_at", "review_reason"])
        events.record("duties.reopen_project", project, actor=actor, reason=project.review_reason)
    return project


def record_verdict_share(project: Project, solved_share: float, *, note: str) -> ProgressReport | None:
    """The residents' verdict as the project goal's value (called by the case file, in its transaction)."""
    if project.goal_id is None:
        return None
    report = ProgressReport.objects.create(goal_id=project.goal_id, value=solved_share, note=note, is_live=True,
                                           on=clock.today(), at=clock.now())
    events.record("duties.report_progress", project.goal, value=solved_share, evidence="", verdict=True)
    _refresh_status(project.goal)
    return report


def missed_milestones(region_paths: list[str] | None = None, *, today: dt.date | None = None):
    """Milestones of decisions' projects past their deadline and not done: for the supervision board, like
    overdue demands. `region_paths`: only those under these paths (None: everywhere)."""
    today = today or clock.today()
    qs = (Task.objects.filter(project__decision__isnull=False, completed_at__isnull=True, deadline__lt=today)
          .select_related("project__region", "unit", "project__decision"))
    if region_paths is not None:
        from django.db.models import Q

        where = Q(pk__in=[])
        for path in region_paths:
            where |= Q(project__region__path__startswith=path)
        qs = qs.filter(where)
    return qs.order_by("deadline", "id")


def _check_decision_record(user, item: PowerItem, topic: Topic | None, motion: Motion | None) -> None:
    """A decision rests only on the deliberation record of the item's own place: the topic and the motion it
    cites lie in the item's region (a village's decision cannot cite another village's vote), the caller may
    decide there, and a motion cited with a topic was put on that topic."""
    if topic is not None and not (topic.region.path.startswith(item.region.path)
                                  and policy.can(user, "duties.decide", topic.region)):
        raise ValidationFailed(gettext_lazy("the topic is outside the item's region"), code="wrong_region")
    if motion is not None:
        place = motion.meeting.body.region
        if not (place.path.startswith(item.region.path) and policy.can(user, "duties.decide", place)):
            raise ValidationFailed(gettext_lazy("the motion was voted outside the item's region"), code="wrong_region")
        if topic is not None and motion.topic_id != topic.pk:
            raise ValidationFailed(gettext_lazy("the motion was not put on this topic"), code="wrong_motion")


def _disclose(user, decision: Decision, item: powers.PowerItem):
    """Publish the decision on the disclosure board when the item requires it on decision."""
    due = [d for d in item.disclosures if d.timing == powers.DisclosureTiming.AFTER_DECISION]
    if not due:
        return None
    what = "；".join(d.what_zh for d in due)
    amount = f"，金额 {powers.yuan(decision.amount)} 元" if decision.amount is not None else ""
    body = f"{decision.item.name}：{decision.title}{amount}。公开内容：{what}。{scrub(decision.details)}".strip()
    return deliberation.publish(user, region=decision.item.region, kind="finances" if decision.amount else
                                "village_affairs", title=f"决策公开：{decision.title}", body=body,
                                notice_days=max(d.notice_days or 7 for d in due), topic=decision.topic)


# --- responsibility list ----------------------------------------------------------------------------------

def _check_responsibilities(entries) -> None:
    specs = [rules.ResponsibilityEntry(unit=e.unit_id, matters=tuple(e.matters), regions=(e.region_id,),
                                       post=e.role or None, priority=e.priority, reference=f"#{e.pk}")
             for e in entries]
    try:
        rules.routing_rules(specs)
    except rules.ResponsibilityConflict as conflict:
        raise ValidationFailed(join_lazy(bilingual(c.message_zh, c.message_en) for c in conflict.conflicts),
                               code="responsibility_conflict") from None
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_responsibility") from None


def set_responsibility(user, *, unit: Organisation, region: Region, matters: list[str], duty: str,
                       priority: int = 0, role: str = "", entry: Responsibility | None = None) -> Responsibility:
    """Add an entry to the responsibility list, or change one; routing follows in the same transaction."""
    policy.require(user, "duties.manage", region)
    if entry is not None:
        policy.require(user, "duties.manage", entry.region)
    if role and role not in Post.Role.values:
        raise ValidationFailed(gettext_lazy("unknown post %(role)r") % {"role": role}, code="unknown_role")
    matters = sorted({str(m).strip() for m in matters if str(m).strip()})
    if not matters:
        raise ValidationFailed(gettext_lazy("name at least one matter (a demand category code)"), code="empty")
    if not unit.region.path.startswith(region.path) and not region.path.startswith(unit.region.path):
        raise ValidationFailed(gettext_lazy("the unit does not serve this region"), code="wrong_region")
    with transaction.atomic():
        before = None
        if entry is None:
            entry = Responsibility(unit=unit, region=region, matters=matters, duty=_text(duty, "duty"),
                                   priority=priority, role=role, updated_at=clock.now())
        else:
            entry = _locked(Responsibility, entry.pk)
            before = {"unit": entry.unit_id, "region": entry.region_id, "matters": entry.matters,
                      "priority": entry.priority}
            entry.unit, entry.region, entry.matters, entry.duty = unit, region, matters, _text(duty, "duty")
            entry.priority, entry.role, entry.updated_at = priority, role, clock.now()
        entry.save()
        _check_responsibilities(Responsibility.objects.filter(is_active=True))
        responsibilities_changed.send(sender=Responsibility)
        events.record("duties.set_responsibility", entry, actor=user, unit=unit.pk, region=region.pk,
                      matters=matters, priority=priority, before=before)
    return entry


def retire_responsibility(user, entry: Responsibility) -> Responsibility:
    policy.require(user, "duties.manage", entry.region)
    with transaction.atomic():
        entry = _locked(Responsibility, entry.pk)
        entry.is_active, entry.updated_at = False, clock.now()
        entry.save(update_fields=["is_active", "updated_at"])
        responsibilities_changed.send(sender=Responsibility)
        events.record("duties.retire_responsibility", entry, actor=user)
    return entry


# --- goals and tasks --------------------------------------------------------------------------------------

def _require_known(user, obj, what: str) -> None:
    """A person named inside a request is checked against the caller's scope like an id in the path: one the
    caller's posts do not let them see is answered exactly as an id that does not exist."""
    if obj is not None and not policy.can(user, "org.view", obj):
        raise ValidationFailed(gettext_lazy("no %(what)s %(pk)s") % {"what": obj._meta.verbose_name, "pk": obj.pk},
                               code=f"unknown_{what}")


def _within(region: Region, other_region: Region, what: str) -> None:
    """`what` must serve inside `region` (or be a unit above it serving it, e.g. the street office)."""
    if not (other_region.path.startswith(region.path) or region.path.startswith(other_region.path)):
        raise ValidationFailed(gettext_lazy("%(what)s is outside %(region_name)s")
                               % {"what": what, "region_name": region.name}, code="wrong_region")


def create_goal(user, *, region: Region, title: str, indicator: str, start_value: float, target_value: float,
                direction: str, start_date: dt.date, deadline: dt.date, owner: Organisation,
                unit_of_measure: str = "", live_indicator: str = "", parent: Goal | None = None) -> Goal:
    policy.require(user, "duties.plan", region)
    _within(region, owner.region, "the owner unit")
    if parent is not None and not region.path.startswith(parent.region.path):
        raise ValidationFailed(gettext_lazy("a sub-goal lies inside its parent goal's region"), code="wrong_region")
    if live_indicator and (indicators.get(live_indicator) is None or indicators.get(live_indicator).for_region is None):
        raise ValidationFailed(gettext_lazy("no live indicator %(live_indicator)r for a region")
                               % {"live_indicator": live_indicator}, code="unknown_indicator")
    try:
        rules.Target(indicator=indicator, target_value=target_value, direction=direction,
                     unit_of_measure=unit_of_measure, start_value=start_value, start_date=start_date,
                     deadline=deadline)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), code="invalid_goal") from None
    with transaction.atomic():
        goal = Goal.objects.create(region=region, parent=parent, title=_text(title, "title", max_length=160),
                                   indicator=_text(indicator, "indicator"), unit_of_measure=unit_of_measure,
                                   start_value=start_value, target_value=target_value, direction=direction,
                                   start_date=start_date, deadline=deadline, owner=owner,
                                   live_indicator=live_indicator, created_by=user, created_at=clock.now())
        goal.status = goal_status(goal).status
        goal.save(update_fields=["status"])
        events.record("duties.create_goal", goal, actor=user, target=target_value, deadline=deadline.isoformat())
    return goal


def _target(goal: Goal) -> rules.Target:
    return rules.Target(indicator=goal.indicator, target_value=goal.target_value, direction=goal.direction,
                        unit_of_measure=goal.unit_of_measure, start_value=goal.start_value,
                        start_date=goal.start_date, deadline=goal.deadline)


def live_value(goal: Goal, day: dt.date | None = None) -> float | None:
    """The goal's live indicator over its period so far (e.g. the community's satisfaction rate)."""
    indicator = indicators.get(goal.live_indicator) if goal.live_indicator else None
    if indicator is None or indicator.for_region is None:
        return None
    day = day or clock.today()
    return indicator.for_region(goal.region, goal.start_date, min(day, goal.deadline))


_UNREAD = object()


def goal_status(goal: Goal, today: dt.date | None = None, *, live=_UNREAD) -> rules.Assessment:
    """Status computed from the reports, the live indicator and the date (never typed). `live`: the live
    indicator's value today when the caller has read it already (it costs a rates query)."""
    today = today or clock.today()
    reports = [rules.ProgressReport(day=r.on, value=r.value) for r in goal.reports.filter(value__isnull=False)
               if r.on <= today]
    value = live_value(goal, today) if live is _UNREAD else live
    if value is not None:
        reports.append(rules.ProgressReport(day=today, value=value))
    return rules.goal_status(_target(goal), reports, today)


def report_progress(user, *, goal: Goal | None = None, task: Task | None = None, value: float | None = None,
                    note: str, evidence: str = "") -> ProgressReport:
    subject = goal or task
    if subject is None or (goal and task):
        raise ValidationFailed(gettext_lazy("report on one goal or one task"), code="invalid")
    policy.require(user, "duties.report_progress" if task else "duties.plan", subject)
    if goal is not None and value is None:
        raise ValidationFailed(gettext_lazy("a goal's report gives the indicator's value"), code="value_required")
    with transaction.atomic():
        report = ProgressReport.objects.create(goal=goal, task=task, value=value, note=_text(note, "note"),
                                               evidence=_optional_public(evidence, "evidence"), reported_by=user,
                                               on=clock.today(), at=clock.now())
        events.record("duties.report_progress", subject, actor=user, value=value, evidence=report.evidence)
        _refresh_status(subject)
    return report


def add_task(user, *, title: str, unit: Organisation, deadline: dt.date, quality_standard: str,
             goal: Goal | None = None, project=None, person: Person | None = None, parent: Task | None = None) -> Task:
    if goal is None and project is None:
        raise ValidationFailed(gettext_lazy("a task serves a goal or a project"), code="invalid")
    policy.require(user, "duties.plan", goal or project)
    _within((goal or project).region, unit.region, "the responsible unit")
    _require_known(user, person, "person")
    if parent is not None and (parent.goal_id != getattr(goal, "pk", None) or parent.project_id != getattr(project, "pk", None)):
        raise ValidationFailed(gettext_lazy("a sub-task belongs to its parent's goal or project"), code="wrong_parent")
    with transaction.atomic():
        task = Task.objects.create(goal=goal, project=project, parent=parent, title=_text(title, "title", max_length=160),
                                   unit=unit, person=person, deadline=deadline,
                                   quality_standard=_text(quality_standard, "quality standard"), created_at=clock.now())
        _refresh_status(task)
        events.record("duties.add_task", task, actor=user, unit=unit.pk, deadline=deadline.isoformat(),
                      goal=getattr(goal, "pk", None), project=getattr(project, "pk", None))
    return task


def complete_task(user, task: Task, *, quality_met: bool, note: str) -> Task:
    """The responsible unit reports the task done; whether the quality standard is met is an officer's check."""
    policy.require(user, "duties.report_progress", task)
    with transaction.atomic():
        task = _locked(Task, task.pk)
        if task.completed_at:
            raise Conflict(gettext_lazy("the task is already completed"), code="already_completed")
        if quality_met is not None and not policy.can(user, "duties.plan", task):
            raise PermissionDenied(gettext_lazy("an officer checks the quality standard"),
                                   code="officer_checks_quality")
        task.completed_at, task.quality_met = clock.now(), quality_met
        task.save(update_fields=["completed_at", "quality_met"])
        ProgressReport.objects.create(task=task, note=_text(note, "note"), reported_by=user, on=clock.today(),
                                      at=clock.now())
        _refresh_status(task)
        events.record("duties.complete_task", task, actor=user, quality_met=quality_met)
    return task


def check_task(user, task: Task, *, quality_met: bool, note: str) -> Task:
    """An officer of the place checks a completed task against its quality standard (验收). Met: the task is
    achieved. Not met: it is reopened for the unit to put right (整改), with the officer's note as a progress
    report, and shows overdue once past its deadline."""
    policy.require(user, "duties.plan", task)
    if not isinstance(quality_met, bool):
        raise ValidationFailed(gettext_lazy("say whether the quality standard is met"), code="invalid")
    note = _text(note, "note")
    with transaction.atomic():
        task = _locked(Task, task.pk)
        if task.completed_at is None:
            raise Conflict(gettext_lazy("the task is not completed yet"), code="not_completed")
        if task.quality_met is not None:
            raise Conflict(gettext_lazy("the task has been checked already"), code="already_checked")
        if quality_met:
            task.quality_met = True
        else:
            task.completed_at = None
        task.save(update_fields=["quality_met", "completed_at"])
        ProgressReport.objects.create(task=task, note=note, reported_by=user, on=clock.today(), at=clock.now())
        _refresh_status(task)
        events.record("duties.check_task", task, actor=user, quality_met=quality_met, private={"note": note})
    return task


def task_status(task: Task, today: dt.date | None = None) -> rules.Assessment:
    today = today or clock.today()
    done = timezone.localdate(task.completed_at) if task.completed_at else None
    return rules.task_status(rules.Task(deadline=task.deadline, completed_on=done, quality_met=task.quality_met,
                                        start_date=timezone.localdate(task.created_at)), today)


def _refresh_status(subject) -> str:
    status = (goal_status(subject) if isinstance(subject, Goal) else task_status(subject)).status
    if subject.status != status:
        before = subject.status
        type(subject).objects.filter(pk=subject.pk).update(status=status)
        subject.status = status
        if before:
            events.record("duties.status_changed", subject, before=before, after=status)
    return status


def refresh_statuses() -> int:
    """The worker's pass: recompute every open goal's and task's status (time moves them: at risk, overdue),
    logging each change, which the pages list as reminders."""
    changed = 0
    for model, open_q in ((Goal, {}), (Task, {"completed_at__isnull": True})):
        for subject in model.objects.filter(**open_q).exclude(status="achieved").iterator():
            with transaction.atomic():
                before = subject.status
                if _refresh_status(subject) != before:
                    changed += 1
    return changed


def hold_review(user, *, region: Region, held_on: dt.date, participants: str, conclusions: str,
                goals=()) -> ReviewMeeting:
    """Record a review meeting (会商研判) of the region's goals with its conclusions."""
    policy.require(user, "duties.plan", region)
    if any(not g.region.path.startswith(region.path) for g in goals):
        raise ValidationFailed(gettext_lazy("a review covers goals of its own region"), code="wrong_region")
    with transaction.atomic():
        review = ReviewMeeting.objects.create(region=region, held_on=held_on,
                                              participants=_text(participants, "participants"),
                                              conclusions=_text(conclusions, "conclusions"), recorded_by=user,
                                              at=clock.now())
        review.goals.set(goals)
        events.record("duties.hold_review", review, actor=user, goals=[g.pk for g in goals],
                      private={"conclusions": review.conclusions})
    return review


# --- evaluation and accountability ----------------------------------------------------------------------------

BUILT_IN_INDICATORS = ("duties.task_completion", "duties.task_timeliness", "duties.resident_evaluation")


def define_scorecard(user, region: Region, data: dict) -> Scorecard:
    policy.require(user, "duties.evaluate_units", region)
    try:
        card = rules.scorecard_from_data(data)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), code="invalid_scorecard") from None
    unknown = [i.live_indicator for i in card.indicators
               if i.live_indicator not in BUILT_IN_INDICATORS and indicators.get(i.live_indicator) is None]
    if unknown:
        raise ValidationFailed(gettext_lazy("no indicator %(unknown)r")
                               % {"unknown": unknown[0]}, code="unknown_indicator")
    with transaction.atomic():
        row = Scorecard.objects.create(region=region, name=card.name_zh, indicators=rules.scorecard_to_data(card),
                                       created_at=clock.now())
        events.record("duties.define_scorecard", row, actor=user, indicators=[i.code for i in card.indicators])
    return row


def indicator_value(code: str, unit: Organisation, start: dt.date, end: dt.date) -> float | None:
    """One indicator of a unit over start..end: duties' own (tasks, residents' evaluation) or a registered one."""
    tasks = Task.objects.filter(unit=unit, deadline__gte=start, deadline__lte=end)
    if code == "duties.task_completion":
        total = tasks.count()
        return None if not total else round(100 * tasks.filter(completed_at__isnull=False).count() / total, 4)
    if code == "duties.task_timeliness":
        done = [t for t in tasks.filter(completed_at__isnull=False)]
        if not done:
            return None
        return round(100 * sum(timezone.localdate(t.completed_at) <= t.deadline for t in done) / len(done), 4)
    if code == "duties.resident_evaluation":
        scores = list(ResidentEvaluation.objects.filter(unit=unit, period_start__gte=start, period_start__lte=end)
                      .values_list("score", flat=True))
        return None if not scores else round(20 * sum(scores) / len(scores), 4)
    indicator = indicators.get(code)
    if indicator is None or indicator.for_unit is None:
        raise ValidationFailed(gettext_lazy("no indicator %(code)r for a unit")
                               % {"code": code}, code="unknown_indicator")
    return indicator.for_unit(unit, start, end)


def compute_scores(user, scorecard: Scorecard, units, start: dt.date, end: dt.date) -> list[ScoreResult]:
    """Score each unit over the period and store the results with their breakdown (考评)."""
    policy.require(user, "duties.evaluate_units", scorecard.region)
    if end < start:
        raise ValidationFailed(gettext_lazy("the period ends before it starts"), code="bad_range")
    card = rules.scorecard_from_data(scorecard.indicators)
    units = list(units)
    for unit in units:
        _within(scorecard.region, unit.region, f"unit {unit.name}")
    results = []
    with transaction.atomic():
        for unit in units:
            values = {i.code: indicator_value(i.live_indicator, unit, start, end) for i in card.indicators}
            score = rules.compute_score(card, values)
            breakdown = [{"code": b.code, "value": None if b.value is None else float(b.value),
                          "normalised": None if b.normalised is None else float(b.normalised),
                          "weight": float(b.weight), "points": float(b.points)} for b in score.breakdown]
            row, _ = ScoreResult.objects.update_or_create(
                scorecard=scorecard, unit=unit, period_start=start, period_end=end,
                defaults={"score": float(score.score) if score.score is not None else 0.0, "breakdown": breakdown,
                          "computed_at": clock.now()})
            events.record("duties.score", row, actor=user, unit=unit.pk, score=row.score, breakdown=breakdown)
            results.append(row)
    return results


def evaluate_unit(user, unit: Organisation, *, score: int, comment: str = "") -> ResidentEvaluation:
    """A resident's evaluation (1–5) of a unit serving where they live, once per month."""
    policy.require(user, "duties.evaluate", unit.region)
    if score not in (1, 2, 3, 4, 5):
        raise ValidationFailed(gettext_lazy("a score is 1 to 5"), code="invalid_score")
    month = clock.today().replace(day=1)
    with transaction.atomic():
        if ResidentEvaluation.objects.filter(unit=unit, evaluator=user, period_start=month).exists():
            raise Conflict(gettext_lazy("you have evaluated this unit this month"), code="already_evaluated")
        row = ResidentEvaluation.objects.create(unit=unit, evaluator=user, period_start=month, score=score,
                                                comment=clean_optional_text(comment, "comment", max_length=2000),
                                                at=clock.now())
        events.record("duties.evaluate", unit, actor=user, score=score, private={"comment": row.comment})
    return row


def record_accountability(user, *, unit: Organisation, facts: str, outcome: str, person: Person | None = None,
                          task: Task | None = None, decision: Decision | None = None) -> AccountabilityRecord:
    """An accountability record (问责) with the facts and the outcome, on the ledger."""
    policy.require(user, "duties.hold_accountable", unit.region)
    _require_known(user, person, "person")
    if task is not None and task.unit_id != unit.pk:
        raise ValidationFailed(gettext_lazy("the task is not the unit's"), code="wrong_task")
    if decision is not None:
        policy.require(user, "duties.hold_accountable", decision.item.region)
    with transaction.atomic():
        row = AccountabilityRecord.objects.create(unit=unit, person=person, task=task, decision=decision,
                                                  facts=_text(facts, "facts"), outcome=_text(outcome, "outcome"),
                                                  recorded_by=user, at=clock.now())
        events.record("duties.hold_accountable", row, actor=user, unit=unit.pk, task=getattr(task, "pk", None),
                      decision=getattr(decision, "pk", None), private={"facts": row.facts, "outcome": row.outcome,
                                                                       "person": getattr(person, "pk", None)})
    return row


# --- 三单制: needs, resources, matches, projects -------------------------------------------------------------

def publish_need(user, *, region: Region, title: str, skills: list[str], quantity: float, urgency: float,
                 longitude: float, latitude: float, source: str = "", window=None) -> Need:
    policy.require(user, "duties.match", region)
    _check_matching_input(need=dict(id=0, requires=skills, quantity=quantity, urgency=urgency,
                                    point=(longitude, latitude), window=window))
    with transaction.atomic():
        need = Need.objects.create(region=region, title=_text(title, "title"), skills=sorted(set(skills)),
                                   quantity=quantity, urgency=urgency, longitude=longitude, latitude=latitude,
                                   window_start=window[0] if window else None, window_end=window[1] if window else None,
                                   source=source, created_at=clock.now())
        events.record("duties.publish_need", need, actor=user, region=region.pk, skills=need.skills,
                      quantity=quantity, urgency=urgency)
    return need


def publish_resource(user, *, owner: Organisation, region: Region, title: str, offers: list[str], capacity: float,
                     longitude: float, latitude: float, max_distance_km: float | None = None, window=None) -> Resource:
    if not (policy.can(user, "duties.match", region) or owner.pk in {p.organisation_id for p in _posts(user)}):
        raise PermissionDenied(gettext_lazy("publish resources for your own unit"), code="forbidden")
    _within(region, owner.region, "the unit")
    _check_matching_input(resource=dict(id=0, offers=offers, capacity=capacity, point=(longitude, latitude),
                                        max_distance_km=max_distance_km, windows=(window,) if window else ()))
    with transaction.atomic():
        resource = Resource.objects.create(owner=owner, region=region, title=_text(title, "title"),
                                           offers=sorted(set(offers)), capacity=capacity, longitude=longitude,
                                           latitude=latitude, max_distance_km=max_distance_km,
                                           window_start=window[0] if window else None,
                                           window_end=window[1] if window else None, created_at=clock.now())
        events.record("duties.publish_resource", resource, actor=user, owner=owner.pk, offers=resource.offers,
                      capacity=capacity)
    return resource


def propose_grid_allocation(user, region: Region, *, days: int = 90,
                            workload_indicator: str = "demands.volume") -> matching.GridAllocation:
    """Propose which grid worker looks after which grids of the region: balanced by workload (by default
    the demands of each grid over the last `days`), each worker's grids contiguous where possible, starting
    from the current posts so that few grids change hands. A proposal: posts change through appointments."""
    from gongzhi.org.geometry import grid_neighbours

    policy.require(user, "duties.match", region)
    indicator = indicators.get(workload_indicator)
    if indicator is None or indicator.for_region is None:
        raise ValidationFailed(gettext_lazy("no workload indicator %(workload_indicator)r")
                               % {"workload_indicator": workload_indicator}, code="unknown_indicator")
    grids = list(Region.objects.filter(level=Region.Level.GRID, path__startswith=region.path))
    if not grids:
        raise ValidationFailed(gettext_lazy("the region has no grids"), code="no_grids")
    end = clock.today()
    start = end - dt.timedelta(days=days)
    workload = {g.pk: float(indicator.for_region(g, start, end) or 0) for g in grids}
    adjacency = grid_neighbours([(g.pk, g.polygon) for g in grids if g.polygon])
    current: dict[int, list[int]] = {}
    for post in Post.objects.filter(Post.in_force_q(end), role=Post.Role.GRID_WORKER, grid__in=grids):
        current.setdefault(post.person_id, []).append(post.grid_id)
    if not current:
        raise ValidationFailed(gettext_lazy("no grid worker holds a post in the region"), code="no_workers")
    try:
        result = matching.allocate_grid_workers(workload, {g.pk: set(adjacency.get(g.pk, ())) for g in grids},
                                                sorted(current), current=current)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid") from None
    with transaction.atomic():
        events.record("duties.propose_grid_allocation", region, actor=user, indicator=workload_indicator, days=days,
                      max_load=result.max_load, lower_bound=result.lower_bound,
                      grids={str(w): gs for w, gs in result.grids.items()})
    return result


def _posts(user):
    from gongzhi.org.permissions import active_posts

    return active_posts(user)


def _check_matching_input(*, need: dict | None = None, resource: dict | None = None) -> None:
    try:
        if need is not None:
            matching.Need(**need)
        if resource is not None:
            matching.Resource(**resource)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc), code="invalid") from None


def _need(n: Need, quantity: float) -> matching.Need:
    window = (n.window_start, n.window_end) if n.window_start and n.window_end else None
    return matching.Need(id=n.pk, requires=frozenset(n.skills), quantity=quantity, urgency=n.urgency,
                         point=(n.longitude, n.latitude), window=window)


def _resource(r: Resource, used: float) -> matching.Resource:
    windows = ((r.window_start, r.window_end),) if r.window_start and r.window_end else ()
    return matching.Resource(id=r.pk, offers=frozenset(r.offers), capacity=max(r.capacity - used, 0.0),
                             point=(r.longitude, r.latitude), windows=windows, max_distance_km=r.max_distance_km,
                             owner=r.owner_id)


def propose_matches(user, region: Region) -> tuple[list[Match], matching.Matching]:
    """Propose the matching that serves the most urgent needs within what resources have left; earlier
    proposals not yet accepted are replaced."""
    policy.require(user, "duties.match", region)
    with transaction.atomic():
        Match.objects.filter(state=Match.State.PROPOSED, need__region__path__startswith=region.path).delete()
        needs = list(Need.objects.filter(region__path__startswith=region.path, is_open=True))
        accepted = {}
        for m in Match.objects.filter(state=Match.State.ACCEPTED):
            accepted[m.resource_id] = accepted.get(m.resource_id, 0.0) + m.quantity
            accepted[("need", m.need_id)] = accepted.get(("need", m.need_id), 0.0) + m.quantity
        resources = list(Resource.objects.filter(is_available=True, region__path__startswith=region.path))
        open_needs = [n for n in needs if n.quantity - accepted.get(("need", n.pk), 0.0) > 1e-9]
        pure_needs = [_need(n, n.quantity - accepted.get(("need", n.pk), 0.0)) for n in open_needs]
        pure_resources = [_resource(r, accepted.get(r.pk, 0.0)) for r in resources]
        pure_resources = [r for r in pure_resources if r.capacity > 0]
        result = matching.match(pure_needs, pure_resources)
        run = uuid.uuid4().hex[:12]
        rows = [Match.objects.create(need_id=a.need, resource_id=a.resource, quantity=a.quantity,
                                     state=Match.State.PROPOSED, run=run, at=clock.now()) for a in result.assignments]
        events.record("duties.propose_matches", region, actor=user, run=run, matches=len(rows),
                      objective=result.objective, status=result.status,
                      unserved=[{"need": u.need, "served": u.served, "reason": u.reason, "message_zh": u.message_zh}
                                for u in result.unserved])
    return rows, result


def accept_match(user, match: Match, *, project: Project | None = None, deadline: dt.date,
                 quality_standard: str) -> Match:
    """Accept a proposed match: it becomes (part of) a project with a task for the resource's unit."""
    policy.require(user, "duties.match", match.need.region)
    if project is not None:
        policy.require(user, "duties.match", project.region)
        _within(match.need.region, project.region, "the project")
    with transaction.atomic():
        match = _locked(Match, match.pk)
        if match.state != Match.State.PROPOSED:
            raise Conflict(gettext_lazy("the match is %(state)s") % {"state": match.state}, code="not_proposed")
        if project is None:
            project = Project.objects.create(region=match.need.region, title=match.need.title, created_by=user,
                                             created_at=clock.now())
            events.record("duties.create_project", project, actor=user, need=match.need_id)
        match.state, match.project = Match.State.ACCEPTED, project
        match.save(update_fields=["state", "project"])
        task = Task.objects.create(project=project, title=f"{match.resource.title} → {match.need.title}",
                                   unit=match.resource.owner, deadline=deadline,
                                   quality_standard=_text(quality_standard, "quality standard"),
                                   created_at=clock.now())
        _refresh_status(task)
        events.record("duties.add_task", task, actor=user, unit=task.unit_id, deadline=deadline.isoformat(),
                      project=project.pk)
        events.record("duties.accept_match", match, actor=user, project=project.pk, quantity=match.quantity)
    return match


def record_project_outcome(user, project: Project, outcome: str) -> Project:
    """Record a project done, with its outcome. A decision's project is completed by an officer of the place
    once every milestone is done."""
    if not (policy.can(user, "duties.match", project.region) or policy.can(user, "duties.plan", project.region)):
        policy.require(user, "duties.match", project.region)
    with transaction.atomic():
        project = _locked(Project, project.pk)
        if project.completed_at:
            raise Conflict(gettext_lazy("the outcome is already recorded"), code="already_completed")
        if project.decision_id and project.tasks.filter(completed_at__isnull=True).exists():
            raise Conflict(gettext_lazy("milestones are still open: complete them first"), code="milestones_open")
        if project.decision_id:
            # Recording a decision's project done is the officer's acceptance of every milestone not yet checked.
            for task in project.tasks.filter(quality_met__isnull=True):
                task.quality_met = True
                task.save(update_fields=["quality_met"])
                _refresh_status(task)
                events.record("duties.check_task", task, actor=user, quality_met=True, with_outcome=True)
        project.outcome, project.completed_at = _text(outcome, "outcome"), clock.now()
        project.save(update_fields=["outcome", "completed_at"])
        Need.objects.filter(matches__project=project).update(is_open=False)
        events.record("duties.project_outcome", project, actor=user, private={"outcome": project.outcome})
    return project
