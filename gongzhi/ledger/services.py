"""The ledger's use cases: queue events (the outbox), sequence them into the Merkle tree in batches,
sign checkpoints, manage the keys, and hand out receipts.

Entries. An entry is the canonical JSON (core.canonical, RFC 8785) of one core.Event:

    {"actor": "<32 hex>" | null, "commitments": {field: "<64 hex>"}, "event": <event id>,
     "fields": {...}, "kind": "org.post_appointed", "subject": "org.post:17",
     "time": "2026-11-26T08:00:00.123456Z"}

* `actor` is a pseudonym per person per subject: HMAC-SHA256(server secret, canonical_json(["actor",
  user id, "<subject type>:<subject id>"])), first 16 bytes as hex. The secret is generated on first
  use into GONGZHI_LEDGER_PSEUDONYM_KEY (default var/ledger/pseudonym.key). The same person acting on
  the same subject always gets the same pseudonym; entries about different subjects cannot be joined,
  and only the server can link a pseudonym to a person. Entries before LogHead.actors_per_subject_from
  carry the legacy pseudonym HMAC-SHA256(server secret, user id), one per person across the log.
* `fields` is the event's `data`, published as is, except the top-level keys listed in
  GONGZHI_LEDGER_PRIVATE_KEYS (a safety net: phone, name, id_number, free text, …).
* `commitments` holds, for each value of the event's `private` dict and each safety-net key, the hex
  SHA-256 of salt ‖ canonical_json(value) with a fresh 16-byte salt. Salts are kept in the Opening
  table, never published; with salt and value a resident can prove what they submitted
  (`open_commitment`, and receipts `with_openings`).

Outbox and sequencing. core.events.record() writes the Event inside the domain transaction; a
post_save receiver (LedgerConfig.ready) adds a Pending row in that same transaction, so an event can
never exist without being queued, and rolled-back events never reach the log. Sequencing drains
Pending in batches: in ONE transaction it locks the log head (select_for_update; on SQLite the
IMMEDIATE write lock), reads up to GONGZHI_LEDGER_BATCH_SIZE pending events ordered by event id,
assigns the next consecutive indexes, stores entries, the complete subtree hashes that
merkle.Frontier.append reports (O(log n) per entry, about one per entry on average), deletes exactly
those Pending rows, updates the head (size, root, frontier) and signs a checkpoint. Reading the queue
rather than "events with id > last" matters on PostgreSQL, where ids can commit out of order: an
event whose transaction commits late is still in Pending, and is sequenced in a later batch.

Acknowledgement = the sequencer's transaction committed. A crash before that rolls the whole batch
back (the events stay pending); after it, the batch is durable: on SQLite the sequencer commits with
synchronous=FULL (one fsync per batch, not per entry); PostgreSQL's default synchronous_commit is on.

Two modes (GONGZHI_LEDGER_SEQUENCER): "inline" (default) — after a writer's transaction commits,
the writer itself runs sequence_pending(); whoever holds the head lock integrates everything pending
(group commit), the others find nothing left and return. "loop" — only `gongzhi ledger sequence
--forever` sequences (polls every 100 ms); writers return at once. Both can run together.

Checkpoints are C2SP signed notes (note.py) for origin GONGZHI_LEDGER_ORIGIN, signed with the Ed25519
key at GONGZHI_LEDGER_KEY (generated on first use, 0600; the verifier key is written beside it
with the suffix .vkey).
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from gongzhi.core import bulk, clock, events
from gongzhi.core.canonical import canonical_json
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import gettext_lazy

from . import merkle, note, published, queries, receipts, storage, tiles
from .models import Checkpoint, Cosignature, Entry, LogHead, Opening, Pending
from .receipts import commitment

logger = logging.getLogger("gongzhi.ledger")

DEFAULT_PRIVATE_KEYS = frozenset({
    "name", "real_name", "phone", "mobile", "telephone", "id_number", "id_card", "address", "email",
    "user", "username", "text", "content", "description", "comment", "remark", "note",
})
SALT_BYTES = 16
PSEUDONYM_BYTES = 16
MAX_ENTRY_BYTES = tiles.MAX_ENTRY_SIZE


# --- keys -------------------------------------------------------------------------------------------

_key_lock = threading.Lock()
_signers: dict[Path, note.Signer] = {}
_pseudonym_keys: dict[Path, bytes] = {}


def origin() -> str:
    return settings.GONGZHI_LEDGER_ORIGIN


def key_path() -> Path:
    return Path(settings.GONGZHI_LEDGER_KEY)


def _verifier_path(path: Path) -> Path:
    return path.with_suffix(".vkey")


def _write_new(path: Path, text: str, mode: int) -> bool:
    """Create `path` with `text` unless it exists (never overwrite a key); True if we created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def generate_key(*, force: bool = False) -> str:
    """Create the checkpoint signing key (Ed25519) if absent; return the verifier key.

    With force, an existing key is replaced: every verifier must then be given the new key.
    """
    path = key_path()
    with _key_lock:
        if force and path.exists():
            path.unlink()
            _verifier_path(path).unlink(missing_ok=True)
        signer = note.Signer.generate(origin())
        if _write_new(path, signer.to_skey() + "\n", 0o600):
            _verifier_path(path).unlink(missing_ok=True)
            _write_new(_verifier_path(path), signer.verifier_key() + "\n", 0o644)
            logger.info("ledger signing key created at %s", path)
        _signers.pop(path, None)
    return verifier_key()


