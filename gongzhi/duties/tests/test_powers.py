"""Power lists: the village and community presets, what makes a matter major (三重一大), and the check that a
decision ran the procedure, before the body, under the rule and within the sum its item requires."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.deliberation.procedures import PROCEDURES
from gongzhi.deliberation.rules import BODY_KINDS
from gongzhi.duties.powers import (
    COMMUNITY_POWER_LIST,
    DEFAULT_COLLECTIVE_THRESHOLD,
    DEFAULT_MAJOR_THRESHOLD,
    GROUPS,
    LAND_CONSENT_RULES,
    MAJOR_KINDS,
    POWER_LISTS,
    VILLAGE_POWER_LIST,
    PowerItem,
    PowerKind,
    ProposedDecision,
    RecordSummary,
    Requirement,
    StageSummary,
    Tier,
    check_decision,
    classify_decision,
    item_from_data,
    item_to_data,
    power_list_from_data,
    power_list_to_data,
)


@pytest.fixture(autouse=True)
def _in_english():
    """Power lists' error messages are lazily translated; these tests match their English wording."""
    with translation.override("en"):
        yield


FOUR = "four_deliberations_two_disclosures"
CONSULTATION = "community_consultation"
VILLAGE, COMMUNITY = VILLAGE_POWER_LIST, COMMUNITY_POWER_LIST
SPENDING = VILLAGE["expenditure"]

_FOUR_BODIES = {
    "party_proposal": "party_branch_committee",
    "two_committees_deliberation": "two_committees_joint_meeting",
    "party_members_review": "party_members_meeting",
    "villagers_resolution": "villagers_representatives_meeting",
}


def four_record(*stage_codes, resolution=None, approved=None, signatories=()) -> RecordSummary:
    """A 四议两公开 record with the stages given, all passed unless `resolution` replaces the decision."""
    stages = []
    for code in stage_codes:
        if code == "villagers_resolution" and resolution is not None:
            stages.append(resolution)
        else:
            stages.append(StageSummary(code, True, _FOUR_BODIES.get(code), True if code in _FOUR_BODIES else None))
    return RecordSummary(FOUR, tuple(stages), approved, tuple(signatories))


UP_TO_RESOLUTION = ("party_proposal", "two_committees_deliberation", "party_members_review", "villagers_resolution")
PUBLISHED = UP_TO_RESOLUTION + ("resolution_disclosure",)


def resolution(body="villagers_representatives_meeting", passed=True, quorate=True, rule=None) -> StageSummary:
    return StageSummary("villagers_resolution", passed, body, quorate, rule)


def community_record(*, through="notice", body="residents_representatives_meeting", passed=True, approved=None):
    stages = []
    for stage in PROCEDURES[CONSULTATION].stages:
        if stage.code == "consultation":
            stages.append(StageSummary("consultation", True, "configured", True))
        elif stage.code == "resolution":
            stages.append(StageSummary("resolution", passed, body, True))
        else:
            stages.append(StageSummary(stage.code))
        if stage.code == through:
            break
    return RecordSummary(CONSULTATION, tuple(stages), approved)


def two_committees(passed=True, quorate=True, rule=None) -> RecordSummary:
    return RecordSummary(None, (StageSummary("meeting", passed, "two_committees_joint_meeting", quorate, rule),))


amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


# --- the presets ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", POWER_LISTS)
def test_each_preset_list_round_trips_through_plain_data(name):
    items = POWER_LISTS[name]
    assert power_list_from_data(power_list_to_data(items)) == items


@pytest.mark.parametrize("name", POWER_LISTS)
def test_each_preset_item_names_only_known_procedures_bodies_and_groups(name):
    for item in POWER_LISTS[name].values():
        assert item.group in GROUPS
        assert item.legal_basis, item.code
        requirements = [t.requirement for t in item.routine] + ([item.major] if item.major else [])
        for requirement in requirements:
            assert requirement.procedure_code in (None, *PROCEDURES)
            assert all(kind in BODY_KINDS for kind in requirement.allowed_bodies)


