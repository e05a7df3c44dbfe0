"""Read side of org: scoped querysets (the one scoping helper) and the coverage report."""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound
from gongzhi.core.i18n import gettext_lazy as _

from .models import Building, Household, Organisation, Person, PersonalDataAccess, Post, Region, Road
from .permissions import VIEW_ACTION, access_log_q, scope_q


def scoped(user, model, action: str | None = None):
    """All rows of `model` that `user` may `action` (default: view it) — the only way views and
    the API narrow a list."""
    return model.objects.filter(scope_q(user, action or VIEW_ACTION.get(model, "org.view"), model))


def get_scoped(user, model, pk, action: str | None = None, queryset=None):
    """One row by pk, or NotFound when it does not exist *or* lies outside the user's scope
    (so a community secretary cannot even learn that another community's object exists)."""
    action = action or VIEW_ACTION.get(model, "org.view")
    qs = queryset if queryset is not None else model.objects.all()
    obj = qs.filter(scope_q(user, action, model)).filter(pk=pk).first()
    if obj is None:
        raise NotFound(_("%(verbose_name)s %(pk)s") % {"verbose_name": model._meta.verbose_name, "pk": pk})
    return obj


def _named(user, model, pk, action: str | None = None):
    """An object a list is filtered by (``?grid=``, ``?organisation=`` …), checked like a path id."""
    return None if pk is None else get_scoped(user, model, pk, action)


def regions(user, *, parent: int | None = None, level: int | None = None, kind: str | None = None):
    """The regions `user` may see, under `parent` (NotFound when the parent is out of scope)."""
    qs = scoped(user, Region)
    if parent is not None:
        qs = qs.filter(parent=_named(user, Region, parent))
    if level is not None:
        qs = qs.filter(level=level)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.order_by("path")


def buildings(user, *, grid: int | None = None):
    """The buildings `user` may see, in `grid` (NotFound when the grid is out of scope)."""
    qs = scoped(user, Building)
    if grid is not None:
        qs = qs.filter(grid=_named(user, Region, grid))
    return qs.order_by("grid_id", "name")


def organisations(user, *, region: int | None = None, kind: str | None = None, party: bool | None = None):
    """The organisations `user` may see, of `region` (NotFound when the region is out of scope)."""
    qs = scoped(user, Organisation)
    if region is not None:
        qs = qs.filter(region=_named(user, Region, region))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if party is not None:
        qs = qs.filter(kind__in=Organisation.PARTY_KINDS) if party else qs.exclude(kind__in=Organisation.PARTY_KINDS)
    return qs


def posts(user, *, organisation: int | None = None, person: int | None = None, role: str | None = None,
          active: bool = True):
    """The posts `user` may see, of `organisation` or `person` (NotFound when either is out of scope)."""
    qs = scoped(user, Post).select_related("person")
    if organisation is not None:
        qs = qs.filter(organisation=_named(user, Organisation, organisation))
    if person is not None:
        qs = qs.filter(person=_named(user, Person, person))
    if role is not None:
        qs = qs.filter(role=role)
    if active:
        qs = qs.filter(active_posts_q())
    return qs


def people(user, *, region: int | None = None, household: int | None = None):
    """The people `user` may see, in `region` or `household` (NotFound when either is out of scope)."""
    qs = people_in(user, _named(user, Region, region)) if region is not None else scoped(user, Person)
    if household is not None:
        qs = qs.filter(household=_named(user, Household, household))
    return qs.select_related("personal_data", "household__building__grid", "residence", "party_branch").order_by("id")


# Other logs of reads of personal data, kept by the apps above org (demands' reads of a reporter's contact, in
# DemandContactAccess): each registers a function (viewer, user, since, until) -> queryset of rows with `user`,
# `at`, `fields`, `purpose`, `channel` and a `whose` label method, already narrowed to what `viewer` audits. The
# data officer's access log shows them with org's own.
OTHER_ACCESS_LOGS: dict[str, object] = {}


def register_access_log(name: str, rows) -> None:
    OTHER_ACCESS_LOGS[name] = rows


