"""The home page's "today's work" (今日工作): what needs the signed-in person now, counted by each app.

Core knows no domain. Each app registers, from its AppConfig.ready(), a provider: a function of the user that
returns the work items its posts give that user today (an empty list when none applies). The web app's home
page asks items_for(user) and shows each item as a count that links to the filtered list behind it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorkItem:
    """One count on the home page: `label` (already translated, or lazy), how many, and the page that lists
    them. `urgent` items (overdue, to sign now) are shown first and in red; `group` gathers items under a
    heading (e.g. "demands", "patrol"); `order` sorts within a group."""

    key: str
    label: Any
    count: int
    url: str
    urgent: bool = False
    group: str = ""
    order: int = 100
    hint: Any = ""


Provider = Callable[[Any], list[WorkItem]]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Register (or replace) the provider called `name`."""
    _providers[name] = provider


def items_for(user) -> list[WorkItem]:
    """Every provider's items for `user`, urgent first, then by group and order. Items counting nothing are
    kept (a zero says "nothing waiting", which is worth seeing) unless the provider left them out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    found: list[WorkItem] = []
    for name in sorted(_providers):
        found.extend(_providers[name](user))
    return sorted(found, key=lambda i: (not (i.urgent and i.count), i.group, i.order, i.key))
