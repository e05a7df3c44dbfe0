"""A cache of the cockpit's region-wide figures (per-grid counts, the weekly trend, top issues, agenda
suggestions), per region and language; nothing that depends on the user (buttons, warnings) is kept.

The key carries a version of everything these figures are computed from, so any change computes them
afresh: the newest core event (every change of a demand records one, in its transaction), the newest demand and demand profile (issues grow as demands are profiled), the newest issue
and hot-spot run, and today's date (the windows move with the day). An issue's heat fades with time without
an event, hence a short time limit as well (SECONDS)."""

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router

from gongzhi.core import clock
from gongzhi.org.models import Region

SECONDS = 120


def version() -> str:
    """The newest ids of those tables, read in one query over their primary-key indexes."""
    from gongzhi.core.models import Event
    from gongzhi.demands.models import Demand

    from .models import DemandProfile, HotSpotRun, Issue

    tables = [(Event._meta.db_table, "id"), (Demand._meta.db_table, "id"), (DemandProfile._meta.db_table, "demand_id"),
              (Issue._meta.db_table, "id"), (HotSpotRun._meta.db_table, "id")]
    # The database the figures are read from (the replica, when core/dbrouter.py sends this page there).
    connection = connections[router.db_for_read(Event)]
    parts = [f"(SELECT MAX({connection.ops.quote_name(column)}) FROM {connection.ops.quote_name(table)})"
             for table, column in tables]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return "-".join(str(n or 0) for n in row)


def figures(region: Region, language: str, compute):
    """compute() for `region` in `language`, from the cache while nothing it reads has changed."""
    seconds = getattr(settings, "GONGZHI_INSIGHT_CACHE_SECONDS", SECONDS)
    if not seconds:
        return compute()
    key = f"insight.cockpit:{router.db_for_read(Region)}:{region.pk}:{language}:{clock.today().isoformat()}:{version()}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found
