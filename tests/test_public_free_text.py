"""Personal data typed into any public free-text field (issue #13 item 2) never reaches an anonymous page,
the public API or the public ledger, however it was spaced; and free text of only invisible characters or
with a NUL is refused with its reason, with nothing stored (item 15)."""

import datetime as dt
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.deliberation import moderation
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.models import Comment, Disclosure, Objection, Statement, Topic
from gongzhi.deliberation.tests.conftest import MONDAY_9AM, Village
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.duties import services as duties
from gongzhi.ledger import services as ledger
from gongzhi.ledger.models import Entry

pytestmark = pytest.mark.django_db

# What a resident might type: a mobile with spaces, another with dashes, a landline, an ID number in groups.
MOBILE_SPACED, MOBILE_DASHED = "137 2468 1357", "+86 136-9753-1864"
LANDLINE = "010-62751234"
ID_NUMBER = "110101 19880512 403X"
HOUSE = "幸福路27号4栋602室"
PII = f"电话{MOBILE_SPACED}或{MOBILE_DASHED}，座机{LANDLINE}，身份证{ID_NUMBER}，住{HOUSE}"
SECRETS = {"mobile": "13724681357", "mobile2": "13697531864", "landline": "62751234", "id": "11010119880512403X",
           "house": "602"}


def leaked(body: str) -> list[str]:
    """The secrets found in `body` with any spacing between their characters (spaces, dashes, dots, JSON)."""
    found = []
    for name, secret in SECRETS.items():
        core = secret[:-4] if name != "house" else secret  # the last four of a phone are shown, as usual
        if name == "house":
            pattern = "4栋" + r"[\s\-]*" + "602"
        else:
            pattern = r"[\s\-.()]*".join(re.escape(c) for c in core)
        if re.search(pattern, body, flags=re.IGNORECASE):
            found.append(name)
    return found


def without_digests(body: str) -> str:
    """`body` without the hashes and signatures of the ledger: a random digest contains the four digits the
    check looks for about once in a thousand entries (a CI run saw "6275" inside one)."""
    return re.sub(r"[0-9a-fA-F]{40,}|[A-Za-z0-9+/_-]{40,}={0,2}", "", body)


@pytest.fixture
def village(world, ledger_keys):
    with clock.frozen_at(MONDAY_9AM):
        yield Village(world)


@pytest.fixture
def public_objects(village):
    """Every public free-text field of deliberation and duties, filled with PII by the people who may."""
    resident, officer = village.adults[6].user, village.officer
    topic = deliberation.propose_topic(resident, region=village.village, title=f"修路 {MOBILE_SPACED}",
                                       description=PII, origin_reference=f"联系{MOBILE_DASHED}")
    topic = moderation.approve_topic(officer, topic)  # a resident's topic is public once an officer publishes it
    organised = deliberation.propose_topic(officer, region=village.village, title=f"议题{MOBILE_DASHED}",
                                           description=PII, origin="agenda",
                                           evidence={"kind": "issue", "samples": [PII]})
    deliberation.add_comment(resident, organised, PII)
    hidden = deliberation.add_comment(village.adults[7].user, organised, "骂人的话")
    deliberation.hide_comment(officer, hidden, f"人身攻击，见{MOBILE_SPACED}")
    deliberation.add_statement(resident, organised, f"赞成，联系{MOBILE_DASHED}")
    deliberation.add_statement(village.adults[7].user, organised, f"反对，座机{LANDLINE}")
    item = deliberation.publish(officer, region=village.village, kind="finances", title=f"财务公开{MOBILE_SPACED}",
                                body=PII, notice_days=7)
    objection = deliberation.file_objection(village.adults[9].user, item, PII)
    deliberation.answer_objection(officer, objection, f"已回电{MOBILE_DASHED}，身份证{ID_NUMBER}")
    meeting = deliberation.schedule_meeting(officer, village.body("villagers_committee"), title=f"会议{LANDLINE}",
                                            agenda=PII, starts_at=clock.now() + dt.timedelta(days=3),
                                            topic=organised)
    voting, starts = village.open_meeting("villagers_committee")
    with clock.frozen_at(starts + dt.timedelta(minutes=20)):
        motion = deliberation.open_motion(officer, voting, text=f"同意为{HOUSE}（{MOBILE_SPACED}）修缮")
    goal = duties.create_goal(officer, region=village.village, title=f"目标{MOBILE_SPACED}", indicator=PII,
                              unit_of_measure="%", start_value=40, target_value=90, direction="higher",
                              start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 12, 31),
                              owner=village.committee)
    duties.report_progress(officer, goal=goal, value=50, note=PII, evidence=PII)
    duties.add_task(officer, title=f"任务{MOBILE_DASHED}", unit=village.committee, deadline=dt.date(2026, 6, 30),
                    quality_standard=PII, goal=goal)
    duties.hold_review(officer, region=village.village, held_on=dt.date(2026, 3, 2), participants=PII,
                       conclusions=PII, goals=[goal])
    duties.publish_need(officer, region=village.village, title=f"助餐{MOBILE_SPACED}", skills=["cooking"],
                        quantity=2, urgency=1, longitude=116.105, latitude=39.905)
    ledger.sequence_pending()
    return {"topic": topic, "organised": organised, "disclosure": item, "meeting": meeting, "goal": goal,
            "voting": voting, "motion": motion}


