"""`gongzhi insight train|evaluate|predict` on CSV files: what each verb prints, and that bad input fails with a
CommandError and leaves no model file. One test uses the real teddy2020 messages when they are present."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .test_textclass import PROBLEMS, UNSEEN_CLOSINGS, UNSEEN_PLACES, generated_demands

TEDDY2020 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "teddy2020"
REPORTED = {"n", "accuracy", "macro_f1", "labels", "messages_per_second"}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def demands_csv(path: Path, texts, labels) -> Path:
    """Title and detail columns as in the hotline exports: the detail is padded and often empty."""
    rows = [[str(i), text, "\n\t\t\t\t\n\t\t\t居民反映" if i % 3 == 0 else "", label]
            for i, (text, label) in enumerate(zip(texts, labels))]
    return write_csv(path, ["编号", "主题", "详情", "类别"], rows)


def insight(*args, **options) -> str:
    out = io.StringIO()
    call_command("insight", *[str(a) for a in args], stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained through the command, and a held-out CSV of demands at places it has not seen."""
    folder = tmp_path_factory.mktemp("insight")
    train = demands_csv(folder / "train.csv", *generated_demands(40, seed=11, mislabelled=0.05))
    held_out = demands_csv(folder / "held_out.csv",
                           *generated_demands(10, seed=12, places=UNSEEN_PLACES, closings=UNSEEN_CLOSINGS))
    model = folder / "model.bin"
    printed = insight("train", "--csv", train, "--text", "主题,详情", "--label", "类别", "--out", model)
    return model, held_out, printed


def test_train_writes_the_model_and_prints_its_cross_validated_score(trained):
    model, _, printed = trained
    assert model.is_file() and model.stat().st_size > 0
    assert "trained on 200 texts, 5 labels" in printed
    assert "5-fold cross-validation: macro-F1 0." in printed
    assert f"wrote {model}" in printed


def test_evaluate_prints_exactly_one_json_object_with_the_scores(trained):
    model, held_out, _ = trained
    printed = insight("evaluate", "--csv", held_out, "--model", model, "--text", "主题,详情", "--label", "类别")
    assert printed.count("\n") == 1
    result = json.loads(printed)
    assert REPORTED <= set(result)
    assert result["n"] == 50 and result["accuracy"] >= 0.9
    assert set(result["labels"]) == set(PROBLEMS)
    assert set(result["labels"]["交通出行"]) == {"precision", "recall", "f1", "support"}


def test_predict_prints_one_json_line_per_text_from_arguments_or_stdin(trained):
    model = trained[0]
    lines = insight("predict", "--model", model, "长安西路公交车班次太少", "梧桐小区垃圾没人清运").splitlines()
    predictions = [json.loads(line) for line in lines]
    assert [p["label"] for p in predictions] == ["交通出行", "环境卫生"]
    assert all(0 <= p["confidence"] <= 1 and len(p["alternatives"]) == 3 for p in predictions)
    from_stdin = insight("predict", "--model", model, stdin=io.StringIO("长安西路公交车班次太少\n\n梧桐小区垃圾没人清运\n"))
    assert from_stdin.splitlines() == lines


def test_a_malformed_csv_fails_with_its_line_and_writes_no_model(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("主题,类别\n路灯坏了,市政设施\n路灯不亮,市政设施,多余\n", encoding="utf-8")
    with pytest.raises(CommandError, match="broken.csv, line 3: 3 fields"):
        insight("train", "--csv", path, "--text", "主题", "--label", "类别", "--out", tmp_path / "model.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]


def test_a_label_column_that_does_not_exist_fails_naming_the_columns_and_keeps_the_old_model(trained, tmp_path):
    texts, labels = generated_demands(4, seed=13)
    path = demands_csv(tmp_path / "demands.csv", texts, labels)
    old_model = tmp_path / "model.bin"
    old_model.write_bytes(trained[0].read_bytes())
    with pytest.raises(CommandError, match="no column '标签'.*the columns are: '编号', '主题', '详情', '类别'"):
        insight("train", "--csv", path, "--text", "主题", "--label", "标签", "--out", old_model)
    assert old_model.read_bytes() == trained[0].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demands.csv", "model.bin"]


def test_a_file_that_is_not_a_model_and_a_missing_one_fail_clearly(trained, tmp_path):
    not_a_model = tmp_path / "model.bin"
    not_a_model.write_text("{}\n")
    with pytest.raises(CommandError, match="not a gongzhi text-classifier model file"):
        insight("predict", "--model", not_a_model, "路灯坏了")
    with pytest.raises(CommandError, match="no such model file"):
        insight("evaluate", "--csv", trained[1], "--model", tmp_path / "missing.bin", "--text", "主题",
                "--label", "类别")
    with pytest.raises(CommandError, match="no such file"):
        insight("evaluate", "--csv", tmp_path / "missing.csv", "--model", trained[0], "--text", "主题",
                "--label", "类别")


def test_on_real_teddy2020_messages_a_small_model_learns_the_seven_categories(tmp_path):
    source = TEDDY2020 / "messages_train.csv"
    if not source.is_file():
        pytest.skip(f"teddy2020 data not present at {TEDDY2020}")
    with source.open(encoding="utf-8", newline="") as data:
        rows = list(csv.reader(data))
    header, rows = rows[0], rows[1:]
    # Every 6th message for training, every 7th of the others for evaluation: 1,228 and 878 messages.
    train = write_csv(tmp_path / "train.csv", header, rows[::6])
    test = write_csv(tmp_path / "test.csv", header, [r for i, r in enumerate(rows) if i % 6 and i % 7 == 1])
    model = tmp_path / "teddy.bin"
    insight("train", "--csv", train, "--text", "留言主题,留言详情", "--label", "一级标签", "--out", model)
    result = json.loads(insight("evaluate", "--csv", test, "--model", model, "--text", "留言主题,留言详情",
                                "--label", "一级标签"))
    assert len(result["labels"]) == 7
    assert result["n"] == 878
    assert result["macro_f1"] >= 0.75  # 0.84 with a sixth of the data (0.89 cross-validated with all of it)
