"""督办 as officials meet it on the pages (the review of the demo): the demand's page shows the order's new deadline,
an officer's order absorbs the sweep's open orders so the unit answers once, a deadline missed by hours reads in
hours, and the Chinese labels use full-width colons (the English msgids keep ASCII)."""

import datetime as dt

import pytest
from django.test import Client

from gongzhi.core import clock
from gongzhi.core.models import Event
from gongzhi.demands import escalation, supervision
from gongzhi.demands.models import DemandEvent, Notification, SupervisionOrder
from gongzhi.demands.tests.factories import THURSDAY_9AM, DemandWorld
from gongzhi.org.tests.factories import World

pytestmark = pytest.mark.django_db

TUESDAY_10AM = THURSDAY_9AM + dt.timedelta(days=5, hours=1)
NOTE = "已超期五天未签收，请立即签收并安排清运"


@pytest.fixture
def dw(settings, tmp_path):
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    return DemandWorld(World())


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue(dw, demand, *, at=TUESDAY_10AM, respond_in=dt.timedelta(days=2)):
    with clock.frozen_at(at):
        return supervision.issue_order(dw.world.street_official, demand, note=NOTE, respond_by=at + respond_in)


def test_the_demands_page_shows_the_new_deadline_the_order_gave(dw):
    demand = dw.dispatched()
    order = issue(dw, demand, respond_in=dt.timedelta(days=3))
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=1)):
        page = signed_in(dw.world.street_official).get(f"/demands/{demand.number}/").content.decode()
    section = page[page.index('<ul class="deadlines">'):]
    section = section[:section.index("</ul>")]
    assert "督办限期" in section
    assert order.respond_by.isoformat()[:10] in section or "2026-" in section
    # The original deadline is still shown as missed, the new one is not (yet) overdue.
    items = section.split("<li")[1:]
    new = [i for i in items if "督办限期" in i][0]
    assert 'class="late"' not in new and "overdue" not in new
    # Once the order is closed the page no longer names a supervision deadline.
    with clock.frozen_at(TUESDAY_10AM + dt.timedelta(hours=2)):
        supervision.close_order(dw.world.street_official, order)
        page = signed_in(dw.world.street_official).get(f"/demands/{demand.number}/").content.decode()
    assert "督办限期" not in page


def test_an_officers_order_absorbs_the_sweeps_open_order_so_the_unit_answers_once(dw):
    demand = dw.dispatched()
    escalation.sweep_deadlines(TUESDAY_10AM - dt.timedelta(hours=1))
    sweep = SupervisionOrder.objects.get(demand=demand, kind="sweep")
    assert list(supervision.inbox(dw.handler)) == [sweep]
    order = issue(dw, demand)
    sweep.refresh_from_db()
    assert sweep.resolved_at == TUESDAY_10AM and sweep.closed_by == dw.world.street_official
    assert sweep.close_note == f"并入督办单 #{order.pk}"
    assert list(supervision.inbox(dw.handler)) == [order]  # one order to answer
    step = DemandEvent.objects.get(demand=demand, action="close_supervision")
    assert step.event.data["order"] == sweep.pk and step.event.data["merged_into"] == order.pk
    assert step.note == sweep.close_note
    page = signed_in(dw.handler).get(f"/demands/{demand.number}/").content.decode()
    assert f"并入督办单 #{order.pk}" in page


def test_the_sweep_does_not_send_a_second_order_while_an_officers_order_is_open(dw):
    demand = dw.dispatched()
    order = issue(dw, demand, respond_in=dt.timedelta(days=30))  # about the accept deadline
    assert order.deadline == "accept" and demand.feedback_due > TUESDAY_10AM
    notified = Notification.objects.filter(recipient_unit=dw.city_management, kind="supervision").count()
    escalation.sweep_deadlines(demand.feedback_due + dt.timedelta(minutes=5))  # still not accepted
    sweep = SupervisionOrder.objects.get(demand=demand, kind="sweep")  # the missed deadline is on record …
    assert sweep.deadline == "feedback"
    assert sweep.resolved_at is not None and sweep.close_note == f"并入督办单 #{order.pk}"
    assert list(supervision.inbox(dw.handler)) == [order]  # … but the unit still has one order to answer
    assert Notification.objects.filter(recipient_unit=dw.city_management, kind="supervision").count() == notified
    assert Event.objects.get(pk=sweep.event_id).data["merged_into"] == order.pk
    escalation.sweep_deadlines(demand.feedback_due + dt.timedelta(minutes=10))  # idempotent
    assert SupervisionOrder.objects.filter(demand=demand).count() == 2


def test_a_deadline_missed_by_hours_reads_in_hours_not_zero_days(dw):
    demand = dw.file()  # waits at the desk: its dispatch deadline is hours away
    due = demand.dispatch_due
    assert supervision.hours_late(due, due + dt.timedelta(hours=3, minutes=5)) == 3
    assert supervision.hours_late(due, due + dt.timedelta(minutes=5)) == 1
    assert supervision.hours_late(due, due + dt.timedelta(days=2)) is None
    assert supervision.hours_late(due, due - dt.timedelta(hours=1)) is None
    with clock.frozen_at(due + dt.timedelta(hours=3, minutes=5)):
        page = signed_in(dw.world.street_official).get("/demands/supervision/").content.decode()
    row = page[page.index(f'data-number="{demand.number}"'):]
    row = row[:row.index("</tr>")]
    assert "3 小时" in row and "0 天" not in row  # zh-hans, the installation's language


def test_the_sweep_orders_a_desk_deadline_only_once_it_passed_and_to_the_desk(dw):
    """By the rules (escalation.py): the dispatch deadline (hours) runs at the desk, the street office; the
    order is issued once it passed (not before), the desk answers and the street's superior follows."""
    demand = dw.file()
    escalation.sweep_deadlines(demand.dispatch_due - dt.timedelta(minutes=1))
    assert not SupervisionOrder.objects.filter(demand=demand).exists()
    escalation.sweep_deadlines(demand.dispatch_due + dt.timedelta(minutes=1))
    order = SupervisionOrder.objects.get(demand=demand)
    assert order.deadline == "dispatch" and order.unit == demand.desk == dw.world.street_office


def test_no_label_puts_an_ascii_colon_outside_its_translation():
    """A colon after a translated label belongs in the msgid ("Reason:"), so the Chinese has its full-width
    "：" (a bare ": " after {% translate %} shows "原因: " on the Chinese pages)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = [*root.glob("demands/templates/demands/supervision*.html"),
             root / "demands/templates/demands/_supervision_panel.html", root / "demands/templates/demands/_card.html",
             *root.glob("insight/templates/insight/*.html")]
    pattern = re.compile(r'(%\}|\}\})\s*:\s')
    blocks = re.compile(r"\{% blocktranslate.*?\{% endblocktranslate %\}", re.S)  # whole msgids: translated
    found = [f"{f.name}: {m.group(0)}" for f in files for m in pattern.finditer(blocks.sub("", f.read_text()))]
    assert found == []
