"""org's JSON API: regions (tree and GeoJSON), grids, point-to-grid, buildings, organisations, posts,
people (masked) and personal data (revealed only by need, logged), the coverage report."""

import datetime as dt

from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate


from gongzhi.core.errors import NotFound

from . import locating, queries, services
from .models import Building, Organisation, Person, Post, Region
from .schemas import (
    AccessLogEntryOut, BasemapOut, BuildingOut, CoverageOut, LocateOut, OrganisationOut, PersonalDataIn, PersonalDataOut, PersonOut, PostEndIn, PostIn,
    PlaceOut, PostOut, RegionDetailOut, RegionOut, RegionTreeNode,
)

router = Router(tags=["org"])


@router.get("/regions", response=list[RegionOut])
@paginate(LimitOffsetPagination)
def list_regions(request, parent: int | None = None, level: int | None = None, kind: str | None = None):
    return queries.regions(request.auth, parent=parent, level=level, kind=kind)


@router.get("/regions/tree", response=list[RegionTreeNode])
def region_tree(request, depth: int = Query(3, ge=0, le=3)):
    """The regions the caller may see, nested from the roots of their scopes, `depth` levels below them."""
    def node(item):
        r = item["region"]
        return {"id": r.id, "name": r.name, "kind": r.kind, "admin_code": r.admin_code, "grid_code": r.grid_code,
                "children": [node(c) for c in item["children"]]}

    return [node(item) for item in queries.region_tree(request.auth, queries.visible_roots(request.auth), depth)]


@router.get("/regions/{region_id}", response=RegionDetailOut)
def get_region(request, region_id: int):
    region = queries.get_scoped(request.auth, Region, region_id)
    region.children_count = region.children.count()
    return region


@router.get("/regions/{region_id}/geojson")
def region_geojson(request, region_id: int, children: bool = True):
    """A GeoJSON FeatureCollection: the region's children (default) or the region itself."""
    region = queries.get_scoped(request.auth, Region, region_id)
    members = queries.scoped(request.auth, Region).filter(parent=region) if children else [region]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r.id,
                "geometry": r.polygon,
                "properties": {"id": r.id, "name": r.name, "kind": r.kind, "admin_code": r.admin_code,
                               "grid_code": r.grid_code},
            }
            for r in members
        ],
    }


@router.get("/grids", response=list[RegionDetailOut])
@paginate(LimitOffsetPagination)
def list_grids(request, within: int | None = None):
    qs = queries.scoped(request.auth, Region).filter(level=Region.Level.GRID)
    if within is not None:
        qs = qs.filter(path__startswith=queries.get_scoped(request.auth, Region, within).path)
    return qs.order_by("path")


@router.get("/places", response=list[PlaceOut], auth=None)
def places(request, q: str = Query(..., min_length=1, max_length=60)):
    """Buildings, grids, communities and streets whose name (or a building's address) contains `q`: the map's
    search box. Public, as /locate is: buildings and regions only, never people."""
    return queries.find_places(q)


@router.get("/basemap", response=BasemapOut, auth=None)
def basemap(request, within: int | None = Query(None, ge=1, le=2**63 - 1)):
    """The district's own map for the pages' maps: region outlines with their names, and, when no tile
    server is configured (GONGZHI_MAP_TILES), roads with their names and buildings with their numbers;
    `within` narrows it to one region. Public, as /places is: public facts only, never households or people."""
    region = None
    if within is not None:
        region = Region.objects.filter(pk=within).first()
        if region is None:
            raise NotFound()
    return queries.basemap(region)


@router.get("/locate", response=LocateOut, auth=None)
def locate(request, longitude: float = Query(..., ge=-180, le=180), latitude: float = Query(..., ge=-90, le=90)):
    """The grid containing a point and the nearest building in it; `inside` is false off every grid.

    Public: residents filing a demand need their grid without signing in. Only names and codes are shown.
    """
    found = locating.locate(longitude, latitude)
    return {
        "longitude": longitude,
        "latitude": latitude,
        "inside": found.grid is not None,
        "grid": found.grid,
        "building": found.building,
        "building_distance_m": found.distance_m,
    }


