"""org pages for people: the region browser with its grid map, organisations, a person's page with
the logged reveal of personal data, and the coverage report.

Like the API, a view parses the request, reads through queries (every list narrowed by
queries.scoped, every object fetched with queries.get_scoped) or calls a service, and renders.
Scope and permission decisions live in permissions.py; a domain error becomes its HTTP status.
"""

from collections import defaultdict

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core import clock
from gongzhi.core.errors import RateLimited, ValidationFailed
from gongzhi.core.pages import page

from . import queries, services
from .models import Building, Organisation, Person, Post, Region
from .rules import mask_name
from .schemas import access_log_user

TREE_DEPTH = 2  # levels shown below each root in the region browser
ORGANISATIONS_PER_PAGE = 50
RESIDENTS_LISTED = 200  # on a grid's page; a grid has a few hundred households at most



# ---------------------------------------------------------------------------------------------
# Regions


def _map_data(region: Region, children: list[Region], buildings: list[Building]) -> dict:
    """What regionmap.js draws: each child's boundary as a clickable shape (a region without drawn
    children shows its own outline instead), and the buildings as points. Names, not codes."""
    def shape(r: Region, url: str | None) -> dict:
        return {"id": r.id, "name": r.name, "url": url, "geometry": r.polygon}

    shapes = [shape(c, reverse("org:region", args=[c.id])) for c in children if c.polygon]
    if not shapes and region.polygon:
        shapes = [shape(region, None)]
    points = [{"name": b.name, "address": b.address, "lon": b.longitude, "lat": b.latitude} for b in buildings]
    return {"shapes": shapes, "points": points}


@page
def regions(request):
    roots = queries.visible_roots(request.user)
    return render(request, "org/regions.html", {"roots": roots, "tree": queries.region_tree(request.user, roots, TREE_DEPTH)})


@page
def region(request, region_id: int):
    user = request.user
    region = queries.get_scoped(user, Region, region_id)
    ancestors = list(region.ancestors().defer("polygon"))
    in_scope = set(queries.scoped(user, Region).filter(pk__in=[a.pk for a in ancestors]).values_list("pk", flat=True))
    children = list(queries.scoped(user, Region).filter(parent=region).order_by(*Region.DISPLAY_ORDER))
    grandchildren = defaultdict(list)
    for r in queries.scoped(user, Region).filter(parent__in=children).defer("polygon").order_by(*Region.DISPLAY_ORDER):
        grandchildren[r.parent_id].append(r)
    buildings = list(queries.scoped(user, Building).filter(grid=region)
                     .annotate(household_count=Count("households")).order_by("name"))
    context = {
        "region": region,
        "breadcrumbs": [{"region": a, "linked": a.pk in in_scope} for a in ancestors],
        "children": [{"region": c, "children": grandchildren[c.id]} for c in children],
        "counts": queries.region_summary(user, region),
        "organisations": queries.scoped(user, Organisation).filter(region=region).order_by("kind", "name"),
        "buildings": buildings,
        # The grid's own workers, for whoever may open the grid: a post scoped by its committee's region would hide
        # the grid worker from their own grid's page.
        "grid_workers": Post.objects.filter(queries.active_posts_q(), role=Post.Role.GRID_WORKER, grid=region)
        .select_related("person", "organisation"),
        # Each resident as the user may see them: 张某 and no flat for an overseer (PERSONAL_DATA_ACCESS).
        "residents": [{"person": p, "card": services.person_card(user, p)} for p in
                      queries.people_in(user, region).select_related("household__building__grid", "residence",
                                                                     "personal_data", "party_branch")
                      .order_by("household__building__name", "household__unit", "name")[:RESIDENTS_LISTED]],
        "map_data": _map_data(region, children, buildings),
    }
    return render(request, "org/region.html", context)


# ---------------------------------------------------------------------------------------------
# Organisations