def other_access_logs(viewer, *, user: str | None = None, since=None, until=None) -> dict[str, object]:
    """{name: queryset} of the registered logs for `viewer` (PermissionDenied for anyone but a data officer or
    the administrator)."""
    policy.require(viewer, "org.view_access_log")
    return {name: rows(viewer, user, since, until) for name, rows in OTHER_ACCESS_LOGS.items()}


def access_log(viewer, *, user: str | None = None, since=None, until=None):
    """The personal-data access log `viewer` audits (permissions.access_log_q), newest first; filtered by
    the revealing user's username and by day (inclusive). PermissionDenied for anyone but a data officer
    or the administrator."""
    policy.require(viewer, "org.view_access_log")
    qs = PersonalDataAccess.objects.filter(access_log_q(viewer)).select_related("user__person", "person")
    if user:
        qs = qs.filter(user__username=user)
    if since is not None:
        qs = qs.filter(at__date__gte=since)
    if until is not None:
        qs = qs.filter(at__date__lte=until)
    return qs.order_by("-at", "-id")


def active_posts_q(day=None) -> Q:
    return Post.in_force_q(day or clock.today())


def visible_roots(user) -> list[Region]:
    """The top regions of the user's view: the roots of their scopes (no region nested in another)."""
    regions = sorted(scoped(user, Region).only("id", "path", "name", "kind", "level"), key=lambda r: r.path)
    roots: list[Region] = []
    for region in regions:
        if not roots or not region.path.startswith(roots[-1].path):
            roots.append(region)
    return roots


def region_tree(user, roots: list[Region], depth: int) -> list[dict]:
    """The visible regions under `roots`, `depth` levels deep, as nested {"region", "children"}."""
    if not roots:
        return []
    max_level = max(r.level for r in roots) + depth
    nodes: dict[int, dict] = {}
    top: list[dict] = []
    root_ids = {r.id for r in roots}
    # Parents come before children in level order; siblings in display order.
    for region in scoped(user, Region).filter(level__lte=max_level).defer("polygon").order_by(
            "level", *Region.DISPLAY_ORDER):
        parent = nodes.get(region.parent_id)
        if region.id in root_ids:
            nodes[region.id] = {"region": region, "children": [], "depth": 0}
            top.append(nodes[region.id])
        elif parent is not None and parent["depth"] < depth:
            nodes[region.id] = {"region": region, "children": [], "depth": parent["depth"] + 1}
            parent["children"].append(nodes[region.id])
    return top


def region_summary(user, region: Region) -> dict[str, int]:
    """What the user may see in `region`'s subtree, counted."""
    prefix = region.path
    return {
        "grids": scoped(user, Region).filter(level=Region.Level.GRID, path__startswith=prefix).count(),
        "buildings": scoped(user, Building).filter(grid__path__startswith=prefix).count(),
        "households": scoped(user, Household).filter(building__grid__path__startswith=prefix).count(),
        "residents": people_in(user, region).count(),
        "party_organisations": scoped(user, Organisation)
        .filter(region__path__startswith=prefix, kind__in=Organisation.PARTY_KINDS)
        .count(),
    }


@dataclass
class Coverage:
    """纵向到底、横向到边: the places and units that lack someone responsible."""

    region: Region | None
    grids_without_worker: list[Region] = field(default_factory=list)
    buildings_without_lead: list[Building] = field(default_factory=list)
    units_without_party_presence: list[Organisation] = field(default_factory=list)
    committees_without_party_organisation: list[Organisation] = field(default_factory=list)

    @property
    def gap_count(self) -> int:
        return (len(self.grids_without_worker) + len(self.buildings_without_lead)
                + len(self.units_without_party_presence) + len(self.committees_without_party_organisation))

    def as_dict(self) -> dict:
        return {
            "region": self.region.name if self.region else None,
            "gap_count": self.gap_count,
            "grids_without_worker": [{"id": g.id, "name": g.name, "grid_code": g.grid_code} for g in self.grids_without_worker],
            "buildings_without_lead": [
                {"id": b.id, "name": b.name, "grid": b.grid.name, "address": b.address} for b in self.buildings_without_lead
            ],
            "units_without_party_presence": [
                {"id": o.id, "name": o.name, "kind": o.kind, "region": o.region.name} for o in self.units_without_party_presence
            ],
            "committees_without_party_organisation": [
                {"id": o.id, "name": o.name, "kind": o.kind, "region": o.region.name}
                for o in self.committees_without_party_organisation
            ],
        }


