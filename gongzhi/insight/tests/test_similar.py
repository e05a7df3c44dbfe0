"""Similar demands and issues on synthetic Chinese demand texts: signatures, the index's suggestions among
many unrelated demands, and incremental clustering. No database. bench/bench_similar.py uses the same
generator at 1,000,000 demands."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gongzhi.insight.similar import (MAX_FEATURES, Demand, IssueClusterer, Signature, SimilarityIndex,
                                     signature, similarity)

# --- synthetic demands -------------------------------------------------------------------------------

STEMS = ("幸福", "和平", "朝阳", "金色阳光", "怡景", "翠微", "丰台", "南湖", "望京", "双井", "光明", "育新", "枣营", "青年",
         "广渠", "永定", "马家堡", "天通", "回龙", "团结", "安贞", "和义", "方庄", "劲松", "八里庄", "甘家口", "百万庄", "左家庄")
SUFFIXES = ("小区", "家园", "西里", "花园", "苑", "北里", "新村")
PLACES = tuple(stem + suffix for suffix in SUFFIXES for stem in STEMS)
BUILDINGS = ("1号楼", "2号楼", "3号楼", "5号楼", "6号楼", "8号楼", "11号楼", "12号楼", "15号楼", "甲2号楼")
# Ten complaints, each a list of clauses; each clause has interchangeable wordings. The first clause names
# the matter, the last asks for something.
COMPLAINTS = (
    (("楼道的灯坏了", "楼道灯不亮了", "楼道里的灯坏了"), ("好几天了", "已经一个多星期", "坏了很久"),
     ("晚上上下楼看不见", "晚上楼道里黑乎乎的", "老人晚上走楼梯很危险"), ("希望物业来修灯", "请物业把灯修好")),
    (("门口的垃圾没人清运", "门口垃圾堆着没人收", "垃圾桶满了没人清"), ("堆了三天", "好几天没人管"),
     ("味道很大", "臭味很重", "苍蝇蚊子很多"), ("希望尽快清运垃圾", "请环卫来清理垃圾")),
    (("有住户装修砸墙", "楼上装修噪音太大", "有人家装修天天打钻"), ("早上七点就开始", "不到八点就开始响"),
     ("吵得没法休息", "影响老人孩子休息"), ("希望管一管装修时间", "请规定装修时间")),
    (("消防通道被私家车占用", "消防通道停满了车", "消防通道天天被车堵着"), ("长期没人管", "一直这样"),
     ("着火了消防车进不来", "存在安全隐患"), ("希望清理占道车辆", "请把车挪走")),
    (("楼顶漏水", "屋顶漏雨", "顶层一下雨就漏水"), ("家里墙面都湿了", "墙皮都泡掉了"),
     ("找物业一直没人管", "物业推来推去不给修"), ("希望尽快修好楼顶防水", "请督促物业修屋顶")),
    (("暖气不热", "暖气片冰凉", "供暖温度不达标"), ("屋里只有十五度", "室温才十几度"),
     ("家里有老人孩子受不了", "冻得睡不着"), ("希望供热公司来看看", "请供热单位上门检查")),
    (("门口路面有个大坑", "门口马路塌了一个坑", "外面路上有个坑"), ("下雨积水很深", "一直没人补"),
     ("骑车经过容易摔倒", "电动车过去很危险"), ("希望尽快修补路面", "请把坑填上")),
    (("有人遛狗不拴绳", "遛狗不牵绳的人很多", "大狗不拴绳乱跑"), ("狗到处大小便", "狗屎遍地"),
     ("还吓到小孩", "孩子被狗追"), ("希望管管不文明养犬", "请加强养犬管理")),
    (("底商餐馆油烟直排", "楼下饭店排油烟没有净化", "一层饭馆的油烟往楼上排"), ("熏得不敢开窗", "家里全是油烟味"),
     ("每天中午晚上都这样", "已经好几个月"), ("希望查一查油烟净化", "请环保部门检查")),
    (("电梯经常坏", "电梯三天两头出故障", "电梯老是停运"), ("上周还困过人", "前几天把人关在里面"),
     ("物业也不修", "太吓人了"), ("希望尽快维修电梯", "请检测电梯安全")),
)
OPENINGS = ("", "", "您好，", "你好，我要反映一个问题，", "我是这里的居民，", "市民来电反映：")
CLOSINGS = ("", "", "谢谢！", "麻烦尽快处理。", "已经反映过好几次了。")
EXTRAS = ("", "", "真的", "实在是", "一直", "特别")


def wording(rng, kind: int) -> list[int]:
    """A random choice of wording for each clause of complaint `kind`."""
    return [int(rng.integers(len(clause))) for clause in COMPLAINTS[kind]]


def reword(rng, kind: int, words: list[int], changes: int = 1) -> list[int]:
    """The same complaint with `changes` clauses said another way."""
    words = list(words)
    for clause in rng.choice(len(words), changes, replace=False):
        words[clause] = int(rng.choice([i for i in range(len(COMPLAINTS[kind][clause])) if i != words[clause]]))
    return words


def demand_text(rng, kind: int, words: list[int], place: str, building: str) -> str:
    """The text of a demand: place and building, then the clauses (the middle ones sometimes swapped), with a
    random opening, closing and filler word, and sometimes spaces and exclamation marks as punctuation."""
    clauses = [COMPLAINTS[kind][c][w] for c, w in enumerate(words)]
    middle = clauses[1:-1]
    if rng.random() < 0.3:
        middle.reverse()
    middle[0] = EXTRAS[int(rng.integers(len(EXTRAS)))] + middle[0]
    text = (OPENINGS[int(rng.integers(len(OPENINGS)))] + place + building + "，".join([clauses[0], *middle, clauses[-1]])
            + "。" + CLOSINGS[int(rng.integers(len(CLOSINGS)))])
    return text.replace("，", " ").replace("。", "！") if rng.random() < 0.3 else text


class City:
    """A rows × cols lattice of grids about 500 m a side near Beijing, three named places per grid, and
    buildings along each place; `point` is a building's position."""

    LON0, LAT0, STEP_LON, STEP_LAT = 116.30, 39.90, 0.0058, 0.0045

    def __init__(self, rows: int, cols: int, seed: int = 0):
        self.rows, self.cols = rows, cols
        names = list(PLACES)
        np.random.default_rng(seed).shuffle(names)
        self.places = {g: [names[(3 * g + j) % len(names)] for j in range(3)] for g in range(rows * cols)}

    def neighbours(self) -> dict[int, list[int]]:
        """Edge-sharing grids; each pair listed once (the index makes it symmetric)."""
        out = {}
        for g in range(self.rows * self.cols):
            r, c = divmod(g, self.cols)
            out[g] = [g + 1] * (c + 1 < self.cols) + [g + self.cols] * (r + 1 < self.rows)
        return out

    def point(self, grid: int, place: int, building: int) -> tuple[float, float]:
        r, c = divmod(grid, self.cols)
        return (self.LON0 + self.STEP_LON * (c + 0.2 + 0.3 * place + 0.02 * building),
                self.LAT0 + self.STEP_LAT * (r + 0.3 + 0.05 * building))


