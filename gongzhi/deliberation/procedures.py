"""Procedures (程序) a topic goes through, stage (环节) by stage: the presets 四议两公开 and community
consultation, custom procedures from plain data, and the order check. Stages run in order, none skipped
or repeated; a failed stage sends the topic back to an earlier stage, with its reason. Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gongzhi.deliberation.rules import BODY_KINDS, PRESETS


class StageKind(StrEnum):
    MEETING = "meeting"          # a body meets and votes under a decision rule
    PUBLICATION = "publication"  # a notice posted for a number of days (公示, 公开, 征求意见)
    STEP = "step"                # anything else: proposing, implementing, evaluating


class Outcome(StrEnum):
    PASSED = "passed"  # the stage succeeded (a vote passed)
    FAILED = "failed"  # it failed: the topic goes back, with a reason; only for a stage that can fail
    DONE = "done"      # the stage was completed (a publication, a step)


SUCCESS = frozenset({Outcome.PASSED, Outcome.DONE})
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class MeetingOption:
    """A body kind that may hold a meeting stage, and the rule its vote must follow there.

    `rule_code` None means the body's own rule; a preset code overrides it for this stage (the party
    members' meeting of 四议两公开 needs two thirds present, more than its usual half).
    """

    body_kind: str
    rule_code: str | None = None

    def __post_init__(self):
        if self.body_kind not in BODY_KINDS:
            raise ValueError(f"unknown body kind {self.body_kind!r}; use one of {', '.join(BODY_KINDS)}")
        if self.rule_code is not None and self.rule_code not in PRESETS:
            raise ValueError(f"unknown rule preset {self.rule_code!r}; use one of {', '.join(PRESETS)}")


@dataclass(frozen=True)
class Stage:
    code: str
    name_zh: str
    name_en: str
    kind: StageKind
    meetings: tuple[MeetingOption, ...] = ()
    notice_days: int | None = None
    can_fail: bool = False
    return_to: str | None = None  # where a failure sends the topic; None: the procedure's first stage
    decides: bool = False         # passing this stage decides the topic (决议)

    def __post_init__(self):
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            raise ValueError(f"stage code {self.code!r} must be lower-case letters, digits and _")
        if not (str(self.name_zh).strip() and str(self.name_en).strip()):
            raise ValueError("a stage needs a Chinese and an English name")
        try:
            object.__setattr__(self, "kind", StageKind(self.kind))
        except ValueError:
            raise ValueError(f"unknown stage kind {self.kind!r}; use one of "
                             f"{', '.join(k.value for k in StageKind)}") from None
        object.__setattr__(self, "meetings", tuple(self.meetings))
        if self.kind is StageKind.MEETING:
            if not self.meetings:
                raise ValueError("a meeting stage needs at least one body kind")
            if len(set(self.body_kinds)) != len(self.meetings):
                raise ValueError("a meeting stage names the same body kind twice")
        elif self.meetings:
            raise ValueError(f"only a meeting stage has bodies, not a {self.kind.value}")
        if self.kind is StageKind.PUBLICATION:
            if isinstance(self.notice_days, bool) or not isinstance(self.notice_days, int) \
                    or not 1 <= self.notice_days <= 365:
                raise ValueError("a publication needs a notice period of 1 to 365 days")
        elif self.notice_days is not None:
            raise ValueError(f"only a publication has a notice period, not a {self.kind.value}")
        for flag in ("can_fail", "decides"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be true or false")
        if self.return_to is not None and not self.can_fail:
            raise ValueError("only a stage that can fail returns the topic anywhere")
        if self.decides and self.kind is not StageKind.MEETING:
            raise ValueError("only a meeting stage decides the topic")

    @property
    def body_kinds(self) -> tuple[str, ...]:
        return tuple(m.body_kind for m in self.meetings)

    @property
    def success_outcome(self) -> Outcome:
        return Outcome.PASSED if self.kind is StageKind.MEETING else Outcome.DONE

    def rule_code_for(self, body_kind: str) -> str | None:
        """The preset a meeting of this body kind must follow here; None: the body's own rule."""
        for option in self.meetings:
            if option.body_kind == body_kind:
                return option.rule_code
        raise ValueError(f"a {body_kind} cannot hold the stage {self.code}; allowed: {', '.join(self.body_kinds)}")


