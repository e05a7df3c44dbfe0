"""Public and residents' pages over real HTTP against the demo district (issue #16: "every page of the public
and resident side answers in ≤ 300 ms p95 on the demo data").

Builds the demo in a throwaway SQLite var dir (`gongzhi migrate`, `gongzhi demo`), runs gunicorn as `make demo`
does (2 workers × 4 threads), and times GET of each page, one request at a time, after a warm-up: median and
95th percentile in milliseconds, and the page's size. The resident's pages are timed signed in as the demo's
resident (`resident`, through the sign-in form, as a browser does).

    .venv/bin/python bench/bench_pages.py [--requests 50]
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
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PAGES = ["/", "/ledger/", "/ledger/receipt/", "/demands/report/", "/demands/track/", "/demands/public/",
         "/demands/public/map.json", "/demands/nearby/?longitude=116.2&latitude=39.9", "/accounts/login/",
         "/accounts/sign-up/", "/accounts/password/", "/manifest.webmanifest", "/sw.js"]
RESIDENT_PAGES = ["/", "/demands/new/", "/demands/mine/", "/demands/messages/", "/org/my-household/",
                  "/demands/public/"]
RESIDENT = ("resident", "gongzhi-demo-resident")
GOAL_MS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(opener, base: str, page: str, requests: int, label: str = "") -> None:
    try:
        for _ in range(5):  # warm-up: both workers, their caches
            opener.open(base + page, timeout=30).read()
    except urllib.error.HTTPError as refused:
        print(f"{label or page:48} answers {refused.code}")
        return
    times, size = [], 0
    for _ in range(requests):
        t0 = time.perf_counter()
        body = opener.open(base + page, timeout=30).read()
        times.append((time.perf_counter() - t0) * 1000)
        size = len(body)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    flag = "" if p95 <= GOAL_MS else "  over the goal"
    print(f"{label or page:48} {statistics.median(times):10.1f} {p95:8.1f} {size / 1024:6.1f}{flag}")


def signed_in(base: str, username: str, password: str):
    """An opener with the session cookie of `username`, signed in through the form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
    body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token,
                                   "next": "/"}).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=body, headers={"Referer": base + "/accounts/login/"})
    opener.open(request, timeout=30).read()
    if not any(cookie.name == "sessionid" for cookie in jar):
        raise SystemExit(f"could not sign in as {username}")
    return opener


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
            print(f"{'page':48} {'median ms':>10} {'p95 ms':>8} {'KB':>6}")
            anonymous = urllib.request.build_opener()
            for page in PAGES:
                measure(anonymous, base, page, args.requests)
            resident = signed_in(base, *RESIDENT)
            mine = resident.open(base + "/demands/mine/", timeout=30).read().decode()
            numbers = re.findall(r'href="/demands/(\d{10,})/"', mine)
            pages = RESIDENT_PAGES + ([f"/demands/{numbers[0]}/"] if numbers else [])
            for page in pages:
                measure(resident, base, page, args.requests, label="resident " + page)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
