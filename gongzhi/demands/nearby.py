"""Similar open demands near a point, for the filing form's "me too" (issue #16 item 5): before filing, the
resident sees what was already reported within a few hundred metres and not yet closed, and may add
themself to one (Support) instead of filing a duplicate. What is shown is what the public list shows: the
category, the state, the grid, the text scrubbed of numbers and names; never the point, the address or who.
"""

import datetime as dt
import hashlib
import hmac
import math

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from gongzhi.core import clock, events
from gongzhi.core.errors import NotFound, ValidationFailed

from . import queries, rules
from .models import Demand, Support

RADIUS_M = 300
DONE = rules.FINAL_STATES | {rules.CLOSED, rules.RATED}  # no "me too" once closed (a rating may reopen it)
RECENT = dt.timedelta(days=60)
SHOWN = 5
TEXT_SHOWN = 80  # characters of the scrubbed text


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere): exact enough for a few hundred m."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def open_near(longitude: float, latitude: float, *, radius_m: float = RADIUS_M, limit: int = SHOWN) -> list[dict]:
    """The open demands received in the last 60 days within `radius_m` of the point, nearest first, as the
    public may see them."""
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise ValidationFailed(_("The point is not on the map."), code="invalid_point")
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(latitude)), 0.01))
    candidates = (Demand.objects.exclude(state__in=DONE)
                  .filter(received_at__gte=clock.now() - RECENT, merged_into__isnull=True,
                          longitude__range=(longitude - dlon, longitude + dlon),
                          latitude__range=(latitude - dlat, latitude + dlat))
                  .select_related("category", "grid").annotate(supporters=Count("supports"))[:200])
    near = sorted(((distance_m(longitude, latitude, d.longitude, d.latitude), d) for d in candidates),
                  key=lambda pair: pair[0])
    nobody = AnonymousUser()
    found = []
    for metres, demand in near:
        if metres > radius_m or len(found) >= limit:
            break
        from .forms import category_name

        text = queries.as_seen_by(nobody, demand)["text"]
        found.append({"number": demand.number, "category": category_name(demand.category),
                      "state": demand.get_state_display(), "grid": demand.grid.name,
                      "text": text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN] + "…",
                      "metres": int(round(metres / 10) * 10), "supporters": demand.supporters,
                      "received": demand.received_at.date().isoformat()})
    return found


def session_digest(session_key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"support:{session_key}".encode(), hashlib.sha256).hexdigest()


def me_too(demand_number: str, *, user=None, session_key: str = "") -> tuple[Demand, int, bool]:
    """Add the caller to an open demand's "me too": (demand, how many now, whether this call added one).
    Once per account or browser session; a closed demand is not joined (NotFound, as for no demand)."""
    demand = Demand.objects.exclude(state__in=DONE).filter(number=demand_number).first()
    if demand is None:
        raise NotFound(_("This report is closed or does not exist."))
    signed_in = user is not None and user.is_authenticated
    if not signed_in and not session_key:
        raise ValidationFailed(_("Open the report form again, then try once more."), code="no_session")
    if signed_in and demand.reporter_user_id == user.pk:
        return demand, demand.supports.count(), False  # one's own report needs no "me too"
    added = True
    try:
        with transaction.atomic():
            support = Support.objects.create(demand=demand, user=user if signed_in else None,
                                             session_digest="" if signed_in else session_digest(session_key),
                                             created_at=clock.now())
            events.record("demands.me_too", demand, actor=user if signed_in else None, support=support.pk)
    except IntegrityError:
        added = False
    return demand, demand.supports.count(), added