def signer() -> note.Signer:
    path = key_path()
    cached = _signers.get(path)
    if cached is None:
        if not path.exists():
            generate_key()
        cached = _signers[path] = note.Signer.from_skey(path.read_text().strip())
    return cached


def verifier_key() -> str:
    """The public verifier key (`name+hash+base64`) that checks every checkpoint."""
    public = _verifier_path(key_path())
    if public.exists():
        return public.read_text().strip()
    return signer().verifier_key()


def _pseudonym_key() -> bytes:
    path = Path(getattr(settings, "GONGZHI_LEDGER_PSEUDONYM_KEY", settings.VAR_DIR / "ledger" / "pseudonym.key"))
    cached = _pseudonym_keys.get(path)
    if cached is None:
        _write_new(path, secrets.token_hex(32) + "\n", 0o600)
        cached = _pseudonym_keys[path] = bytes.fromhex(path.read_text().strip())
    return cached


def pseudonym(user_id: int | None, subject: str | None = None) -> str | None:
    """The id of a user in the public log, unlinkable to the person without the server secret.

    With `subject` ("<subject type>:<subject id>", as in the entry), one pseudonym per person per
    subject: the entries about one demand, topic, statement or motion show that the same person acted,
    but a person's entries about two subjects cannot be joined. Without it, the legacy pseudonym (one per
    person across the whole log), which entries sequenced before `LogHead.actors_per_subject_from` carry.
    """
    if user_id is None:
        return None
    message = str(user_id).encode() if subject is None else canonical_json(["actor", user_id, subject])
    return hmac.new(_pseudonym_key(), message, hashlib.sha256).digest()[:PSEUDONYM_BYTES].hex()


# --- entries ----------------------------------------------------------------------------------------


def _private_keys() -> frozenset:
    return frozenset(getattr(settings, "GONGZHI_LEDGER_PRIVATE_KEYS", DEFAULT_PRIVATE_KEYS))


def build_entry(
    *, event_id: int, kind: str, subject_type: str, subject_id: str, actor: str | None, at, data: dict,
    private: dict, private_keys: frozenset,
) -> tuple[bytes, dict[str, str]]:
    """The canonical entry bytes of one event and the salts of its commitments ({field: hex salt}).

    An entry must fit an entry bundle (65,535 bytes): public values that would make it larger are
    committed instead, largest first (the values stay in core.Event).
    """
    fields, hidden = {}, {}
    for name, value in (data or {}).items():
        (hidden if name in private_keys else fields)[name] = value
    hidden.update(private or {})
    salts = {name: secrets.token_bytes(SALT_BYTES) for name in hidden}
    while True:
        text = _entry_text(event_id, kind, subject_type, subject_id, actor, at, fields, hidden, salts)
        if len(text) <= MAX_ENTRY_BYTES or not fields:
            return text, {name: salt.hex() for name, salt in salts.items()}
        largest = max(fields, key=lambda name: len(canonical_json(fields[name])))
        hidden[largest] = fields.pop(largest)
        salts[largest] = secrets.token_bytes(SALT_BYTES)


