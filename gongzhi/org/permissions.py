"""Who may do what where: posts grant actions, limited to the region subtree each post acts on.

Registered with core.policy for every "org." action; the scoping helper in queries.py uses the
same tables so a list never shows what can() would refuse.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from gongzhi.core import clock

from .models import Building, Household, Organisation, Person, PersonalData, Post, Region

R = Post.Role
LEADERS = {R.SECRETARY, R.DEPUTY_SECRETARY, R.DIRECTOR, R.DEPUTY_DIRECTOR}
OFFICE = LEADERS | {R.MEMBER, R.STAFF}

# Action -> roles that grant it (within the post's region subtree).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "org.view": frozenset(R.values),
    "org.view_people": frozenset(R.values),
    "org.view_coverage": frozenset(OFFICE | {R.GRID_WORKER, R.INSTRUCTOR}),
    "org.change": frozenset(LEADERS | {R.STAFF}),
    # Appointing is for leaders only, and see may_appoint() for the further limits.
    "org.appoint": frozenset(LEADERS),
    # A resident's "I live here" (org/accounts.py): the grid worker of the building's grid, or the office
    # of the community above, confirms it.
    "org.confirm_household": frozenset(OFFICE | {R.GRID_WORKER}),
    # The personal-data access log (who revealed whose data, why): the district's data officer only.
    "org.view_access_log": frozenset({R.DATA_OFFICER}),
}

# What each post sees of a resident's personal data (个人信息保护法 art. 6: no more than its task needs).
#   SHOWN  - in full wherever the person appears;
#   REVEAL - masked (张某, 138****5678, 东园路**); shown in full on request with a purpose in real
#            words, each reveal written to the access log and counted against the hourly limit;
#   MASKED - masked, with no way to reveal.
# Each pair is (post acting at community / village level or below - it serves residents face to face,
# post acting above it - street, township, district: an overseer). docs/security.md copies this table.
SHOWN, REVEAL, MASKED = "shown", "reveal", "masked"
PERSONAL_FIELDS = ("name", "party", "address", "phone", "id_number")
_LEADER_ACCESS = {"name": (SHOWN, REVEAL), "party": (SHOWN, REVEAL), "address": (SHOWN, REVEAL),
                  "phone": (REVEAL, MASKED), "id_number": (REVEAL, MASKED)}
PERSONAL_DATA_ACCESS: dict[str, dict[str, tuple[str, str]]] = {
    R.SECRETARY: _LEADER_ACCESS,
    R.DEPUTY_SECRETARY: _LEADER_ACCESS,
    R.DIRECTOR: _LEADER_ACCESS,
    R.DEPUTY_DIRECTOR: _LEADER_ACCESS,
    R.MEMBER: {"name": (SHOWN, REVEAL), "party": (SHOWN, MASKED), "address": (SHOWN, REVEAL),
               "phone": (MASKED, MASKED), "id_number": (MASKED, MASKED)},
    R.STAFF: {"name": (SHOWN, REVEAL), "party": (SHOWN, MASKED), "address": (SHOWN, REVEAL),
              "phone": (MASKED, MASKED), "id_number": (MASKED, MASKED)},
    R.GROUP_LEADER: {"name": (SHOWN, MASKED), "party": (SHOWN, MASKED), "address": (SHOWN, MASKED),
                     "phone": (MASKED, MASKED), "id_number": (MASKED, MASKED)},
    R.GRID_WORKER: {"name": (SHOWN, MASKED), "party": (SHOWN, MASKED), "address": (SHOWN, MASKED),
                    "phone": (REVEAL, MASKED), "id_number": (REVEAL, MASKED)},
    # A building lead, a resident volunteer, for the people of their own building only.
    R.BUILDING_LEAD: {"name": (SHOWN, MASKED), "party": (MASKED, MASKED), "address": (SHOWN, MASKED),
                      "phone": (REVEAL, MASKED), "id_number": (MASKED, MASKED)},
    R.INSTRUCTOR: {"name": (SHOWN, MASKED), "party": (SHOWN, MASKED), "address": (MASKED, MASKED),
                   "phone": (MASKED, MASKED), "id_number": (MASKED, MASKED)},
    R.LIAISON: {"name": (SHOWN, MASKED), "party": (MASKED, MASKED), "address": (MASKED, MASKED),
                "phone": (MASKED, MASKED), "id_number": (MASKED, MASKED)},
    # The data officer audits reveals; they never need a resident's data themselves.
    R.DATA_OFFICER: {f: (MASKED, MASKED) for f in PERSONAL_FIELDS},
}
_NO_ACCESS = (MASKED, MASKED)
for _field in PERSONAL_FIELDS:
    _tiers = {role: PERSONAL_DATA_ACCESS.get(role, {}).get(_field, _NO_ACCESS) for role in R.values}
    # org.see.<field>: shown without asking; org.personal.<field>: may be revealed (logged).
    ROLE_ACTIONS[f"org.see.{_field}"] = frozenset(r for r, t in _tiers.items() if SHOWN in t)
    ROLE_ACTIONS[f"org.personal.{_field}"] = frozenset(r for r, t in _tiers.items() if set(t) & {SHOWN, REVEAL})


def personal_access(post: "Post", field: str) -> str:
    """SHOWN, REVEAL or MASKED: what `post` gives its holder of `field` for the people in its scope."""
    near, far = PERSONAL_DATA_ACCESS.get(post.role, {}).get(field, _NO_ACCESS)
    return near if post.scope_region.level >= FACE_TO_FACE_LEVEL else far

# Posts in these bodies govern their region. A post in a property company, owners' committee,
# social organisation or co-building unit only lets its holder view the region's structure
# (regions, buildings, organisations): not its residents, not coverage, not changes.
GOVERNING_KINDS = Organisation.PARTY_KINDS | {
    "residents_committee", "villagers_committee", "street_office", "township_government",
    "district_government", "department",
}
UNIT_ACTIONS = frozenset({"org.view"})

# Which view action guards each model (people are more sensitive than buildings).
VIEW_ACTION = {Person: "org.view_people", Household: "org.view_people", PersonalData: "org.view_people",
               Post: "org.view_people"}
PEOPLE_ACTIONS = frozenset({"org.view_people"} | {f"org.{kind}.{f}" for kind in ("see", "personal")
                                                    for f in PERSONAL_FIELDS})
# A building lead acts on the people of one building, not the whole grid.
BUILDING_LOOKUP = {Person: "household__building_id", Household: "building_id",
                   PersonalData: "person__household__building_id"}

# Posts acting at this level or below serve residents face to face (see PERSONAL_DATA_ACCESS).
FACE_TO_FACE_LEVEL = Region.Level.COMMUNITY

# How to reach the region path from each model, for queryset scoping.
PATH_LOOKUP = {
    Region: "path",
    Building: "grid__path",
    Household: "building__grid__path",
    Organisation: "region__path",
    Post: "organisation__region__path",
    Person: "household__building__grid__path",
    PersonalData: "person__household__building__grid__path",
}


@dataclass(frozen=True)
class Scope:
    """Where a post lets its holder do one action: a region subtree, or one building's people."""

    path: str
    level: int
    building_id: int | None = None

    def covers_path(self, path: str) -> bool:
        return self.building_id is None and bool(path) and path.startswith(self.path)