@dataclass(frozen=True)
class Procedure:
    code: str
    name_zh: str
    name_en: str
    stages: tuple[Stage, ...]

    def __post_init__(self):
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            raise ValueError(f"procedure code {self.code!r} must be lower-case letters, digits and _")
        stages = tuple(self.stages)
        if not stages:
            raise ValueError("a procedure needs at least one stage")
        codes = [s.code for s in stages]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"stage code(s) used twice: {', '.join(duplicates)}")
        for index, stage in enumerate(stages):
            if stage.return_to is not None and stage.return_to not in codes[:index + 1]:
                raise ValueError(f"stage {stage.code} returns the topic to {stage.return_to!r}, "
                                 f"which is not an earlier stage")
        if sum(s.decides for s in stages) > 1:
            raise ValueError("only one stage decides the topic")
        object.__setattr__(self, "stages", stages)

    def stage(self, code: str) -> Stage:
        for stage in self.stages:
            if stage.code == code:
                return stage
        raise ValueError(f"the procedure {self.code} has no stage {code!r}")

    def index(self, code: str) -> int:
        return self.stages.index(self.stage(code))

    def return_target(self, stage: Stage) -> Stage:
        return self.stage(stage.return_to) if stage.return_to else self.stages[0]


# --- plain data -----------------------------------------------------------------------------------------

_STAGE_FIELDS = {"code", "name_zh", "name_en", "kind", "meetings", "notice_days", "can_fail", "return_to",
                 "decides"}
_MEETING_FIELDS = {"body_kind", "rule_code"}


def procedure_to_data(procedure: Procedure) -> list[dict]:
    """The stages as plain data (the form `procedure_from_data` reads), e.g. to copy onto a topic."""
    stages = []
    for stage in procedure.stages:
        data = {"code": stage.code, "name_zh": stage.name_zh, "name_en": stage.name_en, "kind": stage.kind.value}
        if stage.meetings:
            data["meetings"] = [{"body_kind": m.body_kind, **({"rule_code": m.rule_code} if m.rule_code else {})}
                                for m in stage.meetings]
        if stage.notice_days is not None:
            data["notice_days"] = stage.notice_days
        if stage.can_fail:
            data["can_fail"] = True
        if stage.return_to is not None:
            data["return_to"] = stage.return_to
        if stage.decides:
            data["decides"] = True
        stages.append(data)
    return stages


def procedure_from_data(stages: Sequence[Mapping], *, code: str = "custom", name_zh: str = "自定义程序",
                        name_en: str = "custom procedure") -> Procedure:
    """A procedure from a list of stage dicts, e.g.

        [{"code": "propose", "name_zh": "提出议题", "name_en": "proposal", "kind": "step"},
         {"code": "council", "name_zh": "议事会协商", "name_en": "council", "kind": "meeting",
          "meetings": [{"body_kind": "configured"}], "can_fail": True, "decides": True},
         {"code": "notice", "name_zh": "公示", "name_en": "notice", "kind": "publication", "notice_days": 5}]

    Raises ValueError naming the stage and what is wrong with it.
    """
    if isinstance(stages, (str, bytes, Mapping)) or not isinstance(stages, Sequence):
        raise ValueError("a procedure is a list of stages")
    built = []
    for number, item in enumerate(stages, start=1):
        label = f"stage {number}" + (f" ({item.get('code')})" if isinstance(item, Mapping) and item.get("code")
                                     else "")
        try:
            if not isinstance(item, Mapping):
                raise ValueError("a stage must be a mapping")
            unknown = set(item) - _STAGE_FIELDS
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
            missing = {"code", "name_zh", "name_en", "kind"} - set(item)
            if missing:
                raise ValueError(f"missing field(s) {', '.join(sorted(missing))}")
            meetings = []
            for option in item.get("meetings", ()):
                if not isinstance(option, Mapping) or set(option) - _MEETING_FIELDS or "body_kind" not in option:
                    raise ValueError(f"a meeting is {{'body_kind': …, 'rule_code': …}}, got {option!r}")
                meetings.append(MeetingOption(option["body_kind"], option.get("rule_code")))
            built.append(Stage(item["code"], item["name_zh"], item["name_en"], item["kind"], tuple(meetings),
                               item.get("notice_days"), item.get("can_fail", False), item.get("return_to"),
                               item.get("decides", False)))
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None
    return Procedure(code, name_zh, name_en, tuple(built))


