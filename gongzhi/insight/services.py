"""Use cases of insight over the database: train, register and serve the category classifier (the demands
app's propose_category hook), profile demands into issues (similar demands, one issue per thing), analyse
hot spots, raise early warnings and open proactive demands from them (未诉先办), and suggest the agenda."""

import datetime as dt
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy
from gongzhi.core.scrub import scrub
from gongzhi.demands import hooks
from gongzhi.demands import queries as demand_queries
from gongzhi.demands import rules as demand_rules
from gongzhi.demands import services as demands
from gongzhi.demands import tally
from gongzhi.demands.models import Category, Demand
from gongzhi.org import locating
from gongzhi.org.geometry import all_grid_neighbours
from gongzhi.org.models import Organisation, Region

from . import hotspots, queries, rules, similar, textclass
from .models import ClassifierModel, DemandProfile, HotSpot, HotSpotRun, Issue, Warning

logger = logging.getLogger(__name__)

HANDLED_STATES = (demand_rules.REPLIED, demand_rules.VERIFIED, demand_rules.CLOSED, demand_rules.RATED)
MIN_TRAINING_EXAMPLES = 20
ISSUE_WINDOW_DAYS = 30
ISSUE_JOIN_THRESHOLD = 0.25
ISSUE_DISTANCE_HALF_M = 150.0
HEAT_HALF_LIFE_DAYS = 14.0
# Few demands nearby make the index's local weighting strict (what two texts share is "common" among two);
# the dispatcher sees scores and decides, so the bar for showing a candidate is low.
SIMILAR_MIN_SIMILARITY = 0.2


# --- the classifier ------------------------------------------------------------------------------------

def models_dir() -> Path:
    path = Path(settings.VAR_DIR) / "insight" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def handled_examples() -> tuple[list[str], list[str]]:
    """Texts and final category codes of the handled demands: a unit replied under that category, so a
    wrong one would have been returned and corrected. Merged and rejected demands teach nothing."""
    rows = (Demand.objects.filter(state__in=HANDLED_STATES, category__isnull=False)
            .order_by("id").values_list("text", "category__code"))
    texts, labels = [], []
    for text, code in rows:
        texts.append(text)
        labels.append(code)
    return texts, labels


def train_from_demands(user=None, *, activate: bool = True) -> ClassifierModel:
    """Train on the deployment's own handled demands (labels with fewer than 2 examples are left out),
    store the model file and its version with the out-of-fold evaluation, and make it the active one when
    `activate` and it does at least as well as the active one."""
    texts, labels = handled_examples()
    counts = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    keep = [i for i, label in enumerate(labels) if counts[label] >= 5]
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    if len(texts) < MIN_TRAINING_EXAMPLES or len(set(labels)) < 2:
        raise ValidationFailed(gettext_lazy("%(texts_count)s handled demands in %(set_count)s categories with ≥5 each; need "
                                            "%(min_training_examples)s in at least 2")
                                            % {"texts_count": len(texts), "set_count": len(set(labels)), "min_training_examples": MIN_TRAINING_EXAMPLES}, code="too_few_examples")
    model = textclass.TextClassifier().fit(texts, labels)
    return register_model(model, source=ClassifierModel.Source.DEMANDS, user=user, activate=activate)


