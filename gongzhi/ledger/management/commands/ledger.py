"""`gongzhi ledger sequence [--once|--forever]`, `gongzhi ledger keygen`, `gongzhi ledger status`."""

import json
import signal

from django.core.management.base import BaseCommand

from gongzhi.core.models import Event
from gongzhi.ledger import queries, services
from gongzhi.ledger.models import Entry, Pending


class Command(BaseCommand):
    help = "Run the transparency log's sequencer, create its signing key, or show its state."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sequence = sub.add_parser("sequence", help="integrate pending events into the log and sign checkpoints")
        mode = sequence.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="sequence what is pending, then exit (default)")
        mode.add_argument("--forever", action="store_true", help="keep sequencing until SIGTERM/SIGINT")
        sequence.add_argument("--interval", type=float, default=0.1, help="idle poll interval in seconds")
        sequence.add_argument("--batch-size", type=int, default=None, help="entries per transaction")
        keygen = sub.add_parser("keygen", help="create the checkpoint signing key if absent; print the verifier key")
        keygen.add_argument("--force", action="store_true", help="replace an existing key (verifiers must update)")
        status = sub.add_parser("status", help="tree size, root, pending events, the verifier key")
        status.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _sequence(self, *, forever=False, interval=0.1, batch_size=None, **options):
        if not forever:
            queued = services.queue_unsequenced()
            done = services.sequence_pending(batch_size=batch_size)
            services.ensure_checkpoint()
            self.stdout.write(f"sequenced {done} entries ({queued} found unqueued); tree size {queries.tree_size()}")
            return
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"sequencing every {interval:g} s when idle (SIGTERM or Ctrl-C stops)")
        self.stdout.flush()
        done = services.run_sequencer(interval=interval, should_stop=lambda: bool(stopping), batch_size=batch_size)
        self.stdout.write(f"stopped after sequencing {done} entries; tree size {queries.tree_size()}")

    def _keygen(self, *, force=False, **options):
        existed = services.key_path().exists()
        vkey = services.generate_key(force=force)
        if existed and not force:
            self.stderr.write(f"key already exists at {services.key_path()} (--force replaces it)")
        self.stdout.write(vkey)

    def _status(self, *, as_json=False, **options):
        head = queries.head()
        state = {
            "origin": services.origin(),
            "tree_size": head.size if head else 0,
            "root": bytes(head.root).hex() if head else None,
            "checkpoint_at": head.updated_at.isoformat() if head else None,
            "pending": Pending.objects.count(),
            "events": Event.objects.count(),
            "entries": Entry.objects.count(),
            "vkey": services.verifier_key() if services.key_path().exists() else None,
        }
        if as_json:
            self.stdout.write(json.dumps(state, ensure_ascii=False, indent=2))
            return
        for name, value in state.items():
            self.stdout.write(f"{name:14} {value}")