def test_village_list_groups_its_items_like_the_published_county_lists():
    groups = {item.group for item in VILLAGE.values()}
    assert {"major_decisions", "tendering", "assets_resources", "finance", "construction", "welfare",
            "self_governance", "services"} <= groups
    assert len(VILLAGE) >= 30


def test_village_major_matters_run_four_deliberations_and_community_ones_a_consultation_or_meeting():
    for item in VILLAGE.values():
        if item.major is not None and item.major.procedure_code is not None:
            assert item.major.procedure_code == FOUR, item.code
    for item in COMMUNITY.values():
        if item.major is not None:
            assert item.major.procedure_code in (None, CONSULTATION), item.code
            assert not set(item.major.allowed_bodies) & {"villagers_meeting", "villagers_representatives_meeting"}


@pytest.mark.parametrize("code", ["allowance_recipients", "collective_income_use", "public_welfare_funding",
                                  "land_compensation_distribution", "homestead_plan", "asset_lease",
                                  "asset_disposal"])
def test_matters_the_village_law_reserves_to_the_villagers_meeting_are_major_whatever_the_sum(code):
    item = VILLAGE[code]
    assert item.is_always_major
    assert classify_decision(item, ProposedDecision(Decimal("0.01"))).is_major


@pytest.mark.parametrize("code", ["land_contracting_scheme", "land_contracting_outsiders",
                                  "land_contract_adjustment", "construction_land_transfer"])
def test_land_matters_need_two_thirds_of_all_villagers_or_representatives(code):
    major = VILLAGE[code].major
    assert set(major.allowed_bodies) == {"villagers_meeting", "villagers_representatives_meeting"}
    for body in major.allowed_bodies:
        assert major.expected_rule(body)["threshold"] == {"base": "due", "share": "2/3", "comparison": "at_least"}


def test_village_charter_cannot_be_delegated_to_the_representatives():
    assert "villagers_representatives_meeting" not in VILLAGE["village_rules"].major.allowed_bodies


def test_routine_items_have_no_major_path():
    for items in POWER_LISTS.values():
        for item in items.values():
            if item.kind is PowerKind.ROUTINE:
                assert item.major is None and item.major_threshold is None
                assert not classify_decision(item, ProposedDecision(Decimal(10**9))).is_major


# --- classifying ----------------------------------------------------------------------------------------

def test_spending_exactly_at_the_major_threshold_is_major():
    assert DEFAULT_MAJOR_THRESHOLD == 50_000
    at = classify_decision(SPENDING, ProposedDecision("50000"))
    assert at.is_major and at.kind is PowerKind.LARGE_FUND
    assert at.requirement.procedure_code == FOUR
    assert at.reason_zh == "金额 50,000 元，达到 50,000 元（含）以上：属“三重一大”事项（大额资金使用）"


def test_spending_one_cent_below_the_major_threshold_is_routine_and_goes_to_the_two_committees():
    below = classify_decision(SPENDING, ProposedDecision("49999.99"))
    assert not below.is_major and below.kind is PowerKind.ROUTINE
    assert below.requirement.body_kinds == ("two_committees_joint_meeting",)
    assert below.reason_en == "49,999.99 yuan, below 50,000 yuan: a routine matter"


def test_spending_exactly_at_the_collective_threshold_needs_the_two_committees_and_below_it_two_signatures():
    assert DEFAULT_COLLECTIVE_THRESHOLD == 5_000
    assert classify_decision(SPENDING, ProposedDecision(5000)).requirement.body_kinds == (
        "two_committees_joint_meeting",)
    below = classify_decision(SPENDING, ProposedDecision("4999.99")).requirement
    assert not below.needs_meeting
    assert below.signatories == ("handler", "party_secretary", "committee_director")


def test_a_matter_with_no_sum_under_a_threshold_item_is_treated_as_major():
    assert classify_decision(SPENDING, ProposedDecision()).is_major


