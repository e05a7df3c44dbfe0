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


@pytest.fixture
def world(db):
    from gongzhi.org.tests.factories import World

    return World()
