"""`gongzhi calendar import FILE [--dry-run]`, `list [--from YEAR] [--to YEAR]`, `show YEAR`: the working-day
calendar, the State Council's holiday notices as the office keeps them (core/workdays.py; the file format is
in docs/examples/holiday-notice-2026.json and .csv)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gongzhi.core import clock, workdays

SOURCES = {workdays.OFFICE: "imported by the office", workdays.BUILT_IN: "shipped with gongzhi",
           workdays.LIBRARY: "chinese-calendar library", workdays.NONE: "NO NOTICE: Monday to Friday (provisional)"}


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "The working-day calendar: import a holiday notice, list the years, show one"

    def add_arguments(self, parser):
        verbs = parser.add_subparsers(dest="verb", required=True)
        imp = verbs.add_parser("import", help="import one or more notices from a JSON or CSV file")
        imp.add_argument("file", help="the file (JSON or CSV; see docs/examples/holiday-notice-2026.*)")
        imp.add_argument("--dry-run", action="store_true", help="check the file and say what would change")
        imp.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        listing = verbs.add_parser("list", help="the years and where each one's holidays come from")
        this_year = clock.today().year
        listing.add_argument("--from", dest="first", type=int, default=this_year - 2)
        listing.add_argument("--to", dest="last", type=int, default=this_year + 1)
        show = verbs.add_parser("show", help="one year's holidays and adjusted working days")
        show.add_argument("year", type=int)

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _import(self, *, file, dry_run=False, as_json=False, **options):
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        try:
            notices = workdays.parse(content, path.name)
            for notice in notices:
                workdays.validate(notice)
            if dry_run:
                with transaction.atomic():
                    report = workdays.import_notices(notices)
                    report["dry_run"] = True
                    transaction.set_rollback(True)
                workdays.invalidate()
            else:
                report = workdays.import_notices(notices)
        except workdays.CalendarError as error:
            raise CommandError(f"{file}: {error.message('en')} [{error.code}] — nothing was changed") from None
        if as_json:
            self.stdout.write(json.dumps(report, default=str))
            return
        prefix = "would import" if dry_run else "imported"
        for notice in notices:
            summary = notice.summary()
            state = ("unchanged" if notice.year in report["unchanged"] else
                     "replacing the previous entry" if notice.year in report["replaced"] else "new")
            self.stdout.write(f"{prefix} {notice.year}: {notice.title} {notice.number} ({state}); "
                              f"{summary['holidays']} days off, {summary['adjusted_working_days']} adjusted working "
                              f"days, {summary['statutory_days']} statutory holidays")
        moved = report.get("deadlines")
        if moved:
            self.stdout.write(f"deadlines recomputed: {moved['moved']} moved, {moved['kept']} kept (moving them "
                              f"would have made them overdue after the fact), on {moved['demands']} demands")

    def _list(self, *, first, last, **options):
        for calendar in workdays.overview(first, last):
            notice = f" — {calendar.title} {calendar.number}".rstrip() if calendar.known else ""
            self.stdout.write(f"{calendar.year}  {SOURCES[calendar.source]}{notice}")
        missing = workdays.missing_next_year()
        if missing:
            self.stderr.write(f"warning: the holiday notice for {missing} is missing; deadlines running into "
                              f"{missing} are provisional until it is imported (gongzhi calendar import FILE)")

    def _show(self, *, year, **options):
        calendar = workdays.year_calendar(year)
        self.stdout.write(f"{year}: {SOURCES[calendar.source]}")
        if not calendar.known:
            return
        self.stdout.write(f"{calendar.title} {calendar.number}".strip()
                          + (f", published {calendar.published_on}" if calendar.published_on else ""))
        for entry in workdays.ranges_of(calendar):
            span = (f"{entry['from']}" if entry["from"] == entry["to"] else f"{entry['from']} to {entry['to']}")
            kind = "off" if entry["kind"] == "holiday" else "working day"
            self.stdout.write(f"  {span}  {kind}  {entry['name']}")
