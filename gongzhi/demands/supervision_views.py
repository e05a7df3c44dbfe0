"""Pages of 督办 (supervision.py): the supervision board of the street and district (overdue demands and the
orders they follow), the unit's orders to answer, and one page per act (issue an order, list a demand
publicly, answer an order, close it), each a form that is shown again with its error and a 4xx status when
refused, and that returns where it came from when done."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import clock, policy
from gongzhi.core.errors import DomainError
from gongzhi.core.pages import page

from . import milestones, queries, supervision
from .forms import category_name
from .models import SupervisionOrder

PER_PAGE = 30
STATUS_LABELS = {"open": gettext_lazy("awaiting answer"), "answered": gettext_lazy("answered"),
                 "closed": gettext_lazy("closed")}


# --- forms -----------------------------------------------------------------------------------------------

class BoardFilter(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Orders"), required=False,
                               choices=[(s, STATUS_LABELS[s]) for s in supervision.STATUSES])
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit"), required=False, coerce=int, empty_value=None)
    community = forms.TypedChoiceField(label=gettext_lazy("Community"), required=False, coerce=int, empty_value=None)
    late = forms.BooleanField(label=gettext_lazy("only those not answered in time"), required=False)

    def __init__(self, *args, units=(), communities=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        everything = [("", gettext_lazy("all"))]
        self.fields["unit"].choices = everything + list(units)
        self.fields["community"].choices = everything + list(communities)


class IssueForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note to the unit"), max_length=supervision.MAX_NOTE, strip=True,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": gettext_lazy("Write the note.")})
    respond_by = forms.DateTimeField(
        label=gettext_lazy("New deadline: act and answer by"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": gettext_lazy("Give the new deadline."),
                        "invalid": gettext_lazy("Give the new deadline as a date and a time.")})


class ListForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), widget=forms.RadioSelect,
                               choices=[(r.value, r.label) for r in supervision.OFFICER_REASONS],
                               error_messages={"required": gettext_lazy("Choose a reason for listing.")})
    note = forms.CharField(label=gettext_lazy("The reason in words (public: no names or numbers)"),
                           max_length=supervision.MAX_LISTING_NOTE, required=False, strip=True)


class AnswerForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("What your unit will do"), max_length=supervision.MAX_NOTE, strip=True,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": gettext_lazy("Say what your unit will do.")})
    promised_by = forms.DateField(label=gettext_lazy("Done by"), widget=forms.DateInput(attrs={"type": "date"}),
                                  error_messages={"required": gettext_lazy("Say by when it will be done."),
                                                  "invalid": gettext_lazy("Give the day as a date.")})


class CloseForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Closing note"), max_length=supervision.MAX_NOTE, required=False,
                           strip=True, widget=forms.Textarea(attrs={"rows": 2}))


# --- shared pieces ---------------------------------------------------------------------------------------

def _render(request, template: str, context: dict, status: int = 200):
    from .views import _page

    return _page(request, template, context, status=status)


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _order_row(order: SupervisionOrder, now) -> dict:
    demand = order.demand
    return {
        "order": order, "demand": demand, "category": category_name(demand.category),
        "deadline": supervision.deadline_label(order.deadline),
        "days_late": supervision.working_days_late(order.due, now),
        "calendar_days_late": supervision.calendar_days_late(order.due, now),
        "hours_late": supervision.hours_late(order.due, now) if order.resolved_at is None else None,
        "answer_late": order.resolved_at is None and order.answered_at is None and (
            (order.respond_by or order.issued_at + supervision.answer_window()) < now),
        "status": "closed" if order.resolved_at else "answered" if order.answered_at else "open",
    }


def _demand_row(demand, now) -> dict:
    missed = supervision.missed_deadline(demand, now)
    kind, due = missed if missed else (None, None)
    return {"demand": demand, "category": category_name(demand.category),
            "deadline": supervision.deadline_label(kind) if kind else "", "due": due,
            "unit": demand.lead_unit or demand.desk,
            "days_late": supervision.working_days_late(due, now),
            "calendar_days_late": supervision.calendar_days_late(due, now),
            "hours_late": supervision.hours_late(due, now)}


# --- the board and the inbox ---------------------------------------------------------------------------------

@page
def board(request):
    """督办台: the orders the user follows (open, answered or closed) and, with the open ones, the overdue
    demands of their scope that no order covers yet, oldest first, filtered by unit and community."""
    user = request.user
    if request.GET.get("milestones") == "1" and not policy.can(user, "demands.supervision.board"):
        return _unit_milestones(request)
    policy.require(user, "demands.supervision.board")
    units, communities = supervision.board_filter_choices(user)
    form = BoardFilter(request.GET or None, units=units, communities=communities)
    status, unit, community, late = "open", None, None, False
    if form.is_bound and not form.is_valid():
        return _render(request, "demands/supervision_board.html",
                       {"form": form, "rows": [], "overdue": [], "status": status, "invalid": True}, status=400)
    if form.is_bound:
        status = form.cleaned_data["status"] or "open"
        unit, community = form.cleaned_data["unit"], form.cleaned_data["community"]
        late = form.cleaned_data["late"]
    now = clock.now()
    orders = Paginator(supervision.board_orders(user, status=status, unit=unit, community=community, late=late,
                                                now=now), PER_PAGE).get_page(request.GET.get("page"))
    overdue_qs = supervision.overdue_unsupervised(user, unit=unit, community=community, now=now)
    with_overdue = status == "open" and not late
    overdue = list(overdue_qs[:PER_PAGE]) if with_overdue else []
    supervision.prefetch_badges([o.demand for o in orders] + overdue)
    context = {
        "form": form, "status": status, "status_label": STATUS_LABELS[status], "page_obj": orders,
        "rows": [_order_row(o, now) for o in orders],
        "overdue": [_demand_row(d, now) for d in overdue],
        "overdue_count": overdue_qs.count() if with_overdue else 0, "with_overdue": with_overdue,
        "here": request.get_full_path(),
    }
    missed = milestones.narrowed(milestones.for_supervisor(user, today=timezone.localdate(now)), unit=unit,
                                 community=_community(community))
    context.update(milestones=[milestones.row(t, now) for t in missed[:milestones.LISTED]],
                   milestones_count=missed.count())
    return _render(request, "demands/supervision_board.html", context)


def _community(pk: int | None):
    from gongzhi.org.models import Region

    return Region.objects.filter(pk=pk).first() if pk is not None else None


def _unit_milestones(request):
    """The board's milestone section alone, for the people of a responsible unit (who supervise nothing):
    the milestones their units missed, the count on their home page."""
    now = clock.now()
    missed = milestones.for_units(request.user, today=timezone.localdate(now))
    context = {"milestones_only": True, "milestones": [milestones.row(t, now) for t in missed[:milestones.LISTED]],
               "milestones_count": missed.count(), "here": request.get_full_path()}
    return _render(request, "demands/supervision_board.html", context)


@page
def inbox(request):
    """The supervision orders addressed to the user's units: to answer (open), answered, closed."""
    user = request.user
    policy.require(user, "demands.supervision.inbox")
    status = request.GET.get("status") or "open"
    if status not in supervision.STATUSES:
        return _render(request, "demands/supervision_inbox.html",
                       {"rows": [], "status": "open", "error": _("Unknown status.")}, status=400)
    now = clock.now()
    orders = Paginator(supervision.inbox(user, status=status), PER_PAGE).get_page(request.GET.get("page"))
    supervision.prefetch_badges([o.demand for o in orders])
    context = {"status": status, "status_label": STATUS_LABELS[status], "page_obj": orders,
               "statuses": [(s, STATUS_LABELS[s]) for s in supervision.STATUSES],
               "rows": [_order_row(o, now) for o in orders], "here": request.get_full_path()}
    return _render(request, "demands/supervision_inbox.html", context)