def coverage(region: Region | None = None, *, within: Q | None = None, day=None) -> Coverage:
    """The coverage gaps in `region`'s subtree (everything when None), as of `day`.

    - grids with no grid worker in post;
    - buildings with no building lead in post;
    - property companies and owners' committees with neither a party organisation established
      in them nor a party-building instructor assigned (党的组织和工作覆盖);
    - residents' / villagers' committees whose community or village has no party organisation.
    """
    day = day or clock.today()
    in_post = active_posts_q(day)
    prefix = region.path if region else "/"
    grids = Region.objects.filter(level=Region.Level.GRID, path__startswith=prefix)
    buildings = Building.objects.filter(grid__path__startswith=prefix).select_related("grid")
    units = Organisation.objects.filter(
        kind__in=[Organisation.Kind.PROPERTY_COMPANY, Organisation.Kind.OWNERS_COMMITTEE],
        region__path__startswith=prefix,
    ).select_related("region")
    committees = Organisation.objects.filter(
        kind__in=[Organisation.Kind.RESIDENTS_COMMITTEE, Organisation.Kind.VILLAGERS_COMMITTEE],
        region__path__startswith=prefix,
    ).select_related("region")
    if within is not None:
        grids, buildings = grids.filter(within["region"]), buildings.filter(within["building"])
        units, committees = units.filter(within["organisation"]), committees.filter(within["organisation"])

    worker = Post.objects.filter(in_post, role=Post.Role.GRID_WORKER, grid=OuterRef("pk"))
    lead = Post.objects.filter(in_post, role=Post.Role.BUILDING_LEAD, building=OuterRef("pk"))
    hosted_party = Organisation.objects.filter(host=OuterRef("pk"), kind__in=Organisation.PARTY_KINDS)
    instructor = Post.objects.filter(in_post, role=Post.Role.INSTRUCTOR, served_organisation=OuterRef("pk"))
    local_party = Organisation.objects.filter(region=OuterRef("region"), kind__in=Organisation.PARTY_KINDS)

    return Coverage(
        region=region,
        grids_without_worker=list(grids.filter(~Exists(worker)).order_by("path")),
        buildings_without_lead=list(buildings.filter(~Exists(lead)).order_by("grid__path", "name")),
        units_without_party_presence=list(units.filter(~Exists(hosted_party), ~Exists(instructor)).order_by("region__path", "name")),
        committees_without_party_organisation=list(committees.filter(~Exists(local_party)).order_by("region__path")),
    )


def coverage_for(user, region_id: int | None = None, day=None) -> Coverage:
    """The coverage report limited to what `user` may see (org.view_coverage), for the region
    `region_id` when given. PermissionDenied without the right, NotFound outside the scope."""
    policy.require(user, "org.view_coverage")
    region = get_scoped(user, Region, region_id, "org.view_coverage") if region_id is not None else None
    within = {
        "region": scope_q(user, "org.view_coverage", Region),
        "building": scope_q(user, "org.view_coverage", Building),
        "organisation": scope_q(user, "org.view_coverage", Organisation),
    }
    return coverage(region, within=within, day=day)


def people_in(user, region: Region):
    return scoped(user, Person).filter(
        Q(household__building__grid__path__startswith=region.path)
        | Q(household__isnull=True, residence__path__startswith=region.path)
    )


PLACE_KINDS = {Region.Level.GRID: "grid", Region.Level.COMMUNITY: "community", Region.Level.STREET: "street"}


