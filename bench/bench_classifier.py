"""Benchmark: the demand-text classifier (insight.textclass) on the teddy2020 messages, 7 first-level labels.

Prints stratified k-fold cross-validated macro-F1 and accuracy (each fold trains the whole classifier, its
temperature calibration included), the calibration error of the held-out confidences, batch and single-message
speed on one core, the model's size, and the machine. Goals: macro-F1 >= 0.92, >= 2,000 messages/s in batch,
p95 <= 5 ms for one message, <= 200 MB in memory. `--variants` also cross-validates the alternatives that were
measured before the present model was chosen. `--learning-curve` trains the scorer on growing parts of each training
fold, fits macro-F1 against log(training size) and says how many labelled messages the F1 goal would take at that rate.

    cd /work/main && .venv/bin/python bench/bench_classifier.py [--folds 5] [--variants] [--group-duplicates]
    cd /work/main && .venv/bin/python bench/bench_classifier.py --learning-curve
"""

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # before numpy is imported: the speed figures are for one core

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import jieba  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gongzhi.insight import textclass  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "teddy2020" / "messages_train.csv"
TEXT_COLUMNS, LABEL_COLUMN = ["留言主题", "留言详情"], "一级标签"
GOAL_MACRO_F1, GOAL_PER_S, GOAL_SINGLE_MS, GOAL_MB = 0.92, 2_000, 5.0, 200  # speed goals judged on wall clock
# The model was chosen on folds of seed 1 (see docs/benchmarks.md); the figures here use other folds.
SEED = 20261126


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def expected_calibration_error(confidences, correct, bins: int = 15) -> float:
    """Σ over equal-width confidence bins of (share of messages) × |accuracy − mean confidence|."""
    confidences, correct = np.asarray(confidences), np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidences > low) & (confidences <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidences[inside].mean())
    return float(error)


def reliability_rows(confidences, correct):
    confidences, correct = np.asarray(confidences), np.asarray(correct, dtype=float)
    for low, high in ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.99), (0.99, 1.0)):
        inside = (confidences > low) & (confidences <= high)
        if inside.any():
            yield low, high, int(inside.sum()), confidences[inside].mean(), correct[inside].mean()


def duplicate_groups(texts):
    """Messages with the same normalised title share a group, so a repeated complaint stays in one fold."""
    ids = {}
    return [ids.setdefault(textclass.normalise(t.split("\n", 1)[0]), len(ids)) for t in texts]


def cross_validate(texts, labels, folds: int, grouped: bool):
    splitter = (StratifiedGroupKFold if grouped else StratifiedKFold)(folds, shuffle=True, random_state=SEED)
    groups = duplicate_groups(texts) if grouped else None
    texts_array = np.array(texts, dtype=object)
    labels_array = np.array(labels)
    per_fold, confidences, correct = [], [], []
    for number, (train, test) in enumerate(splitter.split(texts, labels, groups), 1):
        started = time.perf_counter()
        model = textclass.TextClassifier().fit(texts_array[train], labels_array[train])
        result = textclass.evaluate(model, texts_array[test], labels_array[test])
        predictions = model.predict(texts_array[test])
        confidences += [p.confidence for p in predictions]
        correct += [p.label == label for p, label in zip(predictions, labels_array[test])]
        per_fold.append(result)
        print(f"    fold {number}: macro-F1 {result['macro_f1']:.4f}, accuracy {result['accuracy']:.4f} "
              f"(n {result['n']}; trained in {time.perf_counter() - started:.0f} s)", flush=True)
    return per_fold, confidences, correct


def variants():
    """The alternatives measured before choosing the present scorer (each without calibration: arg-max)."""
    scorer = textclass.build_scorer
    return {
        "NB-SVM C=1, words 1-2 + chars 1-3 (the model)": (scorer(), False),
        "NB-SVM C=0.3, same features": (scorer(C=0.3), False),
        "LinearSVC C=0.5, same features": (scorer().set_params(classifier=LinearSVC(C=0.5)), False),
        "LinearSVC C=0.5 class_weight=balanced": (
            scorer().set_params(classifier=LinearSVC(C=0.5, class_weight="balanced")), False),
        "NB-SVM, words 1-2 only": (scorer(char_ngrams=None), False),
        "NB-SVM, chars 1-3 only": (scorer(word_ngrams=None), False),
        "NB-SVM, chars 1-4 + words 1-2": (scorer(char_ngrams=(1, 4)), False),
        "NB-SVM, title only (留言详情 left out)": (scorer(), True),
    }