def test_pii_typed_into_public_fields_is_stored_masked(public_objects):
    texts = [*Topic.objects.values_list("title", "description", "origin_reference"), *Comment.objects.values_list("text", "hidden_reason"),
             *Statement.objects.values_list("text"), *Disclosure.objects.values_list("title", "body"),
             *Objection.objects.values_list("text", "answer")]
    stored = json.dumps(texts, ensure_ascii=False) + json.dumps(public_objects["organised"].evidence, ensure_ascii=False)
    assert leaked(stored) == []
    assert "137****1357" in stored and "[身份证号]" in stored and "幸福路**号" in stored


def test_no_anonymous_page_shows_pii_typed_into_public_fields(client, village, public_objects):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    o = public_objects
    region = f"?region={village.village.pk}"
    urls = [reverse("deliberation:topics"), reverse("deliberation:topic", args=[o["topic"].pk]),
            reverse("deliberation:topic", args=[o["organised"].pk]),
            reverse("deliberation:opinion_map", args=[o["organised"].pk]),
            reverse("deliberation:disclosures"), reverse("deliberation:meeting", args=[o["meeting"].pk]),
            reverse("deliberation:meeting", args=[o["voting"].pk]), reverse("deliberation:motion", args=[o["motion"].pk]),
            reverse("duties:index") + region, reverse("duties:goals") + region,
            reverse("duties:goal", args=[o["goal"].pk]), reverse("duties:matching") + region, reverse("ledger:index")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response.content.decode()) == [], url
    shown = client.get(reverse("deliberation:topic", args=[o["organised"].pk])).content.decode()
    assert "137****1357" in shown and "136****1864" in shown and "幸福路**号" in shown
    assert "幸福路**号" in client.get(reverse("deliberation:motion", args=[o["motion"].pk])).content.decode()


def test_no_public_api_answer_shows_pii_typed_into_public_fields(client, village, public_objects):
    o = public_objects
    api = "/api/v1/"
    topic, organised = o["topic"].pk, o["organised"].pk
    urls = [f"deliberation/topics", f"deliberation/topics/{topic}", f"deliberation/topics/{organised}",
            f"deliberation/topics/{organised}/comments", f"deliberation/topics/{organised}/statements",
            f"deliberation/topics/{organised}/map", f"deliberation/meetings/{o['meeting'].pk}",
            f"deliberation/meetings/{o['voting'].pk}", f"deliberation/motions/{o['motion'].pk}",
            "deliberation/disclosures", f"deliberation/disclosures/{o['disclosure'].pk}",
            f"duties/goals?region_id={village.village.pk}", f"duties/decisions?region_id={village.village.pk}",
            f"duties/responsibilities?region_id={village.village.pk}"]
    urls += [f"ledger/entries/{index}" for index in range(Entry.objects.count())]
    assert len(urls) > 20  # the ledger has an entry for each act above
    for url in urls:
        response = client.get(api + url)
        assert response.status_code == 200, (url, response.content[:200])
        assert leaked(without_digests(response.content.decode("unicode_escape"))) == [], url


