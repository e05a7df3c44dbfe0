"""Who may do what in duties, registered with core.policy for every "duties." action.

- The power and responsibility lists are public (公开): anyone may read them.
- Officers (leaders, committee members and staff of the party organisations, the residents' / villagers'
  committee, the street office or township, the district) of the place edit the lists, record decisions,
  set goals and tasks, define scorecards, record accountability and run the matching.
- A unit's own people report progress on the unit's tasks.
- Residents evaluate units where they live (when the place has evaluation configured).
"""

from gongzhi.org.models import Region
from gongzhi.org.permissions import GOVERNING_KINDS, OFFICE, active_posts

OFFICER_KINDS = GOVERNING_KINDS - {"department"}
PUBLIC_ACTIONS = frozenset({"duties.view"})
OFFICER_ACTIONS = frozenset({"duties.manage", "duties.decide", "duties.plan", "duties.evaluate_units",
                             "duties.hold_accountable", "duties.match"})


def officer_paths(user) -> list[str]:
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in OFFICER_KINDS]


def unit_ids(user) -> set[int]:
    return {p.organisation_id for p in active_posts(user)}


def region_of(obj) -> Region | None:
    if obj is None or isinstance(obj, Region):
        return obj
    for attribute in ("region", "goal", "project", "item", "scorecard"):
        value = getattr(obj, attribute, None)
        if value is not None:
            return region_of(value)
    unit = getattr(obj, "unit", None)
    return unit.region if unit is not None else None


def _home_path(user) -> str | None:
    """Where the user lives, cached on the user object for the request (as active_posts does): the scorecards
    page asks once per unit it lists."""
    cache = getattr(user, "_gongzhi_duties_home", None)
    if cache is None:
        from gongzhi.deliberation.permissions import home_path

        cache = user._gongzhi_duties_home = (home_path(user),)
    return cache[0]


def rule(user, action: str, obj) -> bool:
    if action in PUBLIC_ACTIONS:
        return True
    if action == "duties.report_progress":
        # A task's own unit reports on it; officers over the place may too.
        unit_id = getattr(obj, "unit_id", None)
        if unit_id is not None and unit_id in unit_ids(user):
            return True
        action = "duties.plan"
    if action == "duties.evaluate":
        home = _home_path(user)
        region = region_of(obj)
        return bool(home) and region is not None and (home.startswith(region.path) or region.path.startswith(home))
    if action in OFFICER_ACTIONS:
        region = region_of(obj)
        paths = officer_paths(user)
        return bool(paths) if region is None else any(region.path.startswith(p) for p in paths)
    return False
