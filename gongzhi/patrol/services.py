"""Use cases of patrol: places and plans of a grid, the day's tasks they generate, check-ins and findings
(solved on the spot or filed into the loop), and verifying a demand with photos. Each checks can() on the
grid, runs in one transaction and records its event; check-ins and findings carry a client key, so a
record the phone sends twice (queued offline, then retried) is stored once."""

import datetime as dt
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.text import clean_optional_text, clean_text
from gongzhi.demands import photos as demand_photos
from gongzhi.demands import services as demand_services
from gongzhi.demands.models import Demand, Photo
from gongzhi.org import locating
from gongzhi.org.models import Building, Region

from . import rules
from .models import CheckIn, Finding, PatrolPlace, PatrolPlan, PatrolTask

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TIME_REFUSALS = {
    "future": _("the time recorded on the device lies in the future"),
    "too_old": _("the time recorded on the device is more than 7 days ago"),
    "naive": _("the time recorded on the device has no time zone"),
}


def check_in_radius_m() -> float:
    """How far from its place a check-in may be before it is flagged (GONGZHI_PATROL_CHECK_IN_RADIUS_M)."""
    return float(getattr(settings, "GONGZHI_PATROL_CHECK_IN_RADIUS_M", 300))


def _grid(grid) -> Region:
    if not isinstance(grid, Region) or grid.level != Region.Level.GRID:
        raise ValidationFailed(_("%(grid)s is not a grid") % {"grid": grid}, code="not_a_grid")
    return grid


def _point(longitude, latitude, *, required: bool) -> tuple[float | None, float | None]:
    if longitude is None and latitude is None and not required:
        return None, None
    if longitude is None or latitude is None:
        raise ValidationFailed(_("give both longitude and latitude"), code="location_incomplete")
    longitude, latitude = float(longitude), float(latitude)
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise ValidationFailed(_("the location is not a longitude and latitude"), code="location_invalid")
    return longitude, latitude


def _client_key(key: str) -> str:
    if not isinstance(key, str) or not CLIENT_KEY.match(key):
        raise ValidationFailed(_("a key of 8 to 64 letters, digits, - or _ is required"), code="client_key_invalid")
    return key


def _recorded(recorded_at: dt.datetime | None, received: dt.datetime) -> dt.datetime:
    when, why = rules.recorded_time(recorded_at, received)
    if when is None:
        raise ValidationFailed(TIME_REFUSALS[why], code=f"recorded_at_{why}")
    return when


# --- places and plans ----------------------------------------------------------------------------------

def add_place(user, grid: Region, *, name: str, longitude: float, latitude: float) -> PatrolPlace:
    """A place the grid's patrols visit (小区东门, 垃圾站): it must lie in the grid."""
    grid = _grid(grid)
    policy.require(user, "patrol.manage", grid)
    name = clean_text(name, "a name", code="name_required")[:60]
    longitude, latitude = _point(longitude, latitude, required=True)
    found = locating.locate(longitude, latitude).grid
    if found is None or found.pk != grid.pk:
        raise ValidationFailed(_("the place lies outside %(grid)s") % {"grid": grid.name}, code="place_outside_grid")
    if PatrolPlace.objects.filter(grid=grid, name=name).exists():
        raise Conflict(_("%(grid)s already has a place called %(name)s") % {"grid": grid.name, "name": name},
                       code="place_exists")
    with transaction.atomic():
        place = PatrolPlace.objects.create(grid=grid, name=name, longitude=longitude, latitude=latitude)
        events.record("patrol.add_place", place, actor=user, grid=grid.pk, name=name,
                      location=[longitude, latitude])
    return place


def _schedule(every_days, weekdays) -> tuple[int | None, list[int]]:
    weekdays = sorted({int(d) for d in (weekdays or [])})
    if any(d < 0 or d > 6 for d in weekdays):
        raise ValidationFailed(_("weekdays are 0 (Monday) to 6 (Sunday)"), code="weekday_invalid")
    if bool(every_days) == bool(weekdays):
        raise ValidationFailed(_("say either every how many days, or on which weekdays"), code="schedule_required")
    if every_days and not 1 <= int(every_days) <= 365:
        raise ValidationFailed(_("every 1 to 365 days"), code="every_days_invalid")
    return (int(every_days) if every_days else None), weekdays


