"""duties pages for people: an overview of a village or community, its power list (权力清单) with the
decisions recorded under it, its responsibility list (责任清单), its goals and tasks with their computed
status and progress chart, scorecards and residents' evaluation, and the matching board (三单制).

Reading needs no sign-in and shows no person's name or phone: the lists, decisions, goals and boards are
published (open government); people appear as their units. Acting needs sign-in: a view calls one use case
in services; refused, the page comes back with the reason and the refusal's status, and nothing has changed.
"""

import functools

from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.core import clock, policy
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pages import action, get_or_not_found, public, refusal, submit
from gongzhi.org.models import Organisation, Person, Region

from . import forms, matters, queries, services
from . import forms as forms_module  # the pages' local "forms" (the forms kept to show again) shadows the module
from .models import Decision, Goal, Match, PowerItem, Project, Responsibility, Scorecard, Task

UNSERVED_KEY = "duties.unserved.{}"  # the last matching run's unserved needs, per place, in the session


def _in_chinese() -> bool:
    return (get_language() or "").startswith("zh")












def _region(request) -> Region:
    """The place asked for (?region=ID), else the user's own."""
    raw = request.GET.get("region", "")
    if raw:
        region = queries.region_or_none(int(raw)) if raw.isdigit() else None
        if region is None:
            raise NotFound(_("region %(raw)s") % {"raw": raw})
        return region
    region = queries.default_region(request.user)
    if region is None:
        raise NotFound(_("no village or community yet"))
    return region


def _url(name: str, region: Region, anchor: str = "", args=()) -> str:
    return f"{reverse(f'duties:{name}', args=args)}?region={region.pk}" + (f"#{anchor}" if anchor else "")


def _may(user, region: Region) -> dict:
    return {name: policy.can(user, f"duties.{name}", region)
            for name in ("manage", "decide", "plan", "evaluate_units", "match", "evaluate")}


def _base(request, region: Region, section: str, *, error=None) -> dict:
    return {"region": region, "section": section, "may": _may(request.user, region), "error": refusal(error),
            "places": queries.places(),
            "signed_in": request.user.is_authenticated}


# ---------------------------------------------------------------------------------------------
# Overview


@public
def index(request):
    region = _region(request)
    context = {**_base(request, region, "index"), "counts": queries.overview(region)}
    return render(request, "duties/index.html", context)


# ---------------------------------------------------------------------------------------------
# The power list and its decisions


def _decision_form(region: Region, item_id: int, data=None, units=None):
    return forms.DecisionForm(data, topics=queries.procedure_topics(region),
                              signatories=queries.signatory_choices(_in_chinese()), auto_id=f"item{item_id}_%s",
                              units=units)


def _plan_units(user, region: Region):
    """The units an officer may name responsible for a project here: those of the place or above it that the
    officer's posts let them see (the service checks the same, and answers an unknown one like a missing id)."""
    units = list(queries.units_for(region))
    return queries.units_for(region).filter(pk__in=[u.pk for u in units if policy.can(user, "org.view", u)])


def _in_form(form, call):
    """`call`, and a refusal also written on the form (non-field error), where the officer is looking: the
    power list is long, and its notice at the top is out of sight."""

    def wrapped(data):
        try:
            return call(data)
        except DomainError as refused:
            form.add_error(None, refused.message())
            raise

    return wrapped


def _plan(data) -> "services.ProjectPlan | None":
    """The project plan typed with a decision (none when no unit was named)."""
    if not data.get("unit"):
        return None
    return services.ProjectPlan(unit=data["unit"], budget=data.get("budget"), milestones=tuple(
        services.Milestone(title, deadline, standard) for title, deadline, standard in data["milestones"]))


def _edit_form(row: PowerItem, data=None):
    return forms.PowerItemForm(data, initial={"definition": row.definition}, auto_id=f"edit{row.pk}_%s")


# The power list shows an officer two forms under each of its ~50 items. Rendering 100 Django forms took most of
# the page's 170-450 ms (and the topic choices were read once per form): the blank forms are rendered once, for a
# stand-in item, and stamped with each item's id (and, for the edit form, its definition). The HTML is the same
# as rendering each form (test_views checks it); a form sent back with errors is rendered as it is.
STAND_IN = 2718281828  # an item id no place has: the stamp's placeholder in ids and URLs
STAND_IN_DEFINITION = "stand-in definition"


