"""The read-replica router's decisions (core/dbrouter.py), request by request, without a replica: which database
each read and write would use. The real standby, paused and resumed, is in tests/test_scaleout.py."""

import time

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from gongzhi.core import dbrouter
from gongzhi.core.models import Event

router = dbrouter.ReplicaRouter()


def answer(request, *, write=False, atomic=False):
    """Runs a 'view' through the middleware; returns (databases the view's reads would use, the response)."""
    seen = []

    def view(request):
        seen.append(router.db_for_read(Event))
        if atomic:
            with transaction.atomic():
                seen.append(router.db_for_read(Event))
        if write:
            seen.append(router.db_for_write(Event))
            seen.append(router.db_for_read(Event))
        return HttpResponse("ok")

    response = dbrouter.ReplicaReadsMiddleware(view)(request)
    return seen, response


@pytest.fixture
def rf():
    return RequestFactory()


def test_a_public_get_reads_the_replica_and_sets_no_stamp(rf):
    seen, response = answer(rf.get("/ledger/checkpoint"))
    assert seen == ["replica"]
    assert dbrouter.COOKIE not in response.cookies


def test_a_page_not_listed_and_every_post_read_the_primary(rf):
    assert answer(rf.get("/demands/mine/"))[0] == ["default"]
    seen, response = answer(rf.post("/ledger/checkpoint"))
    assert seen == ["default"]
    assert float(response.cookies[dbrouter.COOKIE].value) > time.time(), "a POST stamps the browser"


def test_once_a_get_writes_it_reads_the_primary_and_stamps_the_browser(rf):
    seen, response = answer(rf.get("/insight/"), write=True)
    assert seen == ["replica", "default", "default"], "writes always go to the primary, and the reads after them"
    assert dbrouter.COOKIE in response.cookies


def test_the_stamp_sends_this_browser_to_the_primary_until_it_expires(rf, settings):
    settings.GONGZHI_REPLICA_STICKY_SECONDS = 30
    fresh = rf.get("/demands/public/")
    fresh.COOKIES[dbrouter.COOKIE] = str(time.time() + 20)
    assert answer(fresh)[0] == ["default"]
    stale = rf.get("/demands/public/")
    stale.COOKIES[dbrouter.COOKIE] = str(time.time() - 1)
    assert answer(stale)[0] == ["replica"]
    forged = rf.get("/demands/public/")
    forged.COOKIES[dbrouter.COOKIE] = "not a time"
    assert answer(forged)[0] == ["replica"]


@pytest.mark.django_db(transaction=True)  # not inside the test's own transaction
def test_inside_a_transaction_reads_go_to_the_primary(rf):
    assert answer(rf.get("/insight/"), atomic=True)[0] == ["replica", "default"]


def test_outside_a_request_everything_is_the_primary_and_the_replica_is_never_migrated():
    assert router.db_for_read(Event) == "default"
    assert router.db_for_write(Event) == "default"
    assert router.allow_migrate("replica", "core") is False
    assert router.allow_migrate("default", "core") is True


def test_the_paths_can_be_configured(rf, settings):
    settings.GONGZHI_REPLICA_PATHS = ["/demands/mine/"]
    assert answer(rf.get("/demands/mine/"))[0] == ["replica"]
    assert answer(rf.get("/insight/"))[0] == ["default"]
