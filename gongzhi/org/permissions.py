"""Who may do what where: posts grant actions, limited to the region subtree each post acts on.

Registered with core.policy for every "org." action; the scoping helper in queries.py uses the
same tables so a list never shows what can() would refuse.
"""

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
VIEW_ACTION = {Person: "org.view_people", Household: "org.view_people", PersonalData: "org.view_people"}

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


def active_posts(user) -> list[Post]:
    """The user's posts in force today, cached on the user object for the request."""
    cache = getattr(user, "_gongzhi_posts", None)
    if cache is not None:
        return cache
    posts = []
    if getattr(user, "is_authenticated", False):
        today = clock.today()
        posts = list(
            Post.objects.filter(person__user=user, start_date__lte=today)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .select_related("organisation__region", "grid", "building__grid")
        )
    user._gongzhi_posts = posts
    return posts


def scopes(user, action: str) -> list[Region]:
    """The regions in whose subtree `user` may do `action`."""
    roles = ROLE_ACTIONS.get(action, frozenset())
    regions = []
    for post in active_posts(user):
        if post.role not in roles:
            continue
        if post.organisation.kind not in GOVERNING_KINDS and action not in UNIT_ACTIONS:
            continue
        region = post.scope_region
        if action.startswith("org.personal.") and region.level < PERSONAL_MIN_LEVEL:
            continue
        regions.append(region)
    return regions


def region_paths_of(obj) -> list[str]:
    """The region paths an object lies in (a person: where they live, and where they hold posts)."""
    if isinstance(obj, Region):
        return [obj.path]
    if isinstance(obj, Building):
        return [obj.grid.path]
    if isinstance(obj, Household):
        return [obj.building.grid.path]
    if isinstance(obj, Organisation):
        return [obj.region.path]
    if isinstance(obj, Post):
        return [obj.scope_region.path]
    if isinstance(obj, PersonalData):
        obj = obj.person
    if isinstance(obj, Person):
        paths = []
        if obj.household_id:
            paths.append(obj.household.building.grid.path)
        elif obj.residence_id:
            paths.append(obj.residence.path)
        today = clock.today()
        paths += [p.organisation.region.path for p in obj.posts.select_related("organisation__region")
                  if p.is_active_on(today)]
        return paths
    return []


def rule(user, action: str, obj) -> bool:
    if action == "org.view":
        action = VIEW_ACTION.get(type(obj), action)
    regions = scopes(user, action)
    if obj is None:
        return bool(regions)
    return any(path.startswith(region.path) for path in region_paths_of(obj) for region in regions)


def scope_q(user, action: str, model) -> Q:
    """A Q selecting the rows of `model` that `user` may `action`; superusers see everything."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    lookup = PATH_LOOKUP[model]
    q = Q(pk__in=[])
    for region in scopes(user, action):
        q |= Q(**{f"{lookup}__startswith": region.path})
    if model is Person:
        # People with no household are placed by their residence; post holders also where they serve.
        in_post = Post.objects.filter(person=OuterRef("pk"), start_date__lte=clock.today()).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=clock.today())
        )
        for region in scopes(user, action):
            q |= Q(household__isnull=True, residence__path__startswith=region.path)
            q |= Exists(in_post.filter(organisation__region__path__startswith=region.path))
    return q
