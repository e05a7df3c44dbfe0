"""duties' read side for the pages: which place to show, the power list in words, the decisions, the
responsibility list, the goal tree with computed statuses, scorecards with their latest results and the
matching board. Public shapes carry no person's name or phone: units, counts and scrubbed free text only."""

import datetime as dt
import json
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from gongzhi.core import policy
from gongzhi.core.scrub import scrub
from gongzhi.deliberation.models import Topic
from gongzhi.deliberation.permissions import home_path
from gongzhi.org.models import Building, Organisation, Region
from gongzhi.org.permissions import active_posts

from . import indicators, powers, rules, services
from .models import (Decision, Goal, Match, Need, PowerItem, Project, Resource, Responsibility, ReviewMeeting,
                     Scorecard, ScoreResult, Task)

CHOICES_LISTED = 300
DECISIONS_LISTED = 50
REVIEWS_LISTED = 20

TIMINGS = {
    powers.DisclosureTiming.BEFORE_DECISION: _("before the decision"),
    powers.DisclosureTiming.AFTER_DECISION: _("after the decision"),
    powers.DisclosureTiming.AFTER_COMPLETION: _("after completion"),
    powers.DisclosureTiming.PERIODIC: _("with the regular disclosure"),
}


def _pick(chinese: bool, zh: str, en: str) -> str:
    return zh if chinese else en


def _path_ids(path: str | None) -> list[int]:
    return [int(part) for part in (path or "").strip("/").split("/") if part]


# --- the place ----------------------------------------------------------------------------------------

def places():
    """The villages and communities to choose from (power lists, goals and boards are theirs)."""
    return (Region.objects.filter(level=Region.Level.COMMUNITY).defer("polygon")
            .select_related("parent").order_by("path")[:CHOICES_LISTED])


def region_or_none(region_id) -> Region | None:
    """A place above the grid by its id (None: no such place)."""
    return Region.objects.filter(pk=region_id, level__lt=Region.Level.GRID).defer("polygon").first()


def default_region(user) -> Region | None:
    """Where a person most likely wants to look: the community they live in, else the first community their
    posts cover, else the first community there is."""
    communities = Region.objects.filter(level=Region.Level.COMMUNITY).defer("polygon").order_by("path")
    if getattr(user, "is_authenticated", False):
        home = communities.filter(pk__in=_path_ids(home_path(user))).first()
        if home is not None:
            return home
        for post in active_posts(user):
            path = post.organisation.region.path
            found = (communities.filter(pk__in=_path_ids(path)).first()
                     or communities.filter(path__startswith=path).first())
            if found is not None:
                return found
    return communities.first()


def region_centre(region: Region) -> tuple[float, float] | None:
    """A point for a need or resource published without one: the mean of the place's buildings, else of
    its (or its grids') boundary corners."""
    buildings = Building.objects.filter(grid__path__startswith=region.path)
    points = list(buildings.values_list("longitude", "latitude")[:2000])
    if not points:
        polygons = [region.polygon] if region.polygon else list(
            Region.objects.filter(path__startswith=region.path, level=Region.Level.GRID, polygon__isnull=False)
            .values_list("polygon", flat=True)[:500])
        polygons = [p for p in polygons if isinstance(p, dict)]
        for polygon in polygons:
            kind, coordinates = polygon.get("type"), polygon.get("coordinates") or []
            outer = coordinates[:1] if kind == "Polygon" else [part[0] for part in coordinates if part] \
                if kind == "MultiPolygon" else []
            for ring in outer:
                points += [(float(p[0]), float(p[1])) for p in ring[:-1]]
    if not points:
        return None
    return (round(sum(p[0] for p in points) / len(points), 6), round(sum(p[1] for p in points) / len(points), 6))


def units_for(region: Region):
    """The organisations that may carry duties here: those in the place and those above it."""
    here_or_above = Q(region__path__startswith=region.path) | Q(region_id__in=_path_ids(region.path))
    return (Organisation.objects.filter(here_or_above)
            .select_related("region").order_by("region__path", "name"))


def units_in(region: Region):
    """The organisations of the place itself (scored on its scorecards)."""
    return Organisation.objects.filter(region__path__startswith=region.path).order_by("region__path", "name")


