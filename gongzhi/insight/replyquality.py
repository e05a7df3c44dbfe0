"""Reply quality (答复质量): before a unit's reply to a demand goes out, score whether it addresses the demand, says
what was done, when, by whom and with what result, and names a basis when it refuses. Pure Python, no Django."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

SCORE_WEIGHTS = {"relevance": 0.45, "completeness": 0.35, "basis": 0.20}
COMPLETENESS_WEIGHTS = {"action": 0.40, "time": 0.20, "responsible": 0.20, "result": 0.20}
# Calibrated on 800 teddy2020 pairs (seed 1): about the median bigram cosine of an official reply and its message,
# which runs lower with a background's IDF; OFF_TOPIC_BELOW of it lies above the cosine of about 90 % (99 % with a
# background) of replies paired with a random other message.
RELEVANCE_FULL = 0.15                   # a bigram cosine at or above this is fully relevant
RELEVANCE_FULL_WITH_BACKGROUND = 0.12   # the same when IDF comes from a background
OFF_TOPIC_BELOW = 0.35                  # relevance below this is "off_topic"
ECHO_SHARE = 0.6                        # a quoted span with this share of its bigrams in the demand is an echo
POLICY_OR_REFERRAL = 0.6                # basis of a refusal naming a policy or rule word, or the body to turn to
POLICY_AND_REFERRAL = 0.8               # both; a law or regulation cited gives 1

MISSING_ORDER = ("off_topic", "no_action", "no_time", "no_responsible", "no_result", "no_legal_basis")
MESSAGES_ZH = {
    "off_topic": "答复与诉求关联不大，未回应所反映的具体事项。",
    "no_action": "未说明已经或将要采取的具体措施。",
    "no_time": "未说明办理或完成的时间。",
    "no_responsible": "未说明由哪个单位或人员负责办理。",
    "no_result": "未说明办理结果或后续跟进安排。",
    "no_legal_basis": "答复不予办理，但未说明法律、法规或政策依据，也未告知应向哪个部门反映。",
}
MESSAGES_EN = {
    "off_topic": "The reply says little about the matter the demand raised.",
    "no_action": "It does not say what was done or will be done.",
    "no_time": "It gives no time for the action or its completion.",
    "no_responsible": "It does not name the unit or person handling the matter.",
    "no_result": "It states no result and no follow-up.",
    "no_legal_basis": "It refuses without citing a law, regulation or policy, or saying which body to turn to.",
}


@dataclass(frozen=True)
class ReplyCheck:
    score: float                # 0..100 overall
    relevance: float            # 0..1
    completeness: float         # 0..1
    basis: float | None         # 0..1; None when the reply does not refuse
    is_refusal: bool
    missing: list[str] = field(default_factory=list)      # codes in MISSING_ORDER
    messages_zh: list[str] = field(default_factory=list)  # one sentence per missing code
    messages_en: list[str] = field(default_factory=list)


# --- cue patterns (on normalised text: NFKC, lower case, no whitespace) ----------------------------------------

_NUM = r"[0-9零〇一二两三四五六七八九十百]"
_ACTION = re.compile(
    r"安排|派(?:出|员|人)|组织|(?<![请可])联系(?!电话|方式)|约谈|维修|修复|修缮|修理|更换|安装|加装|清理|清运|清除|清扫|清掏|疏通|拆除|"
    r"整改|责令|责成|查处|处罚|罚款|立案|调查|核查|核实|勘查|检查|巡查|督促|督办|协调|召开|走访|上门|现场|"
    r"补发|退还|发放|办理|制定|下发|通报|取缔|关停|封堵|移交|转交|告知|答复了|已处理|处理完毕|作出处理|经查|经了解")
_TIME = re.compile(
    r"\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}[日号]|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|[零〇一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月|"
    r"[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}[日号]|\d{1,2}月(?:上旬|中旬|下旬|底|初|份)|\d{4}年(?:底|内|前|初|上半年|下半年)|"
    rf"{_NUM}+个?(?:工作日|自然日|小时|日|天|周|星期|个月)(?:内|之内|以内|前|后|左右)|"
    r"本周|下周|这周|本月|下月|月底|年底|年内|近日|日前|近期已|当天|当日|今天|明天|今日|明日|次日|上午|下午|晚上|凌晨")
_RESPONSIBLE = re.compile(
    r"(?<![结格布大])局(?![面部势限])|委员会|[市区县省]委|厅|办公室|街道办|信访办|综治办|管委会|居委会|村委会?|办事处|街道|社区|政府|公司|物业|"
    r"中心|派出所|供电所|司法所|管理所|管理站|服务站|工作站|大队|中队|执法队|医院|学校|集团|工作组|调查组|专班|"
    r"工作人员|网格员|书记|主任|负责人|民警|执法人员|工程师|师傅|维修人员|环卫工人|保洁员|专干|经理|局长|站长|所长|队长|"
    r"我(?:局|委|办|院|中心|街道|社区|镇|乡|区|县|市|单位|公司|所|站|队|处|厅)|本(?:单位|局|部门)")
_RESULT = re.compile(
    r"已(?:经)?(?:全部)?(?:恢复|解决|修复|修好|完成|办结|落实|拆除|疏通|关停|取缔|退还|发放|补发|到位|整改|清理干净)|"
    r"完毕|到位|恢复正常|得到(?:解决|处理|改善|整改|落实)|现已|目前已|回访|跟踪|持续(?:关注|跟进|督促)|(?:定期|每日|每天|加强|日常)巡查|"
    r"后续|下一步|如(?:仍|再|还|您仍|您还|有)|联系电话|咨询电话|电话[:：]?\d|将继续|长效")
_REFUSAL = re.compile(
    r"不予|驳回|不属于|不符合|暂不|不宜|不受理|无权|不具备|不在[^,。;]{0,12}(?:范围|职责|之列)|暂无(?:计划|规划|此项|相关)|"
    r"(?:无法|不能|难以|未能|不可)(?:满足|办理|受理|解决|处理|安排|实施|落实|支持|提供|认定|批准|审批|立案|查处|更改|变更|调整|"
    r"退还|补偿|享受|纳入|建设|修建|安装|开通|开展|同意|答复|核实|确认|认可|报销|参保|申请|迁|转)")
_LAW = re.compile(rf"《[^》]{{1,80}}》|第{_NUM}+条|法律|法规|条例|规章|实施细则|司法解释")
_POLICY = re.compile(r"规定|政策|办法|标准|规范|文件|依法|依规|依据|依照|参照|按照|根据(?!您|你|网友|群众|来信|留言|反映)")
_REFERRAL = re.compile(
    r"(?:建议|请|可)(?:您|你)?(?:向|到|与|联系|咨询|致电|拨打)|(?<!不)属于[^,。;]{1,20}(?:职责|管辖|范围|负责)|"
    r"由[^,。;]{1,20}负责|诉讼|仲裁|行政复议")
# "您所反映的X问题": up to the noun that closes the restated matter, else up to where the reply's own finding
# starts (X位于…, X已…, X经…), else to the end of the clause.
_RESTATEMENT = re.compile(
    r"(?:您|你|网友|来信人?|留言人?)(?:所|在留言中|在平台上?)?(?:反映|提出|咨询|询问|投诉|举报)"
    r"(?:[^,。;!?:]*?(?:问题|情况|事项|一事|事宜|诉求|建议|意见)|[^,。;!?:]*?(?=位于|属于|已|经|系)|[^,。;!?:]*)")
_QUOTED = re.compile(r"“([^”]{2,200})”|\"([^\"]{2,200})\"|「([^」]{2,200})」|‘([^’]{2,200})’")
_SIGNATURE_DATE = re.compile(
    r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|[零〇一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)"
    r"[。.]?$")
_RUN = re.compile(r"[\u4e00-\u9fff0-9a-z]+")

# Said in nearly every demand or reply whatever the matter; they would make any reply look relevant.
STOCK_PHRASES = (
    "您好", "你好", "网友", "留言", "收悉", "感谢", "谢谢", "关心", "支持", "理解", "监督", "信任", "现将", "如下", "回复",
    "答复", "有关", "情况", "反映", "问题", "我们", "您的", "你的", "工作", "相关", "部门", "领导", "高度重视", "重视",
    "认真", "研究", "处理", "解决", "进一步", "加强", "尽快", "及时", "希望", "请求", "要求", "一下", "已经", "目前", "现在",
    "一直", "非常", "严重", "能否", "是否", "可以", "没有", "这个", "那个", "什么", "怎么", "为什么", "如何", "谢谢您",
    "尊敬", "市长", "书记", "您好!", "特此", "此致", "敬礼", "麻烦", "帮忙", "关注", "积极", "切实", "予以", "给予",
    "政府", "群众", "市民", "居民", "百姓", "老百姓", "我们的", "以及", "并且", "但是", "因为", "所以", "如果", "还是",
    "一个", "进行", "通过", "由于", "对于", "关于", "针对", "其中", "之后", "以后", "以来", "今后", "平台", "栏目",
)
_STOCK_PATTERN = re.compile("|".join(sorted(map(re.escape, STOCK_PHRASES), key=len, reverse=True)))


# --- text preparation ---------------------------------------------------------------------------------------------

def _normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").lower().split())


def _bigrams(text: str) -> list[str]:
    grams = []
    for run in _RUN.findall(_STOCK_PATTERN.sub(" ", text)):
        grams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def _drop_echoes(reply: str, demand: str) -> str:
    """Quoted spans of the reply that mostly repeat the demand, replaced by a clause break."""
    demand_grams = set(_bigrams(demand))

    def replace(match: re.Match) -> str:
        span = next(g for g in match.groups() if g is not None)
        grams = _bigrams(span)
        if grams and sum(g in demand_grams for g in grams) >= ECHO_SHARE * len(grams):
            return "。"
        return match.group(0)

    return _QUOTED.sub(replace, reply)


def _without_basis_words(text: str) -> str:
    return _POLICY.sub("。", _LAW.sub("。", text))


def _reply_body(reply: str, demand: str) -> str:
    """The reply's own statements: no echoed quotes, no restated matter, no closing signature date."""
    return _SIGNATURE_DATE.sub("", _RESTATEMENT.sub("。", _drop_echoes(reply, demand)))


