"""gunicorn's settings for gongzhi: `gunicorn gongzhi.wsgi --config python:gongzhi.ops.gunicorn …` (the
command-line options given after it, such as --workers and --bind, still apply).

With several worker processes each counts its own requests. prometheus_client's multiprocess mode keeps those
counts in files in one folder, so /metrics, whichever process answers it, adds up all of them: the folder is
named here before any worker imports prometheus_client, emptied when the server starts (counts are since the
server started, as Prometheus expects of a counter after a restart), and a worker that exits is marked dead.

The folder: $PROMETHEUS_MULTIPROC_DIR if set, else metrics/ under GONGZHI_VAR_DIR (default <checkout>/var, as
gongzhi/settings.py has it). It must not be shared by two servers' processes."""

import os
import shutil
from pathlib import Path


def metrics_folder() -> Path:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    var = Path(os.environ.get("GONGZHI_VAR_DIR", Path(__file__).resolve().parent.parent.parent / "var"))
    return var / "metrics"


# Set while gunicorn reads its configuration: before it loads the application (also with --preload) or forks.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_folder())


def on_starting(server):
    folder = metrics_folder()
    if folder.is_dir():
        for entry in folder.iterdir():  # the folder itself may be a mount point or owned by someone else
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
