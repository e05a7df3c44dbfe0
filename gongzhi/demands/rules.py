"""Pure rules of 接诉即办: the workflow as a transition table, urgency from category and cue words,
demand numbers, and the three rates (响应率、解决率、满意率) over plain counts. No Django here."""

import datetime as dt
from collections.abc import Iterable, Mapping

from gongzhi.core.errors import Conflict
from gongzhi.core.i18n import gettext_lazy


# --- the workflow ------------------------------------------------------------------------------------

RECEIVED = "received"          # 受理: filed, waiting for triage / dispatch at the dispatch desk
DISPATCHED = "dispatched"      # 派单: sent to a lead unit (and assisting units)
ACCEPTED = "accepted"          # 签收
IN_PROGRESS = "in_progress"    # 办理中
REPLIED = "replied"            # 答复
VERIFIED = "verified"          # 核查
CLOSED = "closed"              # 办结
RATED = "rated"                # 回访: the resident said whether it was solved, and how satisfied
RETURNED = "returned"          # 退单: back at the dispatch desk, with a reason
MERGED = "merged"              # a duplicate of another demand
REJECTED = "rejected"          # invalid, with a reason

STATES = (RECEIVED, DISPATCHED, ACCEPTED, IN_PROGRESS, REPLIED, VERIFIED, CLOSED, RATED, RETURNED, MERGED,
          REJECTED)
# No action leads out of these (a "rated" demand can still be reopened, so it is not final).
FINAL_STATES = frozenset({MERGED, REJECTED})
# States in which a unit holds the demand: its feedback deadline runs.
HANDLING_STATES = frozenset({DISPATCHED, ACCEPTED, IN_PROGRESS})
# States waiting at the dispatch desk: its dispatch deadline runs.
AT_DESK_STATES = frozenset({RECEIVED, RETURNED})
# Not yet done with: neither rated, closed, merged nor rejected (the cockpit's "open").
OPEN_STATES = frozenset(STATES) - {RATED, CLOSED, MERGED, REJECTED}

# (state, action) -> next state. An action missing here is illegal in that state. "triage" sets the
# category and keeps the state; "reopen" sends the demand back to its unit (after a "not solved" rating,
# or when the verifier or the desk finds the reply wanting).
TRANSITIONS: dict[tuple[str, str], str] = {
    (RECEIVED, "triage"): RECEIVED,
    (RETURNED, "triage"): RETURNED,
    (RECEIVED, "dispatch"): DISPATCHED,
    (RETURNED, "dispatch"): DISPATCHED,
    (DISPATCHED, "accept"): ACCEPTED,
    (DISPATCHED, "return"): RETURNED,
    (ACCEPTED, "return"): RETURNED,
    (ACCEPTED, "start_work"): IN_PROGRESS,
    (ACCEPTED, "reply"): REPLIED,
    (IN_PROGRESS, "reply"): REPLIED,
    (REPLIED, "verify"): VERIFIED,
    (VERIFIED, "close"): CLOSED,
    (CLOSED, "rate"): RATED,
    (REPLIED, "reopen"): DISPATCHED,
    (VERIFIED, "reopen"): DISPATCHED,
    (CLOSED, "reopen"): DISPATCHED,
    (RATED, "reopen"): DISPATCHED,
    **{(state, "merge"): MERGED for state in (RECEIVED, RETURNED, DISPATCHED, ACCEPTED, IN_PROGRESS)},
    (RECEIVED, "reject"): REJECTED,
    (RETURNED, "reject"): REJECTED,
    # The desk confirms (or changes) the urgency a resident suggested while the demand is open; the
    # state stays, the deadlines follow the confirmed urgency.
    **{(state, "confirm_urgency"): state for state in (RECEIVED, RETURNED, DISPATCHED, ACCEPTED, IN_PROGRESS)},
}
ACTIONS = tuple(dict.fromkeys(action for _, action in TRANSITIONS))
# Actions whose note is mandatory (退单 and rejection must say why).
REASON_REQUIRED = frozenset({"return", "reject"})