def own_units(user, region: Region):
    """Units the user may publish resources for: every unit here for an officer of the place, else their own."""
    if policy.can(user, "duties.match", region):
        return units_for(region)
    return Organisation.objects.filter(pk__in={p.organisation_id for p in active_posts(user)}).order_by("name")


def units_to_evaluate(user, region: Region) -> list[Organisation]:
    """The units serving where the user lives that they may evaluate: the place's own and those whose
    responsibility list covers it."""
    if not getattr(user, "is_authenticated", False):
        return []
    listed = Responsibility.objects.filter(is_active=True, region_id__in=_path_ids(region.path))
    rows = (Organisation.objects.filter(Q(region__path__startswith=region.path)
                                        | Q(pk__in=listed.values("unit_id"))).select_related("region")
            .order_by("region__path", "name").distinct())
    return [unit for unit in rows if policy.can(user, "duties.evaluate", unit)]


def overview(region: Region) -> dict:
    """Counts for the overview page."""
    within = Q(region__path__startswith=region.path)
    statuses = dict(Goal.objects.filter(within).values_list("status").annotate(n=Count("id")))
    return {
        "power_items": PowerItem.objects.filter(region=region, is_active=True).count(),
        "decisions": Decision.objects.filter(item__region=region).count(),
        "responsibilities": Responsibility.objects.filter(is_active=True).filter(
            Q(region_id__in=_path_ids(region.path)) | within).count(),
        "goals": sum(statuses.values()), "goal_statuses": statuses,
        "scorecards": Scorecard.objects.filter(region=region).count(),
        "open_needs": Need.objects.filter(within, is_open=True).count(),
        "resources": Resource.objects.filter(within, is_available=True).count(),
        "projects": Project.objects.filter(within).count(),
    }


# --- the power list ------------------------------------------------------------------------------------

def amount_words(amount: Decimal, chinese: bool) -> str:
    """50000 → "5 万元" / "50,000 yuan"; 5000 → "5,000 元"; 800.00 → "800 元"."""
    if amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))
    if not chinese:
        return f"{powers.yuan(amount)} yuan"
    if amount >= 10_000 and amount % 1000 == 0:
        return f"{format((amount / 10_000).normalize(), 'f')} 万元"
    return f"{powers.yuan(amount)} 元"


def _threshold(item: powers.PowerItem, chinese: bool) -> str:
    if item.kind == powers.PowerKind.ROUTINE:
        return _pick(chinese, "一般事项", "a routine matter")
    if item.is_always_major:
        return _pick(chinese, "属“三重一大”事项，不论金额", "a major matter (三重一大) whatever the sum")
    sum_ = amount_words(item.major_threshold, chinese)
    return _pick(chinese, f"{sum_}（含）以上属“三重一大”事项", f"from {sum_} (inclusive): a major matter (三重一大)")


def _tier_range(start: Decimal, end: Decimal | None, chinese: bool) -> str:
    a, b = amount_words(start, chinese), amount_words(end, chinese) if end is not None else None
    if b is not None and start:
        return _pick(chinese, f"{a}（含）至 {b}", f"from {a} to below {b}")
    if b is not None:
        return _pick(chinese, f"{b}以下", f"below {b}")
    if start:
        return _pick(chinese, f"{a}（含）以上", f"from {a}")
    return ""


def _procedures(item: powers.PowerItem, chinese: bool) -> list[dict]:
    """How a matter under the item is decided, by its sum: each routine tier, then major matters."""
    rows = []
    for index, tier in enumerate(item.routine):
        following = item.routine[index + 1].from_amount if index + 1 < len(item.routine) else item.major_threshold
        zh, en = tier.requirement.describe()
        rows.append({"when": _tier_range(tier.from_amount, following, chinese), "how": _pick(chinese, zh, en),
                     "is_major": False})
    if item.major is not None:
        zh, en = item.major.describe()
        when = (_tier_range(item.major_threshold, None, chinese) if item.major_threshold is not None
                else _pick(chinese, "不论金额", "whatever the sum"))
        rows.append({"when": when, "how": _pick(chinese, zh, en), "is_major": True})
    return rows


