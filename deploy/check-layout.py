#!/usr/bin/env python3
"""Starts the whole production layout on loopback from the files in deploy/ and checks it end to end.

    .venv/bin/python deploy/check-layout.py          # about a minute; exit 0 when every check passed
    .venv/bin/python deploy/check-layout.py --keep   # leave it running until Enter (to look around)

What runs is taken from the files an installation uses, so they are what is tested:
  - a PostgreSQL server of its own (gongzhi/core/pgserver.py) standing in for Debian's;
  - the environment from deploy/gongzhi.env, with the database, the var folder and a metrics token of its own;
  - the install steps of docs/deployment.md: migrate, collectstatic, ledger keygen, createsuperuser,
    org import-geojson (docs/examples/regions.geojson), token create;
  - every process from the ExecStart line of its unit in deploy/systemd/ (${VARIABLES} expanded from the
    environment file, as systemd does), stopped with the unit's KillSignal within its TimeoutStopSec;
  - nginx (Debian's /usr/sbin/nginx) with deploy/nginx/gongzhi.conf and a self-signed certificate.
Paths and ports are substituted (/srv/gongzhi/app -> this checkout, /var/lib/gongzhi -> a temporary folder,
ports 80, 443 and 8000 -> free loopback ports); each substitution must match, so the files cannot drift from
this script unnoticed.

Checked through nginx over HTTPS: a page answers 200; HTTP redirects to HTTPS; a static file is served by nginx
itself (the file's bytes, nginx's cache header, none of Django's headers); /health/ready/ is 200 once the worker
has beaten; a fast-path submission is accepted (202), filed by the worker and sequenced into the ledger by the
sequencer; `gongzhi ledger verify --db` passes; /metrics is refused without the token and shows the request
counters and the queue gauges with it (and straight from loopback to gunicorn). Then every process is stopped
and none may be left.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = Path("/usr/sbin/nginx")
SITE = "gongzhi.example.gov.cn"
UNITS = ("gongzhi-web", "gongzhi-worker", "gongzhi-sweeper", "gongzhi-sequencer", "gongzhi-tasks")
POINT_IN_HD01 = (120.102, 30.202)  # inside grid HD-01 of docs/examples/regions.geojson
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text: str, replacements: list[tuple[str, str]], what: str) -> str:
    """Each (regex, replacement) must match at least once."""
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement.replace("\\", r"\\"), text)
        if count == 0:
            raise SystemExit(f"check-layout: {what} no longer contains {pattern!r}: update this script with it")
    return text


def read_env_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile: KEY=value lines, # comments."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def read_unit(path: Path) -> dict[str, str]:
    """The [Service] keys of a unit file (continuation lines joined)."""
    keys, section, pending = {}, None, ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


def expand(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart as systemd runs it: ${NAME} replaced by its value, split as words."""
    def value(match):
        if match.group(1) not in env:
            raise SystemExit(f"check-layout: ExecStart names ${{{match.group(1)}}}, not in the environment file")
        return env[match.group(1)]
    return shlex.split(re.sub(r"\$\{(\w+)\}", value, command))


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for SITE, as certbot's fullchain.pem and privkey.pem would be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SITE)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SITE)]), critical=False)
            .sign(key, hashes.SHA256()))
    chain, private = directory / "fullchain.pem", directory / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    return chain, private


