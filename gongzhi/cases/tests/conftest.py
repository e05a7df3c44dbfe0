"""A case built the whole way round the loop by the real services, in the deliberation tests' village:
villagers report the same problem → one issue → a topic opened from it (the case opens) → 四议两公开 with a
villagers' representatives' resolution for the amount → the decision under the power list starts its project
with two milestones for the village's water company → ... Each step is a method, so tests stop where they
need to."""

import datetime as dt

import pytest

from gongzhi.core import clock
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands import services as demands
from gongzhi.demands.models import Demand
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)
from gongzhi.duties import services as duties
from gongzhi.duties.models import PowerItem
from gongzhi.insight import services as insight
from gongzhi.insight.models import Issue
from gongzhi.org.models import Organisation

TEXTS = ("村西片自来水管破裂漏水，路面积水结冰，请尽快维修水管",
         "村西片自来水管破裂漏水，路面积水结冰，请快点维修水管",
         "村西片自来水管破裂漏水，路面积水结冰，请派人维修水管",
         "村西片自来水管破裂漏水，路面积水结冰，请及时维修水管")
AMOUNT = "300000"


class Loop:
    def __init__(self, village: Village):
        self.v = village
        self.reporters = [village.adults[i].user for i in (5, 7, 9)]
        self.company = Organisation.objects.create(name="桃源村供水站", kind="property_company", region=village.village)
        self.company_staff = None
        self.case = None
        self.topic = None
        self.decision = None
        self.project = None

    def complain(self, *, guest_phone: str = "13800138000", category: str | None = None) -> list[Demand]:
        from gongzhi.demands.models import Category

        demands.seed_defaults()  # the taxonomy of migration 0002 (a live-server test on this worker may have flushed it)
        kind = Category.objects.get(code=category) if category else None
        start = clock.now() - dt.timedelta(days=10)
        filed = []
        for i, (user, text) in enumerate(zip(self.reporters + [None], TEXTS)):
            with clock.frozen_at(start + dt.timedelta(days=i, hours=i)):
                if user is None:
                    step = demands.file_demand(None, text=text, longitude=116.105, latitude=39.905, guest=True,
                                               contact_name="王先生", contact_phone=guest_phone, category=kind)
                else:
                    step = demands.file_demand(user, text=text, longitude=116.105, latitude=39.905, category=kind)
                filed.append(step.demand)
        insight.profile_new_demands()
        insight.refresh_heat()
        return filed

    def open_topic(self, title: str = ""):
        issue = Issue.objects.filter(community=self.v.village, merged_into__isnull=True).order_by("-volume").first()
        self.topic = insight.open_topic_from_issue(self.v.officer, issue, title=title)
        self.case = self.topic.case
        return self.case

    def me_too(self, users):
        """Residents who add "me too" (我也遇到了) to the first demand."""
        from gongzhi.demands import nearby

        first = self.case.demands.order_by("id").first()
        for user in users:
            nearby.me_too(first.number, user=user)

    def decide(self, *, with_project: bool = True):
        from gongzhi.duties.tests.test_services import _stage

        v = self.v
        duties.adopt_power_list(v.officer, v.village)
        item = PowerItem.objects.get(region=v.village, code="procurement")
        topic = deliberation.start_procedure(v.officer, self.topic, "four_deliberations_two_disclosures")
        codes = [s.code for s in deliberation.topic_procedure(topic).stages]
        _stage(v, "party_branch_committee", topic, codes[0])
        _stage(v, "two_committees_joint_meeting", topic, codes[1])
        _stage(v, "party_members_meeting", topic, codes[2])
        self.motion = _stage(v, "villagers_representatives_meeting", topic, codes[3], amount=AMOUNT)
        notice = deliberation.publish(v.officer, region=v.village, kind="resolution", title="决议公开",
                                      body="更换村西片供水管道30万元", notice_days=7, topic=topic)
        later = clock.now() + dt.timedelta(days=30)
        with clock.frozen_at(later):
            deliberation.complete_disclosure(notice)
            deliberation.record_stage(v.officer, topic, codes[4], disclosure=notice)
            plan = duties.ProjectPlan(unit=self.company, milestones=(
                duties.Milestone("采购管材", later.date() + dt.timedelta(days=10), "管材符合国标"),
                duties.Milestone("更换管道并恢复路面", later.date() + dt.timedelta(days=30), "不再漏水，路面平整"),
            )) if with_project else None
            self.decision = duties.record_decision(v.officer, item, topic=topic, title="更换村西片供水管道",
                                                   amount=AMOUNT, project=plan)
        self.project = getattr(self.decision, "project", None) if with_project else None
        self.case.refresh_from_db()
        return later

    def staff(self):
        from gongzhi.org.tests import factories as f

        if self.company_staff is None:
            self.company_staff = f.official(self.company, "staff", "waterman")
        return self.company_staff


@pytest.fixture
def loop(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Loop(Village(world))
