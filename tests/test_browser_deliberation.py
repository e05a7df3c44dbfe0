"""The deliberation pages in a real headless Chromium at phone width: a resident votes on statements in the
card (which moves on to the next statement) and sees the opinion map drawn; the secretary's meeting page
shows the quorum change on its own when a member signs in; a member casts a secret ballot, keeps the tracker,
and finds it in the published ballot list once voting is closed."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def village(live_world, settings, tmp_path):
    """The deliberation tests' village, committed for the live server, with the clock at its Monday."""
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village

    settings.GONGZHI_LEDGER_KEY = tmp_path / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "pseudonym.key"
    with clock.frozen_at(MONDAY_9AM):
        yield Village(live_world)


def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return context, tab, errors


def fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_votes_in_the_card_and_sees_the_opinion_map(browser, live_server, village, screenshot):
    from gongzhi.deliberation import services

    topic = services.propose_topic(village.officer, region=village.village, title="村规民约修订", description="征求意见",
                                   origin="organisation")
    texts = ["保留集体林地", "增加停车位", "禁止焚烧秸秆", "建文化广场", "垃圾定点投放", "公开财务明细"]
    statements = [services.add_statement(village.officer, topic, t) for t in texts]
    for i, person in enumerate(village.adults[:10]):  # two camps, agreeing on the last two statements
        for j, statement in enumerate(statements):
            services.vote_statement(person.user, statement, 1 if j >= 4 else (1 if (i + j) % 2 else -1))
    context, tab, errors = phone(browser, live_server)
    sign_in(tab, village.adults[11].user.username)
    tab.goto(reverse("deliberation:topic", args=[topic.pk]))
    tab.wait_for_selector("#opinion-plot[data-ready=true]")
    assert tab.locator("#opinion-plot .scatterlayer .trace .points path").count() == 10
    card = tab.locator("#vote-card")
    first = card.get_attribute("data-statement")
    assert first and tab.locator("#vote-card .statement-text").inner_text() in texts
    card.locator("button[data-vote=agree]").click()
    tab.wait_for_function("(first) => document.querySelector('#vote-card').dataset.statement !== first", arg=first)
    second = tab.locator("#vote-card").get_attribute("data-statement")
    assert second and second != first
    assert tab.locator("#vote-card .notice.ok").count() == 1
    # The vote moved the resident onto the map: the refreshed section draws 11 points.
    tab.wait_for_function("() => { const el = document.querySelector('#opinion-plot[data-ready=true]');"
                          " return el && el.dataset.points === '11'; }")
    tab.locator("#vote-card button[data-vote=disagree]").click()
    tab.wait_for_function("(second) => document.querySelector('#vote-card').dataset.statement !== second",
                          arg=second)
    assert fits(tab)
    screenshot(tab, "deliberation-topic-phone")
    # The list and the disclosure board fit a phone too.
    item = services.publish(village.officer, region=village.village, kind="finances", title="三季度财务公开",
                            body="收入12万元，支出9万元", notice_days=7)
    services.file_objection(village.adults[9].user, item, "修路款为何超支？")
    for url, name in ((reverse("deliberation:topics"), "topics"), (reverse("deliberation:disclosures"), "board")):
        tab.goto(url)
        assert fits(tab)
        screenshot(tab, f"deliberation-{name}-phone")
    assert errors == []
    context.close()


