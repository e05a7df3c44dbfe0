"""Shared pytest fixtures for the whole suite."""

import pytest


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """The real hasher costs ~0.4 s per user; tests check behaviour, not hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def sign_in_lockout_off(settings):
    """The test client's login() calls authenticate() without a request, which django-axes refuses;
    the lock-out's own tests and the browser tests (signing in through the form) turn it back on."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def generous_rate_limits(settings):
    """Writes are counted as in production, but in this process's memory (no counts left over from another
    test or run) and with limits no test meets by accident; the rate-limit tests lower them."""
    from django.conf import settings as configured  # read from the real settings: some pure tests stand in
    from django.core.cache.backends.locmem import LocMemCache

    settings.CACHES = {**configured.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gongzhi-tests-ratelimit"}}
    settings.GONGZHI_RATE_LIMITS = {kind: {"user": "100000/h", "address": "100000/h"}
                                    for kind in configured.GONGZHI_RATE_LIMITS}
    LocMemCache("gongzhi-tests-ratelimit", {}).clear()  # the store every cache of that name shares


@pytest.fixture(autouse=True)
def empty_default_cache():
    """Django's default cache (this process's memory in tests) starts empty: nothing cached from another
    test's database (the units' standing, the cockpit's figures) is read by the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def no_published_checkpoint_record(settings):
    """Each test's database starts a new log under this worker's one signing key, which in production would be a
    fork: the record of what was published (ledger/published.py) belongs to a real installation. The backup
    tests (real processes, a var/ of their own) keep it on."""
    settings.GONGZHI_LEDGER_PUBLISHED = ""


@pytest.fixture
def world(db):
    from gongzhi.org.tests.factories import World

    return World()


@pytest.fixture(autouse=True)
def fresh_working_day_calendar():
    """The working-day calendar is cached per process (core.workdays); each test reads its own database's."""
    from gongzhi.core import workdays

    workdays.invalidate()
    yield
    workdays.invalidate()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts and ends in the installation's language (zh-hans): none inherits the last one's."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session", autouse=True)
def live_server_one_request_at_a_time_on_sqlite(django_db_setup):
    """On SQLite the live server (pytest-django's, Django's LiveServerThread) shares the test's one in-memory
    connection with its request threads, so that the server sees the test's rows. Two requests at once on that
    one connection can deadlock inside SQLite: seen when a page's script fetched two things together (the front
    door's "nearby" and "locate"), which hung a CI run with both workers waiting. On SQLite the live server
    therefore answers one request at a time (Django closes each connection after its response when the server
    is not threaded, so browsers wait their turn rather than hold it). PostgreSQL keeps the threaded server:
    each thread has its own connection there."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    class OneAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)  # the thread serving installs the shared connections itself

    if connection.vendor == "sqlite":
        LiveServerThread.server_class = OneAtATime
    yield
