"""API shapes for org. Personal data never appears here except through PersonalDataOut."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from gongzhi.core.openapi import optional_text

from .models import Post
from .rules import mask_name


class RegionOut(Schema):
    id: int
    name: str
    kind: str
    level: int
    parent_id: int | None
    admin_code: str | None
    grid_code: str | None
    is_village: bool


class RegionDetailOut(RegionOut):
    polygon: dict[str, Any] | None
    children_count: int = 0


class RegionTreeNode(Schema):
    id: int
    name: str
    kind: str
    admin_code: str | None
    grid_code: str | None
    children: list["RegionTreeNode"] = []


class BuildingOut(Schema):
    id: int
    name: str
    address: str
    grid_id: int
    longitude: float
    latitude: float
    floors: int | None


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    is_party: bool
    region_id: int
    parent_id: int | None
    host_id: int | None
    department: str


class PostOut(Schema):
    id: int
    person_id: int
    person_name: str
    organisation_id: int
    role: str
    title: str
    start_date: dt.date
    end_date: dt.date | None
    grid_id: int | None
    building_id: int | None
    served_organisation_id: int | None

    @staticmethod
    def resolve_person_name(obj):
        return obj.person.name


class PostIn(Schema):
    person_id: int
    organisation_id: int
    role: Literal[tuple(Post.Role.values)]
    title: str = optional_text(60)
    start_date: dt.date
    grid_id: int | None = None
    building_id: int | None = None
    served_organisation_id: int | None = None


class PostEndIn(Schema):
    end_date: dt.date


class PersonOut(Schema):
    """A person as the viewer may see them (PERSONAL_DATA_ACCESS): name and party membership in full for
    posts serving them face to face, masked (张某, null) for overseers; phone and ID number always masked."""

    id: int
    name: str
    gender: str
    household_id: int | None = Field(description="null when the viewer's posts do not show the address")
    is_party_member: bool | None = Field(description="null when the viewer's posts do not show party membership")
    phone_masked: str
    id_number_masked: str

    @staticmethod
    def resolve_name(obj, context):
        return card(obj, context).name

    @staticmethod
    def resolve_household_id(obj, context):
        return obj.household_id if "address" in card(obj, context).shown else None

    @staticmethod
    def resolve_is_party_member(obj, context):
        return card(obj, context).is_party_member

    @staticmethod
    def resolve_phone_masked(obj, context):
        return card(obj, context).phone

    @staticmethod
    def resolve_id_number_masked(obj, context):
        return card(obj, context).id_number


def card(person, context):
    """The person's card for the requesting user, computed once per person and request."""
    from .services import person_card

    cached = getattr(person, "_gongzhi_card", None)
    if cached is None:
        request = (context or {}).get("request")
        cached = person._gongzhi_card = person_card(getattr(request, "auth", None), person)
    return cached


class PersonalDataIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=120,
                         description="why the data is needed, in words (at least two Chinese characters or "
                                     "three words); logged")
    fields: list[Literal["name", "party", "address", "phone", "id_number"]] | None = Field(None, description="which of name, party, address, phone, id_number to "
                                                       "reveal; all the caller may reveal when omitted")


class PersonalDataOut(Schema):
    """The fields revealed in full (listed in `revealed`, each reveal logged); the others as the caller
    always sees them (full or masked)."""

    person_id: int
    name: str
    is_party_member: bool | None
    party_branch: str | None
    address: str
    phone: str
    id_number: str
    revealed: list[str]
    revealable: list[str] = Field(description="fields still masked that the caller may reveal")


class AccessLogEntryOut(Schema):
    """One reveal of personal data: who (in full), whose (masked), which fields, why, when, through what."""

    id: int
    at: dt.datetime
    user: str
    person_id: int
    person: str = Field(description="the person's name, masked")
    fields: list[str]
    purpose: str
    channel: str

    @staticmethod
    def resolve_user(obj):
        return access_log_user(obj)

    @staticmethod
    def resolve_person(obj):
        return mask_name(obj.person.name)


def access_log_user(entry) -> str:
    """Who revealed: their name and username (officials are accountable by name), or the console."""
    if entry.user is None:
        return "console"
    person = getattr(entry.user, "person", None)
    return f"{person.name} ({entry.user.username})" if person else entry.user.username


class LocateOut(Schema):
    longitude: float
    latitude: float
    inside: bool
    grid: RegionOut | None
    building: BuildingOut | None
    building_distance_m: float | None


class PlaceOut(Schema):
    kind: str  # "building", "road", "grid", "community", "street"
    name: str
    label: str  # what a resident reads: the address, or the region with the one above it
    longitude: float
    latitude: float


class GapRegion(Schema):
    id: int
    name: str
    grid_code: str | None


class GapBuilding(Schema):
    id: int
    name: str
    grid: str
    address: str


class GapOrganisation(Schema):
    id: int
    name: str
    kind: str
    region: str


class CoverageOut(Schema):
    region: str | None
    gap_count: int
    grids_without_worker: list[GapRegion]
    buildings_without_lead: list[GapBuilding]
    units_without_party_presence: list[GapOrganisation]
    committees_without_party_organisation: list[GapOrganisation]


class TilesOut(Schema):
    url: str
    attribution: str
    max_zoom: int


class BasemapRegionOut(Schema):
    name: str
    level: Literal["district", "street", "community", "grid"]
    geometry: dict[str, Any]


class BasemapRoadOut(Schema):
    name: str
    line: dict[str, Any]


class BasemapBuildingOut(Schema):
    number: str  # the building's name as it is written on it: 3号楼, 12号, 一组5号
    longitude: float
    latitude: float


class BasemapOut(Schema):
    """The district's own map, public: outlines and names of regions, roads with their names, buildings
    with their numbers. Never households or people. `tiles` is the configured base map, if any."""
    tiles: TilesOut | None
    regions: list[BasemapRegionOut]
    roads: list[BasemapRoadOut]
    buildings: list[BasemapBuildingOut]
