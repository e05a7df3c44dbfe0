"""The JSON API under /api/v1/: one NinjaAPI, each app contributes its router; domain errors map to 4xx JSON."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja.errors import AuthenticationError, HttpError, ValidationError as NinjaValidationError

from gongzhi.core.auth import api_auth
from gongzhi.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.openapi import DocumentedAPI, bound_integers

logger = logging.getLogger("gongzhi.api")

api = DocumentedAPI(
    title="gongzhi API",
    version="1",
    description="共治 gongzhi: grassroots governance platform. Authenticate with `Authorization: Bearer <token>` "
    "(`gongzhi token create USERNAME`) or a signed-in session.",
    auth=api_auth(),
    urls_namespace="api-v1",
)


def _error(request, err: DomainError):
    return api.create_response(request, err.as_dict(), status=err.status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return _error(request, exc)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, NotAuthenticated())


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja's own refusals (e.g. a failed CSRF check on a session request) in the house format.
    error = PermissionDenied(str(exc)) if exc.status_code == 403 else ValidationFailed(str(exc))
    error.status = exc.status_code
    return _error(request, error)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, NotFound())


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    if exc.errors and all(e.get("loc", ("",))[0] == "path" for e in exc.errors):
        return _error(request, NotFound(request.path))  # a path that names nothing, e.g. an unknown action
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")} for e in exc.errors
    ]
    return _error(request, ValidationFailed("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors))


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request, exc: DjangoValidationError):
    return _error(request, ValidationFailed("; ".join(exc.messages)))


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    # A number too large for the database that no schema bound caught (e.g. one inside a path string).
    return _error(request, ValidationFailed(_("a number is out of range"), code="out_of_range"))


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    """Any other failure: logged with its traceback, answered in the house format (never Django's HTML)."""
    logger.exception("unhandled error on %s %s", request.method, request.get_full_path())
    error = DomainError(_("internal error"), code="server_error")
    error.status = 500
    return _error(request, error)


def _mount():
    from gongzhi.cases.api import router as cases_router
    from gongzhi.deliberation.api import router as deliberation_router
    from gongzhi.duties.api import router as duties_router
    from gongzhi.demands.api import router as demands_router
    from gongzhi.demands.notifications_api import router as notifications_router
    from gongzhi.ledger.api import router as ledger_router
    from gongzhi.org.api import router as org_router

    api.add_router("/ledger/", ledger_router)
    api.add_router("/org/", org_router)
    api.add_router("/deliberation/", deliberation_router)
    api.add_router("/duties/", duties_router)
    api.add_router("/demands/", demands_router)
    api.add_router("/notifications/", notifications_router)
    api.add_router("/cases/", cases_router)


_mount()
bound_integers(api)
