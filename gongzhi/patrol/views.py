"""Patrol pages, phone first: 今日巡查 (today's stops on a map, a check-in at each, findings with photos,
queued on the phone when offline), the demands to verify, and the plans of a grid. The check-in and the
finding answer JSON to the page's script (Accept: application/json) and redirect a plain form post."""

import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.core import clock, policy
from gongzhi.core.errors import DomainError, ValidationFailed
from gongzhi.core.pages import action, page, refusal
from gongzhi.demands import photos as demand_photos
from gongzhi.demands import queries as demand_queries
from gongzhi.demands import rules as demand_rules
from gongzhi.demands.models import DemandEvent
from gongzhi.org.models import Building

from . import queries, services
from .forms import CheckInForm, FindingForm, NotDoneForm, PlaceForm, PlanForm, VerifyForm


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(request, error, fallback):
    """A refusal: JSON for the page's script, else the message on the page it came from."""
    if _wants_json(request):
        if isinstance(error, DomainError):
            return JsonResponse(error.as_dict(), status=error.status)
        return JsonResponse({"code": "invalid", "message": _("Check the form: nothing was saved."),
                             "fields": error}, status=400)
    messages.error(request, error.message() if isinstance(error, DomainError) else
                   _("Check the form: nothing was saved."))
    return redirect(fallback)


def _photos(request) -> list[bytes]:
    return [demand_photos.read_upload(f) for f in request.FILES.getlist("photos")]


@page
def today(request):
    """今日巡查: the stops of today's patrol in the worker's grids, the map, the finding form."""
    user = request.user
    tasks = queries.today_tasks(user)
    only_left = request.GET.get("left") == "1"
    shown = [t for t in tasks if t.done is None] if only_left else tasks
    points = [{"id": t.pk, "name": t.name, "lon": t.longitude, "lat": t.latitude, "done": t.done is not None}
              for t in shown if t.longitude is not None]
    context = {
        "tasks": shown, "total": len(tasks), "left": sum(1 for t in tasks if t.done is None),
        "only_left": only_left, "grids": list(queries.worked_grids(user)), "today": clock.today(),
        "to_verify": queries.to_verify(user).count(),
        "findings": list(queries.findings(user)), "points": points, "finding_form": FindingForm(),
        "new_key": uuid.uuid4().hex, "may_manage": policy.can(user, "patrol.manage"),
        "radius": int(services.check_in_radius_m()),
    }
    return render(request, "patrol/today.html", context)


@action
def check_in(request, patrol_task_id):
    task = queries.get_task(request.user, patrol_task_id)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _refused(request, form.errors, "patrol:today")
    data = form.cleaned_data
    try:
        row, created = services.check_in(
            request.user, task, client_key=data["client_key"], longitude=data["longitude"],
            latitude=data["latitude"], accuracy=data["accuracy"], recorded_at=data["recorded_at"],
            note=data["note"])
    except DomainError as error:
        return _refused(request, error, "patrol:today")
    if _wants_json(request):
        return JsonResponse({"task": task.pk, "created": created, "flagged": row.is_flagged,
                             "distance": round(row.distance) if row.distance is not None else None,
                             "recorded_at": row.recorded_at.isoformat()}, status=201 if created else 200)
    messages.success(request, _("Checked in at %(place)s.") % {"place": task.name})
    return redirect("patrol:today")


def finding_state(row) -> str:
    """A finding's demand in words, as the list of today's findings shows it."""
    if row.solved_on_the_spot:
        return _("solved on the spot · closed")
    if row.demand.state == demand_rules.RECEIVED:
        return _("submitted")
    return f'{_("submitted")} · {row.demand.get_state_display()}'


@action
def finding(request):
    form = FindingForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, form.errors, "patrol:today")
    data = form.cleaned_data
    try:
        task = queries.get_task(request.user, data["task"]) if data["task"] else None
        row, created = services.record_finding(
            request.user, client_key=data["client_key"], text=data["text"], solved=data["solved"],
            solution=data["solution"], longitude=data["longitude"], latitude=data["latitude"],
            photos=_photos(request), recorded_at=data["recorded_at"], task=task)
    except DomainError as error:
        return _refused(request, error, "patrol:today")
    if _wants_json(request):
        return JsonResponse({"number": row.demand.number, "created": created, "solved": row.solved_on_the_spot,
                             "url": reverse("demands:detail", args=[row.demand.number]),
                             "state": finding_state(row), "recorded_at": row.recorded_at.isoformat()},
                            status=201 if created else 200)
    messages.success(request, _("Recorded as demand %(number)s.") % {"number": row.demand.number})
    return redirect("patrol:today")


@page
def verify_list(request):
    demands = list(queries.to_verify(request.user))
    # Reported not done (未办好) since the last reply: still replied until the desk reopens it.
    failed = {e.demand_id for e in DemandEvent.objects.filter(demand__in=demands, action="verify_failed")
              .select_related("demand") if e.at >= (e.demand.replied_at or e.demand.received_at)}
    return render(request, "patrol/verify_list.html", {"demands": demands, "reported_not_done": failed})