def test_declaring_a_three_major_kind_makes_a_small_matter_major():
    small = classify_decision(SPENDING, ProposedDecision(100, PowerKind.MAJOR_DECISION))
    assert small.is_major and small.kind is PowerKind.MAJOR_DECISION
    assert small.reason_en == "declared a major matter (major decision)"


def test_declaring_a_matter_routine_does_not_make_a_major_matter_routine():
    assert classify_decision(SPENDING, ProposedDecision(60_000, PowerKind.ROUTINE)).is_major
    assert classify_decision(VILLAGE["homestead_plan"], ProposedDecision(kind="routine")).is_major


def test_declaring_a_major_kind_under_an_item_without_a_major_procedure_is_refused():
    with pytest.raises(ValueError, match="no procedure for major matters"):
        classify_decision(VILLAGE["certificates"], ProposedDecision(kind=PowerKind.MAJOR_DECISION))


def test_a_float_sum_is_refused_because_money_is_exact():
    with pytest.raises(ValueError, match="not a float"):
        ProposedDecision(49999.99)


@given(amounts)
def test_a_sum_is_major_exactly_when_it_reaches_the_threshold(amount):
    assert classify_decision(SPENDING, ProposedDecision(amount)).is_major == (amount >= DEFAULT_MAJOR_THRESHOLD)


@given(amounts, amounts)
def test_a_larger_sum_never_needs_less(a, b):
    low, high = sorted((a, b))

    def level(amount):  # 0: signatures, 1: the two committees, 2: four deliberations
        requirement = classify_decision(SPENDING, ProposedDecision(amount)).requirement
        return 2 if requirement.procedure_code else 1 if requirement.body_kinds else 0
    assert level(low) <= level(high)


# --- checking a decision against the record -------------------------------------------------------------

def test_a_major_sum_resolved_and_published_under_four_deliberations_may_be_carried_out():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), four_record(*PUBLISHED, approved=60_000))
    assert verdict.is_accepted and verdict.code == "accepted" and not verdict.reasons
    assert verdict.message_zh == "须经四议两公开程序：已符合，可以实施"


def test_a_resolution_voted_down_is_refused_as_not_passed():
    record = four_record(*PUBLISHED, resolution=resolution(passed=False), approved=60_000)
    verdict = check_decision(SPENDING, ProposedDecision(60_000), record)
    assert not verdict.is_accepted and verdict.code == "not_passed"
    assert verdict.message_zh == "须经四议两公开程序，村民代表会议决议未通过"
    assert verdict.message_en == ("needs 四议两公开 (four deliberations, two disclosures); "
                                  "the villagers' representatives' meeting's resolution did not pass")


def test_an_inquorate_resolution_is_refused_as_no_quorum_even_if_marked_passed():
    record = four_record(*PUBLISHED, resolution=resolution(quorate=False), approved=60_000)
    verdict = check_decision(SPENDING, ProposedDecision(60_000), record)
    assert verdict.code == "no_quorum"
    assert verdict.reasons[0].message_zh == "村民代表会议未达到法定人数"


def test_a_major_matter_with_no_record_is_refused_as_no_resolution():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), None)
    assert verdict.code == "no_resolution"
    assert "尚无村民会议、户代表会议或村民代表会议的决议" in verdict.message_zh


def test_a_record_that_stops_before_the_resolution_is_refused_as_no_resolution():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), four_record("party_proposal", approved=60_000))
    assert verdict.code == "no_resolution"
    assert verdict.reasons[0].stage_code == "villagers_resolution"


def test_a_village_major_matter_run_as_a_community_consultation_is_the_wrong_procedure():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), community_record(approved=60_000))
    assert verdict.code == "wrong_procedure"
    assert verdict.message_zh == "须经四议两公开程序，记录的程序是社区协商"


def test_a_single_meeting_cannot_stand_in_for_four_deliberations():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), two_committees())
    assert verdict.code == "wrong_procedure"


def test_a_resolution_not_yet_published_cannot_be_carried_out():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), four_record(*UP_TO_RESOLUTION, approved=60_000))
    assert verdict.code == "procedure_incomplete"
    assert verdict.reasons[0].stage_code == "resolution_disclosure"
    assert verdict.message_zh == "须经四议两公开程序，“决议公开”尚未完成"


