"""PgBouncer, Redis and nginx of our own on loopback, from Debian's binaries, each with its own config in a temp
folder and a free port: for the scale-out tests (tests/test_scaleout.py) and bench/bench_scaleout.py, beside
core/pgserver.py's PostgreSQL. Never the system's own instances (apt may have started those on :6379, :80).

Not used by a running gongzhi: production runs the distribution's services (deploy/, docs/deployment.md).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .pgserver import OWNER, PgServer, _as_owner, _ensure_owner, free_port

PGBOUNCER = "/usr/sbin/pgbouncer"
REDIS = "/usr/bin/redis-server"
NGINX = "/usr/sbin/nginx"


def missing(binaries=(PGBOUNCER, REDIS, NGINX)) -> list[str]:
    """Those of the Debian binaries (and PostgreSQL) the scale-out layout needs that are not installed."""
    from .pgserver import available

    absent = [path for path in binaries if not os.access(path, os.X_OK)]
    return absent + ([] if available() else ["postgresql"])


def wait_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited with {process.returncode}") from None
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PgBouncer:
    """PgBouncer in transaction pooling before PostgreSQL servers: `databases` maps the name a client asks for
    to a server (and its database). Runs as the postgres user (PgBouncer refuses root)."""

    def __init__(self, databases: dict[str, tuple[PgServer, str]], *, pool_size: int = 20,
                 pool_mode: str = "transaction"):
        _ensure_owner()
        self.directory = Path(tempfile.mkdtemp(prefix="gongzhi-pgbouncer-"))
        self.port = free_port()
        lines = ["[databases]"]
        for name, (server, dbname) in databases.items():
            lines.append(f"{name} = host=127.0.0.1 port={server.port} dbname={dbname} user=gongzhi")
        lines += ["", "[pgbouncer]", "listen_addr = 127.0.0.1", f"listen_port = {self.port}",
                  f"unix_socket_dir = {self.directory}", "auth_type = trust",
                  f"auth_file = {self.directory / 'users.txt'}", f"pool_mode = {pool_mode}",
                  f"default_pool_size = {pool_size}", "max_client_conn = 2000",
                  "ignore_startup_parameters = extra_float_digits", "admin_users = gongzhi",
                  f"logfile = {self.directory / 'pgbouncer.log'}", ""]
        (self.directory / "pgbouncer.ini").write_text("\n".join(lines))
        (self.directory / "users.txt").write_text('"gongzhi" ""\n')
        if os.getuid() == 0:
            for path in (self.directory, *self.directory.iterdir()):
                shutil.chown(path, OWNER)
        self.process: subprocess.Popen | None = None

    def start(self) -> PgBouncer:
        self.process = subprocess.Popen(_as_owner([PGBOUNCER, str(self.directory / "pgbouncer.ini")]),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.process)
        return self

    def url(self, database: str) -> str:
        return f"postgres://gongzhi@127.0.0.1:{self.port}/{database}"

    def show(self, what: str) -> list[dict]:
        """SHOW POOLS / STATS / CONFIG on the admin console, as dicts."""
        import psycopg

        with psycopg.connect(self.url("pgbouncer"), autocommit=True, prepare_threshold=None) as admin:
            cursor = admin.execute(f"SHOW {what}")
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def destroy(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


class Redis:
    """redis-server without persistence on a free port."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="gongzhi-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Redis:
        self.process = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.directory),
                                         "--logfile", str(self.directory / "redis.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.process)
        return self

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def destroy(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


class Nginx:
    """nginx as the one address before several app servers (an upstream, least connections, keep-alive)."""

    def __init__(self, upstream_ports: list[int], *, workers: int = 1):
        self.directory = Path(tempfile.mkdtemp(prefix="gongzhi-nginx-"))
        self.directory.chmod(0o755)
        self.port = free_port()
        # max_fails=0: a slow answer never takes an app server out of the rotation (on a busy machine a
        # timeout would otherwise leave none, and nginx answers 502 at once)
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in upstream_ports)
        d = self.directory
        (d / "nginx.conf").write_text(f"""
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream gongzhi {{
        least_conn;
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://gongzhi;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 120s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
""")
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        self.process = subprocess.Popen([NGINX, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
                                         "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.process)
        return self

    def destroy(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)
