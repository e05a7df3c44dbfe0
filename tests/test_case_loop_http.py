"""The whole loop, one case, end to end over real HTTP against a running server, with every role acting for
itself: three villagers with accounts report a burst water main through the API and a fourth reports it as a
guest through the public form; the worker's periodic job profiles them into one issue; the village secretary
puts the issue to deliberation from the insight page (the case opens); a neighbour adds "me too"; the two
committees meet, sign in, vote on the amount; the secretary records the decision under the power list with
its project plan (disclosed at once); the water station reports progress on each milestone with a photo; the
secretary records the project done; the residents answer, the guest through the tracking-code page.

At every step the test reads the case through the API (its links both ways), each complainant's messages
(their notifications: the "case" notices, their text and link), the indicators that moved (the goal's value
and status, duties.indicators "cases.solved_share" for the unit and the village), and at the end checks every
receipt against the current signed checkpoint. A second run ends with most residents saying "not solved":
the project is reopened for review and the unit is told."""

import datetime as dt
import io
import re

import pytest
import requests
from PIL import Image

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.models import Demand
from gongzhi.duties import indicators
from gongzhi.duties import services as duties
from gongzhi.duties.models import PowerItem
from gongzhi.insight import services as insight
from gongzhi.insight.models import Issue
from gongzhi.org.models import Organisation
from gongzhi.org.tests import factories as f

PASSWORD = "pw-test-123"
AT_THE_MAIN = {"longitude": 116.105, "latitude": 39.905}
TEXTS = ("村西片自来水管破裂漏水，路面积水结冰，请尽快维修",
         "村西片自来水管破裂漏水，路面结冰了，请维修",
         "村西片自来水管破裂，一直漏水，路面积水结冰",
         "村西片自来水管破裂漏水好几天了，路面积水结冰")
AMOUNT = "300000"  # 5 万元以上: a major matter (三重一大), 四议两公开 with the villagers' representatives deciding


@pytest.fixture
def village(live_world, settings, tmp_path):
    settings.GONGZHI_LEDGER_KEY = tmp_path / "ledger" / "signing.key"
    settings.GONGZHI_LEDGER_PSEUDONYM_KEY = tmp_path / "ledger" / "pseudonym.key"
    settings.GONGZHI_LEDGER_ORIGIN = "test.gongzhi.local/ledger"
    settings.MEDIA_ROOT = tmp_path / "media"
    with clock.frozen_at(MONDAY_9AM):
        v = Village(live_world)
        v.station = Organisation.objects.create(name="桃源村供水站", kind="property", region=v.village)
        v.waterman = f.official(v.station, "staff", "waterman")
        v.grid_worker = f.official(v.committee, "grid_worker", "gw_t1", grid=v.grid)
        for kind in ("party_branch_committee", "two_committees_joint_meeting", "party_members_meeting",
                     "villagers_representatives_meeting"):
            v.body(kind)
        duties.adopt_power_list(v.officer, v.village)
    return v


class Api:
    """One person's API client: a bearer token, JSON in and out."""

    def __init__(self, base: str, user=None):
        self.base = base + "/api/v1/"
        self.headers = {"Accept": "application/json"}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {ApiToken.issue(user)[1]}"

    def __call__(self, method: str, path: str, body=None, **kwargs):
        response = requests.request(method, self.base + path, json=body, headers=self.headers, timeout=60, **kwargs)
        return response.status_code, response.json()

    def get(self, path: str):
        status, body = self("GET", path)
        assert status == 200, (path, body)
        return body

    def post(self, path: str, body=None, status: int = 201, **kwargs):
        got, answer = self("POST", path, body, **kwargs)
        assert got == status, (path, got, answer)
        return answer


