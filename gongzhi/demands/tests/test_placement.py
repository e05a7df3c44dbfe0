"""Open311 requests whose address_string the district's address register cannot place (GeoReport v2 allows
an address alone): accepted with a token, they wait without a grid for a dispatch desk, which places one
in a grid of its own scope (then it is filed and numbered at once, received at the request's time) or
refuses it with a reason; GET tokens/{token} tells the client which."""

import datetime as dt
import json
import urllib.parse

import pytest

from gongzhi.core import clock
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.core.models import Event
from gongzhi.demands import queries, services
from gongzhi.demands.models import Demand, Submission

from .factories import THURSDAY_9AM

pytestmark = pytest.mark.django_db
BASE = "/open311/v2/"
UNKNOWN = "火星路99号"  # no building of the register has this address


@pytest.fixture
def key(dw):
    _, raw = services.issue_open311_key("东城随手拍", contact="ops@example.org")
    return raw


def post(client, key, address=UNKNOWN, fmt="json"):
    fields = {"api_key": key, "service_code": "environment.garbage", "address_string": address,
              "description": "路口垃圾桶满了没人清", "first_name": "三", "last_name": "张", "phone": "13900001111"}
    with clock.frozen_at(THURSDAY_9AM):
        return client.post(f"{BASE}requests.{fmt}", data=urllib.parse.urlencode(fields),
                           content_type="application/x-www-form-urlencoded; charset=utf-8")


def token_of(client, key, **kw) -> str:
    response = post(client, key, **kw)
    assert response.status_code == 200, response.content
    [answer] = json.loads(response.content)
    assert set(answer) == {"token", "service_notice", "account_id"}
    assert "派单台" in answer["service_notice"] and "dispatch desk" in answer["service_notice"]
    return answer["token"]


def status(client, token) -> tuple[int, list]:
    response = client.get(f"{BASE}tokens/{token}.json")
    return response.status_code, json.loads(response.content)


def test_an_address_the_register_knows_is_filed_at_once_as_before(client, dw, key):
    response = post(client, key, address="东园路1号门口")
    [answer] = json.loads(response.content)
    demand = Demand.objects.get(number=answer["service_request_id"])
    assert demand.grid == dw.world.grid_a1 and not Submission.objects.exists()


def test_an_unknown_address_is_accepted_with_a_token_and_waits_for_a_desk_not_for_the_worker(client, dw, key):
    token = token_of(client, key)
    submission = Submission.objects.get(key=token)
    assert submission.grid is None and submission.state == Submission.State.PENDING
    assert not Demand.objects.exists()
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=2)):
        report = services.file_submissions()
    assert report.as_dict() == {"filed": 0, "refused": 0, "failed": 0}
    submission.refresh_from_db()
    assert submission.state == Submission.State.PENDING and submission.attempts == 0
    assert status(client, token) == (200, [{"service_request_id": None, "token": token}])


def test_a_street_desk_places_it_in_its_street_and_it_is_filed_with_a_number_received_when_asked(client, dw, key):
    token = token_of(client, key)
    submission = Submission.objects.get(key=token)
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=3)):
        placed = services.place_submission(dw.dispatcher, submission, dw.world.grid_a2.pk)
    assert placed.state == Submission.State.FILED
    demand = placed.demand
    assert demand.grid == dw.world.grid_a2 and demand.address == UNKNOWN and demand.channel == "open311"
    # The time limits count from the request, not from the placement: the wait is the desk's.
    assert demand.received_at == THURSDAY_9AM
    assert (demand.contact.name, demand.contact.phone) == ("张三", "13900001111")
    assert Event.objects.filter(kind="demands.place_submission", subject_id=str(submission.pk),
                                actor=dw.dispatcher).get().data["grid"] == dw.world.grid_a2.pk
    assert status(client, token) == (200, [{"service_request_id": demand.number, "token": token}])
    # Placed once: a second placement finds nothing to place.
    with pytest.raises(NotFound):
        services.place_submission(dw.dispatcher, placed, dw.world.grid_a1.pk)


def test_a_grid_outside_the_desks_scope_is_not_found_and_nothing_changes(client, dw, key):
    from gongzhi.org.tests.factories import region, square

    token = token_of(client, key)
    submission = Submission.objects.get(key=token)
    other_street = region("street", dw.world.district, name="和顺街道", admin_code="110199002000")
    elsewhere = region("grid", region("community", other_street, name="和顺社区", admin_code="110199002001"),
                       name="和顺一网格", grid_code="C1", polygon=square(116.20, 39.90))
    street_desk = dw.dispatcher  # staff of 和平街道办事处: dispatches for the whole street
    events = Event.objects.count()
    with pytest.raises(NotFound):
        services.place_submission(street_desk, submission, elsewhere.pk)  # another street's grid
    with pytest.raises(NotFound):
        services.place_submission(street_desk, submission, dw.world.community_b.pk)  # not a grid
    submission.refresh_from_db()
    assert submission.grid is None and submission.state == Submission.State.PENDING
    assert Event.objects.count() == events and not Demand.objects.exists()
    # Its own street's grid is fine.
    assert services.place_submission(street_desk, submission, dw.world.grid_b1.pk).demand.grid == dw.world.grid_b1


