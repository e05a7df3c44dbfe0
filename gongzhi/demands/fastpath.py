"""The intake fast path at the WSGI level: `POST /api/v1/demands/submissions` with a bearer token, answered
202 without Django's middleware, URL resolver and ninja, which cost more than the submission itself
(docs/decisions/0005-intake-queue.md). It serves only requests it can complete: anything else, including
every error, is handed untouched to the full Django stack, whose ninja endpoint of the same path gives
the documented answer (4xx with its {code, message}). The two share services.submit_demand and the
schema, so they cannot disagree on what is accepted."""

import io
import json

from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError

from gongzhi.core import ratelimit
from gongzhi.core.clientaddress import address_from_meta
from gongzhi.core.errors import DomainError
from gongzhi.core.models import ApiToken

from . import services
from .api import submission_answer
from .models import Demand
from .schemas import SubmissionIn

PATH = "/api/v1/demands/submissions"
MAX_BODY = 64 * 1024
# What Django's SecurityMiddleware and XFrameOptionsMiddleware add to every response.
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
]


def wrap(django_app):
    """The WSGI application: the fast path in front of Django's."""

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in (PATH, PATH + "/"):
            answer = _try_fast(environ)
            if answer is not None:
                status, body = answer
                start_response(status, [*HEADERS, *_hsts(), ("Content-Length", str(len(body)))])
                return [body]
        return django_app(environ, start_response)

    return application


def _try_fast(environ) -> tuple[str, bytes] | None:
    """(status, body) when served here; None to hand the request to Django (with its body restored)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("Bearer ") or not _host_allowed(environ):
        return None
    if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
        return None  # Django's SecurityMiddleware redirects it to HTTPS
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY or not environ.get("CONTENT_TYPE", "").startswith("application/json"):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if we hand over
    environ["CONTENT_LENGTH"] = str(len(body))
    # As Django's handler does: connections past their age or broken are closed before and after.
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        try:
            payload = SubmissionIn.model_validate_json(body)
        except ValidationError:
            return None
        user = ApiToken.find_user(authorization[7:].strip())
        if user is None:
            return None
        try:
            # The same limit as the ninja endpoint; counted here once (Django, if handed the request,
            # only checks it), and a refusal is Django's to answer (429 with Retry-After).
            environ[ratelimit.COUNTED] = True
            ratelimit.hit("file_demand", who=f"user:{user.pk}", address=address_from_meta(environ))
            submission = services.submit_demand(
                user, text=payload.text, channel=Demand.Channel.API, longitude=payload.longitude,
                latitude=payload.latitude, address=payload.address, category=payload.category,
                urgency=payload.urgency, contact_name=payload.contact_name, contact_phone=payload.contact_phone,
            )
        except DomainError:
            return None
        # The same fields and encoder as the ninja endpoint's SubmissionOut (test_submissions compares them).
        return "202 Accepted", json.dumps(submission_answer(submission), cls=NinjaJSONEncoder).encode()
    finally:
        signals.request_finished.send(sender=__name__)


def _is_secure(environ) -> bool:
    """As HttpRequest.is_secure(): the proxy's header when SECURE_PROXY_SSL_HEADER names one, else the scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        if environ.get(name) is not None:
            return environ[name].split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _hsts() -> list[tuple[str, str]]:
    """Strict-Transport-Security as SecurityMiddleware sends it (the fast path answers only over HTTPS then)."""
    if not settings.SECURE_HSTS_SECONDS:
        return []
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return [("Strict-Transport-Security", value)]


def _host_allowed(environ) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)
