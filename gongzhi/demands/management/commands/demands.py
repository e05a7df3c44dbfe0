"""`gongzhi demands sweep [--forever] [--interval SECONDS] [--enqueue]`: the deadline sweep (reminders,
supervision orders, 挂牌督办) and webhook deliveries. One verb per subcommand; add new verbs as subparsers
with a `_<verb>` method."""

import json
import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from gongzhi.demands import escalation, imports, notifications, tasks

logger = logging.getLogger("gongzhi.demands.sweep")


class Command(BaseCommand):
    help = "接诉即办 (demands): the deadline sweep and webhook deliveries; hotline CSV import."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sweep = sub.add_parser("sweep", help="remind near deadlines, issue supervision orders for passed ones, "
                                             "list repeated cases (挂牌督办), send due webhook deliveries")
        mode = sweep.add_mutually_exclusive_group()
        mode.add_argument("--forever", action="store_true",
                          help="sweep every --interval seconds in this process until SIGTERM/SIGINT")
        mode.add_argument("--enqueue", action="store_true",
                          help="start the self-rescheduling sweep task for `gongzhi db_worker` (no-op if queued)")
        sweep.add_argument("--interval", type=float, default=tasks.SWEEP_INTERVAL_SECONDS,
                           help="seconds between sweeps (default %(default)s)")
        sweep.add_argument("--json", action="store_true", dest="as_json", help="print each report as JSON")
        imports.add_import_verb(sub)

    def handle(self, *args, verb, **options):
        self.verbosity = options["verbosity"]
        getattr(self, f"_{verb.replace('-', '_')}")(**options)

    def _import(self, **options) -> None:
        imports.run_import(options, self.stdout, self.stderr)

    def _sweep_once(self, as_json: bool) -> None:
        report = escalation.sweep_deadlines().as_dict()
        report["webhooks"] = notifications.deliver_due()
        if as_json:
            self.stdout.write(json.dumps(report))
        elif any(report[k] for k in ("reminders", "supervision_orders", "resolved", "listed")) or any(
                report["webhooks"].values()) or self.verbosity > 1:
            self.stdout.write(
                "reminders {reminders}, supervision orders {supervision_orders}, resolved {resolved}, "
                "listed {listed}; webhooks {webhooks}".format(**report))

    def _sweep(self, *, forever=False, enqueue=False, interval=tasks.SWEEP_INTERVAL_SECONDS, as_json=False,
               **options):
        if enqueue:
            queued = tasks.schedule_sweep(interval, start_now=True)
            self.stdout.write("sweep task queued" if queued else
                              "a sweep task is already queued (or the task backend cannot defer)")
            return
        if not forever:
            self._sweep_once(as_json)
            return
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        self.stdout.write(f"sweeping every {interval:g} s; SIGTERM or Ctrl-C to stop")
        while not stop.is_set():
            close_old_connections()
            try:
                self._sweep_once(as_json)
            except Exception:  # a lost connection or a bad row must not end the loop: logged, next round
                logger.exception("deadline sweep failed; retrying in %g s", interval)
            stop.wait(interval)
