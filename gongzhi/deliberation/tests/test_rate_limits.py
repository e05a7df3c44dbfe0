"""Rate limits on statements, votes on statements, objections, proposals, comments and reports, through the
JSON API and the pages."""

import json

import pytest
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.models import ApiToken
from gongzhi.deliberation import services
from gongzhi.deliberation.models import Objection, Statement, StatementVote

from .conftest import MONDAY_9AM

pytestmark = pytest.mark.django_db
BASE = "/api/v1/deliberation/"


@pytest.fixture
def limits(settings):
    settings.GONGZHI_RATE_LIMITS = {**settings.GONGZHI_RATE_LIMITS,
                                    "statement": {"user": "2/h", "address": "100/h"},
                                    "statement_vote": {"user": "3/h", "address": "100/h"},
                                    "objection": {"user": "1/h", "address": "2/h"},
                                    "topic": {"user": "1/h", "address": "100/h"},
                                    "comment": {"user": "2/h", "address": "100/h"},
                                    "report": {"user": "1/h", "address": "100/h"}}


@pytest.fixture
def topic(village):
    with clock.frozen_at(MONDAY_9AM):
        return services.propose_topic(village.officer, region=village.village, title="村规民约修订",
                                      description="征求意见", origin="organisation")


def post(client, user, url, body, address="203.0.113.70"):
    _, raw = ApiToken.issue(user)
    with clock.frozen_at(MONDAY_9AM):
        return client.post(BASE + url, json.dumps(body), content_type="application/json",
                           headers={"Authorization": f"Bearer {raw}"}, REMOTE_ADDR=address)


def test_statements_past_the_limit_are_refused_with_429(client, village, topic, limits):
    resident = village.adults[6].user
    answers = [post(client, resident, f"topics/{topic.pk}/statements", {"text": f"建议{i}"}).status_code
               for i in range(3)]
    assert answers == [201, 201, 429]
    assert Statement.objects.filter(topic=topic).count() == 2


def test_votes_past_the_limit_are_refused_and_the_card_says_why(client, village, topic, limits):
    with clock.frozen_at(MONDAY_9AM):
        statements = [services.add_statement(village.officer, topic, t) for t in ("修路", "建广场", "装路灯", "修桥")]
    voter = village.adults[7].user
    answers = [post(client, voter, f"statements/{s.pk}/vote", {"vote": 1}).status_code for s in statements[:3]]
    assert answers == [200, 200, 200]
    refused = post(client, voter, f"statements/{statements[3].pk}/vote", {"vote": 1})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    assert StatementVote.objects.filter(participant=voter).count() == 3
    client.force_login(voter)
    with clock.frozen_at(MONDAY_9AM):
        page = client.post(reverse("deliberation:vote_statement", args=[statements[3].pk]), {"vote": "1"},
                           HTTP_HX_REQUEST="true", REMOTE_ADDR="203.0.113.70")
    assert page.status_code == 429 and "Retry-After" in page
    assert "请求过于频繁" in page.content.decode()


def test_objections_are_limited_per_user_and_per_address(client, village, limits):
    with clock.frozen_at(MONDAY_9AM):
        item = services.publish(village.officer, region=village.village, kind="finances", title="财务公开",
                                body="收支", notice_days=5)
    url = f"disclosures/{item.pk}/objections"
    assert post(client, village.adults[8].user, url, {"text": "修路款为何超支？"}).status_code == 201
    assert post(client, village.adults[8].user, url, {"text": "再问一次"}, address="192.0.2.80").status_code == 429
    assert post(client, village.adults[9].user, url, {"text": "支出明细呢？"}).status_code == 201
    third = post(client, village.adults[10].user, url, {"text": "请公开发票"})
    assert third.status_code == 429 and third.json()["details"]["scope"] == "address"
    assert Objection.objects.count() == 2


def test_proposals_comments_and_reports_are_limited_too(client, village, topic, limits):
    """Every resident write that reaches others is limited, not only the ones the review listed first."""
    resident = village.adults[6].user
    proposal = {"region_id": village.village.pk, "title": "修路", "description": "村西路坑洼"}
    assert post(client, resident, "topics", proposal).status_code == 201
    refused = post(client, resident, "topics", {**proposal, "title": "再修路"})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited" and refused["Retry-After"]
    for text in ("同意", "支持"):
        assert post(client, resident, f"topics/{topic.pk}/comments", {"text": text}).status_code == 201
    assert post(client, resident, f"topics/{topic.pk}/comments", {"text": "再说一句"}).status_code == 429
    comment = topic.comments.first()
    assert post(client, resident, f"comments/{comment.pk}/report", {"reason": "广告"}).status_code == 201
    assert post(client, resident, f"comments/{comment.pk}/report", {"reason": "广告"}).status_code == 429
