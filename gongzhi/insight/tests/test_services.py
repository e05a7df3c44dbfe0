"""insight over the database: the classifier proposes categories to the demands loop (applied when sure,
shown at the desk least-sure first otherwise), retraining from handled demands, similar demands and issues,
hot spots with their warnings, proactive demands from warnings, the agenda's evidence without personal data."""

import datetime as dt

import pytest

from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.demands import hooks
from gongzhi.demands import services as demands
from gongzhi.demands.models import Demand
from gongzhi.demands.queries import at_desk
from gongzhi.demands.tests.conftest import dw, ledger_keys  # noqa: F401 (fixtures)
from gongzhi.demands.tests.factories import IN_A1, IN_A2, IN_B1, THURSDAY_9AM
from gongzhi.insight import services, textclass
from gongzhi.insight.models import ClassifierModel, DemandProfile, HotSpot, Issue, Warning

pytestmark = pytest.mark.django_db

GARBAGE = ["小区门口垃圾堆了三天没人清运", "垃圾桶满了没人倒，味道很大", "楼下垃圾站臭气熏天", "垃圾清运不及时，苍蝇很多"]
NOISE = ["楼上装修早上六点就砸墙", "广场舞音响太吵影响休息", "夜里工地施工噪音扰民", "KTV半夜还在唱歌很吵"]


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    services.active_model.forget()
    yield tmp_path
    services.active_model.forget()


def trained(texts_by_code: dict[str, list[str]], repeat: int = 6) -> ClassifierModel:
    texts, labels = [], []
    for code, texts_of_code in texts_by_code.items():
        for i in range(repeat):
            for text in texts_of_code:
                texts.append(f"{text}{'，' * (i % 3)}")
                labels.append(code)
    return services.register_model(textclass.TextClassifier().fit(texts, labels), source="csv")


def test_a_confident_proposal_classifies_and_routes_the_demand_at_once(dw, model_dir, settings):
    settings.GONGZHI_AUTO_CLASSIFY_CONFIDENCE = 0.5
    trained({"environment.garbage": GARBAGE, "environment.noise": NOISE})
    demand = dw.file(text="垃圾站的垃圾好几天没人清运了")
    assert demand.category.code == "environment.garbage"
    assert demand.suggested_category.code == "environment.garbage" and demand.suggestion_confidence >= 0.5
    filed = Event.objects.get(kind="demands.file", subject_id=str(demand.pk))
    assert filed.data["category_source"] == "classifier"


def test_an_unsure_proposal_waits_at_the_desk_and_the_least_sure_come_first(dw, model_dir, settings):
    settings.GONGZHI_AUTO_CLASSIFY_CONFIDENCE = 1.01  # never sure enough: a person decides
    trained({"environment.garbage": GARBAGE, "environment.noise": NOISE})
    clear = dw.file(text="小区门口垃圾堆了三天没人清运")
    vague = dw.file(text="有个情况想反映一下")
    for demand in (clear, vague):
        assert demand.category is None and demand.state == "received" and demand.suggested_category is not None
    assert clear.suggestion_confidence > vague.suggestion_confidence
    assert list(at_desk(dw.dispatcher, order="least_sure"))[:2] == [vague, clear]


def test_without_an_active_model_demands_wait_for_triage_as_before(dw, model_dir):
    demand = dw.file(text="小区门口垃圾堆了三天没人清运")
    assert demand.category is None and demand.suggested_category is None and demand.suggestion == {}


def test_a_failing_proposer_does_not_stop_the_filing(dw, model_dir):
    def broken(text):
        raise RuntimeError("model file gone")

    hooks.register("propose_category", broken)
    try:
        demand = dw.file()
    finally:
        hooks.register("propose_category", services.propose_category)
    assert demand.pk and demand.category is None


def test_retraining_learns_from_handled_demands_and_versions_the_model(dw, model_dir):
    with pytest.raises(ValidationFailed):
        services.train_from_demands()  # nothing handled yet
    for i in range(12):
        dw.closed(text=GARBAGE[i % 4] + "。" * i, category="environment.garbage")
        dw.closed(text=NOISE[i % 4] + "。" * i, category="environment.noise")
    first = services.train_from_demands()
    assert first.is_active and first.training_size == 24 and first.evaluation["macro_f1"] > 0.8
    assert sorted(first.labels) == ["environment.garbage", "environment.noise"]
    assert (model_dir / first.file).exists()
    second = services.train_from_demands()
    first.refresh_from_db()
    assert second.pk > first.pk and second.is_active and not first.is_active
    assert Event.objects.filter(kind="insight.train").count() == 2


