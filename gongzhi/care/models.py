"""Tables of special care and building work: care groups (重点关爱群体) with the visit interval each requires,
people registered in them, household visits (入户走访) with their photos, and notices to a building (楼栋通知)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.demands.models import Demand
from gongzhi.org.models import Building, Household, Person


class CareGroup(models.Model):
    """A group of residents the community visits at a set interval: 独居老人 every 7 days, 残疾人 every 14 …
    The interval is kept here, per group, and changed in the admin (each change an event)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    visit_every_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("care group")
        verbose_name_plural = _("care groups")
        constraints = [models.CheckConstraint(condition=Q(visit_every_days__gte=1),
                                              name="care_group_interval_positive")]

    def __str__(self):
        return self.name


class CareRegistration(models.Model):
    """A person registered in a care group (重点关爱对象), by the community office or their grid's worker.
    Ended, not deleted, when it no longer applies, so who was cared for when stays answerable."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="care_registrations")
    group = models.ForeignKey(CareGroup, on_delete=models.PROTECT, related_name="registrations")
    note = models.CharField(_("note"), max_length=200, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("registered at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("care registration")
        verbose_name_plural = _("care registrations")
        constraints = [models.UniqueConstraint(fields=["person", "group"], condition=Q(ended_at__isnull=True),
                                               name="care_registration_once_per_group")]

    def __str__(self):
        return f"{self.person} · {self.group}"


class Visit(models.Model):
    """One household visit (入户走访): who went, when, to which household (and whom there), why, what they
    found; optionally the demand it followed up and the demand filed from it."""

    class Kind(models.TextChoices):
        ROUTINE = "routine", _("routine visit")
        CARE = "care", _("care visit")
        FOLLOW_UP = "follow_up", _("follow-up of a demand")

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="visits",
                               help_text=_("the member visited, when one in particular"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    follow_up_of = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    filed_demand = models.ForeignKey(Demand, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        indexes = [models.Index(fields=["household", "visited_at"]), models.Index(fields=["person", "visited_at"])]
        constraints = [models.CheckConstraint(condition=~Q(kind="follow_up") | Q(follow_up_of__isnull=False),
                                              name="visit_follow_up_names_its_demand")]


class VisitPhoto(models.Model):
    """A photo taken on a visit: re-encoded without EXIF (demands.photos.process), seen by those who may see
    the visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")


class Notice(models.Model):
    """A short notice to a building's residents (楼栋通知), posted by its building lead or the community
    office; residents with accounts living there read it on their "where I live" page."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="notices")
    text = models.CharField(_("text"), max_length=500)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted at"), db_index=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name = _("building notice")
        verbose_name_plural = _("building notices")
