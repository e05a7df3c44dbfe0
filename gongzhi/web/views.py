"""The cockpit pages that read across apps: the home page; the working-day calendar (core.workdays)."""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.core import clock, policy, preview, workdays
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.core.pages import action, page

# The longest text previewed: longer than any published field takes.
PREVIEW_MAX_CHARS = 10_000


GROUP_ORDER = ("patrol", "care", "building", "demands", "supervision", "cases", "deliberation", "insight", "org",
               "privacy")

# Headings of the home page's groups of work items (core.workbench: each app names its group).
WORK_GROUPS = {
    "demands": gettext_lazy("Demands"), "supervision": gettext_lazy("Supervision"),
    "patrol": gettext_lazy("Patrol"), "care": gettext_lazy("Visits and care"),
    "building": gettext_lazy("My building"), "deliberation": gettext_lazy("Meetings and topics"),
    "insight": gettext_lazy("Warnings"), "org": gettext_lazy("Residents"),
    "privacy": gettext_lazy("Personal data"), "cases": gettext_lazy("Case files"),
}


def home(request):
    """今日工作 for whoever holds a post: the counts of what needs them now, each a link to the list behind it.
    Residents and visitors get the front door: report a problem, follow it."""
    from gongzhi.core import workbench
    from gongzhi.org.permissions import active_posts

    from . import roles

    user = request.user
    context = {"calendar_warning": _calendar_warning(user)}
    if user.is_authenticated and (active_posts(user) or user.is_superuser):
        groups: dict[str, list] = {}
        for item in workbench.items_for(user):
            groups.setdefault(item.group, []).append(item)
        # Groups with something urgent first; then the field work (patrol, visits, the building) before the desk's.
        groups = dict(sorted(groups.items(), key=lambda kv: (
            not any(i.urgent and i.count for i in kv[1]),
            GROUP_ORDER.index(kv[0]) if kv[0] in GROUP_ORDER else len(GROUP_ORDER))))
        urgent = [i for items in groups.values() for i in items if i.urgent and i.count]
        context.update({
            "workbench": [{"key": key, "heading": WORK_GROUPS.get(key, ""), "items": items}
                          for key, items in groups.items()],
            "urgent_total": sum(i.count for i in urgent),
            "waiting_total": sum(i.count for items in groups.values() for i in items if not i.urgent),
            "posts": [roles.post_label(p) for p in active_posts(user)],
            "today": clock.today(),
        })
        return render(request, "web/workbench.html", context)
    if user.is_authenticated:  # a resident: what waits for them (demands to rate, notices to their building)
        context["resident_work"] = [i for i in workbench.items_for(user) if i.count]
    return render(request, "web/home.html", context)


@action
def acting_post(request):
    """The header's switch: act as one of my posts (its id), or as all of them (empty)."""
    from django.shortcuts import redirect
    from django.utils.http import url_has_allowed_host_and_scheme

    from gongzhi.core.errors import ValidationFailed

    from . import roles

    chosen = request.POST.get("post", "")
    held = {p.pk for p in roles.held_posts(request.user)}
    if chosen and (not chosen.isdigit() or int(chosen) not in held):
        raise ValidationFailed(_("That post is not one of yours."))
    if chosen:
        request.session[roles.SESSION_KEY] = int(chosen)
    else:
        request.session.pop(roles.SESSION_KEY, None)
    target = request.POST.get("next") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("web:home")
    return redirect(target)


def _calendar_warning(user) -> int | None:
    """Next year, to officers who keep the calendar, from 1 November while its holiday notice is missing."""
    if not getattr(user, "is_authenticated", False) or not policy.can(user, "core.calendar.manage"):
        return None
    return workdays.missing_next_year()


SOURCE_LABELS = {
    workdays.OFFICE: gettext_lazy("imported by the office"),
    workdays.BUILT_IN: gettext_lazy("shipped with gongzhi"),
    workdays.LIBRARY: gettext_lazy("from the chinese-calendar library"),
    workdays.NONE: gettext_lazy("no notice: Monday to Friday count as working days"),
}

MAX_NOTICE_FILE = 256 * 1024


@page
@require_http_methods(["GET", "POST"])
def calendar(request):
    """The years and where each one's holidays come from; officers who keep the calendar import notices here."""
    may_manage = policy.can(request.user, "core.calendar.manage")
    result = error = None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("core.calendar.manage")
        upload = request.FILES.get("file")
        check_only = bool(request.POST.get("check_only"))
        if upload is None:
            error = _("Choose the file of the notice first.")
        elif upload.size > MAX_NOTICE_FILE:
            error = _("The file is too large for a holiday notice (at most 256 KB).")
        else:
            try:
                result = _import(upload.read(), upload.name, request.user, check_only=check_only)
            except workdays.CalendarError as failure:
                error = failure.message()
        status = 400 if error else 200
    else:
        status = 200
    this_year = clock.today().year
    years = [{"calendar": c, "source": SOURCE_LABELS[c.source], "summary": _summary(c)}
             for c in reversed(workdays.overview(this_year - 2, this_year + 1))]
    return render(request, "web/calendar.html", {
        "years": years, "may_manage": may_manage, "result": result, "error": error,
        "missing": workdays.missing_next_year() if may_manage else None,
    }, status=status)


