"""Deliberation use cases against the database: bodies from the register, topics and support, moderation,
opinion maps, meetings with quorum, ballots (open, secret, paper), procedures and disclosure."""

import datetime as dt
import json

import pytest
from django.db import models

from gongzhi.core import clock
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.org.tests import factories as f

from gongzhi.deliberation import moderation, services
from gongzhi.deliberation.models import Ballot, Disclosure, Motion, Statement, Topic, VoterMark


# --- bodies --------------------------------------------------------------------------------------------

def test_villagers_meeting_is_every_adult_of_the_village(village):
    members = services.members_of(village.body("villagers_meeting"))
    assert {m.person.pk for m in members} == {p.pk for p in village.adults}


def test_household_representatives_are_one_per_household_the_head_first(village):
    members = services.members_of(village.body("household_representatives_meeting"))
    assert len(members) == 6
    assert all(m.person.relation_to_head == "户主" for m in members)


def test_party_members_meeting_is_the_branch_members_with_the_secretary_as_principal(village):
    members = services.members_of(village.body("party_members_meeting"))
    assert {m.person.pk for m in members} == {p.pk for p in village.party_members}
    assert [m.person.pk for m in members if m.is_principal] == [village.secretary.pk]


def test_two_committees_count_a_person_holding_both_posts_once(village):
    members = services.members_of(village.body("two_committees_joint_meeting"))
    ids = [m.person.pk for m in members]
    assert len(ids) == len(set(ids)) == 4  # secretary-director, deputy, branch member, committee member


def test_a_post_that_has_ended_takes_its_holder_off_the_committee(village):
    post = village.adults[3].posts.get(organisation=village.committee)
    post.end_date = dt.date(2026, 2, 1)
    post.save()
    members = services.members_of(village.body("villagers_committee"))
    assert village.adults[3].pk not in {m.person.pk for m in members}


def test_representatives_are_the_configured_members(village):
    members = services.members_of(village.body("villagers_representatives_meeting"))
    assert len(members) == 5


def test_a_body_of_a_derived_kind_refuses_configured_members(village):
    with pytest.raises(ValidationFailed):
        services.add_body_member(village.officer, village.body("villagers_meeting"), village.adults[1])


def test_a_resident_cannot_create_a_body(village):
    with pytest.raises(PermissionDenied):
        services.create_body(village.adults[8].user, region=village.village, kind="configured", name="议事会")


# --- topics, support, discussion -------------------------------------------------------------------------

def test_a_resident_proposal_goes_on_the_agenda_once_enough_residents_support_it(village):
    topic = services.propose_topic(village.adults[6].user, region=village.village, title="修村口道路",
                                   description="雨天积水", support_threshold=2)
    assert topic.status == Topic.Status.PENDING  # held until an officer publishes it (pre-moderation)
    topic = moderation.approve_topic(village.officer, topic)
    assert topic.status == Topic.Status.COLLECTING
    services.support_topic(village.adults[7].user, topic)
    topic = services.support_topic(village.adults[8].user, topic)
    assert topic.status == Topic.Status.AGENDA and topic.support_count == 2


def test_support_twice_or_for_ones_own_proposal_is_refused_and_changes_nothing(village):
    topic = services.propose_topic(village.adults[6].user, region=village.village, title="路灯", description="不亮",
                                   support_threshold=5)
    topic = moderation.approve_topic(village.officer, topic)
    services.support_topic(village.adults[7].user, topic)
    with pytest.raises(Conflict):
        services.support_topic(village.adults[7].user, topic)
    with pytest.raises(ValidationFailed):
        services.support_topic(village.adults[6].user, topic)
    topic.refresh_from_db()
    assert topic.support_count == 1


def test_a_resident_of_another_community_cannot_propose_here(village, world):
    outsider = f.user("outsider")
    f.person("外人", world.household_b, user=outsider)
    with pytest.raises(PermissionDenied):
        services.propose_topic(outsider, region=village.village, title="x", description="y")


def test_a_hidden_comment_keeps_its_text_and_logs_who_hid_it_and_why(village):
    topic = services.propose_topic(village.officer, region=village.village, title="垃圾分类", description="方案",
                                   origin="organisation")
    comment = services.add_comment(village.adults[6].user, topic, "我有意见，电话13900001111")
    services.report(village.adults[7].user, comment=comment, reason="含个人信息")
    services.hide_comment(village.officer, comment, "含个人信息")
    comment.refresh_from_db()
    assert comment.is_hidden and comment.text.startswith("我有意见")
    event = Event.objects.filter(kind="deliberation.hide_comment").get()
    assert event.actor == village.officer and event.data["reason"] == "含个人信息"
    with pytest.raises(PermissionDenied):
        services.hide_comment(village.adults[7].user, comment, "x")


