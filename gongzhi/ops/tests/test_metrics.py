"""/metrics: who may read it (this machine directly, or the bearer of GONGZHI_METRICS_TOKEN; through a proxy or
from elsewhere it does not exist), the gauges read at scrape time (queues, overdue demands, the worker's heartbeat,
the sequencer's lag), and the counters of requests, including those the fast intake path answers itself."""

import datetime as dt
import io
import json

import pytest
from django.db import transaction
from django.urls import reverse
from django_tasks import task
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gongzhi.core import clock, events, heartbeat
from gongzhi.core.models import ApiToken
from gongzhi.demands import fastpath
from gongzhi.demands.models import Submission
from gongzhi.demands.tests.factories import IN_A1, THURSDAY_9AM, DjangoApp
from gongzhi.ledger.models import Pending
from gongzhi.ops import metrics

pytestmark = pytest.mark.django_db

METRICS = "/metrics"
ELSEWHERE = "203.0.113.9"


@task()
def nothing_much() -> None:
    """A task for the queue gauge (never run here)."""


def scrape(client, **headers) -> dict:
    """{(name, frozenset(labels)): value} of every sample."""
    response = client.get(METRICS, **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


# --- who may read it ----------------------------------------------------------------------------------------

def test_straight_from_this_machine_it_answers(client):
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="::1").status_code == 200


@pytest.mark.parametrize("headers", [
    {"REMOTE_ADDR": ELSEWHERE},
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": ELSEWHERE},  # through nginx on this machine
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": ELSEWHERE},
    {"REMOTE_ADDR": ELSEWHERE, "HTTP_AUTHORIZATION": "Bearer guessed"},  # no token configured: none is right
])
def test_from_elsewhere_or_through_a_proxy_it_does_not_exist(client, headers):
    response = client.get(METRICS, **headers)
    assert response.status_code == 404
    assert b"gongzhi_queue_depth" not in response.content


def test_the_bearer_of_the_token_reads_it_from_anywhere_and_a_wrong_token_nowhere(client, settings):
    settings.GONGZHI_METRICS_TOKEN = "a-long-random-token-for-prometheus"
    good = {"HTTP_AUTHORIZATION": "Bearer a-long-random-token-for-prometheus"}
    assert client.get(METRICS, REMOTE_ADDR=ELSEWHERE, **good).status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ELSEWHERE, **good).status_code == 200
    bad = {"HTTP_AUTHORIZATION": "Bearer a-long-random-token-for-prometheuS"}
    assert client.get(METRICS, REMOTE_ADDR=ELSEWHERE, **bad).status_code == 404
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1", **bad).status_code == 404  # a wrong token is wrong


def test_loopback_can_be_turned_off_leaving_only_the_token(client, settings):
    settings.GONGZHI_METRICS_LOOPBACK = False
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1").status_code == 404
    settings.GONGZHI_METRICS_TOKEN = "t" * 32
    assert client.get(METRICS, HTTP_AUTHORIZATION="Bearer " + "t" * 32).status_code == 200


# --- the gauges -------------------------------------------------------------------------------------------

LATER = THURSDAY_9AM + dt.timedelta(days=60)  # every deadline of a demand filed on THURSDAY_9AM has passed


