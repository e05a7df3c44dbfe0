"""Missed milestones of decisions' projects on the supervision board, like overdue demands (issue #18 item 2):
listed only to the supervisors of the street or district above the project, with the unit, the deadline and the
working days late; the responsible unit gets one notice in its message centre however often the sweep runs,
and its people and the supervisors each find a count on their home page that leads to exactly those rows."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.cases.tests.conftest import loop  # noqa: F401 (fixture: the whole loop in a village)
from gongzhi.core import clock, workbench
from gongzhi.core.models import Event
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands import milestones
from gongzhi.demands.models import Notification
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)
from gongzhi.duties import services as duties
from gongzhi.duties.models import PowerItem
from gongzhi.org.models import Organisation
from gongzhi.org.tests import factories as f

pytestmark = pytest.mark.django_db

SIGNED = ["handler", "party_secretary", "committee_director"]


class Works:
    """A village decision (a routine expenditure, signed) whose project has two milestones for the water
    station: "采购管材" due in 3 days, "更换管道" in 30."""

    def __init__(self, world):
        self.v = Village(world)
        self.world = world
        duties.adopt_power_list(self.v.officer, self.v.village)
        item = PowerItem.objects.get(region=self.v.village, code="procurement")
        self.company = Organisation.objects.create(name="桃源村供水站", kind="property_company", region=self.v.village)
        self.staff = f.official(self.company, "staff", "waterman")
        today = clock.today()
        self.decision = duties.record_decision(self.v.officer, item, title="更换供水管道", amount="800", signatories=SIGNED,
                                               project=duties.ProjectPlan(unit=self.company, milestones=(
                                                   duties.Milestone("采购管材", today + dt.timedelta(days=3), "符合国标"),
                                                   duties.Milestone("更换管道", today + dt.timedelta(days=30), "不漏水"))))
        self.project = self.decision.project
        self.first = self.project.tasks.order_by("deadline").first()
        elsewhere = f.region("street", world.district, name="光明街道", admin_code="110199002000")
        self.other_street = f.official(Organisation.objects.create(name="光明街道办事处", kind="street_office",
                                                                   region=elsewhere), "director", "other_dir")


@pytest.fixture
def works(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Works(world)


def _later(days: int):
    return clock.frozen_at(MONDAY_9AM + dt.timedelta(days=days))


def _board(client, user, query=""):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("demands:supervision") + query)


def test_the_board_lists_a_missed_milestone_only_to_the_supervisors_above_it(client, works):
    with _later(2):  # not yet due: on no board
        assert "采购管材" not in _board(client, works.world.street_official).content.decode()
    with _later(10):  # due Thursday 5 March, now Thursday 12 March: 5 working days late
        body = _board(client, works.world.street_official).content.decode()
        assert 'id="milestones"' in body and "采购管材" in body and "更换管道" not in body
        assert works.company.name in body and "2026-03-05" in body
        row = body[body.index(f'data-task="{works.first.pk}"'):]
        row = row[:row.index("</tr>")]
        assert "<b>5</b>" in row and "7 days" in row
        assert reverse("duties:goal", args=[works.project.goal_id]) in row
        other = _board(client, works.other_street).content.decode()
        assert "采购管材" not in other and 'id="milestones"' in other  # another street: the section, empty
        # A resident has no board; the milestone filter shows them nothing either.
        resident = _board(client, works.v.adults[9].user, "?milestones=1")
        assert "采购管材" not in resident.content.decode()


def test_the_units_people_see_their_missed_milestones_through_their_home_count(client, works):
    with _later(10):
        items = {i.key: i for i in workbench.items_for(works.staff)}
        assert items["milestones.unit"].count == 1 and items["milestones.unit"].urgent
        url = items["milestones.unit"].url
        assert url == milestones.board_url()
        page = _board(client, works.staff, url.split("#")[0][len(reverse("demands:supervision")):])
        assert page.status_code == 200 and "采购管材" in page.content.decode()
        supervisor = {i.key: i for i in workbench.items_for(works.world.street_official)}
        assert supervisor["milestones.area"].count == 1
        other = {i.key: i for i in workbench.items_for(works.other_street)}
        assert other["milestones.area"].count == 0 and not other["milestones.area"].urgent
        with _later(40):  # both missed now
            assert {i.key: i for i in workbench.items_for(works.staff)}["milestones.unit"].count == 2
        duties.complete_task(works.staff, works.first, quality_met=None, note="已采购")
        assert "milestones.unit" not in {i.key for i in workbench.items_for(works.staff)}


def test_the_unit_gets_one_notice_per_missed_milestone_however_often_the_sweep_runs(works):
    with _later(2):
        assert milestones.sweep() == 0
    with _later(10):
        assert milestones.sweep() == 1
        assert milestones.sweep() == 0
    with _later(11):
        milestones.sweep()
    notices = Notification.objects.filter(recipient_unit=works.company)
    assert notices.count() == 1
    notice = notices.get()
    assert notice.kind == Notification.Kind.REMINDER and "采购管材" in notice.text
    assert notice.link == reverse("duties:goal", args=[works.project.goal_id]) + f"#task-{works.first.pk}"
    assert Event.objects.filter(kind=milestones.NOTICE_EVENT, subject_id=str(works.first.pk)).count() == 1
    with _later(40):  # the second milestone missed too: one more notice, the first not repeated
        assert milestones.sweep() == 1
        assert milestones.sweep() == 0
    assert notices.count() == 2


def test_a_case_projects_missed_milestone_links_its_case_file(client, loop):
    loop.complain()
    loop.open_topic()
    later = loop.decide()
    with clock.frozen_at(later + dt.timedelta(days=15)):
        assert milestones.sweep() == 1
        notice = Notification.objects.get(recipient_unit=loop.company)
        assert notice.link == reverse("cases:detail", args=[loop.case.pk]) + "#project"
        body = _board(client, loop.v.world.street_official).content.decode()
        assert "采购管材" in body and reverse("cases:detail", args=[loop.case.pk]) in body


def test_the_sweep_runs_hourly_with_the_worker():
    from gongzhi.core import periodic

    job = next(j for j in periodic.jobs() if j.name == "demands.missed_milestones")
    assert job.function is milestones.sweep and job.every_seconds == 3600