# --- relevance -----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _background_idf(texts: tuple[str, ...]) -> tuple[dict[str, float], float]:
    """Smoothed IDF, ln((1 + n) / (1 + df)) + 1, of the bigrams of the background texts, and that of an unseen one."""
    df: Counter = Counter()
    for text in texts:
        df.update(set(_bigrams(_normalise(text))))
    n = len(texts)
    return {g: math.log((1 + n) / (1 + d)) + 1 for g, d in df.items()}, math.log(1 + n) + 1


def _relevance(demand: str, body: str, background: list[str] | None) -> float:
    """Cosine of the two texts' bigram vectors (1 + ln tf, times IDF when there is a background), scaled."""
    idf, unseen = _background_idf(tuple(background)) if background else ({}, 1.0)

    def vector(text):
        return {g: (1 + math.log(c)) * idf.get(g, unseen) for g, c in Counter(_bigrams(text)).items()}

    a, b = vector(demand), vector(body)
    dot = sum(w * b[g] for g, w in a.items() if g in b)
    if not dot:
        return 0.0
    cosine = dot / math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
    return min(1.0, cosine / (RELEVANCE_FULL_WITH_BACKGROUND if background else RELEVANCE_FULL))


# --- the check -----------------------------------------------------------------------------------------------------

def _basis(body: str) -> float:
    if _LAW.search(body):
        return 1.0
    has_policy, has_referral = bool(_POLICY.search(body)), bool(_REFERRAL.search(body))
    if has_policy and has_referral:
        return POLICY_AND_REFERRAL
    return POLICY_OR_REFERRAL if has_policy or has_referral else 0.0


