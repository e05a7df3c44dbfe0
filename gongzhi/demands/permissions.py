"""Who may do what with a demand, registered with core.policy for every "demands." action.

Four kinds of people act on a demand, all through their posts in force today (org.permissions.active_posts):
- the reporter (the user who filed it) views it and answers the 回访;
- handlers: anyone with a post in a unit currently assigned to it (lead or assisting); the lead unit's
  people accept, return, work on and reply to it; contact data is shown to handlers only;
- dispatchers: leaders and staff of the street office / township government or the residents' /
  villagers' committee whose region covers the demand's grid: triage, dispatch, verify, close, reopen,
  merge, reject;
- grid workers of the demand's grid verify it; they and the leaders of the governing bodies over it
  (party and administrative, not government departments, which see what is assigned to them) view it.
queries.visible_q uses the same tables, so a list never shows what can() would refuse.

A unit named in a dispatch is checked too ("demands.dispatch_to" on a DispatchTarget): a dispatcher
sends a demand only to the units serving its place (dispatch_targets_q), since the lead and assisting
units see the reporter's name and phone.
"""

from dataclasses import dataclass

from django.db.models import Q

from gongzhi.org.models import Organisation, Post, Region
from gongzhi.org.permissions import GOVERNING_KINDS, OFFICE, active_posts

from . import rules
from .models import Assignment, Demand, RoutingRule

R = Post.Role
DESK_KINDS = frozenset({"street_office", "township_government", "residents_committee", "villagers_committee"})
INTAKE_DESK_KINDS = frozenset({"street_office", "township_government"})
OVERSEER_KINDS = GOVERNING_KINDS - {"department"}

DISPATCHER_ACTIONS = frozenset({"demands.triage", "demands.dispatch", "demands.close", "demands.reopen",
                                "demands.merge", "demands.reject", "demands.confirm_urgency"})
LEAD_ACTIONS = frozenset({"demands.accept", "demands.return", "demands.start_work", "demands.reply"})


def dispatcher_paths(user) -> list[str]:
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in DESK_KINDS]


def intake_desk_paths(user) -> list[str]:
    """The streets whose street office or township government desk the user sits at."""
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in INTAKE_DESK_KINDS]


def grid_worker_paths(user) -> list[str]:
    return [p.grid.path for p in active_posts(user) if p.role == R.GRID_WORKER and p.grid_id]


def overseer_paths(user) -> list[str]:
    """Where the user may see every demand: their dispatcher and grid-worker scopes, and the regions of
    the governing bodies (not departments) in which they hold an office."""
    office = [p.organisation.region.path for p in active_posts(user)
              if p.role in OFFICE and p.organisation.kind in OVERSEER_KINDS]
    return office + dispatcher_paths(user) + grid_worker_paths(user)


def unit_ids(user) -> set[int]:
    """The organisations the user holds a post in: a demand assigned to one of them is theirs to handle."""
    return {p.organisation_id for p in active_posts(user)}


def current_units(demand: Demand) -> dict[int, str]:
    """{unit id: role} of the units handling the demand now (read once per list page by
    prefetch_current_units, when a list's cards were prepared so)."""
    prefetched = demand.__dict__.get("_current_units")
    if prefetched is not None:
        return prefetched
    return dict(Assignment.objects.filter(demand=demand, ended_at__isnull=True).values_list("unit_id", "role"))


def prefetch_current_units(demands) -> None:
    """current_units() of a page of demands in one query (instead of one per permission check per card). Kept
    on each object for this request only: a list page's objects are read, never changed."""
    demands = list(demands)
    if not demands:
        return
    held: dict[int, dict[int, str]] = {d.pk: {} for d in demands}
    for demand_id, unit_id, role in (Assignment.objects.filter(demand_id__in=list(held), ended_at__isnull=True)
                                     .values_list("demand_id", "unit_id", "role")):
        held[demand_id][unit_id] = role
    for demand in demands:
        demand._current_units = held[demand.pk]


def _covers(paths: list[str], region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths)


def is_dispatcher(user, demand: Demand) -> bool:
    return _covers(dispatcher_paths(user), demand.grid)


def is_handler(user, demand: Demand, *, lead_only: bool = False) -> bool:
    units = current_units(demand)
    mine = unit_ids(user)
    return any(unit in mine and (role == Assignment.Role.LEAD or not lead_only) for unit, role in units.items())


def is_reporter(user, demand: Demand) -> bool:
    return demand.reporter_user_id is not None and demand.reporter_user_id == user.pk


@dataclass(frozen=True)
class DispatchTarget:
    """A unit a dispatcher names as lead or assisting unit of a demand (the object of "demands.dispatch_to")."""

    demand: Demand
    unit: Organisation


