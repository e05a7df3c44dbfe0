"""The rates CSV export gives the API's numbers, ranked the same, with unmeasured rates left empty."""

import csv
import datetime as dt
import io

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import ApiToken
from gongzhi.demands import exports, queries, services

from .factories import IN_B1, THURSDAY_9AM

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


@pytest.fixture
def rated(dw):
    """Three demands in community A (rated solved and satisfied, basically satisfied; one closed, not rated),
    one in community B (rated not solved, so reopened and waiting)."""
    for satisfaction in ("satisfied", "basically_satisfied"):
        demand = dw.closed()
        with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
            services.rate(dw.resident, demand, solved=True, satisfaction=satisfaction)
    dw.closed()
    demand = dw.dispatched(where=IN_B1)
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=3)):
        demand = services.accept(dw.handler, demand).demand
        demand = services.reply(dw.handler, demand, text="已清运").demand
        demand = services.verify(dw.dispatcher, demand).demand  # no grid worker in B1: the desk verifies
        demand = services.close(dw.dispatcher, demand).demand
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        services.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied")
    return dw


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize("level", ["community", "street", "unit", "category"])
def test_the_export_gives_the_api_numbers_in_the_ranking_order(client, rated, level, settings):
    settings.GONGZHI_RANKING_MIN_CASES = 1
    _, raw = ApiToken.issue(rated.world.street_official)
    api = {r["id"]: r for r in client.get(f"/api/v1/demands/rates?level={level}&start={START}&end={END}",
                                          headers={"Authorization": f"Bearer {raw}"}).json()}
    rows = parse(exports.rates_csv(level, START, END, user=rated.world.street_official))
    ranked = queries.ranking_for(rated.world.street_official, level, START, END)
    assert len(rows) == len(api) == len(ranked) > 0
    for row, placed in zip(rows, ranked, strict=True):
        expected = api[placed.row.id]
        assert row["rank"] == ("" if placed.rank is None else str(placed.rank))
        assert row["level"] == level and row["start"] == "2026-11-01"
        assert row["below_floor"] == ";".join(placed.below_floor)
        for name, value in expected.items():
            assert row[name] == ("" if value is None else repr(value) if isinstance(value, float) else str(value)), name


def test_unmeasured_rates_are_empty_and_counts_are_there(rated):
    rows = {row["name"]: row for row in parse(exports.rates_csv("community", START, END))}
    a, b = rows["东园社区"], rows["西园社区"]
    assert (a["dispatched"], a["rated"], a["solved"], a["satisfied"], a["basically_satisfied"]) == ("3", "2", "2", "1", "1")
    assert float(a["satisfaction_rate"]) == 1.0
    # Reopened after "not solved": that answer stands until the resident answers again.
    assert (b["rated"], b["solved"], float(b["resolution_rate"])) == ("1", "0", 0.0)


def test_a_bom_for_excel_and_the_permission_of_the_api(rated):
    assert exports.rates_csv("street", START, END, bom=True).startswith("\ufeffrank,level,")
    with pytest.raises(PermissionDenied):
        exports.rates_csv("street", START, END, user=rated.resident)


def test_names_a_spreadsheet_would_run_are_quoted(rated):
    rated.city_management.name = "=HYPERLINK(1)"
    rated.city_management.save()
    rows = parse(exports.rates_csv("unit", START, END))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
