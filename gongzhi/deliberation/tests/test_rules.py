"""Statutory decision rules: every preset at and around its boundaries, elections, 三重一大 minutes,
custom rules and their validation, and the arithmetic's properties."""

from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.deliberation.rules import (
    BODY_KINDS,
    DEFAULT_PRESET_FOR_BODY,
    PRESETS,
    Attendance,
    Basis,
    Comparison,
    Counts,
    SourceKind,
    check_committee_minutes,
    check_election_valid,
    check_quorum,
    custom_rule,
    decide,
    elected_by_majority,
    further_round_minimum,
    required_count,
)


@pytest.fixture(autouse=True)
def _in_english():
    """The rules' error messages are lazily translated; these tests match their English wording."""
    with translation.override("en"):
        yield


HALF, TWO_THIRDS = Fraction(1, 2), Fraction(2, 3)
MORE, AT_LEAST = Comparison.MORE_THAN, Comparison.AT_LEAST


def roll(due, present, households=(None, None)) -> Attendance:
    return Attendance(due, present, *households)


def quorate(code, due, present, households=(None, None)) -> bool:
    return check_quorum(PRESETS[code], roll(due, present, households)).is_met


# --- arithmetic -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("share, comparison, total, needed", [
    (HALF, MORE, 7, 4),          # more than half of 7
    (HALF, MORE, 8, 5),          # more than half of 8: 4 is exactly half
    (HALF, AT_LEAST, 8, 4),      # half or more of 8
    (TWO_THIRDS, AT_LEAST, 7, 5),
    (TWO_THIRDS, MORE, 9, 7),    # 6 is exactly two thirds, not more
    (TWO_THIRDS, AT_LEAST, 9, 6),
    (TWO_THIRDS, AT_LEAST, 3, 2),
    (TWO_THIRDS, MORE, 3, 3),
    (Fraction(1, 3), AT_LEAST, 10, 4),
    (Fraction(4, 5), MORE, 10, 9),
])
def test_required_count_is_the_smallest_whole_number_meeting_the_share(share, comparison, total, needed):
    assert required_count(share, comparison, total) == needed


@given(st.integers(min_value=0, max_value=10_000))
def test_more_than_half_means_half_rounded_down_plus_one(n):
    assert required_count(HALF, MORE, n) == n // 2 + 1


@given(st.integers(min_value=1, max_value=1000), st.integers(min_value=1, max_value=50),
       st.integers(min_value=1, max_value=50), st.sampled_from([MORE, AT_LEAST]))
def test_required_count_is_exactly_the_boundary(n, a, b, comparison):
    share = Fraction(min(a, b), max(a, b))
    if share == 1 and comparison is MORE:
        return
    needed = required_count(share, comparison, n)
    meets = (lambda k: Fraction(k, n) > share) if comparison is MORE else (lambda k: Fraction(k, n) >= share)
    assert meets(needed)
    assert needed == 0 or not meets(needed - 1)


# --- villagers' meeting (村民委员会组织法 art. 22) --------------------------------------------------------

def test_villagers_meeting_needs_more_than_half_of_adults():
    assert not quorate("villagers_meeting", 100, 50)
    assert quorate("villagers_meeting", 100, 51)
    assert quorate("villagers_meeting", 7, 4)
    assert not quorate("villagers_meeting", 7, 3)


def test_villagers_meeting_may_instead_have_two_thirds_of_households_represented():
    # too few adults, but 20 of 30 households is exactly two thirds, which 三分之二以上 includes
    assert quorate("villagers_meeting", 100, 40, households=(30, 20))
    assert not quorate("villagers_meeting", 100, 40, households=(30, 19))


def test_villagers_meeting_quorum_is_met_by_either_alternative_alone():
    assert quorate("villagers_meeting", 100, 51, households=(30, 5))
    assert quorate("villagers_meeting", 100, 20, households=(30, 20))
    assert quorate("villagers_meeting", 100, 51)


def test_villagers_meeting_decides_by_more_than_half_of_those_present():
    rule = PRESETS["villagers_meeting"]
    assert not decide(rule, roll(100, 51), Counts(yes=25, no=20)).is_passed
    assert decide(rule, roll(100, 51), Counts(yes=26, no=20)).is_passed


