"""Demands per week of receipt, grid and first-level category (models.WeekTally), for figures that span months.

At ten million demands, counting half a year of them for the cockpit's trend or the hot-spot analysis reads two
million rows (6-7 s; docs/benchmarks.md, Volume). On PostgreSQL a row trigger on `demands_demand` keeps a tally
instead, one row per (local week, grid, first-level category, merged): every insert, delete and change of the
columns it counts by moves one demand from one cell to another in the transaction that made the change, whichever
code made it (the services, a bulk update, raw SQL); a category moved under another first-level one moves its
demands. Reads then sum tens of thousands of rows instead of millions. Every consumer (the cockpit's trend and
map, the hot spots) groups by the first-level category, hence no finer key.

SQLite has no time zones to compute a local week in SQL, and its deployments are small: there the tally stays
empty and `weekly()` counts the demands themselves, with the same result (demands/tests/test_tally.py compares
the two on PostgreSQL). The week is the local week of settings.TIME_ZONE when the trigger was installed; if that
setting changes, `installed()` is false (and `weekly()` counts the demands) until `gongzhi demands tally
--rebuild`."""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, connections, router, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from . import rules

logger = logging.getLogger(__name__)

FUNCTION = "demands_week_tally_apply"
REROOT_FUNCTION = "demands_week_tally_reroot"
TRIGGERS = ("demands_week_tally_rows", "demands_week_tally_changes")
REROOT_TRIGGER = "demands_week_tally_category_moved"
TABLE = "demands_weektally"


def _week_sql(row: str, zone: str) -> str:
    return f"(date_trunc('week', {row}.received_at AT TIME ZONE '{zone}'))::date"


def _root_of_path(path: str) -> str:
    return f"split_part(btrim({path}, '/'), '/', 1)::int"


def _root_sql(category_id: str) -> str:
    """The first-level category of a demand's category (0 for none), read from the category's path."""
    return (f"coalesce((SELECT {_root_of_path('c.path')} FROM demands_category c WHERE c.id = {category_id}), 0)")


def _install_sql(zone: str) -> list[str]:
    if "'" in zone:
        raise ValueError(f"unexpected time zone name {zone!r}")
    cell = "{w}, {r}.grid_id, {root}, {r}.state = '" + rules.MERGED + "'"
    old_cell = cell.format(w=_week_sql("OLD", zone), r="OLD", root=_root_sql("OLD.category_id"))
    new_cell = cell.format(w=_week_sql("NEW", zone), r="NEW", root=_root_sql("NEW.category_id"))
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
        # A category moved under another first-level category takes its demands with it.
        f"""CREATE OR REPLACE FUNCTION {REROOT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT {_week_sql('d', zone)} AS week, d.grid_id AS grid, d.state = '{rules.MERGED}' AS merged,
                    count(*) AS received, count(d.solved) AS rated, count(*) FILTER (WHERE d.solved) AS solved
               FROM demands_demand d WHERE d.category_id = NEW.id GROUP BY 1, 2, 3 LOOP
        UPDATE {TABLE} SET received = received - r.received, rated = rated - r.rated, solved = solved - r.solved
         WHERE (week, grid, category, merged) = (r.week, r.grid, {_root_of_path('OLD.path')}, r.merged);
        INSERT INTO {TABLE} (week, grid, category, merged, received, rated, solved)
        VALUES (r.week, r.grid, {_root_of_path('NEW.path')}, r.merged, r.received, r.rated, r.solved)
        ON CONFLICT (week, grid, category, merged) DO UPDATE
           SET received = {TABLE}.received + excluded.received, rated = {TABLE}.rated + excluded.rated,
               solved = {TABLE}.solved + excluded.solved;
    END LOOP;
    RETURN NULL;
END $$""",
        f"COMMENT ON FUNCTION {FUNCTION}() IS 'zone={zone}'",
        f"DROP TRIGGER IF EXISTS {TRIGGERS[0]} ON demands_demand",
        f"DROP TRIGGER IF EXISTS {TRIGGERS[1]} ON demands_demand",
        f"DROP TRIGGER IF EXISTS {REROOT_TRIGGER} ON demands_category",
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT OR DELETE ON demands_demand "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER UPDATE OF received_at, grid_id, category_id, state, solved "
        "ON demands_demand FOR EACH ROW WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at "
        "OR OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.category_id IS DISTINCT FROM NEW.category_id "
        f"OR (OLD.state = '{rules.MERGED}') IS DISTINCT FROM (NEW.state = '{rules.MERGED}') "
        f"OR OLD.solved IS DISTINCT FROM NEW.solved) EXECUTE FUNCTION {FUNCTION}()",
        f"CREATE TRIGGER {REROOT_TRIGGER} AFTER UPDATE OF path ON demands_category FOR EACH ROW "
        f"WHEN (split_part(btrim(OLD.path, '/'), '/', 1) IS DISTINCT FROM split_part(btrim(NEW.path, '/'), '/', 1)) "
        f"EXECUTE FUNCTION {REROOT_FUNCTION}()",
    ]


def _counted_sql(zone: str) -> str:
    """Every cell counted from the demands: (week, grid, category, merged, received, rated, solved)."""
    return (f"SELECT {_week_sql('d', zone)} AS week, d.grid_id AS grid, coalesce({_root_of_path('c.path')}, 0) "
            f"AS category, d.state = '{rules.MERGED}' AS merged, count(*) AS received, count(d.solved) AS rated, "
            "count(*) FILTER (WHERE d.solved) AS solved FROM demands_demand d "
            "LEFT JOIN demands_category c ON c.id = d.category_id GROUP BY 1, 2, 3, 4")


