"""Every page each demo role can reach, over real HTTP against the demo district (issue #17, item 11: "every
page p95 ≤ 300 ms on the demo data as each role").

Builds the demo in a throwaway SQLite var dir (`gongzhi migrate`, `gongzhi demo`, `collectstatic`) unless
`--var DIR` names one already built, runs gunicorn as `make demo` does (2 workers × 4 threads), and for each
demo login:

1. signs in through the sign-in form, as a browser does;
2. crawls from `/`: GET only, following the same-site `<a href>` links in each HTML page, breadth first.
   It skips sign-out, the language switch, the Django admin (unless `--admin`), static and media files and
   downloads (`download` attribute, .csv/.xlsx/.pdf/.zip, `?format=`/`export` links). Each URL is reduced to
   its pattern: the Django route (`demands/<int:number>/`) plus the names of its query parameters, with a
   parameter's value kept when it is a short word (`?status=overdue` and `?status=open` are two patterns,
   `?page=2` and `?page=3` one). A pattern is sampled at up to `--samples` URLs (the first found); at most
   `--max-patterns` patterns per role;
3. times each pattern: `--requests` GETs in all, spread over its sampled URLs, one at a time, after a
   warm-up GET per URL (the crawl's own GET is a first warm-up); median and 95th percentile in ms;
4. in-process (Django test client, signed in as the same user): counts the SQL queries of one GET of each
   pattern (`CaptureQueriesContext`), to say why a page is slow, and takes the median CPU time of
   `--cpu-runs` more GETs. On a shared machine the wall-clock figures grow with the load; the CPU time
   hardly does, so it says whether a page over the goal is slow itself or was only kept waiting.

It prints a table per role and, at the end, every page over the goal (300 ms p95).

    .venv/bin/python bench/bench_roles.py [--var DIR] [--roles grid_worker,resident] [--requests 20]
        [--samples 3] [--max-patterns 150] [--cpu-runs 5] [--nice -10] [--markdown FILE]
"""

import argparse
import http.cookiejar
import math
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROLES = ["admin", "district", "street_secretary", "community_secretary", "village_secretary", "grid_worker",
         "building_lead", "property_staff", "data_officer", "resident"]
GOAL_MS = 300
SKIP_PREFIXES = ("/accounts/logout", "/i18n/", "/static/", "/media/", "/ledger/tile/")
DOWNLOAD_SUFFIXES = (".csv", ".xlsx", ".pdf", ".zip", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".svg")
SLOW_FIRST_MS = 3000  # a page whose first GET takes longer is timed with 3 requests only


def password(username: str) -> str:
    return "gongzhi-demo-" + username.replace("_", "-")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 30x is an answer: its Location is crawled as a link
        return None


class Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag != "a":
            return
        attrs = dict(attrs)
        if "download" in attrs or not attrs.get("href"):
            return
        self.hrefs.append(attrs["href"])


def opener_for(jar=None):
    jar = jar if jar is not None else http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect()), jar


def get(opener, url: str):
    """(status, body bytes, content type, location, ms) of one GET; 4xx/5xx/30x are answers too."""
    t0 = time.perf_counter()
    try:
        with opener.open(url, timeout=120) as response:
            body = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as answer:
        body = answer.read()
        status, headers = answer.code, answer.headers
    ms = (time.perf_counter() - t0) * 1000
    return status, body, headers.get("Content-Type", ""), headers.get("Location"), ms


def signed_in(base: str, username: str):
    opener, jar = opener_for()
    status, form, *_ = get(opener, base + "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.decode())[1]
    body = urllib.parse.urlencode({"username": username, "password": password(username),
                                   "csrfmiddlewaretoken": token, "next": "/"}).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=body,
                                     headers={"Referer": base + "/accounts/login/"})
    try:
        opener.open(request, timeout=60).read()
    except urllib.error.HTTPError as answer:
        if answer.code not in (301, 302, 303):
            raise
    if not any(cookie.name == "sessionid" for cookie in jar):
        raise SystemExit(f"could not sign in as {username}")
    return opener


