"""`gongzhi demands work [--forever]`: the intake worker (files the submissions of the fast intake path)
and, every --sweep-interval, the deadline sweep. `gongzhi demands sweep [--forever] [--interval SECONDS]
[--enqueue]`: the deadline sweep (reminders, supervision orders, 挂牌督办) and webhook deliveries alone.
One verb per subcommand; add new verbs as subparsers with a `_<verb>` method."""

import json
import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from gongzhi.core import periodic
from gongzhi.demands import escalation, imports, notifications, services, tasks

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
        work = sub.add_parser("work", help="file the pending submissions of the fast intake path (and, with "
                                           "--forever, keep doing so and sweep deadlines every --sweep-interval)")
        work.add_argument("--forever", action="store_true", help="run until SIGTERM/SIGINT")
        work.add_argument("--poll", type=float, default=0.5, help="seconds to wait when nothing is pending")
        work.add_argument("--batch", type=int, default=500, help="submissions filed per pass")
        work.add_argument("--sweep-interval", type=float, default=tasks.SWEEP_INTERVAL_SECONDS,
                          help="seconds between deadline sweeps with --forever (0: never sweep)")
        work.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        imports.add_import_verb(sub)

    def handle(self, *args, verb, **options):
        self.verbosity = options["verbosity"]
        getattr(self, f"_{verb.replace('-', '_')}")(**options)

    def _import(self, **options) -> None:
        imports.run_import(options, self.stdout, self.stderr)

    def _work(self, *, forever=False, poll=0.5, batch=500, sweep_interval=tasks.SWEEP_INTERVAL_SECONDS,
              as_json=False, **options):
        if not forever:
            total = services.FilingReport()
            while True:
                report = services.file_submissions(batch)
                total.filed, total.refused, total.failed = (total.filed + report.filed,
                                                            total.refused + report.refused,
                                                            total.failed + report.failed)
                if report.filed + report.refused + report.failed < batch or report.failed:
                    break
            self.stdout.write(json.dumps(total.as_dict()) if as_json else
                              "filed {filed}, refused {refused}, failed {failed}".format(**total.as_dict()))
            if total.failed:
                raise CommandError(f"{total.failed} submission(s) could not be filed; see the log")
            return
        stop = self._stop_on_signals()
        self.stdout.write(f"filing submissions (polling every {poll:g} s), sweeping deadlines every "
                          f"{sweep_interval:g} s; SIGTERM or Ctrl-C to stop")
        next_sweep = time.monotonic()
        while not stop.is_set():
            close_old_connections()
            busy = False
            try:
                report = services.file_submissions(batch)
                busy = report.filed + report.refused >= batch
                if self.verbosity > 1 or report.refused or report.failed:
                    self.stdout.write("filed {filed}, refused {refused}, failed {failed}".format(**report.as_dict()))
            except Exception:  # a lost connection must not end the loop: logged, next round
                logger.exception("filing submissions failed; retrying in %g s", poll)
            periodic.run_due()  # jobs other apps registered (insight: profiles, hot spots, retraining)
            if sweep_interval and time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + sweep_interval
                try:
                    self._sweep_once(as_json)
                except Exception:
                    logger.exception("deadline sweep failed; retrying in %g s", sweep_interval)
            if not busy:
                stop.wait(poll)

    @staticmethod
    def _stop_on_signals() -> threading.Event:
        stop = threading.Event()

        def on_signal(signum, frame):
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        return stop

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
        stop = self._stop_on_signals()
        self.stdout.write(f"sweeping every {interval:g} s; SIGTERM or Ctrl-C to stop")
        while not stop.is_set():
            close_old_connections()
            try:
                self._sweep_once(as_json)
            except Exception:  # a lost connection or a bad row must not end the loop: logged, next round
                logger.exception("deadline sweep failed; retrying in %g s", interval)
            stop.wait(interval)