# --- one page per act -----------------------------------------------------------------------------------------

def _act(request, *, demand, form_class, action: str, call, title: str, submit: str, done: str, back: str,
         order=None, initial=None):
    """GET: the form; POST: the use case, then back with a notice, or the form again with the reason (4xx)."""
    form = form_class(request.POST or None, initial=initial, label_suffix="")
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                call(form.cleaned_data)
            except DomainError as refused:
                error, status = refused.message(), refused.status
            else:
                messages.success(request, done)
                return redirect(_next(request, back))
        else:
            status = 400
    now = clock.now()
    context = {"form": form, "demand": demand, "order_row": _order_row(order, now) if order else None,
               "demand_row": _demand_row(demand, now), "seen": queries.as_seen_by(request.user, demand),
               "title": title, "submit": submit, "action": action, "error": error,
               "next": _next(request, back), "back": _next(request, back)}
    return _render(request, "demands/supervision_form.html", context, status=status)


@page
def issue(request, number: str):
    """Issue a 督办单 on a demand (from the board or the demand's page)."""
    demand = queries.get_visible(request.user, number)
    policy.require(request.user, "demands.supervision.issue", demand)
    return _act(request, demand=demand, form_class=IssueForm, action="issue",
                call=lambda data: supervision.issue_order(request.user, demand, note=data["note"],
                                                          respond_by=data["respond_by"]),
                title=_("Supervise demand %(number)s") % {"number": demand.number}, submit=_("Issue the order"),
                done=_("Supervision order issued on demand %(number)s.") % {"number": demand.number},
                back=reverse("demands:detail", args=[demand.number]))


@page
def list_publicly(request, number: str):
    """挂牌督办: list a demand publicly, with its reason."""
    demand = queries.get_visible(request.user, number)
    policy.require(request.user, "demands.supervision.list", demand)
    return _act(request, demand=demand, form_class=ListForm, action="list",
                call=lambda data: supervision.list_publicly(request.user, demand, reason=data["reason"],
                                                            note=data["note"]),
                title=_("List demand %(number)s for public supervision") % {"number": demand.number},
                submit=_("List publicly"),
                done=_("Demand %(number)s is listed for public supervision.") % {"number": demand.number},
                back=reverse("demands:detail", args=[demand.number]))


@page
def answer(request, order_id: int):
    """The unit answers an order addressed to it: what it will do, and by when."""
    order = supervision.get_order(request.user, order_id)
    policy.require(request.user, "demands.supervision.answer", order)
    return _act(request, demand=order.demand, order=order, form_class=AnswerForm, action="answer",
                call=lambda data: supervision.answer_order(request.user, order, text=data["text"],
                                                           promised_by=data["promised_by"]),
                title=_("Answer the supervision order on demand %(number)s") % {"number": order.demand.number},
                submit=_("Send the answer"), done=_("Your answer is sent."),
                back=reverse("demands:supervision_inbox"),
                initial={"promised_by": timezone.localtime(order.respond_by).date() if order.respond_by else None})


@page
def close(request, order_id: int):
    """The supervisor closes an order."""
    order = supervision.get_order(request.user, order_id)
    policy.require(request.user, "demands.supervision.close", order)
    return _act(request, demand=order.demand, order=order, form_class=CloseForm, action="close",
                call=lambda data: supervision.close_order(request.user, order, note=data["note"]),
                title=_("Close the supervision order on demand %(number)s") % {"number": order.demand.number},
                submit=_("Close the order"), done=_("The supervision order is closed."),
                back=reverse("demands:supervision"))