def power_list(region: Region, chinese: bool) -> list[dict]:
    """The place's power list in words, grouped under the published lists' headings."""
    groups: dict[str, dict] = {}
    for row in PowerItem.objects.filter(region=region, is_active=True).order_by("group", "code"):
        item = powers.item_from_data(row.definition)
        kind_zh, kind_en = powers.KIND_NAMES[item.kind]
        group = groups.setdefault(item.group, {"code": item.group,
                                               "name": _pick(chinese, *powers.GROUPS[item.group]), "items": []})
        group["items"].append({
            "row": row, "code": item.code, "name": _pick(chinese, item.name_zh, item.name_en),
            "kind": item.kind.value, "kind_name": _pick(chinese, kind_zh, kind_en),
            "is_major_kind": item.kind in powers.MAJOR_KINDS, "threshold": _threshold(item, chinese),
            "procedures": _procedures(item, chinese), "legal_basis": list(item.legal_basis),
            "disclosures": [{"what": _pick(chinese, d.what_zh, d.what_en), "timing": TIMINGS[d.timing],
                             "notice_days": d.notice_days} for d in item.disclosures],
        })
    order = list(powers.GROUPS)
    return sorted(groups.values(), key=lambda g: order.index(g["code"]) if g["code"] in order else len(order))


def signatory_choices(chinese: bool) -> list[tuple[str, str]]:
    return [(code, _pick(chinese, zh, en)) for code, (zh, en) in powers.SIGNATORIES.items()]


def procedure_topics(region: Region):
    """The place's topics that went (or go) through a procedure: what a decision may rest on."""
    latest = (Topic.objects.filter(region__path__startswith=region.path).exclude(procedure_code="")
              .exclude(status=Topic.Status.WITHDRAWN).order_by("-created_at").values_list("pk", flat=True))
    # Unsliced, so that the form's choice field can look the picked one up.
    return Topic.objects.filter(pk__in=list(latest[:CHOICES_LISTED])).order_by("-created_at")


def decisions(region: Region, chinese: bool) -> list[dict]:
    """The decisions recorded under the place's power list (public: no one's name)."""
    rows = Decision.objects.filter(item__region=region).select_related("item", "disclosure")[:DECISIONS_LISTED]
    return [decision_row(d, chinese) for d in rows]


def decision_row(d: Decision, chinese: bool) -> dict:
    """One decision as the public reads it, in the language shown (the verdict is stored in both)."""
    verdict = d.verdict or {}
    return {
        "decision": d, "item": d.item.name,
        "amount": amount_words(d.amount, chinese) if d.amount is not None else "",
        "classification": verdict.get("classification_zh" if chinese else "classification_en", ""),
        "verdict": verdict.get("message_zh" if chinese else "message_en", ""),
        "details": scrub(d.details),
    }


# --- the responsibility list -------------------------------------------------------------------------------

def responsibilities(region: Region):
    """The entries that apply here: made for the place, a place above it, or a grid in it."""
    return (Responsibility.objects.filter(is_active=True)
            .filter(Q(region_id__in=_path_ids(region.path)) | Q(region__path__startswith=region.path))
            .select_related("unit", "region").order_by("region__path", "unit__name", "id"))


# --- goals and tasks -------------------------------------------------------------------------------------------

def status_legend(chinese: bool) -> list[dict]:
    return [{"code": status.value, "name": _pick(chinese, zh, en)} for status, (zh, en) in rules.STATUS_NAMES.items()]


def status_of(assessment: rules.Assessment, chinese: bool) -> dict:
    zh, en = rules.STATUS_NAMES[assessment.status]
    return {"code": assessment.status.value, "name": _pick(chinese, zh, en),
            "reason": _pick(chinese, assessment.reason_zh, assessment.reason_en)}


def _number(value) -> float | None:
    return None if value is None else round(float(value), 4)


def goal_progress(goal: Goal, assessment: rules.Assessment) -> dict:
    """The latest value against the target, as a share of the way from the start value."""
    current = float(assessment.latest.value) if assessment.latest is not None else goal.start_value
    span = goal.target_value - goal.start_value
    percent = 100.0 if span == 0 else 100.0 * (current - goal.start_value) / span
    return {"current": round(current, 4), "percent": round(min(100.0, max(0.0, percent)), 1),
            "expected": _number(assessment.expected)}


def task_node(task: Task, chinese: bool, today: dt.date | None = None) -> dict:
    assessment = services.task_status(task, today)
    return {"task": task, "status": status_of(assessment, chinese), "subtasks": []}


