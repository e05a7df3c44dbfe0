"""Hotline work orders (工单) from CSV: `gongzhi demands import FILE [--mapping MAPPING.json] --as USERNAME`.

Each row becomes one demand filed through services.file_demand with channel "hotline", by the operator
account named with --as, at the moment the call was received (the row's received_at: its deadlines run
from then, and its number is one of that day's). The caller's name and phone go to the demand's contact
(DemandContact), never into the public ledger. Like the org imports, the whole file is checked first,
every bad row is reported with its line number, and nothing is stored unless every row is good (one
transaction; an error while filing rolls back the rows before it too).

The file: UTF-8 (with or without the BOM Excel writes), one header line, then one work order per row.
Which column holds what is a mapping {our field: their column header}; a mapping file replaces the
default header of the fields it names. The fields and their default headers:

    external_id   工单号     the hotline system's work-order number; when the column is there it is required,
                             unique in the file, and a number imported before is refused (duplicate)
    received_at   来电时间   when the call came in: 2026-11-26 09:15[:00], 2026/11/26 9:15, or ISO 8601;
                             local time (Asia/Shanghai) unless it carries an offset; not in the future.
                             Without the column, work orders are received at the time of the import
    text          诉求内容   required, at most 4,000 characters
    address       地址       optional; also locates the demand when it names a building of the district
                             (its registered address, e.g. 东华路3号院2号楼, anywhere in the cell)
    longitude     经度       WGS-84 decimal degrees; with latitude, placed in its grid (outside every grid:
    latitude      纬度       refused)
    grid          网格编码   the grid's grid_code, when the work order has no coordinates
    category      分类编码   a category code (environment.garbage) or a category's Chinese name (垃圾清运与分类);
                             empty: the demand waits at the dispatch desk for triage
    urgency       紧急程度   emergency / utilities / ordinary / complex or 紧急 / 水电气热 / 一般 / 较复杂;
                             empty: proposed from the category and the text
    phone         来电号码   the caller's phone: a mobile (13812345678) or a landline with area code
    name          来电人     the caller's name as they gave it (王女士)

A location is required: coordinates, else a grid code, else an address naming a known building.
A mapping file is a JSON object, e.g. {"text": "问题描述", "received_at": "受理时间", "external_id": "受理编号"};
docs/examples/ has a work-order file with the default headers and one with its own headers and mapping.

Duplicates. The demand has no column for the hotline's number, so each imported demand gets one more
journal event, "demands.imported" {number, external_id} (public: a work-order number is not personal
data); a later import looks its external ids up there.

Operator tool, for the CLI: each row is filed with core.clock frozen at its received_at, which is
process-wide, so do not run an import inside a web server process.
"""

import csv
import datetime as dt
import io
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from gongzhi.core import clock, events
from gongzhi.core.errors import DomainError, ImportRejected, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.models import Event
from gongzhi.org import locating
from gongzhi.org.models import Building, Region
from gongzhi.org.rules import is_valid_phone
from gongzhi.org.spatial import NO_ID

from . import rules, services
from .models import Category, Demand

DEFAULT_MAPPING = {
    "external_id": "工单号",
    "received_at": "来电时间",
    "text": "诉求内容",
    "address": "地址",
    "longitude": "经度",
    "latitude": "纬度",
    "grid": "网格编码",
    "category": "分类编码",
    "urgency": "紧急程度",
    "phone": "来电号码",
    "name": "来电人",
}
IMPORTED_EVENT = "demands.imported"
URGENCY_NAMES = {"紧急": rules.EMERGENCY, "水电气热": rules.UTILITIES, "一般": rules.ORDINARY, "较复杂": rules.COMPLEX}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
MAX_NAME, MAX_EXTERNAL_ID = 60, 64


@dataclass
class HotlineImport:
    """What an import filed: the numbers of the new demands, in the order they were filed."""

    numbers: list[str] = field(default_factory=list)
    dispatched: int = 0  # routed to a unit at once by a routing rule
    waiting: int = 0  # at the dispatch desk (no category, or no rule matched)

    @property
    def created(self) -> int:
        return len(self.numbers)

    def summary(self) -> str:
        return f"{self.created} demands filed ({self.dispatched} dispatched by routing, {self.waiting} at the desk)"


