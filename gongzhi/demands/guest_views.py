"""The pages of a resident without an account (issue #16 item 2): report a problem, get the number and the
查询码, follow the demand with them, add photos, rate it. The proof (number and code shown) is kept in the
session as a list of numbers; nothing else about the guest is."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gongzhi.core import clock, phone_codes, ratelimit
from gongzhi.core.models import PhoneCode
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pages import public

from . import guests, photos, queries, rules
from .forms import STEP_LABELS, AddPhotosForm, FileDemandForm, RateForm, category_name
from .models import Demand, Photo

SESSION_KEY = "gongzhi_tracked"  # the numbers this browser has shown the 查询码 of
MAX_TRACKED = 20


def granted(request, number: str) -> bool:
    return number in request.session.get(SESSION_KEY, [])


def _grant(request, number: str) -> None:
    numbers = [n for n in request.session.get(SESSION_KEY, []) if n != number]
    request.session[SESSION_KEY] = (numbers + [number])[-MAX_TRACKED:]


@public
def report(request):
    """File a demand without an account: the same form as a signed-in resident's."""
    from .views import _page, map_tiles

    if request.user.is_authenticated:
        return redirect("demands:new")
    if request.method == "POST":
        ratelimit.check(request, "phone_code" if "send_code" in request.POST else "file_demand")
    grids = queries.grid_outlines()
    form = FileDemandForm(request.POST or None, request.FILES or None, grids=grids)
    code_sent = code_error = None
    status = 200
    if request.method == "POST" and "send_code" in request.POST:
        # Without script, "send me a code" submits the whole form: send it, and give the form back as typed
        # (photos must be chosen again: a browser never sends files back).
        form = FileDemandForm(request.POST, grids=grids)
        try:
            phone_codes.send(request.POST.get("contact_phone", "")[:20], PhoneCode.Purpose.GUEST)
        except DomainError as refused:
            if refused.status >= 500:
                raise
            code_error, status = refused.message(), refused.status
        else:
            code_sent = _("A code was sent to your phone. It is valid for 10 minutes. Choose your photos again "
                          "before sending.")
        form.errors.clear()
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            step, code = guests.file(
                text=data["text"], longitude=data["longitude"], latitude=data["latitude"], grid=form.grid_region(),
                address=data["address"], category=data["category"] or None, contact_name=data["contact_name"],
                contact_phone=data["contact_phone"], channel=Demand.Channel.WEB,
                phone_code=request.POST.get("phone_code", "")[:10],
                photo_contents=[photos.read_upload(f) for f in data["photos"]], keep_location=data["share_location"])
        except DomainError as error:
            if error.status != 400:
                raise
            if error.code in ("wrong_code", "phone_unconfirmed", "invalid_phone"):
                code_error = error.message()
            else:
                form.add_error(None, error.message())
            status = 400
        else:
            _grant(request, step.demand.number)
            request.session["gongzhi_guest_filed"] = {"number": step.demand.number, "code": code,
                                                      "phone_confirmed": bool(data["contact_phone"])}
            return redirect("demands:guest_done")
    elif request.method == "POST":
        status = 400
    context = {"form": form, "map_data": {"grids": grids, "tiles": map_tiles()},
               "locate_url": reverse("api-v1:locate"), "guest": True, "code_sent": code_sent,
               "code_error": code_error, "phone_code": request.POST.get("phone_code", "")[:10]}
    return _page(request, "demands/new.html", context, status=status)


@public
def done(request):
    """The number and the 查询码, shown once (the code is not kept anywhere it could be shown again)."""
    from .views import _page

    filed = request.session.pop("gongzhi_guest_filed", None)
    if not filed:
        return redirect("demands:track")
    return _page(request, "demands/guest_done.html", filed)


@public
def track(request):
    """Look a demand up by its number and 查询码."""
    from .views import _page

    number = (request.POST.get("number") or request.GET.get("number") or "").strip()[:20]
    error = None
    if request.method == "POST":
        ratelimit.check(request, "track")
        try:
            demand = guests.find(number, request.POST.get("code", "")[:40])
        except NotFound:
            error = _("No demand has this number and 查询码. Check both and try again.")
        else:
            _grant(request, demand.number)
            return redirect("demands:tracked", number=demand.number)
    return _page(request, "demands/track.html", {"number": number, "error": error},
                 status=400 if error else 200)


