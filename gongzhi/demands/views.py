"""demands pages for people: filing a demand on the grid map, "my demands" with the rating, a unit's work
queue, the dispatch desk's triage list, a demand's page, and the rates dashboard with its CSV export.

Like the API, a view parses the request, reads through queries (lists narrowed by queries.visible and its
siblings, a demand fetched with queries.get_visible) or calls one use case in services, and renders. The
buttons a person sees are queries.actions_for(), i.e. what can() allows in the current state.
"""

import math

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gongzhi.core import clock, keyset, policy, ratelimit
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pages import action, page, public, refusal, submit
from gongzhi.org import queries as org_queries
from gongzhi.org.models import Region

from . import deadlines, exports, hooks, permissions, photos, queries, ranking, services, supervision
from .forms import (
    ACTION_FORMS, ACTION_LABELS, STEP_LABELS, AddPhotosForm, DashboardFilter, FileDemandForm, PlaceSubmissionForm,
    RefuseSubmissionForm, category_name,
)
from .models import Demand, Photo

PER_PAGE = 30
OVERDUE_LISTED = 100
CHARTED = 25  # bars on the dashboard chart; the table lists every row
CONTACT_PURPOSE = "handling the demand"  # stored with each logged read of a reporter's contact

# Each action's use case, called with the cleaned data of its form (forms.ACTION_FORMS).
ACTIONS = {
    "triage": lambda u, d, c: services.triage(u, d, category=c["category"], urgency=c["urgency"] or None),
    "dispatch": lambda u, d, c: services.dispatch(u, d, unit=c["unit"], assisting=list(c["assisting"]),
                                                  category=c["category"] or None, note=c["note"]),
    "accept": lambda u, d, c: services.accept(u, d),
    "return": lambda u, d, c: services.return_to_dispatch(u, d, reason=c["reason"]),
    "start_work": lambda u, d, c: services.start_work(u, d),
    "reply": lambda u, d, c: _reply_with_photos(u, d, c),
    "verify": lambda u, d, c: services.verify(u, d, note=c["note"]),
    "close": lambda u, d, c: services.close(u, d, note=c["note"]),
    "rate": lambda u, d, c: services.rate(u, d, solved=c["solved"], satisfaction=c["satisfaction"], note=c["note"]),
    "reopen": lambda u, d, c: services.reopen(u, d, reason=c["reason"]),
    "merge": lambda u, d, c: services.merge_into(u, d, queries.get_visible(u, c["original"]), note=c["note"]),
    "reject": lambda u, d, c: services.reject(u, d, reason=c["reason"]),
    "confirm_urgency": lambda u, d, c: services.confirm_urgency(u, d, urgency=c["urgency"] or None, note=c["note"]),
}


def map_tiles() -> dict | None:
    """The base map's tile URL for Leaflet (settings.GONGZHI_MAP_TILES), or None: the district's own layers."""
    if not settings.GONGZHI_MAP_TILES:
        return None
    return {"url": settings.GONGZHI_MAP_TILES, "attribution": settings.GONGZHI_MAP_ATTRIBUTION, "max_zoom": 18}


def _reply_with_photos(user, demand: Demand, cleaned: dict) -> services.Step:
    """The reply and its "after" photos: one transaction (a refused photo leaves the demand unreplied)."""
    contents = [photos.read_upload(f) for f in cleaned.get("photos") or []]
    with transaction.atomic():
        step = services.reply(user, demand, text=cleaned["text"])
        photos.add(user, step.demand, contents, stage=Photo.Stage.REPLY)
    return step


# The partial an htmx action answers with, by the `view` the form was posted from.
PARTIALS = {"card": "demands/_card.html", "detail": "demands/_detail_body.html"}


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _deadlines(demand: Demand, *, with_orders: bool = False) -> list[dict]:
    """The deadlines of the steps not yet taken, each with whether it has passed (Demand.is_*_overdue);
    `with_orders` (the demand's page): and the time an officer's open 督办单 gave the unit (督办限期)."""
    steps = [
        ("dispatch_due", "dispatched_at", _("Dispatch by"), demand.is_dispatch_overdue),
        ("accept_due", "accepted_at", _("Accept by"), demand.is_accept_overdue),
        ("feedback_due", "replied_at", _("First feedback by"), demand.is_feedback_overdue),
    ]
    now = clock.now()
    return [{"name": name, "label": label, "at": getattr(demand, name), "is_overdue": overdue(now),
             "provisional": deadlines.provisional(demand, name)}
            for name, done, label, overdue in steps if getattr(demand, name) and not getattr(demand, done)] + (
        supervision.order_deadlines(demand, now) if with_orders else [])


