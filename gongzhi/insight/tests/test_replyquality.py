"""Reply quality check: what a unit's reply to a demand must say before it is sent, on sentences written for these
tests, plus one check on the real teddy2020 replies when that data is present."""

import csv
import statistics
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gongzhi.insight.replyquality import MESSAGES_EN, MESSAGES_ZH, MISSING_ORDER, ReplyCheck, check_reply

TEDDY2020 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "teddy2020"

GARBAGE = "3号楼门口垃圾堆了三天没人清运，味道很大，希望尽快处理。"
COMPLETE = ("您好，关于3号楼门口垃圾堆放的问题，街道已安排环卫公司于11月26日上午将门口垃圾清运完毕，"
            "并已联系物业每日巡查，如仍有问题请拨打街道服务电话65432100。")
GENERIC = "您反映的问题已收悉，我们将认真研究。"
REFUSAL = "经核实，3号楼门口的垃圾清运不属于我单位职责，无法安排清运。"
LEGAL_BASIS = "依据《北京市生活垃圾管理条例》第三十二条，"


def test_complete_reply_scores_high_with_nothing_missing():
    check = check_reply(GARBAGE, COMPLETE)
    assert check.missing == []
    assert check.score >= 90
    assert check.relevance == 1.0 and check.completeness == 1.0
    assert not check.is_refusal and check.basis is None


def test_generic_acknowledgement_is_off_topic_and_names_no_action():
    check = check_reply(GARBAGE, GENERIC)
    assert {"off_topic", "no_action"} <= set(check.missing)
    assert check.relevance < 0.35
    assert check.score < 30


def test_reply_that_only_quotes_the_demand_back_is_off_topic():
    echo = "关于您在平台留言“3号楼门口垃圾堆了三天没人清运”一事，我们已收悉，将认真研究。"
    check = check_reply(GARBAGE, echo)
    assert "off_topic" in check.missing
    assert check.relevance < check_reply(GARBAGE, COMPLETE).relevance


def test_restating_the_matter_is_not_an_answer_but_what_follows_it_counts():
    check = check_reply(GARBAGE, "您所反映的3号楼门口垃圾问题已转交街道办理。")
    assert "off_topic" in check.missing
    assert "no_action" not in check.missing and "no_responsible" not in check.missing


def test_refusal_without_basis_is_flagged_no_legal_basis():
    check = check_reply(GARBAGE, REFUSAL)
    assert check.is_refusal
    assert check.basis == 0.0
    assert "no_legal_basis" in check.missing


def test_refusal_citing_a_regulation_and_article_is_not_flagged():
    check = check_reply(GARBAGE, LEGAL_BASIS + REFUSAL)
    assert check.is_refusal
    assert check.basis == 1.0
    assert "no_legal_basis" not in check.missing
    assert check.score > check_reply(GARBAGE, REFUSAL).score


def test_referring_the_resident_to_the_body_in_charge_is_a_basis_for_a_refusal():
    referral = "3号楼门口的垃圾清运不属于我单位职责，暂不能安排清运，建议您向小区物业公司反映。"
    check = check_reply(GARBAGE, referral)
    assert check.is_refusal
    assert 0 < check.basis < 1.0   # a referral is less than a rule cited
    assert "no_legal_basis" not in check.missing and "no_action" not in check.missing


def test_refusal_is_not_asked_for_a_time_or_a_result():
    check = check_reply(GARBAGE, LEGAL_BASIS + REFUSAL)
    assert "no_time" not in check.missing and "no_result" not in check.missing


def test_reply_with_an_action_but_no_time_is_flagged_no_time():
    check = check_reply(GARBAGE, "街道已安排环卫工人清运3号楼门口的垃圾，并督促物业加强管理。")
    assert "no_action" not in check.missing
    assert "no_time" in check.missing
    assert not check.is_refusal and check.basis is None


@pytest.mark.parametrize("when", ["11月26日", "2026年11月26日", "3日内", "本周", "下周一", "两个工作日内"])
def test_each_way_of_giving_a_time_counts(when):
    check = check_reply(GARBAGE, f"街道已安排环卫工人{when}清运3号楼门口的垃圾。")
    assert "no_time" not in check.missing


def test_the_date_that_signs_the_reply_is_not_the_time_of_an_action():
    check = check_reply(GARBAGE, "街道已安排环卫工人清运3号楼门口的垃圾。\n2026年11月26日")
    assert "no_time" in check.missing


def test_reply_naming_no_unit_or_person_is_flagged_no_responsible():
    check = check_reply(GARBAGE, "3号楼门口的垃圾已于11月26日清运完毕。")
    assert check.missing == ["no_responsible"]


