"""The intake worker and the sweeper apart (deploy/systemd: gongzhi-worker and gongzhi-sweeper): `demands work
--forever --sweep-interval 0 --no-jobs` only files, so a long sweep or analysis never holds up filing; `demands
sweep --forever` sweeps, runs the periodic jobs and beats as the sweeper; each as before when run alone."""

import io
import os
import signal

import pytest
from django.core.management import call_command

from gongzhi.core import heartbeat, periodic
from gongzhi.core.models import Heartbeat
from gongzhi.demands import services
from gongzhi.demands.management.commands import demands as command

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(monkeypatch):
    """One periodic job that records its runs; the registry holds nothing else. The loops run inside the
    test's transaction, where closing "old" connections would close the test's own (PostgreSQL then refuses
    every later query and the loop retries for ever): a process of its own has autocommit and closes them."""
    monkeypatch.setattr(command, "close_old_connections", lambda: None)
    monkeypatch.setattr(command.connections, "close_all", lambda: None)
    monkeypatch.setattr(periodic, "_jobs", {})
    runs = []
    periodic.register("probe", lambda: runs.append("probe"), every_seconds=3600)
    return runs


def stop_after(monkeypatch, target, name, result=None):
    """Replace target.name by a call that asks the process to stop (SIGTERM, as systemd does) and returns `result`."""
    calls = []

    def call(*args, **kwargs):
        calls.append(name)
        os.kill(os.getpid(), signal.SIGTERM)
        return result() if callable(result) else result
    monkeypatch.setattr(target, name, call)
    return calls


def test_the_worker_without_jobs_and_sweep_only_files(job, monkeypatch):
    filed = stop_after(monkeypatch, services, "file_submissions", services.FilingReport)
    swept = stop_after(monkeypatch, command.Command, "_sweep_once", {})
    out = io.StringIO()
    call_command("demands", "work", "--forever", "--sweep-interval", "0", "--no-jobs", stdout=out)
    assert filed == ["file_submissions"] and swept == [] and job == []
    assert "no deadline sweep, no periodic jobs" in out.getvalue()


def test_the_worker_alone_still_runs_the_jobs(job, monkeypatch):
    stop_after(monkeypatch, periodic, "run_due", lambda: job.append("run_due") or [])
    monkeypatch.setattr(services, "file_submissions", lambda batch: services.FilingReport())
    call_command("demands", "work", "--forever", "--sweep-interval", "0", stdout=io.StringIO())
    assert job == ["run_due"]


def test_the_sweeper_runs_the_jobs_sweeps_and_beats_as_the_sweeper(job, monkeypatch):
    swept = stop_after(monkeypatch, command.Command, "_sweep_once",
                       {"reminders": 0, "supervision_orders": 0, "resolved": 0, "listed": 0, "webhooks": {}})
    out = io.StringIO()
    call_command("demands", "sweep", "--forever", "--interval", "60", stdout=out)
    assert job == ["probe"] and swept == ["_sweep_once"]
    assert "running the periodic jobs" in out.getvalue()
    beat = Heartbeat.objects.get(kind=heartbeat.SWEEPER)
    assert beat.interval_seconds == 60 and beat.pid == os.getpid()


def test_a_sweeper_without_jobs_only_sweeps(job, monkeypatch):
    swept = stop_after(monkeypatch, command.Command, "_sweep_once",
                       {"reminders": 0, "supervision_orders": 0, "resolved": 0, "listed": 0, "webhooks": {}})
    call_command("demands", "sweep", "--forever", "--no-jobs", stdout=io.StringIO())
    assert swept == ["_sweep_once"] and job == []
