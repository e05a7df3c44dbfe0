"""Duties tables: the power list and the decisions recorded under it, the responsibility list that routing
follows, goals with their tasks and progress, scorecards and their results, residents' evaluations,
accountability records, and the needs, resources, matches and projects of 三单制.

Pure rules live in powers.py (what a decision needs), rules.py (status, scores, responsibility → routing) and
matching.py (the optimisation); services.py holds the use cases."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.deliberation.models import Disclosure, Motion, Topic
from gongzhi.org.models import Organisation, Person, Region


class PowerItem(models.Model):
    """One item of a place's power list (权力清单 / 小微权力清单): who decides what, by which procedure."""

    class Kind(models.TextChoices):
        MAJOR_DECISION = "major_decision", _("major decision")
        CADRE = "cadre", _("cadre appointment or recommendation")
        MAJOR_PROJECT = "major_project", _("major project")
        LARGE_FUND = "large_fund", _("large fund use")
        ROUTINE = "routine", _("routine matter")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="power_items")
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=160)
    group = models.CharField(_("group"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    definition = models.JSONField(_("definition"), help_text=_("the item as powers.py reads it"))
    preset = models.CharField(_("from preset"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["region_id", "group", "code"]
        verbose_name = _("power item")
        verbose_name_plural = _("power items")
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="power_item_code_once")]

    def __str__(self):
        return self.name


class Decision(models.Model):
    """A decision recorded under a power item (a spending, a project award, a recommendation), accepted only
    after the procedure the item requires ran to a passed resolution of the right body."""

    item = models.ForeignKey(PowerItem, on_delete=models.PROTECT, related_name="decisions")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    details = models.TextField(_("details"), blank=True)
    is_major = models.BooleanField(_("major matter"))
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    motion = models.ForeignKey(Motion, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    verdict = models.JSONField(_("verdict"), default=dict)
    disclosure = models.ForeignKey(Disclosure, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")


class Responsibility(models.Model):
    """One entry of the responsibility list (责任清单): a unit (and optionally a post in it) answers for these
    matters in this region. The demands app's routing rules are generated from these entries."""

    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="responsibilities")
    role = models.CharField(_("post"), max_length=20, blank=True, help_text=_("empty: the unit as a whole"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="responsibilities")
    matters = models.JSONField(_("matters"), help_text=_("demand category codes this entry answers for"))
    duty = models.TextField(_("duty"), help_text=_("what the unit must do, as written in the list"))
    priority = models.SmallIntegerField(_("priority"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["region_id", "unit_id", "id"]
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibility list")


class Goal(models.Model):
    """A goal with a measurable target (目标). Its status is computed from progress and time, never typed."""

    class Direction(models.TextChoices):
        HIGHER = "higher", _("higher is better")
        LOWER = "lower", _("lower is better")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="goals")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    indicator = models.CharField(_("indicator"), max_length=120)
    unit_of_measure = models.CharField(_("unit"), max_length=20, blank=True)
    start_value = models.FloatField(_("start value"))
    target_value = models.FloatField(_("target value"))
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    start_date = models.DateField(pgettext_lazy("goal", "start date"))
    deadline = models.DateField(_("deadline"))
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="goals")
    live_indicator = models.CharField(_("live indicator"), max_length=60, blank=True,
                                      help_text=_("a registered indicator that feeds the goal (e.g. demands.satisfaction)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, blank=True, editable=False, help_text="as last computed")

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self):
        return self.title


class Task(models.Model):
    """A task towards a goal, down to a responsible unit or person, with a deadline and a quality standard."""

    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    project = models.ForeignKey("Project", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subtasks")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="tasks")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks")
    deadline = models.DateField(_("deadline"))
    quality_standard = models.TextField(_("quality standard"))
    completed_at = models.DateTimeField(null=True, blank=True)
    quality_met = models.BooleanField(null=True)
    status = models.CharField(max_length=10, blank=True, editable=False, help_text="as last computed")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.CheckConstraint(condition=Q(goal__isnull=False) | Q(project__isnull=False),
                                              name="task_serves_goal_or_project")]

    def __str__(self):
        return self.title


class ProgressReport(models.Model):
    """A progress report on a goal (a value) or a task (a note), with its evidence."""

    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    value = models.FloatField(null=True, blank=True)
    note = models.TextField(_("note"))
    evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    is_live = models.BooleanField(default=False, help_text="taken from a live indicator")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    on = models.DateField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["on", "id"]


class ReviewMeeting(models.Model):
    """A periodic review (会商研判) of a region's goals, with its conclusions."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="reviews")
    held_on = models.DateField()
    participants = models.TextField(_("participants"))
    conclusions = models.TextField(_("conclusions"))
    goals = models.ManyToManyField(Goal, related_name="reviews", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()


class Scorecard(models.Model):
    """A scorecard definition: weighted indicators for units or posts over a period (考评)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="scorecards")
    name = models.CharField(_("name"), max_length=120)
    indicators = models.JSONField(_("indicators"))
    created_at = models.DateTimeField()


class ScoreResult(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="results")
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="scores")
    period_start = models.DateField()
    period_end = models.DateField()
    score = models.FloatField()
    breakdown = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end", "-score"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "unit", "period_start", "period_end"],
                                               name="score_once_per_period")]