def _actions(user, demand: Demand, forms: dict | None = None, shared: dict | None = None) -> list[dict]:
    """One entry per action `user` may take now, with its (possibly bound, invalid) form; `shared`: one dict
    for the forms of every card of a list page (ActionForm.shared)."""
    forms = forms or {}
    result = []
    for name in queries.actions_for(user, demand):
        form = forms.get(name) or ACTION_FORMS[name](demand=demand, action=name, user=user, shared=shared)
        result.append({"name": name, "label": ACTION_LABELS[name], "form": form,
                       "open": name == "rate" or bool(form.errors)})
    return result


def _card(user, demand: Demand, *, view: str, with_timeline: bool = False, with_actions: bool = True, forms=None,
          notice=None, error=None, shared=None):
    return {
        "demand": demand,
        "seen": queries.as_seen_by(user, demand),  # text, address, reply: scrubbed for overseers
        "category_name": category_name(demand.category),
        "suggested_name": category_name(demand.suggested_category) if demand.suggested_category_id else None,
        "deadlines": _deadlines(demand, with_orders=view == "detail"),
        "actions": _actions(user, demand, forms, shared) if with_actions else [],
        "timeline": _timeline(user, demand, receipts=view == "detail") if with_timeline else None,
        "view": view,
        "with_timeline": with_timeline,
        "notice": notice,
        "error": error,
    }


def _list_cards(user, listing) -> list[dict]:
    """The cards of a page of a list (the queue, the desk): what every card reads (the units handling it, the
    督办 badges) read for the whole page at once, so a page costs the same few queries for 3 cards or 30."""
    demands = list(listing)
    permissions.prefetch_current_units(demands)
    supervision.prefetch_badges(demands)
    shared: dict = {}
    return [_card(user, d, view="card", shared=shared) for d in demands]


def _timeline(user, demand: Demand, *, receipts: bool = True) -> list[dict]:
    """The steps; with their ledger receipts (an inclusion proof each) only where they are shown: the
    demand's own page, not the cards of a list."""
    return [{"event": e, "label": STEP_LABELS.get(e.action, e.action), "state": Demand.State(e.to_state).label,
             "receipt": services.receipt(e.event, catch_up=False) if receipts else None}
            for e in queries.timeline_as_seen_by(user, demand)]


def _detail_context(user, demand: Demand, *, forms=None, notice=None, error=None, **extra) -> dict:
    return {
        "card": _card(user, demand, view="detail", with_timeline=True, forms=forms, notice=notice, error=error),
        "assisting": queries.assisting_units(demand),
        # Only the units handling it get the reporter's name and phone, and each such read is logged.
        "contact": services.contact_for_handler(user, demand, purpose=CONTACT_PURPOSE, channel="web"),
        "similar": _similar(user, demand),
        "can_check_reply": hooks.get("check_reply") is not None and policy.can(user, "demands.reply", demand),
        "photos": _photos(user, demand),
        **extra,
    }


def _photos(user, demand: Demand) -> dict:
    shown = photos.visible(user, demand)
    may_add = policy.can(user, "demands.add_photo", demand)
    report = [p for p in shown if p.stage == Photo.Stage.REPORT]
    for item in shown:  # the thumbnail's size, so the page does not jump as they load
        scale = min(1.0, photos.THUMB_SIDE / max(item.width, item.height))
        item.thumb_width, item.thumb_height = round(item.width * scale), round(item.height * scale)
    reply = [p for p in shown if p.stage == Photo.Stage.REPLY]
    return {
        "report": report,
        "reply": reply,
        "groups": [(report, Photo.Stage.REPORT.label), (reply, Photo.Stage.REPLY.label)],
        "may_publish": policy.can(user, "demands.publish_photo", demand),
        "add_form": AddPhotosForm() if may_add and len(report) < photos.MAX_PER_STAGE else None,
    }


