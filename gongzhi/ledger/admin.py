"""Read-only admin views of the log: the head, checkpoints, entries. Nothing here can change the log,
and the private openings (salts) are not shown at all."""

from django.contrib import admin

from gongzhi.core.adminlog import ReadOnlyAdmin

from .models import Checkpoint, Cosignature, Entry, LogHead


@admin.register(LogHead)
class LogHeadAdmin(ReadOnlyAdmin):
    list_display = ("size", "root_hex", "updated_at")

    @admin.display(description="root")
    def root_hex(self, obj):
        return bytes(obj.root).hex()


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("size", "signed_at")
    ordering = ("-id",)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("index", "event_id", "text")
    list_select_related = False
    show_full_result_count = False  # COUNT(*) over millions of entries on every page is not worth it


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ("size", "witness", "key_id", "timestamp", "received_at")
    list_filter = ("witness",)
