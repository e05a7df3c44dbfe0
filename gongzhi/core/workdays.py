"""The working-day calendar: which days are working days, year by year, as data the office keeps (issue #15).

Each year's days come from, in this order:
1. the office's own entry: a HolidayNotice in the database (imported with `gongzhi calendar import FILE` or on
   /calendar/; the years gongzhi shipped, 2024–2026, were loaded by a data migration and are entries too);
2. the chinese-calendar library, which carries the State Council's notices up to its release
   (docs/decisions/0008-working-day-calendar.md says why that one);
3. nothing: a year without a notice counts Monday to Friday as working days. Its holidays are unknown, not
   absent, so a deadline counted through such a year is provisional (`is_known_year`), and is recomputed when
   the notice is imported (the demands app registers with `on_change`).

A notice is checked on the way in (`validate`): every day inside its year, no day both off and worked, the
adjusted working days on weekends, and the statutory holiday count of 《全国年节及纪念日放假办法》 adding up:
the weekdays given off, less the weekend days worked instead, are exactly the year's statutory days (11; 13
from 2025), since a statutory day falling on a weekend is made up on a weekday.

Reads are cached in the process for CACHE_SECONDS (another process's import is seen within that time; this
process's at once, after its commit).
"""

import csv
import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.apps import apps
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.db import DatabaseError, transaction

from . import clock
from .errors import ValidationFailed
from .i18n import gettext_lazy as _

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
WARN_FROM_MONTH = 11  # from 1 November, next year's notice is awaited
_ONE_DAY = dt.timedelta(days=1)

OFFICE, BUILT_IN, LIBRARY, NONE = "office", "builtin", "library", ""


def statutory_days(year: int) -> int:
    """The public holidays 《全国年节及纪念日放假办法》 gives everyone in `year`: 11, and 13 from 2025 (the
    2024 amendment added 除夕 and 5月2日)."""
    return 13 if year >= 2025 else 11


@dataclass(frozen=True)
class YearCalendar:
    year: int
    holidays: frozenset = frozenset()
    working: frozenset = frozenset()  # weekend days worked instead (调休上班)
    source: str = NONE
    title: str = ""
    number: str = ""
    published_on: dt.date | None = None
    names: Mapping = field(default_factory=lambda: MappingProxyType({}))  # day -> festival

    @property
    def known(self) -> bool:
        return self.source != NONE

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        return day in self.working or day.weekday() < 5


class CalendarError(ValidationFailed):
    code = "calendar_invalid"
    base_message = _("The holiday notice cannot be imported")


# --- reading -----------------------------------------------------------------------------------------------

_cache: dict[int, YearCalendar] = {}
_office: dict[int, YearCalendar] | None = None
_loaded_at = 0.0


def invalidate() -> None:
    """Forget what was read (after an import commits; tests, between tests)."""
    global _office, _loaded_at
    _cache.clear()
    _office, _loaded_at = None, 0.0


def _office_years() -> dict[int, YearCalendar]:
    global _office, _loaded_at
    now = time.monotonic()
    if _office is not None and now - _loaded_at < CACHE_SECONDS:
        return _office
    if not apps.ready:  # a module computing at import time (TimeLimit's check): the library's, uncached
        return {}
    try:
        _office = _read_office_years()
    # Not migrated yet; Django not set up (pure tests); or a test that may not use the database.
    except (DatabaseError, RuntimeError, AppRegistryNotReady, ImproperlyConfigured) as error:
        logger.debug("working-day calendar: no office entries readable (%s); the library's only", error)
        _office = {}
    _cache.clear()
    _loaded_at = now
    return _office