def test_a_tampered_model_file_is_not_used(dw, model_dir, settings):
    settings.GONGZHI_AUTO_CLASSIFY_CONFIDENCE = 0.0
    row = trained({"environment.garbage": GARBAGE, "environment.noise": NOISE})
    path = model_dir / row.file
    path.write_bytes(path.read_bytes() + b"tampered")
    services.active_model.forget()
    assert services.propose_category("垃圾没人清运") is None


def test_similar_open_demands_nearby_are_found_and_far_ones_are_not(dw, model_dir):
    original = dw.file(text="东园路1号门口垃圾堆了三天没人清运，臭味很大")
    dw.file(text="楼上装修早上六点就开始砸墙", where=IN_A2)
    far = dw.file(text="东园路1号门口垃圾堆了三天没人清运，臭味很大", where=IN_B1,
                  at=THURSDAY_9AM - dt.timedelta(days=200))
    services.profile_new_demands()
    again = dw.file(text="东园路1号门口的垃圾三天了都没人来清运", at=THURSDAY_9AM + dt.timedelta(days=1))
    found = services.similar_demands(again, user=dw.dispatcher)
    assert found and found[0].number == original.number
    assert far.number not in [s.number for s in found]
    assert found[0].score > 0.2 and "similarity" in found[0].parts


def test_demands_about_one_thing_join_one_issue_and_others_found_their_own(dw, model_dir):
    first = dw.file(text="东园路1号门口垃圾堆了三天没人清运")
    second = dw.file(text="东园路1号门口垃圾三天没人清运了，味道很大", at=THURSDAY_9AM + dt.timedelta(hours=5))
    other = dw.file(text="广场舞音响太吵影响休息", at=THURSDAY_9AM + dt.timedelta(hours=6))
    assert services.profile_new_demands() == 3
    issue_of = {p.demand_id: p.issue_id for p in DemandProfile.objects.all()}
    assert issue_of[first.pk] == issue_of[second.pk] != issue_of[other.pk]
    issue = Issue.objects.get(pk=issue_of[first.pk])
    assert issue.volume == 2 and issue.reporters == 1 and issue.unresolved == 2 and issue.heat > 0
    assert services.profile_new_demands() == 0  # idempotent


def plant_history(dw, *, weeks: int = 20, burst: int = 0):
    """A quiet history of garbage demands in every grid, and `burst` more in grid A1 in the last week."""
    today = THURSDAY_9AM.date()
    last_monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(days=7)
    for week in range(weeks):
        monday = last_monday - dt.timedelta(weeks=weeks - 1 - week)
        for where in (IN_A1, IN_A2, IN_B1):
            at = dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(10), tzinfo=THURSDAY_9AM.tzinfo)
            dw.file(text="垃圾没人清运", where=where, at=at, category="environment.garbage")
    for i in range(burst):
        at = dt.datetime.combine(last_monday + dt.timedelta(days=i % 5), dt.time(9 + i % 8), tzinfo=THURSDAY_9AM.tzinfo)
        dw.file(text=f"垃圾站满了{i}", where=IN_A1, at=at, category="environment.garbage")


def test_a_burst_in_one_grid_is_a_hot_spot_with_a_warning_for_the_responsible_unit(dw, model_dir):
    plant_history(dw, burst=15)
    report = services.analyse_hot_spots(today=THURSDAY_9AM.date())
    assert [(h.grid, h.category.code) for h in report.hot_spots] == [(dw.world.grid_a1, "environment")]
    spot = report.hot_spots[0]
    assert spot.observed == 16 and spot.ratio > 5 and spot.q <= 0.05
    assert "东园一网格" in spot.explanation_zh
    assert len(report.warnings) == 1 and report.warnings[0].grid == dw.world.grid_a1
    again = services.analyse_hot_spots(today=THURSDAY_9AM.date())
    assert len(again.hot_spots) == 1 and again.warnings == []  # the same warning is not raised twice


