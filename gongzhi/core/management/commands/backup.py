"""`gongzhi backup FILE`: the database, the uploaded files and the var/ keys, in one file encrypted with
GONGZHI_BACKUP_KEY (core/backup.py); `gongzhi backup --keygen` prints a new key."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core import backup


class Command(BaseCommand):
    help = "Back up this installation (database, uploaded files, keys) into FILE, encrypted with GONGZHI_BACKUP_KEY."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the backup file to write (made as FILE.part, then renamed)")
        parser.add_argument("--keygen", action="store_true",
                            help="print a new key for GONGZHI_BACKUP_KEY and exit (keep it apart from the backups)")

    def handle(self, *args, file=None, keygen=False, **options):
        if keygen:
            self.stdout.write(backup.generate_key())
            return
        if not file:
            raise CommandError("give the backup FILE to write (or --keygen)")
        try:
            header = backup.backup(Path(file), backup.key_from_environment())
        except backup.BackupError as error:
            raise CommandError(str(error), returncode=error.exit_code) from error
        ledger = header.get("ledger") or {}
        self.stdout.write(f"backed up the {header['database']} database and {header['files']} files to {file} "
                          f"({Path(file).stat().st_size:,} bytes, key {header['key_id']}); "
                          f"ledger tree size {ledger.get('tree_size', 0)}")