# --- opinion map --------------------------------------------------------------------------------------

def test_the_opinion_map_is_recomputed_when_votes_arrive_and_shows_no_user_ids(village):
    topic = services.propose_topic(village.officer, region=village.village, title="村规民约修订",
                                   description="征求意见", origin="organisation")
    texts = ["保留集体林地", "增加停车位", "禁止焚烧秸秆", "建文化广场", "路灯节能改造", "垃圾定点投放", "设立调解室",
             "公开财务明细"]
    statements = [services.add_statement(village.officer, topic, t) for t in texts]
    for i, person in enumerate(village.adults):
        side = 1 if i % 2 else -1
        for j, statement in enumerate(statements):
            vote = 1 if j >= 6 else (side if j % 2 else -side)
            services.vote_statement(person.user, statement, vote)
    first = services.opinion_map(topic)
    assert first["n_participants"] == len(village.adults)
    assert first["k"] >= 2
    consensus = {item["statement"] for item in first["consensus"]}
    assert {statements[6].pk, statements[7].pk} & consensus
    # Common ground: only what both sides agree with, not what one side agrees with.
    assert {item["statement"] for item in first["common_ground"]} == {statements[6].pk, statements[7].pk}
    assert all(set(point) == {"x", "y", "group"} for point in first["points"])
    # The two sides land in different groups, and each participant can learn their own.
    group_of = {p.pk: services.participant_group(topic, p.user) for p in village.adults[:2]}
    assert None not in group_of.values() and group_of[village.adults[0].pk] != group_of[village.adults[1].pk]
    services.vote_statement(village.adults[0].user, statements[0], 0)
    topic.refresh_from_db()
    assert services.opinion_map(topic) is not first  # recomputed after the new vote
    assert topic.opinion_map.votes_seen == topic.vote_changes


def test_a_statement_moderated_out_takes_no_more_votes(village):
    topic = services.propose_topic(village.officer, region=village.village, title="t", description="d",
                                   origin="organisation")
    statement = services.add_statement(village.adults[6].user, topic, "广告内容")
    services.moderate_statement(village.officer, statement, accept=False, reason="广告")
    with pytest.raises(ValidationFailed):
        services.vote_statement(village.adults[7].user, statement, 1)


def test_next_statement_is_one_not_yet_voted(village):
    topic = services.propose_topic(village.officer, region=village.village, title="t", description="d",
                                   origin="organisation")
    a = services.add_statement(village.officer, topic, "甲")
    b = services.add_statement(village.officer, topic, "乙")
    services.vote_statement(village.adults[6].user, a, 1)
    assert services.next_statement(village.adults[6].user, topic, seed=1) == b
    services.vote_statement(village.adults[6].user, b, -1)
    assert services.next_statement(village.adults[6].user, topic, seed=1) is None


# --- meetings and quorum ----------------------------------------------------------------------------------

def test_a_meeting_without_due_notice_is_refused(village):
    body = village.body("villagers_meeting")
    with pytest.raises(ValidationFailed) as err:
        services.schedule_meeting(village.officer, body, title="会", agenda="议程",
                                  starts_at=clock.now() + dt.timedelta(days=2))
    assert err.value.code == "notice_too_short"


def test_the_roll_is_frozen_when_the_meeting_opens(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=[])
    assert meeting.roll.count() == 12
    f.person("新村民", village.households[0], birth_date=dt.date(1990, 1, 1))
    assert meeting.roll.count() == 12


def test_a_motion_in_a_meeting_without_quorum_is_refused(village):
    # 12 adults: more than half is 7; 6 present is not enough (households: 6 of 6 would be, but only
    # 3 households are represented among these 6 people).
    present = village.adults[:6]
    meeting, starts = village.open_meeting("villagers_meeting", present=present)
    with clock.frozen_at(starts + dt.timedelta(minutes=10)), pytest.raises(ValidationFailed) as err:
        services.open_motion(village.officer, meeting, text="修路")
    assert err.value.code == "no_quorum"
    assert not Motion.objects.exists()


