"""CSV export of the three rates (响应率、解决率、满意率) and the composite score: one row per unit,
community, street or category, ranked as queries.rates ranks them. The numbers are queries.rates' own,
so the export, the API (/api/v1/demands/rates) and the pages always agree; the columns carry the API's
field names, with the rank and the period in front."""

import csv
import datetime as dt
import io

from gongzhi.org.models import Region

from . import queries

COLUMNS = ("rank", "level", "start", "end", "id", "name", "code", "dispatched", "accepted_in_time", "rated", "solved",
           "satisfied", "basically_satisfied", "response_rate", "resolution_rate", "satisfaction_rate", "score")
_FORMULA_START = ("=", "+", "-", "@")


def _cell(value) -> str:
    """A cell: empty for an unmeasured rate (never a misleading 0); rates as the API gives them; text that
    a spreadsheet would run as a formula prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rates_csv(level: str, start: dt.date, end: dt.date, *, user=None, within: Region | None = None,
              bom: bool = False) -> str:
    """The rates per `level` (unit | community | street | category) for the local days start..end as CSV.

    With `user`, over the demands they may see and only if they may see rates (queries.rates_for, as the
    API does); without, over every demand (CLI and tasks). `bom` starts the text with the byte-order mark
    Excel needs to read UTF-8 (for downloads)."""
    if user is not None:
        rows = queries.rates_for(user, level, start, end, within=within)
    else:
        rows = queries.rates(level, start, end, within=within)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for rank, row in enumerate(rows, start=1):
        values = {"rank": rank, "level": level, "start": start.isoformat(), "end": end.isoformat(), **row.as_dict()}
        writer.writerow([_cell(values[name]) for name in COLUMNS])
    return ("\ufeff" if bom else "") + out.getvalue()
