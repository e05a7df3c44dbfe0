"""Demo demands for `gongzhi demo`: a year of 接诉即办 across the demo district (org.demo), with every
outcome — dispatched by routing or by hand, accepted in time and late, returned and re-dispatched,
co-handled, replied, verified, closed, rated solved / not solved at each satisfaction level, reopened,
merged as duplicates, rejected, some overdue now, some still open — so rates and rankings show something.

Registered with org.demo's extension list (DemandsConfig.ready): build_demo_demands runs inside the demo
build's transaction, reset_demo_demands before the district is deleted.

How it is written, and why. Through the services each demand costs about 20 ms on SQLite (seven steps
of locked reads, deadline and routing lookups, event and outbox inserts): 7,000 demands would add more
than two minutes to `gongzhi demo`. So the year is *simulated* in memory by `_Flow`, whose methods mirror
the services step for step — the same transition table (rules.next_state), the same time limits and
routing (services.time_limit_for, services.route), the same deadline arithmetic, the same event payloads
— and then written in bulk: demands, contacts and assignments with bulk_create, core Events and
DemandEvents (nine rows a demand) as plain INSERTs. That takes about 8 s for 7,200 demands on SQLite
(measured on 2 shared cores), and the sequencer then appends their 57,000 events in about 6 s. The
core Events bypass post_save, so the ledger's outbox is filled with queue_unsequenced() in the same
transaction, and the sequencer appends them after the commit like any other events (inline mode: the
commit of `gongzhi demo`; loop mode: `gongzhi ledger sequence`). test_demo checks that _Flow writes
exactly what the services write for the same steps.

Determinism. Every choice comes from one seeded generator and from rows read in a stable order (codes,
names; never database ids), so the same seed on the same day gives the same demands on SQLite and
PostgreSQL. The year ends *now* (clock.now()), so that some demands are open or overdue today; numbers
continue the day counters and are never reused (they are in the public ledger), so a rebuild after
--reset gives the same demands under new numbers.

People. The demo creates no accounts beyond the logins org.demo prints. Steps by someone with a demo login
carry that user (the resident files and rates their own demands; the grid worker patrols and verifies in
their grid; the property company's staff accepts and replies; the community and village secretaries act
as their committee's dispatch desk); steps by anyone else carry no actor, and demands of residents
without an account (hotline callers, most web users) are rated through the desk, as permissions.rule
says. Texts come from demo_texts, filled with the district's own buildings and roads.
"""

import datetime as dt
import random
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from gongzhi.core import clock, events, workdays
from gongzhi.core.bulk import refresh_planner_statistics
from gongzhi.core.models import Event
from gongzhi.ledger import services as ledger
from gongzhi.org import demo as org_demo
from gongzhi.org import locating
from gongzhi.org.models import Building, Organisation, Person, Post, Region

from . import demo_texts as texts
from . import deadlines, rules, services
from .models import (
    Assignment, Category, Demand, DemandContact, DemandContactAccess, DemandCounter, DemandEvent, RoutingRule,
)

DEMO_COUNT = 7200  # about one demand per resident a year, as Beijing's 12345 receives
UTC = dt.timezone.utc
DATETIME_FIELDS = ("dispatch_due", "accept_due", "feedback_due", "received_at", "dispatched_at", "accepted_at",
                   "replied_at", "verified_at", "closed_at", "rated_at")

# --- what the district asks about ------------------------------------------------------------------------

# Category code -> (weight in a residents' community, weight in a village). Roughly the mix of a Beijing
# district's 12345 year: property and housing first, then environment, traffic, utilities.
CATEGORY_WEIGHTS: dict[str, tuple[float, float]] = {
    "housing.property_service": (14, 0), "housing.repair": (5, 2), "housing.elevator": (3, 0),
    "housing.renovation": (2, 0), "housing.parking": (6, 0), "housing.certificate": (1, 0.5),
    "environment.garbage": (6, 8), "environment.cleaning": (3, 3), "environment.noise": (7, 2),
    "environment.pollution": (3, 2), "environment.greenery": (2, 1), "environment.pests": (1.5, 1),
    "traffic.roads": (3, 6), "traffic.parking": (4, 1), "traffic.public_transport": (1.5, 2),
    "traffic.signals": (1, 0.5), "traffic.bicycles": (1.5, 0),
    "education.school_places": (1.5, 1), "education.schools": (1, 1), "education.culture_sports": (1, 1),
    "employment.wages": (1.5, 1.5), "employment.jobs": (0.8, 0.8), "employment.social_insurance": (1, 1),
    "employment.assistance": (1, 2),
    "commerce.consumer": (2, 0.5), "commerce.food_safety": (1, 0.5), "commerce.street_vending": (2, 1),
    "commerce.prices": (0.6, 0.3),
    "health.medical": (1.2, 1.5), "health.disease_control": (0.5, 0.5), "health.insurance": (0.6, 0.8),
    "care.elderly": (1.5, 2.5), "care.childcare": (0.5, 0.2), "care.disability": (0.4, 0.4),
    "utilities.water": (2.5, 3), "utilities.power": (2, 3), "utilities.gas": (1, 1), "utilities.heating": (5, 3),
    "utilities.drainage": (2, 3), "utilities.telecom": (1, 1),
    "safety.fire": (1, 1), "safety.structures": (0.4, 0.6), "safety.flooding": (0.4, 0.6),
    "safety.public_order": (1, 1),
    "community.disputes": (2, 3), "community.services": (1.5, 1.5), "community.suggestions": (1.2, 0.8),
    "other": (1, 1),
}
# Category code -> multiplier by month (1-12); missing months are 1.
SEASONS: dict[str, dict[int, float]] = {
    "utilities.heating": {11: 4, 12: 4, 1: 4, 2: 3, 3: 1.5, 4: 0.1, 5: 0.05, 6: 0.05, 7: 0.05, 8: 0.05, 9: 0.1,
                          10: 0.6},
    "safety.flooding": {6: 3, 7: 6, 8: 4, 1: 0.1, 2: 0.1, 3: 0.2, 11: 0.2, 12: 0.1},
    "utilities.drainage": {6: 1.8, 7: 2.5, 8: 2},
    "environment.noise": {5: 1.4, 6: 1.6, 7: 1.8, 8: 1.7, 9: 1.3, 12: 0.7, 1: 0.6, 2: 0.6},
    "environment.pests": {5: 1.5, 6: 2.5, 7: 3, 8: 3, 9: 1.5, 11: 0.3, 12: 0.2, 1: 0.2, 2: 0.2},
    "environment.greenery": {4: 1.8, 5: 1.8, 6: 1.5, 7: 1.6, 8: 1.4, 12: 0.4, 1: 0.4, 2: 0.4},
    "utilities.power": {7: 1.8, 8: 1.8, 1: 1.3},
    "utilities.water": {7: 1.3, 8: 1.2},
    "education.school_places": {4: 2.5, 5: 3, 6: 2.5, 7: 2, 8: 2.5, 12: 0.3, 1: 0.3},
    "commerce.street_vending": {5: 1.5, 6: 1.7, 7: 1.8, 8: 1.7, 9: 1.4, 12: 0.5, 1: 0.5, 2: 0.5},
    "safety.fire": {12: 1.5, 1: 1.6, 2: 1.5},
}
MONTH_VOLUME = {1: 0.95, 2: 0.85, 3: 1.0, 4: 1.0, 5: 1.0, 6: 1.1, 7: 1.2, 8: 1.15, 9: 1.0, 10: 0.9, 11: 1.0,
                12: 1.05}
