"""Builders for care tests on top of demands' DemandWorld: a building lead of building A1, a grid worker of
grid B1 (another community), the care groups, a second household in building A1, a real photo."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

from PIL import Image

from gongzhi.care.defaults import seed_groups
from gongzhi.care.models import CareGroup
from gongzhi.org.models import Household
from gongzhi.org.tests.factories import official, person

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def photo_bytes(colour=(30, 120, 200)) -> bytes:
    """A real JPEG with camera EXIF (make and model), as a phone writes it."""
    image = Image.new("RGB", (640, 480), colour)
    for x in range(0, 640, 32):
        image.paste((250, 250, 250), (x, 0, x + 3, 480))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Huawei", "P60"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


class CareWorld:
    """DemandWorld plus: the care groups; in building A1 a second household (1-102) with 王秀英, elderly and
    without a phone, and 赵六, the building lead of A1; a grid worker of B1 (community B). The office of
    community A is its party secretary (world.secretary_a); A1's grid worker is DemandWorld's."""

    def __init__(self, dw):
        seed_groups(CareGroup)
        self.dw = dw
        w = self.world = dw.world
        self.household_a2 = Household.objects.create(building=w.building_a1, unit="1-102")
        self.elderly = person("王秀英", self.household_a2, phone="", id_number="110105194001010021",
                              birth_date=dt.date(1940, 1, 1))
        self.lead = official(w.committee_a, "building_lead", "lead_a1", building=w.building_a1)
        lead_person = self.lead.person
        lead_person.household = self.household_a2
        lead_person.name = "赵六"
        lead_person.save()
        self.grid_worker_a1 = dw.grid_worker
        self.grid_worker_b1 = official(w.committee_b, "grid_worker", "gw_b1", grid=w.grid_b1)
        self.office_a = w.secretary_a
