"""督办 (supervision.py): an officer's supervision order and the unit's answer, closing, 挂牌督办, the sweep's
orders on the same board, who may do each, the board's queries, the pages and the home page's counts."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.core import clock
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.core.workbench import items_for
from gongzhi.demands import escalation, services, supervision
from gongzhi.demands.models import DemandEvent, ListedSupervision, Notification, SupervisionOrder
from gongzhi.demands.tests.factories import THURSDAY_9AM, DemandWorld
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import World, official, region, square

pytestmark = pytest.mark.django_db

# The demand is dispatched Thursday 09:30; the unit had 24 h to accept: the following Tuesday it is late.
TUESDAY_10AM = THURSDAY_9AM + dt.timedelta(days=5, hours=1)
NOTE = "已超期五天未签收，请立即签收并安排清运"


@pytest.fixture
def dw(settings, tmp_path):
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    return DemandWorld(World())


@pytest.fixture
def elsewhere(dw):
    """A second street of the district with its office's director, a community, a grid and a property company."""
    w = dw.world

    class Elsewhere:
        street = region("street", w.district, name="和睦街道")
        community = region("community", street, name="北苑社区")
        grid = region("grid", community, name="北苑一网格", grid_code="N1", polygon=square(116.10, 39.90))
        office = Organisation.objects.create(name="和睦街道办事处", kind="street_office", region=street)
        company = Organisation.objects.create(name="北苑物业", kind="property_company", region=community)
        director = official(office, "director", "hemu_dir")
        company_staff = official(company, "staff", "beiyuan_wy")

    return Elsewhere


def overdue(dw):
    """A demand dispatched to the city-management department Thursday and not accepted since."""
    return dw.dispatched()


def issue(dw, demand, *, by=None, at=TUESDAY_10AM, respond_in=dt.timedelta(days=2), note=NOTE):
    with clock.frozen_at(at):
        return supervision.issue_order(by or dw.world.street_official, demand, note=note, respond_by=at + respond_in)


# --- issuing ---------------------------------------------------------------------------------------------

def test_a_street_officer_supervises_an_overdue_demand_with_a_note_and_a_new_deadline(dw):
    demand = overdue(dw)
    order = issue(dw, demand)
    assert order.kind == SupervisionOrder.Kind.OFFICER
    assert order.unit == dw.city_management  # the unit that must accept
    assert order.supervisor == dw.world.street_office
    assert order.deadline == "accept" and order.due == demand.accept_due
    assert order.respond_by == TUESDAY_10AM + dt.timedelta(days=2)
    assert order.note == NOTE and order.issued_by == dw.world.street_official
    step = DemandEvent.objects.get(demand=demand, action="supervise")
    assert step.note == NOTE and step.to_state == demand.state == "dispatched" and step.unit == dw.city_management
    assert order.event == step.event and step.event.kind == "demands.supervise"
    assert step.event.data["respond_by"] == order.respond_by.isoformat() and "note" not in step.event.data
    assert Notification.objects.filter(recipient_unit=dw.city_management, kind="supervision", demand=demand).exists()


def test_the_new_deadline_must_lie_in_the_future(dw):
    demand = overdue(dw)
    with pytest.raises(ValidationFailed) as refused:
        issue(dw, demand, respond_in=-dt.timedelta(hours=1))
    assert refused.value.code == "respond_by_past"
    with pytest.raises(ValidationFailed) as refused:
        issue(dw, demand, note="   ")
    assert refused.value.code == "note_required"
    assert not SupervisionOrder.objects.exists() and not DemandEvent.objects.filter(action="supervise").exists()


def test_a_street_officer_cannot_supervise_another_streets_demand(dw, elsewhere):
    demand = overdue(dw)
    before = Event.objects.count()
    with pytest.raises(PermissionDenied):
        issue(dw, demand, by=elsewhere.director)
    with pytest.raises(PermissionDenied):
        supervision.list_publicly(elsewhere.director, demand, reason="concern")
    assert Event.objects.count() == before and not SupervisionOrder.objects.exists()


