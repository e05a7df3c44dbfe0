"""Escalation (督办): reminders before a deadline, supervision orders to the responsible unit's superior once
it passes, their resolution, 挂牌督办 for repeated reopening or lateness; the sweep is idempotent and keeps
no timer of its own; it runs as a task and as `gongzhi demands sweep`."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from gongzhi.core import clock
from gongzhi.core.models import Event
from gongzhi.demands import escalation, queries, services, tasks
from gongzhi.demands.models import DeadlineReminder, ListedSupervision, Notification, SupervisionOrder
from gongzhi.org.models import Organisation

from .factories import THURSDAY_9AM

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def at(hours: float) -> dt.datetime:
    return THURSDAY_9AM + dt.timedelta(hours=hours)


def sweep(moment: dt.datetime) -> escalation.SweepReport:
    with clock.frozen_at(moment):
        return escalation.sweep_deadlines()


def escalation_rows() -> tuple[int, int, int, int, int]:
    return (DeadlineReminder.objects.count(), SupervisionOrder.objects.count(), ListedSupervision.objects.count(),
            Notification.objects.count(), Event.objects.count())


@pytest.fixture
def district_government(dw):
    return Organisation.objects.create(name="示范区人民政府", kind="district_government", region=dw.world.district)


# --- the rules --------------------------------------------------------------------------------------------

def test_reminder_lead_is_a_fraction_of_the_limit_but_at_most_a_day():
    assert escalation.reminder_lead(2) == dt.timedelta(minutes=24)
    assert escalation.reminder_lead(7 * 24) == dt.timedelta(hours=24)
    assert escalation.reminder_lead(10, fraction=0.5, max_hours=2) == dt.timedelta(hours=2)


def test_the_superior_is_the_parent_else_the_street_office_else_the_district_government(dw, district_government):
    w = dw.world
    assert escalation.superior_of(w.committee_a) == w.street_office          # community unit
    assert escalation.superior_of(dw.property_company) == w.street_office    # a unit serving a community
    assert escalation.superior_of(w.street_office) == district_government    # street level
    assert escalation.superior_of(dw.city_management) == district_government  # a district department
    assert escalation.superior_of(district_government) is None
    team = Organisation.objects.create(name="城管执法队", kind="department", region=w.street, parent=dw.city_management)
    assert escalation.superior_of(team) == dw.city_management                # the parent wins
    assert escalation.superior_of(None) is None


# --- reminders and supervision orders ------------------------------------------------------------------------

def test_a_near_deadline_is_reminded_then_a_passed_one_gets_a_supervision_order(dw, district_government):
    demand = dw.dispatched()  # dispatched 09:30: accept due 11:30 (2 working hours); reminded 24 min ahead
    assert demand.accept_due == at(2.5)

    assert sweep(at(1.5)).as_dict() == {"reminders": 0, "supervision_orders": 0, "resolved": 0, "listed": 0}
    report = sweep(at(2.15))  # 11:09
    assert report.reminders == 1 and report.supervision_orders == 0
    reminder = DeadlineReminder.objects.get()
    assert (reminder.demand, reminder.deadline, reminder.due, reminder.unit) == (demand, "accept", at(2.5),
                                                                                dw.city_management)
    assert Event.objects.filter(kind="demands.remind", data__number=demand.number, data__deadline="accept").exists()
    notice = Notification.objects.get(kind="reminder")
    assert notice.recipient_unit == dw.city_management and demand.number in notice.text

    report = sweep(at(2.6))  # 11:36: the unit has not accepted
    assert report.supervision_orders == 1 and report.reminders == 0
    order = SupervisionOrder.objects.get()
    assert (order.deadline, order.due, order.unit, order.supervisor) == ("accept", at(2.5), dw.city_management,
                                                                       district_government)
    assert order.is_open and order.event.kind == "demands.supervise"
    assert order.event.data["supervisor"] == district_government.pk and order.event.private == {}
    assert set(Notification.objects.filter(kind="supervision").values_list("recipient_unit", flat=True)) == {
        district_government.pk, dw.city_management.pk}
    # Visible on the dashboards: the overdue list and the open orders of the street.
    with clock.frozen_at(at(2.6)):
        assert list(queries.listed(dw.world.street_official, overdue=True)) == [demand]
    assert list(escalation.open_supervision_orders(dw.world.street_official)) == [order]
    assert list(escalation.open_supervision_orders(dw.other_resident)) == []


def test_the_sweep_is_idempotent(dw):
    dw.dispatched()
    sweep(at(2.15))
    first = sweep(at(2.6))
    assert first.supervision_orders == 1
    before = escalation_rows()
    again = sweep(at(2.6))
    assert again.as_dict() == {"reminders": 0, "supervision_orders": 0, "resolved": 0, "listed": 0}
    assert sweep(at(3)).supervision_orders == 0
    assert escalation_rows() == before


def test_a_restart_loses_no_deadline(dw):
    """No sweep ran while the deadline passed (the server was down): the next one issues the order, and sends
    no reminder for a deadline already gone."""
    demand = dw.dispatched()
    report = sweep(at(30))
    assert report.reminders == 0 and report.supervision_orders == 1
    assert SupervisionOrder.objects.get().demand == demand


def test_a_demand_waiting_at_the_desk_escalates_the_desk(dw, district_government):
    demand = dw.file()  # no category: waits for triage; dispatch due in 2 working hours
    assert demand.state == "received" and demand.dispatch_due == at(2)
    sweep(at(1.7))
    assert DeadlineReminder.objects.get().unit == dw.world.street_office
    sweep(at(2.1))
    order = SupervisionOrder.objects.get(deadline="dispatch")
    assert order.unit == dw.world.street_office and order.supervisor == district_government


def test_an_order_is_resolved_once_the_step_is_done(dw):
    demand = dw.dispatched()
    sweep(at(2.6))
    with clock.frozen_at(at(2.8)):
        services.accept(dw.handler, demand)
    assert sweep(at(2.9)).resolved == 1
    order = SupervisionOrder.objects.get()
    assert order.resolved_at == at(2.9) and not order.is_open
    assert Event.objects.filter(kind="demands.resolve_supervision").count() == 1
    assert sweep(at(3)).resolved == 0
    assert list(escalation.open_supervision_orders(dw.world.street_official)) == []


def test_a_redispatch_brings_a_new_deadline_and_a_new_order(dw):
    demand = dw.dispatched()
    sweep(at(2.6))
    with clock.frozen_at(at(3)):
        demand = services.return_to_dispatch(dw.handler, demand, reason="不属于本单位职责").demand
    with clock.frozen_at(at(3.5)):
        demand = services.dispatch(dw.dispatcher, demand, unit=dw.property_company).demand
    report = sweep(at(7))  # the property company did not accept within its own 2 hours either
    assert report.resolved == 1 and report.supervision_orders == 1
    new = SupervisionOrder.objects.get(resolved_at__isnull=True)
    assert new.unit == dw.property_company and new.supervisor == dw.world.street_office


# --- 挂牌督办 --------------------------------------------------------------------------------------------------

def _round_after_reopen(dw, demand, start: dt.datetime):
    for step, act in enumerate((lambda d: services.accept(dw.handler, d),
                                lambda d: services.reply(dw.handler, d, text="已再次清运"),
                                lambda d: services.verify(dw.grid_worker, d),
                                lambda d: services.close(dw.dispatcher, d))):
        with clock.frozen_at(start + dt.timedelta(minutes=10 * step)):
            demand = act(demand).demand
    return demand


def test_a_demand_reopened_twice_goes_on_the_listed_supervision_list(dw, district_government):
    demand = dw.closed()
    with clock.frozen_at(at(6)):
        demand = services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied").demand
    demand = _round_after_reopen(dw, demand, at(6.5))
    assert sweep(at(8)).listed == 0  # once is not yet "repeatedly"
    with clock.frozen_at(at(8)):
        demand = services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied").demand
    assert demand.reopen_count == 2

    assert sweep(at(8.1)).listed == 1
    listing = ListedSupervision.objects.get()
    assert (listing.demand, listing.reason, listing.count) == (demand, "reopened", 2)
    assert (listing.unit, listing.supervisor, listing.listed_at) == (dw.city_management, district_government, at(8.1))
    assert listing.event.kind == "demands.list_supervision"
    assert Notification.objects.filter(kind="listed", recipient_unit=district_government).exists()
    assert list(escalation.listed_supervision(dw.world.street_official)) == [listing]
    assert sweep(at(8.2)).listed == 0


def test_a_demand_solved_before_the_sweep_is_not_listed(dw):
    demand = dw.closed()
    for round_start in (6, 8):
        with clock.frozen_at(at(round_start)):
            demand = services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied").demand
        demand = _round_after_reopen(dw, demand, at(round_start + 0.5))
    with clock.frozen_at(at(10)):
        demand = services.rate(dw.resident, demand, solved=True, satisfaction="satisfied").demand
    assert demand.reopen_count == 2 and demand.state == "rated"
    assert sweep(at(10.1)).listed == 0


def test_a_demand_overdue_twice_goes_on_the_listed_supervision_list(dw):
    demand = dw.dispatched()
    sweep(at(3))  # accept deadline missed
    with clock.frozen_at(at(3.5)):
        services.accept(dw.handler, demand)
    report = sweep(at(24 * 30))  # and the 7-working-day feedback deadline too
    assert report.supervision_orders == 1 and report.listed == 1
    listing = ListedSupervision.objects.get()
    assert (listing.reason, listing.count) == ("overdue", 2)


# --- running it -------------------------------------------------------------------------------------------

def test_the_sweep_task_runs_on_the_immediate_backend(dw, settings):
    settings.TASKS = IMMEDIATE
    dw.dispatched()
    with clock.frozen_at(at(2.6)):
        result = tasks.sweep_deadlines_task.enqueue()
    assert result.status == "SUCCESSFUL", result.errors
    assert result.return_value["supervision_orders"] == 1
    assert result.return_value["webhooks"] == {"delivered": 0, "retrying": 0, "failed": 0}
    assert tasks.schedule_sweep(60) is False  # cannot defer: no chain (it would recurse)


def test_the_database_backend_holds_one_queued_sweep_at_a_time(dw):
    from django_tasks_db.models import DBTaskResult

    assert tasks.schedule_sweep(60, start_now=True) is True
    assert tasks.schedule_sweep(60) is False
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "gongzhi.demands.tasks.sweep_deadlines_task"
    assert queued.args_kwargs == {"args": [], "kwargs": {"reschedule_seconds": 60}}


def test_the_command_sweeps_once_and_reports(dw):
    dw.dispatched()
    out = io.StringIO()
    with clock.frozen_at(at(2.6)):
        call_command("demands", "sweep", "--json", stdout=out)
    assert json.loads(out.getvalue())["supervision_orders"] == 1
