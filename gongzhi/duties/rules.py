"""Duties' pure rules: the status of a goal (目标) or task (任务), computed from its reports and never typed
in; scorecards (考评) of weighted indicators (指标); and the responsibility list (责任清单) turned into routing
rules for demands. Plain data in, plain data out, exact arithmetic (fractions.Fraction), no Django beyond
lazily translated messages (core.i18n).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from gongzhi.core.i18n import gettext_lazy as _

# --- numbers --------------------------------------------------------------------------------------------


def to_fraction(value, what: str = _("a value")) -> Fraction:
    """An exact number from an int, Decimal, Fraction, a string ("95.5", "2/3") or a float. A float is read
    through its shortest decimal form (0.85 is 17/20, not the binary number nearest to it)."""
    if isinstance(value, bool):
        raise ValueError(_("%(what)s must be a number, got %(value)r") % {"what": what, "value": value})
    try:
        if isinstance(value, float):
            number = Fraction(repr(value))
        elif isinstance(value, (int, Fraction, Decimal)):
            number = Fraction(value)
        elif isinstance(value, str):
            number = Fraction(value.strip())
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError, OverflowError):
        raise ValueError(_("%(what)s must be a number, got %(value)r") % {"what": what, "value": value}) from None
    return number


def show(value: Fraction) -> str:
    """A number for a sentence: 95, 95.5, 33.33 (at most two decimals)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _days(what: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(_("%(what)s must be a whole number of days, 0 or more, got %(value)r")
                         % {"what": what, "value": value})
    return value


def _date(what: str, value) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(_("%(what)s must be a date, got %(value)r") % {"what": what, "value": value})
    return value


def _share(what: str, value) -> Fraction:
    share = to_fraction(value, what)
    if not 0 <= share <= 1:
        raise ValueError(_("%(what)s must be between 0 and 1, got %(value)r") % {"what": what, "value": value})
    return share


# --- goals and tasks ------------------------------------------------------------------------------------


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better (a satisfaction rate)
    LOWER = "lower"    # lower is better (complaints, days to reply)


class Status(StrEnum):
    ON_TRACK = "on_track"  # 正常推进
    AT_RISK = "at_risk"    # 有风险: behind the expected path, silent too long, or close to its deadline
    OVERDUE = "overdue"    # 逾期: past the deadline and not achieved
    ACHIEVED = "achieved"  # 已完成 / 已达成


STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status.ON_TRACK: ("正常推进", "on track"),
    Status.AT_RISK: ("有风险", "at risk"),
    Status.OVERDUE: ("逾期", "overdue"),
    Status.ACHIEVED: ("已达成", "achieved"),
}

DEFAULT_TOLERANCE = Fraction(1, 10)  # behind by more than a tenth of the whole way: at risk
DEFAULT_STALE_AFTER_DAYS = 30        # no report for more than this many days: at risk
DEFAULT_WARN_DAYS = 3                # a task not done with this many days or fewer left: at risk


@dataclass(frozen=True)
class Target:
    """A goal's target: move `indicator` from `start_value` on `start_date` to `target_value` by `deadline`
    (the deadline is the last day allowed)."""

    indicator: str
    target_value: Fraction
    direction: Direction
    unit_of_measure: str
    start_value: Fraction
    start_date: dt.date
    deadline: dt.date

    def __post_init__(self):
        if not str(self.indicator).strip():
            raise ValueError(_("a target needs an indicator"))
        object.__setattr__(self, "target_value", to_fraction(self.target_value, _("the target value")))
        object.__setattr__(self, "start_value", to_fraction(self.start_value, _("the start value")))
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise ValueError(_("direction must be 'higher' or 'lower', got %(direction)r")
                             % {"direction": self.direction}) from None
        _date(_("the start date"), self.start_date)
        _date(_("the deadline"), self.deadline)
        if self.deadline <= self.start_date:
            raise ValueError(_("the deadline must come after the start date"))
        if self.is_better(self.start_value, self.target_value):
            raise ValueError(_("the target %(target)s is worse than the start value %(start)s; to hold a level, "
                               "start from the target value")
                             % {"target": show(self.target_value), "start": show(self.start_value)})

    def is_better(self, value: Fraction, than: Fraction) -> bool:
        return value > than if self.direction is Direction.HIGHER else value < than

    def meets(self, value: Fraction) -> bool:
        return not self.is_better(self.target_value, value)

    def expected_on(self, day: dt.date) -> Fraction:
        """The straight path from the start value on the start date to the target on the deadline."""
        if day <= self.start_date:
            return self.start_value
        if day >= self.deadline:
            return self.target_value
        elapsed = Fraction((day - self.start_date).days, (self.deadline - self.start_date).days)
        return self.start_value + (self.target_value - self.start_value) * elapsed

    def behind_by(self, value: Fraction, day: dt.date) -> Fraction:
        """How far `value` on `day` falls short of the path, in the indicator's unit (negative: ahead)."""
        gap = self.expected_on(day) - value
        return gap if self.direction is Direction.HIGHER else -gap


