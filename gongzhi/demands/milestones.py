"""Missed milestones of decisions' projects (issue #18 item 2), followed like overdue demands: the rows of the
supervision board's section (for supervisors, their street or district; for the responsible unit's people,
their units), the home page's counts, and the sweep that gives the unit ONE notice per missed milestone.

The milestones are duties' tasks (duties.services.missed_milestones); this app only follows them up, as it
follows demands (督办). The case file a project belongs to is reached by its URL name, never imported."""

import datetime as dt

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import clock, events
from gongzhi.core.models import Event
from gongzhi.duties import services as duties
from gongzhi.duties.models import Task

from .models import Notification
from .supervision import _superuser, calendar_days_late, office_org_ids, supervisor_paths, working_days_late

NOTICE_EVENT = "demands.milestone_missed"  # one per milestone: the unit was told (the sweep's memory)
LISTED = 50


def board_url() -> str:
    return f"{reverse('demands:supervision')}?milestones=1#milestones"


def for_supervisor(user, *, today: dt.date | None = None):
    """The missed milestones in `user`'s supervision scope (everywhere for a superuser), oldest first."""
    if _superuser(user):
        return duties.missed_milestones(None, today=today)
    paths = supervisor_paths(user)
    return duties.missed_milestones(paths, today=today) if paths else Task.objects.none()


def for_units(user, *, today: dt.date | None = None):
    """The missed milestones of the units `user` holds an office in: theirs to catch up on."""
    units = office_org_ids(user)
    if not units:
        return Task.objects.none()
    return duties.missed_milestones(None, today=today).filter(unit_id__in=units)


def narrowed(tasks, *, unit: int | None = None, community=None):
    """The board's filters: by the responsible unit, by the community the project is in."""
    if unit is not None:
        tasks = tasks.filter(unit_id=unit)
    if community is not None:
        tasks = tasks.filter(project__region__path__startswith=community.path)
    return tasks


def _due(deadline: dt.date) -> dt.datetime:
    """The end of the deadline's day, local time: late from the next day on."""
    return timezone.make_aware(dt.datetime.combine(deadline, dt.time(23, 59)))


def row(task: Task, now: dt.datetime) -> dict:
    due = _due(task.deadline)
    return {"task": task, "project": task.project, "unit": task.unit, "deadline": task.deadline,
            "days_late": working_days_late(due, now), "calendar_days_late": calendar_days_late(due, now)}


def case_link(task: Task) -> str:
    """The page the unit is sent to: the case file of the project's case, else the project's goal page."""
    case = getattr(task.project, "case", None)  # the cases app's reverse relation, when the project has a case
    if case is not None:
        try:
            return reverse("cases:detail", args=[case.pk]) + "#project"
        except NoReverseMatch:  # pragma: no cover - the cases app is always installed with demands
            pass
    if task.goal_id:
        return reverse("duties:goal", args=[task.goal_id]) + f"#task-{task.pk}"
    return ""


def _told(task_ids) -> set[str]:
    return set(Event.objects.filter(kind=NOTICE_EVENT, subject_type="duties.task",
                                    subject_id__in=[str(pk) for pk in task_ids]).values_list("subject_id", flat=True))


def sweep(today: dt.date | None = None) -> int:
    """Tell the responsible unit, once, of each milestone it missed: a notice in its message centre linking to
    the case file (or the project's goal). Idempotent: the event recorded with the notice, in the same
    transaction, is what says the unit was told; the milestone's row is locked while it is checked."""
    missed = list(duties.missed_milestones(None, today=today))
    told = _told([t.pk for t in missed])
    count = 0
    for task in missed:
        if str(task.pk) in told:
            continue
        with transaction.atomic():
            Task.objects.select_for_update().filter(pk=task.pk).first()
            if _told([task.pk]):
                continue
            text = _("Milestone missed: “%(milestone)s” of the project “%(project)s” was due %(deadline)s. "
                     "Report its progress, or the new date, to the officers who decided it.") % {
                "milestone": task.title, "project": task.project.title, "deadline": task.deadline.isoformat()}
            Notification.objects.create(recipient_unit=task.unit, kind=Notification.Kind.REMINDER, text=text[:300],
                                        link=case_link(task), created_at=clock.now())
            events.record(NOTICE_EVENT, task, unit=task.unit_id, project=task.project_id,
                          deadline=task.deadline.isoformat())
        count += 1
    return count


def work_items(user) -> list:
    """逾期项目节点: for the responsible unit's people, their units' missed milestones; for supervisors, those of
    their street or district. Each links to the board's milestone section (?milestones=1)."""
    from gongzhi.core.workbench import WorkItem

    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    units = for_units(user).count() if office_org_ids(user) else 0
    if units:
        items.append(WorkItem("milestones.unit", gettext_lazy("Missed project milestones"), units, board_url(),
                              urgent=True, group="supervision", order=4))
    if supervisor_paths(user):
        missed = for_supervisor(user).count()
        items.append(WorkItem("milestones.area", gettext_lazy("Missed project milestones in my area"), missed,
                              board_url(), urgent=bool(missed), group="supervision", order=8))
    return items
