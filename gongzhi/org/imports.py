"""Import and export of the organisation model: the region tree as GeoJSON, people and posts as CSV.

Both imports check the whole file first, report every error with its line number and store
nothing unless the whole file is good (one transaction; a database error rolls back too).
Imports are operator tools (the `gongzhi org` CLI): they check no can(); `actor` only signs the event.

Regions: a GeoJSON FeatureCollection, one Feature per region, in any order
-----------------------------------------------------------------------------
properties  name        required
            kind        district | street | township | community | village | grid
            admin_code  12-digit statistical division code; required above the grid, optional for a grid
            grid_code   required for a grid, only for a grid
            parent      admin_code (or grid_code) of the parent, in the file or already in the database;
                        absent for a district
geometry    Polygon or MultiPolygon in WGS-84 lon/lat; required for a grid. Above the grid it is
            optional, checked when given, and replaced by the union of the grids below
            (geometry.derive_polygons), so an export imports back unchanged.
A feature whose admin_code or grid_code matches a region in the database updates it (name, kind
within the same level, parent, polygon); any other feature creates a region. Grids of one community
may not overlap (intersection larger than OVERLAP_TOLERANCE square degrees, about 10 m²).
Errors: [{"line": where the feature starts in the file, "feature": its position from 1, "message"}].

People and posts: CSV, UTF-8 (with or without the BOM Excel writes), one header line
---------------------------------------------------------------------------------------
One row per post; a person holding several posts (一肩挑) takes several rows with the same
person_ref, the person columns filled on the first of them and empty (or identical) after. A person
with no post is one row with the post columns empty. Only `name` is a required column.

person_ref            any key, stable within the file (empty: the row is a person of its own)
name                  姓名
gender                M / F / 男 / 女 (taken from the ID number when empty)
birth_date            YYYY-MM-DD (also YYYY/M/D as Excel saves it; from the ID number when empty)
phone                 mobile 13812345678 or landline 010-12345678
id_number             18-character resident ID number (format the Excel column as text!)
residence             admin_code of the community / village (taken from the building when empty)
building              grid_code/building name, e.g. A1/1号楼 — with unit, the household (created if new)
unit                  room, e.g. 1-101
relation_to_head      与户主关系, e.g. 户主, 配偶, 子女
is_party_member       是 / 否 (also yes/no, true/false, 1/0, Y/N)
party_organisation    the party organisation of a member (organisation reference, see below)
registered_residence  admin_code of the community / village of the household registration (户籍)
registered_elsewhere  the household registration when outside this system, free text
organisation          organisation reference of the post
role                  secretary, deputy_secretary, director, deputy_director, member, staff,
                      group_leader, grid_worker, building_lead, instructor, liaison
                      (or 书记, 副书记, 主任, 副主任, 委员, 工作人员, 党小组长, 网格员, 楼栋长, 党建指导员, 联络员)
title                 the title as written locally, e.g. 党委书记、居委会主任
grid                  grid_code of a grid worker's grid
led_building          grid_code/building name of a building lead's building
served_organisation   organisation reference of the unit an instructor serves
start_date            YYYY-MM-DD, required with a post
end_date              YYYY-MM-DD, empty while in post

An organisation reference is its name, or "code/name" (the admin_code or grid_code of its region)
when the name alone is not unique. A row whose ID number is already in the database updates that
person (every column present in the header is written, empty cells included) and adds the posts
they do not already hold; other rows create people. Exports write the same columns, so an export
imports back; cells starting with = + - @ are prefixed with ' against spreadsheet formulas.
"""

import bisect
import csv
import datetime as dt
import io
import json
import math
import re
from dataclasses import dataclass, field

import shapely
from django.db import DataError, IntegrityError, transaction
from django.db.models import Count, Q
from shapely.geometry import shape
from shapely.validation import explain_validity

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import ImportRejected, ValidationFailed
from gongzhi.core.i18n import gettext_lazy

from .geometry import _plain, derive_polygons
from .models import (
    Building, Household, Organisation, Person, PersonalData, PersonalDataAccess, Post, Region,
)
from .rules import is_valid_admin_code, is_valid_id_number, is_valid_phone

OVERLAP_TOLERANCE = 1e-9  # square degrees: about 10 m² in northern China; slivers of a shared border pass


@dataclass
class ImportReport:
    """What an import stored: `created` and `updated` count its main rows (regions or people)."""

    created: int = 0
    updated: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        extra = "".join(f", {n} {what}" for what, n in self.counts.items())
        return f"{self.created} created, {self.updated} updated{extra}"


class _Errors:
    """Collects every error of a file, then rejects the import with all of them at once."""

    def __init__(self, what: str):
        self.what = what
        self.items: list[dict] = []

    def add(self, line: int | None, message: str, **where) -> None:
        self.items.append({"line": line, **where, "message": message})

    def reject_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda e: (e["line"] or 0))
            raise ImportRejected(gettext_lazy("%(items_count)s error(s) in the %(what)s")
                                 % {"items_count": len(self.items), "what": self.what}, errors=self.items)