HOUR_WEIGHTS = (0.3, 0.15, 0.1, 0.1, 0.15, 0.3, 0.8, 2.0, 4.0, 5.5, 5.5, 4.8, 3.2, 3.6, 4.8, 5.0, 4.6, 3.8,
                3.0, 3.0, 2.8, 2.2, 1.4, 0.7)
CHANNELS = (("hotline", 0.58), ("web", 0.24), ("api", 0.09), ("open311", 0.09))
P_PATROL = 0.4  # of what a grid worker can see in the street (demo_texts.PATROL_CATEGORIES), where there is one

# Routing rules of the demo district: category -> the department (by its `department`) for the whole
# district; more specific rules below send some categories to the street office, the committee or the
# community's property company (the deepest region wins, see services.route).
DEPARTMENT_RULES = {
    "城管": ("environment.garbage", "environment.cleaning", "environment.greenery", "traffic.roads",
           "traffic.public_transport", "traffic.signals", "traffic.bicycles", "commerce.street_vending",
           "utilities.gas", "utilities.heating"),
    "环保": ("environment.noise", "environment.pollution"),
    "卫健": ("environment.pests", "health"),
    "住建": ("housing.repair", "housing.elevator", "housing.renovation", "housing.certificate"),
    "教育": ("education",),
    "民政": ("employment.assistance", "care"),
    "市场监管": ("commerce",),
    "水务": ("utilities.water", "utilities.drainage", "safety.flooding"),
}
POWER_COMPANY = "国网北京永宁供电公司"
STREET_RULES = ("traffic.parking", "employment", "safety.fire", "safety.structures", "safety.public_order")
TOWNSHIP_RULES = ("environment.garbage", "environment.cleaning")  # villages' sanitation is the township's
COMMITTEE_RULES = ("community", "housing.property_service", "housing.parking")
PROPERTY_COMPANY_RULES = ("housing.property_service", "housing.parking", "housing.repair", "housing.elevator")
# Without a rule the desk dispatches by hand: to this department, or (None) to the street office itself.
MANUAL_DISPATCH = {"utilities.telecom": "城管", "other": None}

# Outcome odds.
P_REJECT, P_MERGE, P_RETURN, P_START_WORK = 0.02, 0.03, 0.07, 0.5
P_STUCK, P_DESK_REOPEN, P_UNRATED, P_LATE_DISPATCH = 0.006, 0.02, 0.05, 0.05
P_WEB_WITHOUT_CATEGORY, P_DISPATCH_BY_HAND = 0.4, 0.3  # the latter: of those, dispatched by hand, not triaged


class _NotYet(Exception):
    """The next step of a demand lies after the end of the demo year (or is held for a showcase)."""


# --- the flow: the services, replayed in memory -------------------------------------------------------------

@dataclass
class _Step:
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    note: str
    unit: Organisation | None
    actor: object
    data: dict
    private: dict


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


class Lookups:
    """The database answers the services look up for each step (time limits, routing, the desk, cue
    words), asked once per distinct question."""

    def __init__(self):
        self._limits, self._routes, self._desks, self._cues = {}, {}, {}, {}
        self._has_grid_rules: bool | None = None

    def limit(self, category: Category | None, urgency: str):
        key = (category.pk if category else None, urgency)
        if key not in self._limits:
            self._limits[key] = services.time_limit_for(category, urgency)
        return self._limits[key]

    def route(self, category: Category | None, grid: Region) -> services.Route:
        if self._has_grid_rules is None:
            self._has_grid_rules = RoutingRule.objects.filter(is_active=True, region__level=Region.Level.GRID).exists()
        # services.route reads the rules of the grid's ancestors: without rules for single grids, every grid of a
        # community gets the same answer.
        where = grid.pk if self._has_grid_rules else grid.path.strip("/").split("/")[2]
        key = (category.pk if category else None, where)
        if key not in self._routes:
            self._routes[key] = services.route(category, grid)
        return self._routes[key]

    def desk(self, grid: Region) -> Organisation | None:
        street_id = grid.path.strip("/").split("/")[1]
        if street_id not in self._desks:
            self._desks[street_id] = services.dispatch_desk(grid)
        return self._desks[street_id]

    def proposed_urgency(self, text: str, category: Category | None) -> str:
        """services._proposed_urgency, with the category's cue words read once."""
        if category is not None and category.pk not in self._cues:
            cues: dict[str, list[str]] = {}
            for node in Category.objects.filter(pk__in=category.ancestor_ids()):
                for urgency, words in (node.urgency_cues or {}).items():
                    cues.setdefault(urgency, []).extend(words)
            self._cues[category.pk] = cues
        return rules.propose_urgency(text, category.default_urgency if category else None,
                                     self._cues.get(category.pk) if category else {})