def test_a_skipped_party_members_review_makes_the_procedure_incomplete():
    record = four_record("party_proposal", "two_committees_deliberation", "villagers_resolution",
                         "resolution_disclosure", approved=60_000)
    verdict = check_decision(SPENDING, ProposedDecision(60_000), record)
    assert verdict.code == "procedure_incomplete"
    assert verdict.reasons[0].message_zh == "“党员大会审议”被跳过"


def test_the_verdict_lists_every_problem_and_shows_the_first():
    record = four_record("party_proposal", "villagers_resolution", resolution=resolution(passed=False))
    verdict = check_decision(SPENDING, ProposedDecision(60_000), record)
    assert [r.code for r in verdict.reasons] == ["not_passed", "procedure_incomplete"]


def test_a_sum_exactly_as_approved_is_accepted_and_one_cent_more_is_not():
    record = four_record(*PUBLISHED, approved="80000")
    assert check_decision(SPENDING, ProposedDecision("80000"), record).is_accepted
    over = check_decision(SPENDING, ProposedDecision("80000.01"), record)
    assert over.code == "amount_exceeds_approval"
    assert over.reasons[0].message_zh == "拟支出 80,000.01 元，超过决议批准的 80,000 元"


def test_a_resolution_that_states_no_sum_cannot_cover_spending():
    verdict = check_decision(SPENDING, ProposedDecision(60_000), four_record(*PUBLISHED))
    assert verdict.code == "amount_not_stated"


@given(amounts, amounts)
def test_spending_is_accepted_exactly_when_it_is_within_the_approved_sum(amount, approved):
    amount, approved = amount + DEFAULT_MAJOR_THRESHOLD, approved + DEFAULT_MAJOR_THRESHOLD
    verdict = check_decision(SPENDING, ProposedDecision(amount), four_record(*PUBLISHED, approved=approved))
    assert verdict.is_accepted == (amount <= approved)


def test_a_village_charter_adopted_by_the_representatives_is_the_wrong_body():
    record = four_record(*PUBLISHED)
    verdict = check_decision(VILLAGE["village_rules"], ProposedDecision(), record)
    assert verdict.code == "wrong_body"
    assert verdict.reasons[0].message_zh == "决议由村民代表会议作出，应由村民会议或户代表会议作出"
    good = four_record(*PUBLISHED, resolution=resolution(body="villagers_meeting"))
    assert check_decision(VILLAGE["village_rules"], ProposedDecision(), good).is_accepted


def test_a_resolution_under_a_rule_other_than_the_stage_demands_is_the_wrong_rule():
    record = four_record(*PUBLISHED, resolution=resolution(rule="simple_majority"), approved=60_000)
    verdict = check_decision(SPENDING, ProposedDecision(60_000), record)
    assert verdict.code == "wrong_rule"
    stated = four_record(*PUBLISHED, resolution=resolution(rule="villagers_representatives_meeting"),
                         approved=60_000)
    assert check_decision(SPENDING, ProposedDecision(60_000), stated).is_accepted


def test_land_contracting_by_an_ordinary_majority_is_the_wrong_rule():
    item = VILLAGE["land_contracting_scheme"]
    ordinary = four_record(*PUBLISHED, resolution=resolution(rule="villagers_representatives_meeting"))
    assert check_decision(item, ProposedDecision(), ordinary).code == "wrong_rule"
    unstated = four_record(*PUBLISHED)
    assert check_decision(item, ProposedDecision(), unstated).code == "wrong_rule"
    two_thirds = four_record(*PUBLISHED, resolution=resolution(
        rule=LAND_CONSENT_RULES["villagers_representatives_meeting"]))
    assert check_decision(item, ProposedDecision(), two_thirds).is_accepted


