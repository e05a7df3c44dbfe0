"""Notifications: in-app notices to units and residents (and their API), and each unit's outgoing webhooks,
signed with HMAC-SHA256, sent after commit by a task to a real HTTP server on 127.0.0.1, retried with
exponential backoff as the clock moves, failures visible; no personal data leaves in a payload."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import Resolver404, path, resolve
from ninja import NinjaAPI

from gongzhi.core import clock
from gongzhi.core.auth import api_auth
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.models import ApiToken
from gongzhi.demands import escalation, notifications, services
from gongzhi.demands.models import DemandEvent, Notification, Webhook, WebhookDelivery
from gongzhi.demands.notifications_api import router

from .factories import THURSDAY_9AM

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
BASE = "/api/v1/notifications/"


def at(hours: float) -> dt.datetime:
    return THURSDAY_9AM + dt.timedelta(hours=hours)


# --- a real receiver on loopback -------------------------------------------------------------------------------

class Receiver:
    """An HTTP server in a thread on 127.0.0.1 that records each POST and answers with the next status of
    `statuses` (the last one repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 5
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,)):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.GONGZHI_DEMANDS_WEBHOOK_TIMEOUT_SECONDS = 5


def hook_for(unit, url, **kw) -> Webhook:
    return Webhook.objects.create(unit=unit, url=url, secret="s3cret-for-tests", **kw)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"


# --- the API, mounted as gongzhi/api.py mounts it (or on its own API until it is) ------------------------------

_test_api = NinjaAPI(auth=api_auth(), urls_namespace="notifications-test")
_test_api.exception_handler(DomainError)(lambda request, exc: _test_api.create_response(
    request, exc.as_dict(), status=exc.status))
_test_api.add_router("/notifications/", router)
urlpatterns = [path("api/v1/", _test_api.urls)]


@pytest.fixture
def api(client, settings):
    try:
        resolve(BASE)
    except Resolver404:
        settings.ROOT_URLCONF = sys.modules[__name__]

    def as_user(user):
        _, raw = ApiToken.issue(user)

        def call(method, url, **kw):
            return getattr(client, method)(url, headers={"Authorization": f"Bearer {raw}"},
                                           content_type="application/json", **kw)

        return call

    return as_user


# --- in-app notices ------------------------------------------------------------------------------------------

def test_a_dispatch_notifies_the_lead_and_assisting_units(dw):
    demand = dw.file()
    with clock.frozen_at(at(0.5)):
        services.dispatch(dw.dispatcher, demand, unit=dw.city_management, assisting=[dw.property_company],
                          category="environment.garbage")
    notices = Notification.objects.filter(kind="dispatch", demand=demand, recipient_unit__isnull=False)
    assert {n.recipient_unit for n in notices} == {dw.city_management, dw.property_company}
    lead = notices.get(recipient_unit=dw.city_management)
    assert demand.number in lead.text and lead.created_at == at(0.5) and lead.recipient_user is None
    assert "张三" not in lead.text and "13900001111" not in lead.text
    assert list(notifications.mine(dw.handler)) == [lead]        # staff of the lead unit
    assert [n.recipient_unit for n in notifications.mine(dw.property_staff)] == [dw.property_company]
    told = list(notifications.mine(dw.resident))  # the resident hears where it went (issue #16)
    assert [n.kind for n in told] == ["dispatch"] and "区城管委" in told[0].text and "东园物业" not in told[0].text


def test_the_resident_hears_of_the_reply_the_closing_and_the_reopening(dw):
    demand = dw.closed()
    assert list(notifications.mine(dw.resident).values_list("kind", flat=True)) == ["close", "reply", "dispatch"]
    with clock.frozen_at(at(6)):
        services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied")
    assert notifications.mine(dw.resident).first().kind == "reopen"
    assert Notification.objects.filter(kind="reopen", recipient_unit=dw.city_management).count() == 1
    assert list(notifications.mine(dw.other_resident)) == []


