"""Decision rules of deliberating bodies: quorum, voting thresholds, election validity, 三重一大 minutes.

Pure and exact (fractions.Fraction, no floats, no Django but lazily translated error messages). Every
check carries its numbers and a short explanation in Chinese and English for the UI and the minutes. The
sources are cited in docs/rules.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from gongzhi.core.i18n import gettext_lazy as _


# --- vocabulary -----------------------------------------------------------------------------------------

class Comparison(StrEnum):
    # Chinese statutes read 以上 / 不少于 as including the number itself and 超过 / 过半数 as excluding it
    # (民法典 art. 1259, 刑法 art. 99 state the convention), so "三分之二以上" is AT_LEAST.
    MORE_THAN = "more_than"    # 超过, 过半数
    AT_LEAST = "at_least"      # 以上, 不少于


class Basis(StrEnum):
    """Whom a quorum counts.

    MEMBERS is the meeting's roll, whatever makes it up: the adult villagers or residents, the
    representatives, a committee's members, the registered voters of an election. HOUSEHOLDS counts the
    households represented (户的代表), an alternative some laws allow.
    """

    MEMBERS = "members"        # 应到 / 实到: the people on the roll
    HOUSEHOLDS = "households"  # 户的代表: households due, households represented


class VoteBase(StrEnum):
    """What a threshold is a share of."""

    VOTES_CAST = "votes_cast"  # 参加表决的票数 (abstentions and invalid ballots as configured)
    PRESENT = "present"        # 到会人数: everyone present who did not vote yes counts against
    DUE = "due"                # 应到会人数 / 全体成员: everyone due who did not vote yes counts against


class Counting(StrEnum):
    """How abstentions, or blank and invalid ballots, count when the base is the votes cast."""

    AS_CAST = "as_cast"    # part of the votes cast, not in favour
    EXCLUDED = "excluded"  # left out of the votes cast


class SourceKind(StrEnum):
    """Where a preset comes from, so the UI can say honestly how binding it is."""

    LAW = "law"                            # a statute of the NPC Standing Committee
    PARTY_REGULATION = "party_regulation"  # 党内法规
    LOCAL_PRACTICE = "local_practice"      # common local implementing rules, as the project's issue asks
    PROJECT_DEFAULT = "project_default"    # no national rule; a default to be confirmed locally
    CUSTOM = "custom"                      # defined by the body itself


BODY_KINDS: dict[str, tuple[str, str]] = {
    "villagers_meeting": ("村民会议", "villagers' meeting"),
    "household_representatives_meeting": ("户代表会议", "household representatives' meeting"),
    "villagers_representatives_meeting": ("村民代表会议", "villagers' representatives' meeting"),
    "residents_meeting": ("居民会议", "residents' meeting"),
    "residents_representatives_meeting": ("居民代表会议", "residents' representatives' meeting"),
    "two_committees_joint_meeting": ("两委联席会议", "two committees' joint meeting"),
    "party_members_meeting": ("党员大会", "party members' meeting"),
    "party_branch_committee": ("党支部委员会", "party branch committee"),
    "villagers_committee": ("村民委员会", "villagers' committee"),
    "residents_committee": ("居民委员会", "residents' committee"),
    # 居民议事会, 社区共治理事会, 党建联席会议 …: named locally, with their own (custom) rule.
    "configured": ("自定义议事主体", "configured body"),
}


# --- exact arithmetic -----------------------------------------------------------------------------------

def required_count(share: Fraction, comparison: Comparison, total: int) -> int:
    """The smallest whole number that is more than (or at least) `share` of `total`.

    More than half of 7 is 4, of 8 is 5; at least two thirds of 7 is 5; more than two thirds of 9 is 7.
    """
    product = Fraction(share) * total
    if Comparison(comparison) is Comparison.MORE_THAN:
        return math.floor(product) + 1
    return math.ceil(product)


def parse_share(value) -> Fraction:
    """A share as an exact fraction: Fraction, int, or a string such as "2/3" or "0.5" (never a float)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(_("share %(value)r: give an exact fraction such as '2/3', not a float") % {"value": value})
    if isinstance(value, (Fraction, int)):
        share = Fraction(value)
    elif isinstance(value, str):
        try:
            share = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(_("share %(value)r is not a fraction such as '2/3'") % {"value": value}) from None
    else:
        raise ValueError(_("share %(value)r is not a fraction such as '2/3'") % {"value": value})
    if not 0 < share <= 1:
        raise ValueError(_("share %(share)s must be more than 0 and at most 1") % {"share": share})
    return share


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("%(what)s must be a whole number, got %(value)r") % {"what": what, "value": value})
    if value < 0:
        raise ValueError(_("%(what)s must not be negative, got %(value)s") % {"what": what, "value": value})
    return value


