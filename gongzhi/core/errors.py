"""Domain errors: a stable code, a message translated by gettext (English msgids, Chinese in the catalogue),
and the HTTP status they map to."""

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from .i18n import gettext_lazy as _


class DomainError(Exception):
    """Base of every error a use case raises for bad input or a forbidden act.

    `detail` is a lazily translated string (`_("… %(name)s …") % {...}` from core.i18n), so the message is
    rendered in the language active when it is shown; `code` is what clients and tests rely on."""

    code = "domain_error"
    status = 400
    base_message = _("The request cannot be processed")

    def __init__(self, detail=None, *, code: str | None = None, **context):
        self.detail = detail
        if code:
            self.code = code
        self.context = context
        super().__init__(self.message())

    def message(self, language: str | None = None) -> str:
        """The message in the active language, or in `language` when given."""
        if language:
            with translation.override(language):
                return self.message()
        base = str(self.base_message)
        detail = str(self.detail) if self.detail is not None else ""
        return str(_("%(base)s: %(detail)s") % {"base": base, "detail": detail}) if detail else base

    def __str__(self) -> str:
        return str(self.message())

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message())}
        if self.context:
            body["details"] = _plain(self.context)
        return body


def _plain(value):
    """The context with every lazy string rendered, so that it serialises to JSON."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400
    base_message = _("Invalid input")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    base_message = pgettext_lazy("error", "Not found")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    base_message = _("You are not allowed to do this")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    base_message = _("Sign-in required")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    base_message = _("Conflicts with existing data")


class ImportRejected(DomainError):
    """A whole import refused; `context['errors']` lists [{line, message}] for each bad row."""

    code = "import_rejected"
    status = 400
    base_message = _("Import rejected, nothing was stored")


class RateLimited(DomainError):
    """Too many requests of one kind in a window; `retry_after` (seconds) says when to try again."""

    code = "rate_limited"
    status = 429
    base_message = _("Too many requests, try again later")

    def __init__(self, detail=None, *, retry_after: int | None = None, **context):
        self.retry_after = retry_after
        if retry_after is not None:
            context.setdefault("retry_after", retry_after)
        super().__init__(detail, **context)
