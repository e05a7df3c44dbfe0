"""Cross-app tables: the append-only event journal and API tokens."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One state change, written in the same transaction as the change itself.

    Append-only: rows are never updated or deleted (save() refuses updates). The ledger
    app reads this journal as its outbox.
    """

    kind = models.CharField(_("kind"), max_length=80, db_index=True)
    subject_type = models.CharField(_("subject type"), max_length=80)
    subject_id = models.CharField(_("subject id"), max_length=80)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), db_index=True)
    data = models.JSONField(_("data"), default=dict)
    # Personal values (names, phones, ID numbers, free text) that the public ledger may only carry as
    # salted hash commitments; see gongzhi/ledger/services.py.
    private = models.JSONField(_("private data"), default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.kind} {self.subject_type}:{self.subject_id}"


# How often a token's last_used_at is written: at most once a minute per token, so the API's hot
# paths cost one indexed read, not a write, per request.
LAST_USED_EVERY = dt.timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the raw token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80, blank=True)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    @classmethod
    def issue(cls, user, name: str = "") -> tuple["ApiToken", str]:
        raw = "gz_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:8], digest=_digest(raw))
        return token, raw

    @classmethod
    def find_user(cls, raw: str):
        """The active user owning this raw token, or None; marks the token as used.

        Asked of the database on every request (one indexed read), never remembered in a process: a
        token revoked or a user deactivated, by any process, stops working with the next request."""
        token = (
            cls.objects.select_related("user")
            .filter(digest=_digest(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    def __str__(self):
        return f"{self.prefix}… ({self.user})"


class HolidayNotice(models.Model):
    """One year's holiday arrangement as the State Council General Office's notice gives it (国务院办公厅关于
    某年部分节假日安排的通知): the days given off (放假) and the weekend days worked instead (调休上班). Working
    days of every time limit are counted by it (core/workdays.py). Changed only through
    workdays.import_notices, which validates and records an event."""

    class Source(models.TextChoices):
        OFFICE = "office", _("imported by the office")
        BUILT_IN = "builtin", _("shipped with gongzhi")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    number = models.CharField(_("document number"), max_length=60, blank=True)
    published_on = models.DateField(_("published on"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.OFFICE)
    imported_at = models.DateTimeField(_("imported at"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("imported by"))

    class Meta:
        ordering = ["year"]
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")

    def __str__(self):
        return f"{self.year}: {self.title}"


class NoticeDay(models.Model):
    """One day a notice names: a holiday (放假), or an adjusted working day (调休上班)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        WORKING = "working", _("adjusted working day")

    notice = models.ForeignKey(HolidayNotice, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("festival"), max_length=40, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("notice day")
        verbose_name_plural = _("notice days")

    def __str__(self):
        return f"{self.day} {self.kind} {self.name}"


class OutgoingSms(models.Model):
    """A text message sent to a phone (core/sms.py): what, to which number, through which backend, whether it
    went. Kept as the record of what residents were told; phone numbers are personal data (no public page)."""

    phone = models.CharField(_("phone"), max_length=20)
    text = models.CharField(_("text"), max_length=300)
    backend = models.CharField(_("backend"), max_length=40)
    status = models.CharField(_("status"), max_length=10)
    reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("sent at"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")


class PhoneCode(models.Model):
    """A one-time code sent by text message to confirm a mobile number (core/phone_codes.py): for signing up,
    for a guest's report, for a new password. Neither the number nor the code is kept in clear: only keyed
    digests, so the table tells no one which numbers asked."""

    class Purpose(models.TextChoices):
        SIGN_UP = "sign_up", _("sign up")
        GUEST = "guest", _("report without an account")
        RESET = "reset", _("new password")

    phone_digest = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("sent at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("phone confirmation code")
        verbose_name_plural = _("phone confirmation codes")


class Heartbeat(models.Model):
    """The latest sign of life of a long-running process, one row per kind of process and host (core/heartbeat.py):
    the worker (`gongzhi demands work --forever`) beats as it goes round its loop, and the readiness check and
    the metrics (gongzhi/ops) read how long ago, from any server, since the row is in the shared database.
    Not an event: it changes no state of the domain and is overwritten in place."""

    kind = models.CharField(max_length=40)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    # The longest the process means to go between two beats when all is well (the worker: its sweep interval):
    # the readiness check calls it stale after GONGZHI_HEALTH_HEARTBEAT_INTERVALS of these.
    interval_seconds = models.FloatField()

    class Meta:
        ordering = ["kind", "host"]
        constraints = [models.UniqueConstraint(fields=["kind", "host"], name="heartbeat_one_per_kind_and_host")]

    def __str__(self):
        return f"{self.kind} on {self.host} ({self.beat_at:%Y-%m-%d %H:%M:%S})"
