"""The deterministic demo district behind `gongzhi demo`: a fictional 永宁区 with tiled grids, buildings,
households, party and administrative organisations, posts and demo logins, plus a record of the
coverage gaps planted on purpose so that the coverage report has something true to find."""

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from shapely.geometry import Point, Polygon
from shapely.prepared import prep

from gongzhi.core import events
from gongzhi.core.bulk import refresh_planner_statistics

from .geometry import derive_polygons
from .models import Building, Household, Organisation, Person, PersonalData, PersonalDataAccess, Post, Region, Road
from .queries import Coverage, active_posts_q
from .rules import id_number_check_digit

DEMO_SEED = 20211115
DISTRICT_NAME = "永宁区"
DISTRICT_CODE = "110198000000"  # fictional: Beijing's county-level codes stop at 110119
COUNTY_PREFIX = DISTRICT_CODE[:6]
# Ages and post dates are fixed against this day, not today, so every build is the same.
REFERENCE_DATE = dt.date(2025, 1, 1)
ELECTION_DATE = dt.date(2021, 6, 15)  # the 2021 村(居)委会换届

# One lattice over the whole district: 12 × 10 cells of about 500 m × 500 m at 39.9°N.
COLUMNS, ROWS = 12, 10
ORIGIN = (116.262, 39.872)  # south-west corner, lon/lat
CELL = (0.0059, 0.0045)
JITTER = 0.18  # share of a cell an interior vertex may move; < 0.25 keeps every cell a simple polygon
BUILDING_INSET = 0.0003  # ≈ 25-30 m: buildings stand clear of grid boundaries


@dataclass(frozen=True)
class CommunityPlan:
    name: str
    code: str  # last three digits of the 12-digit code
    cells: tuple[int, int, int, int]  # columns [c0, c1) × rows [r0, r1) of the lattice
    road: str = ""


@dataclass(frozen=True)
class StreetPlan:
    name: str
    kind: str
    code: str  # digits 7-9 of the 12-digit code
    communities: tuple[CommunityPlan, ...]


PLAN = (
    StreetPlan("东华街道", "street", "001", (
        CommunityPlan("东华园社区", "001", (0, 3, 7, 10), "东华路"),
        CommunityPlan("花园里社区", "002", (0, 3, 5, 7), "花园路"),
        CommunityPlan("青年路社区", "003", (3, 6, 8, 10), "青年路"),
        CommunityPlan("枣林社区", "004", (3, 6, 5, 8), "枣林街"),
    )),
    StreetPlan("安平街道", "street", "002", (
        CommunityPlan("安平北里社区", "001", (6, 8, 5, 10), "安平北路"),
        CommunityPlan("安平南里社区", "002", (8, 10, 5, 10), "安平南路"),
        CommunityPlan("文化馆社区", "003", (10, 12, 7, 10), "文化路"),
        CommunityPlan("锦绣家园社区", "004", (10, 12, 5, 7), "锦绣路"),
    )),
    StreetPlan("西湖街道", "street", "003", (
        CommunityPlan("柳荫社区", "001", (0, 2, 0, 5), "柳荫街"),
        CommunityPlan("西湖东社区", "002", (2, 4, 2, 5), "西湖东路"),
        CommunityPlan("翠微社区", "003", (2, 4, 0, 2), "翠微路"),
        CommunityPlan("百合苑社区", "004", (4, 6, 0, 5), "百合路"),
    )),
    StreetPlan("双桥乡", "township", "200", (
        CommunityPlan("前营村", "201", (6, 9, 3, 5)),
        CommunityPlan("后营村", "202", (9, 12, 3, 5)),
        CommunityPlan("李家庄村", "203", (6, 9, 0, 3)),
        CommunityPlan("北沙河村", "204", (9, 12, 0, 3)),
    )),
)

# Named roads along lines of the lattice (so grid boundaries run along them, as they do in a town):
# (name, "ew" for a line of latitude at lattice row j or "ns" for a line of longitude at column i, the line's
# index, the first and last lattice point along it). The community roads carry the compounds' gates
# (东华路3号院); the through roads have numbered buildings along them (FRONTAGE).
ROADS = (
    ("永宁大街", "ew", 5, 0, 12), ("东园路", "ns", 3, 0, 10), ("幸福路", "ns", 6, 0, 10),
    ("东华路", "ew", 8, 0, 3), ("花园路", "ew", 6, 0, 3), ("青年路", "ew", 9, 3, 6), ("枣林街", "ns", 5, 5, 8),
    ("安平北路", "ns", 7, 5, 10), ("安平南路", "ns", 9, 5, 10), ("文化路", "ew", 8, 10, 12),
    ("锦绣路", "ew", 6, 10, 12), ("柳荫街", "ns", 1, 0, 5), ("西湖东路", "ew", 3, 2, 4), ("翠微路", "ew", 1, 2, 4),
    ("百合路", "ns", 5, 0, 5), ("营前路", "ew", 4, 6, 12), ("双桥路", "ns", 9, 0, 5),
)
FRONTAGE = ("永宁大街", "东园路", "幸福路")  # numbered buildings along them: odd numbers on one side, even on the other
FRONTAGE_STEP_M = 100  # between consecutive numbers along the road, each side taking every other one
FRONTAGE_SETBACK = 0.00045  # ≈ 40-50 m from the road's line, clear of the grid boundary it follows

# The gaps planted on purpose (纵向到底、横向到边 must have something to report).
COMMUNITY_WITHOUT_PARTY = "锦绣家园社区"  # newly built; its party organisation is not yet set up
PARTY_HOME_OF_UNORGANISED = "安平南里社区"  # where that community's party members are organised meanwhile
COMMUNITIES_WITHOUT_ONE_SHOULDER = ("安平北里社区", "柳荫社区")
GRIDS_WITHOUT_WORKER = (("花园里社区", 6), ("百合苑社区", 10), ("北沙河村", 5))
GRID_WITH_FORMER_WORKER = ("北沙河村", 5)  # its worker's post ended: coverage must look at posts in force
BUILDINGS_WITHOUT_LEAD = 12

