"""Deliberation in the admin: read-only. Votes, stages and notices change only through the use cases
(services), which check the rules and log every step; the admin is for looking."""

from django.contrib import admin

from gongzhi.core.adminlog import ReadOnlyAdmin

from .models import Body, Disclosure, Meeting, Motion, StageRecord, Topic


@admin.register(Body)
class BodyAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "region", "rule_code")
    list_filter = ("kind",)


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ("title", "region", "origin", "status", "support_count", "procedure_code", "created_at")
    list_filter = ("status", "origin")
    search_fields = ("title",)


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("title", "body", "starts_at", "status")
    list_filter = ("status",)


@admin.register(Motion)
class MotionAdmin(ReadOnlyAdmin):
    list_display = ("id", "meeting", "method", "is_secret", "status", "is_passed")
    # Named views of a collective decision are personal data; the minutes page shows them to those who need it.
    exclude = ("views",)


@admin.register(StageRecord)
class StageRecordAdmin(ReadOnlyAdmin):
    list_display = ("topic", "sequence", "stage_code", "outcome", "at")


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAdmin):
    list_display = ("title", "region", "kind", "published_at", "notice_ends_at", "status")
    list_filter = ("kind", "status")
