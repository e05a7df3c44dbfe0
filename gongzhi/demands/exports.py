"""CSV export of the three rates (响应率、解决率、满意率) and the composite score: one row per unit,
community, street or category, in the order and with the ranks of the ranking (queries.ranked, i.e.
ranking.rank: too few cases → no rank, listed last; below the floor → flagged, after those that are not).
The numbers are queries.rates' own, so the export, the API (/api/v1/demands/rates) and the pages always
agree; the columns carry the API's field names, with the rank and the period in front and the ranking's
own columns (insufficient, below_floor, previous_rank, previous_score) at the end."""

import csv
import datetime as dt
import io

from gongzhi.org.models import Region

from . import queries, ranking

COLUMNS = ("rank", "level", "start", "end", "id", "name", "code", "cases", "dispatched", "accepted_in_time", "rated",
           "solved", "satisfied", "basically_satisfied", "response_rate", "resolution_rate", "satisfaction_rate",
           "score", "insufficient", "below_floor", "previous_rank", "previous_score")
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
        rows = queries.ranking_for(user, level, start, end, within=within)
    else:
        rows = queries.ranked(level, start, end, within=within)
    return ranking_csv(rows, level, start, end, bom=bom)


def ranking_csv(rows: "list[ranking.Ranked[queries.Rates]]", level: str, start: dt.date, end: dt.date, *,
                bom: bool = False) -> str:
    """Ranked rows (queries.ranked / ranking_for) as CSV: rank empty for a row with too few cases
    (insufficient 1), below_floor the rates under the floor joined by ";"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for placed in rows:
        values = {**placed.row.as_dict(), "rank": placed.rank, "level": level, "start": start.isoformat(),
                  "end": end.isoformat(), "insufficient": int(placed.insufficient),
                  "below_floor": ";".join(placed.below_floor), "previous_rank": placed.previous_rank,
                  "previous_score": placed.previous_score}
        writer.writerow([_cell(values[name]) for name in COLUMNS])
    return ("\ufeff" if bom else "") + out.getvalue()
