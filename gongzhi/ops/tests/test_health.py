"""/health/live/ and /health/ready/: each readiness check passing, and each failing for its own reason with a 503
that names it (a stale or missing worker heartbeat, a sequencer falling behind, too little disk, a database that
refuses writes)."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from gongzhi.core import clock, events, heartbeat
from gongzhi.core.models import Heartbeat
from gongzhi.ledger.models import Pending

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def beat(seconds_ago: float, *, interval: float = 60, host: str = "app-1", kind: str = heartbeat.WORKER):
    with clock.frozen_at(NOW - dt.timedelta(seconds=seconds_ago)):
        heartbeat.record(kind, interval)
    Heartbeat.objects.filter(kind=kind, host=heartbeat.host_name()).update(host=host)


def ready(client):
    with clock.frozen_at(NOW):
        response = client.get(reverse("ops:ready"))
    body = response.json()
    return response.status_code, body, {c["name"]: c for c in body["checks"]}


def test_live_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("ops:live"))
    assert response.status_code == 200 and response.json() == {"status": "alive"}
    assert "no-store" in response["Cache-Control"]


def test_ready_when_every_check_passes_names_each_with_its_state_in_words(client):
    Pending.objects.all().delete()
    beat(5)
    status, body, checks = ready(client)
    assert status == 200 and body["status"] == "ready" and "reason" not in body
    assert list(checks) == ["database", "worker", "ledger_sequencer", "disk"]
    assert {c["state"] for c in checks.values()} == {"ok"}
    assert checks["worker"]["detail"] == "last beat 5.0 s ago (stale after 180 s)"
    assert checks["ledger_sequencer"]["detail"] == "no event waiting to be sequenced"
    assert checks["database"]["detail"].startswith("read and wrote in ")
    assert "MB free in the var folder" in checks["disk"]["detail"]


def test_a_stale_worker_heartbeat_is_503_with_how_old_it_is(client):
    beat(200)  # sweep interval 60 s: stale after 3 × 60 s
    status, body, checks = ready(client)
    assert status == 503 and body["status"] == "not ready"
    assert checks["worker"]["state"] == "failing"
    assert checks["worker"]["detail"] == ("the worker last beat 200 s ago; stale after 180 s "
                                          "(3 × its sweep interval of 60 s)")
    assert body["reason"] == "worker: " + checks["worker"]["detail"]
    assert checks["database"]["state"] == "ok" and checks["disk"]["state"] == "ok"


def test_the_freshest_beat_of_any_server_counts_and_the_limit_follows_the_setting(client, settings):
    beat(500, host="app-1")
    beat(100, host="app-2")
    assert ready(client)[2]["worker"]["state"] == "ok"
    settings.GONGZHI_HEALTH_HEARTBEAT_INTERVALS = 1.5
    status, _, checks = ready(client)
    assert status == 503 and "stale after 90 s" in checks["worker"]["detail"]


def test_a_sweeper_apart_from_the_worker_is_checked_once_it_has_beaten(client):
    beat(5)
    assert "sweeper" not in ready(client)[2]["worker"]["detail"]  # the worker sweeps: no sweeper to expect
    beat(30, kind=heartbeat.SWEEPER)
    status, _, checks = ready(client)
    assert status == 200 and checks["worker"]["detail"].endswith("; sweeper 30 s ago")
    Heartbeat.objects.filter(kind=heartbeat.SWEEPER).delete()
    beat(400, kind=heartbeat.SWEEPER)  # stopped: deadlines and jobs no longer run, though filing does
    status, body, checks = ready(client)
    assert status == 503 and checks["worker"]["detail"] == ("the sweeper (`gongzhi demands sweep --forever`) last "
                                                             "beat 400 s ago; stale after 180 s")


def test_no_worker_ever_is_503_saying_which_process_to_start(client):
    status, body, checks = ready(client)
    assert status == 503 and checks["worker"]["state"] == "failing"
    assert "gongzhi demands work --forever" in body["reason"]


def test_a_sequencer_falling_behind_is_503_with_the_count_and_the_oldest_age(client, settings, world):
    from django.db import transaction

    beat(1)
    Pending.objects.all().delete()
    settings.GONGZHI_LEDGER_SEQUENCER = "loop"
    for seconds_ago in (400, 30):
        with clock.frozen_at(NOW - dt.timedelta(seconds=seconds_ago)), transaction.atomic():
            events.record("ops.test", world.grid_a1)
    assert Pending.objects.count() == 2
    status, body, checks = ready(client)
    assert status == 503 and checks["ledger_sequencer"]["state"] == "failing"
    assert checks["ledger_sequencer"]["detail"] == (
        "2 events waiting to be sequenced, the oldest for 400 s; the limit is 120 s "
        "(is `gongzhi ledger sequence --forever` running?)")
    settings.GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS = 600
    status, _, checks = ready(client)
    assert status == 200 and checks["ledger_sequencer"]["detail"] == (
        "2 events waiting to be sequenced, the oldest for 400 s")


def test_low_disk_space_is_503(client, settings):
    beat(1)
    Pending.objects.all().delete()
    settings.GONGZHI_HEALTH_MIN_FREE_MB = 1024 ** 4  # an exabyte: no test machine has it free
    status, body, checks = ready(client)
    assert status == 503 and checks["disk"]["state"] == "failing"
    assert body["reason"].startswith("disk: ") and "MB free in the var folder" in body["reason"]
    assert str(settings.VAR_DIR) not in body["reason"]  # no path told


def test_a_database_that_refuses_writes_is_503_without_its_error_text(client):
    beat(1)
    with connection.cursor() as cursor:  # as after a fail-over to a read-only standby
        cursor.execute("PRAGMA query_only = ON" if connection.vendor == "sqlite" else "SET TRANSACTION READ ONLY")
    try:
        status, body, checks = ready(client)
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")
    assert status == 503 and checks["database"]["state"] == "failing"
    assert checks["database"]["detail"].startswith("the database did not answer a write (")
    assert "read-only" not in checks["database"]["detail"] and "readonly" not in checks["database"]["detail"]


def test_the_worker_loop_beats_at_most_every_few_seconds():
    ticks = iter([100.0, 101.0, 109.9, 110.0])
    beater = heartbeat.Beater(heartbeat.WORKER, 60, monotonic=lambda: next(ticks))
    assert [beater.beat() for _ in range(4)] == [True, False, False, True]
    row = Heartbeat.objects.get(kind=heartbeat.WORKER)
    assert row.interval_seconds == 60 and row.host == heartbeat.host_name()


def test_behind_https_the_probes_still_answer_over_plain_http_on_the_machine(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # GONGZHI_HTTPS=1
    assert client.get(reverse("ops:live")).status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get(reverse("ops:ready")).status_code in (200, 503)
    assert client.get("/demands/report/").status_code == 301  # everything else goes to HTTPS


def test_with_the_database_gone_every_check_that_reads_it_says_so_in_words(client):
    """A database that cannot be reached at all: the checks' connection is made to a file or a port where there is
    none (the test's own connection, holding its transaction, is put back afterwards)."""
    from django.db import connections

    beat(1)
    original = connections.settings
    broken = {**original, "default": dict(original["default"])}
    if connection.vendor == "sqlite":
        broken["default"]["NAME"] = "/nonexistent-folder/gongzhi.sqlite3"
    else:
        broken["default"]["PORT"] = "1"  # nothing listens on port 1
    real = connections["default"]
    connections.settings = broken
    del connections["default"]  # the next use makes a new connection from the broken settings
    try:
        status, body, checks = ready(client)
    finally:
        connections["default"].close()
        connections["default"] = real
        connections.settings = original
    assert status == 503
    assert checks["database"]["detail"] == "the database did not answer a write (OperationalError)"
    assert checks["worker"]["detail"] == "could not be checked: the database did not answer (OperationalError)"
    assert checks["disk"]["state"] == "ok"
