"""insight pages for people: the analysis cockpit of a region (its grids on a map by a chosen measure, the
weekly trend, top issues, hot spots, early warnings, agenda suggestions, the classifier's quality in plain
words), the list of warnings, the demands behind one warning, the actions on a warning (open a proactive
demand, 未诉先办; assign it to a unit; dismiss it with a reason) and the analysts' page of the classifier.

Like the demands pages, a view reads through queries or calls one use case in services and renders. Who
may open a region's cockpit ("insight.view") or act on a warning ("insight.act_on_warning") is
core.policy's answer; nothing here shows a reporter's name or phone (agenda samples come scrubbed).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import policy
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pages import page
from gongzhi.demands import queries as demand_queries
from gongzhi.demands.forms import category_name
from gongzhi.demands.models import Category, Demand
from gongzhi.demands.permissions import dispatch_targets_q
from gongzhi.org.models import Organisation, Region

from . import cockpit_cache, queries, services
from .models import HotSpot, Issue, Warning

MAP_WEEKS = 13  # the map's "demands" measure counts this week and the 12 before it
ISSUES_LISTED = 10
HOT_SPOTS_LISTED = 20
WARNINGS_LISTED = 10  # on the cockpit; the warnings page lists them all, a page at a time
WARNINGS_PER_PAGE = 20
DEMANDS_PER_PAGE = 20
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
    figures = queries.grid_figures(region, weeks=MAP_WEEKS)
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
        {"key": "demands", "label": _("Demands in the last %(weeks)s weeks") % {"weeks": MAP_WEEKS}, "worse": "high"},
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


def _hot_spots(user, region: Region, actions: "_WarningActions") -> list[dict]:
    """The latest run's hot spots of the region, each with the warning it raised (its actions) if any."""
    chinese = _in_chinese()
    spots = list(queries.hot_spots(region)[:HOT_SPOTS_LISTED])
    warning_of = queries.warnings_of_hot_spots(spots)
    return [{"spot": h, "category": category_name(h.category),
             "explanation": h.explanation_zh if chinese else h.explanation_en,
             "warning": actions.row(warning_of[h.pk]) if h.pk in warning_of else None,
             "can_open_topic": policy.can(user, "deliberation.manage", h.grid)}
            for h in spots]


class _WarningActions:
    """What the user may do with each warning on a page, with the units they may assign it to (one query per
    grid, kept for the request): the same rows on the cockpit, the warnings list and a warning's demands."""

    def __init__(self, user):
        self.user = user
        self.chinese = _in_chinese()
        self._units: dict[int, list[Organisation]] = {}
        self._can: dict[int, bool] = {}

    def units(self, grid: Region) -> list[Organisation]:
        if grid.pk not in self._units:
            self._units[grid.pk] = list(Organisation.objects.filter(dispatch_targets_q(self.user, Demand(grid=grid)))
                                        .only("id", "name").order_by("name"))
        return self._units[grid.pk]

    def can_act(self, warning: Warning) -> bool:
        if warning.grid_id is None:
            return False
        if warning.grid_id not in self._can:
            self._can[warning.grid_id] = policy.can(self.user, "insight.act_on_warning", warning.grid)
        return self._can[warning.grid_id]

    def can_assign(self, warning: Warning) -> bool:
        key = -warning.grid_id  # the same cache, negative keys: assigning is for the dispatch desks only
        if key not in self._can:
            self._can[key] = policy.can(self.user, "insight.assign_warning", warning.grid)
        return self._can[key]

    def row(self, warning: Warning) -> dict:
        can_act = warning.state == Warning.State.OPEN and self.can_act(warning)
        numbers = (warning.evidence or {}).get("demands")
        return {"warning": warning, "message": warning.message_zh if self.chinese else warning.message_en,
                "category": category_name(warning.category), "can_act": can_act,
                "is_high": warning.level == Warning.Level.HIGH,
                "units": self.units(warning.grid) if can_act and warning.category_id and self.can_assign(warning)
                else [],
                "demands_count": len(numbers) if numbers is not None else None,
                "demands_url": reverse("insight:warning_demands", args=[warning.pk])}


