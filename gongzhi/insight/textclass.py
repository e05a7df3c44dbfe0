"""Demand-text classifier: Chinese text to one label of any taxonomy, with a calibrated confidence, on the CPU.
Pure Python (scikit-learn, jieba); no Django. Also reads labelled CSV files and scores a model on them."""

import csv
import io
import json
import logging
import os
import pickle
import platform
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import jieba
import numpy as np
import scipy
import sklearn
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

FORMAT = "gongzhi.insight.textclass"
FORMAT_VERSION = 1
TOP_ALTERNATIVES = 3
CALIBRATION_FOLDS = 5

jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict..." at INFO on first use
_tokenizer = jieba.Tokenizer()


class DataError(ValueError):
    """Labelled data that cannot be used: the message names the file, the line and the problem."""


class ModelFormatError(ValueError):
    """A model file this version of gongzhi cannot read."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # calibrated probability of `label`
    alternatives: tuple[tuple[str, float], ...]  # the top labels with their probabilities, most likely first

    def as_dict(self) -> dict:
        return {"label": self.label, "confidence": round(self.confidence, 4),
                "alternatives": [[label, round(p, 4)] for label, p in self.alternatives]}


def normalise(text: str) -> str:
    """Full-width to half-width and other compatibility forms (NFKC), lower case, every run of whitespace (the
    source's `\\n\\t\\t\\t` padding, ideographic spaces) made one space."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """jieba's dictionary words of an already normalised text, spaces dropped. Without jieba's HMM for unknown
    words: twice as fast, and the same macro-F1 on teddy2020 (the character n-grams cover unknown words)."""
    return [w for w in _tokenizer.lcut(text, HMM=False) if not w.isspace()]


def _normalise_all(texts):
    return [normalise(t) for t in texts]


class NBSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs on features scaled by their naive-Bayes log-count ratio (Wang & Manning 2012).

    The ratio tells the SVM which n-grams are informative for a class before it has seen many of them, which helps
    with short titles. It is folded into the weights, so scoring is one sparse product."""

    def __init__(self, C: float = 1.0, alpha: float = 1.0):
        self.C = C
        self.alpha = alpha

    def fit(self, X, y):
        X = sparse.csr_matrix(X)
        self.classes_, y = np.unique(y, return_inverse=True)
        present = (X > 0).astype(np.float64)
        # With two labels one model suffices: the decision is then one column, as scikit-learn expects.
        targets = [1] if len(self.classes_) == 2 else range(len(self.classes_))
        coefs, intercepts = [], []
        for k in targets:
            inside = self.alpha + np.asarray(present[y == k].sum(axis=0)).ravel()
            outside = self.alpha + np.asarray(present[y != k].sum(axis=0)).ravel()
            ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
            svm = LinearSVC(C=self.C, random_state=0).fit(X @ sparse.diags(ratio), y == k)
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(svm.intercept_[0])
        # Features x labels, C order: a sparse row times it reads the array as is; the transposed view of a
        # labels x features array would be copied on every call (2 ms for one message). float32 halves the size.
        self.weights_ = np.ascontiguousarray(np.vstack(coefs).T, dtype=np.float32)
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, X):
        scores = np.asarray(X @ self.weights_) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)]


def build_scorer(C: float = 1.0, word_ngrams=(1, 2), char_ngrams=(1, 3)) -> Pipeline:
    """Normalised text -> jieba word n-grams + character n-grams (TF-IDF, sublinear tf; None leaves one out) ->
    NB-SVM in the step "classifier".

    Characters catch what jieba splits differently in short titles (place names, new words); words carry the
    longer units. The variants measured against this one are in docs/benchmarks.md."""
    features = []
    if word_ngrams:
        features.append(("words", TfidfVectorizer(tokenizer=words, token_pattern=None, lowercase=False,
                                                  ngram_range=word_ngrams, sublinear_tf=True, dtype=np.float32)))
    if char_ngrams:
        features.append(("chars", TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=char_ngrams,
                                                  sublinear_tf=True, dtype=np.float32)))
    return Pipeline([("normalise", FunctionTransformer(_normalise_all)), ("features", FeatureUnion(features)),
                     ("classifier", NBSVM(C=C))])


def _as_columns(scores: np.ndarray) -> np.ndarray:
    """Decision scores as one column per label (two-label models give one column: the second label's score)."""
    return np.column_stack([-scores / 2, scores / 2]) if scores.ndim == 1 else scores


# Held-out scores that separate the labels (almost) perfectly — small or templated training sets, such as the
# demo's — make the temperature's maximum-likelihood fit ill-posed: it runs to its bound and every prediction gets
# a confidence of 1.0, even for a text unlike any training text, which then routes itself. For such data the fit
# moves SEPARABLE_SMOOTHING of the target from the true label to the others (label smoothing), so texts like the
# training texts get about 1 - SEPARABLE_SMOOTHING and texts between labels honest, lower confidences. Data whose
# held-out accuracy is below SEPARABLE_ACCURACY (all real data measured so far) is fitted without smoothing.
SEPARABLE_ACCURACY = 0.99
SEPARABLE_SMOOTHING = 0.01