def test_a_quiet_history_raises_no_hot_spot(dw, model_dir):
    plant_history(dw, burst=0)
    report = services.analyse_hot_spots(today=THURSDAY_9AM.date())
    assert report.hot_spots == [] and not HotSpot.objects.exists() and not Warning.objects.exists()


def test_a_dispatcher_opens_a_proactive_demand_from_a_warning_and_a_resident_cannot(dw, model_dir):
    plant_history(dw, burst=15)
    warning = services.analyse_hot_spots(today=THURSDAY_9AM.date()).warnings[0]
    before = Demand.objects.count()
    with pytest.raises(PermissionDenied):
        services.open_proactive_demand(dw.resident, warning)
    assert Demand.objects.count() == before
    demand = services.open_proactive_demand(dw.dispatcher, warning)
    warning.refresh_from_db()
    assert demand.channel == "proactive" and demand.grid == dw.world.grid_a1
    assert demand.category.code == "environment" and warning.state == "acted" and warning.demand == demand
    with pytest.raises(ValidationFailed):
        services.open_proactive_demand(dw.dispatcher, warning)  # once only


def test_repeatedly_reopened_demands_at_one_building_raise_a_warning(dw, model_dir):
    for _ in range(2):
        demand = dw.closed()
        demands.rate(dw.resident, demand, solved=False, satisfaction="not_satisfied")
    warnings = services.warn_repeated_reopens(threshold=2)
    assert len(warnings) == 1 and warnings[0].building == dw.world.building_a1
    assert warnings[0].kind == "repeated_reopen"


def test_agenda_evidence_carries_no_phone_or_name(dw, model_dir):
    dw.file(text="我是张三，电话13900001111，东园路1号门口垃圾三天没人清运")
    dw.file(text="东园路1号门口垃圾三天没人清运，张三也反映过", at=THURSDAY_9AM + dt.timedelta(hours=3))
    services.profile_new_demands()
    items = services.agenda(dw.world.community_a)
    assert len(items) == 1 and items[0].issue.volume == 2
    text = " ".join(items[0].samples)
    assert "13900001111" not in text and "张三" not in text and "139****1111" in text


def test_the_agendas_of_many_communities_take_the_same_few_queries(dw, model_dir, django_assert_max_num_queries):
    texts = ["东园路1号门口垃圾三天没人清运", "东园路1号门口垃圾没人清运，味道很大", "东园路1号垃圾堆满了没人清运",
             "东园路1号门口垃圾清运不及时"]
    for hours, text in enumerate(texts):
        dw.file(text=text, at=THURSDAY_9AM + dt.timedelta(hours=hours))
    for hours, text in enumerate(texts[:2]):
        dw.file(text=text, where=IN_B1, at=THURSDAY_9AM + dt.timedelta(hours=hours))
    services.profile_new_demands()
    a, b = dw.world.community_a, dw.world.community_b
    with django_assert_max_num_queries(2):
        found = services.agendas([a, b], limit=5)
    assert [len(found[a.pk]), len(found[b.pk])] == [1, 1]
    assert found[a.pk][0].issue.volume == 4 and len(found[a.pk][0].samples) == 3  # the three newest as evidence
    assert found[a.pk][0].samples[0].endswith("门口垃圾清运不及时")  # the newest first
    assert [item.issue for item in found[b.pk]] == [item.issue for item in services.agenda(b)]
    assert services.agendas([a], limit=0) == {a.pk: []}


def test_reply_check_names_what_a_generic_reply_is_missing(dw, model_dir):
    demand = dw.file(text="3号楼门口垃圾堆了三天没人清运")
    generic = services.check_reply(demand, "您反映的问题已收悉，我们将认真研究。")
    full = services.check_reply(demand, "已安排环卫公司于11月26日上午将3号楼门口垃圾清运完毕，并要求物业每日巡查。")
    assert generic["score"] < full["score"]
    assert "no_action" in generic["missing"] and "no_action" not in full["missing"]


