"""Demo patrol data (org.demo's extension "patrol"): places and plans for the demo grid worker's grid and
a few other staffed grids, today's tasks generated from them, and one check-in of the demo grid worker."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Avg
from django.utils import timezone

from gongzhi.core import clock, events
from gongzhi.org import demo as org_demo
from gongzhi.org.models import Building, Post

from . import services
from .models import CheckIn, Finding, PatrolPlace, PatrolPlan, PatrolTask

OTHER_GRIDS = 5
# (name, offset from the mean of the grid's buildings in degrees: about 100 m per 0.001)
PLACES = (("小区东门", (0.0012, 0.0)), ("垃圾分类站", (-0.0008, -0.0006)), ("儿童游乐场", (0.0, 0.0009)))


@dataclass
class DemoPatrolSummary:
    grids: int = 0
    places: int = 0
    plans: int = 0
    tasks: int = 0

    def __str__(self):
        return f"{self.plans} plans, {self.places} places in {self.grids} grids, {self.tasks} tasks today"


def _grids():
    """The demo grid worker's grid first, then a few other grids that have a grid worker."""
    posts = (Post.objects.filter(Post.in_force_q(clock.today()), role=Post.Role.GRID_WORKER, grid__isnull=False,
                                 grid__path__startswith=org_demo.demo_district().path)
             .select_related("grid", "person__user").order_by("grid__path"))
    mine = [p for p in posts if p.person.user and p.person.user.username == "grid_worker"]
    others = [p for p in posts if p not in mine]
    step = max(1, len(others) // OTHER_GRIDS)
    chosen = mine[:1] + others[::step][:OTHER_GRIDS]
    return [(p.grid, p.person.user) for p in chosen]


def build_demo_patrol(seed: int = org_demo.DEMO_SEED) -> DemoPatrolSummary:
    district = org_demo.demo_district()
    if district is None:
        raise RuntimeError("load the demo district first")
    summary = DemoPatrolSummary()
    today = clock.today()
    with transaction.atomic():
        for index, (grid, worker) in enumerate(_grids()):
            buildings = list(Building.objects.filter(grid=grid).order_by("name", "pk"))
            if not buildings:
                continue
            centre = Building.objects.filter(grid=grid).aggregate(lon=Avg("longitude"), lat=Avg("latitude"))
            places = [PatrolPlace.objects.create(grid=grid, name=name, longitude=centre["lon"] + dx,
                                                 latitude=centre["lat"] + dy) for name, (dx, dy) in PLACES]
            daily = PatrolPlan.objects.create(grid=grid, name="日常巡查", every_days=1,
                                              start_date=today - dt.timedelta(days=30), created_at=clock.now())
            daily.buildings.set(buildings[:3])
            daily.places.set(places[:2])
            focus = PatrolPlan.objects.create(grid=grid, name="重点部位巡查", weekdays=[0, 2, 4],
                                              start_date=today - dt.timedelta(days=30), created_at=clock.now())
            focus.places.set(places[2:])
            focus.buildings.set(buildings[3:5])
            for plan in (daily, focus):
                events.record("patrol.create_plan", plan, actor=None, grid=grid.pk, name=plan.name, demo=True)
            summary.grids += 1
            summary.places += len(places)
            summary.plans += 2
            tasks = services.tasks_for(grid, today)
            summary.tasks += len(tasks)
            if index == 0 and tasks and worker is not None:
                # The morning's first stop is done: checked in at the place itself, at 08:40.
                first = tasks[0]
                at = timezone.localtime(clock.now()).replace(hour=8, minute=40, second=0, microsecond=0)
                at = min(at, clock.now())
                row = CheckIn.objects.create(task=first, worker=worker, longitude=first.longitude,
                                             latitude=first.latitude, accuracy=12, distance=0, is_flagged=False,
                                             recorded_at=at, received_at=at, client_key=f"demo-check-in-{first.pk}")
                events.record("patrol.check_in", row, actor=worker, task=first.pk, grid=grid.pk, demo=True)
    return summary


def reset_demo_patrol() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    prefix = district.path
    with transaction.atomic():
        deleted = {"patrol_findings": Finding.objects.filter(grid__path__startswith=prefix).delete()[0],
                   "patrol_check_ins": CheckIn.objects.filter(task__grid__path__startswith=prefix).delete()[0],
                   "patrol_tasks": PatrolTask.objects.filter(grid__path__startswith=prefix).delete()[0]}
        deleted["patrol_plans"] = PatrolPlan.objects.filter(grid__path__startswith=prefix).delete()[0]
        deleted["patrol_places"] = PatrolPlace.objects.filter(grid__path__startswith=prefix).delete()[0]
    return deleted
