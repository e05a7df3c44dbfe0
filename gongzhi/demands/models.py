"""Tables of 接诉即办: the category taxonomy, demands with their contact kept apart, the units handling
them, the append-only step journal, routing and time-limit rules, and the daily number counter."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat, Substr
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock
from gongzhi.org.models import Organisation, Person, Region

from . import rules


class Urgency(models.TextChoices):
    EMERGENCY = rules.EMERGENCY, _("emergency")
    UTILITIES = rules.UTILITIES, _("water, power, gas, heating")
    ORDINARY = rules.ORDINARY, _("ordinary")
    COMPLEX = rules.COMPLEX, _("complex")


class Category(models.Model):
    """A node of the demand taxonomy (分类). `code` is stable (it becomes the Open311 service_code)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialized path "/3/12/", as for regions: ancestors and depth without recursion.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    default_urgency = models.CharField(_("default urgency"), max_length=12, choices=Urgency.choices,
                                       default=Urgency.ORDINARY)
    urgency_cues = models.JSONField(
        _("urgency cue words"), default=dict, blank=True,
        help_text=_('extra cue words per urgency for this category, e.g. {"emergency": ["井盖缺失"]}'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(condition=Q(path__regex=r"^/([0-9]+/)+$"), name="category_path_well_formed"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestor_ids(self) -> list[int]:
        """Its own id and its ancestors', root first."""
        return [int(x) for x in self.path.strip("/").split("/")]

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.pk is None:
                self.path = "/0/"
                super().save(*args, **kwargs)
                self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
                Category.objects.filter(pk=self.pk).update(path=self.path)
                return
            old_path, self.path = self.path, f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
            if self.path.startswith(old_path) and self.path != old_path:
                raise ValueError("a category cannot move under its own subtree")
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:  # moved: re-root its subtree in the same transaction
                Category.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(self.path), Substr("path", len(old_path) + 1)))


class DemandCounter(models.Model):
    """The last serial handed out on one (local) day: locked row by row, so numbers never collide."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class Demand(models.Model):
    """One resident demand (诉求) from any channel, placed in a grid, and its workflow state."""

    class Channel(models.TextChoices):
        WEB = "web", _("web form")
        PATROL = "patrol", _("grid patrol")
        HOTLINE = "hotline", _("hotline")
        API = "api", _("API")
        OPEN311 = "open311", _("Open311")
        PROACTIVE = "proactive", _("proactive (未诉先办)")

    class State(models.TextChoices):
        RECEIVED = rules.RECEIVED, _("received")
        DISPATCHED = rules.DISPATCHED, _("dispatched")
        ACCEPTED = rules.ACCEPTED, _("accepted")
        IN_PROGRESS = rules.IN_PROGRESS, _("in progress")
        REPLIED = rules.REPLIED, _("replied")
        VERIFIED = rules.VERIFIED, _("verified")
        CLOSED = rules.CLOSED, _("closed")
        RATED = rules.RATED, _("rated")
        RETURNED = rules.RETURNED, _("returned")
        MERGED = rules.MERGED, _("merged")
        REJECTED = rules.REJECTED, _("rejected")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
        NOT_SATISFIED = "not_satisfied", _("not satisfied")

    number = models.CharField(_("number"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reporter_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="demands")
    reporter = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="demands")
    text = models.TextField(_("description"))
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="demands")
    urgency = models.CharField(_("urgency"), max_length=12, choices=Urgency.choices, default=Urgency.ORDINARY)
    urgency_overridden = models.BooleanField(_("urgency set by hand"), default=False)
    # What the reporter asked for (a resident's urgency is a suggestion the dispatch desk confirms: it sets no
    # deadline until the desk confirms it with "confirm_urgency" or triage).
    suggested_urgency = models.CharField(_("urgency suggested by the reporter"), max_length=12,
                                         choices=Urgency.choices, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Placement: the grid from point-to-grid, and its community and street stored for fast rates.
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="demands")
    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="community_demands")
    street = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="street_demands")
    # The dispatch desk (the street office of the demand's street) that triages and dispatches.
    desk = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="desk_demands")
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.RECEIVED)
    lead_unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="led_demands")
    units = models.ManyToManyField(Organisation, through="Assignment", related_name="demands", blank=True)
    # Deadlines: to dispatch (from receipt), to accept (from dispatch), for the first feedback (from receipt).
    dispatch_due = models.DateTimeField(_("dispatch due"), null=True, blank=True)
    accept_due = models.DateTimeField(_("accept due"), null=True, blank=True)
    feedback_due = models.DateTimeField(_("feedback due"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True, db_index=True)
    reply = models.TextField(_("reply"), blank=True)
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates")
    # A proposal for a demand filed without a category (hooks.propose_category, e.g. insight's classifier):
    # applied at once when confident enough, otherwise shown at the desk, least confident first.
    suggested_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", verbose_name=_("suggested category"))
    suggestion_confidence = models.FloatField(_("confidence of the suggestion"), null=True, blank=True)
    suggestion = models.JSONField(_("suggestion"), default=dict, blank=True,
                                  help_text="alternatives [[code, probability]…] and the proposing model")
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # What each deadline counted in working days was counted from, and how much: {"feedback_due": {"from":
    # ISO local time, "hours": h or null, "days": d or null}}; deadlines.py recomputes from it when a holiday
    # notice is imported. Deadlines that run around the clock have none.
    deadline_basis = models.JSONField(_("deadline basis"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        indexes = [
            models.Index(fields=["state", "feedback_due"]),
            models.Index(fields=["lead_unit", "dispatched_at"]),
            models.Index(fields=["street", "rated_at"]),
            models.Index(fields=["community", "rated_at"]),
            # The open demands by time of receipt, with what the cockpit counts them by (PostgreSQL reads them
            # from the index alone): a small part of the table however many years it holds.
            models.Index(fields=["received_at"], include=["grid", "state", "dispatch_due", "accept_due", "feedback_due"],
                         condition=Q(state__in=sorted(rules.OPEN_STATES)), name="demand_open_by_received"),
            # A unit's open demands (its work queue's counts), without reading the years of its closed ones.
            models.Index(fields=["lead_unit", "state"], condition=Q(state__in=sorted(rules.OPEN_STATES)),
                         name="demand_open_by_unit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(longitude__isnull=True) & Q(latitude__isnull=True))
                | Q(longitude__gte=-180, longitude__lte=180, latitude__gte=-90, latitude__lte=90),
                name="demand_location_in_range",
            ),
            models.CheckConstraint(condition=~Q(state="merged") | Q(merged_into__isnull=False),
                                   name="merged_demand_names_its_original"),
            models.CheckConstraint(condition=~Q(state="rated") | Q(solved__isnull=False),
                                   name="rated_demand_has_rating"),
        ]

    def __str__(self):
        return self.number

    # Overdue: a deadline passed while the step it limits is still undone.
    def is_dispatch_overdue(self, now=None) -> bool:
        now = now or clock.now()
        return self.state in rules.AT_DESK_STATES and self.dispatch_due is not None and now > self.dispatch_due

    def is_accept_overdue(self, now=None) -> bool:
        now = now or clock.now()
        return self.state == rules.DISPATCHED and self.accept_due is not None and now > self.accept_due

    def is_feedback_overdue(self, now=None) -> bool:
        now = now or clock.now()
        waiting = self.state in rules.AT_DESK_STATES | rules.HANDLING_STATES
        return waiting and self.feedback_due is not None and now > self.feedback_due

    def is_overdue(self, now=None) -> bool:
        now = now or clock.now()
        return self.is_dispatch_overdue(now) or self.is_accept_overdue(now) or self.is_feedback_overdue(now)

    @staticmethod
    def overdue_q(now) -> Q:
        """The same test as is_overdue(), for querysets (dashboards, the escalation sweep)."""
        return (
            Q(state__in=rules.AT_DESK_STATES, dispatch_due__lt=now)
            | Q(state=rules.DISPATCHED, accept_due__lt=now)
            | Q(state__in=rules.AT_DESK_STATES | rules.HANDLING_STATES, feedback_due__lt=now)
        )


class Assignment(models.Model):
    """A unit handling a demand: the lead unit (主办) or an assisting one (协办). Ended, not deleted,
    when the demand is returned or re-dispatched, so who held it when stays answerable."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead unit")
        ASSISTING = "assisting", _("assisting unit")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    assigned_at = models.DateTimeField(_("assigned at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["demand_id", "role", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["demand", "unit"], condition=Q(ended_at__isnull=True),
                                    name="assignment_one_current_per_unit"),
            models.UniqueConstraint(fields=["demand"], condition=Q(ended_at__isnull=True, role="lead"),
                                    name="assignment_one_current_lead"),
        ]


