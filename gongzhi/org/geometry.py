"""Region boundaries: grids carry drawn polygons, every level above derives its own as their union."""

from django.db import transaction
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from .models import Region


def union_geojson(polygons: list[dict]) -> dict | None:
    """The GeoJSON union of GeoJSON polygons (None when there are none)."""
    shapes = [shape(p) for p in polygons if p]
    if not shapes:
        return None
    merged = unary_union(shapes).buffer(0)
    return _plain(mapping(merged))


def derive_polygons(root: Region | None = None) -> int:
    """Recompute, bottom-up, the polygon of every region above grid level in `root`'s subtree
    (all regions when None) as the union of its children's. Returns how many were updated."""
    prefix = root.path if root else "/"
    regions = list(Region.objects.filter(path__startswith=prefix).order_by("-level", "path"))
    by_parent: dict[int, list[dict]] = {}
    for r in regions:
        if r.level == Region.Level.GRID and r.polygon:
            by_parent.setdefault(r.parent_id, []).append(r.polygon)
    updated = 0
    with transaction.atomic():
        for level in (Region.Level.COMMUNITY, Region.Level.STREET, Region.Level.DISTRICT):
            for r in (x for x in regions if x.level == level):
                polygon = union_geojson(by_parent.get(r.id, []))
                if polygon != r.polygon:
                    Region.objects.filter(pk=r.pk).update(polygon=polygon)
                    r.polygon = polygon
                    updated += 1
                if polygon and r.parent_id:
                    by_parent.setdefault(r.parent_id, []).append(polygon)
    return updated


def _plain(geojson):
    """Tuples to lists, so the stored JSON compares equal after a round trip."""
    if geojson is None:
        return None
    if isinstance(geojson, dict):
        return {k: _plain(v) for k, v in geojson.items()}
    if isinstance(geojson, (list, tuple)):
        return [_plain(v) for v in geojson]
    return geojson


def grid_neighbours(grids: list[tuple[int, dict]]) -> dict[int, list[int]]:
    """Queen adjacency of grids, {grid id: sorted ids of the grids it touches (edge or corner)}, from their
    (id, GeoJSON polygon) pairs; unreadable polygons have no neighbours. For the hot-spot statistics and
    "nearby" in similar demands."""
    import shapely

    from .spatial import grid_shape

    ids, shapes = [], []
    for grid_id, polygon in grids:
        try:
            shapes.append(grid_shape(polygon))
            ids.append(grid_id)
        except ValueError:
            continue
    neighbours: dict[int, set[int]] = {grid_id: set() for grid_id, _ in grids}
    if not shapes:
        return {grid_id: [] for grid_id in neighbours}
    tree = shapely.STRtree(shapes)
    # Grids drawn edge to edge share boundaries exactly; a hair of tolerance absorbs rounding in imports.
    left, right = tree.query(shapes, predicate="dwithin", distance=1e-7)
    for a, b in zip(left.tolist(), right.tolist()):
        if a != b:
            neighbours[ids[a]].add(ids[b])
            neighbours[ids[b]].add(ids[a])
    return {grid_id: sorted(others) for grid_id, others in neighbours.items()}


def all_grid_neighbours() -> dict[int, list[int]]:
    """grid_neighbours() of every grid with a polygon in the database."""
    return grid_neighbours(list(Region.objects.filter(level=Region.Level.GRID, polygon__isnull=False)
                                .values_list("id", "polygon")))
