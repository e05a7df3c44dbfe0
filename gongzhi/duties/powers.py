"""Power lists (权力清单 / 小微权力清单): what a village or community may decide, which body or posts decide
it and by which procedure, what sum makes a matter major (三重一大), and what must be disclosed; and the
check that a decision was taken the way its item requires. Pure: plain data in, plain data out, no Django
but lazily translated error messages.

The presets are modelled on published county and city lists; their sources, and which thresholds are
only this project's configurable defaults, are in docs/power-lists.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.deliberation.procedures import PROCEDURES, Procedure, Stage
from gongzhi.deliberation.rules import BODY_KINDS, PRESETS, SourceKind, custom_rule

# --- vocabulary -----------------------------------------------------------------------------------------


class PowerKind(StrEnum):
    """The four kinds of 三重一大 matter, and the rest."""

    MAJOR_DECISION = "major_decision"        # 重大事项决策
    CADRE = "cadre"                          # 重要干部任免 (in a village or community: recommending cadres)
    MAJOR_PROJECT = "major_project"          # 重大项目安排
    LARGE_FUND = "large_fund"                # 大额资金使用
    ROUTINE = "routine"                      # 一般事项, 便民服务


MAJOR_KINDS = frozenset(PowerKind) - {PowerKind.ROUTINE}

KIND_NAMES: dict[PowerKind, tuple[str, str]] = {
    PowerKind.MAJOR_DECISION: ("重大事项决策", "major decision"),
    PowerKind.CADRE: ("重要干部任免", "cadre appointment"),
    PowerKind.MAJOR_PROJECT: ("重大项目安排", "major project"),
    PowerKind.LARGE_FUND: ("大额资金使用", "large fund use"),
    PowerKind.ROUTINE: ("一般事项", "routine matter"),
}

# The headings the published lists group their items under (codes are ours).
GROUPS: dict[str, tuple[str, str]] = {
    "major_decisions": ("重大事项决策", "major decisions"),
    "personnel": ("组织人事", "personnel"),
    "tendering": ("招投标与采购管理", "tendering and procurement"),
    "assets_resources": ("集体资产资源处置", "collective assets and resources"),
    "finance": ("财务管理", "finance"),
    "construction": ("工程项目建设", "construction projects"),
    "welfare": ("惠农政策落实与民生保障", "benefits and social protection"),
    "self_governance": ("村（居）务管理", "village or community affairs"),
    "services": ("便民服务", "services to residents"),
}

# Who signs a matter that needs no meeting (or signs after one): 经办、审核、审批.
SIGNATORIES: dict[str, tuple[str, str]] = {
    "handler": ("经办人", "the handler"),
    "party_secretary": ("党组织书记", "the party organisation's secretary"),
    "committee_director": ("村（居）委会主任", "the committee's director"),
    "supervisory_committee": ("村（居）务监督委员会", "the supervisory committee"),
    "township": ("乡镇人民政府（街道办事处）", "the township government or street office"),
}


class DisclosureTiming(StrEnum):
    BEFORE_DECISION = "before_decision"    # 方案公示, 申请人公示: before the vote or approval
    AFTER_DECISION = "after_decision"      # 决议公开, 中标公示, 名单公示
    AFTER_COMPLETION = "after_completion"  # 实施结果公开
    PERIODIC = "periodic"                  # with the regular 村务 / 居务 / 财务 disclosure


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def parse_amount(value, what: str = _("an amount")) -> Decimal:
    """A sum of money in yuan as an exact Decimal: Decimal, int or a string such as "50000" (never a float)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(_("%(what)s %(value)r: give an exact number such as '50000', not a float")
                         % {"what": what, "value": value})
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, (int, str)):
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("%(what)s %(value)r is not a number") % {"what": what, "value": value}) from None
    else:
        raise ValueError(_("%(what)s %(value)r is not a number") % {"what": what, "value": value})
    if not amount.is_finite() or amount < 0:
        raise ValueError(_("%(what)s must be a sum of 0 or more, got %(value)r") % {"what": what, "value": value})
    return amount


def yuan(amount: Decimal) -> str:
    """60000 → "60,000"; 60000.5 → "60,000.5"."""
    return f"{amount:,f}"


# --- what an item requires ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """How a matter must be decided: one of three shapes.

    - a **procedure** (`procedure_code`, a deliberation preset such as 四议两公开): its deciding stage must
      be held by one of `body_kinds` (default: any the stage allows) and pass, and the record must have run
      through `complete_through` (default: the deciding stage) before the decision is carried out;
    - a **single meeting** (`body_kinds` without a procedure): one of those bodies decides collectively;
    - **signatures** only (`signatories`, no meeting): the posts named sign, e.g. 经办人 and 主任.

    `rules` names, per body kind, the decision rule the deciding vote must follow (a preset code or custom
    rule data) where the law asks more than the body's usual rule, e.g. two thirds for land contracting.
    Signatories may also be asked for after a meeting (报乡镇审批).
    """

    procedure_code: str | None = None
    body_kinds: tuple[str, ...] = ()
    rules: Mapping[str, str | Mapping] = field(default_factory=dict)
    complete_through: str | None = None
    signatories: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "body_kinds", tuple(self.body_kinds))
        object.__setattr__(self, "signatories", tuple(self.signatories))
        object.__setattr__(self, "rules", dict(self.rules))
        for kind in self.body_kinds:
            if kind not in BODY_KINDS:
                raise ValueError(_("unknown body kind %(kind)r; use one of %(choices)s")
                                 % {"kind": kind, "choices": ", ".join(BODY_KINDS)})
        if len(set(self.body_kinds)) != len(self.body_kinds):
            raise ValueError(_("a body kind is named twice"))
        for role in self.signatories:
            if role not in SIGNATORIES:
                raise ValueError(_("unknown signatory %(role)r; use one of %(choices)s")
                                 % {"role": role, "choices": ", ".join(SIGNATORIES)})
        if len(set(self.signatories)) != len(self.signatories):
            raise ValueError(_("a signatory is named twice"))
        if self.procedure_code is not None:
            if self.procedure_code not in PROCEDURES:
                raise ValueError(_("unknown procedure %(code)r; use one of %(choices)s")
                                 % {"code": self.procedure_code, "choices": ", ".join(PROCEDURES)})
            deciding = self.deciding_stage
            if deciding is None:
                raise ValueError(_("the procedure %(code)s has no deciding stage") % {"code": self.procedure_code})
            outside = [k for k in self.body_kinds if k not in deciding.body_kinds]
            if outside:
                raise ValueError(_("a %(kinds)s cannot hold the stage %(stage)s; allowed: %(allowed)s")
                                 % {"kinds": ", ".join(outside), "stage": deciding.code,
                                    "allowed": ", ".join(deciding.body_kinds)})
            if self.complete_through is not None:
                procedure = self.procedure
                codes = [s.code for s in procedure.stages]
                if self.complete_through not in codes:
                    raise ValueError(_("the procedure %(code)s has no stage %(stage)r")
                                     % {"code": procedure.code, "stage": self.complete_through})
                if codes.index(self.complete_through) < codes.index(deciding.code):
                    raise ValueError(_("complete_through %(stage)r comes before the deciding stage %(deciding)s")
                                     % {"stage": self.complete_through, "deciding": deciding.code})
        else:
            if self.complete_through is not None:
                raise ValueError(_("complete_through needs a procedure"))
            if not self.body_kinds and not self.signatories:
                raise ValueError(_("a requirement needs a procedure, a deciding body or signatories"))
        for kind, rule in self.rules.items():
            if kind not in self.allowed_bodies:
                raise ValueError(_("a rule is given for %(kind)r, which may not decide here") % {"kind": kind})
            rule_key(rule)  # raises ValueError naming the problem

    @property
    def procedure(self) -> Procedure | None:
        return PROCEDURES[self.procedure_code] if self.procedure_code else None

    @property
    def deciding_stage(self) -> Stage | None:
        procedure = self.procedure
        if procedure is None:
            return None
        return next((s for s in procedure.stages if s.decides), None)

    @property
    def allowed_bodies(self) -> tuple[str, ...]:
        """The body kinds that may take the deciding vote (none: signatures only)."""
        if self.body_kinds:
            return self.body_kinds
        stage = self.deciding_stage
        return stage.body_kinds if stage else ()

    @property
    def needs_meeting(self) -> bool:
        return bool(self.allowed_bodies)

    @property
    def last_required_stage(self) -> str | None:
        stage = self.deciding_stage
        if stage is None:
            return None
        return self.complete_through or stage.code

    def expected_rule(self, body_kind: str) -> str | Mapping | None:
        """The rule the deciding vote of `body_kind` must follow; None: the body's own."""
        if body_kind in self.rules:
            return self.rules[body_kind]
        stage = self.deciding_stage
        if stage is not None and body_kind in stage.body_kinds:
            return stage.rule_code_for(body_kind)
        return None

    def describe(self) -> tuple[str, str]:
        """"须经四议两公开程序" / "needs 四议两公开 (four deliberations, two disclosures)"."""
        if self.procedure is not None:
            zh, en = f"须经{self.procedure.name_zh}程序", f"needs {self.procedure.name_zh} ({self.procedure.name_en})"
            if self.body_kinds and set(self.body_kinds) != set(self.deciding_stage.body_kinds):
                zh += f"，由{_bodies_zh(self.body_kinds)}决议"
                en += f", resolved by the {_bodies_en(self.body_kinds)}"
        elif self.body_kinds:
            zh = f"须经{_bodies_zh(self.body_kinds)}集体决定"
            en = f"needs a collective decision of the {_bodies_en(self.body_kinds)}"
        else:
            zh, en = "", ""
        if self.signatories:
            names_zh = "、".join(SIGNATORIES[r][0] for r in self.signatories)
            names_en = _join_en([SIGNATORIES[r][1] for r in self.signatories], "and")
            if zh:
                zh += f"，并经{names_zh}签字"
                en += f", signed by {names_en}"
            else:
                zh, en = f"须经{names_zh}签字", f"needs the signatures of {names_en}"
        return zh, en