class Layout:
    def __init__(self, keep: bool = False):
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="gongzhi-layout-"))
        self.tmp.chmod(0o755)  # nginx's workers (www-data) read the static files below it
        self.var = self.tmp / "var"
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.app_port, self.http_port, self.https_port = free_port(), free_port(), free_port()
        self.processes: dict[str, tuple[subprocess.Popen, dict]] = {}
        self.pg = None
        self.results: list[tuple[bool, str]] = []
        self.began = time.monotonic()
        self.env: dict[str, str] = {}
        self.token = ""

    # --- reporting -------------------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.began:5.1f} s] {text}", flush=True)

    def check(self, ok: bool, text: str) -> bool:
        self.results.append((ok, text))
        self.say(f"{'ok  ' if ok else 'FAIL'} {text}")
        return ok

    # --- setting up ------------------------------------------------------------------------------------------

    def paths(self) -> list[tuple[str, str]]:
        return [(re.escape("/srv/gongzhi/app/.venv/bin"), str(BIN)), (re.escape("/srv/gongzhi/app"), str(ROOT)),
                (re.escape("/var/lib/gongzhi"), str(self.var))]

    def environment(self) -> None:
        from gongzhi.core.pgserver import PgServer

        self.pg = PgServer.create(self.tmp / "pg", durable=False)
        self.pg.start()
        self.pg.psql("create database gongzhi")
        self.say(f"PostgreSQL {self.pg.bin.parent.name} in {self.pg.directory} on port {self.pg.port}")
        values = read_env_file(DEPLOY / "gongzhi.env")
        for key in ("DATABASE_URL", "GONGZHI_VAR_DIR", "GONGZHI_LEDGER_SEQUENCER", "GONGZHI_WEB_WORKERS",
                    "GONGZHI_METRICS_TOKEN", "GONGZHI_PROXY_COUNT", "GONGZHI_HTTPS"):
            if key not in values:
                raise SystemExit(f"check-layout: deploy/gongzhi.env no longer sets {key}")
        values |= {
            "DATABASE_URL": self.pg.url("gongzhi"),
            "GONGZHI_VAR_DIR": str(self.var),
            "GONGZHI_METRICS_TOKEN": secrets.token_hex(16),
            "GONGZHI_WEB_WORKERS": "2",  # the example's 3 would only slow this check on a 2-core machine
        }
        # A clean environment, as systemd gives a unit: nothing of the caller's (a test run's database, above all).
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(self.tmp),
                    "PYTHONUNBUFFERED": "1", **values}
        (self.tmp / "gongzhi.env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))

    def run(self, *args: str, extra: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / "gongzhi"), *args], cwd=ROOT, env={**self.env, **(extra or {})},
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"gongzhi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def commands(self, *commands: list[str], extra: dict | None = None) -> str:
        """Management commands of docs/deployment.md's install steps, run in one `gongzhi shell` (each as
        `gongzhi <command>` runs it, through call_command) so the machine starts Django once, not per command;
        what they print."""
        code = "from django.core.management import call_command\n" + "".join(
            f"call_command(*{command!r})\n" for command in commands)
        return self.run("shell", "-c", code, extra=extra).stdout

    def install_steps(self) -> None:
        """Independent steps side by side (two cores): migrate and the ledger's key; the static files; nginx."""
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            steps = [pool.submit(self.commands, ["migrate", "--noinput", "-v", "0"], ["ledger", "keygen"]),
                     pool.submit(self.run, "collectstatic", "--noinput", "-v", "0"),
                     pool.submit(self.start_nginx)]
            for step in steps:
                step.result()
        self.say("migrated, ledger key made, static files collected, nginx started")

    def first_admin_and_places(self) -> None:
        printed = self.commands(
            ["createsuperuser", "--noinput", "--username", "admin", "--email", "it@example.gov.cn"],
            ["org", "import-geojson", str(ROOT / "docs/examples/regions.geojson")],
            ["token", "create", "admin", "--name", "check-layout"],
            extra={"DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)})
        self.token = next(line for line in printed.splitlines() if line.startswith("gz_"))
        self.say("first administrator, the example district's places and an API token made")

    def start_units(self) -> None:
        for name in UNITS:
            unit = read_unit(DEPLOY / "systemd" / f"{name}.service")
            if unit.get("EnvironmentFile") != "/etc/gongzhi/gongzhi.env":
                raise SystemExit(f"check-layout: {name}.service reads {unit.get('EnvironmentFile')!r}")
            command = substitute(unit["ExecStart"], self.paths()[:1] + (
                [(re.escape("127.0.0.1:8000"), f"127.0.0.1:{self.app_port}")] if name == "gongzhi-web" else []),
                f"{name}.service")
            argv = expand(command, self.env)
            cwd = substitute(unit["WorkingDirectory"], self.paths()[1:2], f"{name}.service WorkingDirectory")
            log = open(self.logs / f"{name}.log", "wb")
            process = subprocess.Popen(argv, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            self.processes[name] = (process, unit)
        self.say(f"started {', '.join(UNITS)} from their units")

    def start_nginx(self) -> None:
        if not NGINX.exists():
            raise SystemExit("check-layout: nginx is not installed (Debian's nginx-light)")
        certs = self.tmp / "tls"
        certs.mkdir()
        chain, private = self_signed(certs)
        nginx_logs = self.tmp / "nginx-logs"
        nginx_logs.mkdir()
        site = substitute((DEPLOY / "nginx" / "gongzhi.conf").read_text(), [
            (r"listen \[::\]:\d+[^;]*;", ""),
            (r"listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            (r"listen 443 ssl", f"listen 127.0.0.1:{self.https_port} ssl"),
            (re.escape("127.0.0.1:8000"), f"127.0.0.1:{self.app_port}"),
            (re.escape("/var/lib/gongzhi/static/"), f"{self.var}/static/"),
            (r"/etc/letsencrypt/live/[^/;]+/fullchain\.pem", str(chain)),
            (r"/etc/letsencrypt/live/[^/;]+/privkey\.pem", str(private)),
            (re.escape("/var/log/nginx/"), f"{nginx_logs}/"),
        ], "deploy/nginx/gongzhi.conf")
        (self.tmp / "site.conf").write_text(site)
        prefix = self.tmp / "nginx"
        prefix.mkdir()
        (self.tmp / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {nginx_logs}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {nginx_logs}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {self.tmp}/site.conf;
}}
""")
        log = open(self.logs / "nginx.log", "wb")
        process = subprocess.Popen([str(NGINX), "-p", str(prefix), "-c", str(self.tmp / "nginx.conf")],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes["nginx"] = (process, {"KillSignal": "SIGQUIT", "TimeoutStopSec": "10"})

    # --- talking to it -------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
                tls: bool = True, port: int | None = None, host: str = SITE):
        """(status, headers, body) through nginx (HTTPS by default) or, with port, straight to gunicorn."""
        if port is not None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elif tls:
            context = ssl.create_default_context(cafile=str(self.tmp / "tls" / "fullchain.pem"))
            context.check_hostname = False  # the name is checked by nginx's server_name; SNI needs no DNS here
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=30, context=context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def wait_for(self, what: str, probe, timeout: float):
        """probe() until it returns something true; that value, or None after `timeout` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                found = probe()
            except (OSError, http.client.HTTPException):
                found = None
            if found:
                return found
            for name, (process, _) in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}) while waiting for {what}")
            time.sleep(0.25)
        return None

    # --- the checks ----------------------------------------------------------------------------------------

    def checks(self) -> None:
        up = self.wait_for("the web server", lambda: self.request("GET", "/health/live/")[0] == 200, 90)
        if not self.check(bool(up), "/health/live/ answers through nginx (gunicorn is up)"):
            return
        status, headers, body = self.request("GET", "/")
        self.check(status == 200 and b"<html" in body.lower(), f"the home page answers {status} over HTTPS")
        self.check("content-security-policy" in headers and "strict-transport-security" in headers,
                   "pages carry Django's security headers (CSP, HSTS: X-Forwarded-Proto reached Django)")
        status, headers, _ = self.request("GET", "/demands/report/", tls=False)
        self.check(status == 301 and headers.get("location") == f"https://{SITE}/demands/report/",
                   f"plain HTTP redirects to HTTPS ({status} {headers.get('location')})")

        static = sorted((self.var / "static" / "web").glob("*.css"))
        if self.check(bool(static), "collectstatic filled the static folder"):
            name = static[0].relative_to(self.var / "static").as_posix()
            status, headers, body = self.request("GET", f"/static/{name}")
            self.check(status == 200 and body == static[0].read_bytes()
                       and headers.get("cache-control") == "public, max-age=3600"
                       and "content-security-policy" not in headers,
                       f"/static/{name} is served by nginx from the collected files ({status})")

        def ready():
            status, _, body = self.request("GET", "/health/ready/")
            return (status, json.loads(body)) if status == 200 else None
        found = self.wait_for("readiness", ready, 60)
        if not found:
            status, _, body = self.request("GET", "/health/ready/")
            found = (status, json.loads(body))
        status, answer = found
        self.check(status == 200 and answer["status"] == "ready" and
                   [c["name"] for c in answer["checks"]] == ["database", "worker", "ledger_sequencer", "disk"],
                   f"/health/ready/ answers {status}: {answer.get('reason') or 'every check ok'}")
        worker = next((c["detail"] for c in answer["checks"] if c["name"] == "worker"), "")
        self.check("; sweeper " in worker, f"the worker and the sweeper have both beaten ({worker})")

        submission = json.dumps({"text": "小区门口垃圾堆了三天没人清运", "longitude": POINT_IN_HD01[0],
                                 "latitude": POINT_IN_HD01[1], "contact_name": "王女士",
                                 "contact_phone": "13900001111"}, ensure_ascii=False).encode()
        bearer = {"Authorization": f"Bearer {self.token}"}
        status, _, body = self.request("POST", "/api/v1/demands/submissions", body=submission,
                                       headers={**bearer, "Content-Type": "application/json"})
        if not self.check(status == 202, f"a fast-path submission is accepted ({status})"):
            self.say(body.decode(errors="replace")[:500])
            return
        key = json.loads(body)["key"]

        def filed():
            status, _, body = self.request("GET", f"/api/v1/demands/submissions/{key}", headers=bearer)
            answer = json.loads(body) if status == 200 else {}
            return answer.get("number") if answer.get("state") == "filed" else None
        number = self.wait_for("the worker to file it", filed, 30)
        self.check(bool(number), f"the worker filed it as demand {number}")

        def sequenced():
            return self.pg.psql(
                "select count(*) from core_event e join ledger_entry l on l.event_id = e.id "
                "where e.subject_type = 'demands.demand'", "gongzhi") != "0" \
                and self.pg.psql("select count(*) from ledger_pending", "gongzhi") == "0"
        self.check(bool(self.wait_for("the sequencer", sequenced, 30)),
                   "the sequencer put the filing in the ledger and nothing waits in the outbox")
        verify = subprocess.run([str(BIN / "gongzhi"), "ledger", "verify", "--db"], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        said = [line for line in verify.stdout.splitlines() if line.startswith("checked")] or [verify.stdout[-300:]]
        self.check(verify.returncode == 0, f"`gongzhi ledger verify --db` passes ({said[0].strip()})")

        for _ in range(6):
            self.request("GET", "/health/live/")
        status, _, _ = self.request("GET", "/metrics")
        self.check(status == 404, f"/metrics through nginx without the token is refused ({status})")
        status, _, body = self.request("GET", "/metrics",
                                       headers={"Authorization": f"Bearer {self.env['GONGZHI_METRICS_TOKEN']}"})
        text = body.decode()
        samples = dict(re.findall(r"^(\S+) (\S+)$", text, re.M))
        live = sum(float(v) for k, v in samples.items()
                   if k.startswith("django_http_requests_total_by_view_transport_method_total{")
                   and 'view="ops:live"' in k)
        self.check(status == 200 and live >= 7,
                   f"/metrics with the token counts the requests of every web process (ops:live: {live:g})")
        wanted = {'gongzhi_queue_depth{queue="submissions"}': "0.0",
                  'gongzhi_queue_depth{queue="ledger_outbox"}': "0.0",
                  'gongzhi_queue_depth{queue="tasks"}': None,
                  'gongzhi_fastpath_responses_total{status="202"}': "1.0",
                  'gongzhi_demands_overdue{step="any"}': "0.0",
                  "gongzhi_worker_heartbeat_age_seconds": None,
                  "gongzhi_ledger_oldest_pending_seconds": "0.0"}
        wrong = {k: samples.get(k) for k, v in wanted.items() if k not in samples or (v and samples[k] != v)}
        self.check(not wrong, f"/metrics shows the queue gauges and the fast path's counter{f': {wrong}' if wrong else ''}")
        status, _, body = self.request("GET", "/metrics", port=self.app_port, host="127.0.0.1")
        self.check(status == 200 and b"gongzhi_queue_depth" in body,
                   f"/metrics straight to gunicorn from loopback answers ({status})")
        files = list((self.var / "metrics").glob("*.db"))
        self.check(bool(files), f"the web processes keep their counts in {len(files)} multiprocess files")

    # --- stopping ------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """As systemd stops each unit: its KillSignal to the main process, SIGKILL to the rest after
        TimeoutStopSec (KillMode=mixed); then PostgreSQL. Every process group must be empty."""
        began = time.monotonic()
        order = [n for n in ("nginx", *UNITS) if n in self.processes]
        for name in order:
            process, unit = self.processes[name]
            if process.poll() is None:
                os.kill(process.pid, getattr(signal, unit.get("KillSignal", "SIGTERM")))
        clean = True
        for name in order:
            process, unit = self.processes[name]
            limit = float(unit.get("TimeoutStopSec", "90"))
            try:
                code = process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                clean = False
                os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
                self.check(False, f"{name} did not stop within {limit:g} s: killed")
                continue
            self.wait_for_group(process.pid)
            if name != "nginx" and code != 0:
                clean = False
                self.check(False, f"{name} exited {code} on {unit.get('KillSignal', 'SIGTERM')}")
        left = [name for name in order if self.group_alive(self.processes[name][0].pid)]
        for name in left:
            os.killpg(self.processes[name][0].pid, signal.SIGKILL)
        if self.processes:
            self.check(clean and not left, f"every process stopped on its unit's signal in "
                                           f"{time.monotonic() - began:.1f} s, none left{f' (left: {left})' if left else ''}")
        if self.pg is not None:
            self.pg.destroy()
            self.pg = None

    @staticmethod
    def group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def wait_for_group(self, pgid: int, timeout: float = 5) -> None:
        end = time.monotonic() + timeout
        while self.group_alive(pgid) and time.monotonic() < end:
            time.sleep(0.05)

    def show_logs(self) -> None:
        for log in sorted(self.logs.glob("*.log")) + sorted((self.tmp / "nginx-logs").glob("error.log")):
            text = log.read_text(errors="replace").strip()
            if text:
                print(f"--- {log.name} (last lines) ---\n" + "\n".join(text.splitlines()[-25:]), flush=True)

    def main(self) -> int:
        self.say(f"folder {self.tmp}; gunicorn on 127.0.0.1:{self.app_port}, nginx on "
                 f"{self.http_port} (http) and {self.https_port} (https)")
        failed = False
        try:
            self.environment()
            self.install_steps()
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                admin = pool.submit(self.first_admin_and_places)
                self.start_units()  # the processes need only the migrated database
                admin.result()
            self.checks()
            if self.keep:
                input(f"running: https://127.0.0.1:{self.https_port}/ (Host {SITE}); Enter stops it ")
        except (Exception, SystemExit) as error:  # noqa: BLE001 - reported as a failed check, then everything is stopped
            self.check(False, f"{type(error).__name__}: {error}")
        finally:
            self.stop()
            failed = not self.results or not all(ok for ok, _ in self.results)
            if failed:
                self.show_logs()
        passed = sum(ok for ok, _ in self.results)
        self.say(f"{passed} passed, {len(self.results) - passed} failed")
        if not failed:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the layout running until Enter")
    sys.exit(Layout(keep=parser.parse_args().keep).main())
