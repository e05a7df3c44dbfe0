"""A database of its own for tests that drive real `gongzhi` processes: a SQLite file, or a fresh database on
the PostgreSQL server that DATABASE_URL names (the suite's engine). Migrated by a subprocess; looked at
with a plain connection (no Django), so the test sees only what the processes committed."""

import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

GONGZHI = str(Path(sys.executable).parent / "gongzhi")
ROOT = Path(__file__).resolve().parents[3]


def on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


class Throwaway:
    def __init__(self, url: str, env: dict, sqlite_path: Path | None):
        self.url, self.env, self.sqlite_path = url, env, sqlite_path

    @contextmanager
    def connect(self, timeout: float = 0.5):
        if self.sqlite_path is not None:
            connection = sqlite3.connect(self.sqlite_path, timeout=timeout, isolation_level=None)
        else:
            import psycopg

            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(timeout)))
        try:
            yield connection
        finally:
            connection.close()

    def scalar(self, sql: str, *, default=None):
        """The first column of the first row; `default` when SQLite is busy for a moment or the table is not
        there yet (a probe while a process writes)."""
        try:
            with self.connect(timeout=0.2) as connection:
                return connection.execute(sql).fetchone()[0]
        except Exception:
            if default is None:
                raise
            return default

    def assert_write_lock_free(self, tables=("demands_supervisionorder", "core_event")) -> None:
        """A writer gets the lock at once: no process is left holding it (nor, on PostgreSQL, connected)."""
        with self.connect() as connection:
            if self.sqlite_path is not None:
                connection.execute("BEGIN IMMEDIATE")  # busy timeout 0.5 s: raises "database is locked"
                connection.execute("ROLLBACK")
                return
            others = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()").fetchone()[0]
            assert others == 0, f"{others} other connection(s) still open"
            with connection.transaction():
                connection.execute("SET LOCAL lock_timeout = '500ms'")
                connection.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")


@contextmanager
def throwaway_database(tmp_path: Path, prefix: str = "gongzhi_tmp", *, migrate: bool = True, **extra_env):
    server = os.environ.get("DATABASE_URL", "")
    name = None
    if on_postgresql():
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url, sqlite_path = urlunsplit(urlsplit(server)._replace(path=f"/{name}")), None
    else:
        sqlite_path = tmp_path / "db.sqlite3"
        url = f"sqlite:///{sqlite_path}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GONGZHI_LEDGER_")}
    env.update(DATABASE_URL=url, GONGZHI_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="gongzhi.settings",
               PYTHONPATH=str(ROOT), **extra_env)
    try:
        if migrate:
            result = subprocess.run([GONGZHI, "migrate", "-v", "0"], env=env, cwd=ROOT, capture_output=True,
                                    text=True, timeout=300)
            assert result.returncode == 0, result.stderr[-4000:]
        yield Throwaway(url, env, sqlite_path)
    finally:
        if name:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
