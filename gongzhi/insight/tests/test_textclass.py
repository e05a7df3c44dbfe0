"""The demand-text classifier (insight.textclass): learning categories from generated Chinese demands, calibrated
confidences, the model file, margin sampling, and reading labelled CSV files. Pure Python, no database."""

import json
import random
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.insight import textclass
from gongzhi.insight.textclass import DataError, ModelFormatError, TextClassifier

# What residents complain about, per category: several wordings each, so the model must generalise over them.
PROBLEMS = {
    "市政设施": ["路灯坏了好几天", "路灯晚上不亮", "下水道井盖丢失", "人行道地砖破损", "小区供水管道爆裂", "停水三天没人修"],
    "环境卫生": ["垃圾没人清运", "垃圾桶满了发臭", "餐馆油烟扰民", "工地夜间施工噪音扰民", "河道污水直排", "广场舞噪音太大"],
    "交通出行": ["车辆乱停乱放堵路", "公交车班次太少", "停车位被长期占用", "红绿灯时间太短", "出租车拒载绕路", "路口经常堵车"],
    "教育入学": ["孩子上学学位不够", "学校乱收补课费", "幼儿园收费太高", "小学入学要求不合理", "学校食堂卫生差", "中考加分政策不公平"],
    "医疗卫生": ["医院挂号排队太久", "社区医生服务态度差", "医保报销太麻烦", "疫苗接种点太远", "药店卖假药", "诊所无证行医"],
}
PLACES = ["幸福小区", "解放路", "东湖街道", "A市B区", "阳光花园", "建设北路", "河西村", "人民广场", "光明社区", "新华街",
          "枫林小区", "火车站附近", "K3县城关镇", "滨江路", "翠竹苑"]
UNSEEN_PLACES = ["梧桐小区", "长安西路", "青山镇", "C市D区", "湖滨新村"]
OPENINGS = ["", "反映", "投诉", "关于", "请问", "举报"]
CLOSINGS = ["", "，请尽快处理", "，希望有关部门重视", "，已经持续一个月了", "！", "？", "，居民意见很大"]
UNSEEN_CLOSINGS = ["，恳请领导关注", "，多次反映无果"]


def generated_demands(n_per_label: int, seed: int, places=PLACES, closings=CLOSINGS, mislabelled=0.0):
    """(texts, labels): n_per_label demands per category, from its problems, random places and fillers; a
    `mislabelled` share of them carries another category's label, as real desks' labels sometimes do."""
    rng = random.Random(seed)
    texts, labels = [], []
    for label, problems in PROBLEMS.items():
        for _ in range(n_per_label):
            texts.append(f"{rng.choice(OPENINGS)}{rng.choice(places)}{rng.choice(problems)}{rng.choice(closings)}")
            wrong = rng.random() < mislabelled
            labels.append(rng.choice([other for other in PROBLEMS if other != label]) if wrong else label)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def training():
    return generated_demands(60, seed=1, mislabelled=0.1)


@pytest.fixture(scope="module")
def model(training):
    return TextClassifier().fit(*training)


@pytest.fixture(scope="module")
def held_out():
    """Places and closing words the model has never seen, so it must go by the problem."""
    return generated_demands(20, seed=2, places=UNSEEN_PLACES, closings=UNSEEN_CLOSINGS)


def accuracy(model, texts, labels):
    return np.mean([p.label == label for p, label in zip(model.predict(texts), labels)])


def test_a_trained_classifier_labels_unseen_demands_of_each_category(model, held_out):
    texts, labels = held_out
    assert accuracy(model, texts, labels) >= 0.9
    assert model.labels == sorted(PROBLEMS)
    assert model.training_size == 300


def test_with_shuffled_labels_the_same_texts_teach_almost_nothing(training, held_out):
    texts, labels = training
    shuffled = list(labels)
    random.Random(3).shuffle(shuffled)
    control = TextClassifier().fit(texts, shuffled)
    assert accuracy(control, *held_out) < 0.5


def test_training_keeps_an_honest_cross_validated_score(model):
    scores = model.cross_validation
    assert scores["folds"] == 5 and scores["n"] == 300
    assert 0.8 <= scores["macro_f1"] <= 1.0
    assert sum(label["support"] for label in scores["labels"].values()) == 300