# (name, kind, community, how party work reaches it: "host", "instructor" or None = planted gap)
UNITS = (
    ("北京永宁物业管理有限公司", "property_company", "东华园社区", "host"),
    ("北京安居物业服务有限公司", "property_company", "安平北里社区", "host"),
    ("北京华信物业服务有限公司", "property_company", "西湖东社区", "host"),
    ("北京翠苑物业服务有限公司", "property_company", "翠微社区", "instructor"),
    ("北京百合物业管理有限公司", "property_company", "百合苑社区", "instructor"),
    ("北京锦华物业管理有限公司", "property_company", "锦绣家园社区", None),
    ("东华园小区业主委员会", "owners_committee", "东华园社区", "instructor"),
    ("花园里小区业主委员会", "owners_committee", "花园里社区", "instructor"),
    ("柳荫小区业主委员会", "owners_committee", "柳荫社区", "instructor"),
    ("文化馆小区业主委员会", "owners_committee", "文化馆社区", "instructor"),
    ("安平南里小区业主委员会", "owners_committee", "安平南里社区", None),
)

DEPARTMENTS = (
    ("永宁区城市管理委员会", "城管"), ("永宁区住房和城乡建设委员会", "住建"), ("永宁区生态环境局", "环保"),
    ("永宁区民政局", "民政"), ("永宁区市场监督管理局", "市场监管"), ("永宁区水务局", "水务"),
    ("永宁区卫生健康委员会", "卫健"), ("永宁区教育委员会", "教育"),
)


@dataclass(frozen=True)
class LoginPlan:
    username: str
    role_zh: str
    role_en: str

    @property
    def password(self) -> str:
        return "gongzhi-demo-" + self.username.replace("_", "-")


LOGINS = (
    LoginPlan("admin", "系统管理员", "administrator (superuser)"),
    LoginPlan("district", "副区长", "deputy district head"),
    LoginPlan("street_secretary", "街道党工委书记", "street party secretary"),
    LoginPlan("community_secretary", "社区党委书记兼居委会主任（一肩挑）", "community secretary and director"),
    LoginPlan("village_secretary", "村党支部书记兼村委会主任（一肩挑）", "village secretary and director"),
    LoginPlan("grid_worker", "网格员", "grid worker"),
    LoginPlan("building_lead", "楼栋长", "building lead"),
    LoginPlan("property_staff", "物业公司项目经理（共建单位）", "property company staff (co-building unit)"),
    LoginPlan("data_officer", "区数据安全员（查看个人信息访问记录）", "district data officer (reads the access log)"),
    LoginPlan("resident", "居民", "resident"),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role_zh: str
    role_en: str
    person: str
    scope: str


@dataclass
class DemoResult:
    district: Region
    counts: dict[str, int]
    planted_gaps: dict[str, list[str]]
    logins: list[DemoLogin]
    seconds: float = 0.0
    extensions: dict[str, object] = field(default_factory=dict)  # name -> what the extension built


# --- extensions -------------------------------------------------------------------------------
# Apps above org add their own demo data (demands on the district …) without org importing them: they
# register here from their AppConfig.ready(). build_demo runs each `build(seed)` after the district is
# built, in the same transaction; reset_demo runs each `reset()` first, in reverse order, so data that
# refers to the district (PROTECT) is gone before the district.


@dataclass(frozen=True)
class DemoExtension:
    name: str
    build: Callable[[int], object]  # seed -> a summary whose str() the demo command prints
    reset: Callable[[], dict[str, int]]  # -> deleted counts


EXTENSIONS: list[DemoExtension] = []


def register_extension(name: str, build: Callable[[int], object], reset: Callable[[], dict[str, int]]) -> None:
    """Add (or replace, by name) an app's demo data builder."""
    EXTENSIONS[:] = [e for e in EXTENSIONS if e.name != name] + [DemoExtension(name, build, reset)]


# --- names and numbers ------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_SURNAME_WEIGHTS = (
    71, 70, 67, 54, 45, 31, 22, 20, 18, 17, 13, 13, 12, 12, 11, 11, 10, 10, 10, 9, 9, 8, 7, 7, 7, 7, 7, 6, 6,
    6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
)
_MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文海峰亮成新东永庆德瑞博思睿轩泽晨天嘉"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳婷雪慧颖倩琴洁佳欣怡悦涵萱雨晴诗梦彤可若心月美"
_PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199",
)
# Where migrants' household registrations are: (place, 6-digit county code of their ID numbers).
_ORIGINS = (
    ("河北省保定市竞秀区", "130602"), ("河北省廊坊市广阳区", "131003"), ("河南省周口市川汇区", "411602"),
    ("山东省菏泽市牡丹区", "371702"), ("安徽省阜阳市颍州区", "341202"), ("四川省南充市顺庆区", "511302"),
    ("黑龙江省哈尔滨市南岗区", "230103"), ("湖北省黄冈市黄州区", "421102"),
)
_DIGITS_CN = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (enough for grid and group numbers)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS_CN[tens] + "十")
    return head + (_DIGITS_CN[ones] if ones else "") if n else "零"


def chunk_sizes(total: int, most: int = 3) -> list[int]:
    """Split `total` grids into as few groups of at most `most` as possible, sizes as even as possible."""
    groups = math.ceil(total / most)
    base, extra = divmod(total, groups)
    return [base + 1] * extra + [base] * (groups - extra)


@dataclass
class _Member:
    relation: str
    gender: str
    age: int
    surname: str


# --- the builder ------------------------------------------------------------------------------