def create_plan(user, grid: Region, *, name: str, buildings=(), places=(), every_days: int | None = None,
                weekdays=(), start_date: dt.date | None = None) -> PatrolPlan:
    """A patrol plan of `grid`: which of its buildings and places, and how often. Every building and place
    named must be the grid's own (another grid's is answered as unknown, 404)."""
    grid = _grid(grid)
    policy.require(user, "patrol.manage", grid)
    name = clean_text(name, "a name", code="name_required")[:60]
    every_days, weekdays = _schedule(every_days, weekdays)
    building_ids = {int(getattr(b, "pk", b)) for b in buildings}
    place_ids = {int(getattr(p, "pk", p)) for p in places}
    own_buildings = list(Building.objects.filter(grid=grid, pk__in=building_ids))
    own_places = list(PatrolPlace.objects.filter(grid=grid, is_active=True, pk__in=place_ids))
    if missing := building_ids - {b.pk for b in own_buildings}:
        raise NotFound(_("building %(id)s") % {"id": min(missing)}, code="unknown_building")
    if missing := place_ids - {p.pk for p in own_places}:
        raise NotFound(_("place %(id)s") % {"id": min(missing)}, code="unknown_place")
    if not own_buildings and not own_places:
        raise ValidationFailed(_("choose at least one building or place"), code="stops_required")
    with transaction.atomic():
        plan = PatrolPlan.objects.create(grid=grid, name=name, every_days=every_days, weekdays=weekdays,
                                         start_date=start_date or clock.today(), created_by=user,
                                         created_at=clock.now())
        plan.buildings.set(own_buildings)
        plan.places.set(own_places)
        events.record("patrol.create_plan", plan, actor=user, grid=grid.pk, name=name, every_days=every_days,
                      weekdays=weekdays, start_date=plan.start_date.isoformat(),
                      buildings=sorted(b.pk for b in own_buildings), places=sorted(p.pk for p in own_places))
    return plan


def end_plan(user, plan: PatrolPlan) -> PatrolPlan:
    """Stop a plan: it generates no more tasks (today's stay)."""
    policy.require(user, "patrol.manage", plan.grid)
    with transaction.atomic():
        plan = PatrolPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.is_active:
            plan.is_active = False
            plan.save(update_fields=["is_active"])
            events.record("patrol.end_plan", plan, actor=user, grid=plan.grid_id)
    return plan


# --- the day's tasks -----------------------------------------------------------------------------------

def tasks_for(grid: Region, day: dt.date) -> list[PatrolTask]:
    """The patrol tasks of `grid` on `day`, generated from its plans in use the first time they are asked
    for (one per plan, building or place; asking again creates nothing). Derived data, not a decision:
    no event is written; a check-in on a task is."""
    plans = [p for p in PatrolPlan.objects.filter(grid=grid, is_active=True).prefetch_related("buildings", "places")
             if rules.is_due(day, start_date=p.start_date, every_days=p.every_days, weekdays=p.weekdays)]
    wanted = []
    for plan in plans:
        for b in plan.buildings.all():
            wanted.append(PatrolTask(plan=plan, grid=grid, day=day, building=b, stop=f"b{b.pk}", name=b.name,
                                     longitude=b.longitude, latitude=b.latitude))
        for p in plan.places.all():
            if p.is_active:
                wanted.append(PatrolTask(plan=plan, grid=grid, day=day, place=p, stop=f"p{p.pk}", name=p.name,
                                         longitude=p.longitude, latitude=p.latitude))
    if wanted:
        have = set(PatrolTask.objects.filter(grid=grid, day=day).values_list("plan_id", "stop"))
        new = [t for t in wanted if (t.plan_id, t.stop) not in have]
        if new:
            PatrolTask.objects.bulk_create(new, ignore_conflicts=True)
    return list(PatrolTask.objects.filter(grid=grid, day=day).select_related("plan"))


# --- check-ins -----------------------------------------------------------------------------------------

