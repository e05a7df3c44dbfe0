"""Builders for demands tests: units, handlers, a dispatcher, a grid worker and residents on top of org's
World, points inside and outside its grids, and a quick way to walk a demand along the workflow."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from gongzhi.core import clock
from gongzhi.demands import services
from gongzhi.demands.models import Category, Demand
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official, user

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday 26 November 2026, 09:00 in Beijing: an ordinary working day.
MONDAY_MORNING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
THURSDAY_9AM = dt.datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
IN_A1 = (116.005, 39.905)   # grid A1 of the World (community A)
IN_A2 = (116.015, 39.905)   # grid A2 (community A)
IN_B1 = (116.025, 39.905)   # grid B1 (community B)
NOWHERE = (117.5, 40.5)     # outside every grid

_seq = itertools.count(1)


def category(code: str) -> Category:
    return Category.objects.get(code=code)


class DemandWorld:
    """org's World plus: a city-management department and a property company as handling units, their
    staff, the street office's dispatcher, a grid worker for grid A1, and two residents with accounts."""

    def __init__(self, world):
        services.seed_defaults()
        self.world = w = world
        self.city_management = Organisation.objects.create(name="区城管委", kind="department", department="城管",
                                                           region=w.district)
        self.property_company = Organisation.objects.create(name="东园物业", kind="property_company",
                                                            region=w.community_a)
        self.handler = official(self.city_management, "staff", "cg_staff")
        self.property_staff = official(self.property_company, "staff", "wy_staff")
        self.dispatcher = official(w.street_office, "staff", "desk_staff")
        self.grid_worker = official(w.committee_a, "grid_worker", "gw_a1", grid=w.grid_a1)
        self.resident = user("resident_zhang")
        w.resident_a.user = self.resident
        w.resident_a.save()
        self.other_resident = user("resident_li")

    def file(self, *, at=THURSDAY_9AM, where=IN_A1, text="小区门口垃圾堆了三天没人清运", category=None, **kw) -> Demand:
        with clock.frozen_at(at):
            step = services.file_demand(self.resident, text=text, longitude=where[0], latitude=where[1],
                                        category=category, contact_name="张三", contact_phone="13900001111", **kw)
        return step.demand

    def dispatched(self, *, at=THURSDAY_9AM, **kw) -> Demand:
        demand = self.file(at=at, **kw)
        with clock.frozen_at(at + dt.timedelta(minutes=30)):
            return services.dispatch(self.dispatcher, demand, unit=self.city_management,
                                     category=demand.category or "environment.garbage").demand

    def closed(self, *, at=THURSDAY_9AM, **kw) -> Demand:
        """A demand walked to "closed" (dispatched, accepted, replied, verified, closed) within a day."""
        demand = self.dispatched(at=at, **kw)
        step = at + dt.timedelta(hours=1)
        for act in (lambda d: services.accept(self.handler, d),
                    lambda d: services.reply(self.handler, d, text="已安排清运，现场已清理干净"),
                    lambda d: services.verify(self.grid_worker, d),
                    lambda d: services.close(self.dispatcher, d)):
            with clock.frozen_at(step):
                demand = act(demand).demand
            step += dt.timedelta(hours=1)
        return demand


class DjangoApp:
    """Stands in for Django's WSGI application: records what was handed to it."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        self.calls.append(environ["wsgi.input"].read())
        start_response("418 I'm a teapot", [])
        return [b"django"]