def rule_key(rule: str | Mapping) -> tuple:
    """What a rule counts, without its code and names: two rules with the same key are the same rule."""
    if isinstance(rule, str):
        if rule not in PRESETS:
            raise ValueError(_("unknown rule preset %(rule)r; use one of %(choices)s")
                             % {"rule": rule, "choices": ", ".join(PRESETS)})
        data = PRESETS[rule].to_data()
    elif isinstance(rule, Mapping):
        unknown = set(rule) - {"quorum", "threshold", "code", "name_zh", "name_en"}
        if unknown:
            raise ValueError(_("a rule has unknown field(s) %(fields)s") % {"fields": ", ".join(sorted(unknown))})
        built = custom_rule(quorum=rule.get("quorum", ()), threshold=rule.get("threshold", {}),
                            **{k: rule[k] for k in ("code", "name_zh", "name_en") if k in rule})
        data = built.to_data()
    else:
        raise ValueError(_("a rule is a preset code or custom rule data, got %(rule)r") % {"rule": rule})
    quorum = tuple(sorted(tuple(sorted(c.items())) for c in data["quorum"]))
    return quorum, tuple(sorted(data["threshold"].items()))


def rule_names(rule: str | Mapping) -> tuple[str, str]:
    if isinstance(rule, str):
        return PRESETS[rule].name_zh, PRESETS[rule].name_en
    return rule.get("name_zh", "自定义规则"), rule.get("name_en", "custom rule")


@dataclass(frozen=True)
class Tier:
    """Below the major threshold: from this sum (inclusive, 以上含本数) the requirement applies."""

    from_amount: Decimal
    requirement: Requirement

    def __post_init__(self):
        object.__setattr__(self, "from_amount", parse_amount(self.from_amount, _("a tier's from_amount")))


@dataclass(frozen=True)
class Disclosure:
    what_zh: str
    what_en: str
    timing: DisclosureTiming
    notice_days: int | None = None  # how long it stays up, where a rule says so

    def __post_init__(self):
        try:
            object.__setattr__(self, "timing", DisclosureTiming(self.timing))
        except ValueError:
            raise ValueError(_("unknown disclosure timing %(timing)r; use one of %(choices)s")
                             % {"timing": self.timing,
                                "choices": ", ".join(t.value for t in DisclosureTiming)}) from None
        if not (str(self.what_zh).strip() and str(self.what_en).strip()):
            raise ValueError(_("a disclosure says what is disclosed, in Chinese and English"))
        if self.notice_days is not None and (isinstance(self.notice_days, bool)
                                             or not isinstance(self.notice_days, int)
                                             or not 1 <= self.notice_days <= 365):
            raise ValueError(_("a disclosure's notice period is 1 to 365 days"))


@dataclass(frozen=True)
class PowerItem:
    """One entry of a power list.

    A matter under the item is **major** when its kind is one of the 三重一大 kinds and either the item has
    no `major_threshold` (every such matter is major, whatever the sum) or the matter's sum reaches it
    (以上 includes the threshold itself). A matter that is not major follows the highest `routine` tier its
    sum reaches. A matter with no sum under an item with a threshold is treated as major: nothing shows it
    is below.
    """

    code: str
    name_zh: str
    name_en: str
    group: str
    kind: PowerKind
    legal_basis: tuple[str, ...]
    major: Requirement | None = None
    routine: tuple[Tier, ...] = ()
    major_threshold: Decimal | None = None
    disclosures: tuple[Disclosure, ...] = ()
    source_kind: SourceKind = SourceKind.LOCAL_PRACTICE
    note: str = ""  # why the item is modelled this way, in English

    def __post_init__(self):
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            raise ValueError(_("item code %(code)r must be lower-case letters, digits and _") % {"code": self.code})
        if not (str(self.name_zh).strip() and str(self.name_en).strip()):
            raise ValueError(_("an item needs a Chinese and an English name"))
        if self.group not in GROUPS:
            raise ValueError(_("unknown group %(group)r; use one of %(choices)s")
                             % {"group": self.group, "choices": ", ".join(GROUPS)})
        try:
            object.__setattr__(self, "kind", PowerKind(self.kind))
        except ValueError:
            raise ValueError(_("unknown kind %(kind)r; use one of %(choices)s")
                             % {"kind": self.kind, "choices": ", ".join(k.value for k in PowerKind)}) from None
        try:
            object.__setattr__(self, "source_kind", SourceKind(self.source_kind))
        except ValueError:
            raise ValueError(_("unknown source kind %(kind)r") % {"kind": self.source_kind}) from None
        object.__setattr__(self, "legal_basis", tuple(self.legal_basis))
        object.__setattr__(self, "routine", tuple(self.routine))
        object.__setattr__(self, "disclosures", tuple(self.disclosures))
        if self.major_threshold is not None:
            object.__setattr__(self, "major_threshold", parse_amount(self.major_threshold, _("the major threshold")))
            if self.major_threshold == 0:
                raise ValueError(_("a major threshold of 0 makes every matter major: leave it out instead"))
        if self.kind in MAJOR_KINDS:
            if self.major is None:
                raise ValueError(_("a %(kind)s item needs a requirement for major matters") % {"kind": self.kind.value})
            if self.major_threshold is None and self.routine:
                raise ValueError(_("every matter of this item is major (no threshold), so it has no routine tiers"))
            if self.major_threshold is not None and not self.routine:
                raise ValueError(_("below the major threshold a matter needs a routine tier"))
        else:
            if self.major is not None or self.major_threshold is not None:
                raise ValueError(_("a routine item has no major requirement or threshold; make it a "
                                   "三重一大 kind, or list the major matter under another item"))
            if not self.routine:
                raise ValueError(_("a routine item needs at least one routine tier"))
        if self.routine:
            starts = [t.from_amount for t in self.routine]
            if starts[0] != 0:
                raise ValueError(_("the first routine tier starts at 0"))
            if any(a >= b for a, b in zip(starts, starts[1:])):
                raise ValueError(_("routine tiers must start at increasing sums"))
            if self.major_threshold is not None and starts[-1] >= self.major_threshold:
                raise ValueError(_("every routine tier starts below the major threshold"))

    @property
    def is_always_major(self) -> bool:
        return self.kind in MAJOR_KINDS and self.major_threshold is None

    def routine_for(self, amount: Decimal | None) -> Requirement:
        amount = amount if amount is not None else Decimal(0)
        return [t for t in self.routine if t.from_amount <= amount][-1].requirement


