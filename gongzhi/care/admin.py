from django.contrib import admin

from gongzhi.core.adminlog import RecordedModelAdmin

from .models import CareGroup


@admin.register(CareGroup)
class CareGroupAdmin(RecordedModelAdmin):
    """The care groups and the interval each is visited at: changed here, each change an event."""

    list_display = ("name", "code", "visit_every_days", "is_active", "sort_order")
    list_editable = ("visit_every_days", "is_active")
