"""Who may see insight's analyses and act on them: the overseers of a region (its committee, street
office, district) see its cockpit, warnings and agenda; the district's analysts manage the classifier and
read its quality.

Acting on a warning of a grid ("insight.act_on_warning": open a proactive demand, dismiss it with a reason)
is for the dispatch desks covering the grid and for the leaders over it at street and district level: the
office holders of a governing body (street office, township government, district government and their party
committees; not departments, which handle demands) whose region covers it, such as the street party
secretary (街道党工委书记), the same posts that supervise demands (督办). Assigning it to a unit of one's
choice ("insight.assign_warning") dispatches its proactive demand, so it is for the dispatch desks only
(demands' "demands.dispatch"); a leader's proactive demand is routed to the responsible unit by the routing
rules, like any demand.

"insight.manage_models" (the analyst page: per-category precision and recall, the confusion matrix, the
model versions) is granted to the posts whose work is the district's data, not to its leaders nor to the
units handling demands: a post of role staff (工作人员) or data officer (数据安全员) in the district government
(区人民政府; in the demo, the district's data officer), and to superusers. Leaders and the street and
community desks see the classifier's quality in plain words on the cockpit only."""

from gongzhi.demands.permissions import OVERSEER_KINDS, dispatcher_paths, overseer_paths
from gongzhi.org.models import Organisation, Post, Region
from gongzhi.org.permissions import OFFICE, active_posts

ANALYST_ROLES = frozenset({Post.Role.STAFF, Post.Role.DATA_OFFICER})
ANALYST_KINDS = frozenset({Organisation.Kind.DISTRICT_GOVERNMENT})


def _covers(paths, region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths)


def leader_paths(user) -> list[str]:
    """The streets and districts where `user` holds an office in a governing body (not a department)."""
    return [p.organisation.region.path for p in active_posts(user)
            if p.role in OFFICE and p.organisation.kind in OVERSEER_KINDS
            and p.organisation.region.level <= Region.Level.STREET]


def manages_models(user) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return any(p.role in ANALYST_ROLES and p.organisation.kind in ANALYST_KINDS
               and p.organisation.region.level == Region.Level.DISTRICT for p in active_posts(user))


def rule(user, action: str, obj) -> bool:
    if action == "insight.view":
        return bool(overseer_paths(user)) if obj is None else isinstance(obj, Region) and _covers(
            overseer_paths(user), obj)
    if action == "insight.act_on_warning":
        return isinstance(obj, Region) and _covers(dispatcher_paths(user) + leader_paths(user), obj)
    if action == "insight.assign_warning":
        return isinstance(obj, Region) and _covers(dispatcher_paths(user), obj)
    if action == "insight.manage_models":
        return manages_models(user)
    return False