# --- wording --------------------------------------------------------------------------------------------

_ZH_NUMERALS = "零一二三四五六七八九十"
_EN_FRACTIONS = {Fraction(1, 2): "half", Fraction(1, 3): "one third", Fraction(2, 3): "two thirds",
                 Fraction(1, 4): "one quarter", Fraction(3, 4): "three quarters",
                 Fraction(1, 5): "one fifth", Fraction(4, 5): "four fifths", Fraction(1): "all"}


def share_zh(share: Fraction) -> str:
    if share == 1:
        return "全部"
    if share == Fraction(1, 2):
        return "半数"
    def numeral(n: int) -> str:
        return _ZH_NUMERALS[n] if n <= 10 else str(n)
    return f"{numeral(share.denominator)}分之{numeral(share.numerator)}"


def share_en(share: Fraction) -> str:
    return _EN_FRACTIONS.get(share, f"{share.numerator}/{share.denominator}")


def _phrase(comparison: Comparison, share: Fraction | None, absolute: int | None, is_met: bool,
            unit: str) -> tuple[str, str]:
    """"过半数" / "more than half", "未达到三分之二" / "less than two thirds", "不足 5 人" / "fewer than 5"."""
    if absolute is not None:
        if comparison is Comparison.MORE_THAN:
            return ((f"超过 {absolute} {unit}", f"more than {absolute}") if is_met
                    else (f"未超过 {absolute} {unit}", f"not more than {absolute}"))
        return ((f"达到 {absolute} {unit}", f"at least {absolute}") if is_met
                else (f"不足 {absolute} {unit}", f"fewer than {absolute}"))
    zh, en = share_zh(share), share_en(share)
    if comparison is Comparison.MORE_THAN:
        if share == Fraction(1, 2):
            return ("过半数", "more than half") if is_met else ("未过半数", "not more than half")
        return (f"超过{zh}", f"more than {en}") if is_met else (f"未超过{zh}", f"not more than {en}")
    return (f"达到{zh}", f"at least {en}") if is_met else (f"未达到{zh}", f"less than {en}")


# (label zh, label en, unit zh) of each basis; the roll needs no label.
_BASIS_WORDS: dict[Basis, tuple[str, str, str]] = {
    Basis.MEMBERS: ("", "", "人"),
    Basis.HOUSEHOLDS: ("户的代表", "household representatives", "户"),
}
# (due zh, due en, present zh, present en, met zh, met en, not met zh, not met en)
_MEETING_WORDS = ("应到", "due", "实到", "present", "符合法定人数", "quorum met", "不足法定人数", "no quorum")
_ELECTION_WORDS = ("登记参加选举", "registered", "参加投票", "voted", "选举有效", "the election is valid",
                   "选举无效", "the election is not valid")


# --- rules ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuorumCondition:
    """One way a meeting can be quorate: a share of those due (or an absolute number) on one basis."""

    basis: Basis
    comparison: Comparison
    share: Fraction | None = None
    absolute: int | None = None

    def __post_init__(self):
        try:
            object.__setattr__(self, "basis", Basis(self.basis))
        except ValueError:
            raise ValueError(_("unknown quorum basis %(basis)r; use one of %(choices)s")
                             % {"basis": self.basis, "choices": ", ".join(b.value for b in Basis)}) from None
        object.__setattr__(self, "comparison", _comparison(self.comparison))
        if (self.share is None) == (self.absolute is None):
            raise ValueError(_("a quorum condition needs either a share or an absolute number, not both"))
        if self.share is not None:
            share = parse_share(self.share)
            if share == 1 and self.comparison is Comparison.MORE_THAN:
                raise ValueError(_("'more than all' members can never be present"))
            object.__setattr__(self, "share", share)
        elif _whole(self.absolute, _("an absolute quorum")) == 0:
            raise ValueError(_("an absolute quorum must be at least 1"))

    def required(self, due: int) -> int:
        if self.absolute is not None:
            return self.absolute + (1 if self.comparison is Comparison.MORE_THAN else 0)
        return required_count(self.share, self.comparison, due)

    def to_data(self) -> dict:
        data = {"basis": self.basis.value, "comparison": self.comparison.value}
        if self.share is not None:
            data["share"] = str(self.share)
        else:
            data["absolute"] = self.absolute
        return data


