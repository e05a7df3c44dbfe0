"""The working-day calendar as data (issue #15): where each year comes from, importing a notice (CLI and page),
refusing bad files without changing anything, the warning from 1 November, and the ledger event."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from gongzhi.core import clock, workdays
from gongzhi.core.models import Event, HolidayNotice, NoticeDay
from gongzhi.org.tests.factories import World, official
from gongzhi.org.models import Organisation

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
NOTICE_2027 = DATA / "holiday-notice-2027-test.json"
DECEMBER_1ST = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def built_in():
    """The years the data migration loaded: a transactional test earlier in this process flushes every table
    (Django's TransactionTestCase), rows of data migrations included, so they are loaded again when missing."""
    import importlib

    from django.apps import apps

    importlib.import_module("gongzhi.core.migrations.0004_builtin_holiday_notices").load(apps, None)
    workdays.invalidate()


def notice_2027(**changes) -> dict:
    raw = json.loads(NOTICE_2027.read_text())
    raw.update(changes)
    return raw


def stored() -> tuple:
    """Everything an import may change: compared before and after a refused one."""
    return (list(HolidayNotice.objects.values_list("year", "title", "number", "source")),
            list(NoticeDay.objects.values_list("day", "kind", "name")),
            Event.objects.filter(kind="core.calendar_import").count())


def write(tmp_path, name: str, content) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else
                     (json.dumps(content, ensure_ascii=False) if not isinstance(content, str) else content).encode())
    return path


# --- where the years come from ------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_built_in_years_are_office_entries_and_agree_with_the_library(year, built_in):
    office = workdays.year_calendar(year)
    library = workdays.library_year(year)
    assert office.source == workdays.BUILT_IN and library is not None
    assert (office.holidays, office.working) == (library.holidays, library.working)
    assert office.title == f"国务院办公厅关于{year}年部分节假日安排的通知"


def test_the_office_entry_wins_over_the_library_and_the_library_fills_a_year_without_one(built_in):
    # 2026 as an office might correct it: 中秋 a day earlier (Thursday to Saturday), Sunday worked instead.
    raw = json.loads((EXAMPLES / "holiday-notice-2026.json").read_text())
    raw["holidays"] = [h if h["name"] != "中秋节" else {"name": "中秋节", "from": "2026-09-24", "to": "2026-09-26"}
                       for h in raw["holidays"]]
    raw["working_days"].append({"name": "中秋节", "day": "2026-09-27"})
    report = workdays.import_notices(workdays.parse(json.dumps(raw).encode(), "2026.json"))
    assert report["replaced"] == [2026]
    assert not workdays.is_working_day(dt.date(2026, 9, 24))  # the office's: off
    assert workdays.library_year(2026).is_working_day(dt.date(2026, 9, 24))  # the library's: a Thursday worked
    assert workdays.is_working_day(dt.date(2026, 9, 27))
    assert workdays.year_calendar(2026).source == workdays.OFFICE

    HolidayNotice.objects.filter(year=2025).delete()
    workdays.invalidate()
    assert workdays.year_calendar(2025).source == workdays.LIBRARY
    assert not workdays.is_working_day(dt.date(2025, 1, 28))  # 除夕 2025, from the library


def test_a_year_without_any_notice_counts_monday_to_friday_and_is_not_known():
    calendar = workdays.year_calendar(2027)
    assert not calendar.known and calendar.source == workdays.NONE
    assert workdays.is_working_day(dt.date(2027, 2, 8))  # a Monday in what will be 春节
    assert not workdays.is_working_day(dt.date(2027, 2, 6))  # a Saturday


# --- importing -----------------------------------------------------------------------------------------------