def _task_tree(tasks: list[Task], chinese: bool) -> tuple[dict[int, list[dict]], dict[int, dict]]:
    """Tasks as nested nodes: (goal or project id → top-level nodes, task id → node)."""
    nodes = {t.pk: task_node(t, chinese) for t in tasks}
    tops: dict[int, list[dict]] = {}
    for t in tasks:
        parent = nodes.get(t.parent_id)
        if parent is not None:
            parent["subtasks"].append(nodes[t.pk])
        else:
            tops.setdefault(t.goal_id or -t.project_id, []).append(nodes[t.pk])
    return tops, nodes


def goal_node(goal: Goal, chinese: bool, **live) -> dict:
    assessment = services.goal_status(goal, **live)
    return {"goal": goal, "status": status_of(assessment, chinese), "progress": goal_progress(goal, assessment),
            "children": [], "tasks": []}


def goal_tree(region: Region, chinese: bool) -> tuple[list[dict], list[dict]]:
    """The place's goals as a tree (sub-goals under their goal), each with its tasks and subtasks, statuses
    computed now. Returns (top-level goal nodes, every task node)."""
    goals = list(Goal.objects.filter(region__path__startswith=region.path).select_related("owner", "region"))
    nodes = {g.pk: goal_node(g, chinese) for g in goals}
    tasks = list(Task.objects.filter(goal__in=goals).select_related("unit").order_by("deadline", "id"))
    by_goal, task_nodes = _task_tree(tasks, chinese)
    top = []
    for g in goals:
        nodes[g.pk]["tasks"] = by_goal.get(g.pk, [])
        parent = nodes.get(g.parent_id)
        (parent["children"] if parent is not None else top).append(nodes[g.pk])
    return top, list(task_nodes.values())


def goal_detail(goal: Goal, chinese: bool) -> dict:
    """One goal: its node, tasks, reports (no reporter's name; text scrubbed) and the chart's data."""
    live = services.live_value(goal)
    node = goal_node(goal, chinese, live=live)
    tasks = list(goal.tasks.select_related("unit").order_by("deadline", "id"))
    by_goal, task_nodes = _task_tree(tasks, chinese)
    node["tasks"] = by_goal.get(goal.pk, [])
    node["children"] = [goal_node(g, chinese) for g in goal.children.select_related("owner")]
    reports = list(goal.reports.all())
    valued = [r for r in reports if r.value is not None]
    chart = {
        "unit": goal.unit_of_measure,
        "reported": {"x": [r.on.isoformat() for r in valued], "y": [r.value for r in valued]},
        "expected": {"x": [goal.start_date.isoformat(), goal.deadline.isoformat()],
                     "y": [goal.start_value, goal.target_value]},
    }
    return {"node": node, "task_nodes": list(task_nodes.values()), "chart": chart, "live_value": live,
            "reports": [{"report": r, "note": scrub(r.note), "evidence": scrub(r.evidence)}
                        for r in reversed(reports)]}


def reviews(region: Region | None = None, goal: Goal | None = None) -> list[dict]:
    """Review meetings (会商研判) of the place or of one goal, with their conclusions scrubbed of phones and ID
    numbers (the participants, who are named, are for officers: the page decides)."""
    rows = ReviewMeeting.objects.prefetch_related("goals").order_by("-held_on", "-id")
    rows = rows.filter(goals=goal) if goal is not None else rows.filter(region__path__startswith=region.path)
    return [{"review": r, "conclusions": scrub(r.conclusions), "participants": scrub(r.participants),
             "goals": list(r.goals.all())} for r in rows[:REVIEWS_LISTED]]


def live_indicator_choices(chinese: bool) -> list[tuple[str, str]]:
    return [(i.code, _pick(chinese, i.name_zh, i.name_en)) for i in indicators.all_indicators()
            if i.for_region is not None]


# --- scorecards -------------------------------------------------------------------------------------------

BUILT_IN_NAMES = {
    "duties.task_completion": ("任务完成率", "tasks completed"),
    "duties.task_timeliness": ("任务按期完成率", "tasks completed in time"),
    "duties.resident_evaluation": ("群众评价", "residents' evaluation"),
}


