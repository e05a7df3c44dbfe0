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
    # Personal data is for those who serve residents face to face (need-to-know).
    "org.personal.phone": frozenset(LEADERS | {R.GRID_WORKER, R.BUILDING_LEAD}),
    "org.personal.id_number": frozenset(LEADERS | {R.GRID_WORKER}),
}
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
PEOPLE_ACTIONS = frozenset({"org.view_people", "org.personal.phone", "org.personal.id_number"})
# A building lead acts on the people of one building, not the whole grid.
BUILDING_LOOKUP = {Person: "household__building_id", Household: "building_id",
                   PersonalData: "person__household__building_id"}

# Personal data only to posts acting at community level or below: a street or district post
# has no routine need for an individual resident's phone or ID number.
PERSONAL_MIN_LEVEL = Region.Level.COMMUNITY

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
        if action.startswith("org.personal.") and region.level < PERSONAL_MIN_LEVEL:
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
