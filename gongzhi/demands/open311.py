"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, POST and GET requests,
in XML (element names as the standard) and JSON (its Spark mapping of the XML), errors in the standard's
format. Demands are filed through services.file_open311_request and read through queries.open311_*.

Status: "open" or "closed", mapped from our states by queries.open311_status (closed = closed, rated,
merged, rejected). Privacy: GET responses never carry the reporter's name, phone or email. A client's key
shows that client's own requests in full: the description, the typed address, the exact point, the
address_id, media_url and the unit's reply in status_notes. Everyone else — no key, or another client's
key — sees a request as the public does: the description scrubbed (core.scrub: phone and ID numbers, the
reporter's name), `address` the grid, community and street it lies in, the point to about 100 m, and the
media_url the client published. settings.GONGZHI_OPEN311_PUBLIC_FREE_TEXT shows everything to everyone.

Every answer under /open311/v2/, errors included (404, 405, a malformed body, a failure), is in the
standard's format: JSON for a .json path, XML otherwise. HEAD is answered by core.head as a GET.
"""

import datetime as dt
import json
import logging
import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.http import HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.core import clock, ratelimit
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import gettext_lazy
from gongzhi.core.scrub import scrub

from . import queries, services
from .models import Demand, Submission

logger = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# Sortable stamp of the last change to what discovery and the service list promise (bump with them).
CHANGESET = "2026-11-26T00:00:00+08:00"
WINDOW = dt.timedelta(days=90)  # the standard's default and largest span of GET requests
# XML element of one item of each list (the Spark convention maps <services><service>… to a JSON array).
ITEM = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
        "endpoints": "endpoint", "formats": "format", "errors": "error"}


# Both languages whatever the client asked for: a hotline system relays it to a person.
PLACEMENT_NOTICE = ("已受理：地址登记中找不到该地址，将由街道（乡镇）派单台人工定位后立案，编号请查询 tokens/%(token)s。"
                    " Received: the district's address register does not know this address; a dispatch desk "
                    "will place it on the map and file it. Ask tokens/%(token)s for the request id.")


class BadApiKey(PermissionDenied):
    code = "invalid_api_key"
    base_message = gettext_lazy("Missing or invalid api_key")


# --- serialisation ----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry (control characters other than tab and line breaks).
NOT_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).translate(NOT_XML)


def _element(parent, name: str, value) -> None:
    node = ET.SubElement(parent, name)
    _fill(node, name, value)


def _fill(node, name: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, ITEM[name], item)
    else:
        node.text = _text(value)


def render(fmt: str, root: str, body, *, status: int = 200) -> HttpResponse:
    """`body` (a dict, or a list for a root named in ITEM) as XML under <root>, or as JSON (root dropped)."""
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False)
    else:
        tree = ET.Element(root)
        _fill(tree, root, body)
        content = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree, encoding="unicode")
    return HttpResponse(content.encode(), status=status, content_type=FORMATS[fmt])


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    """The standard's error list; `code` is the HTTP status, our stable code leads the description."""
    return render(fmt if fmt in FORMATS else "xml", "errors", [{"code": status, "description": description}],
                  status=status)


def _w3c(moment: dt.datetime | None) -> str | None:
    """W3C datetime with its offset, in local (Beijing) time: 2026-11-26T09:00:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _service(category) -> dict:
    group = category.parent
    keywords = [category.name_en, *([group.name, group.name_en] if group else [])]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name_en or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(k for k in keywords if k),
        "group": group.name if group else None,
    }


def _place(demand: Demand) -> str:
    """Where the demand lies, most specific first, without anything the resident typed."""
    grid = demand.grid
    names = [grid.name]
    if grid.parent_id:
        names.append(grid.parent.name)
        if grid.parent.parent_id:
            names.append(grid.parent.parent.name)
    return ", ".join(names)


def _status_notes(demand: Demand, free_text: bool) -> str:
    notes = str(Demand.State(demand.state).label)
    if demand.state == Demand.State.MERGED and demand.merged_into_id:
        notes = f"{notes}: {demand.merged_into.number}"
    if free_text and demand.reply:
        notes = f"{notes}: {demand.reply}"
    return notes


def _updated(demand: Demand) -> dt.datetime:
    # The standard: for closed requests, the date the request was closed.
    if demand.state in (Demand.State.CLOSED, Demand.State.RATED) and demand.closed_at:
        return demand.closed_at
    return demand.last_event_at or demand.received_at


def _coarse(value: float | None, exact: bool) -> float | None:
    return value if value is None or exact else round(value, 3)


def _request(demand: Demand, intake: dict, free_text: bool, names=()) -> dict:
    """One service request: in full for its own client (free_text), else as the public sees it."""
    category = demand.category
    agency = demand.lead_unit or demand.desk
    return {
        "service_request_id": demand.number,
        "status": queries.open311_status(demand.state),
        "status_notes": _status_notes(demand, free_text),
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": demand.text if free_text else scrub(demand.text, names),
        "agency_responsible": agency.name if agency else None,
        "service_notice": None,
        "requested_datetime": _w3c(demand.received_at),
        "updated_datetime": _w3c(_updated(demand)),
        "expected_datetime": _w3c(demand.feedback_due),
        "address": demand.address if free_text and demand.address else _place(demand),
        "address_id": intake.get("address_id") if free_text else None,  # a building is a door too
        "zipcode": None,
        # A point can be someone's door: public callers get it to ~100 m (3 decimals).
        "lat": _coarse(demand.latitude, free_text),
        "long": _coarse(demand.longitude, free_text),
        "media_url": intake.get("media_url") or None,  # published by the client with the request
    }


def _requests(demands, client) -> list[dict]:
    """Serialise demands: in full those `client` filed itself (or all, with the setting on), the others as
    the public sees them, scrubbed of the reporter's name as well as of phone and ID numbers."""
    public = getattr(settings, "GONGZHI_OPEN311_PUBLIC_FREE_TEXT", False)

    intake = queries.open311_intake([d.pk for d in demands])
    names = queries.reporter_names(demands)

    def own(demand) -> bool:
        return client is not None and intake.get(demand.pk, {}).get("client") == client.pk

    return [_request(d, intake.get(d.pk, {}), public or own(d), names.get(d.pk, ())) for d in demands]


# --- parsing --------------------------------------------------------------------------------------------------

def _param(data, name: str) -> str:
    """An argument, stripped; the standard: an optional argument passed empty is as if absent. Control
    characters are dropped (PostgreSQL refuses NUL in text, XML 1.0 the others)."""
    return (data.get(name) or "").translate(NOT_XML).strip()


def _list_param(data, name: str) -> list[str]:
    """Comma-delimited and/or repeated arguments."""
    return [part.strip() for value in data.getlist(name) for part in value.split(",") if part.strip()]


def _float(data, name: str) -> float | None:
    raw = _param(data, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(_("%(name)s must be a number") % {"name": name}, code=f"bad_{name}") from None


def _datetime(data, name: str) -> dt.datetime | None:
    raw = _param(data, name)
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("%(name)s must be a W3C datetime, e.g. 2026-11-26T00:00:00+08:00") % {"name": name},
                               code=f"bad_{name}") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _window(data) -> tuple[dt.datetime, dt.datetime]:
    """[start_date, end_date], by default the last 90 days; a wider span is refused (the standard)."""
    start, end = _datetime(data, "start_date"), _datetime(data, "end_date")
    if start is None and end is None:
        end = clock.now()
    if start is None:
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise ValidationFailed(_("end_date is before start_date"), code="bad_range")
    if end - start > WINDOW:
        raise ValidationFailed(_("start_date and end_date may not span more than 90 days"), code="range_too_wide")
    return start, end


def _client(*sources, required: bool):
    """The Open311 client of the api_key argument (the form, else the query string: some clients put it
    in the URL); 403 when a key is required or given but not valid."""
    raw = next((_param(data, "api_key") for data in sources if _param(data, "api_key")), "")
    if not raw and not required:
        return None
    client = services.open311_client_for(raw)
    if client is None:
        raise BadApiKey(gettext_lazy("api_key missing") if not raw else gettext_lazy("api_key not valid"))
    return client


def _check_jurisdiction(data) -> None:
    """One jurisdiction per endpoint: jurisdiction_id is optional; a different one is not found."""
    given = _param(data, "jurisdiction_id")
    ours = getattr(settings, "GONGZHI_OPEN311_JURISDICTION", "")
    if given and ours and given != ours:
        raise NotFound(_("jurisdiction_id %(given)s") % {"given": given}, code="unknown_jurisdiction")


def _media_url(value: str) -> str:
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise ValidationFailed(_("media_url must be an http(s) URL"), code="bad_media_url") from None
    return value


# --- views ----------------------------------------------------------------------------------------------------

# What Django raises for a request body it cannot read (too big, too many fields, a broken multipart form).
UNREADABLE = (BadRequest, SuspiciousOperation, MultiPartParserError, UnreadablePostError)


def endpoint(*methods):
    """An Open311 view: known format or 404, allowed method or 405 (HEAD wherever GET is), domain errors,
    an unreadable body (400) and any failure (500, logged with its traceback) in the standard's format."""
    allowed = (*methods, "HEAD") if "GET" in methods else methods

    def wrap(view):
        @csrf_exempt
        def handle(request, fmt, **kwargs):
            if fmt not in FORMATS:
                return error_response("xml", 404, f"unknown_format: .{fmt} (use .xml or .json)")
            if request.method not in allowed:
                response = error_response(fmt, 405, f"method_not_allowed: {request.method}")
                response["Allow"] = ", ".join(allowed)
                return response
            try:
                _check_jurisdiction(request.POST if request.method == "POST" else request.GET)
                return view(request, fmt, **kwargs)
            except DomainError as err:
                return error_response(fmt, err.status, f"{err.code}: {err.message()}")
            except RequestDataTooBig:
                return error_response(fmt, 413, "request_too_large: the request body is too large")
            except UNREADABLE as err:
                logger.warning("Open311 %s %s: unreadable request: %s", request.method, request.path, err)
                return error_response(fmt, 400, "bad_request: the request could not be read")
            except Exception:
                logger.exception("Open311 %s %s failed", request.method, request.path)
                return error_response(fmt, 500, "server_error: the request failed; it has been logged")

        handle.__name__ = handle.__qualname__ = view.__name__
        handle.__doc__ = view.__doc__
        return handle

    return wrap


@endpoint("GET")
def discovery(request, fmt):
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    url = request.build_absolute_uri("/open311/v2/").rstrip("/")
    body = {
        "changeset": getattr(settings, "GONGZHI_OPEN311_CHANGESET", CHANGESET),
        "contact": getattr(settings, "GONGZHI_OPEN311_CONTACT", "") or _("Ask the operator of this gongzhi site."),
        "key_service": getattr(settings, "GONGZHI_OPEN311_KEY_SERVICE", "")
        or _("API keys are issued by the operator of this site (gongzhi open311 key create NAME)."),
        "endpoints": [{
            "specification": SPECIFICATION, "url": url,
            "changeset": getattr(settings, "GONGZHI_OPEN311_CHANGESET", CHANGESET),
            "type": getattr(settings, "GONGZHI_OPEN311_ENDPOINT_TYPE", "production"),
            "formats": ["text/xml", "application/json"],
        }],
    }
    return render(fmt, "discovery", body)


@endpoint("GET")
def service_list(request, fmt):
    """GET Service List: one service per leaf category of the taxonomy."""
    return render(fmt, "services", [_service(c) for c in queries.open311_services()])


@endpoint("GET")
def service_definition(request, fmt, service_code):
    """GET Service Definition: no extra attributes are asked for (metadata is false), so an empty list."""
    category = queries.open311_service(service_code)
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": []})


@endpoint("GET", "POST")
def requests(request, fmt):
    """POST: file a service request (api_key required). GET: query service requests."""
    if request.method == "POST":
        return _create(request, fmt)
    data = request.GET
    client = _client(data, required=False)
    numbers = _list_param(data, "service_request_id")
    if numbers:
        demands = queries.open311_requests(numbers=numbers)
    else:
        statuses = _list_param(data, "status")
        if set(statuses) - {"open", "closed"}:
            raise ValidationFailed(_("status must be open or closed"), code="bad_status")
        start, end = _window(data)
        demands = queries.open311_requests(service_codes=_list_param(data, "service_code"), start=start, end=end,
                                           statuses=statuses)
    return render(fmt, "service_requests", _requests(list(demands), client))


@endpoint("GET")
def request_detail(request, fmt, service_request_id):
    """GET Service Request: one request by its id (the demand number), as a one-item list."""
    client = _client(request.GET, required=False)
    demands = list(queries.open311_requests(numbers=[service_request_id]))
    if not demands:
        raise NotFound(_("service_request_id %(service_request_id)s")
                       % {"service_request_id": service_request_id}, code="unknown_service_request_id")
    return render(fmt, "service_requests", _requests(demands, client))


def _create(request, fmt):
    data = request.POST
    client = _client(data, request.GET, required=True)
    ratelimit.check(request, "open311_request", who=f"open311:{client.pk}")
    service_code = _param(data, "service_code")
    if not service_code:
        raise ValidationFailed(_("service_code was not provided"), code="service_code_required")
    account_id = _param(data, "account_id")
    fields = dict(
        service_code=service_code, longitude=_float(data, "long"), latitude=_float(data, "lat"),
        address_id=_param(data, "address_id"), address=_param(data, "address_string"),
        description=_param(data, "description"), first_name=_param(data, "first_name"),
        last_name=_param(data, "last_name"), phone=_param(data, "phone"), email=_param(data, "email"),
        device_id=_param(data, "device_id"), account_id=account_id, media_url=_media_url(_param(data, "media_url")),
    )
    received = services.receive_open311_request(client, **fields)
    if isinstance(received, Submission):
        # The standard's other answer: a token now, the service_request_id from GET tokens/{token} once
        # the request is filed: by the intake worker (GONGZHI_OPEN311_TOKENS, decision 0005), or once a
        # dispatch desk has placed an address the register could not place.
        if received.grid_id is None:
            notice = PLACEMENT_NOTICE % {"token": received.key}
        else:
            notice = _("Received. Ask tokens/%(token)s for the request id.") % {"token": received.key}
        return render(fmt, "service_requests", [{
            "token": received.key, "service_notice": notice, "account_id": account_id or None}])
    demand = received.demand
    notice = _("Received. First feedback is due by %(due)s.") % {"due": _w3c(demand.feedback_due)}
    return render(fmt, "service_requests", [{
        "service_request_id": demand.number, "service_notice": notice, "account_id": account_id or None,
    }])


@endpoint("GET")
def token(request, fmt, token_id):
    """GET Service Request ID from a token: the id once the request is filed, empty until then; a request
    refused when it was filed is answered with the standard's error and the reason."""
    submission = services.submission_by_key(token_id)
    if submission.state == submission.State.REFUSED:
        return error_response(fmt, 400, f"{submission.error_code}: {submission.error_message}")
    return render(fmt, "service_requests", [{
        "service_request_id": submission.demand.number if submission.demand_id else None, "token": token_id}])


@csrf_exempt
def not_found(request, path=""):
    """Anything else under /open311/v2/: the standard's 404, in JSON when the path asks for .json."""
    fmt = "json" if path.lower().endswith(".json") else "xml"
    return error_response(fmt, 404, f"not_found: /open311/v2/{path}")
