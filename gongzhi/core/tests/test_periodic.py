"""core.periodic: jobs run when due, heavy ones wait for their first time, a failing job stops no other."""

from gongzhi.core import periodic


def test_jobs_run_when_due_and_a_failure_stops_no_other(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    calls = []
    periodic.register("often", lambda: calls.append("often"), every_seconds=10)
    periodic.register("heavy", lambda: calls.append("heavy"), every_seconds=100, first_after_seconds=50)
    periodic.register("broken", lambda: 1 / 0, every_seconds=10)
    assert periodic.run_due(now=1000) == ["often"]          # heavy waits 50 s; broken failed, logged
    assert periodic.run_due(now=1005) == []                 # nothing due yet
    assert periodic.run_due(now=1010) == ["often"]
    assert periodic.run_due(now=1050) == ["often", "heavy"]
    assert calls == ["often", "often", "often", "heavy"]
