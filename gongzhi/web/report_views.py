"""The monthly report's pages and files: the printable page, the PDF (WeasyPrint, the same body under the
print stylesheet), each table as CSV (UTF-8 with a byte-order mark, for spreadsheet programs) or XLSX
(openpyxl), and the whole report as one XLSX with a sheet per table. All of them render report.build()'s
tables, so the numbers agree everywhere. A server without pango still serves the rest; its PDF link answers
503 with what to install."""

import csv
import io
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.core.pages import page

from . import report as reports

_FORMULA_START = ("=", "+", "-", "@")
PDF_PACKAGES = "fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0"


def _chosen(request) -> reports.Report:
    region = reports.report_region(request.user, request.GET.get("region", ""))
    month = reports.parse_month(request.GET.get("month", ""))
    return reports.build(request.user, region, month)


def _query(rep: reports.Report) -> str:
    return f"region={rep.region.pk}&month={rep.month:%Y-%m}"


_UNSAFE_IN_NAMES = '\\/:*?"<>|\r\n\t'


def _filename(rep: reports.Report, suffix: str, part: str = "") -> tuple[str, str]:
    """(the name as people read it, an ASCII fallback): "东华街道-2026年11月-月报.pdf" (part: the table's
    title, "东华街道-2026年11月-月报-单位排名.csv"), and "monthly-report-110198001000-2026-11.pdf"."""
    name = _("%(region)s-%(month)s-monthly report") % {"region": rep.region.name,
                                                       "month": reports.month_label(rep.month)}
    if part:
        name += f"-{part}"
    name = "".join("_" if ch in _UNSAFE_IN_NAMES else ch for ch in name).strip()
    code = rep.region.admin_code or str(rep.region.pk)
    return f"{name}{suffix}", f"monthly-report-{code}-{rep.month:%Y-%m}{suffix}"


def _attachment(response: HttpResponse, filename: tuple[str, str]) -> HttpResponse:
    """Content-Disposition with the name in UTF-8 (RFC 6266 / RFC 5987 filename*) and an ASCII filename for
    clients that read only that."""
    name, ascii_name = filename
    response["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                       f"filename*=UTF-8''{quote(name, safe='')}")
    return response


def _context(request, rep: reports.Report, *, for_print: bool = False) -> dict:
    return {"report": rep, "query": _query(rep), "for_print": for_print}


@page
def report(request):
    """The monthly report of a street or district, with its region and month chooser and its downloads."""
    rep = _chosen(request)
    context = {
        **_context(request, rep),
        "regions": [{"id": r.pk, "label": "\u3000" * (r.level - 1) + r.name}
                    for r in reports.report_regions(request.user)],
        "months": [{"value": f"{m:%Y-%m}", "label": reports.month_label(m)} for m in reports.month_choices()],
    }
    return render(request, "web/report.html", context)


# --- PDF -------------------------------------------------------------------------------------------------

def _weasyprint():
    """WeasyPrint's HTML and CSS classes; ImportError or OSError when it or pango cannot be loaded."""
    from weasyprint import CSS, HTML

    return HTML, CSS


def _no_fetching(url, *args, **kwargs):
    """The PDF is rendered from our own template and stylesheet only: WeasyPrint fetches nothing (no
    request to the server itself, no address an attacker could name)."""
    raise ValueError(f"not fetched: {url}")


def _stylesheet() -> Path:
    found = finders.find("web/report.css")
    return Path(found) if found else Path(settings.STATIC_ROOT) / "web" / "report.css"


def render_pdf(request, rep: reports.Report) -> bytes:
    HTML, CSS = _weasyprint()
    html = render_to_string("web/report_document.html", _context(request, rep, for_print=True), request=request)
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf(
        stylesheets=[CSS(filename=str(_stylesheet()), url_fetcher=_no_fetching)])


@page
def report_pdf(request):
    """The report as a PDF; 503 with what to install when WeasyPrint cannot load."""
    rep = _chosen(request)
    try:
        data = render_pdf(request, rep)
    except (ImportError, OSError) as missing:
        context = {**_context(request, rep), "packages": PDF_PACKAGES, "detail": str(missing)[:300]}
        return render(request, "web/report_pdf_unavailable.html", context, status=503)
    return _attachment(HttpResponse(data, content_type="application/pdf"), _filename(rep, ".pdf"))


# --- CSV and XLSX --------------------------------------------------------------------------------------------

def _text_cell(value):
    """A cell as text for CSV: empty for nothing; text a spreadsheet would run as a formula prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def table_csv(table: reports.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for cells in table.values():
        writer.writerow([_text_cell(v) for v in cells])
    return "\ufeff" + out.getvalue()


def _sheet_title(title: str, taken: set) -> str:
    name = "".join(" " if ch in '[]:*?/\\' else ch for ch in title)[:31].strip() or "sheet"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name)
    return name


def _fill_sheet(sheet, table: reports.Table) -> None:
    from openpyxl.styles import Font

    sheet.append([c.label for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cells in table.values():
        sheet.append([("'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v) for v in cells])
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        widest = max([len(str(column.label))] + [len(str(v)) for v in (r[index - 1] for r in table.values()) if v])
        sheet.column_dimensions[letter].width = min(60, 4 + 1.6 * widest)
        if column.kind == reports.PERCENT:
            for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                row[0].number_format = "0.0"
    sheet.freeze_panes = "A2"


def _workbook_bytes(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_xlsx(table: reports.Table) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(table.title, set())
    _fill_sheet(sheet, table)
    return _workbook_bytes(workbook)


def report_xlsx_bytes(rep: reports.Report) -> bytes:
    """The whole report: a summary sheet, then one sheet per table."""
    from openpyxl import Workbook

    workbook = Workbook()
    summary = workbook.active
    taken: set = set()
    summary.title = _sheet_title(_("Summary"), taken)
    summary.append([rep.title])
    for line in rep.summary:
        summary.append([line])
    summary.column_dimensions["A"].width = 120
    for table in rep.tables:
        _fill_sheet(workbook.create_sheet(_sheet_title(table.title, taken)), table)
    return _workbook_bytes(workbook)


def _table(request, rep: reports.Report) -> reports.Table:
    key = request.GET.get("table", "")
    if not key:
        raise NotFound(_("table"), code="unknown_table")
    return rep.table(key)


@page
def report_table_csv(request):
    rep = _chosen(request)
    table = _table(request, rep)
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    return _attachment(response, _table_filename(rep, table, ".csv"))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table_filename(rep: reports.Report, table: reports.Table, suffix: str) -> tuple[str, str]:
    name, ascii_name = _filename(rep, suffix, table.title)
    return name, ascii_name.removesuffix(suffix) + f"-{table.key}{suffix}"


@page
def report_table_xlsx(request):
    rep = _chosen(request)
    table = _table(request, rep)
    return _attachment(HttpResponse(table_xlsx(table), content_type=XLSX), _table_filename(rep, table, ".xlsx"))


@page
def report_xlsx(request):
    rep = _chosen(request)
    return _attachment(HttpResponse(report_xlsx_bytes(rep), content_type=XLSX), _filename(rep, ".xlsx"))