@dataclass(frozen=True)
class ProgressReport:
    day: dt.date
    value: Fraction

    def __post_init__(self):
        _date(_("a report's date"), self.day)
        object.__setattr__(self, "value", to_fraction(self.value, _("a report's value")))


@dataclass(frozen=True)
class Assessment:
    """A computed status with its reason. For a goal, `expected` is the path's value on the latest report's
    date and `behind_by` the shortfall there (in the indicator's unit; negative when ahead)."""

    status: Status
    reason_zh: str
    reason_en: str
    latest: ProgressReport | None = None
    expected: Fraction | None = None
    behind_by: Fraction | None = None
    days_since_report: int | None = None
    days_left: int | None = None  # to the deadline; negative once past it


def goal_status(target: Target, reports: Iterable[ProgressReport], today: dt.date, *,
                tolerance=DEFAULT_TOLERANCE, stale_after_days: int = DEFAULT_STALE_AFTER_DAYS) -> Assessment:
    """The status of a goal on `today`, from its progress reports.

    - achieved: the latest value (the start value before any report) meets the target;
    - overdue: today is after the deadline and the target is not met (the deadline day itself is not late);
    - at risk: the latest value is behind the straight path from start to target, on its own date, by more
      than `tolerance` of the whole way (exactly the tolerance is still on track), or no report came for
      more than `stale_after_days` days (counted from the start date before the first report);
    - on track otherwise.
    Reports on the same day: the later one in the list counts.
    """
    _date(_("today"), today)
    tolerance = _share(_("the tolerance"), tolerance)
    stale_after_days = _days("stale_after_days", stale_after_days)
    reports = list(reports)
    for report in reports:
        if report.day < target.start_date:
            raise ValueError(_("a report of %(day)s is before the start date %(start)s")
                             % {"day": report.day, "start": target.start_date})
        if report.day > today:
            raise ValueError(_("a report of %(day)s is after today, %(today)s") % {"day": report.day, "today": today})
    latest = sorted(reports, key=lambda r: r.day)[-1] if reports else None
    current = latest.value if latest else target.start_value
    unit = target.unit_of_measure
    days_left = (target.deadline - today).days
    last_day = latest.day if latest else target.start_date
    days_since = (today - last_day).days
    figures = dict(latest=latest, days_since_report=days_since, days_left=days_left)
    goal_zh, goal_en = f"目标 {_zh(target.target_value, unit)}", f"target {_en(target.target_value, unit)}"
    now_zh = f"最新值 {_zh(current, unit)}（{last_day}）" if latest else f"起始值 {_zh(current, unit)}"
    now_en = f"latest {_en(current, unit)} ({last_day})" if latest else f"start value {_en(current, unit)}"

    if target.meets(current):
        late = (last_day - target.deadline).days
        zh, en = f"{now_zh}，已达到{goal_zh}", f"{now_en}: meets the {goal_en}"
        if late > 0:
            zh += f"，比期限晚 {late} 天"
            en += f", {late} days after the deadline"
        return Assessment(Status.ACHIEVED, zh, en, **figures)
    if today > target.deadline:
        return Assessment(Status.OVERDUE, f"已过期限（{target.deadline}）{-days_left} 天，{now_zh}，未达到{goal_zh}",
                          f"{-days_left} days past the deadline ({target.deadline}); {now_en}, short of the {goal_en}",
                          **figures)

    expected = behind = None
    risks_zh, risks_en = [], []
    if latest is not None:
        expected = target.expected_on(latest.day)
        behind = target.behind_by(latest.value, latest.day)
        allowed = tolerance * abs(target.target_value - target.start_value)
        if behind > allowed:
            risks_zh.append(f"{now_zh}，落后于预期进度 {_zh(expected, unit)}（差 {_zh(behind, unit)}，"
                            f"容差 {_zh(allowed, unit)}）")
            risks_en.append(f"{now_en} is behind the expected {_en(expected, unit)} by {_en(behind, unit)} "
                            f"(tolerance {_en(allowed, unit)})")
    if days_since > stale_after_days:
        risks_zh.append(f"已 {days_since} 天没有进度报告（超过 {stale_after_days} 天）")
        risks_en.append(f"no report for {days_since} days (more than {stale_after_days})")
    figures.update(expected=expected, behind_by=behind)
    if risks_zh:
        return Assessment(Status.AT_RISK, "；".join(risks_zh), "; ".join(risks_en), **figures)
    if latest is None:
        return Assessment(Status.ON_TRACK, f"尚无进度报告，距开始 {days_since} 天",
                          f"no report yet, {days_since} days after the start", **figures)
    return Assessment(Status.ON_TRACK, f"{now_zh}，符合预期进度 {_zh(expected, unit)}",
                      f"{now_en}, in line with the expected {_en(expected, unit)}", **figures)