def test_the_quorum_moves_when_a_member_signs_in_and_a_secret_ballot_is_found_by_its_tracker(
        browser, live_server, village, screenshot):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:6])
    member = village.adults[6]
    with clock.frozen_at(starts + dt.timedelta(minutes=10)):
        secretary, desk, desk_errors = phone(browser, live_server)
        sign_in(desk, village.officer.username)
        desk.goto(reverse("deliberation:meeting", args=[meeting.pk]))
        assert desk.locator("#quorum [data-figure=present]").inner_text() == "6"
        assert desk.locator("#roll").count() == 1  # the secretary sees the roll

        voter, tab, errors = phone(browser, live_server)
        sign_in(tab, member.user.username)
        tab.goto(reverse("deliberation:meeting", args=[meeting.pk]))
        assert tab.locator("#roll").count() == 0  # a member does not
        tab.locator("form[action$='/sign-in'] button").click()
        tab.wait_for_load_state()
        # The secretary's page polls the quorum box: 7 of 12 is more than half.
        desk.wait_for_function("() => document.querySelector('#quorum [data-figure=present]').textContent === '7'",
                               timeout=10_000)
        assert "met" in desk.locator("#quorum").get_attribute("class")

        desk.locator(".new-motion summary").click()
        desk.fill("textarea[name=text]", "选举村务监督委员会成员：同意候选人")
        desk.check("input[name=secret]")
        desk.locator(".motion-form button[type=submit]").click()
        desk.wait_for_load_state()
        assert desk.locator(".motion .badge.secret").count() == 1

        tab.goto(reverse("deliberation:meeting", args=[meeting.pk]))
        tab.locator(".ballot input[name=choice][value=yes]").check()
        tab.locator(".ballot button[type=submit]").click()
        tab.wait_for_selector(".receipt .tracker")
        tracker = tab.locator(".receipt .tracker").inner_text().strip()
        assert len(tracker) == 64 and len(tab.locator(".receipt .nonce").inner_text().strip()) == 32
        assert fits(tab)
        screenshot(tab, "deliberation-ballot-receipt-phone")

        desk.reload()
        desk.locator(".secretary-motion form[action*='/motions/'][action$='/close'] button").click()
        desk.wait_for_load_state()
        assert desk.locator(".motion .badge.late, .motion .badge.ok").count() == 1
        assert fits(desk)
        screenshot(desk, "deliberation-meeting-secretary-phone")

        tab.locator(".motion a[href*='/deliberation/motions/']").first.click()
        tab.wait_for_load_state()
        assert tab.locator(f".ballot-list tr[data-tracker='{tracker}']").count() == 1
        tab.fill("#tracker-search", tracker[:8])
        assert tab.locator(".ballot-list tr.found").count() == 1
        screenshot(tab, "deliberation-motion-phone")
        assert fits(tab)
        assert errors == [] and desk_errors == []
        voter.close()
        secretary.close()


@pytest.mark.parametrize("viewport,touch", [(PHONE, True), ({"width": 1280, "height": 900}, False)],
                         ids=["phone-touch", "desktop"])
def test_secret_paper_ballots_go_through_the_paper_roll_and_the_ballot_box(browser, live_server, village, screenshot,
                                                                            viewport, touch):
    """The secretary ticks off on the paper roll who handed in a paper ballot, then enters the box's ballots on
    the ballot box page, where a second officer confirms them: two pages, at phone (touch) and desktop width."""
    from gongzhi.deliberation import services
    from gongzhi.deliberation.models import Ballot, VoterMark

    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="是否同意硬化村西道路", secret=True)
    width = "phone" if touch else "desktop"

    def officer_tab(user):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport, has_touch=touch,
                                      is_mobile=touch)
        context.set_default_timeout(15_000)
        tab = context.new_page()
        errors = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(tab, user.username)
        return context, tab, errors

    with clock.frozen_at(starts + dt.timedelta(minutes=25)):
        context, tab, errors = officer_tab(village.officer)
        tab.goto(reverse("deliberation:meeting", args=[meeting.pk]))
        with tab.expect_navigation():
            tab.locator(f"a[href='{reverse('deliberation:paper_roll', args=[motion.pk])}']").click()
        for person in village.adults[5:8]:
            row = f".paper-roll li:has(.name:text-is('{person.name}'))"
            with tab.expect_navigation():
                (tab.locator(f"{row} button").tap if touch else tab.locator(f"{row} button").click)()
            assert tab.locator(f"{row} button").count() == 0
        assert VoterMark.objects.filter(motion=motion, is_paper=True).count() == 3
        assert fits(tab)
        screenshot(tab, f"deliberation-paper-roll-{width}")
        with tab.expect_navigation():
            tab.locator(".paper-steps a[href$='/ballot-box']").click()
        assert tab.locator("#enter select[name=voter]").count() == 0
        for choice in ("yes", "no", "yes"):
            tab.locator(f"#enter input[name=choice][value={choice}]").check()
            with tab.expect_navigation():
                tab.locator("#enter button[type=submit]").click()
        assert Ballot.objects.filter(motion=motion, voter__isnull=True, choice__isnull=True).count() == 3
        assert tab.locator("#enter form").count() == 0  # as many entered as were handed in
        assert fits(tab)
        screenshot(tab, f"deliberation-ballot-box-{width}")
        assert not errors, errors
        context.close()
        context, tab, errors = officer_tab(village.clerk)
        tab.goto(reverse("deliberation:ballot_box", args=[motion.pk]))
        assert tab.locator(".awaiting-ballots li").count() == 3
        screenshot(tab, f"deliberation-ballot-box-second-officer-{width}")
        while tab.locator(".awaiting-ballots li button").count():
            with tab.expect_navigation():
                tab.locator(".awaiting-ballots li button").first.click()
        assert Ballot.objects.filter(motion=motion, confirmed_by=village.clerk).count() == 3
        assert not errors, errors
        context.close()