def compare_variants(texts, titles, labels, folds: int):
    from sklearn.metrics import accuracy_score, f1_score

    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for name, (pipeline, title_only) in variants().items():
        started = time.perf_counter()
        predicted = cross_val_predict(pipeline, titles if title_only else texts, labels, cv=splitter)
        print(f"    {name:45s} macro-F1 {f1_score(labels, predicted, average='macro'):.4f}, "
              f"accuracy {accuracy_score(labels, predicted):.4f} ({time.perf_counter() - started:.0f} s)", flush=True)


LEARNING_FRACTIONS = (0.4, 0.55, 0.7, 0.85, 1.0)


def learning_curve(texts, labels, folds: int):
    """Macro-F1 on each held-out fold of the scorer trained on a random part of the other folds, for each fraction.

    Returns the mean training sizes, the per-fraction fold F1s, and the least-squares line F1 = a + b·ln(n).
    Without calibration (arg-max of the scores, which is the calibrated model's label too)."""
    from sklearn.metrics import f1_score

    texts_array, labels_array = np.array(texts, dtype=object), np.array(labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    order = np.random.RandomState(SEED)
    sizes = {f: [] for f in LEARNING_FRACTIONS}
    scores = {f: [] for f in LEARNING_FRACTIONS}
    for train, test in splitter.split(texts, labels):
        shuffled = order.permutation(train)
        for fraction in LEARNING_FRACTIONS:
            part = shuffled[:round(fraction * len(train))]
            scorer = textclass.build_scorer().fit(list(texts_array[part]), labels_array[part])
            predicted = scorer.predict(list(texts_array[test]))
            scores[fraction].append(f1_score(labels_array[test], predicted, average="macro"))
            sizes[fraction].append(len(part))
    mean_sizes = [statistics.mean(sizes[f]) for f in LEARNING_FRACTIONS]
    slope, intercept = np.polyfit(np.log(mean_sizes), [statistics.mean(scores[f]) for f in LEARNING_FRACTIONS], 1)
    return mean_sizes, scores, intercept, slope


def report_learning_curve(texts, labels, folds: int):
    print(f"  learning curve ({folds}-fold stratified, seed {SEED}; scorer trained on part of each training fold):")
    sizes, scores, intercept, slope = learning_curve(texts, labels, folds)
    for size, fraction in zip(sizes, LEARNING_FRACTIONS):
        f1s = scores[fraction]
        print(f"    {size:7,.0f} training messages: macro-F1 {statistics.mean(f1s):.4f} ± {statistics.stdev(f1s):.4f}")
    print(f"  fit F1 = {intercept:.4f} + {slope:.4f}·ln(n): +{slope * np.log(2):.4f} per doubling of the labelled data; "
          f"at all {len(texts):,} messages {intercept + slope * np.log(len(texts)):.4f}; the goal {GOAL_MACRO_F1} at "
          f"about {np.exp((GOAL_MACRO_F1 - intercept) / slope):,.0f} labelled messages, if the curve did not flatten")


def model_size(model):
    with tempfile.TemporaryDirectory() as folder:
        path = model.save(Path(folder) / "model.bin")
        file_bytes = path.stat().st_size
        tracemalloc.start()
        loaded = textclass.TextClassifier.load(path)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return file_bytes, held, peak, loaded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--single", type=int, default=1_000, help="messages timed one at a time")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the batch prediction")
    parser.add_argument("--variants", action="store_true", help="also cross-validate the alternatives")
    parser.add_argument("--group-duplicates", action="store_true",
                        help="keep messages with the same title in one fold (StratifiedGroupKFold)")
    parser.add_argument("--learning-curve", action="store_true",
                        help="only the learning curve: macro-F1 against the number of labelled messages")
    parser.add_argument("--csv", type=Path, default=DATA)
    args = parser.parse_args(argv)

    if not args.csv.is_file():
        print(f"teddy2020 data not found at {args.csv}; nothing to measure (see docs/benchmarks.md)")
        return 0
    print("demand-text classifier benchmark (gongzhi.insight.textclass)")
    pinned = pin_to_one_core()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"  machine: {platform.platform()}; CPU {cpu_model()}; {os.cpu_count()} cores, {pinned}; "
          f"load average {load}")
    print(f"  python {platform.python_version()}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"jieba {jieba.__version__}")

    texts, labels = textclass.read_labelled_csv(args.csv, TEXT_COLUMNS, LABEL_COLUMN)
    titles, _ = textclass.read_labelled_csv(args.csv, TEXT_COLUMNS[:1])
    with_detail = sum(title != text for title, text in zip(titles, texts))
    counts = {label: labels.count(label) for label in sorted(set(labels), key=labels.count, reverse=True)}
    print(f"  data: {args.csv.name}, {len(texts)} messages; text = 留言主题 + 留言详情 where present "
          f"({with_detail} have a detail, mean {statistics.mean(map(len, texts)):.0f} characters)")
    print("  labels: " + ", ".join(f"{label} {n}" for label, n in counts.items()))

    if args.learning_curve:
        report_learning_curve(texts, labels, args.folds)
        return 0

    kind = "stratified group (same title, same fold)" if args.group_duplicates else "stratified"
    print(f"  {args.folds}-fold {kind} cross-validation, shuffle seed {SEED}:")
    per_fold, confidences, correct = cross_validate(texts, labels, args.folds, args.group_duplicates)
    f1s = [r["macro_f1"] for r in per_fold]
    accuracies = [r["accuracy"] for r in per_fold]
    macro_f1 = statistics.mean(f1s)
    print(f"  macro-F1 {macro_f1:.4f} ± {statistics.stdev(f1s):.4f} (folds {min(f1s):.4f} to {max(f1s):.4f}); "
          f"accuracy {statistics.mean(accuracies):.4f}")
    per_label = {label: statistics.mean(r["labels"][label]["f1"] for r in per_fold) for label in counts}
    print("  F1 per label (mean over folds): " + ", ".join(f"{label} {f1:.3f}" for label, f1 in per_label.items()))
    ece = expected_calibration_error(confidences, correct)
    print(f"  calibration: expected calibration error {ece:.4f} (15 bins); mean confidence "
          f"{np.mean(confidences):.4f} vs accuracy {np.mean(correct):.4f}")
    for low, high, n, confidence, accuracy in reliability_rows(confidences, correct):
        print(f"    confidence ({low:.2f}, {high:.2f}]: {n:5d} messages, mean confidence {confidence:.3f}, "
              f"accuracy {accuracy:.3f}")

    if args.variants:
        print(f"  alternatives ({args.folds}-fold stratified, same seed, arg-max of the scores):")
        compare_variants(texts, titles, labels, args.folds)

    started = time.perf_counter()
    model = textclass.TextClassifier().fit(texts, labels)
    print(f"  final model: trained on all {len(texts)} messages in {time.perf_counter() - started:.1f} s "
          f"(one fit for the scores plus {model.cross_validation['folds']} for the calibration)")
    file_bytes, held, peak, model = model_size(model)
    print(f"  size: file {file_bytes / 1e6:.1f} MB; in memory after loading {held / 1e6:.1f} MB "
          f"(tracemalloc, peak while loading {peak / 1e6:.1f} MB)")

    model.predict(texts[:50])  # warm-up: jieba's dictionary, first-call allocations
    # Wall-clock figures are what a caller sees; CPU-time ones say what the code costs when other work shares
    # the core (the load average above).
    batch_runs, batch_cpu = [], []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        model.predict(texts)
        batch_runs.append(len(texts) / (time.perf_counter() - wall))
        batch_cpu.append(len(texts) / (time.process_time() - cpu))
    per_s = statistics.median(batch_runs)
    wall = time.perf_counter()
    model.predict(titles)
    titles_per_s = len(titles) / (time.perf_counter() - wall)
    sample = np.random.default_rng(SEED).choice(len(texts), min(args.single, len(texts)), replace=False)
    latencies, cpu_latencies = [], []
    for i in sample:
        wall, cpu = time.perf_counter(), time.process_time()
        model.predict_one(texts[i])
        latencies.append((time.perf_counter() - wall) * 1000)
        cpu_latencies.append((time.process_time() - cpu) * 1000)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    cpu_p50, cpu_p95 = np.percentile(cpu_latencies, [50, 95])
    print(f"  batch predict: {per_s:,.0f} messages/s (median of {args.repeats} runs over all {len(texts)}: "
          f"{', '.join(f'{r:,.0f}' for r in batch_runs)}); {statistics.median(batch_cpu):,.0f} per CPU second; "
          f"titles only {titles_per_s:,.0f} messages/s")
    print(f"  one message:   p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {max(latencies):.2f} ms; "
          f"CPU time p50 {cpu_p50:.2f} ms, p95 {cpu_p95:.2f} ms ({len(latencies)} random messages)")

    verdicts = {
        f"macro-F1 >= {GOAL_MACRO_F1}": macro_f1 >= GOAL_MACRO_F1,
        f">= {GOAL_PER_S:,} messages/s batch": per_s >= GOAL_PER_S,
        f"one message p95 <= {GOAL_SINGLE_MS:g} ms": p95 <= GOAL_SINGLE_MS,
        f"<= {GOAL_MB} MB in memory": held / 1e6 <= GOAL_MB,
    }
    for goal, met in verdicts.items():
        print(f"  goal {goal}: {'MET' if met else 'NOT MET'}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