def _decode(data: str | bytes) -> str:
    """Text from bytes or str, UTF-8 with or without a BOM."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            message = "the file is not UTF-8 text (in Excel: save as “CSV UTF-8”)"
            raise ImportRejected(gettext_lazy("line %(line)s: %(message)s")
                                 % {"line": line, "message": message}, errors=[{"line": line, "message": message}]) from None
    return data[1:] if data.startswith("\ufeff") else data


def _common_region(regions) -> Region | None:
    """The lowest region containing all `regions` (the first root when they span several trees)."""
    paths = sorted({r.path for r in regions if r is not None})
    if not paths:
        return None
    split = [p.strip("/").split("/") for p in paths]
    common = []
    for parts in zip(*split):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return Region.objects.get(pk=int(common[-1] if common else split[0][0]))


# ---------------------------------------------------------------------------------------------
# Regions: GeoJSON
# ---------------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


def _feature_offsets(text: str) -> list[int]:
    """Where each element of the top-level "features" array starts (`text` is known to parse)."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()
    if text[pos : pos + 1] != "{":
        return []
    pos += 1
    offsets: list[int] = []
    while True:
        pos = _WS.match(text, pos).end()
        if text[pos] == "}":
            return offsets
        if text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()
        key, pos = decoder.raw_decode(text, pos)
        pos = _WS.match(text, _WS.match(text, pos).end() + 1).end()  # past the ':'
        if key == "features" and text[pos] == "[":
            offsets = []
            pos += 1
            while True:
                pos = _WS.match(text, pos).end()
                if text[pos] == "]":
                    pos += 1
                    break
                if text[pos] == ",":
                    pos = _WS.match(text, pos + 1).end()
                offsets.append(pos)
                _, pos = decoder.raw_decode(text, pos)
        else:
            _, pos = decoder.raw_decode(text, pos)


@dataclass(eq=False)
class _Feature:
    index: int  # position in the features array, from 1
    line: int
    name: str = ""
    kind: str = ""
    admin_code: str | None = None
    grid_code: str | None = None
    parent_code: str | None = None
    geometry: dict | None = None
    shape: object = None
    is_usable: bool = True  # well-formed enough to take part in the tree checks
    existing: Region | None = None
    parent: "_Feature | Region | None" = None

    @property
    def level(self) -> int:
        return Region.KIND_LEVEL.get(self.kind, 0)

    @property
    def code(self) -> str:
        return self.grid_code if self.kind == Region.Kind.GRID else (self.admin_code or "")

    @property
    def key(self) -> tuple:
        """Identity in the final tree: the existing region it updates, or itself."""
        return ("db", self.existing.pk) if self.existing else ("file", self.index)