def test_the_dispatcher_sees_similar_demands_on_the_page_and_merges_in_one_click(client, dw, model_dir):
    original = dw.file(text="东园路1号门口垃圾堆了三天没人清运，臭味很大")
    services.profile_new_demands()
    again = dw.file(text="东园路1号门口的垃圾三天了都没人来清运", at=THURSDAY_9AM + dt.timedelta(hours=2))
    client.force_login(dw.dispatcher)
    page = client.get(f"/demands/{again.number}/").content.decode()
    assert original.number in page and "similar-list" in page
    client.post(f"/demands/{again.number}/actions/merge/", {"original": original.number, "view": "detail"})
    again.refresh_from_db()
    assert again.state == "merged" and again.merged_into == original
    client.force_login(dw.resident)  # the reporter may not merge: no suggestions shown
    assert "similar-list" not in client.get(f"/demands/{again.number}/").content.decode()


def test_the_handler_checks_a_reply_before_sending_it(client, dw, model_dir):
    demand = dw.dispatched(text="3号楼门口垃圾堆了三天没人清运")
    demands.accept(dw.handler, demand)
    client.force_login(dw.handler)
    page = client.get(f"/demands/{demand.number}/").content.decode()
    assert "reply-check" in page
    answer = client.post(f"/demands/{demand.number}/reply-check/", {"text": "您反映的问题已收悉。"}).content.decode()
    assert "/ 100" in answer and "<li>" in answer
    client.force_login(dw.resident)
    assert client.post(f"/demands/{demand.number}/reply-check/", {"text": "x"}).status_code == 403


def test_the_api_offers_similar_demands_to_dispatchers_only(client, dw, model_dir):
    from gongzhi.core.models import ApiToken

    original = dw.file(text="东园路1号门口垃圾堆了三天没人清运，臭味很大")
    services.profile_new_demands()
    again = dw.file(text="东园路1号门口的垃圾三天了都没人来清运", at=THURSDAY_9AM + dt.timedelta(hours=2))
    _, desk = ApiToken.issue(dw.dispatcher)
    found = client.get(f"/api/v1/demands/{again.number}/similar", headers={"Authorization": f"Bearer {desk}"})
    assert found.status_code == 200 and found.json()[0]["number"] == original.number
    _, resident = ApiToken.issue(dw.resident)
    refused = client.get(f"/api/v1/demands/{again.number}/similar", headers={"Authorization": f"Bearer {resident}"})
    assert refused.status_code == 403


def test_a_category_rising_three_weeks_running_raises_a_warning_before_it_is_a_hot_spot(dw, model_dir):
    today = THURSDAY_9AM.date()
    last_monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(days=7)
    for weeks_ago, n in ((3, 1), (2, 2), (1, 3), (0, 4)):  # 1, 2, 3, 4 a week in grid B1
        monday = last_monday - dt.timedelta(weeks=weeks_ago)
        for i in range(n):
            at = dt.datetime.combine(monday + dt.timedelta(days=i), dt.time(10), tzinfo=THURSDAY_9AM.tzinfo)
            dw.file(text="噪音扰民", where=IN_B1, at=at, category="environment.noise")
    report = services.analyse_hot_spots(today=today, weeks=8)
    rising = [w for w in report.warnings if w.kind == "rising"]
    assert len(rising) == 1 and rising[0].grid == dw.world.grid_b1
    # From none five weeks ago: four rises running.
    assert "连续4周上升" in rising[0].message_zh and rising[0].evidence["weekly"] == [0, 1, 2, 3, 4]


def test_a_regions_hot_spots_come_from_the_latest_analysis_that_covered_it(dw, model_dir):
    from gongzhi.insight import queries

    plant_history(dw, burst=15)
    whole = services.analyse_hot_spots(today=THURSDAY_9AM.date()).run           # every grid: A1 is hot
    only_a = services.analyse_hot_spots(dw.world.community_a, today=THURSDAY_9AM.date()).run  # later, A only
    assert queries.latest_run(dw.world.community_a) == only_a
    assert queries.latest_run(dw.world.community_b) == whole  # A's run does not cover B
    assert queries.latest_run(dw.world.grid_a1) == only_a
    assert list(queries.hot_spots(dw.world.community_b)) == []
    assert [h.grid for h in whole.hot_spots.all()] == [dw.world.grid_a1]