def test_villagers_meeting_counts_those_present_who_did_not_vote_as_not_in_favour():
    decision = decide(PRESETS["villagers_meeting"], roll(100, 60), Counts(yes=30, no=10))
    assert not decision.is_passed
    assert (decision.threshold.base_count, decision.threshold.required) == (60, 31)


def test_villagers_meeting_without_a_quorum_fails_even_when_unanimous():
    decision = decide(PRESETS["villagers_meeting"], roll(100, 50, households=(30, 19)),
                      Counts(yes=50))
    assert not decision.is_passed
    assert not decision.quorum.is_met
    assert "不得表决" in decision.explanation_zh and "no valid vote" in decision.explanation_en


def test_villagers_meeting_quorate_by_households_still_decides_by_the_people_present():
    # 40 people from 20 of 30 households: quorate by households; 20 yes is not more than half of 40
    decision = decide(PRESETS["villagers_meeting"], roll(100, 40, households=(30, 20)), Counts(yes=20, no=15))
    assert decision.quorum.is_met and decision.quorum.basis is Basis.HOUSEHOLDS
    assert (decision.threshold.base_count, decision.threshold.required) == (40, 21)
    assert not decision.is_passed
    assert "户的代表：应到 30 户，实到 20 户，达到三分之二（需 20 户）" in decision.explanation_zh


def test_attendance_must_record_a_basis_the_rule_counts_on():
    with pytest.raises(ValueError, match="none of the bases"):
        check_quorum(PRESETS["household_representatives_meeting"], roll(9, 9))


def test_household_representatives_meeting_needs_two_thirds_of_households():
    assert quorate("household_representatives_meeting", 9, 6, households=(9, 6))
    assert not quorate("household_representatives_meeting", 9, 5, households=(9, 5))


# --- villagers' representatives' meeting (art. 26) ------------------------------------------------------

@pytest.mark.parametrize("members, too_few, enough", [(9, 5, 6), (7, 4, 5), (3, 1, 2), (30, 19, 20)])
def test_villagers_representatives_meeting_needs_two_thirds_of_its_members(members, too_few, enough):
    assert not quorate("villagers_representatives_meeting", members, too_few)
    assert quorate("villagers_representatives_meeting", members, enough)


def test_villagers_representatives_meeting_decides_by_more_than_half_of_those_present():
    rule = PRESETS["villagers_representatives_meeting"]
    assert not decide(rule, roll(9, 7), Counts(yes=3, no=4)).is_passed
    assert decide(rule, roll(9, 7), Counts(yes=4, no=3)).is_passed
    assert not decide(rule, roll(9, 6), Counts(yes=3, no=3)).is_passed


def test_a_strict_two_thirds_rule_explains_itself_with_the_numbers():
    rule = custom_rule(quorum=[{"basis": "members", "share": "2/3", "comparison": "more_than"}],
                       threshold={"base": "present", "share": "1/2", "comparison": "more_than"})
    check = check_quorum(rule, roll(9, 6))
    assert not check.is_met
    assert (check.required, check.actual, check.basis) == (7, 6, Basis.MEMBERS)
    assert check.explanation_zh.startswith("应到 9 人，实到 6 人，未超过三分之二（需 7 人）")
    assert check.explanation_en.startswith("9 due, 6 present: not more than two thirds (7 needed)")


# --- villagers' committee election (art. 15) ------------------------------------------------------------

def test_election_is_valid_only_when_more_than_half_of_registered_voters_vote():
    invalid = check_election_valid(1000, 500)
    assert not invalid.is_met
    assert invalid.required == 501
    assert "选举无效" in invalid.explanation_zh and "not valid" in invalid.explanation_en
    assert check_election_valid(1000, 501).is_met
    assert check_election_valid(7, 4).is_met and not check_election_valid(7, 3).is_met


def test_candidate_needs_more_than_half_of_the_ballots_cast():
    result = elected_by_majority({"a": 500, "b": 501}, ballots_cast=1000, seats=2)
    assert result.required == 501
    assert result.qualified == (("b", 501),)
    assert result.unfilled_seats == 1 and result.needs_further_round
    assert "1 名另行选举" in result.explanation_zh


