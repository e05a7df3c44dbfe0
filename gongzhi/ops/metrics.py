"""Prometheus metrics at /metrics: django-prometheus counts requests and their latency (its middleware), the
fast intake path (served in front of Django, so no middleware sees it) is counted here, and the queues, the
overdue demands, the worker's heartbeat and the sequencer's lag are read from the database at scrape time.

Under gunicorn with several worker processes each process counts its own requests: gongzhi/ops/gunicorn.py
puts prometheus_client in multiprocess mode (a folder of counter files under GONGZHI_VAR_DIR, emptied when the
server starts) so a scrape, whichever process answers it, adds up all of them.

Not public: answered to a request straight from this machine (loopback, not through a proxy) and to one with
`Authorization: Bearer $GONGZHI_METRICS_TOKEN`; anything else is answered as a page that does not exist."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from gongzhi.core import clock, heartbeat
from gongzhi.core.models import Heartbeat
from gongzhi.demands.models import Demand, Submission

from . import health

logger = logging.getLogger(__name__)

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def allowed(request) -> bool:
    """The bearer token, when one is configured, from anywhere; otherwise only a loopback address that came
    straight to the app server (behind nginx every request comes from loopback, but carries X-Forwarded-For)."""
    token = getattr(settings, "GONGZHI_METRICS_TOKEN", "")
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())
    if not getattr(settings, "GONGZHI_METRICS_LOOPBACK", True) or any(h in request.META for h in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def exposition() -> bytes:
    """The text of a scrape: the request metrics (of every process in multiprocess mode), then the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests = CollectorRegistry()
        MultiProcessCollector(requests)
    else:
        requests = REGISTRY
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(StateCollector())
    return generate_latest(requests) + generate_latest(gauges)


CONTENT_TYPE = CONTENT_TYPE_LATEST


# --- the fast intake path ---------------------------------------------------------------------------------

FASTPATH_RESPONSES = Counter("gongzhi_fastpath_responses", "Submissions answered by the fast intake path in front "
                             "of Django (POST /api/v1/demands/submissions), by status", ["status"])
FASTPATH_LATENCY = Histogram("gongzhi_fastpath_latency_seconds", "Time to answer a submission on the fast path",
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def instrument_fast_path(django_app, wrap):
    """`wrap(django_app)` (demands.fastpath.wrap), counting the requests the fast path answers itself; those it
    hands to Django are counted by django-prometheus's middleware, as every other request."""
    from gongzhi.demands.fastpath import PATH

    def through_django(environ, start_response):
        environ["gongzhi.ops.django"] = True
        return django_app(environ, start_response)

    fast = wrap(through_django)

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") not in (PATH, PATH + "/"):
            return fast(environ, start_response)
        began = time.perf_counter()
        seen = {}

        def recording(status, headers, exc_info=None):
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = fast(environ, recording)
        if not environ.get("gongzhi.ops.django"):
            FASTPATH_RESPONSES.labels(seen.get("status", "none")).inc()
            FASTPATH_LATENCY.observe(time.perf_counter() - began)
        return result

    return application


# --- gauges read at scrape time ---------------------------------------------------------------------------

def tasks_waiting() -> int | None:
    """Tasks ready to run and not yet taken by a task worker (the database backend; RQ: its queue's length)."""
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.ready().count()
    if backend.startswith("django_tasks_rq"):
        try:
            import django_rq

            return sum(django_rq.get_queue(name).count for name in settings.TASKS["default"].get("QUEUES", ["default"]))
        except Exception:  # noqa: BLE001 - Redis away: the gauge is left out, the scrape goes on
            logger.warning("metrics: the task queue's length could not be read", exc_info=True)
    return None


def overdue_counts(now) -> dict[str, int]:
    """Demands past a deadline by step (Demand.overdue_q's three parts) and in all."""
    q = Demand.overdue_q(now)
    dispatch, accept, feedback = (part if isinstance(part, Q) else Q(part) for part in q.children)
    return {"dispatch": Demand.objects.filter(dispatch).count(), "accept": Demand.objects.filter(accept).count(),
            "feedback": Demand.objects.filter(feedback).count(), "any": Demand.objects.filter(q).count()}


class StateCollector:
    """Reads the state of the queues from the database on every scrape (a handful of counts on indexed columns)."""

    def collect(self):
        up = GaugeMetricFamily("gongzhi_metrics_database_up", "1 when the gauges below could be read from the "
                                                               "database at this scrape, 0 when not")
        try:
            families = list(self._families())
        except DatabaseError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self):
        now = clock.now()
        depth = GaugeMetricFamily("gongzhi_queue_depth", "Items waiting in each queue: fast-path submissions to "
                                  "file (submissions) or to place by hand (submissions_unplaced), events waiting "
                                  "for the ledger's sequencer (ledger_outbox), tasks ready for a task worker (tasks)",
                                  labels=["queue"])
        pending = Submission.objects.filter(state=Submission.State.PENDING)
        depth.add_metric(["submissions"], pending.filter(grid__isnull=False).count())
        depth.add_metric(["submissions_unplaced"], pending.filter(grid__isnull=True).count())
        outbox, oldest = health.sequencer_lag()
        depth.add_metric(["ledger_outbox"], outbox)
        tasks = tasks_waiting()
        if tasks is not None:
            depth.add_metric(["tasks"], tasks)
        yield depth

        lag = GaugeMetricFamily("gongzhi_ledger_oldest_pending_seconds",
                                "Age of the oldest event waiting for the ledger's sequencer (0: none waiting)")
        lag.add_metric([], oldest)
        yield lag

        overdue = GaugeMetricFamily("gongzhi_demands_overdue", "Demands past a deadline, by the step that is late "
                                    "(dispatch, accept, feedback) and in all (any)", labels=["step"])
        for step, count in overdue_counts(now).items():
            overdue.add_metric([step], count)
        yield overdue

        beats = list(Heartbeat.objects.filter(kind=heartbeat.WORKER).values_list("host", "beat_at"))
        freshest = GaugeMetricFamily("gongzhi_worker_heartbeat_age_seconds",
                                     "Seconds since the freshest worker heartbeat on any host (+Inf: none yet)")
        ages = {host: max(0.0, (now - at).total_seconds()) for host, at in beats}
        freshest.add_metric([], min(ages.values()) if ages else float("inf"))
        yield freshest
        per_host = GaugeMetricFamily("gongzhi_worker_heartbeat_host_age_seconds",
                                     "Seconds since each host's worker last beat", labels=["host"])
        for host, age in sorted(ages.items()):
            per_host.add_metric([host], age)
        yield per_host