def _zh(value: Fraction, unit: str) -> str:
    return f"{show(value)}{unit}"


def _en(value: Fraction, unit: str) -> str:
    return f"{show(value)} {unit}" if unit else show(value)


@dataclass(frozen=True)
class Task:
    """A task: due by `deadline` (the last day allowed), done on `completed_on`, checked against its quality
    standard (`quality_met`: None until checked). With a start date and a percentage complete its
    progress is held against the straight path like a goal's."""

    deadline: dt.date
    completed_on: dt.date | None = None
    quality_met: bool | None = None
    start_date: dt.date | None = None
    percent_complete: Fraction | None = None

    def __post_init__(self):
        _date(_("the deadline"), self.deadline)
        if self.completed_on is not None:
            _date(_("the completion date"), self.completed_on)
        elif self.quality_met is not None:
            raise ValueError(_("a task not completed cannot have been checked against its quality standard"))
        if self.quality_met not in (None, True, False):
            raise ValueError(_("quality_met is true, false or not yet known (None)"))
        if self.start_date is not None:
            _date(_("the start date"), self.start_date)
            if self.start_date >= self.deadline:
                raise ValueError(_("the deadline must come after the start date"))
        if self.percent_complete is not None:
            percent = to_fraction(self.percent_complete, _("the percentage complete"))
            if not 0 <= percent <= 100:
                raise ValueError(_("the percentage complete is between 0 and 100"))
            object.__setattr__(self, "percent_complete", percent)


