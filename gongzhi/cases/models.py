"""The case file (案卷): one problem followed the whole way round the loop, as real relations.

A case opens when a topic is put to deliberation from insight's evidence (an issue of similar demands or a
hot spot). It links the demands that raised the problem (CaseDemand), the issue and the hot spot, the topic
(whose meetings, motions, stage records and disclosures name it), the decision recorded under the power list
on that topic, and the project the decision started (its goal, milestones and progress reports). At the end
the residents who raised it are asked whether the problem is solved (Verdict), one round per time the project
is completed; photos of the work are kept with the progress they show (ProgressPhoto)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.deliberation.models import Topic
from gongzhi.demands.models import Demand
from gongzhi.duties.models import Decision, ProgressReport, Project, Task
from gongzhi.insight.models import HotSpot, Issue
from gongzhi.org.models import Region


class Case(models.Model):
    class Status(models.TextChoices):
        DELIBERATING = "deliberating", _("in deliberation")
        DECIDED = "decided", pgettext_lazy("case", "decided")
        IN_PROGRESS = "in_progress", _("work under way")
        ASKING = "asking", _("residents asked whether it is solved")
        SOLVED = "solved", _("solved, residents agree")
        REVIEW = "review", _("reopened for review")
        CLOSED = "closed", _("closed without a decision")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    topic = models.OneToOneField(Topic, on_delete=models.PROTECT, related_name="case")
    issue = models.ForeignKey(Issue, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    hot_spot = models.ForeignKey(HotSpot, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    project = models.OneToOneField(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="case")
    demands = models.ManyToManyField(Demand, through="CaseDemand", related_name="cases")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    opened_at = models.DateTimeField(_("opened"))
    # The current round of asking (1 after the first completion, 2 after a review and a second completion …).
    verdict_round = models.PositiveSmallIntegerField(default=0)
    asked_at = models.DateTimeField(_("residents asked"), null=True, blank=True)
    answers_due = models.DateTimeField(_("answers until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case file")
        verbose_name_plural = _("case files")
        indexes = [models.Index(fields=["status", "answers_due"])]

    def __str__(self):
        return self.title


class CaseDemand(models.Model):
    """A demand that raised the case's problem: those of its issue when the case opened, and those joining
    the issue after, while the case is open."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_demands")
    demand = models.ForeignKey(Demand, on_delete=models.PROTECT, related_name="case_links")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "demand"], name="case_demand_once")]


class Verdict(models.Model):
    """One resident's answer, at the end, to "is the problem you raised solved, and are you satisfied?": by a
    signed-in resident who raised it or supported the topic, or by a guest through their demand's 查询码."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
        NOT_SATISFIED = "not_satisfied", _("not satisfied")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="verdicts")
    round = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="a guest's answer, through the demand's tracking code")
    solved = models.BooleanField(_("problem solved"))
    satisfaction = models.CharField(_("satisfaction"), max_length=20, choices=Satisfaction.choices)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round", "user"], condition=Q(user__isnull=False),
                                    name="verdict_once_per_user"),
            models.UniqueConstraint(fields=["case", "round", "demand"], condition=Q(demand__isnull=False),
                                    name="verdict_once_per_guest_demand"),
            models.CheckConstraint(condition=Q(user__isnull=True) ^ Q(demand__isnull=True), name="verdict_one_voice"),
        ]


class ProgressPhoto(models.Model):
    """A photo of the work on a case's project, with the progress report it shows: re-encoded without EXIF
    (demands.photos.process). Public with the case file: it shows the work, not people's homes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(ProgressReport, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    image = models.FileField(upload_to="cases/photos/%Y/%m/", max_length=200)
    thumbnail = models.FileField(upload_to="cases/photos/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["case_id", "id"]
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")
