"""Deliberation tables: bodies and their members, topics with discussion and opinion maps, meetings with
their roll and attendance, motions and ballots, procedure stages, and public disclosures with objections.

Rules (quorum, thresholds, vote counting, procedure order) live in rules.py, voting.py and procedures.py;
the use cases that change these tables live in services.py.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.org.models import Organisation, Person, Region


class Body(models.Model):
    """A deciding or consulting body (议事主体). Membership comes from the org model where the law defines
    it (all adult villagers, the party members of a branch, the posts of a committee), else from its
    configured members (representatives, 居民议事会, 党建联席会议 with co-building units)."""

    class Kind(models.TextChoices):
        VILLAGERS_MEETING = "villagers_meeting", _("villagers' meeting")
        HOUSEHOLD_REPRESENTATIVES_MEETING = "household_representatives_meeting", _("household representatives' meeting")
        VILLAGERS_REPRESENTATIVES_MEETING = "villagers_representatives_meeting", _("villagers' representatives' meeting")
        RESIDENTS_MEETING = "residents_meeting", _("residents' meeting")
        RESIDENTS_REPRESENTATIVES_MEETING = "residents_representatives_meeting", _("residents' representatives' meeting")
        TWO_COMMITTEES_JOINT_MEETING = "two_committees_joint_meeting", _("two committees' joint meeting")
        PARTY_MEMBERS_MEETING = "party_members_meeting", _("party members' meeting")
        PARTY_BRANCH_COMMITTEE = "party_branch_committee", _("party branch committee")
        VILLAGERS_COMMITTEE = "villagers_committee", _("villagers' committee")
        RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")
        CONFIGURED = "configured", _("configured body")

    # Kinds whose members are the configured BodyMember rows; every other kind derives them.
    CONFIGURED_KINDS = frozenset({"villagers_representatives_meeting", "residents_representatives_meeting",
                                  "configured"})

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="bodies",
                               help_text=_("the community or village it serves"))
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="bodies",
        help_text=_("the party branch or committee whose members or posts make up the body"))
    rule_code = models.CharField(_("decision rule"), max_length=60,
                                 help_text=_("the quorum and threshold preset its motions follow"))
    custom_rule = models.JSONField(_("custom rule"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["region_id", "kind", "name"]
        verbose_name = _("body")
        verbose_name_plural = _("bodies")

    def __str__(self):
        return self.name

    @property
    def is_configured(self) -> bool:
        return self.kind in self.CONFIGURED_KINDS


class BodyMember(models.Model):
    """A configured member of a body: a representative, or a person sent by a co-building unit."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="body_memberships")
    is_principal = models.BooleanField(_("principal leader"), default=False)
    unit = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text=_("the unit the member represents, for a joint body"))
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["body_id", "id"]
        constraints = [models.UniqueConstraint(fields=["body", "person"], name="body_member_once")]


class Topic(models.Model):
    """A topic (议题): from a resident's proposal, an organisation, an insight hot spot or an opinion map."""

    class Origin(models.TextChoices):
        RESIDENT = "resident", _("resident proposal")
        ORGANISATION = "organisation", _("organisation")
        HOT_SPOT = "hot_spot", _("insight hot spot")
        AGENDA = "agenda", _("insight agenda suggestion")

    class Status(models.TextChoices):
        # A resident's proposal is held until an officer approves it (pre-moderation); not shown publicly.
        PENDING = "pending", _("awaiting moderation")
        REJECTED = "rejected", _("not approved by the moderators")
        COLLECTING = "collecting", _("collecting support")
        AGENDA = "agenda", _("on the agenda")
        IN_PROCEDURE = "in_procedure", _("in procedure")
        RETURNED = "returned", pgettext_lazy("topic", "returned")
        DECIDED = "decided", _("decided")
        COMPLETED = "completed", _("completed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    title = models.CharField(pgettext_lazy("heading", "title"), max_length=120)
    description = models.TextField(_("description"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="topics")
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices)
    origin_reference = models.CharField(_("origin reference"), max_length=80, blank=True,
                                        help_text=_("e.g. the hot spot or issue it came from"))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    support_threshold = models.PositiveIntegerField(_("support needed"), default=0)
    support_count = models.PositiveIntegerField(_("support"), default=0)
    procedure_code = models.CharField(_("procedure"), max_length=60, blank=True)
    procedure_definition = models.JSONField(_("procedure definition"), default=list, blank=True,
                                            help_text=_("the stages, copied when the procedure started"))
    returned_reason = models.TextField(_("reason returned"), blank=True)
    draft_resolution = models.TextField(_("draft resolution"), blank=True)
    opinion_map_open = models.BooleanField(_("opinion map open"), default=True)
    vote_changes = models.PositiveIntegerField(default=0, editable=False,
                                               help_text="statement votes and moderations so far (map freshness)")
    # Moderation: the reason a proposal was not approved or a reported topic was removed; and, once reports
    # from enough different people reach the threshold, the time it was hidden pending an officer's review.
    moderation_reason = models.CharField(_("moderation reason"), max_length=200, blank=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden pending review since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self):
        return self.title

    # Statuses never shown to the public: held for moderation, or not approved.
    UNPUBLISHED = frozenset({"pending", "rejected"})

    @property
    def is_public(self) -> bool:
        return self.status not in self.UNPUBLISHED and self.hidden_at is None

    @classmethod
    def public_q(cls) -> Q:
        return ~Q(status__in=cls.UNPUBLISHED) & Q(hidden_at__isnull=True)


class Support(models.Model):
    """One resident's support for a proposed topic (附议)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="support_once")]


class Comment(models.Model):
    """A post in a topic's discussion thread. Hidden posts stay stored, with who hid them and why; one hidden
    by reports (no `hidden_by`) waits for an officer to restore it or keep it hidden."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("text"))
    at = models.DateTimeField()
    hidden_reason = models.CharField(_("reason hidden"), max_length=200, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Report(models.Model):
    """A report (举报) of a topic, comment or statement as breaking the rules."""

    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    statement = models.ForeignKey("Statement", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(topic__isnull=False) & Q(comment__isnull=True) & Q(statement__isnull=True))
                | (Q(topic__isnull=True) & Q(comment__isnull=False) & Q(statement__isnull=True))
                | (Q(topic__isnull=True) & Q(comment__isnull=True) & Q(statement__isnull=False)),
                name="report_has_one_subject"),
            # One person's reports count once towards hiding: they report a topic or a comment once.
            models.UniqueConstraint(fields=["topic", "reporter"], condition=Q(topic__isnull=False),
                                    name="report_topic_once"),
            models.UniqueConstraint(fields=["comment", "reporter"], condition=Q(comment__isnull=False),
                                    name="report_comment_once"),
        ]


