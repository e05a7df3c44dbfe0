"""Case-file use cases. A case follows one problem round the whole loop; most of its steps are other apps'
use cases, which this module hears through the event journal (core.Event rows, saved in the same transaction
as each step): a topic put to deliberation from insight's evidence opens a case; a motion counted on it, the
decision recorded on it, the project that decision starts and that project's completion move the case on and
tell everyone who raised the problem (their demands fed the issue) or supported the topic, in their message
centre, or by text message for a guest who reported without an account. Once the project is done they are
asked whether the problem is solved and whether they are satisfied (`answer`): their answers are the project
goal's value and the responsible unit's indicators (`indicator_*`), and "not solved" from most of them reopens
the project for review (`conclude`)."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import clock, events, policy, sms
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import Event
from gongzhi.core.text import clean_text
from gongzhi.deliberation.models import Motion, Support, Topic
from gongzhi.demands import photos as demand_photos
from gongzhi.demands.models import Demand, DemandContact, Notification
from gongzhi.demands.models import Support as DemandSupport
from gongzhi.duties import services as duties
from gongzhi.duties.models import Decision, Project, Task
from gongzhi.insight.models import HotSpot, Issue

from .models import Case, CaseDemand, ProgressPhoto, Verdict


MAX_PHOTOS = 6
MAX_COMMENT = 300


def reopen_share() -> float:
    return float(getattr(settings, "GONGZHI_CASE_REOPEN_SHARE", 0.5))


def link(case: Case, anchor: str = "") -> str:
    return reverse("cases:detail", args=[case.pk]) + (f"#{anchor}" if anchor else "")


# --- who raised it ------------------------------------------------------------------------------------------

def complainant_demands(case: Case):
    return Demand.objects.filter(case_links__case=case)


def followers(case: Case) -> tuple[set[int], list[int]]:
    """(user ids, guest demand ids): the residents who raised the problem (the reporters of its demands with an
    account, and those who added "me too" to one) and who supported the topic; and the demands reported without an account (told by text message
    to the phone they gave, asked through their tracking code)."""
    users = set(complainant_demands(case).filter(reporter_user__isnull=False).values_list("reporter_user_id", flat=True))
    users |= set(DemandSupport.objects.filter(demand__case_links__case=case, user__isnull=False)
                 .values_list("user_id", flat=True))
    users |= set(Support.objects.filter(topic_id=case.topic_id).values_list("user_id", flat=True))
    guests = list(complainant_demands(case).filter(reporter_user__isnull=True).values_list("pk", flat=True))
    return users, guests


def is_follower(user, case: Case) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (complainant_demands(case).filter(reporter_user_id=user.pk).exists()
            or DemandSupport.objects.filter(demand__case_links__case=case, user_id=user.pk).exists()
            or Support.objects.filter(topic_id=case.topic_id, user_id=user.pk).exists())


def _sync_demands(case: Case) -> int:
    """Demands that joined the case's issue since it opened (while the case is open) raise it too."""
    if case.issue_id is None or case.closed_at is not None:
        return 0
    have = set(CaseDemand.objects.filter(case=case).values_list("demand_id", flat=True))
    new = [pk for pk in Demand.objects.filter(profile__issue_id=case.issue_id).values_list("pk", flat=True)
           if pk not in have]
    CaseDemand.objects.bulk_create([CaseDemand(case=case, demand_id=pk, added_at=clock.now()) for pk in new])
    return len(new)


def tell(case: Case, text: str, *, anchor: str = "", unit_id: int | None = None) -> int:
    """Tell everyone who raised the problem or supported the topic: a notice in their message centre linking
    to the case file; a text message to the phone of each demand reported without an account. With `unit_id`
    the responsible unit gets the notice too. Returns how many were told."""
    _sync_demands(case)
    users, guests = followers(case)
    now, href = clock.now(), link(case, anchor)
    text = _("“%(title)s”: %(text)s") % {"title": case.title, "text": text}  # which problem, among their messages
    rows = [Notification(recipient_user_id=pk, kind=Notification.Kind.CASE, text=text[:300], link=href,
                         created_at=now) for pk in sorted(users)]
    if unit_id is not None:
        rows.append(Notification(recipient_unit_id=unit_id, kind=Notification.Kind.CASE, text=text[:300], link=href,
                                 created_at=now))
    Notification.objects.bulk_create(rows)
    phones = DemandContact.objects.filter(demand_id__in=guests).exclude(phone="").values_list("phone", flat=True)
    for phone in sorted(set(phones)):
        sms.send(phone, _("[Gongzhi] %(text)s") % {"text": text})
    return len(users) + len(guests)