@dataclass(frozen=True)
class QuorumRule:
    """A meeting is quorate when any one of its conditions is met (村民会议: adults or households)."""

    conditions: tuple[QuorumCondition, ...]

    def __post_init__(self):
        conditions = tuple(self.conditions)
        if not conditions:
            raise ValueError(_("a quorum rule needs at least one condition"))
        bases = [c.basis for c in conditions]
        if len(set(bases)) != len(bases):
            raise ValueError(_("a quorum rule has two conditions on the same basis"))
        object.__setattr__(self, "conditions", conditions)


@dataclass(frozen=True)
class ThresholdRule:
    """How many yes votes a motion needs: more than (or at least) a share of a base."""

    base: VoteBase
    share: Fraction
    comparison: Comparison
    abstentions: Counting = Counting.AS_CAST
    invalid: Counting = Counting.AS_CAST

    def __post_init__(self):
        try:
            object.__setattr__(self, "base", VoteBase(self.base))
        except ValueError:
            raise ValueError(_("unknown threshold base %(base)r; use one of %(choices)s")
                             % {"base": self.base, "choices": ", ".join(b.value for b in VoteBase)}) from None
        object.__setattr__(self, "comparison", _comparison(self.comparison))
        share = parse_share(self.share)
        if share == 1 and self.comparison is Comparison.MORE_THAN:
            raise ValueError(_("'more than all' of the votes can never be reached"))
        object.__setattr__(self, "share", share)
        for name in ("abstentions", "invalid"):
            try:
                object.__setattr__(self, name, Counting(getattr(self, name)))
            except ValueError:
                raise ValueError(_("%(name)s must be counted as one of %(choices)s")
                                 % {"name": name, "choices": ", ".join(c.value for c in Counting)}) from None

    def to_data(self) -> dict:
        return {"base": self.base.value, "share": str(self.share), "comparison": self.comparison.value,
                "abstentions": self.abstentions.value, "invalid": self.invalid.value}


@dataclass(frozen=True)
class DecisionRule:
    code: str
    name_zh: str
    name_en: str
    quorum: QuorumRule
    threshold: ThresholdRule
    source_kind: SourceKind
    source: str = ""  # the article(s), e.g. "《中华人民共和国村民委员会组织法》第二十二条"

    def to_data(self) -> dict:
        """Plain data for a JSON field; `custom_rule(**rule.to_data())` gives the rule back."""
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "quorum": [c.to_data() for c in self.quorum.conditions], "threshold": self.threshold.to_data()}


def _comparison(value) -> Comparison:
    try:
        return Comparison(value)
    except ValueError:
        raise ValueError(_("unknown comparison %(value)r; use 'more_than' (超过) or 'at_least' (以上)")
                         % {"value": value}) from None


# --- what happened at a meeting -------------------------------------------------------------------------

@dataclass(frozen=True)
class Headcount:
    due: int
    present: int

    def __post_init__(self):
        _whole(self.due, "the number due")
        _whole(self.present, "the number present")
        if self.present > self.due:
            raise ValueError(f"{self.present} present is more than the {self.due} due")


@dataclass(frozen=True)
class Attendance:
    """应到 / 实到 of a meeting's roll, and, where a rule may count households, of households represented.

    The threshold always counts people (到会人员), never households.
    """

    due: int
    present: int
    households_due: int | None = None
    households_present: int | None = None

    def __post_init__(self):
        Headcount(self.due, self.present)
        if (self.households_due is None) != (self.households_present is None):
            raise ValueError("give both households due and households present, or neither")
        if self.households_due is not None:
            try:
                Headcount(self.households_due, self.households_present)
            except ValueError as error:
                raise ValueError(f"households: {error}") from None

    def headcount(self, basis: Basis) -> Headcount | None:
        if Basis(basis) is Basis.MEMBERS:
            return Headcount(self.due, self.present)
        if self.households_due is None:
            return None
        return Headcount(self.households_due, self.households_present)