def _warnings(actions: _WarningActions, region: Region) -> tuple[list[dict], int]:
    """The open warnings, high level first, then newest, each with what the user may do with it."""
    found = queries.warnings(region).order_by("level", "-raised_at", "-id")  # "high" sorts before "medium"
    return [actions.row(w) for w in found[:WARNINGS_LISTED]], found.count()


def _communities(region: Region):
    """The communities whose agenda the cockpit suggests: a grid's own community; below a street or a
    district, those with issues (the others have nothing to suggest)."""
    if region.level == Region.Level.GRID:
        return Region.objects.defer("polygon").filter(pk=region.parent_id)
    with_issues = Issue.objects.filter(community__path__startswith=region.path, merged_into__isnull=True)
    return (Region.objects.defer("polygon")
            .filter(level=Region.Level.COMMUNITY, path__startswith=region.path, pk__in=with_issues.values("community"))
            .order_by(*Region.DISPLAY_ORDER)[:AGENDA_COMMUNITIES])


def _agenda_blocks(region: Region) -> list[dict]:
    """The agenda suggestions of the region's communities (the same for every user, so cached)."""
    out = []
    communities = list(_communities(region))
    found = services.agendas(communities, limit=AGENDA_ITEMS)
    for community in communities:
        items = [{"item": item, "category": category_name(item.issue.category)} for item in found[community.pk]]
        if items:
            out.append({"community": community, "items": items})
    return out


def _agenda(user, blocks: list[dict]) -> list[dict]:
    """The suggestions with whether the user may put each to deliberation."""
    out = []
    for block in blocks:
        can_open = policy.can(user, "deliberation.manage", block["community"])
        out.append({"community": block["community"],
                    "items": [{**row, "can_open_topic": can_open} for row in block["items"]]})
    return out


def _quality_in_words() -> dict | None:
    """The active classifier's cross-validated accuracy as a whole percentage, for the officials' cockpit;
    None without a model or figures."""
    model = queries.active_model()
    accuracy = (model.evaluation or {}).get("accuracy") if model is not None else None
    if accuracy is None:
        return None
    # Near-perfect held-out figures say more about the training texts than about the model: demands worded
    # alike (the same few phrasings, copied reports) are easy to tell apart again. Officials are told so.
    return {"accuracy": round(100 * accuracy), "examples": model.training_size,
            "too_good": accuracy >= SUSPICIOUSLY_ACCURATE}


# Cross-validated accuracy from which the cockpit warns that the figure is likely optimistic: the same method on
# 7,367 real public messages (teddy2020, docs/benchmarks.md) scores 0.89.
SUSPICIOUSLY_ACCURATE = 0.98


def _model_quality(model) -> dict:
    """A classifier version's cross-validated figures with category names (no codes), the weakest first."""
    evaluation = model.evaluation or {}
    per_label = evaluation.get("labels") or {}
    confusion = evaluation.get("confusion") or {}
    order = confusion.get("order") or list(per_label)
    names = _category_names([*order, *per_label])
    labels = [{"name": names.get(code) or _("Unknown category"), **scores} for code, scores in per_label.items()]
    labels.sort(key=lambda row: (row["f1"], row["name"]))  # the weakest first: where corrections are most needed
    return {
        "model": model, "macro_f1": evaluation.get("macro_f1"), "accuracy": _percent(evaluation.get("accuracy")),
        "folds": evaluation.get("folds"), "n": evaluation.get("n"), "labels": labels,
        "confusion": {"labels": [names.get(code) or _("Unknown category") for code in order],
                      "matrix": confusion.get("matrix") or []}
        if confusion.get("matrix") else None,
    }


# ---------------------------------------------------------------------------------------------
# Pages


