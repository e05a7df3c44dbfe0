"""care pages, phone first: the care register with visits due (grid worker, community office), a building's
page for its lead (households masked as the role allows, open demands, notices, 代办), a household's page
with its visits. A view parses, calls a query or a service, renders; a domain error is its 4xx page."""

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import policy
from gongzhi.core.errors import DomainError, PermissionDenied, ValidationFailed
from gongzhi.core.pages import page
from gongzhi.core.scrub import scrub
from gongzhi.demands import photos as demand_photos
from gongzhi.demands import queries as demand_queries
from gongzhi.demands.forms import category_name

from . import queries, rules, services
from .forms import EndRegistrationForm, NoticeForm, OnBehalfForm, RegisterForm, VisitForm
from .models import CareRegistration
from .permissions import places

TEXT_SHOWN = 80  # characters of a demand's scrubbed text on a building's list


def _uploads(request) -> list[bytes]:
    return [demand_photos.read_upload(f) for f in request.FILES.getlist("photos")]


def _status(request) -> str | None:
    wanted = request.GET.get("status") or None
    return wanted if wanted in queries.STATUSES else None


@page
def home(request):
    """The care register (重点关爱对象) with each person's last visit and next due day, overdue first; a building
    lead, who keeps no register, goes to their building."""
    user = request.user
    if not policy.can(user, "care.view"):
        _paths, led = places(user, "care.view_building")
        if led:
            return redirect("care:building", led[0])
        raise PermissionDenied(_("The care register is kept by the community office and the grid workers."))
    status = _status(request)
    grid = request.GET.get("grid")
    grid = int(grid) if grid and grid.isdigit() else None  # a grid out of the user's scope: 404 (care_rows)
    rows = queries.care_rows(user, status=status, grid=grid)
    everyone = rows if status is None else queries.care_rows(user, grid=grid, with_cards=False)
    counts = {s: sum(1 for r in everyone if r.status == s) for s in queries.STATUSES}
    return render(request, "care/home.html", {
        "rows": rows, "status": status, "counts": counts, "total": len(everyone),
        "OVERDUE": rules.OVERDUE, "THIS_WEEK": rules.THIS_WEEK,
        "buildings": queries.buildings(user)[:200]})


@page
def buildings(request):
    found = list(queries.buildings(request.user)[:500])
    if not found and not policy.can(request.user, "care.view_building"):
        raise PermissionDenied(_("Only building leads, grid workers and the community office open buildings here."))
    return render(request, "care/buildings.html", {"buildings": found})


def _building_context(user, building) -> dict:
    return {
        "building": building,
        "may_notice": policy.can(user, "care.post_notice", building),
        "may_file": policy.can(user, "care.file_on_behalf", building),
        "may_visit": policy.can(user, "care.visit", building),
        "open_count": queries.open_demands(building).count(),
        "notice_count": queries.notices(building).count(),
    }


@page
def building(request, building_id: int):
    """A building's page (楼栋): its households and members as the user may see them, what is open, notices."""
    user = request.user
    found = queries.building_for(user, building_id)
    return render(request, "care/building.html", {
        **_building_context(user, found),
        "households": queries.households(user, found),
        "notices": list(queries.notices(found)[:3]),
    })


@page
def building_demands(request, building_id: int):
    """Exactly the building's open demands (the count on the lead's home links here), as the public list shows
    them (category, state, scrubbed text); the lead's own filings (代办 included) link to their page."""
    user = request.user
    found = queries.building_for(user, building_id)
    demands = list(queries.open_demands(found)[:200])
    linked = set(demand_queries.visible(user).filter(pk__in=[d.pk for d in demands]).values_list("pk", flat=True))
    rows = []
    for demand in demands:
        rows.append({"demand": demand, "category": category_name(demand.category),
                     "text": scrub(demand.text)[:TEXT_SHOWN], "mine": demand.reporter_user_id == user.pk,
                     "on_behalf": demand.reporter_user_id == user.pk and demand.reporter_id is not None
                     and getattr(demand.reporter, "user_id", None) != user.pk,
                     "linked": demand.pk in linked})
    return render(request, "care/building_demands.html", {**_building_context(user, found), "rows": rows})


@page
def notices(request, building_id: int):
    """Notices to a building: read by those who may open its page; posted by its lead or the community office."""
    user = request.user
    found = queries.building_for(user, building_id)
    form, error, status = NoticeForm(), None, 200
    if request.method == "POST":
        form = NoticeForm(request.POST)
        if form.is_valid():
            try:
                services.post_notice(user, building=found, text=form.cleaned_data["text"])
            except DomainError as refused:
                error, status = refused.message(), refused.status
            else:
                messages.success(request, _("Notice posted: the residents with accounts read it under 'Where I live'."))
                return redirect("care:notices", found.pk)
        else:
            error, status = _("Check the form: nothing was saved."), 400
    return render(request, "care/notices.html", {
        **_building_context(user, found), "form": form, "error": error,
        "notices": list(queries.notices(found)[:50])}, status=status)


@page
def on_behalf(request, building_id: int):
    """代办: the building lead files a demand for a resident of the building without a phone."""
    user = request.user
    found = queries.building_for(user, building_id, "care.file_on_behalf")
    members = queries.members(user, found)
    form, error, status = OnBehalfForm(members=members), None, 200
    if request.method == "POST":
        form = OnBehalfForm(request.POST, request.FILES, members=members)
        if form.is_valid():
            data = form.cleaned_data
            try:
                step = services.file_on_behalf(user, building=found, person=data["person"], text=data["text"],
                                               photos=_uploads(request))
            except DomainError as refused:
                error, status = refused.message(), refused.status
            else:
                number = step.demand.number
                messages.success(request, format_html(
                    _("Filed for the resident as demand {}: you follow it under 'My demands' and pass on the answer."),
                    format_html('<a href="{}">{}</a>', reverse("demands:detail", args=[number]), number)))
                return redirect("care:building_demands", found.pk)
        else:
            error, status = _("Check the form: nothing was saved."), 400
    return render(request, "care/on_behalf.html", {**_building_context(user, found), "form": form, "error": error},
                  status=status)


