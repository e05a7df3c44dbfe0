"""`gongzhi bench seed --demands N`: fill a scratch PostgreSQL database with N synthetic demands, their contacts,
steps and ledger entries, for the volume benchmarks (see gongzhi/demands/seeding.py, bench/bench_volume.py).
One verb per subcommand, as in `gongzhi demands`."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from gongzhi.demands import seeding


class Command(BaseCommand):
    help = "Benchmark helpers: seed a scratch PostgreSQL database with synthetic demands."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        seed = sub.add_parser("seed", help="N synthetic demands (with contacts, steps and ledger entries) in a "
                                           "fresh PostgreSQL database; refuses SQLite and a database with data")
        seed.add_argument("--demands", type=int, required=True, help="how many demands")
        seed.add_argument("--years", type=float, default=3.0, help="received over this many years (default 3)")
        seed.add_argument("--end", type=dt.date.fromisoformat, default=None,
                          help="the last day (YYYY-MM-DD; default today)")
        seed.add_argument("--seed", type=int, default=1, help="random seed (the same seed, the same data)")
        seed.add_argument("--ledger", choices=seeding.LEDGER_MODES, default="build",
                          help="build: the seeded events' ledger entries, computed as the sequencer would (about "
                               "5,000 entries/s); queue: leave them in the ledger's outbox for `gongzhi ledger "
                               "sequence` (fast; verify reports them as queued). Default: build")
        seed.add_argument("--no-steps", dest="steps", action="store_false",
                          help="demands and contacts only: no steps (events), so no ledger entries either")
        seed.add_argument("--force", action="store_true",
                          help="seed even though the database already holds a district, demands or users")
        seed.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _seed(self, *, demands, years, end, seed, ledger, steps, force, as_json, verbosity=1, **_):
        if demands < 1:
            raise CommandError("--demands must be at least 1")
        say = (lambda message: self.stderr.write(message)) if verbosity > 1 else (lambda message: None)
        try:
            report = seeding.seed(demands, years=years, end=end, seed_value=seed, ledger=ledger, steps=steps, force=force,
                                  progress=say)
        except seeding.Refused as refused:
            raise CommandError(str(refused)) from None
        if as_json:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        r = report.as_dict()
        self.stdout.write(f"seeded {r['demands']:,} demands ({r['demands_per_s']:,}/s; {r['seeded_per_s']:,}/s with their contacts, "
                          f"steps and indexes), {r['contacts']:,} contacts, "
                          f"{r['events']:,} events, {r['entries']:,} ledger entries ({r['queued']:,} queued) in {r['total_seconds']:.1f} s "
                          f"({', '.join(f'{k} {v:.1f} s' for k, v in r['seconds'].items())})")
