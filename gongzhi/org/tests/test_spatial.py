"""Point to grid in memory (spatial.GridIndex) against brute force: every polygon, every building."""

import math

import numpy as np
import pytest
from django.utils import translation
from hypothesis import given, settings, strategies as st
from shapely.geometry import Point, shape

from gongzhi.org.spatial import NO_ID, GridIndex, distances_m


@pytest.fixture(autouse=True)
def _in_english():
    """The index's messages are lazily translated; these tests match their English wording."""
    with translation.override("en"):
        yield


def square(lon, lat, size=0.01):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@st.composite
def lattices(draw):
    """A jittered lattice of quadrilateral grids sharing their vertices (a tessellation like real grids),
    with ids in a shuffled, gappy order, and 0-4 buildings per grid (some outside their own grid)."""
    nx, ny = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    step = draw(st.floats(0.002, 0.02))
    lon0 = draw(st.floats(-179.0, 179.0 - 6 * step))
    lat0 = draw(st.floats(-60.0, 60.0))
    jitter = draw(st.floats(0.0, 0.35))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vx = lon0 + step * (np.arange(nx + 1)[None, :] + rng.uniform(-jitter, jitter, (ny + 1, nx + 1)))
    vy = lat0 + step * (np.arange(ny + 1)[:, None] + rng.uniform(-jitter, jitter, (ny + 1, nx + 1)))
    ids = rng.permutation(np.arange(1, 10 * nx * ny + 1))[: nx * ny].tolist()
    grids = []
    for j in range(ny):
        for i in range(nx):
            corners = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i), (j, i)]
            ring = [[float(vx[a, b]), float(vy[a, b])] for a, b in corners]
            grids.append((ids.pop(), {"type": "Polygon", "coordinates": [ring]}))
    buildings = []
    for grid_id, polygon in grids:
        (cx, cy), = shape(polygon).centroid.coords
        for _ in range(int(rng.integers(0, 5))):
            buildings.append((len(buildings) + 1, float(cx + rng.normal(0, step / 3)),
                              float(cy + rng.normal(0, step / 3)), grid_id))
    vertices = list(zip(vx.ravel().tolist(), vy.ravel().tolist()))
    box = (lon0 - step, lat0 - step, lon0 + (nx + 1) * step, lat0 + (ny + 1) * step)
    return grids, buildings, vertices, box


def brute_force(grids, buildings, lon, lat):
    """The rule written the slow way: every polygon covering the point, lowest id; then every building."""
    covering = [gid for gid, polygon in grids if shape(polygon).covers(Point(lon, lat))]
    if not covering:
        return None, None, None
    grid_id = min(covering)
    mine = sorted((float(distances_m(lon, lat, blon, blat)), bid)
                  for bid, blon, blat, gid in buildings if gid == grid_id)
    if not mine:
        return grid_id, None, None
    distance, building_id = mine[0]
    return grid_id, building_id, distance


