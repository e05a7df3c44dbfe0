"""`gongzhi demo [--reset]`: load the deterministic demo district once and print its logins."""

import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError

from gongzhi.org import demo

URL = "http://127.0.0.1:8000/"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def login_table(logins: list[demo.DemoLogin]) -> list[str]:
    """The logins as aligned text rows (Chinese characters count double)."""
    header = ("username", "角色 / role", "姓名 / name", "范围 / scope", "password")
    rows = [header] + [
        (x.username, f"{x.role_zh} / {x.role_en}", x.person, x.scope, x.password) for x in logins
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


class Command(BaseCommand):
    help = (
        "Load the demo district 永宁区 (regions, grids, buildings, residents, organisations, posts and demo "
        "logins). Does nothing but print the logins when it is already loaded. The demo owns the usernames "
        "it prints and sets their passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete the demo district first, then rebuild it")
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED, help="random seed (default: %(default)s)")

    def handle(self, *args, reset=False, seed=demo.DEMO_SEED, **options):
        if reset and demo.demo_exists():
            try:
                deleted = demo.reset_demo()
            except ProtectedError as error:
                blocking = sorted({obj._meta.label for obj in error.protected_objects})
                raise CommandError(f"cannot reset the demo: other data refers to it ({', '.join(blocking)})") from error
            extra = f", {deleted['demands']} demands" if "demands" in deleted else ""
            self.stdout.write(f"demo district deleted: {deleted.get('people', 0)} people, "
                              f"{deleted.get('regions', 0)} regions{extra}")
        if demo.demo_exists():
            self.stdout.write("demo district already loaded (gongzhi demo --reset rebuilds it)")
            logins = demo.demo_logins()
        else:
            result = demo.build_demo(seed=seed)
            counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
            self.stdout.write(f"demo district {result.district.name} built in {result.seconds:.1f} s: {counts}")
            gaps = sum(len(v) for v in result.planted_gaps.values())
            self.stdout.write(f"{gaps} coverage gaps planted on purpose (see the coverage report)")
            for name, summary in result.extensions.items():
                self.stdout.write(f"{name}: {summary}")
            logins = result.logins
        self.stdout.write("")
        self.stdout.write(f"Open {URL} and sign in as:")
        for line in login_table(logins):
            self.stdout.write("  " + line)
