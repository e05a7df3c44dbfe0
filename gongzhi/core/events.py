"""Writing the event journal: every service records its state change here, inside its transaction."""

from django.db import connection, transaction
from django.dispatch import Signal

from . import bulk, clock
from .models import Event


def record(kind: str, subject, *, actor=None, private: dict | None = None, **data) -> Event:
    """Append one event. Must be called inside the transaction that makes the change.

    `data` is published in the ledger as is; `private` (personal data, free text) only as salted
    commitments.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"event {kind} recorded outside a transaction")
    subject_type = subject._meta.label_lower if hasattr(subject, "_meta") else type(subject).__name__
    subject_id = str(getattr(subject, "pk", subject))
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return Event.objects.create(
        kind=kind, subject_type=subject_type, subject_id=subject_id, actor=actor, at=clock.now(), data=data,
        private=private or {},
    )


# Sent after record_many's bulk insert, which sends no post_save: the ledger queues the events with it.
recorded_in_bulk = Signal()


def record_many(kind: str, entries) -> list[Event]:
    """Append one event per (subject, actor, private, data) entry with one INSERT, inside the caller's
    transaction; the same rows as record() for each, for the fast paths that write in batches."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"events {kind} recorded outside a transaction")
    if not connection.features.can_return_rows_from_bulk_insert:
        return [record(kind, subject, actor=actor, private=private, **data)
                for subject, actor, private, data in entries]
    now = clock.now()
    rows = [
        Event(kind=kind, subject_type=subject._meta.label_lower, subject_id=str(subject.pk),
              actor=actor if getattr(actor, "is_authenticated", False) else None, at=now, data=data,
              private=private or {})
        for subject, actor, private, data in entries
    ]
    ids = bulk.insert_rows(Event, ("kind", "subject_type", "subject_id", "actor", "at", "data", "private"),
                           [(e.kind, e.subject_type, e.subject_id, e.actor_id, e.at, e.data, e.private) for e in rows])
    for event, pk in zip(rows, ids):
        event.pk = pk
        event._state.adding, event._state.db = False, connection.alias
    recorded_in_bulk.send(sender=Event, events=rows)
    return rows
