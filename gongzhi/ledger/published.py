"""The record of the last published checkpoint, kept OUTSIDE the database, and the sequencer's guard on it.

Every checkpoint the sequencer signs is served at once (/ledger/checkpoint): from that moment a witness, an
auditor or a resident's receipt may hold it. So after each committed batch the sequencer writes the checkpoint
to GONGZHI_LEDGER_PUBLISHED (default var/ledger/published-checkpoint; it only ever grows, and backups neither
hold nor overwrite it). Before signing anything the sequencer checks the database's log still contains that
checkpoint: a database put back from a backup (or a snapshot, or by hand) that lacks published entries would
otherwise sign a second history under the same key, a fork. Then it refuses (`Held`) until the missing entries
are brought back (`gongzhi ledger recover --export FILE`, services in ledger/recovery.py). Decision 0011.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import note


class Held(RuntimeError):
    """The database's log does not contain the published checkpoint: nothing may be signed."""


@dataclass(frozen=True)
class Published:
    size: int
    root: bytes
    checkpoint: str
    recorded_at: str

    def describe(self) -> str:
        return f"size {self.size} (recorded {self.recorded_at})"


def path() -> Path | None:
    """Where the record lives; None when switched off (GONGZHI_LEDGER_PUBLISHED="", the in-process test suite)."""
    value = getattr(settings, "GONGZHI_LEDGER_PUBLISHED", None)
    if value is None:
        value = os.environ.get("GONGZHI_LEDGER_PUBLISHED", str(Path(settings.VAR_DIR) / "ledger" / "published-checkpoint"))
    return Path(value) if value else None


def read() -> Published | None:
    where = path()
    if where is None:
        return None
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise Held(f"the record of the published checkpoint {where} is unreadable ({error}): restore it from "
                   "the copy a witness or mirror holds") from error
    return Published(int(data["size"]), bytes.fromhex(data["root"]), data.get("checkpoint", ""),
                     data.get("recorded_at", "?"))


SYNC_EVERY = 1.0
_synced_at = 0.0


def remember(size: int, root: bytes, checkpoint: str) -> None:
    """Record a checkpoint just committed (signed and served) if it is larger than the one recorded."""
    where = path()
    if where is None:
        return
    where.parent.mkdir(parents=True, exist_ok=True)
    with open(where.with_name(where.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # sequencers in several processes: the record never goes back
        current = read()
        if current is not None and current.size >= size:
            return
        temporary = where.with_name(where.name + ".tmp")
        body = {"size": size, "root": root.hex(), "checkpoint": checkpoint,
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        global _synced_at
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
            if time.monotonic() - _synced_at > SYNC_EVERY:
                # At most once a second: in inline mode every write's commit is a batch, and a flush to disk each
                # time would double its cost. Between flushes the rename still never leaves a half-written record.
                out.flush()
                os.fsync(out.fileno())
                _synced_at = time.monotonic()
        temporary.replace(where)


def parse_checkpoint_text(text: str, vkey: str) -> tuple[int, bytes, str]:
    """(size, root, note) from a signed checkpoint note (verified with the log's key), or from an auditor's or
    a witness's state file (JSON with this origin's size and root, as `ledger verify`/`witness` keep)."""
    verifier = note.Verifier.from_vkey(vkey)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        state = json.loads(stripped)
        record = (state.get("logs") or {}).get(verifier.name) if "logs" in state else state
        if not record or "size" not in record or "root" not in record:
            raise ValueError(f"the state file has no checkpoint of {verifier.name}")
        if record.get("checkpoint"):
            return parse_checkpoint_text(record["checkpoint"], vkey)
        return int(record["size"]), bytes.fromhex(record["root"]), ""
    body, _ = note.open_note(text, [verifier])
    checkpoint = note.parse_checkpoint(body)
    if checkpoint.origin != verifier.name:
        raise ValueError(f"the checkpoint is for {checkpoint.origin}, not {verifier.name}")
    return checkpoint.size, checkpoint.root, text


def problem(head_size: int, head_root: bytes, root_at) -> str | None:
    """Why the log (head of `head_size`, `root_at(size)` for smaller sizes) does not contain the published
    checkpoint; None when it does (or nothing is recorded)."""
    published = read()
    if published is None:
        return None
    if published.size > head_size:
        return (f"the published checkpoint of size {published.size} (recorded {published.recorded_at}) is not in "
                f"this database's log of size {head_size}: {published.size - head_size} published entries "
                f"(indexes {head_size} to {published.size - 1}) are missing")
    root = head_root if published.size == head_size else root_at(published.size)
    if root != published.root:
        return (f"this database's log of size {head_size} does not contain the published checkpoint of size "
                f"{published.size} (recorded {published.recorded_at}): its tree of that size has another root")
    return None


HOW_TO_RESOLVE = ("nothing is signed until the missing entries are brought back from an export kept by a mirror "
                  "or witness: `gongzhi ledger recover --export FILE` (docs/deployment.md, Backup and restore)")


def guard(head) -> None:
    """Raise Held if the locked head's log does not contain the published checkpoint (called before signing)."""
    if path() is None:
        return
    from . import queries

    reason = problem(head.size, bytes(head.root), queries.root_at)
    if reason:
        raise Held(f"ledger held: {reason}; {HOW_TO_RESOLVE}")
