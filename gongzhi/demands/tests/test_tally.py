"""The weekly tally of demands (demands/tally.py): on PostgreSQL a trigger keeps it through every kind of change
(the services, bulk updates, deletes) equal to a count of the demands; where it is not kept or counts weeks in
another zone, the figures are counted from the demands; `gongzhi demands tally` finds and mends a wrong tally."""

import datetime as dt
import io
import random

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gongzhi.core import clock
from gongzhi.demands import services, tally
from gongzhi.demands.models import Category, Demand, WeekTally
from gongzhi.demands.tests.factories import IN_A1, IN_A2, IN_B1, THURSDAY_9AM, category
from gongzhi.org.models import Region

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the tally's trigger is PostgreSQL's")

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)  # THURSDAY_9AM's week


def grids():
    return list(Region.objects.filter(level=Region.Level.GRID).values_list("id", flat=True))


def cells(**kw) -> set:
    first, end = dt.date(2025, 1, 6), dt.date(2027, 1, 4)
    return set(tally.weekly(grids(), first, end, **kw))


def every_view(**kw) -> list[set]:
    """The tally summed every way the pages and the analysis sum it (or counted, with live=True)."""
    return [cells(merged=merged, by=by, **kw) for merged in (None, False, True)
            for by in (tally.KEYS, ("grid",), ("week", "category"), ())]


def test_the_weeks_counted_per_grid_and_category_with_merged_rated_and_solved_apart(dw):
    garbage, noise = category("environment.garbage"), category("environment.noise")
    environment = garbage.parent_id
    first = dw.file(where=IN_A1, category=garbage)
    dw.file(where=IN_A1, category=garbage)
    dw.file(where=IN_A2, category=noise)
    dw.file(where=IN_B1)  # no category yet
    dw.file(where=IN_A1, category=garbage, at=THURSDAY_9AM - dt.timedelta(weeks=1))
    duplicate = dw.file(where=IN_A1, category=garbage)
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=1)):
        services.merge_into(dw.dispatcher, duplicate, first)
    rated = dw.closed(where=IN_A1, category=noise)  # verified by A1's grid worker
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(days=1)):
        services.rate(dw.resident, rated, solved=True, satisfaction="satisfied")
    a1, a2, b1 = (dw.world.grid_a1.pk, dw.world.grid_a2.pk, dw.world.grid_b1.pk)
    last_week = MONDAY - dt.timedelta(weeks=1)
    env = environment  # garbage and noise are both environment's: the tally keeps first-level categories
    expected = {(MONDAY, a1, env, 3, 1, 1), (MONDAY, a2, env, 1, 0, 0), (MONDAY, b1, None, 1, 0, 0),
                (last_week, a1, env, 1, 0, 0)}
    assert noise.parent_id == env
    assert cells(merged=False, live=True) == expected
    assert cells(merged=False) == expected  # the tally on PostgreSQL, the same count elsewhere
    assert cells(merged=True) == {(MONDAY, a1, env, 1, 0, 0)}
    assert cells(by=("grid",)) == {(a1, 5, 1, 1), (a2, 1, 0, 0), (b1, 1, 0, 0)}
    assert cells(by=("week", "category")) == {(MONDAY, env, 5, 1, 1), (MONDAY, None, 1, 0, 0),
                                              (last_week, env, 1, 0, 0)}
    assert cells(by=()) == {(7, 1, 1)}
    assert every_view() == every_view(live=True)
    # A window leaves out the weeks outside it, and the grids not asked for.
    assert {w for w, *_ in tally.weekly(grids(), MONDAY, MONDAY + dt.timedelta(weeks=1))} == {MONDAY}
    assert {g for _, g, *_ in tally.weekly([a2], MONDAY, MONDAY + dt.timedelta(weeks=1))} == {a2}
    assert tally.weekly([], MONDAY, MONDAY + dt.timedelta(weeks=1)) == []


