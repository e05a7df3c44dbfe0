"""Demo duties for `gongzhi demo`: the power lists adopted in the demo village and community; the village's
cold-store spending recorded (and disclosed) once its 四议两公开 resolution has been published through its
notice period; goals with tasks, one fed by the demands' satisfaction rate; a scorecard; and a matching board
with needs and co-building units' resources. Everything goes through the use cases, as real use would."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from gongzhi.core import clock
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Disclosure, Topic
from gongzhi.org import demo as org_demo
from gongzhi.org.models import Organisation, Post

from . import services
from .models import (AccountabilityRecord, Decision, Goal, Match, Need, PowerItem, ProgressReport, Project, Resource,
                     Responsibility, ResidentEvaluation, ReviewMeeting, Scorecard, ScoreResult, Task)


def _login(username: str):
    return get_user_model().objects.get(username=username)


def _region_of(user, kind: str):
    return Post.objects.filter(person__user=user, organisation__kind=kind).select_related(
        "organisation__region").first().organisation


def _cold_store_decision(officer, committee: Organisation):
    """Finish the village project's resolution stage and record the spending under the power list."""
    topic = Topic.objects.filter(region=committee.region, procedure_code="four_deliberations_two_disclosures").first()
    notice = Disclosure.objects.filter(topic=topic, kind="resolution").first() if topic else None
    if notice is None:
        return None
    with clock.frozen_at(notice.notice_ends_at + dt.timedelta(hours=1)):
        deliberation.complete_disclosure(notice)
        deliberation.record_stage(officer, topic, "resolution_disclosure", disclosure=notice)
        item = PowerItem.objects.get(region=committee.region, code="collective_income_use")
        return services.record_decision(officer, item, title="村集体投资建设果蔬冷库", amount="300000", topic=topic,
                                        details="由村集体经营收入列支，建成后出租给合作社。")


def _goals(officer, committee: Organisation, *, live: bool):
    today = clock.today()
    start = today.replace(month=1, day=1)
    end = today.replace(month=12, day=31)
    if live:
        goal = services.create_goal(officer, region=committee.region, title="群众诉求满意率达到95%",
                                    indicator="诉求满意率", unit_of_measure="%", start_value=85, target_value=95,
                                    direction="higher", start_date=start, deadline=end, owner=committee,
                                    live_indicator="demands.satisfaction_rate")
        tasks = (("每月对不满意诉求逐件回访", 25), ("物业服务问题每周联席会商", 40))
    else:
        goal = services.create_goal(officer, region=committee.region, title="生活垃圾分类覆盖率达到90%",
                                    indicator="分类覆盖率", unit_of_measure="%", start_value=40, target_value=90,
                                    direction="higher", start_date=start, deadline=end, owner=committee)
        tasks = (("每个村民小组设置分类投放点", 30), ("开展入户宣传两轮", 60))
        with clock.frozen_at(clock.now() - dt.timedelta(days=20)):
            services.report_progress(officer, goal=goal, value=72, note="新增投放点12处，入户宣传第一轮完成",
                                     evidence="照片与台账见村委会")
    for title, days in tasks:
        services.add_task(officer, goal=goal, title=title, unit=committee, deadline=today + dt.timedelta(days=days),
                          quality_standard="有记录、有照片、群众认可")
    return goal


