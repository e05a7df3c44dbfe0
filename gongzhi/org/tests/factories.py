"""Small builders for org test data: a district with two communities, grids, buildings and posts."""

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from gongzhi.org.models import Building, Household, Organisation, Person, PersonalData, Post, Region

_seq = itertools.count(1)


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON square polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def region(kind: str, parent: Region | None = None, name: str | None = None, polygon=None, **kw) -> Region:
    return Region.objects.create(kind=kind, parent=parent, name=name or f"{kind}-{next(_seq)}", polygon=polygon, **kw)


def user(username: str | None = None, **kw):
    return get_user_model().objects.create_user(username=username or f"user{next(_seq)}", password="pw-test-123", **kw)


def person(name: str | None = None, household: Household | None = None, phone="13812345678",
           id_number="110105199001011232", user=None, **kw) -> Person:
    p = Person.objects.create(name=name or f"居民{next(_seq)}", household=household, user=user, **kw)
    PersonalData.objects.create(person=p, phone=phone, id_number=id_number)
    return p


def post(person: Person, organisation: Organisation, role: str, start=dt.date(2020, 1, 1), **kw) -> Post:
    return Post.objects.create(person=person, organisation=organisation, role=role, start_date=start, **kw)


def official(organisation: Organisation, role: str, username: str | None = None, **kw):
    """A user acting through one post in `organisation`."""
    u = user(username)
    p = person(user=u)
    post(p, organisation, role, **kw)
    return u


class World:
    """district > street > (community A with grids A1, A2; community B with grid B1), buildings,
    committees and party organisations, and a secretary for each community."""

    def __init__(self):
        self.district = region("district", name="示范区", admin_code="110199000000")
        self.street = region("street", self.district, name="和平街道", admin_code="110199001000")
        self.community_a = region("community", self.street, name="东园社区", admin_code="110199001001")
        self.community_b = region("community", self.street, name="西园社区", admin_code="110199001002")
        self.grid_a1 = region("grid", self.community_a, name="东园一网格", grid_code="A1", polygon=square(116.00, 39.90))
        self.grid_a2 = region("grid", self.community_a, name="东园二网格", grid_code="A2", polygon=square(116.01, 39.90))
        self.grid_b1 = region("grid", self.community_b, name="西园一网格", grid_code="B1", polygon=square(116.02, 39.90))
        self.building_a1 = Building.objects.create(grid=self.grid_a1, name="1号楼", address="东园路1号",
                                                   longitude=116.005, latitude=39.905)
        self.building_b1 = Building.objects.create(grid=self.grid_b1, name="9号楼", address="西园路9号",
                                                   longitude=116.025, latitude=39.905)
        self.household_a = Household.objects.create(building=self.building_a1, unit="1-101")
        self.household_b = Household.objects.create(building=self.building_b1, unit="2-202")
        self.resident_a = person("张三", self.household_a, phone="13900001111", id_number="110105198001010032")
        self.resident_b = person("李四", self.household_b, phone="13900002222", id_number="110105198502020028")
        self.street_office = Organisation.objects.create(name="和平街道办事处", kind="street_office", region=self.street)
        self.committee_a = Organisation.objects.create(name="东园社区居委会", kind="residents_committee",
                                                       region=self.community_a)
        self.committee_b = Organisation.objects.create(name="西园社区居委会", kind="residents_committee",
                                                       region=self.community_b)
        self.party_a = Organisation.objects.create(name="东园社区党委", kind="party_committee", region=self.community_a)
        self.secretary_a = official(self.party_a, "secretary", "sec_a")
        self.secretary_b = official(self.committee_b, "director", "dir_b")
        self.street_official = official(self.street_office, "director", "street_dir")
