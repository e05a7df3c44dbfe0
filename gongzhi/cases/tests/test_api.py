"""The case file's JSON API: a case shows its whole chain to the public without a demand number; each
resident who raised it answers once through the API; the unit reports progress with photos only on its own
case's milestones; every step's receipt verifies against the current checkpoint. duties' API starts a
decision's project (with the decision, or after it) and records its outcome."""

import datetime as dt
import io
import json

import pytest
from PIL import Image

from gongzhi.cases.models import Case, ProgressPhoto
from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.duties.models import Project, Task

pytestmark = pytest.mark.django_db

BASE = "/api/v1/"


@pytest.fixture
def api(client):
    def make(user=None):
        headers = {}
        if user is not None:
            headers["Authorization"] = f"Bearer {ApiToken.issue(user)[1]}"

        def call(method, url, body=None, **kwargs):
            if method == "post" and "data" not in kwargs:
                kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"}
            return getattr(client, method)(BASE + url, headers=headers, **kwargs)

        return call

    return make


def _jpeg(colour=(200, 90, 40)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    out.seek(0)
    out.name = "work.jpg"
    return out


@pytest.fixture
def decided(loop, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        loop.complain()
        loop.open_topic()
        later = loop.decide()
    return loop, later


def test_the_public_sees_the_chain_with_counts_only_and_a_reporter_sees_their_own_number(decided, api):
    loop, _ = decided
    case = loop.case
    public = api()("get", f"cases/{case.pk}")
    assert public.status_code == 200, public.content
    body = public.json()
    assert body["demands"] == {"count": 4, "numbers": []}
    assert body["issue"]["id"] == case.issue_id and body["topic"]["id"] == case.topic_id
    assert body["status"] == "in_progress" and body["decision"]["item_code"] == "procurement"
    assert body["decision"]["verdict"]["is_accepted"] is True
    assert len(body["meetings"]) == 4 and all(m["is_quorate"] for m in body["meetings"])
    assert all(m["is_passed"] and m["ballots_url"].endswith(f"/motions/{m['id']}/ballots") for m in body["motions"])
    assert body["motions"][-1]["amount"] == "300000.00"
    assert body["project"]["unit"] == "桃源村供水站" and body["project"]["budget"] == "300000.00"
    assert [m["title"] for m in body["project"]["milestones"]] == ["采购管材", "更换管道并恢复路面"]
    assert body["disclosures"] and body["may_answer"] is False
    reporter = api(loop.reporters[0])("get", f"cases/{case.pk}").json()
    own = case.demands.get(reporter_user=loop.reporters[0])
    assert reporter["demands"] == {"count": 4, "numbers": [own.number]}
    listed = api()("get", "cases/").json()
    assert [row["id"] for row in listed["items"]] == [case.pk] and listed["items"][0]["demand_count"] == 4


def test_a_hidden_topics_case_is_not_found_for_the_public_but_shown_to_its_officers(decided, api):
    loop, _ = decided
    Case.objects.filter(pk=loop.case.pk)  # the topic hidden after reports
    loop.topic.__class__.objects.filter(pk=loop.topic.pk).update(hidden_at=clock.now())
    assert api()("get", f"cases/{loop.case.pk}").json()["code"] == "not_found"
    assert api()("get", "cases/").json()["items"] == []
    assert api(loop.v.officer)("get", f"cases/{loop.case.pk}").status_code == 200


def test_the_unit_reports_progress_with_photos_only_on_its_own_cases_milestones(decided, api):
    loop, later = decided
    case, staff = loop.case, loop.staff()
    task = loop.project.tasks.order_by("deadline").first()
    url = f"cases/{case.pk}/milestones/{task.pk}/progress"
    with clock.frozen_at(later + dt.timedelta(days=2)):
        refused = api(loop.reporters[0])("post", url, data={"note": "我来报", "photos": [_jpeg()]})
        assert refused.status_code == 403 and not ProgressPhoto.objects.exists()
        other = Task.objects.exclude(project=loop.project).first()
        if other is not None:
            assert api(staff)("post", f"cases/{case.pk}/milestones/{other.pk}/progress",
                              data={"note": "x"}).status_code == 404
        assert api(staff)("post", f"cases/{case.pk}/milestones/9223372036854775807/progress",
                          data={"note": "x"}).json()["code"] == "not_found"
        done = api(staff)("post", url, data={"note": "管材已到货", "done": "true", "photos": [_jpeg(), _jpeg((0, 90, 200))]})
    assert done.status_code == 201, done.content
    assert len(done.json()["photos"]) == 2 and Task.objects.get(pk=task.pk).completed_at is not None
    photo = done.json()["photos"][0]
    image = api()("get", photo["url"].removeprefix(BASE))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(image.streaming_content))).size == (640, 480)
    with clock.frozen_at(later + dt.timedelta(days=3)):
        shown = api()("get", f"cases/{case.pk}").json()
    assert len(shown["photos"]) == 2 and shown["project"]["milestones"][0]["completed_at"] is not None
    assert shown["project"]["milestones"][0]["reports"][0]["note"] == "管材已到货"


