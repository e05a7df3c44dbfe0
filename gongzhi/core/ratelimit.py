"""Rate limits on public and resident writes: each kind of write is counted per user and per address in
fixed windows (django-ratelimit's counters in the "ratelimit" cache); past a limit the write is refused with
RateLimited (429) and the answer carries Retry-After. The limits are settings.GONGZHI_RATE_LIMITS; why a
file cache, and what the numbers mean: docs/decisions/0007-rate-limits.md.

Entry points (pages, the JSON API, Open311, the WSGI fast path) call `check` before the use case, so that
writes made by the system itself (the intake worker, imports, the demo) are never limited."""

import fcntl
import os
import pickle
import time
import zlib
from pathlib import Path

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from django.utils.functional import lazy
from django.utils.translation import ngettext_lazy, pgettext_lazy
from django_ratelimit.core import get_usage

from .clientaddress import address_from_meta
from .errors import RateLimited
from .i18n import gettext_lazy as _

# The kinds of write that are limited, as GONGZHI_RATE_LIMITS names them.
KINDS = ("file_demand", "open311_request", "statement", "statement_vote", "objection", "receipt_check", "track")
# Set in the WSGI environ (request.META) by the fast path once it counted a request, so that Django,
# if the request is handed over, checks the limit without counting the same request again.
COUNTED = "gongzhi.rate_limit_counted"


class _Usage:
    """What django-ratelimit's get_usage reads of a request when the key is a callable: only the method."""

    method = "POST"


def check(request, kind: str, *, who: str | None = None) -> None:
    """Count one write of `kind` by this request's user (or `who`, e.g. an Open311 client key) and from its
    address; RateLimited when either is past its limit. The answer then gets Retry-After (middleware)."""
    if who is None:
        user = getattr(request, "user", None)
        who = f"user:{user.pk}" if user is not None and user.is_authenticated else None
    try:
        hit(kind, who=who, address=address_from_meta(request.META), count=not request.META.get(COUNTED))
    except RateLimited as refused:
        request.rate_limited_retry_after = refused.retry_after
        raise


def hit(kind: str, *, who: str | None, address: str | None, count: bool = True) -> None:
    """The counting itself, for callers without a Django request (the fast path)."""
    limits = settings.GONGZHI_RATE_LIMITS.get(kind) or {}
    refusals = []
    for scope, value in (("user", who), ("address", address)):
        rate = limits.get(scope)
        if not rate or value is None:
            continue
        usage = get_usage(_Usage, group=f"gongzhi.{kind}.{scope}", key=lambda _group, _request, v=value: v,
                          rate=rate, increment=count)
        if usage and usage["should_limit"]:
            refusals.append((max(int(usage["time_left"]), 1), scope, rate))
    if refusals:
        retry_after, scope, rate = max(refusals)
        raise RateLimited(_("%(limit)s; try again in %(wait)s")
                          % {"limit": _limit(rate, scope), "wait": _wait(retry_after)},
                          retry_after=retry_after, kind=kind, scope=scope, limit=rate)


def _split(rate: str) -> tuple[int, int, str]:
    count, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    return int(count), int(digits or 1), (period[len(digits):] or "s")


# `%` on a lazy text without translating it yet (core.i18n does the same for gettext_lazy).
_lazy_percent = lazy(lambda template, params: str(template) % params, str)

# A limit's period, alone ("hour": 每小时) or counted ("5 hours": 每5小时).
_PERIODS = {
    "s": (pgettext_lazy("rate limit period", "second"), pgettext_lazy("rate limit period", "%(length)s seconds")),
    "m": (pgettext_lazy("rate limit period", "minute"), pgettext_lazy("rate limit period", "%(length)s minutes")),
    "h": (pgettext_lazy("rate limit period", "hour"), pgettext_lazy("rate limit period", "%(length)s hours")),
    "d": (pgettext_lazy("rate limit period", "day"), pgettext_lazy("rate limit period", "%(length)s days")),
}


def _limit(rate: str, scope: str):
    count, length, unit = _split(rate)
    one, several = _PERIODS[unit]
    period = one if length == 1 else _lazy_percent(several, {"length": length})
    template = (_("at most %(count)s per account per %(period)s") if scope == "user"
                else _("at most %(count)s per network address per %(period)s"))
    return template % {"count": count, "period": period}


def _wait(seconds: int):
    if seconds < 120:
        return _lazy_percent(ngettext_lazy("%(n)s second", "%(n)s seconds", seconds), {"n": seconds})
    minutes = (seconds + 59) // 60
    return _lazy_percent(ngettext_lazy("%(n)s minute", "%(n)s minutes", minutes), {"n": minutes})


class RetryAfterMiddleware:
    """A write refused by `check` answers 429 with Retry-After, whichever layer rendered the refusal (a page,
    the JSON API, Open311's XML or JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        retry_after = getattr(request, "rate_limited_retry_after", None)
        if retry_after is not None and response.status_code == 429 and "Retry-After" not in response:
            response["Retry-After"] = str(retry_after)
        return response


class LockedFileCache(FileBasedCache):
    """Django's file cache with add() and incr() made atomic across processes (an flock on one lock file),
    so that the workers of one machine share exact counters without a cache server."""

    def _locked(self):
        Path(self._dir).mkdir(parents=True, exist_ok=True)
        return _Flock(os.path.join(self._dir, "counters.lock"))

    def add(self, key, value, timeout=None, version=None):
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """As BaseCache.incr, but the counter keeps its expiry (BaseCache's set() would give it the default
        timeout, ending a window's count early)."""
        with self._locked():
            path = self._key_to_file(key, version)
            try:
                with open(path, "rb") as handle:
                    expiry = pickle.load(handle)
                    value = pickle.loads(zlib.decompress(handle.read()))
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found") from None
            left = None if expiry is None else expiry - time.time()
            if left is not None and left <= 0:
                raise ValueError(f"Key '{key}' not found")
            value += delta
            self.set(key, value, left, version)
            return value


    def _cull(self):
        """Past MAX_ENTRIES, delete the counters of windows that have ended first: each window has its own
        key, so they pile up; Django's cull alone deletes a random third of all files, live counters too,
        which would hand everyone a fresh allowance. Only if live counters alone are too many does it run."""
        files = self._list_cache_files()
        if len(files) < self._max_entries:
            return
        for name in files:
            try:
                with open(name, "rb") as handle:
                    self._is_expired(handle)  # deletes the file when its window has ended
            except FileNotFoundError:
                pass
        super()._cull()


class _Flock:
    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