def test_the_stored_figures_are_out_of_fold_not_on_the_training_data(training):
    """With labels shuffled, a model still fits its own training texts well, but classifying each text by a
    model that did not see it gives chance: the figures kept with the version (and shown to analysts) are
    the second kind (issue #17: "not figures on its own training data")."""
    texts, labels = training
    shuffled = list(labels)
    random.Random(3).shuffle(shuffled)
    control = TextClassifier().fit(texts, shuffled)
    assert accuracy(control, texts, shuffled) >= 0.9  # on its own training data: looks excellent
    assert control.cross_validation["accuracy"] < 0.5 and control.cross_validation["macro_f1"] < 0.5


def test_confidence_is_a_probability_and_alternatives_are_the_three_most_likely_labels(model, held_out):
    for prediction in model.predict(held_out[0]):
        assert 0.0 <= prediction.confidence <= 1.0
        assert len(prediction.alternatives) == 3
        assert (prediction.label, prediction.confidence) == prediction.alternatives[0]
        probabilities = [p for _, p in prediction.alternatives]
        assert probabilities == sorted(probabilities, reverse=True)
        assert len({label for label, _ in prediction.alternatives}) == 3
        assert sum(probabilities) <= 1.0 + 1e-9
    assert np.allclose(model.predict_proba(held_out[0]).sum(axis=1), 1.0)


def test_a_clear_demand_gets_a_high_confidence_and_a_mixed_one_a_lower_one(model):
    clear = model.predict_one("反映幸福小区路灯坏了好几天，路灯晚上不亮")
    mixed = model.predict_one("幸福小区路灯坏了好几天，垃圾没人清运")
    assert clear.label == "市政设施" and clear.confidence > 0.8
    assert {label for label, _ in mixed.alternatives[:2]} == {"市政设施", "环境卫生"}
    assert mixed.confidence < clear.confidence


def test_predict_one_is_the_batch_prediction_of_that_text(model, held_out):
    texts = held_out[0][:5]
    assert [model.predict_one(t) for t in texts] == model.predict(texts)
    assert model.predict([]) == []


def test_least_confident_picks_demands_that_mix_two_categories_before_clear_ones(model, held_out):
    rng = random.Random(4)
    mixed = []
    for _ in range(10):
        first, second = rng.sample(sorted(PROBLEMS), 2)
        mixed.append(f"{rng.choice(UNSEEN_PLACES)}{rng.choice(PROBLEMS[first])}，{rng.choice(PROBLEMS[second])}")
    clear = held_out[0][:40]
    picked = textclass.least_confident(model, clear + mixed, 10)
    # By chance 2 or 3 of the 10 would be mixed; the labels' noise makes a few clear demands doubtful too.
    assert sum(i >= len(clear) for i in picked) >= 7
    assert sorted(textclass.least_confident(model, mixed[:3], 10)) == [0, 1, 2]


def test_any_label_set_works_including_two_labels(training):
    texts, labels = training
    pairs = [(t, "1" if label == "交通出行" else "0") for t, label in zip(texts, labels)]
    binary = TextClassifier().fit([t for t, _ in pairs], [y for _, y in pairs])
    prediction = binary.predict_one("建设北路公交车班次太少")
    assert binary.labels == ["0", "1"] and prediction.label == "1"
    assert len(prediction.alternatives) == 2
    assert prediction.confidence == pytest.approx(1 - prediction.alternatives[1][1])


def test_training_refuses_a_label_with_a_single_example_and_a_single_label():
    with pytest.raises(DataError, match="at least 2 examples.*垃圾"):
        TextClassifier().fit(["路灯坏了", "路灯不亮", "垃圾满了"], ["路灯", "路灯", "垃圾"])
    with pytest.raises(DataError, match="two different labels"):
        TextClassifier().fit(["路灯坏了", "路灯不亮"], ["路灯", "路灯"])


