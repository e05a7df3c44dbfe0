"""A village to deliberate in: households of adults and children, a villagers' committee, a party branch
with its members, representatives, and users for everyone so they can sign in and vote."""

import datetime as dt

import pytest

from gongzhi.core import clock
from gongzhi.org.models import Building, Household, Organisation
from gongzhi.demands.tests.conftest import ledger_keys  # noqa: F401  (the fixture)
from gongzhi.org.tests import factories as f

from gongzhi.deliberation import services

MONDAY_9AM = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 in Beijing


class Village:
    """村 with 6 households: 12 adults (two per household) and 3 children; 5 party members in the branch;
    the branch committee (secretary 一肩挑 as committee director, a deputy, a member); the villagers'
    committee (director, member); 5 villagers' representatives."""

    def __init__(self, world):
        self.world = world
        self.village = f.region("village", world.street, name="桃源村", admin_code="110199001009")
        self.grid = f.region("grid", self.village, name="桃源一组", grid_code="T1", polygon=f.square(116.1, 39.9))
        self.building = Building.objects.create(grid=self.grid, name="村西片", address="桃源村西", longitude=116.105,
                                                latitude=39.905)
        self.households = [Household.objects.create(building=self.building, unit=f"{i}号") for i in range(1, 7)]
        self.adults, self.children = [], []
        for i, household in enumerate(self.households):
            for j, relation in enumerate(("户主", "配偶")):
                user = f.user(f"villager{i}{j}")
                self.adults.append(f.person(f"村民{i}{j}", household, user=user, relation_to_head=relation,
                                            birth_date=dt.date(1970 + i, 1 + j, 1)))
        for i in range(3):
            self.children.append(f.person(f"孩子{i}", self.households[i], relation_to_head="子女",
                                          birth_date=dt.date(2015, 1, 1)))
        self.branch = Organisation.objects.create(name="桃源村党支部", kind="party_branch", region=self.village)
        self.committee = Organisation.objects.create(name="桃源村村民委员会", kind="villagers_committee",
                                                     region=self.village)
        self.party_members = self.adults[:5]
        for p in self.party_members:
            p.is_party_member, p.party_branch = True, self.branch
            p.save()
        self.secretary = self.adults[0]  # 书记 and 主任, 一肩挑
        f.post(self.secretary, self.branch, "secretary")
        f.post(self.secretary, self.committee, "director")
        f.post(self.adults[1], self.branch, "deputy_secretary")
        f.post(self.adults[2], self.branch, "member")
        f.post(self.adults[3], self.committee, "member")
        self.officer = self.secretary.user
        # A second officer, for two-person entry: the committee's accountant (staff).
        self.clerk = f.official(self.committee, "staff", "clerk")
        self.bodies = {}

    def body(self, kind, **kw):
        if kind not in self.bodies:
            organisation = {"party_members_meeting": self.branch, "party_branch_committee": self.branch,
                            "villagers_committee": self.committee}.get(kind)
            self.bodies[kind] = services.create_body(self.officer, region=self.village, kind=kind,
                                                     name=kw.pop("name", kind), organisation=organisation, **kw)
            if kind == "villagers_representatives_meeting":
                for p in self.adults[::2][:5]:
                    services.add_body_member(self.officer, self.bodies[kind], p)
        return self.bodies[kind]

    def open_meeting(self, kind, *, topic=None, present=None):
        """A meeting of `kind`, opened, with the given people signed in online (default: everyone due)."""
        body = self.body(kind)
        starts = clock.now() + dt.timedelta(days=services.NOTICE_DAYS.get(kind, services.DEFAULT_NOTICE_DAYS))
        meeting = services.schedule_meeting(self.officer, body, title=f"{body.name}会议", agenda="议程", starts_at=starts,
                                            topic=topic)
        with clock.frozen_at(starts):
            services.open_meeting(self.officer, meeting)
        members = [e.person for e in meeting.roll.select_related("person")]
        with clock.frozen_at(starts + dt.timedelta(minutes=5)):
            for p in (members if present is None else present):
                services.sign_in(p.user, meeting)
        meeting.refresh_from_db()
        return meeting, starts


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)