def test_importing_a_notice_stores_its_days_and_records_an_event_for_the_ledger():
    out = io.StringIO()
    call_command("calendar", "import", str(NOTICE_2027), stdout=out)
    assert "imported 2027" in out.getvalue() and "13 statutory holidays" in out.getvalue()
    calendar = workdays.year_calendar(2027)
    assert calendar.source == workdays.OFFICE and calendar.number == "测试-2027"
    assert not workdays.is_working_day(dt.date(2027, 2, 8))
    assert workdays.is_working_day(dt.date(2027, 2, 14))  # a Sunday worked (调休上班)
    assert calendar.names[dt.date(2027, 2, 8)] == "春节"
    event = Event.objects.get(kind="core.calendar_import")
    assert event.data["year"] == 2027 and event.data["replaced"] is False
    assert "2027-02-08" in event.data["holidays"] and event.data["working_days"][0] == "2027-02-14"
    # The same file again changes nothing and records nothing.
    call_command("calendar", "import", str(NOTICE_2027), stdout=io.StringIO())
    assert Event.objects.filter(kind="core.calendar_import").count() == 1


def test_the_example_files_in_the_docs_are_valid_and_the_same_notice():
    from_json = workdays.parse((EXAMPLES / "holiday-notice-2026.json").read_bytes(), "x.json")
    from_csv = workdays.parse((EXAMPLES / "holiday-notice-2026.csv").read_bytes(), "x.csv")
    assert from_json == from_csv
    workdays.validate(from_json[0])
    assert (set(from_json[0].holidays), set(from_json[0].working)) == (
        workdays.library_year(2026).holidays, workdays.library_year(2026).working)


def test_a_dry_run_checks_and_says_what_would_change_but_stores_nothing():
    before = stored()
    out = io.StringIO()
    call_command("calendar", "import", str(NOTICE_2027), "--dry-run", stdout=out)
    assert "would import 2027" in out.getvalue()
    assert stored() == before
    assert not workdays.is_known_year(2027)


BAD_FILES = {
    "wrong year": (lambda: notice_2027(holidays=[{"name": "元旦", "from": "2026-12-31", "to": "2027-01-03"}]),
                   "calendar_wrong_year"),
    "published in the wrong year": (lambda: notice_2027(published_on="2024-11-01"), "calendar_wrong_year"),
    "a day both off and worked": (
        lambda: notice_2027(working_days=[*notice_2027()["working_days"], {"day": "2027-02-06"}]),
        "calendar_overlap"),
    "a day listed twice": (lambda: notice_2027(holidays=[*notice_2027()["holidays"], {"from": "2027-02-08"}]),
                           "calendar_overlap"),
    "a weekday as an adjusted working day": (
        lambda: notice_2027(working_days=[{"day": "2027-02-15"}, *notice_2027()["working_days"][1:]]),
        "calendar_not_weekend"),
    "one statutory holiday too few": (
        lambda: notice_2027(holidays=[h for h in notice_2027()["holidays"] if h["name"] != "中秋节"]),
        "calendar_holiday_count"),
    "one adjusted working day too many": (
        lambda: notice_2027(working_days=[*notice_2027()["working_days"], {"day": "2027-01-09"}]),
        "calendar_holiday_count"),
    "not JSON": (lambda: '{"year": 2027, "title": ', "calendar_unreadable"),
    "not UTF-8": (lambda: "年份".encode("gb18030") + b"\xff\xfe", "calendar_unreadable"),
    "empty": (lambda: "", "calendar_unreadable"),
    "a field missing": (lambda: {k: v for k, v in notice_2027().items() if k != "holidays"}, "calendar_unreadable"),
    "not a date": (lambda: notice_2027(holidays=[{"from": "2027-02-30"}]), "calendar_unreadable"),
    "a CSV without its columns": (lambda: "年份,日期\n2027,2027-01-01\n", "calendar_unreadable"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_reason_and_changes_nothing(tmp_path, case):
    content, code = BAD_FILES[case]
    raw = content()
    name = "notice.csv" if case.startswith("a CSV") else "notice.json"
    path = write(tmp_path, name, raw)
    before = stored()
    with pytest.raises(CommandError) as refused:
        call_command("calendar", "import", str(path), stdout=io.StringIO())
    assert f"[{code}]" in str(refused.value) and "nothing was changed" in str(refused.value)
    assert stored() == before
    assert not workdays.is_known_year(2027)


def test_an_unreadable_path_is_a_clear_error():
    with pytest.raises(CommandError, match="cannot read"):
        call_command("calendar", "import", "/nonexistent/notice.json")


def test_the_count_error_says_the_numbers():
    raw = notice_2027(holidays=[h for h in notice_2027()["holidays"] if h["name"] != "中秋节"])
    with pytest.raises(workdays.CalendarError) as refused:
        workdays.validate(workdays.parse(json.dumps(raw).encode(), "x.json")[0])
    assert refused.value.context["statutory_days"] == 12
    assert "12" in refused.value.message("zh-hans") and "13" in refused.value.message("zh-hans")


# --- the warning from 1 November ------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "missing"), [(dt.date(2026, 10, 31), None), (dt.date(2026, 11, 1), 2027),
                                                (dt.date(2026, 12, 1), 2027), (dt.date(2027, 6, 1), None)])