class OrganisationFilter(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("all kinds")), *Organisation.Kind.choices])
    party = forms.ChoiceField(label=_("Party"), required=False, choices=[
        ("", _("party and non-party")),
        ("party", _("party organisations")),
        ("non_party", _("non-party organisations")),
    ])
    q = forms.CharField(label=_("Name contains"), required=False, max_length=50)


@page
def organisations(request):
    form = OrganisationFilter(request.GET)
    wanted = form.cleaned_data if form.is_valid() else {}
    qs = queries.scoped(request.user, Organisation).select_related("region", "parent").order_by("region__path", "kind", "name")
    if wanted.get("kind"):
        qs = qs.filter(kind=wanted["kind"])
    if wanted.get("party") == "party":
        qs = qs.filter(kind__in=Organisation.PARTY_KINDS)
    elif wanted.get("party") == "non_party":
        qs = qs.exclude(kind__in=Organisation.PARTY_KINDS)
    if wanted.get("q"):
        qs = qs.filter(name__icontains=wanted["q"])
    listing = Paginator(qs, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "org/organisations.html",
                  {"form": form, "page_obj": listing, "query": query.urlencode()})


@page
def organisation(request, organisation_id: int):
    user = request.user
    org = queries.get_scoped(user, Organisation, organisation_id,
                             queryset=Organisation.objects.select_related("region", "parent", "host"))
    visible = queries.scoped(user, Organisation)
    visible_ids = set(visible.filter(pk__in=[org.parent_id, org.host_id]).values_list("pk", flat=True))
    in_force = queries.scoped(user, Post).filter(queries.active_posts_q())
    posts_here = list(in_force.filter(organisation=org).select_related("person").order_by("role", "person__name"))
    holders = list(dict.fromkeys(p.person for p in posts_here))
    # Every post each holder has in force (here and elsewhere), so one person holding
    # several posts (一肩挑) shows them all on one row.
    all_posts = defaultdict(list)
    held = in_force.filter(person__in=holders).select_related("organisation", "grid")
    for p in held.order_by("organisation__name", "role"):
        all_posts[p.person_id].append(p)
    people_ids = set(queries.scoped(user, Person).filter(pk__in=[h.pk for h in holders]).values_list("pk", flat=True))
    context = {
        "organisation": org,
        "parent_linked": org.parent_id in visible_ids,
        "host_linked": org.host_id in visible_ids,
        "children": visible.filter(parent=org).select_related("region").order_by("kind", "name"),
        "hosted": visible.filter(host=org).order_by("name"),
        "holders": [{"person": h, "posts": all_posts[h.pk], "linked": h.pk in people_ids} for h in holders],
    }
    return render(request, "org/organisation.html", context)


# ---------------------------------------------------------------------------------------------
# People and personal data


class RevealForm(forms.Form):
    purpose = forms.CharField(label=_("Purpose"), max_length=120, strip=True,
                              error_messages={"required": _("State why you need these details.")})


def _person(user, person_id: int) -> Person:
    return queries.get_scoped(user, Person, person_id, queryset=Person.objects.select_related(
        "household__building__grid", "residence", "registered_residence", "party_branch"))


def _person_context(user, person: Person, card=None, **extra) -> dict:
    posts = list(queries.scoped(user, Post).filter(queries.active_posts_q(), person=person).select_related("organisation"))
    card = card or services.person_card(user, person, paths=services.region_paths_of(person))
    return {
        "person": person,
        "card": card,
        "age": person.age_on(clock.today()),
        "posts": posts,
        "form": RevealForm(),
        **extra,
    }


@page
def person(request, person_id: int):
    person = _person(request.user, person_id)
    return render(request, "org/person.html", _person_context(request.user, person))


