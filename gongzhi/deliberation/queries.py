"""deliberation's read side: lists and the public shapes of topics, meetings, motions and disclosures, and
the meetings index (by body, state and month; the user's meetings today). Public shapes carry no names; the
roll (names) is for officers only (the API and pages check that)."""

import calendar
import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from gongzhi.core import policy
from gongzhi.core.errors import NotFound
from gongzhi.core.i18n import gettext_lazy
from gongzhi.core.scrub import scrub
from gongzhi.org.models import Person, Region

from . import procedures, services
from .models import Disclosure, Meeting, Motion, RollEntry, Statement, Topic


def topics(*, region_id: int | None = None, status: str | None = None):
    """Public topics only: none held for moderation, not approved, or hidden after reports."""
    rows = Topic.objects.filter(Topic.public_q()).select_related("region")
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
    if status:
        rows = rows.filter(status=status)
    return rows


def next_stage_code(topic: Topic) -> str | None:
    if topic.status != Topic.Status.IN_PROCEDURE or not topic.procedure_definition:
        return None
    stage = procedures.next_stage(services.topic_procedure(topic), services.stage_history(topic))
    return stage.code if stage else None


def topic_detail(topic: Topic) -> dict:
    fields = ("id", "title", "description", "region_id", "origin", "origin_reference", "status",
              "support_threshold", "support_count", "procedure_code", "returned_reason", "draft_resolution",
              "created_at", "evidence")
    out = {f: getattr(topic, f) for f in fields}
    out["stages"] = list(topic.stages.order_by("sequence"))
    out["next_stage"] = next_stage_code(topic)
    out["statements"] = topic.statements.filter(status=Statement.Status.ACCEPTED).count()
    out["comments"] = topic.comments.count()
    return out


def public_comment(comment) -> dict:
    return {"id": comment.pk, "text": "" if comment.is_hidden else scrub(comment.text), "at": comment.at,
            "hidden": comment.is_hidden, "hidden_reason": comment.hidden_reason,
            "pending_review": comment.is_hidden and comment.hidden_by_id is None}


def statements_with_counts(topic: Topic, *, include_rejected: bool = True):
    rows = topic.statements.annotate(
        agrees=Count("votes", filter=Q(votes__vote=1)), disagrees=Count("votes", filter=Q(votes__vote=-1)),
        passes=Count("votes", filter=Q(votes__vote=0)))
    if not include_rejected:
        rows = rows.filter(status=Statement.Status.ACCEPTED)
    return list(rows)


def in_language(data: dict, key: str, chinese: bool) -> str:
    """`data[key + "_zh"]` or `data[key + "_en"]`: a rule's explanation stored in both languages, as shown."""
    return (data or {}).get(f"{key}_zh" if chinese else f"{key}_en") or ""


def quorum_out(meeting: Meeting) -> dict | None:
    if meeting.status == Meeting.Status.SCHEDULED:
        return None
    check = services.quorum(meeting)
    figures = services.attendance(meeting)
    return {"met": check.is_met, "due": figures.due, "present": figures.present,
            "explanation_zh": check.explanation_zh, "explanation_en": check.explanation_en}


def meeting_out(meeting: Meeting) -> dict:
    return {
        "id": meeting.pk, "body_id": meeting.body_id, "body_kind": meeting.body.kind, "topic_id": meeting.topic_id,
        "title": meeting.title, "agenda": meeting.agenda, "place": meeting.place, "starts_at": meeting.starts_at,
        "status": meeting.status, "minutes": meeting.minutes, "quorum": quorum_out(meeting),
        "motions": list(meeting.motions.values_list("pk", flat=True)),
    }


def roll_entry_out(entry: RollEntry) -> dict:
    return {"id": entry.pk, "person_id": entry.person_id, "name": entry.person.name, "present": entry.is_present,
            "how": entry.how, "awaiting_confirmation": entry.how == RollEntry.How.RECORDED and not entry.confirmed_by_id}


def roll(meeting: Meeting) -> list[dict]:
    return [roll_entry_out(e) for e in meeting.roll.select_related("person")]


def motion_out(motion: Motion) -> dict:
    return {
        "id": motion.pk, "meeting_id": motion.meeting_id, "topic_id": motion.topic_id,
        "stage_code": motion.stage_code, "text": motion.text, "method": motion.method, "options": motion.options,
        "seats": motion.seats, "is_secret": motion.is_secret, "status": motion.status, "result": motion.result,
        "is_passed": motion.is_passed, "published_ballots_sha256": motion.published_ballots_sha256,
        "ballots_cast": motion.ballots.count(),
        "amount": str(motion.amount) if motion.amount is not None else None,
    }


