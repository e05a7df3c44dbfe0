"""Demo care data for `gongzhi demo`: residents of the demo grid worker's grid registered in care groups, with
visits over the last weeks (some persons overdue today, some due this week, some just visited), and notices
from the demo building lead to their building. Written through the services (a few dozen calls), with the
clock moved back for what happened earlier, so the events are those the pages would write.

Registered with org.demo's extension list (CareConfig.ready): build_demo_care runs inside the demo build's
transaction, reset_demo_care before the district is deleted."""

import datetime as dt
import random

from django.contrib.auth import get_user_model

from gongzhi.core import clock
from gongzhi.org import demo as org_demo
from gongzhi.org.models import Person, Post

from . import services
from .defaults import seed_groups
from .models import CareGroup, CareRegistration, Notice, Visit, VisitPhoto

REGISTERED = 14  # people registered in the demo grid
NOTES = ("身体状况良好，精神不错", "反映楼道灯不亮，已记录", "血压偏高，提醒按时服药", "家中整洁，独自生活能自理",
         "子女每周来看望一次", "冬季取暖正常", "需要帮助预约社区医生上门")
NOTICES = ("本周六上午9点楼前空地进行消防安全宣传，请各户派人参加。",
           "2号单元水管检修，周三9:00-12:00停水，请提前储水。")


def _demo_user(username: str):
    return get_user_model().objects.filter(username=username).first()


def build_demo_care(seed: int = org_demo.DEMO_SEED) -> str:
    seed_groups(CareGroup)
    rng = random.Random(seed)
    worker = _demo_user("grid_worker")
    post = Post.objects.filter(role=Post.Role.GRID_WORKER, person__user=worker).select_related("grid").first() \
        if worker else None
    if post is None:
        return "no demo grid worker: no care data"
    now = clock.now()
    today = clock.today()
    people = list(Person.objects.filter(household__building__grid=post.grid, birth_date__isnull=False)
                  .select_related("household__building").order_by("household__building__name", "household__unit",
                                                                   "name", "birth_date"))
    elderly = [p for p in people if p.age_on(today) is not None and p.age_on(today) >= 70]
    others = [p for p in people if p not in elderly and p.age_on(today) is not None and p.age_on(today) >= 18]
    groups = {g.code: g for g in CareGroup.objects.all()}
    picked = rng.sample(elderly, min(9, len(elderly)))
    chosen = [(p, "elderly_alone" if i % 3 else "empty_nest") for i, p in enumerate(picked)]
    chosen += [(p, rng.choice(("disabled", "low_income", "seriously_ill")))
               for p in rng.sample(others, min(REGISTERED - len(chosen), len(others)))]
    registrations = visits = 0
    for i, (person, code) in enumerate(chosen):
        every = groups[code].visit_every_days
        with clock.frozen_at(now - dt.timedelta(days=60 + i)):
            services.register(worker, person=person, group=code)
        registrations += 1
        # Some are overdue today (the last visit more than one interval ago), some due this week, some just seen.
        pattern = i % 3
        back = every + rng.randint(2, 9) if pattern == 0 else every - rng.randint(1, 5) if pattern == 1 \
            else rng.randint(0, 2)
        for earlier in (back + every, back):
            if earlier > 28:
                continue  # services take visits logged within 30 days of them
            with clock.frozen_at(now - dt.timedelta(days=earlier, hours=rng.randint(1, 6))):
                services.log_visit(worker, household=person.household, person=person, kind="care",
                                   note=rng.choice(NOTES))
            visits += 1
    lead = _demo_user("building_lead")
    lead_post = (Post.objects.filter(role=Post.Role.BUILDING_LEAD, person__user=lead).select_related("building")
                 .first() if lead else None)
    notices = 0
    if lead_post is not None:
        for days, text in zip((9, 2), NOTICES):
            with clock.frozen_at(now - dt.timedelta(days=days)):
                services.post_notice(lead, building=lead_post.building, text=text)
            notices += 1
    return f"{registrations} care registrations, {visits} visits, {notices} notices"


def reset_demo_care() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    prefix = district.path
    return {
        "visit_photos": VisitPhoto.objects.filter(
            visit__household__building__grid__path__startswith=prefix).delete()[0],
        "visits": Visit.objects.filter(household__building__grid__path__startswith=prefix).delete()[0],
        "care_registrations": CareRegistration.objects.filter(
            person__household__building__grid__path__startswith=prefix).delete()[0],
        "notices": Notice.objects.filter(building__grid__path__startswith=prefix).delete()[0],
    }
