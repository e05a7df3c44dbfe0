"""Under GONGZHI_HTTPS the fast path answers only HTTPS requests, with HSTS as Django would; plain HTTP goes to
Django, which redirects it."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.demands import fastpath

from .factories import IN_A1, THURSDAY_9AM

pytestmark = pytest.mark.django_db


@pytest.fixture
def https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def teapot(environ, start_response):
    """Stands in for Django: whatever it answers was not served by the fast path."""
    start_response("418 I'm a teapot", [])
    return [b""]


def submit(dw, django, **environ):
    _, raw = ApiToken.issue(dw.resident)
    body = json.dumps({"text": "小区门口垃圾堆了三天没人清运", "longitude": IN_A1[0], "latitude": IN_A1[1]}).encode()
    started = {}
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/demands/submissions", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "HTTP_HOST": "testserver",
           "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http", "REMOTE_ADDR": "203.0.113.9",
           "HTTP_AUTHORIZATION": f"Bearer {raw}", **environ}
    with clock.frozen_at(THURSDAY_9AM):
        b"".join(fastpath.wrap(django)(env, lambda status, headers: started.update(status=status,
                                                                                          headers=dict(headers))))
    return started["status"], started["headers"]


def test_over_https_the_fast_path_answers_with_hsts(dw, https, keep_the_test_connection):
    status, headers = submit(dw, teapot, HTTP_X_FORWARDED_PROTO="https")
    assert status == "202 Accepted"  # served by the fast path itself
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_plain_http_is_redirected_to_https_by_django(dw, https, keep_the_test_connection):
    assert submit(dw, teapot, HTTP_X_FORWARDED_PROTO="http")[0].startswith("418")  # handed to Django
    status, headers = submit(dw, WSGIHandler(), HTTP_X_FORWARDED_PROTO="http")
    assert status.startswith("301") and headers["Location"].startswith("https://testserver/")
