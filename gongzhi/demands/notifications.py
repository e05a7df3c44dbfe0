"""Notifications of 接诉即办: in-app notices to units and residents, and each unit's outgoing webhooks.

In-app. A unit is told of a new dispatch (lead and assisting units), a return to the desk, a reopen,
a deadline reminder and a supervision order (the order's addressee too) and a 挂牌督办 listing; the
resident who filed a demand is told of its reply, its closing and its reopening. Notices are written in
the transaction of the step (demand_changed) or of the sweep's row (escalation.py) that caused them.

Webhooks. For every step concerning a unit (it holds the demand, or the step names it) and every
reminder / supervision order / listing addressed to it, each active Webhook of the unit whose `events`
filter takes the event name gets a WebhookDelivery row in that same transaction; after commit a task
sends it (tasks.deliver_webhook_task), and the sweep retries what is due, so a failing endpoint never
touches the demand and a restart loses no delivery. Event names: the step's action (file, triage,
dispatch, accept, return, start_work, reply, verify, close, rate, reopen, merge, reject) and reminder,
supervision, listed. The payload carries no personal data: the demand's number, state, category,
urgency, region and unit ids, its times and deadlines; never its text, address, location or contact.

Each POST has the JSON body (RFC 8785 canonical bytes) and the headers
    X-Gongzhi-Event: dispatch
    X-Gongzhi-Delivery: <uuid>          the same on every retry: drop a delivery id already processed
    X-Gongzhi-Timestamp: <unix seconds> the time of this attempt
    X-Gongzhi-Signature: sha256=<hex>   HMAC-SHA256 under the webhook's secret of  timestamp + "." + body
To verify: recompute hmac.new(secret, f"{timestamp}.".encode() + raw_body, "sha256").hexdigest(), compare
in constant time (hmac.compare_digest) with the header after "sha256=", and refuse timestamps more than a
few minutes old (replays); verify_signature() below does exactly this. Any 2xx answer counts as delivered;
anything else (3xx included: redirects are not followed) is retried after 1, 2, 4 … minutes (capped),
until GONGZHI_DEMANDS_WEBHOOK_MAX_ATTEMPTS; then the delivery is marked failed (failed_at), visible in the
admin and at GET /api/v1/notifications/webhook-deliveries?failed=true.
"""

import datetime as dt
import hashlib
import hmac
import logging
import urllib.error
import urllib.request
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.core import clock, sms
from gongzhi.core.canonical import canonical_json
from gongzhi.core.errors import NotFound
from gongzhi.org.permissions import OFFICE, active_posts

from . import rules
from .models import (
    Assignment, Deadline, DeadlineReminder, Demand, DemandContact, DemandEvent, ListedSupervision, Notification,
    SupervisionOrder, Webhook, WebhookDelivery,
)
from .permissions import unit_ids
from .signals import demand_changed

logger = logging.getLogger(__name__)
K = Notification.Kind

SIGNATURE_HEADER = "X-Gongzhi-Signature"
TIMESTAMP_HEADER = "X-Gongzhi-Timestamp"
DELIVERY_HEADER = "X-Gongzhi-Delivery"
EVENT_HEADER = "X-Gongzhi-Event"
# While one attempt is under way its delivery is leased for this long: a crashed sender's delivery
# comes back after the lease instead of being sent twice meanwhile.
ATTEMPT_LEASE = dt.timedelta(minutes=5)


def _setting(name: str, default):
    return getattr(settings, f"GONGZHI_DEMANDS_{name}", default)


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


# --- in-app notices ---------------------------------------------------------------------------------------

def _notify(kind: str, demand: Demand, text: str, *, unit_id: int | None = None, user_id: int | None = None,
            at: dt.datetime) -> Notification | None:
    if unit_id is None and user_id is None:
        return None
    return Notification.objects.create(recipient_unit_id=unit_id, recipient_user_id=user_id, demand=demand,
                                       kind=kind, text=text[:300], created_at=at)


def _tell_reporter(kind: str, demand: Demand, text: str, *, at: dt.datetime) -> None:
    """A change the resident should hear of: in their message centre (with an account) and by text message to
    the phone they gave with the demand (with or without an account), else to the confirmed number of their
    resident account (org/accounts.py; core/sms.py)."""
    _notify(kind, demand, text, user_id=demand.reporter_user_id, at=at)
    phone = DemandContact.objects.filter(demand=demand).values_list("phone", flat=True).first()
    if not phone and demand.reporter_user_id:
        from gongzhi.org.models import PersonalData

        phone = (PersonalData.objects.filter(person__user_id=demand.reporter_user_id,
                                             person__user__resident_account__isnull=False)
                 .values_list("phone", flat=True).first())
    if phone:
        sms.send(phone, _("[Gongzhi] %(text)s") % {"text": text})


