"""Issue #19, beyond one machine on existing engines (docs/deployment.md, "From one server to a city"): one
layout on loopback, the way a city would run it, each piece switched on by its setting only:

    PostgreSQL primary --streaming--> hot standby (core/pgserver.py)
    PgBouncer, transaction pooling, before both (GONGZHI_PGBOUNCER=1)
    gunicorn reading the cockpit and public pages from the standby (GONGZHI_REPLICA_URL)
    Redis with an RQ worker running the tasks (GONGZHI_TASKS_REDIS_URL, `gongzhi rqworker`)

Checked with real HTTP against the real processes: the replica serves public reads and never a write, a
writer reads their own write while the standby is paused (an anonymous reader does not, until it resumes);
intake and pages run through PgBouncer in transaction mode; a webhook delivery the app enqueues is run by
the RQ worker. Only on the PostgreSQL pass of `make test` (the layout has its own PostgreSQL servers)."""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gongzhi.core.tests.throwaway import on_postgresql

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="the scale-out layout runs on PostgreSQL only")

# Run once in the layout (through PgBouncer): org's small World and demands' units and residents (the test
# factories: seconds, where the demo district takes longer), an API token for a resident, a point in a grid.
PREPARE = """
import json, django
django.setup()
from gongzhi.core.models import ApiToken
from gongzhi.demands.tests.factories import IN_A1, DemandWorld
from gongzhi.org.tests.factories import World
world = DemandWorld(World())
_, token = ApiToken.issue(world.resident, "scale-out test")
print(json.dumps({"token": token, "point": list(IN_A1)}))
"""

# The app's own way to a webhook delivery: a unit's webhook, a change queued for it in a transaction, the
# delivery task enqueued after commit (demands/notifications.queue_webhooks), here on Redis.
QUEUE_WEBHOOK = """
import json, sys, django
django.setup()
from django.db import transaction
from gongzhi.core import clock
from gongzhi.demands import notifications
from gongzhi.demands.models import Demand, Webhook
demand = Demand.objects.order_by("-id").first()
from gongzhi.org.models import Organisation
unit = Organisation.objects.order_by("id").first()
hook = Webhook.objects.create(unit=unit, url=sys.argv[1], secret="s3cret-for-the-test")
with transaction.atomic():
    deliveries = notifications.queue_webhooks({unit.pk}, "dispatch", demand, at=clock.now())
from gongzhi.demands.tasks import deliver_webhook_task
print(json.dumps({"deliveries": [d.pk for d in deliveries],
                  "backend": type(deliver_webhook_task.get_backend()).__name__}))
"""


def _need(binaries):
    if os.environ.get("CI") in ("1", "true"):
        pytest.fail(f"under CI the scale-out layout needs {', '.join(binaries)} (scripts/system-packages.sh --ops)")
    pytest.skip(f"not installed: {', '.join(binaries)}")