def _read_office_years() -> dict[int, YearCalendar]:
    from .models import HolidayNotice, NoticeDay

    days: dict[int, list] = {}
    for notice_id, day, kind, name in NoticeDay.objects.values_list("notice_id", "day", "kind", "name"):
        days.setdefault(notice_id, []).append((day, kind, name))
    years = {}
    for notice in HolidayNotice.objects.all():
        entries = days.get(notice.pk, [])
        years[notice.year] = YearCalendar(
            notice.year,
            holidays=frozenset(d for d, kind, _ in entries if kind == NoticeDay.Kind.HOLIDAY),
            working=frozenset(d for d, kind, _ in entries if kind == NoticeDay.Kind.WORKING),
            source=notice.source, title=notice.title, number=notice.number, published_on=notice.published_on,
            names=MappingProxyType({d: name for d, _, name in entries if name}))
    return years


def library_year(year: int) -> YearCalendar | None:
    """`year` as the chinese-calendar library carries it; None when its release has no notice for it."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        return None
    holidays = {day: name for day, name in constants.holidays.items() if day.year == year}
    working = {day: name for day, name in constants.workdays.items() if day.year == year}
    if not holidays:
        return None
    names = {day: _LIBRARY_NAMES.get(getattr(name, "value", name), "") for day, name in {**holidays, **working}.items()}
    return YearCalendar(year, holidays=frozenset(holidays), working=frozenset(working), source=LIBRARY,
                        title=f"国务院办公厅关于{year}年部分节假日安排的通知", names=MappingProxyType(
                            {d: n for d, n in names.items() if n}))


# The library names festivals in English; the pages show the Chinese names the notices use.
_LIBRARY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                  "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                  "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


def year_calendar(year: int) -> YearCalendar:
    """The calendar that counts for `year`: the office's entry, else the library's, else none (Mon–Fri)."""
    office = _office_years()
    found = _cache.get(year)
    if found is None:
        found = office.get(year) or library_year(year) or YearCalendar(year)
        _cache[year] = found
    return found


def is_working_day(day: dt.date) -> bool:
    if isinstance(day, dt.datetime):
        day = day.date()
    return year_calendar(day.year).is_working_day(day)


def is_known_year(year: int) -> bool:
    """Whether a notice (the office's or the library's) gives `year`'s holidays."""
    return year_calendar(year).known


def missing_next_year(today: dt.date | None = None) -> int | None:
    """From 1 November: next year, when its notice is known neither to the office nor to the library."""
    today = today or clock.today()
    if today.month < WARN_FROM_MONTH:
        return None
    return None if is_known_year(today.year + 1) else today.year + 1


# --- importing ---------------------------------------------------------------------------------------------

@dataclass
class NoticeData:
    year: int
    title: str
    number: str
    published_on: dt.date
    holidays: dict  # day -> festival name ("" when not given)
    working: dict  # day -> festival name

    def summary(self) -> dict:
        weekdays_off = sum(1 for d in self.holidays if d.weekday() < 5)
        return {"year": self.year, "holidays": len(self.holidays), "weekdays_off": weekdays_off,
                "adjusted_working_days": len(self.working), "statutory_days": weekdays_off - len(self.working)}