class VerdictForm(forms.Form):
    """The residents' verdict on the case their demand is part of (issue #18 item 3)."""

    solved = forms.TypedChoiceField(label=gettext_lazy("Is the problem you reported solved?"),
                                    widget=forms.RadioSelect, coerce=lambda value: value == "yes",
                                    choices=[("yes", gettext_lazy("Solved")), ("no", gettext_lazy("Not solved"))],
                                    error_messages={"required": gettext_lazy("Say whether it is solved.")})
    satisfaction = forms.ChoiceField(label=gettext_lazy("Are you satisfied with the work?"), widget=forms.RadioSelect,
                                     choices=[("satisfied", gettext_lazy("satisfied")),
                                              ("basically_satisfied", gettext_lazy("basically satisfied")),
                                              ("not_satisfied", gettext_lazy("not satisfied"))],
                                     error_messages={"required": gettext_lazy("Say how satisfied you are.")})
    comment = forms.CharField(label=gettext_lazy("Anything to add? (no names or phone numbers)"), max_length=300,
                              required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2}))


def _case(demand: Demand) -> dict | None:
    """The case this demand is part of, as its guest reporter sees it: its state and, while the residents are
    asked, whether this demand's answer is still awaited. demands sits below cases: the cases app is imported
    here, in a view (the web layer, which may read across apps), never by demands' domain code."""
    from gongzhi.cases import services as cases
    from gongzhi.cases.models import Case, Verdict

    link = demand.case_links.select_related("case").order_by("-case__opened_at", "-case_id").first()
    if link is None:
        return None
    case = link.case
    asking = case.status == Case.Status.ASKING and (case.answers_due is None or clock.now() <= case.answers_due)
    answered = Verdict.objects.filter(case=case, round=case.verdict_round, demand=demand).first() \
        if case.verdict_round else None
    return {"case": case, "status": case.get_status_display(), "asking": asking, "answered": answered,
            "may_answer": asking and answered is None and cases.may_answer(None, case, demand)}


def _tracked_or_none(request, number: str) -> Demand | None:
    if not granted(request, number):
        return None
    return Demand.objects.filter(number=number).select_related("category", "grid", "lead_unit").first()


@public
def tracked(request, number: str):
    """A guest's demand: where it is, its deadlines, every step, the reply, photos; rating when asked."""
    from .views import _deadlines, _page

    demand = _tracked_or_none(request, number)
    if demand is None:
        return redirect(reverse("demands:track") + f"?number={number}")
    steps = [{"at": e.at, "label": STEP_LABELS.get(e.action, e.action), "state": Demand.State(e.to_state).label,
              "unit": e.unit.name if e.unit_id else ""}
             for e in demand.events.select_related("unit").order_by("id")]
    shown = list(Photo.objects.filter(demand=demand))
    may_rate = "rate" in rules.allowed_actions(demand.state)
    open_for_photos = demand.state not in rules.FINAL_STATES and \
        sum(1 for p in shown if p.stage == Photo.Stage.REPORT) < photos.MAX_PER_STAGE
    return _page(request, "demands/tracked.html", {
        "demand": demand, "category_name": category_name(demand.category), "steps": steps,
        "deadlines": _deadlines(demand), "photos": shown,
        "rate_form": RateForm(demand=demand, action="rate") if may_rate else None,
        "add_form": AddPhotosForm() if open_for_photos else None,
        "case": (case := _case(demand)), "verdict_form": VerdictForm(auto_id="verdict_%s")
        if case and case["may_answer"] else None,
    })


@public
@require_POST
def answer_case(request, number: str):
    """The guest's verdict on the case their demand is part of, through the 查询码 shown in this browser."""
    from gongzhi.cases import services as cases  # the web layer reads across apps (see _case)

    demand = _tracked_or_none(request, number)
    if demand is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    found = _case(demand)
    form = VerdictForm(request.POST)
    if found is None:
        raise NotFound(_("case"))
    if form.is_valid():
        try:
            cases.answer(found["case"], solved=form.cleaned_data["solved"],
                         satisfaction=form.cleaned_data["satisfaction"], comment=form.cleaned_data["comment"],
                         demand=demand)
        except DomainError as refused:
            messages.error(request, refused.message())
        else:
            messages.success(request, _("Thank you: your verdict is counted in the case file."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("demands:tracked", args=[number]) + "#verdict")


@public
@require_POST
def rate(request, number: str):
    demand = _tracked_or_none(request, number)
    if demand is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    form = RateForm(request.POST, demand=demand, action="rate")
    if form.is_valid():
        try:
            guests.rate(demand, solved=form.cleaned_data["solved"], satisfaction=form.cleaned_data["satisfaction"],
                        note=form.cleaned_data["note"])
        except DomainError as refused:
            messages.error(request, refused.message())
        else:
            messages.success(request, _("Thank you: your answer is recorded."))
    else:
        messages.error(request, _("Say whether it was solved and how satisfied you are."))
    return redirect("demands:tracked", number=number)


@public
@require_POST
def add_photos(request, number: str):
    demand = _tracked_or_none(request, number)
    if demand is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    ratelimit.check(request, "file_demand")
    form = AddPhotosForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                added = guests.add_photos(demand, [photos.read_upload(f) for f in form.cleaned_data["photos"]],
                                          keep_location=form.cleaned_data["share_location"])
        except DomainError as refused:
            messages.error(request, refused.message())
        else:
            messages.success(request, ngettext("%(count)s photo added.", "%(count)s photos added.", len(added))
                             % {"count": len(added)})
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("demands:tracked", args=[number]) + "#photos")


