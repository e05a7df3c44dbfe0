"""API shapes for org. Personal data never appears here except through PersonalDataOut."""

import datetime as dt
from typing import Any

from ninja import Field, Schema


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
    role: str
    title: str = ""
    start_date: dt.date
    grid_id: int | None = None
    building_id: int | None = None
    served_organisation_id: int | None = None


class PostEndIn(Schema):
    end_date: dt.date


class PersonOut(Schema):
    """A person as any viewer in scope sees them: phone and ID number masked."""

    id: int
    name: str
    gender: str
    household_id: int | None
    is_party_member: bool
    phone_masked: str
    id_number_masked: str

    @staticmethod
    def resolve_phone_masked(obj):
        return masked(obj).get("phone", "")

    @staticmethod
    def resolve_id_number_masked(obj):
        return masked(obj).get("id_number", "")


def masked(person) -> dict[str, str]:
    from .services import masked_personal_data

    return masked_personal_data(person)


class PersonalDataIn(Schema):
    purpose: str = Field(..., max_length=120, description="why the personal data is needed (logged)")


class PersonalDataOut(Schema):
    person_id: int
    phone: str
    id_number: str
    revealed: list[str]


class LocateOut(Schema):
    longitude: float
    latitude: float
    inside: bool
    grid: RegionOut | None
    building: BuildingOut | None
    building_distance_m: float | None


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