def test_next_years_notice_is_awaited_from_november(today, missing):
    assert workdays.missing_next_year(today) == missing


def district_official():
    world = World()
    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=world.district)
    return world, official(government, "staff", "qu_zhengfu")


def test_on_1_december_the_district_office_sees_the_warning_at_home_and_it_goes_once_imported(client):
    world, keeper = district_official()
    client.force_login(keeper)
    with clock.frozen_at(DECEMBER_1ST):
        page = client.get(reverse("web:home")).content.decode()
        assert "calendar-warning" in page and "2027" in page
        client.force_login(world.secretary_a)  # a community secretary does not keep the calendar
        assert "calendar-warning" not in client.get(reverse("web:home")).content.decode()
        client.force_login(keeper)
        call_command("calendar", "import", str(NOTICE_2027), stdout=io.StringIO())
        assert "calendar-warning" not in client.get(reverse("web:home")).content.decode()


def test_the_worker_says_next_years_notice_is_missing():
    err = io.StringIO()
    with clock.frozen_at(DECEMBER_1ST):
        call_command("demands", "work", stdout=io.StringIO(), stderr=err)
        assert "holiday notice for 2027 has not been imported" in err.getvalue()
        call_command("calendar", "import", str(NOTICE_2027), stdout=io.StringIO())
        err = io.StringIO()
        call_command("demands", "work", stdout=io.StringIO(), stderr=err)
        assert "holiday notice" not in err.getvalue()


# --- the page ---------------------------------------------------------------------------------------------------

def test_the_district_office_imports_a_notice_on_the_page(client):
    _, keeper = district_official()
    client.force_login(keeper)
    page = client.get(reverse("web:calendar"))
    assert page.status_code == 200 and 'name="file"' in page.content.decode()
    with NOTICE_2027.open("rb") as upload:
        answer = client.post(reverse("web:calendar"), {"file": upload})
    assert answer.status_code == 200
    assert workdays.year_calendar(2027).source == workdays.OFFICE
    assert Event.objects.get(kind="core.calendar_import").actor == keeper
    year = client.get(reverse("web:calendar_year", args=[2027])).content.decode()
    assert "春节" in year and "2月5日" in year


def test_a_bad_file_on_the_page_is_refused_with_its_reason_and_changes_nothing(client, tmp_path):
    _, keeper = district_official()
    client.force_login(keeper)
    path = write(tmp_path, "notice.json", notice_2027(published_on="2024-11-01"))
    before = stored()
    with path.open("rb") as upload:
        answer = client.post(reverse("web:calendar"), {"file": upload})
    assert answer.status_code == 400
    assert "放假安排无法导入" in answer.content.decode()
    assert stored() == before


def test_only_the_calendars_keepers_may_import(client):
    world, _ = district_official()
    client.force_login(world.secretary_a)
    page = client.get(reverse("web:calendar"))
    assert page.status_code == 200 and 'name="file"' not in page.content.decode()  # readable by any official
    before = stored()
    with NOTICE_2027.open("rb") as upload:
        assert client.post(reverse("web:calendar"), {"file": upload}).status_code == 403
    assert stored() == before
    client.logout()
    assert client.get(reverse("web:calendar")).status_code == 302  # to sign in


def test_a_years_file_download_imports_back_unchanged(client, built_in):
    _, keeper = district_official()
    client.force_login(keeper)
    body = client.get(reverse("web:calendar_file", args=[2026])).content
    notice = workdays.parse(body, "2026.json")[0]
    workdays.validate(notice)
    assert workdays.import_notices([notice])["unchanged"] == [2026]
    assert client.get(reverse("web:calendar_file", args=[2027])).status_code == 404