def test_blank_and_invalid_ballots_raise_the_majority_a_candidate_needs():
    # 10 people voted, 2 of them spoilt their ballot: still more than half of 10
    assert elected_by_majority({"a": 5}, ballots_cast=10, seats=1).qualified == ()
    assert elected_by_majority({"a": 6}, ballots_cast=10, seats=1).qualified == (("a", 6),)


def test_majority_check_lists_qualified_candidates_by_votes_and_flags_too_many():
    result = elected_by_majority({"a": 6, "b": 8, "c": 6, "d": 0}, ballots_cast=10, seats=2)
    assert result.qualified == (("b", 8), ("a", 6), ("c", 6))
    assert result.has_more_qualified_than_seats and not result.needs_further_round


def test_further_round_needs_at_least_one_third_of_the_ballots_cast():
    assert further_round_minimum(9) == 3   # exactly a third is enough (不得少于)
    assert further_round_minimum(10) == 4
    assert further_round_minimum(0) == 1


@pytest.mark.parametrize("votes, ballots, seats, message", [
    ({"a": 11}, 10, 1, "more than the 10 ballots"),
    ({"a": -1}, 10, 1, "negative"),
    ({"a": 1}, 10, 0, "at least one seat"),
    ({"a": 8, "b": 8}, 10, 1, "more votes than"),
    ({"a": 1}, -3, 1, "negative"),
])
def test_majority_check_rejects_impossible_counts(votes, ballots, seats, message):
    with pytest.raises(ValueError, match=message):
        elected_by_majority(votes, ballots_cast=ballots, seats=seats)


# --- residents' meeting (城市居民委员会组织法 art. 10) ----------------------------------------------------

