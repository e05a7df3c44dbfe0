"""Case-file pages (案卷): the list of case files, and one case file as a timeline of the whole loop — the
complaints, the evidence, the deliberation and its opinion map, the meetings' roll and quorum, the motions'
counts with their ballot lists, the decision under the power list with its disclosure, the project's milestones,
progress and photos, and the residents' verdict — each step with its ledger receipt, and a button that checks
every receipt against the current signed checkpoint.

Reading needs no sign-in where the topic is public (queries.get_visible). Acting on the page calls one use case:
a resident who raised the problem answers the verdict (services.answer), the responsible unit reports progress
with photos (services.report_progress), an officer of the place records the project done
(duties.services.record_project_outcome); a refusal comes back on the page in words, with its 4xx status."""

import json

from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongzhi.core import ratelimit
from gongzhi.core.errors import NotFound
from gongzhi.core.pages import action, public, refusal, submit
from gongzhi.duties import services as duties
from gongzhi.duties.models import Task

from . import queries, services
from .forms import CheckForm, OutcomeForm, ProgressForm, ReplyAllForm, VerdictForm
from .models import Case, ProgressPhoto


@public
def case_list(request):
    waiting, status = request.GET.get("waiting", ""), request.GET.get("status", "")
    rows = queries.filtered(request.user, queries.visible_cases(request.user), waiting=waiting, status=status)
    page_obj = Paginator(rows, queries.CASES_PER_PAGE).get_page(request.GET.get("page"))
    items = [{"case": c, "place": queries.place(c), "standing": queries.standing(c)} for c in page_obj]
    narrowed = ""
    if waiting == "me":
        narrowed = _("asking whether your problem is solved")
    elif waiting == "mine":
        narrowed = _("problems you raised")
    elif status in Case.Status.values:
        narrowed = Case.Status(status).label
    return render(request, "cases/list.html", {"items": items, "page_obj": page_obj, "narrowed": narrowed})


# ---------------------------------------------------------------------------------------------
# One case file


def _context(request, case: Case, *, forms=None, error=None, check=None, for_print=False) -> dict:
    forms = forms or {}
    all_steps = queries.steps(case)
    project = queries.project(case)
    may = queries.may_act(request.user, case, project) if not for_print else queries.may_act(None, case, None)
    if project is not None:
        case.milestones, case.milestones_done = len(project["milestones"]), project["done_count"]  # for standing()
        for milestone in project["milestones"]:
            task = milestone["task"]
            if may["report"].get(task.pk):
                name = f"progress-{task.pk}"
                milestone["form"] = forms.get(name) or ProgressForm(prefix=name)
            if may["check"].get(task.pk):
                name = f"check-{task.pk}"
                milestone["check_form"] = forms.get(name) or CheckForm(prefix=name)
    return {
        "case": case, "place": queries.place(case), "standing": queries.standing(case),
        "topic": case.topic, "complaints": queries.complaints(case), "evidence": queries.evidence(case.topic),
        "map": queries.opinion_map(case.topic), "procedure": queries.procedure(case.topic),
        "meetings": queries.meetings(case.topic), "decision": queries.decision(case),
        "disclosures": queries.disclosures(case), "project": project,
        "rounds": queries.verdict_rounds(case), "asked": queries.asked_count(case) if case.verdict_round else 0,
        "receipts": queries.receipts_by_section(all_steps), "receipt_count": len(all_steps),
        "may": may, "error": refusal(error), "check": check, "for_print": for_print,
        "verdict_form": forms.get("verdict") or (VerdictForm() if may["answer"] else None),
        "outcome_form": forms.get("outcome") or (OutcomeForm() if may["outcome"] else None),
        "reply_form": forms.get("reply") or (ReplyAllForm() if may["reply"] else None),
    }


def _page(request, case: Case, *, forms=None, error=None, check=None, status=200):
    return render(request, "cases/detail.html", _context(request, case, forms=forms, error=error, check=check),
                  status=status)


@public
def detail(request, case_id: int):
    return _page(request, queries.get_visible(request.user, case_id))


@public
@require_http_methods(["GET", "POST"])
def verify(request, case_id: int):
    """验证整个案卷: every step's receipt checked against the current signed checkpoint (rate-limited as the
    ledger's receipt checks are). A GET (a reload, a shared link) goes back to the case file's button."""
    case = queries.get_visible(request.user, case_id)
    if request.method != "POST":
        return redirect(reverse("cases:detail", args=[case.pk]) + "#verify")
    ratelimit.check(request, "receipt_check")
    return _page(request, case, check=queries.check_case(case))


@public
def receipt(request, case_id: int, event_id: int):
    """One step's ledger receipt, as the JSON file the ledger's receipt page checks."""
    case = queries.get_visible(request.user, case_id)
    found = queries.step_receipt(queries.step_event(case, event_id))
    if found is None:
        raise NotFound(_("receipt of event %(event_id)s") % {"event_id": event_id})
    return _json_file(found, f"case-{case.pk}-{found['index']}.json")


