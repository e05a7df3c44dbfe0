"""Reporting without an account (issue #16 item 2): a guest files a demand and gets its number and a secret
查询码; with both they follow it, add photos and rate it, from any browser.

The code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31⁸ ≈ 8.5 × 10¹¹ codes, and
look-ups are rate limited per address (GONGZHI_RATE_LIMITS["track"]), so guessing one is hopeless. Only the
code's SHA-256 is stored; it is shown once, when the demand is filed. A wrong number and a wrong code are
the same answer (NotFound), so a look-up tells nothing about which demands exist.
"""

import hashlib
import hmac
import secrets

from django.db import transaction

from django.utils.translation import gettext as _

from gongzhi.core import clock, events, phone_codes
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.models import PhoneCode

from . import photos, services
from .models import Demand, GuestTracking

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalised(code: str) -> str:
    """As typed: spaces, dashes and case do not matter."""
    return "".join(ch for ch in (code or "").upper() if ch.isascii() and ch.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(normalised(code).encode()).hexdigest()


def file(*, photo_contents: list[bytes] = (), keep_location: bool = False, phone_code: str | None = None,
         **fields) -> tuple[services.Step, str]:
    """File a demand as a guest (the fields of services.file_demand, without user) with its photos: one
    transaction. (step, the 查询码 to show once.)

    A guest who gives a mobile number confirms it with the code sent to it (`phone_code`, core/phone_codes.py):
    the number is then theirs, and the demand joins the account they may open with it later. No number, no
    code: the 查询码 alone follows the demand."""
    phone_digest = ""
    if fields.get("contact_phone"):
        if not phone_code:
            raise ValidationFailed(_("Confirm your mobile number with the code sent to it, or leave the number out."),
                                   code="phone_unconfirmed")
        phone = phone_codes.confirm(fields["contact_phone"], PhoneCode.Purpose.GUEST, phone_code)
        fields["contact_phone"], phone_digest = phone, phone_codes.digest(phone)
    code = new_code()
    with transaction.atomic():
        step = services.file_demand(None, guest=True, **fields)
        GuestTracking.objects.create(demand=step.demand, code_digest=_digest(code), created_at=clock.now(),
                                     phone_digest=phone_digest)
        photos.add(None, step.demand, list(photo_contents), keep_location=keep_location, guest=True)
    return step, code


def find(number: str, code: str) -> Demand:
    """The demand this number and 查询码 open; NotFound for either wrong, alike."""
    demand = (Demand.objects.filter(number=(number or "").strip()).select_related("guest_tracking", "grid",
                                                                                   "category", "lead_unit")
              .first())
    expected = demand.guest_tracking.code_digest if demand is not None and hasattr(demand, "guest_tracking") \
        else "0" * 64
    if not hmac.compare_digest(expected, _digest(code)) or demand is None:
        raise NotFound(_("demand"))
    return demand


# What a guest may do once the number and code were shown (the pages keep that proof in the session).

def rate(demand: Demand, *, solved: bool, satisfaction: str, note: str = "") -> services.Step:
    return services.rate(None, demand, solved=solved, satisfaction=satisfaction, note=note, guest=True)


def add_photos(demand: Demand, contents: list[bytes], *, keep_location: bool = False):
    return photos.add(None, demand, contents, keep_location=keep_location, guest=True)


def join_account(user, phone: str) -> int:
    """The guest reports filed with this (code-confirmed) number become the new account's own: its "my
    demands" lists them and it follows and rates them signed in. Called by org.accounts.sign_up inside its
    transaction; how many joined."""
    from gongzhi.org.models import Person

    person = Person.objects.filter(user=user).first()
    joined = 0
    for tracking in (GuestTracking.objects.select_related("demand")
                     .filter(phone_digest=phone_codes.digest(phone), demand__reporter_user__isnull=True)):
        demand = tracking.demand
        Demand.objects.filter(pk=demand.pk).update(reporter_user=user, reporter=person)
        events.record("demands.joined_account", demand, actor=user)
        joined += 1
    return joined