def scorecard_indicator_choices(chinese: bool) -> list[tuple[str, str]]:
    """The values a scorecard can weigh: duties' own and every indicator registered for units."""
    own = [(code, _pick(chinese, *names)) for code, names in BUILT_IN_NAMES.items()]
    return own + [(i.code, _pick(chinese, i.name_zh, i.name_en)) for i in indicators.all_indicators()
                  if i.for_unit is not None]


def scorecards(region: Region, chinese: bool) -> list[dict]:
    """The place's scorecards, each with its latest period's results, best first, and each result's parts."""
    out = []
    for card in Scorecard.objects.filter(region=region).order_by("-created_at", "-id"):
        data = card.indicators or {}
        names = {i["code"]: _pick(chinese, i.get("name_zh", i["code"]), i.get("name_en", i["code"]))
                 for i in data.get("indicators", [])}
        latest = ScoreResult.objects.filter(scorecard=card).order_by("-period_end", "-period_start").first()
        results = []
        if latest is not None:
            for row in (ScoreResult.objects.filter(scorecard=card, period_start=latest.period_start,
                                                   period_end=latest.period_end)
                        .select_related("unit").order_by("-score", "unit__name")):
                parts = {b["code"]: b for b in row.breakdown}
                results.append({"result": row, "parts": [parts.get(code) for code in names]})
        shown = [{**i, "name": names[i["code"]]} for i in data.get("indicators", [])]
        out.append({"card": card, "indicators": shown, "names": list(names.values()),
                    "latest": latest, "results": results})
    return out


def scorecard_example() -> str:
    """A scorecard's indicators as JSON, ready to edit: duties' three own values."""
    rows = [
        {"code": "done", "name_zh": "任务完成率", "name_en": "tasks completed", "weight": "40",
         "normalisation": "linear", "worst": "0", "best": "100", "live_indicator": "duties.task_completion"},
        {"code": "in_time", "name_zh": "任务按期完成率", "name_en": "tasks completed in time", "weight": "30",
         "normalisation": "linear", "worst": "0", "best": "100", "live_indicator": "duties.task_timeliness"},
        {"code": "residents", "name_zh": "群众评价", "name_en": "residents' evaluation", "weight": "30",
         "normalisation": "linear", "worst": "20", "best": "100", "live_indicator": "duties.resident_evaluation"},
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1)


# --- the matching board (三单制) ------------------------------------------------------------------------------

def matching_board(region: Region) -> dict:
    """Needs (with what accepted matches already give them), resources (with what is left), proposed
    matches, and projects with their tasks and matches."""
    within = Q(region__path__startswith=region.path)
    accepted = Match.objects.filter(state=Match.State.ACCEPTED)
    given = dict(accepted.filter(need__region__path__startswith=region.path).values_list("need")
                 .annotate(q=Sum("quantity")))
    used = dict(accepted.filter(resource__region__path__startswith=region.path).values_list("resource")
                .annotate(q=Sum("quantity")))
    needs = [{"need": n, "served": given.get(n.pk, 0.0), "left": max(n.quantity - given.get(n.pk, 0.0), 0.0)}
             for n in Need.objects.filter(within).order_by("-is_open", "-urgency", "-created_at", "-id")]
    resources = [{"resource": r, "left": max(r.capacity - used.get(r.pk, 0.0), 0.0)}
                 for r in Resource.objects.filter(within).select_related("owner").order_by("-is_available",
                                                                                           "-created_at", "-id")]
    proposed = list(Match.objects.filter(state=Match.State.PROPOSED, need__region__path__startswith=region.path)
                    .select_related("need", "resource__owner").order_by("-need__urgency", "id"))
    projects = list(Project.objects.filter(within).prefetch_related("matches__need", "matches__resource")
                    .order_by("-created_at", "-id"))
    tasks = list(Task.objects.filter(project__in=projects).select_related("unit").order_by("deadline", "id"))
    return {"needs": needs, "resources": resources, "proposed": proposed, "projects": projects,
            "project_tasks": tasks}


def project_nodes(projects, tasks, chinese: bool) -> list[dict]:
    by_project, _nodes = _task_tree(tasks, chinese)
    return [{"project": p, "tasks": by_project.get(-p.pk, []), "outcome": scrub(p.outcome),
             "matches": [m for m in p.matches.all()]} for p in projects]