def test_the_same_rule_under_another_name_is_the_same_rule():
    renamed = {**LAND_CONSENT_RULES["villagers_representatives_meeting"], "code": "x", "name_zh": "乙",
               "name_en": "y"}
    record = four_record(*PUBLISHED, resolution=resolution(rule=renamed))
    assert check_decision(VILLAGE["land_contracting_scheme"], ProposedDecision(), record).is_accepted


def test_contracting_land_to_outsiders_also_needs_the_townships_approval():
    item = VILLAGE["land_contracting_outsiders"]
    rule = LAND_CONSENT_RULES["villagers_representatives_meeting"]
    unapproved = four_record(*PUBLISHED, resolution=resolution(rule=rule))
    verdict = check_decision(item, ProposedDecision(), unapproved)
    assert verdict.code == "missing_signature"
    assert verdict.reasons[0].message_zh == "缺少乡镇人民政府（街道办事处）的签字"
    approved = four_record(*PUBLISHED, resolution=resolution(rule=rule), signatories=("township",))
    assert check_decision(item, ProposedDecision(), approved).is_accepted


def test_small_spending_needs_the_handler_secretary_and_director_to_sign():
    verdict = check_decision(SPENDING, ProposedDecision(800), RecordSummary(signatories=("handler",)))
    assert verdict.code == "missing_signature"
    assert verdict.message_zh == ("须经经办人、党组织书记、村（居）委会主任签字，"
                                  "缺少党组织书记、村（居）委会主任的签字")
    signed = RecordSummary(signatories=("handler", "party_secretary", "committee_director"))
    assert check_decision(SPENDING, ProposedDecision(800), signed).is_accepted


def test_middle_spending_needs_a_passed_and_quorate_two_committees_meeting():
    decision = ProposedDecision(20_000)
    assert check_decision(SPENDING, decision, RecordSummary()).code == "no_resolution"
    assert check_decision(SPENDING, decision, two_committees(passed=False)).code == "not_passed"
    assert check_decision(SPENDING, decision, two_committees(quorate=False)).code == "no_quorum"
    wrong = RecordSummary(None, (StageSummary("meeting", True, "villagers_committee", True),), 20_000)
    assert check_decision(SPENDING, decision, wrong).code == "wrong_body"
    ok = RecordSummary(None, two_committees().stages, approved_amount=20_000)
    assert check_decision(SPENDING, decision, ok).is_accepted


def test_running_four_deliberations_for_a_two_committees_matter_is_enough():
    record = four_record(*PUBLISHED, approved=20_000)
    assert check_decision(SPENDING, ProposedDecision(20_000), record).is_accepted


def test_cadre_recommendation_needs_the_branch_committees_collective_decision_rule():
    item = VILLAGE["cadre_recommendation"]
    assert classify_decision(item, ProposedDecision()).kind is PowerKind.CADRE

    def meeting(rule):
        return RecordSummary(None, (StageSummary("meeting", True, "party_branch_committee", True, rule),))
    assert check_decision(item, ProposedDecision(), meeting("committee_majority")).code == "wrong_rule"
    assert check_decision(item, ProposedDecision(), meeting(None)).code == "wrong_rule"
    assert check_decision(item, ProposedDecision(), meeting("major_matters_collective_decision")).is_accepted


def test_a_community_major_matter_may_be_carried_out_once_its_notice_has_ended():
    item = COMMUNITY["major_matters"]
    assert check_decision(item, ProposedDecision(), community_record(through="notice")).is_accepted
    early = check_decision(item, ProposedDecision(), community_record(through="resolution"))
    assert early.code == "procedure_incomplete" and early.reasons[0].stage_code == "notice"
    voted_down = check_decision(item, ProposedDecision(), community_record(passed=False))
    assert voted_down.message_zh == "须经社区协商程序，居民代表会议决议未通过"


def test_community_spending_above_the_threshold_needs_a_consultation_with_the_sum_approved():
    item = COMMUNITY["expenditure"]
    record = community_record(approved=50_000)
    assert check_decision(item, ProposedDecision(50_000), record).is_accepted
    assert check_decision(item, ProposedDecision(50_001), record).code == "amount_exceeds_approval"


# --- editing lists --------------------------------------------------------------------------------------

