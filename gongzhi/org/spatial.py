"""Point to grid, in memory: which grid polygon covers a point, and the nearest building of that grid.

Pure (shapely + numpy, nothing Django but lazily translated messages): `locating.py` feeds it rows from the
database and caches it.

Rules
- **Coverage.** A grid covers a point in its interior *or on its boundary* (GEOS `intersects` of a point,
  which for a point equals `covers`). Where several grids cover a point (a shared edge or vertex, or
  overlapping polygons in bad data) the answer is the grid with the **lowest id**, so every point has one
  answer whatever the order the grids were given in.
- **Nearest building.** Among the buildings *registered to* the covering grid (not those merely lying
  inside its polygon), the one at the smallest distance; equal distances go to the lowest building id.
  A grid without buildings gives no building.
- **Distance.** Metres on a local tangent plane of the WGS-84 ellipsoid ("ellipsoidal Earth projected to
  a plane", the FCC formula without its series): east-west degrees scale by the prime-vertical radius
  N(φ)·cos φ̄ with φ̄ the mean latitude of the pair, north-south degrees by the meridional radius M(φ),
  both radii taken at the query point. Never raw degrees. Against the ellipsoidal geodesic (Vincenty)
  the relative error measured between 60° S and 60° N is below 1e-6 up to 1 km (under 1 mm) and below
  2e-5 up to 20 km (under 0.4 m); org/tests/test_spatial.py holds it to 3e-5 up to 20 km. It grows with the
  square of the distance, so this is not for distances of hundreds of kilometres.
- **Input.** Longitude in [-180, 180] and latitude in [-90, 90], finite; anything else is a ValueError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import shapely
from shapely.geometry import shape

from gongzhi.core.i18n import gettext_lazy as _

NO_ID = -1  # in locate_many's integer arrays: "no grid" / "no building"

_A = 6_378_137.0  # WGS-84 semi-major axis, metres
_E2 = 6.694_379_990_14e-3  # WGS-84 first eccentricity squared
_RAD = math.pi / 180.0


@dataclass(frozen=True)
class Located:
    """One answer: the covering grid's id (None off every grid), the nearest building in it and how far."""

    grid_id: int | None
    building_id: int | None
    distance_m: float | None


@dataclass(frozen=True)
class LocatedMany:
    """Answers for a batch, aligned with the input: NO_ID for no grid / no building, NaN for no distance."""

    grid_ids: np.ndarray  # int64
    building_ids: np.ndarray  # int64
    distances_m: np.ndarray  # float64


def _radii_m_per_degree(lat_deg):
    """Metres per degree along a parallel before the cos φ factor (N) and along a meridian (M)."""
    if isinstance(lat_deg, float):  # one query point: math is several times faster than numpy on scalars
        s = math.sin(lat_deg * _RAD)
        w = 1.0 - _E2 * s * s
        return _A / math.sqrt(w) * _RAD, _A * (1.0 - _E2) / (w * math.sqrt(w)) * _RAD
    s = np.sin(np.multiply(lat_deg, _RAD))
    w = 1.0 - _E2 * s * s
    return _A / np.sqrt(w) * _RAD, _A * (1.0 - _E2) / (w * np.sqrt(w)) * _RAD


def distances_m(lon, lat, lons, lats) -> np.ndarray:
    """Distances in metres from (lon, lat) to each of (lons, lats), on the local tangent plane (see module doc).
    Broadcasts: a point against many, or pairwise arrays."""
    n_per_deg, m_per_deg = _radii_m_per_degree(lat)
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    dlon = (lons - lon + 180.0) % 360.0 - 180.0  # across the antimeridian the short way
    return np.hypot(dlon * np.cos((lats + lat) * (0.5 * _RAD)) * n_per_deg, (lats - lat) * m_per_deg)


def check_point(lon, lat) -> tuple[float, float]:
    """(lon, lat) as floats, or ValueError saying what is wrong with them."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValueError(_("longitude and latitude must be numbers, got %(lon)r, %(lat)r")
                         % {"lon": lon, "lat": lat}) from None
    if not (-180.0 <= x <= 180.0):  # also false for NaN
        raise ValueError(_("longitude must be a finite number in [-180, 180], got %(lon)r") % {"lon": lon})
    if not (-90.0 <= y <= 90.0):
        raise ValueError(_("latitude must be a finite number in [-90, 90], got %(lat)r") % {"lat": lat})
    return x, y


def _check_points(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    try:
        x = np.asarray(lons, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(_("longitudes and latitudes must be arrays of numbers")) from None
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(_("longitudes and latitudes must be 1-D arrays of one length, got shapes %(x)s, %(y)s")
                         % {"x": x.shape, "y": y.shape})
    for name, values, limit in ((_("longitude"), x, 180.0), (_("latitude"), y, 90.0)):
        bad = ~(np.abs(values) <= limit)  # NaN compares false, so it is bad too
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(_("%(name)s must be a finite number in [-%(limit)s, %(limit)s], got %(value)r at "
                               "index %(index)s")
                             % {"name": name, "limit": f"{limit:g}", "value": float(values[i]), "index": i})
    return x, y


def grid_shape(geojson: dict):
    """The shapely geometry of a grid's GeoJSON Polygon / MultiPolygon (repaired when self-intersecting);
    ValueError for anything else or an empty shape."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geojson.get("type") if isinstance(geojson, dict) else type(geojson).__name__
        raise ValueError(_("a grid boundary must be a GeoJSON Polygon or MultiPolygon, got %(kind)r") % {"kind": kind})
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, KeyError, shapely.errors.GEOSException) as exc:
        raise ValueError(_("unreadable GeoJSON polygon: %(error)s") % {"error": exc}) from None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.is_empty or geom.area == 0:
        raise ValueError(_("a grid boundary must enclose an area"))
    return geom


