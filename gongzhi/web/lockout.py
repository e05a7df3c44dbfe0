"""The page a locked-out sign-in gets (django-axes calls `locked_out` through AXES_LOCKOUT_CALLABLE)."""

import math

from django.conf import settings
from django.shortcuts import render


def locked_out(request, original_response=None, credentials=None):
    """429 with the sign-in form's look, how long to wait, and a Retry-After header."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = math.ceil(cooloff.total_seconds() / 60) if cooloff else None
    response = render(request, "web/locked_out.html", {"minutes": minutes}, status=429)
    if cooloff:
        response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response
