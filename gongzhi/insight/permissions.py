"""Who may see insight's analyses and act on them: the overseers of a region (its committee, street
office, district) see its cockpit, warnings and agenda; the dispatch desks covering a grid open proactive
demands from its warnings; district-wide overseers manage classifier versions."""

from gongzhi.demands.permissions import dispatcher_paths, overseer_paths
from gongzhi.org.models import Region


def _covers(paths, region: Region) -> bool:
    return any(region.path.startswith(path) for path in paths)


def rule(user, action: str, obj) -> bool:
    if action == "insight.view":
        return bool(overseer_paths(user)) if obj is None else isinstance(obj, Region) and _covers(
            overseer_paths(user), obj)
    if action == "insight.act_on_warning":
        return isinstance(obj, Region) and _covers(dispatcher_paths(user), obj)
    if action == "insight.manage_models":
        roots = [p for p in overseer_paths(user) if p.count("/") == 2]  # a whole district: "/<id>/"
        return bool(roots)
    return False
