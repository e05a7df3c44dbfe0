"""deliberation pages for people (云协商 and formal decisions): the topic list, a topic's page with its
discussion and opinion map, a meeting's page (roll, attendance, live quorum, motions, ballots, minutes), a
motion's result with its published ballot list, and the disclosure board (公开栏).

Reading needs no sign-in and shows no personal data: no resident's or voter's name (counts and trackers
only) and free text through core.scrub; the roll's names are for officers ("deliberation.view_roll").
Acting needs sign-in: a view calls one use case in services; when it is refused, the page (or, for htmx,
the partial) comes back with the reason and the refusal's status, and nothing has changed.
"""

import datetime as dt
import math
import uuid
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gongzhi.core import clock, policy, ratelimit
from gongzhi.core.errors import DomainError, NotFound, ValidationFailed
from gongzhi.core.scrub import scrub
from gongzhi.core.pages import action, get_or_not_found, page, public, refusal, submit
from gongzhi.org.models import Person, Region
from gongzhi.org.queries import get_scoped

from . import collected, moderation, permissions, procedures, queries, services
from .forms import (AnswerForm, AttachmentForm, CalendarFilter, CollectOpinionForm, CommentForm, DisclosureFilter,
                    DisclosureForm, MeetingFilter, MinutesForm, MotionForm, ObjectionForm, ProcedureForm,
                    ProposeTopicForm, ReasonForm, ScheduleMeetingForm, StatementForm, TopicFilter, VoteForm,
                    ballot_choice)
from .models import (Attachment, Ballot, Body, Comment, Disclosure, Meeting, Motion, Objection, Report, RollEntry,
                     Statement, Topic, VoterMark)

TOPICS_PER_PAGE = 30
MEETINGS_LISTED = 20
DISCLOSURES_LISTED = 100
CHOICES_LISTED = 300  # regions or topics in a form's drop-down
QUORUM_POLL_SECONDS = 3
GROUP_LETTERS = "ABCDEFGHIJ"

# How each counting method is marked on a ballot form.
BALLOT_INPUT = {"yes_no": "radio", "plurality": "radio", "approval": "checkbox", "majority_seats": "checkbox",
                "irv": "rank", "schulze": "rank", "borda": "rank"}


def _yes_no() -> list[tuple[str, str]]:
    return [("yes", _("Yes")), ("no", _("No")), ("abstain", _("Abstain"))]


def _in_chinese() -> bool:
    return (get_language() or "").startswith("zh")












def _region_filter_choices():
    return Region.objects.filter(level__lt=Region.Level.GRID).defer("polygon").order_by("path")[:CHOICES_LISTED]


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _proposal_regions(user):
    """Where the user may propose: their own grid and community, and the places their posts cover."""
    home = permissions.home_path(user)
    within = Q(pk__in=_path_ids(home)) if home else Q(pk__in=[])
    for path in permissions.post_paths(user):
        within |= Q(path__startswith=path)
    return (Region.objects.filter(within, level__in=[Region.Level.COMMUNITY, Region.Level.GRID])
            .defer("polygon").order_by("path")[:CHOICES_LISTED])


def _officer_regions(user):
    """The communities and grids under the user's offices (where they may publish)."""
    within = Q(pk__in=[])
    for path in permissions.officer_paths(user):
        within |= Q(path__startswith=path)
    return (Region.objects.filter(within, level__in=[Region.Level.COMMUNITY, Region.Level.GRID])
            .defer("polygon").order_by("path")[:CHOICES_LISTED])


def _topic_url(topic_id: int, anchor: str = "") -> str:
    return reverse("deliberation:topic", args=[topic_id]) + (f"#{anchor}" if anchor else "")


def _meeting_url(meeting_id: int, anchor: str = "") -> str:
    return reverse("deliberation:meeting", args=[meeting_id]) + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------------------------------------
# Topic list


@public
def topics(request):
    return _topics_page(request)