def test_each_resident_who_raised_it_answers_once_and_the_tally_moves(decided, api):
    loop, later = decided
    staff = loop.staff()
    with clock.frozen_at(later + dt.timedelta(days=5)):
        early = api(loop.reporters[0])("post", f"cases/{loop.case.pk}/verdict",
                                       {"solved": True, "satisfaction": "satisfied"})
        assert early.status_code == 409 and early.json()["code"] == "not_asking"
        for task in loop.project.tasks.order_by("deadline"):
            assert api(staff)("post", f"cases/{loop.case.pk}/milestones/{task.pk}/progress",
                              data={"note": "完成", "done": "true"}).status_code == 201
        outcome = api(loop.v.officer)("post", f"duties/projects/{loop.project.pk}/outcome", {"outcome": "管道已更换"})
    assert outcome.status_code == 200, outcome.content
    with clock.frozen_at(later + dt.timedelta(days=7)):
        assert api(loop.reporters[0])("get", f"cases/{loop.case.pk}").json()["may_answer"] is True
        first = api(loop.reporters[0])("post", f"cases/{loop.case.pk}/verdict",
                                       {"solved": True, "satisfaction": "satisfied", "comment": "修好了"})
        assert first.status_code == 201, first.content
        assert first.json()["tally"]["answers"] == 1 and first.json()["case_status"] == "asking"
        again = api(loop.reporters[0])("post", f"cases/{loop.case.pk}/verdict",
                                       {"solved": True, "satisfaction": "satisfied"})
        assert again.status_code == 409 and again.json()["code"] == "already_answered"
        stranger = api(loop.v.adults[10].user)("post", f"cases/{loop.case.pk}/verdict",
                                               {"solved": False, "satisfaction": "not_satisfied"})
        assert stranger.status_code == 403 and stranger.json()["code"] == "not_a_follower"
        bad = api(loop.reporters[1])("post", f"cases/{loop.case.pk}/verdict", {"solved": True, "satisfaction": "meh"})
        assert bad.status_code == 400
        assert api()("post", f"cases/{loop.case.pk}/verdict",
                     {"solved": True, "satisfaction": "satisfied"}).status_code == 401
    with clock.frozen_at(later + dt.timedelta(days=8)):
        tally = api()("get", f"cases/{loop.case.pk}").json()["verdicts"]
    assert tally == [{"round": 1, "answers": 1, "solved": 1, "not_solved": 0, "satisfied": 1, "solved_share": 100.0,
                      "satisfied_share": 100.0}]