@dataclass(frozen=True)
class Counts:
    """A yes/no motion's count. `invalid` holds blank and spoilt ballots."""

    yes: int
    no: int = 0
    abstain: int = 0
    invalid: int = 0

    def __post_init__(self):
        for name in ("yes", "no", "abstain", "invalid"):
            _whole(getattr(self, name), f"the number of {name} votes")

    @property
    def ballots(self) -> int:
        return self.yes + self.no + self.abstain + self.invalid


# --- results --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionCheck:
    basis: Basis
    due: int
    present: int
    required: int
    is_met: bool
    explanation_zh: str
    explanation_en: str


@dataclass(frozen=True)
class QuorumCheck:
    is_met: bool
    conditions: tuple[ConditionCheck, ...]  # those whose basis was recorded, in the rule's order
    explanation_zh: str
    explanation_en: str

    @property
    def deciding(self) -> ConditionCheck:
        """The condition the meeting stands on: the first one met, else the first one recorded."""
        return next((c for c in self.conditions if c.is_met), self.conditions[0])

    @property
    def basis(self) -> Basis:
        return self.deciding.basis

    @property
    def required(self) -> int:
        return self.deciding.required

    @property
    def actual(self) -> int:
        return self.deciding.present


@dataclass(frozen=True)
class ThresholdCheck:
    base: VoteBase
    base_count: int
    required: int
    actual: int  # yes votes
    is_met: bool
    explanation_zh: str
    explanation_en: str


@dataclass(frozen=True)
class Decision:
    rule_code: str
    is_passed: bool
    quorum: QuorumCheck
    threshold: ThresholdCheck
    counts: Counts
    explanation_zh: str
    explanation_en: str

    def to_data(self) -> dict:
        """The figures as plain data, for a motion's stored result and the minutes."""
        return {
            "rule": self.rule_code, "is_passed": self.is_passed,
            "quorum": {"is_met": self.quorum.is_met, "basis": self.quorum.basis.value,
                       "required": self.quorum.required, "actual": self.quorum.actual,
                       "due": self.quorum.deciding.due},
            "threshold": {"base": self.threshold.base.value, "base_count": self.threshold.base_count,
                          "required": self.threshold.required, "actual": self.threshold.actual,
                          "is_met": self.threshold.is_met},
            "counts": {"yes": self.counts.yes, "no": self.counts.no, "abstain": self.counts.abstain,
                       "invalid": self.counts.invalid},
            "explanation_zh": self.explanation_zh, "explanation_en": self.explanation_en,
        }


# --- checks ---------------------------------------------------------------------------------------------

def check_quorum(rule: QuorumRule | DecisionRule, attendance: Attendance) -> QuorumCheck:
    """Is the meeting quorate on any of the rule's bases? Bases not recorded are left out."""
    return _check_quorum(rule.quorum if isinstance(rule, DecisionRule) else rule, attendance, _MEETING_WORDS)


def _check_quorum(rule: QuorumRule, attendance: Attendance, words: tuple[str, ...]) -> QuorumCheck:
    due_zh, due_en, present_zh, present_en, met_zh, met_en, failed_zh, failed_en = words
    checks = []
    for condition in rule.conditions:
        headcount = attendance.headcount(condition.basis)
        if headcount is None:
            continue
        if headcount.due == 0:
            raise ValueError(f"no one is due to attend on the basis '{condition.basis.value}'")
        required = condition.required(headcount.due)
        is_met = headcount.present >= required
        label_zh, label_en, unit = _BASIS_WORDS[condition.basis]
        phrase_zh, phrase_en = _phrase(condition.comparison, condition.share, condition.absolute, is_met, unit)
        checks.append(ConditionCheck(
            basis=condition.basis, due=headcount.due, present=headcount.present, required=required, is_met=is_met,
            explanation_zh=(f"{label_zh}：" if label_zh else "")
            + f"{due_zh} {headcount.due} {unit}，{present_zh} {headcount.present} {unit}，"
              f"{phrase_zh}（需 {required} {unit}）",
            explanation_en=(f"{label_en}: " if label_en else "")
            + f"{headcount.due} {due_en}, {headcount.present} {present_en}: {phrase_en} ({required} needed)",
        ))
    if not checks:
        needed = ", ".join(c.basis.value for c in rule.conditions)
        raise ValueError(f"the attendance records none of the bases this rule counts on ({needed})")
    is_met = any(c.is_met for c in checks)
    words_zh, words_en = (met_zh, met_en) if is_met else (failed_zh, failed_en)
    return QuorumCheck(
        is_met=is_met, conditions=tuple(checks),
        explanation_zh="；".join(c.explanation_zh for c in checks) + f"：{words_zh}",
        explanation_en="; ".join(c.explanation_en for c in checks) + f": {words_en}",
    )


