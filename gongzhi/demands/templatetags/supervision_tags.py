"""Template tags of 督办 (supervision.py): the 督办 / 挂牌督办 badges wherever a demand appears, the supervision
panel of a demand's page, and the queue's line on orders waiting for the unit's answer."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.core import clock, policy

from .. import supervision

register = template.Library()


@register.simple_tag
def supervision_badges(demand, public=False):
    """督办 (an open order) and 挂牌督办 (listed) badges; `public`: the listing only (the public side)."""
    found = supervision.badges(demand)
    shown = []
    if found["supervised"] and not public:
        shown.append(("badge supervised", _("an open supervision order"), _("supervised")))
    if found["listed"]:
        shown.append(("badge listed", _("listed for public supervision"), _("listed supervision")))
    return format_html_join(" ", '<span class="{}" title="{}">{}</span>', shown)


@register.inclusion_tag("demands/_supervision_panel.html", takes_context=True)
def supervision_panel(context, demand):
    """The orders on a demand and what the user may do about them (issue, list, answer, close)."""
    user = context["request"].user
    now = clock.now()
    rows = []
    for order in supervision.orders_of(demand):
        order.demand = demand
        if not policy.can(user, "demands.supervision.view", order):
            continue
        rows.append({"order": order, "deadline": supervision.deadline_label(order.deadline),
                     "days_late": supervision.working_days_late(order.due, now),
                     "hours_late": supervision.hours_late(order.due, now) if order.resolved_at is None else None,
                     "may_answer": order.resolved_at is None and order.answered_at is None
                     and policy.can(user, "demands.supervision.answer", order),
                     "may_close": order.resolved_at is None and policy.can(user, "demands.supervision.close", order),
                     "answer_late": order.resolved_at is None and order.answered_at is None and (
                         (order.respond_by or order.issued_at + supervision.answer_window()) < now)})
    settled = demand.state in supervision.SETTLED_STATES
    has_open_officer_order = any(r["order"].kind == "officer" and r["order"].resolved_at is None for r in rows)
    listings = list(supervision.listings_of(demand))
    return {
        "demand": demand, "rows": rows, "listings": listings, "request": context["request"],
        "may_issue": not settled and not has_open_officer_order
        and policy.can(user, "demands.supervision.issue", demand),
        "may_list": not settled and not listings and policy.can(user, "demands.supervision.list", demand),
    }


@register.simple_tag(takes_context=True)
def supervision_inbox_notice(context):
    """A line for the queue: how many supervision orders wait for the answer of the user's units."""
    from django.urls import reverse

    user = context["request"].user
    waiting = supervision.inbox(user, status="open").count() if policy.can(user, "demands.supervision.inbox") else 0
    if not waiting:
        return ""
    return format_html('<p class="notice supervision-notice" role="status"><span class="badge supervised">{}</span> '
                       '{} <a href="{}">{}</a></p>', _("supervised"),
                       ngettext("%(n)s supervision order waits for your unit's answer.",
                                "%(n)s supervision orders wait for your unit's answer.", waiting) % {"n": waiting},
                       reverse("demands:supervision_inbox"), _("Answer them"))