class _Flow:
    """One demand's life in memory. Each public method mirrors the service of the same name (same checks
    of the transition table, same field changes, same event payload), taking the moment `at` that the
    service would read from clock.now(). `_locked()` stands for the service's locked re-read of the row,
    which hands datetimes back in UTC."""

    def __init__(self, lookups: Lookups):
        self.lookups = lookups
        self.demand: Demand | None = None
        self.contact: dict[str, str] | None = None
        self.assignments: list[Assignment] = []
        self.steps: list[_Step] = []

    # helpers (services._record, _deadlines_public, _locked, _end_assignments)

    def _record(self, at, action, actor, from_state, *, note="", unit=None, private=None, **public) -> None:
        d = self.demand
        hidden = dict(private or {})
        if note:
            hidden["note"] = note
        data = {"number": d.number, "action": action, "from": from_state, "to": d.state,
                "unit": unit.pk if unit is not None else None, **public}
        if actor is not None and not getattr(actor, "is_authenticated", False):
            actor = None
        self.steps.append(_Step(at, action, from_state, d.state, note, unit, actor, data, hidden))

    def _deadlines_public(self) -> dict:
        return {name: _iso(getattr(self.demand, name)) for name in ("dispatch_due", "accept_due", "feedback_due")}

    def _locked(self, action: str) -> tuple[str, str]:
        d = self.demand
        for name in DATETIME_FIELDS:
            value = getattr(d, name)
            if value is not None:
                setattr(d, name, value.astimezone(UTC))
        return d.state, rules.next_state(d.state, action)

    def _end_assignments(self, at) -> None:
        for assignment in self.assignments:
            if assignment.ended_at is None:
                assignment.ended_at = at

    # the use cases

    def file(self, at, actor, *, number: str, text: str, channel: str, longitude: float, latitude: float,
             grid: Region, address: str = "", category: Category | None = None, contact_name: str = "",
             contact_phone: str = "", reporter: Person | None = None, suggested_urgency: str = "") -> None:
        street_id, community_id = (int(x) for x in grid.path.strip("/").split("/")[1:3])
        d = self.demand = Demand(
            number=number, channel=channel, reporter_user=actor, reporter=reporter, text=text, category=category,
            urgency=self.lookups.proposed_urgency(text, category), urgency_overridden=False,
            suggested_urgency=suggested_urgency, longitude=longitude,
            latitude=latitude, address=address.strip()[:200], grid=grid, community_id=community_id,
            street_id=street_id, desk=self.lookups.desk(grid), received_at=at,
        )
        deadlines.set_filing_dues(d, _local(at), self.lookups.limit(category, d.urgency))
        contact = {"name": contact_name.strip()[:60], "phone": contact_phone.strip()[:20]}
        self.contact = contact if any(contact.values()) else None
        private = {"text": text, "address": d.address, "location": [longitude, latitude],
                   **{f"contact_{k}": v for k, v in contact.items() if v}}
        self._record(at, "file", actor, "", unit=d.desk, private=private, channel=channel, grid=grid.pk,
                     community=community_id, street=street_id, category=category.code if category else None,
                     urgency=d.urgency, suggested_urgency=suggested_urgency or None,
                     category_source="reporter" if category else None, suggested=None,
                     confidence=None, **self._deadlines_public())
        if category is not None:
            self._route_and_dispatch(at)

    def _route_and_dispatch(self, at) -> None:
        found = self.lookups.route(self.demand.category, self.demand.grid)
        if found.rule is not None and found.unit is not None:
            self._dispatch(at, None, found.unit, [], note="", rule=found.rule)

    def _dispatch(self, at, actor, unit, assisting, *, note, rule=None) -> None:
        d = self.demand
        from_state = d.state
        d.state = rules.next_state(from_state, "dispatch")
        self._end_assignments(at)
        self.assignments.append(Assignment(demand=d, unit=unit, role=Assignment.Role.LEAD, assigned_at=at))
        for other in assisting:
            self.assignments.append(Assignment(demand=d, unit=other, role=Assignment.Role.ASSISTING, assigned_at=at))
        limit = self.lookups.limit(d.category, d.urgency)
        d.lead_unit, d.dispatched_at = unit, at
        deadlines.set_due(d, "accept_due", _local(at), limit)
        d.accepted_at = None
        self._record(at, "dispatch", actor, from_state, note=note, unit=unit, assisting=[u.pk for u in assisting],
                     rule=rule.pk if rule else None, category=d.category.code if d.category else None,
                     **self._deadlines_public())

    def triage(self, at, actor, *, category: Category) -> None:
        from_state, _ = self._locked("triage")
        d = self.demand
        d.category = category
        d.urgency = self.lookups.proposed_urgency(d.text, category)
        deadlines.set_filing_dues(d, _local(d.received_at), self.lookups.limit(category, d.urgency),
                                  dispatch=from_state == rules.RECEIVED)
        self._record(at, "triage", actor, from_state, category=category.code, urgency=d.urgency,
                     **self._deadlines_public())
        if from_state == rules.RECEIVED:
            self._route_and_dispatch(at)

    def confirm_urgency(self, at, actor) -> None:
        """The desk confirms the urgency the resident suggested (services.confirm_urgency)."""
        from_state, _ = self._locked("confirm_urgency")
        d = self.demand
        d.urgency, d.urgency_overridden = d.suggested_urgency, True
        deadlines.set_filing_dues(d, _local(d.received_at), self.lookups.limit(d.category, d.urgency),
                                  dispatch=from_state in rules.AT_DESK_STATES)
        self._record(at, "confirm_urgency", actor, from_state, urgency=d.urgency,
                     suggested_urgency=d.suggested_urgency, **self._deadlines_public())

    def dispatch(self, at, actor, *, unit: Organisation, assisting=(), category: Category | None = None,
                 note: str = "") -> None:
        self._locked("dispatch")
        if category is not None:
            self.demand.category = category
        self._dispatch(at, actor, unit, list(assisting), note=note.strip())

    def accept(self, at, actor) -> None:
        from_state, to_state = self._locked("accept")
        d = self.demand
        d.state, d.accepted_at = to_state, at
        self._record(at, "accept", actor, from_state, unit=d.lead_unit, accepted_at=at.isoformat())

    def return_to_dispatch(self, at, actor, *, reason: str) -> None:
        from_state, to_state = self._locked("return")
        d = self.demand
        unit = d.lead_unit
        self._end_assignments(at)
        limit = self.lookups.limit(d.category, d.urgency)
        d.state, d.lead_unit = to_state, None
        d.dispatched_at = d.accept_due = d.accepted_at = None
        deadlines.set_due(d, "dispatch_due", _local(at), limit)
        self._record(at, "return", actor, from_state, note=reason, unit=unit, **self._deadlines_public())

    def start_work(self, at, actor) -> None:
        from_state, to_state = self._locked("start_work")
        self.demand.state = to_state
        self._record(at, "start_work", actor, from_state, unit=self.demand.lead_unit)

    def reply(self, at, actor, *, text: str) -> None:
        from_state, to_state = self._locked("reply")
        d = self.demand
        d.state, d.reply, d.replied_at = to_state, text, at
        self._record(at, "reply", actor, from_state, unit=d.lead_unit, private={"reply": text},
                     on_time=bool(d.feedback_due and d.replied_at <= d.feedback_due))

    def verify(self, at, actor, *, note: str = "") -> None:
        from_state, to_state = self._locked("verify")
        self.demand.state, self.demand.verified_at = to_state, at
        self._record(at, "verify", actor, from_state, note=note.strip())

    def close(self, at, actor, *, note: str = "") -> None:
        from_state, to_state = self._locked("close")
        self.demand.state, self.demand.closed_at = to_state, at
        self._record(at, "close", actor, from_state, note=note.strip())

    def rate(self, at, actor, *, solved: bool, satisfaction: str, note: str = "") -> None:
        from_state, to_state = self._locked("rate")
        d = self.demand
        d.state, d.solved, d.satisfaction, d.rated_at = to_state, solved, satisfaction, at
        self._record(at, "rate", actor, from_state, note=note.strip(), unit=d.lead_unit, solved=solved,
                     satisfaction=satisfaction)
        if not solved:
            self._reopen(at, None, note="rated not solved")

    def reopen(self, at, actor, *, reason: str) -> None:
        self._locked("reopen")
        self._reopen(at, actor, note=reason)

    def _reopen(self, at, actor, *, note: str) -> None:
        d = self.demand
        from_state = d.state
        d.state = rules.next_state(from_state, "reopen")
        limit = self.lookups.limit(d.category, d.urgency)
        local_now = _local(at)
        d.reopen_count += 1
        d.dispatched_at = at
        deadlines.set_due(d, "accept_due", local_now, limit)
        deadlines.set_due(d, "feedback_due", local_now, limit)
        d.accepted_at = d.replied_at = d.verified_at = d.closed_at = None
        self._record(at, "reopen", actor, from_state, note=note, unit=d.lead_unit, reopen_count=d.reopen_count,
                     **self._deadlines_public())

    def merge_into(self, at, actor, original: Demand, *, note: str = "") -> None:
        from_state, to_state = self._locked("merge")
        d = self.demand
        self._end_assignments(at)
        d.state, d.merged_into, d.lead_unit = to_state, original, None
        self._record(at, "merge", actor, from_state, note=note.strip(), merged_into=original.number)

    def reject(self, at, actor, *, reason: str) -> None:
        from_state, to_state = self._locked("reject")
        self.demand.state = to_state
        self._record(at, "reject", actor, from_state, note=reason)