_BASE_WORDS = {
    VoteBase.VOTES_CAST: ("参加表决 {n} 票", "{n} votes cast"),
    VoteBase.PRESENT: ("到会 {n} 人", "{n} present"),
    VoteBase.DUE: ("应到会 {n} 人", "{n} due to attend"),
}


def _check_threshold(rule: ThresholdRule, headcount: Headcount, counts: Counts) -> ThresholdCheck:
    if rule.base is VoteBase.VOTES_CAST:
        base_count = (counts.yes + counts.no
                      + (counts.abstain if rule.abstentions is Counting.AS_CAST else 0)
                      + (counts.invalid if rule.invalid is Counting.AS_CAST else 0))
    elif rule.base is VoteBase.PRESENT:
        base_count = headcount.present
    else:
        base_count = headcount.due
    # A motion nobody voted for never passes, even where "at least half of 0" would be 0.
    required = max(1, required_count(rule.share, rule.comparison, base_count))
    is_met = counts.yes >= required
    phrase_zh, phrase_en = _phrase(rule.comparison, rule.share, None, is_met, "票")
    base_zh, base_en = _BASE_WORDS[rule.base]
    return ThresholdCheck(
        base=rule.base, base_count=base_count, required=required, actual=counts.yes, is_met=is_met,
        explanation_zh=f"{base_zh.format(n=base_count)}，赞成 {counts.yes} 票，{phrase_zh}（需 {required} 票）",
        explanation_en=f"{base_en.format(n=base_count)}, {counts.yes} in favour: {phrase_en} ({required} needed)",
    )


def decide(rule: DecisionRule, attendance: Attendance, counts: Counts) -> Decision:
    """Did a yes/no motion pass? It needs a quorum, then enough yes votes.

    The threshold counts people on the roll (到会人员), even when the quorum stands on households.
    """
    quorum = check_quorum(rule.quorum, attendance)
    if counts.ballots > attendance.present:
        raise ValueError(f"{counts.ballots} ballots but only {attendance.present} present")
    threshold = _check_threshold(rule.threshold, attendance.headcount(Basis.MEMBERS), counts)
    is_passed = quorum.is_met and threshold.is_met
    if not quorum.is_met:
        tail_zh, tail_en = "不得表决，未通过", "no valid vote: not passed"
    else:
        tail_zh, tail_en = threshold.explanation_zh + ("：通过" if is_passed else "：未通过"), \
            threshold.explanation_en + (": passed" if is_passed else ": not passed")
    return Decision(
        rule_code=rule.code, is_passed=is_passed, quorum=quorum, threshold=threshold, counts=counts,
        explanation_zh=f"{quorum.explanation_zh}；{tail_zh}",
        explanation_en=f"{quorum.explanation_en}; {tail_en}",
    )


# --- villagers' committee elections (村民委员会组织法 art. 15) --------------------------------------------

def check_election_valid(registered_voters: int, voted: int) -> QuorumCheck:
    """An election is valid when more than half of the registered voters vote."""
    rule = PRESETS["villagers_committee_election"].quorum
    return _check_quorum(rule, Attendance(due=registered_voters, present=voted), _ELECTION_WORDS)


@dataclass(frozen=True)
class MajorityCheck:
    """Who reached more than half of the ballots cast. Ranking, ties and the count itself are voting.py's."""

    ballots_cast: int
    seats: int
    required: int
    qualified: tuple[tuple[Hashable, int], ...]  # (candidate, votes), most votes first
    explanation_zh: str
    explanation_en: str

    @property
    def unfilled_seats(self) -> int:
        return max(0, self.seats - len(self.qualified))

    @property
    def needs_further_round(self) -> bool:
        """Fewer candidates than seats won a majority: the rest go to a further round (另行选举)."""
        return self.unfilled_seats > 0

    @property
    def has_more_qualified_than_seats(self) -> bool:
        """More candidates than seats won a majority: the ones with most votes are elected."""
        return len(self.qualified) > self.seats


