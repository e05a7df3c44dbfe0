"""The analysis cockpit: what the overseers of a region see (grids by measure, trend, issues, hot spots,
warnings, agenda, the classifier's quality), who is refused, that no reporter's name or phone shows, and the
button that opens a proactive demand from a warning (未诉先办) — and creates nothing when refused."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import reverse

from gongzhi.core import clock
from gongzhi.demands.models import Category, Demand
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import IN_A2, IN_B1, THURSDAY_9AM
from gongzhi.insight import services, similar
from gongzhi.insight.models import ClassifierModel, DemandProfile, HotSpot, HotSpotRun, Issue, Warning

pytestmark = pytest.mark.django_db
NOW = THURSDAY_9AM + dt.timedelta(days=1)
PHONE = "13900001111"  # the contact DemandWorld.file() gives, also written into one demand's text below
COCKPIT = reverse("insight:cockpit")


@pytest.fixture
def as_(client):
    def sign_in(user, language=None):
        client.force_login(user)
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return sign_in


@pytest.fixture
def no_active_model():
    services.active_model.forget()  # the process-wide cache of the active classifier
    yield
    services.active_model.forget()


@pytest.fixture
def cockpit(dw, no_active_model):
    """Three demands in community A (an issue of two, with a phone and a name in one text), one in B, a hot
    spot and an open warning in grid A1, and an active classifier with its held-out evaluation."""
    w = dw.world
    garbage = Category.objects.get(code="environment.garbage")
    first = dw.file(category="environment.garbage", at=THURSDAY_9AM - dt.timedelta(days=3))
    second = dw.file(category="environment.garbage", text=f"张三反映垃圾站满了，电话{PHONE}")
    dw.file(where=IN_A2, text="楼道灯坏了")
    dw.file(where=IN_B1, text="路口井盖松动")
    issue = Issue.objects.create(community=w.community_a, grid=w.grid_a1, category=garbage,
                                 first_seen=first.received_at, last_seen=second.received_at, volume=2, reporters=1,
                                 unresolved=2, heat=12.34)
    for demand in (first, second):
        DemandProfile.objects.create(demand=demand, signature=similar.signature(demand.text).to_bytes(), issue=issue,
                                     grid=demand.grid, received_at=demand.received_at)
    run = HotSpotRun.objects.create(at=NOW, region=w.district, periods=26, last_period_start=dt.date(2026, 11, 16),
                                    cells=3, categories=1, demands=4)
    HotSpot.objects.create(run=run, grid=w.grid_a1, category=garbage, period_start=dt.date(2026, 11, 16),
                           since=dt.date(2026, 11, 9), observed=6, expected=1.5, ratio=4.0, z=3.1, q=0.01,
                           is_emerging=True, rising_for=3, explanation_zh="东园一网格垃圾清运诉求连续三周上升",
                           explanation_en="Waste demands in A1 rose three weeks running")
    warning = Warning.objects.create(kind=Warning.Kind.RISING, key="rising:test", raised_at=NOW, grid=w.grid_a1,
                                     community=w.community_a, category=garbage, unit=dw.city_management,
                                     message_zh="东园一网格垃圾问题持续上升，建议主动处置",
                                     message_en="Waste trouble keeps rising in A1; act before complaints")
    model = ClassifierModel.objects.create(
        created_at=NOW, source="demands", training_size=480, labels=["environment.garbage", "environment.noise"],
        file="insight/models/none.model", sha256="0" * 64, is_active=True,
        evaluation={"macro_f1": 0.8765, "accuracy": 0.9, "labels": {
            "environment.garbage": {"precision": 0.9, "recall": 0.95, "f1": 0.92, "support": 300},
            "environment.noise": {"precision": 0.88, "recall": 0.79, "f1": 0.83, "support": 180}},
            "confusion": {"order": ["environment.garbage", "environment.noise"],
                          "matrix": [[285, 15], [38, 142]]}})
    return {"issue": issue, "warning": warning, "model": model}


def get(client, query=""):
    with clock.frozen_at(NOW):
        return client.get(COCKPIT + query)


def data_of(response) -> dict:
    return response.context["data"]


# --- what the cockpit shows ------------------------------------------------------------------------------

def test_the_street_dispatcher_opens_the_cockpit_of_the_street_with_all_its_grids(as_, dw, cockpit):
    response = get(as_(dw.dispatcher))
    assert response.status_code == 200
    assert response.context["region"] == dw.world.street
    page = response.content.decode()
    for name in ("东园一网格", "东园二网格", "西园一网格"):
        assert name in page
    assert 'id="insight-map"' in page and "plotly/plotly.min.js" in page and "web/insight.js" in page
    embedded = json.loads(page.split('id="insight-data" type="application/json">')[1].split("</script>")[0])
    assert {g["name"] for g in embedded["map"]["grids"]} == {"东园一网格", "东园二网格", "西园一网格"}


def test_the_map_carries_each_grids_figures_for_every_measure(as_, dw, cockpit):
    grids = {g["name"]: g for g in data_of(get(as_(dw.dispatcher)))["map"]["grids"]}
    assert (grids["东园一网格"]["demands"], grids["东园一网格"]["hot_spots"]) == (2, 1)
    assert (grids["东园二网格"]["demands"], grids["东园二网格"]["hot_spots"]) == (1, 0)
    assert grids["西园一网格"]["open"] == 1
    assert grids["东园一网格"]["resolution_rate"] is None  # nothing rated yet: no rate, not a zero
    assert {m["key"] for m in data_of(get(as_(dw.dispatcher)))["map"]["measures"]} == {
        "demands", "open", "overdue", "resolution_rate", "hot_spots"}
    assert grids["东园一网格"]["geometry"]["type"] == "Polygon"


def test_the_weekly_trend_counts_the_demands_by_category(as_, dw, cockpit):
    trend = data_of(get(as_(dw.dispatcher)))["trend"]
    assert len(trend["weeks"]) == 26 and trend["total"] == 4
    by_name = {s["name"]: sum(s["counts"]) for s in trend["series"]}
    assert by_name["环境与卫生"] == 2  # the garbage demands under their top-level category, in Chinese
    assert sum(by_name.values()) == 4


def test_issues_hot_spots_and_warnings_are_listed_in_the_chosen_language(as_, dw, cockpit):
    response = get(as_(dw.dispatcher))
    page = response.content.decode()
    assert [row["issue"] for row in response.context["issues"]] == [cockpit["issue"]]
    assert f'data-id="{cockpit["issue"].id}"' in page and "12.3" in page
    assert "东园一网格垃圾清运诉求连续三周上升" in page and "rose three weeks running" not in page
    assert "东园一网格垃圾问题持续上升" in page and "区城管委" in page

    english = get(as_(dw.dispatcher, language="en")).content.decode()
    assert "Waste demands in A1 rose three weeks running" in english and "连续三周上升" not in english
    assert "act before complaints" in english


def test_agenda_suggestions_show_scrubbed_evidence_and_a_topic_button(as_, dw, cockpit):
    response = get(as_(dw.dispatcher))
    agenda = response.context["agenda"]
    assert [block["community"] for block in agenda] == [dw.world.community_a]
    assert [row["item"].issue for row in agenda[0]["items"]] == [cockpit["issue"]]
    page = response.content.decode()
    assert "139****1111" in page and "张某反映垃圾站满了" in page
    section = page.split('id="agenda"')[1].split('id="model"')[0]
    assert section.count(reverse("insight:open_topic_from_issue", args=[cockpit["issue"].pk])) == 1


def test_an_agenda_suggestion_opens_a_deliberation_topic_with_its_evidence_once(as_, dw, cockpit):
    from gongzhi.deliberation.models import Topic

    client = as_(dw.dispatcher)
    url = reverse("insight:open_topic_from_issue", args=[cockpit["issue"].pk])
    response = client.post(url, {"region": dw.world.street.pk})
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("deliberation:topic", args=[topic.pk])
    assert topic.region == dw.world.community_a and topic.origin == "agenda" and topic.status == "agenda"
    assert topic.evidence["volume"] == cockpit["issue"].volume
    assert PHONE not in str(topic.evidence) and "张三" not in topic.description
    again = client.post(url, {"region": dw.world.street.pk})
    assert again.status_code == 302 and "error=topic_exists" in again["Location"]
    assert Topic.objects.count() == 1
    # The suggestion now leads to its case file instead of offering to open the topic again.
    page = get(client).content.decode()
    assert reverse("cases:detail", args=[topic.case.pk]) in page and url not in page


def test_a_grid_worker_sees_no_topic_button_and_cannot_open_one(as_, dw, cockpit):
    client = as_(dw.grid_worker)
    page = get(client).content.decode()
    url = reverse("insight:open_topic_from_issue", args=[cockpit["issue"].pk])
    assert url not in page
    response = client.post(url, {"region": dw.world.grid_a1.pk})
    from gongzhi.deliberation.models import Topic

    assert response.status_code == 403 and not Topic.objects.exists()


def test_no_reporter_name_or_phone_appears_anywhere(as_, dw, cockpit):
    page = get(as_(dw.dispatcher)).content.decode()
    assert PHONE not in page and "张三" not in page


def test_officials_see_the_classifier_in_plain_words_without_codes_or_scores(as_, dw, cockpit):
    response = get(as_(dw.dispatcher))
    page = response.content.decode()
    assert response.context["quality"] == {"accuracy": 90, "examples": 480, "too_good": False}
    assert "Automatic classification is about 90% accurate (cross-validation)." in page or "自动分类准确率约 90%" in page
    assert "quality-caveat" not in page  # 90% is believable: no warning
    section = page.split('id="model"')[1]
    assert "environment.garbage" not in page and "0.877" not in section and "labels-table" not in page
    assert 'id="insight-confusion"' not in page and "confusion" not in data_of(response)
    assert reverse("insight:models") not in page  # a street dispatcher does not manage models


def test_a_near_perfect_figure_comes_with_a_warning(as_, dw, cockpit):
    from gongzhi.insight.models import ClassifierModel

    model = ClassifierModel.objects.get(is_active=True)
    model.evaluation = {**model.evaluation, "accuracy": 1.0}
    model.save(update_fields=["evaluation"])
    from django.core.cache import cache

    cache.clear()
    response = get(as_(dw.dispatcher))
    assert response.context["quality"]["too_good"] is True
    assert "quality-caveat" in response.content.decode()


def test_the_analyst_page_shows_per_category_scores_by_name_and_the_confusion_matrix(as_, dw, cockpit):
    response = as_(district_analyst(dw)).get(reverse("insight:models"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "0.877" in page and "90.0%" in page and "480" in page
    assert [row["name"] for row in response.context["quality"]["labels"]] == ["噪声扰民", "垃圾清运与分类"]
    assert "environment.garbage" not in page and "environment.noise" not in page and "0" * 64 not in page
    assert response.context["data"]["confusion"] == {"labels": ["垃圾清运与分类", "噪声扰民"],
                                                     "matrix": [[285, 15], [38, 142]]}
    assert 'id="insight-confusion"' in page and 'id="versions-table"' in page


def district_analyst(dw):
    from gongzhi.org.models import Organisation
    from gongzhi.org.tests.factories import official

    government = Organisation.objects.create(name="示范区人民政府", kind="district_government", region=dw.world.district)
    return official(government, "data_officer", "analyst")


def test_the_analyst_page_is_refused_to_leaders_desks_and_units(as_, dw, cockpit):
    for user in (dw.dispatcher, dw.world.secretary_a, dw.handler, dw.resident):
        assert as_(user).get(reverse("insight:models")).status_code == 403


def test_without_a_model_or_warnings_the_page_says_so(as_, dw, no_active_model):
    response = get(as_(dw.dispatcher))
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["quality"] is None and 'id="insight-confusion"' not in page
    assert response.context["warnings"] == [] and "No open warning." in page or "暂无" in page
    assert "/insight/warnings/1/" not in page


# --- who may see which region ---------------------------------------------------------------------------

def test_a_community_secretary_sees_her_community_only(as_, dw, cockpit):
    client = as_(dw.world.secretary_a)
    response = get(client)
    assert response.context["region"] == dw.world.community_a
    assert {g["name"] for g in response.context["grids"]} == {"东园一网格", "东园二网格"}
    assert "西园一网格" not in response.content.decode()
    assert get(client, f"?region={dw.world.street.pk}").status_code == 404  # as if it did not exist
    assert get(client, f"?region={dw.world.community_b.pk}").status_code == 404


def test_the_street_can_narrow_the_cockpit_to_one_community(as_, dw, cockpit):
    client = as_(dw.dispatcher)
    response = get(client, f"?region={dw.world.community_b.pk}")
    assert response.status_code == 200 and response.context["region"] == dw.world.community_b
    assert [g["name"] for g in response.context["grids"]] == ["西园一网格"]
    assert response.context["warnings"] == [] and response.context["issues"] == []
    choices = [c["id"] for c in get(client).context["choices"]]
    assert choices[0] == dw.world.street.pk and dw.world.community_b.pk in choices
    assert dw.world.grid_a1.pk not in choices


def test_a_resident_is_refused(as_, dw, cockpit):
    client = as_(dw.resident)
    assert get(client).status_code == 403
    assert get(client, f"?region={dw.world.street.pk}").status_code == 404  # a named region: as if none


def test_an_unknown_region_is_not_found(as_, dw, cockpit):
    client = as_(dw.dispatcher)
    assert get(client, "?region=987654").status_code == 404
    assert get(client, "?region=east").status_code == 404


def test_the_cockpit_needs_a_sign_in_and_is_linked_from_the_top_bar(client, as_, dw):
    response = client.get(COCKPIT)
    assert response.status_code == 302 and reverse("login") in response.url
    home = as_(dw.dispatcher).get(reverse("web:home")).content.decode()
    assert f'href="{COCKPIT}"' in home


# --- 未诉先办: a proactive demand from a warning ------------------------------------------------------

def act(client, warning, **data):
    with clock.frozen_at(NOW):
        return client.post(reverse("insight:act_on_warning", args=[warning.pk]), data)


def test_the_dispatcher_sees_the_button_and_opens_a_proactive_demand(as_, dw, cockpit):
    client = as_(dw.dispatcher)
    warning = cockpit["warning"]
    page = get(client).content.decode()
    assert f'action="{reverse("insight:act_on_warning", args=[warning.pk])}"' in page
    assert [row["can_act"] for row in get(client).context["warnings"]] == [True]

    response = act(client, warning, region=dw.world.street.pk)
    demand = Demand.objects.get(channel=Demand.Channel.PROACTIVE)
    assert response.status_code == 302 and response.url == reverse("demands:detail", args=[demand.number])
    warning.refresh_from_db()
    assert (warning.state, warning.demand) == (Warning.State.ACTED, demand)
    assert (demand.grid, demand.category.code) == (dw.world.grid_a1, "environment.garbage")
    assert demand.number in client.get(response.url).content.decode()
    assert get(client).context["warnings"] == []  # no longer open


def test_a_resident_cannot_act_on_a_warning_nor_learn_it_exists_and_nothing_is_created(as_, dw, cockpit):
    before = Demand.objects.count()
    response = act(as_(dw.resident), cockpit["warning"])
    assert response.status_code == 404  # the analysis is for officials: to a resident no warning exists
    assert Demand.objects.count() == before and not Demand.objects.filter(channel="proactive").exists()
    cockpit["warning"].refresh_from_db()
    assert cockpit["warning"].state == Warning.State.OPEN


def test_an_overseer_who_does_not_dispatch_is_sent_back_with_the_reason(as_, dw, cockpit):
    client = as_(dw.world.secretary_a)  # the party secretary oversees community A but has no dispatch desk
    assert [row["can_act"] for row in get(client).context["warnings"]] == [False]
    assert "insight-act" not in get(client).content.decode().split('id="warnings"')[1].split('id="agenda"')[0]
    response = act(client, cockpit["warning"], region=dw.world.community_a.pk)
    assert response.status_code == 302
    assert response.url == f"{COCKPIT}?region={dw.world.community_a.pk}&error=forbidden#warnings"
    assert not Demand.objects.filter(channel="proactive").exists()
    assert "无权执行此操作" in client.get(response.url).content.decode()  # the refusal, in the page's language


def test_a_warning_already_acted_on_is_not_acted_on_twice(as_, dw, cockpit):
    client = as_(dw.dispatcher)
    assert act(client, cockpit["warning"]).status_code == 302
    again = act(client, cockpit["warning"])
    assert again.status_code == 302 and "error=warning_not_open" in again.url
    assert Demand.objects.filter(channel="proactive").count() == 1


def test_acting_needs_a_post_and_an_existing_warning(as_, dw, cockpit):
    client = as_(dw.dispatcher)
    with clock.frozen_at(NOW):
        assert client.get(reverse("insight:act_on_warning", args=[cockpit["warning"].pk])).status_code == 405
    assert client.post(reverse("insight:act_on_warning", args=[987654])).status_code == 404
    assert not Demand.objects.filter(channel="proactive").exists()