def _date(value, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise CalendarError(_("%(where)s: %(value)r is not a date (YYYY-MM-DD)")
                            % {"where": where, "value": value}, code="calendar_unreadable") from None


def _days(first: dt.date, last: dt.date, where: str) -> list[dt.date]:
    if last < first:
        raise CalendarError(_("%(where)s: %(last)s is before %(first)s")
                            % {"where": where, "last": last, "first": first}, code="calendar_unreadable")
    if (last - first).days > 31:
        raise CalendarError(_("%(where)s: %(first)s to %(last)s is longer than a month")
                            % {"where": where, "first": first, "last": last}, code="calendar_unreadable")
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _notice_from_dict(raw, where: str) -> NoticeData:
    if not isinstance(raw, dict):
        raise CalendarError(_("%(where)s: a notice is an object with year, title, holidays …")
                            % {"where": where},
                            code="calendar_unreadable")
    missing = [key for key in ("year", "title", "published_on", "holidays") if key not in raw]
    if missing:
        raise CalendarError(_("%(where)s: missing %(fields)s")
                            % {"where": where, "fields": ", ".join(missing)}, code="calendar_unreadable")
    try:
        year = int(raw["year"])
    except (TypeError, ValueError):
        raise CalendarError(_("%(where)s: year %(year)r is not a number")
                            % {"where": where, "year": raw['year']}, code="calendar_unreadable") from None
    holidays: dict[dt.date, str] = {}
    working: dict[dt.date, str] = {}
    for n, entry in enumerate(raw.get("holidays") or [], 1):
        spot = _("%(where)s, holiday %(n)s") % {"where": where, "n": n}
        if isinstance(entry, str):
            entry = {"from": entry}
        if not isinstance(entry, dict) or "from" not in entry:
            raise CalendarError(_("%(spot)s: give from (and to, name)")
                                % {"spot": spot}, code="calendar_unreadable")
        first = _date(entry["from"], spot)
        for day in _days(first, _date(entry.get("to") or entry["from"], spot), spot):
            if day in holidays:
                raise CalendarError(_("%(spot)s: %(day)s is listed twice")
                                    % {"spot": spot, "day": day}, code="calendar_overlap")
            holidays[day] = str(entry.get("name") or "")[:40]
    for n, entry in enumerate(raw.get("working_days") or [], 1):
        spot = _("%(where)s, working day %(n)s") % {"where": where, "n": n}
        if isinstance(entry, str):
            entry = {"day": entry}
        if not isinstance(entry, dict) or "day" not in entry:
            raise CalendarError(_("%(spot)s: give day (and name)")
                                % {"spot": spot}, code="calendar_unreadable")
        day = _date(entry["day"], spot)
        if day in working:
            raise CalendarError(_("%(spot)s: %(day)s is listed twice")
                                % {"spot": spot, "day": day}, code="calendar_overlap")
        working[day] = str(entry.get("name") or "")[:40]
    return NoticeData(year=year, title=str(raw["title"]).strip()[:200], number=str(raw.get("number") or "").strip()[:60],
                      published_on=_date(raw["published_on"], _("%(where)s, date of publication") % {"where": where}), holidays=holidays,
                      working=working)


CSV_COLUMNS = ("year", "title", "number", "published_on", "kind", "from", "to", "name")


def _notices_from_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not set(CSV_COLUMNS) - {"number", "to", "name"} <= set(reader.fieldnames):
        raise CalendarError(_("a CSV notice has the columns %(join)s")
                            % {"join": ', '.join(CSV_COLUMNS)}, code="calendar_unreadable")
    notices: dict[str, dict] = {}
    for line, row in enumerate(reader, 2):
        year = (row.get("year") or "").strip()
        head = {key: (row.get(key) or "").strip() for key in ("title", "number", "published_on")}
        notice = notices.setdefault(year, {"year": year, **head, "holidays": [], "working_days": []})
        if any(notice[key] != value for key, value in head.items()):
            raise CalendarError(_("line %(line)s: the title, number and date differ from the year's first line")
                                % {"line": line},
                                code="calendar_unreadable")
        kind = (row.get("kind") or "").strip()
        entry_name = (row.get("name") or "").strip()
        if kind in ("holiday", "放假"):
            notice["holidays"].append({"from": row.get("from"), "to": (row.get("to") or "").strip() or None,
                                       "name": entry_name})
        elif kind in ("working", "上班"):
            notice["working_days"].append({"day": row.get("from"), "name": entry_name})
        else:
            raise CalendarError(_("line %(line)s: kind is holiday or working, not %(kind)r")
                                % {"line": line, "kind": kind}, code="calendar_unreadable")
    return list(notices.values())


def parse(content: bytes, filename: str = "") -> list[NoticeData]:
    """The notices in a file: JSON (one notice, or a list of them) or CSV (CSV_COLUMNS, a row per holiday
    range or adjusted working day); the format is told by the name, else by the first character."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CalendarError(_("the file is not UTF-8 text"), code="calendar_unreadable") from None
    if not text.strip():
        raise CalendarError(_("the file is empty"), code="calendar_unreadable")
    as_json = filename.lower().endswith(".json") or (not filename.lower().endswith(".csv")
                                                      and text.lstrip()[:1] in "[{")
    if as_json:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise CalendarError(_("not JSON: %(msg)s at line %(lineno)s")
                                % {"msg": error.msg, "lineno": error.lineno}, code="calendar_unreadable") from None
        raws = raw if isinstance(raw, list) else [raw]
    else:
        raws = _notices_from_csv(text)
    if not raws:
        raise CalendarError(_("the file holds no notice"), code="calendar_unreadable")
    notices = [_notice_from_dict(r, _("notice %(n)s") % {"n": n} if len(raws) > 1 else _("the notice")) for n, r in enumerate(raws, 1)]
    years = [n.year for n in notices]
    if len(set(years)) != len(years):
        raise CalendarError(_("the file holds two notices for one year"), code="calendar_overlap")
    return notices


def validate(notice: NoticeData) -> None:
    """Refuse a notice that cannot be right, saying why (CalendarError with a code)."""
    year = notice.year
    if not 2000 <= year <= 2100:
        raise CalendarError(_("year %(year)s is out of range") % {"year": year}, code="calendar_wrong_year")
    if not notice.title:
        raise CalendarError(_("the notice needs its title"), code="calendar_unreadable")
    if not notice.holidays:
        raise CalendarError(_("the %(year)s notice gives no holiday")
                            % {"year": year}, code="calendar_holiday_count")
    outside = sorted(d for d in (*notice.holidays, *notice.working) if d.year != year)
    if outside:
        raise CalendarError(_("%(outside)s is not in %(year)s")
                            % {"outside": outside[0], "year": year}, code="calendar_wrong_year", days=[d.isoformat() for d in outside])
    both = sorted(set(notice.holidays) & set(notice.working))
    if both:
        raise CalendarError(_("%(both)s is both a holiday and an adjusted working day")
                            % {"both": both[0]}, code="calendar_overlap",
                            days=[d.isoformat() for d in both])
    weekdays = sorted(d for d in notice.working if d.weekday() < 5)
    if weekdays:
        raise CalendarError(_("%(weekdays)s is a weekday: an adjusted working day is a Saturday or Sunday")
                            % {"weekdays": weekdays[0]},
                            code="calendar_not_weekend")
    if notice.published_on.year not in (year - 1, year):
        raise CalendarError(_("a notice for %(year)s is published in %(value)s or %(year)s, not on "
                                         "%(published_on)s")
                                         % {"year": year, "value": year - 1, "published_on": notice.published_on},
                            code="calendar_wrong_year")
    summary = notice.summary()
    expected = statutory_days(year)
    if summary["statutory_days"] != expected:
        raise CalendarError(
            _("%(weekdays_off)s weekdays off less %(adjusted_working_days)s adjusted working "
                         "days make %(statutory_days)s statutory holidays; the law gives %(expected)s in "
                         "%(year)s")
                         % {"weekdays_off": summary['weekdays_off'], "adjusted_working_days": summary['adjusted_working_days'], "statutory_days": summary['statutory_days'], "expected": expected, "year": year},
            code="calendar_holiday_count",
            **summary)


ChangeHook = Callable[[list, object, dict], dict]
_hooks: dict[str, ChangeHook] = {}


def on_change(name: str, hook: ChangeHook) -> None:
    """Call `hook(years, actor, events_by_year)` inside the import's transaction, after the new days are stored
    and read (the demands app recomputes the deadlines running through those years); what it returns is
    reported under `name`."""
    _hooks[name] = hook


@transaction.atomic
def import_notices(notices: Iterable[NoticeData], *, by=None, source: str = OFFICE) -> dict:
    """Store each notice (replacing the office's entry for its year), all or none, one event each; then let
    the registered hooks act on the changed years. What changed, and what each hook reported."""
    from . import events
    from .models import HolidayNotice, NoticeDay

    notices = list(notices)
    for notice in notices:
        validate(notice)
    actor = by if getattr(by, "is_authenticated", False) else None
    now = clock.now()
    report = {"years": [], "replaced": [], "unchanged": []}
    recorded = {}
    for notice in notices:
        existing = HolidayNotice.objects.select_for_update().filter(year=notice.year).first()
        before = _read_office_years().get(notice.year) if existing else None
        if before and (before.holidays, before.working, before.title, before.number, before.published_on) == (
                frozenset(notice.holidays), frozenset(notice.working), notice.title, notice.number,
                notice.published_on):
            report["unchanged"].append(notice.year)
            continue
        row = existing or HolidayNotice(year=notice.year)
        row.title, row.number, row.published_on = notice.title, notice.number, notice.published_on
        row.source, row.imported_at, row.imported_by = source, now, actor
        row.save()
        if existing:
            row.days.all().delete()
            report["replaced"].append(notice.year)
        NoticeDay.objects.bulk_create(
            [NoticeDay(notice=row, day=d, kind=NoticeDay.Kind.HOLIDAY, name=n) for d, n in notice.holidays.items()]
            + [NoticeDay(notice=row, day=d, kind=NoticeDay.Kind.WORKING, name=n) for d, n in notice.working.items()])
        recorded[notice.year] = events.record(
            "core.calendar_import", row, actor=actor, year=notice.year, title=notice.title, number=notice.number,
            published_on=notice.published_on.isoformat(), source=source, replaced=bool(existing),
            holidays=sorted(d.isoformat() for d in notice.holidays),
            working_days=sorted(d.isoformat() for d in notice.working))
        report["years"].append(notice.year)
    invalidate()  # this transaction reads the new days from here on
    transaction.on_commit(invalidate)
    if report["years"]:
        for name, hook in _hooks.items():
            report[name] = hook(sorted(report["years"]), actor, recorded)
    return report


def overview(first: int, last: int) -> list[YearCalendar]:
    """Every year from `first` to `last`, as it counts now (for the calendar page and `gongzhi calendar list`)."""
    return [year_calendar(year) for year in range(first, last + 1)]


def days_of(calendar: YearCalendar) -> list[tuple[dt.date, str, str]]:
    """(day, "holiday"|"working", festival) of a year's notice, in date order."""
    rows = [(d, "holiday", calendar.names.get(d, "")) for d in calendar.holidays]
    rows += [(d, "working", calendar.names.get(d, "")) for d in calendar.working]
    return sorted(rows)


def ranges_of(calendar: YearCalendar) -> list[dict]:
    """The holidays as ranges of consecutive days with their festival, and the adjusted working days: how a
    notice reads (春节：2月15日至23日放假，2月14日、28日上班)."""
    out: list[dict] = []
    for day, kind, name in days_of(calendar):
        last = out[-1] if out else None
        if (kind == "holiday" and last and last["kind"] == "holiday" and last["to"] + _ONE_DAY == day
                and last["name"] == name):
            last["to"] = day
            last["days"] += 1
        else:
            out.append({"kind": kind, "from": day, "to": day, "name": name, "days": 1})
    return out


def as_notice_data(calendar: YearCalendar, *, published_on: dt.date | None = None) -> NoticeData:
    return NoticeData(year=calendar.year, title=calendar.title, number=calendar.number,
                      published_on=published_on or calendar.published_on or dt.date(calendar.year - 1, 11, 1),
                      holidays={d: calendar.names.get(d, "") for d in calendar.holidays},
                      working={d: calendar.names.get(d, "") for d in calendar.working})