def find_places(text: str, limit: int = 10) -> list[dict]:
    """Buildings (by name or address) and regions (by name) whose words contain `text`, for the search box of
    a map: public facts only (no people). A region is placed at a point inside its outline."""
    from shapely.geometry import shape

    text = " ".join((text or "").split())[:60]
    if len(text) < 2:
        return []
    found = []
    for road in Road.objects.filter(name__icontains=text).select_related("region").order_by("name")[:limit]:
        middle = shape(road.line).interpolate(0.5, normalized=True)
        found.append({"kind": "road", "name": road.name, "label": f"{road.name} · {road.region.name}",
                      "longitude": middle.x, "latitude": middle.y})
    for building in (Building.objects.filter(Q(address__icontains=text) | Q(name__icontains=text))
                     .select_related("grid").order_by("address", "name")[:limit]):
        # A building named in its own address (东园路12号, 东华路1号院2号楼) is not said twice.
        said = building.address if building.address.endswith(building.name) else f"{building.address} {building.name}"
        found.append({"kind": "building", "name": building.name, "label": said.strip()
                      + (f" · {building.grid.name}" if building.grid_id else ""),
                      "longitude": building.longitude, "latitude": building.latitude})
    for region in (Region.objects.filter(name__icontains=text, level__in=list(PLACE_KINDS))
                   .exclude(polygon__isnull=True).select_related("parent").order_by("level", "path")[:limit]):
        inside = shape(region.polygon).representative_point()
        found.append({"kind": PLACE_KINDS[region.level], "name": region.name,
                      "label": region.name + (f" · {region.parent.name}" if region.parent_id else ""),
                      "longitude": inside.x, "latitude": inside.y})
    return found[:limit]


BASEMAP_LEVELS = {Region.Level.DISTRICT: "district", Region.Level.STREET: "street",
                  Region.Level.COMMUNITY: "community", Region.Level.GRID: "grid"}


def map_tiles() -> dict | None:
    """The configured base map for Leaflet (settings.GONGZHI_MAP_TILES), or None: the district's own layers."""
    from django.conf import settings

    if not settings.GONGZHI_MAP_TILES:
        return None
    return {"url": settings.GONGZHI_MAP_TILES, "attribution": settings.GONGZHI_MAP_ATTRIBUTION, "max_zoom": 18}


def basemap(within: Region | None = None) -> dict:
    """The district's own map for the pages' maps (org.api basemap), public facts only: the outlines and
    names of the regions in `within` (everything when None) below it, with its own outline; with no tile
    server also the roads crossing it with their names and its buildings with their numbers. Never a
    household, a person, an id or a code."""
    from shapely.geometry import shape

    regions = Region.objects.exclude(polygon__isnull=True)
    buildings = Building.objects.all()
    roads = Road.objects.all()
    if within is not None:
        regions = regions.filter(path__startswith=within.path)
        buildings = buildings.filter(grid__path__startswith=within.path)
        roads = roads.filter(Q(region__path__startswith=within.path) | Q(region__in=list(within.ancestors())))
    tiles = map_tiles()
    out = {"tiles": tiles,
           "regions": [{"name": r.name, "level": BASEMAP_LEVELS[r.level], "geometry": r.polygon}
                       for r in regions.order_by("level", "path")],
           "roads": [], "buildings": []}
    if tiles:  # the tiles draw roads and buildings
        return out
    area = shape(within.polygon).buffer(0.001) if within is not None and within.polygon else None
    for road in roads.order_by("name"):
        line = shape(road.line)
        if area is not None:
            if not line.intersects(area):
                continue
            line = line.intersection(area)
            if line.is_empty or line.geom_type not in ("LineString", "MultiLineString"):
                continue
        out["roads"].append({"name": road.name, "line": _plain_geojson(line)})
    out["buildings"] = [{"number": name, "longitude": lon, "latitude": lat} for name, lon, lat in
                        buildings.order_by("grid__path", "name").values_list("name", "longitude", "latitude")]
    return out


def _plain_geojson(geometry) -> dict:
    from shapely.geometry import mapping

    def plain(value):
        return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value

    found = mapping(geometry)
    return {"type": found["type"], "coordinates": plain(found["coordinates"])}
