"""Procedures: the stages run in order, none skipped, reordered or repeated; a failure sends the topic
back with its reason; custom procedures are validated."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.deliberation.procedures import (
    PROCEDURES,
    HistoryEntry,
    InvalidHistory,
    Outcome,
    StageKind,
    check_can_record,
    follow,
    next_stage,
    procedure_from_data,
    procedure_to_data,
)
from gongzhi.deliberation.rules import PRESETS

FOUR = PROCEDURES["four_deliberations_two_disclosures"]
COMMUNITY = PROCEDURES["community_consultation"]


def passed(*codes, procedure=FOUR):
    return [HistoryEntry(code, procedure.stage(code).success_outcome) for code in codes]


def refusal(procedure, history, stage_code, outcome=None, reason=""):
    refused = check_can_record(procedure, history, stage_code, outcome, reason)
    assert refused is not None, f"{stage_code} was allowed"
    return refused


def allowed(procedure, history, stage_code, outcome=None, reason=""):
    return check_can_record(procedure, history, stage_code, outcome, reason) is None


# --- the presets ----------------------------------------------------------------------------------------

def test_four_deliberations_two_disclosures_runs_in_its_six_stages():
    assert [s.name_zh for s in FOUR.stages] == [
        "党组织提议", "两委会议商议", "党员大会审议", "村民会议或村民代表会议决议", "决议公开", "实施结果公开"]
    assert [s.kind for s in FOUR.stages] == [StageKind.MEETING] * 4 + [StageKind.PUBLICATION] * 2
    assert all(s.can_fail for s in FOUR.stages[:4]) and not any(s.can_fail for s in FOUR.stages[4:])
    assert [s.code for s in FOUR.stages if s.decides] == ["villagers_resolution"]


def test_four_deliberations_meetings_follow_their_bodies_rules():
    assert FOUR.stage("party_members_review").rule_code_for("party_members_meeting") \
        == "party_members_meeting_four_deliberations"
    resolution = FOUR.stage("villagers_resolution")
    assert {m.body_kind: m.rule_code for m in resolution.meetings} == {
        "villagers_meeting": "villagers_meeting",
        "household_representatives_meeting": "household_representatives_meeting",
        "villagers_representatives_meeting": "villagers_representatives_meeting",
    }
    with pytest.raises(ValueError, match="cannot hold the stage"):
        resolution.rule_code_for("residents_meeting")


def test_community_consultation_runs_in_its_seven_stages():
    assert [s.name_zh for s in COMMUNITY.stages] == ["提出议题", "征求意见", "协商", "决议", "公示", "实施", "评议"]
    assert COMMUNITY.stage("consultation").rule_code_for("configured") is None  # the council's own rule
    assert COMMUNITY.stage("consultation").body_kinds == ("configured", "residents_committee")
    assert [s.code for s in COMMUNITY.stages if s.decides] == ["resolution"]
    assert COMMUNITY.stage("notice").notice_days == 7


def test_every_preset_meeting_names_its_rule_except_a_configured_bodys_own():
    for procedure in PROCEDURES.values():
        for stage in procedure.stages:
            for option in stage.meetings:
                assert option.rule_code in PRESETS or (option.body_kind == "configured" and option.rule_code is None)


# --- order ----------------------------------------------------------------------------------------------

def test_a_new_topic_starts_with_the_party_proposal():
    assert next_stage(FOUR, []).code == "party_proposal"
    assert allowed(FOUR, [], "party_proposal", Outcome.PASSED)


def test_stages_cannot_be_skipped():
    refused = refusal(FOUR, passed("party_proposal"), "party_members_review")
    assert refused.code == "stage_out_of_order"
    assert refused.expected == "two_committees_deliberation"
    assert "须先完成“两委会议商议”" in refused.message_zh
    assert "comes first" in refused.message_en


def test_the_villagers_cannot_resolve_before_the_party_members_review():
    history = passed("party_proposal", "two_committees_deliberation")
    assert refusal(FOUR, history, "villagers_resolution").code == "stage_out_of_order"


def test_a_publication_cannot_come_before_the_resolution():
    assert refusal(FOUR, [], "resolution_disclosure").code == "stage_out_of_order"


def test_a_passed_stage_cannot_be_repeated():
    refused = refusal(FOUR, passed("party_proposal", "two_committees_deliberation"), "party_proposal")
    assert refused.code == "stage_already_passed"
    assert refused.expected == "party_members_review"


def test_nothing_can_be_recorded_after_the_last_stage():
    history = passed(*(s.code for s in FOUR.stages))
    assert next_stage(FOUR, history) is None
    assert follow(FOUR, history).is_complete
    assert refusal(FOUR, history, "result_disclosure").code == "procedure_complete"


def test_an_unknown_stage_is_refused():
    assert refusal(FOUR, [], "referendum").code == "unknown_stage"


def test_a_refusal_reads_in_both_languages():
    refused = refusal(FOUR, [], "party_members_review")
    assert refused.message_zh in str(refused) and refused.message_en in str(refused)


# --- outcomes and failure -------------------------------------------------------------------------------

def test_a_failed_stage_returns_the_topic_to_the_proposing_stage_with_its_reason():
    history = passed("party_proposal", "two_committees_deliberation") + [
        HistoryEntry("party_members_review", Outcome.FAILED, "到会党员不足三分之二")]
    state = follow(FOUR, history)
    assert state.next_stage.code == "party_proposal"
    assert state.passed == ()
    assert state.round == 2
    assert (state.last_return.from_stage, state.last_return.to_stage, state.last_return.reason) == (
        "party_members_review", "party_proposal", "到会党员不足三分之二")


def test_after_a_return_the_stages_run_again_from_the_start():
    history = passed("party_proposal") + [HistoryEntry("two_committees_deliberation", "failed", "方案需修改")]
    assert refusal(FOUR, history, "two_committees_deliberation").code == "stage_out_of_order"
    history += passed("party_proposal", "two_committees_deliberation")
    assert next_stage(FOUR, history).code == "party_members_review"
    assert follow(FOUR, history).last_return.reason == "方案需修改"


def test_a_failure_needs_a_reason():
    for reason in ("", "   "):
        refused = refusal(FOUR, [], "party_proposal", Outcome.FAILED, reason)
        assert refused.code == "reason_required"
    assert allowed(FOUR, [], "party_proposal", Outcome.FAILED, "不符合村级重大事项范围")


def test_a_stage_that_cannot_fail_is_refused_a_failure():
    history = passed("party_proposal", "two_committees_deliberation", "party_members_review",
                     "villagers_resolution")
    assert refusal(FOUR, history, "resolution_disclosure", Outcome.FAILED, "有人反对").code == "outcome_not_allowed"
    assert allowed(FOUR, history, "resolution_disclosure", Outcome.DONE)
    assert refusal(FOUR, [], "party_proposal", "approved").code == "invalid_outcome"


def test_passed_and_done_both_complete_a_stage():
    assert next_stage(FOUR, [HistoryEntry("party_proposal", "done")]).code == "two_committees_deliberation"
    assert next_stage(COMMUNITY, [HistoryEntry("topic_proposal", "passed")]).code == "opinion_seeking"


def test_objections_upheld_in_the_community_notice_send_the_topic_back_to_consultation():
    history = passed("topic_proposal", "opinion_seeking", "consultation", "resolution", procedure=COMMUNITY)
    history.append(HistoryEntry("notice", Outcome.FAILED, "异议成立：选址需调整"))
    state = follow(COMMUNITY, history)
    assert state.next_stage.code == "consultation"
    assert state.passed == ("topic_proposal", "opinion_seeking")


def test_a_failed_evaluation_sends_the_work_back_to_implementation():
    codes = ("topic_proposal", "opinion_seeking", "consultation", "resolution", "notice", "implementation")
    history = passed(*codes, procedure=COMMUNITY) + [HistoryEntry("evaluation", "failed", "居民评议不满意")]
    assert next_stage(COMMUNITY, history).code == "implementation"


def test_a_failed_community_resolution_returns_to_the_proposal():
    codes = ("topic_proposal", "opinion_seeking", "consultation")
    history = passed(*codes, procedure=COMMUNITY) + [HistoryEntry("resolution", "failed", "未过半数")]
    assert next_stage(COMMUNITY, history).code == "topic_proposal"


def test_history_rows_may_be_model_rows_or_dicts():
    rows = [SimpleNamespace(stage_code="party_proposal", outcome="passed", reason=""),
            {"stage_code": "two_committees_deliberation", "outcome": "failed", "reason": "需补充论证"}]
    assert follow(FOUR, rows).last_return.reason == "需补充论证"


def test_an_out_of_order_history_is_refused_when_replayed():
    with pytest.raises(InvalidHistory, match="history entry 2: .*comes first") as caught:
        follow(FOUR, passed("party_proposal") + passed("party_members_review"))
    assert caught.value.refusal.code == "stage_out_of_order"


@given(st.lists(st.booleans(), max_size=30), st.sampled_from(sorted(PROCEDURES)))
def test_exactly_the_next_stage_may_be_recorded_at_every_point(failures, code):
    procedure = PROCEDURES[code]
    history = []
    for fails in failures:
        state = follow(procedure, history)
        if state.is_complete:
            break
        expected = state.next_stage
        for stage in procedure.stages:
            assert allowed(procedure, history, stage.code) == (stage.code == expected.code)
        if fails and expected.can_fail:
            history.append(HistoryEntry(expected.code, Outcome.FAILED, "理由"))
            assert follow(procedure, history).next_stage == procedure.return_target(expected)
        else:
            history.append(HistoryEntry(expected.code, expected.success_outcome))
            assert len(follow(procedure, history).passed) == len(state.passed) + 1


# --- custom procedures ----------------------------------------------------------------------------------

COUNCIL = [
    {"code": "propose", "name_zh": "提出议题", "name_en": "proposal", "kind": "step"},
    {"code": "council", "name_zh": "居民议事会协商", "name_en": "residents' council", "kind": "meeting",
     "meetings": [{"body_kind": "configured"}], "can_fail": True, "decides": True},
    {"code": "vote", "name_zh": "居民代表会议表决", "name_en": "representatives' vote", "kind": "meeting",
     "meetings": [{"body_kind": "residents_representatives_meeting", "rule_code": "residents_meeting"}],
     "can_fail": True, "return_to": "council"},
    {"code": "notice", "name_zh": "公示", "name_en": "notice", "kind": "publication", "notice_days": 5},
]


def test_a_custom_procedure_is_built_from_plain_data_and_enforced_alike():
    procedure = procedure_from_data(COUNCIL, code="council_procedure", name_zh="议事会程序",
                                    name_en="council procedure")
    assert [s.code for s in procedure.stages] == ["propose", "council", "vote", "notice"]
    assert procedure.stage("vote").rule_code_for("residents_representatives_meeting") == "residents_meeting"
    history = [HistoryEntry("propose", "done"), HistoryEntry("council", "passed"),
               HistoryEntry("vote", "failed", "未过半数")]
    assert next_stage(procedure, history).code == "council"
    assert refusal(procedure, [], "notice").code == "stage_out_of_order"


@pytest.mark.parametrize("code", sorted(PROCEDURES))
def test_every_preset_procedure_round_trips_through_plain_data(code):
    preset = PROCEDURES[code]
    data = procedure_to_data(preset)
    assert procedure_from_data(data, code=preset.code, name_zh=preset.name_zh, name_en=preset.name_en) == preset


def with_stage(index, **changes):
    stages = [dict(s) for s in COUNCIL]
    stages[index] = {k: v for k, v in {**stages[index], **changes}.items() if v is not None}
    return stages


@pytest.mark.parametrize("stages, message", [
    ([], "at least one stage"),
    ({"code": "propose"}, "a list of stages"),
    (COUNCIL + [COUNCIL[0]], "used twice: propose"),
    (with_stage(0, kind="ceremony"), "stage 1 \\(propose\\): unknown stage kind"),
    (with_stage(0, code="Propose Topic"), "lower-case"),
    (with_stage(0, name_en=" "), "Chinese and an English name"),
    (with_stage(0, colour="red"), "unknown field\\(s\\) colour"),
    ([{"code": "x", "name_zh": "x", "name_en": "x"}], "missing field\\(s\\) kind"),
    (with_stage(1, meetings=[]), "stage 2 \\(council\\): a meeting stage needs at least one body kind"),
    (with_stage(1, meetings=[{"body_kind": "village_assembly"}]), "unknown body kind"),
    (with_stage(1, meetings=[{"body_kind": "configured", "rule_code": "two_thirds"}]), "unknown rule preset"),
    (with_stage(1, meetings=[{"body_kind": "residents_meeting"}, {"body_kind": "residents_meeting"}]),
     "same body kind twice"),
    (with_stage(1, meetings=["residents_meeting"]), "a meeting is"),
    (with_stage(0, meetings=[{"body_kind": "residents_meeting"}]), "only a meeting stage has bodies"),
    (with_stage(3, notice_days=None), "notice period of 1 to 365 days"),
    (with_stage(3, notice_days=0), "notice period of 1 to 365 days"),
    (with_stage(3, notice_days="7"), "notice period of 1 to 365 days"),
    (with_stage(0, notice_days=3), "only a publication has a notice period"),
    (with_stage(1, return_to="vote"), "not an earlier stage"),
    (with_stage(2, return_to="nowhere"), "not an earlier stage"),
    (with_stage(3, return_to="propose"), "only a stage that can fail"),
    (with_stage(1, can_fail="yes"), "can_fail must be true or false"),
    (with_stage(0, decides=True), "only a meeting stage decides"),
    (with_stage(2, decides=True), "only one stage decides"),
])
def test_a_custom_procedure_with_nonsense_is_refused_with_a_clear_message(stages, message):
    with pytest.raises(ValueError, match=message):
        procedure_from_data(stages)


def test_a_custom_procedure_needs_a_proper_code():
    with pytest.raises(ValueError, match="procedure code"):
        procedure_from_data(COUNCIL, code="")
