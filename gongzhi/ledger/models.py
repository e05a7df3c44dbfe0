"""The log's tables: the head, entries, stored subtree hashes, checkpoints, the sequencer's queue and
the private salts of commitments, witness cosignatures. Entries and hashes are append-only; only the
head row changes.

See services.py for how they are written and docs/ledger.md for the format.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import Event


class RowKeyField(models.BigIntegerField):
    """A 64-bit integer key that is SQLite's rowid ("integer primary key"), not a second index.

    Entries and subtree hashes are the log's bulk (two rows per entry); keying them by the rowid
    halves their size on SQLite. PostgreSQL keeps bigint.
    """

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class LogHead(models.Model):
    """The one row (id 1) every sequencer locks: tree size, root, frontier and latest checkpoint."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(_("tree size"), default=0)
    root = models.BinaryField(_("root hash"), max_length=32)
    frontier = models.TextField(help_text="merkle.Frontier.to_json() of the tree of `size` leaves")
    checkpoint = models.TextField(_("latest checkpoint"), blank=True)
    # The index of the first entry whose actor is a pseudonym per person per subject (set by the first
    # batch sequenced since that scheme; earlier entries keep the legacy per-person pseudonym).
    actors_per_subject_from = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("log head")
        verbose_name_plural = _("log head")

    def __str__(self):
        return f"ledger head: size {self.size}, root {bytes(self.root).hex()[:16]}…"


class Entry(models.Model):
    """Leaf `index` of the tree: the canonical JSON `text` of one event, and its RFC 6962 leaf hash."""

    index = RowKeyField(_("index"), primary_key=True)
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="ledger_entry")
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32, db_index=True)
    text = models.TextField(_("entry"))

    class Meta:
        ordering = ["index"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self):
        return f"#{self.index}"


class Subtree(models.Model):
    """The hash of a complete subtree above the leaves (level >= 1), keyed `level << 56 | index`.

    Level L index N covers leaves [N·2^L, (N+1)·2^L). Level 0 (the leaf hashes) lives in Entry.
    """

    key = RowKeyField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("subtree hash")
        verbose_name_plural = _("subtree hashes")

    def __str__(self):
        return f"({self.key >> 56}, {self.key & ((1 << 56) - 1)})"


class Checkpoint(models.Model):
    """A signed tree head (C2SP signed note), one per sequenced batch."""

    size = models.BigIntegerField(_("tree size"), db_index=True)
    root = models.BinaryField(_("root hash"), max_length=32)
    note = models.TextField(_("signed note"))
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self):
        return f"checkpoint {self.size} ({self.signed_at:%Y-%m-%d %H:%M:%S})"


class Pending(models.Model):
    """An event waiting for the sequencer; inserted in the event's own transaction (the outbox)."""

    event = models.OneToOneField(Event, on_delete=models.CASCADE, primary_key=True, related_name="+")

    class Meta:
        verbose_name = _("pending event")
        verbose_name_plural = _("pending events")


class Opening(models.Model):
    """The private half of an entry's commitments: one salt per committed field. Never published.

    With the salt and the value (kept in core.Event), anyone can recompute the commitment in the
    public entry: sha256(salt ‖ canonical_json(value)).
    """

    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, primary_key=True, related_name="opening")
    salts = models.JSONField(default=dict, help_text="{field: salt as hex}")

    class Meta:
        verbose_name = _("commitment opening")
        verbose_name_plural = _("commitment openings")


class Cosignature(models.Model):
    """A witness's cosignature/v1 line over the checkpoint of tree `size`, served with that checkpoint.

    Not part of the log: a witness vouches for a checkpoint after checking it extends the last one it
    cosigned. One per witness key and size.
    """

    size = models.BigIntegerField(_("tree size"), db_index=True)
    witness = models.CharField(_("witness"), max_length=200, help_text="the witness key's name")
    key_id = models.CharField(max_length=8, help_text="the witness key ID, 8 hex digits")
    timestamp = models.BigIntegerField(help_text="Unix time the witness signed at")
    line = models.TextField(help_text="the signature line, as it is appended to the checkpoint note")
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["size", "witness", "key_id"], name="ledger_one_cosignature")]
        verbose_name = _("witness cosignature")
        verbose_name_plural = _("witness cosignatures")

    def __str__(self):
        return f"{self.witness} cosigned {self.size}"
