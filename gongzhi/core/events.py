"""Writing the event journal: every service records its state change here, inside its transaction."""

from django.db import transaction

from . import clock
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