def task_status(task: Task, today: dt.date, *, warn_days: int = DEFAULT_WARN_DAYS,
                tolerance=DEFAULT_TOLERANCE) -> Assessment:
    """The status of a task on `today`.

    - achieved: completed and its quality standard met (late completion is said so);
    - overdue: past the deadline and not achieved: not completed, completed below the standard, or
      completed late and not yet checked;
    - at risk: completed below the standard with time left to put it right; not completed with
      `warn_days` days or fewer left (the deadline day itself has 0 left); or, given a start date and a
      percentage, more than `tolerance` behind the straight path;
    - on track otherwise (completed in time and waiting for its check included).
    """
    _date(_("today"), today)
    warn_days = _days("warn_days", warn_days)
    tolerance = _share(_("the tolerance"), tolerance)
    days_left = (task.deadline - today).days
    if task.completed_on is not None:
        if task.completed_on > today:
            raise ValueError(_("completed on %(day)s, which is after today, %(today)s")
                             % {"day": task.completed_on, "today": today})
        late = (task.completed_on - task.deadline).days
        late_zh, late_en = (f"，比期限晚 {late} 天", f", {late} days late") if late > 0 else ("", "")
        if task.quality_met:
            return Assessment(Status.ACHIEVED, f"已完成（{task.completed_on}）并达到质量标准{late_zh}",
                              f"completed on {task.completed_on} and meets its quality standard{late_en}",
                              days_left=days_left)
        if task.quality_met is False:
            if days_left < 0:
                return Assessment(Status.OVERDUE, f"已完成但未达到质量标准，已过期限 {-days_left} 天",
                                  f"completed but below its quality standard, {-days_left} days past the deadline",
                                  days_left=days_left)
            return Assessment(Status.AT_RISK, f"已完成但未达到质量标准，须在期限前整改（剩 {days_left} 天）",
                              f"completed but below its quality standard: to be put right within {days_left} days",
                              days_left=days_left)
        if late > 0:
            return Assessment(Status.OVERDUE, f"完成晚于期限 {late} 天，待验收",
                              f"completed {late} days after the deadline, not yet checked", days_left=days_left)
        return Assessment(Status.ON_TRACK, f"已按期完成（{task.completed_on}），待验收",
                          f"completed on {task.completed_on}, in time; not yet checked", days_left=days_left)
    if days_left < 0:
        return Assessment(Status.OVERDUE, f"已过期限（{task.deadline}）{-days_left} 天，未完成",
                          f"{-days_left} days past the deadline ({task.deadline}), not completed",
                          days_left=days_left)
    if task.start_date is not None and task.percent_complete is not None:
        path = Target("percent complete", 100, Direction.HIGHER, "%", 0, task.start_date, task.deadline)
        expected, behind = path.expected_on(today), path.behind_by(task.percent_complete, today)
        if behind > tolerance * 100:
            return Assessment(Status.AT_RISK, f"完成 {show(task.percent_complete)}%，落后于预期 {show(expected)}%",
                              f"{show(task.percent_complete)}% done, behind the expected {show(expected)}%",
                              expected=expected, behind_by=behind, days_left=days_left)
    if days_left <= warn_days:
        return Assessment(Status.AT_RISK, f"距期限仅剩 {days_left} 天，尚未完成",
                          f"{days_left} days left and not completed", days_left=days_left)
    return Assessment(Status.ON_TRACK, f"距期限 {days_left} 天，正常推进", f"{days_left} days left, on track",
                      days_left=days_left)


# --- scorecards -----------------------------------------------------------------------------------------


class Normalisation(StrEnum):
    LINEAR = "linear"  # 0 at `worst`, 1 at `best`, straight between, clamped
    RATIO = "ratio"    # value / target (lower is better: target / value), capped at `cap`


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_LIVE_INDICATOR = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True)
class WeightedIndicator:
    """One weighted indicator of a scorecard. `live_indicator` names where its value comes from (the code of
    an indicator registered in duties.indicators, such as "demands.satisfaction_rate"); the services fetch
    the value, this module only scores it."""

    code: str
    name_zh: str
    name_en: str
    weight: Fraction
    normalisation: Normalisation
    live_indicator: str
    worst: Fraction | None = None   # linear: the value that scores 0
    best: Fraction | None = None    # linear: the value that scores 1 (below `worst` when lower is better)
    target: Fraction | None = None  # ratio: the value that scores 1
    direction: Direction = Direction.HIGHER  # ratio only
    cap: Fraction = Fraction(1)     # ratio: the highest normalised value (1: no credit beyond the target)

    def __post_init__(self):
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            raise ValueError(_("indicator code %(code)r must be lower-case letters, digits and _") % {"code": self.code})
        if not (str(self.name_zh).strip() and str(self.name_en).strip()):
            raise ValueError(_("%(code)s: an indicator needs a Chinese and an English name") % {"code": self.code})
        weight = to_fraction(self.weight, _("%(code)s: the weight") % {"code": self.code})
        if weight <= 0:
            raise ValueError(_("%(code)s: the weight must be more than 0, got %(weight)s")
                             % {"code": self.code, "weight": show(weight)})
        object.__setattr__(self, "weight", weight)
        try:
            object.__setattr__(self, "normalisation", Normalisation(self.normalisation))
        except ValueError:
            raise ValueError(_("%(code)s: normalisation must be 'linear' or 'ratio'") % {"code": self.code}) from None
        if not isinstance(self.live_indicator, str) or not _LIVE_INDICATOR.match(self.live_indicator):
            raise ValueError(_("%(code)s: the live indicator %(live)r must be a code such as "
                               "'demands.satisfaction_rate'") % {"code": self.code, "live": self.live_indicator})
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise ValueError(_("%(code)s: direction must be 'higher' or 'lower'") % {"code": self.code}) from None
        object.__setattr__(self, "cap", to_fraction(self.cap, _("%(code)s: the cap") % {"code": self.code}))
        if self.normalisation is Normalisation.LINEAR:
            if self.worst is None or self.best is None or self.target is not None:
                raise ValueError(_("%(code)s: a linear indicator has a worst and a best value, and no target")
                                 % {"code": self.code})
            worst, best = (to_fraction(self.worst, _("%(code)s: worst") % {"code": self.code}),
                           to_fraction(self.best, _("%(code)s: best") % {"code": self.code}))
            if worst == best:
                raise ValueError(_("%(code)s: the worst and best values must differ") % {"code": self.code})
            object.__setattr__(self, "worst", worst)
            object.__setattr__(self, "best", best)
            if self.cap != 1:
                raise ValueError(_("%(code)s: a linear indicator scores at most 1; a cap is for ratios")
                                 % {"code": self.code})
        else:
            if self.target is None or self.worst is not None or self.best is not None:
                raise ValueError(_("%(code)s: a ratio indicator has a target, and no worst or best value")
                                 % {"code": self.code})
            target = to_fraction(self.target, _("%(code)s: the target") % {"code": self.code})
            if target <= 0:
                raise ValueError(_("%(code)s: a ratio's target must be more than 0") % {"code": self.code})
            object.__setattr__(self, "target", target)
            if self.cap < 1:
                raise ValueError(_("%(code)s: the cap must be at least 1 (reaching the target scores 1)")
                                 % {"code": self.code})

    def normalise(self, value) -> Fraction:
        value = to_fraction(value, _("%(code)s: the value") % {"code": self.code})
        if self.normalisation is Normalisation.LINEAR:
            return min(Fraction(1), max(Fraction(0), (value - self.worst) / (self.best - self.worst)))
        if value < 0:
            raise ValueError(_("%(code)s: a ratio indicator's value cannot be negative, got %(value)s")
                             % {"code": self.code, "value": show(value)})
        if self.direction is Direction.HIGHER:
            ratio = value / self.target
        else:
            ratio = self.cap if value == 0 else self.target / value
        return min(self.cap, ratio)


