from django.contrib import admin

from .models import ApiToken, Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "subject_type", "subject_id", "actor")
    list_filter = ("kind",)
    search_fields = ("subject_id", "kind")
    # Private values (names, phones, free text) are committed to in the ledger, never shown here.
    exclude = ("private",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    search_fields = ("user__username", "name")
