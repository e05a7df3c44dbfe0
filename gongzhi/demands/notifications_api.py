"""The notifications JSON API (mounted at /api/v1/notifications/): my in-app notices (mine and my units'),
marking them read, and the webhook deliveries of the units I hold an office in (failures included)."""

import datetime as dt
import uuid

from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from . import notifications

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    demand: str | None = Field(None, description="the demand's number")
    link: str = Field("", description="the page the notice is about (a path), e.g. a case file")
    recipient_unit_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_demand(obj) -> str | None:
        return obj.demand.number if obj.demand_id else None


class ReadAllOut(Schema):
    marked: int


class DeliveryOut(Schema):
    uuid: uuid.UUID
    unit_id: int = Field(..., alias="webhook.unit_id")
    url: str = Field(..., alias="webhook.url")
    event: str
    created_at: dt.datetime
    attempts: int
    last_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None


@router.get("/", response=list[NotificationOut])
@paginate(LimitOffsetPagination)
def list_notifications(request, unread: bool | None = None):
    """My notices and my units' notices, newest first; `unread=true` for the unread ones only."""
    return notifications.mine(request.auth, unread=unread)


@router.post("/read", response=ReadAllOut)
def mark_all_read(request):
    """Mark every unread notice of mine (and my units') read."""
    return {"marked": notifications.mark_all_read(request.auth)}


@router.post("/{notification_id}/read", response=NotificationOut)
def mark_read(request, notification_id: int):
    """Mark one notice read (a unit's notice: for the whole unit). 404 when it is not mine."""
    return notifications.mark_read(request.auth, notification_id)


@router.get("/webhook-deliveries", response=list[DeliveryOut])
@paginate(LimitOffsetPagination)
def webhook_deliveries(request, failed: bool | None = None, delivered: bool | None = None):
    """Deliveries of my units' webhooks, newest first: `failed=true` for those given up on, `delivered=false`
    for those not (yet) delivered."""
    qs = notifications.deliveries_visible_to(request.auth)
    if failed is not None:
        qs = qs.filter(failed_at__isnull=not failed)
    if delivered is not None:
        qs = qs.filter(delivered_at__isnull=not delivered)
    return qs