def _fit_temperature(scores: np.ndarray, y: np.ndarray, smoothing: float | None = None) -> float:
    """The temperature T minimising the log-loss of softmax(scores / T) on held-out scores (Guo et al. 2017),
    label-smoothed (Müller et al. 2019) when the held-out scores separate the labels (see SEPARABLE_ACCURACY).

    One parameter cannot over-fit and keeps the arg-max, so the label is the scorer's and only its
    probability changes."""
    rows = np.arange(len(y))
    if smoothing is None:
        separable = float((scores.argmax(axis=1) == y).mean()) >= SEPARABLE_ACCURACY
        smoothing = SEPARABLE_SMOOTHING if separable else 0.0
    others = scores.shape[1] - 1
    target = np.full(scores.shape, smoothing / others if others else 0.0)
    target[rows, y] = 1.0 - smoothing if others else 1.0

    def log_loss(log_t):
        return -(target * log_softmax(scores / np.exp(log_t), axis=1)).sum(axis=1).mean()

    return float(np.exp(minimize_scalar(log_loss, bounds=(-5, 5), method="bounded").x))


class TextClassifier:
    """Texts to labels (any set of at least two strings) with calibrated probabilities.

    `fit` scores every training text out of fold first (stratified folds), fits the temperature on those scores and
    keeps their metrics as `cross_validation`, then fits the scorer on all the texts."""

    def __init__(self, C: float = 1.0, calibration_folds: int = CALIBRATION_FOLDS, random_state: int = 0):
        self.C = C
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.scorer = None
        self.temperature = None
        self.labels: list[str] = []
        self.training_size = 0
        self.cross_validation: dict | None = None

    def fit(self, texts, labels) -> "TextClassifier":
        texts, labels = list(texts), [str(label) for label in labels]
        if len(texts) != len(labels):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels")
        classes, y, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(classes) < 2:
            raise DataError(f"need at least two different labels to train, got {len(classes)}")
        if counts.min() < 2:
            rare = ", ".join(str(c) for c in classes[counts < 2])
            raise DataError(f"each label needs at least 2 examples (for the calibration folds); only one of: {rare}")
        folds = StratifiedKFold(min(self.calibration_folds, int(counts.min())), shuffle=True,
                                random_state=self.random_state)
        held_out = cross_val_predict(build_scorer(self.C), texts, y, cv=folds, method="decision_function")
        held_out = _as_columns(held_out)
        self.temperature = _fit_temperature(held_out, y)
        self.labels = [str(c) for c in classes]
        self.cross_validation = {"folds": folds.n_splits,
                                 **metrics([self.labels[i] for i in y],
                                           [self.labels[i] for i in held_out.argmax(axis=1)], self.labels)}
        self.scorer = build_scorer(self.C).fit(texts, y)
        self.training_size = len(texts)
        return self

    def predict_proba(self, texts) -> np.ndarray:
        """One row per text, one column per label in `labels` order."""
        if self.scorer is None:
            raise RuntimeError("the classifier is not fitted")
        texts = list(texts)
        if not texts:
            return np.empty((0, len(self.labels)))
        return softmax(_as_columns(self.scorer.decision_function(texts)) / self.temperature, axis=1)

    def predict(self, texts) -> list[Prediction]:
        probabilities = self.predict_proba(texts)
        top = min(TOP_ALTERNATIVES, len(self.labels))
        best = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
        predictions = []
        for row, order in zip(probabilities, best):
            alternatives = tuple((self.labels[i], float(row[i])) for i in order)
            predictions.append(Prediction(alternatives[0][0], alternatives[0][1], alternatives))
        return predictions

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    def metadata(self) -> dict:
        return {"labels": self.labels, "training_size": self.training_size, "C": self.C,
                "temperature": self.temperature, "evaluation": self.cross_validation}

    def save(self, path) -> Path:
        """One file: a JSON header line (format, version, metadata), then the pickled classifier. Written to a
        temporary file beside `path` and renamed, so `path` is either the old file or the whole new one."""
        if self.scorer is None:
            raise RuntimeError("the classifier is not fitted")
        path = Path(path)
        header = {"format": FORMAT, "format_version": FORMAT_VERSION,
                  "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  **self.metadata(),
                  "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                               "numpy": np.__version__, "scipy": scipy.__version__, "jieba": jieba.__version__}}
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
                pickle.dump(self, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path) -> "TextClassifier":
        """Read a file written by `save`. The file is a pickle: load only model files you trust."""
        _, payload = _read_model_file(path)
        model = pickle.loads(payload)
        if not isinstance(model, cls):
            raise ModelFormatError(f"{path}: holds a {type(model).__name__}, not a text classifier")
        _tokenizer.initialize()  # jieba's dictionary (about 1 s) now, not in the first prediction
        return model


def read_model_header(path) -> dict:
    """The metadata of a model file, without unpickling the model."""
    return _read_model_file(path)[0]


def _read_model_file(path) -> tuple[dict, bytes]:
    """The header and the pickled bytes; the header is checked before anything is unpickled."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFormatError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise ModelFormatError(f"{path}: is a directory, not a model file") from None
    first_line, _, payload = data.partition(b"\n")
    try:
        header = json.loads(first_line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFormatError(f"{path}: not a gongzhi text-classifier model file")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(f"{path}: model format version {header.get('format_version')!r}; this gongzhi "
                               f"reads version {FORMAT_VERSION} only (train the model again)")
    return header, payload


def metrics(true_labels, predicted_labels, labels=()) -> dict:
    """Accuracy, macro-F1 (mean of the per-label F1, as in the TipDM Cup), per-label scores and the confusion
    matrix, over `labels` plus every label that occurs in either list."""
    order = sorted(set(labels) | set(true_labels) | set(predicted_labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_labels, predicted_labels, labels=order, zero_division=0)
    n = len(true_labels)
    correct = sum(t == p for t, p in zip(true_labels, predicted_labels))
    return {
        "n": n,
        "accuracy": correct / n if n else 0.0,
        "macro_f1": float(np.mean(f1)) if order else 0.0,
        "labels": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                   for label, p, r, f, s in zip(order, precision, recall, f1, support)},
        "confusion": {"order": order,  # rows: true label, columns: predicted label
                      "matrix": confusion_matrix(true_labels, predicted_labels, labels=order).tolist()},
    }


def evaluate(model: TextClassifier, texts, labels) -> dict:
    """`metrics` of the model's predictions, and its batch throughput in messages per second."""
    texts, labels = list(texts), [str(label) for label in labels]
    started = time.perf_counter()
    predictions = model.predict(texts)
    elapsed = time.perf_counter() - started
    result = metrics(labels, [p.label for p in predictions], model.labels)
    result["messages_per_second"] = len(texts) / max(elapsed, 1e-9)
    return result


def least_confident(model: TextClassifier, texts, k: int) -> list[int]:
    """Indices of the k texts with the smallest margin between the two most likely labels, least sure first:
    the ones worth a person's label next (active learning by margin sampling)."""
    probabilities = np.sort(model.predict_proba(texts), axis=1)
    margins = probabilities[:, -1] - probabilities[:, -2]
    return [int(i) for i in np.argsort(margins, kind="stable")[:max(k, 0)]]


def read_labelled_csv(path, text_columns: list[str], label_column: str | None = None,
                      separator: str = "\n") -> tuple[list[str], list[str] | None]:
    """Texts (the non-empty `text_columns` of a row joined by `separator`) and, with `label_column`, labels.

    UTF-8 (a BOM is allowed) with a header row. Quoted fields may hold newlines and tabs; blank lines are
    skipped. Raises DataError naming the file and line for anything it cannot use."""
    path = Path(path)
    if not text_columns:
        raise DataError(f"{path}: no text column given")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a CSV file") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not UTF-8 (byte 0x{raw[error.start]:02x}); "
                        f"save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    rows = _records(reader, path)
    try:
        line, header = next(rows)
    except StopIteration:
        raise DataError(f"{path}: empty file, no header row") from None
    header = [name.strip() for name in header]
    wanted = [*text_columns, *([label_column] if label_column is not None else [])]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise DataError(f"{path}, line {line}: no column {', '.join(repr(m) for m in missing)} in the header; "
                        f"the columns are: {', '.join(repr(h) for h in header)}")
    duplicated = sorted({name for name in wanted if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path}, line {line}: column {', '.join(map(repr, duplicated))} appears more than once "
                        f"in the header")
    text_at = [header.index(name) for name in text_columns]
    label_at = header.index(label_column) if label_column is not None else None
    texts, labels = [], []
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(f"{path}, line {line}: {len(row)} fields, but the header has {len(header)}")
        texts.append(separator.join(row[i].strip() for i in text_at if row[i].strip()))
        if label_at is not None:
            label = row[label_at].strip()
            if not label:
                raise DataError(f"{path}, line {line}: empty label in column {label_column!r}")
            labels.append(label)
    if not texts:
        raise DataError(f"{path}: no rows after the header")
    return texts, (labels if label_column is not None else None)


def _records(reader, path):
    """(line where the record starts, fields) for each non-blank record; csv errors become DataError."""
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataError(f"{path}, line {line}: malformed CSV ({error})") from None
        if row:
            yield line, row
