"""insight pages for people: the analysis cockpit of a region (its grids on a map by a chosen measure, the
weekly trend, top issues, hot spots, early warnings, agenda suggestions, the classifier's quality) and the
button that opens a proactive demand from a warning (未诉先办).

Like the demands pages, a view reads through queries or calls one use case in services and renders. Who
may open a region's cockpit ("insight.view") or act on a warning ("insight.act_on_warning") is
core.policy's answer; nothing here shows a reporter's name or phone (agenda samples come scrubbed).
"""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import policy
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pages import page
from gongzhi.demands.forms import category_name
from gongzhi.demands.models import Category
from gongzhi.org.models import Region

from . import queries, services
from .models import HotSpot, Issue, Warning

MAP_DAYS = 90  # the map's "demands" measure counts this many days back
ISSUES_LISTED = 10
HOT_SPOTS_LISTED = 20
WARNINGS_LISTED = 50
AGENDA_ITEMS = 3  # suggestions per community
AGENDA_COMMUNITIES = 20  # communities with issues, in display order; a district has many more


def _in_chinese() -> bool:
    return (get_language() or "").startswith("zh")


def _percent(value) -> float | None:
    return None if value is None else round(100 * value, 1)


def _category_names(codes) -> dict[str, str]:
    """{code: name in the current language} of the given category codes."""
    return {c.code: category_name(c) for c in Category.objects.filter(code__in=[code for code in codes if code])}


# ---------------------------------------------------------------------------------------------
# Which region


def _region(request) -> Region:
    """The cockpit's region: ?region=<id>, else the widest the user oversees (queries.cockpit_region)."""
    return queries.cockpit_region(request.user, request.GET.get("region", ""))


def _region_choices(user) -> list[dict]:
    """The regions the user oversees and the streets and communities below them, in tree order."""
    roots = queries.viewable_regions(user)
    if not roots:
        return []
    within = Q()
    for root in roots:
        within |= Q(path__startswith=root.path)
    regions = (Region.objects.filter(within).filter(Q(level__lt=Region.Level.GRID) | Q(pk__in=[r.pk for r in roots]))
               .defer("polygon").order_by("path"))
    top = min(r.level for r in roots)
    return [{"id": r.pk, "label": "\u3000" * (r.level - top) + r.name} for r in regions]


# ---------------------------------------------------------------------------------------------
# The sections


def _grid_section(region: Region) -> tuple[list[dict], dict]:
    """Per-grid figures (the table and the map's data) and the region's totals."""
    figures = queries.grid_figures(region, days=MAP_DAYS)
    rows = [{"id": g.grid_id, "name": g.name, "url": reverse("org:region", args=[g.grid_id]), "geometry": g.polygon,
             "demands": g.demands, "open": g.open,
             "overdue": g.overdue, "resolution_rate": _percent(g.resolution_rate), "hot_spots": g.hot_spots}
            for g in figures]
    rated, solved = sum(g.rated for g in figures), sum(g.solved for g in figures)
    totals = {"demands": sum(g.demands for g in figures), "open": sum(g.open for g in figures),
              "overdue": sum(g.overdue for g in figures), "hot_spots": sum(g.hot_spots for g in figures),
              "resolution_rate": _percent(solved / rated) if rated else None}
    return rows, totals


def _measures() -> list[dict]:
    """What the map can colour by; `worse` says which end of the scale calls for attention."""
    return [
        {"key": "demands", "label": _("Demands in %(days)s days") % {"days": MAP_DAYS}, "worse": "high"},
        {"key": "open", "label": _("Open demands"), "worse": "high"},
        {"key": "overdue", "label": _("Overdue demands"), "worse": "high"},
        {"key": "resolution_rate", "label": _("Resolution rate (%)"), "worse": "low", "unit": "%"},
        {"key": "hot_spots", "label": _("Hot spots"), "worse": "high"},
    ]


def _trend(region: Region) -> dict:
    """queries.weekly_trend with the category names in the current language."""
    trend = queries.weekly_trend(region)
    names = _category_names(s["code"] for s in trend["series"])
    series = [{**s, "name": names.get(s["code"]) or _("Other or unclassified")} for s in trend["series"]]
    return {"weeks": trend["weeks"], "series": series, "total": sum(sum(s["counts"]) for s in series)}


def _issues(region: Region) -> list[dict]:
    return [{"issue": i, "category": category_name(i.category)}
            for i in queries.top_issues(region, limit=ISSUES_LISTED)]


def _hot_spots(user, region: Region) -> list[dict]:
    chinese = _in_chinese()
    return [{"spot": h, "category": category_name(h.category),
             "explanation": h.explanation_zh if chinese else h.explanation_en,
             "can_open_topic": policy.can(user, "deliberation.manage", h.grid)}
            for h in queries.hot_spots(region)[:HOT_SPOTS_LISTED]]


def _warnings(user, region: Region) -> tuple[list[dict], int]:
    """The open warnings, newest first, each with whether the user may open a proactive demand from it."""
    chinese = _in_chinese()
    found = queries.warnings(region)
    listed = [{"warning": w, "message": w.message_zh if chinese else w.message_en,
               "category": category_name(w.category), "can_act": policy.can(user, "insight.act_on_warning", w.grid)}
              for w in found[:WARNINGS_LISTED]]
    return listed, found.count()


