"""`gongzhi restore FILE [--yes]`: put back a backup made by `gongzhi backup` (core/backup.py). The whole file
is decrypted and authenticated first: a wrong key, a damaged or cut file, or a backup of the other database
kind is refused with nothing touched. Then each app checks what came back (the ledger: against the last
published checkpoint, gongzhi/ledger/backup.py); a failed check exits 1."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core import backup

REFUSED = 2  # nothing was changed
CHECK_FAILED = 1  # restored, but what came back does not check (e.g. a ledger gap)


class Command(BaseCommand):
    help = "Restore this installation from a backup made by `gongzhi backup` (stop the server and workers first)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup file")
        parser.add_argument("--yes", action="store_true", help="replace the database without asking")
        for part in backup.parts():
            part.add_arguments(parser)

    def handle(self, *args, file, yes=False, **options):
        try:
            staged = backup.open_backup(Path(file), backup.key_from_environment(), options)
        except backup.BackupError as error:
            raise CommandError(f"REFUSED (nothing was changed): {error}", returncode=REFUSED) from error
        try:
            header = staged.header
            ledger = header.get("ledger") or {}
            self.stdout.write(f"backup of {header.get('created_at')}: {header.get('database')} database, "
                              f"{len(staged.names) - 1} files, ledger tree size {ledger.get('tree_size', 0)}")
            if not yes and not self._confirmed(f"Replace {backup.describe_current()} and the uploaded files with "
                                               "this backup? Type yes: "):
                raise CommandError("not restored (answer was not yes; --yes skips the question)", returncode=REFUSED)
            try:
                for line in backup.apply(staged):
                    self.stdout.write(line)
            except backup.BackupError as error:
                raise CommandError(str(error), returncode=REFUSED) from error
        finally:
            staged.cleanup()
        ok = all(part.after_restore(header, options, self.stdout.write) for part in backup.parts())
        if not ok:
            raise CommandError("restored, but the checks above FAILED: read them before starting the server",
                               returncode=CHECK_FAILED)
        self.stdout.write("restored; every check passed")

    def _confirmed(self, question: str) -> bool:
        self.stdout.write(question, ending="")
        self.stdout.flush()
        return sys.stdin.readline().strip().lower() in ("yes", "y")