def test_messages_name_each_missing_part_once_in_both_languages_in_a_stable_order():
    check = check_reply(GARBAGE, GENERIC)
    assert check.missing == [code for code in MISSING_ORDER if code in check.missing]
    assert check.messages_zh == [MESSAGES_ZH[code] for code in check.missing]
    assert check.messages_en == [MESSAGES_EN[code] for code in check.missing]


def test_a_background_makes_words_common_everywhere_count_less():
    demand = "幸福小区3号楼门口垃圾堆了三天没人清运。"
    names_only_the_estate = "幸福小区物业已于11月26日安排人员处理完毕。"
    names_the_matter = "3号楼门口垃圾已于11月26日由物业清运完毕。"
    background = [f"幸福小区{n}号楼{matter}" for n in range(1, 30)
                  for matter in ("电梯故障", "暖气不热", "楼道灯坏了", "停车难")]
    assert (check_reply(demand, names_only_the_estate, background=background).relevance
            < check_reply(demand, names_the_matter, background=background).relevance)
    assert (check_reply(demand, names_only_the_estate, background=background).relevance
            < check_reply(demand, names_only_the_estate).relevance)


# --- properties ------------------------------------------------------------------------------------------------------

REFUSALS = (REFUSAL, "该路段暂不具备安装路灯的条件。", "您的申请不符合补贴条件，不予办理。", "该事项不在我局受理范围内。")
cjk_text = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=60)
law_title = st.builds(lambda name, kind: name + kind,
                      st.text(alphabet="北京上海市生活垃圾管理物业服务环境卫生市容消防安全道路交通", min_size=1, max_size=20),
                      st.sampled_from(("条例", "办法", "规定", "法", "实施细则")))
legal_basis = st.builds(lambda lead, title, article, tail: f"{lead}《{title}》第{article}条{tail}，",
                        st.sampled_from(("依据", "根据", "按照", "依照")), law_title,
                        st.integers(1, 120), st.sampled_from(("", "规定", "的规定")))


@settings(max_examples=150, deadline=None)
@given(demand=st.text(max_size=200), reply=st.text(max_size=300))
def test_score_and_parts_stay_in_range_for_any_text(demand, reply):
    check = check_reply(demand, reply)
    assert 0.0 <= check.score <= 100.0
    assert 0.0 <= check.relevance <= 1.0 and 0.0 <= check.completeness <= 1.0
    assert (check.basis is None) == (not check.is_refusal)
    assert len(check.messages_zh) == len(check.messages_en) == len(check.missing)


@settings(max_examples=150, deadline=None)
@given(demand=st.one_of(st.just(GARBAGE), cjk_text), refusal=st.sampled_from(REFUSALS), filler=cjk_text,
       basis=legal_basis)
def test_adding_a_legal_basis_to_a_refusal_never_lowers_the_score(demand, refusal, filler, basis):
    reply = refusal + "。" + filler
    before, after = check_reply(demand, reply), check_reply(demand, basis + reply)
    assert before.is_refusal and after.is_refusal
    assert after.score >= before.score
    assert after.basis == 1.0 and "no_legal_basis" not in after.missing


@settings(max_examples=50, deadline=None)
@given(demand=cjk_text, reply=cjk_text, background=st.lists(cjk_text, min_size=1, max_size=5))
def test_check_is_deterministic(demand, reply, background):
    first = check_reply(demand, reply, background=background)
    assert check_reply(demand, reply, background=list(background)) == first
    assert isinstance(first, ReplyCheck)


# --- real data -------------------------------------------------------------------------------------------------------

def test_official_replies_are_more_relevant_to_their_own_message_than_to_another():
    replies_csv = TEDDY2020 / "attachment4_messages_with_replies.csv"
    if not replies_csv.exists():
        pytest.skip(f"teddy2020 data not found at {TEDDY2020}")
    with replies_csv.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:600]
    demands = [r["留言主题"] + "。" + r["留言详情"] for r in rows]
    replies = [r["答复意见"] for r in rows]
    others = replies[300:] + replies[:300]   # each message with the reply to one 300 rows away
    own = [check_reply(d, r) for d, r in zip(demands, replies)]
    other = [check_reply(d, r) for d, r in zip(demands, others)]
    assert statistics.fmean(c.relevance for c in own) > 2 * statistics.fmean(c.relevance for c in other)
    # Most official replies are on topic, most replies to another message are not.
    assert sum("off_topic" in c.missing for c in own) < 0.25 * len(rows)
    assert sum("off_topic" in c.missing for c in other) > 0.75 * len(rows)