def test_a_community_desk_neither_sees_nor_handles_the_districts_unplaced_requests(client, dw, key):
    """An unplaced request belongs to no community yet: only the street's intake desk takes it (review)."""
    submission = Submission.objects.get(key=token_of(client, key))
    community_b_desk = dw.world.secretary_b  # director of 西园社区居委会: a desk for community B only
    assert not queries.awaiting_placement(community_b_desk).exists()
    assert queries.awaiting_placement(dw.dispatcher).filter(pk=submission.pk).exists()
    with pytest.raises(PermissionDenied):
        services.place_submission(community_b_desk, submission, dw.world.grid_b1.pk)
    with pytest.raises(PermissionDenied):
        services.refuse_submission(community_b_desk, submission, reason="不是本社区的事")
    submission.refresh_from_db()
    assert submission.grid is None and submission.state == Submission.State.PENDING


def test_a_resident_or_a_handler_may_neither_place_nor_refuse(client, dw, key):
    submission = Submission.objects.get(key=token_of(client, key))
    for who in (dw.resident, dw.handler):
        with pytest.raises(PermissionDenied):
            services.place_submission(who, submission, dw.world.grid_a1.pk)
        with pytest.raises(PermissionDenied):
            services.refuse_submission(who, submission, reason="不是本区地址")
    assert Submission.objects.get(pk=submission.pk).state == Submission.State.PENDING


def test_a_desk_refuses_it_with_a_reason_the_token_answers(client, dw, key):
    token = token_of(client, key)
    submission = Submission.objects.get(key=token)
    refused = services.refuse_submission(dw.dispatcher, submission, reason="本区无此道路，请提供经纬度")
    assert refused.state == Submission.State.REFUSED and refused.grid is None
    code, body = status(client, token)
    assert code == 400 and body[0]["description"] == "refused_by_desk: 本区无此道路，请提供经纬度"
    assert Event.objects.filter(kind="demands.refuse_submission", actor=dw.dispatcher).get().private["reason"]


# --- the page -----------------------------------------------------------------------------------------------

def test_the_desk_sees_the_queue_linked_from_its_triage_page_and_places_one_from_the_page(client, dw, key):
    from django.test import Client

    desk = Client()
    desk.force_login(dw.dispatcher)
    assert b"awaiting-placement" not in desk.get("/demands/triage/").content  # nothing to place yet
    token = token_of(client, key)
    triage = desk.get("/demands/triage/").content.decode()
    assert 'id="awaiting-placement"' in triage and "/demands/placement/" in triage
    page = desk.get("/demands/placement/")
    html = page.content.decode()
    assert page.status_code == 200 and UNKNOWN in html and "路口垃圾桶满了没人清" in html
    assert f'value="{dw.world.grid_b1.pk}"' in html and "13900001111" not in html  # no contact on the desk page

    # Out of scope for this desk? The street desk covers every grid of its street; a bogus grid is 404.
    missing = desk.post(f"/demands/placement/{token}/place/", {"grid": "999999"})
    assert missing.status_code == 404 and not Demand.objects.exists()
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(hours=1)):
        done = desk.post(f"/demands/placement/{token}/place/", {"grid": dw.world.grid_b1.pk})
    assert done.status_code == 302 and done["Location"] == "/demands/placement/"
    demand = Demand.objects.get()
    assert demand.grid == dw.world.grid_b1
    assert demand.number in desk.get("/demands/placement/").content.decode()  # the notice links it
    assert b"awaiting-placement" not in desk.get("/demands/triage/").content


def test_a_resident_and_a_handler_see_no_queue_and_cannot_post_to_it(client, dw, key):
    from django.test import Client

    token = token_of(client, key)
    for who in (dw.resident, dw.handler, dw.grid_worker):
        other = Client()
        other.force_login(who)
        assert other.get("/demands/placement/").status_code == 403
        assert other.post(f"/demands/placement/{token}/place/", {"grid": dw.world.grid_a1.pk}).status_code == 404
        assert other.post(f"/demands/placement/{token}/refuse/", {"reason": "x"}).status_code == 404
    assert Submission.objects.get(key=token).state == Submission.State.PENDING


def test_refusing_from_the_page_needs_a_reason(client, dw, key):
    from django.test import Client

    token = token_of(client, key)
    desk = Client()
    desk.force_login(dw.dispatcher)
    assert desk.post(f"/demands/placement/{token}/refuse/", {"reason": " "}).status_code == 400
    assert Submission.objects.get(key=token).state == Submission.State.PENDING
    assert desk.post(f"/demands/placement/{token}/refuse/", {"reason": "重复提交"}).status_code == 302
    assert Submission.objects.get(key=token).error_message == "重复提交"
