"""Django admin for the configuration of demands (taxonomy, routing rules, time limits). Demands themselves
change only through the use cases in services.py, so the admin shows them read-only, without contact data."""

from django.contrib import admin

from gongzhi.core.adminlog import RecordedModelAdmin

from .models import Category, Demand, DemandContactAccess, RoutingRule, TimeLimitRule


@admin.register(Category)
class CategoryAdmin(RecordedModelAdmin):
    list_display = ("code", "name", "name_en", "parent", "default_urgency", "is_active")
    list_filter = ("default_urgency", "is_active")
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("path",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(RecordedModelAdmin):
    list_display = ("id", "category", "region", "unit", "priority", "is_active")
    list_filter = ("is_active",)
    autocomplete_fields = ("region", "unit")


@admin.register(TimeLimitRule)
class TimeLimitRuleAdmin(RecordedModelAdmin):
    list_display = ("urgency", "category", "dispatch_hours", "feedback_hours", "feedback_days", "working_days",
                    "is_active")
    list_filter = ("urgency", "working_days", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin):
    list_display = ("number", "state", "category", "urgency", "street", "community", "lead_unit", "received_at")
    list_filter = ("state", "urgency", "channel")
    search_fields = ("number",)
    exclude = ("text", "reply", "address", "longitude", "latitude")


@admin.register(DemandContactAccess)
class DemandContactAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "demand", "fields", "purpose", "channel")
