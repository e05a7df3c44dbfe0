"""The API as generated clients meet it: schemathesis walks every operation of /api/v1/openapi.json with
all its checks (no 5xx, no undocumented status, no schema-valid request refused, no invalid one
accepted, responses as declared), signed in as a dispatcher with a bearer token and anonymously.

Examples are few and derandomized, so the run is deterministic and takes a few minutes. Each operation
is its own test on its own fresh world (pytest-django's transaction), so it runs under pytest-xdist."""

import json

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gongzhi.core.models import ApiToken

MAX_EXAMPLES = 8
# Refusals of well-formed requests for facts no schema can state: an id or code that names nothing (or
# nothing the caller may see), a point outside every grid, an index past the ledger's current size, a
# witness signature that does not verify, a date range that ends before it starts, a state that does not
# allow the step. Each is a 400 with its own code; any other 400 for schema-valid data is a lie of the
# schema, and fails.
FACTS_THE_SCHEMA_CANNOT_KNOW = {
    "outside_grids", "beyond_tree_size", "malformed_cosignature", "unknown_witness", "bad_signature",
    "bad_range", "first_after_second", "notice_too_short", "wrong_region", "meeting_not_open", "no_quorum",
    "organisation_required", "invalid_rule", "invalid_options", "invalid_seats",
}
FUZZ = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def connections_kept_open():
    """As Django's test client does: the app is called in-process inside the test's transaction, so the
    end of a request must not close the database connection (it would on PostgreSQL)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(world, settings, tmp_path):
    """The factories' world with demands filed, and a dispatcher of its street with an API token."""
    from gongzhi.demands.tests.factories import DemandWorld

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    demands = DemandWorld(world)
    demands.file()
    demands.dispatched()
    _, raw = ApiToken.issue(demands.dispatcher)
    return {"token": raw}


def _load_schema():
    from gongzhi.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    loaded.config.generation.update(max_examples=MAX_EXAMPLES)
    return loaded


schema = _load_schema()