def _topics_page(request, *, forms=None, error=None, status=200):
    user = request.user
    form = TopicFilter(request.GET or None, regions=_region_filter_choices())
    wanted = form.cleaned_data if form.is_valid() else {}
    listing = Paginator(queries.topics(region_id=wanted.get("region"), status=wanted.get("status") or None),
                        TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    meetings = Meeting.objects.select_related("body")
    if wanted.get("region"):
        region = Region.objects.filter(pk=wanted["region"]).first()
        meetings = meetings.filter(body__region__path__startswith=region.path) if region else meetings.none()
    proposal = (forms or {}).get("propose")
    if proposal is None and user.is_authenticated:
        proposal = ProposeTopicForm(regions=_proposal_regions(user))
    context = {"filter": form, "page_obj": listing, "meetings": meetings[:MEETINGS_LISTED],
               "propose_form": proposal, "error": refusal(error), "query": request.GET.urlencode()}
    return render(request, "deliberation/topics.html", context, status=status)


@action
def propose(request):
    ratelimit.check(request, "topic")
    form = ProposeTopicForm(request.POST, regions=_proposal_regions(request.user))

    def call(data):
        return services.propose_topic(request.user, region=get_or_not_found(Region, data["region"]), title=data["title"],
                                      description=data["description"])

    return submit(request, call, form=form, name="propose",
                   page=lambda **kw: _topics_page(request, **kw),
                   done=lambda topic: (_("Your topic is received. An officer checks it before it is published; "
                                         "you will see it here meanwhile.") if topic.status == Topic.Status.PENDING
                                       else _("Your topic has been proposed. Ask your neighbours to support it."),
                                       _topic_url(topic.pk)))


# ---------------------------------------------------------------------------------------------
# A topic's page


def _may(user, topic: Topic) -> dict:
    actions = ("support", "comment", "report", "state", "vote_statement", "moderate", "manage", "run_procedure")
    may = {name: policy.can(user, f"deliberation.{name}", topic) for name in actions}
    may["convene"] = policy.can(user, "deliberation.convene", topic.region)
    return may


def _evidence(evidence: dict) -> dict | None:
    """The insight evidence a topic carries, in words (sample texts scrubbed once more)."""
    if not evidence:
        return None
    chinese = _in_chinese()
    labels = {"category": _("Category"), "volume": _("Demands"), "reporters": _("Residents reporting"),
              "unresolved": _("Unresolved"), "heat": _("Heat"), "grid": _("Grid"), "observed": _("Observed"),
              "expected": _("Expected"), "ratio": _("Ratio to expected"), "since": _("Since"),
              "first_seen": _("First seen"), "last_seen": _("Last seen")}
    facts = [{"label": label, "value": evidence[key]} for key, label in labels.items()
             if evidence.get(key) not in (None, "", [])]
    if evidence.get("grids"):
        facts.append({"label": _("Grids"), "value": "、".join(str(g) for g in evidence["grids"])})
    explanation = evidence.get("explanation_zh" if chinese else "explanation_en") or ""
    return {"facts": facts, "explanation": explanation,
            "samples": [scrub(str(s)) for s in evidence.get("samples") or []]}


def _procedure(topic: Topic) -> dict | None:
    """The topic's stages with where it stands (done, next, still to come), its history and last return."""
    if not topic.procedure_definition:
        return None
    chinese = _in_chinese()
    procedure = services.topic_procedure(topic)
    state = procedures.follow(procedure, services.stage_history(topic))
    names = {s.code: s.name_zh if chinese else s.name_en for s in procedure.stages}
    next_code = state.next_stage.code if state.next_stage else None
    stages = [{"code": s.code, "name": names[s.code], "kind": s.kind.value, "notice_days": s.notice_days,
               "state": "done" if s.code in state.passed else "next" if s.code == next_code else "later"}
              for s in procedure.stages]
    preset = procedures.PROCEDURES.get(topic.procedure_code)
    last_return = state.last_return and {"from": names[state.last_return.from_stage],
                                         "to": names[state.last_return.to_stage],
                                         "reason": scrub(state.last_return.reason)}
    history = [{"record": r, "name": names.get(r.stage_code, r.stage_code), "reason": scrub(r.reason)}
               for r in topic.stages.order_by("sequence")]
    return {"name": (preset.name_zh if chinese else preset.name_en) if preset else topic.procedure_code,
            "stages": stages, "round": state.round, "is_complete": state.is_complete, "last_return": last_return,
            "history": history}


def _opinion_map(request, topic: Topic) -> dict:
    """services.opinion_map in page form: groups lettered A, B …, statement texts scrubbed, and the plot's
    data (anonymous points, no ids)."""
    result = services.opinion_map(topic)
    groups = sorted(result.get("group_sizes") or {}, key=lambda g: int(g))
    letters = {g: GROUP_LETTERS[i % len(GROUP_LETTERS)] for i, g in enumerate(groups)}
    representative = [
        {"label": letters[g], "size": result["group_sizes"][g],
         "statements": [{**s, "text": scrub(s["text"]), "agree": round(100 * s["agree"]),
                         "disagree": round(100 * s["disagree"])} for s in result["representative"].get(g, [])]}
        for g in groups]
    # The consensus holds statements most people agree with and ones most reject: show each with its counts.
    counts = {s.pk: s for s in queries.statements_with_counts(topic, include_rejected=False)}
    consensus = [{**c, "text": scrub(c["text"]), "agrees": getattr(counts.get(c["statement"]), "agrees", 0),
                  "disagrees": getattr(counts.get(c["statement"]), "disagrees", 0)}
                 for c in result.get("consensus") or []]
    mine = None
    if request.user.is_authenticated:
        group = services.participant_group(topic, request.user)
        mine = letters.get(str(group)) if group is not None else None
    plot = {
        "points": [{"x": p["x"], "y": p["y"], "group": letters.get(str(p["group"])) if p["group"] is not None
                    else None} for p in result.get("points") or []],
        "groups": [letters[g] for g in groups],
        "texts": {"group": _("Group"), "ungrouped": _("Not yet grouped"), "participant": _("participant")},
    }
    return {"n_participants": result.get("n_participants", 0), "n_clustered": result.get("n_clustered", 0),
            "k": result.get("k", 0), "representative": representative, "consensus": consensus, "mine": mine,
            "plot": plot, "has_points": bool(plot["points"])}


def _card(request, topic: Topic, *, notice=None, error=None) -> dict:
    """The "vote on statements" card: the statement to vote on next (services.next_statement)."""
    user = request.user
    may_vote = policy.can(user, "deliberation.vote_statement", topic)
    statement = services.next_statement(user, topic) if may_vote else None
    total = topic.statements.filter(status=Statement.Status.ACCEPTED).count()
    voted = (topic.statements.filter(status=Statement.Status.ACCEPTED, votes__participant=user).count()
             if user.is_authenticated else 0)
    return {"topic": topic, "statement": statement, "text": scrub(statement.text) if statement else "",
            "may_vote": may_vote, "signed_in": user.is_authenticated, "total": total, "voted": voted,
            "notice": notice, "error": refusal(error)}


def _statements(topic: Topic, may_moderate: bool) -> list[dict]:
    """Every statement with its counts; one moderated out shows its reason, its text only to moderators."""
    reports = dict(Report.objects.filter(statement__topic=topic).values_list("statement").annotate(n=Count("id")))
    rows = []
    for s in queries.statements_with_counts(topic):
        shown = s.status == Statement.Status.ACCEPTED or may_moderate
        rows.append({"id": s.pk, "status": s.status, "status_label": s.get_status_display(),
                     "text": scrub(s.text) if shown else "", "reason": s.moderation_reason, "agrees": s.agrees,
                     "disagrees": s.disagrees, "passes": s.passes, "reports": reports.get(s.pk, 0)})
    return rows


def _topic_context(request, topic: Topic, *, forms=None, error=None) -> dict:
    user = request.user
    may = _may(user, topic)
    chinese = _in_chinese()
    bodies = Body.objects.filter(Q(region=topic.region) | Q(region__in=topic.region.ancestors()))
    forms = {
        "comment": CommentForm(), "statement": StatementForm(), "attachment": AttachmentForm(),
        "procedure": ProcedureForm(procedures=procedures.PROCEDURES, chinese=chinese),
        "meeting": ScheduleMeetingForm(bodies=bodies, initial={"title": topic.title}),
        **(forms or {}),
    }
    comments = topic.comments.annotate(reports_count=Count("reports"))
    return {
        "topic": topic, "may": may, "forms": forms, "error": refusal(error),
        "evidence": _evidence(topic.evidence), "procedure": _procedure(topic),
        "support_percent": min(100, round(100 * topic.support_count / topic.support_threshold))
        if topic.support_threshold else 100,
        "attachments": topic.attachments.defer("content"),
        "comments": [{**queries.public_comment(c), "reports": c.reports_count} for c in comments],
        "card": _card(request, topic), "map": _opinion_map(request, topic),
        "statements": _statements(topic, may["moderate"]),
        "meetings": topic.meetings.select_related("body"), "motions": topic.motions.all(),
        "disclosures": topic.disclosures.all(),
        "collected": collected.counts(topic),
        "may_collect": bool(collected.collecting_stage(topic)) and policy.can(user, "deliberation.collect_opinion",
                                                                              topic),
        "may_report_topic": topic.is_public and user.is_authenticated and topic.proposer_id != user.pk
        and may["report"],
    }


def _topic_page(request, topic: Topic, *, forms=None, error=None, status=200):
    return render(request, "deliberation/topic.html", _topic_context(request, topic, forms=forms, error=error),
                  status=status)


@public
def topic(request, topic_id: int):
    return _topic_page(request, queries.visible_topic(request.user, topic_id))


def _topic_action(request, topic: Topic, call, notice: str, anchor: str, *, form=None, name=None):
    return submit(request, call, form=form, name=name,
                   page=lambda **kw: _topic_page(request, topic, **kw),
                   done=lambda _result: (notice, _topic_url(topic.pk, anchor)))


@action
def support(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)
    return _topic_action(request, topic, lambda _data: services.support_topic(request.user, topic),
                         _("Thank you: your support is counted."), "support")


@action
def add_comment(request, topic_id: int):
    ratelimit.check(request, "comment")
    topic = queries.visible_topic(request.user, topic_id)
    return _topic_action(request, topic, lambda data: services.add_comment(request.user, topic, data["text"]),
                         _("Your comment is posted."), "comments", form=CommentForm(request.POST), name="comment")


@action
def report_comment(request, comment_id: int):
    ratelimit.check(request, "report")
    comment = get_or_not_found(Comment, comment_id)
    return _topic_action(request, comment.topic,
                         lambda data: moderation.report_comment(request.user, comment, data["reason"]),
                         _("Thank you: the moderators will look at the comment."), f"comment-{comment.pk}",
                         form=ReasonForm(request.POST), name=f"report-comment-{comment.pk}")


@action
def hide_comment(request, comment_id: int):
    comment = get_or_not_found(Comment, comment_id)
    return _topic_action(request, comment.topic,
                         lambda data: services.hide_comment(request.user, comment, data["reason"]),
                         _("The comment is hidden; its place shows your reason."), f"comment-{comment.pk}",
                         form=ReasonForm(request.POST), name=f"hide-comment-{comment.pk}")


@action
def add_attachment(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)

    def call(data):
        upload = data["file"]
        # One byte past the limit is enough for the use case to refuse a file that is too large.
        return services.add_attachment(request.user, topic, name=upload.name,
                                       content=upload.read(services.MAX_ATTACHMENT_BYTES + 1),
                                       content_type=upload.content_type or "")

    return _topic_action(request, topic, call, _("The file is attached."), "attachments",
                         form=AttachmentForm(request.POST, request.FILES), name="attachment")


@public
def attachment(request, attachment_id: int):
    """A topic's document, downloaded as a file (never shown inline)."""
    found = get_or_not_found(Attachment, attachment_id)
    response = HttpResponse(bytes(found.content), content_type=found.content_type)
    response["Content-Disposition"] = _content_disposition(found.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


@action
def start_procedure(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)
    form = ProcedureForm(request.POST, procedures=procedures.PROCEDURES, chinese=_in_chinese())
    return _topic_action(request, topic, lambda data: services.start_procedure(request.user, topic, data["procedure"]),
                         _("The procedure has started."), "procedure", form=form, name="procedure")


@action
def schedule_meeting(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)
    bodies = Body.objects.filter(Q(region=topic.region) | Q(region__in=topic.region.ancestors()))
    form = ScheduleMeetingForm(request.POST, bodies=bodies)

    def call(data):
        return services.schedule_meeting(request.user, data["body"], title=data["title"], agenda=data["agenda"],
                                         starts_at=data["starts_at"], place=data["place"], topic=topic)

    return submit(request, call, form=form, name="meeting", page=lambda **kw: _topic_page(request, topic, **kw),
                   done=lambda meeting: (_("The meeting is called; notice has been given."), _meeting_url(meeting.pk)))


@action
def draft_resolution(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)
    return _topic_action(request, topic, lambda _data: services.draft_resolution_from_consensus(request.user, topic),
                         _("The consensus statements are now the draft resolution."), "draft")


# --- the opinion map ---------------------------------------------------------------------------


@action
def add_statement(request, topic_id: int):
    ratelimit.check(request, "statement")
    topic = queries.visible_topic(request.user, topic_id)
    return _topic_action(request, topic, lambda data: services.add_statement(request.user, topic, data["text"]),
                         _("Your statement is added; others can now vote on it."), "opinion-map",
                         form=StatementForm(request.POST), name="statement")


@action
def vote_statement(request, statement_id: int):
    """Agree / disagree / pass. htmx gets the card with the next statement (and an event that refreshes the
    map); a plain form goes back to the topic's page."""
    ratelimit.check(request, "statement_vote")
    statement = get_or_not_found(Statement, statement_id)
    topic = statement.topic
    form = VoteForm(request.POST)
    notice, error, status = None, None, 200
    if not form.is_valid():
        error, status = _("Choose agree, disagree or pass."), 400
    else:
        try:
            services.vote_statement(request.user, statement, form.cleaned_data["vote"])
        except DomainError as refused:
            error, status = refused, refused.status
        else:
            notice = _("Your vote is counted.")
    if request.htmx:
        response = render(request, "deliberation/_vote_card.html",
                          {"card": _card(request, topic, notice=notice, error=error)}, status=status)
        if notice:
            response["HX-Trigger"] = "statement-voted"
        return response
    if error:
        return _topic_page(request, topic, error=error, status=status)
    messages.success(request, notice)
    return redirect(_topic_url(topic.pk, "vote"))


@public
def opinion_map(request, topic_id: int):
    """The map section alone (htmx refreshes it after each vote)."""
    topic = queries.visible_topic(request.user, topic_id)
    return render(request, "deliberation/_opinion_map.html", {"topic": topic, "map": _opinion_map(request, topic)})


@action
def moderate_statement(request, statement_id: int):
    statement = get_or_not_found(Statement, statement_id)
    accept = request.POST.get("accept") == "1"
    form = ReasonForm(request.POST)
    if accept:
        form = None  # restoring a statement needs no reason

    def call(data):
        return services.moderate_statement(request.user, statement, accept=accept,
                                           reason=data["reason"] if data else "")

    notice = _("The statement is back in the map.") if accept else _("The statement is taken out, with your reason.")
    return _topic_action(request, statement.topic, call, notice, f"statement-{statement.pk}", form=form,
                         name=f"moderate-{statement.pk}")


@action
def report_statement(request, statement_id: int):
    ratelimit.check(request, "report")
    statement = get_or_not_found(Statement, statement_id)
    return _topic_action(request, statement.topic,
                         lambda data: services.report(request.user, statement=statement, reason=data["reason"]),
                         _("Thank you: the moderators will look at the statement."), "vote",
                         form=ReasonForm(request.POST), name=f"report-statement-{statement.pk}")


# ---------------------------------------------------------------------------------------------
# A meeting's page


def _quorum(meeting: Meeting) -> dict | None:
    figures = queries.quorum_out(meeting)
    if figures is None:
        return None
    return {**figures, "explanation": figures["explanation_zh"] if _in_chinese() else figures["explanation_en"]}


def _choice_text(motion: Motion, choice) -> str:
    """A stored choice in words: yes / no / abstain, one option, or options in order (ranked: 1 > 2 > 3)."""
    if motion.method == "yes_no":
        return dict(_yes_no()).get(choice, str(choice))
    if isinstance(choice, list):
        joiner = " > " if BALLOT_INPUT[motion.method] == "rank" else "、"
        return joiner.join(str(c) for c in choice) or _("(nothing marked)")
    return str(choice)


def _result(motion: Motion) -> dict | None:
    """A closed motion's result for the page: the tally (per round for methods that count in rounds), whether
    it passed, and the rule's explanation in the current language."""
    if motion.status != Motion.Status.CLOSED:
        return None
    result = motion.result or {}
    tally = result.get("tally") or {}
    explanation = (result.get("explanation") or {}).get("zh" if _in_chinese() else "en", "")
    out = {"passed": motion.is_passed, "explanation": explanation, "ballots": result.get("ballots", 0),
           "due": result.get("due"), "present": result.get("present")}
    if motion.method == "yes_no":
        out["yes_no"] = [{"label": label, "count": tally.get(key, 0)} for key, label in _yes_no()]
        return out
    rounds = tally.get("rounds") or []
    winners = tally.get("winners") or []
    out["winners"] = winners
    out["rounds"] = list(range(1, len(rounds) + 1))
    out["table"] = [{"option": option, "elected": option in winners,
                     "counts": [r.get("tally", {}).get(option, "—") for r in rounds]} for option in motion.options]
    out["unfilled_seats"] = tally.get("unfilled_seats")
    return out


def _motion_context(request, motion: Motion, *, person=None, entry=None, can_convene=False, receipt=None,
                    error=None, forms=None) -> dict:
    """One motion on the meeting's page: its ballot form for a member, its controls for the secretary."""
    has_voted = person is not None and VoterMark.objects.filter(motion=motion, person=person).exists()
    context = {
        "motion": motion, "input": BALLOT_INPUT[motion.method], "yes_no": _yes_no(),
        "options": list(enumerate(motion.options)), "ranks": range(1, len(motion.options) + 1),
        "entry": entry, "has_voted": has_voted, "receipt": receipt, "error": refusal(error),
        "ballots_cast": motion.ballots.count(), "result": _result(motion), "can_convene": can_convene,
        "seats": motion.seats,
    }
    if can_convene and motion.status == Motion.Status.OPEN:
        context["paper"] = services.paper_ballots(request.user, motion)
    return context


def _stage_choices(meeting: Meeting) -> list[tuple[str, str]]:
    """The meeting stages of the meeting's topic's procedure, for a motion that decides one of them."""
    if not (meeting.topic_id and meeting.topic.procedure_definition):
        return []
    chinese = _in_chinese()
    return [(s.code, s.name_zh if chinese else s.name_en) for s in services.topic_procedure(meeting.topic).stages
            if s.kind == procedures.StageKind.MEETING]


def _roll(request, meeting: Meeting) -> list[dict]:
    return [{**queries.roll_entry_out(e), "recorded_by_me": e.recorded_by_id == request.user.pk}
            for e in meeting.roll.select_related("person")]


def _meeting_context(request, meeting: Meeting, *, forms=None, error=None, receipts=None) -> dict:
    user = request.user
    region = meeting.body.region
    can_convene = policy.can(user, "deliberation.convene", region)
    person = Person.objects.filter(user=user).first() if user.is_authenticated else None
    entry = RollEntry.objects.filter(meeting=meeting, person=person).first() if person else None
    roll = _roll(request, meeting) if policy.can(user, "deliberation.view_roll", region) else None
    forms = {"motion": MotionForm(stages=_stage_choices(meeting)), "minutes": MinutesForm(), **(forms or {})}
    motions = [_motion_context(request, m, person=person, entry=entry, can_convene=can_convene,
                               receipt=(receipts or {}).get(m.pk)) for m in meeting.motions.all()]
    return {
        "meeting": meeting, "body": meeting.body, "quorum": _quorum(meeting), "poll_seconds": QUORUM_POLL_SECONDS,
        "can_convene": can_convene, "roll": roll, "entry": entry,
        "awaiting": [r for r in roll or [] if r["awaiting_confirmation"]],
        "motions": motions, "forms": forms, "error": refusal(error),
    }


def _meeting_page(request, meeting: Meeting, *, forms=None, error=None, receipts=None, status=200):
    context = _meeting_context(request, meeting, forms=forms, error=error, receipts=receipts)
    return render(request, "deliberation/meeting.html", context, status=status)


@public
def meeting(request, meeting_id: int):
    return _meeting_page(request, get_or_not_found(Meeting, meeting_id))


@public
def quorum(request, meeting_id: int):
    """The live quorum box alone (htmx polls it while the meeting is in session)."""
    found = get_or_not_found(Meeting, meeting_id)
    return render(request, "deliberation/_quorum.html",
                  {"meeting": found, "quorum": _quorum(found), "poll_seconds": QUORUM_POLL_SECONDS})


def _meeting_action(request, found: Meeting, call, notice: str, anchor: str = "", *, form=None, name=None):
    return submit(request, call, form=form, name=name,
                   page=lambda **kw: _meeting_page(request, found, **kw),
                   done=lambda _result: (notice, _meeting_url(found.pk, anchor)))


@action
def open_meeting(request, meeting_id: int):
    found = get_or_not_found(Meeting, meeting_id)
    return _meeting_action(request, found, lambda _data: services.open_meeting(request.user, found),
                           _("The meeting is open; its roll is fixed."), "roll")


@action
def sign_in(request, meeting_id: int):
    found = get_or_not_found(Meeting, meeting_id)
    return _meeting_action(request, found, lambda _data: services.sign_in(request.user, found),
                           _("You are signed in. You can vote on the motions below."), "motions")


@action
def record_attendance(request, meeting_id: int):
    found = get_or_not_found(Meeting, meeting_id)
    person = get_or_not_found(Person, request.POST.get("person") if (request.POST.get("person") or "").isdigit() else 0)
    return _meeting_action(request, found, lambda _data: services.record_attendance(request.user, found, person),
                           _("Recorded present. A second officer must confirm it before it counts."), "roll")


@action
def confirm_attendance(request, entry_id: int):
    entry = get_or_not_found(RollEntry, entry_id)
    return _meeting_action(request, entry.meeting, lambda _data: services.confirm_attendance(request.user, entry),
                           _("Attendance confirmed; it now counts."), "roll")


@action
def open_motion(request, meeting_id: int):
    found = get_or_not_found(Meeting, meeting_id)
    form = MotionForm(request.POST, stages=_stage_choices(found))

    def call(data):
        return services.open_motion(request.user, found, text=data["text"], method=data["method"],
                                    options=form.option_list(), seats=data["seats"], secret=data["secret"],
                                    stage_code=data["stage_code"])

    return _meeting_action(request, found, call, _("The motion is open for voting."), "motions", form=form,
                           name="motion")


@action
def cast_ballot(request, motion_id: int):
    """A member votes. The answer shows the tracker and nonce once: the voter keeps them to find the ballot in
    the published list (htmx: the motion's box; a plain form: the meeting's page)."""
    motion = get_or_not_found(Motion, motion_id)
    receipt, error, status = None, None, 201
    try:
        choice = ballot_choice(motion.method, motion.options, request.POST)
        cast = services.cast_ballot(request.user, motion, choice)
    except DomainError as refused:
        error, status = refused, refused.status
    else:
        receipt = {"tracker": cast.tracker, "nonce": cast.nonce, "choice": _choice_text(motion, choice)}
    found = motion.meeting
    if request.htmx:
        person = Person.objects.filter(user=request.user).first()
        entry = RollEntry.objects.filter(meeting=found, person=person).first() if person else None
        context = _motion_context(request, motion, person=person, entry=entry,
                                  can_convene=policy.can(request.user, "deliberation.convene", found.body.region),
                                  receipt=receipt, error=error)
        return render(request, "deliberation/_motion.html", {"m": context, "meeting": found}, status=status)
    return _meeting_page(request, found, error=error, receipts={motion.pk: receipt} if receipt else None,
                         status=status)


@action
def close_motion(request, motion_id: int):
    motion = get_or_not_found(Motion, motion_id)
    return _meeting_action(request, motion.meeting, lambda _data: services.close_motion(request.user, motion),
                           _("Voting is closed and counted; the ballot list is published."), f"motion-{motion.pk}")


@action
def close_meeting(request, meeting_id: int):
    found = get_or_not_found(Meeting, meeting_id)
    return _meeting_action(request, found,
                           lambda data: services.close_meeting(request.user, found, minutes=data["minutes"]),
                           _("The meeting is closed and its minutes are recorded."), "", form=MinutesForm(request.POST),
                           name="minutes")


# ---------------------------------------------------------------------------------------------
# Paper ballots: the paper roll (who handed one in) and the ballot box (what the ballots say), two pages


def _paper_url(name: str, motion_id: int) -> str:
    return reverse(f"deliberation:{name}", args=[motion_id])


def _paper_context(request, motion: Motion) -> dict:
    box = services.paper_ballots(request.user, motion)
    return {"motion": motion, "meeting": motion.meeting, "box": box,
            # Numbered in the page's order (第 1 张 …): no raw ids for officials; the forms still post the id.
            "awaiting": [{"ballot": b, "number": number, "choice": _choice_text(motion, choice),
                          "entered_by_me": b.entered_by_id == request.user.pk}
                         for number, (b, choice) in enumerate(box.awaiting, start=1)]}


def _paper_roll_page(request, motion: Motion, *, forms=None, error=None, status=200):
    context = {**_paper_context(request, motion), "error": refusal(error),
               "roll": services.paper_roll(request.user, motion)}
    return render(request, "deliberation/paper_roll.html", context, status=status)


def _ballot_box_page(request, motion: Motion, *, forms=None, error=None, status=200):
    context = _paper_context(request, motion)
    voters = [] if motion.is_secret else [p for p, voted in services.paper_roll(request.user, motion) if not voted]
    m = {"motion": motion, "input": BALLOT_INPUT[motion.method], "yes_no": _yes_no(),
         "options": list(enumerate(motion.options)), "ranks": range(1, len(motion.options) + 1), "seats": motion.seats}
    context.update({"error": refusal(error), "voters": voters, "m": m})
    return render(request, "deliberation/ballot_box.html", context, status=status)


@page
def paper_roll(request, motion_id: int):
    """Secret vote, step one (for the meeting's officers): mark on the roll who handed in a paper ballot."""
    return _paper_roll_page(request, get_or_not_found(Motion, motion_id))


@page
def ballot_box(request, motion_id: int):
    """Paper ballots, entered from the box by one officer and confirmed by another."""
    return _ballot_box_page(request, get_or_not_found(Motion, motion_id))


@action
def mark_paper_ballot(request, motion_id: int):
    motion = get_or_not_found(Motion, motion_id)
    person_id = request.POST.get("person", "")

    def call(_data):
        person = get_or_not_found(Person, person_id if person_id.isdigit() else 0)
        return services.mark_paper_ballot(request.user, motion, person)

    return submit(request, call, page=lambda **kw: _paper_roll_page(request, motion, **kw),
                  done=lambda _mark: (_("Marked on the roll as having handed in a paper ballot."),
                                      _paper_url("paper_roll", motion.pk)))


@action
def enter_paper_ballot(request, motion_id: int):
    motion = get_or_not_found(Motion, motion_id)
    voter_id = request.POST.get("voter", "")

    def call(_data):
        voter = get_or_not_found(Person, voter_id) if voter_id.isdigit() else None
        return services.enter_paper_ballot(request.user, motion, ballot_choice(motion.method, motion.options,
                                                                                request.POST), voter=voter)

    return submit(request, call, page=lambda **kw: _ballot_box_page(request, motion, **kw),
                  done=lambda _ballot: (_("Paper ballot entered. A second officer must confirm it before it counts."),
                                        _paper_url("ballot_box", motion.pk)))


@action
def confirm_paper_ballot(request, ballot_id: str):
    try:
        ballot = Ballot.objects.filter(pk=uuid.UUID(ballot_id)).select_related("motion__meeting").first()
    except ValueError:
        ballot = None
    if ballot is None:
        raise NotFound(_("ballot %(ballot_id)s") % {"ballot_id": ballot_id})
    motion = ballot.motion
    return submit(request, lambda _data: services.confirm_paper_ballot(request.user, ballot),
                  page=lambda **kw: _ballot_box_page(request, motion, **kw),
                  done=lambda _ballot: (_("Paper ballot confirmed; it now counts."), _paper_url("ballot_box", motion.pk)))


# ---------------------------------------------------------------------------------------------
# A motion's result


@public
def motion(request, motion_id: int):
    """The result with the rule's explanation and, once voting closed, the published ballot list (tracker and
    choice, no voter) that anyone can recount."""
    found = get_or_not_found(Motion, motion_id)
    published = services.published_ballots(found) if found.status == Motion.Status.CLOSED else None
    context = {
        "motion": found, "meeting": found.meeting, "result": _result(found), "ballots_cast": found.ballots.count(),
        "published": [{"tracker": row["tracker"], "choice": _choice_text(found, row["choice"])}
                      for row in published] if published is not None else None,
        "recount_url": reverse("api-v1:recount", args=[found.pk]),
        "ballots_url": reverse("api-v1:published_ballots", args=[found.pk]),
    }
    return render(request, "deliberation/motion.html", context)


# ---------------------------------------------------------------------------------------------
# The disclosure board


def _disclosures_page(request, *, forms=None, error=None, status=200):
    user = request.user
    regions = _region_filter_choices()
    form = DisclosureFilter(request.GET or None, regions=regions)
    wanted = form.cleaned_data if form.is_valid() else {}
    rows = queries.disclosures(region_id=wanted.get("region"))
    if wanted.get("kind"):
        rows = rows.filter(kind=wanted["kind"])
    now = clock.now()
    forms = forms or {}
    items = []
    for item in rows[:DISCLOSURES_LISTED]:
        seconds = (item.notice_ends_at - now).total_seconds()
        is_open = item.status == Disclosure.Status.IN_NOTICE and seconds > 0
        items.append({
            "item": item, "is_open": is_open, "days_left": math.ceil(seconds / 86400) if is_open else 0,
            "objections": [{"id": o.pk, "text": scrub(o.text), "filed_at": o.filed_at, "answer": scrub(o.answer),
                            "answered_at": o.answered_at,
                            "form": forms.get(f"answer-{o.pk}") or AnswerForm(prefix=f"answer-{o.pk}")}
                           for o in item.objections.all()],
            "may_object": is_open and policy.can(user, "deliberation.object", item.region),
            "may_answer": policy.can(user, "deliberation.answer", item.region),
            "objection_form": forms.get(f"object-{item.pk}") or ObjectionForm(prefix=f"object-{item.pk}"),
        })
    publish_form = forms.get("publish")
    if publish_form is None and policy.can(user, "deliberation.publish"):
        publish_form = _publish_form(user)
    context = {"filter": form, "items": items, "publish_form": publish_form, "error": refusal(error),
               "signed_in": user.is_authenticated}
    return render(request, "deliberation/disclosures.html", context, status=status)


def _publish_form(user, data=None):
    regions = list(_officer_regions(user))
    topics = (Topic.objects.filter(Topic.public_q(), region__in=regions).exclude(status=Topic.Status.WITHDRAWN)
              [:CHOICES_LISTED])
    return DisclosureForm(data, regions=regions, topics=Topic.objects.filter(pk__in=[t.pk for t in topics]))


@public
def disclosures(request):
    return _disclosures_page(request)


@action
def publish(request):
    form = _publish_form(request.user, request.POST)

    def call(data):
        return services.publish(request.user, region=get_or_not_found(Region, data["region"]), kind=data["kind"],
                                title=data["title"], body=data["body"], notice_days=data["notice_days"],
                                topic=data["topic"])

    return submit(request, call, form=form, name="publish", page=lambda **kw: _disclosures_page(request, **kw),
                   done=lambda item: (_("The notice is published; its notice period has started."),
                                      reverse("deliberation:disclosures") + f"#disclosure-{item.pk}"))


@action
def file_objection(request, disclosure_id: int):
    ratelimit.check(request, "objection")
    item = get_or_not_found(Disclosure, disclosure_id)
    form = ObjectionForm(request.POST, prefix=f"object-{item.pk}")
    return submit(request, lambda data: services.file_objection(request.user, item, data["text"]), form=form,
                   name=f"object-{item.pk}", page=lambda **kw: _disclosures_page(request, **kw),
                   done=lambda _o: (_("Your objection is filed. It must be answered before the notice completes."),
                                    reverse("deliberation:disclosures") + f"#disclosure-{item.pk}"))


@action
def answer_objection(request, objection_id: int):
    objection = get_or_not_found(Objection, objection_id)
    form = AnswerForm(request.POST, prefix=f"answer-{objection.pk}")
    return submit(request, lambda data: services.answer_objection(request.user, objection, data["answer"]),
                   form=form, name=f"answer-{objection.pk}", page=lambda **kw: _disclosures_page(request, **kw),
                   done=lambda _o: (_("Your answer is published."),
                                    reverse("deliberation:disclosures") + f"#disclosure-{objection.disclosure_id}"))


# ---------------------------------------------------------------------------------------------
# The meetings index: a list per body (upcoming, in session, closed) and a month calendar

MEETINGS_PER_PAGE = 30


def _bodies():
    return Body.objects.select_related("region").order_by("region__path", "kind", "name")


@public
def meetings(request):
    """Every body's meetings, filtered by body and state; `?mine=1&day=` lists the signed-in user's meetings of a
    day and `?voting=1` those with a vote waiting for them (the home page's links)."""
    user = request.user
    form = MeetingFilter(request.GET or None, bodies=_bodies())
    if request.GET and not form.is_valid():
        raise ValidationFailed(_("Check the filters: %(fields)s") % {"fields": "、".join(form.errors)})
    wanted = form.cleaned_data if form.is_bound else {}
    body, state, day = wanted.get("body"), wanted.get("state") or None, wanted.get("day")
    ids = None
    if wanted.get("mine"):
        ids = queries.my_meetings_on(user, day or clock.today()) if user.is_authenticated else []
    elif wanted.get("voting"):
        ids = list(queries.motions_awaiting_my_vote(user).values_list("meeting_id", flat=True))
    since, until = queries.day_bounds(day) if day else (None, None)
    rows = queries.meetings(body_id=body.pk if body else None, state=state, since=since, until=until, ids=ids)
    listing = Paginator(rows.prefetch_related("motions"), MEETINGS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"filter": form, "page_obj": listing, "rows": [queries.meeting_summary(m) for m in listing],
               "body": body, "state": state, "day": day, "mine": wanted.get("mine"), "voting": wanted.get("voting"),
               "states": MeetingFilter.STATES[1:], "query": request.GET.urlencode(), "today": clock.today(),
               "month": (day or clock.today()).strftime("%Y-%m")}
    return render(request, "deliberation/meetings.html", context)


@public
def meetings_calendar(request):
    """One month of meetings (all bodies, or one), Monday first, each linking to its page."""
    form = CalendarFilter(request.GET or None, bodies=_bodies())
    if request.GET and not form.is_valid():
        raise ValidationFailed(_("Check the filters: %(fields)s") % {"fields": "、".join(form.errors)})
    wanted = form.cleaned_data if form.is_bound else {}
    body = wanted.get("body")
    today = clock.today()
    year, month = (int(p) for p in wanted["month"].split("-")) if wanted.get("month") else (today.year, today.month)
    first = dt.date(year, month, 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    since, _end = queries.day_bounds(first)
    until, _end = queries.day_bounds(following)
    rows = list(queries.meetings(body_id=body.pk if body else None, since=since, until=until))
    body_query = f"&body={body.pk}" if body else ""
    context = {"filter": form, "weeks": queries.month_grid(year, month, rows), "first": first, "today": today,
               "count": len(rows), "body": body,
               "previous_url": f"?month={previous:%Y-%m}{body_query}", "next_url": f"?month={following:%Y-%m}{body_query}",
               "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]}
    return render(request, "deliberation/calendar.html", context)


# ---------------------------------------------------------------------------------------------
# Moderation: held proposals, topics and comments hidden after reports (officers)


def _moderation_page(request, *, forms=None, error=None, status=200):
    user = request.user
    policy.require(user, "deliberation.moderate")
    forms = forms or {}
    context = {
        "pending": [{"topic": t, "form": forms.get(f"reject-{t.pk}") or ReasonForm(prefix=f"reject-{t.pk}")}
                    for t in moderation.awaiting_moderation(user)],
        "hidden_topics": [{"topic": t, "reports": _report_reasons(t.reports.all()),
                           "form": forms.get(f"remove-{t.pk}") or ReasonForm(prefix=f"remove-{t.pk}")}
                          for t in moderation.hidden_topics(user)],
        "hidden_comments": [{"comment": c, "text": scrub(c.text), "reports": _report_reasons(c.reports.all()),
                             "form": forms.get(f"remove-comment-{c.pk}") or ReasonForm(prefix=f"remove-comment-{c.pk}")}
                            for c in moderation.hidden_comments(user)],
        "threshold": moderation.reports_to_hide(), "error": refusal(error),
    }
    return render(request, "deliberation/moderation.html", context, status=status)


def _report_reasons(reports) -> list[str]:
    return [scrub(r.reason) for r in reports]


@page
def moderation_queue(request):
    return _moderation_page(request)


def _moderation_action(request, call, notice: str, *, form=None, name=None):
    return submit(request, call, form=form, name=name, page=lambda **kw: _moderation_page(request, **kw),
                  done=lambda _result: (notice, reverse("deliberation:moderation")))


@action
def approve_topic(request, topic_id: int):
    topic = get_or_not_found(Topic, topic_id)
    return _moderation_action(request, lambda _data: moderation.approve_topic(request.user, topic),
                              _("The topic is published."))


@action
def reject_topic(request, topic_id: int):
    topic = get_or_not_found(Topic, topic_id)
    return _moderation_action(request, lambda data: moderation.reject_topic(request.user, topic, data["reason"]),
                              _("The topic is not published; the proposer sees your reason."),
                              form=ReasonForm(request.POST, prefix=f"reject-{topic.pk}"), name=f"reject-{topic.pk}")


@action
def restore_topic(request, topic_id: int):
    topic = get_or_not_found(Topic, topic_id)
    return _moderation_action(request, lambda _data: moderation.restore_topic(request.user, topic),
                              _("The topic is shown again."))


@action
def remove_topic(request, topic_id: int):
    topic = get_or_not_found(Topic, topic_id)
    return _moderation_action(request, lambda data: moderation.remove_topic(request.user, topic, data["reason"]),
                              _("The topic is removed, with your reason."),
                              form=ReasonForm(request.POST, prefix=f"remove-{topic.pk}"), name=f"remove-{topic.pk}")


@action
def restore_comment(request, comment_id: int):
    comment = get_or_not_found(Comment, comment_id)
    return _moderation_action(request, lambda _data: moderation.restore_comment(request.user, comment),
                              _("The comment is shown again."))


@action
def remove_comment(request, comment_id: int):
    comment = get_or_not_found(Comment, comment_id)
    return _moderation_action(request, lambda data: moderation.remove_comment(request.user, comment, data["reason"]),
                              _("The comment stays hidden, with your reason."),
                              form=ReasonForm(request.POST, prefix=f"remove-comment-{comment.pk}"),
                              name=f"remove-comment-{comment.pk}")


@action
def report_topic(request, topic_id: int):
    ratelimit.check(request, "report")
    topic = queries.visible_topic(request.user, topic_id)
    return _topic_action(request, topic, lambda data: moderation.report_topic(request.user, topic, data["reason"]),
                         _("Thank you: the moderators will look at the topic."), "report",
                         form=ReasonForm(request.POST, prefix="report-topic"), name="report-topic")


# ---------------------------------------------------------------------------------------------
# Opinions a building lead collects door to door (楼栋长代收)


def _collect_page(request, topic: Topic, *, forms=None, error=None, status=200):
    policy.require(request.user, "deliberation.collect_opinion", topic)
    residents = collected.building_residents(request.user, topic)
    stage = collected.collecting_stage(topic)
    chinese = _in_chinese()
    context = {"topic": topic, "residents": residents, "counts": collected.counts(topic), "error": refusal(error),
               "minors": collected.minors_left_out(request.user),
               "stage": (stage.name_zh if chinese else stage.name_en) if stage else None,
               "form": (forms or {}).get("collect") or CollectOpinionForm(residents=residents)}
    return render(request, "deliberation/collect.html", context, status=status)


@page
def collect_index(request):
    """The building lead's list: topics whose current stage seeks the opinions of their building."""
    policy.require(request.user, "deliberation.collect_opinion")
    rows = [{"topic": t, "counts": collected.counts(t)} for t in collected.topics_seeking_opinions(request.user)]
    return render(request, "deliberation/collect_index.html", {"rows": rows})


@page
def collect_opinions(request, topic_id: int):
    return _collect_page(request, queries.visible_topic(request.user, topic_id))


@action
def record_collected_opinion(request, topic_id: int):
    topic = queries.visible_topic(request.user, topic_id)
    residents = collected.building_residents(request.user, topic)
    form = CollectOpinionForm(request.POST, residents=residents)

    def call(data):
        person = get_scoped(request.user, Person, data["person"])
        return collected.record_collected_opinion(request.user, topic, person, stance=data["stance"],
                                                  text=data["text"], signed=data["signed"])

    return submit(request, call, form=form, name="collect", page=lambda **kw: _collect_page(request, topic, **kw),
                  done=lambda _row: (_("The opinion is recorded."),
                                     reverse("deliberation:collect_opinions", args=[topic.pk])))