def check_in(user, task: PatrolTask, *, client_key: str, longitude: float | None = None,
             latitude: float | None = None, accuracy: float | None = None, recorded_at: dt.datetime | None = None,
             note: str = "") -> tuple[CheckIn, bool]:
    """The grid worker of the task's grid was at its place: the device's location (none when refused) and
    time. Farther than the check-in radius, or without a location, it is accepted and flagged. Sent again
    with the same client key: the stored check-in, (check_in, False)."""
    client_key = _client_key(client_key)
    policy.require(user, "patrol.work", task.grid)
    existing = CheckIn.objects.filter(client_key=client_key).first()
    if existing is not None:
        return _same_sender(existing, user), False
    received = clock.now()
    when = _recorded(recorded_at, received)
    if timezone.localdate(when) != task.day:
        raise ValidationFailed(_("this task is for %(day)s") % {"day": task.day.isoformat()}, code="wrong_day")
    longitude, latitude = _point(longitude, latitude, required=False)
    note = clean_optional_text(note, "note")[:200]
    distance = None
    if longitude is not None and task.longitude is not None:
        distance = rules.distance_m(longitude, latitude, task.longitude, task.latitude)
    flagged = distance is None or distance > check_in_radius_m()
    try:
        with transaction.atomic():
            row = CheckIn.objects.create(
                task=task, worker=user, longitude=longitude, latitude=latitude,
                accuracy=float(accuracy) if accuracy is not None else None, distance=distance,
                is_flagged=flagged, note=note, recorded_at=when, received_at=received, client_key=client_key)
            events.record("patrol.check_in", row, actor=user, private={"location": [longitude, latitude],
                                                                       "note": note},
                          task=task.pk, grid=task.grid_id, day=task.day.isoformat(), flagged=flagged,
                          distance=round(distance) if distance is not None else None,
                          recorded_at=when.isoformat(), received_at=received.isoformat())
    except IntegrityError:  # the same key arrived meanwhile (a retry racing the first send)
        return _same_sender(CheckIn.objects.get(client_key=client_key), user), False
    return row, True


def _same_sender(row, user):
    if row.worker_id != user.pk:
        raise Conflict(_("this key was used for another record"), code="client_key_used")
    return row


# --- findings ------------------------------------------------------------------------------------------

def record_finding(user, *, client_key: str, text: str, longitude: float | None, latitude: float | None,
                   solved: bool, solution: str = "", photos: list[bytes] = (), category=None,
                   recorded_at: dt.datetime | None = None, task: PatrolTask | None = None) -> tuple[Finding, bool]:
    """A problem found on patrol, at a point in the worker's own grid, with photos: solved on the spot (随手办:
    demands.file_solved_on_the_spot, the photos being the "after" ones) or filed into the loop (a demand of
    channel "patrol", routed like any other, the photos showing the problem). The demand's received time is
    when it was recorded on the device. Sent again with the same client key: the stored finding."""
    client_key = _client_key(client_key)
    existing = Finding.objects.filter(client_key=client_key).select_related("demand").first()
    if existing is not None:
        return _same_sender(existing, user), False
    if task is not None:
        policy.require(user, "patrol.work", task.grid)
    received = clock.now()
    when = _recorded(recorded_at, received)
    longitude, latitude = _point(longitude, latitude, required=True)
    if not isinstance(solved, bool):
        raise ValidationFailed(_("say whether it was solved on the spot"), code="solved_required")
    try:
        with transaction.atomic():
            if solved:
                step = demand_services.file_solved_on_the_spot(
                    user, text=text, solution=solution, longitude=longitude, latitude=latitude,
                    after_photos=list(photos), category=category, received_at=when)
            else:
                step = demand_services.file_demand(user, text=text, channel=Demand.Channel.PATROL,
                                                   longitude=longitude, latitude=latitude, category=category,
                                                   received_at=when)
                demand_photos.add(user, step.demand, list(photos), stage=Photo.Stage.REPORT)
            demand = step.demand
            finding = Finding.objects.create(worker=user, grid=demand.grid, demand=demand, task=task,
                                             solved_on_the_spot=solved, longitude=longitude, latitude=latitude,
                                             recorded_at=when, received_at=received, client_key=client_key)
            events.record("patrol.finding", finding, actor=user, number=demand.number, grid=demand.grid_id,
                          solved_on_the_spot=solved, task=task.pk if task else None,
                          recorded_at=when.isoformat(), received_at=received.isoformat())
    except IntegrityError:
        return _same_sender(Finding.objects.get(client_key=client_key), user), False
    return finding, True


# --- verifying -----------------------------------------------------------------------------------------

def verify(user, demand: Demand, *, note: str = "", photos: list[bytes] = ()):
    """核查 of a replied demand in the worker's grid, with photos of the place (demands.verify_with_photos)."""
    note = clean_optional_text(note, "note")
    return demand_services.verify_with_photos(user, demand, note=note, contents=list(photos))


def report_not_done(user, demand: Demand, *, note: str, photos: list[bytes] = ()):
    """核查未通过: the grid worker found the replied demand not done. A grid worker may not reopen (demands.reopen
    is the dispatch desk's), so it is recorded on the demand ("verify_failed", the note required, photos of the
    place kept) and the desk is told to reopen it (demands.report_not_done: one transaction, logged)."""
    note = clean_text(note, "what is not done", code="note_required")
    return demand_services.report_not_done(user, demand, note=note, contents=list(photos))