class IllegalTransition(Conflict):
    code = "illegal_transition"
    base_message = gettext_lazy("This action is not allowed in the current state")


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`; IllegalTransition (409) when the table has no such step."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(gettext_lazy("%(action)s from %(state)s")
                                % {"action": action, "state": state}, state=state, action=action) from None


def allowed_actions(state: str) -> list[str]:
    return [action for (source, action) in TRANSITIONS if source == state]


# --- urgency ----------------------------------------------------------------------------------------

EMERGENCY, UTILITIES, ORDINARY, COMPLEX = "emergency", "utilities", "ordinary", "complex"
# Most urgent first: a proposal takes the most urgent of the category default and every cue found.
URGENCIES = (EMERGENCY, UTILITIES, ORDINARY, COMPLEX)

CUE_WORDS: dict[str, tuple[str, ...]] = {
    EMERGENCY: ("火", "冒烟", "塌", "触电", "伤", "爆炸", "泄漏", "被困", "溺水", "晕倒"),
    UTILITIES: ("漏水", "停电", "停水", "燃气", "煤气", "暖气", "供暖", "跳闸", "水管爆", "没电", "没水"),
}
# Compounds in which a cue character does not signal danger (火车站, 伤心 …): removed before matching.
NOT_CUES = ("火车", "火锅", "火腿", "火柴", "上火", "发火", "火爆", "伤心", "悲伤", "伤感", "伤脑筋")


def cues_in(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> set[str]:
    """The urgencies whose cue words occur in `text` (global cues plus a category's own)."""
    cleaned = text or ""
    for phrase in NOT_CUES:
        cleaned = cleaned.replace(phrase, " ")
    found = set()
    for urgency in URGENCIES:
        words = list(CUE_WORDS.get(urgency, ())) + list((extra or {}).get(urgency, ()))
        if any(word and word in cleaned for word in words):
            found.add(urgency)
    return found


def propose_urgency(text: str, category_default: str | None = None,
                    extra_cues: Mapping[str, Iterable[str]] | None = None) -> str:
    """The most urgent of the category's default and the cues in the text; "ordinary" when neither says."""
    candidates = cues_in(text, extra_cues) | {category_default or ORDINARY}
    return min(candidates, key=URGENCIES.index)


# --- numbers ----------------------------------------------------------------------------------------

def demand_number(day: dt.date, serial: int) -> str:
    """Work-order style number: the local date and a five-digit daily serial, "2026112600012"
    (more digits after 99,999 a day, so it never collides)."""
    if serial < 1:
        raise ValueError("serial numbers start at 1")
    return f"{day:%Y%m%d}{serial:05d}"


# --- routing ----------------------------------------------------------------------------------------

def routing_key(region_depth: int, category_depth: int, priority: int) -> tuple[int, int, int]:
    """Sort key of a matching routing rule, best first when sorted descending: the deepest region
    (a grid's rule beats its community's, which beats the street's), then the most specific category
    (a sub-category beats its parent, which beats "any category"), then the higher priority."""
    return (region_depth, category_depth, priority)


# --- the three rates ---------------------------------------------------------------------------------

DEFAULT_SATISFACTION_WEIGHTS = {"satisfied": 1.0, "basically_satisfied": 1.0}
# Beijing's 12345 assessment (三率考核) weighs resolution and satisfaction far above response; these
# defaults follow that emphasis. Local rules differ (e.g. 30/35/35), hence settings.GONGZHI_DEMANDS_SCORE_WEIGHTS.
DEFAULT_SCORE_WEIGHTS = {"response": 0.1, "resolution": 0.3, "satisfaction": 0.6}


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to measure (never a misleading 0 or 100 %)."""
    return part / whole if whole else None


def response_rate(accepted_in_time: int, dispatched: int) -> float | None:
    """响应率: demands accepted within the accept limit / demands dispatched."""
    return ratio(accepted_in_time, dispatched)


def resolution_rate(solved: int, rated: int) -> float | None:
    """解决率: rated "solved" / rated."""
    return ratio(solved, rated)


def satisfaction_rate(satisfied: int, basically_satisfied: int, rated: int,
                      weights: Mapping[str, float] | None = None) -> float | None:
    """满意率: (satisfied·w + basically satisfied·w') / rated, weights as configured (default 1 and 1)."""
    w = {**DEFAULT_SATISFACTION_WEIGHTS, **(weights or {})}
    if not rated:
        return None
    return (satisfied * w["satisfied"] + basically_satisfied * w["basically_satisfied"]) / rated


def composite_score(rates: Mapping[str, float | None], weights: Mapping[str, float] | None = None) -> float | None:
    """Weighted score in [0, 100] of the rates that could be measured; the weights of unmeasured rates
    are shared out over the others. None when no rate could be measured."""
    w = weights or DEFAULT_SCORE_WEIGHTS
    present = {name: value for name, value in rates.items() if value is not None and w.get(name, 0) > 0}
    total = sum(w[name] for name in present)
    if not total:
        return None
    return 100 * sum(w[name] * value for name, value in present.items()) / total
