"""The public map of demands (issue #16 item 6): what residents reported, counted per grid, for the map on
/demands/public/. A grid is the finest place shown: a demand's own point can single out a household, so it
never leaves the server, nor does any name, phone, address, number or id."""

from collections import Counter, defaultdict

from django.db.models import Count
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from gongzhi.core.pages import public
from gongzhi.org.models import Region

from .forms import category_name
from .models import Category, Demand
from .rules import FINAL_STATES

TOP_CATEGORIES_SHOWN = 3  # per grid, the categories most reported there


def public_demands(chosen: dict):
    """The demands the public list shows, narrowed by its filters: `community` (a community's id), `category`
    (a category's code, with its children) and `state` ("open" or "done")."""
    from .guest_views import PUBLIC_STATES

    demands = Demand.objects.exclude(state__in=FINAL_STATES)
    community = chosen.get("community") or ""
    if community.isdigit():
        demands = demands.filter(community_id=int(community))
    if chosen.get("category"):
        demands = demands.filter(category__code__startswith=chosen["category"])
    if chosen.get("state") in PUBLIC_STATES:
        demands = demands.filter(state__in=PUBLIC_STATES[chosen["state"]])
    if chosen.get("listed") == "1":  # 挂牌督办 only (supervision.py)
        demands = demands.filter(listings__isnull=False).distinct()
    return demands


def grid_counts(chosen: dict) -> list[dict]:
    """Per grid with demands: its name and community, a point inside it, how many demands are being handled
    and how many are closed, and the categories most reported there."""
    from shapely.geometry import shape

    from .guest_views import PUBLIC_STATES

    rows = (public_demands(chosen).filter(grid__isnull=False)
            .values_list("grid_id", "category_id", "state").annotate(n=Count("id")).order_by())
    totals, open_, done = Counter(), Counter(), Counter()
    categories: dict[int, Counter] = defaultdict(Counter)
    for grid_id, category_id, state, n in rows:
        totals[grid_id] += n
        if state in PUBLIC_STATES["open"]:
            open_[grid_id] += n
        elif state in PUBLIC_STATES["done"]:
            done[grid_id] += n
        if category_id:
            categories[grid_id][category_id] += n
    names = {c.pk: category_name(c) for c in Category.objects.filter(
        pk__in={c for counts in categories.values() for c in counts})}
    grids = Region.objects.filter(pk__in=list(totals)).select_related("parent").order_by("path")
    found = []
    for grid in grids:
        if not grid.polygon:
            continue
        inside = shape(grid.polygon).representative_point()
        found.append({
            "name": grid.name, "community": grid.parent.name if grid.parent_id else "",
            "longitude": round(inside.x, 5), "latitude": round(inside.y, 5),
            "total": totals[grid.pk], "open": open_[grid.pk], "done": done[grid.pk],
            "categories": [{"name": names[c], "count": n}
                           for c, n in categories[grid.pk].most_common(TOP_CATEGORIES_SHOWN) if names.get(c)],
        })
    return found


@require_GET
@public
def public_map(request):
    """The public map's data as JSON, with the list's filters (community, category, state)."""
    chosen = {key: request.GET.get(key, "") for key in ("community", "category", "state", "listed")}
    return JsonResponse({"grids": grid_counts(chosen)}, json_dumps_params={"ensure_ascii": False})