# --- opening a case ------------------------------------------------------------------------------------------

def _demands_of_hot_spot(spot: HotSpot):
    return Demand.objects.filter(grid_id=spot.grid_id, category_id=spot.category_id,
                                 received_at__date__gte=spot.since).values_list("pk", flat=True)


def open_case(topic: Topic, *, issue: Issue | None = None, hot_spot: HotSpot | None = None, actor=None) -> Case:
    """Open the case of a topic put to deliberation from an issue or a hot spot (in the caller's transaction):
    the demands that raised it are linked and their reporters told."""
    now = clock.now()
    case = Case.objects.create(region=topic.region, title=topic.title[:160], topic=topic, issue=issue,
                               hot_spot=hot_spot, status=Case.Status.DELIBERATING, opened_at=now, updated_at=now)
    if issue is not None:
        ids = list(Demand.objects.filter(Q(profile__issue=issue) | Q(profile__issue__merged_into=issue))
                   .values_list("pk", flat=True).distinct())
    elif hot_spot is not None:
        ids = list(_demands_of_hot_spot(hot_spot))
    else:
        ids = []
    CaseDemand.objects.bulk_create([CaseDemand(case=case, demand_id=pk, added_at=now) for pk in ids])
    events.record("cases.open", case, actor=actor, topic=topic.pk, issue=getattr(issue, "pk", None),
                  hot_spot=getattr(hot_spot, "pk", None), demands=len(ids))
    tell(case, _("The problem you raised is now a topic for residents' deliberation: %(title)s. Read the case "
                 "file and take part.") % {"title": topic.title})
    return case


def _hot_spot_of(issue: Issue | None) -> HotSpot | None:
    """The latest hot spot of the issue's grid and category, when the analysis found one: the evidence that
    the problem is more than usual there, beside the issue's own counts."""
    if issue is None or issue.category_id is None:
        return None
    return (HotSpot.objects.filter(grid_id=issue.grid_id, category_id=issue.category_id)
            .order_by("-run__at", "-id").first())


def _source(topic: Topic) -> tuple[Issue | None, HotSpot | None] | None:
    evidence = topic.evidence or {}
    if topic.origin == Topic.Origin.AGENDA and evidence.get("kind") == "issue":
        issue = Issue.objects.filter(pk=evidence.get("issue")).first()
        return issue, _hot_spot_of(issue)
    if topic.origin == Topic.Origin.HOT_SPOT and evidence.get("kind") == "hot_spot":
        return None, HotSpot.objects.filter(pk=evidence.get("hot_spot")).first()
    return None


# --- the steps other apps record -----------------------------------------------------------------------------

def _case_of_topic(topic_id) -> Case | None:
    return Case.objects.select_for_update().filter(topic_id=topic_id).first() if topic_id else None


def _move(case: Case, status: str, **fields) -> None:
    case.status, case.updated_at = status, clock.now()
    for name, value in fields.items():
        setattr(case, name, value)
    case.save(update_fields=["status", "updated_at", *fields])
    events.record("cases.status", case, status=status, **{k: getattr(v, "pk", v) for k, v in fields.items()
                                                          if not isinstance(v, dt.datetime)})


# The residents' own bodies: their votes are the ones residents are told of (the party's and the committees'
# stages show on the case file, without a message each).
RESIDENTS_BODIES = frozenset({"villagers_meeting", "household_representatives_meeting",
                              "villagers_representatives_meeting", "residents_meeting",
                              "residents_representatives_meeting"})


def _motion_counted(motion: Motion) -> None:
    case = _case_of_topic(motion.topic_id)
    if case is None or motion.meeting.body.kind not in RESIDENTS_BODIES:
        return
    result = _("passed") if motion.is_passed else _("not passed")
    tell(case, _("The vote on the topic you raised is counted: %(result)s. The result and the list of ballots are "
                 "published in the case file.") % {"result": result}, anchor="vote")


def _decision_recorded(decision: Decision) -> None:
    case = _case_of_topic(decision.topic_id)
    if case is None:
        return
    _move(case, Case.Status.DECIDED, decision=decision)
    tell(case, _("A decision is recorded on the problem you raised: %(title)s. It is disclosed; you may object "
                 "during the notice period.") % {"title": decision.title}, anchor="decision")


