"""The meetings index (a list per body: upcoming, in session, closed) and the month calendar, each meeting
linking to its page; and the home page's items: the meetings of the user's bodies today, the votes waiting
for them. Membership for one person (services.is_member) agrees with the body's whole membership."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock, workbench
from gongzhi.deliberation import queries, services
from gongzhi.deliberation.models import Meeting
from gongzhi.org.models import Person
from gongzhi.org.tests import factories as f

pytestmark = pytest.mark.django_db


def get(client, url, user=None, **params):
    client.logout()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(url, params)


def text(response) -> str:
    return response.content.decode()


def schedule(village, kind, *, days=None, title=None):
    body = village.body(kind)
    starts = clock.now() + dt.timedelta(days=days or services.NOTICE_DAYS.get(kind, services.DEFAULT_NOTICE_DAYS))
    return services.schedule_meeting(village.officer, body, title=title or f"{body.name}会议", agenda="一、修路方案",
                                     starts_at=starts)


def closed_meeting_with_a_passed_motion(village):
    meeting, starts = village.open_meeting("villagers_representatives_meeting")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意修路")
        for entry in meeting.roll.select_related("person__user"):
            services.cast_ballot(entry.person.user, motion, "yes")
        services.close_motion(village.officer, motion)
        services.close_meeting(village.officer, meeting, minutes="通过修路方案")
    return meeting


def test_the_index_lists_upcoming_in_session_and_closed_meetings_with_quorum_and_outcomes(client, village):
    upcoming = schedule(village, "two_committees_joint_meeting", days=3, title="两委会议商议修路")
    in_session, _starts = village.open_meeting("party_members_meeting")
    closed = closed_meeting_with_a_passed_motion(village)
    url = reverse("deliberation:meetings")
    everything = text(get(client, url))
    for meeting in (upcoming, in_session, closed):
        assert reverse("deliberation:meeting", args=[meeting.pk]) in everything
    assert "quorum met" in everything and "1 passed" in everything
    only_upcoming = text(get(client, url, state="upcoming"))
    assert upcoming.title in only_upcoming and in_session.title not in only_upcoming
    assert closed.title not in only_upcoming
    only_open = text(get(client, url, state="open"))
    assert in_session.title in only_open and upcoming.title not in only_open
    only_closed = text(get(client, url, state="closed"))
    assert closed.title in only_closed and "1 passed" in only_closed and in_session.title not in only_closed


def test_the_index_lists_one_bodys_meetings(client, village):
    party = schedule(village, "party_branch_committee", days=2, title="支委会提议")
    committee = schedule(village, "two_committees_joint_meeting", days=2, title="两委会议")
    page = text(get(client, reverse("deliberation:meetings"), body=party.body_id))
    assert "支委会提议" in page and "两委会议" not in page
    assert committee.pk != party.pk


def test_the_index_names_no_resident(client, village):
    village.open_meeting("villagers_representatives_meeting")
    page = text(get(client, reverse("deliberation:meetings")))
    assert all(p.name not in page for p in village.adults)


def test_a_bad_filter_is_refused_with_400(client, village):
    assert get(client, reverse("deliberation:meetings"), state="sometime").status_code == 400
    assert get(client, reverse("deliberation:meetings"), body="999999").status_code == 400
    assert get(client, reverse("deliberation:meetings_calendar"), month="2026-13").status_code == 400


def test_the_calendar_puts_each_meeting_on_its_day_and_moves_between_months(client, village):
    # MONDAY_9AM is 2 March 2026; a 7-day notice puts the villagers' meeting on 9 March.
    meeting = schedule(village, "villagers_meeting", title="村民会议决议修路")
    url = reverse("deliberation:meetings_calendar")
    march = text(get(client, url, month="2026-03"))
    assert "村民会议决议修路" in march and reverse("deliberation:meeting", args=[meeting.pk]) in march
    assert "2026-03" in march and "?month=2026-04" in march and "?month=2026-02" in march
    assert "村民会议决议修路" not in text(get(client, url, month="2026-04"))
    other_body = text(get(client, url, month="2026-03", body=village.body("party_branch_committee").pk))
    assert "村民会议决议修路" not in other_body


def test_the_calendar_defaults_to_the_current_month(client, village):
    schedule(village, "villagers_meeting", title="村民会议")
    with clock.frozen_at(dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.timezone.utc)):
        assert "村民会议" in text(get(client, reverse("deliberation:meetings_calendar")))


def test_is_member_agrees_with_members_of_for_every_body_and_person(village):
    kinds = ("villagers_meeting", "household_representatives_meeting", "villagers_representatives_meeting",
             "party_members_meeting", "party_branch_committee", "two_committees_joint_meeting", "villagers_committee")
    people = list(Person.objects.all())
    for kind in kinds:
        body = village.body(kind)
        members = {m.person.pk for m in services.members_of(body)}
        assert members, kind
        assert {p.pk for p in people if services.is_member(body, p)} == members, kind


def _items(user):
    return {i.key: i for i in workbench.items_for(user)}


def test_a_member_sees_the_meetings_of_the_day_and_the_list_shows_exactly_those(client, village):
    kind = "villagers_representatives_meeting"
    meeting = schedule(village, kind, days=3, title="代表会议")
    schedule(village, "party_branch_committee", days=3, title="支委会")
    member = village.adults[6]  # a representative holding no post
    outsider = village.adults[9]  # neither a representative nor on the branch committee
    assert village.body(kind).members.filter(person=member).exists()
    with clock.frozen_at(meeting.starts_at - dt.timedelta(hours=1)):
        item = _items(member.user)["deliberation.meetings_today"]
        assert item.count == 1
        assert "deliberation.meetings_today" not in _items(outsider.user)
        listed = get(client, item.url, member.user)
        assert listed.status_code == 200
        assert "代表会议" in text(listed) and "支委会" not in text(listed)


def test_a_vote_waiting_for_a_present_member_is_an_urgent_item_until_they_vote(client, village):
    meeting, starts = village.open_meeting("villagers_representatives_meeting")
    voter = meeting.roll.select_related("person__user").first().person.user
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意修路")
        item = _items(voter)["deliberation.votes_waiting"]
        assert item.count == 1 and item.urgent
        assert meeting.title in text(get(client, item.url, voter))
        services.cast_ballot(voter, motion, "yes")
        assert "deliberation.votes_waiting" not in _items(voter)


def test_my_meetings_of_a_day_leave_out_closed_ones_and_other_days(village):
    meeting = closed_meeting_with_a_passed_motion(village)
    member = meeting.roll.first().person
    day = meeting.starts_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert queries.my_meetings_on(member.user, day) == []
    upcoming = schedule(village, "villagers_representatives_meeting", days=5)
    later = upcoming.starts_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert queries.my_meetings_on(member.user, later) == [upcoming.pk]
    assert queries.my_meetings_on(member.user, later + dt.timedelta(days=1)) == []


def test_the_meeting_page_the_index_links_to_has_agenda_quorum_and_motions(client, village):
    meeting = closed_meeting_with_a_passed_motion(village)
    page = text(get(client, reverse("deliberation:meeting", args=[meeting.pk])))
    assert "一、修路方案" in page or "议程" in page
    assert "同意修路" in page and Meeting.objects.get(pk=meeting.pk).status == "closed"