# --- presets --------------------------------------------------------------------------------------------

# No national statute fixes these notice periods; 7 days is the project's default, to be set locally.
DEFAULT_NOTICE_DAYS = 7

PROCEDURES: dict[str, Procedure] = {p.code: p for p in (
    Procedure("four_deliberations_two_disclosures", "四议两公开", "four deliberations, two disclosures", (
        Stage("party_proposal", "党组织提议", "proposal by the party organisation", StageKind.MEETING,
              (MeetingOption("party_branch_committee", "committee_majority"),), can_fail=True),
        Stage("two_committees_deliberation", "两委会议商议", "deliberation by the two committees",
              StageKind.MEETING, (MeetingOption("two_committees_joint_meeting", "committee_majority"),),
              can_fail=True),
        Stage("party_members_review", "党员大会审议", "review by the party members' meeting", StageKind.MEETING,
              (MeetingOption("party_members_meeting", "party_members_meeting_four_deliberations"),),
              can_fail=True),
        Stage("villagers_resolution", "村民会议或村民代表会议决议",
              "resolution by the villagers' (representatives') meeting", StageKind.MEETING,
              (MeetingOption("villagers_meeting", "villagers_meeting"),
               MeetingOption("household_representatives_meeting", "household_representatives_meeting"),
               MeetingOption("villagers_representatives_meeting", "villagers_representatives_meeting")),
              can_fail=True, decides=True),
        Stage("resolution_disclosure", "决议公开", "publication of the resolution", StageKind.PUBLICATION,
              notice_days=DEFAULT_NOTICE_DAYS),
        # The resolution is carried out between these two stages; the second publishes how it went.
        Stage("result_disclosure", "实施结果公开", "publication of the implementation result",
              StageKind.PUBLICATION, notice_days=DEFAULT_NOTICE_DAYS),
    )),
    Procedure("community_consultation", "社区协商", "community consultation", (
        Stage("topic_proposal", "提出议题", "proposal of the topic", StageKind.STEP),
        Stage("opinion_seeking", "征求意见", "seeking opinions", StageKind.PUBLICATION,
              notice_days=DEFAULT_NOTICE_DAYS),
        Stage("consultation", "协商", "consultation", StageKind.MEETING,
              (MeetingOption("configured"), MeetingOption("residents_committee", "committee_majority")),
              can_fail=True),
        Stage("resolution", "决议", "resolution", StageKind.MEETING,
              (MeetingOption("residents_meeting", "residents_meeting"),
               MeetingOption("residents_representatives_meeting", "residents_representatives_meeting")),
              can_fail=True, decides=True),
        # Objections upheld during the notice send the topic back to consultation, not to the start.
        Stage("notice", "公示", "public notice", StageKind.PUBLICATION, notice_days=DEFAULT_NOTICE_DAYS,
              can_fail=True, return_to="consultation"),
        Stage("implementation", "实施", "implementation", StageKind.STEP),
        # Residents judging the work not done send it back to be put right, not to a new debate.
        Stage("evaluation", "评议", "evaluation", StageKind.STEP, can_fail=True, return_to="implementation"),
    )),
)}


# Stages that seek residents' opinions (征求意见, 协商) besides every publication (公示, 公开), which residents
# may answer: while one of them is a topic's next stage, its building leads collect opinions door to door.
OPINION_STAGE_CODES = frozenset({"opinion_seeking", "consultation"})


def seeks_opinions(stage: Stage | None) -> bool:
    return stage is not None and (stage.kind is StageKind.PUBLICATION or stage.code in OPINION_STAGE_CODES)


# --- running a procedure --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    """One recorded stage. A StageRecord row has the same three attributes and may be passed instead."""

    stage_code: str
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True)
class Return:
    """The last time the topic was sent back: from which stage, to which, and why."""

    from_stage: str
    to_stage: str
    reason: str


@dataclass(frozen=True)
class ProcedureState:
    next_stage: Stage | None  # None: the procedure is complete
    passed: tuple[str, ...]   # the stages before next_stage, passed since they were last returned to
    round: int                # 1, plus one for every return
    last_return: Return | None

    @property
    def is_complete(self) -> bool:
        return self.next_stage is None