@dataclass(frozen=True)
class Scorecard:
    """考评: indicators weighed together for a unit or a post over a period."""

    code: str
    name_zh: str
    name_en: str
    subject: str  # "unit" or "post"
    indicators: tuple[WeightedIndicator, ...]

    def __post_init__(self):
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            raise ValueError(_("scorecard code %(code)r must be lower-case letters, digits and _") % {"code": self.code})
        if self.subject not in ("unit", "post"):
            raise ValueError(_("a scorecard is for a 'unit' or a 'post', not %(subject)r") % {"subject": self.subject})
        indicators = tuple(self.indicators)
        if not indicators:
            raise ValueError(_("a scorecard needs at least one indicator"))
        codes = [i.code for i in indicators]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(_("indicator code(s) used twice: %(codes)s") % {"codes": ", ".join(duplicates)})
        object.__setattr__(self, "indicators", indicators)


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    value: Fraction | None     # None: not measured this period
    normalised: Fraction | None
    weight: Fraction
    points: Fraction           # its part of the score: 100 × weight × normalised / Σ weights counted


@dataclass(frozen=True)
class Score:
    score: Fraction | None            # 0–100 (above 100 only with ratio caps above 1); None: nothing measured
    breakdown: tuple[IndicatorScore, ...]
    unmeasured: tuple[str, ...]       # indicators with no value


def compute_score(scorecard: Scorecard, values: Mapping[str, object], *, missing: str = "exclude") -> Score:
    """Score = 100 × Σ weight × normalised value / Σ weights, with each indicator's part.

    An indicator with no value (absent or None) is, with `missing="exclude"`, left out and its weight shared
    out over the others (as the demands' composite score does: an unmeasurable rate is not a failure); with
    `missing="zero"` it scores 0. Values for indicators the scorecard does not have are refused.
    """
    if missing not in ("exclude", "zero"):
        raise ValueError(_("missing must be 'exclude' or 'zero'"))
    unknown = set(values) - {i.code for i in scorecard.indicators}
    if unknown:
        raise ValueError(_("no indicator %(codes)s on the scorecard %(scorecard)s")
                         % {"codes": ", ".join(sorted(unknown)), "scorecard": scorecard.code})
    measured = []
    for indicator in scorecard.indicators:
        raw = values.get(indicator.code)
        if raw is None:
            measured.append((indicator, None, Fraction(0) if missing == "zero" else None))
        else:
            measured.append((indicator, to_fraction(raw, _("%(code)s: the value") % {"code": indicator.code}), indicator.normalise(raw)))
    counted = sum((i.weight for i, _, n in measured if n is not None), Fraction(0))
    breakdown = tuple(
        IndicatorScore(i.code, v, n, i.weight,
                       100 * i.weight * n / counted if n is not None and counted else Fraction(0))
        for i, v, n in measured)
    score = sum((b.points for b in breakdown), Fraction(0)) if counted else None
    return Score(score, breakdown, tuple(i.code for i, v, _ in measured if v is None))