def _region_figures(region: Region) -> dict:
    """What the cockpit shows of a region whoever looks: the same for every user, so cached (cockpit_cache);
    the per-grid table is rendered here once, since a district has hundreds of rows."""
    grids, totals = _grid_section(region)
    table = render_to_string("insight/_grid_table.html", {"grids": grids, "map_weeks": MAP_WEEKS})
    trend = _trend(region)
    data = {
        "map": {"grids": [g for g in grids if g["geometry"]], "measures": _measures()},
        "trend": trend,
        "texts": {"demands": _("Demands"), "week": _("Week starting"), "noValue": _("no value")},
    }
    return {"grids": (grids, totals), "grid_table": table, "trend": trend, "issues": _issues(region),
            "agenda": _agenda_blocks(region), "data": data, "data_script": json_script(data, "insight-data")}


@page
def cockpit(request):
    """The analysis cockpit of one region: where demands come from, what rises, what to act on."""
    user = request.user
    region = _region(request)
    actions = _WarningActions(user)
    figures = cockpit_cache.figures(region, get_language() or "", lambda: _region_figures(region))
    grids, totals = figures["grids"]
    trend = figures["trend"]
    warnings, warnings_count = _warnings(actions, region)
    context = {
        "region": region, "choices": _region_choices(user), "grids": grids, "totals": totals, "map_weeks": MAP_WEEKS,
        "grid_table": mark_safe(figures["grid_table"]),  # rendered by the template engine (escaped) above
        "trend": trend, "issues": figures["issues"], "run": queries.latest_run(region),
        "hot_spots": _hot_spots(user, region, actions), "warnings": warnings, "warnings_count": warnings_count,
        "warnings_url": f"{reverse('insight:warnings')}?{urlencode({'region': region.pk})}",
        "agenda": _agenda(user, figures["agenda"]), "quality": _quality_in_words(),
        "can_manage_models": policy.can(user, "insight.manage_models"), "data": figures["data"],
        "data_script": mark_safe(figures["data_script"]),
        "next": request.get_full_path(),
    }
    return render(request, "insight/cockpit.html", context)


@page
def warnings_list(request):
    """The warnings of the user's regions (or of ?region=), open ones by default (?state=handled for those
    acted on, assigned or dismissed): the list the home page's "warnings for me" counts."""
    user = request.user
    chosen = request.GET.get("region", "")
    state = "handled" if request.GET.get("state") == "handled" else "open"
    if chosen:
        region = queries.cockpit_region(user, chosen)
        found = queries.warnings(region, state=None)
    else:
        policy.require(user, "insight.view")
        region = None
        found = queries.warnings_for(user, state=None)
    found = (found.filter(state=Warning.State.OPEN) if state == "open" else
             found.exclude(state=Warning.State.OPEN).select_related("handled_by__person"))
    found = found.order_by("level", "-raised_at", "-id") if state == "open" else found.order_by("-handled_at", "-id")
    listing = Paginator(found, WARNINGS_PER_PAGE).get_page(request.GET.get("page"))
    actions = _WarningActions(user)
    rows = [actions.row(w) for w in listing]
    return render(request, "insight/warnings.html", {
        "region": region, "state": state, "page_obj": listing, "rows": rows,
        # The intro says only what this user can do with the warnings listed (assigning is for the desks).
        "may_act": any(r["can_act"] for r in rows), "may_assign": any(r["units"] for r in rows),
        "next": request.get_full_path(), "region_query": urlencode({"region": region.pk}) if region else "",
        "page_query": urlencode({**({"region": region.pk} if region else {}),
                                 **({"state": "handled"} if state == "handled" else {})})})


@page
def warning_demands(request, warning_id: int):
    """The demands behind one warning, exactly those its rule counted (that the user may see), with the
    warning and its actions above them."""
    warning = _visible_warning(request.user, warning_id)
    found = queries.warning_demands(request.user, warning)
    listing = Paginator(found, DEMANDS_PER_PAGE).get_page(request.GET.get("page"))
    cards = [{"demand": d, "seen": demand_queries.as_seen_by(request.user, d), "category_name": category_name(d.category),
              "deadlines": [], "actions": [], "view": "card"} for d in listing]
    return render(request, "insight/warning_demands.html", {
        "row": _WarningActions(request.user).row(warning), "page_obj": listing, "cards": cards,
        "next": request.get_full_path()})