def elected_by_majority(votes_by_candidate: Mapping[Hashable, int], ballots_cast: int,
                        seats: int) -> MajorityCheck:
    """The threshold of a first round: a candidate needs more than half of the ballots cast by those who
    voted (参加投票的村民过半数的选票), blank and invalid ballots included."""
    _whole(ballots_cast, "the number of ballots cast")
    if _whole(seats, "the number of seats") == 0:
        raise ValueError("an election needs at least one seat")
    for candidate, votes in votes_by_candidate.items():
        if _whole(votes, f"the votes for {candidate}") > ballots_cast:
            raise ValueError(f"{candidate} has {votes} votes, more than the {ballots_cast} ballots cast")
    if sum(votes_by_candidate.values()) > ballots_cast * seats:
        raise ValueError(f"more votes than {ballots_cast} ballots for {seats} seats can carry")
    required = max(1, required_count(Fraction(1, 2), Comparison.MORE_THAN, ballots_cast))
    qualified = tuple(sorted(((c, v) for c, v in votes_by_candidate.items() if v >= required),
                             key=lambda item: -item[1]))
    unfilled = max(0, seats - len(qualified))
    further_zh = f"，{unfilled} 名另行选举" if unfilled else ""
    further_en = f", {unfilled} to a further round" if unfilled else ""
    return MajorityCheck(
        ballots_cast=ballots_cast, seats=seats, required=required, qualified=qualified,
        explanation_zh=f"参加投票 {ballots_cast} 人，当选须过半数（需 {required} 票）；"
                       f"{len(qualified)} 人过半数，应选 {seats} 名{further_zh}",
        explanation_en=f"{ballots_cast} voted, a majority needs {required} votes; "
                       f"{len(qualified)} reached it for {seats} seats{further_en}",
    )


def further_round_minimum(ballots_cast: int) -> int:
    """In a further round the most votes win, but not fewer than one third of the ballots cast."""
    return max(1, required_count(Fraction(1, 3), Comparison.AT_LEAST, _whole(ballots_cast, "ballots cast")))


# --- 三重一大: collective decision, everyone's view minuted, the principal leader last --------------------

@dataclass(frozen=True)
class MinutesProblem:
    code: str  # quorum_not_met, principal_absent, view_missing, view_from_absent_member, principal_not_last
    member: Hashable | None
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class MinutesCheck:
    is_valid: bool
    quorum: QuorumCheck
    problems: tuple[MinutesProblem, ...]
    explanation_zh: str
    explanation_en: str


def check_committee_minutes(members: Sequence[Hashable], present: Collection[Hashable],
                            views: Sequence[tuple[Hashable, str]], principal: Hashable,
                            rule: DecisionRule | None = None) -> MinutesCheck:
    """Check the minutes of a 三重一大 decision: quorate (two thirds by default), every member present has
    a view recorded, and the principal leader (书记 / 主要负责人) gives the last view.

    `views` is the minutes' order of speaking: (member, view). Non-members (列席) may speak too.
    """
    rule = rule or PRESETS["major_matters_collective_decision"]
    if len(set(members)) != len(members):
        raise ValueError("a member is listed twice")
    present = set(present)
    if not present <= set(members):
        raise ValueError("someone present is not a member: " + ", ".join(map(str, present - set(members))))
    if principal not in members:
        raise ValueError(f"the principal leader {principal} is not a member")

    quorum = check_quorum(rule, Attendance(due=len(members), present=len(present)))
    spoken = [(who, view) for who, view in views if view and view.strip()]
    problems = []
    if not quorum.is_met:
        problems.append(MinutesProblem("quorum_not_met", None, quorum.explanation_zh, quorum.explanation_en))
    if principal not in present:
        problems.append(MinutesProblem("principal_absent", principal, f"主要负责人{principal}未到会",
                                       f"the principal leader {principal} is absent"))
    speakers = {who for who, _ in spoken}
    for member in members:
        if member in present and member not in speakers:
            problems.append(MinutesProblem("view_missing", member, f"{member}的意见未记录",
                                           f"no view of {member} is recorded"))
        elif member not in present and member in speakers:
            problems.append(MinutesProblem("view_from_absent_member", member,
                                           f"{member}未到会，却记有发言意见",
                                           f"{member} was absent but a spoken view is recorded"))
    if principal in present and principal in speakers and spoken[-1][0] != principal:
        problems.append(MinutesProblem("principal_not_last", principal,
                                       f"主要负责人{principal}未最后发表意见（最后发言：{spoken[-1][0]}）",
                                       f"the principal leader {principal} did not speak last "
                                       f"(last: {spoken[-1][0]})"))
    if problems:
        explanation_zh = "；".join(p.message_zh for p in problems)
        explanation_en = "; ".join(p.message_en for p in problems)
    else:
        explanation_zh = f"{quorum.explanation_zh}；到会成员均已发表意见，主要负责人最后表态"
        explanation_en = f"{quorum.explanation_en}; every member present gave a view, the principal leader last"
    return MinutesCheck(is_valid=not problems, quorum=quorum, problems=tuple(problems),
                        explanation_zh=explanation_zh, explanation_en=explanation_en)


