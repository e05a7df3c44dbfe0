"""Demo insight for `gongzhi demo`: the demo demands profiled and clustered into issues in one pass (the
same rules as services.profile_new_demands, in memory, then written in bulk), a classifier trained on the
handled ones, the hot spots of the last complete week and the warnings they raise."""

import datetime as dt
import logging

from django.db import transaction

from gongzhi.core import clock
from gongzhi.demands import rules as demand_rules
from gongzhi.demands.models import Demand
from gongzhi.org import demo as org_demo

from . import hotspots, services, similar
from .models import ClassifierModel, DemandProfile, HotSpotRun, Issue, Warning

logger = logging.getLogger(__name__)
DEMO_TRAINING_CAP = 3000  # enough for the demo's taxonomy; keeps `gongzhi demo` quick
CLOSED_STATES = (demand_rules.RATED, demand_rules.CLOSED, demand_rules.MERGED, demand_rules.REJECTED)


def profile_in_bulk(demands) -> int:
    """Profile and cluster `demands` (oldest first) with one in-memory IssueClusterer, then write the issues
    and profiles in bulk: for loading history, where one transaction per demand would take minutes."""
    clusterer = similar.IssueClusterer(services.grid_neighbours(), window_days=services.ISSUE_WINDOW_DAYS,
                                       join_threshold=services.ISSUE_JOIN_THRESHOLD,
                                       distance_half_m=services.ISSUE_DISTANCE_HALF_M)
    signatures, placed = {}, {}
    for d in demands:
        sig = similar.signature(d.text)
        signatures[d.pk] = sig
        placed[d.pk] = d
        clusterer.add(similar.Demand(id=d.pk, signature=sig, grid=d.grid_id, lon=d.longitude, lat=d.latitude,
                                     at=d.received_at, is_open=d.state not in CLOSED_STATES,
                                     reporter=d.reporter_user_id or f"anon-{d.pk}"))
    now = clock.now()
    rows = {}
    for issue in clusterer.issues.values():
        members = [placed[m] for m in issue.members]
        first = members[0]
        categories = [m.category_id for m in members if m.category_id]
        unresolved = sum(1 for m in members if m.state not in CLOSED_STATES or m.solved is False)
        age = max(0.0, (now - issue.last_seen).total_seconds() / 86400)
        rows[issue.id] = Issue(
            community_id=first.community_id, grid_id=first.grid_id,
            category_id=max(set(categories), key=categories.count) if categories else None,
            first_seen=issue.first_seen, last_seen=issue.last_seen, volume=len(members),
            reporters=len(issue.reporters), unresolved=unresolved,
            heat=hotspots.heat_index(volume=len(members), reporters=max(len(issue.reporters), 1), support=0,
                                     age_days=age, unresolved_share=unresolved / len(members)))
    ordered = list(rows.items())
    Issue.objects.bulk_create([issue for _, issue in ordered])
    DemandProfile.objects.bulk_create([
        DemandProfile(demand_id=d.pk, signature=signatures[d.pk].to_bytes(), issue=rows[clusterer.issue_of(d.pk)],
                      grid_id=d.grid_id, received_at=d.received_at) for d in placed.values()], batch_size=1000)
    return len(placed)


def build_demo_insight(seed: int = org_demo.DEMO_SEED):
    district = org_demo.demo_district()
    if district is None:
        raise RuntimeError("load the demo district first")
    with transaction.atomic():
        demands = list(Demand.objects.filter(grid__path__startswith=district.path, profile__isnull=True)
                       .order_by("received_at", "id"))
        profiled = profile_in_bulk(demands)
    model = None
    texts, labels = services.handled_examples()
    if len(texts) >= services.MIN_TRAINING_EXAMPLES:
        step = max(1, len(texts) // DEMO_TRAINING_CAP)
        texts, labels = texts[::step], labels[::step]
        counts = {label: labels.count(label) for label in set(labels)}
        keep = [i for i, label in enumerate(labels) if counts[label] >= 5]
        from . import textclass

        fitted = textclass.TextClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
        model = services.register_model(fitted, source=ClassifierModel.Source.DEMANDS)
    report = services.analyse_hot_spots(district, today=clock.today())
    reopens = services.warn_repeated_reopens()
    return {"profiled": profiled, "issues": Issue.objects.count(), "model": model.pk if model else None,
            "hot_spots": len(report.hot_spots), "warnings": len(report.warnings) + len(reopens)}


def reset_demo_insight() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    with transaction.atomic():
        warnings = Warning.objects.filter(community__path__startswith=district.path).delete()[0]
        runs = HotSpotRun.objects.filter(region__path__startswith=district.path).delete()[0]
        profiles = DemandProfile.objects.filter(grid__path__startswith=district.path).delete()[0]
        issues = Issue.objects.filter(community__path__startswith=district.path).delete()[0]
    return {"warnings": warnings, "hot_spot_runs": runs, "profiles": profiles, "issues": issues}