def test_two_thirds_of_household_representatives_also_make_a_villagers_meeting_quorum(village):
    # Art. 22: "三分之二以上的户的代表", and 以上 includes the figure itself. One adult from each of 3 of
    # the 6 households is not enough (nor are 3 of 12 adults).
    present = [village.adults[2 * i] for i in range(3)]
    meeting, starts = village.open_meeting("villagers_meeting", present=present)
    assert not services.quorum(meeting).is_met
    # A fourth household makes 4 of 6, two thirds, while 4 of 12 adults is still far from half.
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        services.sign_in(village.adults[6].user, meeting)
    check = services.quorum(meeting)
    assert check.is_met and check.basis == "households"


def test_attendance_entered_by_the_secretary_counts_only_once_a_second_person_confirms(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:6])
    with clock.frozen_at(starts + dt.timedelta(minutes=15)):
        entry = services.record_attendance(village.officer, meeting, village.adults[6])
        assert not services.quorum(meeting).is_met
        with pytest.raises(ValidationFailed):
            services.confirm_attendance(village.officer, entry)
        services.confirm_attendance(village.clerk, entry)
        assert services.quorum(meeting).is_met


# --- ballots --------------------------------------------------------------------------------------------

def _vote_all(meeting, starts, motion, choices):
    with clock.frozen_at(starts + dt.timedelta(minutes=30)):
        for person, choice in choices:
            services.cast_ballot(person.user, motion, choice)
        return services.close_motion(meeting.secretary, motion)


def test_a_villagers_meeting_decides_by_more_than_half_of_those_present(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意修路")
    # 8 present: 5 yes is more than half; 4 yes (exactly half) is not.
    closed = _vote_all(meeting, starts, motion, [(p, "yes") for p in village.adults[:5]]
                       + [(p, "no") for p in village.adults[5:8]])
    assert closed.is_passed and closed.result["tally"]["yes"] == 5
    with clock.frozen_at(starts + dt.timedelta(minutes=40)):
        second = services.open_motion(village.officer, meeting, text="同意建广场")
    closed = _vote_all(meeting, starts, second, [(p, "yes") for p in village.adults[:4]]
                       + [(p, "abstain") for p in village.adults[4:8]])
    assert closed.is_passed is False


def test_second_vote_unknown_option_vote_after_close_and_absent_voter_are_refused(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="选址", method="plurality",
                                      options=["村东", "村西"])
        services.cast_ballot(village.adults[0].user, motion, "村东")
        with pytest.raises(Conflict):
            services.cast_ballot(village.adults[0].user, motion, "村西")
        with pytest.raises(ValidationFailed) as err:
            services.cast_ballot(village.adults[1].user, motion, "村北")
        assert err.value.code == "unknown_option"
        with pytest.raises(PermissionDenied):
            services.cast_ballot(village.adults[10].user, motion, "村西")  # on the roll, not signed in
        services.close_motion(village.officer, motion)
        with pytest.raises(ValidationFailed) as err:
            services.cast_ballot(village.adults[2].user, motion, "村西")
        assert err.value.code == "vote_closed"
    assert Ballot.objects.filter(motion=motion).count() == 1


def test_a_secret_ballot_keeps_no_voter_and_anyone_can_recount_it_from_the_published_list(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:9])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="选举监委会主任", method="irv",
                                      options=["甲", "乙", "丙"], secret=True)
        receipts = {}
        ballots = [["甲", "乙"], ["乙", "甲"], ["丙", "乙"], ["甲"], ["乙"], ["丙", "甲"], ["甲", "丙"], ["乙", "丙"],
                   ["丙", "乙"]]
        for person, choice in zip(village.adults[:9], ballots):
            receipts[person.pk] = (services.cast_ballot(person.user, motion, choice), choice)
        closed = services.close_motion(village.officer, motion)
    assert not Ballot.objects.filter(motion=motion, voter__isnull=False).exists()
    assert VoterMark.objects.filter(motion=motion).count() == 9
    # After the close the rows sit in tracker order, not in the order of casting.
    from django.db import connection

    with connection.cursor() as cursor:
        table = Ballot._meta.db_table
        order = "rowid" if connection.vendor == "sqlite" else "ctid"
        cursor.execute(f"SELECT tracker FROM {table} WHERE motion_id = %s ORDER BY {order}", [motion.pk])
        stored = [row[0] for row in cursor.fetchall()]
    assert stored == sorted(stored)
    published = services.published_ballots(closed)
    by_tracker = {row["tracker"]: row["choice"] for row in published}
    for receipt, choice in receipts.values():
        assert by_tracker[receipt.tracker] == choice
        assert services.tracker_for(motion.pk, receipt.nonce, choice) == receipt.tracker
    recount = services.recount(published, method="irv", options=closed.options, seats=1)
    assert recount == closed.result["tally"]
    # The log says that each person voted, never with which tracker.
    marks = Event.objects.filter(kind="deliberation.mark_voted")
    assert marks.count() == 9 and all("tracker" not in e.data for e in marks)