def dispatch_targets_q(user, demand: Demand) -> Q:
    """The organisations `user` may send `demand` to, as a Q over Organisation: never a party
    organisation, and only
    - a unit of a region above or at the demand's grid (district departments and companies registered
      at the district, the street office, the committee): they serve the place;
    - a unit inside the subtree of a desk of the user's that covers the demand (a street desk: its
      street's committees and property companies; a committee: its own community's);
    - a unit a routing rule names for the demand's place (a rule of any of its regions, or of every
      region), whatever its own region: the responsibility list says it handles matters there.
    A desk of another street or township never receives a demand from here, nor sees its reporter."""
    ancestry = [int(x) for x in demand.grid.path.strip("/").split("/")]
    places = Q(region_id__in=ancestry)
    desks = [path for path in dispatcher_paths(user) if demand.grid.path.startswith(path)]
    if getattr(user, "is_superuser", False):
        desks.append("/" + "/".join(str(x) for x in ancestry[:2]) + "/")  # the demand's street
    for path in desks:
        places |= Q(region__path__startswith=path)
    routed = RoutingRule.objects.filter(Q(region_id__in=ancestry) | Q(region__isnull=True), is_active=True)
    places |= Q(pk__in=routed.values("unit_id"))
    return places & ~Q(kind__in=Organisation.PARTY_KINDS)


def may_dispatch_to(user, target: DispatchTarget) -> bool:
    return (is_dispatcher(user, target.demand)
            and Organisation.objects.filter(dispatch_targets_q(user, target.demand), pk=target.unit.pk).exists())


def rule(user, action: str, obj) -> bool:
    if action == "demands.dispatch_to":
        return isinstance(obj, DispatchTarget) and may_dispatch_to(user, obj)
    if action == "demands.file":
        return True  # any signed-in person may file (can() already refused inactive users)
    if action == "demands.patrol":
        # 巡查上报: grid workers report what they find in their own grid.
        return isinstance(obj, Region) and _covers(grid_worker_paths(user), obj)
    if action == "demands.confirm_urgency" and isinstance(obj, Region):
        # Filing in a grid the user dispatches for: their urgency is the desk's own, not a suggestion.
        return _covers(dispatcher_paths(user), obj)
    if action == "demands.view_rates":
        return bool(overseer_paths(user) or unit_ids(user)) if obj is None else _covers(overseer_paths(user), obj)
    if action == "demands.view_any":
        return bool(overseer_paths(user))
    if action == "demands.place":
        # Open311 requests the address register could not place have no place yet, so no community's desk
        # is theirs: the street offices' and township governments' desks (the district's intake desks) see
        # the queue, and each places a request only in a grid of its own street.
        paths = intake_desk_paths(user)
        return bool(paths) if obj is None else isinstance(obj, Region) and _covers(paths, obj)
    if not isinstance(obj, Demand):
        return False
    if action == "demands.view":
        return is_reporter(user, obj) or _covers(overseer_paths(user), obj.grid) or is_handler(user, obj)
    if action == "demands.view_contact":
        return is_handler(user, obj)
    # Photos (photos.py): the reporter adds them (and the desk, filing for a caller) until the demand is
    # merged or rejected; the lead unit adds "after" photos; those who act on the demand see them; the
    # desk decides which are public.
    if action == "demands.add_photo":
        return obj.state not in rules.FINAL_STATES and (is_reporter(user, obj) or is_dispatcher(user, obj))
    if action == "demands.add_reply_photo":
        return is_handler(user, obj, lead_only=True)
    if action == "demands.view_photo":
        return (is_reporter(user, obj) or is_handler(user, obj) or is_dispatcher(user, obj)
                or _covers(grid_worker_paths(user), obj.grid))
    if action == "demands.publish_photo":
        return is_dispatcher(user, obj)
    if action == "demands.confirm_urgency":
        # Only while a reporter's suggestion awaits the desk (the desk sets urgency itself at triage).
        return bool(obj.suggested_urgency) and not obj.urgency_overridden and is_dispatcher(user, obj)
    if action in DISPATCHER_ACTIONS:
        return is_dispatcher(user, obj)
    if action in LEAD_ACTIONS:
        return is_handler(user, obj, lead_only=True)
    if action == "demands.verify":
        return _covers(grid_worker_paths(user), obj.grid) or is_dispatcher(user, obj)
    if action == "demands.rate":
        # The 回访 is the reporter's answer; a demand filed without an account (hotline) is rated by the
        # desk that called the resident back.
        return is_reporter(user, obj) if obj.reporter_user_id else is_dispatcher(user, obj)
    return False


def visible_q(user) -> Q:
    """The demands `user` may view, as a Q (the same tests as rule(…, "demands.view", …))."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    q = Q(reporter_user_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    for path in overseer_paths(user):
        q |= Q(grid__path__startswith=path)
    units = unit_ids(user)
    if units:
        q |= Q(pk__in=Assignment.objects.filter(unit_id__in=units, ended_at__isnull=True).values("demand_id"))
    return q


def sees_in_full(user, demand: Demand) -> bool:
    """Whether `user` reads a demand's free text, address and reply as filed: the reporter, the units
    handling it, its dispatch desks and its grid's workers, who act on it for the reporter. Anyone else
    who may see it (leaders of the bodies over it: overseers) reads them scrubbed (#13 item 5)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    if is_reporter(user, demand):
        return True
    if _covers(dispatcher_paths(user) + grid_worker_paths(user), demand.grid):
        return True
    return is_handler(user, demand)