@public
def receipts(request, case_id: int):
    """Every step's receipt in one file, to check offline."""
    case = queries.get_visible(request.user, case_id)
    return _json_file(queries.receipt_bundle(case), f"case-{case.pk}-receipts.json")


def _json_file(data, filename: str) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public
def photo(request, case_id: int, progress_photo_id: int, size: str = "full"):
    """A photo of the work, public with the case file (it shows the work, not people)."""
    case = queries.get_visible(request.user, case_id)
    found = ProgressPhoto.objects.filter(case=case, pk=progress_photo_id).first()
    if found is None:
        raise NotFound(_("photo %(photo_id)s") % {"photo_id": progress_photo_id})
    stored = found.thumbnail if size == "thumb" else found.image
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400" if case.topic.is_public else "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _done(case: Case, notice: str, anchor: str):
    return lambda _result: (notice, reverse("cases:detail", args=[case.pk]) + f"#{anchor}")


@action
def answer(request, case_id: int):
    case = queries.get_visible(request.user, case_id)
    form = VerdictForm(request.POST)

    def call(data):
        return services.answer(case, solved=data["solved"], satisfaction=data["satisfaction"],
                               comment=data["comment"], user=request.user)

    return submit(request, call, form=form, name="verdict", page=lambda **kw: _page(request, case, **kw),
                  done=_done(case, _("Thank you: your answer is counted."), "verdict"))


@action
def report_progress(request, case_id: int, task_id: int):
    case = queries.get_visible(request.user, case_id)
    task = Task.objects.filter(pk=task_id, project_id=case.project_id).first() if case.project_id else None
    if task is None:
        raise NotFound(_("milestone %(pk)s") % {"pk": task_id})
    name = f"progress-{task.pk}"
    form = ProgressForm(request.POST, request.FILES, prefix=name)

    def call(data):
        photos = [upload.read() for upload in data["photos"]]
        return services.report_progress(request.user, case, task, note=data["note"], photos=photos,
                                        done=data["done"])

    return submit(request, call, form=form, name=name, page=lambda **kw: _page(request, case, **kw),
                  done=_done(case, _("Progress reported."), f"milestone-{task.pk}"))


@action
def reply_to_demands(request, case_id: int):
    """The lead unit answers every demand of the case it holds, at once (cases.services.reply_to_demands)."""
    case = queries.get_visible(request.user, case_id)
    form = ReplyAllForm(request.POST)

    def call(data):
        return services.reply_to_demands(request.user, case, text=data["text"])

    return submit(request, call, form=form, name="reply", page=lambda **kw: _page(request, case, **kw),
                  done=_done(case, _("Your answer is sent to each of these demands."), "complaints"))


@action
def check_milestone(request, case_id: int, task_id: int):
    """An officer's 验收 of a completed milestone: accepted, or sent back to the unit to be put right."""
    case = queries.get_visible(request.user, case_id)
    task = Task.objects.filter(pk=task_id, project_id=case.project_id).first() if case.project_id else None
    if task is None:
        raise NotFound(_("milestone %(pk)s") % {"pk": task_id})
    name = f"check-{task.pk}"
    form = CheckForm(request.POST, prefix=name)

    def call(data):
        return duties.check_task(request.user, task, quality_met=data["quality_met"], note=data["note"])

    return submit(request, call, form=form, name=name, page=lambda **kw: _page(request, case, **kw),
                  done=_done(case, _("The check is recorded."), f"milestone-{task.pk}"))


@action
def record_outcome(request, case_id: int):
    case = queries.get_visible(request.user, case_id)
    if case.project_id is None:
        raise NotFound(_("project of case file %(pk)s") % {"pk": case.pk})
    form = OutcomeForm(request.POST)

    def call(data):
        return duties.record_project_outcome(request.user, case.project, data["outcome"])

    return submit(request, call, form=form, name="outcome", page=lambda **kw: _page(request, case, **kw),
                  done=_done(case, _("The project is recorded done; the residents are asked."), "verdict"))


# ---------------------------------------------------------------------------------------------
# The printed case file


@public
def pdf(request, case_id: int):
    """The case file as a PDF (WeasyPrint, as the monthly report); 503 with what to install when it cannot load."""
    case = queries.get_visible(request.user, case_id)
    html = render_to_string("cases/print.html", _context(request, case, for_print=True), request=request)
    try:
        from weasyprint import HTML

        data = HTML(string=html, url_fetcher=_no_fetching).write_pdf()
    except (ImportError, OSError) as missing:
        error = {"status": 503, "message": _("The PDF cannot be made on this server (%(detail)s). Use the browser's "
                                             "print instead.") % {"detail": str(missing)[:200]}}
        return render(request, "web/error.html", {"error": error}, status=503)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}.pdf"'
    return response


def _no_fetching(url, *args, **kwargs):
    raise ValueError(f"the case file PDF fetches nothing: {url}")
