"""The case file's JSON API under /api/v1/cases/: the cases a caller may see, one case with its whole chain
(demands as counts and the numbers the caller may see, the issue, the topic, meetings and motions with their
ballot lists, the decision under the power list, disclosures, the project with its milestones, progress and
photos, the residents' verdict per round), a follower's verdict, the unit's progress with photos, and every
step's ledger receipt with a server-side check of all of them against the current signed checkpoint."""

from typing import Literal

from django.db.models import Count, Q
from django.http import FileResponse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from gongzhi.core import policy
from gongzhi.core.errors import NotFound
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.models import ApiToken, Event
from gongzhi.core.openapi import VISIBLE_TEXT_PATTERN
from gongzhi.core.scrub import scrub
from gongzhi.deliberation import queries as deliberation_queries
from gongzhi.deliberation.models import Disclosure, Meeting, Motion, Topic
from gongzhi.demands import photos as demand_photos
from gongzhi.demands import queries as demand_queries
from gongzhi.demands.models import DemandEvent
from gongzhi.demands.services import receipt as ledger_receipt
from gongzhi.duties import services as duties
from gongzhi.duties.models import Task
from gongzhi.ledger import services as ledger
from gongzhi.org.models import Region

from . import services
from .models import Case, ProgressPhoto, Verdict
from .schemas import (CaseOut, CaseRowOut, CheckIn, CheckResultOut, ProgressOut, ReceiptRowOut, VerdictIn, VerdictOut,
                      VerifyOut)

router = Router(tags=["cases"])

API = "/api/v1"


# --- reading ---------------------------------------------------------------------------------------------------

