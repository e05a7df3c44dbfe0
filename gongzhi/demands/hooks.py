"""Seams for apps above demands (insight): a category proposer for unclassified demands, a finder of
similar demands for the dispatcher, and a reply checker for handlers. demands calls them when they are
registered and works without them (the desk triages by hand, no suggestions are shown)."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Proposal:
    """A proposed category code with its calibrated confidence, the next best codes, and who proposed it."""

    code: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    source: str = ""


@dataclass(frozen=True)
class SimilarDemand:
    number: str
    score: float
    parts: dict = field(default_factory=dict)  # what the score is made of (text, distance, time)


_registry: dict[str, Callable] = {}
NAMES = ("propose_category", "similar_demands", "check_reply")


def register(name: str, function: Callable) -> None:
    """propose_category(text) -> Proposal | None; similar_demands(demand, limit, *, user) ->
    list[SimilarDemand] of demands `user` may see only; check_reply(demand, reply_text) -> dict with score,
    missing, messages."""
    if name not in NAMES:
        raise ValueError(f"unknown hook {name!r}; one of {', '.join(NAMES)}")
    _registry[name] = function


def unregister(name: str) -> None:
    _registry.pop(name, None)


def get(name: str) -> Callable | None:
    return _registry.get(name)
