"""The organisation and grid model: regions down to the grid, buildings, households, people,
organisations (party and administrative) and the posts that tie people to them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, Concat, Substr
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A node of the administrative tree: district > street/township > community/village > grid."""

    class Level(models.IntegerChoices):
        DISTRICT = 1, _("district")
        STREET = 2, _("street / township")
        COMMUNITY = 3, _("community / village")
        GRID = 4, _("grid")

    class Kind(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        TOWNSHIP = "township", _("township")
        COMMUNITY = "community", _("community")
        VILLAGE = "village", _("village")
        GRID = "grid", _("grid")

    KIND_LEVEL = {
        "district": Level.DISTRICT,
        "street": Level.STREET,
        "township": Level.STREET,
        "community": Level.COMMUNITY,
        "village": Level.COMMUNITY,
        "grid": Level.GRID,
    }

    # How siblings are listed to people: by their code (G01, G02 …), then name.
    DISPLAY_ORDER = (Coalesce("grid_code", "admin_code", "name"), "name")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, editable=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    admin_code = models.CharField(
        _("administrative code"), max_length=12, null=True, blank=True, unique=True,
        help_text=_("12-digit statistical division code (统计用区划代码)"),
    )
    grid_code = models.CharField(_("grid code"), max_length=32, null=True, blank=True, unique=True)
    # Materialized path "/1/4/17/": the subtree of a region is path__startswith=region.path.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    polygon = models.JSONField(
        _("boundary"), null=True, blank=True,
        help_text=_("GeoJSON Polygon or MultiPolygon (WGS-84 lon/lat); derived for levels above the grid"),
    )

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=Q(admin_code__isnull=True) | Q(admin_code__regex=r"^[0-9]{12}$"),
                name="region_admin_code_12_digits",
            ),
            # An empty path would be a prefix of every path, i.e. a scope over everything.
            models.CheckConstraint(condition=Q(path__regex=r"^/([0-9]+/)+$"), name="region_path_well_formed"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.level = self.KIND_LEVEL.get(self.kind, self.level)
        if self.parent is None and self.level != self.Level.DISTRICT:
            raise ValidationError(_("only a district may have no parent"))
        if self.parent is not None and self.parent.level != self.level - 1:
            raise ValidationError(_("a %(kind)s must sit directly under the level above it") % {"kind": self.get_kind_display()})

    def _computed_path(self) -> str:
        return f"{self.parent.path if self.parent_id else '/'}{self.pk}/"

    def save(self, *args, **kwargs):
        """Keep `path` true in the same transaction: set it on insert, re-root the subtree on a move."""
        self.level = self.KIND_LEVEL[self.kind]
        with transaction.atomic():
            if self.pk is None:
                self.path = "/0/"  # placeholder until the id is known; never visible outside this transaction
                super().save(*args, **kwargs)
                self.path = self._computed_path()
                Region.objects.filter(pk=self.pk).update(path=self.path)
                return
            old_path, self.path = self.path, self._computed_path()
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                Region.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(self.path), Substr("path", len(old_path) + 1))
                )

    @property
    def is_village(self) -> bool:
        return self.kind == self.Kind.VILLAGE

    @property
    def is_grid(self) -> bool:
        return self.level == self.Level.GRID

    def ancestors(self):
        ids = [int(x) for x in self.path.strip("/").split("/")[:-1]]
        return Region.objects.filter(pk__in=ids).order_by("level")

    def subtree(self):
        return Region.objects.filter(path__startswith=self.path)