def _blank_forms(request, region: Region, may: dict) -> tuple[str, str]:
    csrf = {"csrf_token": get_token(request)}
    decision = edit = ""
    if may["decide"]:
        units = _plan_units(request.user, region) if may["plan"] else None
        form = _decision_form(region, STAND_IN, units=units)
        decision = render_to_string("duties/_decision_form.html", {
            **csrf, "form": form, "item_id": STAND_IN, "milestones": forms.milestone_rows(form)})
    if may["manage"]:
        form = forms.PowerItemForm(initial={"definition": STAND_IN_DEFINITION}, auto_id=f"edit{STAND_IN}_%s")
        edit = render_to_string("duties/_edit_item_form.html", {**csrf, "form": form, "item_id": STAND_IN})
    return decision, edit


def _stamp(blank: str, row: PowerItem, definition: bool = False) -> str:
    html = blank.replace(str(STAND_IN), str(row.pk))
    if definition:
        field = forms.PowerItemForm.base_fields["definition"]
        html = html.replace(escape(field.prepare_value(STAND_IN_DEFINITION)), escape(field.prepare_value(row.definition)))
    return mark_safe(html)  # noqa: S308 - rendered by Django's templates, escaped there; the definition escaped here


def _powers_page(request, region: Region, *, forms=None, error=None, status=200):
    forms = forms or {}
    context = _base(request, region, "powers", error=error)
    groups = queries.power_list(region, _in_chinese())
    blank_decision, blank_edit = _blank_forms(request, region, context["may"])
    for group in groups:
        for item in group["items"]:
            row = item["row"]
            item["form"] = forms.get(f"decision-{row.pk}")
            item["form_html"] = _stamp(blank_decision, row) if blank_decision and not item["form"] else ""
            item["edit_form"] = forms.get(f"edit-{row.pk}")
            item["edit_form_html"] = (_stamp(blank_edit, row, definition=True) if blank_edit and not item["edit_form"]
                                      else "")
            if item["form"]:
                item["milestones"] = forms_module.milestone_rows(item["form"])
    decisions = queries.decisions(region, _in_chinese())
    _with_projects(request, decisions, forms, context["may"]["plan"])
    context.update(groups=groups, decisions=decisions,
                   disclosures_url=f"{reverse('deliberation:disclosures')}?region={region.pk}")
    return render(request, "duties/powers.html", context, status=status)


def _milestones(project: Project, chinese: bool) -> list[dict]:
    return [{"task": t, "status": queries.status_of(services.task_status(t), chinese)}
            for t in project.tasks.order_by("deadline", "id")]


def _with_projects(request, decisions: list[dict], kept: dict, may_plan: bool) -> None:
    """Each decision with the project it started (unit, budget, milestones with their status in words) and its
    case file; a decision approving an amount without a project offers the officer "start its project"."""
    rows = {d["decision"].pk: d for d in decisions}
    projects = Project.objects.filter(decision_id__in=rows).select_related("unit", "goal")
    found = {p.decision_id: p for p in projects}
    cases = {}
    for decision in Decision.objects.filter(pk__in=rows).prefetch_related("cases"):
        cases[decision.pk] = list(decision.cases.all())
    chinese, units = _in_chinese(), None
    for pk, row in rows.items():
        project = found.get(pk)
        row["project"] = project
        row["milestones"] = _milestones(project, chinese) if project else []
        row["cases"] = cases.get(pk, [])
        row["start_form"] = None
        if project is None and may_plan and row["decision"].amount:
            if units is None:
                units = _plan_units(request.user, row["decision"].item.region)
            form = kept.get(f"project-{pk}") or _start_form(row["decision"], units)
            row["start_form"], row["start_milestones"] = form, forms_module.milestone_rows(form)


def _start_form(decision: Decision, units, data=None):
    return forms_module.StartProjectForm(data, units=units, auto_id=f"project{decision.pk}_%s",
                                         initial={"budget": decision.amount})


@action
def edit_power_item(request, item_id: int):
    """An officer edits an item of the place's power list (its thresholds, procedure, disclosures)."""
    item = get_or_not_found(PowerItem, item_id)
    form = _edit_form(item, request.POST)

    def call(data):
        return services.edit_power_item(request.user, item, data["definition"])

    return submit(request, call, form=form, name=f"edit-{item.pk}",
                   page=lambda **kw: _powers_page(request, item.region, **kw),
                   done=lambda row: (_("The item is changed; the change is logged."),
                                     _url("powers", row.region, f"item-{row.pk}")))