def test_an_open_votes_paper_ballot_names_its_voter_and_counts_once_a_second_person_confirms_it(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意")
        with pytest.raises(ValidationFailed) as err:
            services.enter_paper_ballot(village.officer, motion, "yes")
        assert err.value.code == "voter_required"
        ballot = services.enter_paper_ballot(village.officer, motion, "yes", voter=village.adults[7])
        assert ballot.voter == village.adults[7] and ballot.choice == "yes"
        with pytest.raises(Conflict):  # who handed in a paper ballot cannot vote again online
            services.cast_ballot(village.adults[7].user, motion, "no")
        with pytest.raises(ValidationFailed) as err:
            services.close_motion(village.officer, motion)
        assert err.value.code == "unconfirmed_ballots"
        with pytest.raises(ValidationFailed):
            services.confirm_paper_ballot(village.officer, ballot)
        services.confirm_paper_ballot(village.clerk, ballot)
        closed = services.close_motion(village.officer, motion)
    assert closed.result["tally"]["yes"] == 1


def _secret_paper_vote(village, handed_in, box):
    """A secret yes/no vote: `handed_in` members marked on the paper roll one by one, then the `box`'s
    ballots entered by the officer and confirmed by the clerk."""
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:10])
    now = starts + dt.timedelta(minutes=20)
    with clock.frozen_at(now):
        motion = services.open_motion(village.officer, meeting, text="同意修路", secret=True)
    for i, person in enumerate(handed_in):
        with clock.frozen_at(now + dt.timedelta(minutes=1 + i)):
            services.mark_paper_ballot(village.officer, motion, person)
    entered = []
    with clock.frozen_at(now + dt.timedelta(minutes=30)):
        for choice in box:
            entered.append(services.enter_paper_ballot(village.officer, motion, choice))
        for ballot in entered:
            services.confirm_paper_ballot(village.clerk, ballot)
    return motion, now + dt.timedelta(minutes=31), entered