START = dt.datetime(2026, 9, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def background(rng, city: City, n: int, days: float, first_id: int = 0):
    """`n` demands about random complaints at random places, over `days` from START: (Demand, (grid, kind,
    place, building))."""
    out = []
    for i in range(n):
        grid, kind = int(rng.integers(city.rows * city.cols)), int(rng.integers(len(COMPLAINTS)))
        place, building = int(rng.integers(3)), int(rng.integers(6))
        lon, lat = city.point(grid, place, building)
        text = demand_text(rng, kind, wording(rng, kind), city.places[grid][place], BUILDINGS[building])
        at = START + dt.timedelta(days=float(rng.uniform(0, days)))
        out.append((Demand(first_id + i, signature(text), grid, lon, lat, at, category=kind,
                           reporter=int(rng.integers(10**6))), (grid, kind, place, building)))
    return out


# --- signatures ---------------------------------------------------------------------------------------

chinese_text = st.text(alphabet=st.sampled_from("幸福小区楼道灯坏了垃圾没人清运噪音扰民您好谢谢3号楼ABC abc，。！ 　"),
                       max_size=60)


@given(chinese_text)
def test_a_signature_survives_a_round_trip_through_bytes(text):
    sig = signature(text)
    data = sig.to_bytes()
    assert isinstance(data, bytes) and len(data) == 1 + 6 * len(sig)
    assert Signature.from_bytes(data) == sig
    assert Signature.from_bytes(data).norm == sig.norm


@given(chinese_text, chinese_text)
@settings(max_examples=150)
def test_similarity_is_symmetric_in_the_unit_interval_and_one_with_itself(a, b):
    sa, sb = signature(a), signature(b)
    assert similarity(sa, sb) == similarity(sb, sa)
    assert 0.0 <= similarity(sa, sb) <= 1.0
    if len(sa):
        assert similarity(sa, sa) == pytest.approx(1.0)
    else:
        assert similarity(sa, sa) == 0.0


def test_width_case_spaces_and_punctuation_do_not_change_a_signature():
    assert signature("幸福小区３号楼 ＡＢＣ，楼道灯坏了！") == signature("幸福小区3号楼abc。楼道 灯坏了")
    assert signature("楼道灯坏了") != signature("楼道灯好了")


def test_stock_phrases_count_less_than_the_matter():
    politeness = similarity(signature("您好，希望尽快处理，谢谢！楼道灯坏了"), signature("您好，希望尽快处理，谢谢！垃圾没人清"))
    matter = similarity(signature("楼道灯坏了"), signature("楼道的灯坏了好几天"))
    assert politeness < 0.3 < matter


def test_a_long_text_keeps_a_consistent_sample_of_its_ngrams():
    rng = np.random.default_rng(1)
    long_text = "".join(demand_text(rng, k, wording(rng, k), PLACES[k], BUILDINGS[k]) for k in range(10))
    longer = long_text + "另外小区绿化也没人管。"
    assert len(signature(long_text)) == MAX_FEATURES
    assert similarity(signature(long_text), signature(longer)) > 0.9


def test_bytes_that_are_not_a_signature_are_refused():
    for data in (b"", b"\x02abcdef", b"\x01abc"):
        with pytest.raises(ValueError):
            Signature.from_bytes(data)


# --- suggestions ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crowded():
    """3,000 demands about ten complaints over 60 days in a 10 × 10 lattice (about 15 per grid and month),
    and 20 planted complaints, each at a (grid, place) where no demand nearby is about the same thing
    (otherwise the background would hold true duplicates of it)."""
    rng = np.random.default_rng(2026)
    city = City(10, 10)
    index = SimilarityIndex(city.neighbours())
    spots = [(int(grid), int(rng.integers(len(COMPLAINTS)))) for grid in rng.choice(100, 20, replace=False)]
    reserved = {(near, kind) for grid, kind in spots for near in (grid, *index.neighbours[grid])}
    for demand, (grid, kind, _, _) in background(rng, city, 3300, 60):
        if (grid, kind) not in reserved:
            index.add(demand)
    planted = []
    for n, (grid, kind) in enumerate(spots):
        place, building = int(rng.integers(3)), int(rng.integers(6))
        words = wording(rng, kind)
        lon, lat = city.point(grid, place, building)
        at = START + dt.timedelta(days=float(rng.uniform(20, 50)))
        text = demand_text(rng, kind, words, city.places[grid][place], BUILDINGS[building])
        original = Demand(10_000 + n, signature(text), grid, lon, lat, at)
        index.add(original)
        duplicate = demand_text(rng, kind, reword(rng, kind, words), city.places[grid][place], BUILDINGS[building])
        planted.append((original, signature(duplicate), at + dt.timedelta(days=float(rng.uniform(1, 6)))))
    return city, index, planted


def test_a_reworded_duplicate_finds_its_original_first_with_a_clearly_higher_score(crowded):
    city, index, planted = crowded
    for original, duplicate, at in planted:
        matches = index.similar(duplicate, original.grid, original.lon + 0.0003, original.lat, at, limit=10,
                                min_similarity=0.0)
        assert matches[0].demand_id == original.id
        assert matches[0].score >= 2 * matches[1].score
        assert matches[0].similarity >= 0.3


def test_with_the_default_threshold_unrelated_demands_are_not_suggested_at_all(crowded):
    city, index, planted = crowded
    suggested = [index.similar(duplicate, o.grid, o.lon, o.lat, at) for o, duplicate, at in planted]
    assert [[m.demand_id for m in matches] for matches in suggested] == [[o.id] for o, _, _ in planted]


def test_the_same_text_in_a_grid_that_is_not_adjacent_is_not_suggested():
    city = City(5, 5)
    index = SimilarityIndex(city.neighbours())
    text = signature("幸福小区3号楼楼道的灯坏了，好几天了，晚上上下楼看不见，希望物业来修灯。")
    for demand_id, grid in ((1, 12), (2, 13), (3, 14), (4, 24)):  # 12 is the query's grid, 13 is adjacent
        index.add(Demand(demand_id, text, grid, *city.point(grid, 0, 0), START))
    matches = index.similar(text, 12, *city.point(12, 0, 0), START + dt.timedelta(days=2))
    assert [m.demand_id for m in matches] == [1, 2]
    same, adjacent = matches
    assert same.similarity == pytest.approx(1.0) and adjacent.similarity == pytest.approx(1.0)
    assert adjacent.distance_m == pytest.approx(abs(city.STEP_LON) * 85_300, rel=0.02)  # one grid east
    assert adjacent.distance_factor < same.distance_factor


def test_closed_demands_and_demands_outside_the_window_are_left_out():
    index = SimilarityIndex()
    text = signature("和平家园5号楼门口的垃圾没人清运，堆了三天，臭味很重。")
    lon, lat = 116.3, 39.9
    index.add(Demand(1, text, 7, lon, lat, START))
    index.add(Demand(2, text, 7, lon, lat, START + dt.timedelta(days=20), is_open=False))
    index.add(Demand(3, text, 7, lon, lat, START - dt.timedelta(days=40)))
    at = START + dt.timedelta(days=25)
    assert [m.demand_id for m in index.similar(text, 7, lon, lat, at)] == [1]
    assert [m.demand_id for m in index.similar(text, 7, lon, lat, at, open_only=False)] == [2, 1]
    index.set_open(1, False)
    assert index.similar(text, 7, lon, lat, at) == []


def test_a_match_gives_its_score_and_the_parts_it_is_made_of():
    index = SimilarityIndex({1: [2]}, distance_half_m=500, time_half_days=14)
    text = signature("南湖东园8号楼电梯经常坏，上周还困过人，物业也不修。")
    index.add(Demand(1, text, 1, 116.30, 39.90, START))
    index.add(Demand(2, text, 2, None, None, START))
    at = START + dt.timedelta(days=14)
    near, far = sorted(index.similar(text, 1, 116.30, 39.90 + 500 / 111_000, at), key=lambda m: m.demand_id)
    assert near.distance_m == pytest.approx(500, rel=0.01) and near.distance_factor == pytest.approx(0.5, rel=0.01)
    assert near.days_apart == pytest.approx(14) and near.time_factor == pytest.approx(0.5)
    assert near.score == pytest.approx(near.similarity * near.distance_factor * near.time_factor)
    assert far.distance_m is None and far.distance_factor == 0.5  # no point, neighbouring grid
    assert [m.demand_id for m in index.similar(text, 1, None, None, at)] == [1, 2]  # same grid 1.0, neighbour 0.5


def test_category_and_exclusions_narrow_the_suggestions():
    index = SimilarityIndex()
    text = signature("光明里2号楼暖气不热，屋里只有十五度。")
    for demand_id, category in ((1, "heating"), (2, "housing"), (3, "heating")):
        index.add(Demand(demand_id, text, 5, 116.3, 39.9, START, category=category))
    found = index.similar(text, 5, 116.3, 39.9, START, category="heating", exclude=[1])
    assert [m.demand_id for m in found] == [3]
    assert index.similar(text, 5, 116.3, 39.9, START, category="unknown") == []
    with pytest.raises(ValueError):
        index.add(Demand(1, text, 5, 116.3, 39.9, START))


def test_forgetting_old_demands_keeps_the_answers_about_recent_ones():
    rng = np.random.default_rng(5)
    city = City(4, 4)
    index = SimilarityIndex(city.neighbours())
    demands = background(rng, city, 600, 120)
    for demand, _ in demands:
        index.add(demand)
    query, _ = demands[-1]
    at = START + dt.timedelta(days=119)
    before = index.similar(query.signature, query.grid, query.lon, query.lat, at, min_similarity=0.0, limit=50)
    cutoff = START + dt.timedelta(days=80)
    forgotten = index.forget_before(cutoff)
    assert forgotten == sum(d.at < cutoff for d, _ in demands) and len(index) == 600 - forgotten
    after = index.similar(query.signature, query.grid, query.lon, query.lat, at, min_similarity=0.0, limit=50)
    assert [(m.demand_id, round(m.score, 9)) for m in after] == [(m.demand_id, round(m.score, 9)) for m in before]
    assert all(demand.id in index for demand, _ in demands if demand.at >= cutoff)


# --- issues ---------------------------------------------------------------------------------------------

def test_a_reworded_complaint_makes_one_issue_and_other_complaints_in_the_same_building_their_own():
    rng = np.random.default_rng(7)
    city = City(6, 6)
    clusterer = IssueClusterer(city.neighbours())
    grid, place, building, kind = 14, 1, 2, 0  # the stair lights of one building
    # Nothing else about stair lights nearby, or the background would hold true members of the issue.
    feed = [demand for demand, (g, k, _, _) in background(rng, city, 400, 30) if not (g in (8, 13, 14, 15, 20)
                                                                                      and k == kind)]
    words = wording(rng, kind)
    lon, lat = city.point(grid, place, building)
    planted = []
    for n in range(5):
        text = demand_text(rng, kind, reword(rng, kind, words), city.places[grid][place], BUILDINGS[building])
        planted.append(Demand(20_000 + n, signature(text), grid, lon, lat, START + dt.timedelta(days=2 * n + 1),
                              reporter=f"resident-{n % 4}"))
    others = [Demand(30_000 + k, signature(demand_text(rng, k, wording(rng, k), city.places[grid][place],
                                                       BUILDINGS[building])), grid, lon, lat,
                     START + dt.timedelta(days=k + 2)) for k in (1, 2, 3)]
    feed = sorted(feed + planted + others, key=lambda d: d.at)
    for demand in feed:
        clusterer.add(demand)

    issue = clusterer.issues[clusterer.issue_of(planted[0].id)]
    assert [clusterer.issue_of(d.id) for d in planted] == [issue.id] * 5
    assert issue.members == [d.id for d in planted]
    assert issue.volume == 5 and len(issue.reporters) == 4
    assert (issue.first_seen, issue.last_seen) == (planted[0].at, planted[-1].at)
    assert len({clusterer.issue_of(d.id) for d in others} | {issue.id}) == 4
    clusterer.set_open(planted[0].id, False)
    clusterer.set_open(planted[0].id, False)  # twice changes nothing
    assert issue.unresolved_share == pytest.approx(4 / 5)


def test_clustering_gives_the_same_issues_for_the_same_order_of_demands():
    rng = np.random.default_rng(8)
    city = City(5, 5)
    feed = [demand for demand, _ in background(rng, city, 500, 40)]
    feed.sort(key=lambda d: d.at)
    runs = []
    for _ in range(2):
        clusterer = IssueClusterer(city.neighbours())
        runs.append([clusterer.add(demand) for demand in feed])
    assert runs[0] == runs[1]
    assert len({a.issue_id for a in runs[0]}) < len(feed)  # some demands did join issues


def test_a_demand_that_bridges_two_issues_merges_them_into_the_older():
    clusterer = IssueClusterer({1: [2]}, join_threshold=0.5, merge_threshold=0.2)
    texts = ("幸福小区3号楼门口的垃圾没人清运，堆了三天，味道很大",
             "幸福小区3号楼垃圾桶满了没人清，苍蝇蚊子很多，味道很大",
             "幸福小区3号楼门口的垃圾没人清运，垃圾桶满了没人清，苍蝇蚊子很多")
    added = [clusterer.add(Demand(i, signature(text), 1, 116.3, 39.9, START + dt.timedelta(days=i), reporter=i))
             for i, text in enumerate(texts)]
    assert [(a.issue_id, a.is_new_issue) for a in added[:2]] == [(1, True), (2, True)]
    assert added[2].issue_id == 1 and added[2].merged == (2,)
    assert list(clusterer.issues) == [1]
    assert clusterer.issues[1].members == [0, 1, 2] and clusterer.issues[1].reporters == {0, 1, 2}
    assert [clusterer.issue_of(i) for i in range(3)] == [1, 1, 1]
