"""`gongzhi org ...`: the coverage report, and import / export of regions (GeoJSON) and people (CSV).

    gongzhi org coverage [--region CODE] [--json]
    gongzhi org import-geojson FILE
    gongzhi org export-geojson FILE [--region CODE]
    gongzhi org import-people FILE
    gongzhi org export-people FILE [--region CODE] [--with-personal-data --purpose TEXT]

FILE may be "-" for standard input / output. A rejected import prints "line N: message" for every
error to standard error, stores nothing and exits non-zero.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from gongzhi.core.errors import ImportRejected, ValidationFailed
from gongzhi.org import imports, queries
from gongzhi.org.models import Region


class Command(BaseCommand):
    help = "Organisation model: coverage report, GeoJSON regions and CSV people import / export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        coverage = sub.add_parser("coverage", help="grids, buildings and units that lack someone responsible")
        coverage.add_argument("--region", metavar="CODE", help="admin_code or grid_code of the region (default: all)")
        coverage.add_argument("--json", action="store_true", help="print JSON instead of a table")
        import_geojson = sub.add_parser("import-geojson", help="create or update regions from a GeoJSON file")
        import_geojson.add_argument("file", metavar="FILE")
        export_geojson = sub.add_parser("export-geojson", help="write the region tree as GeoJSON")
        export_geojson.add_argument("file", metavar="FILE")
        export_geojson.add_argument("--region", metavar="CODE", help="export only this region's subtree")
        import_people = sub.add_parser("import-people", help="create or update people and posts from a CSV file")
        import_people.add_argument("file", metavar="FILE")
        export_people = sub.add_parser("export-people", help="write people and posts as CSV")
        export_people.add_argument("file", metavar="FILE")
        export_people.add_argument("--region", metavar="CODE", help="export only the people of this region")
        export_people.add_argument("--with-personal-data", action="store_true",
                                   help="include phone and ID number (logged; needs --purpose)")
        export_people.add_argument("--purpose", default="", help="why personal data is exported (logged)")

    def handle(self, *args, verb, **options):
        handler = {
            "coverage": self._coverage,
            "import-geojson": self._import_geojson,
            "export-geojson": self._export_geojson,
            "import-people": self._import_people,
            "export-people": self._export_people,
        }[verb]
        try:
            handler(**options)
        except ImportRejected as exc:
            for error in exc.context.get("errors", []):
                where = f"line {error['line']}: " if error.get("line") else ""
                feature = f"feature {error['feature']}: " if error.get("feature") else ""
                self.stderr.write(f"{where}{feature}{error['message']}")
            raise CommandError(exc.message("en")) from exc
        except ValidationFailed as exc:
            raise CommandError(exc.message("en")) from exc

    # -- verbs ---------------------------------------------------------------------------------

    def _coverage(self, *, region=None, json=False, **_):
        report = queries.coverage(self._region(region))
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
            return
        data = report.as_dict()
        self.stdout.write(f"Coverage of {data['region'] or 'all regions'}: {data['gap_count']} gap(s)")
        sections = (
            ("Grids without a grid worker", report.grids_without_worker,
             lambda g: (g.grid_code or "", g.name)),
            ("Buildings without a building lead", report.buildings_without_lead,
             lambda b: (b.grid.grid_code or b.grid.name, b.name, b.address)),
            ("Property companies / owners' committees with neither party organisation nor instructor",
             report.units_without_party_presence, lambda o: (o.region.name, o.name, o.get_kind_display())),
            ("Committees without a party organisation", report.committees_without_party_organisation,
             lambda o: (o.region.name, o.name)),
        )
        for title, rows, cells in sections:
            self.stdout.write(f"\n{title} ({len(rows)})")
            if not rows:
                self.stdout.write("  (none)")
            table = [tuple(str(c) for c in cells(row)) for row in rows]
            widths = [max(_width(r[i]) for r in table) for i in range(len(table[0]))] if table else []
            for r in table:
                self.stdout.write("  " + "  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip())

    def _import_geojson(self, *, file, **_):
        report = imports.import_geojson(self._read(file))
        self._done(f"regions imported: {report.summary()}")

    def _export_geojson(self, *, file, region=None, **_):
        collection = imports.export_geojson(self._region(region))
        # One feature per line: readable diffs, and an import error's line names its feature.
        lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in collection["features"])
        self._write(file, f'{{"type": "FeatureCollection", "features": [\n{lines}\n]}}\n', bom=False)

    def _import_people(self, *, file, **_):
        report = imports.import_people(self._read(file))
        self._done(f"people imported: {report.summary()}")

    def _export_people(self, *, file, region=None, with_personal_data=False, purpose="", **_):
        if purpose and not with_personal_data:
            raise CommandError("--purpose goes with --with-personal-data")
        text = imports.export_people(self._region(region), with_personal_data=with_personal_data, purpose=purpose)
        # Excel opens a CSV as UTF-8 only when it starts with a BOM.
        self._write(file, text, bom=True)

    # -- helpers -------------------------------------------------------------------------------

    def _region(self, code: str | None) -> Region | None:
        if not code:
            return None
        region = Region.objects.filter(Q(admin_code=code) | Q(grid_code=code)).first()
        if region is None:
            raise CommandError(f"no region with admin_code or grid_code {code}")
        return region

    def _read(self, file: str) -> bytes:
        if file == "-":
            stream = sys.stdin
            return stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc

    def _write(self, file: str, text: str, *, bom: bool) -> None:
        if file == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(file).write_text(text, encoding="utf-8-sig" if bom else "utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"cannot write {file}: {exc.strerror}") from exc
        self.stderr.write(f"written: {file}")

    def _done(self, message: str) -> None:
        self.stdout.write(self.style.SUCCESS(message))


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