def _entry_text(event_id, kind, subject_type, subject_id, actor, at, fields, hidden, salts) -> bytes:
    return canonical_json({
        "actor": actor,
        "commitments": {name: commitment(salts[name], hidden[name]) for name in hidden},
        "event": event_id,
        "fields": fields,
        "kind": kind,
        "subject": f"{subject_type}:{subject_id}",
        "time": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    })


def expected_entry(event, salts: dict[str, str], *, actor_per_subject: bool = True) -> bytes:
    """The entry text `event` must have been sequenced as, given its opening's salts ({field: hex}).

    The inverse of build_entry's choices: a field with a salt was committed (its value is in
    event.private, or else in event.data), every other data field is public. What `gongzhi ledger
    verify --db` compares each stored entry with.
    """
    private = event.private or {}
    data = event.data or {}
    hidden = {name: private[name] if name in private else data.get(name) for name in salts}
    fields = {name: value for name, value in data.items() if name not in salts}
    subject = f"{event.subject_type}:{event.subject_id}" if actor_per_subject else None
    return _entry_text(
        event.pk, event.kind, event.subject_type, event.subject_id, pseudonym(event.actor_id, subject), event.at,
        fields, hidden, {name: bytes.fromhex(salt) for name, salt in salts.items()},
    )


# --- the outbox --------------------------------------------------------------------------------------


def on_event_saved(sender, instance, created, **kwargs):
    """post_save of core.Event: queue it in the same transaction; in inline mode, sequence after commit."""
    if not created:
        return
    Pending.objects.create(event_id=instance.pk)
    _sequence_after_commit_once()


def on_events_recorded_in_bulk(sender, events, **kwargs):
    """core.events.recorded_in_bulk: queue the batch with one INSERT, as on_event_saved does one event."""
    bulk.insert_rows(Pending, ("event",), [(event.pk,) for event in events], returning=False)
    _sequence_after_commit_once()


def _sequence_after_commit_once():
    if settings.GONGZHI_LEDGER_SEQUENCER == "inline":
        # Once per transaction: a callback registered at this savepoint level or outside it commits
        # whenever this event does (one registered inside a savepoint that later rolls back does not).
        conn = transaction.get_connection()
        current = set(conn.savepoint_ids)
        if not any(callback is _sequence_after_commit and savepoints <= current
                   for savepoints, callback, _ in conn.run_on_commit):
            transaction.on_commit(_sequence_after_commit, robust=True)


def _sequence_after_commit():
    try:
        sequence_pending()
    except published.Held as held:
        # The write itself is committed and its event waits in Pending; the log signs nothing over a gap.
        _log_held(held)


_held_logged_at = 0.0


def _log_held(held: published.Held) -> None:
    """One error line a minute per process while the ledger is held, not one per write."""
    global _held_logged_at
    if time.monotonic() - _held_logged_at > 60:
        _held_logged_at = time.monotonic()
        logger.error("%s", held)


# --- sequencing --------------------------------------------------------------------------------------

_batches_started = 0


def _crash_point(stage: str) -> None:
    """Test hook for the kill-mid-batch test: GONGZHI_LEDGER_TEST_CRASH="<stage>:<n>" ends the process
    at once (no rollback, no cleanup: like kill -9) at `stage` of the n-th batch it sequences."""
    spec = os.environ.get("GONGZHI_LEDGER_TEST_CRASH")
    if spec:
        name, _, number = spec.partition(":")
        if name == stage and _batches_started == int(number or 1):
            os._exit(86)