@settings(max_examples=60, deadline=None)
@given(lattices(), st.data())
def test_locate_agrees_with_brute_force_on_random_points_and_shared_vertices(lattice, data):
    grids, buildings, vertices, (x0, y0, x1, y1) = lattice
    index = GridIndex(grids, buildings)
    random_points = [(data.draw(st.floats(x0, x1)), data.draw(st.floats(y0, y1))) for _ in range(25)]
    for lon, lat in random_points + vertices:
        found = index.locate(lon, lat)
        grid_id, building_id, distance = brute_force(grids, buildings, lon, lat)
        assert (found.grid_id, found.building_id) == (grid_id, building_id), (lon, lat)
        if distance is None:
            assert found.distance_m is None
        else:
            assert found.distance_m == pytest.approx(distance, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(lattices(), st.randoms(use_true_random=False))
def test_answers_do_not_depend_on_the_order_grids_and_buildings_are_given_in(lattice, random):
    grids, buildings, vertices, _ = lattice
    shuffled_grids, shuffled_buildings = grids[:], buildings[:]
    random.shuffle(shuffled_grids)
    random.shuffle(shuffled_buildings)
    one, other = GridIndex(grids, buildings), GridIndex(shuffled_grids, shuffled_buildings)
    for lon, lat in vertices:
        assert one.locate(lon, lat) == other.locate(lon, lat)


@settings(max_examples=40, deadline=None)
@given(lattices(), st.data())
def test_locate_many_equals_locate_point_by_point(lattice, data):
    grids, buildings, vertices, (x0, y0, x1, y1) = lattice
    index = GridIndex(grids, buildings)
    points = [(data.draw(st.floats(x0, x1)), data.draw(st.floats(y0, y1))) for _ in range(30)] + vertices
    lons, lats = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    many = index.locate_many(lons, lats)
    for i, (lon, lat) in enumerate(points):
        one = index.locate(lon, lat)
        assert many.grid_ids[i] == (NO_ID if one.grid_id is None else one.grid_id)
        assert many.building_ids[i] == (NO_ID if one.building_id is None else one.building_id)
        if one.distance_m is None:
            assert np.isnan(many.distances_m[i])
        else:
            assert many.distances_m[i] == pytest.approx(one.distance_m, rel=1e-12)


def test_a_point_off_every_grid_has_no_grid_building_or_distance():
    index = GridIndex([(1, square(116.00, 39.90)), (2, square(116.01, 39.90))], [(7, 116.005, 39.905, 1)])
    found = index.locate(116.05, 39.95)
    assert (found.grid_id, found.building_id, found.distance_m) == (None, None, None)
    many = index.locate_many([116.05, 116.005], [39.95, 39.905])
    assert many.grid_ids.tolist() == [NO_ID, 1]
    assert many.building_ids.tolist() == [NO_ID, 7]
    assert np.isnan(many.distances_m[0]) and many.distances_m[1] == 0.0


def test_a_point_on_a_shared_edge_or_corner_goes_to_the_lowest_grid_id():
    grids = [(30, square(116.00, 39.90)), (12, square(116.01, 39.90)), (21, square(116.00, 39.91)),
             (40, square(116.01, 39.91))]
    index = GridIndex(grids, [])
    assert index.locate(116.01, 39.905).grid_id == 12  # edge between 30 and 12
    assert index.locate(116.005, 39.91).grid_id == 21  # edge between 30 and 21
    assert index.locate(116.01, 39.91).grid_id == 12  # corner of all four
    assert index.locate(116.00, 39.90).grid_id == 30  # outer corner: the boundary counts as inside
    assert index.locate_many([116.01, 116.005, 116.01], [39.905, 39.91, 39.91]).grid_ids.tolist() == [12, 21, 12]


def test_overlapping_grids_answer_the_lowest_id_too():
    index = GridIndex([(5, square(116.00, 39.90, 0.02)), (3, square(116.01, 39.91))], [])
    assert index.locate(116.015, 39.915).grid_id == 3
    assert index.locate(116.005, 39.905).grid_id == 5


def test_the_nearest_building_is_taken_from_the_covering_grid_only():
    # Building 1 stands right next to the point but is registered to the neighbouring grid.
    index = GridIndex([(1, square(116.00, 39.90)), (2, square(116.01, 39.90))],
                      [(1, 116.0101, 39.905, 1), (2, 116.019, 39.905, 2), (3, 116.011, 39.905, 2)])
    found = index.locate(116.0102, 39.905)
    assert (found.grid_id, found.building_id) == (2, 3)
    assert found.distance_m == pytest.approx(0.0008 * 111_320 * math.cos(math.radians(39.905)), rel=3e-3)


def test_equally_near_buildings_go_to_the_lowest_building_id():
    # Binary fractions, so the two differences of longitude are exactly equal in floating point.
    index = GridIndex([(1, square(116.00, 39.90, 0.02))], [(9, 116.00390625, 39.905, 1), (4, 116.01171875, 39.905, 1)])
    assert index.locate(116.0078125, 39.905).building_id == 4
    assert index.locate_many([116.0078125], [39.905]).building_ids.tolist() == [4]


def test_a_grid_without_buildings_has_no_nearest_building():
    index = GridIndex([(1, square(116.00, 39.90)), (2, square(116.01, 39.90))], [(1, 116.005, 39.905, 1)])
    found = index.locate(116.015, 39.905)
    assert (found.grid_id, found.building_id, found.distance_m) == (2, None, None)


def test_multipolygons_and_self_intersecting_polygons_are_accepted():
    two_parts = {"type": "MultiPolygon", "coordinates": [square(116.00, 39.90)["coordinates"],
                                                        square(116.05, 39.90)["coordinates"]]}
    bowtie = {"type": "Polygon", "coordinates": [[[117, 40], [117.01, 40.01], [117.01, 40], [117, 40.01], [117, 40]]]}
    index = GridIndex([(1, two_parts), (2, bowtie)], [])
    assert index.locate(116.055, 39.905).grid_id == 1
    assert index.locate(116.03, 39.905).grid_id is None
    assert index.locate(117.009, 40.005).grid_id == 2


def test_a_bad_boundary_is_an_error_or_skipped_on_request():
    grids = [(1, square(116.00, 39.90)), (2, {"type": "Point", "coordinates": [116, 39]})]
    with pytest.raises(ValueError, match="grid 2: .*Polygon or MultiPolygon"):
        GridIndex(grids, [])
    index = GridIndex(grids, [(1, 200.0, 39.905, 1)], skip_invalid=True)
    assert [(kind, ident) for kind, ident, _ in index.skipped] == [("grid", 2), ("building", 1)]
    assert index.locate(116.005, 39.905).grid_id == 1


@pytest.mark.parametrize("lon, lat, message", [
    (float("nan"), 39.9, "longitude"),
    (116.0, float("nan"), "latitude"),
    (float("inf"), 39.9, "longitude"),
    (180.5, 39.9, "longitude"),
    (116.0, -90.01, "latitude"),
    (116.0, 200, "latitude"),
    ("east", 39.9, "numbers"),
    (None, 39.9, "numbers|longitude"),  # None in a float array is NaN
])
def test_bad_coordinates_raise_a_value_error_saying_which(lon, lat, message):
    index = GridIndex([(1, square(116.00, 39.90))], [])
    with pytest.raises(ValueError, match=message):
        index.locate(lon, lat)
    with pytest.raises(ValueError, match=message):
        index.locate_many([116.0, lon], [39.9, lat])


def test_locate_many_wants_two_one_dimensional_arrays_of_one_length():
    index = GridIndex([(1, square(116.00, 39.90))], [])
    with pytest.raises(ValueError, match="one length"):
        index.locate_many([116.0, 116.1], [39.9])
    assert index.locate_many([], []).grid_ids.tolist() == []


def test_an_empty_index_finds_nothing():
    index = GridIndex([], [])
    assert index.locate(116.0, 39.9).grid_id is None
    assert index.locate_many([116.0], [39.9]).grid_ids.tolist() == [NO_ID]


def vincenty_m(lon1, lat1, lon2, lat2):
    """The WGS-84 ellipsoidal distance (Vincenty's inverse formula), the reference for distances_m."""
    a, f = 6_378_137.0, 1 / 298.257223563
    b = a * (1 - f)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    lam = big_l
    for _ in range(200):
        sin_s = math.hypot(math.cos(u2) * math.sin(lam),
                           math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * math.cos(lam))
        if sin_s == 0:
            return 0.0
        cos_s = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * math.cos(lam)
        sigma = math.atan2(sin_s, cos_s)
        sin_a = math.cos(u1) * math.cos(u2) * math.sin(lam) / sin_s
        cos2_a = 1 - sin_a**2
        cos_2sm = cos_s - 2 * math.sin(u1) * math.sin(u2) / cos2_a if cos2_a else 0.0
        c = f / 16 * cos2_a * (4 + f * (4 - 3 * cos2_a))
        previous = lam
        lam = big_l + (1 - c) * f * sin_a * (sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2)))
        if abs(lam - previous) < 1e-13:
            break
    u_sq = cos2_a * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = big_b * sin_s * (cos_2sm + big_b / 4 * (
        cos_s * (-1 + 2 * cos_2sm**2) - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (-3 + 4 * cos_2sm**2)))
    return b * big_a * (sigma - d_sigma)


@settings(max_examples=300, deadline=None)
@given(st.floats(-180, 180), st.floats(-60, 60), st.floats(0, 2 * math.pi), st.floats(1.0, 20_000.0))
def test_distances_are_within_three_parts_in_100_000_of_the_ellipsoidal_distance_up_to_20_km(lon, lat, bearing, metres):
    # Place the second point roughly `metres` away along `bearing`, then compare with Vincenty.
    lat2 = lat + metres * math.cos(bearing) / 111_000
    lon2 = (lon + metres * math.sin(bearing) / (111_000 * math.cos(math.radians(lat))) + 540) % 360 - 180
    reference = vincenty_m(lon, lat, lon2, lat2)
    assert float(distances_m(lon, lat, lon2, lat2)) == pytest.approx(reference, rel=3e-5)


def test_distances_are_metres_not_degrees():
    # 0.01° of longitude at Beijing's latitude is about 855 m; 0.01° of latitude about 1,110 m.
    assert float(distances_m(116.00, 39.90, 116.01, 39.90)) == pytest.approx(855.0, rel=2e-3)
    assert float(distances_m(116.00, 39.90, 116.00, 39.91)) == pytest.approx(1110.5, rel=2e-3)
