"""`gongzhi insight train|evaluate|predict`: the demand-text classifier from the command line, on CSV files.
`gongzhi insight retrain|models|activate|refresh|hotspots`: the deployment's own models and analyses, in
the database. One verb per subcommand: add a subparser, a `_<verb>` method and its entry in `handle`'s table."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.errors import DomainError
from gongzhi.insight import services, textclass


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

        retrain = sub.add_parser("retrain", help="train on this deployment's handled demands, store the model as "
                                                 "the next version and activate it when it is no worse")
        retrain.add_argument("--no-activate", dest="activate", action="store_false")
        register = sub.add_parser("register", help="store a model file (from `train`) as the next version; its "
                                                   "labels must be category codes to propose categories")
        register.add_argument("--model", required=True, type=Path)
        register.add_argument("--no-activate", dest="activate", action="store_false")
        sub.add_parser("models", help="list the stored model versions with their held-out figures")
        activate = sub.add_parser("activate", help="make a stored version the one that proposes categories")
        activate.add_argument("version", type=int)
        sub.add_parser("refresh", help="profile new demands into issues, reheat issues, analyse hot spots and "
                                       "raise warnings (what the worker does every hour)")
        hot = sub.add_parser("hotspots", help="analyse hot spots now and print them")
        hot.add_argument("--weeks", type=int, default=26, help="weeks of history (default %(default)s)")
        hot.add_argument("--region", help="region code (default: every grid)")

    def handle(self, *args, verb, **options):
        verbs = {"train": self._train, "evaluate": self._evaluate, "predict": self._predict,
                 "retrain": self._retrain, "register": self._register, "models": self._models,
                 "activate": self._activate, "refresh": self._refresh, "hotspots": self._hotspots}
        try:
            verbs[verb](**options)
        except (textclass.DataError, textclass.ModelFormatError) as error:
            raise CommandError(str(error)) from error
        except DomainError as error:
            raise CommandError(error.message("en")) from error  # the CLI speaks English, as the other verbs

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
        for prediction in classifier.predict(texts):
            self.stdout.write(json.dumps(prediction.as_dict(), ensure_ascii=False))


    # --- the deployment's own models and analyses (database) ------------------------------------------

    def _describe(self, row) -> str:
        figures = row.evaluation or {}
        f1 = figures.get("macro_f1")
        return (f"v{row.pk}{' (active)' if row.is_active else ''}: {row.get_source_display()}, "
                f"{row.training_size} examples, {len(row.labels)} labels, "
                f"macro-F1 {f1:.4f}" if f1 is not None else f"v{row.pk}: no evaluation") + \
            f", {row.created_at:%Y-%m-%d %H:%M}"

    def _retrain(self, *, activate=True, **options):
        row = services.train_from_demands(activate=activate)
        self.stdout.write("stored " + self._describe(row))

    def _register(self, *, model, activate=True, **options):
        row = services.register_model(self._load(model), source="csv", activate=activate)
        self.stdout.write("stored " + self._describe(row))

    def _models(self, **options):
        from gongzhi.insight.models import ClassifierModel

        rows = list(ClassifierModel.objects.order_by("-id"))
        if not rows:
            self.stdout.write("no model yet: `gongzhi insight retrain` once demands have been handled")
        for row in rows:
            self.stdout.write(self._describe(row))

    def _activate(self, *, version, **options):
        row = services.activate_model(None, version)
        self.stdout.write("active: " + self._describe(row))

    def _refresh(self, **options):
        self.stdout.write(json.dumps(services.refresh()))

    def _hotspots(self, *, weeks=26, region=None, **options):
        from django.db.models import Q

        from gongzhi.org.models import Region

        area = None
        if region:
            area = Region.objects.filter(Q(admin_code=region) | Q(grid_code=region)).first()
            if area is None:
                raise CommandError(f"no region with the administrative or grid code {region!r}")
        report = services.analyse_hot_spots(area, weeks=weeks)
        for spot in report.hot_spots:
            self.stdout.write(spot.explanation_zh)
        self.stdout.write(f"{len(report.hot_spots)} hot spot(s) over {report.run.cells} grids, "
                          f"{report.run.demands} demands in {weeks} weeks; {len(report.warnings)} new warning(s)")
