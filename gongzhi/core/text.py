"""The one check for free text people type (a demand, a topic, a statement, a comment, an objection, a
reason): trimmed, and refused with a reason when it holds a NUL or nothing visible at all (only spaces,
zero-width characters, a byte-order mark, control characters). Services call it; views and APIs only
pass on its refusal as a 400 {"code", "message"}."""

import unicodedata

from gongzhi.core.errors import ValidationFailed

# Characters that show nothing although Unicode does not class them as format or control characters.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_KEPT_CONTROLS = frozenset("\t\n\r")


def is_invisible(char: str) -> bool:
    """A character that shows nothing: white space, a control or format character (zero-width space,
    joiner, BOM, direction marks), an unassigned or private-use code point, or a known blank look-alike."""
    return char.isspace() or char in _BLANK_LOOKALIKES or unicodedata.category(char) in ("Cc", "Cf", "Cn", "Co", "Zl", "Zp")


def problem(value: str) -> str | None:
    """What is wrong with a text as free text, in English; None when it is fine. (Pure, no Django.)"""
    if "\x00" in value:
        return "contains a NUL character"
    if any(unicodedata.category(c) == "Cs" for c in value):
        return "contains an unpaired surrogate, which is not a character"
    if any(c not in _KEPT_CONTROLS and unicodedata.category(c) == "Cc" for c in value):
        return "contains a control character"
    if all(is_invisible(c) for c in value):
        return "is empty or holds only invisible characters"
    return None


_PROBLEMS_ZH = {
    "contains a NUL character": "含有空字符（NUL）",
    "contains an unpaired surrogate, which is not a character": "含有无效字符",
    "contains a control character": "含有控制字符",
    "is empty or holds only invisible characters": "为空或只有不可见字符",
}


def clean_text(value: str | None, what: str, *, max_length: int | None = None, code: str = "empty",
               what_zh: str = "") -> str:
    """The text trimmed of white space and invisible characters at both ends; ValidationFailed (400) when it
    holds a NUL, an unpaired surrogate or a control character, or nothing visible, or is too long. `code` is
    the error code for an empty text (callers keep their documented codes: "empty", "text_required")."""
    value = "" if value is None else str(value)
    found = problem(value)
    if found:
        blank = found.startswith("is empty")
        raise ValidationFailed(f"{what} {found}", code=code if blank else "invalid_text",
                               explanation_zh=f"{what_zh or _WHAT_ZH.get(what, what)}{_PROBLEMS_ZH[found]}")
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    value = value[start:end]
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{what} is longer than {max_length} characters", code="too_long",
                               explanation_zh=f"{what_zh or _WHAT_ZH.get(what, what)}超过 {max_length} 个字符")
    return value


def clean_optional_text(value: str | None, what: str, *, max_length: int | None = None, what_zh: str = "") -> str:
    """As clean_text, but nothing (or only white space) is allowed and gives ""; NUL and controls are not."""
    value = "" if value is None else str(value)
    if problem(value) == "is empty or holds only invisible characters":
        return ""
    return clean_text(value, what, max_length=max_length, what_zh=what_zh)


# The Chinese for the names services give their texts, so a refusal reads in one language.
_WHAT_ZH = {"a description": "诉求内容", "description": "描述", "title": "标题", "comment": "评论",
            "statement": "观点", "objection": "异议", "reason": "理由", "answer": "答复", "name": "名称",
            "content": "内容", "agenda": "议程", "minutes": "会议记录", "motion": "动议", "view": "意见",
            "note": "说明", "text": "内容", "details": "详情", "file name": "文件名"}


def clean_public_text(value: str | None, what: str, *, max_length: int | None = None, code: str = "empty",
                      what_zh: str = "") -> str:
    """Free text that is public by nature (a topic, a statement, a disclosure): checked as by clean_text,
    then scrubbed of personal data (core.scrub) before it is stored, so no page, API answer or ledger
    entry can show what was masked. The author is shown beforehand what will be masked."""
    from gongzhi.core.scrub import scrub

    return scrub(clean_text(value, what, max_length=max_length, code=code, what_zh=what_zh))