@public
def powers(request):
    return _powers_page(request, _region(request))


@action
def adopt_power_list(request):
    region = _region(request)
    return submit(request, lambda _data: services.adopt_power_list(request.user, region),
                   page=lambda **kw: _powers_page(request, region, **kw),
                   done=lambda items: (ngettext("The preset power list is adopted: %(n)d item.",
                                                "The preset power list is adopted: %(n)d items.",
                                                len(items)) % {"n": len(items)}, _url("powers", region)))


@action
def record_decision(request, item_id: int):
    item = get_or_not_found(PowerItem, item_id)
    region = item.region
    may_plan = policy.can(request.user, "duties.plan", region)
    form = _decision_form(region, item.pk, request.POST, units=_plan_units(request.user, region) if may_plan else None)

    def call(data):
        # One submit, one transaction: the decision, and the project it starts when a unit was named.
        return services.record_decision(request.user, item, title=data["title"], amount=data["amount"],
                                        topic=data["topic"], signatories=data["signatories"], details=data["details"],
                                        project=_plan(data))

    call = _in_form(form, call)

    def done(decision):
        notice = _("The decision is recorded.")
        if decision.disclosure_id:
            link = (f"{reverse('deliberation:disclosures')}?region={region.pk}"
                    f"#disclosure-{decision.disclosure_id}")
            notice = format_html('{} <a href="{}">{}</a>', notice, link,
                                 _("It is published on the disclosure board."))
        if getattr(decision, "project", None) is not None:
            notice = format_html("{} {}", notice, _("Its project is started, with its milestones."))
        return notice, _url("powers", region, f"decision-{decision.pk}")

    return submit(request, call, form=form, name=f"decision-{item.pk}",
                   page=lambda **kw: _powers_page(request, region, **kw), done=done)


@action
def start_project(request, decision_id: int):
    """立项: start the project of a decision already recorded that approves an amount."""
    decision = get_or_not_found(Decision, decision_id)
    region = decision.item.region
    form = _start_form(decision, _plan_units(request.user, region), request.POST)
    call = _in_form(form, lambda data: services.start_project(request.user, decision, _plan(data)))
    return submit(request, call,
                   form=form, name=f"project-{decision.pk}",
                   page=lambda **kw: _powers_page(request, region, **kw),
                   done=lambda project: (_("The project is started, with its milestones."),
                                         _url("powers", region, f"decision-{decision.pk}")))


# ---------------------------------------------------------------------------------------------
# The responsibility list


def _responsibility_form(region: Region, entry: Responsibility | None = None, data=None):
    initial = None
    if entry is not None:
        initial = {"unit": entry.unit_id, "role": entry.role, "matters": ", ".join(entry.matters),
                   "duty": entry.duty, "priority": entry.priority}
    return forms.ResponsibilityForm(data, initial=initial, units=queries.units_for(region),
                                    auto_id=f"entry{entry.pk}_%s" if entry is not None else "id_%s")


def _responsibilities_page(request, region: Region, *, forms=None, error=None, status=200):
    forms = forms or {}
    context = _base(request, region, "responsibilities", error=error)
    manage = context["may"]["manage"]
    rows = list(queries.responsibilities(region))
    names = matters.names(code for e in rows for code in e.matters)
    chinese = _in_chinese()
    entries = [{"entry": e, "matters": [{"code": code, "name": names[code][0 if chinese else 1] if code in names
                                         else ""} for code in e.matters],
                "form": forms.get(f"edit-{e.pk}") or (_responsibility_form(region, e) if manage else None)}
               for e in rows]
    context.update(entries=entries, add_form=forms.get("add") or (_responsibility_form(region) if manage else None))
    return render(request, "duties/responsibilities.html", context, status=status)


@public
def responsibilities(request):
    return _responsibilities_page(request, _region(request))


def _set_responsibility(request, region: Region, form, entry=None):
    """Add an entry for the place shown, or change one (which keeps the place it was made for)."""
    where = entry.region if entry is not None else region

    def call(data):
        return services.set_responsibility(request.user, unit=data["unit"], region=where, matters=data["matters"],
                                           duty=data["duty"], priority=data["priority"] or 0, role=data["role"],
                                           entry=entry)

    return submit(request, call, form=form, name=f"edit-{entry.pk}" if entry else "add",
                   page=lambda **kw: _responsibilities_page(request, region, **kw),
                   done=lambda saved: (_("The responsibility list is saved; demands are now routed by it."),
                                       _url("responsibilities", region, f"entry-{saved.pk}")))