class ResidentEvaluation(models.Model):
    """A resident's evaluation (1–5) of a unit's work in a period, where the place has it configured."""

    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="evaluations")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "evaluator", "period_start"], name="evaluate_once_per_period"),
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="evaluation_score_1_to_5"),
        ]


class AccountabilityRecord(models.Model):
    """An accountability record (问责): a failure, its facts and the outcome."""

    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="accountability_records")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    facts = models.TextField(_("facts"))
    outcome = models.TextField(_("outcome"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()


class Need(models.Model):
    """A community's need (需求清单) — from residents' demands, a hot spot or the committee."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="needs")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    skills = models.JSONField(_("what it needs"), help_text=_("skills or kinds of resource"))
    quantity = models.FloatField(_("quantity"))
    urgency = models.FloatField(_("urgency"))
    longitude = models.FloatField()
    latitude = models.FloatField()
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    source = models.CharField(_("source"), max_length=80, blank=True)
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField()


class Resource(models.Model):
    """What a co-building unit or volunteer offers (资源清单)."""

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="resources")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="resources")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    offers = models.JSONField(_("offers"))
    capacity = models.FloatField(_("capacity"))
    longitude = models.FloatField()
    latitude = models.FloatField()
    max_distance_km = models.FloatField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    is_available = models.BooleanField(default=True)
    created_at = models.DateTimeField()


class Match(models.Model):
    """A proposed or accepted pairing of a need and a resource with a quantity (项目清单 once accepted)."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        ACCEPTED = "accepted", pgettext_lazy("match", "accepted")
        DECLINED = "declined", _("declined")

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="matches")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="matches")
    quantity = models.FloatField()
    state = models.CharField(max_length=10, choices=State.choices)
    run = models.CharField(max_length=40, help_text="the matching run that proposed it")
    project = models.ForeignKey("Project", null=True, blank=True, on_delete=models.PROTECT, related_name="matches")
    at = models.DateTimeField()


class Project(models.Model):
    """A project (项目清单): made from accepted matches, or started by a decision recorded under the power list
    (its authority), with a responsible unit, a budget within the amount approved, and a goal whose tasks are
    the milestones. Carried out through tasks, with its outcome; reopened for review when the residents who
    raised the problem say, most of them, that it is not solved."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    decision = models.OneToOneField(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="project",
                                    verbose_name=_("authorising decision"))
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="projects",
                             verbose_name=_("responsible unit"))
    budget = models.DecimalField(_("budget (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    goal = models.OneToOneField(Goal, null=True, blank=True, on_delete=models.PROTECT, related_name="project")
    outcome = models.TextField(_("outcome"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(_("reopened for review"), null=True, blank=True)
    review_reason = models.TextField(_("reason for review"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self):
        return self.title
