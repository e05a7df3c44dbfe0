"""Deadlines and the holiday notices (issue #15): a deadline across 2027's 春节 against a hand count, provisional
while 2027 has no notice, recomputed on import with the change on the demand's timeline, and never made overdue
after the fact."""

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from gongzhi.core import clock, workdays
from gongzhi.demands import deadlines, escalation, services
from gongzhi.demands.models import DemandEvent
from gongzhi.org.tests.factories import World

from .factories import DemandWorld

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE_2027 = Path(__file__).resolve().parents[2] / "core" / "tests" / "data" / "holiday-notice-2027-test.json"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def import_2027(when: dt.datetime) -> str:
    out = io.StringIO()
    with clock.frozen_at(when):
        call_command("calendar", "import", str(NOTICE_2027), stdout=out)
    return out.getvalue()


@pytest.fixture
def dw():
    return DemandWorld(World())


def test_a_deadline_across_the_2027_spring_festival_counts_the_notices_working_days(dw):
    import_2027(at(2026, 12, 1, 9))
    # Ordinary: first feedback within 7 working days. Received Wednesday 3 February 2027, 10:00. By hand:
    # Thu 4 Feb (1); 5–13 Feb off (春节, with the weekends); Sun 14 Feb worked (2); Mon 15 – Fri 19 Feb (3–7).
    demand = dw.file(at=at(2027, 2, 3, 10), urgency="ordinary")
    assert demand.urgency == "ordinary"
    assert demand.feedback_due == at(2027, 2, 19, 10)
    assert deadlines.provisional(demand, "feedback_due") == []


def test_without_the_notice_it_is_provisional_and_the_import_recomputes_it_on_the_timeline(dw, client):
    demand = dw.file(at=at(2027, 2, 3, 10), urgency="ordinary")
    # Monday to Friday only: Thu 4 (1), Fri 5 (2), Mon 8 – Fri 12 (3–7).
    assert demand.feedback_due == at(2027, 2, 12, 10)
    assert deadlines.provisional(demand, "feedback_due") == [2027]
    client.force_login(dw.resident)
    with clock.frozen_at(at(2027, 2, 4, 9)):
        page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "badge provisional" in page

    report = import_2027(at(2027, 2, 4, 9))
    assert "deadlines recomputed: 1 moved, 0 kept" in report
    demand.refresh_from_db()
    assert demand.feedback_due == at(2027, 2, 19, 10)
    assert deadlines.provisional(demand, "feedback_due") == []
    step = DemandEvent.objects.filter(demand=demand).last()
    assert step.action == "recompute_deadline" and step.from_state == step.to_state == demand.state
    assert "2027-02-12 10:00" in step.note and "2027-02-19 10:00" in step.note
    assert step.event.data["deadlines"]["feedback_due"] == {"from": at(2027, 2, 12, 10).isoformat(),
                                                            "to": at(2027, 2, 19, 10).isoformat()}
    with clock.frozen_at(at(2027, 2, 4, 9)):
        page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    assert "badge provisional" not in page
    assert "2027-02-19 10:00" in page


def test_a_deadline_on_time_is_not_made_overdue_after_the_fact(dw):
    # Received Thursday 18 February 2027, 10:00. Monday to Friday: Fri 19 (1), Mon 22 – Fri 26 (2–6), Mon 1 Mar (7).
    demand = dw.file(at=at(2027, 2, 18, 10), urgency="ordinary")
    assert demand.feedback_due == at(2027, 3, 1, 10)
    # Under the notice Saturday 20 February is worked, so it would be Friday 26 February: imported on the 27th,
    # that has passed. It stays 1 March, and the timeline says why.
    report = import_2027(at(2027, 2, 27, 9))
    assert "0 moved, 1 kept" in report
    demand.refresh_from_db()
    assert demand.feedback_due == at(2027, 3, 1, 10)
    with clock.frozen_at(at(2027, 2, 27, 9)):
        assert not demand.is_feedback_overdue()
    step = DemandEvent.objects.filter(demand=demand).last()
    assert step.action == "recompute_deadline" and "2027-02-26 10:00" in step.note
    assert step.event.data["deadlines"]["feedback_due"]["kept"] == at(2027, 3, 1, 10).isoformat()


def test_deadlines_met_or_around_the_clock_are_left_alone(dw):
    met = dw.closed(at=at(2027, 2, 3, 10))  # replied within the day
    emergency = dw.file(at=at(2027, 2, 3, 10), urgency="emergency")  # suggested by the resident …
    with clock.frozen_at(at(2027, 2, 3, 10, 5)):
        emergency = services.confirm_urgency(dw.dispatcher, emergency).demand  # … confirmed: around the clock
    assert emergency.urgency == "emergency" and emergency.feedback_due == at(2027, 2, 3, 12)
    dues = {d.pk: (d.dispatch_due, d.accept_due, d.feedback_due) for d in (met, emergency)}
    import_2027(at(2027, 2, 4, 9))
    for demand in (met, emergency):
        demand.refresh_from_db()
        assert (demand.dispatch_due, demand.accept_due, demand.feedback_due) == dues[demand.pk]
        assert not DemandEvent.objects.filter(demand=demand, action="recompute_deadline").exists()


def test_on_new_years_day_2027_without_a_notice_the_sweep_runs(dw):
    overdue = dw.dispatched(at=at(2026, 12, 30, 10))
    with clock.frozen_at(at(2027, 1, 1, 9)):
        assert not workdays.is_known_year(2027)
        report = escalation.sweep_deadlines()
        late = dw.file(at=at(2027, 1, 1, 9), urgency="ordinary")
    assert report.supervision_orders + report.reminders >= 1
    assert overdue.supervision_orders.exists() or report.reminders
    assert late.feedback_due is not None and deadlines.provisional(late, "feedback_due") == [2027]