def _communities(region: Region):
    """The communities whose agenda the cockpit suggests: a grid's own community; below a street or a
    district, those with issues (the others have nothing to suggest)."""
    if region.level == Region.Level.GRID:
        return Region.objects.defer("polygon").filter(pk=region.parent_id)
    with_issues = Issue.objects.filter(community__path__startswith=region.path, merged_into__isnull=True)
    return (Region.objects.defer("polygon")
            .filter(level=Region.Level.COMMUNITY, path__startswith=region.path, pk__in=with_issues.values("community"))
            .order_by(*Region.DISPLAY_ORDER)[:AGENDA_COMMUNITIES])


def _agenda(user, region: Region) -> list[dict]:
    out = []
    for community in _communities(region):
        can_open = policy.can(user, "deliberation.manage", community)
        items = [{"item": item, "category": category_name(item.issue.category), "can_open_topic": can_open}
                 for item in services.agenda(community, limit=AGENDA_ITEMS)]
        if items:
            out.append({"community": community, "items": items})
    return out


def _model_quality() -> dict | None:
    """The active classifier's held-out figures with category names, or None when there is none."""
    model = queries.active_model()
    if model is None:
        return None
    evaluation = model.evaluation or {}
    per_label = evaluation.get("labels") or {}
    confusion = evaluation.get("confusion") or {}
    order = confusion.get("order") or list(per_label)
    names = _category_names([*order, *per_label])
    labels = [{"code": code, "name": names.get(code, code), **scores} for code, scores in per_label.items()]
    labels.sort(key=lambda row: row["f1"])  # the weakest first: where corrections are most needed
    return {
        "model": model, "macro_f1": evaluation.get("macro_f1"), "accuracy": _percent(evaluation.get("accuracy")),
        "labels": labels,
        "confusion": {"labels": [names.get(code, code) for code in order], "matrix": confusion.get("matrix") or []}
        if confusion.get("matrix") else None,
    }


# ---------------------------------------------------------------------------------------------
# Pages


@page
def cockpit(request):
    """The analysis cockpit of one region: where demands come from, what rises, what to act on."""
    user = request.user
    region = _region(request)
    grids, totals = _grid_section(region)
    trend = _trend(region)
    warnings, warnings_count = _warnings(user, region)
    quality = _model_quality()
    data = {
        "map": {"grids": [g for g in grids if g["geometry"]], "measures": _measures()},
        "trend": trend,
        "confusion": quality and quality["confusion"],
        "texts": {"demands": _("Demands"), "week": _("Week starting"), "predicted": _("Predicted category"),
                  "true": _("True category"), "noValue": _("no value")},
    }
    context = {
        "region": region, "choices": _region_choices(user), "grids": grids, "totals": totals, "map_days": MAP_DAYS,
        "trend": trend, "issues": _issues(region), "run": queries.latest_run(region), "hot_spots": _hot_spots(request.user, region),
        "warnings": warnings, "warnings_count": warnings_count, "agenda": _agenda(request.user, region), "quality": quality,
        "data": data,
    }
    return render(request, "insight/cockpit.html", context)


@page
@require_POST
def act_on_warning(request, warning_id: int):
    """Open a proactive demand from a warning (未诉先办) and go to it; a refusal goes back to the cockpit
    with its reason, and nothing is created."""
    warning = Warning.objects.select_related("community").filter(pk=warning_id).first()
    _require_visible(request.user, warning, f"warning {warning_id}")
    policy.require(request.user, "insight.view", warning.community)
    try:
        demand = services.open_proactive_demand(request.user, warning)
    except DomainError as refused:
        messages.error(request, refused.message())
        back = request.POST.get("region", "")
        region_id = back if back.isdigit() else warning.community_id
        return redirect(f"{reverse('insight:cockpit')}?region={region_id}&error={refused.code}#warnings")
    messages.success(request, _("Proactive demand %(number)s opened from the warning.") % {"number": demand.number})
    return redirect(reverse("demands:detail", args=[demand.number]))


def _require_visible(user, found, what: str) -> None:
    """An object of the analysis outside what the user may see (its community or its grid) answers as one
    that does not exist (404), so nobody learns that another place has a warning, an issue or a hot spot;
    one the user sees but may not act on is refused by the service (403)."""
    places = [getattr(found, "community", None), getattr(found, "grid", None)] if found is not None else []
    if not any(place is not None and policy.can(user, "insight.view", place) for place in places):
        raise NotFound(what)


def _open_topic(request, opener, subject, community: Region, anchor: str):
    """Open a deliberation topic from insight's evidence and go to it; a refusal goes back to the cockpit
    with its reason, and nothing is created."""
    policy.require(request.user, "insight.view", community)
    try:
        topic = opener(request.user, subject)
    except DomainError as refused:
        messages.error(request, refused.message())
        back = request.POST.get("region", "")
        region_id = back if back.isdigit() else community.pk
        return redirect(f"{reverse('insight:cockpit')}?region={region_id}&error={refused.code}#{anchor}")
    messages.success(request, _("Deliberation topic opened: %(title)s") % {"title": topic.title})
    return redirect(reverse("deliberation:topic", args=[topic.pk]))


@page
@require_POST
def open_topic_from_issue(request, issue_id: int):
    issue = Issue.objects.select_related("community", "category").filter(pk=issue_id).first()
    _require_visible(request.user, issue, f"issue {issue_id}")
    return _open_topic(request, services.open_topic_from_issue, issue, issue.community, "agenda")


@page
@require_POST
def open_topic_from_hot_spot(request, hot_spot_id: int):
    spot = HotSpot.objects.select_related("grid__parent", "category").filter(pk=hot_spot_id).first()
    _require_visible(request.user, spot, f"hot spot {hot_spot_id}")
    return _open_topic(request, services.open_topic_from_hot_spot, spot, spot.grid.parent, "hot-spots")