# --- presets and custom rules ---------------------------------------------------------------------------

HALF, TWO_THIRDS = Fraction(1, 2), Fraction(2, 3)
_MORE, _AT_LEAST = Comparison.MORE_THAN, Comparison.AT_LEAST


def _preset(code, name_zh, name_en, quorum, threshold, source_kind, source) -> DecisionRule:
    return DecisionRule(code, name_zh, name_en,
                        QuorumRule(tuple(QuorumCondition(basis, comparison, share) for basis, comparison, share
                                         in quorum)),
                        threshold, SourceKind(source_kind), source)


_MAJORITY_OF_PRESENT = ThresholdRule(VoteBase.PRESENT, HALF, _MORE)
_MAJORITY_OF_DUE = ThresholdRule(VoteBase.DUE, HALF, _MORE)
_VILLAGE_LAW = "《中华人民共和国村民委员会组织法》"

PRESETS: dict[str, DecisionRule] = {rule.code: rule for rule in (
    _preset("villagers_meeting", "村民会议", "villagers' meeting",
            [(Basis.MEMBERS, _MORE, HALF), (Basis.HOUSEHOLDS, _AT_LEAST, TWO_THIRDS)],
            _MAJORITY_OF_PRESENT, "law", f"{_VILLAGE_LAW}第二十二条"),
    _preset("household_representatives_meeting", "户代表会议", "household representatives' meeting",
            [(Basis.HOUSEHOLDS, _AT_LEAST, TWO_THIRDS)],
            _MAJORITY_OF_PRESENT, "law", f"{_VILLAGE_LAW}第二十二条"),
    _preset("villagers_representatives_meeting", "村民代表会议", "villagers' representatives' meeting",
            [(Basis.MEMBERS, _AT_LEAST, TWO_THIRDS)],
            _MAJORITY_OF_PRESENT, "law", f"{_VILLAGE_LAW}第二十六条"),
    _preset("villagers_committee_election", "村民委员会选举", "villagers' committee election",
            [(Basis.MEMBERS, _MORE, HALF)],
            ThresholdRule(VoteBase.VOTES_CAST, HALF, _MORE, Counting.AS_CAST, Counting.AS_CAST),
            "law", f"{_VILLAGE_LAW}第十五条"),
    _preset("residents_meeting", "居民会议", "residents' meeting",
            # Whichever roll art. 9 gives the meeting (all adults, one per household, or the residents'
            # groups' representatives), more than half of it must attend.
            [(Basis.MEMBERS, _MORE, HALF)],
            _MAJORITY_OF_PRESENT, "law", "《中华人民共和国城市居民委员会组织法》第十条"),
    _preset("residents_representatives_meeting", "居民代表会议", "residents' representatives' meeting",
            [(Basis.MEMBERS, _MORE, HALF)],
            _MAJORITY_OF_PRESENT, "project_default", "参照《中华人民共和国城市居民委员会组织法》第十条"),
    _preset("party_members_meeting", "党员大会", "party members' meeting",
            [(Basis.MEMBERS, _AT_LEAST, HALF)],
            _MAJORITY_OF_DUE, "party_regulation", "《中国共产党支部工作条例（试行）》第十一条"),
    _preset("party_members_meeting_four_deliberations", "党员大会审议（四议两公开）",
            "party members' meeting review (four deliberations, two disclosures)",
            [(Basis.MEMBERS, _AT_LEAST, TWO_THIRDS)],
            _MAJORITY_OF_DUE, "local_practice", "各地“四议两公开”实施办法"),
    _preset("major_matters_collective_decision", "“三重一大”集体决策", "collective decision on major matters",
            [(Basis.MEMBERS, _AT_LEAST, TWO_THIRDS)],
            _MAJORITY_OF_DUE, "local_practice", "《关于进一步推进国有企业贯彻落实“三重一大”决策制度的意见》及各地实施办法"),
    _preset("committee_majority", "委员会过半数", "committee majority",
            [(Basis.MEMBERS, _MORE, HALF)],
            _MAJORITY_OF_DUE, "project_default", ""),
    _preset("simple_majority", "简单多数", "simple majority",
            [(Basis.MEMBERS, _MORE, HALF)],
            ThresholdRule(VoteBase.VOTES_CAST, HALF, _MORE, Counting.EXCLUDED, Counting.EXCLUDED),
            "project_default", ""),
)}

