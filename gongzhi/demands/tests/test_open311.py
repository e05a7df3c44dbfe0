"""Open311 GeoReport v2 at /open311/v2/: discovery, services and definitions as the standard and its schemas
say, a round trip of a service request in JSON and XML with the standard's field names, statuses that
follow the demand's workflow, every error in the standard's format with nothing stored, no personal data
in public responses, API keys from the CLI, and a real HTTP client posting form-encoded data."""

import datetime as dt
import io
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gongzhi.core import clock
from gongzhi.core.models import Event
from gongzhi.demands import services
from gongzhi.demands.models import Category, Demand, DemandContact, DemandCounter, Open311Client, Submission

from .factories import IN_A1, NOWHERE, THURSDAY_9AM

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"
# The spec material lives next to the repository (../shared); tests reading it skip without it.
SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "open311"

# Field names exactly as the GeoReport v2 spec's response tables.
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
POST_FIELDS = ["service_request_id", "service_notice", "account_id"]
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]


# --- helpers ----------------------------------------------------------------------------------------------

def need_spec():
    if not SPEC.is_dir():
        pytest.skip(f"Open311 spec material not found at {SPEC}")


def spec_response_fields(method: str) -> list[str]:
    """The plain field names of one method's response table in georeport_v2_fields.json."""
    need_spec()
    methods = json.loads((SPEC / "georeport_v2_fields.json").read_text(encoding="utf-8"))["methods"]
    return [row["field"] for row in methods[method]["Response"] if "⇊" not in row["field"] and "↴" not in row["field"]]


