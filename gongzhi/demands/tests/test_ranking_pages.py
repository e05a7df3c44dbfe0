"""The ranking where people meet it: queries.ranking_for (the function the dashboard, its CSV and the monthly
report call), the dashboard and its CSV (too few cases, the floor, ties, cases next to each rate, the change
against the month before, the last complete month by default), and a unit's queue page (its own rates and
rank, the deadline sort, the reply with an "after" photo)."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands import queries, services
from gongzhi.org.models import Organisation
from gongzhi.org.tests.factories import official

from .factories import IN_A1, THURSDAY_9AM, SHANGHAI
from .test_photos import jpeg

pytestmark = pytest.mark.django_db
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
DECEMBER_7 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # last complete month: November
OCTOBER_29 = THURSDAY_9AM - dt.timedelta(days=28)


@pytest.fixture
def client(client, settings):
    """The test client reading the pages in English (the language cookie), whatever the .po holds."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def send(dw, unit, *, at, accept_with=None):
    """A demand filed at `at`, dispatched to `unit` half an hour later; accepted an hour later by
    `accept_with` (in time) when given."""
    demand = dw.file(at=at, where=IN_A1)
    with clock.frozen_at(at + dt.timedelta(minutes=30)):
        demand = services.dispatch(dw.dispatcher, demand, unit=unit, category="environment.garbage").demand
    if accept_with is not None:
        with clock.frozen_at(at + dt.timedelta(hours=1)):
            demand = services.accept(accept_with, demand).demand
    return demand


@pytest.fixture
def units(dw, settings):
    """October: the property company accepted its 3 in time, the city management none of its 3.
    November: the city management accepted its 4 in time, the property company none of its 3; the
    housing bureau had a single demand."""
    settings.GONGZHI_RANKING_MIN_CASES = 3
    settings.GONGZHI_RANKING_FLOOR = 0.6
    dw.housing = Organisation.objects.create(name="区住建委", kind="department", department="住建",
                                             region=dw.world.district)
    dw.housing_staff = official(dw.housing, "staff", "zj_staff")
    for i in range(3):
        at = OCTOBER_29 + dt.timedelta(minutes=10 * i)
        send(dw, dw.property_company, at=at, accept_with=dw.property_staff)
        send(dw, dw.city_management, at=at)
    for i in range(4):
        send(dw, dw.city_management, at=THURSDAY_9AM + dt.timedelta(minutes=10 * i), accept_with=dw.handler)
    for i in range(3):
        send(dw, dw.property_company, at=THURSDAY_9AM + dt.timedelta(minutes=10 * i + 5))
    send(dw, dw.housing, at=THURSDAY_9AM)
    return dw


def test_ranking_for_ranks_by_the_rules_and_carries_the_month_before(units):
    ranked = queries.ranking_for(units.world.street_official, "unit", *NOVEMBER)
    assert [(p.row.name, p.rank, p.out_of, p.below_floor, p.insufficient) for p in ranked] == [
        ("区城管委", 1, 2, (), False), ("东园物业", 2, 2, ("response",), False), ("区住建委", None, 2, (), True)]
    city, company, housing = ranked
    assert (city.row.cases, city.row.accepted_in_time, city.row.dispatched) == (4, 4, 4)
    assert (city.previous_rank, city.rank_change) == (2, 1)  # flagged in October: 0 of 3 in time
    assert (company.previous_rank, company.rank_change) == (1, -1)
    assert housing.previous_rank is None and housing.rank is None


def test_a_high_floor_flags_everyone_and_the_order_follows_the_score_again(units, settings):
    settings.GONGZHI_RANKING_FLOOR = 1.01
    ranked = queries.ranked("unit", *NOVEMBER)
    assert [(p.row.name, p.rank) for p in ranked[:2]] == [("区城管委", 1), ("东园物业", 2)]
    assert all(p.is_flagged for p in ranked[:2])


def test_ranking_for_needs_view_rates(units):
    from gongzhi.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        queries.ranking_for(units.resident, "unit", *NOVEMBER)


def test_the_dashboard_opens_on_last_month_with_cases_flags_and_change(client, units):
    client.force_login(units.world.street_official)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:dashboard"), {"level": "unit"})
    assert page.status_code == 200
    assert (page.context["start"], page.context["end"]) == NOVEMBER
    text = page.content.decode()
    rows = re.findall(r'<tr data-id="(\d+)" data-rank="(\d*)"[^>]*>(.*?)</tr>', text, re.S)
    by_id = {int(i): (rank, cells) for i, rank, cells in rows}
    rank, cells = by_id[units.city_management.pk]
    assert rank == "1" and "100.0% (4/4)" in cells and "▲1" in cells
    rank, cells = by_id[units.property_company.pk]
    assert rank == "2" and "0.0% (0/3)" in cells and "Below the floor" in cells and "▼1" in cells
    rank, cells = by_id[units.housing.pk]
    assert rank == "" and "Too few cases" in cells and "0.0% (0/1)" in cells
    # The rules in force, in words: weights, minimum, floor.
    rules_box = re.search(r'id="ranking-rules">(.*?)</div>', text, re.S).group(1)
    assert "× 10%" in rules_box and "× 60%" in rules_box and "Fewer than 3 cases" in rules_box and "60%" in rules_box
    assert 'value="2026-11"' in text  # the month picker shows the period