def _empty_head() -> dict:
    return {"size": 0, "root": merkle.EMPTY_ROOT, "frontier": merkle.Frontier().to_json()}


def _locked_head() -> LogHead:
    head, _ = LogHead.objects.select_for_update().get_or_create(pk=1, defaults=_empty_head())
    return head


def _sign(size: int, root: bytes) -> str:
    return note.sign_note(note.format_checkpoint(origin(), size, root), [signer()])


def _durable_commits() -> None:
    # One fsync per batch on SQLite (WAL + synchronous=NORMAL would only survive a process crash,
    # not power loss). PostgreSQL commits durably by default. Not allowed inside a transaction.
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")


def sequence_pending(*, batch_size: int | None = None) -> int:
    """Integrate every pending event into the log, batch by batch; return how many were sequenced."""
    limit = batch_size or settings.GONGZHI_LEDGER_BATCH_SIZE
    total = 0
    while True:
        done = _sequence_batch(limit)
        total += done
        if done < limit:
            return total


def _sequence_batch(limit: int) -> int:
    global _batches_started
    _durable_commits()
    with transaction.atomic():
        head = _locked_head()
        published.guard(head)  # never sign over published entries this database lacks (a restore)
        rows = list(
            Pending.objects.order_by("event_id").values_list(
                "event_id", "event__kind", "event__subject_type", "event__subject_id", "event__actor_id",
                "event__at", "event__data", "event__private",
            )[:limit]
        )
        if not rows:
            return 0
        _batches_started += 1
        frontier = merkle.Frontier.from_json(head.frontier)
        if frontier.size != head.size:
            raise RuntimeError(f"ledger head size {head.size} but frontier size {frontier.size}")
        private_keys = _private_keys()
        if head.actors_per_subject_from is None:
            # The first batch since per-subject pseudonyms: earlier entries keep the legacy ones (the log
            # is append-only), this and every later entry carries one pseudonym per person per subject.
            head.actors_per_subject_from = head.size
        entries, subtrees, openings = [], [], []
        for event_id, kind, subject_type, subject_id, actor_id, at, data, private in rows:
            index = frontier.size
            text, salts = build_entry(
                event_id=event_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
                actor=pseudonym(actor_id, f"{subject_type}:{subject_id}"), at=at, data=data, private=private,
                private_keys=private_keys,
            )
            leaf = merkle.leaf_hash(text)
            subtrees.extend(node for node in frontier.append(leaf) if node[0])
            entries.append((index, event_id, leaf, text.decode()))
            if salts:
                openings.append((index, json.dumps(salts)))
        storage.insert_entries(entries)
        _crash_point("entries")
        storage.insert_subtrees(subtrees)
        storage.insert_openings(openings)
        _crash_point("hashes")
        storage.delete_pending([row[0] for row in rows])
        root = frontier.root()
        signed = _sign(frontier.size, root)
        Checkpoint.objects.create(size=frontier.size, root=root, note=signed, signed_at=clock.now())
        head.size, head.root, head.frontier, head.checkpoint = frontier.size, root, frontier.to_json(), signed
        head.save()
        _crash_point("head")
        size = frontier.size
        transaction.on_commit(lambda: published.remember(size, root, signed))
    return len(rows)


def ensure_checkpoint() -> str:
    """The latest signed checkpoint, signing one for the current (possibly empty) tree if none exists."""
    _durable_commits()
    with transaction.atomic():
        head = _locked_head()
        if not head.checkpoint:
            published.guard(head)
            root = bytes(head.root)
            head.checkpoint = _sign(head.size, root)
            Checkpoint.objects.create(size=head.size, root=root, note=head.checkpoint, signed_at=clock.now())
            head.save()
        return head.checkpoint


def queue_unsequenced() -> int:
    """Queue events that bypassed post_save (bulk inserts, raw SQL); return how many."""
    with transaction.atomic():
        _locked_head()
        return storage.queue_unsequenced()