def active_posts(user) -> list[Post]:
    """The user's posts in force today, cached on the user object for the request."""
    cache = getattr(user, "_gongzhi_posts", None)
    if cache is not None:
        return cache
    posts = []
    if getattr(user, "is_authenticated", False):
        posts = list(
            Post.objects.filter(Post.in_force_q(clock.today()), person__user=user)
            .select_related("organisation__region", "grid", "building__grid")
        )
    user._gongzhi_posts = posts
    return posts


def scopes(user, action: str) -> list[Scope]:
    """Where `user` may do `action`, one Scope per post that grants it."""
    roles = ROLE_ACTIONS.get(action, frozenset())
    found = []
    for post in active_posts(user):
        if post.role not in roles:
            continue
        if post.organisation.kind not in GOVERNING_KINDS and action not in UNIT_ACTIONS:
            continue
        region = post.scope_region
        kind, _, field = action.removeprefix("org.").partition(".")
        if kind in ("see", "personal") and personal_access(post, field) not in (
                (SHOWN,) if kind == "see" else (SHOWN, REVEAL)):
            continue
        building = post.building_id if post.role == R.BUILDING_LEAD and action in PEOPLE_ACTIONS else None
        found.append(Scope(region.path, region.level, building))
    return found


def region_paths_of(obj) -> list[str]:
    """The region paths an object lies in (a person: where they live, and where they hold posts)."""
    if isinstance(obj, Region):
        return [obj.path]
    if isinstance(obj, Building):
        return [obj.grid.path]
    if isinstance(obj, Household):
        return [obj.building.grid.path]
    if isinstance(obj, (Organisation, Post)):
        organisation = obj if isinstance(obj, Organisation) else obj.organisation
        return [organisation.region.path]
    if isinstance(obj, PersonalData):
        obj = obj.person
    if isinstance(obj, Person):
        home = obj.home_region
        paths = [home.path] if home else []
        paths += [p.organisation.region.path
                  for p in obj.posts.filter(Post.in_force_q(clock.today())).select_related("organisation__region")]
        return paths
    return []


