"""The case file (案卷) of the demo's complete case over real HTTP (issue #18: "the case file of the demo's complete
case loads in ≤ 300 ms p95").

Builds the demo in a throwaway SQLite var dir (`gongzhi migrate`, `gongzhi demo`), or reads an existing one
(`--var DIR`, a var dir with the demo built, e.g. the one `make demo` uses), serves it with gunicorn as `make demo`
does (2 workers × 4 threads), and times GET of the case list and of the complete case's file as the public (not
signed in), one request at a time after a warm-up: median and 95th percentile in milliseconds, and the page's size.
Then once "verify the whole case" (rate-limited like the ledger's receipt checks, so timed once, not 50 times).

    .venv/bin/python bench/bench_case.py [--requests 50] [--var DIR]
"""

import argparse
import http.cookiejar
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL_MS = 300
FIND_CASE = ("from gongzhi.cases.demo import demo_cases; c = demo_cases()['complete']; "
             "print(c.pk if c else '')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(opener, url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    body = opener.open(url, timeout=60).read()
    return (time.perf_counter() - t0) * 1000, len(body)


def measure(opener, base: str, page: str, requests: int, label: str) -> float:
    for _ in range(5):  # warm-up: both workers, their caches
        opener.open(base + page, timeout=60).read()
    times, size = [], 0
    for _ in range(requests):
        ms, size = timed(opener, base + page)
        times.append(ms)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    flag = "" if p95 <= GOAL_MS else "  over the goal"
    print(f"{label:40} {statistics.median(times):10.1f} {p95:8.1f} {size / 1024:6.1f}{flag}")
    return p95


def verify(base: str, case: str) -> tuple[float, int]:
    """POST "verify the whole case" as a browser does: the page's CSRF token and cookie, then the form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + f"/cases/{case}/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    request = urllib.request.Request(base + f"/cases/{case}/verify/",
                                     data=urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
                                     headers={"Referer": base + f"/cases/{case}/"})
    t0 = time.perf_counter()
    body = opener.open(request, timeout=60).read()
    return (time.perf_counter() - t0) * 1000, len(body)


def serve(env: dict, requests: int) -> None:
    found = subprocess.run([str(BIN / "gongzhi"), "shell", "-c", FIND_CASE], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()
    if not found or not found[-1]:
        raise SystemExit("the demo has no complete case: build it with `gongzhi demo`")
    case = found[-1]
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
        public = urllib.request.build_opener()
        print(f"{'page (the public, not signed in)':40} {'median ms':>10} {'p95 ms':>8} {'KB':>6}")
        measure(public, base, "/cases/", requests, "/cases/ (the list)")
        measure(public, base, f"/cases/{case}/", requests, f"/cases/{case}/ (the complete case's file)")
        ms, size = verify(base, case)
        print(f"{'verify the whole case (once)':40} {ms:10.1f} {'':>8} {size / 1024:6.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--var", help="a var dir with the demo built (default: build one in a temporary dir)")
    args = parser.parse_args()
    if args.var:
        var = Path(args.var).resolve()
        env = {**os.environ, "GONGZHI_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var}/db.sqlite3",
               "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
        subprocess.run([str(BIN / "gongzhi"), "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        serve(env, args.requests)
    else:
        with tempfile.TemporaryDirectory() as var:
            env = {**os.environ, "GONGZHI_VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/db.sqlite3",
                   "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
            started = time.monotonic()
            for argv in (["migrate", "-v", "0"], ["demo"], ["collectstatic", "--noinput", "-v", "0"]):
                subprocess.run([str(BIN / "gongzhi"), *argv], env=env, cwd=ROOT, check=True, capture_output=True)
            print(f"demo built in {time.monotonic() - started:.0f} s")
            serve(env, args.requests)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