class _Builder:
    """Builds the district in one pass; every random choice comes from one seeded generator and
    never from database ids, so a build is the same on SQLite and PostgreSQL, today and next year."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.phones: set[str] = set()
        self.id_numbers: set[str] = set()
        self.people: list[Person] = []
        self.personal: dict[int, tuple[str, str]] = {}  # index in self.people -> (phone, id number)
        self.posts: list[Post] = []
        self.organisations: list[Organisation] = []
        self.communities: dict[str, Region] = {}
        self.grids: dict[str, list[Region]] = {}  # community name -> its grids in order
        self.buildings: dict[int, list[Building]] = {}  # grid pk -> buildings
        self.committee: dict[str, Organisation] = {}  # community name -> residents'/villagers' committee
        self.community_party: dict[str, Organisation] = {}
        self.branch_of_grid: dict[int, Organisation] = {}
        self.group_of_grid: dict[int, Organisation] = {}
        self.residents_of_building: dict[int, list[Person]] = {}
        self.login_people: dict[str, Person] = {}
        self.streets: dict[str, Region] = {}
        self.urban: dict[str, CommunityPlan] = {}  # the communities (not villages) and their plans
        self.deputy_secretary: dict[str, Person] = {}
        self.street_party: dict[str, Organisation] = {}
        self.street_office: dict[str, Organisation] = {}
        self.units: dict[str, Organisation] = {}  # property companies and owners' committees by name

    # identities ---------------------------------------------------------------------------

    def name(self, surname: str, gender: str) -> str:
        chars = _MALE_CHARS if gender == "M" else _FEMALE_CHARS
        if self.rng.random() < 0.25:
            return surname + self.rng.choice(chars)
        first, second = self.rng.sample(chars, 2)
        return surname + first + second

    def surname(self) -> str:
        return self.rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]

    def birth_date(self, age: int) -> dt.date:
        start = dt.date(REFERENCE_DATE.year - age - 1, 1, 1)
        return start + dt.timedelta(days=self.rng.randrange(365))

    def phone(self) -> str:
        while True:
            value = self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if value not in self.phones:
                self.phones.add(value)
                return value

    def id_number(self, prefix: str, birth: dt.date, gender: str) -> str:
        """GB 11643: county code, birth date, sequence whose last digit is odd for men, check digit."""
        while True:
            gender_digit = self.rng.choice("13579" if gender == "M" else "02468")
            first17 = f"{prefix}{birth:%Y%m%d}{self.rng.randrange(100):02d}{gender_digit}"
            value = first17 + id_number_check_digit(first17)
            if value not in self.id_numbers:
                self.id_numbers.add(value)
                return value

    def person(self, *, name=None, gender=None, age=None, origin_code=COUNTY_PREFIX, phone=None, **fields) -> Person:
        """A Person (saved later in bulk) with its phone and ID number."""
        gender = gender or self.rng.choice("MF")
        age = age if age is not None else self.rng.randint(28, 56)
        person = Person(name=name or self.name(self.surname(), gender), gender=gender,
                        birth_date=self.birth_date(age), **fields)
        id_number = self.id_number(origin_code, person.birth_date, gender)
        self.personal[len(self.people)] = (phone or self.phone(), id_number)
        self.people.append(person)
        return person

    def post(self, person: Person, organisation: Organisation, role: str, title: str = "",
             start: dt.date = ELECTION_DATE, **where) -> Post:
        post = Post(person=person, organisation=organisation, role=role, title=title, start_date=start, **where)
        self.posts.append(post)
        return post

    def organisation(self, name: str, kind: str, region: Region, parent=None, **fields) -> Organisation:
        org = Organisation.objects.create(name=name, kind=kind, region=region, parent=parent, **fields)
        self.organisations.append(org)
        return org

    # geometry ------------------------------------------------------------------------------

    def lattice(self) -> dict[tuple[int, int], list[float]]:
        """Vertices shared by neighbouring cells, so grids meet edge to edge: no gap, no overlap."""
        vertices = {}
        for i in range(COLUMNS + 1):
            for j in range(ROWS + 1):
                dx = dy = 0.0
                if 0 < i < COLUMNS and 0 < j < ROWS:
                    dx, dy = (self.rng.uniform(-JITTER, JITTER) for _ in range(2))
                vertices[i, j] = [round(ORIGIN[0] + (i + dx) * CELL[0], 6), round(ORIGIN[1] + (j + dy) * CELL[1], 6)]
        return vertices

    @staticmethod
    def cell_polygon(vertices, c: int, r: int) -> dict:
        ring = [vertices[c, r], vertices[c + 1, r], vertices[c + 1, r + 1], vertices[c, r + 1], vertices[c, r]]
        return {"type": "Polygon", "coordinates": [[list(v) for v in ring]]}

    def point_inside(self, polygon: dict) -> tuple[float, float]:
        inner = Polygon(polygon["coordinates"][0]).buffer(-BUILDING_INSET)
        west, south, east, north = inner.bounds
        area = prep(inner)
        while True:
            lon = round(self.rng.uniform(west, east), 6)
            lat = round(self.rng.uniform(south, north), 6)
            if area.contains(Point(lon, lat)):
                return lon, lat

    # the build -----------------------------------------------------------------------------

    def build(self) -> DemoResult:
        started = time.perf_counter()
        district = Region.objects.create(name=DISTRICT_NAME, kind="district", admin_code=DISTRICT_CODE)
        self.regions(district)
        derive_polygons(district)
        district.refresh_from_db()
        self.roads(district)
        self.place_buildings()
        self.top_organisations(district)
        self.community_organisations()
        self.co_building_units()
        self.populate()
        self.community_posts()
        planted = self.responsibility_posts()
        self.data_officer()
        self.save_people_and_posts()
        self.users()
        counts = demo_counts(district)
        events.record("org.demo_loaded", district, seed=self.seed, **counts)
        return DemoResult(district=district, counts=counts, planted_gaps=planted, logins=demo_logins(),
                          seconds=time.perf_counter() - started)

    def regions(self, district: Region):
        vertices = self.lattice()
        self.vertices = vertices
        for street_plan in PLAN:
            street = Region.objects.create(name=street_plan.name, kind=street_plan.kind, parent=district,
                                           admin_code=f"{COUNTY_PREFIX}{street_plan.code}000")
            self.streets[street.name] = street
            for plan in street_plan.communities:
                kind = "village" if street_plan.kind == "township" else "community"
                community = Region.objects.create(name=plan.name, kind=kind, parent=street,
                                                  admin_code=f"{COUNTY_PREFIX}{street_plan.code}{plan.code}")
                self.communities[plan.name] = community
                if kind == "community":
                    self.urban[plan.name] = plan
                c0, c1, r0, r1 = plan.cells
                cells = [(c, r) for r in reversed(range(r0, r1)) for c in range(c0, c1)]  # from the north-west
                self.grids[plan.name] = [
                    Region.objects.create(
                        name=f"{plan.name}第{chinese_number(k)}网格", kind="grid", parent=community,
                        grid_code=f"{community.admin_code}-G{k:02d}", polygon=self.cell_polygon(vertices, c, r),
                    )
                    for k, (c, r) in enumerate(cells, start=1)
                ]

    def roads(self, district: Region):
        """The named roads, through the (jittered) lattice points they follow; no random draw."""
        rows = []
        for name, direction, index, first, last in ROADS:
            points = [self.vertices[(index, k) if direction == "ns" else (k, index)] for k in range(first, last + 1)]
            rows.append(Road(region=district, name=name, line={"type": "LineString", "coordinates": points}))
        Road.objects.bulk_create(rows)

    def place_buildings(self):
        rows = []
        for community_name, grids in self.grids.items():
            plan = self.urban.get(community_name)
            for k, grid in enumerate(grids, start=1):
                if plan:  # a residential compound per grid, with towers
                    gate = 2 * k - 1  # odd numbers along the community's road
                    for n in range(1, self.rng.randint(4, 8) + 1):
                        lon, lat = self.point_inside(grid.polygon)
                        rows.append(Building(grid=grid, name=f"{n}号楼", address=f"{plan.road}{gate}号院{n}号楼",
                                             longitude=lon, latitude=lat,
                                             floors=self.rng.choice((6, 6, 6, 11, 16, 18, 24, 28))))
                else:  # a villagers' group (村民小组) per grid, with houses
                    group = chinese_number(k)
                    for n in range(1, self.rng.randint(6, 10) + 1):
                        lon, lat = self.point_inside(grid.polygon)
                        rows.append(Building(grid=grid, name=f"{group}组{n}号",
                                             address=f"双桥乡{community_name}{group}组{n}号",
                                             longitude=lon, latitude=lat, floors=self.rng.choice((1, 1, 2, 2, 3))))
        for building in Building.objects.bulk_create(rows):
            self.buildings.setdefault(building.grid_id, []).append(building)

    def top_organisations(self, district: Region):
        org = self.organisation
        self.district_party = org("中共永宁区委员会", "party_committee", district)
        self.district_government = org("永宁区人民政府", "district_government", district)
        self.departments = [org(name, "department", district, self.district_government, department=dept)
                            for name, dept in DEPARTMENTS]
        for name, street in self.streets.items():
            if street.kind == "township":
                self.street_party[name] = org(f"中共{name}委员会", "party_committee", street, self.district_party)
                self.street_office[name] = org(f"{name}人民政府", "township_government", street, self.district_government)
            else:
                self.street_party[name] = org(f"中共永宁区委{name}工作委员会", "party_working_committee", street,
                                              self.district_party)
                self.street_office[name] = org(f"{name}办事处", "street_office", street, self.district_government)

    def community_organisations(self):
        org = self.organisation
        for name, community in self.communities.items():
            street_name = next(s.name for s in self.streets.values() if s.pk == community.parent_id)
            grids = self.grids[name]
            village = community.is_village
            self.committee[name] = org(
                f"{name}村民委员会" if village else f"{name}居民委员会",
                "villagers_committee" if village else "residents_committee",
                community, self.street_office[street_name],
            )
            if name == COMMUNITY_WITHOUT_PARTY:
                continue
            sizes = chunk_sizes(len(grids))
            if len(sizes) == 1 or (village and len(grids) < 9):
                party = org(f"{name}党支部", "party_branch", community, self.street_party[street_name])
                branches = [(party, grids)]
            else:
                large = len(grids) >= 9 and not village
                kind, label = ("party_committee", "党委") if large else ("party_general_branch", "党总支")
                party = org(f"{name}{label}", kind, community, self.street_party[street_name])
                branches, start = [], 0
                for b, size in enumerate(sizes, start=1):
                    branch = org(f"{name}第{chinese_number(b)}党支部", "party_branch", community, party)
                    branches.append((branch, grids[start:start + size]))
                    start += size
            self.community_party[name] = party
            for branch, branch_grids in branches:
                for grid in branch_grids:
                    self.branch_of_grid[grid.pk] = branch
                    self.group_of_grid[grid.pk] = org(f"{grid.name}党小组", "party_group", grid, branch)

    def co_building_units(self):
        org, c = self.organisation, self.communities
        for name, kind, community_name, reach in UNITS:
            unit = org(name, kind, c[community_name])
            self.units[name] = unit
            if reach == "host":
                short = name.removeprefix("北京").split("物业")[0]
                org(f"{short}物业党支部", "party_branch", c[community_name], self.community_party[community_name], host=unit)
        school = org("永宁区第一中学", "co_building_unit", c["文化馆社区"])
        org("永宁区第一中学党总支", "party_general_branch", c["文化馆社区"], self.district_party, host=school)
        hospital = org("永宁区人民医院", "co_building_unit", c["西湖东社区"])
        org("永宁区人民医院党委", "party_committee", c["西湖东社区"], self.district_party, host=hospital)
        power = org("国网北京永宁供电公司", "co_building_unit", self.streets["安平街道"])
        org("国网北京永宁供电公司党委", "party_committee", self.streets["安平街道"], None, host=power)
        self.co_building = [school, hospital, power]
        tech = org("北京永宁智造科技有限公司", "new_economic_organisation", c["枣林社区"])
        org("永宁智造科技党支部", "party_branch", c["枣林社区"], self.street_party["东华街道"], host=tech)
        self.others = [
            tech,
            org("顺达快递永宁营业部", "new_economic_organisation", c["锦绣家园社区"]),
            org("北京双桥农业发展有限公司", "new_economic_organisation", c["李家庄村"]),
            org("东华街道社区社会组织联合会", "social_organisation", self.streets["东华街道"]),
            org("西湖街道阳光社会工作服务中心", "social_organisation", self.streets["西湖街道"]),
            org("花园里社区老年协会", "social_organisation", c["花园里社区"]),
            org("安平北里社区志愿者服务队", "social_organisation", c["安平北里社区"]),
            org("双桥乡老年人协会", "social_organisation", self.streets["双桥乡"]),
        ]

    # residents -----------------------------------------------------------------------------

    def household_members(self, village: bool, migrant: bool) -> list[_Member]:
        rng = self.rng
        if migrant:
            kinds, weights = ("young_single", "couple", "family"), (35, 30, 35)
        elif village:
            kinds = ("single_elder", "elder_couple", "couple", "family", "three_generations", "elder_three_generations")
            weights = (8, 20, 8, 24, 20, 20)
        else:
            kinds = ("single_elder", "elder_couple", "young_single", "couple", "family", "three_generations",
                     "elder_three_generations")
            weights = (10, 16, 8, 14, 30, 14, 8)
        kind = rng.choices(kinds, weights)[0]
        age = {"single_elder": (65, 92), "elder_couple": (62, 88), "young_single": (20, 34), "couple": (24, 55),
               "family": (28, 52), "three_generations": (30, 52), "elder_three_generations": (58, 80)}[kind]
        head_age = rng.randint(*age)
        if kind in ("single_elder", "young_single"):
            gender = rng.choice("MF")
            return [_Member("户主", gender, head_age, self.surname())]
        head_gender = "M" if rng.random() < 0.75 else "F"
        spouse_gender = "F" if head_gender == "M" else "M"
        head = _Member("户主", head_gender, head_age, self.surname())
        spouse = _Member("配偶", spouse_gender, max(20, head_age + rng.randint(-4, 4)), self.surname())
        family = head.surname if head_gender == "M" else spouse.surname
        members = [head, spouse]
        if kind in ("family", "three_generations"):
            for _ in range(rng.randint(1, 3 if village else 2)):
                gender = rng.choice("MF")
                members.append(_Member("子" if gender == "M" else "女", gender,
                                       rng.randint(0, min(head_age - 22, 24)), family))
        if kind == "three_generations":
            parent_age = min(95, head_age + rng.randint(22, 34))
            members.append(_Member("父亲", "M", parent_age, head.surname))
            if rng.random() < 0.7:
                members.append(_Member("母亲", "F", max(parent_age - 3, head_age + 20), self.surname()))
        if kind == "elder_three_generations":
            gender = rng.choice("MF")
            child_age = rng.randint(head_age - 34, head_age - 24)
            child = _Member("子" if gender == "M" else "女", gender, child_age, family)
            in_law = _Member("儿媳" if gender == "M" else "女婿", "F" if gender == "M" else "M",
                             max(20, child_age + rng.randint(-3, 3)), self.surname())
            members += [child, in_law]
            grandchild_surname = child.surname if gender == "M" else in_law.surname
            for _ in range(rng.randint(1, 2)):
                g = rng.choice("MF")
                relation = ("孙子" if g == "M" else "孙女") if gender == "M" else ("外孙" if g == "M" else "外孙女")
                members.append(_Member(relation, g, rng.randint(0, max(0, child_age - 22)), grandchild_surname))
        return members

    def party_chance(self, age: int) -> float:
        return 0.0 if age < 18 else 0.06 if age < 35 else 0.11 if age < 60 else 0.16

    def populate(self):
        """Households and their members, building by building."""
        households = []
        member_rows = []  # (household index, person)
        other_communities = list(self.communities.values())
        for community_name, grids in self.grids.items():
            community = self.communities[community_name]
            village = community.is_village
            for grid in grids:
                branch = self.branch_of_grid.get(grid.pk) or self.community_party[PARTY_HOME_OF_UNORGANISED]
                for building in self.buildings[grid.pk]:
                    units = set()
                    for _ in range(1 if village else self.rng.randint(3, 5)):
                        if village:
                            unit = "1"
                        else:
                            while (unit := f"{self.rng.randint(1, 3)}-{self.rng.randint(1, building.floors)}"
                                           f"{self.rng.randint(1, 4):02d}") in units:
                                pass
                        units.add(unit)
                        households.append(Household(building=building, unit=unit))
                        migrant = self.rng.random() < (0.05 if village else 0.18)
                        origin = self.rng.choice(_ORIGINS) if migrant else None
                        guardian_phone = None
                        for member in self.household_members(village, migrant):
                            registered = None if migrant else (
                                community if self.rng.random() < 0.9 else self.rng.choice(other_communities))
                            is_party = self.rng.random() < self.party_chance(member.age)
                            young = member.age < 12
                            person = self.person(
                                name=self.name(member.surname, member.gender), gender=member.gender, age=member.age,
                                origin_code=origin[1] if origin else COUNTY_PREFIX,
                                phone=guardian_phone if young and guardian_phone else None,
                                relation_to_head=member.relation, residence=community,
                                registered_residence=registered, registered_elsewhere=origin[0] if origin else "",
                                is_party_member=is_party, party_branch=branch if is_party else None,
                            )
                            if member.relation == "户主":
                                guardian_phone = self.personal[len(self.people) - 1][0]
                            member_rows.append((len(households) - 1, person))
                            self.residents_of_building.setdefault(building.pk, []).append(person)
        Household.objects.bulk_create(households)
        for index, person in member_rows:
            person.household = households[index]

    # posts ---------------------------------------------------------------------------------

    def staff(self, residence=None, party_branch=None, is_party_member=True, **kw) -> Person:
        return self.person(residence=residence, is_party_member=is_party_member,
                           party_branch=party_branch if is_party_member else None, **kw)

    def community_posts(self):
        rng, post = self.rng, self.post
        district_start, street_start = dt.date(2021, 10, 1), dt.date(2022, 1, 10)
        dp, gov = self.district_party, self.district_government
        post(self.staff(party_branch=dp), dp, "secretary", "区委书记", district_start)
        head = self.staff(party_branch=dp)
        post(head, dp, "deputy_secretary", "区委副书记", district_start)
        post(head, gov, "director", "区长", district_start)
        self.login_people["district"] = self.staff(party_branch=dp)
        post(self.login_people["district"], gov, "deputy_director", "副区长（分管基层治理）", district_start)
        self.login_people["admin"] = self.staff(party_branch=dp, is_party_member=False)
        post(self.login_people["admin"], gov, "staff", "数字政务系统管理员", dt.date(2023, 3, 1))
        for department in self.departments:
            post(self.staff(party_branch=dp), department, "director", f"{department.department}部门负责人", district_start)
        for name, street in self.streets.items():
            party, office = self.street_party[name], self.street_office[name]
            township = street.kind == "township"
            secretary = self.staff(party_branch=party)
            post(secretary, party, "secretary", "乡党委书记" if township else "街道党工委书记", street_start)
            if name == "东华街道":
                self.login_people["street_secretary"] = secretary
            director = self.staff(party_branch=party)
            post(director, party, "deputy_secretary", "乡党委副书记" if township else "街道党工委副书记", street_start)
            post(director, office, "director", "乡长" if township else "街道办事处主任", street_start)
            post(self.staff(party_branch=party), office, "deputy_director", "副乡长" if township else "街道办事处副主任",
                 street_start)
        for name, community in self.communities.items():
            village = community.is_village
            committee = self.committee[name]
            party = self.community_party.get(name)
            home = party or self.community_party[PARTY_HOME_OF_UNORGANISED]
            chair = "村委会主任" if village else "居委会主任"
            party_label = party.name.removeprefix(name) if party else ""
            director = self.staff(residence=community, party_branch=home)
            post(director, committee, "director", chair)
            if party is not None:
                if name in COMMUNITIES_WITHOUT_ONE_SHOULDER:
                    secretary = self.staff(residence=community, party_branch=home)
                else:
                    secretary = director  # 一肩挑: the secretary is also the director
                post(secretary, party, "secretary", f"{party_label}书记")
                deputy = self.staff(residence=community, party_branch=home)
                post(deputy, party, "deputy_secretary", f"{party_label}副书记")
                self.deputy_secretary[name] = deputy
                if name == "东华园社区":
                    self.login_people["community_secretary"] = secretary
                if name == "前营村":
                    self.login_people["village_secretary"] = secretary
            post(self.staff(residence=community, party_branch=home, is_party_member=rng.random() < 0.6),
                 committee, "deputy_director", "村委会副主任" if village else "居委会副主任")
            members = [self.staff(residence=community, party_branch=home, is_party_member=rng.random() < 0.5)
                       for _ in range(3)]
            for member in members:
                post(member, committee, "member", "村委会委员" if village else "居委会委员")
            if party is not None:  # branch secretaries come from the community's own staff
                branches = [b for b in self.organisations
                            if b.parent_id == party.pk and b.kind == "party_branch" and b.host_id is None]
                for branch, member in zip(branches, members + [deputy], strict=False):
                    if not member.is_party_member:
                        member.is_party_member, member.party_branch = True, home
                    post(member, branch, "secretary", "党支部书记")
        for unit in self.co_building:
            post(self.staff(), unit, "liaison", "共建联络员", dt.date(2022, 5, 1))
        for unit in self.others:
            post(self.staff(is_party_member=False), unit, "director", "负责人", dt.date(2022, 5, 1))
        company = self.units["北京永宁物业管理有限公司"]
        self.login_people["property_staff"] = self.staff(is_party_member=False)
        post(self.login_people["property_staff"], company, "staff", "项目经理", dt.date(2022, 3, 1))

    def data_officer(self):
        """The district's data officer (数据安全员), who audits reveals of personal data. Made last so the
        random draws of everyone before stay as they were."""
        self.login_people["data_officer"] = self.staff(party_branch=self.district_party)
        self.post(self.login_people["data_officer"], self.district_government, "data_officer", "数据安全员",
                  dt.date(2023, 3, 1))

    def responsibility_posts(self) -> dict[str, list[str]]:
        """Grid workers, building leads, instructors and party group leaders, except the planted gaps."""
        rng, post = self.rng, self.post
        unstaffed = {self.grids[c][k - 1].pk for c, k in GRIDS_WITHOUT_WORKER}
        former = self.grids[GRID_WITH_FORMER_WORKER[0]][GRID_WITH_FORMER_WORKER[1] - 1]
        login_grid = self.grids["东华园社区"][0]
        for name, grids in self.grids.items():
            community = self.communities[name]
            for grid in grids:
                if grid.pk in unstaffed and grid.pk != former.pk:
                    continue
                start = dt.date(rng.randint(2019, 2024), rng.randint(1, 12), 1)
                worker = self.staff(residence=community, party_branch=self.community_party.get(name),
                                    is_party_member=name in self.community_party and rng.random() < 0.4)
                if grid.pk == former.pk:
                    post(worker, self.committee[name], "grid_worker", "专职网格员", dt.date(2020, 3, 1),
                         grid=grid, end_date=dt.date(2024, 9, 30))
                else:
                    post(worker, self.committee[name], "grid_worker", "专职网格员", start, grid=grid)
                    if grid.pk == login_grid.pk:
                        self.login_people["grid_worker"] = worker
        buildings = [b for grid_buildings in self.buildings.values() for b in grid_buildings]
        login_building = self.buildings[login_grid.pk][0]
        without_lead = rng.sample([b for b in buildings if b.pk != login_building.pk], BUILDINGS_WITHOUT_LEAD)
        without_lead_ids = {b.pk for b in without_lead}
        leads: set[int] = set()
        grid_by_id = {g.pk: (name, g) for name, grids in self.grids.items() for g in grids}
        for building in buildings:
            if building.pk in without_lead_ids:
                continue
            name, _grid = grid_by_id[building.grid_id]
            adults = [p for p in self.residents_of_building[building.pk]
                      if 18 <= REFERENCE_DATE.year - p.birth_date.year <= 75]
            lead = rng.choice(adults or self.residents_of_building[building.pk])
            leads.add(id(lead))
            post(lead, self.committee[name], "building_lead", "户代表" if self.communities[name].is_village else "楼栋长",
                 dt.date(rng.randint(2020, 2024), rng.randint(1, 12), 1), building=building)
            if building.pk == login_building.pk:
                self.login_people["building_lead"] = lead
        for name, unit in self.units.items():
            reach = next(u[3] for u in UNITS if u[0] == name)
            if reach == "instructor":
                community_name = next(u[2] for u in UNITS if u[0] == name)
                post(self.deputy_secretary[community_name], self.community_party[community_name], "instructor",
                     "党建指导员", dt.date(2023, 4, 1), served_organisation=unit)
        for grid_pk, group in self.group_of_grid.items():
            candidates = [p for b in self.buildings[grid_pk] for p in self.residents_of_building[b.pk]
                          if p.is_party_member and id(p) not in leads]
            if candidates:
                post(rng.choice(candidates), group, "group_leader", "党小组组长", dt.date(2021, 9, 1))
        holders = {id(p.person) for p in self.posts}
        self.login_people["resident"] = next(
            p for b in self.buildings[self.grids["东华园社区"][1].pk] for p in self.residents_of_building[b.pk]
            if id(p) not in holders and REFERENCE_DATE.year - p.birth_date.year >= 30
        )
        return {
            "grids_without_worker": sorted(self.grids[c][k - 1].grid_code for c, k in GRIDS_WITHOUT_WORKER),
            "buildings_without_lead": sorted(b.address for b in without_lead),
            "units_without_party_presence": sorted(u[0] for u in UNITS if u[3] is None),
            "committees_without_party_organisation": [self.committee[COMMUNITY_WITHOUT_PARTY].name],
        }

    def save_people_and_posts(self):
        Person.objects.bulk_create(self.people, batch_size=2000)
        PersonalData.objects.bulk_create(
            [PersonalData(person=p, phone=self.personal[i][0], id_number=self.personal[i][1])
             for i, p in enumerate(self.people)], batch_size=2000)
        Post.objects.bulk_create(self.posts, batch_size=2000)

    def users(self):
        User = get_user_model()
        for plan in LOGINS:
            user = User.objects.filter(username=plan.username).first() or User(username=plan.username)
            user.set_password(plan.password)
            user.is_staff = user.is_superuser = plan.username == "admin"
            user.is_active = True
            user.save()
            Person.objects.filter(user=user).update(user=None)
            Person.objects.filter(pk=self.login_people[plan.username].pk).update(user=user)


# --- public -----------------------------------------------------------------------------------


def demo_district() -> Region | None:
    return Region.objects.filter(admin_code=DISTRICT_CODE).first()


def demo_exists() -> bool:
    return Region.objects.filter(admin_code=DISTRICT_CODE).exists()


def build_demo(seed: int = DEMO_SEED) -> DemoResult:
    """Build the demo district in one transaction and record one org.demo_loaded event.
    Refuses to build twice: callers check demo_exists() or reset_demo() first."""
    if demo_exists():
        raise RuntimeError("the demo district is already loaded")
    with transaction.atomic():
        result = _Builder(seed).build()
        refresh_planner_statistics(Region, Building, Household, Person, PersonalData, Organisation, Post)
        for extension in EXTENSIONS:
            result.extensions[extension.name] = extension.build(seed)
        # After the extensions, which fill the residents' buildings: the numbered buildings along the through
        # roads have no households, so nothing is filed from them, and the apps' demo data stay as they were.
        add_frontage(result.district)
        add_resident_accounts(result.district)
        result.counts = demo_counts(result.district)
        return result


NEWCOMER = "demo_newcomer"  # a resident with an account (no password login) who asks to be recorded


def add_resident_accounts(district: Region) -> int:
    """Residents' own accounts (org/accounts.py) in the demo: the `resident` login signs in with its mobile
    number too, and a newcomer in the grid worker's grid asks to be recorded in a flat there, for the grid
    worker to confirm on /org/claims/. How many claims wait."""
    from gongzhi.core import clock, phone_codes

    from .models import HouseholdClaim, ResidentAccount

    User = get_user_model()
    resident = Person.objects.filter(user__username="resident").select_related("personal_data").first()
    if resident is not None and not ResidentAccount.objects.filter(user_id=resident.user_id).exists():
        ResidentAccount.objects.create(user_id=resident.user_id, confirmed_at=clock.now(),
                                       phone_digest=phone_codes.digest(resident.personal_data.phone))
        User.objects.filter(pk=resident.user_id, first_name="").update(first_name=resident.name[:30])
    worker = Post.objects.filter(role=Post.Role.GRID_WORKER, person__user__username="grid_worker",
                                 grid__isnull=False).select_related("grid").first()
    if worker is None:
        return 0
    building = (Building.objects.filter(grid=worker.grid).exclude(households__unit="3单元502").order_by("pk")
                .first())
    newcomer = (Person.objects.filter(household__building__grid__path__startswith=district.path, user__isnull=True)
                .exclude(household__building=building).exclude(posts__isnull=False).order_by("pk").first())
    if building is None or newcomer is None:
        return 0
    user, _ = User.objects.get_or_create(username=NEWCOMER, defaults={"first_name": newcomer.name[:30]})
    user.set_unusable_password()
    user.save()
    Person.objects.filter(user=user).update(user=None)
    Person.objects.filter(pk=newcomer.pk).update(user=user)
    ResidentAccount.objects.update_or_create(user=user, defaults={
        "confirmed_at": clock.now(), "phone_digest": phone_codes.digest(newcomer.personal_data.phone)})
    HouseholdClaim.objects.filter(person=newcomer).delete()
    HouseholdClaim.objects.create(person=newcomer, building=building, unit="3单元502", created_at=clock.now())
    return 1


def add_frontage(district: Region) -> int:
    """Buildings numbered along the FRONTAGE roads (东园路12号), so that a resident finds a road number on the
    map: every FRONTAGE_STEP_M metres a number, odd on the left of the road's direction, even on the right,
    set back from the line into the urban grid there (villages keep their group numbering). Each gets the
    grid's first building lead, so coverage still finds only the planted gaps. Deterministic: no random draw."""
    from shapely.geometry import LineString

    from .spatial import grid_shape

    grids = [g for g in Region.objects.filter(path__startswith=district.path, level=Region.Level.GRID)
             .select_related("parent").order_by("path") if g.polygon and not g.parent.is_village]
    shapes = [(g, grid_shape(g.polygon).buffer(-BUILDING_INSET)) for g in grids]
    leads = {}
    for post in (Post.objects.filter(role=Post.Role.BUILDING_LEAD, end_date__isnull=True, building__grid__in=grids)
                 .select_related("building").order_by("building__grid_id", "building__name")):
        leads.setdefault(post.building.grid_id, post)
    buildings, posts = [], []
    for road in Road.objects.filter(region=district, name__in=FRONTAGE).order_by("name"):
        line = LineString(road.line["coordinates"])
        metres_per_degree = 111_320 * math.cos(math.radians(line.centroid.y))
        step = FRONTAGE_STEP_M / metres_per_degree
        number = 1
        while number * step < line.length:
            at = line.interpolate(number * step)
            ahead = line.interpolate(min(number * step + step / 10, line.length))
            behind = line.interpolate(max(number * step - step / 10, 0))
            dx, dy = ahead.x - behind.x, ahead.y - behind.y
            norm = math.hypot(dx, dy) or 1
            side = 1 if number % 2 else -1  # left of the direction of travel for odd numbers
            point = Point(at.x - side * dy / norm * FRONTAGE_SETBACK, at.y + side * dx / norm * FRONTAGE_SETBACK)
            grid = next((g for g, inner in shapes if inner.contains(point)), None)
            if grid is not None and grid.pk in leads:
                building = Building(grid=grid, name=f"{number}号", address=f"{road.name}{number}号",
                                    longitude=round(point.x, 6), latitude=round(point.y, 6), floors=2 + number % 3)
                buildings.append(building)
                lead = leads[grid.pk]
                posts.append(Post(person_id=lead.person_id, organisation_id=lead.organisation_id, role=lead.role,
                                  title=lead.title, start_date=lead.start_date, building=building))
            number += 1
    Building.objects.bulk_create(buildings)
    Post.objects.bulk_create(posts)
    return len(buildings)