@action
def add_responsibility(request):
    region = _region(request)
    return _set_responsibility(request, region, _responsibility_form(region, data=request.POST))


@action
def edit_responsibility(request, entry_id: int):
    entry = get_or_not_found(Responsibility, entry_id)
    region = _region(request)
    return _set_responsibility(request, region, _responsibility_form(region, entry, request.POST), entry)


@action
def retire_responsibility(request, entry_id: int):
    entry = get_or_not_found(Responsibility, entry_id)
    region = _region(request)
    return submit(request, lambda _data: services.retire_responsibility(request.user, entry),
                   page=lambda **kw: _responsibilities_page(request, region, **kw),
                   done=lambda _e: (_("The entry is retired; its demands are routed as before it."),
                                    _url("responsibilities", region)))


# ---------------------------------------------------------------------------------------------
# Goals and tasks


def _goal_form(region: Region, data=None):
    today = clock.today()
    return forms.GoalForm(data, units=queries.units_for(region),
                          goals=Goal.objects.filter(region__path__startswith=region.path),
                          live_indicators=queries.live_indicator_choices(_in_chinese()),
                          initial={"start_date": today})


def _review_form(region: Region, data=None):
    return forms.ReviewForm(data, goals=Goal.objects.filter(region__path__startswith=region.path),
                            initial={"held_on": clock.today()}, auto_id="review_%s")


def _goals_page(request, region: Region, *, forms=None, error=None, status=200):
    forms = forms or {}
    context = _base(request, region, "goals", error=error)
    plan = context["may"]["plan"]
    tree, task_nodes = queries.goal_tree(region, _in_chinese())
    context.update(tree=tree, reviews=queries.reviews(region), statuses=queries.status_legend(_in_chinese()),
                   goal_form=forms.get("goal") or (_goal_form(region) if plan else None),
                   review_form=forms.get("review") or (_review_form(region) if plan else None))
    return render(request, "duties/goals.html", context, status=status)


@public
def goals(request):
    return _goals_page(request, _region(request))


@action
def create_goal(request):
    region = _region(request)

    def call(data):
        return services.create_goal(request.user, region=region, title=data["title"], indicator=data["indicator"],
                                    start_value=data["start_value"], target_value=data["target_value"],
                                    direction=data["direction"], start_date=data["start_date"],
                                    deadline=data["deadline"], owner=data["owner"],
                                    unit_of_measure=data["unit_of_measure"], live_indicator=data["live_indicator"],
                                    parent=data["parent"])

    return submit(request, call, form=_goal_form(region, request.POST), name="goal",
                   page=lambda **kw: _goals_page(request, region, **kw),
                   done=lambda goal: (_("The goal is set; its status is computed from the progress reported."),
                                      reverse("duties:goal", args=[goal.pk])))


@action
def hold_review(request):
    region = _region(request)

    def call(data):
        return services.hold_review(request.user, region=region, held_on=data["held_on"],
                                    participants=data["participants"], conclusions=data["conclusions"],
                                    goals=list(data["goals"]))

    return submit(request, call, form=_review_form(region, request.POST), name="review",
                   page=lambda **kw: _goals_page(request, region, **kw),
                   done=lambda review: (_("The review meeting is recorded."),
                                        _url("goals", region, f"review-{review.pk}")))


def _task_form(goal: Goal, data=None):
    return forms.TaskForm(data, units=queries.units_for(goal.region), tasks=goal.tasks.all(), auto_id="task_%s")


def _complete_form(task: Task, data=None):
    return forms.CompleteTaskForm(data, auto_id=f"done{task.pk}_%s")


def _with_complete_forms(request, task_nodes, forms) -> None:
    """Give each open task the user may report on its "done" form."""
    for node in task_nodes:
        task = node["task"]
        if not task.completed_at and policy.can(request.user, "duties.report_progress", task):
            node["form"] = forms.get(f"done-{task.pk}") or _complete_form(task)