# --- classifying a decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposedDecision:
    """A decision to be carried out under an item: its sum in yuan (None: none), and the kind it is declared
    as (None: the item's). Declaring a 三重一大 kind makes a matter major; nothing makes it less."""

    amount: Decimal | None = None
    kind: PowerKind | None = None

    def __post_init__(self):
        if self.amount is not None:
            object.__setattr__(self, "amount", parse_amount(self.amount, _("the decision's amount")))
        if self.kind is not None:
            try:
                object.__setattr__(self, "kind", PowerKind(self.kind))
            except ValueError:
                raise ValueError(_("unknown kind %(kind)r") % {"kind": self.kind}) from None


@dataclass(frozen=True)
class Classification:
    is_major: bool
    kind: PowerKind  # the 三重一大 kind when major, else routine
    requirement: Requirement
    reason_zh: str
    reason_en: str


def classify_decision(item: PowerItem, decision: ProposedDecision) -> Classification:
    """Is the decision a major (三重一大) matter, and what does it then require?"""
    amount = decision.amount
    declared = decision.kind if decision.kind in MAJOR_KINDS else None
    if declared is not None and item.major is None:
        raise ValueError(_("%(code)s has no procedure for major matters; list the matter under an item that has one")
                         % {"code": item.code})
    if item.is_always_major:
        kind_zh, kind_en = KIND_NAMES[declared or item.kind]
        return Classification(True, declared or item.kind, item.major, f"属“三重一大”事项（{kind_zh}），不论金额",
                              f"a major matter ({kind_en}) whatever the sum")
    if declared is not None:
        kind_zh, kind_en = KIND_NAMES[declared]
        return Classification(True, declared, item.major, f"申报为“三重一大”事项（{kind_zh}）",
                              f"declared a major matter ({kind_en})")
    if item.kind in MAJOR_KINDS:
        kind_zh, kind_en = KIND_NAMES[item.kind]
        if amount is None:
            return Classification(True, item.kind, item.major, f"未载明金额，按“三重一大”事项（{kind_zh}）办理",
                                  f"no sum given: treated as a major matter ({kind_en})")
        if amount >= item.major_threshold:
            return Classification(
                True, item.kind, item.major,
                f"金额 {yuan(amount)} 元，达到 {yuan(item.major_threshold)} 元（含）以上：属“三重一大”事项（{kind_zh}）",
                f"{yuan(amount)} yuan, at or above {yuan(item.major_threshold)} yuan: a major matter ({kind_en})")
        return Classification(
            False, PowerKind.ROUTINE, item.routine_for(amount),
            f"金额 {yuan(amount)} 元，低于 {yuan(item.major_threshold)} 元：属一般事项",
            f"{yuan(amount)} yuan, below {yuan(item.major_threshold)} yuan: a routine matter")
    return Classification(False, PowerKind.ROUTINE, item.routine_for(amount), "属一般事项", "a routine matter")


# --- what the record shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSummary:
    """One stage of the record: did it pass (or get done), and for a meeting, which body met, whether it
    was quorate, and under which rule (a preset code or custom rule data; None: not stated)."""

    stage_code: str
    is_passed: bool = True
    body_kind: str | None = None
    is_quorate: bool | None = None
    rule: str | Mapping | None = None

    def __post_init__(self):
        if self.body_kind is not None and self.body_kind not in BODY_KINDS:
            raise ValueError(_("unknown body kind %(kind)r") % {"kind": self.body_kind})


@dataclass(frozen=True)
class RecordSummary:
    """What the deliberation record shows for the matter: the procedure run (None: a single meeting or
    none), its stages in the current round in the order recorded, the sum the resolution approved, and
    who signed."""

    procedure_code: str | None = None
    stages: tuple[StageSummary, ...] = ()
    approved_amount: Decimal | None = None
    signatories: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "signatories", tuple(self.signatories))
        if self.approved_amount is not None:
            object.__setattr__(self, "approved_amount", parse_amount(self.approved_amount, _("the approved amount")))
        if self.procedure_code is not None:
            if self.procedure_code not in PROCEDURES:
                raise ValueError(_("unknown procedure %(code)r") % {"code": self.procedure_code})
            codes = {s.code for s in PROCEDURES[self.procedure_code].stages}
            unknown = [s.stage_code for s in self.stages if s.stage_code not in codes]
            if unknown:
                raise ValueError(_("the procedure %(code)s has no stage(s) %(stages)s")
                                 % {"code": self.procedure_code, "stages": ", ".join(unknown)})

    def last(self, stage_code: str) -> StageSummary | None:
        found = [s for s in self.stages if s.stage_code == stage_code]
        return found[-1] if found else None


# --- the verdict ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a decision may not be carried out. Codes: wrong_procedure, no_resolution, wrong_body, wrong_rule,
    no_quorum, not_passed, procedure_incomplete, amount_not_stated, amount_exceeds_approval,
    missing_signature."""

    code: str
    message_zh: str
    message_en: str
    stage_code: str | None = None


@dataclass(frozen=True)
class Verdict:
    is_accepted: bool
    classification: Classification
    reasons: tuple[Reason, ...]  # empty when accepted; the first is the one to show
    message_zh: str               # "须经四议两公开程序，村民代表会议决议未通过"
    message_en: str

    @property
    def code(self) -> str:
        return self.reasons[0].code if self.reasons else "accepted"

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"

    def to_data(self) -> dict:
        """Plain data for a decision's stored verdict."""
        return {
            "is_accepted": self.is_accepted, "code": self.code,
            "is_major": self.classification.is_major, "kind": self.classification.kind.value,
            "classification_zh": self.classification.reason_zh, "classification_en": self.classification.reason_en,
            "requirement": requirement_to_data(self.classification.requirement),
            "reasons": [{"code": r.code, "message_zh": r.message_zh, "message_en": r.message_en,
                         **({"stage": r.stage_code} if r.stage_code else {})} for r in self.reasons],
            "message_zh": self.message_zh, "message_en": self.message_en,
        }


def check_decision(item: PowerItem, decision: ProposedDecision,
                   record: RecordSummary | None) -> Verdict:
    """May the decision be carried out, given what the deliberation record shows?

    Implements the item's requirement (see `classify_decision`): a procedure run in order up to the stage
    required, its deciding stage held by an allowed body under the right rule, quorate and passed; a sum no
    larger than the resolution approved; and the signatures named.
    """
    classification = classify_decision(item, decision)
    requirement = classification.requirement
    record = record or RecordSummary()
    reasons: list[Reason] = []
    if requirement.procedure is not None:
        reasons += _check_procedure(requirement, record)
    elif requirement.body_kinds:
        reasons += _check_meeting(requirement, record)
    if not reasons and requirement.needs_meeting:
        reasons += _check_amount(decision, record)
    missing = [r for r in requirement.signatories if r not in record.signatories]
    if missing:
        reasons.append(Reason("missing_signature", f"缺少{'、'.join(SIGNATORIES[r][0] for r in missing)}的签字",
                              f"missing the signature of {_join_en([SIGNATORIES[r][1] for r in missing], 'and')}"))
    needs_zh, needs_en = requirement.describe()
    if reasons:
        first = reasons[0]
        return Verdict(False, classification, tuple(reasons), f"{needs_zh}，{first.message_zh}",
                       f"{needs_en}; {first.message_en}")
    return Verdict(True, classification, (), f"{needs_zh}：已符合，可以实施",
                   f"{needs_en}: satisfied, may be carried out")


