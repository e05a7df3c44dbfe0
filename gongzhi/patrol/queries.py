"""Read side of patrol: the grids a person patrols or manages, today's tasks with their check-ins, the
demands waiting for the worker's verification, the plans of a grid, and the home page's counts."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.core.workbench import WorkItem
from gongzhi.demands import rules as demand_rules
from gongzhi.demands.models import Demand
from gongzhi.org.models import Region

from . import permissions, services
from .models import CheckIn, PatrolPlace, PatrolPlan, PatrolTask


def _under(paths: list[str], field: str = "path") -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def worked_grids(user):
    """The grids the user patrols (their grid-worker posts in force)."""
    return Region.objects.filter(_under(permissions.worker_paths(user)), level=Region.Level.GRID) \
        .order_by("parent_id", "pk")


def managed_grids(user):
    """The grids whose plans the user manages: their own grid as worker, every grid of their community."""
    if getattr(user, "is_superuser", False):
        return Region.objects.filter(level=Region.Level.GRID).select_related("parent").order_by("parent_id", "pk")
    return Region.objects.filter(_under(permissions.manager_paths(user)), level=Region.Level.GRID) \
        .select_related("parent").order_by("parent_id", "pk")


def get_managed_grid(user, grid_id) -> Region:
    grid = managed_grids(user).filter(pk=grid_id).first()
    if grid is None:
        raise NotFound(_("grid %(id)s") % {"id": grid_id}, code="unknown_grid")
    return grid


def today_tasks(user, day=None) -> list[PatrolTask]:
    """Today's tasks in the user's grids (generated on first asking), each with `done` (its check-in, or None)."""
    day = day or clock.today()
    tasks = []
    for grid in worked_grids(user):
        tasks += services.tasks_for(grid, day)
    done = {c.task_id: c for c in CheckIn.objects.filter(task__in=[t.pk for t in tasks]).order_by("recorded_at")}
    for task in tasks:
        task.done = done.get(task.pk)
    return sorted(tasks, key=lambda t: (t.done is not None, t.grid_id, t.name))


def get_task(user, task_id) -> PatrolTask:
    """A task of a grid the user patrols; any other answers 404."""
    task = (PatrolTask.objects.filter(_under(permissions.worker_paths(user), "grid__path"), pk=task_id)
            .select_related("grid").first())
    if task is None:
        raise NotFound(_("patrol task %(id)s") % {"id": task_id}, code="unknown_task")
    return task


def to_verify(user):
    """Replied demands in the user's grids, waiting for the grid worker's 核查, oldest reply first."""
    return (Demand.objects.filter(_under(permissions.worker_paths(user), "grid__path"), state=demand_rules.REPLIED)
            .select_related("grid", "category", "lead_unit").order_by("replied_at", "pk"))


def get_to_verify(user, number: str) -> Demand:
    demand = Demand.objects.filter(_under(permissions.worker_paths(user), "grid__path"), number=number) \
        .select_related("grid", "category", "lead_unit").first()
    if demand is None:
        raise NotFound(_("demand %(number)s") % {"number": number})
    return demand


def plans(grids) -> list[PatrolPlan]:
    return list(PatrolPlan.objects.filter(grid__in=grids).select_related("grid")
                .prefetch_related("buildings", "places").order_by("-is_active", "grid__path", "name"))


def places(grids):
    return PatrolPlace.objects.filter(grid__in=grids, is_active=True).select_related("grid")


def get_plan(user, plan_id) -> PatrolPlan:
    plan = PatrolPlan.objects.filter(grid__in=managed_grids(user), pk=plan_id).select_related("grid").first()
    if plan is None:
        raise NotFound(_("patrol plan %(id)s") % {"id": plan_id}, code="unknown_plan")
    return plan


def findings(user, day=None):
    """The user's own findings recorded today."""
    from .models import Finding

    day = day or clock.today()
    return Finding.objects.filter(worker=user, recorded_at__date=day).select_related("demand")


def work_items(user) -> list[WorkItem]:
    """For a grid worker: the patrol stops left today and the demands of their grid to verify."""
    if not permissions.worker_paths(user):
        return []
    left = sum(1 for t in today_tasks(user) if t.done is None)
    url = reverse("patrol:today")
    return [
        WorkItem(key="patrol.left", label=_("Patrol stops left today"), count=left, url=f"{url}?left=1",
                 group="patrol", order=10),
        WorkItem(key="patrol.verify", label=_("Demands to verify in my grid"), count=to_verify(user).count(),
                 url=reverse("patrol:verify_list"), group="patrol", order=20),
    ]