# --- the district as the builder sees it -----------------------------------------------------------------------

@dataclass
class _Resident:
    person_id: int
    name: str
    gender: str
    phone: str


@dataclass
class _Place:
    """A building and the words for its surroundings."""

    building_id: int
    grid: Region
    is_village: bool
    community: str
    address: str
    compound: str
    road: str
    longitude: float
    latitude: float
    floors: int
    residents: list[_Resident] = field(default_factory=list)


@dataclass
class _Quality:
    """How well a unit (or a community's circumstances) does: the chance of accepting and replying in
    time and of solving the problem."""

    accept_in_time: float
    reply_in_time: float
    solves: float


class _District:
    """The demo district's rows the builder needs, read in a stable order."""

    def __init__(self, district: Region, seed: int):
        prefix = district.path
        self.district = district
        grids = list(Region.objects.filter(path__startswith=prefix, level=Region.Level.GRID).order_by("grid_code"))
        self.grids = {g.pk: g for g in grids}
        regions = {r.pk: r for r in Region.objects.filter(path__startswith=prefix, level__lt=Region.Level.GRID)}
        self.community_of = {g.pk: regions[g.parent_id] for g in grids}
        self.street_of = {g.pk: regions[self.community_of[g.pk].parent_id] for g in grids}
        roads = {plan.name: plan.road for street in org_demo.PLAN for plan in street.communities}
        self.places: dict[int, list[_Place]] = {g.pk: [] for g in grids}
        by_building: dict[int, _Place] = {}
        buildings = list(Building.objects.filter(grid__in=grids).order_by("grid__grid_code", "name"))
        # Demands are filed at their building's point, placed as file_demand places them (point to grid).
        located = locating.locate_many([b.longitude for b in buildings], [b.latitude for b in buildings]).grid_ids
        for b, grid_id in zip(buildings, located, strict=True):
            if int(grid_id) != b.grid_id:
                continue  # a building registered to one grid but standing in another (or in none): not used
            community = self.community_of[b.grid_id]
            village = community.is_village
            compound = (b.address.removesuffix(b.name) if not village
                        else community.name + b.name.split("组")[0] + "组")
            place = _Place(b.pk, self.grids[b.grid_id], village, community.name, b.address, compound,
                           roads.get(community.name) or community.name, b.longitude, b.latitude, b.floors)
            self.places[b.grid_id].append(place)
            by_building[b.pk] = place
        people = (Person.objects.filter(household__building__grid__in=grids, birth_date__lte=dt.date(2006, 1, 1))
                  .order_by("household__building_id", "name", "birth_date")
                  .values_list("pk", "name", "gender", "personal_data__phone", "household__building_id"))
        for pk, name, gender, phone, building_id in people:
            by_building[building_id].residents.append(_Resident(pk, name, gender, phone or ""))
        organisations = Organisation.objects.filter(region__path__startswith=prefix).select_related("region")
        self.units = {o.name: o for o in organisations.order_by("name")}
        self.departments = {o.department: o for o in self.units.values() if o.kind == "department"}
        self.street_office = {o.region_id: o for o in self.units.values()
                              if o.kind in ("street_office", "township_government")}
        self.committee = {o.region_id: o for o in self.units.values()
                          if o.kind in ("residents_committee", "villagers_committee")}
        self.property_company = {o.region_id: o for o in sorted(self.units.values(), key=lambda o: o.name)
                                 if o.kind == "property_company"}
        self.grid_worker = dict(Post.objects.filter(
            grid__in=grids, role=Post.Role.GRID_WORKER, end_date__isnull=True).values_list("grid_id", "person_id"))
        # Weight of a grid: its households, and a "hot spot" factor so that some grids ask far more.
        rng = random.Random(f"{seed}:grids")
        households = Counter(Building.objects.filter(grid__in=grids, households__isnull=False)
                             .values_list("grid_id", flat=True))
        self.grid_weight = {g.pk: (households[g.pk] + 3) * rng.lognormvariate(0, 0.45) for g in grids}

    def quality(self, seed: int, key: str) -> _Quality:
        rng = random.Random(f"{seed}:quality:{key}")
        return _Quality(accept_in_time=rng.uniform(0.80, 0.99), reply_in_time=rng.uniform(0.82, 0.98),
                        solves=rng.uniform(0.78, 0.97))


