"""Django admin for the org model. Personal data is not editable inline on Person lists and is
shown masked; the admin's own permission system (staff + model permissions) gates it."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.core.adminlog import ReadOnlyAdmin, RecordedModelAdmin

from .models import Building, Household, Organisation, Person, PersonalData, PersonalDataAccess, Post, Region, Road
from .rules import mask_id_number, mask_phone


@admin.register(Region)
class RegionAdmin(RecordedModelAdmin):
    list_display = ("name", "kind", "level", "admin_code", "grid_code", "parent")
    list_filter = ("level", "kind")
    search_fields = ("name", "admin_code", "grid_code")
    readonly_fields = ("path", "level")
    autocomplete_fields = ("parent",)


@admin.register(Building)
class BuildingAdmin(RecordedModelAdmin):
    list_display = ("name", "address", "grid", "longitude", "latitude")
    search_fields = ("name", "address", "grid__name")
    autocomplete_fields = ("grid",)


@admin.register(Road)
class RoadAdmin(RecordedModelAdmin):
    list_display = ("name", "region")
    search_fields = ("name", "region__name")
    autocomplete_fields = ("region",)


@admin.register(Household)
class HouseholdAdmin(RecordedModelAdmin):
    list_display = ("building", "unit")
    search_fields = ("building__name", "unit")
    autocomplete_fields = ("building",)


@admin.register(Organisation)
class OrganisationAdmin(RecordedModelAdmin):
    list_display = ("name", "kind", "region", "parent", "host")
    list_filter = ("kind",)
    search_fields = ("name", "region__name")
    autocomplete_fields = ("region", "parent", "host")


class PostInline(admin.TabularInline):
    model = Post
    fk_name = "person"
    extra = 0
    autocomplete_fields = ("organisation", "grid", "building", "served_organisation")


@admin.register(Person)
class PersonAdmin(RecordedModelAdmin):
    list_display = ("name", "gender", "birth_date", "household", "is_party_member", "masked_phone")
    list_filter = ("gender", "is_party_member")
    search_fields = ("name",)
    autocomplete_fields = ("household", "residence", "registered_residence", "party_branch", "user")
    inlines = [PostInline]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        data = getattr(obj, "personal_data", None)
        return mask_phone(data.phone) if data else ""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("household__building", "personal_data")


@admin.register(PersonalData)
class PersonalDataAdmin(RecordedModelAdmin):
    list_display = ("person", "phone_masked", "id_number_masked")
    search_fields = ("person__name",)
    fields = ("person", "phone_masked", "id_number_masked")
    readonly_fields = ("person", "phone_masked", "id_number_masked")

    @admin.display(description=_("phone"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("ID number"))
    def id_number_masked(self, obj):
        return mask_id_number(obj.id_number)

    def has_add_permission(self, request):
        return False


@admin.register(Post)
class PostAdmin(RecordedModelAdmin):
    list_display = ("person", "organisation", "role", "title", "start_date", "end_date", "grid", "building")
    list_filter = ("role",)
    search_fields = ("person__name", "organisation__name")
    autocomplete_fields = ("person", "organisation", "grid", "building", "served_organisation")


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "person", "fields", "purpose", "channel")
    list_filter = ("channel",)
    search_fields = ("person__name", "user__username", "purpose")