def test_a_village_may_lower_its_threshold_by_editing_the_plain_data():
    data = item_to_data(SPENDING)
    data["major_threshold"] = "30000"
    data["routine"][1]["from_amount"] = "3000"
    edited = item_from_data(data)
    assert classify_decision(edited, ProposedDecision(30_000)).is_major
    assert classify_decision(edited, ProposedDecision(3_000)).requirement.body_kinds == (
        "two_committees_joint_meeting",)


@pytest.mark.parametrize("change, message", [
    ({"group": "nowhere"}, "unknown group"),
    ({"kind": "tyranny"}, "unknown kind"),
    ({"major_threshold": 0.5}, "not a float"),
    ({"major_threshold": "1000"}, "below the major threshold"),
    ({"routine": [{"from_amount": "100", "requirement": {"signatories": ["handler"]}}]}, "starts at 0"),
    ({"major": {"procedure_code": "coup"}}, "unknown procedure"),
    ({"major": {"procedure_code": FOUR, "body_kinds": ["residents_meeting"]}}, "cannot hold the stage"),
    ({"major": {"procedure_code": FOUR, "complete_through": "party_proposal"}}, "comes before the deciding"),
    ({"major": {"signatories": ["mayor"]}}, "unknown signatory"),
    ({"major": {}}, "needs a procedure, a deciding body or signatories"),
    ({"major": {"body_kinds": ["two_committees_joint_meeting"], "rules": {"two_committees_joint_meeting": "x"}}},
     "unknown rule preset"),
    ({"disclosures": [{"what_zh": "账", "what_en": "accounts", "timing": "never"}]}, "unknown disclosure timing"),
    ({"colour": "red"}, "unknown field"),
])
def test_an_edited_item_is_refused_with_the_item_and_the_problem_named(change, message):
    data = {**item_to_data(SPENDING), **change}
    with pytest.raises(ValueError, match=message) as raised:
        item_from_data(data)
    assert str(raised.value).startswith("item 'expenditure'")


def test_a_power_list_with_a_code_used_twice_is_refused():
    data = power_list_to_data(VILLAGE)
    with pytest.raises(ValueError, match="used twice"):
        power_list_from_data(data + data[:1])


def test_a_major_kind_item_needs_a_major_requirement_and_a_routine_one_none():
    with pytest.raises(ValueError, match="needs a requirement for major matters"):
        PowerItem("x", "甲", "x", "finance", PowerKind.LARGE_FUND, ("basis",))
    with pytest.raises(ValueError, match="routine item has no major requirement"):
        PowerItem("x", "甲", "x", "services", PowerKind.ROUTINE, ("basis",), Requirement(FOUR),
                  (Tier(0, Requirement(signatories=("handler",))),))
    assert MAJOR_KINDS == {PowerKind.MAJOR_DECISION, PowerKind.CADRE, PowerKind.MAJOR_PROJECT,
                           PowerKind.LARGE_FUND}


def test_a_record_naming_a_stage_its_procedure_lacks_is_refused():
    with pytest.raises(ValueError, match="has no stage"):
        RecordSummary(FOUR, (StageSummary("evaluation"),))


def test_a_verdict_is_stored_as_plain_json_data():
    record = four_record(*PUBLISHED, resolution=resolution(passed=False), approved=60_000)
    data = check_decision(SPENDING, ProposedDecision(60_000), record).to_data()
    assert json.loads(json.dumps(data)) == data
    assert data["code"] == "not_passed" and data["is_major"] and data["kind"] == "large_fund"
    assert data["requirement"] == {"procedure_code": FOUR, "complete_through": "resolution_disclosure"}
    assert data["reasons"][0]["stage"] == "villagers_resolution"


def test_every_preset_item_is_documented_in_the_power_lists_page():
    page = (Path(__file__).resolve().parents[3] / "docs" / "power-lists.md").read_text(encoding="utf-8")
    for items in POWER_LISTS.values():
        for item in items.values():
            assert f"| `{item.code}` | {item.name_zh} |" in page, item.code