def _filed_on_behalf(demand: Demand) -> bool:
    """Filed by a building lead for a resident (代办: the filing step's public data says on_behalf): the
    reporter's account is the lead's, so their messages say it is the resident's demand."""
    filed = DemandEvent.objects.filter(demand=demand, action="file").select_related("event").first()
    return bool(filed and filed.event.data.get("on_behalf"))


def _category(demand: Demand) -> str:
    return demand.category.name if demand.category_id else _("not yet classified")


@receiver(demand_changed, dispatch_uid="demands.notifications.on_demand_changed")
def on_demand_changed(sender, demand: Demand, demand_event: DemandEvent, **kwargs) -> None:
    """Notices and webhook deliveries for one step, in the step's transaction."""
    action, at = demand_event.action, demand_event.at
    holders = dict(Assignment.objects.filter(demand=demand, ended_at__isnull=True).values_list("unit_id", "role"))
    with translation.override(settings.LANGUAGE_CODE):
        if action == "dispatch":
            for unit_id, role in holders.items():
                _notify(K.DISPATCH, demand, _("Demand %(number)s (%(category)s) was dispatched to your unit as "
                                              "%(role)s; accept it by %(due)s.") % {
                    "number": demand.number, "category": _category(demand),
                    "role": Assignment.Role(role).label, "due": _local(demand.accept_due)}, unit_id=unit_id, at=at)
        elif action == "return":
            _notify(K.RETURN, demand, _("Demand %(number)s was returned to the desk; dispatch it again by "
                                        "%(due)s.") % {"number": demand.number, "due": _local(demand.dispatch_due)},
                    unit_id=demand.desk_id, at=at)
        elif action == "verify_failed":  # patrol: the grid worker found it not done; the desk reopens
            _notify(K.RETURN, demand, _("Demand %(number)s failed verification on the spot: %(note)s Reopen it to "
                                        "send it back to the unit.") % {"number": demand.number,
                                                                         "note": demand_event.note[:200]},
                    unit_id=demand.desk_id, at=at)
        elif action == "reopen":
            _notify(K.REOPEN, demand, _("Demand %(number)s was reopened and is back with your unit; accept it by "
                                        "%(due)s.") % {"number": demand.number, "due": _local(demand.accept_due)},
                    unit_id=demand.lead_unit_id, at=at)
            _tell_reporter(K.REOPEN, demand, (_("The demand %(number)s you filed for a resident was reopened and is "
                                                "being handled again.") if _filed_on_behalf(demand) else
                                              _("Your demand %(number)s was reopened and is being handled again."))
                           % {"number": demand.number}, at=at)
        elif action == "reply":
            _tell_reporter(K.REPLY, demand, (_("The demand %(number)s you filed for a resident has a reply.")
                                             if _filed_on_behalf(demand) else _("Your demand %(number)s has a reply."))
                           % {"number": demand.number}, at=at)
        elif action == "close":
            _tell_reporter(K.CLOSE, demand, (_("The demand %(number)s you filed for a resident was closed; please "
                                               "ask them whether it was solved and how satisfied they are, and "
                                               "record their answer.") if _filed_on_behalf(demand) else
                                             _("Your demand %(number)s was closed; please say whether it was solved "
                                               "and how satisfied you are.")) % {"number": demand.number}, at=at)
        if action == "dispatch" and demand.lead_unit_id:
            _tell_reporter(K.DISPATCH, demand, (_("The demand %(number)s you filed for a resident is with %(unit)s, "
                                                  "who will answer by %(due)s.") if _filed_on_behalf(demand) else
                                                _("Your demand %(number)s is with %(unit)s, who will answer by "
                                                  "%(due)s.")) % {
                               "number": demand.number, "unit": demand.lead_unit.name,
                               "due": _local(demand.feedback_due)}, at=at)
    concerned = set(holders) | {demand_event.unit_id}
    if demand.state in rules.AT_DESK_STATES:
        concerned.add(demand.desk_id)
    queue_webhooks(concerned, action, demand, at=at)


