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


# A water main failing in one grid last week: the kind of burst the hot-spot analysis exists to find, so
# the cockpit has a real one to show. Texts written for the project.
WATER_TEXTS = ("楼里停水两天了，什么时候能恢复？", "早上开始没水，家里老人做饭都成问题", "水管爆了，小区里一直在冒水",
               "停水也没有提前通知，希望尽快抢修", "自来水出来是黄的，不敢喝", "又停水了，这周第二次",
               "单元门口的水管漏水，地面结冰很滑", "楼上楼下都没水，物业说是市政的问题")
WATER_DEMANDS = 14


def plant_water_burst(district, today: dt.date) -> int:
    """File WATER_DEMANDS demands about water in the district's first grid during the last complete week,
    as the demo resident would through the web form."""
    from django.contrib.auth import get_user_model

    from gongzhi.demands import services as demands
    from gongzhi.org.models import Building, Region

    resident = get_user_model().objects.filter(username="resident").first()
    grid = (Region.objects.filter(level=Region.Level.GRID, path__startswith=district.path, polygon__isnull=False)
            .order_by("path").first())
    buildings = list(Building.objects.filter(grid=grid, longitude__isnull=False).order_by("id")[:4])
    if resident is None or not buildings:
        return 0
    monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(days=7)
    for i in range(WATER_DEMANDS):
        building = buildings[i % len(buildings)]
        at = dt.datetime.combine(monday + dt.timedelta(days=i % 6), dt.time(8 + i % 10, 7 * i % 60),
                                 tzinfo=clock.now().tzinfo)
        with clock.frozen_at(at):
            demands.file_demand(resident, text=WATER_TEXTS[i % len(WATER_TEXTS)], longitude=building.longitude,
                                latitude=building.latitude, category="utilities.water", channel="web")
    return WATER_DEMANDS


def build_demo_insight(seed: int = org_demo.DEMO_SEED):
    district = org_demo.demo_district()
    if district is None:
        raise RuntimeError("load the demo district first")
    plant_water_burst(district, clock.today())
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