def test_a_community_secretary_and_the_unit_do_not_supervise(dw):
    demand = overdue(dw)
    for someone in (dw.world.secretary_a, dw.handler, dw.grid_worker):
        with pytest.raises(PermissionDenied):
            issue(dw, demand, by=someone)


def test_one_open_officer_order_per_demand_and_none_on_a_settled_demand(dw):
    demand = overdue(dw)
    issue(dw, demand)
    with pytest.raises(Conflict) as refused:
        issue(dw, demand, by=dw.dispatcher)
    assert refused.value.code == "already_supervised"
    done = dw.closed()
    with pytest.raises(Conflict) as refused:
        issue(dw, done)
    assert refused.value.code == "demand_settled"


# --- answering and closing ---------------------------------------------------------------------------------

def test_the_unit_answers_what_it_will_do_and_by_when(dw):
    demand = overdue(dw)
    order = issue(dw, demand)
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=2)):
        answered = supervision.answer_order(dw.handler, order, text="今天下午签收并派车清运",
                                            promised_by=dt.date(2026, 12, 2))
    assert answered.answered_at is not None and answered.answered_by == dw.handler
    assert answered.promised_by == dt.date(2026, 12, 2) and answered.resolved_at is None
    assert list(supervision.board_orders(dw.world.street_official, status="answered")) == [answered]
    assert not supervision.board_orders(dw.world.street_official, status="open").exists()
    step = DemandEvent.objects.get(demand=demand, action="answer_supervision")
    assert step.note == "今天下午签收并派车清运" and step.actor == dw.handler
    with pytest.raises(Conflict):
        supervision.answer_order(dw.handler, order, text="再答一次", promised_by=dt.date(2026, 12, 3))


def test_the_unit_of_another_street_cannot_answer_nor_may_a_day_in_the_past_be_promised(dw, elsewhere):
    order = issue(dw, overdue(dw))
    with pytest.raises(PermissionDenied):
        supervision.answer_order(elsewhere.company_staff, order, text="不是我们的", promised_by=dt.date(2026, 12, 2))
    with pytest.raises(PermissionDenied):
        supervision.answer_order(dw.property_staff, order, text="不是我们的", promised_by=dt.date(2026, 12, 2))
    with clock.frozen_at(TUESDAY_10AM), pytest.raises(ValidationFailed) as refused:
        supervision.answer_order(dw.handler, order, text="已处理", promised_by=dt.date(2026, 11, 1))
    assert refused.value.code == "promised_by_past"
    order.refresh_from_db()
    assert order.answered_at is None


def test_the_supervisor_closes_an_order_and_the_step_being_done_resolves_one(dw, elsewhere):
    demand = overdue(dw)
    order = issue(dw, demand)
    with pytest.raises(PermissionDenied):
        supervision.close_order(elsewhere.director, order)
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(days=1)):
        closed = supervision.close_order(dw.world.street_official, order, note="单位已签收")
    assert closed.resolved_at is not None and closed.closed_by == dw.world.street_official
    assert DemandEvent.objects.filter(demand=demand, action="close_supervision").exists()
    with pytest.raises(Conflict):
        supervision.close_order(dw.world.street_official, order)

    other = dw.dispatched(text="楼道灯坏了一个月")
    second = issue(dw, other)
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=3)):
        services.accept(dw.handler, other)
        escalation.sweep_deadlines()
    second.refresh_from_db()
    assert second.resolved_at is not None and second.closed_by is None
    assert DemandEvent.objects.filter(demand=other, action="resolve_supervision").exists()


# --- the sweep's orders, on the same board -------------------------------------------------------------------