def reset_demo() -> dict[str, int]:
    """Delete the demo district and everything in it (the demo logins are kept, unlinked, and
    relinked by the next build). Deletes in dependency order, since the org tables PROTECT."""
    district = demo_district()
    if district is None:
        return {}
    prefix = district.path
    with transaction.atomic():
        deleted = {}
        for extension in reversed(EXTENSIONS):
            deleted.update(extension.reset())
        events.record("org.demo_reset", district, **demo_counts(district))
        # Materialised before the posts go: officials are found through their posts.
        people = sorted(set(_demo_people(prefix).values_list("pk", flat=True)))
        organisations = Organisation.objects.filter(region__path__startswith=prefix)
        deleted["posts"] = Post.objects.filter(
            Q(organisation__region__path__startswith=prefix) | Q(grid__path__startswith=prefix)
            | Q(building__grid__path__startswith=prefix) | Q(served_organisation__region__path__startswith=prefix)
        ).delete()[0]
        deleted["personal_data_accesses"] = deleted["people"] = 0
        for start in range(0, len(people), 500):
            chunk = people[start:start + 500]
            deleted["posts"] += Post.objects.filter(person__in=chunk).delete()[0]
            deleted["personal_data_accesses"] += PersonalDataAccess.objects.filter(person__in=chunk).delete()[0]
            deleted["people"] += Person.objects.filter(pk__in=chunk).delete()[1].get("org.Person", 0)
        deleted["households"] = Household.objects.filter(building__grid__path__startswith=prefix).delete()[0]
        deleted["buildings"] = Building.objects.filter(grid__path__startswith=prefix).delete()[0]
        organisations.update(parent=None, host=None)
        deleted["organisations"] = organisations.delete()[0]
        deleted["roads"] = Road.objects.filter(region__path__startswith=prefix).delete()[0]
        deleted["regions"] = 0
        for level in sorted(Region.Level.values, reverse=True):
            deleted["regions"] += Region.objects.filter(path__startswith=prefix, level=level).delete()[0]
    return deleted