def _project_started(project: Project) -> None:
    if project.decision_id is None:
        return
    case = Case.objects.select_for_update().filter(decision_id=project.decision_id).first()
    if case is None:
        decision = Decision.objects.get(pk=project.decision_id)
        case = _case_of_topic(decision.topic_id)
    if case is None:
        return
    if case.decision_id is None:
        case.decision_id = project.decision_id
    _move(case, Case.Status.IN_PROGRESS, project=project)
    last = project.tasks.order_by("-deadline").values_list("deadline", flat=True).first()
    tell(case, _("Work has started on the problem you raised: %(title)s, by %(unit)s, due %(deadline)s.")
         % {"title": project.title, "unit": project.unit.name if project.unit_id else "—",
            "deadline": last.isoformat() if last else "—"}, anchor="project")


def _project_completed(project: Project) -> None:
    case = Case.objects.select_for_update().filter(project=project).first()
    if case is None:
        return
    now = clock.now()
    _move(case, Case.Status.ASKING, verdict_round=case.verdict_round + 1, asked_at=now,
          answers_due=now + dt.timedelta(days=duties.verdict_days()))
    tell(case, _("The work on the problem you raised is done. Is the problem solved? Please answer in the case "
                 "file by %(date)s.") % {"date": case.answers_due.date().isoformat()}, anchor="verdict")


def _project_reopened(project: Project, reason: str) -> None:
    case = Case.objects.select_for_update().filter(project=project).first()
    if case is None or case.status == Case.Status.REVIEW:
        return
    _move(case, Case.Status.REVIEW)
    tell(case, _("The project on the problem you raised is reopened for review: %(reason)s") % {"reason": reason},
         anchor="verdict", unit_id=project.unit_id)


def on_event(sender, instance: Event, created: bool, **kwargs) -> None:
    """Hear the steps of other apps in their own transaction (so the case moves with them, or not at all)."""
    if not created:
        return
    kind = instance.kind
    if kind not in HANDLERS:
        return
    HANDLERS[kind](instance)


def _on_topic_proposed(event: Event) -> None:
    topic = Topic.objects.get(pk=event.subject_id)
    source = _source(topic)
    if source is not None and not Case.objects.filter(topic=topic).exists():
        issue, spot = source
        open_case(topic, issue=issue, hot_spot=spot, actor=event.actor)


HANDLERS = {
    "deliberation.propose_topic": _on_topic_proposed,
    "deliberation.close_motion": lambda e: _motion_counted(Motion.objects.get(pk=e.subject_id)),
    "duties.record_decision": lambda e: _decision_recorded(Decision.objects.get(pk=e.subject_id)),
    "duties.start_project": lambda e: _project_started(Project.objects.select_related("unit").get(pk=e.subject_id)),
    "duties.project_outcome": lambda e: _project_completed(Project.objects.get(pk=e.subject_id)),
    "duties.reopen_project": lambda e: _project_reopened(Project.objects.get(pk=e.subject_id),
                                                         e.data.get("reason", "")),
}


# --- the demands themselves ------------------------------------------------------------------------------------

def reply_to_demands(user, case: Case, *, text: str) -> list[Demand]:
    """The lead unit answers every demand of the case it holds, in one go and one transaction: the same reply
    (what was decided and done, naming the case file), taking on first those not yet taken on (签收). Each
    demand then goes its usual way — verified on the spot, closed by the desk — and its reporter's verdict on
    the case is their rating of it (`answer`)."""
    from gongzhi.demands import rules as demand_rules
    from gongzhi.demands import services as demands

    text = clean_text(text, "the reply text", code="text_required")
    open_states = [demand_rules.DISPATCHED, demand_rules.ACCEPTED, demand_rules.IN_PROGRESS]
    replied = []
    with transaction.atomic():
        for demand in complainant_demands(case).filter(state__in=open_states).order_by("id"):
            if demand.state == demand_rules.DISPATCHED:
                if not policy.can(user, "demands.accept", demand):
                    continue
                demand = demands.accept(user, demand).demand
            if not policy.can(user, "demands.reply", demand):
                continue
            replied.append(demands.reply(user, demand, text=text).demand)
        if not replied:
            raise ValidationFailed(gettext_lazy("no demand of this case waits for your unit's reply"),
                                   code="nothing_to_reply")
        events.record("cases.reply_to_demands", case, actor=user, demands=[d.number for d in replied])
    return replied


