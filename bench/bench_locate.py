"""Benchmark: point to grid (spatial.GridIndex) over 5,000 synthetic grids and 20,000 buildings, in memory.

Prints single-point and batch lookups per second (median of several runs), a naive baseline (every polygon
tested for every point) with the speed-up, and the machine. Goal: >= 20,000 single lookups/s.

    cd /work/main && .venv/bin/python bench/bench_locate.py
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, shape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.org.spatial import NO_ID, GridIndex, distances_m  # noqa: E402

GOAL_SINGLE_PER_S = 20_000
# A 100 x 50 lattice near Beijing; steps of ~400 m each way at 39.9° N, corners jittered by up to 30 %
# of a step, so grids are irregular quadrilaterals of roughly 280-520 m a side that tile without gaps.
COLUMNS, ROWS = 100, 50
LON0, LAT0 = 116.20, 39.80
STEP_LON, STEP_LAT = 0.0047, 0.0036
JITTER = 0.3


def synthetic_city(buildings: int, seed: int):
    rng = np.random.default_rng(seed)
    vx = LON0 + STEP_LON * (np.arange(COLUMNS + 1)[None, :] + rng.uniform(-JITTER, JITTER, (ROWS + 1, COLUMNS + 1)))
    vy = LAT0 + STEP_LAT * (np.arange(ROWS + 1)[:, None] + rng.uniform(-JITTER, JITTER, (ROWS + 1, COLUMNS + 1)))
    grids = []
    for j in range(ROWS):
        for i in range(COLUMNS):
            corners = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i), (j, i)]
            ring = [[float(vx[a, b]), float(vy[a, b])] for a, b in corners]
            grids.append((len(grids) + 1, {"type": "Polygon", "coordinates": [ring]}))
    owners = rng.integers(1, len(grids) + 1, buildings)
    centres = shapely.centroid(np.array([shape(g) for _, g in grids]))
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    lons = cx[owners - 1] + rng.uniform(-0.35, 0.35, buildings) * STEP_LON
    lats = cy[owners - 1] + rng.uniform(-0.35, 0.35, buildings) * STEP_LAT
    rows = [(i + 1, float(x), float(y), int(g)) for i, (x, y, g) in enumerate(zip(lons, lats, owners))]
    return grids, rows


def query_points(n: int, seed: int):
    """Uniform over the lattice's box widened by 5 % each side, so some points fall off every grid."""
    rng = np.random.default_rng(seed)
    width, height = COLUMNS * STEP_LON, ROWS * STEP_LAT
    lons = rng.uniform(LON0 - 0.05 * width, LON0 + 1.05 * width, n)
    lats = rng.uniform(LAT0 - 0.05 * height, LAT0 + 1.05 * height, n)
    return lons, lats


def naive_locate(polygons, grid_ids, buildings_by_grid, lon, lat):
    """The baseline: test every polygon (shapely covers), lowest id, then scan that grid's buildings."""
    point = Point(lon, lat)
    covering = [gid for gid, polygon in zip(grid_ids, polygons) if polygon.covers(point)]
    if not covering:
        return None, None, None
    grid_id = min(covering)
    best = min(((float(distances_m(lon, lat, x, y)), bid) for bid, x, y in buildings_by_grid.get(grid_id, [])),
               default=None)
    return (grid_id, None, None) if best is None else (grid_id, best[1], best[0])


def timed(fn, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000, help="query points per timed run")
    parser.add_argument("--buildings", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-points", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    print("point-to-grid benchmark (gongzhi.org.spatial.GridIndex)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores; load average {load}")
    print(f"  python {platform.python_version()}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"numpy {np.__version__}")

    grids, buildings = synthetic_city(args.buildings, args.seed)
    start = time.perf_counter()
    index = GridIndex(grids, buildings)
    build_s = time.perf_counter() - start
    m2_per_deg2 = float(distances_m(LON0, LAT0, LON0 + 0.01, LAT0) * distances_m(LON0, LAT0, LON0, LAT0 + 0.01)) * 1e4
    areas_km2 = [shape(g).area * m2_per_deg2 / 1e6 for _, g in grids]
    print(f"  data: {len(index)} grids (mean area ~{statistics.mean(areas_km2):.2f} km², jittered lattice), "
          f"{len(buildings)} buildings; index built in {build_s * 1000:.0f} ms")

    lons, lats = query_points(args.points, args.seed + 1)
    lon_list, lat_list = lons.tolist(), lats.tolist()
    locate = index.locate

    def single():
        for x, y in zip(lon_list, lat_list):
            locate(x, y)

    single_s, single_runs = timed(single, args.repeats)
    batch_s, batch_runs = timed(lambda: index.locate_many(lons, lats), args.repeats)
    single_rate, batch_rate = args.points / single_s, args.points / batch_s

    # Baseline on a few hundred points, and a check that all three ways agree on them.
    polygons = [shape(g) for _, g in grids]
    grid_ids = [g for g, _ in grids]
    by_grid = {}
    for bid, x, y, gid in sorted(buildings):
        by_grid.setdefault(gid, []).append((bid, x, y))
    n_naive = args.naive_points
    start = time.perf_counter()
    naive = [naive_locate(polygons, grid_ids, by_grid, x, y) for x, y in zip(lon_list[:n_naive], lat_list[:n_naive])]
    naive_rate = n_naive / (time.perf_counter() - start)
    batch = index.locate_many(lons[:n_naive], lats[:n_naive])
    for i, (x, y) in enumerate(zip(lon_list[:n_naive], lat_list[:n_naive])):
        one = locate(x, y)
        assert (one.grid_id, one.building_id) == naive[i][:2], (x, y, one, naive[i])
        assert batch.grid_ids[i] == (NO_ID if one.grid_id is None else one.grid_id)
        assert batch.building_ids[i] == (NO_ID if one.building_id is None else one.building_id)
    inside = float(np.mean(index.locate_many(lons, lats).grid_ids != NO_ID))

    print(f"  queries: {args.points} random points per run ({inside:.1%} inside a grid), {args.repeats} runs, median")
    print(f"  single  locate():      {single_rate:>12,.0f} lookups/s   ({single_s / args.points * 1e6:.1f} µs each; "
          f"runs {', '.join(f'{args.points / r:,.0f}' for r in single_runs)})")
    batch_runs_text = ", ".join(f"{args.points / r:,.0f}" for r in batch_runs)
    print(f"  batch   locate_many(): {batch_rate:>12,.0f} lookups/s   (runs {batch_runs_text})")
    print(f"  naive   every polygon: {naive_rate:>12,.0f} lookups/s   ({n_naive} points)")
    print(f"  speed-up over naive:   single x{single_rate / naive_rate:,.0f}, batch x{batch_rate / naive_rate:,.0f}")
    verdict = "MET" if single_rate >= GOAL_SINGLE_PER_S else "NOT MET"
    print(f"  goal >= {GOAL_SINGLE_PER_S:,} single lookups/s: {verdict}")
    return 0 if single_rate >= GOAL_SINGLE_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
