"""A decision becomes work (issue #18 item 2): recording a decision with its project plan stores the decision,
the project, its goal and one task per milestone in one transaction; a plan the decision does not allow
(over budget, no milestone, a deadline passed, a unit the officer may not name) stores nothing and the form
says why; a decision recorded earlier starts its project once (立项); the decision shows its project and the
project's page shows its authority."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.errors import Conflict, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401 (fixture)
from gongzhi.org.models import Organisation
from gongzhi.org.tests import factories as f

from gongzhi.duties import services
from gongzhi.duties.models import Decision, Goal, PowerItem, Project, Task

pytestmark = pytest.mark.django_db

SIGNED = ["handler", "party_secretary", "committee_director"]  # a routine expenditure's signatures


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        village = Village(world)
        services.adopt_power_list(village.officer, village.village)
        village.item = PowerItem.objects.get(region=village.village, code="procurement")
        village.company = Organisation.objects.create(name="桃源村供水站", kind="property_company",
                                                      region=village.village)
        yield village


def _day(days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)


def _plan(village, budget=None, milestones=None):
    return services.ProjectPlan(unit=village.company, budget=budget, milestones=milestones or (
        services.Milestone("采购管材", _day(10), "管材符合国标"),
        services.Milestone("更换管道", _day(30), "不再漏水"),
    ))


def _counts():
    return Decision.objects.count(), Project.objects.count(), Goal.objects.count(), Task.objects.count()


# --- the service -----------------------------------------------------------------------------------------------

def test_a_decision_with_its_plan_starts_the_project_goal_and_a_task_per_milestone(village):
    decision = services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                        signatories=SIGNED, project=_plan(village))
    project = decision.project
    assert project.unit == village.company and project.budget == Decimal("800")  # the budget defaults to the amount
    assert project.goal.owner == village.company and project.goal.target_value == 80.0
    tasks = list(project.tasks.order_by("deadline"))
    assert [(t.title, t.deadline, t.unit, t.goal_id) for t in tasks] == [
        ("采购管材", _day(10), village.company, project.goal_id), ("更换管道", _day(30), village.company, project.goal_id)]
    kinds = list(Event.objects.filter(kind__in=["duties.record_decision", "duties.start_project"])
                 .values_list("kind", flat=True))
    assert kinds == ["duties.record_decision", "duties.start_project"]


@pytest.mark.parametrize("plan, code", [
    (lambda v: _plan(v, budget="800.01"), "over_budget"),
    (lambda v: services.ProjectPlan(unit=v.company, milestones=()), "milestones_required"),
    (lambda v: _plan(v, milestones=(services.Milestone("采购", _day(-1)),)), "deadline_passed"),
])
def test_a_plan_the_decision_does_not_allow_stores_neither_decision_nor_project(village, plan, code):
    with pytest.raises(ValidationFailed) as refused:
        services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                 signatories=SIGNED, project=plan(village))
    assert refused.value.code == code
    assert _counts() == (0, 0, 0, 0)
    assert not Event.objects.filter(kind__in=["duties.record_decision", "duties.start_project"]).exists()


def test_a_decision_recorded_earlier_starts_its_project_once(village):
    decision = services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                        signatories=SIGNED)
    assert not Project.objects.exists()
    project = services.start_project(village.officer, decision, _plan(village, budget="500"))
    assert project.decision == decision and project.budget == Decimal("500") and project.tasks.count() == 2
    with pytest.raises(Conflict) as again:
        services.start_project(village.officer, decision, _plan(village))
    assert again.value.code == "project_exists"
    assert Project.objects.count() == 1 and Task.objects.count() == 2


def test_a_unit_of_another_street_cannot_be_named(village, world):
    elsewhere = f.region("street", world.district, name="别的街道")
    stranger = Organisation.objects.create(name="外街道施工队", kind="property_company", region=elsewhere)
    decision = services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                        signatories=SIGNED)
    with pytest.raises(ValidationFailed) as refused:
        services.start_project(village.officer, decision, services.ProjectPlan(
            unit=stranger, milestones=(services.Milestone("采购", _day(3)),)))
    assert refused.value.code in {"unknown_organisation", "wrong_region"}
    assert not Project.objects.exists()


# --- the pages -------------------------------------------------------------------------------------------------

@pytest.fixture
def officer(client, village):
    client.force_login(village.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _decision_post(village, **extra):
    data = {"title": "更换供水管道", "amount": "800", "signatories": SIGNED, "details": ""}
    data.update(extra)
    return data


def _rows(*rows):
    data = {}
    for i, (title, deadline, standard) in enumerate(rows):
        data.update({f"m{i}_title": title, f"m{i}_deadline": deadline.isoformat() if deadline else "",
                     f"m{i}_standard": standard})
    return data


def test_the_officer_records_a_decision_and_starts_its_project_in_one_submit(officer, village):
    powers = officer.get(reverse("duties:powers") + f"?region={village.village.pk}").content.decode()
    assert 'name="m0_title"' in powers and village.company.name in powers  # the plan is on the decision form
    response = officer.post(reverse("duties:record_decision", args=[village.item.pk]), _decision_post(
        village, unit=village.company.pk, budget="",
        **_rows(("采购管材", _day(10), "管材符合国标"), ("更换管道", _day(30), "不再漏水"))))
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.decision.title == "更换供水管道" and project.tasks.count() == 2
    page = officer.get(response.url).content.decode()
    assert "Its project is started" in page
    assert f'id="project-{project.pk}"' in page and "采购管材" in page and "管材符合国标" not in page
    assert reverse("duties:goal", args=[project.goal_id]) in page
    # The project's page (its goal) shows its authority, linked back to the decision.
    goal_page = officer.get(reverse("duties:goal", args=[project.goal_id])).content.decode()
    assert "Authority" in goal_page and f"#decision-{project.decision_id}" in goal_page


def test_over_budget_on_the_form_shows_the_reason_and_stores_nothing(officer, village):
    response = officer.post(reverse("duties:record_decision", args=[village.item.pk]), _decision_post(
        village, unit=village.company.pk, budget="900", **_rows(("采购管材", _day(10), ""))))
    assert response.status_code == 400
    body = response.content.decode()
    assert "the budget is more than the decision approved" in body
    assert body.count("the budget is more than the decision approved") >= 2  # at the top and on the form itself
    assert _counts() == (0, 0, 0, 0)


def test_a_milestone_row_without_its_deadline_or_without_a_unit_is_a_form_error(officer, village):
    response = officer.post(reverse("duties:record_decision", args=[village.item.pk]), _decision_post(
        village, **_rows(("采购管材", None, ""))))
    body = response.content.decode()
    assert response.status_code == 400 and "Give the milestone its deadline." in body
    assert "Name the unit responsible for the project." in body
    assert _counts() == (0, 0, 0, 0)


def test_a_recorded_decision_without_a_project_offers_to_start_it(officer, village):
    decision = services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                        signatories=SIGNED)
    page = officer.get(reverse("duties:powers") + f"?region={village.village.pk}").content.decode()
    start = reverse("duties:start_project", args=[decision.pk])
    assert start in page
    refused = officer.post(start, {"unit": village.company.pk, **_rows(("采购", _day(-2), ""))})
    body = refused.content.decode()
    assert refused.status_code == 400 and "milestone&#x27;s deadline" in body and not Project.objects.exists()
    done = officer.post(start, {"unit": village.company.pk, "budget": "600", **_rows(("采购", _day(2), ""))})
    assert done.status_code == 302
    assert Project.objects.get().budget == Decimal("600")
    page = officer.get(reverse("duties:powers") + f"?region={village.village.pk}").content.decode()
    assert start not in page  # started: the form is gone, the project is shown
    again = officer.post(start, {"unit": village.company.pk, **_rows(("采购", _day(2), ""))})
    assert again.status_code == 409 and Project.objects.count() == 1


def test_a_resident_cannot_start_a_project(client, village):
    decision = services.record_decision(village.officer, village.item, title="更换供水管道", amount="800",
                                        signatories=SIGNED)
    client.force_login(village.adults[9].user)
    response = client.post(reverse("duties:start_project", args=[decision.pk]),
                           {"unit": village.company.pk, **_rows(("采购", _day(2), ""))})
    assert response.status_code in (400, 403, 404)
    assert not Project.objects.exists()


def test_a_unit_named_without_any_milestone_is_refused_with_the_reason(officer, village):
    response = officer.post(reverse("duties:record_decision", args=[village.item.pk]), _decision_post(
        village, unit=village.company.pk))
    assert response.status_code == 400
    assert "at least one milestone" in response.content.decode()
    assert _counts() == (0, 0, 0, 0)
