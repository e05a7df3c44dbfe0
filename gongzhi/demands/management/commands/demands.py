"""`gongzhi demands work [--forever]`: the intake worker (files the submissions of the fast intake path)
and, every --sweep-interval, the deadline sweep. `gongzhi demands sweep [--forever] [--interval SECONDS]
[--enqueue]`: the deadline sweep (reminders, supervision orders, 挂牌督办) and webhook deliveries alone.
One verb per subcommand; add new verbs as subparsers with a `_<verb>` method."""

import json
import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections

from gongzhi.core import heartbeat, periodic
from gongzhi.core.stopping import StopFlag
from gongzhi.demands import deadlines, escalation, imports, notifications, services, tally, tasks

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
        sweep.add_argument("--no-jobs", dest="jobs", action="store_false",
                           help="with --forever: do not run the periodic jobs (hot spots, profiles, retraining) here")
        work = sub.add_parser("work", help="file the pending submissions of the fast intake path (and, with "
                                           "--forever, keep doing so and sweep deadlines every --sweep-interval)")
        work.add_argument("--forever", action="store_true", help="run until SIGTERM/SIGINT")
        work.add_argument("--poll", type=float, default=0.5, help="seconds to wait when nothing is pending")
        work.add_argument("--batch", type=int, default=500, help="submissions filed per pass")
        work.add_argument("--sweep-interval", type=float, default=tasks.SWEEP_INTERVAL_SECONDS,
                          help="seconds between deadline sweeps with --forever (0: never sweep)")
        work.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        work.add_argument("--no-jobs", dest="jobs", action="store_false",
                          help="with --forever: file only, no periodic jobs (run `demands sweep --forever` beside it "
                               "for those and, with --sweep-interval 0, for the deadlines: filing then never waits "
                               "behind a long sweep or analysis)")
        imports.add_import_verb(sub)
        tally_verb = sub.add_parser("tally", help="check the weekly tally of demands (PostgreSQL) against the demands "
                                                  "themselves; --rebuild recounts it and reinstalls its trigger")
        tally_verb.add_argument("--rebuild", action="store_true",
                                help="recount every week from the demands (after a change of TIME_ZONE, or a restore)")

    def handle(self, *args, verb, **options):
        self.verbosity = options["verbosity"]
        getattr(self, f"_{verb.replace('-', '_')}")(**options)

    def _tally(self, *, rebuild=False, **_) -> None:
        from django.db import connection

        if connection.vendor != "postgresql":
            self.stdout.write("no tally on this database: the figures are counted from the demands themselves")
            return
        if rebuild:
            cells = tally.rebuild()
            self.stdout.write(f"tally rebuilt: {cells} cells, weeks in {tally.installed_zone()}")
            return
        zone = tally.installed_zone()
        if zone is None:
            raise CommandError("the tally's trigger is missing or disabled: run `gongzhi demands tally --rebuild`")
        if not tally.installed():
            raise CommandError(f"the tally counts weeks in {zone}, the project now in {tally.settings.TIME_ZONE}: "
                               "run `gongzhi demands tally --rebuild`")
        differing = tally.differences()
        if differing:
            for cell, kept, counted in differing[:20]:
                self.stderr.write(f"{cell}: tally {kept}, demands {counted}")
            raise CommandError(f"{len(differing)} cells of the tally differ from the demands: run "
                               "`gongzhi demands tally --rebuild`")
        self.stdout.write(f"tally OK: every cell agrees with the demands (weeks in {zone})")

    def _import(self, **options) -> None:
        imports.run_import(options, self.stdout, self.stderr)

    def _work(self, *, forever=False, poll=0.5, batch=500, sweep_interval=tasks.SWEEP_INTERVAL_SECONDS,
              as_json=False, jobs=True, **options):
        missing = deadlines.missing_notice_warning()  # --forever: and once a day after (a periodic job, logged)
        if missing:
            self.stderr.write(f"warning: {missing}")
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
        stop = StopFlag().install()
        try:
            self._work_forever(stop, poll, batch, sweep_interval, as_json, jobs)
        finally:
            stop.release()

    def _work_forever(self, stop: StopFlag, poll: float, batch: int, sweep_interval: float, as_json: bool,
                      jobs: bool = True):
        """Steps (a filing pass, the due periodic jobs, a sweep) each commit what they did row by row; the
        stop flag is checked between them and between a sweep's rows, never inside a transaction."""
        self.stdout.write(f"filing submissions (polling every {poll:g} s), "
                          + (f"sweeping deadlines every {sweep_interval:g} s" if sweep_interval else "no deadline sweep")
                          + ("" if jobs else ", no periodic jobs") + "; SIGTERM or Ctrl-C to stop")
        self.stdout.flush()
        done = {"filed": 0, "refused": 0, "sweeps": 0, "reminders": 0, "supervision_orders": 0}
        next_sweep = time.monotonic()
        # The readiness check (gongzhi/ops) calls the worker stale after a few sweep intervals without a beat.
        beater = heartbeat.Beater(heartbeat.WORKER, sweep_interval or tasks.SWEEP_INTERVAL_SECONDS)
        while not stop.requested:
            close_old_connections()
            busy = False
            try:
                beater.beat()
                report = services.file_submissions(batch)
                busy = report.filed + report.refused >= batch
                done["filed"] += report.filed
                done["refused"] += report.refused
                if self.verbosity > 1 or report.refused or report.failed:
                    self.stdout.write("filed {filed}, refused {refused}, failed {failed}".format(**report.as_dict()))
            except Exception:  # a lost connection must not end the loop: logged, next round
                logger.exception("filing submissions failed; retrying in %g s", poll)
            if stop.requested:
                break
            if jobs:
                periodic.run_due()  # jobs other apps registered (insight: profiles, hot spots, retraining)
            if stop.requested:
                break
            if sweep_interval and time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + sweep_interval
                try:
                    sweep = self._sweep_once(as_json, stop)
                    done["sweeps"] += 1
                    done["reminders"] += sweep["reminders"]
                    done["supervision_orders"] += sweep["supervision_orders"]
                except Exception:
                    logger.exception("deadline sweep failed; retrying in %g s", sweep_interval)
            if not busy:
                stop.wait(poll)
        self._stopped(stop, done)

    def _stopped(self, stop: StopFlag, done: dict) -> None:
        """Noticed by the loop (not the signal handler, which must not log): the step in progress has
        finished and committed; close the connection and say what this run did."""
        logger.info("stopping… (%s)", stop.reason)
        connections.close_all()
        logger.info("stopped: %s", ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in done.items()))

    def _sweep_once(self, as_json: bool, stop: StopFlag | None = None) -> dict:
        report = escalation.sweep_deadlines(should_stop=(lambda: stop.requested) if stop else None).as_dict()
        report["webhooks"] = {} if stop and stop.requested else notifications.deliver_due()
        if as_json:
            self.stdout.write(json.dumps(report))
        elif any(report[k] for k in ("reminders", "supervision_orders", "resolved", "listed")) or any(
                report["webhooks"].values()) or self.verbosity > 1:
            self.stdout.write(
                "reminders {reminders}, supervision orders {supervision_orders}, resolved {resolved}, "
                "listed {listed}; webhooks {webhooks}".format(**report))
        return report

    def _sweep(self, *, forever=False, enqueue=False, interval=tasks.SWEEP_INTERVAL_SECONDS, as_json=False,
               jobs=True, **options):
        if enqueue:
            queued = tasks.schedule_sweep(interval, start_now=True)
            self.stdout.write("sweep task queued" if queued else
                              "a sweep task is already queued (or the task backend cannot defer)")
            return
        if not forever:
            self._sweep_once(as_json)
            return
        stop = StopFlag().install()
        try:
            self.stdout.write(f"sweeping every {interval:g} s" + (", running the periodic jobs" if jobs else "")
                              + "; SIGTERM or Ctrl-C to stop")
            self.stdout.flush()
            done = {"sweeps": 0, "reminders": 0, "supervision_orders": 0}
            # Its own heartbeat: /health/ready/ checks it once a sweeper has beaten (gongzhi/ops/health.py).
            beater = heartbeat.Beater(heartbeat.SWEEPER, interval)
            while not stop.requested:
                close_old_connections()
                try:
                    beater.beat()
                    if jobs:
                        periodic.run_due()
                    if stop.requested:
                        break
                    report = self._sweep_once(as_json, stop)
                    done["sweeps"] += 1
                    done["reminders"] += report["reminders"]
                    done["supervision_orders"] += report["supervision_orders"]
                except Exception:  # a lost connection or a bad row must not end the loop: logged, next round
                    logger.exception("deadline sweep failed; retrying in %g s", interval)
                stop.wait(interval)
            self._stopped(stop, done)
        finally:
            stop.release()
