"""Patrol (巡查): the places a grid's patrol covers, the plans saying how often, the day's tasks they
generate, the grid worker's check-ins at each place and the findings recorded on the way."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import Building, Region


WEEKDAY_NAMES = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


class PatrolPlace(models.Model):
    """A place of a grid a patrol visits that is not a building: 小区东门, 垃圾站, a playground."""

    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="patrol_places",
                             limit_choices_to={"level": Region.Level.GRID})
    name = models.CharField(_("name"), max_length=60)
    longitude = models.FloatField(_("longitude"))
    latitude = models.FloatField(_("latitude"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["grid_id", "name"]
        verbose_name = _("patrol place")
        verbose_name_plural = _("patrol places")
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="patrol_place_unique_name")]

    def __str__(self):
        return self.name


class PatrolPlan(models.Model):
    """How often a grid's buildings and places are patrolled: every N days from the start date, or on
    named weekdays (0 = Monday … 6 = Sunday)."""

    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="patrol_plans")
    name = models.CharField(_("name"), max_length=60)
    buildings = models.ManyToManyField(Building, blank=True, related_name="+", verbose_name=_("buildings"))
    places = models.ManyToManyField(PatrolPlace, blank=True, related_name="plans", verbose_name=_("places"))
    every_days = models.PositiveSmallIntegerField(_("every N days"), null=True, blank=True)
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    start_date = models.DateField(_("from"))
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["grid_id", "name"]
        verbose_name = _("patrol plan")
        verbose_name_plural = _("patrol plans")

    def __str__(self):
        return self.name

    @property
    def weekday_names(self) -> list:
        return [WEEKDAY_NAMES[d] for d in self.weekdays]


class PatrolTask(models.Model):
    """One stop of one day's patrol: a building or a place, generated from a plan (services.tasks_for)."""

    plan = models.ForeignKey(PatrolPlan, on_delete=models.CASCADE, related_name="tasks")
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    place = models.ForeignKey(PatrolPlace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    stop = models.CharField(max_length=20)  # "b<building id>" or "p<place id>": one task per stop and day
    name = models.CharField(_("name"), max_length=80)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)

    class Meta:
        ordering = ["day", "grid_id", "name", "id"]
        verbose_name = _("patrol task")
        verbose_name_plural = _("patrol tasks")
        constraints = [
            models.UniqueConstraint(fields=["plan", "day", "stop"], name="patrol_task_once_per_day"),
            models.CheckConstraint(condition=models.Q(building__isnull=True) ^ models.Q(place__isnull=True),
                                   name="patrol_task_building_or_place"),
        ]
        indexes = [models.Index(fields=["grid", "day"])]

    def __str__(self):
        return f"{self.day} {self.name}"


class CheckIn(models.Model):
    """The grid worker was at a task's place: where the device said (or nothing, when location was refused)
    and when. `recorded_at` is the device's time (a check-in queued offline keeps it), `received_at` the
    server's. Far from the place (or without a location) it is accepted and flagged."""

    task = models.ForeignKey(PatrolTask, on_delete=models.CASCADE, related_name="check_ins")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    accuracy = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance = models.FloatField(_("distance from the place (m)"), null=True, blank=True)
    is_flagged = models.BooleanField(_("flagged"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    received_at = models.DateTimeField(_("received at"))
    client_key = models.CharField(max_length=64, unique=True)  # sent twice, stored once

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")

    def __str__(self):
        return f"{self.task} {self.recorded_at:%H:%M}"


class Finding(models.Model):
    """A problem the grid worker found on patrol: solved on the spot (随手办: a demand closed at once) or
    filed into the loop (a demand of channel "patrol"). The demand holds the text and photos."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    demand = models.OneToOneField("demands.Demand", on_delete=models.PROTECT, related_name="patrol_finding")
    task = models.ForeignKey(PatrolTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    solved_on_the_spot = models.BooleanField(_("solved on the spot"))
    longitude = models.FloatField(_("longitude"))
    latitude = models.FloatField(_("latitude"))
    recorded_at = models.DateTimeField(_("recorded at"))
    received_at = models.DateTimeField(_("received at"))
    client_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("patrol finding")
        verbose_name_plural = _("patrol findings")

    def __str__(self):
        return str(self.demand)
