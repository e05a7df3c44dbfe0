"""Django admin for the configuration of demands (taxonomy, routing rules, time limits). Demands themselves
change only through the use cases in services.py, so the admin shows them read-only, without contact data."""

from django.contrib import admin

from gongzhi.core.adminlog import ReadOnlyAdmin, RecordedModelAdmin

from .models import Category, Demand, DemandContactAccess, RoutingRule, Submission, TimeLimitRule


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


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin):
    list_display = ("number", "state", "category", "urgency", "street", "community", "lead_unit", "received_at")
    list_filter = ("state", "urgency", "channel")
    search_fields = ("number",)
    exclude = ("text", "reply", "address", "longitude", "latitude")


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    """The fast intake path's queue: what is pending, refused (and why) or filed; never its payload,
    which holds the text and the contact until the submission is filed."""

    list_display = ("key", "state", "channel", "received_at", "grid", "demand", "attempts", "error_code")
    list_filter = ("state", "channel", "error_code")
    search_fields = ("key",)
    exclude = ("payload",)


@admin.register(DemandContactAccess)
class DemandContactAccessAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "demand", "fields", "purpose", "channel")


# --- escalation and notifications: the sweep and notifications.py write these; the admin shows them. ------

from .models import (  # noqa: E402 (appended section)
    DeadlineReminder, ListedSupervision, Notification, SupervisionOrder, Webhook, WebhookDelivery,
)


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ReadOnlyAdmin):
    list_display = ("demand", "deadline", "due", "unit", "supervisor", "issued_at", "resolved_at")
    list_filter = ("deadline", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("demand__number",)


@admin.register(ListedSupervision)
class ListedSupervisionAdmin(ReadOnlyAdmin):
    list_display = ("demand", "reason", "count", "unit", "supervisor", "listed_at")
    list_filter = ("reason",)
    search_fields = ("demand__number",)


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(ReadOnlyAdmin):
    list_display = ("demand", "deadline", "due", "unit", "sent_at")
    list_filter = ("deadline",)
    search_fields = ("demand__number",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient_unit", "recipient_user", "demand", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("demand__number",)


@admin.register(Webhook)
class WebhookAdmin(RecordedModelAdmin):
    list_display = ("unit", "url", "active", "events", "created_at")
    list_filter = ("active",)
    autocomplete_fields = ("unit",)
    readonly_fields = ("created_at",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Failures are visible here: filter on "failed at" (gave up) or "last HTTP status"."""

    list_display = ("created_at", "webhook", "event", "attempts", "last_status", "last_error", "next_attempt_at",
                    "delivered_at", "failed_at")
    list_filter = ("event", ("failed_at", admin.EmptyFieldListFilter), ("delivered_at", admin.EmptyFieldListFilter))
    search_fields = ("uuid",)