@dataclass
class _Order:
    """One checked row, ready to file."""

    line: int
    text: str
    received_at: dt.datetime | None = None
    external_id: str = ""
    address: str = ""
    longitude: float | None = None
    latitude: float | None = None
    grid: Region | None = None
    category: Category | None = None
    urgency: str | None = None
    phone: str = ""
    name: str = ""


class _Errors:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, line: int | None, message: str, **where) -> None:
        self.items.append({"line": line, **where, "message": message})

    def reject_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda e: e["line"] or 0)
            raise ImportRejected(_("%(items_count)s error(s) in the work orders")
                                 % {"items_count": len(self.items)}, errors=self.items)


# --- reading ----------------------------------------------------------------------------------------------

def load_mapping(data: str | bytes | dict | None) -> dict[str, str]:
    """The defaults overridden by a mapping (a dict, or JSON text): {field: column header}."""
    return {**DEFAULT_MAPPING, **_given_mapping(data)}


def _given_mapping(data: str | bytes | dict | None) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        try:
            data = json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed(_("the mapping is not JSON: %(exc)s") % {"exc": exc}, code="bad_mapping") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise ValidationFailed(_('the mapping must be a JSON object {"field": "column header", …}'), code="bad_mapping")
    unknown = sorted(set(data) - set(DEFAULT_MAPPING))
    if unknown:
        raise ValidationFailed(_("unknown field(s) in the mapping: %(join)s (known: %(join2)s)")
                               % {"join": ', '.join(unknown), "join2": ', '.join(DEFAULT_MAPPING)}, code="bad_mapping")
    return {k: v.strip() for k, v in data.items()}


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = "the file is not UTF-8 text (in Excel: save as “CSV UTF-8”)"
        raise ImportRejected(_("line %(line)s: %(message)s")
                             % {"line": line, "message": message}, errors=[{"line": line, "message": message}]) from None