# The preset a body of each kind follows unless configured otherwise.
DEFAULT_PRESET_FOR_BODY: dict[str, str] = {
    "villagers_meeting": "villagers_meeting",
    "household_representatives_meeting": "household_representatives_meeting",
    "villagers_representatives_meeting": "villagers_representatives_meeting",
    "residents_meeting": "residents_meeting",
    "residents_representatives_meeting": "residents_representatives_meeting",
    "two_committees_joint_meeting": "committee_majority",
    "party_members_meeting": "party_members_meeting",
    "party_branch_committee": "committee_majority",
    "villagers_committee": "committee_majority",
    "residents_committee": "committee_majority",
    "configured": "simple_majority",
}


def custom_rule(*, quorum: Sequence[Mapping], threshold: Mapping, code: str = "custom",
                name_zh: str = "自定义规则", name_en: str = "custom rule") -> DecisionRule:
    """A rule from plain data, e.g. for a 居民议事会:

        custom_rule(quorum=[{"basis": "members", "share": "2/3", "comparison": "at_least"}],
                    threshold={"base": "votes_cast", "share": "1/2", "comparison": "more_than",
                               "abstentions": "excluded", "invalid": "excluded"})

    Raises ValueError naming what is wrong (a share above 1, a negative number, an unknown basis …).
    """
    if isinstance(quorum, Mapping):
        quorum = [quorum]
    conditions = []
    for index, item in enumerate(quorum, start=1):
        _only_keys(item, {"basis", "share", "absolute", "comparison"},
                   _("quorum condition %(index)s") % {"index": index})
        try:
            conditions.append(QuorumCondition(item.get("basis"), item.get("comparison", "more_than"),
                                              item.get("share"), item.get("absolute")))
        except ValueError as error:
            raise ValueError(_("quorum condition %(index)s: %(error)s") % {"index": index, "error": error}) from None
    _only_keys(threshold, {"base", "share", "comparison", "abstentions", "invalid"}, "threshold")
    try:
        threshold_rule = ThresholdRule(threshold.get("base"), threshold.get("share"),
                                       threshold.get("comparison", "more_than"),
                                       threshold.get("abstentions", "as_cast"), threshold.get("invalid", "as_cast"))
    except ValueError as error:
        raise ValueError(_("threshold: %(error)s") % {"error": error}) from None
    if not str(code).strip():
        raise ValueError(_("a rule needs a code"))
    return DecisionRule(str(code), name_zh, name_en, QuorumRule(tuple(conditions)), threshold_rule,
                        SourceKind.CUSTOM)


def _only_keys(item, allowed: set[str], what: str) -> None:
    if not isinstance(item, Mapping):
        raise ValueError(_("%(what)s must be a mapping, got %(item)r") % {"what": what, "item": item})
    unknown = set(item) - allowed
    if unknown:
        raise ValueError(_("%(what)s: unknown field(s) %(fields)s; allowed: %(allowed)s")
                         % {"what": what, "fields": ", ".join(sorted(unknown)), "allowed": ", ".join(sorted(allowed))})