def test_the_sweeps_orders_are_on_the_timeline_the_board_and_answered_by_the_unit(dw):
    demand = overdue(dw)
    escalation.sweep_deadlines(TUESDAY_10AM)
    order = SupervisionOrder.objects.get(demand=demand)
    assert order.kind == SupervisionOrder.Kind.SWEEP and order.unit == dw.city_management
    assert DemandEvent.objects.filter(demand=demand, action="supervise", event=order.event).exists()
    assert list(supervision.board_orders(dw.world.street_official)) == [order]
    assert list(supervision.inbox(dw.handler)) == [order]
    # Covered by an order: no longer among the overdue demands still to supervise.
    assert not supervision.overdue_unsupervised(dw.world.street_official, now=TUESDAY_10AM).exists()
    with clock.frozen_at(TUESDAY_10AM):
        supervision.answer_order(dw.handler, order, text="马上签收", promised_by=dt.date(2026, 12, 1))
    escalation.sweep_deadlines(TUESDAY_10AM + dt.timedelta(minutes=5))  # a second pass adds nothing
    assert DemandEvent.objects.filter(demand=demand, action="supervise").count() == 1


# --- 挂牌督办 ---------------------------------------------------------------------------------------------------

def test_an_officer_lists_a_demand_publicly_with_a_reason_scrubbed_of_personal_data(dw):
    demand = overdue(dw)
    with pytest.raises(ValidationFailed) as refused:
        supervision.list_publicly(dw.world.street_official, demand, reason="other")
    assert refused.value.code == "reason_required"
    with pytest.raises(ValidationFailed):
        supervision.list_publicly(dw.world.street_official, demand, reason="because")
    listing = supervision.list_publicly(dw.world.street_official, demand, reason="other",
                                        note="居民多次来电13900001111反映，久拖未决")
    assert "13900001111" not in listing.note and "久拖未决" in listing.note
    assert listing.listed_by == dw.world.street_official and listing.supervisor == dw.world.street_office
    assert DemandEvent.objects.filter(demand=demand, action="list_supervision").exists()
    assert supervision.badges(demand) == {"supervised": False, "listed": True}
    with pytest.raises(Conflict):
        supervision.list_publicly(dw.dispatcher, demand, reason="concern")


# --- the board's queries ------------------------------------------------------------------------------------

def test_the_board_lists_the_oldest_first_in_scope_and_filters_by_status_unit_and_community(dw, elsewhere):
    late_b = dw.dispatched(where=(116.025, 39.905), text="西园路灯不亮")  # community B
    late_a = dw.dispatched(at=THURSDAY_9AM - dt.timedelta(days=7), text="东园垃圾")  # a week older
    with clock.frozen_at(THURSDAY_9AM):
        far = services.file_demand(dw.resident, text="北苑路面塌陷", grid=elsewhere.grid).demand
    official = dw.world.street_official
    overdue_now = list(supervision.overdue_unsupervised(official, now=TUESDAY_10AM))
    assert overdue_now == [late_a, late_b]  # the oldest missed deadline first; the other street's is not here
    assert far not in supervision.overdue_unsupervised(official, now=TUESDAY_10AM + dt.timedelta(days=30))
    assert far in supervision.overdue_unsupervised(elsewhere.director, now=TUESDAY_10AM + dt.timedelta(days=30))
    second, first = issue(dw, late_b), issue(dw, late_a)
    assert list(supervision.board_orders(official)) == [first, second]
    assert list(supervision.board_orders(official, community=dw.world.community_b.pk)) == [second]
    assert list(supervision.board_orders(official, unit=dw.property_company.pk)) == []
    assert list(supervision.board_orders(elsewhere.director)) == []
    with clock.frozen_at(TUESDAY_10AM):
        supervision.answer_order(dw.handler, first, text="本周内处理", promised_by=dt.date(2026, 12, 4))
    assert list(supervision.board_orders(official, status="open")) == [second]
    # Not answered within its two days: late.
    assert list(supervision.board_orders(official, late=True, now=TUESDAY_10AM + dt.timedelta(days=3))) == [second]


