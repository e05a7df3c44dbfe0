"""Text messages (短信) to residents' phones, through a pluggable backend (issue #16 item 7), as Django's e-mail
backends are: settings.GONGZHI_SMS_BACKEND names a class with `send(phone, text) -> str` (an id from the
gateway, or "").

- The default, `LogBackend`, sends nothing: it writes each message to the log and keeps it in the database
  (core.OutgoingSms), where `/dev/sms/` shows the latest ones, and only when DEBUG is on, as the console
  e-mail backend shows mail during development.
- A real gateway (阿里云短信, 腾讯云短信, an operator's SMPP gateway): write a class with `send` that calls it,
  put it on the Python path and name it in GONGZHI_SMS_BACKEND; gateways want an approved signature and
  template, which its settings carry. Every message is still recorded in core.OutgoingSms with the
  backend's name and its status.

Messages are sent after the transaction that caused them commits (never for a change rolled back), and a
failing gateway is logged, never an error for the resident's or the officer's action. Texts name a demand by
its number and say what happened: no names, no addresses, nothing another person could not know.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from . import clock

logger = logging.getLogger(__name__)


class LogBackend:
    """Development and the demo: the message is logged and kept, not sent."""

    name = "log"

    def send(self, phone: str, text: str) -> str:
        logger.info("SMS to %s: %s", _masked(phone), text)
        return ""


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "***"


def backend():
    return import_string(getattr(settings, "GONGZHI_SMS_BACKEND", "gongzhi.core.sms.LogBackend"))()


def send(phone: str, text: str) -> None:
    """Send `text` to `phone` once the current transaction commits (at once outside one)."""
    phone = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")
    if not phone:
        return
    transaction.on_commit(lambda: _deliver(phone, text[:300]))


def _deliver(phone: str, text: str) -> None:
    from .models import OutgoingSms

    chosen = backend()
    status, reference = "sent", ""
    try:
        reference = chosen.send(phone, text) or ""
    except Exception:  # a gateway's failure must not undo or fail what caused the message
        logger.exception("SMS to %s could not be sent", _masked(phone))
        status = "failed"
    OutgoingSms.objects.create(phone=phone, text=text, backend=getattr(chosen, "name", type(chosen).__name__),
                               status=status, reference=reference[:100], created_at=clock.now())
