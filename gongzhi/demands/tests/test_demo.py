"""Demo demands: the in-memory flow writes what the services write, and a small demo year has every
outcome, a consistent journal, its ledger queue, something for each demo login to do, and goes away
with `gongzhi demo --reset`.

The small demo (600 demands) is built once for the module inside an outer transaction that is rolled
back at the end; each test runs in a savepoint inside it.
"""

import datetime as dt
import hashlib
import io
import re
import string
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from gongzhi.core import clock
from gongzhi.core.errors import ImportRejected
from gongzhi.core.models import Event
from gongzhi.demands import demo, demo_texts, imports, queries, rules, services
from gongzhi.demands.models import Assignment, Category, Demand, DemandContact, DemandEvent, RoutingRule
from gongzhi.ledger import services as ledger
from gongzhi.ledger.models import Entry, Pending
from gongzhi.org import demo as org_demo

from .factories import IN_A1, THURSDAY_9AM

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
END = dt.datetime(2026, 11, 26, 10, 30, tzinfo=SHANGHAI)
SMALL = 600
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- the flow mirrors the services -----------------------------------------------------------------------------

def _value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc)
    return value


def demand_row(demand: Demand) -> dict:
    return {f.attname: _value(getattr(demand, f.attname)) for f in Demand._meta.concrete_fields
            if f.attname not in ("id",)}


def journal(demand: Demand) -> list[tuple]:
    return [(e.action, e.from_state, e.to_state, e.note, e.unit_id, e.actor_id, _value(e.at), e.event.kind,
             e.event.data, e.event.private)
            for e in DemandEvent.objects.filter(demand=demand).select_related("event").order_by("id")]


def flow_journal(flow: "demo._Flow") -> list[tuple]:
    return [(s.action, s.from_state, s.to_state, s.note, s.unit.pk if s.unit else None,
             s.actor.pk if s.actor else None, _value(s.at), f"demands.{s.action}", s.data, s.private)
            for s in flow.steps]


def assignments(demand: Demand) -> list[tuple]:
    return [(a.unit_id, a.role, _value(a.assigned_at), _value(a.ended_at))
            for a in Assignment.objects.filter(demand=demand).order_by("id")]


def flow_assignments(flow) -> list[tuple]:
    return [(a.unit.pk, a.role, _value(a.assigned_at), _value(a.ended_at)) for a in flow.assignments]


class Twin:
    """Plays the same steps through the services (in the database) and through demo._Flow (in memory)."""

    def __init__(self, dw, *, text="小区门口垃圾堆了三天没人清运", category=None, at=THURSDAY_9AM):
        self.dw, self.at = dw, at.astimezone(dt.timezone.utc)
        with clock.frozen_at(self.at):
            self.demand = services.file_demand(dw.resident, text=text, longitude=IN_A1[0], latitude=IN_A1[1],
                                               address=" 东园路1号 ", category=category, contact_name="张三",
                                               contact_phone="13900001111").demand
        self.flow = demo._Flow(demo.Lookups())
        self.flow.file(self.at, dw.resident, number=self.demand.number, text=text, channel="web",
                       longitude=IN_A1[0], latitude=IN_A1[1], grid=dw.world.grid_a1, address=" 东园路1号 ",
                       category=services._category(category), contact_name="张三", contact_phone="13900001111",
                       reporter=dw.world.resident_a)

    def step(self, hours: float, name: str, user, service_kwargs=None, flow_kwargs=None):
        self.at += dt.timedelta(hours=hours)
        service = {"return": services.return_to_dispatch, "merge": services.merge_into}.get(name) or getattr(
            services, name)
        flow_method = {"return": self.flow.return_to_dispatch, "merge": self.flow.merge_into}.get(name) or getattr(
            self.flow, name)
        args = service_kwargs.pop("_args", ()) if service_kwargs else ()
        with clock.frozen_at(self.at):
            self.demand = service(user, self.demand, *args, **(service_kwargs or {})).demand
        flow_args = (flow_kwargs or {}).pop("_args", ())
        flow_method(self.at, user, *flow_args, **(flow_kwargs or service_kwargs or {}))

    def assert_same(self):
        stored = Demand.objects.get(pk=self.demand.pk)
        assert demand_row(self.flow.demand) == demand_row(stored)
        assert flow_journal(self.flow) == journal(stored)
        assert flow_assignments(self.flow) == assignments(stored)
        contact = DemandContact.objects.filter(demand=stored).values("name", "phone").first()
        assert self.flow.contact == contact


