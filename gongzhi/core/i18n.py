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
