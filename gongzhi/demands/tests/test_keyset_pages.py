"""The demand lists page by keyset (core.keyset) and stay in the caller's scope: "my demands" pages through
exactly one's own, once each, and a cursor made from someone else's demand shows nothing of theirs."""

import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core import keyset
from gongzhi.demands import queries, views

from .factories import THURSDAY_9AM

pytestmark = pytest.mark.django_db


def numbers(response):
    return [d.number for d in response.context["page_obj"]]


def test_my_demands_page_through_my_own_once_each_and_a_foreign_cursor_shows_none_of_theirs(client, dw, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    # Five of mine, three at the very same moment (ties in received_at), and two of another resident's.
    mine = [dw.file(at=THURSDAY_9AM + dt.timedelta(minutes=m)) for m in (0, 5, 5, 5, 9)]
    theirs = []
    for m in (5, 7):
        theirs.append(dw.file(at=THURSDAY_9AM + dt.timedelta(minutes=m)))
        theirs[-1].reporter_user = dw.other_resident
        theirs[-1].save(update_fields=["reporter_user"])
        mine.remove(theirs[-1]) if theirs[-1] in mine else None
    client.force_login(dw.resident)
    seen, url = [], reverse("demands:mine")
    response = client.get(url)
    while True:
        assert response.status_code == 200
        seen.extend(numbers(response))
        page = response.context["page_obj"]
        if not page.has_next:
            break
        response = client.get(f"{url}?{page.next_query}")
    assert sorted(seen) == sorted(d.number for d in mine) and len(seen) == len(set(seen)) == 5
    # A cursor pointing at another resident's demand: the page after it holds only mine.
    foreign = keyset.KeysetPage([theirs[0]], queries.NEWEST_FIRST, has_next=True, has_previous=False, number=1,
                                param="page")
    shown = numbers(client.get(f"{url}?{foreign.next_query}"))
    assert shown and set(shown) <= {d.number for d in mine}
