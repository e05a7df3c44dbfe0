"""The fast intake path: a submission is accepted durably (with its event in the ledger's outbox) or
refused at once with its reason; the intake worker files it as a demand received at the submission's
time, refuses it with a reason when it can no longer be filed, and retries unexpected failures. The
WSGI fast path serves only what it can complete and hands everything else to Django unchanged."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from gongzhi.core import clock
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import ApiToken, Event
from gongzhi.demands import fastpath, services
from gongzhi.demands.models import Category, Demand, DemandContact, RoutingRule, Submission
from gongzhi.ledger import services as ledger
from gongzhi.ledger.models import Pending

from .factories import IN_A1, NOWHERE, THURSDAY_9AM, DjangoApp

pytestmark = pytest.mark.django_db
SUBMISSIONS = "/api/v1/demands/submissions"


def submit(dw, **overrides):
    fields = {"text": "小区门口垃圾堆了三天没人清运", "longitude": IN_A1[0], "latitude": IN_A1[1],
              "contact_name": "张三", "contact_phone": "13900001111", **overrides}
    with clock.frozen_at(THURSDAY_9AM):
        return services.submit_demand(dw.resident, **fields)


def stored_counts():
    return (Submission.objects.count(), Demand.objects.count(),
            Event.objects.filter(kind__startswith="demands.").count())


def test_a_submission_is_stored_with_its_event_in_the_outbox_and_no_demand_yet(dw):
    submission = submit(dw, category="environment.garbage")
    submission.refresh_from_db()
    assert submission.state == Submission.State.PENDING
    assert submission.grid_id == dw.world.grid_a1.pk
    assert submission.received_at == THURSDAY_9AM
    assert not Demand.objects.exists()
    event = services.submission_event(submission)
    assert event.data["grid"] == dw.world.grid_a1.pk and event.data["category"] == "environment.garbage"
    # The description and the contact are personal: the ledger gets commitments only.
    assert "text" not in event.data and event.private["contact_phone"] == "13900001111"
    assert Pending.objects.filter(event=event).exists()


@pytest.mark.parametrize("overrides, code", [
    ({"category": "no.such.category"}, "unknown_category"),
    ({"longitude": NOWHERE[0], "latitude": NOWHERE[1]}, "outside_grids"),
    ({"longitude": None, "latitude": None}, "location_required"),
    ({"latitude": None}, "location_incomplete"),
    ({"text": "   "}, "text_required"),
    ({"channel": "patrol"}, "unknown_channel"),
    ({"urgency": "whenever"}, "unknown_urgency"),
])
def test_bad_input_is_refused_at_once_and_nothing_is_stored(dw, overrides, code):
    before = stored_counts()
    with pytest.raises(ValidationFailed) as refused:
        submit(dw, **overrides)
    assert refused.value.code == code
    assert stored_counts() == before


def test_the_worker_files_it_as_a_demand_received_when_it_was_submitted(dw):
    RoutingRule.objects.create(category=Category.objects.get(code="environment.garbage"), region=dw.world.street,
                               unit=dw.city_management)
    submission = submit(dw, category="environment.garbage")
    with clock.frozen_at(THURSDAY_9AM + dt.timedelta(minutes=3)):
        report = services.file_submissions()
    assert report.as_dict() == {"filed": 1, "refused": 0, "failed": 0}
    submission.refresh_from_db()
    demand = submission.demand
    assert submission.state == Submission.State.FILED and submission.payload == {}
    # Deadlines count from the resident's submission, not from when the worker got to it.
    assert demand.received_at == THURSDAY_9AM
    assert demand.number.startswith("20261126")
    assert demand.state == "dispatched" and demand.lead_unit == dw.city_management
    assert DemandContact.objects.get(demand=demand).phone == "13900001111"
    assert demand.reporter_user == dw.resident
    # Filing again finds nothing left to do.
    assert services.file_submissions().as_dict() == {"filed": 0, "refused": 0, "failed": 0}


def test_a_point_no_longer_in_any_grid_when_filed_is_refused_with_the_reason(dw):
    submission = submit(dw)
    grid = dw.world.grid_a1
    grid.polygon = {"type": "Polygon", "coordinates": [[[118, 41], [118.01, 41], [118.01, 41.01], [118, 41]]]}
    grid.save()
    report = services.file_submissions()
    assert report.refused == 1 and not Demand.objects.exists()
    submission.refresh_from_db()
    assert submission.state == Submission.State.REFUSED and submission.error_code == "outside_grids"
    assert Event.objects.filter(kind="demands.refuse_submission", subject_id=str(submission.pk)).exists()


def test_a_category_retired_meanwhile_leaves_the_demand_for_the_desk_to_triage(dw):
    submission = submit(dw, category="environment.garbage")
    Category.objects.filter(code="environment.garbage").update(is_active=False)
    services.file_submissions()
    submission.refresh_from_db()
    assert submission.state == Submission.State.FILED
    assert submission.demand.category is None and submission.demand.state == "received"


def test_an_unexpected_failure_keeps_it_pending_then_refuses_it_after_the_last_attempt(dw, monkeypatch):
    submission = submit(dw)
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "file_demand", broken)
    report = services.file_submissions()
    assert report.failed == 1 and len(calls) == 1  # tried once per pass, not again and again in the pass
    submission.refresh_from_db()
    assert submission.state == Submission.State.PENDING and submission.attempts == 1
    assert "disk on fire" in submission.error_message
    for _ in range(services.MAX_FILING_ATTEMPTS - 1):
        services.file_submissions()
    submission.refresh_from_db()
    assert submission.state == Submission.State.REFUSED and submission.error_code == "filing_failed"


def test_one_bad_submission_does_not_hold_up_the_others(dw, monkeypatch):
    first, second = submit(dw, text="第一件"), submit(dw, text="第二件")
    real = services.file_demand

    def fails_on_first(user, **kwargs):
        if kwargs["text"] == "第一件":
            raise RuntimeError("boom")
        return real(user, **kwargs)

    monkeypatch.setattr(services, "file_demand", fails_on_first)
    report = services.file_submissions()
    assert report.as_dict() == {"filed": 1, "refused": 0, "failed": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "pending" and second.state == "filed"


def test_the_work_command_files_everything_pending(dw):
    for i in range(3):
        submit(dw, text=f"路灯坏了{i}")
    out = io.StringIO()
    call_command("demands", "work", "--batch", "2", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"filed": 3, "refused": 0, "failed": 0}
    assert Demand.objects.count() == 3
    assert len(set(Demand.objects.values_list("number", flat=True))) == 3


# --- over the API ----------------------------------------------------------------------------------------

@pytest.fixture
def bearer(dw):
    _, raw = ApiToken.issue(dw.resident)
    return {"Authorization": f"Bearer {raw}"}


def body(**overrides):
    return json.dumps({"text": "楼道灯坏了", "longitude": IN_A1[0], "latitude": IN_A1[1], **overrides})


def test_the_api_answers_202_then_the_status_shows_the_number_once_filed(client, dw, bearer):
    response = client.post(SUBMISSIONS, body(), content_type="application/json", headers=bearer)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["state"] == "pending" and answer["number"] is None
    ledger.sequence_pending()  # what the sequencer does after the commit (tests run inside one transaction)
    status = client.get(answer["status_url"], headers=bearer).json()
    assert status["state"] == "pending" and status["receipt"]["index"] >= 0  # its receipt: proof it was received
    services.file_submissions()
    status = client.get(answer["status_url"], headers=bearer).json()
    assert status["state"] == "filed"
    assert status["number"] == Demand.objects.get().number


def test_someone_elses_submission_is_404(client, dw, bearer):
    key = client.post(SUBMISSIONS, body(), content_type="application/json", headers=bearer).json()["key"]
    _, other = ApiToken.issue(dw.other_resident)
    response = client.get(f"{SUBMISSIONS}/{key}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404


def test_bad_input_over_the_api_is_400_with_its_code_and_nothing_is_stored(client, dw, bearer):
    response = client.post(SUBMISSIONS, body(longitude=NOWHERE[0], latitude=NOWHERE[1]),
                           content_type="application/json", headers=bearer)
    assert response.status_code == 400 and response.json()["code"] == "outside_grids"
    assert not Submission.objects.exists()


# --- the WSGI fast path ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def connection_kept(keep_the_test_connection):
    """The fast path sends the request signals, as Django's handler does (conftest's fixture)."""


def call(app, payload: bytes, **environ):
    started = {}
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": SUBMISSIONS, "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(payload)), "wsgi.input": io.BytesIO(payload), "HTTP_HOST": "testserver",
           **environ}
    out = b"".join(app(env, lambda status, headers: started.update(status=status, headers=dict(headers))))
    return started["status"], started["headers"], out


def test_the_fast_path_stores_and_answers_without_django(dw, bearer):
    django = DjangoApp()
    status, headers, out = call(fastpath.wrap(django), body().encode(), HTTP_AUTHORIZATION=bearer["Authorization"])
    assert status == "202 Accepted" and django.calls == []
    assert headers["X-Content-Type-Options"] == "nosniff"
    answer = json.loads(out)
    assert Submission.objects.get().key == answer["key"]
    assert answer["status_url"].endswith(answer["key"])
    # The same body, field for field and format for format, as the ninja endpoint's SubmissionOut.
    from ninja.responses import NinjaJSONEncoder

    from gongzhi.demands.schemas import SubmissionOut
    as_ninja = json.dumps(SubmissionOut.model_validate(answer).model_dump(), cls=NinjaJSONEncoder)
    assert answer == json.loads(as_ninja)
    assert set(answer) == set(SubmissionOut.model_fields)


@pytest.mark.parametrize("payload, environ", [
    (body(longitude=NOWHERE[0], latitude=NOWHERE[1]), {}),  # a domain error: Django words the 400
    ('{"text": ', {}),                                        # broken JSON: Django words the 422
    (body(), {"HTTP_AUTHORIZATION": "Bearer gz_not_a_token"}),  # unknown token: Django's 401
    (body(), {"HTTP_AUTHORIZATION": None}),                   # a session cookie, maybe: Django decides
    (body(), {"HTTP_HOST": "evil.example"}),                  # a host not allowed: Django's 400
])
def test_anything_the_fast_path_cannot_complete_goes_to_django_untouched(dw, bearer, payload, environ):
    django = DjangoApp()
    environ = {"HTTP_AUTHORIZATION": bearer["Authorization"], **environ}
    environ = {k: v for k, v in environ.items() if v is not None}
    status, _, out = call(fastpath.wrap(django), payload.encode(), **environ)
    assert out == b"django" and django.calls == [payload.encode()]
    assert not Submission.objects.exists()


def test_configuration_read_once_per_pass_is_read_again_in_the_next(dw):
    submit(dw, category="environment.garbage")
    services.file_submissions()
    assert Demand.objects.get().state == "received"  # no routing rule yet: it waits at the desk
    RoutingRule.objects.create(category=Category.objects.get(code="environment.garbage"), region=dw.world.street,
                               unit=dw.city_management)
    submit(dw, category="environment.garbage", text="又堆了")
    services.file_submissions()
    assert Demand.objects.get(text="又堆了").lead_unit == dw.city_management
    assert services._pass_memo.get() is None  # outside a pass nothing is remembered