def test_a_saved_model_loads_with_its_metadata_and_predicts_exactly_the_same(model, held_out, tmp_path):
    path = model.save(tmp_path / "model.bin")
    loaded = TextClassifier.load(path)
    assert loaded.predict(held_out[0]) == model.predict(held_out[0])
    header = textclass.read_model_header(path)
    assert header["format_version"] == textclass.FORMAT_VERSION
    assert header["labels"] == sorted(PROBLEMS) and header["training_size"] == 300
    assert datetime.fromisoformat(header["created_at"]).tzinfo is not None
    assert header["evaluation"]["macro_f1"] == model.cross_validation["macro_f1"]
    assert {"python", "scikit-learn", "numpy", "jieba"} <= set(header["versions"])
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]  # no temporary file left behind


def test_a_model_file_of_an_unknown_format_version_is_refused(model, tmp_path):
    path = model.save(tmp_path / "model.bin")
    first_line, _, rest = path.read_bytes().partition(b"\n")
    header = json.loads(first_line)
    header["format_version"] = textclass.FORMAT_VERSION + 1
    path.write_bytes(json.dumps(header).encode() + b"\n" + rest)
    with pytest.raises(ModelFormatError, match="format version 2"):
        TextClassifier.load(path)


def test_files_that_are_not_models_are_refused_before_unpickling(tmp_path):
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello\n")
    with pytest.raises(ModelFormatError, match="not a gongzhi text-classifier model"):
        TextClassifier.load(not_a_model)
    with pytest.raises(ModelFormatError, match="no such model file"):
        TextClassifier.load(tmp_path / "missing.bin")


def test_evaluate_reports_macro_f1_as_the_mean_of_per_label_f1(model, held_out):
    texts, labels = held_out
    result = textclass.evaluate(model, texts, labels)
    assert result["n"] == len(texts)
    assert result["macro_f1"] == pytest.approx(np.mean([s["f1"] for s in result["labels"].values()]))
    assert result["accuracy"] == pytest.approx(accuracy(model, texts, labels))
    assert np.sum(result["confusion"]["matrix"]) == len(texts) and result["messages_per_second"] > 0


