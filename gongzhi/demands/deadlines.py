"""A demand's deadlines against the working-day calendar (issue #15): set with their basis, marked provisional
while a year they run through has no holiday notice, and recomputed when one is imported.

Every deadline counted in working days keeps what it was counted from and how much (Demand.deadline_basis),
so a notice imported later recomputes it exactly. When it changes, the demand's timeline says so, from what
to what and by which notice. A deadline that was on time is never made overdue after the fact: if the new
date has already passed, the old one stays, and the timeline says that too.
"""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock, workdays

from . import rules
from .calendar import TimeLimit, add_working_time, provisional_years
from .models import Demand

# Each deadline, the moment that meets it, and the states in which it runs (as Demand.is_*_overdue).
DEADLINES = {
    "dispatch_due": ("dispatched_at", rules.AT_DESK_STATES),
    "accept_due": ("accepted_at", frozenset({rules.DISPATCHED})),
    "feedback_due": ("replied_at", rules.AT_DESK_STATES | rules.HANDLING_STATES),
}
logger = logging.getLogger(__name__)

NAMES = {"dispatch_due": _("dispatch deadline"), "accept_due": _("acceptance deadline"),
         "feedback_due": _("feedback deadline")}


def _amount(field: str, limit: TimeLimit) -> tuple[float | None, int | None]:
    if field == "feedback_due":
        return limit.feedback_hours, limit.feedback_days
    return limit.dispatch_hours, None  # the unit has as long to accept as the desk had to dispatch


def set_due(demand: Demand, field: str, start: dt.datetime, limit: TimeLimit) -> dt.datetime:
    """Set demand.<field> to `limit` counted from `start` (local time) and keep the basis."""
    hours, days = _amount(field, limit)
    due = add_working_time(start, hours=hours, days=days, working_days=limit.working_days)
    setattr(demand, field, due)
    basis = dict(demand.deadline_basis or {})
    if limit.working_days:
        basis[field] = {"from": start.isoformat(), "hours": hours, "days": days}
    else:
        basis.pop(field, None)
    demand.deadline_basis = basis
    return due


def set_filing_dues(demand: Demand, start: dt.datetime, limit: TimeLimit, *, dispatch: bool = True) -> None:
    """The deadlines counted from receipt: feedback, and dispatch when the demand is at the desk."""
    if dispatch:
        set_due(demand, "dispatch_due", start, limit)
    set_due(demand, "feedback_due", start, limit)


def _basis(demand: Demand, field: str) -> tuple[dt.datetime, float | None, int | None] | None:
    """(from, hours, days) of a working-day deadline; for demands filed before bases were kept, the usual
    start (receipt; dispatch for acceptance) with today's limit; None for deadlines around the clock."""
    kept = (demand.deadline_basis or {}).get(field)
    if kept:
        return dt.datetime.fromisoformat(kept["from"]), kept.get("hours"), kept.get("days")
    from .services import time_limit_for  # services imports this module

    limit = time_limit_for(demand.category, demand.urgency)
    if not limit.working_days:
        return None
    start = demand.dispatched_at if field == "accept_due" else demand.received_at
    if start is None:
        return None
    hours, days = _amount(field, limit)
    return timezone.localtime(start), hours, days


def provisional(demand: Demand, field: str) -> list[int]:
    """The years without a holiday notice that `field`'s working days were counted through (empty: final)."""
    due = getattr(demand, field)
    if due is None:
        return []
    basis = _basis(demand, field)
    if basis is None:
        return []
    return provisional_years(basis[0], timezone.localtime(due))


def _running(demand: Demand, field: str) -> bool:
    done, states = DEADLINES[field]
    return getattr(demand, field) is not None and getattr(demand, done) is None and demand.state in states


def recompute_for_years(years: list[int], actor, recorded: dict) -> dict:
    """core.workdays hook, inside the import's transaction: every running deadline that falls on or after
    the first day of the earliest changed year (one before cannot cross it) is counted again. How many
    deadlines moved, and how many were kept because moving them would make them overdue after the fact."""
    from .services import _locked, _record  # services imports this module

    assert transaction.get_connection().in_atomic_block
    now = clock.now()
    since = timezone.make_aware(dt.datetime(min(years), 1, 1))
    titles = {year: event.data.get("title", "") for year, event in recorded.items()}
    candidates = Demand.objects.filter(
        state__in=rules.AT_DESK_STATES | rules.HANDLING_STATES).filter(
        dispatch_due__gte=since) | Demand.objects.filter(
        state__in=rules.AT_DESK_STATES | rules.HANDLING_STATES, accept_due__gte=since) | Demand.objects.filter(
        state__in=rules.AT_DESK_STATES | rules.HANDLING_STATES, feedback_due__gte=since)
    report = {"moved": 0, "kept": 0, "demands": 0}
    for pk in candidates.order_by("pk").values_list("pk", flat=True).distinct():
        demand = _locked(Demand(pk=pk))
        notes, public = [], {}
        for field in DEADLINES:
            if not _running(demand, field) or getattr(demand, field) < since:
                continue
            basis = _basis(demand, field)
            if basis is None:
                continue
            start, hours, days = basis
            old = getattr(demand, field)
            new = add_working_time(timezone.localtime(start), hours=hours, days=days, working_days=True)
            if new == old:
                continue
            year = next((y for y in years if start.year <= y <= timezone.localtime(max(old, new)).year), years[0])
            title = titles.get(year, "")
            if old > now >= new:  # on time under the old calendar, overdue under the new: not after the fact
                notes.append(str(_("%(name)s kept at %(old)s: the new holiday notice (%(title)s) would make it "
                                   "%(new)s, which has already passed") % {
                    "name": NAMES[field], "old": _shown(old), "new": _shown(new), "title": title}))
                public[field] = {"kept": _iso(old), "recomputed": _iso(new)}
                report["kept"] += 1
                continue
            setattr(demand, field, new)
            notes.append(str(_("%(name)s moved from %(old)s to %(new)s by the holiday notice %(title)s") % {
                "name": NAMES[field], "old": _shown(old), "new": _shown(new), "title": title}))
            public[field] = {"from": _iso(old), "to": _iso(new)}
            report["moved"] += 1
        if notes:
            demand.save(update_fields=[*(f for f in DEADLINES if f in public)])
            _record(demand, "recompute_deadline", actor, demand.state, note="；".join(notes), years=years,
                    deadlines=public)
            report["demands"] += 1
    return report


def _iso(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _shown(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def missing_notice_warning(today: dt.date | None = None) -> str:
    """From 1 November, when next year's holiday notice is missing: what to say (else "")."""
    year = workdays.missing_next_year(today)
    if year is None:
        return ""
    return (f"the holiday notice for {year} has not been imported: deadlines running into {year} count Monday to "
            f"Friday and are provisional until it is (gongzhi calendar import FILE, or /calendar/)")


def log_missing_notice() -> str:
    """The worker's daily check (core.periodic)."""
    warning = missing_notice_warning()
    if warning:
        logger.warning(warning)
    return warning
