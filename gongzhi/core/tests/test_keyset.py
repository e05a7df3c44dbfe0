"""Keyset pagination (core.keyset): paging forwards and back shows every row exactly once, in the list's
order, whatever the ties and NULLs in the sort key; a bad or stale cursor falls back to the first page."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.core import keyset
from gongzhi.core.keyset import Key
from gongzhi.core.models import Event

BASE = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
NEWEST_FIRST = [Key("at", descending=True), Key("id", descending=True)]
# A nullable key first (actor: NULL for most rows), then a key with few values: ties everywhere.
BY_ACTOR_KIND = [Key("actor_id", nullable=True), Key("kind"), Key("id")]


def make_events(minutes: list[int], kinds: list[int], actor=None, actor_every: int = 0):
    Event.objects.all().delete()
    Event.objects.bulk_create([
        Event(kind=f"k{kinds[i % len(kinds)]}", subject_type="t", subject_id=str(i), at=BASE + dt.timedelta(minutes=m),
              actor=actor if actor_every and i % actor_every == 0 else None, data={})
        for i, m in enumerate(minutes)])


def walk(qs, keys, per_page):
    """Every page forwards from the first, then every page back from the last: the rows of each."""
    forwards, params = [], {}
    while True:
        page = keyset.paginate(qs, keys, params, per_page=per_page)
        forwards.append([e.pk for e in page])
        if not page.has_next:
            break
        params = dict([page.next_query.split("=", 1)])
    backwards = [forwards[-1]]
    while page.has_previous:
        page = keyset.paginate(qs, keys, dict([page.previous_query.split("=", 1)]), per_page=per_page)
        backwards.append([e.pk for e in page])
    return forwards, backwards[::-1]


def ordered_ids(qs, keys):
    return list(qs.order_by(*(key.order() for key in keys)).values_list("id", flat=True))


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(0, 4), min_size=0, max_size=40), kinds=st.lists(st.integers(0, 2), min_size=1,
       max_size=3), per_page=st.integers(1, 7), actor_every=st.integers(0, 4))
def test_every_row_once_in_order_forwards_and_back_with_ties_and_nulls(django_user_model, minutes, kinds, per_page,
                                                                       actor_every):
    actor = django_user_model.objects.get_or_create(username="actor")[0]
    make_events(minutes, kinds, actor, actor_every)
    qs = Event.objects.all()
    for keys in (NEWEST_FIRST, BY_ACTOR_KIND):
        expected = ordered_ids(qs, keys)
        forwards, backwards = walk(qs, keys, per_page)
        assert [pk for page in forwards for pk in page] == expected
        assert backwards == forwards  # back from the last page: the same pages
        assert all(len(page) == per_page for page in forwards[:-1])


@pytest.mark.django_db
def test_pages_number_themselves_and_link_only_where_there_is_more():
    make_events(list(range(5)), [0])
    first = keyset.paginate(Event.objects.all(), NEWEST_FIRST, {}, per_page=2)
    assert first.number == 1 and first.has_next and not first.has_previous and first.previous_query == ""
    second = keyset.paginate(Event.objects.all(), NEWEST_FIRST, dict([first.next_query.split("=", 1)]), per_page=2)
    assert second.number == 2 and second.has_previous and second.count == 5 and second.paginator.count == 5


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["nonsense", "after.2.", "after.2.!!!", "after.x.W10", "before.3.W10",
                                   "after.2.WyJhIl0", "after.2.W251bGwsIDFd", "sideways.2.W251bGwsIDFd"])
def test_an_unreadable_cursor_shows_the_first_page(token):
    make_events(list(range(5)), [0])
    page = keyset.paginate(Event.objects.all(), NEWEST_FIRST, {"page": token}, per_page=2)
    assert [e.pk for e in page] == ordered_ids(Event.objects.all(), NEWEST_FIRST)[:2] and page.number == 1