def _rate_own_demands(case: Case, *, solved: bool, satisfaction: str, comment: str, user=None,
                      demand: Demand | None = None) -> int:
    """A resident's verdict on the case is also their rating (回访) of their own demands of it that are closed
    and waiting for one: the same two questions, asked once. "Not solved" reopens those demands to their unit,
    as any such rating does."""
    from gongzhi.demands import rules as demand_rules
    from gongzhi.demands import services as demands

    waiting = complainant_demands(case).filter(state=demand_rules.CLOSED)
    waiting = waiting.filter(pk=demand.pk) if demand is not None else waiting.filter(reporter_user_id=user.pk)
    rated = 0
    for own in waiting.order_by("id"):
        if demand is not None and not hasattr(own, "guest_tracking"):
            continue  # filed for a guest by the hotline: no 查询码, so no rating through one
        demands.rate(user, own, solved=solved, satisfaction=satisfaction, note=comment, guest=demand is not None)
        rated += 1
    return rated


# --- the residents' verdict ----------------------------------------------------------------------------------

def _require_asking(case: Case) -> None:
    if case.status != Case.Status.ASKING:
        raise Conflict(gettext_lazy("the residents are not being asked about this case now"), code="not_asking")
    if case.answers_due and clock.now() > case.answers_due:
        raise Conflict(gettext_lazy("the time to answer has ended"), code="answers_closed")


def may_answer(user, case: Case, demand: Demand | None = None) -> bool:
    if demand is not None:
        return demand.reporter_user_id is None and CaseDemand.objects.filter(case=case, demand=demand).exists()
    return is_follower(user, case)


def answer(case: Case, *, solved: bool, satisfaction: str, comment: str = "", user=None,
           demand: Demand | None = None) -> Verdict:
    """One resident's verdict: is the problem solved, and are they satisfied. A signed-in resident who raised
    it or supported the topic (`user`), or a guest through their demand's tracking code (`demand`, checked by
    the caller). Once; the tally is the project goal's value at once, and the round ends when everyone asked
    has answered (or the time runs out: `sweep`)."""
    if (user is None) == (demand is None):
        raise ValidationFailed(gettext_lazy("an answer comes from one resident"), code="invalid")
    if satisfaction not in Verdict.Satisfaction.values:
        raise ValidationFailed(gettext_lazy("choose satisfied, basically satisfied or not satisfied"),
                               code="invalid_satisfaction")
    if not isinstance(solved, bool):
        raise ValidationFailed(gettext_lazy("say whether the problem is solved"), code="invalid_solved")
    comment = clean_text(comment, "comment", max_length=MAX_COMMENT) if (comment or "").strip() else ""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _require_asking(case)
        if not may_answer(user, case, demand):
            raise PermissionDenied(gettext_lazy("only the residents who raised the problem or supported the topic "
                                                "answer"), code="not_a_follower")
        voice = {"user": user} if user is not None else {"demand": demand}
        if Verdict.objects.filter(case=case, round=case.verdict_round, **voice).exists():
            raise Conflict(gettext_lazy("you have answered already"), code="already_answered")
        verdict = Verdict.objects.create(case=case, round=case.verdict_round, solved=solved,
                                         satisfaction=satisfaction, comment=comment, at=clock.now(), **voice)
        events.record("cases.verdict", case, actor=user, round=case.verdict_round, solved=solved,
                      satisfaction=satisfaction, private={"comment": comment} if comment else None)
        _rate_own_demands(case, solved=solved, satisfaction=satisfaction, comment=comment, user=user, demand=demand)
        share = tally(case)["solved_share"]
        if case.project_id and share is not None:
            duties.record_verdict_share(case.project, share, note=_("residents' verdict so far"))
        users, guests = followers(case)
        if tally(case)["answers"] >= len(users) + len(guests):
            conclude(case)
    return verdict


def tally(case: Case, round: int | None = None) -> dict:  # noqa: A002 - `round` is the verdict round here
    import builtins

    rows = Verdict.objects.filter(case=case, round=round or case.verdict_round)
    round = builtins.round
    counts = rows.aggregate(answers=Count("pk"), solved=Count("pk", filter=Q(solved=True)),
                            satisfied=Count("pk", filter=Q(satisfaction__in=["satisfied", "basically_satisfied"])))
    answers = counts["answers"]
    return {**counts, "not_solved": answers - counts["solved"],
            "solved_share": round(100.0 * counts["solved"] / answers, 1) if answers else None,
            "satisfied_share": round(100.0 * counts["satisfied"] / answers, 1) if answers else None}