def _goal_page(request, goal: Goal, *, forms=None, error=None, status=200):
    forms = forms or {}
    region = goal.region
    context = _base(request, region, "goals", error=error)
    plan = context["may"]["plan"]
    detail = queries.goal_detail(goal, _in_chinese())
    detail["chart"]["texts"] = {"reported": _("Reported"), "expected": _("Expected path"), "today": _("Today")}
    detail["chart"]["today"] = clock.today().isoformat()
    _with_complete_forms(request, detail["task_nodes"], forms)
    project = Project.objects.filter(goal=goal).select_related("decision__item", "unit").first()
    context.update(project=project, project_cases=list(project.decision.cases.all()) if project and project.decision_id
                   else [], goal=goal, **detail, reviews=queries.reviews(goal=goal),
                   progress_form=forms.get("progress") or (_progress_form() if plan else None),
                   task_form=forms.get("task") or (_task_form(goal) if plan else None))
    return render(request, "duties/goal.html", context, status=status)


def _progress_form(data=None):
    return forms.ProgressForm(data, auto_id="progress_%s")


@public
def goal(request, goal_id: int):
    return _goal_page(request, get_or_not_found(Goal, goal_id))


@action
def report_progress(request, goal_id: int):
    found = get_or_not_found(Goal, goal_id)

    def call(data):
        return services.report_progress(request.user, goal=found, value=data["value"], note=data["note"],
                                        evidence=data["evidence"])

    return submit(request, call, form=_progress_form(request.POST), name="progress",
                   page=lambda **kw: _goal_page(request, found, **kw),
                   done=lambda _r: (_("The progress is reported; the status is computed again."),
                                    reverse("duties:goal", args=[found.pk]) + "#progress"))


@action
def add_task(request, goal_id: int):
    found = get_or_not_found(Goal, goal_id)

    def call(data):
        return services.add_task(request.user, goal=found, title=data["title"], unit=data["unit"],
                                 deadline=data["deadline"], quality_standard=data["quality_standard"],
                                 parent=data["parent"])

    return submit(request, call, form=_task_form(found, request.POST), name="task",
                   page=lambda **kw: _goal_page(request, found, **kw),
                   done=lambda task: (_("The task is added."),
                                      reverse("duties:goal", args=[found.pk]) + f"#task-{task.pk}"))


@action
def complete_task(request, task_id: int):
    """The task's unit reports it done (an officer may also check its quality): back to its goal's page, or
    to the matching board for a project's task."""
    task = get_or_not_found(Task, task_id)
    form = _complete_form(task, request.POST)
    if task.goal_id:
        page = functools.partial(_goal_page, request, task.goal)
        url = reverse("duties:goal", args=[task.goal_id]) + f"#task-{task.pk}"
    else:
        page = functools.partial(_matching_page, request, task.project.region)
        url = _url("matching", task.project.region, f"task-{task.pk}")
    return submit(request, lambda data: services.complete_task(request.user, task, quality_met=form.quality_met(),
                                                                note=data["note"]),
                   form=form, name=f"done-{task.pk}", page=page,
                   done=lambda _t: (_("The task is reported done."), url))


# ---------------------------------------------------------------------------------------------
# Scorecards and residents' evaluation


def _scorecard_form(data=None):
    return forms.ScorecardForm(data, initial={"indicators": queries.scorecard_example()},
                               auto_id="card_%s")


def _compute_form(region: Region, data=None):
    today = clock.today()
    return forms.ComputeScoresForm(data, scorecards=Scorecard.objects.filter(region=region), auto_id="compute_%s",
                                   initial={"period_start": today.replace(month=1, day=1), "period_end": today})


def _evaluate_form(units, data=None):
    return forms.EvaluateForm(data, units=units, auto_id="evaluate_%s")


def _scorecards_page(request, region: Region, *, forms=None, error=None, status=200):
    forms = forms or {}
    context = _base(request, region, "scorecards", error=error)
    officer = context["may"]["evaluate_units"]
    units = queries.units_to_evaluate(request.user, region)
    context.update(
        scorecards=queries.scorecards(region, _in_chinese()),
        indicator_choices=queries.scorecard_indicator_choices(_in_chinese()),
        scorecard_form=forms.get("scorecard") or (_scorecard_form() if officer else None),
        compute_form=forms.get("compute") or (_compute_form(region) if officer else None),
        evaluate_form=forms.get("evaluate") or (_evaluate_form(units) if units else None))
    return render(request, "duties/scorecards.html", context, status=status)


@public
def scorecards(request):
    return _scorecards_page(request, _region(request))


