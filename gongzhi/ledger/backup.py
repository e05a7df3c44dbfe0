"""The ledger's part of backups (core/backup.py): the log's size and root in the header, its keys in the
(encrypted) backup, and after a restore the check against the last published checkpoint (decision 0011)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from django.conf import settings

from gongzhi.core import backup

from . import published, queries, recovery, services, verify


def _pseudonym_key_path() -> Path:
    return Path(getattr(settings, "GONGZHI_LEDGER_PSEUDONYM_KEY", settings.VAR_DIR / "ledger" / "pseudonym.key"))


def _read_checkpoint_option(value: str) -> tuple[int, bytes, str]:
    """--checkpoint: a file holding a signed checkpoint or a `ledger verify`/`witness` state file, or the URL of
    a mirror serving /ledger/checkpoint; checked with this log's verifier key."""
    if value.startswith(("http://", "https://")):
        url = value.rstrip("/")
        if not url.endswith("/ledger/checkpoint"):
            url += "/ledger/checkpoint"
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read().decode("utf-8")
    else:
        text = Path(value).expanduser().read_text(encoding="utf-8")
    return published.parse_checkpoint_text(text, services.verifier_key())


class LedgerPart(backup.Part):
    name = "ledger"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--checkpoint", metavar="FILE_OR_URL",
            help="the last checkpoint the log published, as a witness, an auditor's state file or a mirror holds it "
                 "(needed when this machine has no record of it, e.g. a restore onto a new machine)")
        parser.add_argument(
            "--nothing-published", action="store_true",
            help="restore without any record of a published checkpoint (only if this log was never served)")

    def header(self, query) -> dict:
        rows = query("SELECT size, root FROM ledger_loghead WHERE id = 1")
        size, root = (int(rows[0][0]), bytes(rows[0][1]).hex()) if rows else (0, None)
        return {"ledger": {"origin": services.origin(), "tree_size": size, "root": root}}

    def files(self) -> dict[str, Path]:
        key = services.key_path()
        return {"keys/ledger/signing.key": key, "keys/ledger/signing.vkey": key.with_suffix(".vkey"),
                "keys/ledger/pseudonym.key": _pseudonym_key_path()}

    def before_restore(self, header: dict, options: dict) -> None:
        if published.path() is None:
            return
        if options.get("checkpoint"):
            if not services.key_path().exists() and not services.key_path().with_suffix(".vkey").exists():
                return  # the key comes back with the backup; the checkpoint is checked after
            try:
                options["_published"] = _read_checkpoint_option(options["checkpoint"])
            except Exception as error:  # noqa: BLE001 - any unreadable or unverifiable checkpoint refuses
                raise backup.BackupError(f"--checkpoint {options['checkpoint']}: {error}") from error
        elif published.read() is None and not options.get("nothing_published"):
            raise backup.BackupError(
                f"there is no record of the ledger's last published checkpoint at {published.path()} (a new "
                "machine?). Pass --checkpoint with the checkpoint a witness, an auditor or a mirror holds (a file or "
                "a URL), so the restored log is checked against it; --nothing-published only if the log was never "
                "served")

    def after_restore(self, header: dict, options: dict, write) -> bool:
        if options.get("checkpoint") and "_published" not in options:
            try:  # the key came with the backup: only now can the checkpoint be checked
                options["_published"] = _read_checkpoint_option(options["checkpoint"])
            except Exception as error:  # noqa: BLE001 - reported, and the restore exits 1
                write(f"ledger: --checkpoint {options['checkpoint']} cannot be used ({error}): the restored log was NOT "
                      "checked against the published checkpoint: restore again with a checkpoint signed by this log's key")
                return False
        if options.get("_published"):
            published.remember(*options["_published"])
        record = published.read()
        head = queries.head()
        if head is None or not head.checkpoint:
            write("ledger: the restored log is empty (no checkpoint signed yet)")
            report = verify.Report()
        else:
            report = verify.verify(verify.DatabaseSource(), key=services.verifier_key())
        counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
        if head is None or not head.checkpoint:
            pass
        elif report.ok:
            write(f"ledger: the restored log verifies: tree size {report.tree_size} ({counts})")
        else:
            write(f"ledger: the restored log does NOT verify: {report.first_problem()} ({counts})")
        gapless = recovery.gap_report(write)
        if gapless and record is not None:
            write(f"ledger: the restored log contains the published checkpoint of {record.describe()}")
        elif record is None:
            write("ledger: no record of a published checkpoint to check against (--nothing-published)")
        return report.ok and gapless


def register() -> None:
    backup.register(LedgerPart())
