"""Demands per week of receipt, grid and category (models.WeekTally), for the figures that span months.

At ten million demands, counting half a year of them for the cockpit's trend or the hot-spot analysis reads two
million rows (6-7 s; docs/benchmarks.md, Volume). On PostgreSQL a row trigger on `demands_demand` keeps a tally
instead, one row per (local week, grid, category, merged): every insert, delete and change of the columns it
counts by moves one demand from one cell to another in the transaction that made the change, whichever code
made it (the services, a bulk update, raw SQL). Reads then sum a few thousand rows.

SQLite has no time zones to compute a local week in SQL, and its deployments are small: there the tally stays
empty and `weekly()` counts the demands themselves, with the same result (tests/ compare the two on
PostgreSQL). The week is the local week of settings.TIME_ZONE when the trigger was installed; if that setting
changes, `installed()` is false (and `weekly()` counts the demands) until `gongzhi demands tally --rebuild`."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from . import rules

FUNCTION = "demands_week_tally_apply"
TRIGGERS = ("demands_week_tally_rows", "demands_week_tally_changes")
TABLE = "demands_weektally"


@dataclass(frozen=True)
class Cell:
    week: dt.date          # the local Monday
    grid_id: int
    category_id: int | None
    merged: bool
    received: int          # demands received that week in that grid and category
    rated: int             # of them, rated by the resident (solved or not)
    solved: int            # of them, rated solved


def _week_sql(row: str, zone: str) -> str:
    return f"(date_trunc('week', {row}.received_at AT TIME ZONE '{zone}'))::date"


def _install_sql(zone: str) -> list[str]:
    if "'" in zone:
        raise ValueError(f"unexpected time zone name {zone!r}")
    cell = ("{w}, {r}.grid_id, coalesce({r}.category_id, 0), {r}.state = '" + rules.MERGED + "'")
    old_cell = cell.format(w=_week_sql("OLD", zone), r="OLD")
    new_cell = cell.format(w=_week_sql("NEW", zone), r="NEW")
    return [
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE {TABLE} SET received = received - 1, rated = rated - (OLD.solved IS NOT NULL)::int,
               solved = solved - coalesce(OLD.solved, false)::int
         WHERE (week, grid, category, merged) = ({old_cell});
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {TABLE} (week, grid, category, merged, received, rated, solved)
        VALUES ({new_cell}, 1, (NEW.solved IS NOT NULL)::int, coalesce(NEW.solved, false)::int)
        ON CONFLICT (week, grid, category, merged) DO UPDATE
           SET received = {TABLE}.received + 1, rated = {TABLE}.rated + excluded.rated,
               solved = {TABLE}.solved + excluded.solved;
    END IF;
    RETURN NULL;
END $$""",
        f"COMMENT ON FUNCTION {FUNCTION}() IS 'zone={zone}'",
        f"DROP TRIGGER IF EXISTS {TRIGGERS[0]} ON demands_demand",
        f"DROP TRIGGER IF EXISTS {TRIGGERS[1]} ON demands_demand",
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT OR DELETE ON demands_demand "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER UPDATE OF received_at, grid_id, category_id, state, solved "
        "ON demands_demand FOR EACH ROW WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at "
        "OR OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.category_id IS DISTINCT FROM NEW.category_id "
        f"OR (OLD.state = '{rules.MERGED}') IS DISTINCT FROM (NEW.state = '{rules.MERGED}') "
        f"OR OLD.solved IS DISTINCT FROM NEW.solved) EXECUTE FUNCTION {FUNCTION}()",
    ]


def _recount_sql(zone: str) -> list[str]:
    return [f"DELETE FROM {TABLE}",
            f"INSERT INTO {TABLE} (week, grid, category, merged, received, rated, solved) "
            f"SELECT {_week_sql('d', zone)}, d.grid_id, coalesce(d.category_id, 0), d.state = '{rules.MERGED}', "
            "count(*), count(d.solved), count(*) FILTER (WHERE d.solved) FROM demands_demand d GROUP BY 1, 2, 3, 4"]


def installed_zone(using=None) -> str | None:
    """The time zone the trigger counts weeks in, or None where there is no trigger (SQLite, or dropped)."""
    conn = connection if using is None else using
    if conn.vendor != "postgresql":
        return None
    with conn.cursor() as cursor:
        cursor.execute("SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.proname = %s "
                       "AND (SELECT count(*) FROM pg_trigger t WHERE t.tgfoid = p.oid AND t.tgenabled <> 'D') = 2",
                       [FUNCTION])
        row = cursor.fetchone()
    if not row or not (row[0] or "").startswith("zone="):
        return None
    return row[0][len("zone="):]