@action
def define_scorecard(request):
    region = _region(request)
    form = _scorecard_form(request.POST)
    number = Scorecard.objects.filter(region=region).count() + 1
    return submit(request, lambda _data: services.define_scorecard(request.user, region, form.scorecard_data(number)),
                   form=form, name="scorecard", page=lambda **kw: _scorecards_page(request, region, **kw),
                   done=lambda card: (_("The scorecard is defined. Compute the scores for a period below."),
                                      _url("scorecards", region, f"scorecard-{card.pk}")))


@action
def compute_scores(request):
    region = _region(request)

    def call(data):
        return services.compute_scores(request.user, data["scorecard"], list(queries.units_in(region)),
                                       data["period_start"], data["period_end"])

    return submit(request, call, form=_compute_form(region, request.POST), name="compute",
                   page=lambda **kw: _scorecards_page(request, region, **kw),
                   done=lambda rows: (ngettext("%(n)d unit scored.", "%(n)d units scored.", len(rows))
                                      % {"n": len(rows)},
                                      _url("scorecards", region, "results")))


@action
def evaluate_unit(request):
    region = _region(request)
    form = _evaluate_form(Organisation.objects.filter(pk=request.POST.get("unit") or 0), request.POST)

    def call(data):
        return services.evaluate_unit(request.user, get_or_not_found(Organisation, data["unit"]), score=data["score"],
                                      comment=data["comment"])

    return submit(request, call, form=form, name="evaluate",
                   page=lambda **kw: _scorecards_page(request, region, **kw),
                   done=lambda _e: (_("Thank you: your evaluation is counted."), _url("scorecards", region)))


# ---------------------------------------------------------------------------------------------
# The matching board (三单制)


def _placed_initial(region: Region) -> dict:
    centre = queries.region_centre(region)
    return {"longitude": centre[0], "latitude": centre[1]} if centre else {}


def _need_form(region: Region, data=None, initial=None):
    return forms.NeedForm(data, initial=_placed_initial(region) if initial is None else initial, auto_id="need_%s")


def _resource_form(request, region: Region, data=None, initial=None):
    return forms.ResourceForm(data, units=queries.own_units(request.user, region),
                              initial=_placed_initial(region) if initial is None else initial, auto_id="resource_%s")


def _accept_form(match: Match, data=None):
    return forms.AcceptMatchForm(data, auto_id=f"accept{match.pk}_%s")


def _unserved(request, region: Region, needs) -> list[dict]:
    """The last proposal's unserved needs with their reasons (kept in the session: they are not stored)."""
    titles = {row["need"].pk: row["need"].title for row in needs}
    key = "message_zh" if _in_chinese() else "message_en"
    return [{"need": titles.get(u["need"], u["need"]), "reason": u[key], "served": u["served"],
             "quantity": u["quantity"]}
            for u in request.session.get(UNSERVED_KEY.format(region.pk), []) if u["need"] in titles]


def _matching_page(request, region: Region, *, forms=None, error=None, status=200, allocation=None):
    forms = forms or {}
    context = _base(request, region, "matching", error=error)
    match = context["may"]["match"]
    board = queries.matching_board(region)
    projects = queries.project_nodes(board["projects"], board["project_tasks"], _in_chinese())
    task_nodes = [node for p in projects for node in _flatten(p["tasks"])]
    _with_complete_forms(request, task_nodes, forms)
    for p in projects:
        p["form"] = forms.get(f"outcome-{p['project'].pk}") or (
            _outcome_form(p["project"]) if match and not p["project"].completed_at else None)
    resource_form, need_form = forms.get("resource"), forms.get("need")
    placed = _placed_initial(region) if (resource_form is None and request.user.is_authenticated) or (
        need_form is None and match) else {}  # the place's centre: one read for both blank forms
    if resource_form is None and request.user.is_authenticated:
        resource_form = _resource_form(request, region, initial=placed)
    context.update(
        needs=board["needs"], resources=board["resources"], projects=projects,
        proposed=[{"match": m, "form": forms.get(f"accept-{m.pk}") or (_accept_form(m) if match else None)}
                  for m in board["proposed"]],
        unserved=_unserved(request, region, board["needs"]),
        need_form=need_form or (_need_form(region, initial=placed) if match else None),
        resource_form=resource_form if resource_form is not None and resource_form.fields["owner"].queryset.exists()
        else None, allocation=allocation)
    return render(request, "duties/matching.html", context, status=status)