def on_reminder(reminder: DeadlineReminder) -> None:
    demand = reminder.demand
    with translation.override(settings.LANGUAGE_CODE):
        _notify(K.REMINDER, demand, _("Reminder: the %(deadline)s deadline of demand %(number)s is %(due)s.") % {
            "deadline": Deadline(reminder.deadline).label, "number": demand.number, "due": _local(reminder.due)},
            unit_id=reminder.unit_id, at=reminder.sent_at)
    queue_webhooks({reminder.unit_id}, "reminder", demand, at=reminder.sent_at,
                   extra={"deadline": reminder.deadline, "due": reminder.due.isoformat()})


def on_supervision_order(order: SupervisionOrder) -> None:
    demand = order.demand
    values = {"deadline": Deadline(order.deadline).label, "number": demand.number, "due": _local(order.due),
              "unit": order.unit.name if order.unit_id else _("the dispatch desk"),
              "supervisor": order.supervisor.name if order.supervisor_id else _("no superior on record")}
    with translation.override(settings.LANGUAGE_CODE):
        _notify(K.SUPERVISION, demand, _("Supervision order: %(unit)s missed the %(deadline)s deadline (%(due)s) "
                                         "of demand %(number)s.") % values, unit_id=order.supervisor_id,
                at=order.issued_at)
        _notify(K.SUPERVISION, demand, _("Supervision order: your unit missed the %(deadline)s deadline (%(due)s) "
                                         "of demand %(number)s; %(supervisor)s supervises it.") % values,
                unit_id=order.unit_id, at=order.issued_at)
    queue_webhooks({order.unit_id, order.supervisor_id}, "supervision", demand, at=order.issued_at,
                   extra={"deadline": order.deadline, "due": order.due.isoformat(), "unit_id": order.unit_id,
                          "supervisor_id": order.supervisor_id})


def on_listed(listing: ListedSupervision) -> None:
    demand = listing.demand
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Demand %(number)s is under listed supervision: %(reason)s (%(count)s times).") % {
            "number": demand.number, "reason": ListedSupervision.Reason(listing.reason).label, "count": listing.count}
        for unit_id in dict.fromkeys((listing.supervisor_id, listing.unit_id)):
            _notify(K.LISTED, demand, text, unit_id=unit_id, at=listing.listed_at)
    queue_webhooks({listing.unit_id, listing.supervisor_id}, "listed", demand, at=listing.listed_at,
                   extra={"reason": listing.reason, "count": listing.count, "unit_id": listing.unit_id,
                          "supervisor_id": listing.supervisor_id})


# --- reading and marking notices ----------------------------------------------------------------------------

