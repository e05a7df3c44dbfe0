"""Shared by the backup and restore tests (core/tests/test_backup.py, ledger/tests/test_restore_gap.py): a migrated
throwaway database with a var/ of its own, driven only through `gongzhi` processes, as an office would."""

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from gongzhi.core import backup
from gongzhi.core.tests.throwaway import GONGZHI, ROOT, on_postgresql, throwaway_database

# Records N events (each with a phone number the log may only commit to) and one real JPEG photo under MEDIA_ROOT;
# with "sequence", the sequencer then signs them (and so publishes them).
WRITE = """
import sys, django
django.setup()
from pathlib import Path
from django.conf import settings
from django.db import transaction
from PIL import Image
from gongzhi.core import events
from gongzhi.ledger import services
count, tag = int(sys.argv[1]), sys.argv[2]
with transaction.atomic():
    for i in range(count):
        events.record("test.step", f"{tag}-{i}", step=i, private={"phone": "1380000%04d" % i})
photo = Path(settings.MEDIA_ROOT) / "photos" / f"{tag}.jpg"
photo.parent.mkdir(parents=True, exist_ok=True)
Image.new("RGB", (64, 48), (200, 30 + len(tag), 60)).save(photo, "JPEG")
if "sequence" in sys.argv[3:]:
    services.sequence_pending()
"""


def require_tools() -> None:
    """On PostgreSQL the dump and restore need Debian's client binaries; under CI they must be there."""
    if not on_postgresql():
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump")) or ([Path(p)] if (p := shutil.which("pg_dump")) else [])
    if not found:
        if os.environ.get("CI") in ("1", "true"):
            pytest.fail("pg_dump is required under CI (Debian's postgresql-client)")
        pytest.skip("pg_dump is not installed (Debian's postgresql-client)")


class Installation:
    def __init__(self, database, folder: Path, var: Path):
        self.database, self.folder, self.var = database, folder, var
        self.env = database.env

    def run(self, *argv, expect: int | None = 0, env: dict | None = None, stdin: str | None = None):
        result = subprocess.run(list(argv), env={**self.env, **(env or {})}, cwd=ROOT, capture_output=True, text=True,
                                timeout=300, input=stdin)
        if expect is not None:
            assert result.returncode == expect, (argv, result.returncode, result.stdout[-3000:], result.stderr[-3000:])
        return result

    def gongzhi(self, *argv, **kwargs):
        return self.run(GONGZHI, *argv, **kwargs)

    def write(self, count: int, tag: str, *flags: str):
        return self.run(sys.executable, "-c", WRITE, str(count), tag, *flags)

    def scalar(self, sql: str):
        return self.database.scalar(sql)

    def photos(self) -> set[str]:
        folder = self.var / "media" / "photos"
        return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@contextmanager
def installation(tmp_path: Path, prefix: str):
    require_tools()
    with throwaway_database(tmp_path, prefix, GONGZHI_LEDGER_SEQUENCER="loop",
                            GONGZHI_BACKUP_KEY=backup.generate_key()) as database:
        # settings.py gives each xdist worker a folder of its own under GONGZHI_VAR_DIR; the processes inherit it
        var = tmp_path / os.environ["PYTEST_XDIST_WORKER"] if os.environ.get("PYTEST_XDIST_WORKER") else tmp_path
        yield Installation(database, tmp_path, var)