def _check_procedure(requirement: Requirement, record: RecordSummary) -> list[Reason]:
    procedure = requirement.procedure
    if record.procedure_code != procedure.code:
        if record.procedure_code is None:
            if not record.stages:
                stage = requirement.deciding_stage
                return [Reason("no_resolution", f"尚无{_bodies_zh(requirement.allowed_bodies)}的决议",
                               f"there is no resolution of the {_bodies_en(requirement.allowed_bodies)} yet",
                               stage.code)]
            return [Reason("wrong_procedure", "记录未按该程序进行", "the record follows no procedure")]
        other = PROCEDURES[record.procedure_code]
        return [Reason("wrong_procedure", f"记录的程序是{other.name_zh}", f"the record follows {other.name_zh} "
                                                                           f"({other.name_en})")]
    deciding = requirement.deciding_stage
    reasons = []
    resolution = record.last(deciding.code)
    if resolution is None:
        reasons.append(Reason("no_resolution", f"尚无{_bodies_zh(requirement.allowed_bodies)}的决议",
                              f"there is no resolution of the {_bodies_en(requirement.allowed_bodies)} yet",
                              deciding.code))
    else:
        reasons += _check_vote(requirement, resolution)
    # Every stage up to the one required must be recorded and passed (a stage cannot be skipped).
    codes = [s.code for s in procedure.stages]
    for stage in procedure.stages[:codes.index(requirement.last_required_stage) + 1]:
        if stage.code == deciding.code:
            continue
        entry = record.last(stage.code)
        if entry is None or not entry.is_passed:
            later = {s.code for s in procedure.stages[codes.index(stage.code) + 1:]}
            if entry is not None:
                word_zh, word_en = "未通过", "did not pass"
            elif any(s.stage_code in later for s in record.stages):
                word_zh, word_en = "被跳过", "was skipped"
            else:
                word_zh, word_en = "尚未完成", "is not done yet"
            reasons.append(Reason("procedure_incomplete", f"“{stage.name_zh}”{word_zh}",
                                  f"“{stage.name_en}” {word_en}", stage.code))
            break
    return reasons


def _check_meeting(requirement: Requirement, record: RecordSummary) -> list[Reason]:
    meetings = [s for s in record.stages if s.body_kind is not None]
    allowed = [s for s in meetings if s.body_kind in requirement.body_kinds]
    if allowed:
        return _check_vote(requirement, allowed[-1])
    if meetings:
        return [_wrong_body(requirement, meetings[-1])]
    return [Reason("no_resolution", f"尚无{_bodies_zh(requirement.body_kinds)}的决定",
                   f"there is no decision of the {_bodies_en(requirement.body_kinds)} yet")]


def _wrong_body(requirement: Requirement, entry: StageSummary) -> Reason:
    held_zh, held_en = BODY_KINDS[entry.body_kind] if entry.body_kind else ("未载明的主体", "an unstated body")
    allowed = requirement.allowed_bodies
    return Reason("wrong_body", f"决议由{held_zh}作出，应由{_bodies_zh(allowed)}作出",
                  f"the resolution was taken by the {held_en}; it must be taken by the {_bodies_en(allowed)}",
                  entry.stage_code)


def _check_vote(requirement: Requirement, entry: StageSummary) -> list[Reason]:
    if entry.body_kind not in requirement.allowed_bodies:
        return [_wrong_body(requirement, entry)]
    body_zh, body_en = BODY_KINDS[entry.body_kind]
    expected = requirement.expected_rule(entry.body_kind)
    demanded_by_item = entry.body_kind in requirement.rules
    if expected is not None and (entry.rule is not None or demanded_by_item):
        if entry.rule is None or rule_key(entry.rule) != rule_key(expected):
            name_zh, name_en = rule_names(expected)
            return [Reason("wrong_rule", f"{body_zh}的表决未按“{name_zh}”规则进行",
                           f"the {body_en}'s vote did not follow the rule “{name_en}”", entry.stage_code)]
    if entry.is_quorate is False:
        return [Reason("no_quorum", f"{body_zh}未达到法定人数", f"the {body_en} had no quorum", entry.stage_code)]
    if not entry.is_passed:
        return [Reason("not_passed", f"{body_zh}决议未通过", f"the {body_en}'s resolution did not pass",
                       entry.stage_code)]
    return []


def _check_amount(decision: ProposedDecision, record: RecordSummary) -> list[Reason]:
    if decision.amount is None:
        return []
    if record.approved_amount is None:
        return [Reason("amount_not_stated", f"决议未载明批准金额，不能据以支出 {yuan(decision.amount)} 元",
                       f"the resolution states no approved sum, so it cannot cover {yuan(decision.amount)} yuan")]
    if decision.amount > record.approved_amount:
        return [Reason("amount_exceeds_approval",
                       f"拟支出 {yuan(decision.amount)} 元，超过决议批准的 {yuan(record.approved_amount)} 元",
                       f"{yuan(decision.amount)} yuan is more than the {yuan(record.approved_amount)} yuan "
                       f"the resolution approved")]
    return []


def _bodies_zh(kinds: Sequence[str]) -> str:
    names = [BODY_KINDS[k][0] for k in kinds]
    return names[0] if len(names) == 1 else f"{'、'.join(names[:-1])}或{names[-1]}"


def _bodies_en(kinds: Sequence[str]) -> str:
    return _join_en([BODY_KINDS[k][1] for k in kinds], "or")


