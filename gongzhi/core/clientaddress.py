"""The address a request came from, as sign-in lock-out and rate limits count it.

Behind GONGZHI_PROXY_COUNT reverse proxies, each appending to X-Forwarded-For, the client is the entry
that many places from the right (entries further left are whatever the client chose to send); with no
proxy it is the socket's REMOTE_ADDR, and X-Forwarded-For is ignored so a client cannot pick its own."""

from django.conf import settings


def client_address(request) -> str:
    return address_from_meta(request.META)


def address_from_meta(meta) -> str:
    """The same rule on a WSGI environ or request.META (the fast path has no Django request)."""
    proxies = getattr(settings, "GONGZHI_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or "unknown"