def test_a_secret_paper_ballot_is_marked_on_the_roll_and_entered_from_the_box_in_steps_that_cannot_be_joined(village):
    voters = village.adults[:3]
    motion, later, entered = _secret_paper_vote(village, voters, ["no", "yes", "yes"])
    # The roll mark names no ballot; the ballot names no voter, holds no time, and while the vote is open
    # not even its choice or tracker in the clear.
    marks = VoterMark.objects.filter(motion=motion)
    assert sorted(m.person_id for m in marks) == sorted(p.pk for p in voters) and all(m.is_paper for m in marks)
    assert not any(isinstance(field, models.ForeignKey) and field.related_model is Ballot
                   for field in VoterMark._meta.get_fields())
    assert not any(isinstance(field, (models.DateTimeField, models.DateField)) for field in Ballot._meta.get_fields())
    for ballot in Ballot.objects.filter(motion=motion):
        assert ballot.voter_id is None and ballot.choice is None and ballot.tracker is None and ballot.sealed
        assert ballot.pk.version == 4
    # The journal: marks name the person only as a private (committed) value and no ballot; entries and
    # confirmations name a ballot and no person; and every mark precedes every entry, so the order of the
    # two steps cannot be matched up.
    log = list(Event.objects.filter(subject_id=str(motion.pk), kind__in=[
        "deliberation.mark_voted", "deliberation.enter_paper_ballot", "deliberation.confirm_ballot"]).order_by("id"))
    kinds = [e.kind for e in log]
    assert kinds == ["deliberation.mark_voted"] * 3 + ["deliberation.enter_paper_ballot"] * 3 \
        + ["deliberation.confirm_ballot"] * 3
    for event in log:
        public = json.dumps(event.data)
        if event.kind == "deliberation.mark_voted":
            assert "ballot" not in event.data and event.private == {"person": event.private["person"]}
        else:
            assert event.private == {} and not any(str(p.pk) in public.split(":")[-1] for p in [])
            assert set(event.data) == {"ballot"}
    # Once the box is opened nobody else can hand one in; no more ballots than were handed in.
    with clock.frozen_at(later):
        with pytest.raises(ValidationFailed) as err:
            services.mark_paper_ballot(village.officer, motion, village.adults[5])
        assert err.value.code == "ballot_box_opened"
        with pytest.raises(ValidationFailed) as err:
            services.enter_paper_ballot(village.officer, motion, "yes")
        assert err.value.code == "more_ballots_than_handed_in"
        with pytest.raises(ValidationFailed) as err:
            services.enter_paper_ballot(village.officer, motion, "yes", voter=village.adults[6])
        assert err.value.code == "voter_not_allowed"
        with pytest.raises(Conflict):  # marked as having handed in a paper ballot: no vote online
            services.cast_ballot(voters[0].user, motion, "yes")
        services.cast_ballot(village.adults[4].user, motion, "no")
        closed = services.close_motion(village.officer, motion)
    assert closed.result["tally"] == {**closed.result["tally"], "yes": 2, "no": 2}
    assert closed.result["paper"] == {"handed_in": 3, "entered": 3}
    published = services.published_ballots(closed)
    assert sorted(row["choice"] for row in published) == ["no", "no", "yes", "yes"]
    # Closing rewrote the rows under new ids: none of the ids seen while the vote was open survives.
    assert not Ballot.objects.filter(pk__in=[b.pk for b in entered]).exists()
    # Nor which ballots came from the box, nor who entered them: with the paper voters' marks that would
    # tell the paper voters' choices (all of them, when one voted on paper, or they agreed). Found in review.
    assert not Ballot.objects.filter(motion=closed).filter(
        models.Q(is_paper=True) | models.Q(entered_by__isnull=False) | models.Q(confirmed_by__isnull=False)).exists()


def test_a_secret_paper_ballot_needs_a_present_member_marked_once_and_a_second_officer(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意", secret=True)
        with pytest.raises(ValidationFailed) as err:
            services.mark_paper_ballot(village.officer, motion, village.adults[10])  # on the roll, absent
        assert err.value.code == "not_present"
        with pytest.raises(PermissionDenied):
            services.mark_paper_ballot(village.adults[5].user, motion, village.adults[2])
        with pytest.raises(ValidationFailed) as err:  # nothing handed in yet
            services.enter_paper_ballot(village.officer, motion, "yes")
        assert err.value.code == "more_ballots_than_handed_in"
        services.mark_paper_ballot(village.officer, motion, village.adults[2])
        with pytest.raises(Conflict):
            services.mark_paper_ballot(village.officer, motion, village.adults[2])
        ballot = services.enter_paper_ballot(village.officer, motion, "yes")
        box = services.paper_ballots(village.clerk, motion)
        assert (box.handed_in, box.entered, box.confirmed, box.box_opened) == (1, 1, 0, True)
        assert box.awaiting == [(ballot, "yes")]  # the second officer sees what the ballot says
        with pytest.raises(ValidationFailed) as err:
            services.confirm_paper_ballot(village.officer, ballot)
        assert err.value.code == "same_person"
        with pytest.raises(ValidationFailed) as err:
            services.close_motion(village.officer, motion)
        assert err.value.code == "unconfirmed_ballots"
        services.confirm_paper_ballot(village.clerk, ballot)
        open_vote = services.open_motion(village.officer, meeting, text="公开表决")
        with pytest.raises(ValidationFailed) as err:  # an open vote's paper ballot names its voter in one step
            services.mark_paper_ballot(village.officer, open_vote, village.adults[3])
        assert err.value.code == "not_secret"
        assert services.close_motion(village.officer, motion).result["tally"]["yes"] == 1


def test_while_a_secret_vote_is_open_a_database_reader_finds_no_choice_or_tracker_in_any_row(village):
    """What an administrator with the database (not the server's secret key) sees of an open secret vote:
    rows with random ids, no time and no voter, in the order written, but each choice and tracker sealed."""
    from django.db import connection

    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    choices = ["yes", "yes", "no", "abstain", "yes", "no"]
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意", secret=True)
        receipts = [services.cast_ballot(p.user, motion, c) for p, c in zip(village.adults, choices)]
        table = connection.ops.quote_name(Ballot._meta.db_table)
        order = "rowid" if connection.vendor == "sqlite" else "ctid"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} WHERE motion_id = %s ORDER BY {order}", [motion.pk])
            rows = cursor.fetchall()
        assert len(rows) == len(choices)
        dump = " ".join(str(value) for row in rows for value in row)
        for receipt, choice in zip(receipts, choices):
            assert receipt.tracker not in dump and receipt.nonce not in dump
        assert not any(word in dump for word in ('"yes"', '"no"', '"abstain"', " yes", " no ", "abstain"))
        sealed = list(Ballot.objects.filter(motion=motion).values_list("sealed", flat=True))
        assert len(set(sealed)) == len(choices)  # equal choices do not give equal seals
        closed = services.close_motion(village.officer, motion)
    by_tracker = {row["tracker"]: row["choice"] for row in services.published_ballots(closed)}
    assert [by_tracker[r.tracker] for r in receipts] == choices
    assert not Ballot.objects.filter(motion=motion).exclude(sealed="").exists()