def test_days_late_count_working_days_of_the_office_calendar():
    thursday = THURSDAY_9AM
    # Friday, Monday and Tuesday are working days; the weekend is not.
    assert supervision.working_days_late(thursday, thursday + dt.timedelta(days=5)) == 3
    assert supervision.calendar_days_late(thursday, thursday + dt.timedelta(days=5)) == 5
    assert supervision.working_days_late(thursday, thursday + dt.timedelta(hours=3)) == 0
    assert supervision.working_days_late(None) is None


# --- pages ---------------------------------------------------------------------------------------------------

def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_board_shows_overdue_demands_and_orders_and_refuses_bad_filters(dw, elsewhere):
    demand = overdue(dw)
    official = signed_in(dw.world.street_official)
    with clock.frozen_at(TUESDAY_10AM):
        page = official.get("/demands/supervision/")
        assert page.status_code == 200
        assert demand.number in page.content.decode() and "overdue-table" in page.content.decode()
        # A unit of another street, and one that does not exist, are the same bad filter: 400.
        assert official.get(f"/demands/supervision/?unit={elsewhere.company.pk}").status_code == 400
        assert official.get("/demands/supervision/?unit=999999").status_code == 400
        assert official.get("/demands/supervision/?community=abc").status_code == 400
        assert signed_in(dw.resident).get("/demands/supervision/").status_code == 403


def test_issuing_from_the_page_refuses_a_past_deadline_with_its_reason_and_hides_other_streets(dw, elsewhere):
    demand = overdue(dw)
    url = f"/demands/{demand.number}/supervise/"
    with clock.frozen_at(TUESDAY_10AM):
        official = signed_in(dw.world.street_official)
        assert official.get(url).status_code == 200
        refused = official.post(url, {"note": NOTE, "respond_by": "2026-11-30T09:00"})
        with translation.override("zh-hans"):  # the page's language
            reason = translation.gettext("The new deadline must be in the future.")
        assert refused.status_code == 400 and reason in refused.content.decode()
        assert official.post(url, {"note": NOTE, "respond_by": "not a date"}).status_code == 400
        done = official.post(url, {"note": NOTE, "respond_by": "2026-12-03T17:00", "next": "/demands/supervision/"})
        assert done.status_code == 302 and done["Location"] == "/demands/supervision/"
        # Another street's officer: the demand does not exist for them.
        assert signed_in(elsewhere.director).post(url, {"note": NOTE, "respond_by": "2026-12-03T17:00"}).status_code == 404
        assert signed_in(dw.world.secretary_a).get(url).status_code == 403  # sees it, may not supervise it
    order = SupervisionOrder.objects.get(demand=demand)
    answer = f"/demands/supervision/orders/{order.pk}/answer/"
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=1)):
        assert signed_in(elsewhere.company_staff).post(answer, {"text": "x", "promised_by": "2026-12-02"}).status_code == 404
        assert signed_in(elsewhere.company_staff).post("/demands/supervision/orders/999999/answer/", {}).status_code == 404
        unit = signed_in(dw.handler)
        queue = unit.get("/demands/queue/").content.decode()
        assert 'class="badge supervised"' in queue and "/demands/supervision/inbox/" in queue
        assert demand.number in unit.get("/demands/supervision/inbox/").content.decode()
        assert unit.post(answer, {"text": "", "promised_by": "2026-12-02"}).status_code == 400
        assert unit.post(answer, {"text": "今天签收", "promised_by": "2026-12-02"}).status_code == 302
    detail = official.get(f"/demands/{demand.number}/").content.decode()
    assert "今天签收" in detail and 'class="badge supervised"' in detail