def test_flow_writes_what_the_services_write_along_the_whole_loop(dw):
    """Routed at filing by a rule, accepted, worked on, replied, verified, closed, rated "not solved"
    (reopened at once), handled again and rated solved."""
    RoutingRule.objects.create(category=Category.objects.get(code="environment.garbage"), region=dw.world.street,
                               unit=dw.city_management)
    twin = Twin(dw, category="environment.garbage")
    twin.step(1, "accept", dw.handler)
    twin.step(2, "start_work", dw.handler)
    twin.step(20, "reply", dw.handler, {"text": "已清运"})
    twin.step(3, "verify", dw.grid_worker, {"note": "现场已清理"})
    twin.step(1, "close", dw.dispatcher)
    twin.step(30, "rate", dw.resident, {"solved": False, "satisfaction": "not_satisfied", "note": "又堆上了"})
    twin.step(1, "accept", dw.handler)
    twin.step(50, "reply", dw.handler, {"text": "已加派清运车辆，每日清运两次"})
    twin.step(2, "verify", dw.dispatcher)
    twin.step(2, "close", dw.dispatcher)
    twin.step(5, "rate", dw.resident, {"solved": True, "satisfaction": "basically_satisfied"})
    twin.assert_same()
    assert twin.demand.state == rules.RATED and twin.demand.reopen_count == 1


def test_flow_writes_what_the_services_write_for_triage_return_and_co_handling(dw):
    """Filed without a category on a Saturday (working-day limits), dispatched by hand with a category and
    an assisting unit, returned, re-dispatched, accepted late, replied late, reopened by the desk."""
    saturday = dt.datetime(2026, 11, 28, 22, 0, tzinfo=SHANGHAI)
    twin = Twin(dw, text="楼道灯坏了一个多星期", at=saturday)
    code = "housing.property_service"
    twin.step(40, "dispatch", dw.dispatcher,
              {"unit": dw.property_company, "assisting": [dw.world.committee_a], "category": code},
              {"unit": dw.property_company, "assisting": [dw.world.committee_a],
               "category": Category.objects.get(code=code)})
    twin.step(1, "return", dw.property_staff, {"reason": "不属于本单位职责"})
    twin.step(1, "dispatch", dw.dispatcher, {"unit": dw.city_management, "note": "改派"})
    twin.step(30, "accept", dw.handler)
    twin.step(400, "reply", dw.handler, {"text": "已修复"})
    twin.step(3, "reopen", dw.dispatcher, {"reason": "现场未修好"})
    twin.assert_same()
    assert twin.demand.state == rules.DISPATCHED
    assert DemandEvent.objects.get(demand=twin.demand, action="reply").event.data["on_time"] is False


def test_flow_writes_what_the_services_write_for_triage_then_routing(dw):
    RoutingRule.objects.create(category=Category.objects.get(code="utilities.water"), region=None,
                               unit=dw.city_management)
    twin = Twin(dw, text="家里的自来水发黄")
    twin.step(0.5, "triage", dw.dispatcher, {"category": "utilities.water"},
              {"category": Category.objects.get(code="utilities.water")})
    twin.assert_same()
    assert twin.demand.state == rules.DISPATCHED and twin.demand.urgency == rules.UTILITIES


@pytest.mark.parametrize("ending", ["merge", "reject"])
def test_flow_writes_what_the_services_write_for_duplicates_and_rejections(dw, ending):
    original = dw.file(text="同一处垃圾")
    twin = Twin(dw, text="门口垃圾没人清运")
    if ending == "merge":
        twin.step(1, "merge", dw.dispatcher, {"_args": (original,), "note": "重复"}, {"_args": (original,), "note": "重复"})
    else:
        twin.step(1, "reject", dw.dispatcher, {"reason": "非政务诉求"})
    twin.assert_same()


