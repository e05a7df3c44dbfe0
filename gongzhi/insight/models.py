"""Tables of insight: classifier versions with their evaluation, each demand's text signature and issue,
issues (many demands about one thing), hot spots of each analysis run, and early warnings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.demands.models import Category, Demand
from gongzhi.org.models import Building, Organisation, Region


class ClassifierModel(models.Model):
    """One trained classifier: its file under GONGZHI_VAR_DIR/insight/models, where it learnt from and how
    well it did on held-out data. The active one proposes categories for unclassified demands."""

    class Source(models.TextChoices):
        DEMANDS = "demands", _("handled demands")
        CSV = "csv", _("CSV file")

    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    training_size = models.PositiveIntegerField(_("training examples"))
    labels = models.JSONField(_("labels"), default=list)
    evaluation = models.JSONField(_("evaluation"), default=dict,
                                  help_text="held-out figures: macro_f1, accuracy, per-label, confusion")
    file = models.CharField(max_length=200, help_text="path relative to GONGZHI_VAR_DIR")
    sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(_("active"), default=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                               name="one_active_classifier")]

    def __str__(self):
        return f"v{self.pk} ({self.get_source_display()}, {self.training_size})"


class Issue(models.Model):
    """Many demands about one thing (一事多诉), found by incremental clustering (insight.similar)."""

    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", help_text="of its first demand")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)
    volume = models.PositiveIntegerField(_("demands"), default=0)
    reporters = models.PositiveIntegerField(_("distinct reporters"), default=0)
    unresolved = models.PositiveIntegerField(_("unresolved demands"), default=0)
    support = models.PositiveIntegerField(_("support"), default=0, help_text="residents who joined (+1)")
    heat = models.FloatField(_("heat index"), default=0.0, db_index=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-heat", "-id"]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")

    def __str__(self):
        return f"issue {self.pk}"


class DemandProfile(models.Model):
    """What insight keeps of one demand: its text signature (for similar demands) and its issue."""

    demand = models.OneToOneField(Demand, primary_key=True, on_delete=models.CASCADE, related_name="profile")
    signature = models.BinaryField()
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.SET_NULL, related_name="profiles")
    # Copies of the demand's placement and time, so candidates come from one indexed table.
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["grid", "received_at"])]
        verbose_name = _("demand profile")
        verbose_name_plural = _("demand profiles")


class HotSpotRun(models.Model):
    """One hot-spot analysis: over which region, periods and categories, and when it ran."""

    at = models.DateTimeField(_("analysed at"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, default="week")
    periods = models.PositiveSmallIntegerField()
    last_period_start = models.DateField()
    cells = models.PositiveIntegerField()
    categories = models.PositiveIntegerField()
    demands = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("hot-spot analysis")
        verbose_name_plural = _("hot-spot analyses")


class HotSpot(models.Model):
    run = models.ForeignKey(HotSpotRun, on_delete=models.CASCADE, related_name="hot_spots")
    grid = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    since = models.DateField()
    observed = models.PositiveIntegerField()
    expected = models.FloatField()
    ratio = models.FloatField()
    z = models.FloatField()
    q = models.FloatField()
    is_emerging = models.BooleanField(default=False)
    rising_for = models.PositiveSmallIntegerField(default=0)
    explanation_zh = models.TextField()
    explanation_en = models.TextField()

    class Meta:
        ordering = ["q", "-z", "id"]
        verbose_name = _("hot spot")
        verbose_name_plural = _("hot spots")

    def explanation(self) -> str:
        """The stored explanation in the active language (Chinese unless English is chosen)."""
        from django.utils.translation import get_language

        return self.explanation_en if (get_language() or "").startswith("en") else self.explanation_zh


class Warning(models.Model):
    """An early warning (预警) raised by a rule over trends, for the responsible unit. A dispatcher of its
    grid acts on it once: opens a proactive demand in the demands loop (未诉先办), assigns it to a unit (the
    proactive demand dispatched to that unit at once) or dismisses it with a reason."""

    class Kind(models.TextChoices):
        RISING = "rising", _("rising several weeks running")
        HOT_SPOT = "hot_spot", _("hot spot")
        REPEATED_REOPEN = "repeated_reopen", _("repeatedly reopened")

    class State(models.TextChoices):
        OPEN = "open", _("open")
        ACTED = "acted", _("proactive demand opened")
        ASSIGNED = "assigned", _("assigned to a unit")
        DISMISSED = "dismissed", _("dismissed")

    class Level(models.TextChoices):
        MEDIUM = "medium", _("medium")
        HIGH = "high", _("high")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=120, unique=True, help_text="what makes it the same warning: no repeats")
    raised_at = models.DateTimeField(_("raised at"))
    grid = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="the unit responsible (by the routing rules)")
    message_zh = models.TextField()
    message_en = models.TextField()
    evidence = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="the proactive demand opened from it")
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.MEDIUM,
                             help_text="rules.warning_level of its evidence: high ones are urgent work")
    assigned_unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="the unit its proactive demand was dispatched to")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="who acted on it, assigned or dismissed it")
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    dismissal_reason = models.TextField(_("reason for dismissal"), blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
