"""The rate-limit machinery: counters shared by processes (atomic, keeping their window's expiry), limits
from settings and the environment, and the receipt check's limit per address."""

import json
import multiprocessing
import os
import pickle
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from gongzhi.core import ratelimit
from gongzhi.core.errors import RateLimited

ROOT = Path(__file__).resolve().parents[3]


def _bump(location: str, times: int) -> None:
    cache = ratelimit.LockedFileCache(location, {})
    for _ in range(times):
        cache.incr("counter")


def test_processes_incrementing_one_counter_lose_no_count(tmp_path):
    cache = ratelimit.LockedFileCache(str(tmp_path), {})
    cache.add("counter", 0, 3600)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_bump, args=(str(tmp_path), 50)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * 4
    assert cache.get("counter") == 200


def test_an_increment_keeps_the_windows_expiry(tmp_path):
    cache = ratelimit.LockedFileCache(str(tmp_path), {})
    assert cache.add("counter", 1, 3600)
    path = cache._key_to_file("counter")
    with open(path, "rb") as handle:
        before = pickle.load(handle)
    assert cache.incr("counter") == 2
    with open(path, "rb") as handle:
        after = pickle.load(handle)
    assert abs(after - before) < 1  # not reset to the cache's default timeout (300 s)
    with pytest.raises(ValueError):
        cache.incr("never-added")


def test_ended_windows_are_culled_before_any_live_counter(tmp_path):
    """Each window has its own key, so ended ones pile up; past MAX_ENTRIES they go first, not a random
    third of all counters (found in review: that reset live limits)."""
    cache = ratelimit.LockedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 12}})
    live = [f"live-{i}" for i in range(6)]
    for key in live:
        cache.add(key, 1, timeout=3600)
    for i in range(6):
        cache.set(f"ended-{i}", 1, timeout=-1)  # a window that has ended: written expired
    cache.add("one-more", 1, timeout=3600)  # past MAX_ENTRIES: culls
    assert all(cache.get(key) == 1 for key in live) and cache.get("one-more") == 1
    assert len(list(Path(tmp_path).glob("*.djcache"))) == 7


def test_hit_refuses_past_the_limit_per_user_and_per_address(settings):
    settings.GONGZHI_RATE_LIMITS = {"statement": {"user": "2/m", "address": "3/m"}}
    ratelimit.hit("statement", who="user:1", address="192.0.2.1")
    ratelimit.hit("statement", who="user:1", address="192.0.2.1")
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("statement", who="user:1", address="192.0.2.2")
    assert refused.value.status == 429 and refused.value.context["scope"] == "user"
    assert 0 < refused.value.retry_after <= 60
    ratelimit.hit("statement", who="user:2", address="192.0.2.1")  # the address's third
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("statement", who="user:3", address="192.0.2.1")
    assert refused.value.context["scope"] == "address"
    ratelimit.hit("statement", who=None, address="192.0.2.9")  # a kind's limit per address alone


def test_a_kind_without_limits_is_not_counted(settings):
    settings.GONGZHI_RATE_LIMITS = {"statement": {"user": None, "address": None}}
    for _ in range(5):
        ratelimit.hit("statement", who="user:1", address="192.0.2.1")  # never refused
    # Nothing was counted: with a limit of one, the first hit passes and only the second is refused.
    settings.GONGZHI_RATE_LIMITS = {"statement": {"user": "1/h", "address": None}}
    ratelimit.hit("statement", who="user:1", address="192.0.2.1")
    with pytest.raises(RateLimited):
        ratelimit.hit("statement", who="user:1", address="192.0.2.1")


@pytest.mark.django_db
def test_receipt_checks_are_limited_per_address_for_anonymous_callers(client, settings):
    settings.GONGZHI_RATE_LIMITS = {**settings.GONGZHI_RATE_LIMITS, "receipt_check": {"user": None, "address": "2/h"}}
    answers = [client.post("/api/v1/ledger/receipts/verify", "{}", content_type="application/json",
                           REMOTE_ADDR="203.0.113.60").status_code for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429
    page = client.post("/ledger/receipt/", {"receipt": "{}"}, REMOTE_ADDR="203.0.113.60")
    assert page.status_code == 429 and "Retry-After" in page
    assert client.post("/ledger/receipt/", {"receipt": "{}"}, REMOTE_ADDR="203.0.113.61").status_code == 200


def test_the_environment_overrides_single_limits(tmp_path):
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("GONGZHI_", "DJANGO_"))}
    environ.update(GONGZHI_VAR_DIR=str(tmp_path), GONGZHI_SECRET_KEY=secrets.token_urlsafe(50),
                   GONGZHI_RATE_LIMITS='{"file_demand": {"user": "60/h"}, "receipt_check": {"address": null}}')
    code = "import json; from django.conf import settings; print(json.dumps(settings.GONGZHI_RATE_LIMITS))"
    answer = subprocess.run([str(Path(sys.executable).parent / "gongzhi"), "shell", "-c", code], env=environ,
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    limits = json.loads(answer.stdout.strip().splitlines()[-1])
    assert limits["file_demand"] == {"user": "60/h", "address": "300/h"}
    assert limits["receipt_check"]["address"] is None and limits["statement"]["user"] == "30/h"