def test_the_period_picker_still_chooses_the_month(client, units):
    client.force_login(units.world.street_official)
    page = client.get(reverse("demands:dashboard"), {"level": "unit", "month": "2026-10"})
    names = [(p.row.name, p.rank) for p in page.context["rows"]]
    assert names[:2] == [("东园物业", 1), ("区城管委", 2)]


def test_the_csv_is_the_dashboard_ranking(client, units):
    client.force_login(units.world.street_official)
    query = {"level": "unit", "month": "2026-11"}
    page = client.get(reverse("demands:dashboard"), query)
    response = client.get(reverse("demands:rates_csv"), query)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["name"], r["rank"], r["insufficient"], r["below_floor"], r["previous_rank"]) for r in rows] == [
        (p.row.name, "" if p.rank is None else str(p.rank), str(int(p.insufficient)), ";".join(p.below_floor),
         "" if p.previous_rank is None else str(p.previous_rank)) for p in page.context["rows"]]
    assert rows[1]["below_floor"] == "response" and rows[2]["rank"] == "" and rows[2]["cases"] == "1"


# --- a unit's queue page -----------------------------------------------------------------------------------

def test_the_unit_sees_its_own_rates_and_rank_on_its_queue(client, units):
    client.force_login(units.property_staff)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:queue"))
    assert page.status_code == 200
    text = page.content.decode()
    box = re.search(r'id="unit-standing"(.*?)</details>', text, re.S).group(1)
    headline = re.search(r"<summary>(.*?)</summary>", box, re.S).group(1)
    assert "东园物业" in headline and "rank 2 of the 2 units in 和平街道" in headline and "Below the floor" in headline
    last_month = re.search(r'data-start="2026-11-01">(.*?)</div>', box, re.S).group(1)
    assert "东园物业" in last_month and "rank 2 of the 2 units in 和平街道" in last_month and "0.0% (0/3)" in last_month
    assert "Below the floor" in last_month and "▼1" in last_month
    this_month = re.search(r'data-start="2026-12-01">(.*?)</div>', box, re.S).group(1)
    assert "Nothing was dispatched" in this_month
    # Of the other units, nothing but their number.
    assert "区城管委" not in box and "100.0%" not in box


def test_someone_in_no_unit_sees_no_standing(client, units):
    client.force_login(units.dispatcher)
    with clock.frozen_at(DECEMBER_7):
        page = client.get(reverse("demands:queue"))
    assert page.status_code == 200 and 'id="unit-standing"' not in page.content.decode()


def test_the_queue_puts_overdue_first_then_the_soonest_deadline_and_can_sort_by_newest(client, units):
    fresh = send(units, units.city_management, at=DECEMBER_7 - dt.timedelta(hours=2), accept_with=units.handler)
    client.force_login(units.handler)
    with clock.frozen_at(DECEMBER_7):
        by_deadline = client.get(reverse("demands:queue"))
        newest = client.get(reverse("demands:queue"), {"order": "newest"})
        listed = [c["demand"] for c in by_deadline.context["cards"]]
        late = [d for d in listed if d.is_overdue()]
    assert listed[-1] == fresh and fresh not in late and listed[:len(late)] == late  # overdue first
    # Then by the deadline of the step that waits: accept by for October's (never accepted), first
    # feedback by for November's (accepted): the October ones first.
    waiting = [d.accept_due if d.state == "dispatched" else d.feedback_due for d in late]
    assert waiting == sorted(waiting) and late[0].state == "dispatched" and late[-1].state == "accepted"
    received = [c["demand"].received_at for c in newest.context["cards"]]
    assert received == sorted(received, reverse=True) and set(received) == {d.received_at for d in listed}
    assert received[0] == fresh.received_at
    assert 'aria-current="true">' in newest.content.decode()


def test_the_unit_replies_from_its_queue_with_an_after_photo(client, units, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    demand = queries.queue(units.handler).filter(state="accepted").first()
    client.force_login(units.handler)
    page = client.get(reverse("demands:queue")).content.decode()
    form = re.search(rf'<details class="act act-reply">.*?action="[^"]*{demand.number}/actions/reply/"(.*?)</form>',
                     page, re.S)
    assert form and 'type="file"' in form.group(1) and 'accept="image/*"' in form.group(1)
    assert 'enctype="multipart/form-data"' in page
    after = io.BytesIO(jpeg(colour=(40, 160, 60)))
    after.name = "after.jpg"
    answer = client.post(reverse("demands:act", args=[demand.number, "reply"]),
                         {"text": "已清运完毕，现场已恢复整洁", "photos": [after], "view": "card"},
                         headers={"HX-Request": "true"})
    assert answer.status_code == 200
    demand.refresh_from_db()
    assert demand.state == "replied" and [p.stage for p in demand.photos.all()] == ["reply"]


def test_the_demand_page_offers_the_same_reply_form_with_its_photo_field(client, units):
    demand = queries.queue(units.handler).filter(state="accepted").first()
    client.force_login(units.handler)
    page = client.get(reverse("demands:detail", args=[demand.number])).content.decode()
    form = re.search(r'<details class="act act-reply">(.*?)</form>', page, re.S).group(1)
    assert 'enctype="multipart/form-data"' in form and 'hx-encoding="multipart/form-data"' in form
    assert re.search(r'<input type="file" name="photos"[^>]*accept="image/\*"', form)
    assert "camera" in form  # the help text says a phone's camera will do