def test_a_sealed_ballot_opens_with_the_previous_secret_key_after_a_key_rotation(village, settings):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="同意", secret=True)
        for person in village.adults[:5]:
            services.cast_ballot(person.user, motion, "yes")
        old = settings.SECRET_KEY
        settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
        with pytest.raises(Conflict) as err:
            services.close_motion(village.officer, motion)
        assert err.value.code == "ballot_seal_unreadable"
        settings.SECRET_KEY_FALLBACKS = [old]
        assert services.close_motion(village.officer, motion).result["tally"]["yes"] == 5


def test_a_committee_election_needs_more_than_half_to_vote_and_a_majority_to_elect(village):
    # 12 on the roll: 7 ballots make the election valid (6 would not).
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:7])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="选举村委会委员（2名）", method="majority_seats",
                                      options=["甲", "乙", "丙", "丁"], seats=2, secret=True)
        # 甲 on all 7 ballots, 乙 on 4 (more than half of 7), 丙 on 3, 丁 on 0.
        ballots = [["甲", "乙"]] * 4 + [["甲", "丙"]] * 3
        for person, choice in zip(village.adults[:7], ballots):
            services.cast_ballot(person.user, motion, choice)
        closed = services.close_motion(village.officer, motion)
    assert closed.is_passed and closed.result["tally"]["winners"] == ["甲", "乙"]


def test_an_election_with_too_few_voters_elects_nobody(village):
    meeting, starts = village.open_meeting("villagers_meeting", present=village.adults[:8])
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text="选举", method="majority_seats",
                                      options=["甲", "乙", "丙"], seats=1)
        for person in village.adults[:6]:  # 6 of 12 voted: exactly half is not more than half
            services.cast_ballot(person.user, motion, ["甲"])
        closed = services.close_motion(village.officer, motion)
    assert closed.is_passed is False and closed.result["tally"]["winners"] == []
    assert closed.result["tally"]["unfilled_seats"] == 1


# --- procedure -----------------------------------------------------------------------------------------

def _decide(village, kind, topic, stage, *, yes=True):
    meeting, starts = village.open_meeting(kind, topic=topic)
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = services.open_motion(village.officer, meeting, text=topic.title, topic=topic, stage_code=stage)
        for entry in meeting.roll.select_related("person"):
            services.cast_ballot(entry.person.user, motion, "yes" if yes else "no")
        services.close_motion(village.officer, motion)
        services.close_meeting(village.officer, meeting, minutes="会议记录")
        motion.refresh_from_db()
        meeting.refresh_from_db()
        return services.record_stage(village.officer, topic, stage, meeting=meeting, motion=motion,
                                     signatures=["签名"])


