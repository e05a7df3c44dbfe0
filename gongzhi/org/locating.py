"""Point to grid against the database: one in-memory spatial.GridIndex per process, of every grid with a
boundary and every building, kept fresh by signals in this process and by a database fingerprint
(checked at most every FRESHNESS) for changes made by other processes or without signals; and a typed
address to its place by the address register (place_address)."""

import datetime as dt
import hashlib
import itertools
import logging
import threading
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, ExpressionWrapper, F, FloatField, Sum, TextField, Value
from django.db.models.functions import MD5, Cast
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed

from . import spatial
from .models import Building, Region

logger = logging.getLogger(__name__)

# How long an index is trusted before the fingerprint is compared again: how late another process
# (a second gunicorn worker, a management command, a queryset.update()) may be seen.
FRESHNESS = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class Location:
    """The grid covering a point (None off every grid), the nearest building registered to it and how far."""

    grid: Region | None
    building: Building | None
    distance_m: float | None


def locate(longitude: float, latitude: float) -> Location:
    """The grid covering (longitude, latitude) and its nearest building, by the rules of spatial.py
    (boundary points go to the lowest grid id). Bad coordinates raise ValidationFailed."""
    hit = _hit(longitude, latitude)
    grid, building = _rows(hit)
    if (hit.grid_id is not None and grid is None) or (hit.building_id is not None and building is None):
        # The index names a row deleted by another process since its last fingerprint check: rebuild once.
        # (Still missing after that, it was deleted in the instant between build and read: report it absent.)
        forget_index()
        hit = _hit(longitude, latitude)
        grid, building = _rows(hit)
    return Location(grid, building, hit.distance_m if building is not None else None)


def grid_id_at(longitude: float, latitude: float) -> int | None:
    """Only the id of the grid covering the point (None off every grid), from the index alone: no query,
    for the intake fast path. The id may name a grid deleted by another process within FRESHNESS."""
    return _hit(longitude, latitude).grid_id


def place_address(text: str) -> Location | None:
    """Where a typed address lies, by the district's own address register (each building's address):
    the building whose address the text contains, the longest such address winning ("东园路1号门口" →
    东园路1号); else, when the text is the start of addresses that all lie in one grid (a road and gate
    number naming a compound), that grid without a building. None when the register names no place, or
    several grids. No geocoding service is asked: the register is the authority."""
    given = "".join(unicodedata.normalize("NFKC", text or "").split())
    if len(given) < 2:
        return None
    registered = Building.objects.exclude(address="").select_related("grid")
    contained = list(registered.alias(given=Value(given)).filter(given__contains=F("address")))
    if contained:
        longest = max(len(b.address) for b in contained)
        best = sorted((b for b in contained if len(b.address) == longest), key=lambda b: b.pk)
        if len(best) == 1:
            return Location(best[0].grid, best[0], None)
        grids = {b.grid_id for b in best}
        return Location(best[0].grid, None, None) if len(grids) == 1 else None
    started = list(registered.filter(address__startswith=given).order_by("grid_id").values_list("grid_id", flat=True)
               .distinct()[:2])
    if len(started) == 1:
        return Location(Region.objects.get(pk=started[0]), None, None)
    return None


def _hit(longitude, latitude) -> spatial.Located:
    index = grid_index()
    try:
        return index.locate(longitude, latitude)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None


def _rows(hit: spatial.Located) -> tuple[Region | None, Building | None]:
    grid = Region.objects.filter(pk=hit.grid_id).first() if hit.grid_id is not None else None
    building = Building.objects.filter(pk=hit.building_id).first() if hit.building_id is not None else None
    return grid, building


def locate_many(longitudes, latitudes) -> spatial.LocatedMany:
    """Grid ids, nearest building ids and distances for arrays of points (spatial.NO_ID / NaN where none);
    for batch work (hot spots, imports) where rows are not needed. Bad coordinates raise ValidationFailed."""
    try:
        return grid_index().locate_many(longitudes, latitudes)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None


# --- the per-process cache ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Cached:
    index: spatial.GridIndex
    fingerprint: str
    checked_at: dt.datetime


_lock = threading.Lock()
_cached: _Cached | None = None
_generations = itertools.count()
_generation = next(_generations)  # bumped by forget_index(), so a build racing a change is not kept


def grid_index() -> spatial.GridIndex:
    """This process's index, rebuilt when the database's grids or buildings have changed."""
    global _cached
    cached, now = _cached, clock.now()
    if cached is not None and dt.timedelta(0) <= now - cached.checked_at < FRESHNESS:
        return cached.index
    with _lock:  # one rebuild at a time; the others wait for it and use its result
        cached = _cached
        if cached is not None and dt.timedelta(0) <= now - cached.checked_at < FRESHNESS:
            return cached.index
        generation = _generation
        # Fingerprint first, rows second: a change committed in between makes the next check rebuild
        # again, instead of leaving new rows under an old fingerprint.
        fingerprint = _fingerprint()
        index = cached.index if cached is not None and cached.fingerprint == fingerprint else _build()
        if generation == _generation:
            _cached = _Cached(index, fingerprint, now)
        return index


def forget_index() -> None:
    """Drop this process's index; the next lookup rebuilds it. Call after bulk writes that send no signals
    (bulk_create, queryset.update) when they must be seen at once rather than within FRESHNESS."""
    global _cached, _generation
    _generation = next(_generations)
    _cached = None


def _grids():
    return Region.objects.filter(level=Region.Level.GRID, polygon__isnull=False)


def _fingerprint() -> str:
    """A digest of everything the index is built from: each grid's id and polygon (hashed by the database),
    and for buildings their count and id-weighted sums of grid, longitude and latitude, so a moved or
    re-assigned building changes it too. Costs one small query per table."""
    polygons = list(_grids().order_by("id").values_list("id", MD5(Cast("polygon", TextField()))))

    def weighted(field):
        return Sum(ExpressionWrapper(Cast("id", FloatField()) * F(field), output_field=FloatField()))

    buildings = Building.objects.order_by().aggregate(
        count=Count("id"), ids=Sum("id"), grids=weighted("grid_id"), lons=weighted("longitude"),
        lats=weighted("latitude"),
    )
    return hashlib.blake2b(repr((polygons, sorted(buildings.items()))).encode(), digest_size=16).hexdigest()


def _build() -> spatial.GridIndex:
    index = spatial.GridIndex(
        _grids().order_by().values_list("id", "polygon").iterator(chunk_size=2000),
        Building.objects.order_by().values_list("id", "longitude", "latitude", "grid_id").iterator(chunk_size=2000),
        skip_invalid=True,
    )
    for kind, ident, reason in index.skipped:
        logger.warning("point-to-grid index: %s %s left out: %s", kind, ident, reason)
    return index


@receiver(post_save, sender=Region, dispatch_uid="org.locating.region_saved")
@receiver(post_delete, sender=Region, dispatch_uid="org.locating.region_deleted")
@receiver(post_save, sender=Building, dispatch_uid="org.locating.building_saved")
@receiver(post_delete, sender=Building, dispatch_uid="org.locating.building_deleted")
def _on_change(sender, using=None, **kwargs):
    # Now, so this connection sees its own write at once; and again after commit, so a rebuild by another
    # thread in the meantime (which could not see the uncommitted row) is not kept.
    forget_index()
    transaction.on_commit(forget_index, using=using)
