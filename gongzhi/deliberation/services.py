"""Deliberation use cases: one function per act, each checking can(), running in one transaction and
recording its event (which the ledger logs). The rules themselves are in rules.py (quorum and
thresholds), voting.py (counting), procedures.py (stage order) and opinions.py (the opinion map)."""

import base64
import datetime as dt
import hashlib
import json
import random
import secrets
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from django.db.models import Exists, F, OuterRef, Q

from gongzhi.core import canonical, clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.i18n import bilingual, gettext_lazy, join_lazy
from gongzhi.core.scrub import scrub
from gongzhi.core.text import clean_optional_text, clean_public_text
from gongzhi.org.models import Organisation, Person, Post, Region

from . import opinions, procedures, rules, voting
from .models import (Attachment, Ballot, Body, BodyMember, Comment, Disclosure, Meeting, Motion, Objection,
                     OpinionMapSnapshot, Report, RollEntry, StageRecord, Statement, StatementVote, Support, Topic,
                     VoterMark)

# Support a resident's proposal needs before it goes on the agenda (附议数), unless the topic says otherwise.
DEFAULT_SUPPORT_THRESHOLD = int(getattr(settings, "GONGZHI_TOPIC_SUPPORT_THRESHOLD", 10))
# Notice before a meeting (days). Local rules vary; these defaults are configurable per deployment.
NOTICE_DAYS = {"villagers_meeting": 7, "residents_meeting": 7, "household_representatives_meeting": 7,
               "villagers_representatives_meeting": 3, "residents_representatives_meeting": 3}
DEFAULT_NOTICE_DAYS = 1
# A meeting may open this long before its announced start (people gather early).
OPEN_EARLY = dt.timedelta(minutes=30)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

POST_ROLES_IN_COMMITTEE = frozenset({Post.Role.SECRETARY, Post.Role.DEPUTY_SECRETARY, Post.Role.DIRECTOR,
                                     Post.Role.DEPUTY_DIRECTOR, Post.Role.MEMBER})
PARTY_COMMITTEE_KINDS = frozenset({"party_committee", "party_general_branch", "party_branch"})
HEAD_OF_HOUSEHOLD = frozenset({"户主", "本人", "head", "self"})


def _person_of(user) -> Person:
    person = Person.objects.filter(user=user).first() if getattr(user, "is_authenticated", False) else None
    if person is None:
        raise PermissionDenied(gettext_lazy("your account is not linked to a person in the register"), code="no_person")
    return person


def _get_locked(model, pk):
    try:
        return model.objects.select_for_update().get(pk=pk)
    except model.DoesNotExist:
        raise NotFound(gettext_lazy("%(verbose_name)s %(pk)s")
                       % {"verbose_name": model._meta.verbose_name, "pk": pk}) from None


def _require_known(user, obj, what: str) -> None:
    """A person or unit named inside a request is checked against the caller's scope like one in the path:
    one the caller's posts do not let them see is answered exactly as an id that does not exist."""
    if obj is not None and not policy.can(user, "org.view", obj):
        raise ValidationFailed(gettext_lazy("no %(what)s %(pk)s") % {"what": obj._meta.verbose_name, "pk": obj.pk},
                               code=f"unknown_{what}")


def _lies_in(inner: Region, outer: Region) -> bool:
    return inner.path.startswith(outer.path)


def _text(value: str, what: str, *, max_length: int | None = None) -> str:
    """Free text through the one check (core.text): no NUL, not only invisible characters, not too long;
    and, since everything typed here is published, scrubbed of personal data before it is stored."""
    return clean_public_text(value, what, max_length=max_length)


def _optional_public(value: str, what: str) -> str:
    """An optional published text: may be empty; checked and scrubbed like _text otherwise."""
    return scrub(clean_optional_text(value, what))