def test_the_gauges_count_what_waits_and_what_is_late(client, dw):
    late_at_desk = dw.file()                    # still to dispatch: dispatch and feedback overdue
    late_dispatched = dw.dispatched()           # not accepted: accept and feedback overdue
    dw.closed()                                 # done: late in nothing
    with clock.frozen_at(LATER - dt.timedelta(hours=1)):
        for _ in range(2):
            services_submit(dw)
    Submission.objects.create(submitter=dw.resident, channel="open311", received_at=LATER, grid=None,
                              payload={"text": "无法定位的地址"})
    nothing_much.enqueue()
    nothing_much.using(run_after=LATER + dt.timedelta(days=1)).enqueue()  # not ready yet: not waiting

    Pending.objects.all().delete()
    for minutes_ago in (7, 2, 1):
        with clock.frozen_at(LATER - dt.timedelta(minutes=minutes_ago)), transaction.atomic():
            events.record("ops.test", late_at_desk)
    with clock.frozen_at(LATER - dt.timedelta(seconds=42)):
        heartbeat.record(heartbeat.WORKER, 60)

    with clock.frozen_at(LATER):
        samples = scrape(client)
    assert late_at_desk.state == "received" and late_dispatched.state == "dispatched"
    assert value(samples, "gongzhi_demands_overdue", step="dispatch") == 1
    assert value(samples, "gongzhi_demands_overdue", step="accept") == 1
    assert value(samples, "gongzhi_demands_overdue", step="feedback") == 2
    assert value(samples, "gongzhi_demands_overdue", step="any") == 2
    assert value(samples, "gongzhi_queue_depth", queue="submissions") == 2
    assert value(samples, "gongzhi_queue_depth", queue="submissions_unplaced") == 1
    assert value(samples, "gongzhi_queue_depth", queue="ledger_outbox") == 3
    assert value(samples, "gongzhi_queue_depth", queue="tasks") == 1
    assert value(samples, "gongzhi_ledger_oldest_pending_seconds") == 7 * 60
    assert value(samples, "gongzhi_worker_heartbeat_age_seconds") == 42
    assert value(samples, "gongzhi_worker_heartbeat_host_age_seconds", host=heartbeat.host_name()) == 42
    assert value(samples, "gongzhi_metrics_database_up") == 1


def test_before_any_worker_beat_its_heartbeat_is_infinitely_old_and_nothing_waits(client):
    Pending.objects.all().delete()
    samples = scrape(client)
    assert value(samples, "gongzhi_worker_heartbeat_age_seconds") == float("inf")
    assert value(samples, "gongzhi_ledger_oldest_pending_seconds") == 0
    assert value(samples, "gongzhi_queue_depth", queue="ledger_outbox") == 0
    assert value(samples, "gongzhi_demands_overdue", step="any") == 0


def services_submit(dw):
    from gongzhi.demands import services

    return services.submit_demand(dw.resident, text="小区门口垃圾堆了三天没人清运", longitude=IN_A1[0],
                                  latitude=IN_A1[1], contact_name="张三", contact_phone="13900001111")


# --- the request counters -----------------------------------------------------------------------------------

def test_requests_are_counted_by_view_with_their_latency(client):
    def live_requests():
        return value(scrape(client), "django_http_requests_total_by_view_transport_method_total",
                     view="ops:live", transport="http", method="GET") or 0

    before = live_requests()
    for _ in range(3):
        client.get(reverse("ops:live"))
    samples = scrape(client)
    assert live_requests() == before + 3
    assert value(samples, "django_http_requests_latency_seconds_by_view_method_count", view="ops:live",
                 method="GET") >= 3


def call(app, payload: bytes, **environ):
    started = {}
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": fastpath.PATH, "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(payload)), "wsgi.input": io.BytesIO(payload), "HTTP_HOST": "testserver",
           **environ}
    b"".join(app(env, lambda status, headers: started.update(status=status)))
    return started["status"]


def test_the_fast_path_counts_what_it_answers_itself_and_leaves_the_rest_to_django(dw, keep_the_test_connection):
    def answered(status):
        return REGISTRY.get_sample_value("gongzhi_fastpath_responses_total", {"status": status}) or 0

    _, raw = ApiToken.issue(dw.resident)
    django = DjangoApp()
    app = metrics.instrument_fast_path(django, fastpath.wrap)
    body = json.dumps({"text": "小区门口垃圾堆了三天没人清运", "longitude": IN_A1[0], "latitude": IN_A1[1],
                       "contact_name": "张三", "contact_phone": "13900001111"}).encode()
    before = answered("202"), answered("418"), REGISTRY.get_sample_value("gongzhi_fastpath_latency_seconds_count") or 0
    assert call(app, body, HTTP_AUTHORIZATION=f"Bearer {raw}") == "202 Accepted"
    assert call(app, body, HTTP_AUTHORIZATION="Bearer gz_not_a_token") == "418 I'm a teapot"  # handed to Django
    assert len(django.calls) == 1
    assert (answered("202"), answered("418")) == (before[0] + 1, before[1])
    assert REGISTRY.get_sample_value("gongzhi_fastpath_latency_seconds_count") == before[2] + 1
