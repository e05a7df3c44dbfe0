"""The ranking's figures agree wherever they are shown (the review of the officials' pages): a unit's
standing on its queue is the ranking of its street's dashboard at unit level and names that pool; the
dashboard opens one level below the user's widest scope (a unit's staff: their street's units, their row
highlighted); the score's change is the difference of the shown scores; a row with too few cases now but
ranked before shows no "None"; places are compared only between pools of the same size."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands import queries, ranking
from gongzhi.demands.models import Demand
from gongzhi.org.tests.factories import official, region

from .test_ranking_pages import DECEMBER_7, NOVEMBER, OCTOBER_29, send, units  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _rows(text: str) -> dict:
    rows = re.findall(r'<tr data-id="(\d+)" data-rank="(\d*)"([^>]*)>(.*?)</tr>', text, re.S)
    return {int(i): (rank, attrs, cells) for i, rank, attrs, cells in rows}


@pytest.fixture
def elsewhere(units):
    """The city management's November demands moved to another street: ranked among all units it is
    first and the property company second of 2; within 和平街道 the company is alone (1 of 1)."""
    w = units.world
    street = region("street", w.district, name="安宁街道")
    community = region("community", street, name="安宁社区")
    grid = region("grid", community, name="安宁一网格", grid_code="N1")
    november = Demand.objects.filter(lead_unit=units.city_management, dispatched_at__gte=dt.datetime(
        2026, 11, 1, tzinfo=dt.timezone.utc))
    assert november.count() == 4
    november.update(grid=grid, street=street, community=community)
    units.other_street = street
    return units


def test_the_queue_standing_is_the_street_dashboard_s_unit_ranking_and_names_its_pool(client, elsewhere):
    everywhere = queries.ranked("unit", *NOVEMBER)
    assert [(p.row.name, p.rank, p.out_of) for p in everywhere[:2]] == [("区城管委", 1, 2), ("东园物业", 2, 2)]
    client.force_login(elsewhere.world.street_official)
    with clock.frozen_at(DECEMBER_7):
        board = client.get(reverse("demands:dashboard"), {"level": "unit", "within": elsewhere.world.street.pk})
    rank, _attrs, _cells = _rows(board.content.decode())[elsewhere.property_company.pk]
    assert rank == "1" and board.context["rows"][0].out_of == 1
    client.force_login(elsewhere.property_staff)
    with clock.frozen_at(DECEMBER_7):
        queue = client.get(reverse("demands:queue")).content.decode()
    headline = re.search(r"<summary>(.*?)</summary>", queue, re.S).group(1)
    assert "rank 1 of the 1 units in 和平街道" in headline  # was "rank 2 of 2": all units everywhere


def test_a_unit_s_own_dashboard_opens_on_its_street_s_units_with_its_row_highlighted(client, units):
    client.force_login(units.property_staff)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:dashboard"))
    assert page.status_code == 200 and page.context["level"] == "unit"
    assert page.context["within"] == units.world.street  # the company sits in a community: its street's pool
    rows = _rows(page.content.decode())
    rank, attrs, cells = rows[units.property_company.pk]
    assert rank == "2" and "mine" in attrs and 'aria-current="true"' in attrs and "my unit" in cells
    assert "mine" not in rows[units.city_management.pk][1]
    street_row = [p for p in page.context["rows"] if p.row.name == units.world.street.name]
    assert not street_row  # no more a street's row labelled 和平街道 for the company's own view
    # The same figure as the street's own dashboard at unit level.
    client.force_login(units.world.street_official)
    with clock.frozen_at(DECEMBER_7):
        street = client.get(reverse("demands:dashboard"), {"level": "unit"})
    assert _rows(street.content.decode())[units.property_company.pk][0] == "2"


def test_the_default_level_is_the_one_below_the_widest_scope(client, units):
    w = units.world
    district_office = w.street_office.__class__.objects.create(name="示范区政府", kind="district_government",
                                                               region=w.district)
    district_official = official(district_office, "director", "qu_dir")
    expected = {district_official: "street", w.street_official: "community", w.secretary_a: "unit",
                units.property_staff: "unit"}
    for user, level in expected.items():
        assert queries.default_rates_level(user) == level, user
    client.force_login(w.street_official)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:dashboard"))
    assert page.context["level"] == "community"  # not the street alone ("1 of 1 ranked")
    assert 'value="community" selected' in page.content.decode()
    assert {p.row.name for p in page.context["rows"]} == {"东园社区"}


def test_the_score_change_is_the_difference_of_the_shown_scores():
    row = queries.Rates(1, "x", None, 9, 9, 9, 0, 0, 0, 0, 1.0, None, None, 94.74)
    placed = ranking.Ranked(row, 94.74, 1, 3, False, (), 2, 97.66, 3)
    assert placed.score_change == -3.0  # 94.7 - 97.7, not the -2.92 ("-2.9") of the unrounded scores


def test_places_compare_only_between_pools_of_the_same_size():
    row = queries.Rates(1, "x", None, 9, 9, 9, 0, 0, 0, 0, 1.0, None, None, 90.0)
    assert ranking.Ranked(row, 90.0, 6, 6, False, (), 8, 80.0, 9).same_pool is False
    assert ranking.Ranked(row, 90.0, 6, 6, False, (), 8, 80.0, 6).same_pool is True


@pytest.fixture
def housing_ranked_in_october(units):
    """The housing bureau had 3 demands in October (ranked: 3 of 3) and 1 in November (too few cases; 2
    ranked)."""
    for i in range(3):
        send(units, units.housing, at=OCTOBER_29 + dt.timedelta(minutes=3 + 10 * i), accept_with=units.housing_staff)
    return units


def test_no_none_and_no_arrow_across_pools_of_different_sizes(client, housing_ranked_in_october):
    units = housing_ranked_in_october
    client.force_login(units.world.street_official)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:dashboard"), {"level": "unit"})
    text = page.content.decode()
    rows = _rows(text)
    rank, _attrs, cells = rows[units.housing.pk]
    assert rank == "" and "None" not in cells and "was 1/3" in cells  # too few now; 1st of 3 in October
    rank, _attrs, cells = rows[units.city_management.pk]
    change = re.search(r'data-col="change">(.*?)</td>', cells, re.S).group(1)
    assert rank == "1" and "▲" not in change and "▼" not in change and "/3" in change  # 2 ranked now, 3 then
    assert "None" not in re.search(r'id="rates-table"(.*?)</table>', text, re.S).group(1)