@dataclass(frozen=True)
class Refusal:
    """Why a stage cannot be recorded now: a stable code, both languages, and the stage expected instead."""

    code: str  # unknown_stage, procedure_complete, stage_already_passed, stage_out_of_order,
    #            invalid_outcome, outcome_not_allowed, reason_required
    message_zh: str
    message_en: str
    expected: str | None = None

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class InvalidHistory(ValueError):
    """A recorded history that breaks the order (it should never have been stored)."""

    def __init__(self, position: int, refusal: Refusal):
        self.position, self.refusal = position, refusal
        super().__init__(f"history entry {position}: {refusal}")


def follow(procedure: Procedure, history: Sequence) -> ProcedureState:
    """Replay a topic's whole history (returns included), oldest first; raises InvalidHistory if it breaks
    the order."""
    position, round_, last_return = 0, 1, None
    for number, entry in enumerate(history, start=1):
        stage_code, outcome, reason = _read(entry)
        refusal = _refusal(procedure, position, stage_code, outcome, reason)
        if refusal:
            raise InvalidHistory(number, refusal)
        stage = procedure.stages[position]
        if outcome == Outcome.FAILED:
            target = procedure.return_target(stage)
            position = procedure.index(target.code)
            round_ += 1
            last_return = Return(stage.code, target.code, reason.strip())
        else:
            position += 1
    is_complete = position == len(procedure.stages)
    return ProcedureState(next_stage=None if is_complete else procedure.stages[position],
                          passed=tuple(s.code for s in procedure.stages[:position]),
                          round=round_, last_return=last_return)


def next_stage(procedure: Procedure, history: Sequence) -> Stage | None:
    """The one stage that may be recorded next, or None when the procedure is complete."""
    return follow(procedure, history).next_stage


def check_can_record(procedure: Procedure, history: Sequence, stage_code: str,
                     outcome: Outcome | str | None = None, reason: str = "") -> Refusal | None:
    """None if `stage_code` (with `outcome` and `reason`, when given) may be recorded next, else why not."""
    return _refusal(procedure, len(follow(procedure, history).passed), stage_code, outcome, reason)


def _refusal(procedure: Procedure, position: int, stage_code: str, outcome, reason: str) -> Refusal | None:
    codes = [s.code for s in procedure.stages]
    if stage_code not in codes:
        return Refusal("unknown_stage", f"本程序没有环节“{stage_code}”", f"this procedure has no stage “{stage_code}”")
    if position == len(codes):
        return Refusal("procedure_complete", "程序已全部完成，不能再记录环节",
                       "the procedure is complete: nothing more can be recorded")
    expected = procedure.stages[position]
    if stage_code != expected.code:
        stage = procedure.stage(stage_code)
        if codes.index(stage_code) < position:
            return Refusal("stage_already_passed",
                           f"“{stage.name_zh}”已完成，不能重复；下一环节是“{expected.name_zh}”",
                           f"“{stage.name_en}” is already passed and cannot be repeated; "
                           f"next is “{expected.name_en}”", expected.code)
        return Refusal("stage_out_of_order", f"须先完成“{expected.name_zh}”，环节不能跳过或调换顺序",
                       f"“{expected.name_en}” comes first: stages cannot be skipped or reordered", expected.code)
    if outcome is None:
        return None
    if outcome not in Outcome.__members__.values():
        return Refusal("invalid_outcome", f"结果“{outcome}”无效", f"“{outcome}” is not an outcome", expected.code)
    if outcome == Outcome.FAILED:
        if not expected.can_fail:
            return Refusal("outcome_not_allowed", f"“{expected.name_zh}”不会未通过",
                           f"“{expected.name_en}” cannot fail", expected.code)
        if not (reason or "").strip():
            return Refusal("reason_required", "未通过的环节须写明理由", "a failed stage needs a reason", expected.code)
    return None


def _read(entry) -> tuple[str, str, str]:
    if isinstance(entry, Mapping):
        return entry["stage_code"], entry["outcome"], entry.get("reason") or ""
    return entry.stage_code, entry.outcome, getattr(entry, "reason", "") or ""
