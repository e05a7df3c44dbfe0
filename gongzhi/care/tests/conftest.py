"""Fixtures of the care tests: ledger keys and photos in the test's own folder, and the CareWorld."""

import pytest


@pytest.fixture
def cw(world, settings, tmp_path):
    from gongzhi.demands.tests.factories import DemandWorld

    from .factories import CareWorld

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    return CareWorld(DemandWorld(world))