@postgres_only
def test_the_trigger_keeps_the_tally_equal_to_the_demands_through_any_change(dw):
    assert tally.installed()
    garbage, noise = category("environment.garbage"), category("environment.noise")
    filed = [dw.file(where=random.Random(i).choice((IN_A1, IN_A2, IN_B1)), category=garbage if i % 3 else None,
                     at=THURSDAY_9AM - dt.timedelta(days=3 * i)) for i in range(12)]
    assert WeekTally.objects.exists() and tally.differences() == []
    elsewhere = Category.objects.filter(parent__isnull=False).exclude(parent=garbage.parent_id).first()  # another root
    rng = random.Random(19)
    grid_ids = grids()
    for step in range(60):
        demand = Demand.objects.get(pk=rng.choice(filed).pk)
        change = step % 6
        if change == 0:    # recategorised
            Demand.objects.filter(pk=demand.pk).update(category=rng.choice((garbage, noise, elsewhere, None)))
        elif change == 1:  # moved to another grid (a corrected place)
            Demand.objects.filter(pk=demand.pk).update(grid_id=rng.choice(grid_ids))
        elif change == 2:  # its time of receipt corrected, across a week
            Demand.objects.filter(pk=demand.pk).update(received_at=demand.received_at - dt.timedelta(days=rng.randint(1, 20)))
        elif change == 3:  # rated, or the rating withdrawn by a reopen
            demand.solved = rng.choice((True, False, None))
            demand.save()
        elif change == 4:  # merged, and back
            original = filed[0] if demand.pk != filed[0].pk else filed[1]
            merged = demand.state == "merged"
            Demand.objects.filter(pk=demand.pk).update(state="received" if merged else "merged",
                                                       merged_into=None if merged else original)
        else:              # a change the tally does not count by
            Demand.objects.filter(pk=demand.pk).update(urgency=rng.choice(("ordinary", "complex")))
        assert tally.differences() == [], step
    assert every_view() == every_view(live=True)
    # Deleted (the demo's reset deletes its demands), with what points at them.
    Demand.objects.filter(state="merged").update(state="received", merged_into=None)
    Demand.objects.filter(pk__in=[d.pk for d in filed[:5]]).delete()
    assert tally.differences() == [] and every_view() == every_view(live=True)


def test_a_category_moved_under_another_first_level_category_takes_its_demands_along(dw):
    garbage, noise = category("environment.garbage"), category("environment.noise")
    other_root = Category.objects.filter(parent__isnull=True).exclude(pk=garbage.parent_id).order_by("path").first()
    for _ in range(3):
        dw.file(category=garbage)
    dw.file(category=noise)
    week = (MONDAY, MONDAY + dt.timedelta(weeks=1))
    assert tally.weekly(grids(), *week, by=("category",)) == [(garbage.parent_id, 4, 0, 0)]
    garbage.parent = other_root
    garbage.save()  # re-roots its path (and its subtree's) in one transaction
    assert sorted(tally.weekly(grids(), *week, by=("category",))) == sorted(
        [(garbage.parent_id, 3, 0, 0), (noise.parent_id, 1, 0, 0)])
    assert sorted(tally.weekly(grids(), *week, by=("category",), live=True)) == sorted(
        tally.weekly(grids(), *week, by=("category",)))
    if ON_POSTGRES:
        assert tally.differences() == []


@postgres_only
def test_a_tally_in_another_zone_is_not_read_until_rebuilt(dw, settings):
    demand = dw.file(at=dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC))  # Monday 04:00 in Beijing, Sunday in UTC
    settings.TIME_ZONE = "UTC"
    assert tally.installed_zone() == "Asia/Shanghai" and not tally.installed()
    with connection.cursor() as cursor:  # Django's connection counts in UTC from now on
        cursor.execute("SET TIME ZONE 'UTC'")
    sunday_week = dt.date(2026, 11, 16)
    # Not installed for this zone: counted from the demands, in UTC weeks.
    assert tally.weekly([demand.grid_id], dt.date(2026, 11, 9), dt.date(2026, 11, 30), by=("week",)) \
        == [(sunday_week, 1, 0, 0)]
    with pytest.raises(CommandError, match="counts weeks in Asia/Shanghai.*--rebuild"):
        call_command("demands", "tally", stdout=io.StringIO())
    call_command("demands", "tally", "--rebuild", stdout=io.StringIO())
    assert tally.installed_zone() == "UTC" and tally.installed()
    assert WeekTally.objects.get(grid=demand.grid_id, received=1).week == sunday_week


@postgres_only
def test_the_command_finds_a_wrong_tally_and_the_rebuild_mends_it(dw):
    demand = dw.file()
    out = io.StringIO()
    call_command("demands", "tally", stdout=out)
    assert "tally OK" in out.getvalue()
    WeekTally.objects.filter(grid=demand.grid_id).update(received=7)  # as after a restore of a partial copy
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 cells of the tally differ"):
        call_command("demands", "tally", stdout=io.StringIO(), stderr=err)
    assert "tally (7, 0, 0), demands (1, 0, 0)" in err.getvalue()
    out = io.StringIO()
    call_command("demands", "tally", "--rebuild", stdout=out)
    assert "tally rebuilt" in out.getvalue() and tally.differences() == []
    tally.pause()  # a disabled trigger is not a tally: found, and mended by the rebuild
    assert not tally.installed()
    with pytest.raises(CommandError, match="missing or disabled"):
        call_command("demands", "tally", stdout=io.StringIO())
    tally.rebuild()
    assert tally.installed()


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite variant")
def test_on_sqlite_there_is_no_tally_and_the_command_says_so(dw):
    dw.file()
    assert not tally.installed() and not WeekTally.objects.exists()
    assert cells(by=("week",)) == {(MONDAY, 1, 0, 0)}
    out = io.StringIO()
    call_command("demands", "tally", stdout=out)
    assert "counted from the demands themselves" in out.getvalue()
