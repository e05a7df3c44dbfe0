"""The case files' counts on the home page (core.workbench): a resident's cases asking for their verdict; for
officers of a place, its cases reopened for review (most residents said "not solved") and its cases in
progress with a missed milestone are on the supervision board (demands' provider)."""

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core.workbench import WorkItem
from gongzhi.demands.models import Support as DemandSupport
from gongzhi.deliberation.models import Support
from gongzhi.duties.permissions import officer_paths

from .models import Case, CaseDemand, Verdict


def _mine_q(user) -> Q:
    return (Q(Exists(CaseDemand.objects.filter(case=OuterRef("pk"), demand__reporter_user_id=user.pk)))
            | Q(Exists(DemandSupport.objects.filter(demand__case_links__case=OuterRef("pk"), user_id=user.pk)))
            | Q(Exists(Support.objects.filter(topic_id=OuterRef("topic_id"), user_id=user.pk))))


def mine(user):
    """The cases of problems this resident raised (their demand, their "me too", their support)."""
    return Case.objects.filter(_mine_q(user))


def asking(user):
    """The cases asking for this resident's verdict now, not yet answered in their round."""
    answered = Verdict.objects.filter(case=OuterRef("pk"), round=OuterRef("verdict_round"), user_id=user.pk)
    return Case.objects.filter(_mine_q(user), status=Case.Status.ASKING).exclude(Exists(answered))


def in_review(user):
    paths = officer_paths(user)
    if not paths:
        return Case.objects.none()
    where = Q(pk__in=[])
    for path in paths:
        where |= Q(region__path__startswith=path)
    return Case.objects.filter(where, status=Case.Status.REVIEW)


def work_items(user) -> list[WorkItem]:
    items = []
    waiting = asking(user).count()
    if waiting:
        items.append(WorkItem("cases.verdict", _("case files asking whether your problem is solved"), waiting,
                              reverse("cases:list") + "?waiting=me", urgent=True, group="cases", order=10))
    following = mine(user).exclude(status__in=[Case.Status.SOLVED, Case.Status.CLOSED]).count()
    if following:
        items.append(WorkItem("cases.mine", _("problems you raised, followed in a case file"), following,
                              reverse("cases:list") + "?waiting=mine", group="cases", order=15))
    paths = officer_paths(user)
    if paths:
        items.append(WorkItem("cases.review", _("case files reopened for review"), in_review(user).count(),
                              reverse("cases:list") + "?status=review", urgent=True, group="cases", order=20))
    return items