def run_sequencer(*, interval: float = 0.1, should_stop=lambda: False, batch_size: int | None = None,
                  sleep=None) -> int:
    """The production loop (`gongzhi ledger sequence --forever`): sequence what is pending, then sleep
    `interval` unless a full batch was waiting. Under a steady stream this gathers about `interval`
    seconds of events per batch, so the batch's fixed cost (head lock, checkpoint signature, tiles) is
    shared by many entries instead of being paid for every few; a receipt waits at most `interval` more.
    `should_stop()` is asked between batches (each one transaction); `sleep` may return early on a stop."""
    queued = queue_unsequenced()
    if queued:
        logger.warning("ledger: queued %d events that had no entry and were not pending", queued)
    try:
        ensure_checkpoint()
    except published.Held as held:
        _log_held(held)
    total = 0
    failing = 0  # rounds in a row the database did not answer
    while not should_stop():
        try:
            done = sequence_pending(batch_size=batch_size)
        except published.Held as held:
            # Held until the missing published entries are brought back (ledger recover); then it resumes.
            _log_held(held)
            (sleep or time.sleep)(max(interval, 5.0))
            continue
        except (OperationalError, InterfaceError) as error:
            # Database restarted or connection lost: the batch rolled back; reconnect and retry. The first
            # failure is logged with its traceback, the rest of an outage a line every 10 s (issue #19: at
            # 10 tries a second, an outage of seconds wrote thousands of lines).
            if not failing:
                logger.exception("ledger: sequencing failed, retrying")
            elif failing % max(1, round(10 / max(interval, 0.1))) == 0:
                logger.warning("ledger: the database still does not answer (%s); retrying", str(error).strip()[:200])
            failing += 1
            connection.close()
            (sleep or time.sleep)(max(interval, 0.1))
            continue
        if failing:
            logger.info("ledger: the database answers again; sequencing resumed after %d failed tries", failing)
            failing = 0
        total += done
        if done < (batch_size or settings.GONGZHI_LEDGER_BATCH_SIZE):
            (sleep or time.sleep)(interval)
    return total


# --- receipts ---------------------------------------------------------------------------------------


class NotSequenced(Conflict):
    code = "not_sequenced"
    base_message = gettext_lazy("The event is not in the ledger yet")


def append_and_wait(kind: str, subject, *, actor=None, private: dict | None = None, timeout: float = 10.0,
                    with_openings: bool = False, **data) -> dict:
    """Record an event in its own transaction, wait until it is sequenced, return its receipt."""
    if connection.in_atomic_block:
        raise RuntimeError("append_and_wait needs to commit: call it outside a transaction")
    with transaction.atomic():
        event = events.record(kind, subject, actor=actor, private=private, **data)
    deadline = time.monotonic() + timeout
    while not Entry.objects.filter(event_id=event.pk).exists():
        if settings.GONGZHI_LEDGER_SEQUENCER == "inline":
            try:
                sequence_pending()
            except published.Held as held:
                raise NotSequenced(str(held)) from held
        elif time.monotonic() > deadline:
            raise NotSequenced(gettext_lazy("event %(event_pk)s") % {"event_pk": event.pk})
        else:
            time.sleep(0.01)
    return receipt_for(event, with_openings=with_openings)


def receipt_for(event, *, with_openings: bool = False) -> dict:
    """Proof that `event` is in the log: its entry, an inclusion proof and the signed checkpoint.

    with_openings adds the salt and value of each commitment: give those only to the person who
    submitted them (they are what lets them prove it later).
    """
    index = Entry.objects.filter(event_id=event.pk).values_list("index", flat=True).first()
    if index is None:
        raise NotSequenced(gettext_lazy("event %(event_pk)s") % {"event_pk": event.pk})
    receipt = queries.receipt(index)
    if with_openings:
        receipt["openings"] = openings(index)
    return receipt