@dataclass
class _Logins:
    """The demo logins who act on demands, and where."""

    resident: object = None
    resident_person: int | None = None
    resident_building: int | None = None
    grid_worker: object = None
    grid_worker_grid: int | None = None
    property_staff: object = None
    property_company: int | None = None
    desk: dict[int, object] = field(default_factory=dict)  # community pk -> secretary's user

    @classmethod
    def load(cls, district: _District) -> "_Logins":
        users = {u.username: u for u in get_user_model().objects.filter(
            username__in=[p.username for p in org_demo.LOGINS], is_active=True)}
        people = {p.user_id: p for p in Person.objects.filter(user__in=users.values())}
        found = cls()
        person = lambda name: people.get(users[name].pk) if name in users else None  # noqa: E731
        if (p := person("resident")) and p.household_id:
            found.resident, found.resident_person = users["resident"], p.pk
            found.resident_building = Building.objects.filter(households=p.household_id).values_list(
                "pk", flat=True).first()
        if (p := person("grid_worker")) and (post := p.posts.filter(grid__isnull=False, end_date__isnull=True).first()):
            found.grid_worker, found.grid_worker_grid = users["grid_worker"], post.grid_id
        if (p := person("property_staff")) and (post := p.posts.filter(end_date__isnull=True).first()):
            found.property_staff, found.property_company = users["property_staff"], post.organisation_id
        for name in ("community_secretary", "village_secretary"):
            p = person(name)
            post = p and p.posts.filter(end_date__isnull=True, organisation__kind__in=(
                "residents_committee", "villagers_committee")).select_related("organisation").first()
            if post:
                found.desk[post.organisation.region_id] = users[name]
        return found


# --- the builder -----------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What happens to one demand, decided before it is played."""

    received_at: dt.datetime
    place: _Place
    category: Category | None  # as filed (None: waits for triage)
    intended: Category  # what the desk triages it as
    channel: str
    text: str
    filer: object = None  # the user filing (a demo login) or None
    reporter: int | None = None  # Person pk
    contact_name: str = ""
    contact_phone: str = ""
    fate: str = "normal"  # normal | reject | merge
    original: "_Plan | None" = None
    hold: str = ""  # a showcase demand stops before this action
    is_fast: bool = False  # a showcase: every step soon after the last, no detours
    number: str = ""
    flow: _Flow | None = None


@dataclass
class DemoDemandsSummary:
    demands: int = 0
    events: int = 0
    routing_rules: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        channels = ", ".join(f"{k} {v}" for k, v in self.by_channel.items())
        states = ", ".join(f"{k} {v}" for k, v in self.by_state.items())
        return (f"{self.demands} demands from {self.first_day} to {self.last_day} ({channels}); {self.events} steps; "
                f"{self.overdue} overdue now; states: {states}; {self.routing_rules} routing rules; "
                f"built in {self.seconds:.1f} s")