def _join_en(names: Sequence[str], word: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


# --- plain data -----------------------------------------------------------------------------------------

_REQUIREMENT_FIELDS = {"procedure_code", "body_kinds", "rules", "complete_through", "signatories"}
_ITEM_FIELDS = {"code", "name_zh", "name_en", "group", "kind", "legal_basis", "major", "routine",
                "major_threshold", "disclosures", "source_kind", "note"}
_DISCLOSURE_FIELDS = {"what_zh", "what_en", "timing", "notice_days"}


def requirement_to_data(requirement: Requirement) -> dict:
    data: dict = {}
    if requirement.procedure_code:
        data["procedure_code"] = requirement.procedure_code
    if requirement.body_kinds:
        data["body_kinds"] = list(requirement.body_kinds)
    if requirement.rules:
        data["rules"] = {k: (v if isinstance(v, str) else _plain(v)) for k, v in requirement.rules.items()}
    if requirement.complete_through:
        data["complete_through"] = requirement.complete_through
    if requirement.signatories:
        data["signatories"] = list(requirement.signatories)
    return data


def requirement_from_data(data: Mapping) -> Requirement:
    _only(data, _REQUIREMENT_FIELDS, _("a requirement"))
    return Requirement(data.get("procedure_code"), tuple(data.get("body_kinds", ())), data.get("rules", {}),
                       data.get("complete_through"), tuple(data.get("signatories", ())))


def item_to_data(item: PowerItem) -> dict:
    """The item as JSON-ready data (sums as strings); `item_from_data` gives it back."""
    data = {"code": item.code, "name_zh": item.name_zh, "name_en": item.name_en, "group": item.group,
            "kind": item.kind.value, "legal_basis": list(item.legal_basis)}
    if item.major is not None:
        data["major"] = requirement_to_data(item.major)
    if item.major_threshold is not None:
        data["major_threshold"] = str(item.major_threshold)
    if item.routine:
        data["routine"] = [{"from_amount": str(t.from_amount), "requirement": requirement_to_data(t.requirement)}
                           for t in item.routine]
    if item.disclosures:
        data["disclosures"] = [{"what_zh": d.what_zh, "what_en": d.what_en, "timing": d.timing.value,
                                **({"notice_days": d.notice_days} if d.notice_days else {})}
                               for d in item.disclosures]
    data["source_kind"] = item.source_kind.value
    if item.note:
        data["note"] = item.note
    return data


def item_from_data(data: Mapping) -> PowerItem:
    """An item from plain data; raises ValueError naming the item and what is wrong."""
    label = _("item %(code)r") % {"code": data.get("code")} if isinstance(data, Mapping) else _("item")
    try:
        _only(data, _ITEM_FIELDS, _("an item"))
        missing = {"code", "name_zh", "name_en", "group", "kind"} - set(data)
        if missing:
            raise ValueError(_("missing field(s) %(fields)s") % {"fields": ", ".join(sorted(missing))})
        routine = []
        for tier in data.get("routine", ()):
            _only(tier, {"from_amount", "requirement"}, _("a routine tier"))
            routine.append(Tier(tier.get("from_amount", "0"), requirement_from_data(tier.get("requirement", {}))))
        disclosures = []
        for disclosure in data.get("disclosures", ()):
            _only(disclosure, _DISCLOSURE_FIELDS, _("a disclosure"))
            disclosures.append(Disclosure(disclosure.get("what_zh", ""), disclosure.get("what_en", ""),
                                          disclosure.get("timing"), disclosure.get("notice_days")))
        return PowerItem(
            data["code"], data["name_zh"], data["name_en"], data["group"], data["kind"],
            tuple(data.get("legal_basis", ())),
            requirement_from_data(data["major"]) if data.get("major") is not None else None,
            tuple(routine), data.get("major_threshold"), tuple(disclosures),
            data.get("source_kind", SourceKind.CUSTOM), data.get("note", ""))
    except ValueError as error:
        raise ValueError(_("%(item)s: %(error)s") % {"item": label, "error": error}) from None


def power_list_to_data(items: Mapping[str, PowerItem]) -> list[dict]:
    return [item_to_data(item) for item in items.values()]


def power_list_from_data(data: Sequence[Mapping]) -> dict[str, PowerItem]:
    """A power list (item code → item) from a list of item dicts, e.g. a copy of a preset edited locally."""
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Sequence):
        raise ValueError(_("a power list is a list of items"))
    items: dict[str, PowerItem] = {}
    for entry in data:
        item = item_from_data(entry)
        if item.code in items:
            raise ValueError(_("item code %(code)s is used twice") % {"code": item.code})
        items[item.code] = item
    return items


