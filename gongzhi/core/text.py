"""The one check for free text people type (a demand, a topic, a statement, a comment, an objection, a
reason): trimmed, and refused with a reason when it holds a NUL or nothing visible at all (only spaces,
zero-width characters, a byte-order mark, control characters). Services call it; views and APIs only
pass on its refusal as a 400 {"code", "message"}."""

import unicodedata

from django.utils.translation import pgettext_lazy

from gongzhi.core.errors import ValidationFailed

from .i18n import gettext_lazy as _

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


# The refusal for each problem, translated; `what` is the text's name from _WHAT.
_PROBLEMS = {
    "contains a NUL character": _("%(what)s contains a NUL character"),
    "contains an unpaired surrogate, which is not a character":
        _("%(what)s contains an unpaired surrogate, which is not a character"),
    "contains a control character": _("%(what)s contains a control character"),
    "is empty or holds only invisible characters": _("%(what)s is empty or holds only invisible characters"),
}


def clean_text(value: str | None, what: str, *, max_length: int | None = None, code: str = "empty") -> str:
    """The text trimmed of white space and invisible characters at both ends; ValidationFailed (400) when it
    holds a NUL, an unpaired surrogate or a control character, or nothing visible, or is too long. `code` is
    the error code for an empty text (callers keep their documented codes: "empty", "text_required")."""
    value = "" if value is None else str(value)
    found = problem(value)
    if found:
        blank = found.startswith("is empty")
        raise ValidationFailed(_PROBLEMS[found] % {"what": _name(what)}, code=code if blank else "invalid_text")
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    value = value[start:end]
    if max_length and len(value) > max_length:
        raise ValidationFailed(_("%(what)s is longer than %(max_length)s characters")
                               % {"what": _name(what), "max_length": max_length}, code="too_long")
    return value


def clean_optional_text(value: str | None, what: str, *, max_length: int | None = None) -> str:
    """As clean_text, but nothing (or only white space) is allowed and gives ""; NUL and controls are not."""
    value = "" if value is None else str(value)
    if problem(value) == "is empty or holds only invisible characters":
        return ""
    return clean_text(value, what, max_length=max_length)


# The names services give their texts, translated, so that a refusal reads in one language.
_WHAT = {
    "a description": pgettext_lazy("name of a text", "a description"),
    "address": pgettext_lazy("name of a text", "address"),
    "agenda": pgettext_lazy("name of a text", "agenda"),
    "answer": pgettext_lazy("name of a text", "answer"),
    "comment": pgettext_lazy("name of a text", "comment"),
    "conclusions": pgettext_lazy("name of a text", "conclusions"),
    "contact name": pgettext_lazy("name of a text", "contact name"),
    "contact phone": pgettext_lazy("name of a text", "contact phone"),
    "content": pgettext_lazy("name of a text", "content"),
    "description": pgettext_lazy("name of a text", "description"),
    "details": pgettext_lazy("name of a text", "details"),
    "duty": pgettext_lazy("name of a text", "duty"),
    "evidence": pgettext_lazy("name of a text", "evidence"),
    "facts": pgettext_lazy("name of a text", "facts"),
    "file name": pgettext_lazy("name of a text", "file name"),
    "indicator": pgettext_lazy("name of a text", "indicator"),
    "minutes": pgettext_lazy("name of a text", "minutes"),
    "motion": pgettext_lazy("name of a text", "motion"),
    "name": pgettext_lazy("name of a text", "name"),
    "note": pgettext_lazy("name of a text", "note"),
    "objection": pgettext_lazy("name of a text", "objection"),
    "origin reference": pgettext_lazy("name of a text", "origin reference"),
    "outcome": pgettext_lazy("name of a text", "outcome"),
    "participants": pgettext_lazy("name of a text", "participants"),
    "quality standard": pgettext_lazy("name of a text", "quality standard"),
    "reason": pgettext_lazy("name of a text", "reason"),
    "statement": pgettext_lazy("name of a text", "statement"),
    "text": pgettext_lazy("name of a text", "text"),
    "title": pgettext_lazy("name of a text", "title"),
    "unit": pgettext_lazy("name of a text", "unit"),
    "view": pgettext_lazy("name of a text", "view"),
}


def _name(what: str):
    return _WHAT.get(what, what)


def clean_public_text(value: str | None, what: str, *, max_length: int | None = None, code: str = "empty") -> str:
    """Free text that is public by nature (a topic, a statement, a disclosure): checked as by clean_text,
    then scrubbed of personal data (core.scrub) before it is stored, so no page, API answer or ledger
    entry can show what was masked. The author is shown beforehand what will be masked."""
    from gongzhi.core.scrub import scrub

    return scrub(clean_text(value, what, max_length=max_length, code=code))