def conclude(case: Case) -> Case:
    """End the round of asking (in the caller's transaction, the case locked): solved when no more than
    GONGZHI_CASE_REOPEN_SHARE of those who answered say it is not; else the project is reopened for review."""
    counts = tally(case)
    now = clock.now()
    if counts["answers"] and counts["not_solved"] / counts["answers"] > reopen_share():
        reason = _("%(not_solved)s of %(answers)s residents who answered say the problem is not solved") % counts
        events.record("cases.conclude", case, round=case.verdict_round, outcome="review", **_figures(counts))
        duties.reopen_project(case.project, reason=reason)  # the case moves to review through its event
        case.refresh_from_db()
        return case
    events.record("cases.conclude", case, round=case.verdict_round, outcome="solved", **_figures(counts))
    _move(case, Case.Status.SOLVED, closed_at=now)
    tell(case, _("The case on the problem you raised is closed: %(solved)s of %(answers)s residents who answered "
                 "say it is solved.") % counts, anchor="verdict")
    return case


def _figures(counts: dict) -> dict:
    return {k: counts[k] for k in ("answers", "solved", "not_solved", "satisfied")}


def sweep(now: dt.datetime | None = None) -> int:
    """The worker's pass: end every round of asking whose time is up."""
    now = now or clock.now()
    ended = 0
    for pk in Case.objects.filter(status=Case.Status.ASKING, answers_due__lt=now).values_list("pk", flat=True):
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=pk)
            if case.status == Case.Status.ASKING:
                conclude(case)
                ended += 1
    return ended


# --- progress with photos -----------------------------------------------------------------------------------

def report_progress(user, case: Case, task: Task, *, note: str, photos: list[bytes] = (), done: bool = False):
    """The responsible unit reports progress on a milestone of the case's project, with photos of the work
    (checked and re-encoded without EXIF); with `done`, the milestone is completed."""
    if case.project_id is None or task.project_id != case.project_id:
        raise NotFound(gettext_lazy("no milestone %(pk)s in this case") % {"pk": task.pk})
    policy.require(user, "duties.report_progress", task)
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise demand_photos.PhotoRefused(gettext_lazy("at most %(max)s photos") % {"max": MAX_PHOTOS})
    processed = [demand_photos.process(content) for content in photos]
    stored = []
    try:
        with transaction.atomic():
            if done:
                task = duties.complete_task(user, task, quality_met=None, note=note)
                report = task.reports.order_by("-id").first()
            else:
                report = duties.report_progress(user, task=task, note=note)
            stored = demand_photos.store(processed, "cases/photos")
            ProgressPhoto.objects.bulk_create([
                ProgressPhoto(case=case, task=task, report=report, image=image, thumbnail=thumb, width=item.width,
                              height=item.height, sha256=item.sha256, uploaded_by=user, uploaded_at=clock.now())
                for item, (image, thumb) in zip(processed, stored)])
            events.record("cases.progress_photos", case, actor=user, task=task.pk, report=report.pk,
                          photos=[item.sha256 for item in processed], done=done)
    except Exception:
        demand_photos.delete_stored(stored)  # the rows were rolled back: their files go too
        raise
    return report


# --- indicators for the responsible unit and the region ---------------------------------------------------------

def _verdicts(start: dt.date, end: dt.date):
    return Verdict.objects.filter(at__date__gte=start, at__date__lte=end)


def _share(rows, field: str) -> float | None:
    counts = rows.aggregate(n=Count("pk"), yes=Count("pk", filter=Q(**{field: True}) if field == "solved" else
                                                      Q(satisfaction__in=["satisfied", "basically_satisfied"])))
    return round(100.0 * counts["yes"] / counts["n"], 1) if counts["n"] else None


def solved_share_for_unit(unit, start, end):
    return _share(_verdicts(start, end).filter(case__project__unit=unit), "solved")


def solved_share_for_region(region, start, end):
    return _share(_verdicts(start, end).filter(case__region__path__startswith=region.path), "solved")


def satisfaction_for_unit(unit, start, end):
    return _share(_verdicts(start, end).filter(case__project__unit=unit), "satisfaction")


def satisfaction_for_region(region, start, end):
    return _share(_verdicts(start, end).filter(case__region__path__startswith=region.path), "satisfaction")
