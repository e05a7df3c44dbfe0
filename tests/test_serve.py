"""`make demo`'s path end to end: migrate, load the demo district, collect static files and serve
with gunicorn (the production server), then real HTTP requests against it."""

import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="make demo serves SQLite; this runs in the SQLite pass of make test",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo-var")
    env = {**os.environ, "GONGZHI_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var}/demo.sqlite3",
           # The resident's 41 submissions below are within reach; receipt checks are limited low enough
           # to see the two workers share one count (test_rate_limits_are_shared_by_the_workers).
           "GONGZHI_RATE_LIMITS": json.dumps({"file_demand": {"user": "1000/h"}, "receipt_check": {"address": "4/h"}})}
    env.pop("DEBUG", None)
    run = lambda *args: subprocess.run([str(BIN / "gongzhi"), *args], env=env, check=True,  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    run("migrate", "--noinput")
    demo_out = run("demo").stdout
    run("collectstatic", "--noinput", "-v", "0")
    token = run("token", "create", "community_secretary").stdout.strip()
    resident_token = run("token", "create", "resident").stdout.strip()
    port = free_port()
    server = subprocess.Popen(  # as `make demo` serves: threads, so the intake's group commit has company
        [str(BIN / "gunicorn"), "gongzhi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):  # wait until it accepts connections (bounded: ~30 s)
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(server.stdout.read().decode())
            time.sleep(0.1)
    yield {"base": base, "demo_out": demo_out, "token": token, "resident_token": resident_token, "run": run,
           "database": var / "demo.sqlite3"}
    server.terminate()
    server.wait(timeout=10)


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_demo_prints_url_and_logins(served):
    out = served["demo_out"]
    assert "http://127.0.0.1:8000" in out
    for username in ["admin", "community_secretary", "grid_worker", "resident"]:
        assert username in out


def test_static_files_are_served_without_a_cdn(served):
    for path in ["/static/plotly/plotly.min.js", "/static/django_htmx/htmx-2.min.js", "/static/web/gongzhi.css"]:
        status, headers, body = get(served["base"] + path)
        assert status == 200, path
        assert len(body) > 1000, path


def test_pages_need_sign_in_and_speak_chinese_first(served):
    status, _, body = get(served["base"] + "/org/regions/")
    assert status == 200  # redirected to the sign-in page
    html = body.decode()
    assert 'lang="zh-hans"' in html
    assert "登录" in html


def signed_in(served, username: str, next_url: str) -> tuple[urllib.request.OpenerDirector, str]:
    """An opener with the demo login's session, and the page `next_url` it landed on."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = served["base"] + "/accounts/login/"
    page = opener.open(login_url).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({
        "csrfmiddlewaretoken": csrf, "username": username,
        "password": "gongzhi-demo-" + username.replace("_", "-"), "next": next_url,
    }).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
    return opener, opener.open(request).read().decode()


def test_sign_in_and_browse_the_demo_district(served):
    _, html = signed_in(served, "community_secretary", "/org/regions/")
    assert 'class="who"' in html and '<span class="who">community_secretary</span>' not in html  # the name
    assert "网格" in html


def test_the_analysis_cockpit_shows_the_demo_districts_data(served):
    """Issue #5: the demo's year of demands, analysed: the planted water burst is a hot spot with its
    warning, issues are ranked by heat, and the classifier trained on the handled demands is shown."""
    _, html = signed_in(served, "district", "/insight/")
    assert "公用事业" in html and "明显高于常态" in html           # the hot spot, explained
    assert html.count("明显高于常态") >= 2                         # and again as its warning
    assert "自动分类准确率约" in html and "混淆矩阵" not in html    # the model's quality in plain words
    _, analyst = signed_in(served, "data_officer", "/insight/models/")
    assert "混淆矩阵" in analyst and "宏平均 F1" in analyst        # the figures on the analysts' page
    assert 'id="insight-data"' in html                             # the map's and charts' data
    assert not re.search(r"1[3-9]\d{9}", html)                      # no phone number on the page


def test_api_with_a_printed_token_over_http(served):
    auth = {"Authorization": f"Bearer {served['token']}"}
    status, _, body = get(served["base"] + "/api/v1/org/regions/tree", auth)
    assert status == 200
    tree = json.loads(body)
    assert len(tree) == 1 and tree[0]["kind"] in {"community", "village"}
    status, _, body = get(served["base"] + "/api/v1/org/regions/tree")
    assert status == 401 and json.loads(body)["code"] == "not_authenticated"


def test_api_docs_page_uses_bundled_assets(served):
    status, _, body = get(served["base"] + "/api/v1/docs")
    assert status == 200
    html = body.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def post_json(url, body, headers):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_concurrent_submissions_are_all_stored_then_filed_with_distinct_numbers(served):
    """The fast intake path through gunicorn: 40 submissions from 8 threads at once, each answered 202 after
    its (shared) commit; `gongzhi demands work` files them; each status then names its own demand."""
    from concurrent.futures import ThreadPoolExecutor

    auth = {"Authorization": f"Bearer {served['resident_token']}"}
    status, answer = post_json(served["base"] + "/api/v1/demands/submissions",
                               {"text": "测试", "longitude": 100.0, "latitude": 10.0}, auth)
    assert status == 400 and answer["code"] == "outside_grids"  # refused by Django's full stack, with a reason

    with sqlite3.connect(served["database"]) as db:  # points of the demo's buildings, each inside a grid
        points = db.execute("SELECT longitude, latitude FROM org_building ORDER BY id LIMIT 40").fetchall()

    def one(i):
        lon, lat = points[i % len(points)]
        return post_json(served["base"] + "/api/v1/demands/submissions",
                         {"text": f"楼道灯坏了，第{i}次反映", "longitude": lon, "latitude": lat}, auth)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(40)))
    assert [status for status, _ in answers] == [202] * 40
    keys = [answer["key"] for _, answer in answers]
    assert len(set(keys)) == 40 and all(answer["state"] == "pending" for _, answer in answers)

    out = served["run"]("demands", "work", "--json").stdout
    assert json.loads(out.strip().splitlines()[-1]) == {"filed": 40, "refused": 0, "failed": 0}
    numbers = set()
    for key in keys:
        status, _, body = get(f"{served['base']}/api/v1/demands/submissions/{key}", auth)
        answer = json.loads(body)
        assert status == 200 and answer["state"] == "filed", answer
        numbers.add(answer["number"])
    assert len(numbers) == 40


def test_the_demo_deliberation_over_http(served):
    """Issue #6 on the demo district: the public can read topics, the opinion map and the disclosure board
    without signing in; a resident votes on the next statement and the map counts them at once."""
    base = served["base"] + "/api/v1/deliberation/"
    status, _, body = get(base + "topics")
    assert status == 200
    topics = {t["title"]: t for t in json.loads(body)}
    lift, cold_store = topics["老旧小区加装电梯怎么推进"], topics["村集体投资30万元修建果蔬冷库"]
    assert cold_store["status"] == "decided" and cold_store["procedure_code"] == "four_deliberations_two_disclosures"
    _, _, body = get(base + f"topics/{cold_store['id']}")
    # Four meetings passed; the duties demo then published the resolution through its notice period.
    assert [s["outcome"] for s in json.loads(body)["stages"]] == ["passed"] * 4 + ["done"]
    _, _, body = get(base + f"topics/{lift['id']}/map")
    before = json.loads(body)
    assert before["k"] >= 2 and before["common_ground"]
    auth = {"Authorization": f"Bearer {served['resident_token']}"}
    status, _, body = get(base + f"topics/{lift['id']}/next-statement", auth)
    assert status == 200
    statement = json.loads(body)
    status, voted = post_json(base + f"statements/{statement['id']}/vote", {"vote": 1}, auth)
    assert status == 200 and voted == {"statement": statement["id"], "vote": 1}
    status, _, body = get(base + f"topics/{lift['id']}/map")
    assert json.loads(body)["n_participants"] == before["n_participants"] + 1
    status, _, body = get(base + "disclosures")
    board = json.loads(body)
    finance = next(d for d in board if d["kind"] == "finances")
    assert finance["objections"] and finance["objections"][0]["answer"]
    assert not re.search(r"1[3-9]\d{9}", body.decode())


def test_the_demo_power_list_and_decision_are_public_over_http(served):
    """Issue #7 on the demo district: the village's power list and the cold-store spending recorded under it,
    readable without signing in, with the decision's disclosure on the public board."""
    _, _, body = get(served["base"] + "/api/v1/deliberation/topics")
    village_id = next(t["region_id"] for t in json.loads(body) if t["title"] == "村集体投资30万元修建果蔬冷库")
    status, _, body = get(served["base"] + f"/duties/powers/?region={village_id}")
    html = body.decode()
    assert status == 200
    assert "四议两公开" in html and "村集体投资建设果蔬冷库" in html
    assert not re.search(r"1[3-9]\d{9}", html)
    _, _, body = get(served["base"] + f"/api/v1/deliberation/disclosures?region_id={village_id}")
    assert any(d["title"] == "决策公开：村集体投资建设果蔬冷库" for d in json.loads(body))


def test_rate_limits_are_shared_by_the_workers(served):
    """Two gunicorn workers count receipt checks in one place (var/ratelimit): the fifth check from one address
    within the hour is refused whichever worker answers it, with 429, Retry-After and the JSON reason."""
    url = served["base"] + "/api/v1/ledger/receipts/verify"
    answers = []
    for _ in range(8):
        request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answers.append((response.status, None, None))
        except urllib.error.HTTPError as err:
            answers.append((err.code, err.headers.get("Retry-After"), json.loads(err.read())))
    assert all(status != 429 for status, _, _ in answers[:4])
    assert all(status == 429 for status, _, _ in answers[4:])
    _, retry_after, body = answers[4]
    assert int(retry_after) > 0 and body["code"] == "rate_limited"
