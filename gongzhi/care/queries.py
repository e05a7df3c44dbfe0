"""Read side of care: the care register as each user may see it with every person's last visit and next due
day (overdue first), a building's households and open demands, notices, and the home page's work items."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.workbench import WorkItem
from gongzhi.demands import rules as demand_rules
from gongzhi.demands.models import Demand
from gongzhi.org import queries as org_queries
from gongzhi.org.models import Building, Household, Person, Region
from gongzhi.org.services import PersonCard, person_card

from . import rules
from .models import CareRegistration, Notice, Visit
from .permissions import places, q_for

REGISTRATION_PATH = "person__household__building__grid__path"
REGISTRATION_BUILDING = "person__household__building_id"
OPEN_STATES = (demand_rules.AT_DESK_STATES | demand_rules.HANDLING_STATES
               | frozenset({demand_rules.REPLIED, demand_rules.VERIFIED}))
NEAR_DEGREES = (0.0004, 0.0003)  # lon, lat: a demand placed within about 30 m of a building is about it
NOTICES_RECENT = dt.timedelta(days=30)
NOTICES_SHOWN_TO_RESIDENTS = 10
STATUSES = (rules.OVERDUE, rules.THIS_WEEK)


@dataclass
class CareRow:
    """One person of the care register as the user sees them, with their visit schedule."""

    registration: CareRegistration
    card: PersonCard | None
    last_visit: dt.datetime | None
    due: dt.date
    status: str
    days_overdue: int

    @property
    def person(self) -> Person:
        return self.registration.person

    @property
    def is_overdue(self) -> bool:
        return self.status == rules.OVERDUE


def registrations(user):
    """The registrations in force that `user` may see (care.view): the one scoping helper for the register."""
    return CareRegistration.objects.filter(q_for(user, "care.view", REGISTRATION_PATH), ended_at__isnull=True)


def last_visits(people: list[Person]) -> dict[int, dt.datetime]:
    """{person id: time of the last visit that counts for them}: a visit to them, or to their household
    without naming anyone in particular. One query."""
    households = {p.household_id for p in people if p.household_id}
    found: dict[tuple[int, int | None], dt.datetime] = {}
    for row in (Visit.objects.filter(household_id__in=households).values("household_id", "person_id")
                .annotate(last=Max("visited_at"))):
        found[(row["household_id"], row["person_id"])] = row["last"]
    out = {}
    for p in people:
        times = [t for t in (found.get((p.household_id, p.pk)), found.get((p.household_id, None))) if t]
        if times:
            out[p.pk] = max(times)
    return out


def care_rows(user, *, status: str | None = None, grid: int | None = None, household: int | None = None,
              today: dt.date | None = None, with_cards: bool = True) -> list[CareRow]:
    """The care register as `user` sees it, each person with their last visit and next due day, overdue first
    (longest overdue first), then by the due day. `status` keeps only OVERDUE or THIS_WEEK; `grid` narrows to
    a grid (NotFound outside the scope, like a path id); `household` to one household. `with_cards`: each
    person as the user may see them (org's person_card); counting needs no cards."""
    policy.require(user, "care.view")
    today = today or clock.today()
    qs = registrations(user).select_related("group", "person__household__building__grid", "person__residence",
                                            "person__personal_data", "person__party_branch")
    if grid is not None:
        qs = qs.filter(person__household__building__grid=org_queries.get_scoped(user, Region, grid))
    if household is not None:
        qs = qs.filter(person__household_id=household)
    regs = list(qs)
    visits = last_visits([r.person for r in regs])
    rows = []
    for reg in regs:
        last = visits.get(reg.person_id)
        due = rules.next_due(registered_on=_local_day(reg.registered_at),
                             last_visit_on=_local_day(last) if last else None,
                             every_days=reg.group.visit_every_days)
        state = rules.status(due, today)
        if status and state != status:
            continue
        card = person_card(user, reg.person) if with_cards else None
        rows.append(CareRow(reg, card, last, due, state, rules.days_overdue(due, today)))
    rows.sort(key=lambda r: (*rules.sort_key(r.due, today), r.person.pk, r.registration.group.sort_order))
    return rows


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def counts(user, today: dt.date | None = None) -> dict[str, int]:
    """How many of the user's care persons are overdue, and due this week (not yet overdue)."""
    found = {rules.OVERDUE: 0, rules.THIS_WEEK: 0}
    for row in care_rows(user, today=today, with_cards=False):
        if row.status in found:
            found[row.status] += 1
    return found


# --- buildings --------------------------------------------------------------------------------------------

def buildings(user):
    """The buildings whose page `user` may open (care.view_building), by grid and name."""
    return (Building.objects.filter(q_for(user, "care.view_building", "grid__path", "pk"))
            .select_related("grid").order_by("grid__path", "name"))


def building_for(user, building_id: int, action: str = "care.view_building") -> Building:
    """A building named in a path: NotFound when the user may not even see it (org), PermissionDenied when
    they may see it but not act on it here."""
    building = org_queries.get_scoped(user, Building, building_id,
                                      queryset=Building.objects.select_related("grid__parent"))
    policy.require(user, action, building)
    return building


def household_for(user, household_id: int, action: str = "care.view") -> Household:
    household = org_queries.get_scoped(user, Household, household_id,
                                       queryset=Household.objects.select_related("building__grid"))
    policy.require(user, action, household)
    return household


def households(user, building: Building) -> list[dict]:
    """The building's households, each with its members as `user` sees them (PERSONAL_DATA_ACCESS) and the
    members' cards; people the user may not see are left out (org.queries.scoped)."""
    people = (org_queries.scoped(user, Person).filter(household__building=building)
              .select_related("household__building__grid", "residence", "party_branch", "personal_data")
              .order_by("household__unit", "id"))
    by_household: dict[int, list[dict]] = {}
    for p in people:
        by_household.setdefault(p.household_id, []).append({"person": p, "card": person_card(user, p)})
    return [{"household": h, "members": by_household.get(h.pk, [])}
            for h in Household.objects.filter(building=building).order_by("unit")]


def members(user, building: Building) -> list[dict]:
    """Everyone the user may see living in the building, with their card: for choosing whom a demand is for."""
    return [m for h in households(user, building) for m in h["members"]]


def building_demands_q(building: Building) -> Q:
    """Demands about a building: filed by (or for) someone living in it, or placed within about 30 m of it."""
    lon, lat = NEAR_DEGREES
    return (Q(reporter__household__building=building)
            | Q(grid_id=building.grid_id, longitude__range=(building.longitude - lon, building.longitude + lon),
                latitude__range=(building.latitude - lat, building.latitude + lat)))


def open_demands(building: Building):
    """The building's demands still open (at the desk, being handled, replied or verified), newest first."""
    return (Demand.objects.filter(building_demands_q(building), state__in=OPEN_STATES)
            .select_related("category", "reporter").order_by("-received_at", "-id"))


def notices(building: Building):
    return Notice.objects.filter(building=building).select_related("posted_by__person").order_by("-posted_at", "-id")


def recent_notices(building: Building, now=None):
    return notices(building).filter(posted_at__gte=(now or clock.now()) - NOTICES_RECENT)


def notices_for_resident(user) -> tuple[Building | None, list[Notice]]:
    """The notices to the building the signed-in resident lives in (their household as the register has it)."""
    person = Person.objects.filter(user=user).select_related("household__building").first() \
        if getattr(user, "is_authenticated", False) else None
    if person is None or not person.household_id:
        return None, []
    building = person.household.building
    return building, list(notices(building)[:NOTICES_SHOWN_TO_RESIDENTS])


def household_visits(household: Household, limit: int = 20) -> list[Visit]:
    return list(Visit.objects.filter(household=household).select_related(
        "person", "visitor__person", "follow_up_of", "filed_demand").prefetch_related("photos")[:limit])


def visit_photo(user, photo_id: int):
    """A visit's photo, to those who may see the visit (care.view): NotFound when its household is out of the
    user's sight (org), PermissionDenied when visible but not theirs to read."""
    from .models import VisitPhoto

    photo = VisitPhoto.objects.filter(pk=photo_id).select_related("visit__household__building__grid").first()
    if photo is None or not policy.can(user, "org.view", photo.visit.household):
        raise NotFound(_("photo %(pk)s") % {"pk": photo_id})
    if not policy.can(user, "care.view", photo.visit):
        raise PermissionDenied("care.view")
    return photo


# --- the home page ----------------------------------------------------------------------------------------

def work_items(user) -> list[WorkItem]:
    """Today's care work: for a grid worker or the community office, care visits overdue (urgent) and due this
    week; for a building lead, each of their buildings' open demands and recent notices; for a resident with an
    account, the recent notices to their building."""
    items: list[WorkItem] = []
    if getattr(user, "is_superuser", False):
        return items
    paths, _buildings = places(user, "care.view")
    if paths:
        found = counts(user)
        url = reverse("care:home")
        items.append(WorkItem("care.overdue", _("Care visits overdue"), found[rules.OVERDUE],
                              f"{url}?status={rules.OVERDUE}", urgent=True, group="care", order=10))
        items.append(WorkItem("care.this_week", _("Care visits due this week"), found[rules.THIS_WEEK],
                              f"{url}?status={rules.THIS_WEEK}", group="care", order=20))
    _paths, led = places(user, "care.file_on_behalf")
    for building in Building.objects.filter(pk__in=led).order_by("name"):
        items.append(WorkItem(f"care.building_demands.{building.pk}",
                              _("Open demands of %(building)s") % {"building": building.name},
                              open_demands(building).count(), reverse("care:building_demands", args=[building.pk]),
                              group="building", order=10))
        items.append(WorkItem(f"care.notices.{building.pk}",
                              _("Notices to %(building)s (30 days)") % {"building": building.name},
                              recent_notices(building).count(), reverse("care:notices", args=[building.pk]),
                              group="building", order=20))
    if hasattr(user, "resident_account"):  # a resident: the notices to where they live, on "where I live"
        home, _shown = notices_for_resident(user)
        if home is not None:
            items.append(WorkItem("care.my_building_notices", _("Notices to my building (30 days)"),
                                  recent_notices(home).count(), reverse("org:my_household"), group="building",
                                  order=30))
    return items
