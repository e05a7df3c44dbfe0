"""Bringing back published entries a restored database lacks, from a `gongzhi ledger export` file kept by a
mirror, a witness or the office's own schedule (`gongzhi ledger recover --export FILE`; decision 0011).

The export is verified in full with this log's key, must contain the published checkpoint (the record outside
the database, published.py), and must extend this database's log exactly (same root at its size). Its entries
beyond the database's log are then stored as they were signed, with their subtree hashes, checkpoints and the
head, in one transaction. Their events' data was lost with the restore: each is linked to a stand-in event
(kind `ledger.entry_recovered`, subject `ledger.entry:<index>`, holding the event id, kind and subject the
entry names), which `ledger verify --db` checks against the entry instead of rebuilding it. Finally a
`ledger.entries_recovered` event records what was brought back, and is itself sequenced and published.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from gongzhi.core import clock, events
from gongzhi.core.models import Event

from . import merkle, note, published, queries, services, storage, verify
from .models import Checkpoint

RECOVERED_KIND = "ledger.entry_recovered"
RECOVERED_SUBJECT = "ledger.entry"


class RecoveryRefused(Exception):
    """The export cannot be used: nothing was changed."""


@dataclass
class Recovered:
    from_size: int
    to_size: int
    first_time: str | None
    last_time: str | None


def _entry_time(text: str) -> str | None:
    try:
        return json.loads(text).get("time")
    except ValueError:
        return None


def recover_from_export(path: Path, *, checkpoint: tuple[int, bytes, str] | None = None) -> Recovered:
    """Store the entries of the export at `path` that this database's log lacks; see the module docstring."""
    vkey = services.verifier_key()
    record = published.read()
    if checkpoint is not None and (record is None or checkpoint[0] > record.size):
        published.remember(*checkpoint)
        record = published.read()
    target = {"size": record.size, "root": record.root.hex()} if record else None
    try:
        report = verify.verify(verify.ExportSource(path), key=vkey, previous=target)
    except verify.FetchError as error:
        raise RecoveryRefused(f"cannot read the export: {error}") from error
    if not report.ok:
        raise RecoveryRefused(f"the export does not verify with this log's key {vkey}: {report.first_problem()}")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()

    with transaction.atomic():
        head = services._locked_head()
        have = head.size
        if report.tree_size <= have:
            raise RecoveryRefused(f"the export (tree size {report.tree_size}) holds nothing beyond this database's "
                                  f"log (size {have})")
        source = verify.ExportSource(path)
        frontier = merkle.Frontier()
        rows, subtrees, stand_ins = [], [], []
        first_time = last_time = None
        for index, data in source.entries(report.tree_size):
            leaf = merkle.leaf_hash(data)
            nodes = frontier.append(leaf)
            if frontier.size == have and frontier.root() != bytes(head.root):
                raise RecoveryRefused(f"the export's first {have} entries are not this database's log: its tree of "
                                      f"size {have} has another root (an export of another log?)")
            if index < have:
                continue
            text = data.decode("utf-8")
            parsed = json.loads(text)
            last_time = parsed.get("time")
            first_time = first_time or last_time
            subtrees.extend(node for node in nodes if node[0])
            rows.append((index, text, leaf))
            stand_ins.append(Event(kind=RECOVERED_KIND, subject_type=RECOVERED_SUBJECT, subject_id=str(index),
                                   at=clock.now(), data={"event": parsed.get("event"), "kind": parsed.get("kind"),
                                                         "subject": parsed.get("subject"), "time": parsed.get("time")}))
        if have == 0 and frontier.size == 0:
            raise RecoveryRefused("the export holds no entries")
        Event.objects.bulk_create(stand_ins, batch_size=500)  # no post_save: these are not new steps to sequence
        storage.insert_entries([(index, event.pk, leaf, text) for (index, text, leaf), event in zip(rows, stand_ins)])
        storage.insert_subtrees(subtrees)
        for signed in source.checkpoints():
            body, _ = note.open_note(signed, [note.Verifier.from_vkey(vkey)])
            parsed_checkpoint = note.parse_checkpoint(body)
            if parsed_checkpoint.size > have:
                Checkpoint.objects.create(size=parsed_checkpoint.size, root=parsed_checkpoint.root, note=signed,
                                          signed_at=clock.now())
        head.size, head.root, head.frontier = frontier.size, frontier.root(), frontier.to_json()
        head.checkpoint = report.checkpoint
        head.save()
        events.record("ledger.entries_recovered", head, from_size=have, to_size=frontier.size,
                      entries=frontier.size - have, export_sha256=digest)
    published.remember(frontier.size, bytes(head.root), report.checkpoint)
    return Recovered(have, frontier.size, first_time, last_time)


def gap_report(write) -> bool:
    """After a restore: does this database's log contain the published checkpoint? Writes what is missing, loudly;
    True when nothing is."""
    record = published.read()
    if record is None:
        return True
    head = queries.head()
    size = head.size if head else 0
    reason = published.problem(size, bytes(head.root) if head else merkle.EMPTY_ROOT, queries.root_at)
    if reason is None:
        return True
    last = Checkpoint.objects.order_by("-id").values_list("signed_at", flat=True).first()
    since = f"since {last:%Y-%m-%d %H:%M:%S %Z}" if last else "since the log began"
    bar = "!" * 78
    write(bar)
    write("LEDGER GAP: the restored database does not hold everything the public log published.")
    write(f"  {reason}.")
    if record.size > size:
        write(f"  Missing: {record.size - size} entries, indexes {size} to {record.size - 1}: every step sequenced "
              f"{since} (this database's last checkpoint) up to the published checkpoint.")
    write("  The steps themselves (demands filed, replies, votes …) made in that time are not in the restored data.")
    write("  The sequencer refuses to sign anything until this is resolved (new steps wait in its queue).")
    write(f"  Resolve: {published.HOW_TO_RESOLVE}.")
    write(bar)
    return False


def accept_gap(reason: str) -> tuple[int, int]:
    """The last resort when no export holds the missing entries: the operator's decision, with its reason, becomes
    the next entry of the log (`ledger.gap_accepted`, naming the published checkpoint it departs from), the record
    of the published checkpoint is set aside (kept beside it), and the sequencer signs again from this database's
    log. This IS a fork of what was published, declared in the log itself: witnesses will refuse to cosign it and
    auditors' checks fail until they read the decision. (published size, this log's size)"""
    import logging

    reason = (reason or "").strip()
    if len(reason) < 10:
        raise RecoveryRefused("give the reason for the record (--reason, at least 10 characters): it is published")
    record = published.read()
    head = queries.head()
    size = head.size if head else 0
    problem = published.problem(size, bytes(head.root) if head else merkle.EMPTY_ROOT, queries.root_at)
    if record is None or problem is None:
        raise RecoveryRefused("there is no gap: the log contains the published checkpoint")
    with transaction.atomic():
        head = services._locked_head()
        events.record("ledger.gap_accepted", head, published_size=record.size, published_root=record.root.hex(),
                      published_recorded_at=record.recorded_at, log_size=head.size,
                      missing=max(record.size - head.size, 0), reason=reason)
    where = published.path()
    aside = where.with_name(f"{where.name}.superseded-{clock.now():%Y%m%d-%H%M%S}")
    where.rename(aside)
    logging.getLogger("gongzhi.ledger").error(
        "ledger: the operator accepted a gap: the published checkpoint of size %s is superseded (kept at %s); the log "
        "continues from size %s: %s", record.size, aside, head.size, reason)
    services.sequence_pending()
    return record.size, head.size