def same_site(href: str, current: str, base: str) -> str | None:
    """The path?query of a same-site link, or None for one the crawl skips."""
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:", "sms:")):
        return None
    url = urllib.parse.urljoin(base + current, href)
    parts = urllib.parse.urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base:
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path.lower().endswith(DOWNLOAD_SUFFIXES):
        return None
    query = parts.query
    names = [name for name, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)]
    if "format" in names or "export" in path or "download" in path:
        return None
    return path + ("?" + query if query else "")


WORD = re.compile(r"^[A-Za-z_][A-Za-z_\-]{0,23}$")


def pattern_of(url: str) -> str:
    from django.urls import Resolver404, resolve

    parts = urllib.parse.urlsplit(url)
    try:
        route = "/" + (resolve(parts.path).route or "")
    except Resolver404:
        route = parts.path + " (no route)"
    if parts.query:
        pairs = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        shown = [f"{name}={value}" if WORD.match(value) else f"{name}=…" for name, value in pairs]
        route += "?" + "&".join(shown)
    return route


def crawl(opener, base: str, samples: int, max_patterns: int, allow_admin: bool):
    """Breadth first from /: {pattern: {"urls": [...], "status": int, "first_ms": float, "kind": str}}."""
    found: dict[str, dict] = {}
    seen: set[str] = set()
    queue = deque(["/"])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        if url.startswith("/admin/") and not allow_admin:
            continue
        pattern = pattern_of(url)
        entry = found.get(pattern)
        if entry is None:
            if len(found) >= max_patterns:
                continue
            entry = found[pattern] = {"urls": [], "status": None, "first_ms": 0.0, "kind": ""}
        if len(entry["urls"]) >= samples:
            continue
        status, body, kind, location, ms = get(opener, base + url)
        entry["urls"].append(url)
        if entry["status"] is None:
            entry.update(status=status, first_ms=ms, kind=kind.split(";")[0])
        if location:
            target = same_site(location, url, base)
            if target:
                queue.append(target)
        if status == 200 and kind.startswith("text/html"):
            parser = Links()
            parser.feed(body.decode("utf-8", "replace"))
            for href in parser.hrefs:
                target = same_site(href, url, base)
                if target and target not in seen:
                    queue.append(target)
    return found


def time_pattern(opener, base: str, entry: dict, requests: int):
    urls = entry["urls"]
    if entry["first_ms"] > SLOW_FIRST_MS:
        requests = 3
    each = max(1, math.ceil(requests / len(urls)))
    times, size, statuses = [], 0, set()
    for url in urls:
        get(opener, base + url)  # warm-up (the second worker, its caches)
        for _ in range(each):
            status, body, _, _, ms = get(opener, base + url)
            times.append(ms)
            statuses.add(status)
            size = max(size, len(body))
    times.sort()
    p95 = times[max(0, math.ceil(len(times) * 0.95) - 1)]
    return statistics.median(times), p95, len(times), size, statuses


