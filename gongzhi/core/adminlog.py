"""Admin bases: edits are state changes too (an event for each, in the admin's own transaction), and
logs and journals are shown read-only."""

from django.contrib import admin
from django.db import transaction

from . import events


class RecordedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes append to the event journal (kind "<app>.admin_<verb>")."""

    def _kind(self, obj, verb: str) -> str:
        return f"{obj._meta.app_label}.admin_{verb}"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            events.record(self._kind(obj, "changed" if change else "added"), obj, actor=request.user,
                          fields=sorted(form.changed_data))

    def delete_model(self, request, obj):
        with transaction.atomic():
            events.record(self._kind(obj, "deleted"), obj, actor=request.user, label=str(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                events.record(self._kind(obj, "deleted"), obj, actor=request.user, label=str(obj))
            super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For journals and logs: viewable in the admin, never added to, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