class GridIndex:
    """Grids and buildings indexed for point lookups.

    An STRtree over the grid polygons, ordered by grid id so that "lowest tree index" is "lowest id";
    buildings sorted by (grid, id) with each grid's slice kept for the nearest-building step.
    Read-only once built, so one instance may be shared by threads.
    """

    def __init__(self, grids: Iterable[tuple[int, dict]], buildings: Iterable[tuple[int, float, float, int]],
                 *, skip_invalid: bool = False):
        """`grids` are (grid_id, GeoJSON polygon); `buildings` are (building_id, lon, lat, grid_id).
        A bad polygon or building position is a ValueError, or with `skip_invalid` is left out and
        listed in `self.skipped` as (kind, id, reason)."""
        self.skipped: list[tuple[str, int, str]] = []
        shapes: dict[int, object] = {}
        for grid_id, geojson in grids:
            try:
                shapes[int(grid_id)] = grid_shape(geojson)
            except ValueError as exc:
                if not skip_invalid:
                    raise ValueError(_("grid %(id)s: %(error)s") % {"id": grid_id, "error": exc}) from None
                self.skipped.append(("grid", grid_id, str(exc)))
        self._grid_ids = np.array(sorted(shapes), dtype=np.int64)
        self._polygons = np.array([shapes[g] for g in self._grid_ids.tolist()], dtype=object)
        self._tree = shapely.STRtree(self._polygons)

        rows = []
        for building_id, lon, lat, grid_id in buildings:
            if int(grid_id) not in shapes:
                continue  # its grid has no (usable) boundary, so no point can reach it
            try:
                x, y = check_point(lon, lat)
            except ValueError as exc:
                if not skip_invalid:
                    raise ValueError(_("building %(id)s: %(error)s") % {"id": building_id, "error": exc}) from None
                self.skipped.append(("building", building_id, str(exc)))
                continue
            rows.append((int(grid_id), int(building_id), x, y))
        rows.sort()
        b_grid = np.array([r[0] for r in rows], dtype=np.int64)
        self._b_ids = np.array([r[1] for r in rows], dtype=np.int64)
        self._b_lons = np.array([r[2] for r in rows], dtype=np.float64)
        self._b_lats = np.array([r[3] for r in rows], dtype=np.float64)
        # _starts[k]:_starts[k + 1] are the buildings of the k-th grid of the tree.
        self._starts = np.searchsorted(b_grid, np.append(self._grid_ids, np.iinfo(np.int64).max))
        self._slices = [slice(s, e) for s, e in zip(self._starts[:-1].tolist(), self._starts[1:].tolist())]
        self._grid_id_list = self._grid_ids.tolist()

    def __len__(self) -> int:
        return len(self._grid_ids)

    def locate(self, lon: float, lat: float) -> Located:
        """The grid covering (lon, lat), its nearest building and the distance to it in metres."""
        x, y = check_point(lon, lat)
        hits = self._tree.query(shapely.Point(x, y), predicate="intersects")
        if not len(hits):
            return Located(None, None, None)
        k = int(hits[0]) if len(hits) == 1 else min(hits.tolist())
        grid_id = self._grid_id_list[k]
        part = self._slices[k]
        if part.start == part.stop:
            return Located(grid_id, None, None)
        d = distances_m(x, y, self._b_lons[part], self._b_lats[part])
        i = int(d.argmin())  # first of equals: the lowest building id, since ids are sorted within a grid
        return Located(grid_id, int(self._b_ids[part.start + i]), float(d[i]))

    def locate_many(self, lons, lats) -> LocatedMany:
        """locate() for arrays of points at once (one STRtree bulk query, then vectorised distances)."""
        x, y = _check_points(lons, lats)
        n = len(x)
        grid_k = np.full(n, len(self._grid_ids), dtype=np.int64)  # "past the end" means no grid
        point_i, tree_k = self._tree.query(shapely.points(x, y), predicate="intersects")
        np.minimum.at(grid_k, point_i, tree_k)  # lowest id among the covering grids
        inside = grid_k < len(self._grid_ids)

        grid_ids = np.full(n, NO_ID, dtype=np.int64)
        grid_ids[inside] = self._grid_ids[grid_k[inside]]
        building_ids = np.full(n, NO_ID, dtype=np.int64)
        dist = np.full(n, np.nan)

        # One (point, building) pair per building of each point's grid.
        pts = np.flatnonzero(inside)
        starts = self._starts[grid_k[pts]]
        counts = self._starts[grid_k[pts] + 1] - starts
        pair_pt = np.repeat(pts, counts)
        offsets = np.arange(len(pair_pt)) - np.repeat(np.cumsum(counts) - counts, counts)
        pair_b = np.repeat(starts, counts) + offsets
        if len(pair_pt):
            pair_d = distances_m(x[pair_pt], y[pair_pt], self._b_lons[pair_b], self._b_lats[pair_b])
            order = np.lexsort((pair_b, pair_d, pair_pt))  # by point, then distance, then building id
            first = order[np.r_[True, pair_pt[order][1:] != pair_pt[order][:-1]]]
            building_ids[pair_pt[first]] = self._b_ids[pair_b[first]]
            dist[pair_pt[first]] = pair_d[first]
        return LocatedMany(grid_ids, building_ids, dist)
