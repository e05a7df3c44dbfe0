"""Fixtures for the ledger's service, API and crash tests (none are autouse)."""

import pytest
from django.db import transaction

from gongzhi.core import events


@pytest.fixture
def ledger(settings, tmp_path):
    """Keys in a temporary directory; sequencing only when a test asks for it ("loop" mode)."""
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.GONGZHI_LEDGER_SEQUENCER = "loop"
    return settings


@pytest.fixture
def record_events():
    """record_events(n, kind=...) -> the n events, recorded in one transaction."""

    def record(n, kind="test.step", **data):
        with transaction.atomic():
            return [events.record(kind, f"demand-{i}", step=i, **data) for i in range(n)]

    return record