def scorecard_from_data(data: Mapping) -> Scorecard:
    """A scorecard from plain data (numbers as strings or ints), e.g.

        {"code": "grid_worker", "name_zh": "网格员考评", "name_en": "grid worker evaluation", "subject": "post",
         "indicators": [{"code": "satisfaction", "name_zh": "满意率", "name_en": "satisfaction rate",
                         "weight": "60", "normalisation": "linear", "worst": "0.6", "best": "1",
                         "live_indicator": "demands.satisfaction_rate"}]}
    """
    if not isinstance(data, Mapping):
        raise ValueError(_("a scorecard is a mapping"))
    unknown = set(data) - {"code", "name_zh", "name_en", "subject", "indicators"}
    if unknown:
        raise ValueError(_("unknown scorecard field(s) %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields = {"code", "name_zh", "name_en", "weight", "normalisation", "live_indicator", "worst", "best", "target",
              "direction", "cap"}
    indicators = []
    for number, item in enumerate(data.get("indicators", ()), start=1):
        if not isinstance(item, Mapping):
            raise ValueError(_("indicator %(number)s must be a mapping") % {"number": number})
        extra = set(item) - fields
        if extra:
            raise ValueError(_("indicator %(number)s: unknown field(s) %(fields)s")
                             % {"number": number, "fields": ", ".join(sorted(extra))})
        missing = {"code", "name_zh", "name_en", "weight", "normalisation", "live_indicator"} - set(item)
        if missing:
            raise ValueError(_("indicator %(number)s: missing field(s) %(fields)s")
                             % {"number": number, "fields": ", ".join(sorted(missing))})
        indicators.append(WeightedIndicator(**{k: item[k] for k in item}))
    return Scorecard(data.get("code"), data.get("name_zh", ""), data.get("name_en", ""), data.get("subject"),
                     tuple(indicators))


def scorecard_to_data(scorecard: Scorecard) -> dict:
    def indicator(i: WeightedIndicator) -> dict:
        data = {"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "weight": str(i.weight),
                "normalisation": i.normalisation.value, "live_indicator": i.live_indicator}
        if i.normalisation is Normalisation.LINEAR:
            data.update(worst=str(i.worst), best=str(i.best))
        else:
            data.update(target=str(i.target), direction=i.direction.value, cap=str(i.cap))
        return data
    return {"code": scorecard.code, "name_zh": scorecard.name_zh, "name_en": scorecard.name_en,
            "subject": scorecard.subject, "indicators": [indicator(i) for i in scorecard.indicators]}


# --- responsibility list → routing rules ----------------------------------------------------------------


@dataclass(frozen=True)
class ResponsibilityEntry:
    """One line of a responsibility list: a unit (and optionally the post in it) answers for these matters
    (demand category codes) in these regions (None: everywhere), at a priority. `reference` says where the
    line is in the list ("第 3 条"), for error messages and the audit trail."""

    unit: Hashable
    matters: tuple[str, ...]
    regions: tuple[Hashable | None, ...] = (None,)
    post: Hashable | None = None
    priority: int = 0
    reference: str = ""

    def __post_init__(self):
        if isinstance(self.matters, str):
            raise ValueError(_("matters is a list of category codes, not one string"))
        object.__setattr__(self, "matters", tuple(self.matters))
        if isinstance(self.regions, str):
            raise ValueError(_("regions is a list of regions, not one string"))
        object.__setattr__(self, "regions", tuple(self.regions))
        if self.unit is None or (isinstance(self.unit, str) and not self.unit.strip()):
            raise ValueError(_("%(entry)s: no unit") % {"entry": self.label})
        if not self.matters:
            raise ValueError(_("%(entry)s: no matters (demand category codes)") % {"entry": self.label})
        if not self.regions:
            raise ValueError(_("%(entry)s: no region; use None for everywhere") % {"entry": self.label})
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValueError(_("%(entry)s: the priority must be a whole number") % {"entry": self.label})
        if not -32768 <= self.priority <= 32767:
            raise ValueError(_("%(entry)s: the priority must fit a small integer") % {"entry": self.label})

    @property
    def label(self) -> str:
        return self.reference or f"the entry of {self.unit}"


@dataclass(frozen=True)
class RoutingRuleSpec:
    """What a demands.RoutingRule row should hold: category code, region (None: everywhere), unit,
    priority; and, for the record, the posts and list entries it came from."""

    category: str
    region: Hashable | None
    unit: Hashable
    priority: int
    posts: tuple[Hashable, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingConflict:
    category: str
    region: Hashable | None
    priority: int
    units: tuple[Hashable, ...]
    references: tuple[str, ...]

    @property
    def message_zh(self) -> str:
        where = "全部区域" if self.region is None else f"区域 {self.region}"
        return (f"{'、'.join(map(str, self.units))} 在{where}以同一优先级（{self.priority}）认领了同一类诉求"
                f"“{self.category}”（{'；'.join(self.references)}）")

    @property
    def message_en(self) -> str:
        where = "everywhere" if self.region is None else f"in region {self.region}"
        return (f"{', '.join(map(str, self.units))} all claim “{self.category}” {where} at priority {self.priority} "
                f"({'; '.join(self.references)})")


class ResponsibilityConflict(ValueError):
    """Two or more units claim the same category in the same region at the same priority."""

    code = "responsibility_conflict"

    def __init__(self, conflicts: Sequence[RoutingConflict]):
        self.conflicts = tuple(conflicts)
        super().__init__("; ".join(c.message_en for c in self.conflicts))


def routing_rules(entries: Iterable[ResponsibilityEntry], *,
                  known_categories: Iterable[str] | None = None) -> list[RoutingRuleSpec]:
    """Turn a responsibility list into routing-rule specs, one per (category, region, unit, priority).

    The same unit named twice for a key (two of its posts, say) gives one spec listing both. Two different
    units claiming one category in one region at one priority would make routing depend on row order, so
    every such clash is collected and raised together as ResponsibilityConflict. A parent category against
    a sub-category, or a street against a community in it, is no clash: routing prefers the more specific
    (demands.rules.routing_key). With `known_categories`, an unknown category code is refused.
    """
    known = set(known_categories) if known_categories is not None else None
    claims: dict[tuple, dict[Hashable, list[ResponsibilityEntry]]] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, ResponsibilityEntry):
            raise ValueError(_("entry %(number)s is not a ResponsibilityEntry") % {"number": number})
        if not entry.reference:
            entry = ResponsibilityEntry(entry.unit, entry.matters, entry.regions, entry.post, entry.priority,
                                        f"entry {number}")
        for category in entry.matters:
            if not isinstance(category, str) or not category.strip():
                raise ValueError(_("%(entry)s: a matter must be a category code, got %(category)r")
                                 % {"entry": entry.label, "category": category})
            if known is not None and category not in known:
                raise ValueError(_("%(entry)s: unknown category %(category)r") % {"entry": entry.label, "category": category})
            for region in entry.regions:
                claims.setdefault((category, region, entry.priority), {}).setdefault(entry.unit, []).append(entry)
    specs, conflicts = [], []
    for (category, region, priority), by_unit in claims.items():
        if len(by_unit) > 1:
            units = tuple(sorted(by_unit, key=str))
            references = tuple(e.label for unit in units for e in by_unit[unit])
            conflicts.append(RoutingConflict(category, region, priority, units, references))
            continue
        (unit, unit_entries), = by_unit.items()
        posts = tuple(dict.fromkeys(e.post for e in unit_entries if e.post is not None))
        specs.append(RoutingRuleSpec(category, region, unit, priority, posts,
                                     tuple(dict.fromkeys(e.label for e in unit_entries))))
    if conflicts:
        conflicts.sort(key=lambda c: (c.category, str(c.region), c.priority))
        raise ResponsibilityConflict(conflicts)
    specs.sort(key=lambda s: (s.category, s.region is not None, str(s.region), -s.priority, str(s.unit)))
    return specs