class _Builder:
    """Plans the year (when, where, what, through which channel, how it ends), plays each plan through a
    _Flow, and writes the result."""

    def __init__(self, seed: int, count: int, end: dt.datetime):
        self.seed, self.count = seed, count
        self.end = end.astimezone(UTC).replace(microsecond=0)
        self.rng = random.Random(f"{seed}:demands")
        self.lookups = Lookups()
        services.seed_defaults()  # the taxonomy the year draws from, even where a flush emptied the table
        self.categories = {c.code: c for c in Category.objects.filter(is_active=True)}

    # the year -----------------------------------------------------------------------------------------------

    def build(self, district_region: Region) -> DemoDemandsSummary:
        started = time.perf_counter()
        self.district = _District(district_region, self.seed)
        self.logins = _Logins.load(self.district)
        self.qualities: dict[tuple[str, str], _Quality] = {}
        summary = DemoDemandsSummary(routing_rules=self.routing_rules())
        plans = self.plans()
        self.number(plans)
        for plan in plans:
            self.play(plan)
        self.write(plans)
        summary.demands = len(plans)
        summary.events = sum(len(p.flow.steps) for p in plans)
        summary.by_state = dict(Counter(p.flow.demand.state for p in plans).most_common())
        summary.by_channel = dict(Counter(p.channel for p in plans).most_common())
        summary.overdue = sum(p.flow.demand.is_overdue(self.end) for p in plans)
        summary.first_day = timezone.localdate(plans[0].received_at) if plans else None
        summary.last_day = timezone.localdate(plans[-1].received_at) if plans else None
        events.record("demands.demo_loaded", district_region, seed=self.seed, demands=summary.demands,
                      steps=summary.events)
        summary.seconds = time.perf_counter() - started
        return summary

    def routing_rules(self) -> int:
        d, c = self.district, self.categories
        rows = []
        for department, codes in DEPARTMENT_RULES.items():
            rows += [RoutingRule(category=c[code], region=d.district, unit=d.departments[department]) for code in codes]
        rows.append(RoutingRule(category=c["utilities.power"], region=d.district, unit=d.units[POWER_COMPANY]))
        streets = {s.pk: s for s in d.street_of.values()}
        for street in sorted(streets.values(), key=lambda s: s.admin_code):
            office = d.street_office[street.pk]
            codes = STREET_RULES + (TOWNSHIP_RULES if street.kind == "township" else ())
            rows += [RoutingRule(category=c[code], region=street, unit=office) for code in codes]
        communities = {r.pk: r for r in d.community_of.values()}
        for community in sorted(communities.values(), key=lambda r: r.admin_code):
            rows += [RoutingRule(category=c[code], region=community, unit=d.committee[community.pk])
                     for code in COMMITTEE_RULES]
            company = d.property_company.get(community.pk)
            if company is not None:
                rows += [RoutingRule(category=c[code], region=community, unit=company, priority=1)
                         for code in PROPERTY_COMPANY_RULES]
        RoutingRule.objects.bulk_create(rows)
        return len(rows)

    def received_times(self) -> list[dt.datetime]:
        rng = self.rng
        last_day = timezone.localdate(self.end)
        days = [last_day - dt.timedelta(days=k) for k in range(365)][::-1]
        weights = [MONTH_VOLUME[day.month] * (0.8 if day.weekday() >= 5 else 1.0) * (0.6 if day in workdays.year_calendar(day.year).holidays else 1.0)
                   for day in days]
        tz = timezone.get_default_timezone()
        moments = []
        while len(moments) < self.count:
            day = rng.choices(days, weights)[0]
            hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
            local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz)
            moment = local.astimezone(UTC)
            if moment <= self.end - dt.timedelta(minutes=10):
                moments.append(moment)
        return sorted(moments)

    def plans(self) -> list[_Plan]:
        rng, d = self.rng, self.district
        grid_ids = [g for g in d.grids if d.places[g]]
        grid_weights = [d.grid_weight[g] for g in grid_ids]
        codes = list(CATEGORY_WEIGHTS)
        plans: list[_Plan] = []
        recent: list[_Plan] = []  # plans that may be the original of a duplicate, oldest first
        for moment in self.received_times():
            grid_id = rng.choices(grid_ids, grid_weights)[0]
            places = [p for p in d.places[grid_id] if p.residents] or d.places[grid_id]
            place = rng.choice(places)
            month = timezone.localtime(moment).month
            village = place.is_village
            weights = [CATEGORY_WEIGHTS[code][1 if village else 0] * SEASONS.get(code, {}).get(month, 1.0)
                       for code in codes]
            code = rng.choices(codes, weights)[0]
            if rng.random() < P_MERGE and (originals := self.originals(recent, moment)):
                # Someone else reports the same problem at the same place: the desk merges it.
                original = rng.choice(originals)
                plan = self.plan(moment, original.place, original.intended.code, fate="merge")
                plan.original = original
            else:
                plan = self.plan(moment, place, code)
                if plan.fate == "normal":
                    recent.append(plan)
            plans.append(plan)
        plans += self.showcases()
        plans.sort(key=lambda p: p.received_at)
        return plans

    @staticmethod
    def originals(recent: list[_Plan], moment: dt.datetime) -> list[_Plan]:
        """Plans received between three days and half an hour before `moment`."""
        found = []
        for plan in reversed(recent):
            if plan.received_at < moment - dt.timedelta(days=3):
                break
            if plan.received_at < moment - dt.timedelta(minutes=30):
                found.append(plan)
        return found

    def plan(self, moment, place: _Place, code: str, *, channel: str | None = None, fate: str | None = None) -> _Plan:
        rng = self.rng
        fate = fate or ("reject" if rng.random() < P_REJECT else "normal")
        if fate == "reject":
            code = "other"
        if channel is None:
            can_patrol = code in texts.PATROL_CATEGORIES and place.grid.pk in self.district.grid_worker
            if can_patrol and fate == "normal" and rng.random() < P_PATROL:
                channel = "patrol"
            else:
                names, odds = zip(*CHANNELS)
                channel = rng.choices(names, odds)[0]
        text = self.text(place, code, is_patrol=channel == "patrol")
        intended = self.categories[code]
        category = intended
        if channel == "web" and (fate == "reject" or rng.random() < P_WEB_WITHOUT_CATEGORY):
            category = None
        plan = _Plan(moment, place, category, intended, channel, text, fate=fate)
        if channel == "patrol":
            plan.text = rng.choice(texts.PATROL_TEMPLATES).format(text=text)
            plan.reporter = self.district.grid_worker[place.grid.pk]
            if place.grid.pk == self.logins.grid_worker_grid:
                plan.filer = self.logins.grid_worker
            by_day = timezone.localtime(moment).replace(hour=rng.randint(8, 17)).astimezone(UTC)
            if by_day < self.end - dt.timedelta(minutes=10):  # grid workers patrol by day
                plan.received_at = by_day
            return plan
        if place.residents:
            resident = rng.choice(place.residents)
            plan.contact_phone = resident.phone if rng.random() < 0.92 else ""
            if channel == "hotline":
                title = "先生" if resident.gender == "M" else "女士"
                plan.contact_name = resident.name[0] + title if rng.random() < 0.7 else resident.name
            else:
                plan.reporter = resident.person_id
                plan.contact_name = resident.name
        return plan

    def text(self, place: _Place, code: str, *, is_patrol: bool = False) -> str:
        rng = self.rng
        slots = {
            "addr": place.address, "compound": place.compound, "road": place.road, "community": place.community,
            "unit": "" if place.is_village else f"{rng.randint(1, 3)}单元",
            "floor": f"{rng.randint(1, max(place.floors, 1))}层", "dur": rng.choice(texts.DURATIONS),
            "when": rng.choice(texts.WHEN), "shop": rng.choice(texts.SHOPS), "n": str(rng.randint(2, 9)),
        }
        body = rng.choice(texts.TEMPLATES[code]).format(**slots)
        if is_patrol:
            return body
        return f"{rng.choice(texts.OPENERS).format(**slots)}{body}{rng.choice(texts.ASKS)}"

    def showcases(self) -> list[_Plan]:
        """Demands that give each demo login something to do today, and the resident a history."""
        rng, logins, d = self.rng, self.logins, self.district
        found = []
        ago = lambda **kw: self.end - dt.timedelta(**kw)  # noqa: E731
        if logins.resident_building:
            place = next(p for g in d.places.values() for p in g if p.building_id == logins.resident_building)
            codes = ("housing.property_service", "environment.garbage", "environment.noise", "housing.parking",
                     "utilities.heating", "community.suggestions", "housing.property_service", "traffic.parking")
            for k, code in enumerate(codes):  # one every six weeks or so, filed on the web by the resident
                found.append(self.plan(ago(days=330 - 42 * k, hours=rng.randint(0, 8)), place, code, channel="web",
                                       fate="normal"))
            closed = self.plan(ago(days=4, hours=3), place, "environment.garbage", channel="web", fate="normal")
            closed.category, closed.hold = self.categories["environment.garbage"], "rate"
            fresh = self.plan(ago(hours=5), place, "housing.property_service", channel="web", fate="normal")
            fresh.category, fresh.hold = None, "triage"
            found += [closed, fresh]
            me = next((r for r in place.residents if r.person_id == logins.resident_person), None)
            for plan in found:
                plan.filer, plan.reporter = logins.resident, logins.resident_person
                plan.contact_name, plan.contact_phone = (me.name, me.phone) if me else ("", "")
        if logins.grid_worker_grid and d.places.get(logins.grid_worker_grid):
            place = d.places[logins.grid_worker_grid][0]
            plan = self.plan(ago(days=2, hours=2), place, "environment.cleaning", channel="hotline", fate="normal")
            plan.hold = "verify"
            found.append(plan)
        if logins.property_company:
            company = Organisation.objects.get(pk=logins.property_company)
            place = next(p for g in d.places.values() for p in g
                         if d.community_of[p.grid.pk].pk == company.region_id)
            for hold, hours in (("accept", 1), ("reply", 30)):
                plan = self.plan(ago(hours=hours), place, "housing.property_service", channel="hotline",
                                 fate="normal")
                plan.hold = hold
                found.append(plan)
        for plan in found:
            plan.is_fast = bool(plan.hold)
        return found

    def number(self, plans: list[_Plan]) -> None:
        """Numbers in order of receipt, continuing each day's counter (services._allocate_number)."""
        days = sorted({timezone.localdate(p.received_at) for p in plans})
        self.counters = dict(DemandCounter.objects.filter(day__in=days).values_list("day", "last"))
        self.existing_days = set(self.counters)
        for plan in plans:
            day = timezone.localdate(plan.received_at)
            self.counters[day] = self.counters.get(day, 0) + 1
            plan.number = rules.demand_number(day, self.counters[day])

    # one demand's story ------------------------------------------------------------------------------------

    def quality_of(self, unit: Organisation, community: Region) -> _Quality:
        key = (unit.name, community.name)
        if key not in self.qualities:
            base = self.district.quality(self.seed, unit.name)
            place = self.district.quality(self.seed, community.name)
            self.qualities[key] = _Quality(base.accept_in_time, base.reply_in_time,
                                           min(0.97, max(0.4, base.solves + (place.solves - 0.8) * 0.5)))
        return self.qualities[key]

    def desk_actor(self, plan: _Plan):
        return self.logins.desk.get(self.district.community_of[plan.place.grid.pk].pk)

    def unit_actor(self, unit: Organisation | None):
        if unit is not None and unit.pk == self.logins.property_company:
            return self.logins.property_staff
        return None

    def verifier(self, plan: _Plan):
        if plan.place.grid.pk == self.logins.grid_worker_grid:
            return self.logins.grid_worker
        return self.desk_actor(plan)

    def fallback_unit(self, plan: _Plan, unit: Organisation) -> Organisation:
        """Where the desk sends a demand its first unit returned."""
        d = self.district
        community, street = d.community_of[plan.place.grid.pk], d.street_of[plan.place.grid.pk]
        office, committee = d.street_office[street.pk], d.committee[community.pk]
        return committee if unit.pk == office.pk else office

    def manual_unit(self, plan: _Plan) -> Organisation:
        department = MANUAL_DISPATCH.get(plan.intended.code)
        if department:
            return self.district.departments[department]
        return self.district.street_office[self.district.street_of[plan.place.grid.pk].pk]

    def play(self, plan: _Plan) -> None:
        plan.flow = flow = _Flow(self.lookups)
        try:
            self.story(plan, flow)
        except _NotYet:
            pass

    @staticmethod
    def suggested_urgency(plan: _Plan) -> str:
        """About one in twenty residents filing online suggest an urgency (a suggestion the desk confirms);
        chosen by the time and text of the demand (not its number, which depends on what was filed before)
        and not drawn, so the random stream of the rest of the story is unchanged."""
        if plan.channel not in ("web", "api") or zlib.crc32(f"{plan.received_at:%s}{plan.text}".encode()) % 20 != 7:
            return ""
        return "utilities" if plan.intended.default_urgency == "utilities" else "complex"

    def story(self, plan: _Plan, flow: _Flow) -> None:
        """Play the plan's steps until it is done or its next step lies after the end of the year. Delays
        are drawn as shares of the time limit in force, so that most steps are in time and some late."""
        rng, d, place = self.rng, self.district, plan.place
        community = d.community_of[place.grid.pk]
        chance = (lambda p: False) if plan.is_fast else (lambda p: rng.random() < p)  # noqa: E731
        t = plan.received_at

        def at(moment: dt.datetime, action: str) -> dt.datetime:
            moment = moment.replace(microsecond=0)
            if moment > self.end or plan.hold == action:
                raise _NotYet
            return moment

        def within(due: dt.datetime, since: dt.datetime, *, in_time: bool, least_hours: float = 0) -> dt.datetime:
            """A moment after `since`: before `due` when in time, else after it."""
            span = max((due - since).total_seconds() / 3600, least_hours)
            if plan.is_fast:
                return since + dt.timedelta(hours=min(span * 0.3, rng.uniform(0.2, 1.5)))
            if in_time and due > since:
                return since + (due - since) * rng.uniform(0.05, 0.95)
            return max(since, due) + dt.timedelta(hours=max(span, 1) * rng.uniform(0.05, 1.5))

        def later(low: float, high: float) -> dt.timedelta:
            return dt.timedelta(hours=rng.uniform(low, high) * (0.2 if plan.is_fast else 1))

        flow.file(t, plan.filer, number=plan.number, text=plan.text, channel=plan.channel,
                  longitude=place.longitude, latitude=place.latitude, grid=place.grid, address=self.address(plan),
                  category=plan.category, contact_name=plan.contact_name, contact_phone=plan.contact_phone,
                  reporter=Person(pk=plan.reporter) if plan.reporter else None,
                  suggested_urgency=self.suggested_urgency(plan))
        demand = flow.demand
        desk = self.desk_actor(plan)
        desk_in_time = lambda: not chance(P_LATE_DISPATCH)  # noqa: E731
        if demand.suggested_urgency and plan.fate == "normal":
            t = at(within(demand.dispatch_due, t, in_time=True), "confirm_urgency")
            flow.confirm_urgency(t, desk)

        if plan.fate == "merge":
            t = at(within(demand.dispatch_due, t, in_time=desk_in_time()), "merge")
            flow.merge_into(t, desk, plan.original.flow.demand, note=rng.choice(texts.MERGE_NOTES))
            return
        if plan.fate == "reject":
            t = at(within(demand.dispatch_due, t, in_time=desk_in_time()), "reject")
            flow.reject(t, desk, reason=rng.choice(texts.REJECT_REASONS))
            return
        if demand.category is None:
            t = at(within(demand.dispatch_due, t, in_time=desk_in_time()), "triage")
            if chance(P_DISPATCH_BY_HAND):  # the desk classifies and dispatches in one step, with a co-handler
                unit = self.lookups.route(plan.intended, place.grid).unit or self.manual_unit(plan)
                committee = d.committee[community.pk]
                flow.dispatch(t, desk, unit=unit, category=plan.intended,
                              assisting=[committee] if committee.pk != unit.pk else [])
            else:
                flow.triage(t, desk, category=plan.intended)
        if demand.state == rules.RECEIVED:  # no routing rule: dispatched by hand
            t = at(within(demand.dispatch_due, t, in_time=desk_in_time()), "dispatch")
            flow.dispatch(t, desk, unit=self.manual_unit(plan))
        if chance(P_RETURN):
            unit = demand.lead_unit
            t = at(within(demand.accept_due, t, in_time=True), "return")
            flow.return_to_dispatch(t, self.unit_actor(unit), reason=rng.choice(texts.RETURN_REASONS))
            t = at(within(demand.dispatch_due, t, in_time=desk_in_time()), "dispatch")
            target = self.fallback_unit(plan, unit)
            flow.dispatch(t, desk, unit=target, assisting=[unit] if chance(0.3) else [], note="改派")
        for round_ in range(3):
            unit = demand.lead_unit
            quality = self.quality_of(unit, community)
            actor = self.unit_actor(unit)
            t = at(within(demand.accept_due, t, in_time=not chance(1 - quality.accept_in_time)), "accept")
            flow.accept(t, actor)
            if chance(P_START_WORK):
                t = at(t + (within(demand.feedback_due, t, in_time=True, least_hours=1) - t) * 0.2, "start_work")
                flow.start_work(t, actor)
            if round_ == 0 and chance(P_STUCK):
                return  # never replied: overdue, a case for 挂牌督办
            t = at(within(demand.feedback_due, t, in_time=not chance(1 - quality.reply_in_time), least_hours=4),
                   "reply")
            solved = plan.is_fast or round_ == 2 or rng.random() < min(0.97, quality.solves + 0.12 * round_)
            flow.reply(t, actor, text=self.reply_text(plan, unit, solved))
            t = at(t + later(2, 40), "verify")
            if round_ < 2 and chance(P_DESK_REOPEN):
                flow.reopen(t, desk, reason=rng.choice(texts.DESK_REOPEN_REASONS))
                continue
            flow.verify(t, self.verifier(plan), note=rng.choice(texts.VERIFY_NOTES))
            t = at(t + later(0.5, 20), "close")
            flow.close(t, desk)
            if chance(P_UNRATED):
                return  # the resident could not be reached for the 回访
            t = at(t + later(3, 70), "rate")
            satisfaction = self.satisfaction(solved, late=demand.replied_at > demand.feedback_due)
            note = rng.choice(texts.RATING_NOTES_GOOD if solved else texts.RATING_NOTES_BAD)
            flow.rate(t, plan.filer or desk, solved=solved, satisfaction=satisfaction, note=note)
            if solved:
                return

    def satisfaction(self, solved: bool, late: bool) -> str:
        odds = (0.72, 0.24, 0.04) if solved else (0.04, 0.26, 0.70)
        if late:
            odds = (odds[0] * 0.6, odds[1], odds[2] + odds[0] * 0.4)
        return self.rng.choices(Demand.Satisfaction.values, odds)[0]

    def reply_text(self, plan: _Plan, unit: Organisation, solved: bool) -> str:
        rng = self.rng
        top = plan.intended.code.split(".")[0]
        slots = {"compound": plan.place.compound, "issue": plan.intended.name, "unit": unit.name,
                 "action": rng.choice(texts.ACTIONS.get(top, texts.ACTIONS["other"])),
                 "obstacle": rng.choice(texts.OBSTACLES), "plan": rng.choice(texts.PLANS)}
        return rng.choice(texts.REPLY_SOLVED if solved else texts.REPLY_NOT_SOLVED).format(**slots)

    def address(self, plan: _Plan) -> str:
        place = plan.place
        if place.is_village or plan.channel == "patrol":
            return place.address
        return place.address if self.rng.random() < 0.7 else place.compound

    # writing ---------------------------------------------------------------------------------------------

    def write(self, plans: list[_Plan]) -> None:
        """Demands (originals before their duplicates), contacts, assignments, the core Events in time order,
        DemandEvents, the day counters, and the events' outbox rows."""
        demands = [p.flow.demand for p in plans]
        Demand.objects.bulk_create([d for d in demands if d.merged_into is None], batch_size=1000)
        Demand.objects.bulk_create([d for d in demands if d.merged_into is not None], batch_size=1000)
        DemandContact.objects.bulk_create([DemandContact(demand=p.flow.demand, **p.flow.contact)
                                           for p in plans if p.flow.contact], batch_size=2000)
        Assignment.objects.bulk_create([a for p in plans for a in p.flow.assignments], batch_size=2000)
        steps = sorted(((step.at, i, k, step, p.flow.demand) for i, p in enumerate(plans)
                        for k, step in enumerate(p.flow.steps)), key=lambda row: row[:3])
        # The two big tables (about nine rows per demand each) go in as plain rows: building 130,000 model
        # instances for bulk_create took about half of the build.
        ops = connection.ops
        moment = ops.adapt_datetimefield_value
        actor_id = lambda step: step.actor.pk if step.actor is not None else None  # noqa: E731
        event_ids = _new_ids(Event, len(steps))
        _insert_rows(Event, ("id", "kind", "subject_type", "subject_id", "actor", "at", "data", "private"), [
            (event_id, f"demands.{step.action}", "demands.demand", str(demand.pk), actor_id(step), moment(step.at),
             ops.adapt_json_value(step.data, None), ops.adapt_json_value(step.private, None))
            for event_id, (_, _, _, step, demand) in zip(event_ids, steps, strict=True)])
        _insert_rows(DemandEvent, ("demand", "actor", "at", "from_state", "to_state", "action", "note", "unit", "event"), [
            (demand.pk, actor_id(step), moment(step.at), step.from_state, step.to_state, step.action, step.note,
             step.unit.pk if step.unit is not None else None, event_id)
            for event_id, (_, _, _, step, demand) in zip(event_ids, steps, strict=True)])
        DemandCounter.objects.bulk_create([DemandCounter(day=day, last=last) for day, last in self.counters.items()
                                           if day not in self.existing_days])
        for day in self.existing_days:
            DemandCounter.objects.filter(day=day).update(last=self.counters[day])
        refresh_planner_statistics(Demand, DemandContact, Assignment, Event, DemandEvent)
        ledger.queue_unsequenced()


