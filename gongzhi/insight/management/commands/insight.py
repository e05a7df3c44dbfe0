"""`gongzhi insight train|evaluate|predict`: the demand-text classifier from the command line, on CSV files.
One verb per subcommand: add a subparser, a `_<verb>` method and its entry in `handle`'s table."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.insight import textclass


def _columns(value: str) -> list[str]:
    columns = [c.strip() for c in value.split(",") if c.strip()]
    if not columns:
        raise ValueError("no column name")
    return columns


class Command(BaseCommand):
    help = "Demand-text classifier: train on a labelled CSV, evaluate on one, predict labels of texts."
    stealth_options = ("stdin",)  # a text stream for `predict` instead of sys.stdin (tests, callers in Python)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        text_help = "text column(s), comma-separated; several are joined (e.g. 留言主题,留言详情)"

        train = sub.add_parser("train", help="train on a labelled CSV (UTF-8, header row) and write a model file")
        train.add_argument("--csv", required=True, type=Path, help="labelled CSV file")
        train.add_argument("--text", required=True, type=_columns, help=text_help)
        train.add_argument("--label", required=True, help="label column")
        train.add_argument("--out", required=True, type=Path, help="model file to write (replaced atomically)")
        train.add_argument("--C", type=float, default=1.0, dest="C", help="SVM regularisation (default %(default)s)")

        evaluate = sub.add_parser("evaluate", help="score a model on a labelled CSV; prints one JSON object")
        evaluate.add_argument("--csv", required=True, type=Path)
        evaluate.add_argument("--model", required=True, type=Path)
        evaluate.add_argument("--text", required=True, type=_columns, help=text_help)
        evaluate.add_argument("--label", required=True, help="label column")

        predict = sub.add_parser("predict", help="labels of texts given as arguments, or one per line on stdin "
                                                 "(blank lines skipped); prints one JSON line per text")
        predict.add_argument("--model", required=True, type=Path)
        predict.add_argument("texts", nargs="*", metavar="TEXT")

    def handle(self, *args, verb, **options):
        verbs = {"train": self._train, "evaluate": self._evaluate, "predict": self._predict}
        try:
            verbs[verb](**options)
        except (textclass.DataError, textclass.ModelFormatError) as error:
            raise CommandError(str(error)) from error

    def _load(self, path: Path) -> textclass.TextClassifier:
        return textclass.TextClassifier.load(path)

    def _train(self, *, csv, text, label, out, C, **options):
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory for the model file")
        if out.is_dir():
            raise CommandError(f"{out}: is a directory; give the model file's name")
        texts, labels = textclass.read_labelled_csv(csv, text, label)
        model = textclass.TextClassifier(C=C).fit(texts, labels)
        try:
            model.save(out)
        except OSError as error:
            raise CommandError(f"{out}: cannot write the model ({error.strerror})") from error
        held_out = model.cross_validation
        counts = held_out["labels"]
        self.stdout.write(f"trained on {len(texts)} texts, {len(model.labels)} labels: "
                          + ", ".join(f"{name} {scores['support']}" for name, scores in counts.items()))
        self.stdout.write(f"{held_out['folds']}-fold cross-validation: macro-F1 {held_out['macro_f1']:.4f}, "
                          f"accuracy {held_out['accuracy']:.4f}")
        self.stdout.write(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")

    def _evaluate(self, *, csv, model, text, label, **options):
        classifier = self._load(model)
        texts, labels = textclass.read_labelled_csv(csv, text, label)
        result = textclass.evaluate(classifier, texts, labels)
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _predict(self, *, model, texts, stdin=None, **options):
        classifier = self._load(model)
        if not texts:
            texts = [line.strip() for line in (stdin or sys.stdin) if line.strip()]
        for prediction in classifier.predict(texts) if texts else []:
            self.stdout.write(json.dumps(prediction.as_dict(), ensure_ascii=False))
