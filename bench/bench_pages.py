"""Public pages over real HTTP against the demo district (issue #16: "the ledger's public page loads in ≤ 300 ms").

Builds the demo in a throwaway SQLite var dir (`gongzhi migrate`, `gongzhi demo`), runs gunicorn as `make demo`
does (2 workers × 4 threads), and times GET of each page, one request at a time, after a warm-up: median and
95th percentile in milliseconds, and the page's size.

    .venv/bin/python bench/bench_pages.py [--requests 50]
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PAGES = ["/", "/ledger/", "/ledger/receipt/", "/demands/report/", "/demands/track/", "/demands/public/",
         "/calendar/", "/manifest.webmanifest", "/sw.js"]
GOAL_MS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "GONGZHI_VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/db.sqlite3",
               "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
        started = time.monotonic()
        for argv in (["migrate", "-v", "0"], ["demo"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run([str(BIN / "gongzhi"), *argv], env=env, cwd=ROOT, check=True, capture_output=True)
        print(f"demo built in {time.monotonic() - started:.0f} s")
        port = free_port()
        server = subprocess.Popen([str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                                   "2", "--threads", "4", "--log-level", "warning"], env=env, cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            print(f"{'page':28} {'median ms':>10} {'p95 ms':>8} {'KB':>6}")
            for page in PAGES:
                for _ in range(5):  # warm-up: both workers, their caches
                    urllib.request.urlopen(base + page, timeout=30).read()
                times, size = [], 0
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    body = urllib.request.urlopen(base + page, timeout=30).read()
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(body)
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                flag = "" if p95 <= GOAL_MS else "  over the goal"
                print(f"{page:28} {statistics.median(times):10.1f} {p95:8.1f} {size / 1024:6.1f}{flag}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
