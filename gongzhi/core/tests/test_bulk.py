"""core.bulk.insert_rows stores rows exactly as the ORM would and returns their keys in order."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from gongzhi.core import bulk, events
from gongzhi.core.models import Event
from gongzhi.ledger.models import Pending

pytestmark = pytest.mark.django_db


def test_insert_rows_returns_keys_in_row_order_and_values_round_trip():
    user = get_user_model().objects.create(username="writer")
    at = dt.datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=dt.UTC)
    rows = [("k", "t", str(i), user.pk if i % 2 else None, at + dt.timedelta(seconds=i), {"i": i, "名": "张"}, {})
            for i in range(5)]
    with transaction.atomic():
        ids = bulk.insert_rows(Event, ("kind", "subject_type", "subject_id", "actor", "at", "data", "private"), rows)
    assert len(ids) == 5 and ids == sorted(ids)
    for i, pk in enumerate(ids):
        event = Event.objects.get(pk=pk)
        assert event.subject_id == str(i) and event.data == {"i": i, "名": "张"}
        assert event.at == at + dt.timedelta(seconds=i)
        assert event.actor_id == (user.pk if i % 2 else None)


def test_record_many_queues_every_event_for_the_ledger_like_record_does():
    user = get_user_model().objects.create(username="writer")
    with transaction.atomic():
        written = events.record_many("test.bulk", [(user, user, {"secret": i}, {"n": i}) for i in range(3)])
        single = events.record("test.single", user, actor=user, n=9)
    assert [e.data for e in written] == [{"n": 0}, {"n": 1}, {"n": 2}]
    stored = Event.objects.filter(kind="test.bulk").order_by("id")
    assert [e.private for e in stored] == [{"secret": 0}, {"secret": 1}, {"secret": 2}]
    assert set(Pending.objects.values_list("event_id", flat=True)) == {e.pk for e in written} | {single.pk}
