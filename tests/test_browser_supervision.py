"""督办 walked in Debian's Chromium at desktop width with a mouse (issue #17 item 5): the street's party
secretary opens the supervision board, issues a supervision order on an overdue demand with a note and a new
deadline (a deadline in the past is refused with its reason first); the unit signs in, sees the 督办 badge
and the order in its queue, and answers what it will do and by when; the secretary sees it answered, and the
demand's timeline shows the order and the answer. Screenshots at 1280 and at 390 px (touch)."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.core import clock
from gongzhi.demands.models import SupervisionOrder
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "supervision"

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NOTE = "已超期多日未签收，请今日签收并安排清运，按期答复。"
ANSWER = "今天下午签收，明天上午派环卫车清运，清运后拍照答复。"


@pytest.fixture
def open_tab(browser, live_server):
    contexts = []

    def open_on(device: dict):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_on
    for context in contexts:
        context.close()


def test_a_street_secretary_supervises_an_overdue_demand_and_the_unit_answers(demand_world, open_tab, shots):
    dw = demand_world
    w = dw.world
    committee = Organisation.objects.create(name="和平街道党工委", kind="party_working_committee", region=w.street)
    secretary = official(committee, "secretary", "street_sec")
    # Dispatched to the city-management department ten days ago and never accepted: overdue.
    demand = dw.dispatched(at=clock.now() - dt.timedelta(days=10))
    assert demand.is_overdue()
    local_now = timezone.localtime(clock.now())

    # --- the secretary's board, at desktop width with the mouse
    desk = open_tab(DESKTOP)
    sign_in(desk, secretary.username)
    desk.goto("/demands/supervision/")
    row = desk.locator(f"#overdue-table tr[data-number='{demand.number}']")
    row.wait_for()
    assert int(row.locator("td.num b").inner_text()) >= 5  # working days late
    assert "区城管委" in row.inner_text()
    shots(desk, "1-board-1280")
    row.get_by_role("link").last.click()
    desk.wait_for_url(f"**/demands/{demand.number}/supervise/**")
    desk.fill("textarea[name=note]", NOTE)
    # A deadline in the past is refused, with its reason, and nothing is issued.
    desk.fill("input[name=respond_by]", (local_now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    desk.locator("form.supervision-form button[type=submit]").click()
    desk.locator(".notice.bad").wait_for()
    assert not SupervisionOrder.objects.filter(demand=demand).exists()
    shots(desk, "2-refused-past-deadline")
    new_deadline = (local_now + dt.timedelta(days=3)).replace(hour=17, minute=0)
    desk.fill("input[name=respond_by]", new_deadline.strftime("%Y-%m-%dT%H:%M"))
    desk.locator("form.supervision-form button[type=submit]").click()
    desk.wait_for_url("**/demands/supervision/**")
    order = SupervisionOrder.objects.get(demand=demand)
    assert order.note == NOTE and order.kind == "officer" and order.unit == dw.city_management
    assert timezone.localtime(order.respond_by).strftime("%Y-%m-%d %H:%M") == new_deadline.strftime("%Y-%m-%d %H:%M")
    ordered = desk.locator(f"#orders-table tr[data-order='{order.pk}']")
    assert "badge supervised" in ordered.inner_html()
    assert desk.locator(f"#overdue-table tr[data-number='{demand.number}']").count() == 0
    shots(desk, "3-issued")

    # --- the unit: the badge in its queue, the order, the answer
    unit = open_tab(DESKTOP)
    sign_in(unit, dw.handler.username)
    unit.goto("/demands/queue/")
    card = unit.locator(f"#demand-{demand.number}")
    card.locator(".badge.supervised").wait_for()
    shots(unit, "4-unit-queue")
    unit.locator(".supervision-notice a").click()
    unit.wait_for_url("**/demands/supervision/inbox/**")
    order_card = unit.locator(f"article[data-order='{order.pk}']")
    assert NOTE in order_card.inner_text()
    order_card.locator("a.button").click()
    unit.wait_for_url(f"**/supervision/orders/{order.pk}/answer/**")
    unit.fill("textarea[name=text]", ANSWER)
    unit.fill("input[name=promised_by]", (local_now + dt.timedelta(days=2)).strftime("%Y-%m-%d"))
    shots(unit, "5-unit-answers")
    unit.locator("form.supervision-form button[type=submit]").click()
    unit.wait_for_url("**/demands/supervision/inbox/**")
    order.refresh_from_db()
    assert order.answer == ANSWER and order.answered_by == dw.handler and order.resolved_at is None

    # --- the secretary sees it answered, and the timeline shows the order and the answer
    desk.goto("/demands/supervision/?status=answered")
    answered = desk.locator(f"#orders-table tr[data-order='{order.pk}']")
    answered.locator(".badge.answered").wait_for()
    assert ANSWER[:20] in answered.inner_text()
    shots(desk, "6-answered")
    desk.goto(f"/demands/{demand.number}/")
    timeline = desk.locator("ol.timeline").last
    assert timeline.locator("li.step-supervise").count() == 1
    assert timeline.locator("li.step-answer_supervision").count() == 1
    assert ANSWER in timeline.locator("li.step-answer_supervision").inner_text()
    assert desk.locator("#demand-detail .page-head .badge.supervised").count() == 1
    shots(desk, "7-demand-page-1280")

    # --- at phone width with touch: the board and the demand page
    phone = open_tab(PHONE)
    sign_in(phone, secretary.username)
    phone.goto("/demands/supervision/?status=answered")
    phone.locator(f"#orders-table tr[data-order='{order.pk}']").wait_for()
    shots(phone, "8-board-390")
    phone.goto(f"/demands/{demand.number}/")
    phone.locator("#supervision").wait_for()
    shots(phone, "9-demand-page-390")