def client_for(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def in_process(client, url: str, runs: int) -> tuple[int | None, float | None]:
    """SQL queries of one in-process GET of `url` (Django test client, CaptureQueriesContext), and the median
    CPU time of `runs` GETs of it in ms (this thread's CPU time: it does not grow when other processes share
    the cores, as the wall-clock times do)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = len(captured)  # now: the next request empties the connection's log
        cpu = []
        for _ in range(runs):
            t0 = time.thread_time()
            client.get(url)
            cpu.append((time.thread_time() - t0) * 1000)
    except Exception:  # noqa: BLE001 - a page that raises is reported by its HTTP status already
        return None, None
    return queries, statistics.median(cpu) if cpu else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--var", help="an existing var dir with the demo built (skips building it)")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--requests", type=int, default=20, help="timed GETs per pattern")
    parser.add_argument("--samples", type=int, default=3, help="URLs sampled per pattern")
    parser.add_argument("--max-patterns", type=int, default=150, help="patterns per role")
    parser.add_argument("--admin", action="store_true", help="also crawl the Django admin")
    parser.add_argument("--cpu-runs", type=int, default=5,
                        help="in-process GETs per pattern for the SQL count and CPU time (0: skip)")
    parser.add_argument("--markdown", help="also write the tables as Markdown to this file")
    parser.add_argument("--nice", type=int, default=0,
                        help="change this process's priority, and so the server's, by this much (negative: "
                             "ahead of other jobs on a shared machine; needs root)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    if args.nice:
        os.nice(args.nice)  # gunicorn, started below, inherits it
    roles = [r for r in args.roles.split(",") if r]
    with tempfile.TemporaryDirectory() as scratch:
        var = args.var or scratch
        env = {**os.environ, "GONGZHI_VAR_DIR": var, "DATABASE_URL": f"sqlite:///{var}/db.sqlite3",
               "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
        started = time.monotonic()
        steps = [["collectstatic", "--noinput", "-v", "0"]]
        if not args.var:
            steps = [["migrate", "-v", "0"], ["demo"], *steps]
        for argv in steps:
            subprocess.run([str(BIN / "gongzhi"), *argv], env=env, cwd=ROOT, check=True, capture_output=True)
        print(f"demo {'built' if not args.var else 'ready'} in {time.monotonic() - started:.0f} s ({var})")
        os.environ.update({k: env[k] for k in ("GONGZHI_VAR_DIR", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
        import django

        django.setup()
        port = free_port()
        server = subprocess.Popen([str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2", "--threads", "4", "--timeout", "300", "--log-level",
                                   "warning"], env=env, cwd=ROOT)
        over, markdown = [], []
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/accounts/login/", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            for role in roles:
                opener = signed_in(base, role)
                client = client_for(role) if args.cpu_runs else None
                t0 = time.monotonic()
                found = crawl(opener, base, args.samples, args.max_patterns, args.admin)
                print(f"\n## {role}: {len(found)} patterns, {sum(len(e['urls']) for e in found.values())} URLs "
                      f"(crawled in {time.monotonic() - t0:.0f} s)")
                print(f"{'pattern':64} {'status':>6} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'KB':>6} {'SQL':>4} "
                      f"{'CPU ms':>7}")
                markdown += [f"\n#### `{role}`: {len(found)} patterns\n",
                             "| page (pattern) | status | p50 ms | p95 ms | SQL | CPU ms |", "|---|---|---|---|---|---|"]
                for pattern, entry in found.items():
                    p50, p95, n, size, statuses = time_pattern(opener, base, entry, args.requests)
                    queries, cpu = in_process(client, entry["urls"][0], args.cpu_runs) if client else (None, None)
                    status = "/".join(str(s) for s in sorted(statuses))
                    flag = "  OVER" if p95 > GOAL_MS else ""
                    if flag:
                        over.append((role, pattern, entry["urls"][0], p50, p95, queries, cpu))
                    sql = "" if queries is None else str(queries)
                    cpu_ms = "" if cpu is None else f"{cpu:.0f}"
                    print(f"{pattern[:64]:64} {status:>6} {n:>3} {p50:8.1f} {p95:8.1f} {size / 1024:6.1f} "
                          f"{sql:>4} {cpu_ms:>7}{flag}", flush=True)
                    markdown.append(f"| `{pattern}` | {status} | {p50:.0f} | "
                                    f"{'**' if flag else ''}{p95:.0f}{'**' if flag else ''} | {sql} | {cpu_ms} |")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\nover the goal ({GOAL_MS} ms p95): {len(over) or 'none'}")
    for role, pattern, url, p50, p95, queries, cpu in over:
        print(f"  {role:20} {pattern:56} p50 {p50:7.0f}  p95 {p95:7.0f}  SQL {queries}  CPU {cpu or 0:.0f}  e.g. {url}")
    machine = (f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
               f"load average {os.getloadavg()[0]:.1f}; priority {os.nice(0)}")
    print(machine)
    if args.markdown:
        Path(args.markdown).write_text("\n".join(markdown) + f"\n\n{machine}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