def build_demo_duties(seed: int = org_demo.DEMO_SEED):
    if org_demo.demo_district() is None:
        raise RuntimeError("load the demo district first")
    community_officer, village_officer = _login("community_secretary"), _login("village_secretary")
    community_committee = _region_of(community_officer, "residents_committee")
    village_committee = _region_of(village_officer, "villagers_committee")
    community, village = community_committee.region, village_committee.region
    with transaction.atomic():
        items = len(services.adopt_power_list(village_officer, village))
        items += len(services.adopt_power_list(community_officer, community))
        decision = _cold_store_decision(village_officer, village_committee)
        _goals(community_officer, community_committee, live=True)
        _goals(village_officer, village_committee, live=False)
        services.define_scorecard(community_officer, community, {
            "code": "community_units", "name_zh": "社区单位年度考评", "name_en": "community units, yearly",
            "subject": "unit", "indicators": [
                {"code": "resolution", "name_zh": "诉求解决率", "name_en": "resolution rate", "weight": "40",
                 "normalisation": "linear", "worst": "60", "best": "100", "live_indicator": "demands.resolution_rate"},
                {"code": "satisfaction", "name_zh": "诉求满意率", "name_en": "satisfaction rate", "weight": "40",
                 "normalisation": "linear", "worst": "60", "best": "100",
                 "live_indicator": "demands.satisfaction_rate"},
                {"code": "tasks", "name_zh": "任务完成率", "name_en": "tasks done", "weight": "20",
                 "normalisation": "linear", "worst": "0", "best": "100", "live_indicator": "duties.task_completion"},
            ]})
        units = list(Organisation.objects.filter(region=community, kind__in=("property_company", "co_building_unit",
                                                                              "social_organisation")))
        lon, lat = _centre(community)
        for title, skills, quantity, urgency in (("独居老人每周助餐", ["cooking", "volunteer"], 20, 5),
                                                 ("老旧小区楼道灯维修", ["electrician"], 8, 4),
                                                 ("暑期儿童托管", ["teaching", "venue"], 30, 3)):
            services.publish_need(community_officer, region=community, title=title, skills=skills, quantity=quantity,
                                  urgency=urgency, longitude=lon, latitude=lat, source="居民诉求")
        owner = units[0] if units else community_committee
        for title, offers, capacity in (("志愿者服务队", ["volunteer", "cooking"], 24),
                                        ("物业电工班组", ["electrician"], 6),
                                        ("党群服务中心活动室", ["venue", "teaching"], 20)):
            services.publish_resource(community_officer, owner=owner, region=community, title=title, offers=offers,
                                      capacity=capacity, longitude=lon + 0.002, latitude=lat + 0.001)
        services.propose_matches(community_officer, community)
    return {"power_items": items, "decision": decision.pk if decision else None, "goals": Goal.objects.count()}


def _centre(region) -> tuple[float, float]:
    from gongzhi.org.spatial import grid_shape

    polygon = region.polygon or next((g.polygon for g in region.children.all() if g.polygon), None)
    if polygon is None:
        return 116.4, 39.9
    point = grid_shape(polygon).representative_point()
    return point.x, point.y


def reset_demo_duties() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    prefix = district.path
    deleted = {}
    with transaction.atomic():
        in_region = {"region__path__startswith": prefix}
        Match.objects.filter(need__region__path__startswith=prefix).delete()
        ProgressReport.objects.filter(goal__region__path__startswith=prefix).delete()
        ProgressReport.objects.filter(task__unit__region__path__startswith=prefix).delete()
        AccountabilityRecord.objects.filter(unit__region__path__startswith=prefix).delete()
        Task.objects.filter(unit__region__path__startswith=prefix, parent__isnull=False).delete()
        deleted["tasks"] = Task.objects.filter(unit__region__path__startswith=prefix).delete()[0]
        deleted["projects"] = Project.objects.filter(**in_region).delete()[0]
        Need.objects.filter(**in_region).delete()
        Resource.objects.filter(**in_region).delete()
        ReviewMeeting.objects.filter(**in_region).delete()
        Goal.objects.filter(parent__isnull=False, **in_region).delete()
        deleted["goals"] = Goal.objects.filter(**in_region).delete()[0]
        ScoreResult.objects.filter(scorecard__region__path__startswith=prefix).delete()
        Scorecard.objects.filter(**in_region).delete()
        ResidentEvaluation.objects.filter(unit__region__path__startswith=prefix).delete()
        deleted["decisions"] = Decision.objects.filter(item__region__path__startswith=prefix).delete()[0]
        deleted["power_items"] = PowerItem.objects.filter(**in_region).delete()[0]
        Responsibility.objects.filter(**in_region).delete()
    return deleted
