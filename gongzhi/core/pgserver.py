"""A PostgreSQL server of our own on loopback, from Debian's binaries: for the operations tests (a server
killed and restarted mid-burst, a streaming replica) and the scale-out benchmarks in bench/.

Not used by a running gongzhi: production's PostgreSQL is the distribution's own service (docs/deployment.md).

    server = PgServer.create(Path(tmp) / "primary")      # initdb, durable settings (fsync on)
    server.start()
    url = server.url()                                     # postgres://gongzhi@127.0.0.1:PORT/postgres
    replica = server.replica(Path(tmp) / "replica")      # pg_basebackup -R, started as a hot standby
    server.kill()                                          # like a crash: SIGQUIT, no checkpoint
    server.start()                                         # recovers from its WAL
    server.destroy()

As root (the CI machines) the cluster runs as the `postgres` user, in a folder under /tmp it can reach.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

OWNER = "postgres"


def bin_dir() -> Path | None:
    """The newest of Debian's PostgreSQL bin folders, or None when PostgreSQL is not installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def available() -> bool:
    return bin_dir() is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    if os.getuid() == 0:
        return ["runuser", "-u", OWNER, "--", *argv]
    return argv


def _ensure_owner() -> None:
    if os.getuid() == 0 and subprocess.run(["id", OWNER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--home", "/var/lib/postgresql", OWNER], check=True)


class PgServer:
    def __init__(self, directory: Path, port: int):
        self.directory = Path(directory)
        self.port = port
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.bin = bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian's postgresql package)")

    # -- creating ---------------------------------------------------------------------------------------

    @classmethod
    def _folder(cls, directory: Path | None) -> Path:
        _ensure_owner()
        if directory is None or os.getuid() == 0:
            # The owner must reach the folder: a checkout under /root is not reachable, /tmp is.
            directory = Path(tempfile.mkdtemp(prefix="gongzhi-pg-"))
        directory.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(directory, OWNER)
        return directory

    @classmethod
    def create(cls, directory: Path | None = None, *, port: int | None = None, durable: bool = True,
               settings: dict[str, str] | None = None) -> PgServer:
        """A new cluster (user `gongzhi`, trust on loopback, replication allowed). `durable` keeps fsync and
        synchronous commit on, so an acknowledged commit survives a kill; off, it is the test suite's fast
        throwaway. `settings` go into postgresql.conf."""
        server = cls(cls._folder(directory), port or free_port())
        subprocess.run(_as_owner([str(server.bin / "initdb"), "-D", str(server.data), "-U", "gongzhi",
                                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, capture_output=True)
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(server.port),
                "unix_socket_directories": f"'{server.directory}'", "max_connections": "200"}
        if not durable:
            conf |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        conf |= settings or {}
        server._append_conf(conf)
        return server

    def replica(self, directory: Path | None = None, *, port: int | None = None) -> PgServer:
        """A streaming hot standby of this (running) server: pg_basebackup with -R, then started."""
        standby = PgServer(self._folder(directory), port or free_port())
        subprocess.run(_as_owner([str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port),
                                  "-U", "gongzhi", "-D", str(standby.data), "-R", "-X", "stream"]),
                       check=True, capture_output=True)
        standby._append_conf({"port": str(standby.port), "unix_socket_directories": f"'{standby.directory}'",
                              "hot_standby": "on"})
        standby.start()
        return standby

    def _append_conf(self, conf: dict[str, str]) -> None:
        lines = "".join(f"{k} = {v}\n" for k, v in conf.items())
        subprocess.run(_as_owner(["sh", "-c", f"cat >> '{self.data}/postgresql.conf'"]), input=lines.encode(),
                       check=True)

    # -- running ----------------------------------------------------------------------------------------

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), *args]),
                              capture_output=True, check=check)

    def start(self, timeout: int = 60) -> None:
        self._ctl("-l", str(self.log), "-w", "-t", str(timeout), "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def kill(self) -> None:
        """Ends the server as a crash does: no shutdown checkpoint; the next start replays the WAL."""
        self.stop("immediate")

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        return self._ctl("status", check=False).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgres://gongzhi@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs SQL, returns the unaligned output (no headers)."""
        done = subprocess.run([str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-h", "127.0.0.1", "-p", str(self.port), "-U", "gongzhi", "-d", database,
                               "-c", sql], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def wait_ready(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                self.psql("select 1")
                return
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        raise TimeoutError(f"PostgreSQL on port {self.port} not ready after {timeout} s")

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
