"""The single permission gate: can(user, action, obj).

Core knows no domain. Apps register, from their AppConfig.ready(), a rule per action prefix
(e.g. "org.") that answers for those actions; views, API handlers and services only ever ask can()
or require(), and querysets are narrowed by the scoping helper each app registers.
"""

from collections.abc import Callable
from typing import Any

from .errors import NotAuthenticated, PermissionDenied

Rule = Callable[[Any, str, Any], bool]
_rules: dict[str, Rule] = {}


def register(prefix: str, rule: Rule) -> None:
    """Register the rule answering every action that starts with `prefix` (e.g. "org.")."""
    _rules[prefix] = rule


def can(user, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    # Longest matching prefix wins, so "org.personal." can refine "org.".
    for prefix in sorted(_rules, key=len, reverse=True):
        if action.startswith(prefix):
            return bool(_rules[prefix](user, action, obj))
    return False


def require(user, action: str, obj: Any = None) -> None:
    """Raise the domain error that fits when `user` may not do `action` on `obj`."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not can(user, action, obj):
        raise PermissionDenied(action)