def _caller(request):
    """Who reads: the bearer token's user or the signed-in session's (public reads take no auth, so ninja does
    not resolve the token); anyone else reads as the public."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        user = ApiToken.find_user(header[7:].strip())
        if user is not None:
            return user
    return request.user


def _may_view(user, case: Case) -> bool:
    return case.topic.is_public or policy.can(user, "cases.view", case)


def _visible(user):
    """The cases `user` may see: those whose topic is public, and those of places whose topics they moderate."""
    rows = Case.objects.select_related("region", "topic").annotate(demand_count=Count("case_demands"))
    public = rows.filter(~Q(topic__status__in=Topic.UNPUBLISHED) & Q(topic__hidden_at__isnull=True))
    if not getattr(user, "is_authenticated", False):
        return public
    others = [c.pk for c in rows.exclude(pk__in=public.values("pk")) if policy.can(user, "cases.view", c)]
    return rows.filter(Q(pk__in=public.values("pk")) | Q(pk__in=others))


def _case(user, case_id: int) -> Case:
    case = Case.objects.select_related("region", "topic", "issue", "hot_spot__grid", "hot_spot__category",
                                       "decision__item", "project__unit", "project__goal").filter(pk=case_id).first()
    if case is None or not _may_view(user, case):
        raise NotFound(_("case file %(pk)s") % {"pk": case_id})
    return case


def _row(case: Case) -> dict:
    count = getattr(case, "demand_count", None)
    return {"id": case.pk, "title": case.title, "status": case.status, "status_label": str(case.get_status_display()),
            "region_id": case.region_id, "region": case.region.name, "topic_id": case.topic_id,
            "opened_at": case.opened_at, "updated_at": case.updated_at,
            "demand_count": count if count is not None else case.case_demands.count()}


def _meetings(topic: Topic):
    return (Meeting.objects.filter(Q(topic=topic) | Q(motions__topic=topic)).distinct()
            .select_related("body").order_by("starts_at", "pk"))


def _motions(topic: Topic):
    return Motion.objects.filter(topic=topic).order_by("opened_at", "pk")


def _disclosures(case: Case):
    where = Q(topic_id=case.topic_id)
    if case.decision_id and case.decision.disclosure_id:
        where |= Q(pk=case.decision.disclosure_id)
    return Disclosure.objects.filter(where).annotate(objection_count=Count("objections")).order_by("published_at", "pk")


def _photo_out(case: Case, photo: ProgressPhoto) -> dict:
    url = f"{API}/cases/photos/{photo.pk}"
    return {"id": photo.pk, "task_id": photo.task_id, "url": url, "thumbnail_url": f"{url}?size=thumb",
            "width": photo.width, "height": photo.height, "sha256": photo.sha256, "uploaded_at": photo.uploaded_at}


def _meeting_out(meeting: Meeting) -> dict:
    quorum = deliberation_queries.quorum_out(meeting)
    return {"id": meeting.pk, "title": meeting.title, "body_kind": meeting.body.kind, "status": meeting.status,
            "starts_at": meeting.starts_at, "due": quorum["due"] if quorum else None,
            "present": quorum["present"] if quorum else None, "is_quorate": quorum["met"] if quorum else None}


def _motion_out(motion: Motion) -> dict:
    return {"id": motion.pk, "meeting_id": motion.meeting_id, "text": motion.text, "status": motion.status,
            "amount": str(motion.amount) if motion.amount is not None else None, "is_passed": motion.is_passed,
            "result": motion.result or {}, "ballots_url": f"{API}/deliberation/motions/{motion.pk}/ballots"}


def _decision_out(case: Case) -> dict | None:
    d = case.decision
    if d is None:
        return None
    return {"id": d.pk, "title": d.title, "amount": str(d.amount) if d.amount is not None else None,
            "is_major": d.is_major, "item_code": d.item.code, "item_name": d.item.name, "motion_id": d.motion_id,
            "verdict": d.verdict or {}, "recorded_at": d.recorded_at}


def _project_out(case: Case) -> dict | None:
    project = case.project
    if project is None:
        return None
    goal = None
    if project.goal_id:
        assessment = duties.goal_status(project.goal)
        goal = {"id": project.goal_id, "indicator": project.goal.indicator,
                "unit_of_measure": project.goal.unit_of_measure, "target_value": project.goal.target_value,
                "deadline": project.goal.deadline, "status": assessment.status.value,
                "latest": float(assessment.latest.value) if assessment.latest else None}
    milestones = []
    for task in project.tasks.order_by("deadline", "pk").prefetch_related("reports"):
        milestones.append({
            "id": task.pk, "title": task.title, "deadline": task.deadline, "quality_standard": task.quality_standard,
            "status": duties.task_status(task).status.value, "completed_at": task.completed_at,
            "reports": [{"id": r.pk, "note": scrub(r.note), "on": r.on, "at": r.at}
                        for r in sorted(task.reports.all(), key=lambda r: (r.at, r.pk))]})
    return {"id": project.pk, "title": project.title, "unit_id": project.unit_id,
            "unit": project.unit.name if project.unit_id else "",
            "budget": str(project.budget) if project.budget is not None else None,
            "outcome": scrub(project.outcome), "completed_at": project.completed_at,
            "reopened_at": project.reopened_at, "review_reason": project.review_reason, "goal": goal,
            "milestones": milestones}


def _tallies(case: Case) -> list[dict]:
    return [{"round": n, **services.tally(case, n)} for n in range(1, case.verdict_round + 1)]


def _may_answer(user, case: Case) -> bool:
    return (case.status == Case.Status.ASKING and services.may_answer(user, case)
            and not Verdict.objects.filter(case=case, round=case.verdict_round, user_id=user.pk).exists())


def _demand_numbers(user, case: Case) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(demand_queries.visible(user).filter(case_links__case=case).order_by("number")
                .values_list("number", flat=True))


@router.get("/", response=list[CaseRowOut], auth=None)
@paginate(LimitOffsetPagination)
def case_list(request, status: str | None = None, region_id: int | None = None):
    """The case files the caller may see, newest first: those whose topic is public, and for officers those
    of the places whose topics they moderate."""
    rows = _visible(_caller(request))
    if status:
        rows = rows.filter(status=status)
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
    return [_row(c) for c in rows.order_by("-opened_at", "-pk")]


@router.get("/{case_id}", response=CaseOut, auth=None)
def case_detail(request, case_id: int):
    """One case with its links both ways, each part only as far as it is public (demands as a count; their
    numbers only to those who may see them)."""
    user = _caller(request)
    case = _case(user, case_id)
    topic = case.topic
    issue, spot = case.issue, case.hot_spot
    return {
        **_row(case), "verdict_round": case.verdict_round, "asked_at": case.asked_at,
        "answers_due": case.answers_due, "closed_at": case.closed_at,
        "demands": {"count": case.case_demands.count(), "numbers": _demand_numbers(user, case)},
        "issue": {"id": issue.pk, "volume": issue.volume, "reporters": issue.reporters} if issue else None,
        "hot_spot": {"id": spot.pk, "grid": spot.grid.name, "category": spot.category.name, "since": spot.since}
        if spot else None,
        "topic": {"id": topic.pk, "title": topic.title, "status": topic.status, "support_count": topic.support_count,
                  "url": f"/deliberation/topics/{topic.pk}/"},
        "meetings": [_meeting_out(m) for m in _meetings(topic)],
        "motions": [_motion_out(m) for m in _motions(topic)],
        "decision": _decision_out(case),
        "disclosures": [{"id": d.pk, "kind": d.kind, "title": d.title, "status": d.status,
                         "published_at": d.published_at, "notice_ends_at": d.notice_ends_at,
                         "objections": d.objection_count} for d in _disclosures(case)],
        "project": _project_out(case),
        "photos": [_photo_out(case, p) for p in case.photos.all()],
        "verdicts": _tallies(case),
        "may_answer": getattr(user, "is_authenticated", False) and _may_answer(user, case),
    }


@router.get("/photos/{photo_id}", auth=None)
def photo(request, photo_id: int, size: Literal["full", "thumb"] = "full"):
    """A photo of the work on a case's project (re-encoded without EXIF when it was uploaded), public with its
    case file; `size=thumb` for the thumbnail."""
    found = ProgressPhoto.objects.filter(pk=photo_id).first()
    if found is None:
        raise NotFound(_("photo %(pk)s") % {"pk": photo_id})
    _case(_caller(request), found.case_id)
    stored = found.thumbnail if size == "thumb" else found.image
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the residents' verdict and the unit's progress -------------------------------------------------------------

@router.post("/{case_id}/verdict", response={201: VerdictOut})
def answer(request, case_id: int, payload: VerdictIn):
    """A resident who raised the problem or supported the topic answers, once the project is done: is the
    problem solved, and are they satisfied."""
    case = _case(request.user, case_id)
    verdict = services.answer(case, solved=payload.solved, satisfaction=payload.satisfaction,
                              comment=payload.comment, user=request.user)
    case.refresh_from_db()
    return Status(201, {"id": verdict.pk, "round": verdict.round, "solved": verdict.solved,
                        "satisfaction": verdict.satisfaction, "case_status": case.status,
                        "tally": {"round": verdict.round, **services.tally(case, verdict.round)}})


@router.post("/{case_id}/milestones/{task_id}/progress", response={201: ProgressOut})
def report_progress(request, case_id: int, task_id: int,
                    note: str = Form(..., min_length=1, max_length=4000, pattern=VISIBLE_TEXT_PATTERN),
                    done: bool = Form(False), photos: list[UploadedFile] = File(None)):
    """The responsible unit reports progress on a milestone of the case's project, with photos of the work
    (multipart: `note`, `done`, `photos`); with `done` the milestone is completed."""
    case = _case(request.user, case_id)
    task = Task.objects.filter(pk=task_id, project_id=case.project_id).first() if case.project_id else None
    if task is None:
        raise NotFound(_("no milestone %(pk)s in this case") % {"pk": task_id})
    contents = [demand_photos.read_upload(upload) for upload in (photos or [])[:services.MAX_PHOTOS + 1]]
    report = services.report_progress(request.user, case, task, note=note, photos=contents, done=done)
    task.refresh_from_db()
    return Status(201, {"report_id": report.pk, "task_id": task.pk, "task_status": duties.task_status(task).status.value,
                        "photos": [_photo_out(case, p) for p in ProgressPhoto.objects.filter(report=report)]})


@router.post("/{case_id}/milestones/{task_id}/check", response={200: CheckResultOut})
def check_milestone(request, case_id: int, task_id: int, payload: CheckIn):
    """An officer of the place checks a completed milestone against its quality standard (验收): accepted, or
    sent back to the unit to be put right (reopened)."""
    case = _case(request.user, case_id)
    task = Task.objects.filter(pk=task_id, project_id=case.project_id).first() if case.project_id else None
    if task is None:
        raise NotFound(_("no milestone %(pk)s in this case") % {"pk": task_id})
    task = duties.check_task(request.user, task, quality_met=payload.quality_met, note=payload.note)
    return {"task_id": task.pk, "task_status": duties.task_status(task).status.value,
            "completed": task.completed_at is not None, "quality_met": task.quality_met}


# --- receipts -------------------------------------------------------------------------------------------------

def _steps(user, case: Case):
    """Every step of the case in the event journal: the case's own, its topic's, meetings', motions',
    disclosures', the decision's, the project's, its goal's and milestones', and those of the demands that
    raised it which the caller may see."""
    topic = case.topic
    subjects = {
        "cases.case": [case.pk], "deliberation.topic": [topic.pk],
        "deliberation.meeting": list(_meetings(topic).values_list("pk", flat=True)),
        "deliberation.motion": list(_motions(topic).values_list("pk", flat=True)),
        "deliberation.disclosure": list(_disclosures(case).values_list("pk", flat=True)),
    }
    if case.decision_id:
        subjects["duties.decision"] = [case.decision_id]
    if case.project_id:
        subjects["duties.project"] = [case.project_id]
        subjects["duties.task"] = list(case.project.tasks.values_list("pk", flat=True))
        if case.project.goal_id:
            subjects["duties.goal"] = [case.project.goal_id]
    where = Q(pk__in=[])
    for subject_type, ids in subjects.items():
        if ids:
            where |= Q(subject_type=subject_type, subject_id__in=[str(pk) for pk in ids])
    numbers = _demand_numbers(user, case)
    if numbers:
        where |= Q(pk__in=DemandEvent.objects.filter(demand__number__in=numbers).values("event_id"))
    return Event.objects.filter(where).order_by("pk")


@router.get("/{case_id}/receipts", response=list[ReceiptRowOut], auth=None)
def receipts(request, case_id: int):
    """Every step's ledger receipt (entry, inclusion proof and the signed checkpoint), oldest first."""
    user = _caller(request)
    case = _case(user, case_id)
    return [{"event_id": e.pk, "kind": e.kind, "subject": e.subject_type, "at": e.at, "receipt": ledger_receipt(e)}
            for e in _steps(user, case)]


@router.get("/{case_id}/verify", response=VerifyOut, auth=None)
def verify(request, case_id: int):
    """Check every step's receipt against the current signed checkpoint, here on the server: how many verify,
    how many fail (with the checks that failed) and how many are not yet in the ledger."""
    user = _caller(request)
    case = _case(user, case_id)
    steps, ok, failed, pending, size = [], 0, 0, 0, None
    for event in _steps(user, case):
        receipt = ledger_receipt(event)
        if receipt is None:
            pending += 1
            continue
        check = ledger.verify_receipt(receipt)
        ok, failed = ok + check.ok, failed + (not check.ok)
        size = check.current_size or size
        steps.append({"event_id": event.pk, "kind": event.kind, "ok": check.ok, "index": check.index,
                      "failed": [c.code for c in check.checks if not c.ok]})
    return {"checked": ok + failed, "ok": ok, "failed": failed, "pending": pending, "tree_size": size,
            "steps": steps}
