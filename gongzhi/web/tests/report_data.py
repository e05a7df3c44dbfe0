"""A month of work for the monthly report's tests (request tests and the browser test): on the factories'
World and DemandWorld, November 2026 has demands handled well by the city-management department and one
left unaccepted by the property company (so it is the worst-ranked unit), a supervision order from the
deadline sweep, a hot spot, a decision under the community's power list and a goal at risk; a second street
with its own director, and a district government official."""

import datetime as dt

from gongzhi.core import clock
from gongzhi.demands import escalation, services
from gongzhi.demands.models import Category
from gongzhi.demands.tests.factories import IN_A1, IN_A2, IN_B1, SHANGHAI
from gongzhi.duties import services as duties
from gongzhi.duties.models import PowerItem
from gongzhi.insight.models import HotSpot, HotSpotRun
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official, region

NOV = {day: dt.datetime(2026, 11, day, 9, 0, tzinfo=SHANGHAI) for day in range(1, 31)}
REPORT_TIME = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # a Monday: the last complete month is November
WORST_UNIT = "东园物业"


class ReportMonth:
    def __init__(self, dw):
        self.dw = dw
        w = self.world = dw.world
        # City management: three dispatched and accepted at once; one closed and rated solved, satisfied.
        self.rated = dw.closed(at=NOV[10])
        with clock.frozen_at(NOV[11]):
            services.rate(dw.resident, self.rated, solved=True, satisfaction="satisfied")
        self.accepted = []
        for day, where in ((12, IN_A2), (13, IN_B1)):
            demand = dw.dispatched(at=NOV[day], where=where, text="路灯不亮，晚上很黑")
            with clock.frozen_at(NOV[day] + dt.timedelta(hours=1)):
                self.accepted.append(services.accept(dw.handler, demand).demand)
        # The property company never accepts what it was sent.
        self.ignored = dw.file(at=NOV[16], where=IN_A1, text="楼道堆物，存在消防隐患")
        with clock.frozen_at(NOV[16] + dt.timedelta(minutes=30)):
            self.ignored = services.dispatch(dw.dispatcher, self.ignored, unit=dw.property_company,
                                             category="environment.garbage").demand
        escalation.sweep_deadlines(NOV[20])
        # A hot spot found by the analysis of the week of 16 November.
        self.run = HotSpotRun.objects.create(at=NOV[23], region=w.street, periods=26,
                                             last_period_start=dt.date(2026, 11, 16), cells=3, categories=1, demands=4)
        environment = Category.objects.get(code="environment")
        self.hot_spot = HotSpot.objects.create(
            run=self.run, grid=w.grid_a1, category=environment, period_start=dt.date(2026, 11, 16),
            since=dt.date(2026, 11, 9), observed=6, expected=1.5, ratio=4.0, z=3.2, q=0.01, is_emerging=True,
            explanation_zh="东园一网格的环境卫生诉求近两周明显增多（6 件，预期 1.5 件）",
            explanation_en="Environment demands in 东园一网格 rose in the last two weeks (6, expected 1.5)")
        # A purchase decided under community A's power list, and two goals: one behind, one on its way.
        with clock.frozen_at(NOV[18]):
            duties.adopt_power_list(w.street_official, w.community_a)
            item = PowerItem.objects.get(region=w.community_a, code="procurement")
            self.decision = duties.record_decision(w.street_official, item, title="购买垃圾分类宣传品", amount="800",
                                                   signatories=["handler", "party_secretary", "committee_director"])
        with clock.frozen_at(dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI)):
            self.behind = duties.create_goal(
                w.street_official, region=w.community_a, title="垃圾分类覆盖率", indicator="覆盖率",
                unit_of_measure="%", start_value=40, target_value=90, direction="higher",
                start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 12, 31), owner=w.committee_a)
            self.fine = duties.create_goal(
                w.street_official, region=w.community_b, title="加装电梯", indicator="部",
                start_value=0, target_value=10, direction="higher",
                start_date=dt.date(2026, 3, 1), deadline=dt.date(2027, 6, 30), owner=w.committee_b)
        with clock.frozen_at(dt.datetime(2026, 7, 1, 9, tzinfo=SHANGHAI)):
            duties.report_progress(w.street_official, goal=self.behind, value=45, note="入户宣传")
        with clock.frozen_at(NOV[25]):
            duties.report_progress(w.street_official, goal=self.fine, value=6, note="六部已完工")
        # Elsewhere: a second street with its director; the district government with its deputy head.
        self.other_street = region("street", w.district, name="光明街道", admin_code="110199002000")
        other_office = Organisation.objects.create(name="光明街道办事处", kind="street_office", region=self.other_street)
        self.other_director = official(other_office, "director", "gm_dir")
        district_government = Organisation.objects.create(name="示范区人民政府", kind="district_government",
                                                          region=w.district)
        self.district_head = official(district_government, "deputy_director", "district_head")


def inflated(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams hold the font dictionaries) inflated."""
    import re
    import zlib

    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)