def test_four_deliberations_two_disclosures_runs_in_order_and_cannot_skip(village):
    topic = services.propose_topic(village.officer, region=village.village, title="村集体修建冷库",
                                   description="投资30万元", origin="organisation")
    topic = services.start_procedure(village.officer, topic, "four_deliberations_two_disclosures")
    procedure = services.topic_procedure(topic)
    codes = [s.code for s in procedure.stages]
    with pytest.raises(ValidationFailed) as err:
        services.record_stage(village.officer, topic, codes[1])
    assert err.value.code == "stage_out_of_order"
    _decide(village, "party_branch_committee", topic, codes[0])
    record = _decide(village, "two_committees_joint_meeting", topic, codes[1])
    assert record.outcome == "passed"
    with pytest.raises(ValidationFailed):
        services.record_stage(village.officer, topic, codes[3])
    _decide(village, "party_members_meeting", topic, codes[2])
    _decide(village, "villagers_representatives_meeting", topic, codes[3])
    topic.refresh_from_db()
    item = services.publish(village.officer, region=village.village, kind="resolution", title="决议公开",
                            body="决议内容", notice_days=7, topic=topic)
    with pytest.raises(ValidationFailed):  # still in its notice period
        services.record_stage(village.officer, topic, codes[4], disclosure=item)
    with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
        services.complete_disclosure(item)
        services.record_stage(village.officer, topic, codes[4], disclosure=item)
        result = services.publish(village.officer, region=village.village, kind="implementation", title="实施结果",
                                  body="已建成", notice_days=7, topic=topic)
    with clock.frozen_at(clock.now() + dt.timedelta(days=16)):
        services.complete_disclosure(result)
        services.record_stage(village.officer, topic, codes[5], disclosure=result)
    topic.refresh_from_db()
    assert topic.status == Topic.Status.COMPLETED
    assert [s.stage_code for s in topic.stages.all()] == codes


def test_a_failed_stage_returns_the_topic_with_the_reason(village):
    topic = services.propose_topic(village.officer, region=village.village, title="卖集体林地", description="d",
                                   origin="organisation")
    topic = services.start_procedure(village.officer, topic, "four_deliberations_two_disclosures")
    codes = [s.code for s in services.topic_procedure(topic).stages]
    _decide(village, "party_branch_committee", topic, codes[0])
    record = _decide(village, "two_committees_joint_meeting", topic, codes[1], yes=False)
    topic.refresh_from_db()
    assert record.outcome == "failed"
    assert topic.status == Topic.Status.RETURNED and topic.returned_reason
    with pytest.raises(ValidationFailed):
        services.record_stage(village.officer, topic, codes[2])


def test_a_meeting_stage_needs_the_right_body(village):
    topic = services.propose_topic(village.officer, region=village.village, title="t", description="d",
                                   origin="organisation")
    topic = services.start_procedure(village.officer, topic, "four_deliberations_two_disclosures")
    codes = [s.code for s in services.topic_procedure(topic).stages]
    _decide(village, "party_branch_committee", topic, codes[0])
    with pytest.raises(ValidationFailed) as err:
        _decide(village, "villagers_meeting", topic, codes[1])
    assert err.value.code == "wrong_body"


def test_consensus_statements_become_the_draft_resolution(village):
    topic = services.propose_topic(village.officer, region=village.village, title="t", description="d",
                                   origin="organisation")
    statements = [services.add_statement(village.officer, topic, t) for t in ("甲", "乙", "丙", "丁", "戊", "己", "庚")]
    for i, person in enumerate(village.adults):
        for j, statement in enumerate(statements):
            services.vote_statement(person.user, statement, 1 if j == 0 or (i + j) % 2 else -1)
    topic = services.draft_resolution_from_consensus(village.officer, topic)
    assert topic.draft_resolution == "1. 甲"


# --- disclosure ---------------------------------------------------------------------------------------

def test_a_disclosure_completes_only_after_its_period_and_every_objection_answered(village):
    item = services.publish(village.officer, region=village.village, kind="finances", title="三季度财务公开",
                            body="收入…支出…", notice_days=7)
    objection = services.file_objection(village.adults[9].user, item, "修路款为何超支？")
    with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
        with pytest.raises(ValidationFailed) as err:
            services.complete_disclosure(item)
        assert err.value.code == "objections_open"
        with pytest.raises(ValidationFailed):  # too late to object
            services.file_objection(village.adults[10].user, item, "还有问题")
        services.answer_objection(village.officer, objection, "因材料涨价，详见附表")
        assert services.complete_due_disclosures() == 1
    item.refresh_from_db()
    assert item.status == Disclosure.Status.COMPLETED
    kinds = list(Event.objects.filter(subject_type="deliberation.disclosure").values_list("kind", flat=True))
    assert kinds == ["deliberation.publish", "deliberation.object", "deliberation.answer_objection",
                     "deliberation.complete_disclosure"]
