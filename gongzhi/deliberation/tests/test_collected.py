"""Opinions a building lead collects door to door (楼栋长代收): only from the residents of their own building,
only while the topic's stage seeks opinions, once per resident, each with who collected it and when; the
topic's page shows the counts and no names."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.deliberation import collected, services
from gongzhi.deliberation.models import CollectedOpinion
from gongzhi.org.models import Building, Household
from gongzhi.org.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(village):
    """The building lead of 村西片 (the village's six households), and a second building with its own resident."""
    user = f.official(village.committee, "building_lead", "lead_west", building=village.building)
    east = Building.objects.create(grid=village.grid, name="村东片", address="桃源村东", longitude=116.106, latitude=39.906)
    village.east_resident = f.person("东片村民", Household.objects.create(building=east, unit="7号"),
                                     user=f.user("east1"), birth_date=dt.date(1980, 1, 1))
    return user


def consulting_topic(village, title="村西停车位规划"):
    topic = services.propose_topic(village.officer, region=village.village, title=title, description="征求意见",
                                   origin="organisation")
    topic = services.start_procedure(village.officer, topic, "community_consultation")
    services.record_stage(village.officer, topic, "topic_proposal")  # next: 征求意见 (seeking opinions)
    topic.refresh_from_db()
    return topic


def as_(client, user=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_building_lead_records_opinions_with_who_and_when_and_the_topic_shows_the_counts(client, village, lead):
    topic = consulting_topic(village)
    first = collected.record_collected_opinion(lead, topic, village.adults[0], stance="agree")
    collected.record_collected_opinion(lead, topic, village.adults[1], stance="comment", text="车位要留给老人")
    assert first.collected_by == lead and first.collected_at == clock.now() and first.stage_code == "opinion_seeking"
    assert collected.counts(topic) == {"agree": 1, "disagree": 0, "comment": 1, "signature": 0, "total": 2}
    assert Event.objects.filter(kind="deliberation.collect_opinion").count() == 2
    page = as_(client).get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    assert "2 collected by building leads" in page
    assert village.adults[0].name not in page and village.adults[1].name not in page


def test_one_opinion_per_resident_per_topic(village, lead):
    topic = consulting_topic(village)
    collected.record_collected_opinion(lead, topic, village.adults[0], stance="agree")
    with pytest.raises(Conflict):
        collected.record_collected_opinion(lead, topic, village.adults[0], stance="disagree")
    assert CollectedOpinion.objects.get().stance == "agree"


def test_a_building_lead_records_only_for_the_people_of_their_building(client, village, lead):
    topic = consulting_topic(village)
    with pytest.raises(NotFound):
        collected.record_collected_opinion(lead, topic, village.east_resident, stance="agree")
    response = as_(client, lead).post(reverse("deliberation:record_collected_opinion", args=[topic.pk]),
                                      {"person": village.east_resident.pk, "stance": "agree"})
    assert response.status_code == 404
    assert not CollectedOpinion.objects.exists()
    listed = as_(client, lead).get(reverse("deliberation:collect_opinions", args=[topic.pk])).content.decode()
    assert village.adults[0].name in listed and "东片村民" not in listed
    assert "孩子0" not in listed  # opinions are asked of adults


def test_only_a_building_lead_collects(client, village, lead):
    topic = consulting_topic(village)
    with pytest.raises(PermissionDenied):
        collected.record_collected_opinion(village.adults[2].user, topic, village.adults[0], stance="agree")
    assert as_(client, village.adults[2].user).get(
        reverse("deliberation:collect_opinions", args=[topic.pk])).status_code == 403


def test_opinions_are_collected_only_at_a_stage_that_seeks_them(client, village, lead):
    topic = services.propose_topic(village.officer, region=village.village, title="修路", description="d",
                                   origin="organisation")
    with pytest.raises(ValidationFailed) as refused:
        collected.record_collected_opinion(lead, topic, village.adults[0], stance="agree")
    assert refused.value.code == "not_seeking_opinions"
    page = as_(client, lead).get(reverse("deliberation:topic", args=[topic.pk])).content.decode()
    assert "Record opinions from my building" not in page


def test_a_comment_needs_its_words_and_a_stance_must_be_known(village, lead):
    topic = consulting_topic(village)
    with pytest.raises(ValidationFailed):
        collected.record_collected_opinion(lead, topic, village.adults[0], stance="comment", text=" ")
    with pytest.raises(ValidationFailed):
        collected.record_collected_opinion(lead, topic, village.adults[0], stance="maybe")
    assert not CollectedOpinion.objects.exists()


def test_the_lead_records_through_the_page_and_sees_who_has_answered(client, village, lead):
    topic = consulting_topic(village)
    client = as_(client, lead)
    assert "Record opinions from my building" in client.get(
        reverse("deliberation:topic", args=[topic.pk])).content.decode()
    response = client.post(reverse("deliberation:record_collected_opinion", args=[topic.pk]),
                           {"person": village.adults[3].pk, "stance": "agree", "signed": "on"})
    assert response.status_code == 302
    row = CollectedOpinion.objects.get()
    assert row.stance == "agree" and row.signed
    listed = client.get(reverse("deliberation:collect_opinions", args=[topic.pk])).content.decode()
    assert "1 collected by building leads" in listed and "agrees</b> · signed" in listed
    assert collected.counts(topic) == {"agree": 1, "disagree": 0, "comment": 0, "signature": 1, "total": 1}
    bad = client.post(reverse("deliberation:record_collected_opinion", args=[topic.pk]),
                      {"person": village.adults[3].pk, "stance": "agree"})
    assert bad.status_code == 409


def test_the_building_leads_work_item_counts_the_topics_seeking_opinions_and_links_to_them(client, village, lead):
    from gongzhi.core import workbench

    seeking = consulting_topic(village)
    services.propose_topic(village.officer, region=village.village, title="修路", description="d",
                           origin="organisation")  # on the agenda, not seeking opinions
    item = {i.key: i for i in workbench.items_for(lead)}["deliberation.opinions_to_collect"]
    assert item.count == 1
    listed = as_(client, lead).get(item.url).content.decode()
    assert seeking.title in listed and "修路" not in listed
    assert reverse("deliberation:collect_opinions", args=[seeking.pk]) in listed
    assert "deliberation.opinions_to_collect" not in {i.key for i in workbench.items_for(village.adults[2].user)}
    assert as_(client, village.adults[2].user).get(reverse("deliberation:collect_index")).status_code == 403


def test_the_signature_is_a_checkbox_beside_the_opinion_and_the_page_says_why_minors_are_not_listed(
        client, village, lead):
    topic = consulting_topic(village)
    client = as_(client, lead)
    page = client.get(reverse("deliberation:collect_opinions", args=[topic.pk])).content.decode()
    assert 'name="stance" value="signature"' not in page  # not one of the opinions
    assert 'type="checkbox" name="signed"' in page and "The resident signed in person" in page
    # A signature alone is not an opinion: the form asks for one.
    refused = client.post(reverse("deliberation:record_collected_opinion", args=[topic.pk]),
                          {"person": village.adults[0].pk, "stance": "signature", "signed": "on"})
    assert refused.status_code == 400 and not CollectedOpinion.objects.exists()
    unsigned = client.post(reverse("deliberation:record_collected_opinion", args=[topic.pk]),
                           {"person": village.adults[0].pk, "stance": "disagree"})
    assert unsigned.status_code == 302 and not CollectedOpinion.objects.get().signed
    # 孩子0..2 (born 2015) live in 1号..3号: left out, and the page says so, naming the households.
    assert "孩子0" not in page
    assert "Residents under 18 are not on this list" in page
    assert "1号 (1 under 18)" in page and "3号 (1 under 18)" in page and "4号 (" not in page