@page
def verify(request, number):
    """A demand to verify: its reply and photos, and the form (note, photos of the place)."""
    demand = demand_queries.get_visible(request.user, number)
    error, status = None, 200
    form, not_done_form = VerifyForm(), NotDoneForm()
    if request.method == "POST":
        failed = request.POST.get("outcome") == "not_done"  # 未办好: the second form of the page
        if failed:
            not_done_form = NotDoneForm(request.POST, request.FILES)
        else:
            form = VerifyForm(request.POST, request.FILES)
        bound = not_done_form if failed else form
        if bound.is_valid():
            try:
                if failed:
                    services.report_not_done(request.user, demand, note=bound.cleaned_data["note"],
                                             photos=_photos(request))
                else:
                    services.verify(request.user, demand, note=bound.cleaned_data["note"], photos=_photos(request))
            except DomainError as refused:
                error, status = refusal(refused), refused.status
            else:
                messages.success(request, (_("Demand %(number)s: recorded as not done; the dispatch desk is asked "
                                             "to reopen it.") if failed else _("Demand %(number)s verified."))
                                 % {"number": demand.number})
                return redirect("patrol:verify_list")
        else:
            error, status = {"message": _("Check the form: nothing was saved.")}, 400
    context = {"demand": demand, "form": form, "not_done_form": not_done_form, "error": error,
               "failed_already": demand.state == demand_rules.REPLIED and demand.events.filter(
                   action="verify_failed", at__gte=demand.replied_at or demand.received_at).exists(),
               "may_verify": demand.state == demand_rules.REPLIED and policy.can(request.user, "demands.verify", demand),
               "photos": demand_photos.visible(request.user, demand)}
    return render(request, "patrol/verify.html", context, status=status)


# --- plans -------------------------------------------------------------------------------------------------

def _plans_page(request, grid, *, place_form=None, plan_form=None, error=None, status=200):
    grids = list(queries.managed_grids(request.user))
    context = {"grids": grids, "grid": grid, "error": error}
    if grid is not None:
        buildings = list(Building.objects.filter(grid=grid).order_by("name"))
        places = list(queries.places([grid]))
        points = [{"name": b.name, "lon": b.longitude, "lat": b.latitude, "kind": "building"}
                  for b in buildings if b.longitude is not None]
        points += [{"name": p.name, "lon": p.longitude, "lat": p.latitude, "kind": "place"} for p in places]
        context.update({
            "plans": queries.plans([grid]), "places": places, "points": points,
            "place_form": place_form or PlaceForm(initial={"grid": grid.pk}, auto_id="place_%s"),
            "plan_form": plan_form or PlanForm(initial={"grid": grid.pk, "start_date": clock.today()},
                                               buildings=buildings, places=places),
        })
    return render(request, "patrol/plans.html", context, status=status)


@page
def plans(request):
    grids = queries.managed_grids(request.user)
    grid_id = request.GET.get("grid")
    if grid_id:
        if not grid_id.isdigit():
            raise ValidationFailed(_("grid must be a number"), code="invalid_grid")
        grid = queries.get_managed_grid(request.user, int(grid_id))
    else:  # the first grid with a plan in use, else the first
        grid = grids.filter(patrol_plans__is_active=True).first() or grids.first()
    return _plans_page(request, grid)


def _plans_url(grid) -> str:
    return f"{reverse('patrol:plans')}?grid={grid.pk}"


def _posted_grid(request):
    """The grid a posted form names: one the user manages (404 for any other), or None when not a number."""
    value = request.POST.get("grid", "")
    return queries.get_managed_grid(request.user, int(value)) if value.isdigit() else None


@action
def add_place(request):
    form = PlaceForm(request.POST, auto_id="place_%s")
    grid = _posted_grid(request)
    if grid is None or not form.is_valid():
        return _plans_page(request, grid, place_form=form, error={"message": _("Check the form: nothing was saved.")},
                           status=400)
    data = form.cleaned_data
    try:
        services.add_place(request.user, grid, name=data["name"], longitude=data["longitude"],
                           latitude=data["latitude"])
    except DomainError as refused:
        return _plans_page(request, grid, place_form=form, error=refusal(refused), status=refused.status)
    messages.success(request, _("Place %(name)s added.") % {"name": data["name"]})
    return redirect(_plans_url(grid))


@action
def add_plan(request):
    grid = _posted_grid(request)
    buildings = list(Building.objects.filter(grid=grid).order_by("name")) if grid else []
    places = list(queries.places([grid])) if grid else []
    form = PlanForm(request.POST, buildings=buildings, places=places)
    if grid is None or not form.is_valid():
        return _plans_page(request, grid, plan_form=form, error={"message": _("Check the form: nothing was saved.")},
                           status=400)
    data = form.cleaned_data
    try:
        services.create_plan(request.user, grid, name=data["name"], buildings=data["buildings"],
                             places=data["places"], every_days=data["every_days"], weekdays=data["weekdays"],
                             start_date=data["start_date"])
    except DomainError as refused:
        return _plans_page(request, grid, plan_form=form, error=refusal(refused), status=refused.status)
    messages.success(request, _("Plan %(name)s added.") % {"name": data["name"]})
    return redirect(_plans_url(grid))


@action
def end_plan(request, plan_id):
    plan = queries.get_plan(request.user, plan_id)
    services.end_plan(request.user, plan)
    messages.success(request, _("Plan %(name)s stopped.") % {"name": plan.name})
    return redirect(_plans_url(plan.grid))
