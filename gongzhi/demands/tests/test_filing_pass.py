"""A filing pass of the intake worker takes only the submissions pending when it began (issue #19): under a
steady stream of submissions it would otherwise run its whole limit every time, and the worker's deadline
sweep (reminders) and a stop request would wait behind it."""

import pytest

from gongzhi.core import clock
from gongzhi.demands import services
from gongzhi.demands.models import Submission

from .factories import IN_A1, THURSDAY_9AM

pytestmark = pytest.mark.django_db


def submit(dw, text):
    with clock.frozen_at(THURSDAY_9AM):
        return services.submit_demand(dw.resident, text=text, longitude=IN_A1[0], latitude=IN_A1[1])


def test_a_pass_files_what_was_pending_when_it_began_and_leaves_what_arrives_meanwhile_to_the_next(dw, monkeypatch):
    waiting = [submit(dw, f"路灯不亮 {n}") for n in range(3)]
    arrived = []
    file_one = services._file_submission

    def filing_while_more_arrive(submission):
        arrived.append(submit(dw, f"又一件 {len(arrived)}"))  # a resident submits while the worker files
        return file_one(submission)

    monkeypatch.setattr(services, "_file_submission", filing_while_more_arrive)
    report = services.file_submissions(limit=100)

    assert report.as_dict() == {"filed": 3, "refused": 0, "failed": 0}
    assert {s.pk for s in Submission.objects.filter(state=Submission.State.FILED)} == {s.pk for s in waiting}
    assert {s.pk for s in Submission.objects.filter(state=Submission.State.PENDING)} == {s.pk for s in arrived}
    monkeypatch.undo()
    assert services.file_submissions(limit=100).filed == 3  # the next pass files them
    assert not Submission.objects.filter(state=Submission.State.PENDING).exists()
