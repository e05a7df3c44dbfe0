"""A scheduled meeting has no quorum yet: its quorum is a 404 with a reason, not a 500 (#13 item 11)."""

import datetime as dt

import pytest

from gongzhi.core import clock
from gongzhi.deliberation import services

from .conftest import MONDAY_9AM

pytestmark = pytest.mark.django_db


def test_the_quorum_of_a_meeting_still_scheduled_is_404_and_of_an_open_one_its_figures(client, village):
    body = village.body("villagers_committee")
    with clock.frozen_at(MONDAY_9AM):
        scheduled = services.schedule_meeting(village.officer, body, title="例会", agenda="议程",
                                              starts_at=MONDAY_9AM + dt.timedelta(days=3))
    response = client.get(f"/api/v1/deliberation/meetings/{scheduled.pk}/quorum")
    assert response.status_code == 404
    assert response.json()["code"] == "meeting_not_open"
    opened, _ = village.open_meeting("villagers_committee")
    figures = client.get(f"/api/v1/deliberation/meetings/{opened.pk}/quorum")
    assert figures.status_code == 200 and figures.json()["present"] == figures.json()["due"] > 0