@pytest.mark.parametrize("due", [200, 80, 31])  # all adults, one per household, or the groups' representatives
def test_residents_meeting_needs_more_than_half_of_whoever_makes_it_up(due):
    assert not quorate("residents_meeting", due, due // 2)
    assert quorate("residents_meeting", due, due // 2 + 1)


def test_residents_meeting_decides_by_more_than_half_of_those_present():
    rule = PRESETS["residents_meeting"]
    assert not decide(rule, roll(30, 16), Counts(yes=8, no=8)).is_passed
    assert decide(rule, roll(30, 16), Counts(yes=9, no=7)).is_passed


# --- party members' meetings ----------------------------------------------------------------------------

def test_party_members_meeting_is_quorate_with_half_of_members_present():
    assert quorate("party_members_meeting", 10, 5)   # 半数以上 includes half
    assert not quorate("party_members_meeting", 10, 4)


def test_party_members_meeting_needs_more_than_half_of_those_due_not_of_those_present():
    rule = PRESETS["party_members_meeting"]
    assert not decide(rule, roll(10, 5), Counts(yes=5)).is_passed
    assert decide(rule, roll(10, 6), Counts(yes=6)).is_passed


def test_party_members_review_under_four_deliberations_needs_two_thirds_present():
    assert not quorate("party_members_meeting_four_deliberations", 9, 5)
    assert quorate("party_members_meeting_four_deliberations", 9, 6)
    assert quorate("party_members_meeting_four_deliberations", 7, 5)
    assert not quorate("party_members_meeting_four_deliberations", 7, 4)


def test_party_members_review_passes_with_more_than_half_of_those_due_in_favour():
    rule = PRESETS["party_members_meeting_four_deliberations"]
    assert not decide(rule, roll(9, 9), Counts(yes=4, no=5)).is_passed
    assert decide(rule, roll(9, 6), Counts(yes=5, no=1)).is_passed
    assert not decide(rule, roll(8, 6), Counts(yes=4, no=2)).is_passed


# --- committees and 三重一大 ----------------------------------------------------------------------------

def test_committee_majority_needs_more_than_half_of_members_present_and_in_favour():
    assert not quorate("committee_majority", 6, 3)
    rule = PRESETS["committee_majority"]
    assert decide(rule, roll(7, 4), Counts(yes=4)).is_passed
    assert not decide(rule, roll(7, 7), Counts(yes=3, no=4)).is_passed


MEMBERS = ["书记", "副书记", "委员甲", "委员乙", "委员丙", "委员丁", "委员戊", "委员己", "委员庚"]


def full_views(speakers):
    return [(m, "同意") for m in speakers if m != "书记"] + [("书记", "同意，按程序办理")]


def problem_codes(check):
    return [p.code for p in check.problems]


def test_major_matters_minutes_are_valid_when_every_member_present_speaks_and_the_principal_last():
    present = MEMBERS[:6]
    check = check_committee_minutes(MEMBERS, present, full_views(present), principal="书记")
    assert check.is_valid, check.explanation_en
    assert check.problems == ()
    assert "主要负责人最后表态" in check.explanation_zh


def test_major_matters_need_two_thirds_of_members_present():
    check = check_committee_minutes(MEMBERS, MEMBERS[:5], full_views(MEMBERS[:5]), principal="书记")
    assert problem_codes(check) == ["quorum_not_met"]
    assert (check.quorum.required, check.quorum.actual) == (6, 5)


def test_major_matters_minutes_need_a_view_from_every_member_present():
    present = MEMBERS[:7]
    views = [(m, "   " if m == "委员丙" else v) for m, v in full_views(present) if m != "委员乙"]
    # 委员乙 has no entry; 委员丙's entry is blank, which is no view either
    check = check_committee_minutes(MEMBERS, present, views, principal="书记")
    assert not check.is_valid
    assert sorted(p.member for p in check.problems if p.code == "view_missing") == ["委员丙", "委员乙"]
    assert "委员乙的意见未记录" in check.explanation_zh


def test_major_matters_principal_leader_must_speak_last():
    present = MEMBERS[:6]
    views = [("书记", "同意")] + [(m, "同意") for m in present if m != "书记"]
    check = check_committee_minutes(MEMBERS, present, views, principal="书记")
    assert problem_codes(check) == ["principal_not_last"]
    assert "最后发言：委员丁" in check.explanation_zh


def test_major_matters_principal_may_open_the_discussion_if_they_also_close_it():
    present = MEMBERS[:6]
    views = [("书记", "介绍议题")] + full_views(present)
    assert check_committee_minutes(MEMBERS, present, views, principal="书记").is_valid


def test_major_matters_an_attendee_speaking_after_the_principal_breaks_the_order():
    present = MEMBERS[:6]
    views = full_views(present) + [("列席人员", "补充说明")]
    check = check_committee_minutes(MEMBERS, present, views, principal="书记")
    assert problem_codes(check) == ["principal_not_last"]


def test_major_matters_minutes_flag_an_absent_principal_and_views_of_absent_members():
    present = MEMBERS[1:8]
    views = [(m, "同意") for m in present] + [("委员庚", "同意")]
    check = check_committee_minutes(MEMBERS, present, views, principal="书记")
    assert problem_codes(check) == ["principal_absent", "view_from_absent_member"]


@pytest.mark.parametrize("members, present, principal, message", [
    (["a", "b", "a"], ["a"], "a", "twice"),
    (["a", "b"], ["a", "c"], "a", "not a member"),
    (["a", "b"], ["a"], "z", "not a member"),
])
def test_committee_minutes_reject_inconsistent_rolls(members, present, principal, message):
    with pytest.raises(ValueError, match=message):
        check_committee_minutes(members, present, [], principal)


# --- abstentions and invalid ballots, as configured -----------------------------------------------------

def votes_cast_rule(abstentions="as_cast", invalid="as_cast", base="votes_cast"):
    return custom_rule(quorum=[{"basis": "members", "share": "1/2", "comparison": "more_than"}],
                       threshold={"base": base, "share": "1/2", "comparison": "more_than",
                                  "abstentions": abstentions, "invalid": invalid})


def test_abstentions_counted_as_cast_weigh_against_the_motion():
    decision = decide(votes_cast_rule(abstentions="as_cast"), roll(20, 11),
                      Counts(yes=5, no=3, abstain=3))
    assert (decision.threshold.base_count, decision.threshold.required) == (11, 6)
    assert not decision.is_passed


def test_abstentions_excluded_leave_the_votes_cast_smaller():
    decision = decide(votes_cast_rule(abstentions="excluded"), roll(20, 11),
                      Counts(yes=5, no=3, abstain=3))
    assert (decision.threshold.base_count, decision.threshold.required) == (8, 5)
    assert decision.is_passed


def test_invalid_ballots_count_as_configured():
    attendance, counts = roll(20, 12), Counts(yes=5, no=4, invalid=2)
    assert not decide(votes_cast_rule(invalid="as_cast"), attendance, counts).is_passed
    assert decide(votes_cast_rule(invalid="excluded"), attendance, counts).is_passed


def test_abstentions_always_count_against_when_the_base_is_those_present():
    counts = Counts(yes=5, no=3, abstain=3)
    assert not decide(votes_cast_rule(abstentions="excluded", base="present"), roll(20, 11),
                      counts).is_passed


def test_a_motion_nobody_voted_for_never_passes():
    rule = custom_rule(quorum={"basis": "members", "absolute": 1, "comparison": "at_least"},
                       threshold={"base": "votes_cast", "share": "1/2", "comparison": "at_least",
                                  "abstentions": "excluded"})
    assert not decide(rule, roll(5, 3), Counts(yes=0, abstain=3)).is_passed


# --- custom rules ---------------------------------------------------------------------------------------

def test_custom_rule_with_an_absolute_quorum():
    at_least_five = custom_rule(quorum=[{"basis": "members", "absolute": 5, "comparison": "at_least"}],
                                threshold={"base": "present", "share": "1/2"})
    assert check_quorum(at_least_five, roll(40, 5)).is_met
    assert not check_quorum(at_least_five, roll(40, 4)).is_met
    more_than_five = custom_rule(quorum=[{"basis": "members", "absolute": 5, "comparison": "more_than"}],
                                 threshold={"base": "present", "share": "1/2"})
    assert check_quorum(more_than_five, roll(40, 6)).required == 6
    assert "不足 5 人" in check_quorum(at_least_five, roll(40, 4)).explanation_zh


def test_custom_rule_quorum_may_count_households():
    rule = custom_rule(quorum=[{"basis": "households", "share": "1/2", "comparison": "at_least"}],
                       threshold={"base": "due", "share": "2/3", "comparison": "at_least"})
    decision = decide(rule, roll(12, 6, households=(12, 6)), Counts(yes=6))
    assert decision.quorum.is_met and not decision.is_passed
    assert decision.threshold.required == 8


def test_custom_rule_source_is_custom_and_round_trips_through_plain_data():
    rule = votes_cast_rule(abstentions="excluded")
    assert rule.source_kind is SourceKind.CUSTOM
    again = custom_rule(**rule.to_data())
    assert (again.quorum, again.threshold) == (rule.quorum, rule.threshold)


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_every_preset_round_trips_through_plain_data(code):
    preset = PRESETS[code]
    again = custom_rule(**preset.to_data())
    assert (again.code, again.quorum, again.threshold) == (preset.code, preset.quorum, preset.threshold)


@pytest.mark.parametrize("quorum, threshold, message", [
    ([{"basis": "members", "share": "3/2"}], {"base": "present", "share": "1/2"}, "at most 1"),
    ([{"basis": "members", "share": "0"}], {"base": "present", "share": "1/2"}, "more than 0"),
    ([{"basis": "members", "share": "-1/2"}], {"base": "present", "share": "1/2"}, "more than 0"),
    ([{"basis": "members", "share": 0.5}], {"base": "present", "share": "1/2"}, "not a float"),
    ([{"basis": "members", "share": "two thirds"}], {"base": "present", "share": "1/2"}, "not a fraction"),
    ([{"basis": "members", "share": "1", "comparison": "more_than"}], {"base": "present", "share": "1/2"},
     "more than all"),
    ([{"basis": "citizens", "share": "1/2"}], {"base": "present", "share": "1/2"}, "unknown quorum basis"),
    ([{"basis": "members", "share": "1/2", "absolute": 3}], {"base": "present", "share": "1/2"}, "not both"),
    ([{"basis": "members"}], {"base": "present", "share": "1/2"}, "either a share or an absolute"),
    ([{"basis": "members", "absolute": 0}], {"base": "present", "share": "1/2"}, "at least 1"),
    ([{"basis": "members", "absolute": -3}], {"base": "present", "share": "1/2"}, "negative"),
    ([{"basis": "members", "share": "1/2", "comparison": "roughly"}], {"base": "present", "share": "1/2"},
     "unknown comparison"),
    ([{"basis": "members", "share": "1/2", "quorum": 3}], {"base": "present", "share": "1/2"}, "unknown field"),
    ([{"basis": "members", "share": "1/2"}, {"basis": "members", "share": "2/3"}],
     {"base": "present", "share": "1/2"}, "same basis"),
    ([], {"base": "present", "share": "1/2"}, "at least one condition"),
    ([{"basis": "members", "share": "1/2"}], {"base": "everyone", "share": "1/2"}, "unknown threshold base"),
    ([{"basis": "members", "share": "1/2"}], {"base": "present", "share": "5/4"}, "at most 1"),
    ([{"basis": "members", "share": "1/2"}], {"base": "present", "share": "1", "comparison": "more_than"},
     "more than all"),
    ([{"basis": "members", "share": "1/2"}], {"base": "present", "share": "1/2", "abstentions": "ignored"},
     "abstentions must be counted"),
    ([{"basis": "members", "share": "1/2"}], {"base": "present", "share": "1/2", "veto": True}, "unknown field"),
])
def test_custom_rule_rejects_nonsense_with_a_clear_message(quorum, threshold, message):
    with pytest.raises(ValueError, match=message):
        custom_rule(quorum=quorum, threshold=threshold)


def test_quorum_condition_errors_name_the_condition():
    with pytest.raises(ValueError, match="quorum condition 2: share 3/2"):
        custom_rule(quorum=[{"basis": "members", "share": "1/2"}, {"basis": "households", "share": "3/2"}],
                    threshold={"base": "present", "share": "1/2"})


@pytest.mark.parametrize("make, message", [
    (lambda: roll(9, 10), "10 present is more than the 9 due"),
    (lambda: roll(-1, 0), "negative"),
    (lambda: roll(9, 2.5), "whole number"),
    (lambda: roll(9, 5, households=(4, 5)), "households: 5 present is more than the 4 due"),
    (lambda: Attendance(9, 5, households_due=4), "both households due and households present"),
    (lambda: Counts(yes=-1), "negative"),
    (lambda: Counts(yes=True), "whole number"),
])
def test_impossible_figures_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_more_ballots_than_people_present_is_refused():
    with pytest.raises(ValueError, match="7 ballots but only 6 present"):
        decide(PRESETS["committee_majority"], roll(9, 6), Counts(yes=4, no=3))


def test_a_body_with_no_one_due_cannot_meet():
    with pytest.raises(ValueError, match="no one is due"):
        check_quorum(PRESETS["committee_majority"], roll(0, 0))


# --- presets as a whole ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(PRESETS))
def test_every_preset_passes_a_unanimous_full_meeting_and_fails_an_empty_one(code):
    rule = PRESETS[code]
    assert decide(rule, roll(10, 10, households=(10, 10)), Counts(yes=10)).is_passed
    assert not decide(rule, roll(10, 0, households=(10, 0)), Counts(yes=0)).is_passed


def test_every_body_kind_has_a_default_preset():
    assert set(DEFAULT_PRESET_FOR_BODY) == set(BODY_KINDS)
    assert set(DEFAULT_PRESET_FOR_BODY.values()) <= set(PRESETS)


def test_presets_say_where_they_come_from():
    assert PRESETS["villagers_meeting"].source_kind is SourceKind.LAW
    assert "第二十二条" in PRESETS["villagers_meeting"].source
    assert "第二十六条" in PRESETS["villagers_representatives_meeting"].source
    assert "第十五条" in PRESETS["villagers_committee_election"].source
    assert PRESETS["party_members_meeting"].source_kind is SourceKind.PARTY_REGULATION
    assert PRESETS["residents_representatives_meeting"].source_kind is SourceKind.PROJECT_DEFAULT


def test_decision_figures_are_plain_data_for_the_minutes():
    decision = decide(PRESETS["villagers_representatives_meeting"], roll(9, 7),
                      Counts(yes=4, no=2, abstain=1))
    data = decision.to_data()
    assert data["quorum"] == {"is_met": True, "basis": "members", "required": 6, "actual": 7, "due": 9}
    assert data["threshold"]["required"] == 4 and data["threshold"]["actual"] == 4
    assert data["explanation_zh"] == "应到 9 人，实到 7 人，达到三分之二（需 6 人）：符合法定人数；" \
                                     "到会 7 人，赞成 4 票，过半数（需 4 票）：通过"
    assert data["explanation_en"] == "9 due, 7 present: at least two thirds (6 needed): quorum met; " \
                                     "7 present, 4 in favour: more than half (4 needed): passed"


# --- properties -----------------------------------------------------------------------------------------

shares = st.tuples(st.integers(1, 12), st.integers(1, 12)).map(lambda ab: Fraction(min(ab), max(ab)))


@st.composite
def rules(draw):
    if draw(st.booleans()):
        code = draw(st.sampled_from(sorted(c for c in PRESETS if len(PRESETS[c].quorum.conditions) == 1)))
        return PRESETS[code]
    comparison = draw(st.sampled_from(["more_than", "at_least"]))
    share = draw(shares.filter(lambda s: s < 1 or comparison == "at_least"))
    t_comparison = draw(st.sampled_from(["more_than", "at_least"]))
    t_share = draw(shares.filter(lambda s: s < 1 or t_comparison == "at_least"))
    return custom_rule(
        quorum=[{"basis": "members", "share": str(share), "comparison": comparison}],
        threshold={"base": draw(st.sampled_from(["votes_cast", "present", "due"])), "share": str(t_share),
                   "comparison": t_comparison, "abstentions": draw(st.sampled_from(["as_cast", "excluded"])),
                   "invalid": draw(st.sampled_from(["as_cast", "excluded"]))})


@st.composite
def meetings(draw):
    due = draw(st.integers(1, 60))
    present = draw(st.integers(0, due))
    yes = draw(st.integers(0, present))
    no = draw(st.integers(0, present - yes))
    abstain = draw(st.integers(0, present - yes - no))
    invalid = draw(st.integers(0, present - yes - no - abstain))
    return due, present, Counts(yes, no, abstain, invalid)


def attendance_for(rule, due, present):
    return roll(due, present, households=(due, present))


@given(rules(), meetings(), st.sampled_from(["no", "abstain", "invalid", "silent", "newcomer"]))
def test_one_more_yes_vote_never_turns_a_passed_motion_into_a_failed_one(rule, meeting, who):
    due, present, counts = meeting
    before = decide(rule, attendance_for(rule, due, present), counts)
    fields = {"yes": counts.yes + 1, "no": counts.no, "abstain": counts.abstain, "invalid": counts.invalid}
    if who in ("no", "abstain", "invalid"):
        if fields[who] == 0:
            return
        fields[who] -= 1
    elif who == "silent":
        if counts.ballots == present:
            return
    else:
        if present == due:
            return
        present += 1
    after = decide(rule, attendance_for(rule, due, present), Counts(**fields))
    assert after.is_passed or not before.is_passed


@given(rules(), st.integers(1, 200), st.data())
def test_a_quorum_met_with_n_present_is_met_with_n_plus_one(rule, due, data):
    n = data.draw(st.integers(0, due - 1))
    if check_quorum(rule, attendance_for(rule, due, n)).is_met:
        assert check_quorum(rule, attendance_for(rule, due, n + 1)).is_met


@given(rules(), meetings())
def test_every_decision_states_its_numbers_in_both_languages(rule, meeting):
    due, present, counts = meeting
    decision = decide(rule, attendance_for(rule, due, present), counts)
    for text in (decision.explanation_zh, decision.explanation_en):
        assert str(decision.quorum.required) in text and str(due) in text
    if decision.quorum.is_met:
        assert f"需 {decision.threshold.required} 票" in decision.explanation_zh
        assert f"({decision.threshold.required} needed)" in decision.explanation_en
    assert decision.is_passed == (decision.quorum.is_met and counts.yes >= decision.threshold.required)


@given(st.integers(1, 5000), st.data())
def test_election_validity_is_more_than_half_of_registered_voters(registered, data):
    voted = data.draw(st.integers(0, registered))
    assert check_election_valid(registered, voted).is_met == (2 * voted > registered)
