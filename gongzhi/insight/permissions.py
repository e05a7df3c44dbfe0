"""Who may see insight's analyses and act on them: the overseers of a region (its committee, street
office, district) see its cockpit, warnings and agenda; the dispatch desks covering a grid act on its
warnings (open a proactive demand, assign it to a unit, dismiss it with a reason); the district's analysts
manage the classifier and read its quality.

"insight.manage_models" (the analyst page: per-category precision and recall, the confusion matrix, the
model versions) is granted to the posts whose work is the district's data, not to its leaders nor to the
units handling demands: a post of role staff (工作人员) or data officer (数据安全员) in the district government
(区人民政府; in the demo, the district's data officer), and to superusers. Leaders and the street and
community desks see the classifier's quality in plain words on the cockpit only."""

from gongzhi.demands.permissions import dispatcher_paths, overseer_paths
from gongzhi.org.models import Organisation, Post, Region
from gongzhi.org.permissions import active_posts

ANALYST_ROLES = frozenset({Post.Role.STAFF, Post.Role.DATA_OFFICER})
ANALYST_KINDS = frozenset({Organisation.Kind.DISTRICT_GOVERNMENT})


def _covers(paths, region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths)


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
        return isinstance(obj, Region) and _covers(dispatcher_paths(user), obj)
    if action == "insight.manage_models":
        return manages_models(user)
    return False