def register_model(model: textclass.TextClassifier, *, source: str, user=None, activate: bool = True,
                   ) -> ClassifierModel:
    """Store a fitted classifier as the next version (file + row + event); activate it if asked and no
    worse (macro-F1 within 0.01) than the active one."""
    now = clock.now()
    name = f"classifier-{now:%Y%m%dT%H%M%S}-{hashlib.sha256(repr(time.monotonic()).encode()).hexdigest()[:6]}.model"
    path = model.save(models_dir() / name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    evaluation = model.cross_validation or {}
    with transaction.atomic():
        row = ClassifierModel.objects.create(
            created_at=now, created_by=user if getattr(user, "is_authenticated", False) else None, source=source,
            training_size=model.training_size, labels=model.labels, evaluation=evaluation,
            file=str(path.relative_to(settings.VAR_DIR)), sha256=digest)
        events.record("insight.train", row, actor=user, source=source, training_size=model.training_size,
                      macro_f1=evaluation.get("macro_f1"), sha256=digest)
        active = ClassifierModel.objects.select_for_update().filter(is_active=True).first()
        better = active is None or (evaluation.get("macro_f1") or 0) >= (active.evaluation.get("macro_f1") or 0) - 0.01
        if activate and better:
            _activate(row, user)
    return row


def activate_model(user, version: int) -> ClassifierModel:
    with transaction.atomic():
        row = ClassifierModel.objects.select_for_update().filter(pk=version).first()
        if row is None:
            raise NotFound(gettext_lazy("classifier model v%(version)s") % {"version": version})
        _activate(row, user)
    return row


def _activate(row: ClassifierModel, user) -> None:
    ClassifierModel.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
    row.is_active = True
    row.save(update_fields=["is_active"])
    events.record("insight.activate_model", row, actor=user, sha256=row.sha256)


class _ActiveModel:
    """This process's copy of the active classifier, re-read when another version becomes active (checked
    at most every FRESHNESS seconds)."""

    FRESHNESS = 30.0

    def __init__(self):
        self._lock = threading.Lock()
        self._checked = -1e9
        self._version = None
        self._model = None

    def get(self) -> textclass.TextClassifier | None:
        if time.monotonic() - self._checked < self.FRESHNESS:
            return self._model
        with self._lock:
            row = ClassifierModel.objects.filter(is_active=True).only("pk", "file", "sha256").first()
            self._checked = time.monotonic()
            if row is None:
                self._version, self._model = None, None
            elif row.pk != self._version:
                path = Path(settings.VAR_DIR) / row.file
                if hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
                    logger.error("classifier v%s: the file %s does not match its digest; not used", row.pk, path)
                    self._version, self._model = row.pk, None
                else:
                    self._version, self._model = row.pk, textclass.TextClassifier.load(path)
            return self._model

    def forget(self) -> None:
        self._checked = -1e9


active_model = _ActiveModel()


def propose_category(text: str) -> hooks.Proposal | None:
    """demands' propose_category hook: the active classifier's best category with its confidence."""
    model = active_model.get()
    if model is None:
        return None
    prediction = model.predict_one(text)
    return hooks.Proposal(code=prediction.label, confidence=prediction.confidence,
                          alternatives=[[code, round(p, 4)] for code, p in prediction.alternatives],
                          source=f"insight v{active_model._version}")


# --- similar demands and issues -----------------------------------------------------------------------

_neighbours_cache: tuple[float, dict] | None = None


def grid_neighbours() -> dict[int, list[int]]:
    """Grid adjacency, cached per process for a minute (grids are redrawn rarely)."""
    global _neighbours_cache
    if _neighbours_cache is None or time.monotonic() - _neighbours_cache[0] > 60:
        _neighbours_cache = (time.monotonic(), all_grid_neighbours())
    return _neighbours_cache[1]


def _signature_of(demand: Demand) -> similar.Signature:
    profile = DemandProfile.objects.filter(demand=demand).only("signature").first()
    if profile is not None:
        return similar.Signature.from_bytes(bytes(profile.signature))
    return similar.signature(demand.text)


def _nearby(demand: Demand, *, open_only: bool, window_days: int = ISSUE_WINDOW_DAYS, among=None) -> list[dict]:
    """Profiled demands in the demand's grid and its neighbours within the window, as plain rows; only those
    of the demand queryset `among` when given (the demands a user may see)."""
    grids = [demand.grid_id, *grid_neighbours().get(demand.grid_id, [])]
    window = dt.timedelta(days=window_days)
    rows = DemandProfile.objects.filter(grid_id__in=grids, received_at__gte=demand.received_at - window,
                                        received_at__lte=demand.received_at + window)
    if among is not None:
        rows = rows.filter(demand_id__in=among.values("pk"))
    rows = (rows.exclude(demand_id=demand.pk)
            .values("demand_id", "signature", "issue_id", "grid_id", "received_at", "demand__longitude",
                    "demand__latitude", "demand__state", "demand__reporter_user_id", "demand__number"))
    if open_only:
        rows = rows.exclude(demand__state__in=[demand_rules.RATED, demand_rules.MERGED, demand_rules.REJECTED,
                                               demand_rules.CLOSED])
    return list(rows)


def _index(rows: list[dict], *, distance_half_m: float = 500.0) -> similar.SimilarityIndex:
    index = similar.SimilarityIndex(grid_neighbours(), window_days=ISSUE_WINDOW_DAYS, distance_half_m=distance_half_m)
    for row in rows:
        index.add(similar.Demand(
            id=row["demand_id"], signature=similar.Signature.from_bytes(bytes(row["signature"])), grid=row["grid_id"],
            lon=row["demand__longitude"], lat=row["demand__latitude"], at=row["received_at"],
            is_open=row["demand__state"] not in (demand_rules.RATED, demand_rules.MERGED, demand_rules.REJECTED,
                                                 demand_rules.CLOSED),
            reporter=row["demand__reporter_user_id"]))
    return index


def similar_demands(demand: Demand, limit: int = 5, *, user) -> list[hooks.SimilarDemand]:
    """demands' similar_demands hook: the most similar open demands nearby that `user` may see
    (demands.queries.visible), best first, for merging. A neighbouring grid may lie in another community
    or street: its demands are suggested only to those who may see them."""
    rows = _nearby(demand, open_only=True, among=demand_queries.visible(user))
    if not rows:
        return []
    index = _index(rows)
    numbers = {row["demand_id"]: row["demand__number"] for row in rows}
    matches = index.similar(_signature_of(demand), demand.grid_id, demand.longitude, demand.latitude,
                            demand.received_at, limit=limit, min_similarity=SIMILAR_MIN_SIMILARITY)
    return [hooks.SimilarDemand(number=numbers[m.demand_id], score=round(m.score, 3),
                                parts={"similarity": round(m.similarity, 3), "distance_m": m.distance_m,
                                       "days_apart": round(m.days_apart, 1)}) for m in matches]


PROFILE_MARGIN = 10_000  # demands below the newest profiled one still looked at (ids commit out of order)


def profile_new_demands(limit: int = 500) -> int:
    """Profile the demands that have none yet, oldest first: signature, then the issue it joins (the best
    issue nearby whose latest members it resembles, above ISSUE_JOIN_THRESHOLD) or founds. Returns how
    many were profiled. Incremental and idempotent: run by the worker every few seconds."""
    done = 0
    # Incremental: only demands past the newest profiled one (less a margin for ids that committed late), not an
    # anti-join over every demand ever filed, which at millions costs seconds each run (docs/benchmarks.md, Volume).
    newest = DemandProfile.objects.order_by("-demand_id").values_list("demand_id", flat=True).first()
    recent = Demand.objects.filter(id__gt=max(0, newest - PROFILE_MARGIN)) if newest else Demand.objects.all()
    pending = list(recent.filter(profile__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
    for demand_id in pending:
        with transaction.atomic():
            demand = Demand.objects.select_related("grid").select_for_update(of=("self",)).get(pk=demand_id)
            if DemandProfile.objects.filter(demand=demand).exists():
                continue
            _profile(demand)
            done += 1
    return done


def _profile(demand: Demand) -> DemandProfile:
    sig = similar.signature(demand.text)
    rows = [row for row in _nearby(demand, open_only=False) if row["received_at"] <= demand.received_at]
    issue = None
    if rows:
        # One thing is reported from about one place: joining uses the clusterer's short half-distance, so
        # the same complaint at the next 小区 founds its own issue (similar.IssueClusterer does the same).
        index = _index(rows, distance_half_m=ISSUE_DISTANCE_HALF_M)
        matches = index.similar(sig, demand.grid_id, demand.longitude, demand.latitude, demand.received_at,
                                limit=25, min_similarity=0.0, open_only=False)
        issue_of = {row["demand_id"]: row["issue_id"] for row in rows}
        affinity: dict[int, list[float]] = {}
        for match in matches:  # best first: at most 5 per issue, its nearest and most alike
            issue_id = issue_of.get(match.demand_id)
            if issue_id is not None and len(affinity.setdefault(issue_id, [])) < 5:
                affinity[issue_id].append(match.similarity * match.distance_factor)
        scored = sorted(((sum(v) / len(v), -k) for k, v in affinity.items()), reverse=True)
        if scored and scored[0][0] >= ISSUE_JOIN_THRESHOLD:
            issue = Issue.objects.select_for_update().get(pk=-scored[0][1])
    if issue is None:
        issue = Issue.objects.create(community_id=demand.community_id, grid_id=demand.grid_id,
                                     category=demand.category, first_seen=demand.received_at,
                                     last_seen=demand.received_at)
    profile = DemandProfile.objects.create(demand=demand, signature=sig.to_bytes(), issue=issue, grid=demand.grid,
                                           received_at=demand.received_at)
    refresh_issue(issue)
    return profile


def refresh_issue(issue: Issue, now=None) -> Issue:
    """Recount an issue's volume, distinct reporters, unresolved share and heat from its demands."""
    now = now or clock.now()
    members = Demand.objects.filter(profile__issue=issue)
    stats = members.aggregate(
        volume=Count("id"), reporters=Count("reporter_user", distinct=True),
        unresolved=Count("id", filter=~Q(state__in=[demand_rules.RATED, demand_rules.CLOSED, demand_rules.MERGED,
                                                   demand_rules.REJECTED]) | Q(solved=False)))
    first_last = members.order_by("received_at").values_list("received_at", flat=True)
    times = list(first_last)
    if times:
        issue.first_seen, issue.last_seen = times[0], times[-1]
    category = (members.exclude(category__isnull=True).values("category").annotate(n=Count("id"))
                .order_by("-n", "category").first())
    issue.category_id = category["category"] if category else None
    issue.volume, issue.reporters, issue.unresolved = stats["volume"], stats["reporters"], stats["unresolved"]
    age_days = max(0.0, (now - issue.last_seen).total_seconds() / 86400) if times else 0.0
    issue.heat = hotspots.heat_index(volume=issue.volume, reporters=max(issue.reporters, 1), support=issue.support,
                                     age_days=age_days, unresolved_share=issue.unresolved / max(issue.volume, 1))
    issue.save()
    return issue


def refresh_heat(now=None) -> int:
    """Heat decays with time: recompute it for the issues seen in the last 90 days."""
    now = now or clock.now()
    n = 0
    for issue in Issue.objects.filter(last_seen__gte=now - dt.timedelta(days=90), merged_into__isnull=True):
        refresh_issue(issue, now)
        n += 1
    return n


# --- hot spots and warnings ----------------------------------------------------------------------------

@dataclass
class HotSpotReport:
    run: HotSpotRun
    hot_spots: list[HotSpot]
    warnings: list[Warning]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def analyse_hot_spots(region: Region | None = None, *, weeks: int = 26, today: dt.date | None = None,
                      q: float = 0.05) -> HotSpotReport:
    """Weekly counts per grid × first-level category over the last `weeks` complete weeks in `region`
    (default: every grid), tested against each cell's own seasonal baseline and over grid adjacency
    (insight.hotspots: Gi* with Benjamini–Hochberg FDR control at `q`). Stores the run and its hot spots
    and raises a warning for each new or rising one."""
    today = today or clock.today()
    last_week = _week_start(today) - dt.timedelta(days=7)  # the last complete week
    first_week = last_week - dt.timedelta(weeks=weeks - 1)
    grids_qs = Region.objects.filter(level=Region.Level.GRID, polygon__isnull=False)
    if region is not None:
        grids_qs = grids_qs.filter(path__startswith=region.path)
    grids = list(grids_qs.order_by("id").values_list("id", "name"))
    if len(grids) < 2:
        raise ValidationFailed(gettext_lazy("hot spots need at least two grids with boundaries"), code="too_few_grids")
    roots = list(Category.objects.filter(parent__isnull=True, is_active=True).order_by("path"))
    cell_of = {grid_id: i for i, (grid_id, _) in enumerate(grids)}
    root_of = {c.pk: i for i, c in enumerate(roots)}
    counts = np.zeros((len(roots), len(grids), weeks), dtype=np.int64)
    total = 0
    # From the weekly tally (demands/tally.py), summed per grid, first-level category and week by the database:
    # a few thousand rows, not the million demands of half a year at ten million (docs/benchmarks.md, Volume).
    for week_start, grid_id, root_pk, n, _, _ in tally.weekly(cell_of, first_week, first_week + dt.timedelta(weeks=weeks),
                                                              merged=False):
        root = root_of.get(root_pk)
        week = (week_start - first_week).days // 7
        if root is None or not 0 <= week < weeks:
            continue
        counts[root, cell_of[grid_id], week] += n
        total += n
    neighbours = grid_neighbours()
    adjacency = [[cell_of[n] for n in neighbours.get(grid_id, []) if n in cell_of] for grid_id, _ in grids]
    found = hotspots.find_hot_spots(
        counts, adjacency, [first_week + dt.timedelta(weeks=i) for i in range(weeks)],
        cells=[g for g, _ in grids], cell_names=[name for _, name in grids], categories=[c.pk for c in roots],
        category_names=[(c.name, c.name_en or c.name) for c in roots], q=q)
    with transaction.atomic():
        run = HotSpotRun.objects.create(at=clock.now(), region=region or Region.objects.filter(parent__isnull=True)
                                        .order_by("id").first(), periods=weeks, last_period_start=last_week,
                                        cells=len(grids), categories=len(roots), demands=total)
        stored = [HotSpot.objects.create(
            run=run, grid_id=h.cell, category_id=h.category, period_start=h.period, since=h.since,
            observed=h.observed, expected=h.expected, ratio=h.ratio, z=h.z, q=h.q, is_emerging=h.is_emerging,
            rising_for=h.rising_for, explanation_zh=h.explanation_zh, explanation_en=h.explanation_en)
            for h in found]
        events.record("insight.hot_spots", run, weeks=weeks, cells=len(grids), hot_spots=len(stored))
        warnings = [w for w in (_warn_hot_spot(h) for h in stored) if w is not None]
        warnings += _warn_rising(counts, grids, roots, first_week, already={(h.grid_id, h.category_id) for h in stored})
    return HotSpotReport(run, stored, warnings)


RISING_WEEKS = 3
RISING_MIN_LAST_WEEK = 3  # a rise from 0 to 1 to 2 is noise, not a warning


def _warn_rising(counts, grids, roots, first_week: dt.date, *, already: set) -> list[Warning]:
    """A category rising in a grid RISING_WEEKS weeks running (each week above the one before, the last at
    least RISING_MIN_LAST_WEEK), even where it is not yet a hot spot: a rule of 未诉先办."""
    raised = []
    weeks = counts.shape[2]
    for c, category in enumerate(roots):
        for g, (grid_id, name) in enumerate(grids):
            series = counts[c, g, :]
            start = hotspots.rising_weeks(series, k=RISING_WEEKS)
            if start is None or series[-1] < RISING_MIN_LAST_WEEK or (grid_id, category.pk) in already:
                continue
            since = first_week + dt.timedelta(weeks=max(start - 1, 0))
            run = ", ".join(str(int(n)) for n in series[max(start - 1, 0):])
            grid = Region.objects.get(pk=grid_id)
            until = first_week + dt.timedelta(weeks=weeks)
            warning = _raise(
                Warning.Kind.RISING, f"rising:{grid_id}:{category.pk}:{since}",
                community_id=int(grid.path.strip("/").split("/")[2]), grid=grid, category=category,
                message_zh=f"{name}的「{category.name}」类诉求连续{weeks - start}周上升（每周 {run} 件）。",
                message_en=f"{name}: {category.name_en or category.name} demands rose {weeks - start} weeks running "
                           f"({run} a week).",
                evidence={"weekly": [int(n) for n in series[-(weeks - start) - 1:]], "since": since.isoformat(),
                          "demands": _numbers_behind(grid, category, since, until)})
            if warning is not None:
                raised.append(warning)
    return raised


def _responsible_unit(category: Category | None, grid: Region):
    return demands.route(category, grid).unit


def _raise(kind: str, key: str, *, community_id: int, message_zh: str, message_en: str, evidence: dict,
           grid=None, building=None, category=None) -> Warning | None:
    """A warning once per key (a repeated analysis raises nothing new), with its event."""
    if Warning.objects.filter(key=key).exists():
        return None
    unit = _responsible_unit(category, grid) if grid is not None else None
    level = rules.warning_level(kind, evidence)
    warning = Warning.objects.create(kind=kind, key=key[:120], raised_at=clock.now(), grid=grid,
                                     community_id=community_id, building=building, category=category, unit=unit,
                                     message_zh=message_zh, message_en=message_en, evidence=evidence, level=level)
    events.record("insight.warning", warning, rule=kind, grid=grid.pk if grid else None,
                  category=category.code if category else None, unit=unit.pk if unit else None, level=level)
    return warning


def _warn_hot_spot(h: HotSpot) -> Warning | None:
    grid = h.grid
    community_id = int(grid.path.strip("/").split("/")[2])
    if h.is_emerging and h.rising_for >= 3:
        kind, key = Warning.Kind.RISING, f"rising:{grid.pk}:{h.category_id}:{h.since}"
    else:
        kind, key = Warning.Kind.HOT_SPOT, f"hot:{grid.pk}:{h.category_id}:{h.since}"
    until = h.period_start + dt.timedelta(weeks=1)
    return _raise(kind, key, community_id=community_id, grid=grid, category=h.category,
                  message_zh=h.explanation_zh, message_en=h.explanation_en,
                  evidence={"observed": h.observed, "expected": round(h.expected, 2), "ratio": round(h.ratio, 2),
                            "q": h.q, "since": h.since.isoformat(), "rising_for": h.rising_for,
                            "demands": _numbers_behind(grid, h.category, h.since, until)})


def _numbers_behind(grid: Region, category: Category, since: dt.date, until: dt.date) -> list[str]:
    """The numbers of the demands a hot-spot or rising warning counted: in the grid, under the first-level
    category, received in the weeks [since, until), not merged (as analyse_hot_spots counts them). Kept in
    the warning's evidence, so its page lists exactly those demands."""
    return list(queries.demands_counted(grid, category, since, until).values_list("number", flat=True))


def warn_repeated_reopens(*, days: int = 90, threshold: int = 2) -> list[Warning]:
    """A building whose demands were sent back (rated "not solved", or found not done) `threshold` times or
    more in `days`: the same trouble keeps coming back there (a rule of 未诉先办). Counted from the reopen
    steps in the window, on exactly the demands the warning lists; its text says how many of them were rated
    solved since, so it agrees with what each listed demand's page shows."""
    from gongzhi.demands.models import DemandEvent

    since = clock.now() - dt.timedelta(days=days)
    counts = dict(DemandEvent.objects.filter(action="reopen", at__gte=since).values("demand_id")
                  .annotate(n=Count("id")).values_list("demand_id", "n"))
    reopened = (Demand.objects.filter(pk__in=list(counts), longitude__isnull=False)
                .select_related("grid", "category").order_by("received_at", "id"))
    by_building: dict[int, list[Demand]] = {}
    buildings = {}
    for demand in reopened:
        building = locating.locate(demand.longitude, demand.latitude).building
        if building is not None:
            by_building.setdefault(building.pk, []).append(demand)
            buildings[building.pk] = building
    raised = []
    for building_id, found in sorted(by_building.items()):
        times = sum(counts[d.pk] for d in found)
        if times < threshold:
            continue
        first, building = found[0], buildings[building_id]
        solved = sum(1 for d in found if d.state == demand_rules.RATED and d.solved)
        n = len(found)
        zh_solved = (f"（其中{solved}件重新办理后已评为解决）" if 0 < solved < n
                     else "（重新办理后均已评为解决）" if solved == n else "")
        en_solved = (f" ({solved} of them rated solved since)" if 0 < solved < n
                     else " (all rated solved since)" if solved == n else "")
        window = _week_start(clock.today())
        warning = _raise(
            Warning.Kind.REPEATED_REOPEN, f"reopen:{building_id}:{window}", community_id=first.community_id,
            grid=first.grid, building=building, category=first.category,
            message_zh=f"{building}：近{days}天内有{n}件诉求因未解决被退回重新办理，共{times}次{zh_solved}，问题反复出现。",
            message_en=(f"{building}: {n} demand{'s' if n != 1 else ''} sent back as not solved {times} times in "
                        f"{days} days{en_solved}; the trouble recurs."),
            evidence={"demands": [d.number for d in found], "reopened": times, "solved_since": solved})
        if warning is not None:
            raised.append(warning)
    return raised


def _open_warning_for(user, warning: Warning) -> Warning:
    """The warning locked for a change, once the user may act on it: still open, with a grid, and the user
    a dispatcher of that grid or a leader over it ("insight.act_on_warning")."""
    warning = (Warning.objects.select_for_update(of=("self",)).select_related("grid", "building", "category")
               .get(pk=warning.pk))
    grid = warning.grid
    if grid is None:
        raise ValidationFailed(gettext_lazy("the warning has no grid"), code="warning_without_place")
    policy.require(user, "insight.act_on_warning", grid)
    if warning.state != Warning.State.OPEN:
        raise ValidationFailed(gettext_lazy("the warning was already handled (%(state)s)")
                               % {"state": warning.get_state_display()}, code="warning_not_open")
    return warning


def proactive_place(warning: Warning) -> tuple[str, tuple[float, float]]:
    """Where a proactive demand from `warning` is: the building's address and point, else the grid (its name
    under its community) and a point inside it, so the demand is placed, mapped and found on the ground."""
    grid = warning.grid
    community = grid.parent.name if grid.parent_id else ""
    building = warning.building if warning.building_id else None
    if building is not None and building.longitude is not None:
        address = building.address or building.name
        if building.name and building.name not in address:
            address = f"{address}{building.name}"
        return f"{address}（{community}{grid.name}）", (building.longitude, building.latitude)
    return f"{community}{grid.name}", _grid_point(grid)


# What the unit receiving a proactive demand is to check on the spot, by the kind of warning.
PROACTIVE_CHECKS = {
    Warning.Kind.REPEATED_REOPEN: "请到现场核查反复出现的问题为何没有根治，查明原因后一并处理，并回访近期反映过问题的居民。",
    Warning.Kind.HOT_SPOT: "请到现场巡查{category}方面的问题为何集中出现，能当场处理的及时处理，需要长期解决的提出办法。",
    Warning.Kind.RISING: "请到现场巡查{category}方面的问题为何连续几周增多，查明原因并及时处理。",
}


def proactive_text(warning: Warning, address: str) -> str:
    """The text of a proactive demand: the warning, the place, and what to check there (in Chinese: the
    demand's text is data, read by the unit that receives it)."""
    category = warning.category.name if warning.category_id else "相关"
    check = PROACTIVE_CHECKS.get(warning.kind, "请到现场核查情况并及时处理。").format(category=category)
    return f"【未诉先办】{warning.message_zh}\n地点：{address}\n{check}"


def _file_proactive(user, warning: Warning, *, route: bool = True):
    address, point = proactive_place(warning)
    return demands.file_demand(
        user, text=proactive_text(warning, address), channel=Demand.Channel.PROACTIVE, longitude=point[0],
        latitude=point[1], address=address, category=warning.category, route=route)


def open_proactive_demand(user, warning: Warning) -> Demand:
    """Open a demand from a warning, before anyone complains (未诉先办): filed on the proactive channel at
    the warning's building or grid, with its category, so it is routed like any demand; the warning then
    names it. Only the dispatch desks and the leaders over that grid may do it, once per warning."""
    with transaction.atomic():
        warning = _open_warning_for(user, warning)
        step = _file_proactive(user, warning)
        warning.state, warning.demand = Warning.State.ACTED, step.demand
        warning.handled_by, warning.handled_at = user, clock.now()
        warning.save(update_fields=["state", "demand", "handled_by", "handled_at"])
        events.record("insight.act_on_warning", warning, actor=user, demand=step.demand.number)
    return step.demand


def assign_warning(user, warning: Warning, unit: Organisation | int, *, note: str = "") -> Demand:
    """Assign a warning to a unit (交办): what a street officer does with a warning is hand it to the unit
    that must deal with it, and units work from their queue of demands. So the proactive demand is opened
    (as open_proactive_demand) and dispatched to `unit` in the same transaction, with the note. The unit
    must be one the user may send that demand to ("demands.dispatch_to", checked by demands.dispatch); any
    other is answered as unknown (NotFound), as for a unit that does not exist, and nothing is created.
    Only the dispatch desks of the grid assign ("insight.assign_warning")."""
    if not isinstance(unit, Organisation) and not str(unit).isdigit():
        raise ValidationFailed(gettext_lazy("choose a unit"), code="unit_required")
    with transaction.atomic():
        warning = _open_warning_for(user, warning)
        policy.require(user, "insight.assign_warning", warning.grid)
        named = unit if isinstance(unit, Organisation) else (
            Organisation.objects.filter(pk=int(unit)).first() if int(unit) < 2**63 else None)
        if named is None:
            raise NotFound(gettext_lazy("organisation %(unit)s") % {"unit": unit}, code="unknown_unit")
        if warning.category is None:
            raise ValidationFailed(gettext_lazy("the warning has no category: open a proactive demand and "
                                                "dispatch it from the desk"), code="category_required")
        filed = _file_proactive(user, warning, route=False)
        demand = demands.dispatch(user, filed.demand, unit=named, note=note.strip()).demand
        warning.state, warning.demand, warning.assigned_unit = Warning.State.ASSIGNED, demand, named
        warning.handled_by, warning.handled_at = user, clock.now()
        warning.save(update_fields=["state", "demand", "assigned_unit", "handled_by", "handled_at"])
        events.record("insight.assign_warning", warning, actor=user, demand=demand.number, unit=named.pk,
                      private={"note": note.strip()} if note.strip() else None)
    return demand


def dismiss_warning(user, warning: Warning, *, reason: str) -> Warning:
    """Dismiss a warning with a reason (required): the dispatcher judged it needs no action (a known cause,
    already in hand). The reason is kept on the warning and in its event; the warning leaves the open list."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext_lazy("give the reason for dismissing the warning"), code="reason_required")
    if len(reason) > 500:
        raise ValidationFailed(gettext_lazy("the reason is longer than 500 characters"), code="reason_too_long")
    with transaction.atomic():
        warning = _open_warning_for(user, warning)
        warning.state, warning.dismissal_reason = Warning.State.DISMISSED, reason
        warning.handled_by, warning.handled_at = user, clock.now()
        warning.save(update_fields=["state", "dismissal_reason", "handled_by", "handled_at"])
        events.record("insight.dismiss_warning", warning, actor=user, private={"reason": reason})
    return warning


def _grid_point(grid: Region) -> tuple[float, float]:
    from gongzhi.org.spatial import grid_shape

    point = grid_shape(grid.polygon).representative_point()
    return point.x, point.y


# --- agenda suggestions --------------------------------------------------------------------------------



@dataclass
class AgendaItem:
    issue: Issue
    samples: list[str]
    grids: list[str]


def agenda(community: Region, *, limit: int = 5) -> list[AgendaItem]:
    """The community's hottest open issues with two or more demands, as proposed deliberation topics, each
    with its evidence: counts, where, and sample demands with personal data removed."""
    return agendas([community], limit=limit)[community.pk]


def agendas(communities, *, limit: int = 5, samples: int = 3) -> dict[int, list[AgendaItem]]:
    """agenda() of several communities in two queries whatever their number (the cockpit lists a region's):
    {community id: [AgendaItem]}."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    ids = [c.pk for c in communities]
    issues = list(Issue.objects.filter(community_id__in=ids, merged_into__isnull=True, volume__gte=2, unresolved__gt=0)
                  .annotate(place=Window(RowNumber(), partition_by=F("community_id"),
                                         order_by=[F("heat").desc(), F("id").desc()]))
                  .filter(place__lte=limit).select_related("category", "grid").order_by("community_id", "place"))
    members: dict[int, list[Demand]] = {}
    for d in (Demand.objects.filter(profile__issue__in=[i.pk for i in issues])
              .annotate(issue_id=F("profile__issue_id"),
                        place=Window(RowNumber(), partition_by=F("profile__issue_id"),
                                     order_by=[F("received_at").desc(), F("id").desc()]))
              .filter(place__lte=samples).select_related("grid", "contact").order_by("issue_id", "place")):
        members.setdefault(d.issue_id, []).append(d)
    out: dict[int, list[AgendaItem]] = {pk: [] for pk in ids}
    for issue in issues:
        found = members.get(issue.pk, [])
        texts = [scrub(d.text, [getattr(getattr(d, "contact", None), "name", "")])[:120] for d in found]
        out[issue.community_id].append(AgendaItem(issue, texts, sorted({d.grid.name for d in found})))
    return out


def _open_topic(user, *, region: Region, title: str, description: str, origin: str, reference: str,
                evidence: dict):
    from gongzhi.deliberation import services as deliberation
    from gongzhi.deliberation.models import Topic

    existing = Topic.objects.filter(origin_reference=reference).exclude(status=Topic.Status.WITHDRAWN).first()
    if existing is not None:
        raise Conflict(gettext_lazy("topic %(existing_pk)s was already opened from it")
                       % {"existing_pk": existing.pk}, code="topic_exists", topic=existing.pk)
    return deliberation.propose_topic(user, region=region, title=title, description=description, origin=origin,
                                      origin_reference=reference, evidence=evidence)


def open_topic_from_issue(user, issue: Issue, *, title: str = ""):
    """Put an agenda suggestion to deliberation: a topic of the issue's community, on the agenda at once
    (an officer proposes it), carrying the evidence: counts, grids and sample demands without personal data.
    `title`: the officer's own words for the problem (else one made from the category and the grids)."""
    item = next((i for i in agenda(issue.community, limit=50) if i.issue.pk == issue.pk), None)
    if item is None:
        raise ValidationFailed(gettext_lazy("the issue is no longer an agenda suggestion (resolved or merged)"),
                               code="not_suggested")
    category = issue.category.name if issue.category_id else ""
    evidence = {"kind": "issue", "issue": issue.pk, "category": category, "volume": issue.volume,
                "reporters": issue.reporters, "unresolved": issue.unresolved, "heat": round(issue.heat, 2),
                "grids": item.grids, "samples": item.samples,
                "first_seen": issue.first_seen.isoformat(), "last_seen": issue.last_seen.isoformat()}
    title = (title or "").strip() or f"{category or '居民反映的问题'}：{'、'.join(item.grids)}"
    title = title[:120]
    description = (f"{issue.volume} 件诉求、{issue.reporters} 位居民反映，{issue.unresolved} 件未解决。"
                   f"样例：" + "；".join(item.samples))
    return _open_topic(user, region=issue.community, title=title, description=description, origin="agenda",
                       reference=f"insight.issue:{issue.pk}", evidence=evidence)


def open_topic_from_hot_spot(user, spot: HotSpot, *, title: str = ""):
    """Put a hot spot to deliberation in its community, with its explanation as evidence (`title`: the
    officer's own words, else one made from the grid and the category)."""
    community = spot.grid.parent
    evidence = {"kind": "hot_spot", "hot_spot": spot.pk, "grid": spot.grid.name, "category": spot.category.name,
                "observed": spot.observed, "expected": round(spot.expected, 1), "ratio": round(spot.ratio, 2),
                "since": spot.since.isoformat(), "q": spot.q, "explanation_zh": spot.explanation_zh,
                "explanation_en": spot.explanation_en}
    title = ((title or "").strip() or f"{spot.grid.name}{spot.category.name}问题集中")[:120]
    return _open_topic(user, region=community, title=title, description=spot.explanation_zh, origin="hot_spot",
                       reference=f"insight.hot_spot:{spot.grid_id}:{spot.category_id}:{spot.since.isoformat()}",
                       evidence=evidence)


# --- reply quality --------------------------------------------------------------------------------------

def check_reply(demand: Demand, reply_text: str) -> dict:
    """demands' check_reply hook: insight.replyquality's score and the missing parts, in both languages."""
    from . import replyquality

    result = replyquality.check_reply(demand.text, reply_text)
    return {"score": round(result.score, 1), "missing": list(result.missing),
            "messages_zh": list(result.messages_zh), "messages_en": list(result.messages_en),
            "relevance": round(result.relevance, 3), "completeness": round(result.completeness, 3),
            "is_refusal": result.is_refusal}


# --- the worker's periodic jobs ---------------------------------------------------------------------------

def refresh(today: dt.date | None = None) -> dict:
    """Everything insight keeps up to date: profiles and issues of new demands, heat, hot spots of the
    last complete week over the whole district, repeated reopens."""
    profiled = profile_new_demands(limit=5000)
    heated = refresh_heat()
    report = analyse_hot_spots(today=today) if Region.objects.filter(
        level=Region.Level.GRID, polygon__isnull=False).count() >= 2 else None
    reopens = warn_repeated_reopens()
    return {"profiled": profiled, "issues_reheated": heated,
            "hot_spots": len(report.hot_spots) if report else 0,
            "warnings": (len(report.warnings) if report else 0) + len(reopens)}


def scheduled_retrain() -> ClassifierModel | None:
    """The weekly retraining: on the handled demands, when there are enough; activated if no worse."""
    try:
        return train_from_demands()
    except ValidationFailed as too_few:
        logger.info("classifier not retrained: %s", too_few)
        return None