def building_of(obj) -> int | None:
    if isinstance(obj, PersonalData):
        obj = obj.person
    if isinstance(obj, Person):
        return obj.household.building_id if obj.household_id else None
    if isinstance(obj, Household):
        return obj.building_id
    return None


def may_appoint(user, post: Post) -> bool:
    """An appointment is made by a leader whose scope covers the post's place; nobody appoints
    themselves; and a leading post (书记, 主任 …) is filled only from a level above its organisation."""
    if post.person.user_id is not None and post.person.user_id == user.pk:
        return False
    target = post.organisation.region.path
    for scope in scopes(user, "org.appoint"):
        if not scope.covers_path(target):
            continue
        if post.role in LEADERS and scope.path == target:
            continue
        if scope.covers_path(post.scope_region.path):
            return True
    return False


def rule(user, action: str, obj) -> bool:
    if action == "org.view":
        action = VIEW_ACTION.get(type(obj), action)
    if action == "org.appoint" and isinstance(obj, Post):
        return may_appoint(user, obj)
    found = scopes(user, action)
    if obj is None:
        return bool(found)
    paths = region_paths_of(obj)
    building = building_of(obj)
    return any(
        (building is not None and building == scope.building_id) or any(scope.covers_path(p) for p in paths)
        for scope in found
    )


def scope_q(user, action: str, model) -> Q:
    """A Q selecting the rows of `model` that `user` may `action`; superusers see everything."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    lookup = PATH_LOOKUP[model]
    q = Q(pk__in=[])
    in_post = Post.objects.filter(Post.in_force_q(clock.today()), person=OuterRef("pk"))
    for scope in scopes(user, action):
        if scope.building_id is not None:
            if model in BUILDING_LOOKUP:
                q |= Q(**{BUILDING_LOOKUP[model]: scope.building_id})
            continue
        q |= Q(**{f"{lookup}__startswith": scope.path})
        if model is Person:
            # People with no household are placed by their residence; post holders also where they serve.
            q |= Q(household__isnull=True, residence__path__startswith=scope.path)
            q |= Exists(in_post.filter(organisation__region__path__startswith=scope.path))
    return q


class PersonalSight:
    """What one user sees of each personal field of the people they may view (PERSONAL_DATA_ACCESS),
    worked out once per request so a list can ask it row by row without a query per row."""

    def __init__(self, user):
        self.is_superuser = bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))
        self._scopes = {(kind, f): scopes(user, f"org.{kind}.{f}")
                        for kind in ("see", "personal") for f in PERSONAL_FIELDS}

    def tier(self, person: Person, field: str, paths: list[str] | None = None) -> str:
        """SHOWN, REVEAL or MASKED. `paths` defaults to where the person lives; pass region_paths_of()
        to count the places they hold posts too, as can() does."""
        if self.is_superuser:  # the administrator, as can() lets them, yet every contact read is logged
            return REVEAL if field in ("phone", "id_number") else SHOWN
        if paths is None:
            home = person.home_region
            paths = [home.path] if home else []
        building = building_of(person)
        for kind, tier in (("see", SHOWN), ("personal", REVEAL)):
            if any((building is not None and building == scope.building_id) or any(scope.covers_path(p) for p in paths)
                   for scope in self._scopes[(kind, field)]):
                return tier
        return MASKED


def personal_sight(user) -> PersonalSight:
    """The user's PersonalSight, cached on the user object for the request (like active_posts)."""
    sight = getattr(user, "_gongzhi_sight", None)
    if sight is None:
        sight = PersonalSight(user)
        if user is not None:
            user._gongzhi_sight = sight
    return sight


def access_log_q(user) -> Q:
    """The access-log rows a data officer audits: reveals of the data of people living in their region,
    and reveals by people holding a post there. The administrator sees them all."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    q = Q(pk__in=[])
    for scope in scopes(user, "org.view_access_log"):
        q |= Q(person__household__building__grid__path__startswith=scope.path)
        q |= Q(person__household__isnull=True, person__residence__path__startswith=scope.path)
        q |= Exists(Post.objects.filter(person__user=OuterRef("user"),
                                        organisation__region__path__startswith=scope.path))
    return q


# The working-day calendar (core.workdays) is one for the whole installation: kept by the district
# government (区人民政府), its leaders and staff ("core.calendar.manage"). A superuser may too (core.policy).
CALENDAR_ROLES = frozenset(LEADERS | {R.STAFF})


def calendar_rule(user, action: str, obj) -> bool:
    return any(post.role in CALENDAR_ROLES and post.organisation.kind == "district_government"
               for post in active_posts(user))