class Browser:
    """A person at a browser: a session with its CSRF cookie, for the pages."""

    def __init__(self, base: str):
        self.base, self.session = base, requests.Session()

    def _csrf(self, path: str) -> str:
        self.session.get(self.base + path, timeout=60)
        return self.session.cookies.get("csrftoken", "")

    def sign_in(self, username: str) -> "Browser":
        token = self._csrf("/accounts/login/")
        answer = self.session.post(self.base + "/accounts/login/", timeout=60, data={
            "username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
        assert "sessionid" in self.session.cookies, answer.status_code
        return self

    def post(self, path: str, data: dict, *, form_page: str | None = None) -> requests.Response:
        token = self._csrf(form_page or path) if form_page or "csrftoken" not in self.session.cookies \
            else self.session.cookies["csrftoken"]
        return self.session.post(self.base + path, data={**data, "csrfmiddlewaretoken": token}, timeout=60,
                                 headers={"X-CSRFToken": token, "Referer": self.base + (form_page or path)})

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=60)


def _jpeg(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def _hold(base, v, officer: Api, public: Api, kind: str, stage: str, topic_id: int, moment, *, amount=None):
    """One meeting stage of the topic's procedure over the API, decided by a yes from everyone on the roll.
    Returns (meeting, motion, members, when the next step may come)."""
    from gongzhi.deliberation.models import Meeting

    starts = moment + dt.timedelta(days=deliberation.NOTICE_DAYS.get(kind, deliberation.DEFAULT_NOTICE_DAYS),
                                   hours=1)
    with clock.frozen_at(moment):
        meeting = officer.post("deliberation/meetings", {
            "body_id": v.bodies[kind].pk, "title": f"{v.bodies[kind].name}：村西片供水管道", "agenda": "审议维修方案和费用",
            "starts_at": starts.isoformat(), "topic_id": topic_id})
    with clock.frozen_at(starts):
        officer.post(f"deliberation/meetings/{meeting['id']}/open", status=200)
    members = [e.person.user for e in Meeting.objects.get(pk=meeting["id"]).roll.select_related("person__user")]
    with clock.frozen_at(starts + dt.timedelta(minutes=5)):
        for user in members:
            Api(base, user).post(f"deliberation/meetings/{meeting['id']}/sign-in", status=200)
        assert public.get(f"deliberation/meetings/{meeting['id']}/quorum")["met"]
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = officer.post(f"deliberation/meetings/{meeting['id']}/motions", {
            "text": "同意更换村西片破损供水管道并恢复路面，费用30万元", "topic_id": topic_id, "stage_code": stage,
            **({"amount": amount} if amount else {})})
        for user in members:
            Api(base, user).post(f"deliberation/motions/{motion['id']}/ballots", {"choice": "yes"})
        counted = officer.post(f"deliberation/motions/{motion['id']}/close", status=200)
        assert counted["is_passed"] is True
        officer.post(f"deliberation/meetings/{meeting['id']}/close", {"minutes": "到会成员一致同意"}, status=200)
        officer.post(f"deliberation/topics/{topic_id}/stages", {"stage": stage, "meeting_id": meeting["id"],
                                                                 "motion_id": motion["id"]})
    return meeting, motion, members, starts + dt.timedelta(hours=1)


def _case_notices(api: Api) -> list[dict]:
    return [n for n in api.get("notifications/?limit=100")["items"] if n["kind"] == "case"][::-1]


def _solved_share(v, start: dt.date, end: dt.date) -> tuple[float | None, float | None]:
    measure = indicators.get("cases.solved_share")
    return measure.for_unit(v.station, start, end), measure.for_region(v.village, start, end)


def run_the_loop(live_server, v, *, solved: dict[str, bool]):
    """Build a case from the first complaint to the residents' verdict; `solved` says who answers what
    ("r0", "r1", "r2": the villagers who reported; "guest"; "neighbour": who said "me too")."""
    base = live_server.url
    reporters = [v.adults[i].user for i in (5, 7, 9)]
    neighbour_user = v.adults[11].user
    residents = [Api(base, u) for u in reporters]
    neighbour = Api(base, neighbour_user)
    public, officer, waterman, grid_worker = Api(base), Api(base, v.officer), Api(base, v.waterman), \
        Api(base, v.grid_worker)
    start = MONDAY_9AM.date() - dt.timedelta(days=30)

    # 1. The complaints: three through the API, one from a guest through the public form (no account).
    numbers = []
    for i, (api, text) in enumerate(zip(residents, TEXTS)):
        with clock.frozen_at(MONDAY_9AM - dt.timedelta(days=10 - i, hours=-i)):
            numbers.append(api.post("demands/", {"text": text, **AT_THE_MAIN})["demand"]["number"])
    guest = Browser(base)
    with clock.frozen_at(MONDAY_9AM - dt.timedelta(days=7)):
        filed = guest.post("/demands/report/", {"text": TEXTS[3], "longitude": AT_THE_MAIN["longitude"],
                                                "latitude": AT_THE_MAIN["latitude"]}, form_page="/demands/report/")
    assert filed.status_code == 200, filed.status_code
    guest_number = re.search(r'id="guest-number">([^<]+)<', filed.text).group(1).strip()
    guest_code = re.search(r'id="guest-code">([^<]+)<', filed.text).group(1).strip()
    assert Demand.objects.get(number=guest_number).reporter_user_id is None

    # 2. The worker's periodic job profiles new demands: one issue of four, an agenda suggestion.
    from gongzhi.insight.models import DemandProfile
    with clock.frozen_at(MONDAY_9AM):
        insight.profile_new_demands()
        insight.refresh_heat()
    issue = Issue.objects.get(community=v.village, merged_into__isnull=True)
    assert issue.volume == 4 and issue.reporters == 3  # distinct accounts; the guest has none
    assert not public.get("cases/")["items"]

    # 3. The secretary puts the issue to deliberation from the insight page: the case opens, linked.
    secretary = Browser(base).sign_in(v.officer.username)
    with clock.frozen_at(MONDAY_9AM + dt.timedelta(hours=1)):
        opened = secretary.post(f"/insight/issues/{issue.pk}/topic", {}, form_page="/insight/")
    assert opened.status_code == 200, opened.status_code
    [row] = public.get("cases/")["items"]
    case_id = row["id"]
    case = public.get(f"cases/{case_id}")
    assert case["status"] == "deliberating" and case["issue"]["id"] == issue.pk
    assert case["demands"] == {"count": 4, "numbers": []}  # the public: only how many
    assert residents[0].get(f"cases/{case_id}")["demands"]["numbers"] == [numbers[0]]  # a reporter: their own
    assert grid_worker.get(f"cases/{case_id}")["demands"]["numbers"] == sorted(numbers + [guest_number])
    topic = public.get(f"deliberation/topics/{case['topic']['id']}")
    assert topic["id"] == case["topic"]["id"]
    for api in residents:
        notices = _case_notices(api)
        assert len(notices) == 1 and notices[0]["link"] == f"/cases/{case_id}/"
        assert "now a topic for residents' deliberation" in notices[0]["text"] or "协商" in notices[0]["text"]
    tracked = Browser(base)
    assert tracked.post("/demands/track/", {"number": guest_number, "code": guest_code},
                        form_page="/demands/track/").status_code == 200
    assert f'/cases/{case_id}/' in tracked.get(f"/demands/track/{guest_number}/").text

    # 4. A neighbour with the same trouble adds "me too" to the first report: they follow the case now.
    with clock.frozen_at(MONDAY_9AM + dt.timedelta(hours=2)):
        said = Browser(base).sign_in(neighbour_user.username).post(f"/demands/nearby/{numbers[0]}/me-too/", {},
                                                                    form_page="/demands/nearby/")
    assert said.status_code == 200 and said.json()["added"] is True

    # 5. 四议两公开, each meeting over the API: notice, opening, the members sign in, the motion (the amount at
    #    the villagers' representatives' resolution), every member votes yes, the count, the stage recorded.
    #    Only the residents' own body's count is news for those who raised the problem.
    topic_id = case["topic"]["id"]
    officer.post(f"deliberation/topics/{topic_id}/procedure", {"procedure": "four_deliberations_two_disclosures"},
                 status=200)
    moment = MONDAY_9AM + dt.timedelta(hours=3)
    held = []
    for kind, stage in (("party_branch_committee", "party_proposal"),
                        ("two_committees_joint_meeting", "two_committees_deliberation"),
                        ("party_members_meeting", "party_members_review"),
                        ("villagers_representatives_meeting", "villagers_resolution")):
        meeting, motion, members, moment = _hold(base, v, officer, public, kind, stage, topic_id, moment,
                                                 amount=AMOUNT if stage == "villagers_resolution" else None)
        held.append((meeting, motion, members))
        if stage == "two_committees_deliberation":
            assert [len(_case_notices(api)) for api in residents + [neighbour]] == [1, 1, 1, 0]
    meeting, motion, members = held[-1]
    case = public.get(f"cases/{case_id}")
    assert [m["id"] for m in case["meetings"]] == [h[0]["id"] for h in held]
    assert all(m["is_quorate"] and m["present"] == m["due"] for m in case["meetings"])
    assert [m["id"] for m in case["motions"]] == [h[1]["id"] for h in held] and all(
        m["is_passed"] for m in case["motions"])
    shown = case["motions"][-1]
    assert shown["amount"] == "300000.00" and shown["result"]
    ballots = requests.get(base + shown["ballots_url"], timeout=60).json()
    assert len(ballots) == len(members) == 5
    for api in residents + [neighbour]:
        assert _case_notices(api)[-1]["link"] == f"/cases/{case_id}/#vote"
    assert [len(_case_notices(api)) for api in residents + [neighbour]] == [2, 2, 2, 1]

    # 6. The decision under the power list: refused until the resolution is published (决议公开); then recorded
    #    with its project plan, disclosed at once, the project started.
    item = PowerItem.objects.get(region=v.village, code="procurement")
    decision_in = {"title": "更换村西片供水管道", "amount": AMOUNT, "topic_id": topic_id}
    with clock.frozen_at(moment):
        status, refused = officer("POST", f"duties/power-items/{item.pk}/decisions", decision_in)
        assert status == 400 and refused["code"] and not public.get(f"cases/{case_id}")["decision"]
        notice = officer.post("deliberation/disclosures", {
            "region_id": v.village.pk, "kind": "resolution", "title": "决议公开：更换村西片供水管道",
            "body": "村民代表会议决议：更换村西片破损供水管道，费用30万元", "notice_days": 7, "topic_id": topic_id})
    decided_at = moment + dt.timedelta(days=8)
    day = decided_at.date()
    plan = {"unit_id": v.station.pk, "milestones": [
        {"title": "采购管材", "deadline": (day + dt.timedelta(days=10)).isoformat(), "quality_standard": "管材符合国标"},
        {"title": "更换管道并恢复路面", "deadline": (day + dt.timedelta(days=30)).isoformat(),
         "quality_standard": "不再漏水，路面平整"}]}
    with clock.frozen_at(decided_at):
        officer.post(f"deliberation/disclosures/{notice['id']}/complete", status=200)
        officer.post(f"deliberation/topics/{topic_id}/stages",
                     {"stage": "resolution_disclosure", "disclosure_id": notice["id"]})
        decision = officer.post(f"duties/power-items/{item.pk}/decisions", {**decision_in, "project": plan})
    assert decision["is_major"] and decision["project"]["unit_id"] == v.station.pk
    assert len(decision["project"]["milestones"]) == 2
    with clock.frozen_at(decided_at + dt.timedelta(hours=1)):
        case = public.get(f"cases/{case_id}")
    assert case["status"] == "in_progress" and case["decision"]["id"] == decision["id"]
    assert case["decision"]["item_code"] == "procurement" and case["decision"]["verdict"]["is_accepted"]
    assert {notice["id"], decision["disclosure_id"]} <= {d["id"] for d in case["disclosures"]}
    project = case["project"]
    assert project["unit"] == "桃源村供水站" and project["budget"] == "300000.00"
    assert [m["title"] for m in project["milestones"]] == ["采购管材", "更换管道并恢复路面"]
    assert project["goal"]["target_value"] == 80.0 and project["goal"]["latest"] is None
    assert project["goal"]["status"] == "on_track"
    for api in residents + [neighbour]:
        anchors = [n["link"].split("#")[-1] for n in _case_notices(api)[-2:]]
        assert anchors == ["decision", "project"]
    assert _solved_share(v, start, day + dt.timedelta(days=60)) == (None, None)

    # 7. The water station reports progress on each milestone with a photo of the work; others may not.
    first, second = project["milestones"]
    photo = {"photos": ("work.jpg", _jpeg((90, 120, 160)), "image/jpeg")}
    with clock.frozen_at(decided_at + dt.timedelta(days=5)):
        status, refused = residents[0]("POST", f"cases/{case_id}/milestones/{first['id']}/progress",
                                       data={"note": "我来报"}, files=photo)
        assert status == 403
        waterman.post(f"cases/{case_id}/milestones/{first['id']}/progress", data={"note": "管材已订购"}, files=photo)
    with clock.frozen_at(decided_at + dt.timedelta(days=8)):
        done = waterman.post(f"cases/{case_id}/milestones/{first['id']}/progress",
                             data={"note": "管材已到货验收", "done": "true"},
                             files={"photos": ("pipes.jpg", _jpeg((200, 200, 190)), "image/jpeg")})
    with clock.frozen_at(decided_at + dt.timedelta(days=25)):
        waterman.post(f"cases/{case_id}/milestones/{second['id']}/progress",
                      data={"note": "管道已更换，路面已恢复", "done": "true"},
                      files={"photos": ("road.jpg", _jpeg((60, 60, 60)), "image/jpeg")})
        case = public.get(f"cases/{case_id}")
    assert all(m["completed_at"] for m in case["project"]["milestones"])
    assert [r["note"] for r in case["project"]["milestones"][0]["reports"]] == ["管材已订购", "管材已到货验收"]
    assert len(case["photos"]) == 3 and case["photos"][1]["id"] == done["photos"][0]["id"]
    image = requests.get(base + case["photos"][0]["url"], timeout=60)
    assert image.headers["Content-Type"] == "image/jpeg" and Image.open(io.BytesIO(image.content)).size == (800, 600)

    # 8. The secretary records the project done: the followers are asked; the guest's page asks too.
    with clock.frozen_at(decided_at + dt.timedelta(days=26)):
        officer.post(f"duties/projects/{project['id']}/outcome", {"outcome": "破损管道已全部更换，路面恢复"},
                     status=200)
        case = public.get(f"cases/{case_id}")
    assert case["status"] == "asking" and case["verdict_round"] == 1
    for api in residents + [neighbour]:
        last = _case_notices(api)[-1]
        assert last["link"] == f"/cases/{case_id}/#verdict"
    assert [len(_case_notices(api)) for api in residents + [neighbour]] == [5, 5, 5, 4]
    answer_at = decided_at + dt.timedelta(days=27)
    with clock.frozen_at(answer_at):
        assert 'name="solved"' in tracked.get(f"/demands/track/{guest_number}/").text
        status, body = grid_worker("POST", f"cases/{case_id}/verdict", {"solved": True, "satisfaction": "satisfied"})
        assert status == 403 and body["code"] == "not_a_follower"

    # 9. The residents' verdict: each through the API, the guest through the tracking-code page.
    voices = {"r0": residents[0], "r1": residents[1], "r2": residents[2], "neighbour": neighbour}
    answered = 0
    with clock.frozen_at(answer_at):
        for who, is_solved in solved.items():
            if who == "guest":
                sent = tracked.post(f"/demands/track/{guest_number}/verdict/", {
                    "solved": "yes" if is_solved else "no",
                    "satisfaction": "satisfied" if is_solved else "not_satisfied", "comment": ""},
                    form_page=f"/demands/track/{guest_number}/")
                assert sent.status_code == 200
            else:
                got = voices[who].post(f"cases/{case_id}/verdict", {
                    "solved": is_solved, "satisfaction": "satisfied" if is_solved else "not_satisfied"})
                assert got["round"] == 1
            answered += 1
            tally = public.get(f"cases/{case_id}")["verdicts"][0]
            assert tally["answers"] == answered
            yes = sum(1 for s in list(solved.values())[:answered] if s)
            assert tally["solved"] == yes
            goal = public.get(f"cases/{case_id}")["project"]["goal"]
            if answered < len(solved):
                assert goal["latest"] == round(100.0 * yes / answered, 1)
    return {"case_id": case_id, "public": public, "residents": residents, "neighbour": neighbour,
            "waterman": waterman, "officer": officer, "start": start, "day": day, "answer_at": answer_at,
            "tracked": tracked, "guest_number": guest_number}


def test_a_new_case_goes_from_the_first_complaint_to_the_residents_verdict_over_http(live_server, village):
    v = village
    run = run_the_loop(live_server, v, solved={"r0": True, "r1": True, "guest": True, "neighbour": True,
                                               "r2": False})
    public, case_id = run["public"], run["case_id"]
    with clock.frozen_at(run["answer_at"] + dt.timedelta(hours=1)):
        case = public.get(f"cases/{case_id}")
        goals = public.get(f"duties/goals?region_id={v.village.pk}")
    # Everyone asked answered: four of five say it is solved (80 %), the case is closed as solved.
    assert case["status"] == "solved" and case["closed_at"] is not None
    assert case["verdicts"] == [{"round": 1, "answers": 5, "solved": 4, "not_solved": 1, "satisfied": 4,
                                 "solved_share": 80.0, "satisfied_share": 80.0}]
    assert case["project"]["goal"]["latest"] == 80.0
    [goal] = [g for g in goals if g["id"] == case["project"]["goal"]["id"]]
    assert goal["latest"] == 80.0 and goal["status"] == case["project"]["goal"]["status"]
    assert goal["status"] == "achieved"  # 80 % say solved: the goal's target
    assert _solved_share(v, run["start"], run["day"] + dt.timedelta(days=60)) == (80.0, 80.0)
    for api in run["residents"] + [run["neighbour"]]:
        last = _case_notices(api)[-1]
        assert last["link"] == f"/cases/{case_id}/#verdict" and "4" in last["text"] and "5" in last["text"]
    assert 'name="solved"' not in run["tracked"].get(f"/demands/track/{run['guest_number']}/").text

    # Every step's receipt verifies against the current signed checkpoint, for the public and a reporter.
    receipts = public.get(f"cases/{case_id}/receipts")
    kinds = [r["kind"] for r in receipts]
    for kind in ("deliberation.propose_topic", "cases.open", "deliberation.open_meeting", "deliberation.cast_ballot",
                 "deliberation.close_motion", "duties.record_decision", "deliberation.publish",
                 "duties.start_project", "duties.add_task", "cases.progress_photos", "duties.complete_task",
                 "duties.project_outcome", "cases.verdict", "cases.conclude"):
        assert kind in kinds, kind
    checked = public.get(f"cases/{case_id}/verify")
    assert checked["failed"] == 0 and checked["pending"] == 0 and checked["ok"] == len(receipts) == checked["checked"]
    mine = run["residents"][0].get(f"cases/{case_id}/verify")
    assert mine["failed"] == 0 and mine["ok"] > checked["ok"]  # with the steps of the reporter's own demand


def test_when_most_residents_say_not_solved_the_project_is_reopened_for_review_and_the_unit_told(
        live_server, village):
    v = village
    run = run_the_loop(live_server, v, solved={"r0": False, "guest": False, "r1": True, "neighbour": False,
                                               "r2": True})
    public, case_id = run["public"], run["case_id"]
    with clock.frozen_at(run["answer_at"] + dt.timedelta(hours=1)):
        case = public.get(f"cases/{case_id}")
    assert case["status"] == "review" and case["closed_at"] is None
    assert case["project"]["completed_at"] is None and case["project"]["reopened_at"] is not None
    assert "3" in case["project"]["review_reason"] and "5" in case["project"]["review_reason"]
    assert case["verdicts"][0]["solved_share"] == 40.0 and case["project"]["goal"]["latest"] == 40.0
    assert case["project"]["goal"]["status"] != "achieved"
    assert _solved_share(v, run["start"], run["day"] + dt.timedelta(days=60)) == (40.0, 40.0)
    unit_notices = [n for n in _case_notices(run["waterman"]) if n["recipient_unit_id"] == v.station.pk]
    assert len(unit_notices) == 1 and unit_notices[0]["link"] == f"/cases/{case_id}/#verdict"
    for api in run["residents"] + [run["neighbour"]]:
        assert _case_notices(api)[-1]["text"] == unit_notices[0]["text"]
    checked = public.get(f"cases/{case_id}/verify")
    assert checked["failed"] == 0 and checked["pending"] == 0 and checked["ok"] > 40