class DemandContact(models.Model):
    """The reporter's name and phone, apart from the demand: shown only to the handling units, every
    read logged in DemandContactAccess (个人信息保护法)."""

    demand = models.OneToOneField(Demand, on_delete=models.CASCADE, primary_key=True, related_name="contact")
    name = models.CharField(_("name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("demand contact")
        verbose_name_plural = _("demand contacts")


class DemandContactAccess(models.Model):
    """One read of a demand's contact: who, which fields, why, when, through what."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="contact_accesses")
    fields = models.JSONField(_("fields"))
    purpose = models.CharField(_("purpose"), max_length=120)
    channel = models.CharField(_("channel"), max_length=20)
    at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("demand contact access")
        verbose_name_plural = _("demand contact accesses")


class DemandEvent(models.Model):
    """One step of a demand (append-only): who, when, from which state to which, by which action, the
    note (reason, reply …) and the unit concerned. `event` is its core journal entry (and so its ledger entry)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField(_("time"))
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12)
    action = models.CharField(_("action"), max_length=20)
    note = models.TextField(_("note"), blank=True)
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    event = models.OneToOneField("core.Event", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["demand_id", "id"]
        verbose_name = _("demand event")
        verbose_name_plural = _("demand events")

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("demand events are append-only")
        super().save(*args, **kwargs)


class RoutingRule(models.Model):
    """(category, region subtree) → responsible unit. The most specific matching rule wins (see
    rules.routing_key); a demand that matches none waits at its street's dispatch desk."""

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="routing_rules", help_text=_("empty: any category"))
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="routing_rules",
                               help_text=_("the rule covers this region's subtree; empty: everywhere"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="routing_rules")
    priority = models.SmallIntegerField(_("priority"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Set on rules generated from the responsibility list (duties); those are rewritten whenever it changes.
    responsibility = models.ForeignKey("duties.Responsibility", null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="routing_rules", editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")


class TimeLimitRule(models.Model):
    """Time limits for one urgency, optionally for one category (and its sub-categories); overrides
    calendar.DEFAULT_TIME_LIMITS. Feedback is given in hours or in days, counted in working days or not."""

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="time_limit_rules", help_text=_("empty: every category"))
    urgency = models.CharField(_("urgency"), max_length=12, choices=Urgency.choices)
    dispatch_hours = models.FloatField(_("dispatch within (hours)"))
    feedback_hours = models.FloatField(_("first feedback within (hours)"), null=True, blank=True)
    feedback_days = models.PositiveSmallIntegerField(_("first feedback within (days)"), null=True, blank=True)
    working_days = models.BooleanField(_("count working time only"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["urgency", "category_id"]
        verbose_name = _("time-limit rule")
        verbose_name_plural = _("time-limit rules")
        constraints = [
            models.CheckConstraint(condition=Q(feedback_hours__isnull=True) ^ Q(feedback_days__isnull=True),
                                   name="time_limit_feedback_in_hours_or_days"),
            models.CheckConstraint(condition=Q(dispatch_hours__gt=0), name="time_limit_dispatch_positive"),
            # One active rule per (urgency, category); "every category" (NULL) counts as one value.
            models.UniqueConstraint(F("urgency"), Coalesce("category", Value(0)), condition=Q(is_active=True),
                                    name="time_limit_one_active_per_urgency_category"),
        ]


def new_submission_key() -> str:
    import secrets

    return secrets.token_urlsafe(16)


class Submission(models.Model):
    """A demand accepted by the fast intake path (POST /api/v1/demands/submissions, answered 202) and not
    yet filed, or the outcome of filing it. One INSERT (plus its event and outbox rows) makes it durable;
    `services.file_submissions` (the intake worker) then places, numbers and routes it as a Demand, with
    the submission's time as the demand's received_at, so deadlines count from when the resident asked."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        FILED = "filed", _("filed")
        REFUSED = "refused", _("refused")

    key = models.CharField(max_length=24, unique=True, default=new_submission_key,
                           help_text="the public handle the submitter polls")
    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    channel = models.CharField(_("channel"), max_length=10)
    received_at = models.DateTimeField(_("received at"))
    # None only for an Open311 request whose address_string the address register could not place: it
    # waits, pending, for a dispatch desk to place it (services.place_submission) before it is filed.
    grid = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # What the submitter sent (text, point, address, category, urgency, contact); emptied once filed, when
    # the demand and its contact row hold it.
    payload = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    demand = models.OneToOneField(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="submission")
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=400, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        indexes = [models.Index(fields=["id"], condition=Q(state="pending"), name="submission_pending")]
        constraints = [
            models.CheckConstraint(condition=~Q(state="filed") | Q(demand__isnull=False),
                                   name="filed_submission_names_its_demand"),
        ]

    def __str__(self):
        return f"{self.key} ({self.state})"


class Open311Client(models.Model):
    """An Open311 GeoReport v2 client (an app, a hotline system) and its API key. Only the key's
    SHA-256 is kept; `gongzhi open311 key create NAME` prints the key once."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


# --- escalation (督办) and notifications -----------------------------------------------------------------
# Written by escalation.py (the deadline sweep) and notifications.py; see those modules for the rules.

class Deadline(models.TextChoices):
    """The three deadlines of a demand, named as its *_due fields without the suffix."""

    DISPATCH = "dispatch", _("dispatch")
    ACCEPT = "accept", _("accept")
    FEEDBACK = "feedback", _("first feedback")


class DeadlineReminder(models.Model):
    """A reminder (催办提醒) to the responsible unit that one deadline is near: at most one per deadline
    moment, so a new deadline (re-dispatch, reopen) earns a new reminder and a second sweep none."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="reminders")
    deadline = models.CharField(_("deadline"), max_length=10, choices=Deadline.choices)
    due = models.DateTimeField(_("due"))
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    event = models.OneToOneField("core.Event", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        constraints = [models.UniqueConstraint(fields=["demand", "deadline", "due"], name="reminder_once_per_deadline")]


class SupervisionOrder(models.Model):
    """督办单: a deadline passed with its step undone (kind "sweep", escalation.py), or an officer of the
    street or district supervising a demand by hand (kind "officer", supervision.py) with a note and a time
    to respond by. `unit` must answer it (what it will do, by when); `supervisor` follows it. Open until the
    step is done or the deadline replaced, or until the supervisor closes it (resolved_at; closed_by)."""

    class Kind(models.TextChoices):
        SWEEP = "sweep", _("deadline passed")
        OFFICER = "officer", _("issued by an officer")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="supervision_orders")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SWEEP)
    deadline = models.CharField(_("deadline"), max_length=10, choices=Deadline.choices)
    due = models.DateTimeField(_("due"))
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text=_("the unit that missed the deadline"))
    supervisor = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="supervision_orders",
                                   help_text=_("the superior it is addressed to; empty: none on record"))
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("issued by"))
    note = models.TextField(_("note"), blank=True)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True,
                                      help_text=_("the time the officer set for the unit to act and answer"))
    # The unit's required response: what it will do, and by when.
    answer = models.TextField(_("answer"), blank=True)
    promised_by = models.DateField(_("promised by"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("answered by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("closed by"),
                                  help_text=_("empty when resolved by the step being done"))
    close_note = models.TextField(_("closing note"), blank=True)
    event = models.OneToOneField("core.Event", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        constraints = [
            models.UniqueConstraint(fields=["demand", "deadline", "due"], condition=Q(kind="sweep"),
                                    name="supervision_order_once_per_deadline"),
            models.UniqueConstraint(fields=["demand"], condition=Q(kind="officer", resolved_at__isnull=True),
                                    name="one_open_officer_order_per_demand"),
        ]
        indexes = [models.Index(fields=["resolved_at", "supervisor"]), models.Index(fields=["resolved_at", "unit"])]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ListedSupervision(models.Model):
    """挂牌督办: a demand put on the listed-supervision list, once per reason (reopened again and again,
    or overdue again and again), with the count that triggered it."""

    class Reason(models.TextChoices):
        REOPENED = "reopened", _("reopened repeatedly")
        OVERDUE = "overdue", _("overdue repeatedly")
        # Listed by an officer (supervision.list_publicly):
        CONCERN = "concern", _("strong public concern")
        LONG_UNSOLVED = "unsolved", _("long unsolved")
        OTHER = "other", _("other reason")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="listings")
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    note = models.CharField(_("reason in words"), max_length=300, blank=True,
                            help_text=_("public: scrubbed of personal data when stored"))
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("listed by"))
    count = models.PositiveSmallIntegerField(_("count"))
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supervisor = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    listed_at = models.DateTimeField(_("listed at"), db_index=True)
    event = models.OneToOneField("core.Event", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-listed_at", "-id"]
        verbose_name = _("listed supervision")
        verbose_name_plural = _("listed supervisions")
        constraints = [models.UniqueConstraint(fields=["demand", "reason"], name="listed_supervision_once_per_reason")]


class Notification(models.Model):
    """An in-app notice (通知) to one user (a resident) or to one unit (everyone holding a post in it; the
    first to read it marks it read for the unit). Text only as the recipient may see it: no contact data."""

    class Kind(models.TextChoices):
        DISPATCH = "dispatch", _("new dispatch")
        RETURN = "return", _("returned to the desk")
        REMINDER = "reminder", _("deadline reminder")
        SUPERVISION = "supervision", _("supervision order")
        LISTED = "listed", _("listed supervision")
        REPLY = "reply", _("reply")
        CLOSE = "close", _("closed")
        REOPEN = "reopen", _("reopened")
        CASE = "case", _("news of a case you raised")

    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="notifications")
    recipient_unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE,
                                       related_name="notifications")
    demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=200, blank=True,
                            help_text=_("the page the notice is about, when it is not a demand (e.g. a case file)"))
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient_user", "read_at"]), models.Index(fields=["recipient_unit", "read_at"])]
        constraints = [models.CheckConstraint(
            condition=Q(recipient_user__isnull=True) ^ Q(recipient_unit__isnull=True),
            name="notification_one_recipient")]


def new_webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """A unit's outgoing webhook: demand events concerning the unit are POSTed to `url`, signed with
    HMAC-SHA256 under `secret` (see notifications.py for the headers and how to verify them)."""

    unit = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_webhook_secret)
    active = models.BooleanField(_("active"), default=True)
    events = models.JSONField(_("events"), default=list, blank=True,
                              help_text=_('event names to send, e.g. ["dispatch", "supervision"]; empty: all'))
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        ordering = ["unit_id", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return f"{self.unit} → {self.url}"

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class WebhookDelivery(models.Model):
    """One payload for one webhook, queued in the transaction of the change it reports and sent after
    commit, retried with exponential backoff until delivered or out of attempts (failed_at)."""

    uuid = models.UUIDField(_("delivery id"), unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.CheckConstraint(condition=Q(delivered_at__isnull=True) | Q(failed_at__isnull=True),
                                              name="webhook_delivery_delivered_or_failed")]


class Photo(models.Model):
    """A photo of a demand: as reported (by the reporter, or the grid worker on patrol), or after handling (the
    lead unit's reply). Stored re-encoded, without EXIF, with a thumbnail (photos.py). Private to those who
    handle the demand and its reporter until the dispatch desk publishes it."""

    class Stage(models.TextChoices):
        REPORT = "report", _("as reported")
        REPLY = "reply", _("after handling")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    image = models.FileField(_("image"), upload_to="demands/photos/%Y/%m/", max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to="demands/photos/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256 of the stored image"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))
    # Where the camera was, from the photo's EXIF GPS: kept only when the reporter chose to share the location.
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["demand_id", "stage", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return f"{self.demand_id} {self.stage} {self.pk}"


class GuestTracking(models.Model):
    """The 查询码 of a demand filed without an account (guests.py): only its SHA-256 is kept; whoever holds the
    number and the code follows the demand, adds photos and rates it."""

    demand = models.OneToOneField(Demand, on_delete=models.CASCADE, related_name="guest_tracking")
    code_digest = models.CharField(_("digest of the tracking code"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    # The keyed digest (core.phone_codes.digest) of the mobile number the guest confirmed with a code, if
    # they did: the demand joins the account later opened with that number (guests.join_account).
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("guest tracking code")
        verbose_name_plural = _("guest tracking codes")


class Support(models.Model):
    """"Me too" (我也遇到了): a resident who was about to report a problem already reported nearby adds
    themself to that demand instead of filing a duplicate (issue #16 item 5). One per account, or per
    browser session for a guest (a keyed digest of the session key, nothing else about them)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    session_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("me too")
        verbose_name_plural = _("me too")
        constraints = [
            models.UniqueConstraint(fields=["demand", "user"], condition=models.Q(user__isnull=False),
                                    name="support_once_per_user"),
            models.UniqueConstraint(fields=["demand", "session_digest"], condition=models.Q(user__isnull=True),
                                    name="support_once_per_session"),
        ]


class WeekTally(models.Model):
    """Demands counted per week of receipt (local Monday), grid, first-level category and whether merged: what the cockpit's
    trend and map and the hot-spot analysis read instead of counting millions of demands (issue #19, decision
    0012). On PostgreSQL a trigger on the demands table keeps it, in the transaction of each change; elsewhere
    it stays empty and `tally.weekly` counts the demands themselves. `gongzhi demands tally` checks and rebuilds
    it. Plain integers, not foreign keys: 0 for no category, so the key is unique without NULLs."""

    # `category`: the first-level category (its id), as every reader groups by it.

    week = models.DateField()
    grid = models.IntegerField()
    category = models.IntegerField()
    merged = models.BooleanField()
    received = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    solved = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("weekly tally of demands")
        verbose_name_plural = _("weekly tallies of demands")
        constraints = [models.UniqueConstraint(fields=["week", "grid", "category", "merged"],
                                               name="week_tally_once_per_cell")]