def _only(data, allowed: set[str], what: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(_("%(what)s must be a mapping, got %(item)r") % {"what": what, "item": data})
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(_("%(what)s: unknown field(s) %(fields)s")
                         % {"what": what, "fields": ", ".join(sorted(unknown))})


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --- presets --------------------------------------------------------------------------------------------
# Thresholds are this project's configurable defaults, not law: see docs/power-lists.md.

DEFAULT_MAJOR_THRESHOLD = Decimal(50_000)      # 5 万元（含）以上: 四议两公开 / community consultation
DEFAULT_COLLECTIVE_THRESHOLD = Decimal(5_000)  # 5 千元（含）以上: 两委联席会议 collective decision
DEFAULT_PROJECT_THRESHOLD = Decimal(100_000)   # 10 万元（含）以上 projects: 四议两公开

_VILLAGE_LAW = "《中华人民共和国村民委员会组织法》"
_RESIDENTS_LAW = "《中华人民共和国城市居民委员会组织法》"
_LAND_CONTRACT_LAW = "《中华人民共和国农村土地承包法》"
_LAND_LAW = "《中华人民共和国土地管理法》"
_CIVIL_CODE = "《中华人民共和国民法典》"

FOUR = "four_deliberations_two_disclosures"
CONSULTATION = "community_consultation"

# A decision may be carried out once its resolution has been published (决议公开); the result is published
# after (实施结果公开). In a community consultation the notice (公示) must end first, objections answered.
_VILLAGE_MAJOR = Requirement(FOUR, complete_through="resolution_disclosure")
_COMMUNITY_MAJOR = Requirement(CONSULTATION, complete_through="notice")
_TWO_COMMITTEES = Requirement(body_kinds=("two_committees_joint_meeting",))
_DOUBLE_SIGNATURE = Requirement(signatories=("handler", "party_secretary", "committee_director"))
_DIRECTOR_SIGNS = Requirement(signatories=("handler", "committee_director"))
_TOWNSHIP_DECIDES = Requirement(signatories=("handler", "committee_director", "township"))
_PARTY_MEMBERS_MEETING = Requirement(body_kinds=("party_members_meeting",),
                                     rules={"party_members_meeting": "party_members_meeting"})

# "村民会议三分之二以上成员或者三分之二以上村民代表的同意": two thirds of all on the roll, not of those present.
# The quorum stays the body's statutory one.
LAND_CONSENT_RULES: dict[str, dict] = {
    "villagers_meeting": {
        "code": "land_consent_villagers_meeting", "name_zh": "村民会议三分之二以上成员同意",
        "name_en": "consent of two thirds of the villagers' meeting's members",
        "quorum": [{"basis": "members", "share": "1/2", "comparison": "more_than"},
                   {"basis": "households", "share": "2/3", "comparison": "at_least"}],
        "threshold": {"base": "due", "share": "2/3", "comparison": "at_least"}},
    "villagers_representatives_meeting": {
        "code": "land_consent_representatives", "name_zh": "三分之二以上村民代表同意",
        "name_en": "consent of two thirds of the villagers' representatives",
        "quorum": [{"basis": "members", "share": "2/3", "comparison": "at_least"}],
        "threshold": {"base": "due", "share": "2/3", "comparison": "at_least"}},
}
_LAND_CONSENT = Requirement(FOUR, body_kinds=("villagers_meeting", "villagers_representatives_meeting"),
                            rules=LAND_CONSENT_RULES, complete_through="resolution_disclosure")
_LAND_CONSENT_TOWNSHIP = Requirement(FOUR, body_kinds=("villagers_meeting", "villagers_representatives_meeting"),
                                     rules=LAND_CONSENT_RULES, complete_through="resolution_disclosure",
                                     signatories=("township",))


def _spending_tiers(collective: Decimal = DEFAULT_COLLECTIVE_THRESHOLD) -> tuple[Tier, ...]:
    return (Tier(Decimal(0), _DOUBLE_SIGNATURE), Tier(collective, _TWO_COMMITTEES))


def _d(what_zh, what_en, timing, notice_days=None) -> Disclosure:
    return Disclosure(what_zh, what_en, timing, notice_days)


_BEFORE, _AFTER = DisclosureTiming.BEFORE_DECISION, DisclosureTiming.AFTER_DECISION
_RESULT, _PERIODIC = DisclosureTiming.AFTER_COMPLETION, DisclosureTiming.PERIODIC
_RESOLUTION_AND_RESULT = (_d("决议内容", "the resolution", _AFTER), _d("实施结果", "the result", _RESULT))
_MONTHLY_ACCOUNTS = _d("财务收支明细", "itemised income and spending", _PERIODIC)

_K = PowerKind
_LAW, _LOCAL, _DEFAULT = SourceKind.LAW, SourceKind.LOCAL_PRACTICE, SourceKind.PROJECT_DEFAULT


def _always_major(code, name_zh, name_en, group, kind, basis, requirement, disclosures, source_kind,
                  note="") -> PowerItem:
    return PowerItem(code, name_zh, name_en, group, kind, tuple(basis), requirement, (), None,
                     tuple(disclosures), source_kind, note)


def _by_amount(code, name_zh, name_en, group, kind, basis, major, routine, threshold, disclosures,
               source_kind, note="") -> PowerItem:
    return PowerItem(code, name_zh, name_en, group, kind, tuple(basis), major, tuple(routine), threshold,
                     tuple(disclosures), source_kind, note)


def _routine(code, name_zh, name_en, group, basis, requirement, disclosures, source_kind, note="") -> PowerItem:
    return PowerItem(code, name_zh, name_en, group, _K.ROUTINE, tuple(basis), None,
                     (Tier(Decimal(0), requirement),), None, tuple(disclosures), source_kind, note)


VILLAGE_POWER_LIST: dict[str, PowerItem] = {item.code: item for item in (
    # 重大事项决策
    _always_major("development_plan", "村庄发展规划和年度工作计划", "village development plan and annual work plan",
                  "major_decisions", _K.MAJOR_DECISION, [f"{_VILLAGE_LAW}第二十三条、第二十四条"],
                  _VILLAGE_MAJOR, _RESOLUTION_AND_RESULT, _LOCAL),
    _always_major("public_welfare_funding", "公益事业兴办和筹资筹劳（一事一议）",
                  "public works and the money and labour raised for them (one matter, one deliberation)",
                  "major_decisions", _K.MAJOR_DECISION,
                  [f"{_VILLAGE_LAW}第二十四条第一款第三项", "《村民一事一议筹资筹劳管理办法》"],
                  _VILLAGE_MAJOR,
                  (_d("筹资筹劳方案", "the scheme of contributions", _BEFORE),
                   _d("筹资筹劳的收支和使用情况", "what was raised and how it was spent", _RESULT)), _LAW),
    _always_major("collective_income_use", "集体经济所得收益的使用", "use of the collective economy's income",
                  "major_decisions", _K.LARGE_FUND, [f"{_VILLAGE_LAW}第二十四条第一款第二项"],
                  _VILLAGE_MAJOR, _RESOLUTION_AND_RESULT + (_MONTHLY_ACCOUNTS,), _LAW),
    _always_major("allowance_recipients", "享受误工补贴的人员及补贴标准",
                  "who receives a lost-work allowance, and how much", "major_decisions", _K.MAJOR_DECISION,
                  [f"{_VILLAGE_LAW}第二十四条第一款第一项"], _VILLAGE_MAJOR,
                  (_d("补贴人员名单和标准", "the recipients and the rates", _AFTER),), _LAW),
    _always_major("land_compensation_distribution", "征地补偿费的使用和分配方案",
                  "use and distribution of land acquisition compensation", "major_decisions", _K.LARGE_FUND,
                  [f"{_VILLAGE_LAW}第二十四条第一款第七项", f"{_CIVIL_CODE}第二百六十一条"], _VILLAGE_MAJOR,
                  (_d("分配方案", "the distribution scheme", _BEFORE),
                   _d("分配对象和金额", "who received how much", _RESULT)), _LAW),
    _always_major("village_rules", "村民自治章程和村规民约的制定和修改",
                  "adopting and amending the village charter and the village code", "major_decisions",
                  _K.MAJOR_DECISION, [f"{_VILLAGE_LAW}第二十七条"],
                  Requirement(FOUR, body_kinds=("villagers_meeting", "household_representatives_meeting"),
                              complete_through="resolution_disclosure"),
                  (_d("章程、村规民约全文", "the full text", _AFTER),), _LAW,
                  "Art. 27 gives this to the villagers' meeting itself; it is not among the art. 24 matters "
                  "the meeting may delegate to its representatives."),
    _always_major("other_major_matters", "其他涉及村民利益的重大事项",
                  "other major matters affecting villagers' interests", "major_decisions", _K.MAJOR_DECISION,
                  [f"{_VILLAGE_LAW}第二十四条第一款第九项"], _VILLAGE_MAJOR, _RESOLUTION_AND_RESULT, _LAW),
    # 组织人事
    _always_major("cadre_recommendation", "村级后备干部和村组干部人选推荐",
                  "recommending reserve cadres and village or group cadres", "personnel", _K.CADRE,
                  ["《中国共产党农村基层组织工作条例》", "“三重一大”集体决策制度"],
                  Requirement(body_kinds=("party_branch_committee",),
                              rules={"party_branch_committee": "major_matters_collective_decision"}),
                  (_d("推荐人选", "the persons recommended", _AFTER),), _LOCAL,
                  "Elections themselves follow the election rules; this is the party committee's recommendation."),
    _routine("party_member_admission", "发展党员", "admitting party members", "personnel",
             ["《中国共产党发展党员工作细则》"],
             _PARTY_MEMBERS_MEETING,
             (_d("拟发展对象", "the persons proposed", _BEFORE),), SourceKind.PARTY_REGULATION),
    _routine("temporary_staff", "村级临时用工和聘用人员", "temporary and contracted village staff", "personnel",
             ["各地村级小微权力清单"], _TWO_COMMITTEES,
             (_d("用工人员、岗位和报酬", "who is hired, for what, at what pay", _AFTER),), _LOCAL),
    # 招投标与采购管理
    _by_amount("project_tendering", "村级工程项目招投标", "tendering of village construction projects", "tendering",
               _K.MAJOR_PROJECT, ["各地村级小微权力清单", "各地农村集体工程项目招投标管理办法"],
               _VILLAGE_MAJOR, (Tier(Decimal(0), _TWO_COMMITTEES),), DEFAULT_PROJECT_THRESHOLD,
               (_d("招标公告", "the call for tenders", _BEFORE), _d("中标单位和中标价", "the winner and the price", _AFTER)),
               _DEFAULT, "Below the threshold the two committees choose among at least three quotations (比选)."),
    _by_amount("procurement", "村级物资和服务采购", "village purchases of goods and services", "tendering",
               _K.LARGE_FUND, ["各地村级小微权力清单"], _VILLAGE_MAJOR, _spending_tiers(),
               DEFAULT_MAJOR_THRESHOLD, (_d("采购事项和金额", "what was bought, for how much", _AFTER), _MONTHLY_ACCOUNTS),
               _DEFAULT),
    _by_amount("project_change", "工程项目变更和增加工程量", "changes and additions to a project", "tendering",
               _K.MAJOR_PROJECT, ["各地村级小微权力清单"], _VILLAGE_MAJOR,
               (Tier(Decimal(0), Requirement(body_kinds=("two_committees_joint_meeting",),
                                              signatories=("supervisory_committee",))),),
               DEFAULT_MAJOR_THRESHOLD, (_d("变更内容、理由和金额", "the change, why, and its cost", _AFTER),), _DEFAULT),
    # 集体资产资源处置
    _always_major("asset_lease", "集体资产资源的发包、出租和承包", "contracting out and leasing collective assets",
                  "assets_resources", _K.MAJOR_DECISION,
                  [f"{_VILLAGE_LAW}第二十四条第一款第五项、第八项"], _VILLAGE_MAJOR,
                  (_d("发包、出租方案", "the terms offered", _BEFORE),
                   _d("承租方、价格和期限", "the lessee, price and term", _AFTER)), _LAW),
    _always_major("asset_disposal", "集体资产的出售、报废和其他处分", "selling, scrapping or otherwise disposing of "
                  "collective assets", "assets_resources", _K.LARGE_FUND,
                  [f"{_VILLAGE_LAW}第二十四条第一款第八项"], _VILLAGE_MAJOR,
                  (_d("处置方案", "the disposal", _BEFORE), _d("处置结果和收入", "the result and the proceeds", _RESULT)),
                  _LAW, "The statute names every disposal of collective property, however small; a local list "
                  "that lets the two committees scrap minor items is stricter to check."),
    _always_major("land_contracting_scheme", "土地承包方案", "the land contracting scheme", "assets_resources",
                  _K.MAJOR_DECISION, [f"{_LAND_CONTRACT_LAW}第十九条", f"{_CIVIL_CODE}第二百六十一条",
                                      f"{_VILLAGE_LAW}第二十四条第一款第四项"],
                  _LAND_CONSENT, (_d("承包方案", "the scheme", _BEFORE),), _LAW),
    _always_major("land_contracting_outsiders", "集体土地发包给本集体以外的单位或个人",
                  "contracting collective land to outsiders", "assets_resources", _K.MAJOR_DECISION,
                  [f"{_LAND_CONTRACT_LAW}第五十二条", f"{_CIVIL_CODE}第二百六十一条"], _LAND_CONSENT_TOWNSHIP,
                  (_d("发包方案和承包方", "the terms and the contractor", _AFTER),), _LAW,
                  "Also needs the township government's approval."),
    _always_major("land_contract_adjustment", "承包地的个别调整", "adjusting individual land contracts",
                  "assets_resources", _K.MAJOR_DECISION,
                  [f"{_LAND_CONTRACT_LAW}第二十八条", f"{_CIVIL_CODE}第二百六十一条"], _LAND_CONSENT_TOWNSHIP,
                  (_d("调整方案", "the adjustment", _AFTER),), _LAW,
                  "Also needs approval by the township and the county's agriculture authority."),
    _always_major("construction_land_transfer", "集体经营性建设用地出让、出租",
                  "granting or leasing collective land for business construction", "assets_resources",
                  _K.MAJOR_DECISION, [f"{_LAND_LAW}第六十三条"], _LAND_CONSENT,
                  (_d("出让、出租方案", "the terms", _BEFORE), _d("受让方和价款", "the grantee and the price", _AFTER)), _LAW),
    _always_major("homestead_plan", "宅基地的使用方案", "the plan for house plots", "assets_resources",
                  _K.MAJOR_DECISION, [f"{_VILLAGE_LAW}第二十四条第一款第六项"], _VILLAGE_MAJOR,
                  (_d("宅基地使用方案", "the plan", _AFTER),), _LAW),
    _always_major("borrowing_and_guarantees", "集体举债、借贷和对外担保", "collective borrowing, lending and guarantees",
                  "assets_resources", _K.LARGE_FUND, [f"{_VILLAGE_LAW}第二十四条第一款第八项"], _VILLAGE_MAJOR,
                  _RESOLUTION_AND_RESULT, _LAW, "Many local lists forbid guarantees outright; this list only "
                  "requires the full procedure."),
    # 财务管理
    _by_amount("expenditure", "村级财务开支审批", "approving village spending", "finance", _K.LARGE_FUND,
               [f"{_VILLAGE_LAW}第三十条", "各地村级财务管理制度"], _VILLAGE_MAJOR, _spending_tiers(),
               DEFAULT_MAJOR_THRESHOLD, (_MONTHLY_ACCOUNTS,), _DEFAULT),
    _always_major("annual_budget", "村级年度财务预算和决算", "the village's annual budget and accounts", "finance",
                  _K.LARGE_FUND, ["各地村级财务管理制度"], _VILLAGE_MAJOR,
                  (_d("预算", "the budget", _AFTER), _d("决算", "the accounts", _RESULT)), _LOCAL),
    _routine("income_and_receipts", "集体收入收缴和票据管理", "collecting income and keeping receipts", "finance",
             ["各地村级财务管理制度"], _DIRECTOR_SIGNS, (_MONTHLY_ACCOUNTS,), _LOCAL,
             "All income goes into the village's account kept by the township (村账乡代管) where that applies."),
    _by_amount("grants_and_donations", "上级补助和社会捐赠资金、物资的使用", "using grants and donations", "finance",
               _K.LARGE_FUND, [f"{_VILLAGE_LAW}第三十条第一款第三项"], _VILLAGE_MAJOR,
               (Tier(Decimal(0), _TWO_COMMITTEES),), DEFAULT_MAJOR_THRESHOLD,
               (_d("资金、物资的来源、数额和使用情况", "where it came from, how much, and how it was used", _PERIODIC),), _LAW),
    # 工程项目建设
    _by_amount("project_approval", "村级工程项目立项", "approving a village construction project", "construction",
               _K.MAJOR_PROJECT, [f"{_VILLAGE_LAW}第二十四条第一款第三项、第五项"], _VILLAGE_MAJOR,
               (Tier(Decimal(0), _TWO_COMMITTEES),), DEFAULT_PROJECT_THRESHOLD,
               (_d("项目名称、内容和预算", "the project, its scope and budget", _AFTER),), _DEFAULT),
    _routine("project_acceptance_payment", "工程验收和工程款结算", "accepting works and paying for them", "construction",
             ["各地村级小微权力清单"],
             Requirement(body_kinds=("two_committees_joint_meeting",), signatories=("supervisory_committee",)),
             (_d("验收结果和结算金额", "the acceptance and the amount paid", _RESULT),), _LOCAL,
             "The spending was decided when the project was approved; this is its execution."),
    # 惠农政策落实与民生保障
    _routine("subsistence_allowance", "低保、特困供养申请的调查和评议", "inquiries into minimum living allowance and "
             "destitute support applications", "welfare",
             ["《社会救助暂行办法》", "《最低生活保障审核确认办法》"], _TOWNSHIP_DECIDES,
             (_d("申请人和拟保障对象", "applicants and proposed recipients", _BEFORE),
              _d("保障对象", "recipients", _PERIODIC)), _LAW,
             "The township decides; the village helps with the inquiry and the notice."),
    _routine("hardship_relief", "困难救助和临时救助申请", "hardship and temporary relief applications", "welfare",
             ["《社会救助暂行办法》"], _TOWNSHIP_DECIDES, (_d("救助对象和金额", "recipients and amounts", _AFTER),), _LAW),
    _routine("farm_subsidy_lists", "惠农补贴对象和面积的申报核实", "checking who gets farm subsidies and for how much land",
             "welfare", ["各地惠农补贴“一卡通”管理办法"], _TOWNSHIP_DECIDES,
             (_d("补贴对象、面积和金额", "recipients, areas and sums", _BEFORE),), _LOCAL),
    _routine("homestead_application", "村民宅基地申请", "villagers' applications for a house plot", "welfare",
             [f"{_LAND_LAW}第六十二条", "《农业农村部 自然资源部关于规范农村宅基地审批管理的通知》"],
             Requirement(body_kinds=("two_committees_joint_meeting",), signatories=("township",)),
             (_d("申请人、位置和面积", "applicant, site and area", _BEFORE),), _LAW,
             "The township approves; the village (and the villagers' group) reviews and posts the notice."),
    _routine("relief_supplies", "救灾救济物资的分配", "distributing disaster relief supplies", "welfare",
             [f"{_VILLAGE_LAW}第三十条第一款第三项"], _TWO_COMMITTEES,
             (_d("发放对象和数量", "recipients and quantities", _AFTER),), _LAW),
    # 村务管理
    _routine("seal_use", "村级印章使用", "use of the village's seals", "self_governance",
             ["各地村（居）委会印章管理规定"], _DIRECTOR_SIGNS, (), _LOCAL,
             "Every use is entered in the seal register; a seal on a major matter's documents only after its "
             "resolution."),
    _routine("village_group_matters", "村民小组集体财产和公益事项的讨论决定",
             "a villagers' group's collective property and public works", "self_governance",
             [f"{_VILLAGE_LAW}第二十八条"], Requirement(body_kinds=("configured",)),
             (_d("讨论决定的事项", "what was decided", _AFTER),), _LAW,
             "The group's own meeting decides. BODY_KINDS has no villagers' group meeting: set it up as a "
             "configured body with its rule (more than half of the group's adults, or two thirds of its "
             "households, present; the statute's article to be checked)."),
    # 便民服务
    _routine("certificates", "出具证明", "issuing certificates", "services", ["各地村（居）委会出具证明事项清单"],
             _DIRECTOR_SIGNS, (), _LOCAL, "Only facts the committee can verify; never a blank form."),
    _routine("errand_services", "代办服务", "running errands for villagers", "services",
             ["各地便民服务事项清单"], Requirement(signatories=("handler",)), (), _LOCAL),
)}


COMMUNITY_POWER_LIST: dict[str, PowerItem] = {item.code: item for item in (
    # 重大事项决策
    _always_major("major_matters", "涉及全体居民利益的重要问题", "important matters affecting all residents",
                  "major_decisions", _K.MAJOR_DECISION, [f"{_RESIDENTS_LAW}第十条"], _COMMUNITY_MAJOR,
                  (_d("协商议题", "the topic", _BEFORE), _d("决议", "the resolution", _AFTER),
                   _d("实施结果", "the result", _RESULT)), _LAW),
    _always_major("public_welfare_funding", "公益事业的兴办和筹资", "public works and the money raised for them",
                  "major_decisions", _K.LARGE_FUND, [f"{_RESIDENTS_LAW}第十七条"], _COMMUNITY_MAJOR,
                  (_d("筹资方案", "the scheme", _BEFORE), _d("收支账目", "the accounts", _RESULT)), _LAW),
    _always_major("work_plan_and_report", "年度工作计划和工作报告", "the annual work plan and report",
                  "major_decisions", _K.MAJOR_DECISION, [f"{_RESIDENTS_LAW}第十条"],
                  Requirement(body_kinds=("residents_meeting", "residents_representatives_meeting")),
                  (_d("工作计划和报告", "the plan and the report", _AFTER),), _LOCAL),
    _always_major("residents_convention", "居民公约的制定和修改", "adopting and amending the residents' convention",
                  "major_decisions", _K.MAJOR_DECISION, [f"{_RESIDENTS_LAW}第十五条"],
                  Requirement(body_kinds=("residents_meeting",)), (_d("居民公约全文", "the full text", _AFTER),), _LAW),
    _always_major("public_space_rules", "公共区域和停车管理方案", "rules for shared spaces and parking",
                  "major_decisions", _K.MAJOR_DECISION, ["《关于加强城乡社区协商的意见》"], _COMMUNITY_MAJOR,
                  (_d("管理方案", "the rules", _AFTER),), _LOCAL,
                  "Where no owners' assembly governs the shared space (old neighbourhoods)."),
    # 组织人事
    _always_major("staff_recommendation", "社区工作者和后备干部人选推荐",
                  "recommending community workers and reserve cadres", "personnel", _K.CADRE,
                  ["“三重一大”集体决策制度"],
                  Requirement(body_kinds=("party_branch_committee",),
                              rules={"party_branch_committee": "major_matters_collective_decision"}),
                  (_d("推荐人选", "the persons recommended", _AFTER),), _LOCAL,
                  "The street office recruits; the community recommends."),
    _routine("party_member_admission", "发展党员", "admitting party members", "personnel",
             ["《中国共产党发展党员工作细则》"],
             _PARTY_MEMBERS_MEETING,
             (_d("拟发展对象", "the persons proposed", _BEFORE),), SourceKind.PARTY_REGULATION),
    # 财务管理 and procurement
    _by_amount("expenditure", "社区经费开支审批", "approving community spending", "finance", _K.LARGE_FUND,
               ["各地社区经费管理办法"], _COMMUNITY_MAJOR, _spending_tiers(), DEFAULT_MAJOR_THRESHOLD,
               (_MONTHLY_ACCOUNTS,), _DEFAULT),
    _by_amount("service_fund_use", "服务群众专项经费和社区公益金的使用",
               "using the community service fund and the public welfare fund", "finance", _K.LARGE_FUND,
               ["各地社区服务群众专项经费管理办法"], _COMMUNITY_MAJOR, (Tier(Decimal(0), _TWO_COMMITTEES),),
               DEFAULT_MAJOR_THRESHOLD, (_d("项目、金额和受益对象", "projects, sums and beneficiaries", _RESULT),),
               _DEFAULT),
    _by_amount("social_organisation_grants", "社会组织孵化和公益项目资助", "grants to social organisations and projects",
               "finance", _K.LARGE_FUND, ["各地社区公益创投管理办法"], _COMMUNITY_MAJOR,
               (Tier(Decimal(0), _TWO_COMMITTEES),), DEFAULT_MAJOR_THRESHOLD,
               (_d("资助对象和金额", "grantees and sums", _AFTER),), _DEFAULT),
    _by_amount("procurement", "社区物资和服务采购", "community purchases of goods and services", "tendering",
               _K.LARGE_FUND, ["各地社区经费管理办法"], _COMMUNITY_MAJOR, _spending_tiers(),
               DEFAULT_MAJOR_THRESHOLD, (_d("采购事项和金额", "what was bought, for how much", _AFTER),), _DEFAULT),
    _by_amount("small_works", "社区微更新和小型工程", "small works and micro-renewal projects", "construction",
               _K.MAJOR_PROJECT, ["各地社区微更新项目管理办法"], _COMMUNITY_MAJOR, (Tier(Decimal(0), _TWO_COMMITTEES),),
               DEFAULT_PROJECT_THRESHOLD, (_d("项目方案", "the project", _BEFORE), _d("验收结果", "the acceptance", _RESULT)),
               _DEFAULT),
    # 资产
    _routine("premises_use", "社区用房和公共场地的出借使用", "lending community premises and spaces",
             "assets_resources", ["各地社区综合服务设施管理办法"], _TWO_COMMITTEES,
             (_d("使用单位、用途和期限", "user, purpose and term", _AFTER),), _LOCAL,
             "Premises are mostly public property; lending them for free services only. A lease for income is "
             "a matter for the owner, not this list."),
    # 民生保障
    _routine("subsistence_allowance", "低保、特困供养申请的调查和评议", "inquiries into minimum living allowance and "
             "destitute support applications", "welfare", ["《社会救助暂行办法》", "《最低生活保障审核确认办法》"],
             _TOWNSHIP_DECIDES, (_d("申请人和拟保障对象", "applicants and proposed recipients", _BEFORE),), _LAW,
             "The street office decides; the community helps with the inquiry and the notice."),
    _routine("hardship_relief", "临时救助申请", "temporary relief applications", "welfare", ["《社会救助暂行办法》"],
             _TOWNSHIP_DECIDES, (_d("救助对象和金额", "recipients and amounts", _AFTER),), _LAW),
    _routine("allowance_applications", "高龄津贴、残疾人补贴等申报", "applications for old-age and disability allowances",
             "welfare", ["各地高龄津贴和残疾人两项补贴办法"], _TOWNSHIP_DECIDES,
             (_d("享受对象", "recipients", _PERIODIC),), _LOCAL),
    # 居务管理 and services
    _routine("seal_use", "社区印章使用", "use of the community's seals", "self_governance",
             ["各地村（居）委会印章管理规定"], _DIRECTOR_SIGNS, (), _LOCAL,
             "Every use is entered in the seal register."),
    _routine("certificates", "出具证明", "issuing certificates", "services", ["各地村（居）委会出具证明事项清单"],
             _DIRECTOR_SIGNS, (), _LOCAL, "Only facts the committee can verify; never a blank form."),
    _routine("errand_services", "代办服务", "running errands for residents", "services",
             ["各地便民服务事项清单"], Requirement(signatories=("handler",)), (), _LOCAL),
)}

POWER_LISTS: dict[str, dict[str, PowerItem]] = {"village": VILLAGE_POWER_LIST, "community": COMMUNITY_POWER_LIST}