@page
def models(request):
    """The analysts' page of the classifier: the active version's cross-validated precision, recall and F1
    per category, its confusion matrix, and every version. Only for the posts that manage models."""
    policy.require(request.user, "insight.manage_models")
    active = queries.active_model()
    quality = _model_quality(active) if active is not None else None
    versions = [{"model": m, "macro_f1": (m.evaluation or {}).get("macro_f1"),
                 "accuracy": _percent((m.evaluation or {}).get("accuracy")), "folds": (m.evaluation or {}).get("folds")}
                for m in queries.model_versions()]
    data = {"confusion": quality and quality["confusion"],
            "texts": {"predicted": _("Predicted category"), "true": _("True category")}}
    return render(request, "insight/models.html", {"quality": quality, "versions": versions, "data": data})


# ---------------------------------------------------------------------------------------------
# Acting on a warning


def _visible_warning(user, warning_id: int) -> Warning:
    warning = (Warning.objects.select_related("community", "grid", "building", "category", "unit", "demand",
                                              "assigned_unit", "handled_by")
               .filter(pk=warning_id).first())
    _require_visible(user, warning, f"warning {warning_id}")
    return warning


def _safe_next(request) -> str:
    given = request.POST.get("next", "")
    if given.startswith("/") and url_has_allowed_host_and_scheme(given, allowed_hosts={request.get_host()}):
        return given
    return ""


def _back(request, warning: Warning, *, error: str = "") -> str:
    """Where a warning's form goes back to: the page it was posted from (`next`), else the cockpit of the
    region it was posted from, with the refusal's code when refused."""
    given = _safe_next(request)
    if given:
        if not error:
            return given
        path, _sep, fragment = given.partition("#")
        return f"{path}{'&' if '?' in path else '?'}error={error}" + (f"#{fragment}" if fragment else "")
    back = request.POST.get("region", "")
    region_id = back if back.isdigit() else warning.community_id
    return f"{reverse('insight:cockpit')}?region={region_id}" + (f"&error={error}" if error else "") + "#warnings"


def _on_warning(request, warning_id: int, call, done):
    """Run one action on a warning; refused: back with the reason and nothing changed."""
    warning = _visible_warning(request.user, warning_id)
    try:
        result = call(warning)
    except DomainError as refused:
        if refused.status == 404:  # a unit outside the user's reach answers as one that does not exist
            raise
        messages.error(request, refused.message())
        return redirect(_back(request, warning, error=refused.code))
    return done(warning, result)


@page
@require_POST
def act_on_warning(request, warning_id: int):
    """Open a proactive demand from a warning (未诉先办) and go to it."""
    def done(warning, demand):
        messages.success(request, _("Proactive demand %(number)s opened from the warning.") % {"number": demand.number})
        return redirect(reverse("demands:detail", args=[demand.number]))

    return _on_warning(request, warning_id, lambda w: services.open_proactive_demand(request.user, w), done)


@page
@require_POST
def assign_warning(request, warning_id: int):
    """Assign a warning to a unit: its proactive demand, dispatched to the chosen unit; go to it."""
    def done(warning, demand):
        messages.success(request, _("Proactive demand %(number)s opened and dispatched to %(unit)s.")
                         % {"number": demand.number, "unit": demand.lead_unit.name})
        return redirect(reverse("demands:detail", args=[demand.number]))

    unit, note = request.POST.get("unit", "").strip(), request.POST.get("note", "")
    return _on_warning(request, warning_id, lambda w: services.assign_warning(request.user, w, unit, note=note), done)


@page
@require_POST
def dismiss_warning(request, warning_id: int):
    """Dismiss a warning with a reason; back to the page it was dismissed from."""
    def done(warning, _result):
        messages.success(request, _("Warning dismissed."))
        return redirect(_back(request, warning))

    reason = request.POST.get("reason", "")
    return _on_warning(request, warning_id, lambda w: services.dismiss_warning(request.user, w, reason=reason), done)


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
    title = request.POST.get("title", "")[:120]
    try:
        topic = opener(request.user, subject, title=title)
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
