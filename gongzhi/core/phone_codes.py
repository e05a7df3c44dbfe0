"""One-time codes that confirm a mobile number (issue #16 items 1 and 2), sent through core/sms.py.

A code is 6 digits, lives 10 minutes and allows 5 wrong tries; a new one for the same number and purpose can
be asked for after 60 seconds, and a number gets at most 6 an hour (a text message costs the office money and bothers the
number's owner, whoever typed it). Only keyed digests (HMAC with SECRET_KEY) of the number and the code are
stored. A code confirms a number for one purpose and is used up once it does.

With the default SMS backend nothing is sent: the message (with the code) is in the log and, with DEBUG, on
/dev/sms/, as Django's console e-mail backend does for mail.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from . import clock, sms
from .errors import RateLimited, ValidationFailed
from .models import PhoneCode

LIFETIME = dt.timedelta(minutes=10)
RESEND_AFTER = dt.timedelta(seconds=60)
PER_HOUR = 6
MAX_WRONG = 5
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalised_mobile(raw: str) -> str:
    """A mainland mobile number as 11 digits, from what was typed (spaces, dashes, +86); ValidationFailed if
    it is not one."""
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE.match(digits):
        raise ValidationFailed(_("Enter an 11-digit mobile number, such as 13812345678."), code="invalid_phone")
    return digits


def digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def send(phone: str, purpose: str) -> None:
    """Send a new code to `phone` for `purpose`. RateLimited when asked again too soon or too often."""
    phone = normalised_mobile(phone)
    now = clock.now()
    with transaction.atomic():
        recent = list(PhoneCode.objects.select_for_update().filter(phone_digest=digest(phone),
                                                                   created_at__gt=now - dt.timedelta(hours=1))
                      .values_list("created_at", "purpose"))
        times = sorted(at for at, _purpose in recent)
        same = sorted(at for at, for_what in recent if for_what == purpose)
        if same and now - same[-1] < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - same[-1])).total_seconds()) + 1
            raise RateLimited(_("A code was sent a moment ago. Ask again in %(seconds)d seconds.") % {
                "seconds": wait}, retry_after=wait)
        if len(times) >= PER_HOUR:
            wait = int((times[0] + dt.timedelta(hours=1) - now).total_seconds()) + 1
            raise RateLimited(_("Too many codes for this number in the last hour. Try again later."),
                              retry_after=wait)
        code = f"{secrets.randbelow(10 ** 6):06d}"
        PhoneCode.objects.create(phone_digest=digest(phone), purpose=purpose, code_digest=digest(f"{purpose}:{code}"),
                                 created_at=now, expires_at=now + LIFETIME)
        minutes = int(LIFETIME.total_seconds() // 60)
        sms.send(phone, _("[Gongzhi] Your code is %(code)s, valid for %(minutes)d minutes. If you did not ask for "
                          "it, ignore this message.") % {"code": code, "minutes": minutes})


def confirm(phone: str, purpose: str, code: str) -> str:
    """Use up the code sent to `phone` for `purpose`; the normalised number. ValidationFailed (code
    "wrong_code") when it is wrong, expired, used or tried too often. A wrong try is counted even though the
    caller's transaction is rolled back: call it outside one, after checking everything else the step needs,
    so that a refused step does not use the code up."""
    phone = normalised_mobile(phone)
    typed = "".join(ch for ch in (code or "") if ch.isdigit())
    now = clock.now()
    with transaction.atomic():
        latest = (PhoneCode.objects.select_for_update()
                  .filter(phone_digest=digest(phone), purpose=purpose, used_at__isnull=True, expires_at__gt=now)
                  .order_by("-created_at", "-id").first())
        if latest is None:
            raise ValidationFailed(_("This code has expired or was not sent to this number. Ask for a new one."),
                                   code="wrong_code")
        if latest.attempts >= MAX_WRONG:
            raise ValidationFailed(_("Too many wrong codes. Ask for a new one."), code="wrong_code")
        if not hmac.compare_digest(latest.code_digest, digest(f"{purpose}:{typed}")):
            PhoneCode.objects.filter(pk=latest.pk).update(attempts=latest.attempts + 1)
            right = False
        else:
            PhoneCode.objects.filter(pk=latest.pk).update(used_at=now)
            right = True
    if not right:
        raise ValidationFailed(_("The code is not right. Check the text message and try again."), code="wrong_code")
    return phone
