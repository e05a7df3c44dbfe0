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

from gongzhi.core import clock
from gongzhi.core.errors import NotFound

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


def file(*, photo_contents: list[bytes] = (), keep_location: bool = False, **fields) -> tuple[services.Step, str]:
    """File a demand as a guest (the fields of services.file_demand, without user) with its photos: one
    transaction. (step, the 查询码 to show once.)"""
    code = new_code()
    with transaction.atomic():
        step = services.file_demand(None, guest=True, **fields)
        GuestTracking.objects.create(demand=step.demand, code_digest=_digest(code), created_at=clock.now())
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
        raise NotFound("demand")
    return demand


# What a guest may do once the number and code were shown (the pages keep that proof in the session).

def rate(demand: Demand, *, solved: bool, satisfaction: str, note: str = "") -> services.Step:
    return services.rate(None, demand, solved=solved, satisfaction=satisfaction, note=note, guest=True)


def add_photos(demand: Demand, contents: list[bytes], *, keep_location: bool = False):
    return photos.add(None, demand, contents, keep_location=keep_location, guest=True)
