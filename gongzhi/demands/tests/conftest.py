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
