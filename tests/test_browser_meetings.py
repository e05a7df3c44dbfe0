"""The meetings index, moderation and the building lead's door-to-door opinions, walked in Debian's Chromium:

- desktop width with a mouse: an officer opens the meetings index (upcoming, in session, closed, with quorum
  and outcomes), the month calendar, and a meeting from it (agenda, quorum, motions);
- desktop: a resident files a topic; it is not shown publicly until the officer publishes it from the
  moderation queue;
- phone width with touch: the building lead records two residents' opinions and the topic counts them.
Screenshots at 1280 and 390 px (tests/conftest.py shots)."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import clock

from .conftest import sign_in

pytestmark = [pytest.mark.browser]
SHOTS_PREFIX = "meetings"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def village(live_world, settings, tmp_path):
    """The deliberation tests' village, committed for the live server, with the clock at its Monday."""
    from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village

    settings.GONGZHI_LEDGER_KEY = tmp_path / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "pseudonym.key"
    with clock.frozen_at(MONDAY_9AM):
        yield Village(live_world)


@pytest.fixture
def open_browser(browser, live_server):
    contexts = []

    def open_on(device: dict):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", **device)
        context.set_default_timeout(15_000)
        contexts.append(context)
        tab = context.new_page()
        tab.errors = []
        tab.on("pageerror", lambda error: tab.errors.append(str(error)))
        return tab

    yield open_on
    for context in contexts:
        context.close()


def fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def meetings_of_every_state(village):
    from gongzhi.deliberation import services

    closed, starts = village.open_meeting("villagers_representatives_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, closed, text="同意硬化村西道路")
        for entry in closed.roll.select_related("person__user"):
            services.cast_ballot(entry.person.user, motion, "yes")
        services.close_motion(village.officer, motion)
        services.close_meeting(village.officer, closed, minutes="通过村西道路硬化方案")
    in_session, _ = village.open_meeting("party_members_meeting")
    upcoming = services.schedule_meeting(village.officer, village.body("villagers_meeting"), title="村民会议：道路方案",
                                         agenda="一、道路硬化方案\n二、筹资筹劳", place="村委会议室",
                                         starts_at=clock.now() + dt.timedelta(days=8))
    return closed, in_session, upcoming


def test_an_officer_browses_the_meetings_index_and_calendar_and_opens_a_meeting(open_browser, village, shots):
    closed, in_session, upcoming = meetings_of_every_state(village)
    tab = open_browser(DESKTOP)
    sign_in(tab, village.officer.username)
    tab.goto(reverse("deliberation:meetings"))
    listed = tab.locator(".meeting-list > li")
    assert listed.count() == 3
    assert "村民会议：道路方案" in tab.inner_text(".meeting-list")
    assert tab.locator(".quorum-tag.met").count() >= 1  # the closed meeting met its quorum
    shots(tab, "index-1280")
    with tab.expect_navigation():
        tab.locator(".state-tabs a[href='?state=closed']").click()
    assert tab.locator(".meeting-list > li").count() == 1
    assert closed.title in tab.inner_text(".meeting-list") and upcoming.title not in tab.inner_text(".meeting-list")
    with tab.expect_navigation():
        tab.locator(".delib-nav a[href$='/meetings/calendar']").click()
    assert "2026-03" in tab.inner_text(".month-nav")
    link = tab.locator("table.month a", has_text="村民会议：道路方案")
    assert link.count() == 1
    day_cell = link.locator("xpath=ancestor::td").inner_text()
    assert day_cell.strip().startswith("10")  # 2 March + 8 days
    shots(tab, "calendar-1280")
    with tab.expect_navigation():
        link.click()
    assert tab.url.endswith(reverse("deliberation:meeting", args=[upcoming.pk]))
    assert "道路硬化方案" in tab.inner_text("#agenda")
    tab.goto(reverse("deliberation:meeting", args=[closed.pk]))
    assert "同意硬化村西道路" in tab.inner_text("#motions")
    assert tab.locator("#attendance .quorum").count() == 1
    shots(tab, "meeting-1280")
    assert fits(tab) and not tab.errors

    phone = open_browser(PHONE)
    phone.goto(reverse("deliberation:meetings"))
    assert fits(phone)
    shots(phone, "index-390")
    phone.goto(reverse("deliberation:meetings_calendar"))
    assert fits(phone) and phone.locator(".day-list a", has_text="村民会议：道路方案").is_visible()
    shots(phone, "calendar-390")
    assert not phone.errors


def test_a_residents_topic_shows_publicly_only_once_an_officer_publishes_it(open_browser, village, shots):
    from gongzhi.deliberation.models import Topic

    resident = open_browser(DESKTOP)
    sign_in(resident, village.adults[7].user.username)
    resident.goto(reverse("deliberation:topics"))
    resident.select_option("#propose select[name=region]", str(village.village.pk))
    resident.fill("#propose input[name=title]", "村口增设路灯")
    resident.fill("#propose textarea[name=description]", "晚上村口太黑，老人出行不便")
    with resident.expect_navigation():
        resident.locator("#propose button[type=submit]").click()
    topic = Topic.objects.get(title="村口增设路灯")
    assert topic.status == "pending" and resident.locator("#moderation-state").is_visible()
    shots(resident, "held-topic-1280")

    guest = open_browser(DESKTOP)
    guest.goto(reverse("deliberation:topics"))
    assert "村口增设路灯" not in guest.inner_text("#topics")
    assert guest.goto(reverse("deliberation:topic", args=[topic.pk])).status == 404

    officer = open_browser(DESKTOP)
    sign_in(officer, village.officer.username)
    officer.goto(reverse("deliberation:moderation"))
    item = officer.locator(f"#pending-{topic.pk}")
    assert "晚上村口太黑" in item.inner_text()
    shots(officer, "moderation-1280")
    with officer.expect_navigation():
        item.locator("form[action$='/approve'] button").click()
    assert officer.locator(f"#pending-{topic.pk}").count() == 0
    topic.refresh_from_db()
    assert topic.status == "collecting"

    guest.goto(reverse("deliberation:topics"))
    assert "村口增设路灯" in guest.inner_text("#topics")
    assert guest.goto(reverse("deliberation:topic", args=[topic.pk])).status == 200
    assert not (resident.errors or guest.errors or officer.errors)


def test_the_building_lead_records_two_residents_opinions_on_a_phone(open_browser, village, shots):
    from gongzhi.deliberation import services
    from gongzhi.deliberation.models import CollectedOpinion
    from gongzhi.org.tests import factories as f

    lead = f.official(village.committee, "building_lead", "lead_west", building=village.building)
    topic = services.propose_topic(village.officer, region=village.village, title="村西停车位规划",
                                   description="征求村民意见", origin="organisation")
    topic = services.start_procedure(village.officer, topic, "community_consultation")
    services.record_stage(village.officer, topic, "topic_proposal")

    tab = open_browser(PHONE)
    sign_in(tab, lead.username)
    tab.goto(reverse("deliberation:topic", args=[topic.pk]))
    with tab.expect_navigation():
        tab.locator(f"#collected a[href$='/topics/{topic.pk}/collect']").tap()
    assert village.adults[0].name in tab.inner_text("#residents")
    assert tab.locator("#record input[name=stance][value=signature]").count() == 0  # a signature is no opinion
    assert all(box["height"] >= 44 for box in (
        label.bounding_box() for label in tab.locator("#record .stance-choices label").all()))
    shots(tab, "collect-390")
    for person, stance, words in ((village.adults[0], "agree", ""), (village.adults[3], "comment", "车位要留给老人")):
        tab.select_option("#record select[name=person]", str(person.pk))
        tab.locator(f"#record input[name=stance][value={stance}]").tap()
        if stance == "agree":  # 本人已签字: a checkbox beside the opinion, its label a 44px tap area
            signed = tab.locator("#record .signed-choice label")
            assert signed.bounding_box()["height"] >= 44
            signed.tap()
            assert tab.locator("#record input[name=signed]").is_checked()
        if words:
            tab.fill("#record textarea[name=text]", words)
        with tab.expect_navigation():
            tab.locator("#record button[type=submit]").tap()
        assert tab.locator(".messages li.success").count() == 1
    rows = CollectedOpinion.objects.filter(topic=topic)
    assert rows.count() == 2 and {r.collected_by_id for r in rows} == {lead.pk}
    assert [r.person_id for r in rows if r.signed] == [village.adults[0].pk]
    assert fits(tab)
    shots(tab, "collected-390")
    tab.goto(reverse("deliberation:topic", args=[topic.pk]))
    counted = tab.inner_text("#collected")
    assert "2" in tab.inner_text("#collected .big") and village.adults[0].name not in counted
    shots(tab, "topic-counts-390")
    assert not tab.errors