class Attachment(models.Model):
    """A document attached to a topic (a plan, a budget, a map), stored with its SHA-256."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class Statement(models.Model):
    """A short statement (观点) in a topic's opinion map, voted agree / disagree / pass by others."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting moderation")
        ACCEPTED = "accepted", pgettext_lazy("statement", "accepted")
        REJECTED = "rejected", _("moderated out")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="statements")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("text"), max_length=280)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    moderation_reason = models.CharField(_("moderation reason"), max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class StatementVote(models.Model):
    """A participant's vote on a statement: agree (1), disagree (-1) or pass (0). A new vote replaces
    the old one (the row is updated; each change is an event)."""

    class Choice(models.IntegerChoices):
        AGREE = 1, _("agree")
        DISAGREE = -1, _("disagree")
        PASS = 0, _("pass / unsure")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    vote = models.SmallIntegerField(choices=Choice.choices)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["statement", "participant"], name="statement_vote_once")]
        indexes = [models.Index(fields=["topic", "id"])]


class OpinionMapSnapshot(models.Model):
    """The latest computed opinion map of a topic, with the state the next update starts from."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="opinion_map")
    computed_at = models.DateTimeField()
    votes_seen = models.PositiveIntegerField(default=0, help_text="StatementVote changes included")
    result = models.JSONField(default=dict)
    state = models.JSONField(default=dict)


class Meeting(models.Model):
    """A meeting of a body: notice, roll (应到) frozen when it opens, sign-in, motions and minutes."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        OPEN = "open", _("in session")
        CLOSED = "closed", pgettext_lazy("meeting or vote", "closed")

    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="meetings")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    agenda = models.TextField(_("agenda"))
    place = models.CharField(_("place"), max_length=160, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    notice_given_at = models.DateTimeField(_("notice given at"))
    secretary = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self):
        return self.title


class RollEntry(models.Model):
    """One person due to attend (应到), frozen when the meeting opens, and their attendance (实到).

    Attendance is signed in by the member online, or entered by the secretary and confirmed by a second
    person (two-person entry); only confirmed entries count."""

    class How(models.TextChoices):
        ONLINE = "online", _("signed in online")
        RECORDED = "recorded", _("recorded by the secretary")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="roll")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    household_id_at_roll = models.PositiveBigIntegerField(null=True, blank=True)
    is_principal = models.BooleanField(default=False)
    present_since = models.DateTimeField(null=True, blank=True)
    how = models.CharField(max_length=10, choices=How.choices, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["meeting_id", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="roll_once")]

    @property
    def is_present(self) -> bool:
        return self.present_since is not None and (self.how == self.How.ONLINE or self.confirmed_by_id is not None)