def _refused_for_a_fact(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        code = json.loads(response.content).get("code", "")
    except ValueError:
        return False
    return code in FACTS_THE_SCHEMA_CANNOT_KNOW or code.startswith("unknown_")


def accepts_valid_data(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for the refusals in FACTS_THE_SCHEMA_CANNOT_KNOW."""
    if _refused_for_a_fact(response):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = {"excluded_checks": [positive_data_acceptance], "additional_checks": [accepts_valid_data]}


@schema.parametrize()
@FUZZ
def test_api_signed_in(case, fuzz_world):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_world['token']}"}, **CHECKS)
    assert response.status_code < 500  # call_and_validate raises on any failed check; this one is the headline


@schema.parametrize()
@FUZZ
def test_api_anonymous(case, fuzz_world):
    response = case.call_and_validate(**CHECKS)
    assert response.status_code < 500


# --- Open311 GeoReport v2 (JSON) ---------------------------------------------------------------------------
# The standard publishes no OpenAPI document; this one says what GeoReport v2 specifies for the JSON format
# (http://wiki.open311.org/GeoReport_v2/), so schemathesis can hold the endpoints to it. Errors are the
# standard's list of {code, description}.
OPEN311_KEY = "o311-schemathesis-test-key"
_ERRORS = {"description": "the standard's error list", "content": {"application/json": {"schema": {
    "type": "array", "minItems": 1, "items": {"type": "object", "required": ["code", "description"], "properties": {
        "code": {"type": "integer"}, "description": {"type": "string"}}}}}}}
_LIST = {"description": "OK",
         "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}
_REQUEST = {"type": "object", "required": ["service_request_id", "status", "service_code", "requested_datetime"],
            "properties": {"service_request_id": {"type": "string"}, "status": {"enum": ["open", "closed"]},
                           "service_code": {"type": "string"}, "requested_datetime": {"type": "string"},
                           "description": {"type": ["string", "null"]}, "media_url": {"type": ["string", "null"]}}}
_REQUESTS = {"description": "OK", "content": {"application/json": {"schema": {"type": "array", "items": _REQUEST}}}}
# The standard: an optional argument passed empty is as if absent.
_W3C = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "maxLength": 0}]}


def _errors(*codes):
    return {str(code): _ERRORS for code in codes}


OPEN311 = {
    "openapi": "3.0.3",
    "info": {"title": "gongzhi Open311 GeoReport v2 (JSON)", "version": "v2"},
    "paths": {
        "/open311/v2/discovery.json": {"get": {"responses": {"200": {
            "description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["changeset", "endpoints"]}}}}, **_errors(404)}}},
        "/open311/v2/services.json": {"get": {"responses": {"200": _LIST, **_errors(404)}}},
        "/open311/v2/services/{service_code}.json": {"get": {
            "parameters": [{"name": "service_code", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[a-z_.]{1,40}$"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["service_code", "attributes"]}}}}, **_errors(400, 404)}}},
        "/open311/v2/requests.json": {
            "get": {
                # service_request_id is left out: with it the standard ignores every other argument, which
                # OpenAPI cannot say; GET requests/{service_request_id}.json covers the same lookup.
                "parameters": [
                    {"name": "service_code", "in": "query", "schema": {"type": "string"}},
                    {"name": "start_date", "in": "query", "schema": _W3C},
                    {"name": "end_date", "in": "query", "schema": _W3C},
                    {"name": "status", "in": "query", "schema": {"enum": ["open", "closed", "open,closed"]}},
                ],
                "responses": {"200": _REQUESTS, **_errors(400, 403, 404)},
            },
            "post": {
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["api_key", "service_code", "lat", "long"],
                    "properties": {
                        "api_key": {"enum": [OPEN311_KEY]},
                        "service_code": {"type": "string", "pattern": "^[a-z][a-z0-9_.]{0,59}$"},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "long": {"type": "number", "minimum": -180, "maximum": 180},
                        "address_string": {"type": "string", "maxLength": 200},
                        "description": {"type": "string", "maxLength": 4000},
                        "first_name": {"type": "string", "maxLength": 30},
                        "last_name": {"type": "string", "maxLength": 30},
                        "phone": {"type": "string", "maxLength": 20},
                        "media_url": {"type": "string", "format": "uri"},
                    }}}}},
                # 400: an unknown service_code or a point outside the district is the standard's 400.
                "responses": {"200": _LIST, "201": _LIST, **_errors(400, 403, 404, 413, 429)},
            },
        },
        "/open311/v2/requests/{service_request_id}.json": {"get": {
            "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,20}$"}}],
            "responses": {"200": _REQUESTS, **_errors(400, 404)}}},
    },
}


def _load_open311():
    from gongzhi.wsgi import application

    loaded = schemathesis.openapi.from_dict(OPEN311)
    loaded.app = application
    loaded.config.generation.update(max_examples=MAX_EXAMPLES)
    return loaded


open311 = _load_open311()


@pytest.fixture
def open311_world(fuzz_world):
    from gongzhi.demands.models import Open311Client
    from gongzhi.demands.services import _open311_digest

    Open311Client.objects.create(name="schemathesis", prefix=OPEN311_KEY[:8], digest=_open311_digest(OPEN311_KEY),
                                 created_at=timezone.now())
    return fuzz_world


def _open311_refused_for_a_fact(response) -> bool:
    """An unknown service_code or a place outside the district: facts, as for the API."""
    if response.status_code != 400:
        return False
    try:
        description = json.loads(response.content)[0]["description"]
    except (ValueError, LookupError, TypeError):
        return False
    return description.split(":")[0] in FACTS_THE_SCHEMA_CANNOT_KNOW or description.startswith("unknown_")


def open311_accepts_valid_data(ctx, response, case):
    if _open311_refused_for_a_fact(response):
        return None
    return positive_data_acceptance(ctx, response, case)


@open311.parametrize()
@FUZZ
def test_open311(case, open311_world):
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance],
                                      additional_checks=[open311_accepts_valid_data])
    assert response.status_code < 500