def openings(index: int) -> dict:
    """{field: {"salt": hex, "value": value, "commitment": hex}} for entry `index` (private data!)."""
    entry = Entry.objects.select_related("event").filter(index=index).first()
    if entry is None:
        raise NotFound(gettext_lazy("entry %(index)s") % {"index": index})
    opening = Opening.objects.filter(entry_id=index).first()
    salts = opening.salts if opening else {}
    result = {}
    for name, salt in salts.items():
        value = entry.event.private.get(name, entry.event.data.get(name))
        result[name] = {"salt": salt, "value": value, "commitment": commitment(bytes.fromhex(salt), value)}
    return result


def verify_receipt(receipt: dict) -> receipts.ReceiptCheck:
    """Check a receipt against the log key and the CURRENT signed checkpoint: entry hash, signature,
    inclusion, and consistency of the receipt's checkpoint with the current one (RFC 6962 proofs)."""
    verifier = note.Verifier.from_vkey(verifier_key())
    text, _ = note.open_note(queries.latest_checkpoint().checkpoint, [verifier])
    return receipts.check_receipt(
        receipt, verifier=verifier, current=note.parse_checkpoint(text),
        consistency=lambda first, second: [bytes.fromhex(h) for h in queries.consistency(first, second)["proof"]],
    )


# --- witnesses ---------------------------------------------------------------------------------------


class UnknownWitness(PermissionDenied):
    code = "unknown_witness"
    base_message = gettext_lazy("Not a witness key this log is configured to accept")


class BadCosignature(ValidationFailed):
    code = "bad_cosignature"
    base_message = gettext_lazy("The cosignature does not verify")


def witness_verifiers() -> list[note.CosignatureVerifier]:
    """The witness keys (cosignature/v1 vkeys) in GONGZHI_LEDGER_WITNESSES."""
    verifiers = []
    for vkey in getattr(settings, "GONGZHI_LEDGER_WITNESSES", []):
        verifier = note.Verifier.from_vkey(vkey)
        if not isinstance(verifier, note.CosignatureVerifier):
            raise ValueError(f"GONGZHI_LEDGER_WITNESSES: {vkey} is not a cosignature/v1 (witness) key")
        verifiers.append(verifier)
    return verifiers


def _signature_line(line: str) -> note.NoteSignature:
    try:
        _, signatures = note.parse_note("cosignature\n\n" + (line if line.endswith("\n") else line + "\n"))
    except note.NoteError as error:
        raise BadCosignature(str(error), code="malformed_cosignature") from error
    if len(signatures) != 1:
        raise BadCosignature(gettext_lazy("send exactly one signature line"), code="malformed_cosignature")
    return signatures[0]


def add_cosignature(size: int, line: str) -> Cosignature:
    """Keep a witness's cosignature/v1 line over the checkpoint of tree `size` (C2SP tlog-cosignature).

    The line must verify, with a key in GONGZHI_LEDGER_WITNESSES, over the checkpoint body of that
    size; it is then served with the checkpoint. A witness vouches that it checked this tree extends
    the last one it cosigned. Cosignatures are about the log, not state changes: no event is recorded
    (that would grow the log and call for a new cosignature, forever).
    """
    signature = _signature_line(line)
    verifier = next((v for v in witness_verifiers() if (v.name, v.key_id) == (signature.name, signature.key_id)),
                    None)
    if verifier is None:
        raise UnknownWitness(f"{signature.name}+{signature.key_id.hex()}")
    checkpoint = Checkpoint.objects.filter(size=size).order_by("-id").first()
    if checkpoint is None:
        raise NotFound(gettext_lazy("no checkpoint of size %(size)s") % {"size": size})
    body = note.format_checkpoint(origin(), size, bytes(checkpoint.root))
    if not verifier.verify(body, signature.signature):
        raise BadCosignature(gettext_lazy("not a cosignature by %(verifier_name)s of the checkpoint of size %(size)s")
                             % {"verifier_name": verifier.name, "size": size})
    with transaction.atomic():
        cosignature, _ = Cosignature.objects.update_or_create(
            size=size, witness=verifier.name, key_id=verifier.key_id.hex(),
            defaults={"timestamp": note.CosignatureVerifier.timestamp(signature.signature),
                      "line": signature.line(), "received_at": clock.now()},
        )
    return cosignature
