"""`gongzhi ledger sequence [--once|--forever]`, `keygen`, `status`, `export FILE`,
`verify (--url URL | --export FILE | --db)`, `witness --url URL --key SKEY_FILE`, `witness-keygen NAME`."""

import json
import logging
import os
import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.core.models import Event
from gongzhi.core.stopping import StopFlag
from gongzhi.ledger import note, published, queries, recovery, services, verify
from gongzhi.ledger.models import Entry, Pending

VERIFY_FAILED = 1  # exit status: something does not check
UNREADABLE = 2  # the log could not be read at all (server down, no file, bad key or state file)

logger = logging.getLogger("gongzhi.ledger.sequencer")


class Command(BaseCommand):
    help = ("Run the transparency log's sequencer, create its signing key, show its state, export and verify "
            "the whole log, or witness it.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        sequence = sub.add_parser("sequence", help="integrate pending events into the log and sign checkpoints")
        mode = sequence.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="sequence what is pending, then exit (default)")
        mode.add_argument("--forever", action="store_true", help="keep sequencing until SIGTERM/SIGINT")
        sequence.add_argument("--interval", type=float, default=0.1,
                              help="seconds to wait after a batch that was not full (default %(default)s)")
        sequence.add_argument("--batch-size", type=int, default=None, help="entries per transaction")
        keygen = sub.add_parser("keygen", help="create the checkpoint signing key if absent; print the verifier key")
        keygen.add_argument("--force", action="store_true", help="replace an existing key (verifiers must update)")
        status = sub.add_parser("status", help="tree size, root, pending events, the verifier key")
        status.add_argument("--json", action="store_true", dest="as_json")

        export = sub.add_parser("export", help="write everything an offline `verify --export` needs to FILE")
        export.add_argument("file", help="the export file (JSON lines); - for standard output")

        check = sub.add_parser("verify", help="recompute the whole log and check signatures, hashes and history")
        where = check.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="a running server, e.g. https://gongzhi.example.org")
        where.add_argument("--export", metavar="FILE", help="a file written by `gongzhi ledger export`")
        where.add_argument("--db", action="store_true", help="this server's database, events included")
        check.add_argument("--key", help="the log's verifier key, or a file holding it (default: pinned in the "
                                         "state file, or trusted on first use)")
        check.add_argument("--state", help="where the last verified checkpoint is kept (default "
                                           "$GONGZHI_LEDGER_STATE or ~/.gongzhi-ledger-state.json)")
        check.add_argument("--no-state", action="store_true", help="neither read nor update a state file")
        check.add_argument("--witness", action="append", default=[], metavar="VKEY",
                           help="require a cosignature by this witness key on the latest checkpoint (repeatable)")

        witness = sub.add_parser("witness", help="cosign the latest checkpoint after checking it extends the last "
                                                 "one this witness cosigned")
        witness.add_argument("--url", required=True, help="the log's server")
        witness.add_argument("--key", required=True, metavar="SKEY_FILE", help="the witness's signer key file")
        witness.add_argument("--log-key", help="the log's verifier key, or a file holding it (default: pinned in "
                                               "the state file, or trusted on first use)")
        witness.add_argument("--state", help="where the last cosigned checkpoint is kept "
                                             "(default ~/.gongzhi-witness-state.json)")

        recover = sub.add_parser("recover", help="after a restore, bring back published entries this database lacks "
                                                 "from an export a mirror or witness kept; the sequencer then resumes")
        recover.add_argument("--export", required=True, metavar="FILE", help="a file written by `gongzhi ledger export`")
        recover.add_argument("--checkpoint", metavar="FILE_OR_URL",
                             help="the last published checkpoint, if this machine has no record of it")

        accept = sub.add_parser("accept-gap", help="the last resort when no export holds the missing entries: publish "
                                                   "the decision in the log and sign again (a declared fork)")
        accept.add_argument("--reason", required=True, help="why, for the public record (it becomes a log entry)")
        accept.add_argument("--yes", action="store_true", help="do not ask")

        witness_keygen = sub.add_parser("witness-keygen", help="create a witness key pair (cosignature/v1)")
        witness_keygen.add_argument("name", help="the witness key's name, e.g. witness.example.org/w1")
        witness_keygen.add_argument("--out", help="the signer key file to create (default: NAME.witness.key "
                                                  "in the current directory)")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb.replace('-', '_')}")(**options)

    def _sequence(self, *, forever=False, interval=0.1, batch_size=None, **options):
        if not forever:
            queued = services.queue_unsequenced()
            try:
                done = services.sequence_pending(batch_size=batch_size)
                services.ensure_checkpoint()
            except published.Held as held:
                raise CommandError(str(held), returncode=VERIFY_FAILED) from held
            self.stdout.write(f"sequenced {done} entries ({queued} found unqueued); tree size {queries.tree_size()}")
            return
        stop = StopFlag().install()  # the handler only counts; each batch is one transaction (see stopping.py)
        try:
            self.stdout.write(f"sequencing every {interval:g} s when idle; SIGTERM or Ctrl-C to stop")
            self.stdout.flush()
            done = services.run_sequencer(interval=interval, should_stop=lambda: stop.requested,
                                          batch_size=batch_size, sleep=stop.wait)
            logger.info("stopping… (%s)", stop.reason)
            self.stdout.write(f"stopped after sequencing {done} entries; tree size {queries.tree_size()}")
            logger.info("stopped after sequencing %d entries", done)
        finally:
            stop.release()

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
            "held": self._held_reason(head),
        }
        if as_json:
            self.stdout.write(json.dumps(state, ensure_ascii=False, indent=2))
            return
        for name, value in state.items():
            self.stdout.write(f"{name:14} {value}")


    @staticmethod
    def _held_reason(head) -> str | None:
        """Why the sequencer refuses to sign (the log lacks the published checkpoint), or None."""
        try:
            from gongzhi.ledger import merkle

            return published.problem(head.size if head else 0, bytes(head.root) if head else merkle.EMPTY_ROOT,
                                     queries.root_at)
        except published.Held as held:
            return str(held)

    def _recover(self, *, export, checkpoint=None, **options):
        from gongzhi.ledger.backup import _read_checkpoint_option

        try:
            given = _read_checkpoint_option(checkpoint) if checkpoint else None
            done = recovery.recover_from_export(Path(export), checkpoint=given)
        except (recovery.RecoveryRefused, OSError, ValueError, note.NoteError) as error:
            raise CommandError(f"REFUSED (nothing was changed): {error}", returncode=VERIFY_FAILED) from error
        self.stdout.write(f"recovered entries {done.from_size} to {done.to_size - 1} ({done.to_size - done.from_size} "
                          f"entries, {done.first_time} to {done.last_time}) from {export}; the log now holds the "
                          f"published checkpoint and the sequencer resumes")

    def _accept_gap(self, *, reason, yes=False, **options):
        if not yes:
            self.stdout.write("This publishes that entries of the public log were lost, and signs a log that does not "
                              "extend the published checkpoint (witnesses will refuse it). Type yes: ", ending="")
            self.stdout.flush()
            if sys.stdin.readline().strip().lower() != "yes":
                raise CommandError("nothing done", returncode=VERIFY_FAILED)
        try:
            published_size, size = recovery.accept_gap(reason)
        except recovery.RecoveryRefused as error:
            raise CommandError(f"REFUSED: {error}", returncode=VERIFY_FAILED) from error
        self.stdout.write(f"recorded and signed: the log continues from size {size}; the published checkpoint of size "
                          f"{published_size} is superseded. Tell the witnesses and auditors (docs/deployment.md)")

    # --- export and verify -------------------------------------------------------------------------

    def _export(self, *, file, **options):
        path = None if file == "-" else Path(file)
        temporary = path.with_name(path.name + ".part") if path else None
        try:
            if path is None:
                verify.write_export(self.stdout)
                return
            with temporary.open("w", encoding="utf-8") as out:
                size = verify.write_export(out)
        except NotFound as error:
            if temporary:
                temporary.unlink(missing_ok=True)
            raise CommandError(f"nothing to export: {error.message('en')}", returncode=UNREADABLE) from error
        temporary.replace(path)
        self.stdout.write(f"exported the log of {size} entries to {path}")

    def _verify(self, *, url=None, export=None, db=False, key=None, state=None, no_state=False, witness=(),
                **options):
        try:
            source = verify.UrlSource(url) if url else verify.ExportSource(export) if export else verify.DatabaseSource()
            pinned = verify.read_vkey(key) if key else None
            path = verify.state_path(state)
            memory = {"logs": {}} if no_state else verify.load_state(path)
            previous = None if no_state else verify.state_for(memory, source, pinned)
            report = verify.verify(source, key=pinned or (previous or {}).get("vkey"), previous=previous,
                                   witnesses=[verify.read_vkey(w) for w in witness])
        except (verify.FetchError, OSError, ValueError) as error:
            raise CommandError(f"cannot verify: {error}", returncode=UNREADABLE) from error
        for line in report.notes:
            self.stderr.write(f"note: {line}")
        counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
        if not report.ok:
            problems = report.ordered_problems()
            for problem in problems[1:11]:
                self.stderr.write(f"  also: {problem}")
            if len(problems) > 11:
                self.stderr.write(f"  … and {len(problems) - 11} more")
            self.stderr.write(f"checked {counts}")
            raise CommandError(f"FAILED: {problems[0]}", returncode=VERIFY_FAILED)
        root = report.root.hex()
        self.stdout.write(f"OK {report.origin}: tree size {report.tree_size}, root {root}")
        self.stdout.write(f"checked {counts}")
        if previous:
            self.stdout.write(f"consistent with the checkpoint of size {previous['size']} verified on "
                              f"{previous.get('verified_at')}")
        if not no_state:
            verify.save_state(path, memory, source, report)
            self.stdout.write(f"state saved to {path}")

    # --- witnesses ---------------------------------------------------------------------------------

    def _witness(self, *, url, key, log_key=None, state=None, **options):
        path = Path(state or verify.DEFAULT_WITNESS_STATE).expanduser()
        try:
            signer = note.CosignatureSigner.from_skey(
                Path(key).expanduser().read_text(encoding="utf-8").strip(), now=lambda: int(clock.now().timestamp()))
            source = verify.UrlSource(url)
            memory = verify.load_state(path)
            pinned = verify.read_vkey(log_key) if log_key else None
            previous = verify.state_for(memory, source, pinned)
            trusted = pinned or (previous or {}).get("vkey")
            if not trusted:
                trusted = source.served_key()
                self.stderr.write(f"note: trusting the log key {trusted} on first use")
            cosigned = verify.cosign(source, signer, log_key=trusted, previous=previous)
        except verify.WitnessRefused as error:
            raise CommandError(f"REFUSED: {error}", returncode=VERIFY_FAILED) from error
        except (verify.FetchError, OSError, ValueError) as error:
            raise CommandError(f"cannot witness: {error}", returncode=UNREADABLE) from error
        verify.remember_cosigned(path, memory, cosigned, trusted)
        self.stdout.write(f"cosigned {cosigned.origin} at tree size {cosigned.size} as {signer.name}")

    def _witness_keygen(self, *, name, out=None, **options):
        try:
            signer = note.CosignatureSigner.generate(name)
        except note.NoteError as error:
            raise CommandError(str(error)) from error
        path = Path(out or re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".witness.key")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as error:
            raise CommandError(f"{path} exists: refusing to overwrite a key") from error
        with os.fdopen(fd, "w") as handle:
            handle.write(signer.to_skey() + "\n")
        path.with_name(path.name + ".vkey").write_text(signer.verifier_key() + "\n")
        self.stderr.write(f"signer key written to {path} (keep it secret); the log accepts this witness once "
                          "its verifier key is in GONGZHI_LEDGER_WITNESSES:")
        self.stdout.write(signer.verifier_key())