class Layout:
    def __init__(self):
        self.cleanup = []  # each server's stop, in the order started

    def start(self, tmp: Path) -> None:
        from gongzhi.core import loopback
        from gongzhi.core.pgserver import PgServer

        self.primary = PgServer.create(tmp / "primary", durable=False)
        self.primary.start()
        self.cleanup.append(self.primary.destroy)
        self.replica = self.primary.replica(tmp / "replica")
        self.cleanup.append(self.replica.destroy)
        self.bouncer = loopback.PgBouncer({"gongzhi": (self.primary, "postgres"),
                                           "gongzhi_replica": (self.replica, "postgres")}).start()
        self.cleanup.append(self.bouncer.destroy)
        self.redis = loopback.Redis().start()
        self.cleanup.append(self.redis.destroy)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("GONGZHI_", "DATABASE_URL", "PYTEST_", "DJANGO_"))}
        base.update(GONGZHI_VAR_DIR=str(tmp / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings",
                    PYTHONPATH=str(ROOT), GONGZHI_CONN_MAX_AGE="60",
                    GONGZHI_LEDGER_STATE=str(tmp / "ledger-state.json"),
                    GONGZHI_RATE_LIMITS=json.dumps({"file_demand": {"user": "100000/h", "address": "100000/h"}}))
        migrated = subprocess.run([str(BIN / "gongzhi"), "migrate", "-v0"], capture_output=True, text=True,
                                  env=dict(base, DATABASE_URL=self.primary.url()))
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        self.env = dict(base, DATABASE_URL=self.bouncer.url("gongzhi"), GONGZHI_PGBOUNCER="1",
                        GONGZHI_REPLICA_URL=self.bouncer.url("gongzhi_replica"), GONGZHI_REPLICA_STICKY_SECONDS="30",
                        GONGZHI_TASKS_REDIS_URL=self.redis.url())
        out = self.run_python(PREPARE)
        self.prepared = json.loads(out.strip().splitlines()[-1])
        self.port = loopback.free_port()
        self.web = self.spawn([str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{self.port}",
                               "--workers", "1", "--threads", "4", "--log-level", "warning"])
        loopback.wait_port(self.port, self.web, timeout=60)
        wait_for(lambda: self.answers("/ledger/"), 120, "the app server's worker to load the app")
        self.worker = self.spawn([str(BIN / "gongzhi"), "rqworker", "default", "--with-scheduler",
                                  "--job-class", "django_tasks_rq.backend.Job"])

    def spawn(self, argv):
        log = open(Path(self.env["GONGZHI_VAR_DIR"]) / f"{Path(argv[0]).name}-{len(self.cleanup)}.log", "w")
        process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)

        def end():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown (TERM waits for keep-alives)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()

        self.cleanup.append(end)
        return process

    def answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def run_python(self, code: str, *args: str) -> str:
        done = subprocess.run([sys.executable, "-c", code, *args], env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def gongzhi(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "gongzhi"), *args], env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def request(self, method: str, path: str, *, body: dict | None = None, token: str | None = None,
                cookie: str | None = None) -> tuple[int, str, str | None]:
        """(status, text, the gz_primary cookie the answer set, if any)."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = cookie
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                status, text, set_cookies = response.status, response.read().decode(), response.headers.get_all(
                    "Set-Cookie") or []
        except urllib.error.HTTPError as error:
            status, text, set_cookies = error.code, error.read().decode(), error.headers.get_all("Set-Cookie") or []
        stamp = next((c.split(";")[0] for c in set_cookies if c.startswith("gz_primary=")), None)
        return status, text, stamp

    def file(self, text: str = "楼道灯坏了一个多星期，物业一直没修。", path: str = "/api/v1/demands/"):
        lon, lat = self.prepared["point"]
        return self.request("POST", path, token=self.prepared["token"],
                            body={"text": text, "longitude": lon, "latitude": lat, "contact_name": "王女士",
                                  "contact_phone": "13900000000", "channel": "api"})

    def destroy(self):
        for step in reversed(self.cleanup):
            try:
                step()
            except Exception:  # noqa: BLE001 - tear down the rest
                pass


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    from gongzhi.core import loopback

    if absent := loopback.missing((loopback.PGBOUNCER, loopback.REDIS)):
        _need(absent)
    built = Layout()
    try:
        built.start(tmp_path_factory.mktemp("scaleout"))  # what started is stopped, also when this fails
        yield built
    finally:
        built.destroy()


def checkpoint_size(text: str) -> int:
    return int(text.splitlines()[1])  # origin, size, root hash, blank line, signatures


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def test_the_writer_reads_their_write_while_the_replica_lags_and_no_write_reaches_it(layout):
    assert layout.file()[0] == 201  # a first demand: the log has a signed checkpoint
    wait_for(lambda: layout.replica.psql("SELECT pg_last_wal_replay_lsn() >= %s" % (
        "'" + layout.primary.psql("SELECT pg_current_wal_lsn()") + "'::pg_lsn")) == "t", 30, "the replica to catch up")
    before = checkpoint_size(layout.request("GET", "/ledger/checkpoint")[1])

    layout.replica.psql("SELECT pg_wal_replay_pause()")  # the replica now lags as far as the test wants
    try:
        status, answer, stamp = layout.file()
        assert status == 201, answer
        assert stamp is not None, "a request that wrote stamps its browser with gz_primary"
        written = checkpoint_size(layout.request("GET", "/ledger/checkpoint", cookie=stamp)[1])
        assert written > before, "the writer reads the primary: their demand is in the log they are shown"
        anonymous = checkpoint_size(layout.request("GET", "/ledger/checkpoint")[1])
        assert anonymous == before, "an anonymous reader is served by the paused replica"
        # A public page answered from the replica, and a page not listed for it (read from the primary).
        assert layout.request("GET", "/demands/public/")[0] == 200
        assert layout.request("GET", "/ledger/")[0] == 200
    finally:
        layout.replica.psql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: checkpoint_size(layout.request("GET", "/ledger/checkpoint")[1]) == written, 30,
             "the replica to replay the write")
    # A hot standby refuses any write ("cannot execute … in a read-only transaction"): none was tried.
    assert "read-only transaction" not in layout.replica.log.read_text(errors="replace")
    assert layout.replica.psql("SELECT pg_is_in_recovery()") == "t"
    # The replica did serve reads: transactions committed on it by the app's connections.
    served = layout.replica.psql("SELECT sum(xact_commit) FROM pg_stat_database WHERE datname = 'postgres'")
    assert int(served) > 0


def test_intake_and_pages_through_pgbouncer_in_transaction_mode(layout):
    pools = {row["database"]: row for row in layout.bouncer.show("POOLS")}
    assert {"gongzhi", "gongzhi_replica"} <= set(pools)
    assert pools["gongzhi"]["pool_mode"] == pools["gongzhi_replica"]["pool_mode"] == "transaction"
    keys = []
    results = []

    def submit(i):
        results.append(layout.file(f"路面有一个坑，骑车容易摔。第{i}处", path="/api/v1/demands/submissions"))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _, _ in results] == [202] * 24, results[:2]
    keys = [json.loads(text)["key"] for _, text, _ in results]
    # The intake worker files them, through PgBouncer as well (group commit, the day's counter row, the log).
    report = json.loads(layout.gongzhi("demands", "work", "--json"))
    assert report, report
    for key in keys[:3]:
        status, text, _ = layout.request("GET", f"/api/v1/demands/submissions/{key}", token=layout.prepared["token"])
        assert status == 200 and json.loads(text)["state"] == "filed", text
    filed = int(layout.primary.psql("SELECT count(*) FROM demands_demand"))
    assert filed >= 24
    for path in ("/", "/demands/public/", "/demands/report/", "/ledger/", "/open311/v2/services.json"):
        status, text, _ = layout.request("GET", path)
        assert status == 200, (path, text[:300])
    # .iterator() over many rows (the ledger's verification reads the whole log in chunks): no server-side
    # cursor, which transaction pooling would lose between transactions.
    layout.gongzhi("ledger", "verify", "--db", "--no-state")
    stats = {row["database"]: row for row in layout.bouncer.show("STATS")}
    assert stats["gongzhi"]["total_xact_count"] > 24
    assert "prepared statement" not in layout.bouncer.log().lower()


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_webhook_delivery_enqueued_by_the_app_is_run_by_the_rq_worker(layout):
    from gongzhi.demands.notifications import verify_signature

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        if not int(layout.primary.psql("SELECT count(*) FROM demands_demand")):
            assert layout.file()[0] == 201
        out = json.loads(layout.run_python(QUEUE_WEBHOOK, f"http://127.0.0.1:{receiver.server_port}/hook")
                         .strip().splitlines()[-1])
        assert out["backend"] == "RQBackend"
        [delivery] = out["deliveries"]
        wait_for(lambda: _Receiver.received, 30, "the RQ worker to post the webhook")
        headers, body = _Receiver.received[0]
        assert headers["X-Gongzhi-Event"] == "dispatch"
        assert verify_signature("s3cret-for-the-test", headers["X-Gongzhi-Timestamp"], body,
                                headers["X-Gongzhi-Signature"])
        wait_for(lambda: layout.primary.psql(
            f"SELECT delivered_at IS NOT NULL FROM demands_webhookdelivery WHERE id = {delivery}") == "t", 30,
            "the delivery recorded as delivered")
        # The job went through Redis: RQ kept its result there, under the task's id.
        import redis

        client = redis.Redis.from_url(layout.redis.url())
        assert any(key.startswith(b"rq:job:") for key in client.keys("rq:job:*"))
        assert layout.worker.poll() is None
    finally:
        receiver.shutdown()
        receiver.server_close()