@router.get("/buildings", response=list[BuildingOut])
@paginate(LimitOffsetPagination)
def list_buildings(request, grid: int | None = None):
    return queries.buildings(request.auth, grid=grid)


@router.get("/buildings/{building_id}", response=BuildingOut)
def get_building(request, building_id: int):
    return queries.get_scoped(request.auth, Building, building_id)


@router.get("/organisations", response=list[OrganisationOut])
@paginate(LimitOffsetPagination)
def list_organisations(request, region: int | None = None, kind: str | None = None, party: bool | None = None):
    return queries.organisations(request.auth, region=region, kind=kind, party=party)


@router.get("/organisations/{organisation_id}", response=OrganisationOut)
def get_organisation(request, organisation_id: int):
    return queries.get_scoped(request.auth, Organisation, organisation_id)


@router.get("/posts", response=list[PostOut])
@paginate(LimitOffsetPagination)
def list_posts(request, organisation: int | None = None, person: int | None = None, role: str | None = None,
               active: bool = True):
    return queries.posts(request.auth, organisation=organisation, person=person, role=role, active=active)


def _resolve(request, model, pk, action="org.view"):
    return None if pk is None else queries.get_scoped(request.auth, model, pk, action)


@router.post("/posts", response={201: PostOut})
def create_post(request, payload: PostIn):
    """Appoint a person to a post (the person may already hold others: 一肩挑)."""
    post = services.appoint(
        request.auth,
        person=queries.get_scoped(request.auth, Person, payload.person_id),
        organisation=queries.get_scoped(request.auth, Organisation, payload.organisation_id),
        role=payload.role,
        title=payload.title,
        start_date=payload.start_date,
        grid=_resolve(request, Region, payload.grid_id),
        building=_resolve(request, Building, payload.building_id),
        served_organisation=_resolve(request, Organisation, payload.served_organisation_id),
    )
    return Status(201, post)


@router.post("/posts/{post_id}/end", response=PostOut)
def end_post(request, post_id: int, payload: PostEndIn):
    post = queries.get_scoped(request.auth, Post, post_id, queryset=Post.objects.select_related("person"))
    return services.end_post(request.auth, post, payload.end_date)


@router.get("/people", response=list[PersonOut])
@paginate(LimitOffsetPagination)
def list_people(request, region: int | None = None, household: int | None = None):
    return queries.people(request.auth, region=region, household=household)


@router.get("/people/{person_id}", response=PersonOut)
def get_person(request, person_id: int):
    return queries.get_scoped(request.auth, Person, person_id,
                              queryset=Person.objects.select_related("personal_data"))


@router.post("/people/{person_id}/personal-data", response=PersonalDataOut)
def reveal_personal_data(request, person_id: int, payload: PersonalDataIn):
    """Reveal the masked fields (name, party membership, address, phone, ID number) the caller's posts let
    them reveal; the others stay as the caller always sees them.

    The purpose must be in words (400 purpose_not_meaningful otherwise); every reveal is written to the
    personal-data access log; more than GONGZHI_REVEALS_PER_HOUR reveals an hour answer 429 rate_limited.
    """
    person = queries.get_scoped(request.auth, Person, person_id)
    fields = tuple(payload.fields) if payload.fields else services.PERSONAL_FIELDS
    return services.read_personal_data(request.auth, person, purpose=payload.purpose, channel="api", fields=fields)


@router.get("/access-log", response=list[AccessLogEntryOut])
@paginate(LimitOffsetPagination)
def access_log(request, user: str | None = None, since: dt.date | None = None, until: dt.date | None = None):
    """The personal-data access log of the caller's district, newest first: for its data officer only
    (and the administrator); 403 for everyone else. Filter by username and by date (inclusive)."""
    return queries.access_log(request.auth, user=user, since=since, until=until)


@router.get("/coverage", response=CoverageOut)
def coverage(request, region: int | None = None):
    return queries.coverage_for(request.auth, region).as_dict()