def _published_data(value):
    """Published structured data (a topic's evidence): every string in it scrubbed, whoever supplied it."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _published_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_published_data(item) for item in value]
    return value


# --- bodies and their members --------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    person: Person
    household_id: int | None
    is_principal: bool


def create_body(user, *, region: Region, kind: str, name: str, organisation: Organisation | None = None,
                rule_code: str | None = None, custom_rule: dict | None = None) -> Body:
    """A deciding body of a community or village; its decision rule defaults to the statutory preset."""
    policy.require(user, "deliberation.manage", region)
    _require_known(user, organisation, "organisation")
    if organisation is not None and not _lies_in(organisation.region, region):
        raise ValidationFailed(gettext_lazy("the organisation is outside the body's region"), code="wrong_region")
    if kind not in Body.Kind.values:
        raise ValidationFailed(gettext_lazy("unknown body kind %(kind)r") % {"kind": kind}, code="unknown_kind")
    if region.level != Region.Level.COMMUNITY:
        raise ValidationFailed(gettext_lazy("a body belongs to a community or village"), code="wrong_region")
    if kind in {"party_members_meeting", "party_branch_committee"} and (
            organisation is None or organisation.kind not in PARTY_COMMITTEE_KINDS):
        raise ValidationFailed(gettext_lazy("a party members' meeting or branch committee names its party "
                                            "organisation"),
                               code="organisation_required")
    if kind in {"villagers_committee", "residents_committee"} and (organisation is None or organisation.kind != kind):
        raise ValidationFailed(gettext_lazy("a %(replace)s names its committee")
                               % {"replace": kind.replace('_', ' ')}, code="organisation_required")
    rule_code = rule_code or rules.DEFAULT_PRESET_FOR_BODY[kind]
    if rule_code == "custom":
        try:
            rules.custom_rule(**(custom_rule or {}))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(gettext_lazy("the custom rule is not valid: %(exc)s")
                                   % {"exc": exc}, code="invalid_rule") from None
    elif rule_code not in rules.PRESETS:
        raise ValidationFailed(gettext_lazy("unknown decision rule %(rule_code)r")
                               % {"rule_code": rule_code}, code="unknown_rule")
    with transaction.atomic():
        body = Body.objects.create(name=_text(name, "name", max_length=120), kind=kind, region=region,
                                   organisation=organisation, rule_code=rule_code, custom_rule=custom_rule or {},
                                   created_at=clock.now())
        events.record("deliberation.create_body", body, actor=user, body_kind=kind, region=region.pk, rule=rule_code)
    return body


def add_body_member(user, body: Body, person: Person, *, is_principal: bool = False,
                    unit: Organisation | None = None) -> BodyMember:
    policy.require(user, "deliberation.manage", body.region)
    _require_known(user, person, "person")
    _require_known(user, unit, "organisation")
    if unit is not None and not (_lies_in(unit.region, body.region) or _lies_in(body.region, unit.region)):
        raise ValidationFailed(gettext_lazy("the unit does not serve the body's region"), code="wrong_region")
    if not body.is_configured:
        raise ValidationFailed(gettext_lazy("this body's members come from the register, not from a list"),
                               code="derived_body")
    with transaction.atomic():
        try:
            with transaction.atomic():
                member = BodyMember.objects.create(body=body, person=person, is_principal=is_principal, unit=unit,
                                                   since=clock.today())
        except IntegrityError:
            raise Conflict(gettext_lazy("%(person_pk)s is already a member")
                           % {"person_pk": person.pk}, code="already_member") from None
        events.record("deliberation.add_body_member", body, actor=user, person=person.pk, principal=is_principal)
    return member


def members_of(body: Body, day: dt.date | None = None) -> list[Member]:
    """Who belongs to the body on `day`, as the law defines it for its kind (see docs/rules.md)."""
    day = day or clock.today()
    kind, region = body.kind, body.region
    if body.is_configured:
        rows = body.members.filter(Q(until__isnull=True) | Q(until__gte=day), since__lte=day).select_related("person")
        return [Member(m.person, m.person.household_id, m.is_principal) for m in rows]
    if kind in {"villagers_meeting", "residents_meeting", "household_representatives_meeting"}:
        people = Person.objects.filter(
            Q(household__building__grid__path__startswith=region.path)
            | Q(household__isnull=True, residence=region)).order_by("id")
        adults = [p for p in people if (p.age_on(day) or 0) >= 18]
        if kind != "household_representatives_meeting":
            return [Member(p, p.household_id, False) for p in adults]
        # One representative per household: its head when adult, else its oldest adult.
        chosen: dict[int, Person] = {}
        for p in sorted(adults, key=lambda p: (p.relation_to_head not in HEAD_OF_HOUSEHOLD, p.birth_date, p.pk)):
            if p.household_id is not None:
                chosen.setdefault(p.household_id, p)
        return [Member(p, p.household_id, False) for p in chosen.values()]
    if kind == "party_members_meeting":
        # A general branch's or committee's meeting gathers the members of all the branches under it.
        people = Person.objects.filter(is_party_member=True,
                                       party_branch__in=_party_tree(body.organisation)).order_by("id")
        principal = _principal_ids(Post.objects.filter(organisation=body.organisation), day, Post.Role.SECRETARY)
        return [Member(p, p.household_id, p.pk in principal) for p in people]
    if kind == "two_committees_joint_meeting":
        posts = Post.objects.filter(organisation__region=region, role__in=POST_ROLES_IN_COMMITTEE,
                                    organisation__kind__in=PARTY_COMMITTEE_KINDS | {"villagers_committee",
                                                                                   "residents_committee"})
        principal = _principal_ids(posts.filter(organisation__kind__in=PARTY_COMMITTEE_KINDS), day,
                                   Post.Role.SECRETARY)
    else:  # a committee: the posts of its organisation
        posts = Post.objects.filter(organisation=body.organisation, role__in=POST_ROLES_IN_COMMITTEE)
        lead = Post.Role.SECRETARY if body.organisation.is_party else Post.Role.DIRECTOR
        principal = _principal_ids(posts, day, lead)
    people = {}
    for post in posts.filter(Post.in_force_q(day)).select_related("person").order_by("person_id"):
        people.setdefault(post.person_id, post.person)  # 一肩挑: one person, one seat
    return [Member(p, p.household_id, p.pk in principal) for p in people.values()]


def is_member(body: Body, person: Person, day: dt.date | None = None) -> bool:
    """Whether `person` is among members_of(body, day), answered for one person without listing everyone
    (the home page asks it for each body meeting today). Same rules as members_of; tests hold them equal."""
    day = day or clock.today()
    if body.is_configured:
        return body.members.filter(Q(until__isnull=True) | Q(until__gte=day), since__lte=day, person=person).exists()
    kind, region = body.kind, body.region
    if kind in {"villagers_meeting", "residents_meeting", "household_representatives_meeting"}:
        home = person.home_region
        lives_here = (person.household_id is not None and home is not None and home.path.startswith(region.path)) \
            or (person.household_id is None and person.residence_id == region.pk)
        if not lives_here or (person.age_on(day) or 0) < 18:
            return False
        if kind != "household_representatives_meeting":
            return True
        if person.household_id is None:
            return False
        adults = [p for p in Person.objects.filter(household_id=person.household_id) if (p.age_on(day) or 0) >= 18]
        chosen = min(adults, key=lambda p: (p.relation_to_head not in HEAD_OF_HOUSEHOLD, p.birth_date, p.pk))
        return chosen.pk == person.pk
    if kind == "party_members_meeting":
        return bool(person.is_party_member and person.party_branch_id in _party_tree(body.organisation))
    if kind == "two_committees_joint_meeting":
        posts = Post.objects.filter(organisation__region=region, role__in=POST_ROLES_IN_COMMITTEE,
                                    organisation__kind__in=PARTY_COMMITTEE_KINDS | {"villagers_committee",
                                                                                   "residents_committee"})
    else:
        posts = Post.objects.filter(organisation=body.organisation, role__in=POST_ROLES_IN_COMMITTEE)
    return posts.filter(Post.in_force_q(day), person=person).exists()


def _party_tree(organisation: Organisation) -> list[int]:
    ids, frontier = [organisation.pk], [organisation.pk]
    while frontier:
        frontier = list(Organisation.objects.filter(parent__in=frontier, kind__in=PARTY_COMMITTEE_KINDS)
                        .values_list("pk", flat=True))
        ids += frontier
    return ids


def _principal_ids(posts, day, role) -> set[int]:
    return set(posts.filter(Post.in_force_q(day), role=role).values_list("person_id", flat=True))


def decision_rule(body: Body, motion: Motion | None = None):
    """The rule a vote of the body follows: the body's own, unless the procedure stage the motion belongs to
    requires another for this kind of body (四议两公开's party members' review needs two thirds present)."""
    if motion is not None and motion.stage_code and motion.topic_id and motion.topic.procedure_definition:
        stage = topic_procedure(motion.topic).stage(motion.stage_code)
        code = stage.rule_code_for(body.kind)
        if code:
            return rules.PRESETS[code]
    if body.rule_code == "custom":
        return rules.custom_rule(**body.custom_rule)
    return rules.PRESETS[body.rule_code]


# --- topics, discussion, attachments -----------------------------------------------------------------

def propose_topic(user, *, region: Region, title: str, description: str, origin: str = Topic.Origin.RESIDENT,
                  origin_reference: str = "", evidence: dict | None = None,
                  support_threshold: int | None = None) -> Topic:
    """A topic. A resident's proposal first collects support (附议) up to the threshold; one put forward by
    an officer of the place (for an organisation, or from insight's evidence) goes on the agenda at once.
    A resident's proposal is held for an officer's approval first (moderation.is_premoderated), unless its
    proposer is an officer or a configured member of one of the place's bodies."""
    if region.level not in (Region.Level.COMMUNITY, Region.Level.GRID):
        raise ValidationFailed(gettext_lazy("a topic belongs to a community, a village or a grid"), code="wrong_region")
    if origin not in Topic.Origin.values:
        raise ValidationFailed(gettext_lazy("unknown origin %(origin)r") % {"origin": origin}, code="unknown_origin")
    if origin == Topic.Origin.RESIDENT:
        policy.require(user, "deliberation.propose", region)
        threshold = DEFAULT_SUPPORT_THRESHOLD if support_threshold is None else support_threshold
    else:
        policy.require(user, "deliberation.manage", region)
        threshold = 0
    if threshold < 0:
        raise ValidationFailed(gettext_lazy("the support threshold cannot be negative"), code="invalid_threshold")
    origin_reference = _optional_public(origin_reference, "origin reference")
    from . import moderation

    held = origin == Topic.Origin.RESIDENT and moderation.is_premoderated(user, region)
    status = Topic.Status.PENDING if held else Topic.Status.AGENDA if threshold == 0 else Topic.Status.COLLECTING
    now = clock.now()
    with transaction.atomic():
        topic = Topic.objects.create(
            title=_text(title, "title", max_length=120), description=_text(description, "description"),
            region=region, origin=origin, origin_reference=origin_reference, evidence=_published_data(evidence or {}),
            proposer=user, status=status, support_threshold=threshold, created_at=now, updated_at=now)
        events.record("deliberation.propose_topic", topic, actor=user, region=region.pk, origin=origin,
                      reference=origin_reference, threshold=threshold, held=held, private={"title": topic.title})
    return topic


def support_topic(user, topic: Topic) -> Topic:
    """Support (附议) a proposal; once it has enough, it goes on the agenda. Each person supports once."""
    with transaction.atomic():
        topic = _get_locked(Topic, topic.pk)
        policy.require(user, "deliberation.support", topic)
        if topic.status != Topic.Status.COLLECTING:
            raise ValidationFailed(gettext_lazy("the topic is %(status_display)s, not collecting support")
                                   % {"status_display": topic.get_status_display()},
                                   code="not_collecting")
        if topic.proposer_id == user.pk:
            raise ValidationFailed(gettext_lazy("a proposer cannot support their own proposal"), code="own_proposal")
        try:
            with transaction.atomic():
                Support.objects.create(topic=topic, user=user, at=clock.now())
        except IntegrityError:
            raise Conflict(gettext_lazy("you already support this topic"), code="already_supported") from None
        topic.support_count += 1
        if topic.support_count >= topic.support_threshold:
            topic.status = Topic.Status.AGENDA
        topic.updated_at = clock.now()
        topic.save(update_fields=["support_count", "status", "updated_at"])
        events.record("deliberation.support_topic", topic, actor=user, support=topic.support_count,
                      status=topic.status)
    return topic


def add_comment(user, topic: Topic, text: str) -> Comment:
    policy.require(user, "deliberation.comment", topic)
    text = _text(text, "comment", max_length=2000)
    with transaction.atomic():
        comment = Comment.objects.create(topic=topic, author=user, text=text, at=clock.now())
        events.record("deliberation.comment", comment, actor=user, topic=topic.pk, private={"text": text})
    return comment


def report(user, *, reason: str, comment: Comment | None = None, statement: Statement | None = None) -> Report:
    """Report a comment or statement to the moderators (举报). A comment's reports count towards hiding it
    (moderation.report_comment)."""
    subject = comment or statement
    if subject is None or (comment and statement):
        raise ValidationFailed(gettext_lazy("report one comment or one statement"), code="invalid")
    if comment is not None:
        from . import moderation

        return moderation.report_comment(user, comment, reason)
    policy.require(user, "deliberation.report", subject.topic)
    with transaction.atomic():
        row = Report.objects.create(comment=comment, statement=statement, reporter=user,
                                    reason=_text(reason, "reason", max_length=200), at=clock.now())
        events.record("deliberation.report", row, actor=user, comment=getattr(comment, "pk", None),
                      statement=getattr(statement, "pk", None), private={"reason": row.reason})
    return row


def hide_comment(user, comment: Comment, reason: str) -> Comment:
    """A moderator hides a comment, with the reason shown in its place; the text stays stored."""
    with transaction.atomic():
        comment = _get_locked(Comment, comment.pk)
        policy.require(user, "deliberation.moderate", comment.topic)
        if comment.is_hidden:
            raise Conflict(gettext_lazy("the comment is already hidden"), code="already_hidden")
        comment.hidden_reason = _text(reason, "reason", max_length=200)
        comment.hidden_by, comment.hidden_at = user, clock.now()
        comment.save(update_fields=["hidden_reason", "hidden_by", "hidden_at"])
        events.record("deliberation.hide_comment", comment, actor=user, reason=comment.hidden_reason)
    return comment


def add_attachment(user, topic: Topic, *, name: str, content: bytes, content_type: str) -> Attachment:
    policy.require(user, "deliberation.manage", topic)
    if not content:
        raise ValidationFailed(gettext_lazy("the file is empty"), code="empty")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(gettext_lazy("the file is larger than %(value)s MB")
                               % {"value": MAX_ATTACHMENT_BYTES // 1024 // 1024}, code="too_large")
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        row = Attachment.objects.create(topic=topic, name=_text(name, "file name", max_length=200),
                                        content_type=content_type or "application/octet-stream", content=content,
                                        sha256=digest, size=len(content), uploaded_by=user, at=clock.now())
        events.record("deliberation.attach", row, actor=user, topic=topic.pk, sha256=digest, size=len(content))
    return row


# --- opinion map --------------------------------------------------------------------------------------

def add_statement(user, topic: Topic, text: str) -> Statement:
    """A short statement others can vote on. Accepted at once; moderators may take it out with a reason."""
    policy.require(user, "deliberation.state", topic)
    if not topic.opinion_map_open:
        raise ValidationFailed(gettext_lazy("the opinion map of this topic is closed"), code="map_closed")
    text = _text(text, "statement", max_length=280)
    with transaction.atomic():
        if Statement.objects.filter(topic=topic, text=text).exists():
            raise Conflict(gettext_lazy("the same statement is already there"), code="duplicate_statement")
        statement = Statement.objects.create(topic=topic, author=user, text=text, status=Statement.Status.ACCEPTED,
                                             at=clock.now())
        events.record("deliberation.add_statement", statement, actor=user, topic=topic.pk, private={"text": text})
    return statement


def moderate_statement(user, statement: Statement, *, accept: bool, reason: str = "") -> Statement:
    with transaction.atomic():
        statement = _get_locked(Statement, statement.pk)
        policy.require(user, "deliberation.moderate", statement.topic)
        if not accept:
            reason = _text(reason, "reason", max_length=200)
        statement.status = Statement.Status.ACCEPTED if accept else Statement.Status.REJECTED
        statement.moderation_reason = reason
        statement.save(update_fields=["status", "moderation_reason"])
        Topic.objects.filter(pk=statement.topic_id).update(vote_changes=F("vote_changes") + 1)
        events.record("deliberation.moderate_statement", statement, actor=user, status=statement.status,
                      reason=reason)
    return statement


def vote_statement(user, statement: Statement, vote: int) -> StatementVote:
    """Agree (1), disagree (-1) or pass (0); voting again replaces the earlier vote."""
    if vote not in (1, -1, 0):
        raise ValidationFailed(gettext_lazy("a vote is 1 (agree), -1 (disagree) or 0 (pass)"), code="invalid_vote")
    statement = Statement.objects.select_related("topic").filter(pk=statement.pk).first()
    if statement is None:
        raise NotFound(gettext_lazy("statement"))
    topic = statement.topic
    policy.require(user, "deliberation.vote_statement", topic)
    if not topic.opinion_map_open:
        raise ValidationFailed(gettext_lazy("the opinion map of this topic is closed"), code="map_closed")
    if statement.status != Statement.Status.ACCEPTED:
        raise ValidationFailed(gettext_lazy("this statement is not open for votes"), code="statement_not_accepted")
    with transaction.atomic():
        row, _ = StatementVote.objects.update_or_create(
            statement=statement, participant=user,
            defaults={"vote": vote, "at": clock.now(), "topic": topic})
        Topic.objects.filter(pk=topic.pk).update(vote_changes=F("vote_changes") + 1)
        events.record("deliberation.vote_statement", statement, actor=user, vote=vote)
    return row


def opinion_map(topic: Topic, *, force: bool = False) -> dict:
    """The topic's opinion map, recomputed from the previous state when votes came in since (so it is
    current at every read) and stored with the state the next update starts from."""
    topic.refresh_from_db(fields=["vote_changes"])
    snapshot = OpinionMapSnapshot.objects.filter(topic=topic).first()
    if snapshot and snapshot.votes_seen == topic.vote_changes and not force:
        return snapshot.result
    changes = topic.vote_changes
    votes = list(StatementVote.objects.filter(topic=topic, statement__status=Statement.Status.ACCEPTED)
                 .values_list("participant_id", "statement_id", "vote"))
    previous = opinions.MapState.from_dict(snapshot.state["map"]) if snapshot and snapshot.state else None
    computed = opinions.compute_map(votes, previous=previous)
    result = _map_result(topic, computed)
    result["common_ground"] = _common_ground(votes, computed, result)
    try:
        with transaction.atomic():
            OpinionMapSnapshot.objects.update_or_create(
                topic=topic, defaults={"computed_at": clock.now(), "votes_seen": changes, "result": result,
                                       "state": {"map": computed.state.to_dict(),
                                                 "groups": {str(p): g for p, g in computed.groups.items()}}})
    except IntegrityError:
        pass  # another request stored the first map of this topic at the same moment; either is current
    return result


def _map_result(topic: Topic, computed) -> dict:
    """The map as pages and the API show it: no user ids, participants as anonymous points."""
    statements = {s.pk: s.text for s in Statement.objects.filter(topic=topic, status=Statement.Status.ACCEPTED)}
    groups = computed.groups
    points = [{"x": round(float(x), 4), "y": round(float(y), 4), "group": groups.get(p)}
              for p, (x, y) in sorted(computed.coordinates.items(), key=lambda item: str(item[0]))]

    def stat(s):
        return {"statement": s.statement_id, "text": statements.get(s.statement_id, ""), "direction": s.direction,
                "agree": round(float(s.agree_share), 3), "disagree": round(float(s.disagree_share), 3),
                "p": float(s.p_value)}

    return {
        "k": computed.k,
        "n_participants": computed.n_participants,
        "n_clustered": computed.n_clustered,
        "group_sizes": {str(g): n for g, n in computed.group_sizes.items()},
        "points": points,
        "representative": {str(g): [stat(s) for s in items] for g, items in computed.representative.items()},
        "consensus": [{"statement": stat.statement_id, "text": statements.get(stat.statement_id, ""),
                       "direction": stat.direction,
                       "score": round(float(computed.group_informed_consensus.get(stat.statement_id, 0.0)), 3)}
                      for stat in computed.consensus_stats],
        "group_informed_consensus": {str(sid): round(float(v), 4)
                                     for sid, v in computed.group_informed_consensus.items()},
        # What next_statement draws by (Polis's priority): new, contested and consensual statements first.
        "priorities": {str(sid): round(float(v), 6) for sid, v in computed.priorities.items()},
    }


def _common_ground(votes, computed, result) -> list[dict]:
    """The 最大公约数: statements that a majority of every opinion group agrees with (smoothed agree rate
    above 1/2 in each group), best first by group-informed consensus. Polis's own consensus list is over all
    voters, so a large group alone can put a statement there; this one needs every group."""
    if not computed.groups:
        return []
    counts: dict = {}
    for participant, statement, vote in votes:
        group = computed.groups.get(participant)
        if group is None:
            continue
        agree, seen = counts.setdefault(statement, {}).setdefault(group, [0, 0])
        counts[statement][group] = [agree + (vote == 1), seen + 1]
    texts = {s.pk: s.text for s in Statement.objects.filter(pk__in=counts)}
    found = []
    for statement, by_group in counts.items():
        rates = {g: (by_group.get(g, [0, 0])[0] + 1) / (by_group.get(g, [0, 0])[1] + 2) for g in computed.group_sizes}
        if all(rate > 0.5 for rate in rates.values()):
            found.append({"statement": statement, "text": texts.get(statement, ""),
                          "agree_by_group": {str(g): round(r, 3) for g, r in rates.items()},
                          "score": round(float(computed.group_informed_consensus.get(statement, 0.0)), 4)})
    return sorted(found, key=lambda item: (-item["score"], item["statement"]))


def participant_group(topic: Topic, user) -> int | None:
    """The opinion group the user is in on the latest map (None when not clustered)."""
    opinion_map(topic)
    snapshot = OpinionMapSnapshot.objects.filter(topic=topic).first()
    return (snapshot.state.get("groups") or {}).get(str(user.pk)) if snapshot else None


def next_statement(user, topic: Topic, *, seed: int | None = None) -> Statement | None:
    """The statement this participant should see next (Polis's rule: new, contested or consensual first)."""
    voted = set(StatementVote.objects.filter(topic=topic, participant=user).values_list("statement_id", flat=True))
    candidates = list(Statement.objects.filter(topic=topic, status=Statement.Status.ACCEPTED)
                      .exclude(pk__in=voted).values_list("pk", flat=True))
    if not candidates:
        return None
    rng = random.Random(seed if seed is not None else secrets.randbits(32))
    chosen = opinions.next_statement(opinion_map(topic), voted, candidates, rng)
    return Statement.objects.filter(pk=chosen).first() if chosen is not None else None


def draft_resolution_from_consensus(user, topic: Topic) -> Topic:
    """From "what we agree on" to a draft: the statements every opinion group agrees with (the common
    ground) become the draft resolution, which then goes through the topic's procedure."""
    policy.require(user, "deliberation.manage", topic)
    consensus = opinion_map(topic, force=True)["common_ground"]
    if not consensus:
        raise ValidationFailed(gettext_lazy("no statement is agreed by every opinion group yet"), code="no_consensus")
    lines = [f"{i}. {item['text']}" for i, item in enumerate(consensus, start=1)]
    with transaction.atomic():
        topic = _get_locked(Topic, topic.pk)
        topic.draft_resolution = "\n".join(lines)
        topic.updated_at = clock.now()
        topic.save(update_fields=["draft_resolution", "updated_at"])
        events.record("deliberation.draft_resolution", topic, actor=user,
                      statements=[item["statement"] for item in consensus])
    return topic


# --- meetings, roll and attendance --------------------------------------------------------------------

def schedule_meeting(user, body: Body, *, title: str, agenda: str, starts_at: dt.datetime, place: str = "",
                     topic: Topic | None = None) -> Meeting:
    """Convene a meeting with due notice (NOTICE_DAYS per body kind)."""
    policy.require(user, "deliberation.convene", body.region)
    now = clock.now()
    notice = dt.timedelta(days=NOTICE_DAYS.get(body.kind, DEFAULT_NOTICE_DAYS))
    if starts_at - now < notice:
        raise ValidationFailed(gettext_lazy("a %(kind_display)s needs %(days)s days' notice")
                               % {"kind_display": body.get_kind_display(), "days": notice.days},
                               code="notice_too_short", notice_days=notice.days)
    if topic is not None and topic.region_id != body.region_id and not topic.region.path.startswith(body.region.path):
        raise ValidationFailed(gettext_lazy("the topic is outside the body's region"), code="wrong_region")
    with transaction.atomic():
        meeting = Meeting.objects.create(body=body, topic=topic, title=_text(title, "title", max_length=160),
                                         agenda=_text(agenda, "agenda"), place=place, starts_at=starts_at,
                                         notice_given_at=now, secretary=user, status=Meeting.Status.SCHEDULED,
                                         created_at=now)
        events.record("deliberation.schedule_meeting", meeting, actor=user, body=body.pk,
                      starts_at=starts_at.isoformat(), topic=getattr(topic, "pk", None))
    return meeting


def open_meeting(user, meeting: Meeting) -> Meeting:
    """Open the meeting and freeze its roll (应到) from the body's members on the day."""
    with transaction.atomic():
        meeting = _get_locked(Meeting, meeting.pk)
        _require_secretary(user, meeting)
        if meeting.status != Meeting.Status.SCHEDULED:
            raise ValidationFailed(gettext_lazy("the meeting is %(status_display)s")
                                   % {"status_display": meeting.get_status_display()}, code="meeting_not_scheduled")
        if clock.now() < meeting.starts_at - OPEN_EARLY:
            raise ValidationFailed(gettext_lazy("the meeting cannot open before its announced time"), code="too_early")
        members = members_of(meeting.body, clock.today())
        if not members:
            raise ValidationFailed(gettext_lazy("%(body_name)s has no members on the register")
                                   % {"body_name": meeting.body.name}, code="no_members")
        RollEntry.objects.bulk_create([RollEntry(meeting=meeting, person=m.person, household_id_at_roll=m.household_id,
                                                 is_principal=m.is_principal) for m in members])
        meeting.status, meeting.opened_at = Meeting.Status.OPEN, clock.now()
        meeting.save(update_fields=["status", "opened_at"])
        events.record("deliberation.open_meeting", meeting, actor=user, due=len(members))
    return meeting


def _require_secretary(user, meeting: Meeting) -> None:
    policy.require(user, "deliberation.convene", meeting.body.region)


def _roll_entry(meeting: Meeting, person: Person) -> RollEntry:
    entry = RollEntry.objects.select_for_update().filter(meeting=meeting, person=person).first()
    if entry is None:
        raise PermissionDenied(gettext_lazy("you are not on this meeting's roll"), code="not_on_roll")
    return entry


def sign_in(user, meeting: Meeting) -> RollEntry:
    """A member signs in online (签到)."""
    person = _person_of(user)
    with transaction.atomic():
        meeting = _get_locked(Meeting, meeting.pk)
        if meeting.status != Meeting.Status.OPEN:
            raise ValidationFailed(gettext_lazy("the meeting is not in session"), code="meeting_not_open")
        entry = _roll_entry(meeting, person)
        if entry.is_present:
            raise Conflict(gettext_lazy("you have already signed in"), code="already_present")
        entry.present_since, entry.how = clock.now(), RollEntry.How.ONLINE
        entry.save(update_fields=["present_since", "how"])
        events.record("deliberation.sign_in", meeting, actor=user, how="online")
    return entry


def record_attendance(user, meeting: Meeting, person: Person) -> RollEntry:
    """The secretary records a member present; it counts once a second person confirms it."""
    with transaction.atomic():
        meeting = _get_locked(Meeting, meeting.pk)
        _require_secretary(user, meeting)
        if meeting.status != Meeting.Status.OPEN:
            raise ValidationFailed(gettext_lazy("the meeting is not in session"), code="meeting_not_open")
        entry = RollEntry.objects.select_for_update().filter(meeting=meeting, person=person).first()
        if entry is None:
            _require_known(user, person, "person")
            raise ValidationFailed(gettext_lazy("person %(person_pk)s is not on this meeting's roll")
                                   % {"person_pk": person.pk}, code="not_on_roll")
        if entry.present_since is not None:
            raise Conflict(gettext_lazy("already recorded present"), code="already_present")
        entry.present_since, entry.how, entry.recorded_by = clock.now(), RollEntry.How.RECORDED, user
        entry.save(update_fields=["present_since", "how", "recorded_by"])
        events.record("deliberation.record_attendance", meeting, actor=user, entry=entry.pk)
    return entry


def confirm_attendance(user, entry: RollEntry) -> RollEntry:
    with transaction.atomic():
        entry = _get_locked(RollEntry, entry.pk)
        _require_secretary(user, entry.meeting)
        if entry.meeting.status != Meeting.Status.OPEN:
            raise ValidationFailed(gettext_lazy("the meeting is not in session"), code="meeting_not_open")
        if entry.how != RollEntry.How.RECORDED or entry.confirmed_by_id:
            raise ValidationFailed(gettext_lazy("nothing to confirm"), code="nothing_to_confirm")
        if entry.recorded_by_id == user.pk:
            raise ValidationFailed(gettext_lazy("a second person must confirm what the secretary entered"),
                                   code="same_person")
        entry.confirmed_by = user
        entry.save(update_fields=["confirmed_by"])
        events.record("deliberation.confirm_attendance", entry.meeting, actor=user, entry=entry.pk)
    return entry


def attendance(meeting: Meeting):
    """The rules' attendance figures (应到 / 实到 per basis) from the meeting's roll."""
    roll = list(meeting.roll.all())
    present = [e for e in roll if e.is_present]
    households = {e.household_id_at_roll for e in roll if e.household_id_at_roll}
    households_present = {e.household_id_at_roll for e in present if e.household_id_at_roll}
    return rules.Attendance(due=len(roll), present=len(present), households_due=len(households),
                            households_present=len(households_present))


def meeting_rule(meeting: Meeting, stage_code: str = ""):
    """The rule the meeting's votes follow: the procedure stage's when the meeting decides a stage of its
    topic (given, or the topic's next stage when this body holds it), else the body's own."""
    topic = meeting.topic
    if topic is not None and topic.procedure_definition:
        procedure = topic_procedure(topic)
        stage = procedure.stage(stage_code) if stage_code else procedures.next_stage(procedure, stage_history(topic))
        if stage is not None and meeting.body.kind in stage.body_kinds and stage.rule_code_for(meeting.body.kind):
            return rules.PRESETS[stage.rule_code_for(meeting.body.kind)]
    return decision_rule(meeting.body)


def quorum(meeting: Meeting, stage_code: str = ""):
    """Live quorum check (rules.check_quorum) of the meeting from its confirmed attendance, under the rule
    its votes will be decided by."""
    return rules.check_quorum(meeting_rule(meeting, stage_code), attendance(meeting))


def close_meeting(user, meeting: Meeting, *, minutes: str) -> Meeting:
    with transaction.atomic():
        meeting = _get_locked(Meeting, meeting.pk)
        _require_secretary(user, meeting)
        if meeting.status != Meeting.Status.OPEN:
            raise ValidationFailed(gettext_lazy("the meeting is not in session"), code="meeting_not_open")
        if meeting.motions.filter(status=Motion.Status.OPEN).exists():
            raise ValidationFailed(gettext_lazy("close the open votes first"), code="votes_open")
        meeting.minutes = _text(minutes, "minutes")
        meeting.status, meeting.closed_at = Meeting.Status.CLOSED, clock.now()
        meeting.save(update_fields=["minutes", "status", "closed_at"])
        counts = attendance(meeting)
        events.record("deliberation.close_meeting", meeting, actor=user, due=counts.due, present=counts.present,
                      minutes_sha256=hashlib.sha256(meeting.minutes.encode()).hexdigest())
    return meeting


# --- motions and ballots ------------------------------------------------------------------------------

RANKED = frozenset({"irv", "schulze", "borda"})


def open_motion(user, meeting: Meeting, *, text: str, method: str = "yes_no", options: list[str] | None = None,
                seats: int = 1, secret: bool = False, topic: Topic | None = None, stage_code: str = "",
                amount=None) -> Motion:
    """Put a motion or an election to the meeting. Refused while the meeting lacks its quorum."""
    if method not in Motion.Method.values:
        raise ValidationFailed(gettext_lazy("unknown method %(method)r") % {"method": method}, code="unknown_method")
    options = [str(o).strip() for o in (options or [])]
    if method == "yes_no":
        if options:
            raise ValidationFailed(gettext_lazy("a yes/no motion has no options"), code="invalid_options")
    else:
        if len(options) < 2 or any(not o for o in options) or len(set(options)) != len(options):
            raise ValidationFailed(gettext_lazy("give two or more distinct options"), code="invalid_options")
    if seats < 1 or (method != "yes_no" and seats >= len(options) + (method == "majority_seats")):
        raise ValidationFailed(gettext_lazy("seats must be at least 1 and fewer than the options"),
                               code="invalid_seats")
    with transaction.atomic():
        meeting = _get_locked(Meeting, meeting.pk)
        _require_secretary(user, meeting)
        if meeting.status != Meeting.Status.OPEN:
            raise ValidationFailed(gettext_lazy("the meeting is not in session"), code="meeting_not_open")
        if topic is not None and not _lies_in(topic.region, meeting.body.region):
            raise ValidationFailed(gettext_lazy("the topic is outside the body's region"), code="wrong_region")
        topic = topic or meeting.topic
        if stage_code:
            _check_stage_motion(meeting, topic, stage_code)
        rule = _stage_rule(meeting, topic, stage_code) if stage_code else decision_rule(meeting.body)
        check = rules.check_quorum(rule, attendance(meeting))
        if not check.is_met:
            raise ValidationFailed(_not_quorate(check), code="no_quorum")
        motion = Motion.objects.create(meeting=meeting, topic=topic, stage_code=stage_code,
                                       text=_text(text, "motion"), method=method, options=options, seats=seats,
                                       is_secret=secret, status=Motion.Status.OPEN, opened_at=clock.now(),
                                       amount=_amount(amount))
        events.record("deliberation.open_motion", motion, actor=user, meeting=meeting.pk, method=method,
                      options=options, seats=seats, secret=secret, stage=stage_code,
                      amount=str(motion.amount) if motion.amount is not None else None,
                      quorum=check.explanation_en)
    return motion


def _stage_rule(meeting: Meeting, topic: Topic, stage_code: str):
    code = topic_procedure(topic).stage(stage_code).rule_code_for(meeting.body.kind)
    return rules.PRESETS[code] if code else decision_rule(meeting.body)


def _amount(value):
    """A sum in yuan to the fen, or None."""
    if value in (None, ""):
        return None
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(gettext_lazy("not an amount: %(value)r")
                               % {"value": value}, code="invalid_amount") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(gettext_lazy("an amount is at least 0, to the fen"), code="invalid_amount")
    return amount


def _check_stage_motion(meeting: Meeting, topic: Topic | None, stage_code: str) -> None:
    """A motion for a procedure stage: the topic is in its procedure, the stage is the next one, and the
    meeting's body is one that may hold it."""
    if topic is None or not topic.procedure_definition:
        raise ValidationFailed(gettext_lazy("a motion for a procedure stage names a topic in a procedure"),
                               code="not_in_procedure")
    procedure = topic_procedure(topic)
    refusal = procedures.check_can_record(procedure, stage_history(topic), stage_code)
    if refusal:
        raise ValidationFailed(bilingual(refusal.message_zh, refusal.message_en), code=refusal.code,
                               expected=refusal.expected)
    stage = procedure.stage(stage_code)
    if stage.kind != procedures.StageKind.MEETING:
        raise ValidationFailed(gettext_lazy("stage %(stage_code)s is not decided in a meeting")
                               % {"stage_code": stage_code}, code="not_a_meeting_stage")
    if meeting.body.kind not in stage.body_kinds:
        raise ValidationFailed(gettext_lazy("stage %(name_en)s is held by a %(join)s, not a %(kind)s")
                               % {"name_en": stage.name_en, "join": ' / '.join(stage.body_kinds), "kind": meeting.body.kind}, code="wrong_body")


def _check_choice(motion: Motion, choice):
    """The choice in its stored form, or ValidationFailed naming what is wrong."""
    options = set(motion.options)
    if motion.method == "yes_no":
        if choice not in ("yes", "no", "abstain"):
            raise ValidationFailed(gettext_lazy("vote yes, no or abstain"), code="invalid_choice")
        return choice
    if motion.method == "plurality":
        if choice not in options:
            raise ValidationFailed(gettext_lazy("unknown option %(choice)r")
                                   % {"choice": choice}, code="unknown_option")
        return choice
    if not isinstance(choice, list):
        raise ValidationFailed(gettext_lazy("give a list of options"), code="invalid_choice")
    unknown = [c for c in choice if c not in options]
    if unknown:
        raise ValidationFailed(gettext_lazy("unknown option %(unknown)r")
                               % {"unknown": unknown[0]}, code="unknown_option")
    if len(set(choice)) != len(choice):
        raise ValidationFailed(gettext_lazy("an option appears twice"), code="invalid_choice")
    if motion.method == "majority_seats" and len(choice) > motion.seats:
        raise ValidationFailed(gettext_lazy("mark at most %(seats)s candidates")
                               % {"seats": motion.seats}, code="too_many_marks")
    if motion.method in RANKED and not choice:
        raise ValidationFailed(gettext_lazy("rank at least one option"), code="invalid_choice")
    return choice


def _tracker(motion: Motion, choice) -> tuple[str, str]:
    nonce = secrets.token_hex(16)
    return tracker_for(motion.pk, nonce, choice), nonce


def tracker_for(motion_id: int, nonce: str, choice) -> str:
    """What a voter recomputes to check their tracker against the published ballot list."""
    return hashlib.sha256(canonical.canonical_json({"motion": motion_id, "nonce": nonce, "choice": choice})).hexdigest()


# A secret vote's ballots are sealed while it is open (see Ballot): AES-256-GCM under a key derived from the
# server's secret key and the motion, so that whoever reads the database alone (rows in the order written,
# its WAL, a backup) cannot tell which choice or tracker a row holds. The close opens the seals.
SEAL_NONCE_BYTES = 12


def _seal_keys(motion_id: int) -> list[bytes]:
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [salted_hmac("gongzhi.deliberation.ballot-seal", str(motion_id), secret=secret,
                        algorithm="sha256").digest() for secret in secrets_]


def _seal(motion_id: int, choice, tracker: str) -> str:
    nonce = secrets.token_bytes(SEAL_NONCE_BYTES)
    sealed = AESGCM(_seal_keys(motion_id)[0]).encrypt(
        nonce, canonical.canonical_json({"choice": choice, "tracker": tracker}), str(motion_id).encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def _unseal(ballot: Ballot) -> tuple[object, str]:
    """A ballot's (choice, tracker): opened from its seal while the vote is open, as stored after."""
    if not ballot.sealed:
        return ballot.choice, ballot.tracker
    raw = base64.b64decode(ballot.sealed)
    for key in _seal_keys(ballot.motion_id):
        try:
            opened = AESGCM(key).decrypt(raw[:SEAL_NONCE_BYTES], raw[SEAL_NONCE_BYTES:], str(ballot.motion_id).encode())
        except InvalidTag:
            continue
        data = json.loads(opened)
        return data["choice"], data["tracker"]
    raise Conflict(gettext_lazy("a sealed ballot cannot be opened: the server's secret key changed while the vote was open "
                   "(put the old key in SECRET_KEY_FALLBACKS)"), code="ballot_seal_unreadable")


@dataclass(frozen=True)
class Receipt:
    tracker: str
    nonce: str


def _require_voting(motion: Motion) -> None:
    if motion.status != Motion.Status.OPEN:
        raise ValidationFailed(gettext_lazy("voting on this motion has closed"), code="vote_closed")


def _require_present(motion: Motion, person: Person) -> None:
    entry = RollEntry.objects.filter(meeting=motion.meeting, person=person).first()
    if entry is None or not entry.is_present:
        raise ValidationFailed(gettext_lazy("the voter is not recorded present"), code="not_present")


def _mark(motion: Motion, person: Person, *, paper: bool) -> VoterMark:
    try:
        with transaction.atomic():
            return VoterMark.objects.create(motion=motion, person=person, at=clock.now(), is_paper=paper)
    except IntegrityError:
        raise Conflict(gettext_lazy("this person has already voted on this motion"), code="already_voted") from None


def _new_ballot(motion: Motion, choice, *, voter: Person | None = None, entered_by=None) -> tuple[Ballot, Receipt]:
    """Store a ballot: for a secret vote sealed, with a random id, no time and no voter."""
    tracker, nonce = _tracker(motion, choice)
    paper = entered_by is not None
    if motion.is_secret:
        ballot = Ballot.objects.create(motion=motion, sealed=_seal(motion.pk, choice, tracker), is_paper=paper,
                                       entered_by=entered_by)
    else:
        ballot = Ballot.objects.create(motion=motion, voter=voter, choice=choice, tracker=tracker, is_paper=paper,
                                       entered_by=entered_by)
    return ballot, Receipt(tracker, nonce)


def cast_ballot(user, motion: Motion, choice) -> Receipt:
    """A present member votes once. A secret ballot keeps no link to the voter: the voter gets the
    tracker (and the nonce that binds it to the choice) to find the ballot in the published list."""
    person = _person_of(user)
    with transaction.atomic():
        motion = _get_locked(Motion, motion.pk)
        _require_voting(motion)
        entry = _roll_entry(motion.meeting, person)
        if not entry.is_present:
            raise PermissionDenied(gettext_lazy("sign in to the meeting before voting"), code="not_present")
        choice = _check_choice(motion, choice)
        _mark(motion, person, paper=False)
        _ballot, receipt = _new_ballot(motion, choice, voter=person)
        if motion.is_secret:
            # Only that this person voted: the event names no ballot, so the log cannot link them.
            events.record("deliberation.mark_voted", motion, actor=user, paper=False)
        else:
            events.record("deliberation.cast_ballot", motion, actor=user, paper=False, tracker=receipt.tracker,
                          voter=person.pk, choice=choice)
        return receipt


def _paper_box_opened(motion: Motion) -> bool:
    return motion.ballots.filter(is_paper=True).exists()


def mark_paper_ballot(user, motion: Motion, person: Person) -> VoterMark:
    """Secret vote, step one: the secretary marks on the roll that a present member handed in a paper ballot
    (so they cannot also vote online). The mark names no ballot, and what the ballot says is entered apart,
    from the box, once the box is opened (enter_paper_ballot); after that nobody can hand one in."""
    with transaction.atomic():
        motion = _get_locked(Motion, motion.pk)
        _require_secretary(user, motion.meeting)
        _require_voting(motion)
        if not motion.is_secret:
            raise ValidationFailed(gettext_lazy("an open vote's paper ballot is entered with its voter in one step"),
                                   code="not_secret")
        if _paper_box_opened(motion):
            raise ValidationFailed(gettext_lazy("the ballot box has been opened: no more paper ballots can be "
                                                "handed in"),
                                   code="ballot_box_opened")
        _require_present(motion, person)
        mark = _mark(motion, person, paper=True)
        events.record("deliberation.mark_voted", motion, actor=user, paper=True, private={"person": person.pk})
    return mark


def enter_paper_ballot(user, motion: Motion, choice, *, voter: Person | None = None) -> Ballot:
    """The secretary enters a paper ballot; it counts once a second person confirms it.

    Open vote: one step, naming the voter, who is marked as having voted. Secret vote: step two, what a
    ballot taken from the box says, with no voter (marked apart by mark_paper_ballot); entering the first
    one opens the box (no more can be handed in), and no more can be entered than were handed in."""
    with transaction.atomic():
        motion = _get_locked(Motion, motion.pk)
        _require_secretary(user, motion.meeting)
        _require_voting(motion)
        choice = _check_choice(motion, choice)
        if motion.is_secret:
            if voter is not None:
                raise ValidationFailed(gettext_lazy("a secret ballot names no voter: mark who handed it in on the "
                                                    "paper roll"),
                                       code="voter_not_allowed")
            handed_in = motion.marks.filter(is_paper=True).count()
            if motion.ballots.filter(is_paper=True).count() >= handed_in:
                raise ValidationFailed(gettext_lazy("%(handed_in)s paper ballots were handed in, and as many are "
                                                    "entered")
                                       % {"handed_in": handed_in},
                                       code="more_ballots_than_handed_in", handed_in=handed_in)
            ballot, _receipt = _new_ballot(motion, choice, entered_by=user)
            events.record("deliberation.enter_paper_ballot", motion, actor=user, ballot=str(ballot.pk))
            return ballot
        if voter is None:
            raise ValidationFailed(gettext_lazy("name the member who handed in the ballot"), code="voter_required")
        _require_present(motion, voter)
        _mark(motion, voter, paper=True)
        ballot, receipt = _new_ballot(motion, choice, voter=voter, entered_by=user)
        events.record("deliberation.cast_ballot", motion, actor=user, paper=True, tracker=receipt.tracker,
                      voter=voter.pk, choice=choice)
        return ballot


def confirm_paper_ballot(user, ballot: Ballot) -> Ballot:
    """A second officer confirms what the first entered (two-person rule); only then does it count."""
    with transaction.atomic():
        ballot = _get_locked(Ballot, ballot.pk)
        _require_secretary(user, ballot.motion.meeting)
        if not ballot.is_paper or ballot.confirmed_by_id:
            raise ValidationFailed(gettext_lazy("nothing to confirm"), code="nothing_to_confirm")
        if ballot.entered_by_id == user.pk:
            raise ValidationFailed(gettext_lazy("a second person must confirm what the secretary entered"),
                                   code="same_person")
        _require_voting(ballot.motion)
        ballot.confirmed_by = user
        ballot.save(update_fields=["confirmed_by"])
        if ballot.motion.is_secret:
            events.record("deliberation.confirm_ballot", ballot.motion, actor=user, ballot=str(ballot.pk))
        else:
            events.record("deliberation.confirm_ballot", ballot.motion, actor=user, tracker=ballot.tracker)
    return ballot


@dataclass(frozen=True)
class PaperBallots:
    """A motion's paper ballots for its officers: how many were handed in (secret: marked on the roll),
    entered and confirmed, and those awaiting a second officer with what they say."""
    handed_in: int
    entered: int
    confirmed: int
    awaiting: list  # [(Ballot, choice)]
    box_opened: bool


def paper_ballots(user, motion: Motion) -> PaperBallots:
    _require_secretary(user, motion.meeting)
    rows = list(motion.ballots.filter(is_paper=True))
    awaiting = [(b, _unseal(b)[0]) for b in rows if b.confirmed_by_id is None]
    awaiting.sort(key=lambda pair: str(pair[0].pk))  # ids are random: no order of entry either
    handed_in = motion.marks.filter(is_paper=True).count()
    return PaperBallots(handed_in=handed_in, entered=len(rows), confirmed=len(rows) - len(awaiting),
                        awaiting=awaiting, box_opened=bool(rows))


def paper_roll(user, motion: Motion) -> list[tuple[Person, bool]]:
    """The members present, each with whether they have voted (online or on paper), for the paper roll."""
    _require_secretary(user, motion.meeting)
    voted = set(motion.marks.values_list("person_id", flat=True))
    return [(e.person, e.person_id in voted)
            for e in motion.meeting.roll.select_related("person").order_by("person__name", "person_id")
            if e.is_present]


def published_ballots(motion: Motion) -> list[dict]:
    """The ballot list anyone can recount: tracker and choice, sorted by tracker (no order of casting)."""
    rows = motion.ballots.filter(Q(is_paper=False) | Q(confirmed_by__isnull=False)).order_by("tracker")
    return [{"tracker": b.tracker, "choice": b.choice} for b in rows]


def count(method: str, options: list[str], seats: int, ballots: list) -> dict:
    """Count choices (as stored on ballots) by the motion's method; the same function serves the close of a
    vote and anyone's recount from the published list."""
    if method == "yes_no":
        return voting.count_yes_no_abstain(ballots).to_dict()
    rankings = [[choice] if method == "plurality" else list(choice) for choice in ballots]
    ballot_set = voting.BallotSet.from_rankings(rankings, candidates=options)
    if method == "plurality":
        result = voting.plurality(ballot_set, seats)
    elif method == "approval":
        result = voting.approval(ballot_set, seats)
    elif method == "majority_seats":
        result = voting.majority_election(ballot_set, seats)
    elif method == "irv":
        result = voting.count_ranked(ballot_set, voting.RankedRules(seats=seats), method="irv" if seats == 1 else "stv")
    else:
        result = {"schulze": voting.schulze, "borda": voting.borda}[method](ballot_set, seats)
    return json.loads(json.dumps(result.to_dict()))


def recount(published: list[dict], *, method: str, options: list[str], seats: int) -> dict:
    return count(method, options, seats, [row["choice"] for row in published])


def _reshuffle(motion: Motion) -> None:
    """Open a secret vote's seals and rewrite its ballots in tracker order under new random ids, so that the
    order rows sit in (SQLite's rowid, PostgreSQL's heap) no longer follows the order of casting, which the
    voter marks' times could match, and no open row can be matched to a sealed one."""
    rows = []
    for ballot in Ballot.objects.filter(motion=motion):
        choice, tracker = _unseal(ballot)
        rows.append((tracker, choice, ballot))
    rows.sort(key=lambda row: row[0])
    Ballot.objects.filter(motion=motion).delete()
    # Which ballots came from the box, and who entered and confirmed them, go too: beside the paper voters'
    # marks they would tell the paper voters' choices (all of them, when one voted on paper or all agreed).
    Ballot.objects.bulk_create([Ballot(id=uuid.uuid4(), motion_id=b.motion_id, voter=None, choice=choice,
                                       tracker=tracker, sealed="", is_paper=False)
                                for tracker, choice, b in rows])


MINUTED_RULES = frozenset({"major_matters_collective_decision"})


def record_views(user, motion: Motion, views: list[tuple[Person, str]]) -> Motion:
    """Minute each member's view on a collective decision (三重一大), in the order spoken: the principal
    leader speaks last. Recorded before the vote closes; checked when it closes."""
    with transaction.atomic():
        motion = _get_locked(Motion, motion.pk)
        _require_secretary(user, motion.meeting)
        if motion.status != Motion.Status.OPEN:
            raise ValidationFailed(gettext_lazy("voting on this motion has closed"), code="vote_closed")
        on_roll = set(motion.meeting.roll.values_list("person_id", flat=True))
        rows = []
        for person, view in views:
            if person.pk not in on_roll:
                raise ValidationFailed(gettext_lazy("person %(person_pk)s is not on this meeting's roll")
                                       % {"person_pk": person.pk}, code="not_on_roll")
            rows.append({"person": person.pk, "name": person.name, "view": _text(view, "view", max_length=2000)})
        motion.views = rows
        motion.save(update_fields=["views"])
        events.record("deliberation.record_views", motion, actor=user, speakers=[r["person"] for r in rows],
                      private={"views": rows})
    return motion


def _check_minutes(motion: Motion, rule) -> None:
    roll = list(motion.meeting.roll.all())
    principal = next((e.person_id for e in roll if e.is_principal), None)
    if principal is None:
        raise ValidationFailed(gettext_lazy("a collective decision needs its principal leader on the roll"),
                               code="no_principal")
    check = rules.check_committee_minutes(
        [e.person_id for e in roll], [e.person_id for e in roll if e.is_present],
        [(row["person"], row["view"]) for row in motion.views], principal, rule)
    if not check.is_valid:
        raise ValidationFailed(join_lazy(_minutes_problem(problem, check) for problem in check.problems),
                               code="minutes_incomplete")


def _not_quorate(check: rules.QuorumCheck):
    deciding = check.deciding
    return (gettext_lazy("the meeting is not quorate: %(present)s of %(due)s present, %(required)s needed")
            % {"present": deciding.present, "due": deciding.due, "required": deciding.required})


def _minutes_problem(problem: rules.MinutesProblem, check: rules.MinutesCheck):
    if problem.code == "quorum_not_met":
        return _not_quorate(check.quorum)
    messages = {
        "principal_absent": gettext_lazy("the principal leader %(member)s is absent"),
        "view_missing": gettext_lazy("no view of %(member)s is recorded"),
        "view_from_absent_member": gettext_lazy("%(member)s was absent but a spoken view is recorded"),
        "principal_not_last": gettext_lazy("the principal leader %(member)s did not speak last"),
    }
    return messages[problem.code] % {"member": problem.member}


def close_motion(user, motion: Motion) -> Motion:
    """Close the vote, count it, decide it under the body's rule, and publish the ballot list's hash."""
    with transaction.atomic():
        motion = _get_locked(Motion, motion.pk)
        meeting = motion.meeting
        _require_secretary(user, meeting)
        if motion.status != Motion.Status.OPEN:
            raise ValidationFailed(gettext_lazy("voting on this motion has already closed"), code="vote_closed")
        if motion.ballots.filter(is_paper=True, confirmed_by__isnull=True).exists():
            raise ValidationFailed(gettext_lazy("paper ballots await a second person's confirmation"),
                                   code="unconfirmed_ballots")
        rule = decision_rule(meeting.body, motion)
        if rule.code in MINUTED_RULES:
            _check_minutes(motion, rule)
        paper_entered = motion.ballots.filter(is_paper=True).count()
        if motion.is_secret:
            _reshuffle(motion)
        published = published_ballots(motion)
        tally = count(motion.method, motion.options, motion.seats, [row["choice"] for row in published])
        counts = attendance(meeting)
        if motion.method == "yes_no":
            decision = rules.decide(rule, counts, rules.Counts(yes=tally["yes"], no=tally["no"],
                                                               abstain=tally["abstain"]))
            passed, quorate = decision.is_passed, decision.quorum.is_met
            explanation = {"zh": decision.explanation_zh, "en": decision.explanation_en}
        elif motion.method == "majority_seats":
            # An election (村民委员会组织法 art. 15): valid when more than half of those on the roll voted;
            # seats no candidate filled with a majority of the ballots go to a further round.
            check = rules.check_election_valid(counts.due, len(published))
            passed, quorate = check.is_met and bool(tally.get("winners")), check.is_met
            if not check.is_met:
                tally["winners"], tally["unfilled_seats"] = [], motion.seats
            explanation = {"zh": check.explanation_zh, "en": check.explanation_en}
        else:
            check = rules.check_quorum(rule, counts)
            passed, quorate = check.is_met and bool(tally.get("winners")), check.is_met
            explanation = {"zh": check.explanation_zh, "en": check.explanation_en}
        digest = hashlib.sha256(canonical.canonical_json(published)).hexdigest()
        motion.result = {"tally": tally, "ballots": len(published), "due": counts.due, "present": counts.present,
                         "passed": passed, "quorate": quorate, "rule": rule.code, "explanation": explanation}
        handed_in = motion.marks.filter(is_paper=True).count()
        if handed_in:
            # Fewer ballots taken from the box than were handed in is said, not hidden.
            motion.result["paper"] = {"handed_in": handed_in, "entered": paper_entered}
        motion.is_passed, motion.published_ballots_sha256 = passed, digest
        motion.status, motion.closed_at = Motion.Status.CLOSED, clock.now()
        motion.save(update_fields=["result", "is_passed", "published_ballots_sha256", "status", "closed_at"])
        events.record("deliberation.close_motion", motion, actor=user, result=motion.result,
                      ballots_sha256=digest)
    return motion


# --- procedures ---------------------------------------------------------------------------------------

def start_procedure(user, topic: Topic, procedure_code: str) -> Topic:
    """Put an agenda topic through a procedure (e.g. 四议两公开); its stages are copied onto the topic so
    a later change of the preset does not change a procedure under way."""
    with transaction.atomic():
        topic = _get_locked(Topic, topic.pk)
        policy.require(user, "deliberation.run_procedure", topic)
        if topic.status != Topic.Status.AGENDA:
            raise ValidationFailed(gettext_lazy("the topic is %(status_display)s, not on the agenda")
                                   % {"status_display": topic.get_status_display()},
                                   code="not_on_agenda")
        procedure = procedures.PROCEDURES.get(procedure_code)
        if procedure is None:
            raise ValidationFailed(gettext_lazy("unknown procedure %(procedure_code)r")
                                   % {"procedure_code": procedure_code}, code="unknown_procedure")
        topic.procedure_code, topic.procedure_definition = procedure_code, procedures.procedure_to_data(procedure)
        topic.status, topic.returned_reason, topic.updated_at = Topic.Status.IN_PROCEDURE, "", clock.now()
        topic.save(update_fields=["procedure_code", "procedure_definition", "status", "returned_reason",
                                  "updated_at"])
        events.record("deliberation.start_procedure", topic, actor=user, procedure=procedure_code)
    return topic


def topic_procedure(topic: Topic):
    return procedures.procedure_from_data(topic.procedure_definition, code=topic.procedure_code)


def stage_history(topic: Topic) -> list:
    """The topic's whole stage history, returns included, as procedures' history entries."""
    return [procedures.HistoryEntry(r.stage_code, r.outcome, r.reason) for r in topic.stages.order_by("sequence")]


def record_stage(user, topic: Topic, stage_code: str, *, meeting: Meeting | None = None,
                 motion: Motion | None = None, disclosure: Disclosure | None = None, minutes: str = "",
                 signatures: list[str] | None = None, outcome: str | None = None, reason: str = "") -> StageRecord:
    """Record the next stage of the topic's procedure. Stages run in order; a meeting stage needs a closed
    meeting of the right body whose motion on this topic and stage decides the outcome; a publication stage
    needs the topic's disclosure; a failed stage returns the topic with the reason."""
    with transaction.atomic():
        topic = _get_locked(Topic, topic.pk)
        policy.require(user, "deliberation.run_procedure", topic)
        if topic.status not in (Topic.Status.IN_PROCEDURE, Topic.Status.RETURNED, Topic.Status.DECIDED):
            raise ValidationFailed(gettext_lazy("the topic is %(status_display)s, not in a procedure")
                                   % {"status_display": topic.get_status_display()},
                                   code="not_in_procedure")
        procedure = topic_procedure(topic)
        history = stage_history(topic)
        refusal = procedures.check_can_record(procedure, history, stage_code)
        if refusal:
            raise ValidationFailed(bilingual(refusal.message_zh, refusal.message_en), code=refusal.code,
                                   expected=refusal.expected)
        stage = procedure.stage(stage_code)
        # Read what the stage rests on as stored now, not as the caller last saw it.
        meeting = Meeting.objects.get(pk=meeting.pk) if meeting else None
        motion = Motion.objects.get(pk=motion.pk) if motion else None
        disclosure = Disclosure.objects.get(pk=disclosure.pk) if disclosure else None
        _check_stage_references(topic, meeting, motion, disclosure)
        due = present = None
        if stage.kind == procedures.StageKind.MEETING:
            if meeting is None or motion is None:
                raise ValidationFailed(gettext_lazy("a meeting stage names its meeting and the motion it voted"),
                                       code="invalid")
            if meeting.body.kind not in stage.body_kinds:
                raise ValidationFailed(gettext_lazy("this stage is for a %(join)s, not a %(kind)s")
                                       % {"join": ' / '.join(stage.body_kinds), "kind": meeting.body.kind}, code="wrong_body")
            if motion.meeting_id != meeting.pk or motion.topic_id != topic.pk or motion.stage_code != stage_code:
                raise ValidationFailed(gettext_lazy("the motion was not put on this topic and stage in that meeting"),
                                       code="wrong_motion")
            if motion.status != Motion.Status.CLOSED:
                raise ValidationFailed(gettext_lazy("the vote on the motion is still open"), code="vote_open")
            figures = attendance(meeting)
            due, present = figures.due, figures.present
            outcome = StageRecord.Outcome.PASSED if motion.is_passed else StageRecord.Outcome.FAILED
            if outcome == StageRecord.Outcome.FAILED and not reason:
                reason = motion.result.get("explanation", {}).get("zh", "") or "表决未通过"
        elif stage.kind == procedures.StageKind.PUBLICATION:
            if disclosure is None or disclosure.topic_id != topic.pk:
                raise ValidationFailed(gettext_lazy("a publication stage names the topic's disclosure"),
                                       code="disclosure_required")
            if stage.notice_days and disclosure.notice_days < stage.notice_days:
                raise ValidationFailed(gettext_lazy("this stage needs a notice period of %(notice_days)s days or more")
                                       % {"notice_days": stage.notice_days},
                                       code="notice_too_short")
            outcome = outcome or stage.success_outcome
            # An upheld objection may fail the stage at any time; completing it needs the notice completed.
            if outcome != StageRecord.Outcome.FAILED and disclosure.status != Disclosure.Status.COMPLETED:
                raise ValidationFailed(gettext_lazy("the disclosure is still in its notice period or has unanswered "
                                                    "objections"),
                                       code="disclosure_not_completed")
        else:
            outcome = outcome or stage.success_outcome
        reason, minutes = _optional_public(reason, "reason"), _optional_public(minutes, "minutes")
        refusal = procedures.check_can_record(procedure, history, stage_code, outcome, reason)
        if refusal:
            raise ValidationFailed(bilingual(refusal.message_zh, refusal.message_en), code=refusal.code)
        sequence = (topic.stages.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
        record = StageRecord.objects.create(
            topic=topic, sequence=sequence, stage_code=stage_code, meeting=meeting, motion=motion,
            disclosure=disclosure, due=due, present=present, outcome=outcome, reason=reason, minutes=minutes,
            signatures=signatures or [], recorded_by=user, at=clock.now())
        if outcome == StageRecord.Outcome.FAILED:
            topic.status, topic.returned_reason = Topic.Status.RETURNED, reason
        elif procedures.next_stage(procedure, history + [procedures.HistoryEntry(stage_code, outcome)]) is None:
            topic.status = Topic.Status.COMPLETED
        elif stage.decides:
            topic.status = Topic.Status.DECIDED
        elif topic.status == Topic.Status.RETURNED:
            topic.status = Topic.Status.IN_PROCEDURE
        topic.updated_at = clock.now()
        topic.save(update_fields=["status", "returned_reason", "updated_at"])
        events.record("deliberation.record_stage", topic, actor=user, stage=stage_code, sequence=sequence,
                      outcome=outcome, reason=reason, due=due, present=present,
                      meeting=getattr(meeting, "pk", None), motion=getattr(motion, "pk", None),
                      disclosure=getattr(disclosure, "pk", None))
    return record


def _check_stage_references(topic: Topic, meeting: Meeting | None, motion: Motion | None,
                            disclosure: Disclosure | None) -> None:
    """Whatever a stage record names, of whatever kind the stage is, belongs to this topic: a meeting of a body
    over the topic's place, a motion put on this topic (in that meeting), the topic's own disclosure. A record
    never rests on another place's or another topic's votes (duties reads these records for decisions)."""
    if meeting is not None and not _lies_in(topic.region, meeting.body.region):
        raise ValidationFailed(gettext_lazy("the meeting's body is outside the topic's region"), code="wrong_region")
    if motion is not None and (motion.topic_id != topic.pk or (meeting is not None and motion.meeting_id != meeting.pk)):
        raise ValidationFailed(gettext_lazy("the motion was not put on this topic and stage in that meeting"),
                               code="wrong_motion")
    if disclosure is not None and disclosure.topic_id != topic.pk:
        raise ValidationFailed(gettext_lazy("a publication stage names the topic's disclosure"),
                               code="disclosure_required")


# --- disclosure ---------------------------------------------------------------------------------------

def publish(user, *, region: Region, kind: str, title: str, body: str, notice_days: int,
            topic: Topic | None = None) -> Disclosure:
    """Publish a notice (公示) on the public board for `notice_days` days."""
    policy.require(user, "deliberation.publish", region)
    if topic is not None:
        if not (_lies_in(topic.region, region) or _lies_in(region, topic.region)):
            raise ValidationFailed(gettext_lazy("the topic is outside the notice's region"), code="wrong_region")
        policy.require(user, "deliberation.publish", topic)
    if kind not in Disclosure.Kind.values:
        raise ValidationFailed(gettext_lazy("unknown kind %(kind)r") % {"kind": kind}, code="unknown_kind")
    if not 1 <= notice_days <= 90:
        raise ValidationFailed(gettext_lazy("the notice period is 1 to 90 days"), code="invalid_notice_period")
    now = clock.now()
    with transaction.atomic():
        item = Disclosure.objects.create(region=region, topic=topic, kind=kind,
                                         title=_text(title, "title", max_length=160), body=_text(body, "content"),
                                         published_by=user, published_at=now, notice_days=notice_days,
                                         notice_ends_at=now + dt.timedelta(days=notice_days),
                                         status=Disclosure.Status.IN_NOTICE)
        events.record("deliberation.publish", item, actor=user, region=region.pk, disclosure_kind=kind, title=item.title,
                      body_sha256=hashlib.sha256(item.body.encode()).hexdigest(), notice_days=notice_days,
                      topic=getattr(topic, "pk", None))
    return item


def file_objection(user, disclosure: Disclosure, text: str) -> Objection:
    """A resident objects (提出异议) during the notice period."""
    policy.require(user, "deliberation.object", disclosure.region)
    text = _text(text, "objection", max_length=2000)
    with transaction.atomic():
        disclosure = _get_locked(Disclosure, disclosure.pk)
        if disclosure.status != Disclosure.Status.IN_NOTICE or clock.now() >= disclosure.notice_ends_at:
            raise ValidationFailed(gettext_lazy("the notice period is over"), code="notice_over")
        objection = Objection.objects.create(disclosure=disclosure, filed_by=user, text=text, filed_at=clock.now())
        events.record("deliberation.object", disclosure, actor=user, objection=objection.pk, private={"text": text})
    return objection


def answer_objection(user, objection: Objection, answer: str) -> Objection:
    with transaction.atomic():
        objection = _get_locked(Objection, objection.pk)
        policy.require(user, "deliberation.answer", objection.disclosure.region)
        if objection.answered_at:
            raise Conflict(gettext_lazy("the objection has been answered"), code="already_answered")
        objection.answer = _text(answer, "answer", max_length=4000)
        objection.answered_by, objection.answered_at = user, clock.now()
        objection.save(update_fields=["answer", "answered_by", "answered_at"])
        events.record("deliberation.answer_objection", objection.disclosure, actor=user, objection=objection.pk,
                      answer_sha256=hashlib.sha256(objection.answer.encode()).hexdigest())
    return objection


def complete_disclosure(disclosure: Disclosure, *, user=None) -> Disclosure:
    """Complete a notice whose period is over and whose objections are all answered."""
    with transaction.atomic():
        disclosure = _get_locked(Disclosure, disclosure.pk)
        if user is not None:
            policy.require(user, "deliberation.publish", disclosure.region)
        if disclosure.status == Disclosure.Status.COMPLETED:
            raise Conflict(gettext_lazy("already completed"), code="already_completed")
        if clock.now() < disclosure.notice_ends_at:
            raise ValidationFailed(gettext_lazy("the notice period is not over"), code="notice_running")
        open_objections = disclosure.objections.filter(answered_at__isnull=True).count()
        if open_objections:
            raise ValidationFailed(gettext_lazy("%(open_objections)s objection(s) await an answer")
                                   % {"open_objections": open_objections}, code="objections_open")
        disclosure.status, disclosure.completed_at = Disclosure.Status.COMPLETED, clock.now()
        disclosure.save(update_fields=["status", "completed_at"])
        events.record("deliberation.complete_disclosure", disclosure, actor=user,
                      objections=disclosure.objections.count())
    return disclosure


def complete_due_disclosures() -> int:
    """The worker's periodic pass: complete every notice that may complete now."""
    done = 0
    due = Disclosure.objects.filter(status=Disclosure.Status.IN_NOTICE, notice_ends_at__lte=clock.now())
    unanswered = Objection.objects.filter(disclosure=OuterRef("pk"), answered_at__isnull=True)
    for item in due.exclude(Exists(unanswered)):
        complete_disclosure(item)
        done += 1
    return done