def _demo_people(prefix: str):
    """Residents and staff of the district: by residence, household or a post in its organisations."""
    return Person.objects.filter(
        Q(residence__path__startswith=prefix) | Q(household__building__grid__path__startswith=prefix)
        | Q(posts__organisation__region__path__startswith=prefix)
    )


def demo_counts(district: Region) -> dict[str, int]:
    prefix = district.path
    residents = Person.objects.filter(household__building__grid__path__startswith=prefix)
    return {
        "regions": Region.objects.filter(path__startswith=prefix).count(),
        "grids": Region.objects.filter(path__startswith=prefix, level=Region.Level.GRID).count(),
        "buildings": Building.objects.filter(grid__path__startswith=prefix).count(),
        "households": Household.objects.filter(building__grid__path__startswith=prefix).count(),
        "people": _demo_people(prefix).distinct().count(),
        "residents": residents.count(),
        "party_members": residents.filter(is_party_member=True).count(),
        "organisations": Organisation.objects.filter(region__path__startswith=prefix).count(),
        "posts": Post.objects.filter(organisation__region__path__startswith=prefix).count(),
    }


def coverage_gaps(report: Coverage) -> dict[str, list[str]]:
    """A coverage report in the shape of DemoResult.planted_gaps, to compare the two."""
    return {
        "grids_without_worker": sorted(g.grid_code for g in report.grids_without_worker),
        "buildings_without_lead": sorted(b.address for b in report.buildings_without_lead),
        "units_without_party_presence": sorted(o.name for o in report.units_without_party_presence),
        "committees_without_party_organisation": sorted(o.name for o in report.committees_without_party_organisation),
    }


def demo_logins() -> list[DemoLogin]:
    """The demo logins as they stand in the database: who each is and the regions their posts cover."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[p.username for p in LOGINS])}
    people = {p.user_id: p for p in Person.objects.filter(user__in=users.values()).select_related("residence")}
    logins = []
    for plan in LOGINS:
        user = users.get(plan.username)
        if user is None:
            continue
        person = people.get(user.pk)
        posts = (Post.objects.filter(active_posts_q(), person=person)
                 .select_related("organisation__region", "grid", "building__grid") if person else [])
        scope = "、".join(dict.fromkeys(post.scope_region.name for post in posts))
        if user.is_superuser:
            scope = "全部（超级用户） / everything"
        elif not scope and person is not None and person.residence_id:
            scope = f"居住于{person.residence.name} / lives here"
        logins.append(DemoLogin(plan.username, plan.password, plan.role_zh, plan.role_en,
                                person.name if person else "", scope or "—"))
    return logins