def check_reply(demand_text: str, reply_text: str, *, background: list[str] | None = None) -> ReplyCheck:
    """Score a reply to a demand on the three dimensions of the 2020 TipDM Cup problem C: relevance (相关性),
    completeness (完整性) and interpretability (可解释性), read here as "a refusal names its basis".

    - Only the reply's own statements count: a quoted span that mostly repeats the demand, the restated matter
      (您所反映的…问题) and the closing signature date are dropped first.
    - Relevance: cosine of character-bigram vectors (1 + ln tf; × IDF fitted on `background` when given, once per
      distinct list) of demand and reply, stock phrases (您好, 收悉, 高度重视 …) and basis words (《…》, 依据 …)
      left out, divided by RELEVANCE_FULL (RELEVANCE_FULL_WITH_BACKGROUND) and capped at 1. Below OFF_TOPIC_BELOW,
      "off_topic". Bigrams alone did better on teddy2020 than mixes with jieba words or key nouns (see
      docs/benchmarks.md) and need no dictionary.
    - Completeness: weighted share (COMPLETENESS_WEIGHTS) of an action, a time, who acts, a result or follow-up,
      found by cue patterns. A refusal is judged on the action and who acts only, and a referral is its action.
    - Basis (None unless the reply refuses): 1 for a law or regulation cited, POLICY_OR_REFERRAL for a policy
      word or a referral, POLICY_AND_REFERRAL for both, 0 ("no_legal_basis") for none.
    - Score: 100 × the SCORE_WEIGHTS-weighted mean of the dimensions that apply.
    """
    demand = _normalise(demand_text)
    body = _reply_body(_normalise(reply_text), demand)
    # Basis words are left out of relevance so that citing a rule never makes a reply look less on topic.
    relevance = _relevance(_without_basis_words(demand), _without_basis_words(body), background)

    is_refusal = bool(_REFUSAL.search(body))
    found = {"action": bool(_ACTION.search(body)) or (is_refusal and bool(_REFERRAL.search(body))),
             "time": bool(_TIME.search(body)), "responsible": bool(_RESPONSIBLE.search(body)),
             "result": bool(_RESULT.search(body))}
    # Nothing will be done after a refusal, so there is no time or result to state.
    required = ("action", "responsible") if is_refusal else ("action", "time", "responsible", "result")
    completeness = (sum(COMPLETENESS_WEIGHTS[p] for p in required if found[p])
                    / sum(COMPLETENESS_WEIGHTS[p] for p in required))
    basis = _basis(body) if is_refusal else None

    parts = {"relevance": relevance, "completeness": completeness}
    if basis is not None:
        parts["basis"] = basis
    score = 100 * sum(SCORE_WEIGHTS[p] * v for p, v in parts.items()) / sum(SCORE_WEIGHTS[p] for p in parts)

    is_missing = {"off_topic": relevance < OFF_TOPIC_BELOW, "no_legal_basis": basis == 0.0}
    is_missing.update({f"no_{part}": not found[part] for part in required})
    codes = [code for code in MISSING_ORDER if is_missing.get(code)]
    return ReplyCheck(score=round(score, 2), relevance=round(relevance, 4), completeness=round(completeness, 4),
                      basis=basis, is_refusal=is_refusal, missing=codes,
                      messages_zh=[MESSAGES_ZH[c] for c in codes], messages_en=[MESSAGES_EN[c] for c in codes])