def _similar(user, demand: Demand) -> list:
    """Similar open demands nearby that the user may see (queries.similar), for a dispatcher who may merge
    this one into one of them in one click."""
    return queries.similar(user, demand, 5)


@page
@require_POST
def reply_check(request, number: str):
    """The reply check (the check_reply hook) on the text being written, before it is sent: an htmx
    fragment with the score and the parts the reply lacks."""
    demand = queries.get_visible(request.user, number)
    policy.require(request.user, "demands.reply", demand)
    check = hooks.get("check_reply")
    if check is None:
        raise NotFound(_("reply check"))
    text = (request.POST.get("text") or "").strip()
    result = check(demand, text) if text else None
    english = (get_language() or "").startswith("en")
    return render(request, "demands/_reply_check.html", {
        "result": result, "messages": (result["messages_en"] if english else result["messages_zh"]) if result else []})


def _page(request, template: str, context: dict, *, status: int = 200):
    """A full page: the demands menu links only what can() lets the user open."""
    user = request.user
    menu = {"menu_staff": policy.can(user, "demands.view_rates"), "menu_desk": policy.can(user, "demands.view_any")}
    return render(request, template, {**menu, **context}, status=status)


def _paged(request, qs, keys=None):
    """A page of a list: by keyset (core.keyset) when the list's sort key is given, else by page number."""
    if keys is not None:
        return keyset.paginate(qs, keys, request.GET, per_page=PER_PAGE)
    return Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))


def _done_notice(action: str, step: services.Step) -> str:
    indexes = [str(r["index"]) for r in step.receipts() if r]
    if not indexes:
        return _("%(action)s: done.") % {"action": ACTION_LABELS[action]}
    return _("%(action)s: done. Ledger entry %(entries)s.") % {"action": ACTION_LABELS[action],
                                                                 "entries": ", ".join(f"#{i}" for i in indexes)}


# ---------------------------------------------------------------------------------------------
# Residents