# --- bad text (item 15) -------------------------------------------------------------------------------------

INVISIBLE = ["\u200b\u200b", "\ufeff", "\x00", "路灯坏了\x00", " \u3000\u2060 "]


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_comment_statement_topic_or_objection_of_invisible_text_is_refused_with_nothing_stored(village, text):
    from gongzhi.core.errors import ValidationFailed

    resident = village.adults[6].user
    topic = deliberation.propose_topic(village.officer, region=village.village, title="修路", description="积水",
                                       origin="agenda")
    item = deliberation.publish(village.officer, region=village.village, kind="finances", title="公开", body="内容",
                                notice_days=7)
    for act in (lambda: deliberation.add_comment(resident, topic, text),
                lambda: deliberation.add_statement(resident, topic, text),
                lambda: deliberation.propose_topic(resident, region=village.village, title=text, description="d"),
                lambda: deliberation.propose_topic(resident, region=village.village, title="t", description=text),
                lambda: deliberation.file_objection(resident, item, text)):
        with pytest.raises(ValidationFailed) as refused:
            act()
        assert refused.value.code in ("empty", "invalid_text")
    assert not Comment.objects.exists() and not Statement.objects.exists() and not Objection.objects.exists()
    assert Topic.objects.count() == 1


@pytest.mark.parametrize("text", INVISIBLE)
def test_the_api_refuses_invisible_text_with_a_reason(client, village, text):
    _, raw = ApiToken.issue(village.adults[6].user)
    headers = {"Authorization": f"Bearer {raw}"}
    topic = deliberation.propose_topic(village.officer, region=village.village, title="修路", description="积水",
                                       origin="agenda")
    for url, body in ((f"deliberation/topics/{topic.pk}/comments", {"text": text}),
                      (f"deliberation/topics/{topic.pk}/statements", {"text": text}),
                      ("deliberation/topics", {"region_id": village.village.pk, "title": text, "description": "d"})):
        response = client.post("/api/v1/" + url, json.dumps(body), content_type="application/json", headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        answer = response.json()
        assert answer.get("code") in ("empty", "invalid_text", "invalid", "validation_error") and answer.get("message"), answer
    assert not Comment.objects.exists() and not Statement.objects.exists() and Topic.objects.count() == 1


def test_open311_answers_to_the_public_show_no_pii_of_a_demand(client, dw):
    """A demand's text is private (those handling it read it in full); the public sees it scrubbed."""
    import urllib.parse

    from gongzhi.demands import services as demands
    from gongzhi.demands.tests.factories import IN_A1, THURSDAY_9AM

    _, key = demands.issue_open311_key("随手拍", contact="ops@example.org")
    with clock.frozen_at(THURSDAY_9AM):
        filed = client.post("/open311/v2/requests.json", data=urllib.parse.urlencode({
            "api_key": key, "service_code": "environment.garbage", "lat": IN_A1[1], "long": IN_A1[0],
            "description": f"垃圾没人清运。{PII}"}), content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert filed.status_code in (200, 201, 202), filed.content
    if filed.json() and "token" in filed.json()[0]:
        demands.file_submissions()
    ledger.sequence_pending()
    for url in ("/open311/v2/requests.json", "/open311/v2/requests.xml"):
        body = client.get(url).content.decode()
        assert "垃圾没人清运" in body and leaked(body) == [], url


def test_the_migration_scrubs_rows_stored_before(village):
    """Rows written before published text was scrubbed on storage are scrubbed by the data migration."""
    import importlib

    from django.apps import apps

    topic = deliberation.propose_topic(village.officer, region=village.village, title="修路", description="积水",
                                       origin="agenda")
    Topic.objects.filter(pk=topic.pk).update(description=PII, evidence={"samples": [PII]})  # as stored before
    migration = importlib.import_module("gongzhi.deliberation.migrations.0004_scrub_published_texts")
    migration.scrub_published(apps, None)
    topic.refresh_from_db()
    assert leaked(topic.description) == [] and leaked(json.dumps(topic.evidence, ensure_ascii=False)) == []
    assert topic.title == "修路" and "137****1357" in topic.description