def mine(user, *, unread: bool | None = None):
    """The notices addressed to `user` or to a unit they hold a post in (the only way lists are narrowed)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(Q(recipient_user_id=user.pk) | Q(recipient_unit_id__in=unit_ids(user)))
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs.select_related("demand").order_by("-created_at", "-id")


def mark_read(user, notification_id: int) -> Notification:
    """Mark one of the user's notices read (for a unit's notice: read for the whole unit). Reading is not a
    step of any demand, so no event is recorded."""
    notice = mine(user).filter(pk=notification_id).first()
    if notice is None:
        raise NotFound(_("notification %(notification_id)s") % {"notification_id": notification_id})
    if notice.read_at is None:
        notice.read_at = clock.now()
        Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def mark_all_read(user) -> int:
    return mine(user, unread=True).update(read_at=clock.now())


# --- webhooks: queueing -------------------------------------------------------------------------------------

def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def demand_payload(demand: Demand) -> dict:
    """What a webhook learns of a demand: no text, address, location or contact."""
    return {
        "number": demand.number, "state": demand.state, "urgency": demand.urgency,
        "category": demand.category.code if demand.category_id else None,
        "street_id": demand.street_id, "community_id": demand.community_id, "grid_id": demand.grid_id,
        "lead_unit_id": demand.lead_unit_id, "reopen_count": demand.reopen_count,
        **{name: _iso(getattr(demand, name)) for name in (
            "received_at", "dispatched_at", "accepted_at", "replied_at", "verified_at", "closed_at", "rated_at",
            "dispatch_due", "accept_due", "feedback_due")},
    }


def queue_webhooks(units: set, event: str, demand: Demand, *, at: dt.datetime,
                   extra: dict | None = None) -> list[WebhookDelivery]:
    """A delivery for each active webhook of these units that takes `event`, inside the caller's
    transaction; sent after commit."""
    wanted = [hook for hook in Webhook.objects.filter(unit_id__in={u for u in units if u}, active=True)
              .select_related("unit") if hook.wants(event)]
    created = []
    for hook in wanted:
        delivery_id = uuid.uuid4()
        payload = {"id": str(delivery_id), "event": event, "occurred_at": at.isoformat(),
                   "unit": {"id": hook.unit_id, "name": hook.unit.name}, "demand": demand_payload(demand),
                   **(extra or {})}
        created.append(WebhookDelivery.objects.create(uuid=delivery_id, webhook=hook, event=event, payload=payload,
                                                      created_at=at, next_attempt_at=at))
    if created:
        # robust: a failure to enqueue is logged; the sweep sends the delivery anyway (next_attempt_at is due).
        transaction.on_commit(partial(_enqueue, [d.pk for d in created]), robust=True)
    return created


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import deliver_webhook_task  # tasks call this module: import at use

    for pk in delivery_ids:
        deliver_webhook_task.enqueue(pk)


# --- webhooks: sending --------------------------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Gongzhi-Signature value: HMAC-SHA256 of `timestamp.body` under the secret."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, *, now: dt.datetime | None = None,
                     tolerance: dt.timedelta = dt.timedelta(minutes=5)) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (reference for integrators)."""
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (TypeError, ValueError):
        return False
    if abs((now or clock.now()) - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def backoff(attempts: int, *, base_seconds: float = 60, cap_seconds: float = 6 * 3600) -> dt.timedelta:
    """Wait before the next try after `attempts` failed ones: base, 2·base, 4·base … at most cap."""
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer that is not 2xx: retried, not followed


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"[:300]
    except (urllib.error.URLError, OSError, ValueError) as error:  # refused, timed out, DNS, bad URL
        return None, f"{type(error).__name__}: {getattr(error, 'reason', error)}"[:300]


def attempt_delivery(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Try one delivery if it is due (claimed first, so two senders never post it at once); record the
    answer and schedule the next try with exponential backoff, or mark it failed after the last one.
    None when it is not due (delivered, failed, or claimed by another sender)."""
    now = now or clock.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True, failed_at__isnull=True,
                                             next_attempt_at__lte=now).update(next_attempt_at=now + ATTEMPT_LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    if hook.active:
        body = canonical_json(delivery.payload)
        timestamp = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "gongzhi-webhooks/1",
                   EVENT_HEADER: delivery.event, DELIVERY_HEADER: str(delivery.uuid), TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: signature(hook.secret, timestamp, body)}
        status, error = _post(hook.url, body, headers, float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)))
    else:
        status, error = None, "webhook deactivated"
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status, delivery.last_error = now, status, error
    if status is not None and 200 <= status < 300:
        delivery.delivered_at, delivery.next_attempt_at = now, None
    elif not hook.active or delivery.attempts >= int(_setting("WEBHOOK_MAX_ATTEMPTS", 8)):
        delivery.failed_at, delivery.next_attempt_at = now, None
        logger.warning("webhook delivery %s to %s failed for good after %d attempts: %s", delivery.uuid, hook.url,
                       delivery.attempts, error or status)
    else:
        delivery.next_attempt_at = now + backoff(
            delivery.attempts, base_seconds=float(_setting("WEBHOOK_BACKOFF_SECONDS", 60)),
            cap_seconds=float(_setting("WEBHOOK_MAX_BACKOFF_SECONDS", 6 * 3600)))
    delivery.save(update_fields=["attempts", "last_attempt_at", "last_status", "last_error", "delivered_at",
                                 "failed_at", "next_attempt_at"])
    return delivery


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every delivery whose next attempt is due (first tries missed by the task queue, and retries)."""
    now = now or clock.now()
    due = list(WebhookDelivery.objects.filter(delivered_at__isnull=True, failed_at__isnull=True,
                                              next_attempt_at__lte=now)
               .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for pk in due:
        delivery = attempt_delivery(pk, now=now)
        if delivery is not None:
            counts["delivered" if delivery.delivered_at else "failed" if delivery.failed_at else "retrying"] += 1
    return counts


def deliveries_visible_to(user):
    """The deliveries of the webhooks of units in which `user` holds an office (leaders and staff)."""
    qs = WebhookDelivery.objects.select_related("webhook", "webhook__unit").order_by("-created_at", "-id")
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    units = {p.organisation_id for p in active_posts(user) if p.role in OFFICE}
    return qs.filter(webhook__unit_id__in=units)
