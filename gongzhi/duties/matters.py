"""Names of the matters a responsibility list names. Matters are demand category codes; duties sits below
demands and cannot read its categories, so demands registers the lookup here from its AppConfig.ready()."""

from collections.abc import Callable, Iterable

Lookup = Callable[[list[str]], dict[str, tuple[str, str]]]  # codes -> {code: (name in Chinese, in English)}
_lookup: Lookup | None = None


def register(lookup: Lookup) -> None:
    global _lookup
    _lookup = lookup


def names(codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """{code: (zh, en)} for the codes the registered lookup knows; {} when none is registered."""
    codes = sorted(set(codes))
    return _lookup(codes) if _lookup is not None and codes else {}