def test_a_label_never_predicted_counts_as_zero_f1_in_the_macro_average():
    result = textclass.metrics(["a", "a", "b", "b"], ["a", "a", "a", "a"])
    assert result["labels"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert result["macro_f1"] == pytest.approx((2 * (0.5 * 1.0) / 1.5 + 0.0) / 2)
    assert result["accuracy"] == 0.5


# ---- normalisation


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    once = textclass.normalise(text)
    assert textclass.normalise(once) == once


@given(st.text())
def test_normalised_text_has_single_spaces_and_no_padding(text):
    normalised = textclass.normalise(text)
    assert normalised == normalised.strip() and "  " not in normalised
    assert not any(c.isspace() and c != " " for c in normalised)


def test_full_width_letters_and_digits_become_half_width_lower_case_and_padding_goes():
    assert textclass.normalise("\n\t\t\t\t\t\n\t\t\t\t\tＡ市ＫＴＶ噪音　１２３号！") == "a市ktv噪音 123号!"


# ---- labelled CSV files


def write(tmp_path, content: str | bytes, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_text_columns_are_joined_and_fields_may_hold_newlines_and_tabs(tmp_path):
    path = write(tmp_path, '\ufeff编号,主题,详情,标签\n1,路灯坏了,"\n\t\t晚上\n很黑",城建\n2,垃圾没人清运,,环境\n\n')
    texts, labels = textclass.read_labelled_csv(path, ["主题", "详情"], "标签")
    assert texts == ["路灯坏了\n晚上\n很黑", "垃圾没人清运"]
    assert labels == ["城建", "环境"]
    assert textclass.read_labelled_csv(path, ["主题"]) == (["路灯坏了", "垃圾没人清运"], None)


def test_a_missing_column_is_named_with_the_columns_that_exist(tmp_path):
    path = write(tmp_path, "留言主题,一级标签\n路灯坏了,城建\n")
    with pytest.raises(DataError) as error:
        textclass.read_labelled_csv(path, ["留言主题"], "标签")
    assert "'标签'" in str(error.value) and "'留言主题', '一级标签'" in str(error.value)


def test_a_row_with_the_wrong_number_of_fields_is_reported_with_its_line(tmp_path):
    # The first row spans lines 2-3, so the broken row starts on line 5, though it is the fourth record.
    path = write(tmp_path, '主题,标签\n"路灯\n坏了",城建\n垃圾没人清运,环境\n噪音扰民,环境,多余\n')
    with pytest.raises(DataError, match=r"data\.csv, line 5: 3 fields, but the header has 2"):
        textclass.read_labelled_csv(path, ["主题"], "标签")


@pytest.mark.parametrize("content, problem", [
    ("主题,标签\n路灯坏了,城建\n垃圾没人清运, \n", "line 3: empty label in column '标签'"),
    ("主题,标签\n".encode() + "路灯坏了,城建\n".encode("gb18030"), "line 2: not UTF-8"),
    ("", "empty file, no header row"),
    ("主题,标签\n", "no rows after the header"),
    ('主题,标签\n路灯坏了,城建\n"垃圾没人清运,环境\n', "line 3: malformed CSV"),
], ids=["empty label", "GB18030 row", "empty file", "header only", "unclosed quote"])
def test_unusable_files_raise_a_data_error_naming_the_problem(tmp_path, content, problem):
    with pytest.raises(DataError, match=problem):
        textclass.read_labelled_csv(write(tmp_path, content), ["主题"], "标签")


def test_a_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="missing.csv: no such file"):
        textclass.read_labelled_csv(tmp_path / "missing.csv", ["主题"], "标签")


def test_the_benchmark_learning_curve_rises_with_more_labelled_demands(monkeypatch):
    """bench/bench_classifier.py --learning-curve: the scorer trained on growing parts of each training fold. With
    few demands per category some wordings are never seen, so the smallest part must score lower than the whole."""
    import importlib.util
    import sys
    from pathlib import Path

    # The benchmark sets the BLAS thread variables and puts the repository on sys.path: undone after the test.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = Path(__file__).resolve().parents[3] / "bench" / "bench_classifier.py"
    spec = importlib.util.spec_from_file_location("bench_classifier", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    texts, labels = generated_demands(12, seed=5)
    sizes, scores, intercept, slope = bench.learning_curve(texts, labels, folds=3)
    assert sizes == sorted(sizes) and len(set(sizes)) == len(bench.LEARNING_FRACTIONS)
    assert sizes[-1] == pytest.approx(len(texts) * 2 / 3, abs=1)
    assert all(len(scores[f]) == 3 and all(0 <= s <= 1 for s in scores[f]) for f in bench.LEARNING_FRACTIONS)
    smallest, whole = (np.mean(scores[f]) for f in (bench.LEARNING_FRACTIONS[0], bench.LEARNING_FRACTIONS[-1]))
    assert whole > smallest
    assert slope > 0
    assert intercept + slope * np.log(sizes[-1]) == pytest.approx(whole, abs=0.1)


def test_held_out_scores_that_separate_the_labels_do_not_make_every_prediction_certain():
    """Templated training texts (the demo's) separate perfectly out of fold; the temperature's plain fit would
    run to its bound and call a text half-way between two labels certain. Smoothed, texts like the training
    texts stay near 0.99 and the one in between does not reach the auto-routing confidence."""
    import numpy as np
    from scipy.special import softmax

    from gongzhi.insight.textclass import _fit_temperature

    rng = np.random.default_rng(7)
    y = np.arange(300) % 3
    scores = rng.normal(0, 0.2, (300, 3))
    scores[np.arange(300), y] += 3.0  # every held-out text scored right by a wide margin
    plain = _fit_temperature(scores, y, smoothing=0.0)
    fitted = _fit_temperature(scores, y)
    assert plain < 0.05 < fitted  # the plain fit runs to its bound; the smoothed one does not
    typical = softmax(scores / fitted, axis=1)[np.arange(300), y].mean()
    assert 0.97 < typical < 0.999
    between = softmax(np.array([1.6, 1.4, 0.0]) / fitted)
    assert between.max() < 0.9 and softmax(np.array([1.6, 1.4, 0.0]) / plain).max() > 0.99
    # Scores that do not separate (real data) are fitted as before, without smoothing.
    noisy = rng.normal(0, 1.0, (300, 3))
    noisy[np.arange(300), y] += 1.0
    assert _fit_temperature(noisy, y) == pytest.approx(_fit_temperature(noisy, y, smoothing=0.0))
