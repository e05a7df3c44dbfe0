"""A decision becomes work, walked in Debian's Chromium (issue #18 item 2):

- at desktop width with a mouse, the village's officer records a decision under the power list and, in the same
  form, starts its project: the responsible unit, the budget left to the amount, two milestones; the decision
  then shows its project with the milestones and their status;
- at phone width with touch, the street's supervisor finds a missed milestone of a project on the supervision
  board (unit, deadline, working days late) and follows it to the project's page, which names its authority.

Screenshots: GONGZHI_SCREENSHOT_DIR, or the test's temporary folder (tests/conftest.py shots)."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "case-flow"
SIGNED = ["handler", "party_secretary", "committee_director"]


class Works:
    """The deliberation tests' village under the World's street, its preset power list, and its water station."""

    def __init__(self, world):
        from gongzhi.deliberation.tests.conftest import Village
        from gongzhi.duties import services as duties
        from gongzhi.duties.models import PowerItem
        from gongzhi.org.models import Organisation
        from gongzhi.org.tests import factories as f

        self.v = Village(world)
        duties.adopt_power_list(self.v.officer, self.v.village)
        self.item = PowerItem.objects.get(region=self.v.village, code="procurement")
        self.company = Organisation.objects.create(name="桃源村供水站", kind="property_company", region=self.v.village)
        self.staff = f.official(self.company, "staff", "waterman")


@pytest.fixture
def works(demand_world, live_world):
    return Works(live_world)


@pytest.fixture
def open_on(browser, live_server):
    contexts = []

    def open_(width: int, **extra):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport={"width": width, "height": 900 if width > 600 else 844}, **extra)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def test_the_officer_records_a_decision_with_its_milestones_in_one_form(open_on, works, shots):
    from gongzhi.duties.models import Decision, Project

    page = open_on(1280)
    sign_in(page, works.v.officer.username)
    page.goto(f"{reverse('duties:powers')}?region={works.v.village.pk}#item-procurement")
    item = page.locator("#item-procurement")
    item.locator("details.record-decision > summary").click()
    form = item.locator("form.decision-form")
    form.locator("input[name=title]").fill("更换村西片供水管道")
    form.locator("input[name=amount]").fill("800")
    for code in SIGNED:
        form.locator(f"input[name=signatories][value={code}]").check()
    form.locator("details.plan > summary").click()
    form.locator("select[name=unit]").select_option(str(works.company.pk))
    today = dt.date.today()
    rows = [("采购管材", today + dt.timedelta(days=10), "管材符合国标"),
            ("更换管道并恢复路面", today + dt.timedelta(days=30), "不再漏水，路面平整")]
    for i, (title, deadline, standard) in enumerate(rows):
        form.locator(f"input[name=m{i}_title]").fill(title)
        form.locator(f"input[name=m{i}_deadline]").fill(deadline.isoformat())
        form.locator(f"input[name=m{i}_standard]").fill(standard)
    form.scroll_into_view_if_needed()
    form.screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-decision-form-1280.png"))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    decision = Decision.objects.get()
    project = Project.objects.get(decision=decision)
    assert project.unit == works.company and project.budget == decision.amount
    assert list(project.tasks.order_by("deadline").values_list("title", flat=True)) == [r[0] for r in rows]
    card = page.locator(f"#decision-{decision.pk} .project-card")
    card.wait_for()
    assert works.company.name in card.inner_text()
    assert page.locator(f"#decision-{decision.pk} .milestone-list li").count() == 2
    page.locator(f"#decision-{decision.pk}").scroll_into_view_if_needed()
    page.locator(f"#decision-{decision.pk}").screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-decision-1280.png"))
    # The project's page names its authority: the decision, linked back.
    with page.expect_navigation():
        card.locator("a").first.click()
    authority = page.locator("#project a[href*='#decision-']")
    assert authority.inner_text() == "更换村西片供水管道"
    shots(page, "project-1280")

    # A decision recorded without its project offers 立项, the budget filled with the amount approved.
    from gongzhi.duties import services as duties

    second = duties.record_decision(works.v.officer, works.item, title="修缮村西片路灯", amount="600",
                                    signatories=SIGNED)
    page.goto(f"{reverse('duties:powers')}?region={works.v.village.pk}#decision-{second.pk}")
    start = page.locator(f"#decision-{second.pk} details.start-project")
    start.locator("summary").click()
    assert start.locator("input[name=budget]").input_value() == "600.00"
    start.locator("select[name=unit]").select_option(str(works.company.pk))
    start.locator("input[name=m0_title]").fill("更换灯具")
    start.locator("input[name=m0_deadline]").fill((today + dt.timedelta(days=5)).isoformat())
    start.screenshot(path=str(shots.folder / f"{SHOTS_PREFIX}-start-project-1280.png"))
    with page.expect_navigation():
        start.locator("button[type=submit]").click()
    assert Project.objects.get(decision=second).tasks.count() == 1
    assert page.locator(f"#decision-{second.pk} .project-card").is_visible()


def test_the_supervisor_finds_a_missed_milestone_on_the_board_on_a_phone(open_on, works, live_world, shots):
    from gongzhi.demands import milestones
    from gongzhi.demands.models import Notification
    from gongzhi.duties import services as duties

    ten_days_ago = clock.now() - dt.timedelta(days=10)
    with clock.frozen_at(ten_days_ago):
        decision = duties.record_decision(
            works.v.officer, works.item, title="更换村西片供水管道", amount="800", signatories=SIGNED,
            project=duties.ProjectPlan(unit=works.company, milestones=(
                duties.Milestone("采购管材", ten_days_ago.date() + dt.timedelta(days=3), "管材符合国标"),
                duties.Milestone("更换管道", ten_days_ago.date() + dt.timedelta(days=40), "不再漏水"))))
    assert milestones.sweep() == 1 and milestones.sweep() == 0
    assert Notification.objects.filter(recipient_unit=works.company).count() == 1

    page = open_on(390, is_mobile=True, has_touch=True)
    sign_in(page, live_world.street_official.username)
    page.goto(milestones.board_url())
    row = page.locator("#milestones-table tbody tr")
    assert row.count() == 1
    text = row.inner_text()
    assert "采购管材" in text and works.company.name in text and "更换管道" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling on a phone
    page.locator("#milestones").scroll_into_view_if_needed()
    shots(page, "board-390")
    link = row.locator("a").first
    link.scroll_into_view_if_needed()
    with page.expect_navigation():
        link.tap()
    assert page.locator("#project").is_visible()
    assert page.locator(f"#project a[href$='#decision-{decision.pk}']").count() == 1
    shots(page, "project-390")

    # The unit's own people find the same row through their home page's count.
    staff = open_on(390, is_mobile=True, has_touch=True)
    sign_in(staff, works.staff.username)
    staff.goto(milestones.board_url())
    assert "采购管材" in staff.locator("#milestones-table").inner_text()
    shots(staff, "unit-390")


def test_a_guest_answers_the_verdict_with_the_tracking_code_on_a_phone(open_on, demand_world, live_world, shots):
    """The loop of the cases tests (four deliberations, a decision, its project, the work done), then the guest
    who reported without an account opens their demand by number and 查询码 and answers."""
    from gongzhi.cases.models import Verdict
    from gongzhi.cases.tests.conftest import Loop
    from gongzhi.cases.tests.test_services import _finish_work
    from gongzhi.deliberation.tests.conftest import Village
    from gongzhi.demands import guests
    from gongzhi.demands.models import GuestTracking

    start = clock.now() - dt.timedelta(days=40)  # decided 10 days ago, done 4 days ago: the residents are asked now
    with clock.frozen_at(start):
        loop = Loop(Village(live_world))
        filed = loop.complain()
        loop.open_topic()
        later = loop.decide()
        _finish_work(loop, later)
    guest_demand = next(d for d in filed if d.reporter_user_id is None)
    GuestTracking.objects.create(demand=guest_demand, code_digest=guests._digest("K7QX2M9P"), created_at=clock.now())

    page = open_on(390, is_mobile=True, has_touch=True)
    page.goto(reverse("demands:track"))
    page.fill("#track-number", guest_demand.number)
    page.fill("#track-code", "K7QX2M9P")
    with page.expect_navigation():
        page.locator("form.track-form button[type=submit]").tap()
    verdict = page.locator("#verdict")
    verdict.scroll_into_view_if_needed()
    assert loop.case.title in verdict.inner_text()
    verdict.locator("input[name=solved][value=yes]").tap()
    verdict.locator("input[name=satisfaction][value=satisfied]").tap()
    shots(page, "guest-verdict-390")
    with page.expect_navigation():
        verdict.locator("button[type=submit]").tap()
    answer = Verdict.objects.get()
    assert answer.demand == guest_demand and answer.solved and answer.satisfaction == "satisfied"
    assert page.locator("#verdict form").count() == 0
    shots(page, "guest-verdict-done-390")