def _import(content: bytes, filename: str, user, *, check_only: bool) -> dict:
    from django.db import transaction

    notices = workdays.parse(content, filename)
    if check_only:
        with transaction.atomic():
            report = workdays.import_notices(notices, by=user)
            transaction.set_rollback(True)
        workdays.invalidate()
    else:
        report = workdays.import_notices(notices, by=user)
    report["check_only"] = check_only
    report["notices"] = [{"year": n.year, "title": n.title, "number": n.number, **n.summary()} for n in notices]
    return report


def _summary(calendar: workdays.YearCalendar) -> dict:
    return {"holidays": len(calendar.holidays), "working": len(calendar.working),
            "statutory": sum(1 for d in calendar.holidays if d.weekday() < 5) - len(calendar.working)}


@page
def calendar_year(request, year: int):
    if not 2000 <= year <= 2100:
        raise NotFound(_("year %(year)s") % {"year": year})
    calendar = workdays.year_calendar(year)
    return render(request, "web/calendar_year.html", {
        "calendar": calendar, "source": SOURCE_LABELS[calendar.source], "ranges": workdays.ranges_of(calendar),
        "summary": _summary(calendar), "may_manage": policy.can(request.user, "core.calendar.manage")})


@page
def calendar_file(request, year: int):
    """A year's notice in the import format (JSON): to check it, correct it, or start next year's from it."""
    calendar = workdays.year_calendar(year)
    if not calendar.known:
        raise NotFound(_("no holiday notice for %(year)s") % {"year": year})
    body = {"year": year, "title": calendar.title, "number": calendar.number,
            "published_on": calendar.published_on.isoformat() if calendar.published_on else None,
            "holidays": [{"name": r["name"], "from": r["from"].isoformat(), "to": r["to"].isoformat()}
                         for r in workdays.ranges_of(calendar) if r["kind"] == "holiday"],
            "working_days": [{"name": r["name"], "day": r["from"].isoformat()}
                             for r in workdays.ranges_of(calendar) if r["kind"] == "working"]}
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="holiday-notice-{year}.json"'
    return response


@require_POST
def masked_preview(request):
    """What the public will not see of the text being typed (core.preview): htmx posts the field's form with
    the field's name in HX-Trigger-Name; the answer is a small fragment listing each masked piece. POST (with
    the CSRF token) so the text stays out of URLs and logs."""
    name = request.headers.get("HX-Trigger-Name") or request.POST.get("field") or ""
    text = request.POST.get(name, "")[:PREVIEW_MAX_CHARS]
    found = preview.findings(text)
    if not found:
        return HttpResponse("")  # an empty box, hidden by the style sheet
    return render(request, "web/_masked_preview.html", {"findings": found})


# --- installable on a phone (issue #16 item 9) -------------------------------------------------------------

SHELL_PAGES = ("web:home", "web:offline", "demands:report", "demands:track", "patrol:today")
SHELL_STATIC = ("web/gongzhi.css", "web/gongzhi.js", "django_htmx/htmx-2.min.js", "web/demands.css",
                "web/demandmap.js", "leaflet/leaflet.js", "leaflet/leaflet.css", "web/icons/gongzhi-192.png",
                "web/gzmap.js", "web/gzmap.css", "patrol/patrol.js", "patrol/patrol.css")


def manifest(request):
    """The web app manifest: name, icons, start page; in the visitor's language."""
    from django.templatetags.static import static

    body = {
        "name": _("Gongzhi — grassroots governance"), "short_name": _("Gongzhi"),
        "description": _("Report a problem, follow it, and take part in your community's decisions."),
        "lang": get_language() or "zh-hans", "start_url": reverse("web:home"), "scope": "/",
        "display": "standalone", "background_color": "#f6f6f4", "theme_color": "#b71c1c",
        "icons": [{"src": static(f"web/icons/gongzhi-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "any maskable"} for size in (192, 512)],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")


def service_worker(request):
    """The service worker, at the site's root so that its scope is every page."""
    import hashlib

    from django.conf import settings
    from django.templatetags.static import static

    shell = [reverse(name) for name in SHELL_PAGES] + [static(path) for path in SHELL_STATIC]
    version = hashlib.sha256(json.dumps(shell).encode() + settings.GONGZHI_SHELL_VERSION.encode()).hexdigest()[:12]
    response = render(request, "web/sw.js", {"shell": json.dumps(shell), "version": version,
                                             "offline_url": reverse("web:offline"),
                                             "static_prefix": settings.STATIC_URL},
                      content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


def offline(request):
    return render(request, "web/offline.html")


def dev_sms(request):
    """The text messages the log backend kept (core/sms.py), newest first: only with DEBUG, as a developer's
    stand-in for a phone. Without DEBUG there is no such page."""
    from django.conf import settings
    from django.http import Http404

    from gongzhi.core.models import OutgoingSms

    if not settings.DEBUG:
        raise Http404()
    return render(request, "web/dev_sms.html", {"messages_sent": OutgoingSms.objects.all()[:50]})


def favicon(request):
    """Browsers ask every site for /favicon.ico: the app's icon answers."""
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("web/icons/gongzhi-192.png"), permanent=True)