def _code(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip()


def _check_geometry(geometry) -> tuple[object, list[str]]:
    """The shapely shape of a GeoJSON Polygon / MultiPolygon in lon/lat, or None and the reasons."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None, ["the geometry must be a GeoJSON Polygon or MultiPolygon"]
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons or not all(isinstance(p, list) and p for p in polygons):
        return None, ["the geometry has no coordinates"]
    problems: list[str] = []
    for polygon in polygons:
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                problems.append("a ring needs at least 4 positions (first = last)")
                continue
            for position in ring:
                if (not isinstance(position, list) or len(position) not in (2, 3)
                        or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                                   for c in position)):
                    problems.append(f"bad position {json.dumps(position)}: expected [longitude, latitude]")
                    break
                lon, lat = position[0], position[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    swapped = -90 <= lon <= 90 and -180 <= lat <= 180
                    problems.append(f"position [{lon}, {lat}] is outside longitude/latitude range"
                                    + (" (latitude and longitude swapped?)" if swapped else ""))
                    break
            else:
                if ring[0] != ring[-1]:
                    problems.append("a ring is not closed (its last position must repeat the first)")
    if problems:
        return None, problems[:3]
    geom = shape(geometry)
    if not geom.is_valid:
        return None, [f"invalid geometry: {explain_validity(geom)}"]
    if geom.area <= 0:
        return None, ["the geometry has no area"]
    return geom, []


def _parse_features(data, errors: _Errors) -> list[_Feature]:
    text = _decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise ImportRejected(message, errors=[{"line": exc.lineno, "column": exc.colno, "message": message}]) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        message = 'expected a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}'
        raise ImportRejected(message, errors=[{"line": 1, "message": message}])
    if not document["features"]:
        raise ImportRejected(gettext_lazy("the file has no features"), errors=[{"line": 1, "message": "the file has no features"}])
    newlines = [m.start() for m in re.finditer("\n", text)]
    lines = [bisect.bisect_right(newlines, offset) + 1 for offset in _feature_offsets(text)]

    features = []
    for index, raw in enumerate(document["features"], start=1):
        f = _Feature(index=index, line=lines[index - 1] if index - 1 < len(lines) else 1)
        features.append(f)

        def bad(message, f=f):
            errors.add(f.line, message, feature=f.index)
            f.is_usable = False

        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            bad('expected a Feature: {"type": "Feature", "properties": {...}, "geometry": {...}}')
            continue
        props = raw.get("properties")
        if not isinstance(props, dict):
            bad("the feature has no properties")
            continue
        f.name = str(props.get("name") or "").strip()
        f.kind = str(props.get("kind") or "").strip()
        f.admin_code, f.grid_code = _code(props.get("admin_code")), _code(props.get("grid_code"))
        f.parent_code = _code(props.get("parent"))
        if not f.name:
            bad("name is required")
        elif len(f.name) > 100:
            bad("name is longer than 100 characters")
        if f.kind not in Region.KIND_LEVEL:
            bad(f"kind {f.kind!r} is not one of {', '.join(Region.KIND_LEVEL)}")
            continue
        is_grid = f.kind == Region.Kind.GRID
        if f.admin_code is not None and not is_valid_admin_code(f.admin_code):
            bad(f"admin_code {f.admin_code!r} is not a 12-digit administrative code")
        if not is_grid and f.admin_code is None:
            bad(f"admin_code is required for a {f.kind}")
        if is_grid and f.grid_code is None:
            bad("grid_code is required for a grid")
        if not is_grid and f.grid_code is not None:
            bad(f"only a grid has a grid_code (this is a {f.kind})")
        if f.grid_code is not None and len(f.grid_code) > 32:
            bad("grid_code is longer than 32 characters")
        if f.kind == Region.Kind.DISTRICT and f.parent_code is not None:
            bad("a district has no parent")
        if f.kind != Region.Kind.DISTRICT and f.parent_code is None:
            bad(f"parent is required for a {f.kind}")
        geometry = raw.get("geometry")
        if geometry is None:
            if is_grid:
                bad("a grid needs a geometry (Polygon or MultiPolygon)")
        else:
            f.shape, problems = _check_geometry(geometry)
            for problem in problems:
                bad(problem)
            if f.shape is not None:
                f.geometry = _plain(geometry)
    return features


def _validate_tree(features: list[_Feature], errors: _Errors) -> None:
    """Codes unique, matches with the database, parents resolved, levels, no loops, no overlapping grids."""
    by_admin: dict[str, _Feature] = {}
    by_grid: dict[str, _Feature] = {}
    for f in features:
        for code, index, label in ((f.admin_code, by_admin, "admin_code"), (f.grid_code, by_grid, "grid_code")):
            if code is None:
                continue
            if code in index:
                first = index[code]
                errors.add(f.line, f"{label} {code} is already used by feature {first.index} (line {first.line})",
                           feature=f.index)
                f.is_usable = False
            else:
                index[code] = f

    # Match existing regions: a code found in the database means "update that region".
    admin_codes = [f.admin_code for f in features if f.admin_code] + [f.parent_code for f in features if f.parent_code]
    grid_codes = [f.grid_code for f in features if f.grid_code] + [f.parent_code for f in features if f.parent_code]
    db_admin = {r.admin_code: r for r in Region.objects.filter(admin_code__in=admin_codes)}
    db_grid = {r.grid_code: r for r in Region.objects.filter(grid_code__in=grid_codes)}
    for f in features:
        by_a = db_admin.get(f.admin_code) if f.admin_code else None
        by_g = db_grid.get(f.grid_code) if f.grid_code else None
        if by_a and by_g and by_a.pk != by_g.pk:
            errors.add(f.line, f"admin_code {f.admin_code} belongs to {by_a.name} but grid_code {f.grid_code} "
                               f"to {by_g.name} in the database", feature=f.index)
            f.is_usable = False
            continue
        f.existing = by_a or by_g
        if f.existing and f.kind in Region.KIND_LEVEL and f.existing.level != f.level:
            errors.add(f.line, f"{f.existing.name} ({f.existing.admin_code or f.existing.grid_code}) is a "
                               f"{f.existing.kind} in the database and cannot become a {f.kind}", feature=f.index)
            f.is_usable = False

    # Parents: in the file first, then in the database.
    for f in features:
        if f.parent_code is None:
            continue
        f.parent = (by_admin.get(f.parent_code) or by_grid.get(f.parent_code)
                    or db_admin.get(f.parent_code) or db_grid.get(f.parent_code))
        if f.parent is None:
            errors.add(f.line, f"parent {f.parent_code} is neither in the file nor in the database", feature=f.index)
    # A region of the file that updates an existing one is the same node: use the file's version.
    file_by_region = {f.existing.pk: f for f in features if f.existing}
    for f in features:
        if isinstance(f.parent, Region) and f.parent.pk in file_by_region:
            f.parent = file_by_region[f.parent.pk]

    in_loop = set()
    for f in features:
        seen, node = [], f
        while isinstance(node, _Feature) and node not in seen:
            seen.append(node)
            node = node.parent
        if isinstance(node, _Feature) and node is f:
            chain = " → ".join(n.code or n.name for n in [*seen, f])
            errors.add(f.line, f"the parents loop back to this feature: {chain}", feature=f.index)
            in_loop.add(f.index)

    for f in features:
        if f.parent is None or f.index in in_loop or not f.is_usable:
            continue
        parent_level = f.parent.level
        if isinstance(f.parent, _Feature) and not f.parent.is_usable:
            continue
        if parent_level != f.level - 1:
            above = " or ".join(k for k, v in Region.KIND_LEVEL.items() if v == f.level - 1)
            errors.add(f.line, f"a {f.kind} must sit directly under a {above}, but parent {f.parent_code} "
                               f"is a {f.parent.kind}", feature=f.index)

    _check_overlaps(features, errors)


def _check_overlaps(features: list[_Feature], errors: _Errors) -> None:
    """Grids of one community (those in the file and those already stored) may not overlap."""
    groups: dict[tuple, list[tuple[object, _Feature | Region]]] = {}
    file_grids = [f for f in features if f.kind == Region.Kind.GRID and f.shape is not None and f.parent is not None]
    for f in file_grids:
        parent_key = f.parent.key if isinstance(f.parent, _Feature) else ("db", f.parent.pk)
        groups.setdefault(parent_key, []).append((f.shape, f))
    updated = {f.existing.pk for f in features if f.existing}
    stored_parents = [key[1] for key in groups if key[0] == "db"]
    for grid in Region.objects.filter(parent_id__in=stored_parents, level=Region.Level.GRID).exclude(pk__in=updated):
        if grid.polygon:
            groups[("db", grid.parent_id)].append((shape(grid.polygon), grid))

    for members in groups.values():
        shapes = [s for s, _ in members]
        tree = shapely.STRtree(shapes)
        left, right = tree.query(shapes, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist()):
            if i >= j:
                continue
            area = shapes[i].intersection(shapes[j]).area
            if area <= OVERLAP_TOLERANCE:
                continue
            a, b = members[i][1], members[j][1]
            if isinstance(a, Region) or (isinstance(b, _Feature) and b.index < a.index):
                a, b = b, a
            other = (f"grid {b.grid_code} (feature {b.index}, line {b.line})" if isinstance(b, _Feature)
                     else f"stored grid {b.grid_code or b.name}")
            errors.add(a.line, f"grid {a.grid_code} overlaps {other} by {area:.2e} square degrees",
                       feature=a.index)


def import_geojson(text_or_bytes: str | bytes, *, actor=None) -> ImportReport:
    """Create or update the region tree from a GeoJSON FeatureCollection (format in the module docstring).

    All or nothing: every error of the file is reported in one ImportRejected and nothing is stored.
    """
    errors = _Errors("GeoJSON file")
    features = _parse_features(text_or_bytes, errors)
    _validate_tree(features, errors)
    errors.reject_if_any()

    report = ImportReport()
    written: dict[int, Region] = {}
    roots = {int(f.existing.path.strip("/").split("/")[0]) for f in features if f.existing}
    current = None
    try:
        with transaction.atomic():
            # Parents before children, so each path is computed from its parent's final path.
            for f in sorted(features, key=lambda f: (f.level, f.index)):
                current = f
                region = Region.objects.get(pk=f.existing.pk) if f.existing else Region()
                if isinstance(f.parent, _Feature):
                    region.parent = written[f.parent.index]
                else:
                    region.parent = Region.objects.get(pk=f.parent.pk) if f.parent else None
                region.name, region.kind, region.polygon = f.name, f.kind, f.geometry
                if f.admin_code:
                    region.admin_code = f.admin_code
                if f.grid_code:
                    region.grid_code = f.grid_code
                region.save()
                written[f.index] = region
                if f.existing:
                    report.updated += 1
                else:
                    report.created += 1
            current = None
            roots |= {int(r.path.strip("/").split("/")[0]) for r in written.values()}
            for root in Region.objects.filter(pk__in=roots).order_by("path"):
                derive_polygons(root)
            subject = _common_region(Region.objects.filter(pk__in=[r.pk for r in written.values()]))
            events.record("org.regions_imported", subject, actor=actor, created=report.created, updated=report.updated)
    except (IntegrityError, DataError) as exc:
        where = {"line": current.line, "feature": current.index} if current else {"line": None}
        message = f"the database refused the import: {exc}"
        raise ImportRejected(message, errors=[{**where, "message": message}]) from exc
    return report


def export_geojson(root: Region | None = None) -> dict:
    """The region tree (`root`'s subtree, or everything) as a FeatureCollection that import_geojson reads back."""
    regions = list((root.subtree() if root else Region.objects.all()).select_related("parent").order_by("path"))
    features = []
    for r in regions:
        properties = {"name": r.name, "kind": r.kind}
        if r.admin_code:
            properties["admin_code"] = r.admin_code
        if r.grid_code:
            properties["grid_code"] = r.grid_code
        if r.parent:
            properties["parent"] = r.parent.admin_code or r.parent.grid_code
        features.append({"type": "Feature", "properties": properties, "geometry": r.polygon})
    return {"type": "FeatureCollection", "features": features}


# ---------------------------------------------------------------------------------------------
# People and posts: CSV
# ---------------------------------------------------------------------------------------------

PERSON_COLUMNS = (
    "person_ref", "name", "gender", "birth_date", "phone", "id_number", "residence", "building", "unit",
    "relation_to_head", "is_party_member", "party_organisation", "registered_residence", "registered_elsewhere",
)
POST_COLUMNS = (
    "organisation", "role", "title", "grid", "led_building", "served_organisation", "start_date", "end_date",
)
COLUMNS = PERSON_COLUMNS + POST_COLUMNS

ROLE_ALIASES = {
    "书记": "secretary", "副书记": "deputy_secretary", "主任": "director", "副主任": "deputy_director",
    "委员": "member", "工作人员": "staff", "党小组长": "group_leader", "网格员": "grid_worker",
    "楼栋长": "building_lead", "党建指导员": "instructor", "联络员": "liaison",
}
GENDERS = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}
YES = {"是", "yes", "y", "true", "1", "党员"}
NO = {"否", "no", "n", "false", "0", ""}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell as typed, without the ' an export puts before a formula-like value."""
    value = (value or "").strip()
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _safe_cell(value) -> str:
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _parse_date(value: str) -> dt.date:
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", value)
    if not match:
        raise ValueError
    return dt.date(*(int(x) for x in match.groups()))


@dataclass
class _Row:
    line: int
    cells: dict[str, str]


@dataclass
class _PersonPlan:
    ref: str
    line: int
    fields: dict = field(default_factory=dict)  # Person fields, only the columns present in the header
    building: Building | None = None
    unit: str = ""
    has_household_columns: bool = False
    phone: str | None = None
    id_number: str | None = None
    existing: Person | None = None
    cells: dict = field(default_factory=dict)  # the person columns of its first row
    posts: list[dict] = field(default_factory=list)


class _References:
    """Everything a people file may name, loaded in a few queries, and resolved with error messages."""

    def __init__(self, rows: list[_Row]):
        def values(*columns):
            return {r.cells.get(c, "") for r in rows for c in columns} - {""}

        codes = values("residence", "registered_residence")
        self.communities = {r.admin_code: r for r in Region.objects.filter(admin_code__in=codes)}
        self.grids = {r.grid_code: r for r in Region.objects.filter(grid_code__in=values("grid"))}
        building_refs = values("building", "led_building")
        grid_codes = {ref.split("/", 1)[0].strip() for ref in building_refs if "/" in ref}
        self.buildings = {
            (b.grid.grid_code, b.name): b
            for b in Building.objects.filter(grid__grid_code__in=grid_codes).select_related("grid__parent")
        }
        org_refs = values("organisation", "party_organisation", "served_organisation")
        names = org_refs | {ref.split("/", 1)[1].strip() for ref in org_refs if "/" in ref}
        self.organisations: dict[str, list[Organisation]] = {}
        for org in Organisation.objects.filter(name__in=names).select_related("region"):
            self.organisations.setdefault(org.name, []).append(org)

    def community(self, code: str) -> tuple[Region | None, str | None]:
        region = self.communities.get(code)
        if region is None:
            return None, f"no community or village with admin_code {code}"
        if region.level != Region.Level.COMMUNITY:
            return None, f"{code} ({region.name}) is a {region.kind}, not a community or village"
        return region, None

    def grid(self, code: str) -> tuple[Region | None, str | None]:
        region = self.grids.get(code)
        if region is None or region.level != Region.Level.GRID:
            return None, f"no grid with grid_code {code}"
        return region, None

    def building(self, ref: str) -> tuple[Building | None, str | None]:
        if "/" not in ref:
            return None, f"building {ref!r} must be written grid_code/building name, e.g. A1/1号楼"
        grid_code, name = (part.strip() for part in ref.split("/", 1))
        found = self.buildings.get((grid_code, name))
        if found is None:
            return None, f"no building {name!r} in grid {grid_code}"
        return found, None

    def organisation(self, ref: str) -> tuple[Organisation | None, str | None]:
        candidates = self.organisations.get(ref, [])
        if not candidates and "/" in ref:
            code, name = (part.strip() for part in ref.split("/", 1))
            candidates = [o for o in self.organisations.get(name, [])
                          if code in (o.region.admin_code, o.region.grid_code)]
        if len(candidates) == 1:
            return candidates[0], None
        if not candidates:
            return None, f"no organisation {ref!r}"
        return None, (f"{len(candidates)} organisations are named {ref!r}; write code/name with the admin_code "
                      f"of the region, e.g. {_org_ref(candidates[0], qualified=True)}")


def _org_ref(org: Organisation | None, qualified: bool = False) -> str:
    if org is None:
        return ""
    code = org.region.admin_code or org.region.grid_code
    return f"{code}/{org.name}" if qualified and code else org.name


def _read_rows(text: str, errors: _Errors) -> tuple[list[str], list[_Row]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader, [])]
    except csv.Error as exc:
        raise ImportRejected(gettext_lazy("line 1: %(exc)s")
                             % {"exc": exc}, errors=[{"line": 1, "message": str(exc)}]) from None
    if not any(header):
        raise ImportRejected(gettext_lazy("the file has no header line"), errors=[{"line": 1, "message": "no header line"}])
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        errors.add(1, f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are {', '.join(COLUMNS)}")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        errors.add(1, f"column(s) {', '.join(duplicated)} appear more than once")
    if "name" not in header:
        errors.add(1, "the column name is required")
    errors.reject_if_any()

    rows = []
    previous = reader.line_num
    try:
        for values in reader:
            line, previous = previous + 1, reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
                errors.add(line, f"{len(values)} cells but the header has {len(header)} columns")
                continue
            cells = {h: _cell(v) for h, v in zip(header, values)}
            rows.append(_Row(line=line, cells={h: cells.get(h, "") for h in header}))
    except csv.Error as exc:
        line = reader.line_num
        errors.add(line, f"unreadable CSV: {exc}")
    return header, rows


def _plan_people(header: list[str], rows: list[_Row], errors: _Errors) -> list[_PersonPlan]:
    refs = _References(rows)
    present = set(header)
    plans: dict[str, _PersonPlan] = {}
    order: list[_PersonPlan] = []
    ids_seen: dict[str, _PersonPlan] = {}

    for row in rows:
        c = row.cells

        def err(message: str, line: int = row.line) -> None:
            errors.add(line, message)

        ref = c.get("person_ref", "")
        key = ref or f"#line{row.line}"
        plan = plans.get(key)
        person_cells = {k: c[k] for k in PERSON_COLUMNS if k in c and k != "person_ref" and c[k]}
        if plan is not None:
            first = plan.cells
            for k, v in person_cells.items():
                if v != first.get(k, ""):
                    err(f"{k} {v!r} differs from line {plan.line} for person_ref {ref} ({first.get(k, '')!r}); "
                        "leave the person columns empty on the further rows of a person")
        else:
            plan = _PersonPlan(ref=ref, line=row.line)
            plan.cells = {k: c.get(k, "") for k in PERSON_COLUMNS}
            plans[key] = plan
            order.append(plan)
            _plan_person(plan, c, present, refs, err, ids_seen)
        post = _plan_post(c, refs, err)
        if post is not None:
            plan.posts.append(post)

    # An ID number already stored means: update that person.
    known = {pd.id_number: pd.person for pd in PersonalData.objects.filter(
        id_number__in=[p.id_number for p in order if p.id_number]).select_related("person")}
    for plan in order:
        plan.existing = known.get(plan.id_number) if plan.id_number else None
    return order


def _plan_person(plan: _PersonPlan, c: dict, present: set, refs: _References, err, ids_seen: dict) -> None:
    fields = plan.fields
    name = c.get("name", "")
    if not name:
        err("name is required on the first row of a person")
    elif len(name) > 60:
        err("name is longer than 60 characters")
    fields["name"] = name

    id_number = c.get("id_number", "").upper()
    id_birth = id_gender = None
    if id_number:
        if re.fullmatch(r"\d(\.\d+)?E\+\d+", id_number):
            err(f"id_number {id_number} was turned into a number by Excel; format the column as text and retype it")
        elif not is_valid_id_number(id_number):
            err(f"id_number {id_number} is not a valid resident ID number (length, birth date or check digit)")
        else:
            id_birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
            id_gender = "M" if int(id_number[16]) % 2 else "F"
            if id_number in ids_seen:
                err(f"id_number {id_number} is already used on line {ids_seen[id_number].line}")
            ids_seen[id_number] = plan
    if "id_number" in present:
        plan.id_number = id_number

    phone = re.sub(r"\s", "", c.get("phone", ""))
    if phone and not is_valid_phone(phone):
        err(f"phone {phone} is not a mobile (13812345678) or landline (010-12345678) number")
    if "phone" in present:
        plan.phone = phone

    if "gender" in present or id_gender:
        gender = c.get("gender", "")
        value = GENDERS.get(gender.lower()) if gender else id_gender or ""
        if value is None:
            err(f"gender {gender!r} must be M, F, 男 or 女")
        elif id_gender and value != id_gender:
            err(f"gender {gender} does not match the ID number")
        fields["gender"] = value or ""

    if "birth_date" in present or id_birth:
        raw = c.get("birth_date", "")
        birth = id_birth
        if raw:
            try:
                birth = _parse_date(raw)
            except ValueError:
                err(f"birth_date {raw!r} is not a date YYYY-MM-DD")
            else:
                if birth > clock.today():
                    err(f"birth_date {raw} is in the future")
                elif id_birth and birth != id_birth:
                    err(f"birth_date {raw} does not match the ID number ({id_birth.isoformat()})")
        fields["birth_date"] = birth

    building_ref, unit = c.get("building", ""), c.get("unit", "")
    plan.has_household_columns = "building" in present or "unit" in present
    if building_ref:
        plan.building, message = refs.building(building_ref)
        if message:
            err(message)
        if not unit:
            err("unit is required with a building (the room, e.g. 1-101)")
        elif len(unit) > 40:
            err("unit is longer than 40 characters")
    elif unit:
        err("a unit needs its building (grid_code/building name)")
    plan.unit = unit

    if "residence" in present or plan.building:
        residence = None
        if c.get("residence"):
            residence, message = refs.community(c["residence"])
            if message:
                err(f"residence: {message}")
        if plan.building is not None:
            community = plan.building.grid.parent
            if residence is not None and residence.pk != community.pk:
                err(f"building {building_ref} lies in {community.name} ({community.admin_code}), "
                    f"not in residence {residence.name}")
            residence = residence or community
        fields["residence"] = residence

    if "registered_residence" in present:
        registered = None
        if c.get("registered_residence"):
            registered, message = refs.community(c["registered_residence"])
            if message:
                err(f"registered_residence: {message}")
        fields["registered_residence"] = registered

    for column, limit in (("relation_to_head", 20), ("registered_elsewhere", 100)):
        if column in present:
            if len(c.get(column, "")) > limit:
                err(f"{column} is longer than {limit} characters")
            fields[column] = c.get(column, "")

    if "is_party_member" in present:
        raw = c.get("is_party_member", "")
        if raw.lower() in YES:
            fields["is_party_member"] = True
        elif raw.lower() in NO:
            fields["is_party_member"] = False
        else:
            err(f"is_party_member {raw!r} must be 是 or 否")
    if "party_organisation" in present:
        branch = None
        if c.get("party_organisation"):
            branch, message = refs.organisation(c["party_organisation"])
            if message:
                err(f"party_organisation: {message}")
            elif not branch.is_party:
                err(f"party_organisation {branch.name} is a {branch.kind}, not a party organisation")
            elif not fields.get("is_party_member"):
                err("a party_organisation is only for a party member (is_party_member 是)")
        fields["party_branch"] = branch


def _plan_post(c: dict, refs: _References, err) -> dict | None:
    if not any(c.get(k) for k in POST_COLUMNS):
        return None
    post: dict = {"title": c.get("title", "")}
    if len(post["title"]) > 60:
        err("title is longer than 60 characters")
    if not c.get("organisation"):
        err("organisation is required with a post")
    else:
        post["organisation"], message = refs.organisation(c["organisation"])
        if message:
            err(f"organisation: {message}")
    role = ROLE_ALIASES.get(c.get("role", ""), c.get("role", "").lower())
    if role not in Post.Role.values:
        err(f"role {c.get('role', '')!r} is not one of {', '.join(Post.Role.values)}")
    post["role"] = role
    for column in ("start_date", "end_date"):
        post[column] = None
        if c.get(column):
            try:
                post[column] = _parse_date(c[column])
            except ValueError:
                err(f"{column} {c[column]!r} is not a date YYYY-MM-DD")
    if not c.get("start_date"):
        err("start_date is required with a post")
    if post["start_date"] and post["end_date"] and post["end_date"] < post["start_date"]:
        err("end_date is before start_date")
    post["grid"] = post["building"] = post["served_organisation"] = None
    if c.get("grid"):
        post["grid"], message = refs.grid(c["grid"])
        if message:
            err(message)
    elif role == Post.Role.GRID_WORKER:
        err("a grid_worker needs a grid (grid_code)")
    if c.get("led_building"):
        post["building"], message = refs.building(c["led_building"])
        if message:
            err(f"led_building: {message}")
    elif role == Post.Role.BUILDING_LEAD:
        err("a building_lead needs a led_building (grid_code/building name)")
    if c.get("served_organisation"):
        post["served_organisation"], message = refs.organisation(c["served_organisation"])
        if message:
            err(f"served_organisation: {message}")
    elif role == Post.Role.INSTRUCTOR:
        err("an instructor needs a served_organisation")
    return post


def import_people(text: str | bytes, *, actor=None) -> ImportReport:
    """Create or update people, their households, personal data and posts from a CSV (format in the
    module docstring). All or nothing: every bad row is reported with its line, nothing is stored."""
    errors = _Errors("people file")
    header, rows = _read_rows(_decode(text), errors)
    if not rows and not errors.items:
        errors.add(2, "the file has no rows under its header")
    plans = _plan_people(header, rows, errors)
    errors.reject_if_any()

    report = ImportReport(counts={"posts": 0, "households": 0})
    touched_regions: list[Region] = []
    current = None
    try:
        with transaction.atomic():
            for plan in plans:
                current = plan
                person = plan.existing or Person()
                for name, value in plan.fields.items():
                    setattr(person, name, value)
                if plan.has_household_columns:
                    person.household = None
                    if plan.building is not None:
                        person.household, created = Household.objects.get_or_create(
                            building=plan.building, unit=plan.unit)
                        report.counts["households"] += created
                person.save()
                if plan.phone is not None or plan.id_number is not None:
                    record, _ = PersonalData.objects.get_or_create(person=person)
                    record.phone = record.phone if plan.phone is None else plan.phone
                    record.id_number = record.id_number if plan.id_number is None else plan.id_number
                    record.save()
                for spec in plan.posts:
                    if plan.existing and Post.objects.filter(person=person, **spec).exists():
                        continue
                    Post.objects.create(person=person, **spec)
                    report.counts["posts"] += 1
                    touched_regions.append(spec["organisation"].region)
                touched_regions.append(person.residence)
                if plan.existing:
                    report.updated += 1
                else:
                    report.created += 1
            current = None
            subject = _common_region(touched_regions) or person
            events.record("org.people_imported", subject, actor=actor, created=report.created,
                          updated=report.updated, **report.counts)
    except (IntegrityError, DataError) as exc:
        message = f"the database refused the import: {exc}"
        raise ImportRejected(message, errors=[{"line": current.line if current else None, "message": message}]) from exc
    return report


def export_people(root: Region | None = None, *, with_personal_data: bool = False, purpose: str = "",
                  actor=None) -> str:
    """People of `root`'s subtree (living there or holding a post there; everyone when None) and all
    their posts, as the CSV import_people reads.

    Phone and ID number stay empty unless `with_personal_data`; then a purpose is required and each
    person whose data is written gets one PersonalDataAccess row (个人信息保护法: every read is logged).
    `actor=None` is the operator at the console; a given actor sees only the fields can() grants.
    """
    if with_personal_data:
        from .services import check_purpose  # services imports nothing of this module; kept local all the same

        purpose = check_purpose(purpose)
    people = Person.objects.all()
    if root is not None:
        people = people.filter(
            Q(household__building__grid__path__startswith=root.path)
            | Q(residence__path__startswith=root.path)
            | Q(posts__organisation__region__path__startswith=root.path)
        ).distinct()
    people = list(people.select_related(
        "household__building__grid", "residence", "registered_residence", "party_branch__region",
    ).prefetch_related(
        "posts__organisation__region", "posts__grid", "posts__building__grid", "posts__served_organisation__region",
    ).order_by("id"))
    ambiguous = set(Organisation.objects.values("name").annotate(n=Count("id")).filter(n__gt=1)
                    .values_list("name", flat=True))

    def org(o):
        return _org_ref(o, qualified=o is not None and o.name in ambiguous)

    def building(b):
        return f"{b.grid.grid_code}/{b.name}" if b else ""

    personal: dict[int, PersonalData] = {}
    accesses: list[PersonalDataAccess] = []
    if with_personal_data:
        personal = {pd.person_id: pd for pd in PersonalData.objects.filter(person__in=people)}
    user = actor if getattr(actor, "is_authenticated", False) else None

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for p in people:
        values = {"phone": "", "id_number": ""}
        record = personal.get(p.pk)
        if record is not None:
            revealed = [f for f in values if getattr(record, f)
                        and (actor is None or policy.can(actor, f"org.personal.{f}", p))]
            values.update({f: getattr(record, f) for f in revealed})
            if revealed:
                accesses.append(PersonalDataAccess(user=user, person=p, fields=revealed, purpose=purpose.strip()[:120],
                                                   channel="export", at=clock.now()))
        person_cells = [
            f"P{p.pk}", p.name, p.gender, p.birth_date.isoformat() if p.birth_date else "",
            values["phone"], values["id_number"],
            p.residence.admin_code if p.residence else "",
            building(p.household.building) if p.household else "", p.household.unit if p.household else "",
            p.relation_to_head, "是" if p.is_party_member else "否", org(p.party_branch),
            p.registered_residence.admin_code if p.registered_residence else "", p.registered_elsewhere,
        ]
        posts = sorted(p.posts.all(), key=lambda post: (post.start_date, post.pk)) or [None]
        for i, post in enumerate(posts):
            cells = person_cells if i == 0 else [f"P{p.pk}"] + [""] * (len(PERSON_COLUMNS) - 1)
            if post is None:
                post_cells = [""] * len(POST_COLUMNS)
            else:
                post_cells = [
                    org(post.organisation), post.role, post.title, post.grid.grid_code if post.grid else "",
                    building(post.building), org(post.served_organisation), post.start_date.isoformat(),
                    post.end_date.isoformat() if post.end_date else "",
                ]
            writer.writerow([_safe_cell(v) for v in cells + post_cells])
    if accesses:
        with transaction.atomic():
            PersonalDataAccess.objects.bulk_create(accesses)
    return out.getvalue()
