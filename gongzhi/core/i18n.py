"""Lazily translated text for domain errors: `_("… %(name)s …") % {...}` stays lazy, so a message raised in
one language renders in whichever language is active when it is shown (a page, the API, a stored English
copy), not the one active at the raise."""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _django_gettext_lazy, pgettext_lazy


def _format(template, params) -> str:
    return str(template) % params


_lazy_format = lazy(_format, str)


class _LazyText(type(_django_gettext_lazy(""))):
    """Django's lazy translation, except that `%` gives another lazy string instead of translating at once."""

    def __mod__(self, params):
        return _lazy_format(self, params)


def gettext_lazy(message: str):
    """gettext_lazy whose `%` formatting is lazy too (makemessages finds it as `_`)."""
    return _LazyText((message,), {})


def _join(items) -> str:
    return str(pgettext_lazy("between messages", "; ")).join(str(item) for item in items)


_lazy_join = lazy(_join, str)


def join_lazy(items):
    """Several lazy messages as one, joined with the language's own separator ("; " or "；") when shown."""
    return _lazy_join(tuple(items))


def _in_language(chinese: str, english: str) -> str:
    from django.utils.translation import get_language

    return english if (get_language() or "").startswith("en") else chinese


_lazy_in_language = lazy(_in_language, str)


def bilingual(chinese: str, english: str):
    """A text that arrives as data in both languages (a rule module's own wording: a procedure's refusal, a power
    list verdict worded from its bilingual catalogue), shown lazily in the active language. Our own messages
    go through gettext; this is only for those rule outputs until they become msgids with parameters."""
    return _lazy_in_language(chinese, english)
