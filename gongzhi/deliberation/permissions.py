"""Who may do what in deliberation, registered with core.policy for every "deliberation." action.

- Residents take part where they live: propose and support topics, discuss, write and vote statements,
  object to a disclosure. So do people holding any post over the place.
- Officers (leaders, committee members and staff of the party organisations and the residents' /
  villagers' committee, street office or township over the place) moderate, convene meetings, act as
  secretary, run procedures and publish disclosures.
- A building lead (楼栋长) records the opinions and signatures they collect door to door from the residents of
  their own building, on the topics of the place their building lies in ("deliberation.collect_opinion");
  whether the resident is one of their building's is the use case's check (collected.py).
- A topic that is not public (held for moderation, not approved, or hidden after reports) takes no
  participation: nobody supports, discusses, reports or votes on it until an officer publishes it.
- Voting in a meeting is decided by the meeting's roll, not here (services check the roll).
- Everyone, signed in or not, may read what is public: topics, opinion maps, results, disclosures.
"""

from gongzhi.org.models import Person, Post, Region
from gongzhi.org.permissions import GOVERNING_KINDS, OFFICE, active_posts

OFFICER_KINDS = GOVERNING_KINDS - {"department"}
PUBLIC_ACTIONS = frozenset({"deliberation.view"})
PARTICIPANT_ACTIONS = frozenset({"deliberation.propose", "deliberation.support", "deliberation.comment",
                                 "deliberation.report", "deliberation.state", "deliberation.vote_statement",
                                 "deliberation.object"})
OFFICER_ACTIONS = frozenset({"deliberation.moderate", "deliberation.manage", "deliberation.convene",
                             "deliberation.run_procedure", "deliberation.publish", "deliberation.answer",
                             "deliberation.view_roll"})
BUILDING_LEAD_ACTIONS = frozenset({"deliberation.collect_opinion"})


def officer_paths(user) -> list[str]:
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in OFFICER_KINDS]


def community_officer(user) -> bool:
    """Whether the user holds an office at a community or village (the level that moderates day to day;
    street and district officers may moderate too, but it is not their daily work)."""
    return any(p.role in OFFICE and p.organisation.kind in OFFICER_KINDS
               and p.organisation.region.level >= Region.Level.COMMUNITY for p in active_posts(user))


def post_paths(user) -> list[str]:
    return [p.scope_region.path for p in active_posts(user)]


def building_lead_posts(user) -> list[Post]:
    """The user's building lead posts in force (each names one building)."""
    return [p for p in active_posts(user) if p.role == Post.Role.BUILDING_LEAD and p.building_id]


def lead_building_ids(user) -> set[int]:
    return {p.building_id for p in building_lead_posts(user)}


def home_path(user) -> str | None:
    person = Person.objects.filter(user=user).select_related(
        "household__building__grid", "residence").first() if getattr(user, "is_authenticated", False) else None
    region = person.home_region if person else None
    return region.path if region else None


def region_of(obj) -> Region | None:
    if obj is None or isinstance(obj, Region):
        return obj
    for attribute in ("region", "topic", "body", "meeting", "motion", "disclosure", "statement"):
        value = getattr(obj, attribute, None)
        if value is not None and value is not obj:
            return region_of(value)
    return None


def _covers(paths, region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths if path)


def _lives_in(user, region: Region) -> bool:
    home = home_path(user)
    # A resident of a grid takes part in the community's topics; the topic's region is the community.
    return bool(home) and (home.startswith(region.path) or region.path.startswith(home))


def _topic_of(obj):
    from .models import Topic

    if isinstance(obj, Topic):
        return obj
    topic = getattr(obj, "topic", None)
    return topic if isinstance(topic, Topic) else None


def rule(user, action: str, obj) -> bool:
    if action in PUBLIC_ACTIONS:
        return True
    region = region_of(obj)
    if action in BUILDING_LEAD_ACTIONS:
        topic = _topic_of(obj)
        if topic is not None and not topic.is_public:
            return False
        paths = [p.building.grid.path for p in building_lead_posts(user)]
        return bool(paths) if region is None else any(path.startswith(region.path) for path in paths)
    if action in PARTICIPANT_ACTIONS:
        topic = _topic_of(obj)
        if topic is not None and not topic.is_public:
            return False
        if region is None:
            return bool(home_path(user) or active_posts(user))
        return _lives_in(user, region) or _covers(post_paths(user), region) or _covers(officer_paths(user), region)
    if action in OFFICER_ACTIONS:
        paths = officer_paths(user)
        return bool(paths) if region is None else _covers(paths, region)
    return False
