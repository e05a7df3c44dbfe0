"""Who may do what in care, registered with core.policy for every "care." action.

- The community office (leaders, members and staff of the residents' / villagers' committee or the party
  organisation of a community or village) acts on every household of its community: sees and keeps the
  care register, logs visits, posts notices to a building and files for a resident (代办).
- A grid worker does the same for the households of their grid (registers and visits the people of the
  grid; reads a building's page there), but posts no notices.
- A building lead (楼栋长) reads their own building's page, posts notices to it and files a demand for a
  resident of it (代办). They never see the care register: being in a care group (disability, low income)
  is more than a neighbour volunteer needs.
Whether a person or household is visible at all is org's question (org.queries.get_scoped): outside it,
the object does not exist for the caller (404); visible but not theirs to act on, the answer is 403.
"""

from django.db.models import Q

from gongzhi.org.models import Building, Household, Organisation, Person, Region
from gongzhi.org.permissions import OFFICE, active_posts

from .models import CareRegistration, Notice, Visit

COMMUNITY_BODIES = frozenset({"residents_committee", "villagers_committee"}) | Organisation.PARTY_KINDS

# Action -> who: "office" (community office), "grid" (grid worker of the grid), "lead" (building lead).
ACTIONS: dict[str, frozenset[str]] = {
    "care.view": frozenset({"office", "grid"}),           # the care register and visits
    "care.register": frozenset({"office", "grid"}),
    "care.visit": frozenset({"office", "grid"}),
    "care.view_building": frozenset({"office", "grid", "lead"}),
    "care.post_notice": frozenset({"office", "lead"}),
    "care.file_on_behalf": frozenset({"office", "lead"}),
}


def places(user, action: str) -> tuple[list[str], list[int]]:
    """(region paths, building ids) where `user` may do `action` through their posts in force today."""
    kinds = ACTIONS.get(action, frozenset())
    paths, buildings = [], []
    for post in active_posts(user):
        org = post.organisation
        if "office" in kinds and post.role in OFFICE and org.kind in COMMUNITY_BODIES \
                and org.region.level == Region.Level.COMMUNITY:
            paths.append(org.region.path)
        elif "grid" in kinds and post.role == "grid_worker" and post.grid_id:
            paths.append(post.grid.path)
        elif "lead" in kinds and post.role == "building_lead" and post.building_id:
            buildings.append(post.building_id)
    return paths, buildings


def _place_of(obj) -> tuple[str | None, int | None]:
    """(grid path, building id) of what an action names."""
    if isinstance(obj, Building):
        return obj.grid.path, obj.pk
    if isinstance(obj, Household):
        return obj.building.grid.path, obj.building_id
    if isinstance(obj, Person):
        return (obj.household.building.grid.path, obj.household.building_id) if obj.household_id else (None, None)
    if isinstance(obj, CareRegistration):
        return _place_of(obj.person)
    if isinstance(obj, Visit):
        return _place_of(obj.household)
    if isinstance(obj, Notice):
        return _place_of(obj.building)
    return None, None


def rule(user, action: str, obj) -> bool:
    paths, buildings = places(user, action)
    if obj is None:
        return bool(paths or buildings)
    path, building = _place_of(obj)
    if path is None:
        return False
    return building in buildings or any(path.startswith(p) for p in paths)


def q_for(user, action: str, path_lookup: str, building_lookup: str | None = None) -> Q:
    """The rows whose place `user` may `action`, as a Q (the same tests as rule()); all for a superuser."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    paths, buildings = places(user, action)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{path_lookup}__startswith": path})
    if buildings and building_lookup:
        q |= Q(**{f"{building_lookup}__in": buildings})
    return q