def _visits_as_seen(household, members) -> list:
    """The household's visits, the person visited named as the user sees them (their card)."""
    cards = {m["person"].pk: m["card"] for m in members}
    visits = queries.household_visits(household)
    for v in visits:
        v.person_label = cards[v.person_id].name if v.person_id in cards else ""
    return visits


def _chosen(request, members) -> int | None:
    """?person=<id> (登记走访 on the care list): the person to preselect in the visit form, who must be a member
    of this household as the user sees it (400 otherwise)."""
    value = request.GET.get("person")
    if not value:
        return None
    if not value.isdigit() or int(value) not in {m["person"].pk for m in members}:
        raise ValidationFailed(_("This person is not a member of the household."), code="not_a_member")
    return int(value)


def _household_page(request, household, *, visit_form=None, register_form=None, error=None, status=200):
    user = request.user
    members = [m for h in queries.households(user, household.building) if h["household"].pk == household.pk
               for m in h["members"]]
    context = {
        "household": household, "building": household.building, "members": members,
        "rows": queries.care_rows(user, household=household.pk),
        "visits": _visits_as_seen(household, members),
        "visit_form": visit_form or VisitForm(members=members, initial={"person": _chosen(request, members)}),
        "register_form": register_form or RegisterForm(members=members),
        "end_form": EndRegistrationForm(),
        "may_register": policy.can(user, "care.register", household),
        "may_visit": policy.can(user, "care.visit", household),
        "error": error, "OVERDUE": rules.OVERDUE,
    }
    return render(request, "care/household.html", context, status=status)


@page
def household(request, household_id: int):
    """A household (户): its members, their care registrations and schedule, its visits, and the visit form."""
    return _household_page(request, queries.household_for(request.user, household_id))


@page
@require_POST
def log_visit(request, household_id: int):
    user = request.user
    found = queries.household_for(user, household_id, "care.visit")
    members = [m for h in queries.households(user, found.building) if h["household"].pk == found.pk
               for m in h["members"]]
    form = VisitForm(request.POST, request.FILES, members=members)
    if not form.is_valid():
        return _household_page(request, found, visit_form=form, error=_("Check the form: nothing was saved."),
                               status=400)
    data = form.cleaned_data
    try:
        visit = services.log_visit(user, household=found, kind=data["kind"], person=data["person"], note=data["note"],
                                   follow_up=data["follow_up"], photos=_uploads(request),
                                   demand_text=data["demand_text"])
    except DomainError as refused:
        return _household_page(request, found, visit_form=form, error=refused.message(), status=refused.status)
    notice = _("Visit logged.")
    if visit.filed_demand_id:
        notice = format_html("{} {}", notice, format_html(
            _("Demand {} filed from it."),
            format_html('<a href="{}">{}</a>', reverse("demands:detail", args=[visit.filed_demand.number]),
                        visit.filed_demand.number)))
    messages.success(request, notice)
    return redirect(request.POST.get("next") if request.POST.get("next") == reverse("care:home")
                    else reverse("care:household", args=[found.pk]))


@page
@require_POST
def register(request, household_id: int):
    user = request.user
    found = queries.household_for(user, household_id, "care.register")
    members = [m for h in queries.households(user, found.building) if h["household"].pk == found.pk
               for m in h["members"]]
    form = RegisterForm(request.POST, members=members)
    if not form.is_valid():
        return _household_page(request, found, register_form=form, error=_("Check the form: nothing was saved."),
                               status=400)
    try:
        person = services.member_of(found, form.cleaned_data["person"])
        services.register(user, person=person, group=form.cleaned_data["group"], note=form.cleaned_data["note"])
    except DomainError as refused:
        return _household_page(request, found, register_form=form, error=refused.message(), status=refused.status)
    messages.success(request, _("Registered: the visits are now scheduled."))
    return redirect("care:household", found.pk)


@page
@require_POST
def end_registration(request, registration_id: int):
    user = request.user
    registration = (queries.registrations(user).select_related("person__household__building__grid", "group")
                    .filter(pk=registration_id).first())
    if registration is None:  # not in the user's register: not visible (404) or not theirs (403)
        hidden = CareRegistration.objects.filter(pk=registration_id).select_related(
            "person__household__building__grid").first()
        if hidden is None or not policy.can(user, "org.view", hidden.person):
            from gongzhi.core.errors import NotFound

            raise NotFound(_("care registration %(pk)s") % {"pk": registration_id})
        raise PermissionDenied("care.register")
    form = EndRegistrationForm(request.POST)
    household = registration.person.household
    if not form.is_valid():
        return _household_page(request, household, error=_("Say why the registration ends."), status=400)
    try:
        services.end_registration(user, registration, reason=form.cleaned_data["reason"])
    except DomainError as refused:
        return _household_page(request, household, error=refused.message(), status=refused.status)
    messages.success(request, _("The registration has ended."))
    return redirect("care:household", household.pk)


@page
def visit_photo(request, visit_photo_id: int, size: str = "full"):
    found = queries.visit_photo(request.user, visit_photo_id)
    stored = found.thumbnail if size == "thumb" else found.image
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