def _rows(text: str, mapping: dict[str, str], explicit: set[str], errors: _Errors) -> tuple[dict[str, int], list]:
    """The column index of each mapped field, and (line, cells) of each non-empty row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
    except csv.Error as exc:
        errors.add(1, f"unreadable header: {exc}")
        return {}, []
    if not any(header):
        errors.add(1, "the file is empty: a header line is required")
        return {}, []
    columns = {}
    for name, heading in mapping.items():
        if heading in header:
            columns[name] = header.index(heading)
        elif name == "text" or name in explicit:
            errors.add(1, f"no column “{heading}” for {name} (the header has: {', '.join(h for h in header if h)})")
    if ("longitude" in columns) != ("latitude" in columns):
        errors.add(1, "longitude and latitude come together: map both columns or neither")
    rows, previous = [], reader.line_num
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
    except csv.Error as exc:
        errors.add(reader.line_num, f"unreadable CSV: {exc}")
    return columns, rows


def parse_received_at(value: str) -> dt.datetime:
    """A call time as hotline systems write it; naive times are Beijing time."""
    value = value.strip()
    moment = None
    for pattern in TIME_FORMATS:
        try:
            moment = dt.datetime.strptime(value, pattern)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a time: “{value}” (write 2026-11-26 09:15)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.get_default_timezone())
    return moment


def _phone(value: str) -> str:
    return value.replace(" ", "").removeprefix("+86")


class _Places:
    """Grids by code and buildings by registered address, read once."""

    def __init__(self):
        self.grids = {r.grid_code: r for r in Region.objects.filter(level=Region.Level.GRID).exclude(grid_code=None)}
        self.buildings = {address: (lon, lat) for address, lon, lat in
                          Building.objects.exclude(address="").values_list("address", "longitude", "latitude")}
        self.longest = max((len(a) for a in self.buildings), default=0)

    def building_in(self, address: str) -> tuple[float, float] | None:
        """The coordinates of the building whose address occurs in `address` (the longest such)."""
        text = "".join(address.split())
        for size in range(min(self.longest, len(text)), 1, -1):
            for start in range(0, len(text) - size + 1):
                found = self.buildings.get(text[start:start + size])
                if found is not None:
                    return found
        return None


def _categories() -> tuple[dict[str, Category], dict[str, Category | None]]:
    by_code, by_name = {}, {}
    for category in Category.objects.filter(is_active=True):
        by_code[category.code] = category
        by_name[category.name] = None if category.name in by_name else category  # None: the name is ambiguous
    return by_code, by_name


def _check(columns: dict[str, int], rows: list, errors: _Errors) -> list[_Order]:
    places = _Places()
    by_code, by_name = _categories()
    now = clock.now()
    orders, seen_ids = [], {}
    for line, cells in rows:
        def cell(name: str) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        def bad(message: str, line=line) -> None:
            errors.add(line, message)

        order = _Order(line=line, text=cell("text"))
        if not order.text:
            bad("the demand's text (诉求内容) is empty")
        elif len(order.text) > services.MAX_TEXT:
            bad(f"the text is longer than {services.MAX_TEXT} characters")
        if "external_id" in columns:
            order.external_id = cell("external_id")
            if not order.external_id:
                bad("the work-order number is empty")
            elif len(order.external_id) > MAX_EXTERNAL_ID:
                bad(f"the work-order number is longer than {MAX_EXTERNAL_ID} characters")
            elif order.external_id in seen_ids:
                bad(f"work order {order.external_id} is also on line {seen_ids[order.external_id]}")
            else:
                seen_ids[order.external_id] = line
        if "received_at" in columns:
            try:
                order.received_at = parse_received_at(cell("received_at"))
                if order.received_at > now:
                    bad(f"received at {cell('received_at')}, which is in the future")
            except ValueError as exc:
                bad(str(exc) if cell("received_at") else "the call time (来电时间) is empty")
        order.address = cell("address")
        longitude, latitude = cell("longitude"), cell("latitude")
        if longitude or latitude:
            try:
                order.longitude, order.latitude = float(longitude), float(latitude)
                if not (math.isfinite(order.longitude) and math.isfinite(order.latitude)
                        and -180 <= order.longitude <= 180 and -90 <= order.latitude <= 90):
                    raise ValueError
            except ValueError:
                bad(f"not a location: longitude “{longitude}”, latitude “{latitude}”")
                order.longitude = order.latitude = None
        elif cell("grid"):
            order.grid = places.grids.get(cell("grid"))
            if order.grid is None:
                bad(f"no grid with code {cell('grid')}")
        elif order.address and (found := places.building_in(order.address)):
            order.longitude, order.latitude = found
        else:
            bad("no location: give longitude and latitude, a grid code, or an address naming a known building")
        if code := cell("category"):
            order.category = by_code.get(code) or by_name.get(code)
            if order.category is None:
                bad(f"unknown category “{code}”" + (" (the name is ambiguous: give the code)" if code in by_name else ""))
        if urgency := cell("urgency"):
            order.urgency = URGENCY_NAMES.get(urgency, urgency)
            if order.urgency not in rules.URGENCIES:
                bad(f"unknown urgency “{urgency}”")
        order.phone = _phone(cell("phone"))
        if order.phone and not is_valid_phone(order.phone):
            bad(f"not a phone number: “{cell('phone')}”")
        order.name = cell("name")
        if len(order.name) > MAX_NAME:
            bad(f"the caller's name is longer than {MAX_NAME} characters")
        orders.append(order)
    located = [o for o in orders if o.longitude is not None]
    if located:
        hits = locating.locate_many([o.longitude for o in located], [o.latitude for o in located])
        for order, grid_id in zip(located, hits.grid_ids, strict=True):
            if grid_id == NO_ID:
                errors.add(order.line, f"the location {order.longitude}, {order.latitude} lies outside every grid")
    if seen_ids:
        ids = list(seen_ids)
        for start in range(0, len(ids), 500):
            for found in Event.objects.filter(kind=IMPORTED_EVENT, data__external_id__in=ids[start:start + 500]):
                errors.add(seen_ids[found.data["external_id"]],
                           f"work order {found.data['external_id']} was imported before, as demand {found.data['number']}")
    return orders


# --- filing ---------------------------------------------------------------------------------------------------

def import_hotline(data: str | bytes, *, actor, mapping: dict | str | bytes | None = None) -> HotlineImport:
    """File every work order of a hotline CSV as a demand (channel "hotline"), or none of them: the whole
    file is checked first, and a row the services refuse rolls back the rows filed before it. Raises
    ImportRejected with [{line, message}] for every bad row."""
    if actor is None or not getattr(actor, "is_active", False):
        raise ValidationFailed(_("the work orders must be filed by an active operator account"), code="actor_required")
    given = _given_mapping(mapping)
    errors = _Errors()
    columns, rows = _rows(_decode(data), {**DEFAULT_MAPPING, **given}, set(given), errors)
    errors.reject_if_any()
    orders = _check(columns, rows, errors)
    errors.reject_if_any()
    # In order of receipt, so that numbers of one day follow the calls.
    orders.sort(key=lambda o: (o.received_at or clock.now(), o.line))
    report = HotlineImport()
    with transaction.atomic():
        for order in orders:
            try:
                with clock.frozen_at(order.received_at or clock.now()):
                    step = services.file_demand(
                        actor, text=order.text, channel=Demand.Channel.HOTLINE, longitude=order.longitude,
                        latitude=order.latitude, grid=order.grid, address=order.address, category=order.category,
                        urgency=order.urgency, contact_name=order.name, contact_phone=order.phone,
                    )
                    if order.external_id:
                        events.record(IMPORTED_EVENT, step.demand, actor=actor, number=step.demand.number,
                                      external_id=order.external_id, channel=Demand.Channel.HOTLINE)
            except DomainError as exc:
                errors.add(order.line, exc.message("en"))
                continue
            report.numbers.append(step.demand.number)
            if step.demand.state == Demand.State.DISPATCHED:
                report.dispatched += 1
            else:
                report.waiting += 1
        errors.reject_if_any()
    return report


# --- the CLI verb ---------------------------------------------------------------------------------------------

def add_import_verb(subparsers) -> None:
    """`gongzhi demands import FILE [--mapping MAPPING.json] --as USERNAME`."""
    parser = subparsers.add_parser(
        "import", help="file hotline work orders (工单) from a CSV file; all or nothing",
        description="File hotline work orders from CSV (UTF-8, one header line). Default columns: "
                    + ", ".join(f"{k}={v}" for k, v in DEFAULT_MAPPING.items())
                    + ". See gongzhi/demands/imports.py for the rules.")
    parser.add_argument("file", metavar="FILE", help='the CSV file, or "-" for standard input')
    parser.add_argument("--mapping", metavar="MAPPING.json",
                        help='JSON object {"field": "their column header"} replacing the default headers it names')
    parser.add_argument("--as", dest="username", required=True, metavar="USERNAME",
                        help="the hotline operator's account the demands are filed by (it answers their 回访)")


def run_import(options: dict, stdout, stderr=None) -> HotlineImport:
    """Run the import verb; a rejected file prints "line N: message" per error to stderr and raises
    CommandError (non-zero exit), having stored nothing."""
    user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {options['username']}")
    try:
        mapping = Path(options["mapping"]).read_bytes() if options.get("mapping") else None
        data = _read(options["file"])
    except OSError as exc:
        raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    try:
        report = import_hotline(data, actor=user, mapping=mapping)
    except ImportRejected as exc:
        for error in exc.context.get("errors", []):
            where = f"line {error['line']}: " if error.get("line") else ""
            (stderr or stdout).write(f"{where}{error['message']}")
        raise CommandError(exc.message("en")) from exc
    except ValidationFailed as exc:
        raise CommandError(exc.message("en")) from exc
    stdout.write(f"work orders imported: {report.summary()}")
    return report


def _read(file: str) -> bytes:
    if file == "-":
        stream = sys.stdin
        return stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
    return Path(file).read_bytes()