class Motion(models.Model):
    """A motion or election put to a meeting, counted by a method under the body's decision rule."""

    class Method(models.TextChoices):
        YES_NO = "yes_no", _("yes / no / abstain")
        PLURALITY = "plurality", _("plurality")
        APPROVAL = "approval", _("approval")
        IRV = "irv", _("instant runoff")
        SCHULZE = "schulze", _("Schulze")
        BORDA = "borda", _("Borda count")
        MAJORITY_SEATS = "majority_seats", _("election by majority of votes cast")

    class Status(models.TextChoices):
        OPEN = "open", _("voting")
        CLOSED = "closed", pgettext_lazy("meeting or vote", "closed")

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="motions")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="motions")
    stage_code = models.CharField(_("procedure stage"), max_length=60, blank=True)
    text = models.TextField(_("text"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    options = models.JSONField(_("options"), default=list, blank=True)
    seats = models.PositiveSmallIntegerField(_("seats"), default=1)
    amount = models.DecimalField(_("amount approved (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True,
                                 help_text=_("for a spending or a project: the sum the resolution approves"))
    is_secret = models.BooleanField(_("secret ballot"), default=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    published_ballots_sha256 = models.CharField(max_length=64, blank=True)
    is_passed = models.BooleanField(null=True)
    # For a collective decision (三重一大): each member's view in the order spoken, as minuted.
    views = models.JSONField(_("views minuted"), default=list, blank=True)

    class Meta:
        ordering = ["meeting_id", "id"]
        verbose_name = _("motion")
        verbose_name_plural = _("motions")


class Ballot(models.Model):
    """One ballot. Open ballots name the voter; secret ballots do not: the voter's mark (VoterMark) is
    kept apart, the ballot has a random id and no time, and the voter keeps its tracker and nonce.

    While a secret vote is open its rows hold the choice and tracker only `sealed` (AES-GCM under a key
    derived from the server's secret key, which the database does not hold), `choice` and `tracker` are
    empty: rows written in the order of casting then say nothing about who chose what. Closing the vote
    opens the seals and rewrites the rows in tracker order under new random ids (see docs/rules.md).

    Paper ballots are entered by the secretary and count only once a second person confirms them. For a
    secret vote, who handed one in is marked on the roll (VoterMark.is_paper) in a separate step; the
    ballot entered from the box names no voter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, related_name="ballots")
    voter = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    choice = models.JSONField(null=True, blank=True)
    tracker = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sealed = models.TextField(blank=True)
    is_paper = models.BooleanField(default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["motion", "voter"], condition=Q(voter__isnull=False),
                                    name="open_ballot_once"),
        ]

    @property
    def counts(self) -> bool:
        return not self.is_paper or self.confirmed_by_id is not None


class VoterMark(models.Model):
    """That a person has voted on a motion (secret or open): stops a second vote, says nothing of how, and
    names no ballot. `is_paper`: marked on the roll by the secretary as having handed in a paper ballot."""

    motion = models.ForeignKey(Motion, on_delete=models.PROTECT, related_name="marks")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    is_paper = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["motion", "person"], name="vote_once")]


class StageRecord(models.Model):
    """One stage of a topic's procedure as it ran: its meeting and figures, minutes, signatures, outcome."""

    class Outcome(models.TextChoices):
        PASSED = "passed", _("passed")
        FAILED = "failed", _("failed")
        DONE = "done", _("done")

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="stages")
    sequence = models.PositiveSmallIntegerField()
    stage_code = models.CharField(max_length=60)
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    motion = models.ForeignKey(Motion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    disclosure = models.ForeignKey("Disclosure", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    due = models.PositiveIntegerField(null=True, blank=True)
    present = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    minutes = models.TextField(blank=True)
    signatures = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["topic_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["topic", "sequence"], name="stage_sequence_once")]


class Disclosure(models.Model):
    """A public notice (公示/公开) with a notice period; residents may object during it, and the item
    completes only when the period is over and every objection has been answered."""

    class Kind(models.TextChoices):
        PARTY_AFFAIRS = "party_affairs", _("party affairs")
        VILLAGE_AFFAIRS = "village_affairs", _("village / community affairs")
        FINANCES = "finances", _("finances")
        RESOLUTION = "resolution", _("resolution")
        IMPLEMENTATION = "implementation", _("implementation result")

    class Status(models.TextChoices):
        IN_NOTICE = "in_notice", _("in notice period")
        COMPLETED = "completed", _("completed")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="disclosures")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=160)
    body = models.TextField(_("content"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published"))
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"))
    notice_ends_at = models.DateTimeField(_("notice period ends"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")


class Objection(models.Model):
    """A resident's objection (异议) to a disclosure, which must be answered before the item completes."""

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="objections")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    filed_at = models.DateTimeField()
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["filed_at", "id"]


class CollectedOpinion(models.Model):
    """A resident's opinion or signature on a topic, collected door to door by their building lead (楼栋长代收):
    for a resident who does not take part online. One per resident per topic; it says who collected it and
    when, and the procedure stage it was collected for."""

    class Stance(models.TextChoices):
        AGREE = "agree", _("agrees")
        DISAGREE = "disagree", _("disagrees")
        COMMENT = "comment", _("comment only")
        SIGNATURE = "signature", _("signature")

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="collected_opinions")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    stance = models.CharField(_("opinion"), max_length=10, choices=Stance.choices)
    text = models.CharField(_("comment"), max_length=500, blank=True)
    # 本人已签字: the resident signed the paper form, beside their opinion (not an opinion of its own; the stance
    # "signature" is kept only for records made before this field).
    signed = models.BooleanField(_("signed by the resident"), default=False)
    stage_code = models.CharField(_("procedure stage"), max_length=60, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField()

    class Meta:
        ordering = ["topic_id", "-collected_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["topic", "person"], name="collected_opinion_once")]