class Building(models.Model):
    """A building (楼栋) in a grid, with its location as a point."""

    grid = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="buildings",
                             limit_choices_to={"level": Region.Level.GRID})
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    longitude = models.FloatField(_("longitude"))
    latitude = models.FloatField(_("latitude"))
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    class Meta:
        ordering = ["grid_id", "name"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="building_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="building_latitude_range"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.grid_id and self.grid.level != Region.Level.GRID:
            raise ValidationError(_("a building belongs to a grid"))


class Road(models.Model):
    """A named road (道路: 东园路, 幸福路), drawn on the maps with its name and searched by it. Not a 街道
    (a street office's region, Region.Kind.STREET): a road runs across regions, so it hangs on the region
    that registers it (the district, usually). Its line is GeoJSON, as region boundaries are
    (docs/decisions/0002-geometry-without-gis.md)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="roads")
    name = models.CharField(_("name"), max_length=100)
    line = models.JSONField(_("line"), help_text=_("GeoJSON LineString or MultiLineString (WGS-84 lon/lat)"))

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("road")
        verbose_name_plural = _("roads")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="road_unique_name_in_region")]

    def __str__(self):
        return self.name

    def clean(self):
        line = self.line if isinstance(self.line, dict) else {}
        lines = ([line.get("coordinates")] if line.get("type") == "LineString"
                 else line.get("coordinates") if line.get("type") == "MultiLineString" else None)
        if not lines or not all(isinstance(part, list) and len(part) >= 2 and all(
                isinstance(p, list) and len(p) == 2 and -180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in part)
                for part in lines):
            raise ValidationError(_("a road's line is a GeoJSON LineString or MultiLineString in lon/lat"))


class Household(models.Model):
    """A household (户) living in a unit of a building."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    unit = models.CharField(_("unit / room"), max_length=40)

    class Meta:
        ordering = ["building_id", "unit"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [models.UniqueConstraint(fields=["building", "unit"], name="household_unique_unit")]

    def __str__(self):
        return f"{self.building} {self.unit}"


class Organisation(models.Model):
    """Any body that holds posts: party organisations, committees, offices, departments, units."""

    class Kind(models.TextChoices):
        PARTY_COMMITTEE = "party_committee", _("party committee")
        PARTY_WORKING_COMMITTEE = "party_working_committee", _("party working committee")
        PARTY_GENERAL_BRANCH = "party_general_branch", _("party general branch")
        PARTY_BRANCH = "party_branch", _("party branch")
        PARTY_GROUP = "party_group", _("party group")
        RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")
        VILLAGERS_COMMITTEE = "villagers_committee", _("villagers' committee")
        STREET_OFFICE = "street_office", _("street office")
        TOWNSHIP_GOVERNMENT = "township_government", _("township government")
        DISTRICT_GOVERNMENT = "district_government", _("district government")
        DEPARTMENT = "department", _("government department")
        PROPERTY_COMPANY = "property_company", _("property management company")
        OWNERS_COMMITTEE = "owners_committee", _("owners' committee")
        SOCIAL_ORGANISATION = "social_organisation", _("social organisation")
        NEW_ECONOMIC_ORGANISATION = "new_economic_organisation", _("new economic organisation")
        CO_BUILDING_UNIT = "co_building_unit", _("co-building unit")

    PARTY_KINDS = frozenset({
        "party_committee", "party_working_committee", "party_general_branch", "party_branch", "party_group",
    })

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations",
                               help_text=_("the region it serves"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text=_("the organisation above it (party organisations form their own tree)"))
    host = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="hosted",
                             help_text=_("for a party organisation: the unit in which it is established"))
    department = models.CharField(_("department"), max_length=40, blank=True,
                                  help_text=_("for a government department: 城管, 住建, 环保, 民政 …"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)

    class Meta:
        ordering = ["region__path", "kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["kind"])]

    def __str__(self):
        return self.name

    @property
    def is_party(self) -> bool:
        return self.kind in self.PARTY_KINDS

    def clean(self):
        if self.host_id and not self.is_party:
            raise ValidationError(_("only a party organisation has a host unit"))
        if self.parent_id and self.is_party != self.parent.is_party:
            raise ValidationError(_("party organisations nest only in party organisations"))


class Person(models.Model):
    """A resident, villager, worker or official. Contact and identity numbers live in PersonalData."""

    class Gender(models.TextChoices):
        FEMALE = "F", _("female")
        MALE = "M", _("male")

    name = models.CharField(_("name"), max_length=60)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    relation_to_head = models.CharField(_("relation to head of household"), max_length=20, blank=True)
    residence = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="residents",
                                  help_text=_("the community or village where the person lives"))
    registered_residence = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="registered_residents",
        help_text=_("the community or village of the household registration (户籍), when inside this system"),
    )
    registered_elsewhere = models.CharField(_("household registration elsewhere"), max_length=100, blank=True)
    is_party_member = models.BooleanField(_("party member"), default=False)
    party_branch = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="party_members", limit_choices_to={"kind__startswith": "party_"})
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="person")

    class Meta:
        ordering = ["id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self):
        return self.name

    def clean(self):
        if self.party_branch_id and not self.is_party_member:
            raise ValidationError(_("only a party member belongs to a party branch"))

    @property
    def home_region(self) -> "Region | None":
        """Where the person lives: their household's grid, else their residence."""
        if self.household_id:
            return self.household.building.grid
        return self.residence

    def age_on(self, day) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class PersonalData(models.Model):
    """Phone and ID number, kept apart from Person so every read goes through one logged door."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="personal_data", primary_key=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("personal data")
        verbose_name_plural = _("personal data")


class PersonalDataAccess(models.Model):
    """One read of personal data (个人信息保护法): who, whose, which fields, why, when, through what."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="personal_data_accesses")
    fields = models.JSONField(_("fields"))
    purpose = models.CharField(_("purpose"), max_length=120)
    channel = models.CharField(_("channel"), max_length=20)
    at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        # The hourly reveal limit counts a user's rows since an instant.
        indexes = [models.Index(fields=["user", "at"], name="org_access_user_at")]


class Post(models.Model):
    """A person's post (职务) in an organisation, with dates. One person may hold several (一肩挑).

    Posts that cover a place or a unit say which: a grid worker's grid, a building lead's building,
    a party-building instructor's served organisation.
    """

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("secretary")
        DEPUTY_SECRETARY = "deputy_secretary", _("deputy secretary")
        DIRECTOR = "director", _("director")
        DEPUTY_DIRECTOR = "deputy_director", _("deputy director")
        MEMBER = "member", _("committee member")
        STAFF = "staff", _("staff")
        GROUP_LEADER = "group_leader", _("party group leader")
        GRID_WORKER = "grid_worker", _("grid worker")
        BUILDING_LEAD = "building_lead", _("building lead")
        INSTRUCTOR = "instructor", _("party-building instructor")
        LIAISON = "liaison", _("liaison")
        # 数据安全员: audits who revealed which resident's personal data, and why; sees no data itself.
        DATA_OFFICER = "data_officer", _("data officer")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="posts")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="posts")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    title = models.CharField(_("title"), max_length=60, blank=True, help_text=_("the title as written locally"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    grid = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="grid_posts",
                             limit_choices_to={"level": Region.Level.GRID})
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT, related_name="lead_posts")
    served_organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="instructor_posts")

    class Meta:
        ordering = ["organisation_id", "role", "start_date"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="post_ends_after_start"),
            models.CheckConstraint(condition=~Q(role="grid_worker") | Q(grid__isnull=False),
                                   name="grid_worker_has_grid"),
            models.CheckConstraint(condition=~Q(role="building_lead") | Q(building__isnull=False),
                                   name="building_lead_has_building"),
            models.CheckConstraint(condition=~Q(role="instructor") | Q(served_organisation__isnull=False),
                                   name="instructor_serves_organisation"),
            # The same open-ended post cannot be held twice (NULL grid/building count as equal).
            models.UniqueConstraint(models.F("person"), models.F("organisation"), models.F("role"),
                                    Coalesce("grid", Value(0)), Coalesce("building", Value(0)),
                                    condition=Q(end_date__isnull=True), name="post_not_held_twice"),
        ]

    def __str__(self):
        return f"{self.person} · {self.organisation} · {self.get_role_display()}"

    # Units that may get a party-building instructor: those where a party organisation could be set up.
    INSTRUCTED_KINDS = frozenset({"property_company", "owners_committee", "social_organisation",
                                  "new_economic_organisation", "co_building_unit"})

    def clean(self):
        errors = {}
        if self.grid_id and self.role != self.Role.GRID_WORKER:
            errors["grid"] = _("only a grid worker's post names a grid")
        if self.grid_id and self.grid.level != Region.Level.GRID:
            errors["grid"] = _("a grid worker is assigned to a grid")
        if self.building_id and self.role != self.Role.BUILDING_LEAD:
            errors["building"] = _("only a building lead's post names a building")
        if self.served_organisation_id:
            if self.role != self.Role.INSTRUCTOR:
                errors["served_organisation"] = _("only a party-building instructor serves another organisation")
            elif self.served_organisation.kind not in self.INSTRUCTED_KINDS:
                errors["served_organisation"] = _("instructors serve property companies, owners' committees "
                                                  "and other units, not government or party bodies")
        if self.grid_id and self.organisation_id and not self.grid.path.startswith(self.organisation.region.path):
            errors["grid"] = _("the grid lies outside the organisation's region")
        if self.building_id and self.organisation_id and not self.building.grid.path.startswith(
                self.organisation.region.path):
            errors["building"] = _("the building lies outside the organisation's region")
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def in_force_q(day) -> Q:
        """Posts in force on `day`: started, and not yet ended (the end date itself still counts)."""
        return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))

    def is_active_on(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    @property
    def scope_region(self) -> Region:
        """The region this post acts on: a grid worker's grid, a building lead's grid, else the unit's region."""
        if self.grid_id:
            return self.grid
        if self.building_id:
            return self.building.grid
        return self.organisation.region


class ResidentAccount(models.Model):
    """A resident's own account (org/accounts.py): signed up with a mobile number confirmed by a code, and
    signing in with it. The number itself is in the person's PersonalData; here only its keyed digest, to find
    the account at sign-in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="resident_account")
    phone_digest = models.CharField(max_length=64, unique=True)
    confirmed_at = models.DateTimeField(_("number confirmed at"))

    class Meta:
        verbose_name = _("resident account")
        verbose_name_plural = _("resident accounts")


class HouseholdClaim(models.Model):
    """A resident's "I live here": a building and a unit/room, which the grid worker of the building's grid
    (or the community above) confirms or turns down. Confirmed, the person joins that household."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the grid worker")
        CONFIRMED = "confirmed", _("confirmed")
        REFUSED = "refused", _("turned down")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="household_claims")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="household_claims")
    unit = models.CharField(_("unit / room"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("asked at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("household claim")
        verbose_name_plural = _("household claims")
        constraints = [models.UniqueConstraint(fields=["person"], condition=models.Q(status="pending"),
                                               name="household_claim_one_pending")]