# --- a small demo year ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(django_db_setup, django_db_blocker):
    """The demo district (without its registered extensions) and SMALL demands over the year ending at END."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        saved = list(org_demo.EXTENSIONS)
        org_demo.EXTENSIONS.clear()
        try:
            org_demo.build_demo()
            yield demo.build_demo_demands(count=SMALL, end=END)
        finally:
            org_demo.EXTENSIONS[:] = saved
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fingerprint() -> str:
    """What the seed decides (not numbers or ids)."""
    rows = sorted(
        f"{d.received_at.isoformat()}|{d.channel}|{d.text}|{d.grid.grid_code}|{d.category_id and d.category.code}|"
        f"{d.state}|{d.satisfaction}|{d.reopen_count}|{d.lead_unit and d.lead_unit.name}"
        for d in Demand.objects.select_related("grid", "category", "lead_unit"))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_a_year_of_demands_has_every_outcome(small):
    demands = Demand.objects.all()
    assert demands.count() == small.demands > SMALL  # plus the showcases of the demo logins
    states = Counter(demands.values_list("state", flat=True))
    for state in (rules.RATED, rules.CLOSED, rules.MERGED, rules.REJECTED, rules.RECEIVED, rules.DISPATCHED,
                  rules.REPLIED):
        assert states[state] > 0, state
    assert states[rules.RATED] > 0.7 * small.demands
    # Proactive demands (未诉先办) are opened from insight's warnings, not by residents.
    assert set(demands.values_list("channel", flat=True)) == set(Demand.Channel.values) - {"proactive"}
    assert set(demands.exclude(satisfaction="").values_list("satisfaction", flat=True)) == set(
        Demand.Satisfaction.values)
    actions = Counter(DemandEvent.objects.values_list("action", flat=True))
    assert set(actions) == set(rules.ACTIONS) | {"file"}
    rates = DemandEvent.objects.filter(action="rate")
    assert rates.filter(event__data__solved=False).exists() and rates.filter(event__data__solved=True).exists()
    assert demands.filter(reopen_count__gt=0).exists()
    assert Assignment.objects.filter(role=Assignment.Role.ASSISTING).exists()
    late = [d for d in demands.filter(accepted_at__isnull=False) if d.accepted_at > d.accept_due]
    assert 0 < len(late) < 0.3 * small.demands
    assert small.overdue == sum(d.is_overdue(END) for d in demands) > 0
    months = {timezone_month(d.received_at) for d in demands}
    assert len(months) >= 12
    assert len(set(demands.values_list("category__parent", flat=True))) >= 10
    assert demands.values("street").distinct().count() == 4


def timezone_month(moment):
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def test_each_demand_journal_is_a_chain_of_legal_steps_ending_in_its_state(small):
    chains: dict[int, list[DemandEvent]] = {}
    for event in DemandEvent.objects.order_by("demand_id", "at", "id"):
        chains.setdefault(event.demand_id, []).append(event)
    demands = Demand.objects.in_bulk()
    assert set(chains) == set(demands)
    for demand_id, chain in chains.items():
        assert chain[0].action == "file" and chain[0].from_state == ""
        for before, after in zip(chain, chain[1:]):
            assert after.from_state == before.to_state
            if after.action != "reopen" or after.actor_id is not None or before.action != "rate":
                assert rules.next_state(after.from_state, after.action) == after.to_state
        assert chain[-1].to_state == demands[demand_id].state
        assert all(e.at <= END for e in chain)


def test_every_step_has_its_core_event_queued_for_the_ledger(small, ledger_keys):
    steps = DemandEvent.objects.select_related("event")
    assert steps.count() == small.events
    for step in steps.order_by("?")[:200]:
        assert step.event.kind == f"demands.{step.action}"
        assert step.event.subject_id == str(step.demand_id) and step.event.at == step.at
        assert step.event.data["number"] == step.demand.number and step.event.data["to"] == step.to_state
    # Core events run in time order, so the ledger tells the year in order.
    times = list(Event.objects.filter(kind__startswith="demands.").exclude(kind="demands.demo_loaded")
                 .order_by("id").values_list("at", flat=True))
    assert times == sorted(times)
    assert Pending.objects.filter(event__kind__startswith="demands.").count() == small.events + 1
    ledger.sequence_pending()
    assert Entry.objects.filter(event__kind__startswith="demands.").count() == small.events + 1
    step = steps.filter(action="reply").first()
    assert services.receipt(step.event)["entry"]  # the receipt a resident would get


def test_numbers_follow_the_day_counters(small):
    for demand in Demand.objects.order_by("?")[:100]:
        assert demand.number.startswith(demand.received_at.astimezone(SHANGHAI).strftime("%Y%m%d"))
    per_day = Counter(n[:8] for n in Demand.objects.values_list("number", flat=True))
    from gongzhi.demands.models import DemandCounter
    assert {c.day.strftime("%Y%m%d"): c.last for c in DemandCounter.objects.all()} == dict(per_day)


def test_each_demo_login_finds_something_to_do(small):
    users = {u.username: u for u in get_user_model().objects.all()}
    queue = lambda name: Counter(d.state for d in queries.queue(users[name]))  # noqa: E731
    assert queue("resident")[rules.CLOSED] >= 1  # to rate
    assert queue("grid_worker")[rules.REPLIED] >= 1  # to verify
    assert queue("property_staff")[rules.DISPATCHED] >= 1  # to accept
    assert queue("community_secretary")[rules.RECEIVED] >= 1  # to triage
    resident_demands = Demand.objects.filter(reporter_user=users["resident"])
    assert resident_demands.count() >= 8 and resident_demands.filter(state=rules.RATED).exists()
    assert DemandEvent.objects.filter(actor=users["property_staff"], action="reply").exists()
    assert DemandEvent.objects.filter(actor=users["grid_worker"], action="verify").exists()


def test_rates_and_rankings_have_something_to_show(small):
    last_month = (END - dt.timedelta(days=30)).date()
    streets = queries.rates("street", last_month.replace(day=1), END.date())
    assert len(streets) == 4
    assert all(r.dispatched > 0 and r.response_rate is not None and r.satisfaction_rate is not None for r in streets)
    year = queries.rates("unit", (END - dt.timedelta(days=365)).date(), END.date())
    assert len(year) > 15
    assert len({round(r.score, 1) for r in year if r.score is not None}) > 5  # a ranking, not a tie


def test_texts_are_chinese_and_never_leak_contacts(small):
    for demand in Demand.objects.order_by("?")[:100]:
        assert re.search(r"[\u4e00-\u9fff]{4}", demand.text) and "{" not in demand.text
        contact = DemandContact.objects.filter(demand=demand).first()
        if contact and contact.phone:
            assert contact.phone not in demand.text
            event = DemandEvent.objects.get(demand=demand, action="file").event
            assert contact.phone not in str(event.data) and event.private["contact_phone"] == contact.phone


def test_the_same_seed_and_day_give_the_same_year(small):
    before = fingerprint()
    deleted = demo.reset_demo_demands()
    assert deleted["demands"] == small.demands and not Demand.objects.exists()
    assert not RoutingRule.objects.exists()
    again = demo.build_demo_demands(count=SMALL, end=END)
    assert again.demands == small.demands
    assert fingerprint() == before


def test_on_new_years_day_2027_without_its_holiday_notice_the_demo_and_the_sweep_run(small):
    """Issue #15: the year turns with no notice for 2027 (the library's release ends at 2026)."""
    from gongzhi.core import workdays
    from gongzhi.demands import deadlines, escalation

    new_year = dt.datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
    assert not workdays.is_known_year(2027)
    demo.reset_demo_demands()
    with clock.frozen_at(new_year):
        built = demo.build_demo_demands(count=SMALL)  # the year ending now
        report = escalation.sweep_deadlines()
    assert built.demands >= SMALL and built.last_day == new_year.date()
    running_into_2027 = [d for d in Demand.objects.filter(state__in=rules.HANDLING_STATES | rules.AT_DESK_STATES,
                                                          feedback_due__gte=new_year)]
    assert running_into_2027, "some open demands run into 2027"
    provisional = [d for d in running_into_2027 if deadlines.provisional(d, "feedback_due")]
    assert provisional and all(deadlines.provisional(d, "feedback_due") == [2027] for d in provisional)
    assert report.supervision_orders + report.reminders > 0  # it swept


