"""Shared pytest fixtures for the whole suite."""

import pytest


@pytest.fixture
def world(db):
    from gongzhi.org.tests.factories import World

    return World()