def disclosures(*, region_id: int | None = None):
    rows = Disclosure.objects.select_related("region").prefetch_related("objections")
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(region__path__startswith=region.path) if region else rows.none()
    return rows


# --- the meetings index ----------------------------------------------------------------------------------

MEETING_STATES = {"upcoming": Meeting.Status.SCHEDULED, "open": Meeting.Status.OPEN, "closed": Meeting.Status.CLOSED}


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day (the deployment's time zone) as an aware [start, end) pair."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def meetings(*, body_id: int | None = None, region_id: int | None = None, state: str | None = None,
             since: dt.datetime | None = None, until: dt.datetime | None = None, ids=None):
    """Meetings for the index: of one body or region, in one state (upcoming, open, closed), between two
    times. Upcoming ones soonest first; the rest latest first."""
    rows = Meeting.objects.select_related("body__region", "topic")
    if body_id is not None:
        rows = rows.filter(body_id=body_id)
    if region_id is not None:
        region = Region.objects.filter(pk=region_id).first()
        rows = rows.filter(body__region__path__startswith=region.path) if region else rows.none()
    if state in MEETING_STATES:
        rows = rows.filter(status=MEETING_STATES[state])
    if since is not None:
        rows = rows.filter(starts_at__gte=since)
    if until is not None:
        rows = rows.filter(starts_at__lt=until)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    if state == "upcoming":
        return rows.order_by("starts_at", "id")
    return rows.order_by("-starts_at", "-id")


def person_of(user) -> Person | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.filter(user=user).select_related("household__building__grid", "residence").first()


def my_meetings_on(user, day: dt.date) -> list[int]:
    """The meetings on `day` (not closed) of bodies the user belongs to that day, or that they are secretary of:
    the home page's "meetings today" and the list it links to."""
    start, end = day_bounds(day)
    person = person_of(user)
    found = []
    candidates = Meeting.objects.filter(starts_at__gte=start, starts_at__lt=end).exclude(
        status=Meeting.Status.CLOSED).select_related("body__region", "body__organisation")
    for meeting in candidates:
        if meeting.secretary_id == user.pk:
            found.append(meeting.pk)
        elif person is not None and (meeting.roll.filter(person=person).exists() if meeting.status == Meeting.Status.OPEN
                                     else services.is_member(meeting.body, person, day)):
            found.append(meeting.pk)
    return found


def motions_awaiting_my_vote(user):
    """Open votes of meetings whose roll has the user, which they have not voted in yet."""
    person = person_of(user)
    if person is None:
        return Motion.objects.none()
    return (Motion.objects.filter(status=Motion.Status.OPEN, meeting__roll__person=person)
            .exclude(marks__person=person).select_related("meeting"))


def meeting_summary(meeting: Meeting) -> dict:
    """A meeting's line in the index: its motions with outcomes and, once open, whether the quorum is met."""
    quorum = quorum_out(meeting)
    motions = list(meeting.motions.all())
    return {"meeting": meeting, "quorum": quorum, "motions": len(motions),
            "passed": sum(1 for m in motions if m.is_passed is True),
            "failed": sum(1 for m in motions if m.is_passed is False),
            "voting": sum(1 for m in motions if m.status == Motion.Status.OPEN)}


def month_grid(year: int, month: int, meetings_in_month) -> list[list[dict]]:
    """The month as weeks (Monday first) of days, each with its meetings (local dates); days of the
    neighbouring months are None."""
    by_day: dict[dt.date, list] = {}
    for meeting in meetings_in_month:
        by_day.setdefault(timezone.localtime(meeting.starts_at).date(), []).append(meeting)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([{"date": d, "meetings": sorted(by_day.get(d, []), key=lambda m: m.starts_at)}
                      if d.month == month else None for d in week])
    return weeks


def visible_topic(user, topic_id) -> Topic:
    """A topic by id for `user`: a public one for anyone; one held, not approved or hidden only for its
    proposer and the officers who moderate its place; otherwise not found."""
    topic = Topic.objects.select_related("region").filter(pk=topic_id).first()
    if topic is not None and not topic.is_public:
        mine = getattr(user, "is_authenticated", False) and topic.proposer_id == user.pk
        if not (mine or policy.can(user, "deliberation.moderate", topic.region)):
            topic = None
    if topic is None:
        raise NotFound(gettext_lazy("%(verbose_name)s %(pk)s") % {"verbose_name": Topic._meta.verbose_name,
                                                                    "pk": topic_id})
    return topic
