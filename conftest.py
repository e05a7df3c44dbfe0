"""Shared pytest fixtures for the whole suite."""

import pytest


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """The real hasher costs ~0.4 s per user; tests check behaviour, not hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    from gongzhi.org.tests.factories import World

    return World()