def schema_errors(value, schema: dict, path: str = "$") -> list[str]:
    """A small JSON Schema check covering what schema/*.json use: type, required, properties, enum, anyOf,
    items (with $ref to a sibling file) and maxLength; date-time formats are checked as ISO 8601 with offset."""
    if "$ref" in schema:
        return schema_errors(value, json.loads((SPEC / "schema" / schema["$ref"]).read_text()), path)
    if "anyOf" in schema:
        options = [schema_errors(value, option, path) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{path}: matches no anyOf option ({options})"]
    types = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None), "integer": int,
             "number": (int, float)}
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind and (not isinstance(value, types[kind]) or (kind in ("number", "integer") and isinstance(value, bool))):
        return [f"{path}: {value!r} is not {kind}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        errors.append(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, str) and schema.get("format") == "date-time":
        try:
            assert dt.datetime.fromisoformat(value).tzinfo is not None
        except (ValueError, AssertionError):
            errors.append(f"{path}: {value!r} is not a W3C datetime with offset")
    if isinstance(value, dict):
        errors += [f"{path}: missing {name}" for name in schema.get("required", []) if name not in value]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += schema_errors(value[name], sub, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    return errors


def validate(value, schema_file: str) -> list[str]:
    """The ways `value` breaks the spec's JSON schema `schema_file` (empty when it conforms)."""
    need_spec()
    return schema_errors(value, json.loads((SPEC / "schema" / schema_file).read_text()))


def form(client, url, fields: dict):
    """POST as Open311 clients do: application/x-www-form-urlencoded."""
    return client.post(url, data=urllib.parse.urlencode(fields),
                       content_type="application/x-www-form-urlencoded; charset=utf-8")


def xml_of(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json_of(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def xml_error(response, status: int) -> str:
    assert response.status_code == status
    root = xml_of(response)
    assert root.tag == "errors" and [child.tag for child in root] == ["error"]
    assert [child.tag for child in root[0]] == ["code", "description"] and root[0].findtext("code") == str(status)
    return root[0].findtext("description")


def json_error(response, status: int) -> str:
    assert response.status_code == status
    [error] = json_of(response)
    assert set(error) == {"code", "description"} and error["code"] == status
    return error["description"]


@pytest.fixture
def key(dw):
    _, raw = services.issue_open311_key("东城随手拍", contact="ops@example.org")
    return raw


def resident_post(**extra) -> dict:
    """What a resident app sends, as in the spec's example POST (our values)."""
    return {"service_code": "environment.garbage", "lat": IN_A1[1], "long": IN_A1[0],
            "address_string": "东园路1号门口", "email": "zhang@example.com", "device_id": "dev-42",
            "account_id": "app-user-7", "first_name": "三", "last_name": "张", "phone": "13900001111",
            "description": "小区门口垃圾堆了三天没人清运", "media_url": "https://img.example.org/p/1.jpg",
            "attribute[WHISPAWN]": "123456", **extra}


def post_request(client, key, fmt="json", **extra):
    with clock.frozen_at(THURSDAY_9AM):
        return form(client, f"{BASE}requests.{fmt}", {"api_key": key, **resident_post(**extra)})


def stored() -> tuple[int, int, int]:
    demand_events = Event.objects.filter(kind__startswith="demands.").count()
    return Demand.objects.count(), DemandContact.objects.count(), demand_events


# --- discovery, services, definitions ------------------------------------------------------------------------

def test_discovery_names_the_georeport_v2_endpoint_in_both_formats(client, dw):
    body = json_of(client.get(f"{BASE}discovery.json"))
    assert list(body) == DISCOVERY_FIELDS and all(body[f] for f in DISCOVERY_FIELDS)
    [endpoint] = body["endpoints"]
    assert list(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert dt.datetime.fromisoformat(body["changeset"]) <= clock.now()

    root = xml_of(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery" and [c.tag for c in root] == DISCOVERY_FIELDS
    [xml_endpoint] = root.find("endpoints")
    assert xml_endpoint.tag == "endpoint" and [c.tag for c in xml_endpoint] == ENDPOINT_FIELDS
    assert [f.text for f in xml_endpoint.find("formats")] == ["text/xml", "application/json"]
    assert [f.tag for f in xml_endpoint.find("formats")] == ["format", "format"]


def test_services_are_the_leaf_categories_grouped_by_their_parent(client, dw):
    services_json = json_of(client.get(f"{BASE}services.json"))
    by_code = {s["service_code"]: s for s in services_json}
    assert "environment" not in by_code  # a parent category is a group, not a service
    garbage = by_code["environment.garbage"]
    assert list(garbage) == SERVICE_FIELDS
    assert garbage == {"service_code": "environment.garbage", "service_name": "垃圾清运与分类",
                       "description": "Waste collection and sorting", "metadata": False, "type": "realtime",
                       "keywords": "Waste collection and sorting, 环境与卫生, Environment and sanitation",
                       "group": "环境与卫生"}

    root = xml_of(client.get(f"{BASE}services.xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"} and len(root) == len(services_json)
    xml_garbage = next(s for s in root if s.findtext("service_code") == "environment.garbage")
    assert [c.tag for c in xml_garbage] == SERVICE_FIELDS
    assert xml_garbage.findtext("metadata") == "false" and xml_garbage.findtext("group") == "环境与卫生"


def test_service_list_and_requests_validate_against_the_open311_json_schemas(client, dw, key):
    assert validate(json_of(client.get(f"{BASE}services.json")), "services.json") == []
    number = json_of(post_request(client, key))[0]["service_request_id"]
    assert validate(json_of(client.get(f"{BASE}requests/{number}.json")), "requests.json") == []
    assert validate(json_of(client.get(f"{BASE}requests/{number}.json", {"api_key": key})), "requests.json") == []
    assert validate(json_of(client.get(f"{BASE}services/environment.garbage.json")),
                    "service-definition.json") == []
    # The check itself can fail: a request without its id breaks the schema.
    assert validate([{"status": "open"}], "requests.json") != []


def test_our_field_names_are_the_spec_tables(dw):
    assert spec_response_fields("GET Service List") == SERVICE_FIELDS
    assert spec_response_fields("GET Service Request") == REQUEST_FIELDS
    assert spec_response_fields("GET Service Requests") == REQUEST_FIELDS
    assert [f for f in spec_response_fields("POST Service Request") if f != "token"] == POST_FIELDS


def test_a_service_definition_has_no_attributes_and_an_unknown_code_is_404(client, dw):
    assert json_of(client.get(f"{BASE}services/environment.garbage.json")) == {
        "service_code": "environment.garbage", "attributes": []}
    root = xml_of(client.get(f"{BASE}services/environment.garbage.xml"))
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == "environment.garbage" and len(root.find("attributes")) == 0
    assert "unknown_service_code" in json_error(client.get(f"{BASE}services/no.such.json"), 404)
    assert "unknown_service_code" in xml_error(client.get(f"{BASE}services/environment.xml"), 404)


# --- the round trip ----------------------------------------------------------------------------------------

def walk(dw, demand, *acts, start=THURSDAY_9AM):
    """Each act one hour after the previous one, the first an hour after `start`."""
    step = start
    for act in acts:
        step += dt.timedelta(hours=1)
        with clock.frozen_at(step):
            demand = act(demand).demand
    return demand


def test_round_trip_in_json_post_get_by_id_and_in_a_list_with_status_following_the_workflow(client, dw, key):
    response = post_request(client, key)
    assert response.status_code == 200
    [created] = json_of(response)
    assert list(created) == POST_FIELDS
    number = created["service_request_id"]
    assert number == "2026112600001" and created["account_id"] == "app-user-7" and created["service_notice"]

    demand = Demand.objects.get(number=number)
    assert demand.channel == "open311" and demand.category.code == "environment.garbage"
    assert demand.grid == dw.world.grid_a1 and demand.address == "东园路1号门口"
    assert demand.reporter_user is None  # no account here: the desk takes the 回访 by phone
    assert (demand.contact.name, demand.contact.phone) == ("张三", "13900001111")
    filed = Event.objects.get(kind="demands.open311_filed")
    assert filed.private == {"email": "zhang@example.com", "device_id": "dev-42", "account_id": "app-user-7",
                             "media_url": "https://img.example.org/p/1.jpg"}
    assert filed.actor.username.startswith("open311-client-") and "email" not in filed.data

    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
        [mine] = json_of(client.get(f"{BASE}requests/{number}.json", {"api_key": key}))
        listed = json_of(client.get(f"{BASE}requests.json", {"api_key": key}))
    assert list(mine) == REQUEST_FIELDS and [r["service_request_id"] for r in listed] == [number]
    assert listed[0] == mine
    assert mine["status"] == "open" and mine["service_code"] == "environment.garbage"
    assert mine["service_name"] == "垃圾清运与分类" and mine["description"] == "小区门口垃圾堆了三天没人清运"
    assert mine["address"] == "东园路1号门口" and mine["media_url"] == "https://img.example.org/p/1.jpg"
    assert (mine["lat"], mine["long"]) == (IN_A1[1], IN_A1[0])
    assert mine["requested_datetime"] == "2026-11-26T09:00:00+08:00"
    assert mine["expected_datetime"] == _local(demand.feedback_due)
    assert mine["agency_responsible"] == "和平街道办事处"  # waiting at the dispatch desk

    demand = walk(dw, demand, lambda d: services.dispatch(dw.dispatcher, d, unit=dw.city_management),
                  lambda d: services.accept(dw.handler, d))
    [accepted] = json_of(client.get(f"{BASE}requests/{number}.json"))
    assert accepted["status"] == "open" and accepted["agency_responsible"] == "区城管委"
    assert accepted["status_notes"] == str(Demand.State.ACCEPTED.label)
    assert accepted["updated_datetime"] == "2026-11-26T11:00:00+08:00"

    demand = walk(dw, demand, lambda d: services.reply(dw.handler, d, text="已清运"),
                  lambda d: services.verify(dw.grid_worker, d), lambda d: services.close(dw.dispatcher, d),
                  start=THURSDAY_9AM + dt.timedelta(hours=2))
    [closed] = json_of(client.get(f"{BASE}requests/{number}.json"))
    assert closed["status"] == "closed" and closed["updated_datetime"] == _local(demand.closed_at)
    assert "已清运" not in closed["status_notes"]  # the reply is free text: key holders only
    [closed_for_key] = json_of(client.get(f"{BASE}requests/{number}.json", {"api_key": key}))
    assert closed_for_key["status_notes"].endswith("已清运")

    # The desk records the resident's "not solved" from the callback: reopened, open again.
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        services.rate(dw.dispatcher, demand, solved=False, satisfaction="not_satisfied")
    [reopened] = json_of(client.get(f"{BASE}requests/{number}.json"))
    assert reopened["status"] == "open" and reopened["status_notes"] == str(Demand.State.DISPATCHED.label)


def _local(moment):
    from django.utils import timezone

    return timezone.localtime(moment).isoformat(timespec="seconds")


def test_round_trip_in_xml_with_the_standard_element_names(client, dw, key):
    root = xml_of(post_request(client, key, fmt="xml"))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == POST_FIELDS
    number = root[0].findtext("service_request_id")
    assert number == "2026112600001" and root[0].findtext("account_id") == "app-user-7"

    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
        one = xml_of(client.get(f"{BASE}requests/{number}.xml", {"api_key": key}))
        many = xml_of(client.get(f"{BASE}requests.xml", {"service_request_id": f"{number},19990101000001"}))
    assert one.tag == many.tag == "service_requests"
    [request] = one
    assert request.tag == "request" and [c.tag for c in request] == REQUEST_FIELDS
    assert request.findtext("status") == "open" and request.findtext("service_code") == "environment.garbage"
    assert request.findtext("lat") == str(IN_A1[1]) and request.findtext("long") == str(IN_A1[0])
    assert request.findtext("description") == "小区门口垃圾堆了三天没人清运"
    assert [r.findtext("service_request_id") for r in many] == [number]
    # No key: the public's view, the words scrubbed (nothing personal in these), the place instead of the door.
    assert many[0].findtext("description") == "小区门口垃圾堆了三天没人清运"
    assert many[0].findtext("address") == "东园一网格, 东园社区, 和平街道" and many[0].findtext("address_id") == ""

    demand = walk(dw, Demand.objects.get(number=number),
                  lambda d: services.dispatch(dw.dispatcher, d, unit=dw.city_management),
                  lambda d: services.accept(dw.handler, d), lambda d: services.reply(dw.handler, d, text="已清运"),
                  lambda d: services.verify(dw.grid_worker, d), lambda d: services.close(dw.dispatcher, d))
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        services.rate(dw.dispatcher, demand, solved=True, satisfaction="satisfied")
    [rated] = xml_of(client.get(f"{BASE}requests/{number}.xml"))
    assert rated.findtext("status") == "closed" and rated.findtext("agency_responsible") == "区城管委"


def test_an_address_id_names_one_of_our_buildings(client, dw, key):
    building = dw.world.building_b1
    fields = {k: v for k, v in resident_post(address_id=str(building.pk), address_string="").items()
              if k not in ("lat", "long")}
    with clock.frozen_at(THURSDAY_9AM):
        response = form(client, f"{BASE}requests.json", {"api_key": key, **fields})
    assert response.status_code == 200, response.content
    demand = Demand.objects.get()
    assert demand.grid == dw.world.grid_b1 and demand.address == "西园路9号"
    [got] = json_of(client.get(f"{BASE}requests/{demand.number}.json", {"api_key": key}))
    assert got["address_id"] == str(building.pk) and got["lat"] == building.latitude
    [public] = json_of(client.get(f"{BASE}requests/{demand.number}.json"))
    assert public["address_id"] is None and public["address"] == "西园一网格, 西园社区, 和平街道"


def test_the_api_key_may_come_in_the_query_string(client, dw, key):
    fields = resident_post()
    with clock.frozen_at(THURSDAY_9AM):
        response = form(client, f"{BASE}requests.json?api_key={key}", fields)
    assert response.status_code == 200 and Demand.objects.count() == 1


def test_control_characters_never_break_the_xml(client, dw, key, settings):
    settings.GONGZHI_OPEN311_PUBLIC_FREE_TEXT = True
    number = json_of(post_request(client, key, description="垃圾\x00堆积\x1b了"))[0]["service_request_id"]
    assert Demand.objects.get(number=number).text == "垃圾堆积了"
    [request] = xml_of(client.get(f"{BASE}requests/{number}.xml"))
    assert request.findtext("description") == "垃圾堆积了"


def test_without_a_description_the_service_name_is_the_text(client, dw, key):
    assert post_request(client, key, description="").status_code == 200
    assert Demand.objects.get().text == "垃圾清运与分类"


# --- queries ---------------------------------------------------------------------------------------------------

def test_get_requests_filters_by_status_service_code_and_a_90_day_window(client, dw, key):
    old = dw.file(at=THURSDAY_9AM - dt.timedelta(days=120), text="旧的诉求", category="environment.noise")
    done = dw.closed(category="environment.garbage")
    waiting = dw.file(category="traffic.roads", text="路面有大坑")

    def numbers(**query):
        return [r["service_request_id"] for r in json_of(client.get(f"{BASE}requests.json", query))]

    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        assert set(numbers()) == {done.number, waiting.number}  # the last 90 days
        assert numbers(status="closed") == [done.number]
        assert numbers(status="open") == [waiting.number]
        assert set(numbers(status="open,closed")) == {done.number, waiting.number}
        assert numbers(service_code="traffic.roads") == [waiting.number]
        assert set(numbers(service_code="traffic.roads,environment.garbage")) == {done.number, waiting.number}
        assert numbers(start_date="2026-07-01T00:00:00+08:00", end_date="2026-08-15T00:00:00Z") == [old.number]
        assert numbers(start_date="2026-07-01T00:00:00+08:00") == [old.number]
        assert numbers(status="", service_code="") == numbers()  # optional and empty: as if absent
        # service_request_id overrides every other argument.
        assert numbers(service_request_id=f"{old.number},{waiting.number}", status="closed") == [
            waiting.number, old.number]


# --- errors: the standard's format, the right status, nothing stored ------------------------------------------

@pytest.mark.parametrize("fields, status, code", [
    ({"api_key": ""}, 403, "invalid_api_key"),
    ({"api_key": "o3_not-a-key"}, 403, "invalid_api_key"),
    ({"service_code": ""}, 400, "service_code_required"),
    ({"service_code": "no.such.service"}, 404, "unknown_service_code"),
    ({"service_code": "environment"}, 404, "unknown_service_code"),
    ({"lat": NOWHERE[1], "long": NOWHERE[0]}, 400, "outside_grids"),
    ({"lat": "", "long": "", "address_string": ""}, 400, "location_required"),
    ({"long": ""}, 400, "location_incomplete"),
    ({"lat": "north"}, 400, "bad_lat"),
    ({"lat": "91", "long": "116"}, 400, "invalid"),
    ({"lat": "", "long": "", "address_id": "999999"}, 400, "unknown_address_id"),
    ({"media_url": "javascript:alert(1)"}, 400, "bad_media_url"),
    ({"description": "长" * 4001}, 400, "text_too_long"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_bad_post_is_refused_in_the_standard_format_and_stores_nothing(client, dw, key, fields, status, code, fmt):
    before = stored()
    counters = DemandCounter.objects.count()
    response = post_request(client, key, fmt=fmt, **{"api_key": key, **fields})
    description = json_error(response, status) if fmt == "json" else xml_error(response, status)
    assert description.startswith(f"{code}:")
    assert stored() == before and DemandCounter.objects.count() == counters


def address_only(**extra) -> dict:
    """A resident's POST with no point: only the address the resident typed."""
    return {k: v for k, v in resident_post(**extra).items() if k not in ("lat", "long")}


def test_an_address_string_alone_is_placed_by_the_district_address_register(client, dw, key):
    a1, b1 = dw.world.building_a1, dw.world.building_b1
    with clock.frozen_at(THURSDAY_9AM):
        at_gate = form(client, f"{BASE}requests.json", {"api_key": key, **address_only()})  # 东园路1号门口
        spaced = form(client, f"{BASE}requests.json", {"api_key": key, **address_only(address_string="西园路 9号 3单元")})
    assert at_gate.status_code == spaced.status_code == 200, (at_gate.content, spaced.content)
    first = Demand.objects.get(number=json_of(at_gate)[0]["service_request_id"])
    second = Demand.objects.get(number=json_of(spaced)[0]["service_request_id"])
    # The building whose registered address the typed one contains: its grid and its point.
    assert (first.grid, first.longitude, first.latitude) == (dw.world.grid_a1, a1.longitude, a1.latitude)
    assert first.address == "东园路1号门口" and first.channel == "open311"
    assert (second.grid, second.longitude) == (dw.world.grid_b1, b1.longitude)
    [own] = json_of(client.get(f"{BASE}requests/{first.number}.json", {"api_key": key}))
    assert own["address_id"] == str(a1.pk) and own["address"] == "东园路1号门口"


def test_an_address_naming_a_road_in_one_grid_is_placed_in_that_grid_and_one_across_grids_goes_to_the_desks(
        client, dw, key):
    from gongzhi.org.models import Building

    with clock.frozen_at(THURSDAY_9AM):
        road = form(client, f"{BASE}requests.json", {"api_key": key, **address_only(address_string="西园路")})
    assert road.status_code == 200, road.content
    demand = Demand.objects.get(number=json_of(road)[0]["service_request_id"])
    assert demand.grid == dw.world.grid_b1 and demand.longitude is None and demand.latitude is None

    Building.objects.create(grid=dw.world.grid_a2, name="5号楼", address="东园路5号", longitude=116.015,
                            latitude=39.905)
    with clock.frozen_at(THURSDAY_9AM):
        across = form(client, f"{BASE}requests.xml", {"api_key": key, **address_only(address_string="东园路")})
    # Two grids: the register cannot choose, a dispatch desk will (test_placement.py).
    assert across.status_code == 200, across.content
    token = xml_of(across)[0].findtext("token")
    assert Submission.objects.get(key=token).grid is None and Demand.objects.count() == 1


def test_with_tokens_an_address_string_alone_is_accepted_and_filed_where_it_lies(client, dw, key, settings):
    settings.GONGZHI_OPEN311_TOKENS = True
    with clock.frozen_at(THURSDAY_9AM):
        response = form(client, f"{BASE}requests.json", {"api_key": key, **address_only(address_string="西园路")})
    [answer] = json_of(response)
    assert Submission.objects.get(key=answer["token"]).grid_id == dw.world.grid_b1.pk
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=2)):
        assert services.file_submissions().filed == 1
    assert Demand.objects.get().grid == dw.world.grid_b1


def test_the_default_list_has_no_request_without_a_service_code(client, dw, key):
    waiting = dw.file(text="有件事想反映一下")
    Demand.objects.filter(pk=waiting.pk).update(category=None)  # waits for the desk's triage
    filed = dw.file(category="traffic.roads", text="路面有大坑")
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
        listed = json_of(client.get(f"{BASE}requests.json"))
        by_id = json_of(client.get(f"{BASE}requests.json", {"service_request_id": f"{waiting.number},{filed.number}"}))
    assert [r["service_request_id"] for r in listed] == [filed.number] == [r["service_request_id"] for r in by_id]
    assert all(isinstance(r["service_code"], str) and r["service_code"] for r in listed)
    assert "unknown_service_request_id" in json_error(client.get(f"{BASE}requests/{waiting.number}.json"), 404)
    # Once triaged it is a service request like any other.
    Demand.objects.filter(pk=waiting.pk).update(category=Category.objects.get(code="environment.noise"))
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
        assert len(json_of(client.get(f"{BASE}requests.json"))) == 2
    if SPEC.is_dir():
        assert validate(listed, "requests.json") == []


def test_every_error_is_in_the_standard_format_json_for_json_and_xml_for_xml(client, dw, key, settings):
    for fmt, error in (("json", json_error), ("xml", xml_error)):
        refused = client.put(f"{BASE}services.{fmt}")
        assert error(refused, 405).startswith("method_not_allowed") and refused["Allow"] == "GET, HEAD"
        assert error(client.delete(f"{BASE}discovery.{fmt}"), 405)
        assert error(client.get(f"{BASE}no/such/thing.{fmt}"), 404).startswith("not_found")
        assert error(client.get(f"{BASE}services/no.such.{fmt}"), 404).startswith("unknown_service_code")
        assert error(client.get(f"{BASE}requests.{fmt}", {"status": "pending"}), 400).startswith("bad_status")
        # A body Django cannot read: a multipart form without its boundary.
        broken = client.post(f"{BASE}requests.{fmt}", data=b"api_key=x", content_type="multipart/form-data")
        assert error(broken, 400).startswith("bad_request")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    too_big = form(client, f"{BASE}requests.json", {"api_key": key, **resident_post(description="长" * 900)})
    assert json_error(too_big, 413).startswith("request_too_large")
    assert Demand.objects.count() == 0


def test_a_failure_is_answered_in_the_standard_format_and_logged(client, dw, monkeypatch, caplog):
    def broken():
        raise RuntimeError("the taxonomy table is gone")

    monkeypatch.setattr("gongzhi.demands.queries.open311_services", broken)
    assert xml_error(client.get(f"{BASE}services.xml"), 500).startswith("server_error")
    assert "the taxonomy table is gone" in caplog.text  # with its traceback, for the operator


def test_head_is_answered_like_get_without_the_body(client, dw, key):
    number = json_of(post_request(client, key))[0]["service_request_id"]
    for url in ("discovery.json", "discovery.xml", "services.json", "services/environment.garbage.xml",
                "requests.json", f"requests/{number}.xml", "nothing.json"):
        got, head = client.get(f"{BASE}{url}"), client.head(f"{BASE}{url}")
        assert (head.status_code, head["Content-Type"]) == (got.status_code, got["Content-Type"]), url
        assert head.content == b"" and got.content and head["Content-Length"] == str(len(got.content)), url


def test_a_revoked_key_is_refused(client, dw):
    client_row, raw = services.issue_open311_key("old app")
    services.revoke_open311_key(client_row.prefix)
    assert json_error(post_request(client, raw), 403).startswith("invalid_api_key")
    assert Demand.objects.count() == 0


def test_bad_format_unknown_paths_and_ids_are_404_and_bad_queries_400(client, dw, key):
    assert "unknown_format" in xml_error(client.get(f"{BASE}services.html"), 404)
    assert "unknown_format" in xml_error(form(client, f"{BASE}requests.csv", {"api_key": key, **resident_post()}), 404)
    assert Demand.objects.count() == 0
    assert "not_found" in xml_error(client.get(f"{BASE}services"), 404)
    assert "unknown_service_request_id" in json_error(client.get(f"{BASE}requests/2026112699999.json"), 404)
    assert "unknown_service_request_id" in xml_error(client.get(f"{BASE}requests/nope.xml"), 404)
    too_wide = client.get(f"{BASE}requests.json", {"start_date": "2026-01-01T00:00:00Z",
                                                   "end_date": "2026-06-01T00:00:00Z"})
    assert "range_too_wide" in json_error(too_wide, 400)
    assert "bad_start_date" in json_error(client.get(f"{BASE}requests.json", {"start_date": "last week"}), 400)
    assert "bad_status" in json_error(client.get(f"{BASE}requests.json", {"status": "pending"}), 400)
    assert "invalid_api_key" in json_error(client.get(f"{BASE}requests.json", {"api_key": "wrong"}), 403)
    refused = client.delete(f"{BASE}requests.json")
    assert json_error(refused, 405) and refused["Allow"] == "GET, POST, HEAD"


def test_a_foreign_jurisdiction_is_not_found(client, dw, key, settings):
    settings.GONGZHI_OPEN311_JURISDICTION = "gongzhi.example.gov.cn"
    assert "unknown_jurisdiction" in json_error(post_request(client, key, jurisdiction_id="sfgov.org"), 404)
    assert Demand.objects.count() == 0
    assert post_request(client, key, jurisdiction_id="gongzhi.example.gov.cn").status_code == 200
    assert client.get(f"{BASE}services.json", {"jurisdiction_id": "sfgov.org"}).status_code == 404


# --- personal data -------------------------------------------------------------------------------------------

WORDS_WITH_PERSONAL_DATA = "我是张三，电话13900001111，身份证110101199003071234，小区门口垃圾堆了三天没人清运"


def test_public_responses_carry_no_personal_data(client, dw, key):
    number = json_of(post_request(client, key, description=WORDS_WITH_PERSONAL_DATA))[0]["service_request_id"]
    web = dw.file(text="我是张三，电话13900001111，楼下噪音扰民", category="environment.noise")  # contact 张三
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
        bodies = [client.get(f"{BASE}requests.{fmt}", q).content.decode()
                  for fmt in ("json", "xml") for q in ({}, {"service_request_id": f"{number},{web.number}"})]
        bodies += [client.get(f"{BASE}requests/{n}.{fmt}").content.decode()
                   for n in (number, web.number) for fmt in ("json", "xml")]
    for body in bodies:
        for personal in ("张三", "13900001111", "110101199003071234", "zhang@example.com",
                         "dev-42", "app-user-7", "东园路1号门口"):
            assert personal not in body
    [public] = json_of(client.get(f"{BASE}requests/{number}.json"))
    # The public gets the words, scrubbed of the reporter's name and numbers, and the photo the app published.
    assert "垃圾堆了三天" in public["description"] and "张某" in public["description"]
    assert public["media_url"] == "https://img.example.org/p/1.jpg"
    assert public["address"] == "东园一网格, 东园社区, 和平街道" and public["address_id"] is None
    [other] = json_of(client.get(f"{BASE}requests/{web.number}.json"))
    assert "楼下噪音扰民" in other["description"] and "张某" in other["description"]


def test_a_key_sees_its_own_clients_requests_in_full_and_the_others_as_the_public_does(client, dw, key):
    _, other_key = services.issue_open311_key("另一个应用")
    number = json_of(post_request(client, key, description=WORDS_WITH_PERSONAL_DATA, lat="39.905371",
                                  long="116.005123"))[0]["service_request_id"]
    web = dw.file(text="我是张三，电话13900001111，楼下噪音扰民", category="environment.noise")  # contact 张三

    def seen(api_key=None):
        with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=5)):
            answer = json_of(client.get(f"{BASE}requests.json", {"api_key": api_key} if api_key else {}))
        return {r["service_request_id"]: r for r in answer}

    own, foreign, public = seen(key), seen(other_key), seen()
    assert own[number]["description"] == WORDS_WITH_PERSONAL_DATA
    assert own[number]["address"] == "东园路1号门口"
    assert (own[number]["lat"], own[number]["long"]) == (39.905371, 116.005123)
    # Client B reads client A's request exactly as an anonymous caller does; both read the web demand so.
    assert foreign[number] == public[number]
    assert "13900001111" not in foreign[number]["description"] and "张三" not in foreign[number]["description"]
    assert foreign[number]["address"] == "东园一网格, 东园社区, 和平街道"
    assert (foreign[number]["lat"], foreign[number]["long"]) == (39.905, 116.005)
    assert own[web.number] == foreign[web.number] == public[web.number]
    assert "13900001111" not in own[web.number]["description"]
    # With one request asked for by id, the same rule.
    [alone] = json_of(client.get(f"{BASE}requests/{number}.json", {"api_key": other_key}))
    assert alone == public[number]


def test_a_public_caller_gets_the_point_only_to_about_100_m(client, dw, key):
    precise = json_of(post_request(client, key, lat="39.905371", long="116.005123"))[0]["service_request_id"]
    [public] = json_of(client.get(f"{BASE}requests/{precise}.json"))
    assert (public["lat"], public["long"]) == (39.905, 116.005)
    [keyed] = json_of(client.get(f"{BASE}requests/{precise}.json", {"api_key": key}))
    assert (keyed["lat"], keyed["long"]) == (39.905371, 116.005123)


def test_the_operator_may_publish_the_free_text(client, dw, settings):
    settings.GONGZHI_OPEN311_PUBLIC_FREE_TEXT = True
    web = dw.file(text="路灯不亮", category="traffic.signals", address="东园路3号")
    [got] = json_of(client.get(f"{BASE}requests/{web.number}.json"))
    assert got["description"] == "路灯不亮" and got["address"] == "东园路3号"


# --- keys from the CLI ---------------------------------------------------------------------------------------

def test_cli_creates_lists_and_revokes_keys_and_records_each(dw):
    out, err = io.StringIO(), io.StringIO()
    call_command("open311", "key", "create", "FixMyStreet 移动端", "--contact", "ops@example.org", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("o3_") and len(raw) > 40 and "not shown again" in err.getvalue()
    client_row = Open311Client.objects.get()
    assert client_row.digest != raw and raw not in client_row.digest and client_row.prefix == raw[:8]
    assert services.open311_client_for(raw) == client_row
    issued = Event.objects.get(kind="demands.open311_key_issued")
    assert issued.data == {"name": "FixMyStreet 移动端", "prefix": raw[:8]} and raw not in json.dumps(issued.data)

    listing = io.StringIO()
    call_command("open311", "key", "list", stdout=listing)
    assert f"{raw[:8]}…\tFixMyStreet 移动端\tactive" in listing.getvalue() and raw not in listing.getvalue()

    call_command("open311", "key", "revoke", raw[:8], stdout=io.StringIO())
    assert services.open311_client_for(raw) is None
    assert Event.objects.filter(kind="demands.open311_key_revoked").count() == 1
    with pytest.raises(CommandError):
        call_command("open311", "key", "revoke", raw[:8], stdout=io.StringIO())


# --- a real HTTP client ------------------------------------------------------------------------------------

def http(url, fields=None):
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


@pytest.mark.django_db(transaction=True)
def test_a_resident_app_posts_form_encoded_over_http_and_reads_it_back(live_server, world, ledger_keys):
    from .factories import DemandWorld

    DemandWorld(world)
    _, key = services.issue_open311_key("resident app")
    base = live_server.url + BASE

    status, content_type, body = http(base + "requests.json", {"api_key": key, **resident_post()})
    assert status == 200 and content_type == "application/json; charset=utf-8"
    [created] = json.loads(body)
    number = created["service_request_id"]
    assert Demand.objects.get(number=number).channel == "open311"

    status, _, body = http(f"{base}requests/{number}.xml")
    assert status == 200
    [request] = ET.fromstring(body)
    assert request.findtext("service_request_id") == number and request.findtext("status") == "open"
    assert "张三".encode() not in body and b"13900001111" not in body

    status, _, body = http(base + "requests.xml", {"api_key": "wrong", **resident_post()})
    assert status == 403 and ET.fromstring(body).findtext("error/code") == "403"
    status, _, body = http(base + "requests.json", {"api_key": key, **resident_post(lat=NOWHERE[1], long=NOWHERE[0])})
    assert status == 400 and json.loads(body)[0]["description"].startswith("outside_grids")
    assert Demand.objects.count() == 1


# --- tokens: the POST answered before the request is filed ---------------------------------------------------

def test_with_tokens_a_post_answers_a_token_and_get_tokens_gives_the_id_once_filed(client, dw, key, settings):
    settings.GONGZHI_OPEN311_TOKENS = True
    for fmt in ("json", "xml"):
        response = post_request(client, key, fmt=fmt)
        assert response.status_code == 200
        if fmt == "json":
            [answer] = json_of(response)
            assert set(answer) == {"token", "service_notice", "account_id"} and answer["account_id"] == "app-user-7"
            token = answer["token"]
        else:
            root = xml_of(response)
            assert root.tag == "service_requests" and root[0].tag == "request"
            xml_token = root[0].findtext("token")
    assert not Demand.objects.exists()  # not filed yet: the intake worker files it
    [waiting] = json_of(client.get(f"{BASE}tokens/{token}.json"))
    assert waiting == {"service_request_id": None, "token": token}

    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=2)):
        assert services.file_submissions().filed == 2
    [found] = json_of(client.get(f"{BASE}tokens/{token}.json"))
    demand = Demand.objects.get(number=found["service_request_id"])
    assert demand.received_at == THURSDAY_9AM and demand.channel == "open311" and demand.reporter_user is None
    assert (demand.contact.name, demand.contact.phone) == ("张三", "13900001111")
    assert Event.objects.filter(kind="demands.open311_filed", subject_id=str(demand.pk)).get().private["email"] == \
        "zhang@example.com"
    root = xml_of(client.get(f"{BASE}tokens/{xml_token}.xml"))
    assert root[0].findtext("token") == xml_token and root[0].findtext("service_request_id").startswith("20261126")


def test_with_tokens_bad_posts_are_still_refused_at_once_and_unknown_tokens_are_404(client, dw, key, settings):
    settings.GONGZHI_OPEN311_TOKENS = True
    assert "outside" in json_error(post_request(client, key, lat=40.5, long=117.5), 400)
    assert json_error(post_request(client, key, service_code="no.such"), 404)
    assert not Submission.objects.exists()
    assert "unknown_token" in json_error(client.get(f"{BASE}tokens/nosuchtoken.json"), 404)
