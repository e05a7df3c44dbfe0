"""Who may do what in patrol, registered with core.policy for every "patrol." action.

- The grid worker of a grid patrols it: sees its tasks, checks in, records findings ("patrol.work").
- A grid's plans and places are managed by the office of its community (leaders and staff of the residents'
  or villagers' committee, or the community party organisation) and by the grid's own worker
  ("patrol.manage").
The object is always the grid (a Region of level grid); lists use the same paths (queries.grids_for).
"""

from gongzhi.org.models import Post, Region
from gongzhi.org.permissions import OFFICE, active_posts

R = Post.Role
COMMUNITY_KINDS = frozenset({"residents_committee", "villagers_committee", "party_committee", "party_branch",
                             "party_general_branch"})


def worker_paths(user) -> list[str]:
    return [p.grid.path for p in active_posts(user) if p.role == R.GRID_WORKER and p.grid_id]


def office_paths(user) -> list[str]:
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in COMMUNITY_KINDS
            and p.organisation.region.level >= Region.Level.COMMUNITY]


def manager_paths(user) -> list[str]:
    return worker_paths(user) + office_paths(user)


def _covers(paths: list[str], region) -> bool:
    return isinstance(region, Region) and region.level == Region.Level.GRID and any(
        region.path.startswith(path) for path in paths)


def rule(user, action: str, obj) -> bool:
    if action == "patrol.work":
        return _covers(worker_paths(user), obj) if obj is not None else bool(worker_paths(user))
    if action == "patrol.manage":
        return _covers(manager_paths(user), obj) if obj is not None else bool(manager_paths(user))
    return False