@page
@require_POST
def reveal_personal_data(request, person_id: int):
    """htmx swaps the result into the page; without JavaScript the whole page comes back. A purpose not in
    words is answered 400, one reveal too many in the hour 429, each with the reason shown."""
    person = _person(request.user, person_id)
    form = RevealForm(request.POST)
    status, extra, card, retry_after = 200, {"form": form}, None, None
    if form.is_valid():
        try:
            card = services.read_personal_data(request.user, person, purpose=form.cleaned_data["purpose"],
                                               channel="web")
        except (ValidationFailed, RateLimited) as error:
            status, extra["error"] = error.status, error.message()
            retry_after = getattr(error, "retry_after", None)
    else:
        status = 400
    template = "org/_personal_data.html" if request.htmx else "org/person.html"
    response = render(request, template, _person_context(request.user, person, card, **extra), status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after or 60)
    return response


class AccessLogFilter(forms.Form):
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


ACCESS_LOG_PER_PAGE = 50
CONTACT_READS_LISTED = 200
# How the log names what was revealed (permissions.PERSONAL_FIELDS) and where from: words, not field names.
PERSONAL_FIELD_LABELS = {
    "name": pgettext_lazy("personal data", "Name"),
    "party": pgettext_lazy("personal data", "Party membership"),
    "address": pgettext_lazy("personal data", "Address"),
    "phone": pgettext_lazy("personal data", "Phone"),
    "id_number": pgettext_lazy("personal data", "ID number"),
}
ACCESS_CHANNEL_LABELS = {
    "web": pgettext_lazy("access channel", "web page"),
    "api": pgettext_lazy("access channel", "API"),
    "export": pgettext_lazy("access channel", "export"),
}


@page
def access_log(request):
    """The personal-data access log for the district's data officer: who revealed which field of whom
    (the person masked), why, when and through what. Anyone else gets 403."""
    form = AccessLogFilter(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = queries.access_log(request.user, user=filters.get("user") or None, since=filters.get("since"),
                                 until=filters.get("until"))
    page_obj = Paginator(entries, ACCESS_LOG_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"entry": e, "user": access_log_user(e) if e.user_id else _("command line"),
             "person": mask_name(e.person.name),
             "fields": [PERSONAL_FIELD_LABELS.get(f, f) for f in e.fields],
             "channel": ACCESS_CHANNEL_LABELS.get(e.channel, e.channel)} for e in page_obj]
    # Reads of reporters' contacts on demands (demands.DemandContactAccess), the newest few hundred.
    contact_reads = queries.other_access_logs(request.user, user=filters.get("user") or None,
                                              since=filters.get("since"), until=filters.get("until"))
    contact_rows = [{"entry": e, "user": access_log_user(e) if e.user_id else _("command line"),
                     "whose": _("reporter of demand %(number)s") % {"number": e.demand.number},
                     "fields": [PERSONAL_FIELD_LABELS.get(f, f) for f in e.fields],
                     "channel": ACCESS_CHANNEL_LABELS.get(e.channel, e.channel)}
                    for rows_of_log in contact_reads.values() for e in rows_of_log[:CONTACT_READS_LISTED]]
    contact_count = sum(rows_of_log.count() for rows_of_log in contact_reads.values())
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "org/access_log.html", {"form": form, "page_obj": page_obj, "rows": rows,
                                                    "contact_rows": contact_rows, "contact_count": contact_count,
                                                    "query": query.urlencode(),
                                                    "limit": settings.GONGZHI_REVEALS_PER_HOUR})


# ---------------------------------------------------------------------------------------------
# Coverage


class CoverageFilter(forms.Form):
    region = forms.IntegerField(required=False, min_value=1)


@page
def coverage(request):
    user = request.user
    form = CoverageFilter(request.GET)
    chosen = form.cleaned_data.get("region") if form.is_valid() else None
    report = queries.coverage_for(user, chosen or None)
    region = report.region
    choices = queries.scoped(user, Region, "org.view_coverage").exclude(level=Region.Level.GRID).order_by("path")
    return render(request, "org/coverage.html", {"report": report, "region": region, "choices": choices})