def test_a_listed_demand_shows_its_badge_on_the_public_list_without_personal_data(dw):
    demand = overdue(dw)
    supervision.list_publicly(dw.world.street_official, demand, reason="concern")
    page = Client().get("/demands/public/").content.decode()
    card = page[page.index(f'data-number="{demand.number}"'):]
    card = card[:card.index("</li>")]
    assert 'class="badge listed"' in card
    assert "张三" not in card and "13900001111" not in card
    other = dw.dispatched(text="楼道灯不亮")
    only_listed = Client().get("/demands/public/?listed=1").content.decode()
    assert f'data-number="{demand.number}"' in only_listed and f'data-number="{other.number}"' not in only_listed
    grids = Client().get("/demands/public/map.json?listed=1").json()["grids"]
    assert [g["total"] for g in grids] == [1]  # the map shows the listed one only


def test_the_home_page_counts_orders_to_answer_and_to_follow(dw):
    demand = overdue(dw)
    issue(dw, demand, respond_in=dt.timedelta(hours=4))
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=5)):
        unit_items = {i.key: i for i in items_for(dw.handler)}
        official_items = {i.key: i for i in items_for(dw.world.street_official)}
    assert unit_items["supervision.to_answer"].count == 1 and unit_items["supervision.to_answer"].urgent
    assert unit_items["supervision.to_answer"].url == "/demands/supervision/inbox/?status=open"
    late = official_items["supervision.late"]
    assert late.count == 1 and late.urgent and late.url == "/demands/supervision/?status=open&late=1"
    assert "supervision.late" not in {i.key for i in items_for(dw.resident)}
    assert ListedSupervision.objects.count() == 0


# --- the JSON API ------------------------------------------------------------------------------------------

def api(user):
    from gongzhi.core.models import ApiToken

    _token, raw = ApiToken.issue(user, "test")
    client = Client()

    def call(method, url, body=None):
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        return getattr(client, method)(url, headers={"Authorization": f"Bearer {raw}"}, **kwargs)

    return call


def test_the_api_checks_the_demand_named_in_the_body_and_the_order_in_the_path(dw, elsewhere):
    demand = overdue(dw)
    later = (clock.now() + dt.timedelta(days=3)).isoformat()
    url = "/api/v1/demands/supervision/orders"
    outsider = api(elsewhere.director)
    # Another street's demand, and a number that names nothing: the same 404, nothing stored.
    assert outsider("post", url, {"number": demand.number, "note": NOTE, "respond_by": later}).status_code == 404
    assert outsider("post", url, {"number": "2099123199999", "note": NOTE, "respond_by": later}).status_code == 404
    official = api(dw.world.street_official)
    past = official("post", url, {"number": demand.number, "note": NOTE, "respond_by": "2026-01-01T09:00:00+08:00"})
    assert past.status_code == 400 and past.json()["code"] == "respond_by_past"
    issued = official("post", url, {"number": demand.number, "note": NOTE, "respond_by": later})
    assert issued.status_code == 201 and issued.json()["kind"] == "officer"
    order_id = issued.json()["id"]
    assert official("post", url, {"number": demand.number, "note": NOTE, "respond_by": later}).status_code == 409
    assert [o["id"] for o in official("get", url).json()["items"]] == [order_id]
    assert [o["id"] for o in api(dw.handler)("get", url + "?to_answer=true").json()["items"]] == [order_id]
    answer = f"{url}/{order_id}/answer"
    promised = (clock.today() + dt.timedelta(days=2)).isoformat()
    assert api(elsewhere.company_staff)("post", answer, {"text": "x", "promised_by": promised}).status_code == 404
    assert api(dw.property_staff)("post", answer, {"text": "x", "promised_by": promised}).status_code == 404
    answered = api(dw.handler)("post", answer, {"text": "今天签收", "promised_by": promised})
    assert answered.status_code == 200 and answered.json()["answer"] == "今天签收"
    closed = official("post", f"{url}/{order_id}/close", {"note": ""})
    assert closed.status_code == 200 and closed.json()["closed_by_supervisor"] is True
    listed = official("post", "/api/v1/demands/supervision/listings", {"number": demand.number, "reason": "concern"})
    assert listed.status_code == 201 and listed.json()["reason"] == "concern"