def test_every_steps_receipt_verifies_against_the_current_checkpoint(decided, api):
    loop, _ = decided
    receipts = api()("get", f"cases/{loop.case.pk}/receipts").json()
    kinds = {r["kind"] for r in receipts}
    assert {"cases.open", "deliberation.propose_topic", "deliberation.close_motion", "duties.record_decision",
            "duties.start_project", "duties.add_task"} <= kinds
    assert not any(k.startswith("demands.") for k in kinds)  # the public sees no demand's steps
    assert all(r["receipt"] and r["receipt"]["index"] >= 0 for r in receipts)
    checked = api()("get", f"cases/{loop.case.pk}/verify").json()
    assert checked["failed"] == 0 and checked["pending"] == 0 and checked["ok"] == len(receipts) > 10
    reporter = api(loop.reporters[0])("get", f"cases/{loop.case.pk}/receipts").json()
    assert len(reporter) > len(receipts)  # the steps of the reporter's own demand
    assert {r["kind"] for r in reporter} - kinds == {"demands.file"} or any(
        k.startswith("demands.") for k in {r["kind"] for r in reporter})


def test_a_recorded_decision_starts_its_project_through_the_api_once(loop, api, django_capture_on_commit_callbacks):
    from gongzhi.duties import services as duties
    from gongzhi.duties.models import PowerItem

    v = loop.v
    duties.adopt_power_list(v.officer, v.village)
    item = PowerItem.objects.get(region=v.village, code="procurement")
    recorded = api(v.officer)("post", f"duties/power-items/{item.pk}/decisions", {
        "title": "购买灭火器", "amount": "800", "signatories": ["handler", "party_secretary", "committee_director"]})
    assert recorded.status_code == 201 and recorded.json()["project"] is None
    decision_id = recorded.json()["id"]
    plan = {"unit_id": loop.company.pk, "budget": "900",
            "milestones": [{"title": "采购", "deadline": (clock.today() + dt.timedelta(days=7)).isoformat()}]}
    over = api(v.officer)("post", f"duties/decisions/{decision_id}/project", plan)
    assert over.status_code == 400 and over.json()["code"] == "over_budget"
    assert api(v.officer)("post", f"duties/decisions/{decision_id}/project",
                          {**plan, "unit_id": 9223372036854775807}).json()["code"] == "unknown_organisation"
    assert api(v.adults[8].user)("post", f"duties/decisions/{decision_id}/project",
                                 {**plan, "budget": "800"}).status_code == 403
    started = api(v.officer)("post", f"duties/decisions/{decision_id}/project", {**plan, "budget": "800"})
    assert started.status_code == 201, started.content
    project = Project.objects.get(pk=started.json()["id"])
    assert project.unit == loop.company and project.tasks.count() == 1 and project.goal is not None
    again = api(v.officer)("post", f"duties/decisions/{decision_id}/project", {**plan, "budget": "800"})
    assert again.status_code == 409 and again.json()["code"] == "project_exists"
    open_ = api(v.officer)("post", f"duties/projects/{project.pk}/outcome", {"outcome": "已购"})
    assert open_.status_code == 409 and open_.json()["code"] == "milestones_open"


def test_an_officer_checks_a_milestone_over_the_api_and_the_unit_may_not(loop, client):
    from gongzhi.cases import services as case_services

    loop.complain()
    loop.open_topic()
    later = loop.decide()
    first = loop.project.tasks.order_by("deadline").first()
    url = f"/api/v1/cases/{loop.case.pk}/milestones/{first.pk}/check"
    with clock.frozen_at(later + dt.timedelta(days=2)):
        case_services.report_progress(loop.staff(), loop.case, first, note="管材到货", done=True)
        client.force_login(loop.staff())
        assert client.post(url, {"quality_met": True, "note": "自己验收"}, content_type="application/json").status_code == 403
        client.force_login(loop.v.officer)
        assert client.post(url, {"quality_met": True, "note": " "}, content_type="application/json").status_code in (400, 422)
        done = client.post(url, {"quality_met": True, "note": "合格"}, content_type="application/json")
        assert done.status_code == 200 and done.json()["quality_met"] is True and done.json()["task_status"] == "achieved"
        again = client.post(url, {"quality_met": True, "note": "再验"}, content_type="application/json")
        assert again.status_code == 409 and again.json()["code"] == "already_checked"
