"""HEAD on every GET route (RFC 9110 §9.1), walked from the URL configuration and the API's own routers so
that a new route is covered without an entry here: on the demo district, signed in as its administrator,
HEAD answers with GET's status and headers and no body, and is refused exactly where GET is."""

import re

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from gongzhi.core.models import ApiToken
from gongzhi.org import demo as demo_module

pytestmark = pytest.mark.django_db

# The object an id in a route names, by the id's name: (model, field whose value goes into the URL).
OBJECTS = {
    "number": ("demands.Demand", "number"), "service_request_id": ("demands.Demand", "number"),
    "warning_id": ("insight.Warning", "pk"), "issue_id": ("insight.Issue", "pk"),
    "hot_spot_id": ("insight.HotSpot", "pk"), "topic_id": ("deliberation.Topic", "pk"),
    "comment_id": ("deliberation.Comment", "pk"), "attachment_id": ("deliberation.Attachment", "pk"),
    "statement_id": ("deliberation.Statement", "pk"), "meeting_id": ("deliberation.Meeting", "pk"),
    "motion_id": ("deliberation.Motion", "pk"), "ballot_id": ("deliberation.Ballot", "pk"),
    "disclosure_id": ("deliberation.Disclosure", "pk"), "objection_id": ("deliberation.Objection", "pk"),
    "item_id": ("duties.PowerItem", "pk"), "goal_id": ("duties.Goal", "pk"), "task_id": ("duties.Task", "pk"),
    "match_id": ("duties.Match", "pk"), "project_id": ("duties.Project", "pk"), "region_id": ("org.Region", "pk"),
    "organisation_id": ("org.Organisation", "pk"), "person_id": ("org.Person", "pk"),
    "notification_id": ("demands.Notification", "pk"), "key": ("demands.Submission", "key"),
    "building_id": ("org.Building", "pk"), "post_id": ("org.Post", "pk"), "body_id": ("deliberation.Body", "pk"),
    "entry_id": ("deliberation.RollEntry", "pk"), "event_id": ("demands.DemandEvent", "pk"),
}
FIXED = {"action": "accept", "fmt": "json", "path": "nothing-here.json", "tile_path": "tile/0/000",
         "token_id": "unknown", "service_code": "environment.garbage", "index": "0"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def api_get_patterns() -> set[str]:
    """URL patterns (as in the URL configuration) of the ninja operations that answer GET."""
    from gongzhi.api import api

    found = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            url = "api/v1/" + (prefix.strip("/") + "/" + path.lstrip("/")).strip("/")
            url = re.sub(r"\{(?:\w+:)?(\w+)\}", r"<\1>", url)
            if path.endswith("/") and not url.endswith("/"):
                url += "/"
            if any("GET" in (m.upper() for m in op.methods) for op in path_view.operations):
                found.add(url)
    return found


def routes() -> list[str]:
    """Every route but the admin's (Django's own) and static files; API routes only where GET is an operation."""
    api_get = api_get_patterns()
    found = []
    for pattern in _walk(get_resolver().url_patterns):
        if pattern.startswith(("admin/", "static/")) or pattern in found:
            continue
        if pattern.startswith("api/v1/") and "<" in pattern and pattern not in api_get:
            continue
        found.append(pattern)
    return found


def url_for(pattern: str) -> str:
    url = pattern
    for name in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern):
        name = name[0] or name[1]
        if name in FIXED:
            value = FIXED[name]
        else:
            model, field = OBJECTS[name]
            row = apps.get_model(model).objects.order_by("pk").first()
            value = getattr(row, field) if row is not None else "0"
        url = re.sub(rf"\(\?P<{name}>[^)]*\)", str(value), url)
        url = re.sub(rf"<(?:\w+:)?{name}>", str(value), url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\.", ".")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo district, once for the module, rolled back at the end."""
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo_module.build_demo()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# Headers whose value is per response, not per resource.
PER_RESPONSE = {"Set-Cookie", "Date"}


def test_head_answers_every_get_route_as_get_does_without_the_body(demo):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    _token, raw = ApiToken.issue(admin, "head")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    answered, problems = {}, []
    for pattern in routes():
        url = url_for(pattern)
        headers = bearer if url.startswith("/api/") else {}
        got, head = client.get(url, **headers), client.head(url, **headers)
        answered[pattern] = got.status_code
        if head.status_code != got.status_code:
            problems.append(f"{url}: HEAD {head.status_code}, GET {got.status_code}")
        elif head.content:
            problems.append(f"{url}: HEAD has a body")
        elif set(head.headers) != set(got.headers):
            problems.append(f"{url}: headers {sorted(set(head.headers) ^ set(got.headers))} differ")
        elif any(head[name] != got[name] for name in got.headers if name not in PER_RESPONSE | {"Content-Length"}):
            problems.append(f"{url}: header values differ")
    summary = {status: sorted(p for p, s in answered.items() if s == status) for status in set(answered.values())}
    assert problems == [], "\n".join(problems)
    gets = [p for p, status in answered.items() if status != 405]
    assert len(gets) >= 60 and len(summary[200]) >= 50, summary
    # Pages and documents the review found refusing HEAD answer it (the ledger's checkpoint and tiles, which
    # need a sequenced log, in gongzhi/ledger/tests/test_head.py).
    for pattern in ("ledger/", r"open311/v2/^discovery\.(?P<fmt>[A-Za-z0-9]+)$", "api/v1/openapi.json", "",
                    r"open311/v2/^requests\.(?P<fmt>[A-Za-z0-9]+)$", "api/v1/demands/<number>", "demands/<str:number>/"):
        assert answered[pattern] == 200, pattern
