"""Fixtures of the insight tests: each test starts with an empty cache, so the cockpit's cached figures
(cockpit_cache) of one test's data never answer another's (their database ids repeat after each rollback)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()
