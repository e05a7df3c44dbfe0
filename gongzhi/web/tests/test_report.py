"""The monthly report (月报): its numbers are the factories' month, its tables come back unchanged from CSV and
XLSX, the PDF is a PDF with the Chinese font in it, and nobody reads another street's report."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongzhi.core import clock
from gongzhi.demands.models import Demand, SupervisionOrder
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.web import report as reports
from gongzhi.web import report_views

from .report_data import REPORT_TIME, WORST_UNIT, ReportMonth, inflated

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(dw, settings):
    settings.GONGZHI_RANKING_MIN_CASES = 1  # a handful of demands is enough to rank here
    settings.LANGUAGE_CODE = "zh-hans"
    return ReportMonth(dw)


@pytest.fixture
def at_report_time():
    with clock.frozen_at(REPORT_TIME), translation.override("zh-hans"):
        yield


def _client(user) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def _street_report(month):
    return reports.build(month.world.street_official, month.world.street, reports.last_complete_month())


def test_the_default_month_is_the_last_complete_one(month, at_report_time):
    assert reports.last_complete_month().isoformat() == "2026-11-01"
    assert reports.parse_month("").isoformat() == "2026-11-01"
    assert reports.parse_month("2026-10").isoformat() == "2026-10-01"


def test_the_numbers_are_those_of_the_month(month, at_report_time):
    w, dw = month.world, month.dw
    report = _street_report(month)
    units = {row.cells[1]: row.cells for row in report.table("units").rows}
    # rank, name, dispatched, accepted in time, response %, rated, solved, resolution %, satisfied, satisfaction %, …
    assert units["区城管委"][:10] == [1, "区城管委", 3, 3, 100.0, 1, 1, 100.0, 1, 100.0]
    assert units[WORST_UNIT][:10] == [2, WORST_UNIT, 1, 0, 0.0, 0, 0, None, 0, None]
    assert report.worst_units == [WORST_UNIT]
    assert WORST_UNIT in report.summary[1] and report.worst_sentence == report.summary[1]
    places = {row.cells[1]: row.cells for row in report.table("places").rows}
    assert places["东园社区"][2:5] == [3, 2, 66.7] and places["西园社区"][2:5] == [1, 1, 100.0]
    assert "received 4 demands" in report.summary[0] or "收到诉求 4 件" in report.summary[0]

    overdue = [row.cells[0] for row in report.table("overdue").rows]
    expected = set(Demand.objects.filter(Demand.overdue_q(REPORT_TIME)).values_list("number", flat=True))
    assert set(overdue) == expected and month.ignored.number in overdue
    orders = SupervisionOrder.objects.filter(demand__street=w.street)
    supervised = report.table("supervision").rows
    assert len(supervised) == orders.count() >= 1
    assert month.ignored.number in [row.cells[0] for row in supervised]
    assert [row.cells[0] for row in report.table("hot_spots").rows] == ["东园社区 · 东园一网格"]
    assert [row.cells[3] for row in report.table("decisions").rows] == ["购买垃圾分类宣传品"]
    assert [row.cells[0] for row in report.table("goals").rows] == ["垃圾分类覆盖率"]  # not the elevators, on track
    # October had none of it.
    october = reports.build(w.street_official, w.street, reports.parse_month("2026-10"))
    assert october.table("units").rows == [] and october.table("decisions").rows == []
    assert dw.resident.username not in str([t.values() for t in report.tables])


def test_no_personal_data_in_any_table(month, at_report_time):
    report = _street_report(month)
    text = repr([t.values() for t in report.tables]) + " ".join(report.summary)
    for secret in ("张三", "13900001111", "东园路1号", "110105198001010032", "楼道堆物"):
        assert secret not in text


def test_the_page_names_the_worst_unit_and_links_every_download(month, at_report_time):
    response = _client(month.world.street_official).get(reverse("web:report"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "本月排名最后的单位" in body or WORST_UNIT in body
    assert 'class="worst-unit"' in body and WORST_UNIT in body
    for name in ("web:report_pdf", "web:report_xlsx", "web:report_table_csv", "web:report_table_xlsx"):
        assert reverse(name) in body
    assert "张三" not in body and "13900001111" not in body


def test_every_table_comes_back_from_csv_and_xlsx_with_the_same_rows(month, at_report_time):
    from openpyxl import load_workbook

    client = _client(month.world.street_official)
    report = _street_report(month)
    query = {"region": month.world.street.pk, "month": "2026-11"}
    for table in report.tables:
        got = client.get(reverse("web:report_table_csv"), {**query, "table": table.key})
        assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")
        assert got.content.startswith("\ufeff".encode())  # Excel reads the Chinese as UTF-8
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert rows[0] == [c.label for c in table.columns]
        assert rows[1:] == [[report_views._text_cell(v) for v in cells] for cells in table.values()]

        got = client.get(reverse("web:report_table_xlsx"), {**query, "table": table.key})
        assert got.status_code == 200
        sheet = load_workbook(io.BytesIO(got.content)).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == [c.label for c in table.columns]
        assert values[1:] == table.values()
    units = report.table("units").values()
    assert units and any(WORST_UNIT in r for r in units)

    whole = load_workbook(io.BytesIO(client.get(reverse("web:report_xlsx"), query).content))
    assert len(whole.sheetnames) == 1 + len(report.tables)
    assert WORST_UNIT in whole.worksheets[0]["A3"].value
    for sheet, table in zip(whole.worksheets[1:], report.tables, strict=True):
        assert [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)] == table.values()


def test_an_unknown_table_or_month_is_a_clear_4xx(month, at_report_time):
    client = _client(month.world.street_official)
    assert client.get(reverse("web:report_table_csv"), {"table": "salaries"}).status_code == 404
    assert client.get(reverse("web:report_table_csv")).status_code == 404
    assert client.get(reverse("web:report"), {"month": "November"}).status_code == 400
    assert client.get(reverse("web:report"), {"month": "2027-01"}).status_code == 400


def test_the_pdf_is_a_pdf_with_the_chinese_font_and_the_worst_unit(month, at_report_time):
    pytest.importorskip("weasyprint")
    response = _client(month.world.street_official).get(reverse("web:report_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="monthly-report-110199001000-2026-11.pdf"; filename*=')
    data = response.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 10_000
    fonts = inflated(data)
    assert b"NotoSansCJK" in fonts or b"WenQuanYi" in fonts  # the Chinese is drawn with a CJK font
    # No PDF text extractor is installed: read the laid-out text WeasyPrint drew on the first page.
    from weasyprint import HTML

    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = month.world.street_official
    html = report_views.render_to_string("web/report_document.html",
                                         {"report": _street_report(month), "for_print": True}, request=request)
    first = HTML(string=html, url_fetcher=report_views._no_fetching).render().pages[0]
    assert WORST_UNIT in _text_of(first._page_box)


def _text_of(box) -> str:
    text = getattr(box, "text", "") or ""
    return text + "".join(_text_of(child) for child in getattr(box, "children", []))


def test_without_pango_the_pdf_link_answers_503_and_says_what_to_install(month, at_report_time, monkeypatch):
    def no_pango():
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(report_views, "_weasyprint", no_pango)
    client = _client(month.world.street_official)
    response = client.get(reverse("web:report_pdf"))
    assert response.status_code == 503
    assert "libpango-1.0-0" in response.content.decode() and "fonts-noto-cjk" in response.content.decode()
    assert client.get(reverse("web:report")).status_code == 200
    assert client.get(reverse("web:report_xlsx")).status_code == 200


def test_a_district_report_ranks_streets_communities_and_units(month, at_report_time):
    client = _client(month.district_head)
    response = client.get(reverse("web:report"))
    assert response.status_code == 200
    report = reports.build(month.district_head, month.world.district, reports.last_complete_month())
    assert [t.key for t in report.tables][:3] == ["places", "communities", "units"]
    assert [r.cells[1] for r in report.table("places").rows] == ["和平街道"]
    # The deputy head may choose the district or either street.
    assert {r.name for r in reports.report_regions(month.district_head)} == {"示范区", "和平街道", "光明街道"}


@pytest.mark.parametrize("who", ["secretary_a", "other_director", "grid_worker", "handler", "resident"])
def test_nobody_reads_another_street_s_report(month, at_report_time, who):
    user = getattr(month.world, who, None) or getattr(month.dw, who, None) or getattr(month, who)
    client = _client(user)
    street = month.world.street.pk
    for name in ("web:report", "web:report_pdf", "web:report_xlsx", "web:report_table_csv"):
        named = client.get(reverse(name), {"region": street, "table": "units"})
        assert named.status_code == 404, (who, name)  # as a region that does not exist
        assert client.get(reverse(name), {"region": 2_000_000_000}).status_code == 404
    own = client.get(reverse("web:report"))
    if who == "other_director":
        assert own.status_code == 200 and "光明街道" in own.content.decode() and WORST_UNIT not in own.content.decode()
    else:
        assert own.status_code == 403  # a community, a grid, a unit or a resident has no monthly report


def test_signed_out_is_sent_to_sign_in(month):
    response = Client().get(reverse("web:report_pdf"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]



# --- the review of the officials' pages ----------------------------------------------------------------------

def test_last_because_of_the_floor_the_summary_says_why_and_the_table_flags_the_rank(month, at_report_time):
    report = _street_report(month)
    # 东园物业 accepted none of its 1 in time: last by the floor (response rate 0.0%), whatever its score.
    assert report.worst_units == [WORST_UNIT]
    assert "低于底线" in report.worst_sentence or "below the floor" in report.worst_sentence
    assert "0.0%" in report.worst_sentence and report.worst_sentence in report.summary
    shown = {row["cells"][1]["text"]: row["cells"][0]["text"] for row in report.table("units").shown()}
    assert shown[WORST_UNIT].startswith("2 · ") and len(shown[WORST_UNIT]) > 4  # the flag next to the rank
    assert shown["区城管委"] == "1"
    assert report.table("units").rows[-1].cells[0] == 2  # the CSV and XLSX keep the rank a number


def test_no_jargon_and_the_weights_in_force_are_stated(month, at_report_time, settings):
    settings.GONGZHI_DEMANDS_SCORE_WEIGHTS = {"response": 1, "resolution": 3, "satisfaction": 6}
    report = _street_report(month)
    notes = " ".join(t.note for t in report.tables)
    assert "错误发现率" not in notes and "false discovery" not in notes
    basis = report.table("places").note
    for words in (("响应率 10%", "response rate 10%"), ("解决率 30%", "resolution rate 30%"),
                  ("满意率 60%", "satisfaction rate 60%")):
        assert any(w in basis for w in words), (words, basis)
    assert "as configured" not in basis and "按配置的权重" not in basis


def test_days_overdue_are_whole_working_and_calendar_days(month, at_report_time):
    table = _street_report(month).table("overdue")
    assert table.rows
    keys = [c.key for c in table.columns]
    working, calendar = keys.index("days_overdue"), keys.index("calendar_days_overdue")
    for row in table.rows:
        assert isinstance(row.cells[working], int) and isinstance(row.cells[calendar], int)
        assert 0 <= row.cells[working] <= row.cells[calendar]
    assert "working" in table.columns[working].label.lower() or "工作日" in table.columns[working].label


def test_file_names_say_the_region_and_the_month_with_an_ascii_fallback(month, at_report_time):
    from urllib.parse import unquote

    client = _client(month.world.street_official)
    response = client.get(reverse("web:report_xlsx"))
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="monthly-report-110199001000-2026-11.xlsx"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and " " not in encoded
    name = unquote(encoded)
    assert name.startswith("和平街道-") and name.endswith(".xlsx") and "2026" in name and "11" in name
    table = client.get(reverse("web:report_table_csv"), {"table": "units"})["Content-Disposition"]
    assert 'filename="monthly-report-110199001000-2026-11-units.csv"' in table
    assert unquote(table.split("filename*=UTF-8''", 1)[1]).startswith("和平街道-")
