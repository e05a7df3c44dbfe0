"""Fixtures of the demands tests (none autouse): ledger keys in a temporary directory, and a world of
units, handlers, a dispatcher and residents on top of org's factories World."""

import pytest


@pytest.fixture
def ledger_keys(settings, tmp_path):
    """Checkpoints signed with a throwaway key, pseudonyms with a throwaway secret."""
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    return settings


@pytest.fixture
def dw(world, ledger_keys):
    from .factories import DemandWorld

    return DemandWorld(world)



@pytest.fixture
def keep_the_test_connection():
    """As Django's test client does: the request signals must not close the connection that holds the
    test's transaction (the fast path sends them, like Django's handler, to close stale connections; on
    PostgreSQL a closed connection fails the test)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
