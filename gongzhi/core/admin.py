from django.contrib import admin

from .adminlog import ReadOnlyAdmin
from .models import ApiToken, Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "subject_type", "subject_id", "actor")
    list_filter = ("kind",)
    search_fields = ("subject_id", "kind")
    # Private values (names, phones, free text) are committed to in the ledger, never shown here.
    exclude = ("private",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    search_fields = ("user__username", "name")