def test_reset_deletes_demands_before_the_district(small):
    org_demo.register_extension("demands", demo.build_demo_demands, demo.reset_demo_demands)
    number = Demand.objects.filter(state=rules.RATED).first().number
    deleted = org_demo.reset_demo()
    assert deleted["demands"] == small.demands and deleted["regions"] > 0
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()
    assert Event.objects.filter(kind="demands.rate", data__number=number).exists()  # the journal stays


def test_the_demo_command_prints_the_demands_summary(small, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_COUNT", 50)
    org_demo.register_extension("demands", demo.build_demo_demands, demo.reset_demo_demands)
    out = io.StringIO()
    call_command("demo", "--reset", stdout=out)
    assert re.search(r"demands: \d+ demands from \d{4}-\d\d-\d\d to", out.getvalue())
    assert Demand.objects.count() > 50


def test_the_example_hotline_files_import_into_the_demo_district(small):
    examples = Path(__file__).resolve().parents[3] / "docs" / "examples"
    admin = get_user_model().objects.get(username="admin")
    with clock.frozen_at(END):
        first = imports.import_hotline((examples / "hotline.csv").read_bytes(), actor=admin)
        second = imports.import_hotline((examples / "hotline-12345.csv").read_bytes(), actor=admin,
                                        mapping=(examples / "hotline-12345-mapping.json").read_bytes())
        with pytest.raises(ImportRejected):
            imports.import_hotline((examples / "hotline.csv").read_bytes(), actor=admin)
    assert (first.created, second.created) == (5, 3)
    demands = Demand.objects.filter(number__in=first.numbers + second.numbers)
    assert {d.channel for d in demands} == {"hotline"}
    assert demands.filter(state=rules.RECEIVED, category__isnull=True).count() == 1  # waits for triage
    assert demands.filter(urgency=rules.EMERGENCY).count() >= 2  # 煤气味 (given 紧急) and 大坑


# --- the phrasebook --------------------------------------------------------------------------------------------

SLOTS = {"addr": "东华路3号院2号楼", "compound": "东华路3号院", "road": "东华路", "community": "东华园社区",
         "unit": "2单元", "floor": "5层", "dur": "好几天了", "when": "每天傍晚", "shop": "一家早点铺", "n": "3"}
# The templates that describe a danger, by a phrase of each: only these may be proposed as emergencies.
DANGERS = ("困人", "井盖缺失", "树倒", "煤气味", "中毒", "摔倒", "打架", "大坑", "起火", "熄火", "灭火器", "往里灌",
           "广告牌", "裂缝")


def test_every_category_has_templates_whose_slots_are_all_known():
    codes = set(Category.objects.filter(parent__isnull=False).values_list("code", flat=True)) | {"other"}
    assert set(demo_texts.TEMPLATES) == codes == set(demo.CATEGORY_WEIGHTS)
    known = set(SLOTS)
    for templates in demo_texts.TEMPLATES.values():
        for template in templates:
            used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert used <= known, template


def test_only_dangers_are_proposed_as_emergencies():
    lookups = demo.Lookups()
    for code, templates in demo_texts.TEMPLATES.items():
        category = Category.objects.get(code=code)
        for template in templates:
            text = template.format(**SLOTS)
            urgency = lookups.proposed_urgency(text, category)
            if urgency == rules.EMERGENCY and category.default_urgency != rules.EMERGENCY:
                assert any(word in text for word in DANGERS), text


def test_every_dispatch_a_demo_desk_makes_by_hand_is_one_it_may_make(small):
    """The scope check on the units a dispatch names (issue #13) lets through every real dispatch of the demo:
    to the departments and companies serving the district, the street office, the committee, the property
    company the routing rules name, and the unit that returned it as a co-handler."""
    from gongzhi.core import policy
    from gongzhi.demands.permissions import DispatchTarget
    from gongzhi.org.models import Organisation

    by_hand = (DemandEvent.objects.filter(action="dispatch", actor__isnull=False)
               .select_related("demand__grid", "unit", "actor", "event"))
    checked = 0
    for step in by_hand:
        units = [step.unit, *Organisation.objects.filter(pk__in=step.event.data.get("assisting") or [])]
        for unit in units:
            assert policy.can(step.actor, "demands.dispatch_to", DispatchTarget(step.demand, unit)), (
                step.demand.number, unit.name, step.actor.username)
            checked += 1
    assert checked >= 5  # the demo logins of community and village desks dispatch some by hand