PUBLIC_PER_PAGE = 20
PUBLIC_STATES = {"open": rules.AT_DESK_STATES | rules.HANDLING_STATES | {rules.REPLIED, rules.VERIFIED},
                 "done": {rules.CLOSED, rules.RATED}}


@public
def public_list(request):
    """What residents have reported, as the public may see it (issue #16 item 6): category, state, the grid
    (never the address), the text with phone numbers, ID numbers, house numbers and the reporter's name
    scrubbed, and only the photos the desk published. Filtered by community, category and open/done."""
    from gongzhi.core import keyset
    from gongzhi.org.models import Region

    from django.contrib.auth.models import AnonymousUser

    from .models import Category
    from .views import _page

    qs = (Demand.objects.exclude(state__in=rules.FINAL_STATES)
          .select_related("category", "grid", "community").order_by("-received_at", "-id"))
    communities = list(Region.objects.filter(level=Region.Level.COMMUNITY).order_by("path").values_list("pk", "name"))
    tops = list(Category.objects.filter(parent__isnull=True, is_active=True).order_by("sort_order", "code"))
    chosen = {"community": request.GET.get("community", ""), "category": request.GET.get("category", ""),
              "state": request.GET.get("state", ""), "listed": request.GET.get("listed") == "1"}
    if chosen["listed"]:  # 挂牌督办: the demands an officer listed for public supervision (supervision.py)
        qs = qs.filter(listings__isnull=False).distinct()
    if chosen["community"].isdigit():
        qs = qs.filter(community_id=int(chosen["community"]))
    if chosen["category"]:
        qs = qs.filter(category__code__startswith=chosen["category"])
    if chosen["state"] in PUBLIC_STATES:
        qs = qs.filter(state__in=PUBLIC_STATES[chosen["state"]])
    # Keyset pages (core.keyset): the hundredth page costs what the first does, over millions of demands.
    listing = keyset.paginate(qs, queries.NEWEST_FIRST, request.GET, per_page=PUBLIC_PER_PAGE)
    from .supervision import prefetch_badges

    prefetch_badges(listing)  # the 挂牌督办 badges, in two queries
    nobody = AnonymousUser()
    published = {}
    for photo in Photo.objects.filter(demand__in=list(listing), published_at__isnull=False):
        published.setdefault(photo.demand_id, []).append(photo)
    cards = [{"demand": d, "text": queries.as_seen_by(nobody, d)["text"], "category": category_name(d.category),
              "photos": published.get(d.pk, [])} for d in listing]
    query = request.GET.copy()
    query.pop("page", None)
    return _page(request, "demands/public_list.html", {
        "page_obj": listing, "cards": cards, "communities": communities,
        "categories": [(c.code, category_name(c)) for c in tops], "chosen": chosen, "query": query.urlencode()})


def nearby(request):
    """Open demands near a point, for the filing form's "me too" (nearby.py): JSON, public, what the public
    list shows of each."""
    from django.http import JsonResponse

    from . import nearby as near

    try:
        longitude, latitude = float(request.GET.get("longitude", "")), float(request.GET.get("latitude", ""))
    except ValueError:
        return JsonResponse({"code": "invalid_point", "message": _("Give longitude and latitude as numbers.")},
                            status=400)
    try:
        found = near.open_near(longitude, latitude)
    except DomainError as refused:
        return JsonResponse({"code": refused.code, "message": refused.message()}, status=refused.status)
    return JsonResponse({"demands": found, "radius_m": near.RADIUS_M})


@require_POST
def me_too(request, number: str):
    """"Me too" on an open demand: once per account or browser session; JSON with the new count."""
    from django.http import JsonResponse

    from . import nearby as near

    try:
        ratelimit.check(request, "me_too")
        if not request.user.is_authenticated and not request.session.session_key:
            request.session.save()  # a guest's "me too" is counted once per browser session
        demand, count, added = near.me_too(number[:24], user=request.user,
                                           session_key=request.session.session_key or "")
    except DomainError as refused:
        return JsonResponse({"code": refused.code, "message": refused.message()}, status=refused.status)
    reported = count + 1  # those who said "me too", and whoever reported it
    message = (ngettext("Noted: %(n)d resident, you included, reported this.",
                        "Noted: %(n)d residents, you included, reported this.", reported) % {"n": reported}) if added \
        else _("You had already said so.")
    return JsonResponse({"number": demand.number, "supporters": count, "added": added, "message": message})