def test_notices_are_listed_and_marked_read_through_the_api(dw, api):
    dw.closed()
    resident = api(dw.resident)
    body = resident("get", BASE).json()
    assert body["count"] == 3 and [i["kind"] for i in body["items"]] == ["close", "reply", "dispatch"]
    first = body["items"][1]
    assert first["demand"] and first["read_at"] is None and first["recipient_unit_id"] is None

    with clock.frozen_at(at(7)):
        marked = resident("post", f"{BASE}{first['id']}/read")
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert resident("get", f"{BASE}?unread=true").json()["count"] == 2
    assert resident("get", f"{BASE}?unread=false").json()["count"] == 1
    # Someone else's notice is not found, and nothing changes.
    other = api(dw.other_resident)
    assert other("post", f"{BASE}{body['items'][0]['id']}/read").status_code == 404
    assert resident("get", f"{BASE}?unread=true").json()["count"] == 2
    assert resident("post", f"{BASE}read").json() == {"marked": 2}
    assert resident("get", f"{BASE}?unread=true").json()["count"] == 0
    assert api(dw.handler)("get", BASE).json()["count"] == 1  # the unit's dispatch notice
    assert resident("get", BASE).status_code == 200 and other("get", BASE).json()["count"] == 0


def test_marking_someone_elses_notice_is_refused(dw):
    dw.dispatched()
    notice = Notification.objects.get(kind="dispatch", recipient_unit__isnull=False)
    with pytest.raises(NotFound):
        notifications.mark_read(dw.resident, notice.pk)
    assert notifications.mark_read(dw.handler, notice.pk).read_at is not None


# --- webhooks ---------------------------------------------------------------------------------------------

def test_a_dispatch_queues_a_signed_delivery_without_personal_data(dw, receiver):
    server = receiver()
    hook = hook_for(dw.city_management, server.url)
    demand = dw.dispatched()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook, delivery.event, delivery.attempts, delivery.next_attempt_at) == (hook, "dispatch", 0,
                                                                                              at(0.5))
    with clock.frozen_at(at(0.5)):
        assert notifications.deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}
    (request,) = server.requests
    headers, body = request["headers"], request["body"]
    # The receiver's check: HMAC-SHA256 of "timestamp.body" under the shared secret, and a recent timestamp.
    with clock.frozen_at(at(0.5) + dt.timedelta(seconds=30)):
        assert notifications.verify_signature(hook.secret, headers["X-Gongzhi-Timestamp"], body,
                                              headers["X-Gongzhi-Signature"])
        assert not notifications.verify_signature("wrong", headers["X-Gongzhi-Timestamp"], body,
                                                  headers["X-Gongzhi-Signature"])
        assert not notifications.verify_signature(hook.secret, headers["X-Gongzhi-Timestamp"], body + b" ",
                                                  headers["X-Gongzhi-Signature"])
    with clock.frozen_at(at(1.5)):  # an hour later the same request is a replay
        assert not notifications.verify_signature(hook.secret, headers["X-Gongzhi-Timestamp"], body,
                                                  headers["X-Gongzhi-Signature"])
    expected = hmac.new(b"s3cret-for-tests", headers["X-Gongzhi-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Gongzhi-Signature"] == f"sha256={expected}"
    assert headers["X-Gongzhi-Delivery"] == str(delivery.uuid) and headers["X-Gongzhi-Event"] == "dispatch"
    payload = json.loads(body)
    assert payload["id"] == str(delivery.uuid) and payload["event"] == "dispatch"
    assert payload["unit"] == {"id": dw.city_management.pk, "name": dw.city_management.name}
    assert payload["demand"]["number"] == demand.number and payload["demand"]["state"] == "dispatched"
    assert payload["demand"]["category"] == "environment.garbage"
    text = body.decode()
    for personal in ("张三", "13900001111", "垃圾堆", "resident_zhang", "116.005", "39.905"):
        assert personal not in text
    delivery.refresh_from_db()
    assert delivery.delivered_at == at(0.5) and delivery.last_status == 200 and delivery.next_attempt_at is None
    with clock.frozen_at(at(1)):
        assert notifications.deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(server.requests) == 1


def test_a_500_is_retried_after_the_backoff(dw, receiver):
    server = receiver([500, 200])
    hook_for(dw.city_management, server.url)
    dw.dispatched()
    t0 = at(0.5)
    with clock.frozen_at(t0):
        assert notifications.deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status) == (1, 500)
    assert delivery.next_attempt_at == t0 + dt.timedelta(seconds=60) and "500" in delivery.last_error
    with clock.frozen_at(t0 + dt.timedelta(seconds=30)):  # not yet due
        assert notifications.deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}
    with clock.frozen_at(t0 + dt.timedelta(seconds=61)):
        assert notifications.deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert len(server.requests) == 2
    assert len({r["headers"]["X-Gongzhi-Delivery"] for r in server.requests}) == 1  # one id: the receiver dedups


