"""Reads from a PostgreSQL streaming replica (docs/deployment.md, "From one server to a city").

Switched on by GONGZHI_REPLICA_URL (settings.py adds DATABASES["replica"], this router and the middleware
below); unset, every query goes to the one database as before.

What goes where:
- Every write goes to the primary ("default"), always: the replica is a hot standby and would refuse it.
- A read goes to the replica only inside a request that ReplicaReadsMiddleware found eligible: a GET or
  HEAD of a page under GONGZHI_REPLICA_PATHS (the cockpit, the public pages, the ledger's public files), from
  a browser that has not written recently. Everything else reads the primary: other pages, every POST,
  the API, the workers and commands (no request), and any read inside a transaction on the primary.
- Once a request writes anything (the router is asked for a database to write to), the rest of that
  request reads the primary too.
- Read-your-own-writes: a request that wrote, or used a writing method (POST, PUT, PATCH, DELETE), sets the
  cookie `gz_primary` holding the time until which this browser reads the primary
  (GONGZHI_REPLICA_STICKY_SECONDS, default 10). It lives in the browser, so it holds whichever app server
  answers next (their clocks kept by NTP, as any server's). A forged or replayed cookie only makes its own
  reads go to the primary.
"""

from __future__ import annotations

import contextvars
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
COOKIE = "gz_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEFAULT_PATHS = ("/insight/", "/demands/public/", "/demands/nearby/", "/demands/dashboard/", "/ledger/",
                 "/report/")


class _Request:
    __slots__ = ("replica", "wrote")

    def __init__(self, replica: bool):
        self.replica = replica
        self.wrote = False


# Per request: gunicorn's threads each run one request, and a context variable is per thread (the group
# commit's writer thread and the workers have none, so they read the primary).
_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("gongzhi_db_request", default=None)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _current.get()
        if state is None or not state.replica or state.wrote:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS  # inside a transaction: read what it wrote, and lock what it reads
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _current.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary's schema through replication


def paths() -> tuple[str, ...]:
    return tuple(getattr(settings, "GONGZHI_REPLICA_PATHS", DEFAULT_PATHS))


def sticky_seconds() -> float:
    return float(getattr(settings, "GONGZHI_REPLICA_STICKY_SECONDS", 10))


def wrote_recently(request) -> bool:
    try:
        return float(request.COOKIES.get(COOKIE, "0")) > time.time()
    except ValueError:
        return False


def eligible(request) -> bool:
    return (request.method in SAFE_METHODS and request.path.startswith(paths())
            and not wrote_recently(request))


class ReplicaReadsMiddleware:
    """Decides, before anything reads (the session included), whether this request may read the replica,
    and stamps the browser of a request that wrote. Listed before SessionMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = _Request(eligible(request))
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if state.wrote or request.method not in SAFE_METHODS:
            seconds = sticky_seconds()
            response.set_cookie(COOKIE, f"{time.time() + seconds:.0f}", max_age=int(seconds) + 1, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response


def reading_replica() -> bool:
    """True while the current request reads the replica (for tests and the curious)."""
    return ReplicaRouter().db_for_read(None) == REPLICA
