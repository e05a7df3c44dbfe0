"""Fixtures of the patrol tests: org's World with the demands actors, a second grid worker (grid B1), the
ledger's keys and the photos in the test's own folder, plans with places in grids A1 and B1."""

import io

import pytest


@pytest.fixture
def pw(world, settings, tmp_path):
    """The patrol world: DemandWorld plus gw_b1, and a daily plan in A1 (building 1号楼 and the place 东门) and
    in B1 (building 9号楼)."""
    import datetime as dt

    from gongzhi.demands.tests.factories import DemandWorld
    from gongzhi.org.tests.factories import official
    from gongzhi.patrol.models import PatrolPlace, PatrolPlan

    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    dw = DemandWorld(world)
    dw.grid_worker_b = official(world.committee_b, "grid_worker", "gw_b1", grid=world.grid_b1)
    dw.gate_a = PatrolPlace.objects.create(grid=world.grid_a1, name="东门", longitude=116.008, latitude=39.902)
    dw.plan_a = PatrolPlan.objects.create(grid=world.grid_a1, name="日常巡查", every_days=1,
                                          start_date=dt.date(2026, 1, 1), created_at=dt.datetime.now(dt.UTC))
    dw.plan_a.buildings.set([world.building_a1])
    dw.plan_a.places.set([dw.gate_a])
    dw.plan_b = PatrolPlan.objects.create(grid=world.grid_b1, name="日常巡查", every_days=1,
                                          start_date=dt.date(2026, 1, 1), created_at=dt.datetime.now(dt.UTC))
    dw.plan_b.buildings.set([world.building_b1])
    return dw


def jpeg(colour=(200, 80, 40), size=(640, 480)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def photo() -> bytes:
    return jpeg()