def test_a_delivery_fails_visibly_after_its_last_attempt(dw, receiver, settings, api):
    settings.GONGZHI_DEMANDS_WEBHOOK_MAX_ATTEMPTS = 3
    server = receiver([500])
    hook_for(dw.city_management, server.url)
    dw.dispatched()
    moment = at(0.5)
    waits = []
    for _ in range(3):
        with clock.frozen_at(moment):
            notifications.deliver_due()
        delivery = WebhookDelivery.objects.get()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - moment)
            moment = delivery.next_attempt_at
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2)]  # exponential backoff
    assert delivery.attempts == 3 and delivery.failed_at == moment and delivery.delivered_at is None
    assert len(server.requests) == 3
    with clock.frozen_at(moment + dt.timedelta(days=1)):
        assert notifications.deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}

    failed = api(dw.handler)("get", f"{BASE}webhook-deliveries?failed=true").json()
    assert failed["count"] == 1
    item = failed["items"][0]
    assert (item["uuid"], item["attempts"], item["last_status"], item["unit_id"]) == (
        str(delivery.uuid), 3, 500, dw.city_management.pk)
    assert api(dw.handler)("get", f"{BASE}webhook-deliveries?failed=false").json()["count"] == 0
    assert api(dw.property_staff)("get", f"{BASE}webhook-deliveries").json()["count"] == 0  # not their unit


def test_a_dead_endpoint_never_breaks_the_step_and_the_task_sends_after_commit(dw, settings,
                                                                               django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    hook_for(dw.city_management, closed_port_url())
    demand = dw.file()
    with clock.frozen_at(at(0.5)), django_capture_on_commit_callbacks(execute=True) as callbacks:
        step = services.dispatch(dw.dispatcher, demand, unit=dw.city_management, category="environment.garbage")
    assert step.demand.state == "dispatched" and DemandEvent.objects.filter(action="dispatch").count() == 1
    assert len(callbacks) >= 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status is None and delivery.last_error  # connection refused
    assert delivery.next_attempt_at == at(0.5) + dt.timedelta(minutes=1)


def test_the_delivery_task_delivers_after_commit(dw, settings, receiver, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    server = receiver()
    hook_for(dw.city_management, server.url)
    demand = dw.file()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, clock.frozen_at(at(0.5)):
        services.dispatch(dw.dispatcher, demand, unit=dw.city_management, category="environment.garbage")
    assert server.requests == []  # nothing leaves before the commit
    with clock.frozen_at(at(0.5)):
        for callback in callbacks:
            callback()
    assert len(server.requests) == 1 and WebhookDelivery.objects.get().delivered_at == at(0.5)


def test_a_webhook_takes_only_the_events_it_asked_for(dw, receiver):
    server = receiver()
    hook_for(dw.city_management, server.url, events=["supervision"])
    hook_for(dw.world.street_office, server.url, active=False)
    demand = dw.dispatched()
    assert WebhookDelivery.objects.count() == 0
    with clock.frozen_at(at(3)):
        escalation.sweep_deadlines()
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "supervision" and delivery.payload["deadline"] == "accept"
    assert delivery.payload["demand"]["number"] == demand.number