def installed(using=None) -> bool:
    """The tally is kept, in the zone the project now counts local weeks in."""
    return installed_zone(using) == settings.TIME_ZONE


def rebuild(schema_editor=None) -> int:
    """(Re)install the trigger for settings.TIME_ZONE and recount every cell from the demands, in one transaction.
    Returns the cells stored (0 on SQLite, where there is no tally)."""
    if connection.vendor != "postgresql":
        return 0
    zone = settings.TIME_ZONE
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE demands_demand IN SHARE ROW EXCLUSIVE MODE")  # no change slips between the two
        for statement in _install_sql(zone) + _recount_sql(zone):
            cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return cursor.fetchone()[0]


def differences() -> list[tuple[tuple, tuple, tuple]]:
    """Cells where the tally and a count of the demands disagree: [((week, grid, category, merged), (received,
    rated, solved) kept, the same counted)]. Reads every demand: for checks, not for pages."""
    with connection.cursor() as cursor:
        zone = installed_zone() or settings.TIME_ZONE
        cursor.execute(
            f"WITH counted AS (SELECT {_week_sql('d', zone)} AS week, d.grid_id AS grid, "
            f"coalesce(d.category_id, 0) AS category, d.state = '{rules.MERGED}' AS merged, count(*) AS received, "
            "count(d.solved) AS rated, count(*) FILTER (WHERE d.solved) AS solved FROM demands_demand d "
            f"GROUP BY 1, 2, 3, 4), kept AS (SELECT * FROM {TABLE} WHERE received <> 0 OR rated <> 0 OR solved <> 0) "
            "SELECT coalesce(k.week, c.week), coalesce(k.grid, c.grid), coalesce(k.category, c.category), "
            "coalesce(k.merged, c.merged), k.received, k.rated, k.solved, c.received, c.rated, c.solved "
            "FROM kept k FULL JOIN counted c USING (week, grid, category, merged) "
            "WHERE (k.received, k.rated, k.solved) IS DISTINCT FROM (c.received, c.rated, c.solved) "
            "ORDER BY 1, 2, 3, 4")
        return [(tuple(row[:4]), tuple(row[4:7]), tuple(row[7:])) for row in cursor.fetchall()]


def pause():
    """The triggers off, for a bulk load that calls rebuild() when done (the seed: a row trigger per demand would
    cost more than the count afterwards). Needs the table's owner."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a table with deferred checks pending cannot be altered
        for name in TRIGGERS:
            cursor.execute(f"ALTER TABLE demands_demand DISABLE TRIGGER {name}")


def weekly(grid_ids, first_week: dt.date, end_week: dt.date, *, live: bool = False) -> list[Cell]:
    """The cells of the weeks [first_week, end_week) (local Mondays) for the grids `grid_ids`: from the tally
    where it is kept, else (or with live=True) counted from the demands."""
    grid_ids = list(grid_ids)
    if not grid_ids or first_week >= end_week:
        return []
    if not live and installed():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT week, grid, category, merged, received, rated, solved FROM {TABLE} "
                           "WHERE week >= %s AND week < %s AND grid = ANY(%s) AND received > 0",
                           [first_week, end_week, grid_ids])
            return [Cell(week, grid, category or None, merged, received, rated, solved)
                    for week, grid, category, merged, received, rated, solved in cursor.fetchall()]
    from .models import Demand

    start = timezone.make_aware(dt.datetime.combine(first_week, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(end_week, dt.time()))
    rows = (Demand.objects.filter(received_at__gte=start, received_at__lt=end, grid_id__in=grid_ids)
            .annotate(week=TruncWeek("received_at"),
                      is_merged=Case(When(state=rules.MERGED, then=Value(True)), default=Value(False)))
            .values_list("week", "grid_id", "category_id", "is_merged")
            .annotate(n=Count("id"), rated=Count("id", filter=Q(solved__isnull=False)),
                      solved=Count("id", filter=Q(solved=True))).order_by())
    cells: dict[tuple, list[int]] = {}
    for week, grid_id, category_id, merged, n, rated, solved in rows:
        if isinstance(week, dt.datetime):
            week = timezone.localdate(week) if timezone.is_aware(week) else week.date()
        key = (week - dt.timedelta(days=week.weekday()), grid_id, category_id, bool(merged))
        total = cells.setdefault(key, [0, 0, 0])
        total[0] += n
        total[1] += rated
        total[2] += solved
    return [Cell(*key, *total) for key, total in cells.items()]