@page
def new(request):
    """File a demand: text, an optional category, a point on the grid map (or a grid and an address)."""
    if request.method == "POST":
        ratelimit.check(request, "file_demand")
    grids = queries.grid_outlines()
    form = FileDemandForm(request.POST or None, request.FILES or None, grids=grids,
                          initial=_own_contact(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contents = [photos.read_upload(f) for f in data["photos"]]
            with transaction.atomic():  # the demand and its photos, or nothing
                step = services.file_demand(
                    request.user, text=data["text"], channel=Demand.Channel.WEB, longitude=data["longitude"],
                    latitude=data["latitude"], grid=form.grid_region(), address=data["address"],
                    category=data["category"] or None, contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                )
                photos.add(request.user, step.demand, contents, keep_location=data["share_location"])
        except DomainError as error:
            if error.status != 400:
                raise
            form.add_error(None, error.message())
        else:
            return redirect(reverse("demands:detail", args=[step.demand.number]) + "?filed=1")
    context = {"form": form, "map_data": {"grids": grids, "tiles": map_tiles()}, "locate_url": reverse("api-v1:locate")}
    return _page(request, "demands/new.html", context, status=400 if form.errors else 200)


@page
def messages_centre(request):
    """My messages (and my units'): every change of my demands, newest first, the unread ones marked;
    "mark all read" is a POST."""
    from . import notifications

    if request.method == "POST":
        notifications.mark_all_read(request.user)
        return redirect("demands:messages")
    listing = _paged(request, notifications.mine(request.user))
    unread = {n.pk for n in listing if n.read_at is None}
    return _page(request, "demands/messages.html", {"page_obj": listing, "unread": unread})


def _own_contact(user) -> dict:
    """A resident's own name and confirmed number (org/accounts.py), filled in for them: it is their own."""
    from gongzhi.org.models import PersonalData

    if not hasattr(user, "resident_account"):
        return {}
    own = PersonalData.objects.filter(person__user=user).values_list("person__name", "phone").first()
    return {"contact_name": own[0], "contact_phone": own[1]} if own else {}


@page
def mine(request):
    """The demands I filed: state, timeline, and the rating once the demand is closed."""
    listing = _paged(request, queries.reported_by(request.user), queries.NEWEST_FIRST)
    cards = [_card(request.user, d, view="card", with_timeline=True) for d in listing]
    return _page(request, "demands/mine.html", {"page_obj": listing, "cards": cards})


# ---------------------------------------------------------------------------------------------
# Units and dispatch desks


QUEUE_STEP_LABELS = {
    "sign": gettext_lazy("To sign for"), "handle": gettext_lazy("Being handled"),
    "dispatch": gettext_lazy("To dispatch"), "verify": gettext_lazy("To verify"), "close": gettext_lazy("To close"),
    "rate": gettext_lazy("To rate"), "overdue": gettext_lazy("Overdue"),
}


@page
def queue(request):
    """What waits for my next step, the nearest deadline first (overdue ones marked)."""
    step = request.GET.get("step") if request.GET.get("step") in queries.QUEUE_STEPS else None
    order = request.GET.get("order") if request.GET.get("order") in queries.QUEUE_ORDERS else "deadline"
    listing = _paged(request, queries.queue(request.user, step, order=order), queries.QUEUE_KEYS[order])
    cards = _list_cards(request.user, listing)
    # A unit's own rates and rank (queries.unit_standing), above its queue.
    standing = [{"standing": s, "row": ranking_row(s.place) if s.place else None}
                for s in queries.unit_standing(request.user)]
    return _page(request, "demands/queue.html", {"page_obj": listing, "cards": cards, "step": step,
                                                 "step_label": QUEUE_STEP_LABELS.get(step), "order": order,
                                                 "standing": standing,
                                                 "explained": ranking_explained() if standing else None,
                                                 # The standing may be this old (queries._standing_pool's cache).
                                                 "standing_minutes": math.ceil(queries.standing_cache_seconds() / 60),
                                                 "query": urlencode({k: v for k, v in (("step", step), ("order", order))
                                                                     if v and v != "deadline"})})


@page
def triage(request):
    """The dispatch desk: demands received or returned, to classify and dispatch."""
    policy.require(request.user, "demands.view_any")
    order = request.GET.get("order") if request.GET.get("order") in queries.DESK_ORDERS else "deadline"
    listing = _paged(request, queries.at_desk(request.user, order=order), queries.DESK_KEYS[order])
    cards = _list_cards(request.user, listing)
    # Open311 requests the register could not place come before any triage: the desk's link to them.
    waiting = queries.awaiting_placement(request.user).count()
    return _page(request, "demands/triage.html", {"page_obj": listing, "cards": cards, "order": order,
                                                  "awaiting_placement": waiting})


# ---------------------------------------------------------------------------------------------
# Placing Open311 requests the address register could not place (the desks' work before a number)


def _placement_page(request, *, forms=None, error=None, status=200):
    user = request.user
    policy.require(user, "demands.place")
    forms = forms or {}
    grids = list(queries.placement_grids(user))
    listing = _paged(request, queries.awaiting_placement(user))
    categories = queries.categories_by_code(s.payload.get("category") for s in listing)
    rows = [{"submission": s, "text": s.payload.get("text", ""), "address": s.payload.get("address", ""),
             "category": category_name(categories.get(s.payload.get("category"))),
             "place_form": forms.get(f"place-{s.key}") or PlaceSubmissionForm(grids=grids, auto_id=f"place-{s.key}-%s"),
             "refuse_form": forms.get(f"refuse-{s.key}") or RefuseSubmissionForm(auto_id=f"refuse-{s.key}-%s")}
            for s in listing]
    context = {"page_obj": listing, "rows": rows, "error": refusal(error), "may_place_anywhere": bool(grids)}
    return _page(request, "demands/placement.html", context, status=status)


@page
def placement(request):
    """待定位的诉求: Open311 requests whose address the register could not place, for a desk to place on the
    map (then they are filed and numbered at once) or to refuse with a reason."""
    return _placement_page(request)


def _awaiting(request, key: str):
    found = queries.awaiting_placement(request.user).filter(key=key).first()
    if found is None:
        raise NotFound(_("submission %(key)s") % {"key": key})
    return found


@action
def place(request, key: str):
    submission = _awaiting(request, key)
    form = PlaceSubmissionForm(request.POST, grids=queries.placement_grids(request.user), auto_id=f"place-{key}-%s")

    def done(placed):
        if placed.demand_id:
            link = reverse("demands:detail", args=[placed.demand.number])
            return format_html('{} <a href="{}">{}</a>', _("Placed and filed:"), link, placed.demand.number), \
                reverse("demands:placement")
        return _("Placed, but it could not be filed: %(reason)s") % {"reason": placed.error_message}, \
            reverse("demands:placement")

    return submit(request, lambda data: services.place_submission(request.user, submission, data["grid"]),
                  form=form, name=f"place-{key}", page=lambda **kw: _placement_page(request, **kw), done=done)


@action
def refuse(request, key: str):
    submission = _awaiting(request, key)
    form = RefuseSubmissionForm(request.POST, auto_id=f"refuse-{key}-%s")
    return submit(request, lambda data: services.refuse_submission(request.user, submission, reason=data["reason"]),
                  form=form, name=f"refuse-{key}", page=lambda **kw: _placement_page(request, **kw),
                  done=lambda _s: (_("Refused; the client reads the reason with its token."),
                                   reverse("demands:placement")))


@public
def photo(request, number: str, photo_id: int, size: str = "full"):
    """A photo of a demand, to those who may see it (photos.may_view): 404 to everyone else, as for an id that
    names nothing. Never cached by shared caches."""
    demand = Demand.objects.filter(number=number).select_related("grid").first()
    if demand is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    from .guest_views import granted

    if granted(request, number):  # the guest who filed it, with its 查询码: their photos and the reply's
        found = Photo.objects.filter(demand=demand, pk=photo_id).first()
        if found is None:
            raise NotFound(_("photo %(photo_id)s") % {"photo_id": photo_id})
    else:
        found = photos.get_visible(request.user, demand, photo_id)
    stored = found.thumbnail if size == "thumb" else found.image
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600" if found.published_at is None else "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@page
@require_POST
def add_photos(request, number: str):
    """The reporter (or the desk) adds photos to a demand after filing it ("add to it")."""
    demand = queries.get_visible(request.user, number)
    ratelimit.check(request, "file_demand")
    form = AddPhotosForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(reverse("demands:detail", args=[number]) + "#photos")
    try:
        added = photos.add(request.user, demand, [photos.read_upload(f) for f in form.cleaned_data["photos"]],
                           keep_location=form.cleaned_data["share_location"])
    except DomainError as refused:
        if refused.status >= 500:
            raise
        messages.error(request, refused.message())
    else:
        messages.success(request, ngettext("%(count)s photo added.", "%(count)s photos added.", len(added))
                         % {"count": len(added)})
    return redirect(reverse("demands:detail", args=[number]) + "#photos")


@page
@require_POST
def publish_photo(request, number: str, photo_id: int):
    """The dispatch desk makes a photo public, or private again."""
    demand = queries.get_visible(request.user, number)
    found = photos.get_visible(request.user, demand, photo_id)
    published = request.POST.get("published") != "0"
    photos.publish(request.user, found, published=published)
    messages.success(request, _("The photo is public.") if published else _("The photo is private again."))
    return redirect(reverse("demands:detail", args=[number]) + "#photos")


@page
def detail(request, number: str):
    demand = queries.get_visible(request.user, number)
    context = _detail_context(request.user, demand, just_filed="filed" in request.GET)
    return _page(request, "demands/detail.html", context)


@page
@require_POST
def act(request, number: str, action: str):
    """One workflow step from a button. htmx gets the card or the detail body back (a refusal with its
    reason and status); a plain form post is redirected to where it came from."""
    if action not in ACTIONS:
        raise NotFound(_("action %(action)s") % {"action": action})
    user = request.user
    demand = queries.get_visible(user, number)
    view = request.POST.get("view") if request.POST.get("view") in PARTIALS else "detail"
    form = ACTION_FORMS[action](request.POST, request.FILES, demand=demand, action=action, user=user)
    error, status = None, 400
    if form.is_valid():
        try:
            step = ACTIONS[action](user, demand, form.cleaned_data)
        except DomainError as refused:
            # A NotFound here is about the input (merge: no such original), not about this demand.
            error, status = refused.message(), 400 if isinstance(refused, NotFound) else refused.status
        else:
            return _after_step(request, action, step, view)
    if not request.htmx:
        unchecked = _("Check the form: %(action)s was not done.") % {"action": ACTION_LABELS[action]}
        messages.error(request, error or unchecked)
        return redirect(_back(request, demand))
    return _partial(request, demand, view, status=status, forms={action: form}, error=error)


def _after_step(request, action: str, step: services.Step, view: str):
    notice = _done_notice(action, step)
    demand = step.demand
    if not request.htmx:
        messages.success(request, notice)
        still_visible = policy.can(request.user, "demands.view", demand)
        return redirect(_back(request, demand) if still_visible else reverse("demands:queue"))
    return _partial(request, demand, view, notice=notice)


def _partial(request, demand: Demand, view: str, *, status: int = 200, forms=None, notice=None, error=None):
    user = request.user
    if view == "detail" and policy.can(user, "demands.view", demand):
        context = _detail_context(user, demand, forms=forms, notice=notice, error=error)
        return render(request, PARTIALS["detail"], context, status=status)
    # A card; also for a demand that has just left the user's sight (returned, merged): its card says so.
    card = _card(user, demand, view="card", with_timeline=request.POST.get("timeline") == "1", forms=forms,
                 notice=notice, error=error)
    return render(request, PARTIALS["card"], {"card": card}, status=status)


def _back(request, demand: Demand) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("demands:detail", args=[demand.number])


@page
def receipt(request, number: str, event_id: int):
    """The ledger receipt of one step, as the JSON file the ledger's receipt page checks."""
    demand = queries.get_visible(request.user, number)
    step = queries.timeline(demand).filter(event_id=event_id).first()
    found = services.receipt(step.event, catch_up=False) if step else None
    if found is None:
        raise NotFound(_("receipt of event %(event_id)s") % {"event_id": event_id})
    response = JsonResponse(found, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{demand.number}-{found["index"]}.json"'
    return response


# ---------------------------------------------------------------------------------------------
# The rates dashboard


def _rates(request):
    """The dashboard's filter and its ranking: the one call of queries.ranking_for behind the page and the
    CSV (the period: the last complete month unless the form says otherwise)."""
    user = request.user
    regions = org_queries.scoped(user, Region).filter(level__in=[Region.Level.STREET, Region.Level.COMMUNITY])
    form = DashboardFilter(request.GET or None, regions=regions.defer("polygon").order_by("path"),
                           default_level=queries.default_rates_level(user))
    level, start, end = form.period()
    chosen = form.cleaned_data.get("within") if form.is_bound and form.is_valid() else None
    within = org_queries.get_scoped(user, Region, chosen) if chosen else None
    if level == "unit" and within is None and queries.unit_pool(user) is not None:
        # A unit's staff: the units of their unit's street, as the queue's standing and that street's
        # dashboard rank them (one figure everywhere).
        within, rows = queries.unit_ranking_for(user, start, end)
    else:
        rows = queries.ranking_for(user, level, start, end, within=within)
    return form, level, start, end, within, rows


def _rate_with_cases(value, part: int, whole: int) -> str:
    """A rate with the cases it rests on: "92.0% (23/25)"; "—" when there were none."""
    return "—" if value is None else f"{100 * value:.1f}% ({part}/{whole})"


def _chart_value(value):
    return None if value is None or math.isnan(value) else round(100 * value, 2)


RATE_LABELS = {"response": gettext_lazy("Response rate"), "resolution": gettext_lazy("Resolution rate"),
               "satisfaction": gettext_lazy("Satisfaction rate")}


def ranking_row(placed) -> dict:
    """One ranked row (ranking.Ranked of queries.Rates) as the dashboard and the units' standing show it."""
    r = placed.row
    # Places compare only between pools of the same size (ranking.Ranked.same_pool); else no arrow, and the
    # page gives the previous rank with its pool.
    change = placed.rank_change if placed.same_pool else None
    return {
        "rates": r, "placed": placed, "rank": placed.rank,
        "response": _rate_with_cases(r.response_rate, r.accepted_in_time, r.dispatched),
        "resolution": _rate_with_cases(r.resolution_rate, r.solved, r.rated),
        "satisfaction": _rate_with_cases(r.satisfaction_rate, r.satisfied + r.basically_satisfied, r.rated),
        "score": "—" if placed.score is None else f"{placed.score:.1f}",
        "below_floor": [RATE_LABELS[name] for name in placed.below_floor],
        "change": None if change is None else f"▲{change}" if change > 0 else f"▼{-change}" if change < 0 else "=",
        "change_class": "" if not change else "up" if change > 0 else "down",
        "score_change": None if placed.score_change is None else f"{placed.score_change:+.1f}",
        "same_pool": placed.same_pool,
    }


def ranking_explained() -> dict:
    """The configured rules in words for the page: minimum cases, floor, weights in per cent."""
    config = queries.ranking_settings()
    weights = config["weights"]
    total = sum(weights.get(name, 0) for name in RATE_LABELS) or 1
    floor = config["floor"]
    return {"min_cases": config["min_cases"], "floor": "—" if floor is None else f"{100 * floor:g}%",
            "weights": [(RATE_LABELS[name], f"{100 * weights.get(name, 0) / total:g}%") for name in RATE_LABELS]}


def _overdue_row(demand: Demand) -> dict:
    """One line of the dashboard's overdue list: the demand and the deadlines it passed."""
    now = clock.now()
    steps = [("dispatch_due", "dispatched_at", _("Dispatch by"), demand.is_dispatch_overdue),
             ("accept_due", "accepted_at", _("Accept by"), demand.is_accept_overdue),
             ("feedback_due", "replied_at", _("First feedback by"), demand.is_feedback_overdue)]
    return {"demand": demand, "category_name": category_name(demand.category),
            "deadlines": [{"label": label, "at": getattr(demand, name), "is_overdue": overdue(now)}
                          for name, done, label, overdue in steps
                          if getattr(demand, name) and not getattr(demand, done)]}


@page
def dashboard(request):
    """响应率, 解决率, 满意率 and the score per street, community, unit or category, ranked by the ranking's
    rules (ranking.py: minimum cases, floor, ties, change against the previous period), with the overdue
    list."""
    form, level, start, end, within, rows = _rates(request)
    table = [ranking_row(placed) for placed in rows]
    for row in table:  # a line between the ranked rows and those with too few cases
        if row["placed"].insufficient:
            row["first_few"] = True
            break
    charted = [placed.row for placed in rows[:CHARTED]]
    chart = {
        "names": [r.name for r in charted],
        "series": [
            {"name": _("Response rate"), "values": [_chart_value(r.response_rate) for r in charted]},
            {"name": _("Resolution rate"), "values": [_chart_value(r.resolution_rate) for r in charted]},
            {"name": _("Satisfaction rate"), "values": [_chart_value(r.satisfaction_rate) for r in charted]},
        ],
        "score": {"name": _("Score"), "values": [None if r.score is None else round(r.score, 2) for r in charted]},
    }
    late = queries.overdue(request.user, within=within)
    previous_start, previous_end = ranking.previous_period(start, end)
    context = {
        "form": form, "level": level, "start": start, "end": end, "within": within, "rows": rows, "table": table,
        "ranked_count": sum(1 for placed in rows if placed.rank is not None),
        "previous_start": previous_start, "previous_end": previous_end, "explained": ranking_explained(),
        "chart": chart,
        # 督办/挂牌 badges annotated; a light row each (the table shows number, state, category, grid, unit and
        # the passed deadlines: not the full card, whose scrubbed text and contacts cost queries per demand).
        "overdue": [_overdue_row(d) for d in late.annotate(**supervision.badge_annotations())[:OVERDUE_LISTED]],
        "overdue_count": late.count(), "csv_query": request.GET.urlencode(),
        "own_units": queries.unit_ids(request.user) if level == "unit" else set(),  # highlighted rows
    }
    return _page(request, "demands/dashboard.html", context)


CSV_COLUMNS = list(exports.COLUMNS)


@page
def rates_csv(request):
    """The dashboard's ranking as CSV (exports.ranking_csv): the same rows in the same order, unrounded
    (empty where a rate cannot be measured, and the rank empty for too few cases)."""
    form, level, start, end, within, rows = _rates(request)
    response = HttpResponse(exports.ranking_csv(rows, level, start, end, bom=True),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="demand-rates-{level}-{start}-{end}.csv"'
    return response