def _recount_sql(zone: str) -> list[str]:
    return [f"DELETE FROM {TABLE}",
            f"INSERT INTO {TABLE} (week, grid, category, merged, received, rated, solved) {_counted_sql(zone)}"]


def installed_zone(using=None) -> str | None:
    """The time zone the trigger counts weeks in, or None where there is no trigger (SQLite, or dropped)."""
    conn = connection if using is None else using
    if conn.vendor != "postgresql":
        return None
    with conn.cursor() as cursor:
        cursor.execute("SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.proname = %s "
                       "AND (SELECT count(*) FROM pg_trigger t WHERE t.tgname = ANY(%s) AND t.tgenabled <> 'D') = 3",
                       [FUNCTION, [*TRIGGERS, REROOT_TRIGGER]])
        row = cursor.fetchone()
    if not row or not (row[0] or "").startswith("zone="):
        return None
    return row[0][len("zone="):]


def installed(using=None) -> bool:
    """The tally is kept, in the zone the project now counts local weeks in."""
    return installed_zone(using) == settings.TIME_ZONE


def rebuild() -> int:
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
        cells = cursor.fetchone()[0]
    logger.info("weekly tally of demands rebuilt: %s cells, weeks in %s", cells, zone)
    return cells


def differences() -> list[tuple[tuple, tuple, tuple]]:
    """Cells where the tally and a count of the demands disagree: [((week, grid, category, merged), (received,
    rated, solved) kept, the same counted)]. Reads every demand: for checks, not for pages."""
    with connection.cursor() as cursor:
        zone = installed_zone() or settings.TIME_ZONE
        cursor.execute(
            f"WITH counted AS ({_counted_sql(zone)}), "
            f"kept AS (SELECT * FROM {TABLE} WHERE received <> 0 OR rated <> 0 OR solved <> 0) "
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


KEYS = ("week", "grid", "category")


def weekly(grid_ids, first_week: dt.date, end_week: dt.date, *, by=KEYS, merged: bool | None = None,
           live: bool = False) -> list[tuple]:
    """Demands received in the weeks [first_week, end_week) (local Mondays) in the grids `grid_ids`, summed by
    the keys `by` (some of "week", "grid", "category", in that order; the category is the first-level one, None
    for a demand without): [(*keys, received, rated, solved)], only groups with demands. `merged`: only merged
    demands (True), only the others (False), or both (None). From the tally where it is kept (summed by the
    database), else, or with live=True, counted from the demands."""
    grid_ids = list(grid_ids)
    by = tuple(key for key in KEYS if key in by)
    if not grid_ids or first_week >= end_week:
        return []
    from .models import WeekTally

    # The database the page reads from (a replica, when core/dbrouter.py sends the page there).
    reading = connections[router.db_for_read(WeekTally)]
    if not live and installed(reading):
        keys = [f"t.{key}" for key in by]
        sql = (f"SELECT {''.join(k + ', ' for k in keys)}sum(t.received), sum(t.rated), sum(t.solved) "
               f"FROM {TABLE} t WHERE t.week >= %s AND t.week < %s AND t.grid = ANY(%s)"
               + ("" if merged is None else " AND t.merged = %s")
               + (f" GROUP BY {', '.join(keys)}" if keys else "") + " HAVING sum(t.received) > 0")
        params = [first_week, end_week, grid_ids] + ([] if merged is None else [merged])
        with reading.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        at = by.index("category") if "category" in by else None
        return [tuple((value or None) if i == at else value for i, value in enumerate(row[:-3]))
                + tuple(int(n) for n in row[-3:]) for row in rows]
    return _counted(grid_ids, first_week, end_week, by, merged)


def _counted(grid_ids, first_week, end_week, by, merged) -> list[tuple]:
    from .models import Category, Demand

    start = timezone.make_aware(dt.datetime.combine(first_week, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(end_week, dt.time()))
    demands = Demand.objects.filter(received_at__gte=start, received_at__lt=end, grid_id__in=grid_ids)
    if merged is not None:
        demands = demands.filter(state=rules.MERGED) if merged else demands.exclude(state=rules.MERGED)
    rows = (demands.annotate(week=TruncWeek("received_at")).values_list("week", "grid_id", "category_id")
            .annotate(n=Count("id"), rated=Count("id", filter=Q(solved__isnull=False)),
                      solved=Count("id", filter=Q(solved=True))).order_by())
    root_of = {pk: int(path.strip("/").split("/")[0]) for pk, path in Category.objects.values_list("id", "path")}
    groups: dict[tuple, list[int]] = {}
    for week, grid_id, category_id, n, rated, solved in rows:
        if isinstance(week, dt.datetime):
            week = timezone.localdate(week) if timezone.is_aware(week) else week.date()
        values = {"week": week - dt.timedelta(days=week.weekday()), "grid": grid_id,
                  "category": root_of[category_id] if category_id else None}
        total = groups.setdefault(tuple(values[key] for key in by), [0, 0, 0])
        total[0] += n
        total[1] += rated
        total[2] += solved
    return [key + tuple(total) for key, total in groups.items()]
