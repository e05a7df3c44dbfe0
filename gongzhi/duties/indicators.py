"""Live indicators: values that other apps compute and duties reads, for goals and scorecards.

duties sits below demands, so it cannot ask demands for its rates; demands (and any app above) registers
its indicators here from its AppConfig.ready(). An indicator answers for a region (goals) or a unit
(scorecards) over a date range, with a number or None when there is nothing to measure."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

Measure = Callable[[object, dt.date, dt.date], float | None]


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    for_region: Measure | None = None  # (region, start, end) -> value
    for_unit: Measure | None = None    # (organisation, start, end) -> value
    unit_of_measure: str = ""


_registry: dict[str, Indicator] = {}


def register(indicator: Indicator) -> None:
    _registry[indicator.code] = indicator


def get(code: str) -> Indicator | None:
    return _registry.get(code)


def all_indicators() -> list[Indicator]:
    return sorted(_registry.values(), key=lambda i: i.code)