def _insert_rows(model, names: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT rows of already adapted values into the model's table, by field names."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in names)
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start:start + 5000])


def _new_ids(model, count: int) -> list[int]:
    """`count` fresh primary keys for explicit inserts: from the table's sequence on PostgreSQL; on SQLite
    the next ones after the highest ever given (the open write transaction holds the database lock)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [connection.ops.quote_name(table), count])
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise RuntimeError(f"demo demands are built on SQLite or PostgreSQL, not {connection.vendor}")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        start = max(highest, cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def build_demo_demands(seed: int = org_demo.DEMO_SEED, *, count: int | None = None,
                       end: dt.datetime | None = None) -> DemoDemandsSummary:
    """`count` demands (default DEMO_COUNT) over the year ending at `end` (default now) across the demo
    district, in the caller's transaction or one of its own. Needs the district: org.demo.build_demo
    runs this itself, through its extension list."""
    district = org_demo.demo_district()
    if district is None:
        raise RuntimeError("load the demo district first")
    count = DEMO_COUNT if count is None else count
    if count < 0:
        raise ValueError("count must be ≥ 0")
    with transaction.atomic():
        return _Builder(seed, count, end or clock.now()).build(district)


def reset_demo_demands() -> dict[str, int]:
    """Delete the demands placed in the demo district (whoever filed them) and the demo's routing rules.
    Their core Events and ledger entries stay: the journal and the log are append-only."""
    district = org_demo.demo_district()
    if district is None:
        return {}
    prefix = district.path
    with transaction.atomic():
        demands = Demand.objects.filter(grid__path__startswith=prefix)
        deleted = {"demand_contact_accesses": DemandContactAccess.objects.filter(demand__in=demands).delete()[0]}
        # Duplicates first: merged_into protects their originals.
        counted = demands.filter(merged_into__isnull=False).delete()[1].get("demands.Demand", 0)
        deleted["demands"] = counted + demands.delete()[1].get("demands.Demand", 0)
        deleted["routing_rules"] = RoutingRule.objects.filter(
            Q(region__path__startswith=prefix) | Q(unit__region__path__startswith=prefix)).delete()[0]
    return deleted

