"""`gongzhi opinions map`: the opinion map of a Polis conversation export, as a small JSON summary.
One verb per subcommand: add a subparser, a `_<verb>` method and its entry in `handle`'s table."""

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gongzhi.deliberation import opinions


class Command(BaseCommand):
    help = "Opinion maps (Polis-style): groups, consensus and representative statements of a conversation."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        opinion_map = sub.add_parser(
            "map", help="map a Polis export folder (comments.csv and votes.csv, or participants-votes.csv) and "
                        'write {"k", "participants", "consensus", "representative"} as JSON')
        opinion_map.add_argument("--polis-export", required=True, type=Path, dest="export",
                                 help="folder of one conversation's export")
        opinion_map.add_argument("--out", required=True, type=Path, help="JSON file to write (replaced atomically)")
        opinion_map.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")

    def handle(self, *args, verb, **options):
        verbs = {"map": self._map}
        try:
            verbs[verb](**options)
        except ValueError as error:
            raise CommandError(str(error)) from error

    def _map(self, *, export, out, seed=0, **options):
        if out.is_dir():
            raise CommandError(f"{out}: is a directory; give the JSON file's name")
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such directory for the output")
        votes, comments = opinions.read_polis_export(export)
        opinion_map = opinions.compute_map(votes, statements=sorted(comments),
                                           excluded_statements=opinions.moderated_out(comments), seed=seed)
        summary = {
            "k": opinion_map.k,
            "participants": {str(p): group for p, group in sorted(opinion_map.groups.items())},
            "consensus": opinion_map.consensus,
            "representative": {str(group): [stat.statement_id for stat in stats]
                               for group, stats in sorted(opinion_map.representative.items())},
        }
        try:
            _write_atomically(out, json.dumps(summary, ensure_ascii=False))
        except OSError as error:
            raise CommandError(f"{out}: cannot write the map ({error.strerror})") from error
        self.stdout.write(f"{opinion_map.n_participants} participants, {opinion_map.n_statements} statements: "
                          f"{opinion_map.k} opinion groups of {', '.join(map(str, opinion_map.group_sizes.values()))} "
                          f"({opinion_map.n_clustered} clustered), {len(summary['consensus'])} consensus "
                          f"statements")
        self.stdout.write(f"wrote {out}")


def _write_atomically(path: Path, text: str) -> None:
    """Write beside `path` and rename, so `path` is either the old file or the whole new one."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
