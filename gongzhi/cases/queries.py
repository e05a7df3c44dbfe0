"""The read side of case files: which cases a person may see, and one case file as its page shows it — the
complaints (counts, grids, scrubbed samples), the evidence, the opinion map, the meetings and motions, the
procedure's stages, the decision and its disclosure, the project's milestones and photos, the residents'
verdict — and the ledger events behind every step, for the receipts and the "verify the whole case" check.

Nothing personal leaves here: demands are counted and placed by grid only (a demand's own point can single out
a household); free text goes through core.scrub; voters, reporters and answering residents are never named."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound
from gongzhi.core.models import Event
from gongzhi.core.scrub import scrub
from gongzhi.deliberation import queries as deliberation_queries
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Disclosure, Meeting, Motion, Topic
from gongzhi.demands.models import Demand
from gongzhi.duties import services as duties
from gongzhi.duties.models import Task
from gongzhi.duties import queries as duties_queries
from gongzhi.duties.queries import amount_words
from gongzhi.duties.rules import STATUS_NAMES, Status
from gongzhi.org.models import Region

from . import services
from .models import Case, ProgressPhoto, Verdict

SAMPLES_SHOWN = 5
SAMPLE_CHARS = 120
CASES_PER_PAGE = 30
NON_PUBLIC_CHECKED = 300  # non-public cases an officer's list looks through (few: topics held or hidden)
GROUP_LETTERS = "ABCDEFGHIJ"
STATEMENTS_PER_GROUP = 3


def chinese() -> bool:
    return (get_language() or "").startswith("zh")


# --- which cases ------------------------------------------------------------------------------------------

def _public_q() -> Q:
    return ~Q(topic__status__in=Topic.UNPUBLISHED) & Q(topic__hidden_at__isnull=True)


def visible_cases(user):
    """Newest first: every case whose topic is public, and for an officer the cases of their places whose topic
    is not (policy "cases.view"), with the counts the list shows."""
    public = Case.objects.filter(_public_q())
    ids = None
    if getattr(user, "is_authenticated", False):
        hidden = (Case.objects.exclude(_public_q()).select_related("topic__region")
                  .order_by("-opened_at")[:NON_PUBLIC_CHECKED])
        ids = [c.pk for c in hidden if policy.can(user, "cases.view", c)]
    rows = Case.objects.filter(Q(pk__in=public.values("pk")) | Q(pk__in=ids or []))
    return (rows.select_related("region__parent", "project")
            .annotate(demand_count=Count("case_demands", distinct=True),
                      milestones=Count("project__tasks", distinct=True),
                      milestones_done=Count("project__tasks", filter=Q(project__tasks__completed_at__isnull=False),
                                            distinct=True),
                      milestones_late=Count("project__tasks", filter=Q(project__tasks__completed_at__isnull=True,
                                                                       project__tasks__deadline__lt=clock.today()),
                                            distinct=True))
            .order_by("-opened_at", "-id"))


LIST_FILTERS = ("waiting", "status")


def filtered(user, rows, *, waiting: str = "", status: str = ""):
    """The list narrowed as the home page's counts link to it: `waiting=me`, the cases asking this resident
    whether their problem is solved; `waiting=mine`, every case of a problem they raised; `status`, one status
    (e.g. "review")."""
    from .workbench import asking, mine

    signed_in = getattr(user, "is_authenticated", False)
    if waiting == "me":
        rows = rows.filter(pk__in=asking(user).values("pk")) if signed_in else rows.none()
    elif waiting == "mine":
        rows = rows.filter(pk__in=mine(user).values("pk")) if signed_in else rows.none()
    if status in Case.Status.values:
        rows = rows.filter(status=status)
    return rows


def get_visible(user, pk) -> Case:
    """The case `pk` if `user` may see it (cases.view); NotFound otherwise, as for an id that names nothing."""
    case = (Case.objects.select_related("region__parent", "topic__region", "issue__category", "hot_spot",
                                        "decision__item", "decision__disclosure", "project__unit", "project__goal")
            .filter(pk=pk).first())
    # policy.can answers no to anyone not signed in, so the public case is let through here first.
    if case is None or not (case.topic.is_public or policy.can(user, "cases.view", case)):
        raise NotFound(gettext_lazy("case file %(pk)s") % {"pk": pk})
    return case


def place(case: Case) -> str:
    region = case.region
    parent = region.parent.name if region.parent_id else ""
    return f"{parent} {region.name}".strip()


def standing(case: Case) -> str:
    """Where the case stands, in a few words (the list's last column)."""
    status = case.status
    if status == Case.Status.DELIBERATING:
        return _("residents are deliberating the topic")
    if status == Case.Status.DECIDED:
        return _("decided; the work is being planned")
    if status in (Case.Status.IN_PROGRESS, Case.Status.REVIEW):
        total, done = getattr(case, "milestones", None), getattr(case, "milestones_done", None)
        if total:
            words = _("%(done)s of %(total)s milestones done") % {"done": done, "total": total}
            late = getattr(case, "milestones_late", 0)
            if late:
                words += _("; %(late)s past its deadline") % {"late": late} if late == 1 else \
                    _("; %(late)s past their deadlines") % {"late": late}
            return words
        return _("work under way")
    if status == Case.Status.ASKING and case.answers_due:
        return _("residents answer until %(date)s") % {"date": timezone.localdate(case.answers_due).isoformat()}
    if case.closed_at:
        return _("closed on %(date)s") % {"date": timezone.localdate(case.closed_at).isoformat()}
    return case.get_status_display()


# --- the ledger events of every step ----------------------------------------------------------------------

# The kinds of event that are steps of a case, by the section of the page they belong to. Events many people
# make one by one (ballots, sign-ins, statements' votes, comments) are not steps: their step is the motion,
# the meeting or the opinion map, each with its own receipt.
STEP_KINDS: dict[str, str] = {
    "demands.file": "complaints", "demands.open311_filed": "complaints",
    "cases.open": "complaints",
    "deliberation.propose_topic": "deliberation", "deliberation.approve_topic": "deliberation",
    "deliberation.start_procedure": "deliberation", "deliberation.draft_resolution": "deliberation",
    "deliberation.record_stage": "deliberation",
    "deliberation.schedule_meeting": "vote", "deliberation.open_meeting": "vote",
    "deliberation.close_meeting": "vote", "deliberation.open_motion": "vote", "deliberation.close_motion": "vote",
    "deliberation.record_views": "vote",
    "duties.record_decision": "decision", "deliberation.publish": "decision",
    "deliberation.object": "decision", "deliberation.answer_objection": "decision",
    "deliberation.complete_disclosure": "decision",
    "duties.start_project": "project", "duties.create_goal": "project", "duties.add_task": "project",
    "duties.report_progress": "project", "duties.complete_task": "project", "cases.progress_photos": "project",
    "duties.project_outcome": "project", "duties.reopen_project": "verdict",
    "cases.verdict": "verdict", "cases.conclude": "verdict",
}
STATUS_SECTION = {"deliberating": "deliberation", "decided": "decision", "in_progress": "project",
                  "asking": "verdict", "solved": "verdict", "review": "verdict", "closed": "verdict"}
SECTIONS = ("complaints", "deliberation", "vote", "decision", "project", "verdict")


def step_labels() -> dict[str, str]:
    return {
        "demands.file": _("a complaint filed"), "demands.open311_filed": _("a complaint filed"),
        "cases.open": _("case file opened"), "cases.status": _("case status changed"),
        "deliberation.propose_topic": _("topic put to deliberation"),
        "deliberation.approve_topic": _("topic approved"),
        "deliberation.start_procedure": _("procedure started"),
        "deliberation.draft_resolution": _("draft resolution written"),
        "deliberation.record_stage": _("procedure stage recorded"),
        "deliberation.schedule_meeting": _("meeting called"), "deliberation.open_meeting": _("meeting opened"),
        "deliberation.close_meeting": _("meeting closed"), "deliberation.open_motion": _("vote opened"),
        "deliberation.close_motion": _("vote counted"), "deliberation.record_views": _("views minuted"),
        "duties.record_decision": _("decision recorded"), "deliberation.publish": _("disclosure published"),
        "deliberation.object": _("objection filed"), "deliberation.answer_objection": _("objection answered"),
        "deliberation.complete_disclosure": _("notice period ended"),
        "duties.start_project": _("project started"), "duties.create_goal": _("goal set"),
        "duties.add_task": _("milestone set"), "duties.report_progress": _("progress reported"),
        "duties.complete_task": _("milestone done"), "cases.progress_photos": _("photos of the work"),
        "duties.project_outcome": _("project done"), "duties.reopen_project": _("project reopened for review"),
        "cases.verdict": _("a resident answered"), "cases.conclude": _("round of asking ended"),
    }


@dataclass
class Step:
    event_id: int
    kind: str
    at: dt.datetime
    section: str
    index: int | None  # the ledger entry's number; None while not yet sequenced
    label: str = ""


def _subjects(case: Case) -> Q:
    topic_id = case.topic_id
    pairs = [("cases.case", [case.pk]), ("deliberation.topic", [topic_id])]
    pairs.append(("deliberation.meeting", list(Meeting.objects.filter(topic_id=topic_id).values_list("pk", flat=True))))
    pairs.append(("deliberation.motion", list(Motion.objects.filter(topic_id=topic_id).values_list("pk", flat=True))))
    disclosures = set(Disclosure.objects.filter(topic_id=topic_id).values_list("pk", flat=True))
    if case.decision_id:
        pairs.append(("duties.decision", [case.decision_id]))
        if case.decision.disclosure_id:
            disclosures.add(case.decision.disclosure_id)
    pairs.append(("deliberation.disclosure", sorted(disclosures)))
    if case.project_id:
        pairs.append(("duties.project", [case.project_id]))
        if case.project.goal_id:
            pairs.append(("duties.goal", [case.project.goal_id]))
        pairs.append(("duties.task", list(Task.objects.filter(project_id=case.project_id).values_list("pk", flat=True))))
    q = Q(subject_type="demands.demand", subject_id__in=[
        str(pk) for pk in case.case_demands.values_list("demand_id", flat=True)], kind__startswith="demands.")
    for subject_type, ids in pairs:
        if ids:
            q |= Q(subject_type=subject_type, subject_id__in=[str(pk) for pk in ids])
    return q


def steps(case: Case) -> list[Step]:
    """Every step of the case that the ledger holds (or will hold), oldest first, each with its section."""
    labels = step_labels()
    rows = (Event.objects.filter(_subjects(case)).filter(Q(kind__in=list(STEP_KINDS)) | Q(kind="cases.status"))
            .values_list("pk", "kind", "at", "data", "ledger_entry__index").order_by("pk"))
    found = []
    for pk, kind, at, data, index in rows:
        section = STEP_KINDS.get(kind) or STATUS_SECTION.get((data or {}).get("status"), "verdict")
        found.append(Step(pk, kind, at, section, index, labels.get(kind, kind)))
    return found


def step_event(case: Case, event_id: int) -> Event:
    """The event `event_id` if it is a step of the case; NotFound otherwise."""
    if event_id in {s.event_id for s in steps(case)}:
        return Event.objects.get(pk=event_id)
    raise NotFound(gettext_lazy("receipt of event %(event_id)s") % {"event_id": event_id})


def receipts_by_section(all_steps: list[Step]) -> dict[str, dict]:
    """Per section: its steps (the complaints' filings only counted: there may be hundreds)."""
    out = {name: {"steps": [], "filed": 0} for name in SECTIONS}
    for step in all_steps:
        part = out[step.section]
        if step.kind in ("demands.file", "demands.open311_filed"):
            part["filed"] += 1
        else:
            part["steps"].append(step)
    return out


# --- the complaints ---------------------------------------------------------------------------------------

def complaints(case: Case) -> dict:
    demands = Demand.objects.filter(case_links__case=case)
    counts = demands.aggregate(
        total=Count("pk"), accounts=Count("reporter_user", distinct=True),
        guests=Count("pk", filter=Q(reporter_user__isnull=True)))
    span = demands.order_by().aggregate(first=Min("received_at"), last=Max("received_at"))
    per_grid = Counter(dict(demands.order_by().values_list("grid_id").annotate(n=Count("pk"))))
    from shapely.geometry import shape

    grids = []
    for grid in Region.objects.filter(pk__in=list(per_grid)).only("pk", "name", "polygon").order_by("path"):
        point = None
        if grid.polygon:
            inside = shape(grid.polygon).representative_point()
            point = [round(inside.y, 4), round(inside.x, 4)]
        grids.append({"name": grid.name, "count": per_grid[grid.pk], "point": point})
    grids.sort(key=lambda g: -g["count"])
    recent = demands.select_related("contact", "grid", "category").order_by("-received_at")[:SAMPLES_SHOWN]
    samples = [{"text": scrub(d.text, [getattr(getattr(d, "contact", None), "name", "")])[:SAMPLE_CHARS],
                "grid": d.grid.name, "on": timezone.localdate(d.received_at),
                "category": d.category.name if d.category_id else ""} for d in recent]
    categories = [{"name": name, "count": n} for name, n in
                  demands.exclude(category__isnull=True).order_by().values_list("category__name")
                  .annotate(n=Count("pk")).order_by("-n")[:3]]
    return {"total": counts["total"], "reporters": counts["accounts"] + counts["guests"], "grids": grids,
            "map_points": [g for g in grids if g["point"]], "samples": samples, "categories": categories,
            "first": timezone.localdate(span["first"]) if span["first"] else None,
            "last": timezone.localdate(span["last"]) if span["last"] else None}


def evidence(topic: Topic) -> dict | None:
    """The insight evidence the topic carries, in words."""
    found = topic.evidence or {}
    if not found:
        return None
    zh = chinese()
    labels = {"category": _("Category"), "volume": _("Demands"), "reporters": _("Residents reporting"),
              "unresolved": _("Unresolved"), "heat": _("Heat"), "grid": _("Grid"), "observed": _("Observed"),
              "expected": _("Expected"), "ratio": _("Ratio to expected"), "since": _("Since"),
              "first_seen": _("First seen"), "last_seen": _("Last seen")}
    facts = []
    for key, label in labels.items():
        value = found.get(key)
        if value in (None, "", []):
            continue
        if key in ("first_seen", "last_seen") and isinstance(value, str):
            value = value[:10]
        facts.append({"label": label, "value": value})
    if found.get("grids"):
        facts.append({"label": _("Grids"), "value": "、".join(str(g) for g in found["grids"])})
    kind = {"issue": _("similar demands grouped as one issue"),
            "hot_spot": _("a hot spot: more demands than expected in one grid")}.get(found.get("kind"), "")
    return {"kind": kind, "facts": facts, "explanation": deliberation_queries.in_language(found, "explanation", zh)}


# --- deliberation ----------------------------------------------------------------------------------------

def opinion_map(topic: Topic) -> dict:
    """The opinion map's groups (lettered) with what each most agrees on, and the common ground: the stored
    snapshot (deliberation.services.opinion_map recomputes only when votes came in since)."""
    result = deliberation.opinion_map(topic)
    sizes = result.get("group_sizes") or {}
    groups = sorted(sizes, key=int)
    letters = {g: GROUP_LETTERS[i % len(GROUP_LETTERS)] for i, g in enumerate(groups)}
    return {
        "participants": result.get("n_participants", 0),
        "groups": [{"label": letters[g], "size": sizes[g],
                    "statements": [{"text": scrub(s["text"]), "agree": round(100 * s["agree"]),
                                    "direction": s.get("direction")}
                                   for s in (result.get("representative") or {}).get(g, [])[:STATEMENTS_PER_GROUP]]}
                   for g in groups],
        "common_ground": [{"text": scrub(c["text"]),
                           "by_group": [{"label": letters.get(g, g), "agree": round(100 * r)}
                                        for g, r in sorted(c.get("agree_by_group", {}).items(), key=lambda i: int(i[0]))
                                        if g in letters]}
                          for c in result.get("common_ground") or []][:5],
    }


def _stage_names(topic: Topic) -> dict[str, str]:
    """The procedure's stage names by code (kept on the topic object: the page asks twice)."""
    if not topic.procedure_definition:
        return {}
    zh = chinese()
    key = "_case_stage_names_zh" if zh else "_case_stage_names_en"
    if not hasattr(topic, key):
        setattr(topic, key, {s.code: s.name_zh if zh else s.name_en for s in deliberation.topic_procedure(topic).stages})
    return getattr(topic, key)


def procedure(topic: Topic) -> list[dict]:
    names = _stage_names(topic)
    return [{"name": names.get(r.stage_code, r.stage_code), "outcome": r.get_outcome_display(),
             "passed": r.outcome != "failed", "due": r.due, "present": r.present, "at": r.at,
             "reason": scrub(r.reason)}
            for r in topic.stages.order_by("sequence")]


def _yes_no_words() -> dict[str, str]:
    return {"yes": _("Yes"), "no": _("No"), "abstain": _("Abstain")}


def motion_result(motion: Motion) -> dict | None:
    if motion.status != Motion.Status.CLOSED:
        return None
    result = motion.result or {}
    tally = result.get("tally") or {}
    out = {"passed": motion.is_passed, "ballots": result.get("ballots", 0), "due": result.get("due"),
           "present": result.get("present"),
           "explanation": (result.get("explanation") or {}).get("zh" if chinese() else "en", "")}
    if motion.method == "yes_no":
        out["counts"] = [{"label": label, "count": tally.get(key, 0)} for key, label in _yes_no_words().items()]
    else:
        out["winners"] = "、".join(str(w) for w in tally.get("winners") or [])
    return out


def meetings(topic: Topic) -> list[dict]:
    names = _stage_names(topic)
    motions_by_meeting: dict[int, list] = {}
    for motion in Motion.objects.filter(topic=topic).order_by("opened_at", "pk"):
        motions_by_meeting.setdefault(motion.meeting_id, []).append(
            {"motion": motion, "text": scrub(motion.text), "stage": names.get(motion.stage_code, ""),
             "result": motion_result(motion)})
    out = []
    for meeting in Meeting.objects.filter(topic=topic).select_related("body").order_by("starts_at", "pk"):
        quorum = deliberation_queries.quorum_out(meeting) if meeting.status != Meeting.Status.SCHEDULED else None
        if quorum:
            quorum["explanation"] = deliberation_queries.in_language(quorum, "explanation", chinese())
        out.append({"meeting": meeting, "body": meeting.body.name, "quorum": quorum,
                    "motions": motions_by_meeting.get(meeting.pk, [])})
    return out


# --- decision and disclosure ------------------------------------------------------------------------------

def decision(case: Case) -> dict | None:
    found = case.decision
    if found is None:
        return None
    row = duties_queries.decision_row(found, chinese())
    definition = found.item.definition or {}
    return {**row, "check": row["verdict"], "basis": [str(b) for b in definition.get("legal_basis") or []]}


def disclosures(case: Case) -> list[dict]:
    ids = set(Disclosure.objects.filter(topic_id=case.topic_id).values_list("pk", flat=True))
    if case.decision_id and case.decision.disclosure_id:
        ids.add(case.decision.disclosure_id)
    rows = (Disclosure.objects.filter(pk__in=ids)
            .annotate(objections_n=Count("objections"),
                      answered_n=Count("objections", filter=Q(objections__answered_at__isnull=False)))
            .order_by("published_at", "pk"))
    now = clock.now()
    return [{"item": d, "body": scrub(d.body), "in_notice": d.status == "in_notice" and d.notice_ends_at > now,
             "objections": d.objections_n, "answered": d.answered_n} for d in rows]


# --- the project -----------------------------------------------------------------------------------------

def project(case: Case) -> dict | None:
    found = case.project
    if found is None:
        return None
    zh = chinese()
    today = clock.today()
    photos: dict[int, list] = {}
    for photo in ProgressPhoto.objects.filter(case=case).only("pk", "task_id", "report_id", "width", "height"):
        photos.setdefault(photo.report_id, []).append(photo)
    tasks = list(Task.objects.filter(project=found).prefetch_related("reports").order_by("deadline", "pk"))
    milestones = []
    for task in tasks:
        assessment = duties.task_status(task, today)
        name_zh, name_en = STATUS_NAMES[assessment.status]
        reports = [{"note": scrub(r.note), "on": r.on, "photos": photos.get(r.pk, [])}
                   for r in sorted(task.reports.all(), key=lambda r: (r.at, r.pk))]
        milestones.append({
            "task": task, "status": name_zh if zh else name_en, "status_code": assessment.status.value,
            "reason": assessment.reason_zh if zh else assessment.reason_en,
            "overdue": assessment.status == Status.OVERDUE, "done": task.completed_at is not None,
            "quality": scrub(task.quality_standard), "reports": reports})
    goal = found.goal
    return {"project": found, "unit": found.unit.name if found.unit_id else "",
            "budget": amount_words(found.budget, zh) if found.budget is not None else "",
            "milestones": milestones, "all_done": bool(tasks) and all(m["done"] for m in milestones),
            "done_count": sum(1 for m in milestones if m["done"]),
            "goal": goal, "outcome": scrub(found.outcome), "review_reason": scrub(found.review_reason)}


# --- the residents' verdict ---------------------------------------------------------------------------------

def verdict_rounds(case: Case) -> list[dict]:
    """Per round of asking: the tally and the comments (scrubbed, no one named), the latest round first."""
    if not case.verdict_round:
        return []
    comments: dict[int, list[str]] = {}
    for round_, comment in (Verdict.objects.filter(case=case).exclude(comment="").order_by("round", "at", "pk")
                            .values_list("round", "comment")):
        comments.setdefault(round_, []).append(scrub(comment))
    words = dict(Verdict.Satisfaction.choices)
    by_round: dict[int, Counter] = {}
    for round_, solved, satisfaction, n in (Verdict.objects.filter(case=case).order_by()
                                             .values_list("round", "solved", "satisfaction").annotate(n=Count("pk"))):
        counts = by_round.setdefault(round_, Counter())
        counts["answers"] += n
        counts["solved" if solved else "not_solved"] += n
        counts[satisfaction] += n
    out = []
    for number in range(case.verdict_round, 0, -1):
        c = by_round.get(number, Counter())
        answers = c["answers"]
        out.append({"round": number, "answers": answers, "solved": c["solved"], "not_solved": c["not_solved"],
                    "solved_share": round(100 * c["solved"] / answers) if answers else None,
                    "satisfaction": [{"label": words[key], "count": c[key]} for key in Verdict.Satisfaction.values],
                    "comments": comments.get(number, []), "current": number == case.verdict_round})
    return out


def may_act(user, case: Case, project: dict | None) -> dict:
    """What `user` may do on the case file now: answer the verdict (a resident who raised the problem or supported
    the topic, while the residents are asked, once a round), report progress on which open milestones (their
    unit, or officers over the place), record the project done (an officer of the place, all milestones done)."""
    signed_in = getattr(user, "is_authenticated", False)
    answered = bool(signed_in and case.verdict_round and
                    Verdict.objects.filter(case=case, round=case.verdict_round, user=user).exists())
    may = {"answer": bool(signed_in and case.status == Case.Status.ASKING and not answered
                          and services.is_follower(user, case)),
           "answered": answered, "outcome": False, "report": {}, "check": {}, "reply": 0}
    if signed_in and case.status != Case.Status.CLOSED:
        may["reply"] = demands_to_answer(user, case)
    if project is not None and signed_in:
        found = project["project"]
        may["report"] = {m["task"].pk: True for m in project["milestones"]
                         if not m["done"] and policy.can(user, "duties.report_progress", m["task"])}
        may["check"] = {m["task"].pk: True for m in project["milestones"]
                        if m["done"] and m["task"].quality_met is None and policy.can(user, "duties.plan", m["task"])}
        may["outcome"] = (found.completed_at is None and project["all_done"]
                          and (policy.can(user, "duties.match", found.region)
                               or policy.can(user, "duties.plan", found.region)))
    return may


def demands_to_answer(user, case: Case) -> int:
    """How many of the case's demands wait for the user's unit to take on or answer (services.reply_to_demands)."""
    from gongzhi.demands import rules as demand_rules

    waiting = Demand.objects.filter(case_links__case=case, state__in=[
        demand_rules.DISPATCHED, demand_rules.ACCEPTED, demand_rules.IN_PROGRESS]).select_related("lead_unit", "grid")
    return sum(1 for d in waiting if policy.can(user, "demands.reply", d) or policy.can(user, "demands.accept", d))


def asked_count(case: Case) -> int:
    users, guests = services.followers(case)
    return len(users) + len(guests)


# --- receipts and the whole case's check -------------------------------------------------------------------

def step_receipt(event: Event) -> dict | None:
    """The step's ledger receipt, or None while the ledger has not sequenced it (demands.services.receipt)."""
    from gongzhi.demands.services import receipt

    try:
        return receipt(event)
    except NotFound:  # sequenced, but no checkpoint signed yet
        return None


def receipt_bundle(case: Case) -> dict:
    """Every step's receipt in one object anyone can check offline against the log's key (ledger docs)."""
    from gongzhi.ledger import queries as ledger_queries

    all_steps = steps(case)
    events = Event.objects.in_bulk([s.event_id for s in all_steps])
    out = []
    for step in all_steps:
        found = step_receipt(events[step.event_id])
        if found is not None:
            out.append({"section": step.section, "step": step.label, "at": step.at.isoformat(), "receipt": found})
    try:
        checkpoint = ledger_queries.signed_checkpoint()
    except NotFound:
        checkpoint = ""
    return {"case": case.title, "place": place(case), "checkpoint": checkpoint, "receipts": out}


@dataclass
class CaseCheck:
    ok: bool
    checked: int
    pending: int
    failed: list[dict]
    checkpoint_at: dt.datetime | None
    tree_size: int | None
    error: str = ""


def check_case(case: Case) -> CaseCheck:
    """Check the receipt of every step against the CURRENT signed checkpoint (ledger.services.verify_receipt):
    the entry matches its hash, the checkpoint is signed by the log key, the entry is in its tree, and the
    current log extends it. A step not yet sequenced is counted apart, not as a failure."""
    from gongzhi.ledger import queries as ledger_queries
    from gongzhi.ledger import services as ledger
    from gongzhi.ledger.views import CHECK_TITLES

    try:
        head = ledger_queries.latest_checkpoint()
    except NotFound:
        return CaseCheck(False, 0, 0, [], None, None,
                         _("The log has no signed checkpoint yet, so there is nothing to check a receipt against."))
    all_steps = steps(case)
    events = Event.objects.in_bulk([s.event_id for s in all_steps])
    checked, pending, failed = 0, 0, []
    for step in all_steps:
        found = step_receipt(events[step.event_id])
        if found is None:
            pending += 1
            continue
        checked += 1
        try:
            result = ledger.verify_receipt(found)
            bad = [c for c in result.checks if not c.ok]
            ok = result.ok
        except (ValueError, KeyError, TypeError) as problem:
            ok, bad = False, [str(problem)]
        if not ok:
            first = bad[0] if bad else None
            reason = (str(CHECK_TITLES.get(first.code.partition(":")[0], first.code)) if hasattr(first, "code")
                      else str(first or ""))
            failed.append({"step": step.label, "section": step.section, "at": step.at, "index": step.index,
                           "reason": reason})
    head = ledger_queries.latest_checkpoint()
    return CaseCheck(checked > 0 and not failed, checked, pending, failed, head.updated_at, head.size)