def _flatten(nodes):
    for node in nodes:
        yield node
        yield from _flatten(node["subtasks"])


def _outcome_form(project: Project, data=None):
    return forms.OutcomeForm(data, auto_id=f"outcome{project.pk}_%s")


@public
def matching(request):
    return _matching_page(request, _region(request))


@action
def publish_need(request):
    region = _region(request)

    def call(data):
        return services.publish_need(request.user, region=region, title=data["title"], skills=data["skills"],
                                     quantity=data["quantity"], urgency=data["urgency"],
                                     longitude=data["longitude"], latitude=data["latitude"], source="board")

    return submit(request, call, form=_need_form(region, request.POST), name="need",
                   page=lambda **kw: _matching_page(request, region, **kw),
                   done=lambda need: (_("The need is on the list."), _url("matching", region, f"need-{need.pk}")))


@action
def publish_resource(request):
    region = _region(request)

    def call(data):
        return services.publish_resource(request.user, owner=data["owner"], region=region, title=data["title"],
                                         offers=data["offers"], capacity=data["capacity"],
                                         longitude=data["longitude"], latitude=data["latitude"],
                                         max_distance_km=data["max_distance_km"])

    return submit(request, call, form=_resource_form(request, region, request.POST), name="resource",
                   page=lambda **kw: _matching_page(request, region, **kw),
                   done=lambda resource: (_("The resource is on the list."),
                                          _url("matching", region, f"resource-{resource.pk}")))


@action
def propose_grid_allocation(request):
    """Officers: the proposed grid-worker allocation, shown on the matching board (it changes no post)."""
    region = _region(request)
    try:
        result = services.propose_grid_allocation(request.user, region)
    except DomainError as refused:
        return _matching_page(request, region, error=refused, status=refused.status)
    names = dict(Person.objects.filter(pk__in=result.grids).values_list("pk", "name"))
    grid_names = dict(Region.objects.filter(pk__in=[g for gs in result.grids.values() for g in gs])
                      .values_list("pk", "name"))
    rows = [{"worker": names.get(w, w), "grids": [grid_names.get(g, g) for g in gs], "load": round(result.load[w], 1),
             "contiguous": result.is_contiguous[w]} for w, gs in result.grids.items()]
    return _matching_page(request, region, allocation={"rows": rows, "max_load": round(result.max_load, 1),
                                                       "lower_bound": round(result.lower_bound, 1)})


@action
def propose_matches(request):
    region = _region(request)

    def call(_data):
        rows, result = services.propose_matches(request.user, region)
        request.session[UNSERVED_KEY.format(region.pk)] = [
            {"need": u.need, "quantity": float(u.quantity), "served": float(u.served), "message_zh": u.message_zh,
             "message_en": u.message_en} for u in result.unserved]
        return rows, result

    def done(answer):
        rows, result = answer
        notice = ngettext("%(n)d match proposed.", "%(n)d matches proposed.", len(rows)) % {"n": len(rows)}
        if result.unserved:
            notice += " " + ngettext("%(n)d need is not fully served; the reason is below.",
                                     "%(n)d needs are not fully served; the reasons are below.",
                                     len(result.unserved)) % {"n": len(result.unserved)}
        return notice, _url("matching", region, "proposed")

    return submit(request, call, page=lambda **kw: _matching_page(request, region, **kw), done=done)


@action
def accept_match(request, match_id: int):
    found = get_or_not_found(Match, match_id)
    region = found.need.region

    def call(data):
        return services.accept_match(request.user, found, deadline=data["deadline"],
                                     quality_standard=data["quality_standard"])

    return submit(request, call, form=_accept_form(found, request.POST), name=f"accept-{found.pk}",
                   page=lambda **kw: _matching_page(request, region, **kw),
                   done=lambda m: (_("The match is accepted: a project with a task for the unit."),
                                   _url("matching", region, f"project-{m.project_id}")))


@action
def record_outcome(request, project_id: int):
    project = get_or_not_found(Project, project_id)
    region = project.region
    return submit(request, lambda data: services.record_project_outcome(request.user, project, data["outcome"]),
                   form=_outcome_form(project, request.POST), name=f"outcome-{project.pk}",
                   page=lambda **kw: _matching_page(request, region, **kw),
                   done=lambda p: (_("The outcome is recorded; the needs it served are closed."),
                                   _url("matching", region, f"project-{p.pk}")))
