"""deliberation page forms: what a person types or picks, checked for shape only (required, length, a
number). Whether the act is allowed and makes sense is the use case's answer in services.py."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.preview import masked_preview

from .models import Body, CollectedOpinion, Disclosure, Motion, StatementVote, Topic

TEXTAREA = {"rows": 3}


def _region_choices(regions, *, blank=None) -> list[tuple]:
    """Regions in tree order, indented by level so a street's communities sit under it."""
    regions = list(regions)
    top = min((r.level for r in regions), default=0)
    choices = [("", blank)] if blank is not None else []
    return choices + [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions]


# --- filters ------------------------------------------------------------------------------------------

class TopicFilter(forms.Form):
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("any status")),
                                        *[c for c in Topic.Status.choices if c[0] not in Topic.UNPUBLISHED]])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices(regions, blank=_("all regions"))


class MeetingFilter(forms.Form):
    """The meetings index: one body's meetings, or a place's, in one state; `day`/`mine`/`voting` are the
    home page's links (the user's meetings of a day, the meetings with a vote waiting for them)."""

    STATES = (("", _("all meetings")), ("upcoming", _("upcoming")), ("open", _("in session")),
              ("closed", pgettext_lazy("meeting or vote", "closed")))
    body = forms.ModelChoiceField(label=_("Body"), required=False, queryset=Body.objects.none(),
                                  empty_label=_("all bodies"))
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    mine = forms.BooleanField(required=False, widget=forms.HiddenInput)
    voting = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, bodies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if bodies is not None:
            self.fields["body"].queryset = bodies


class CalendarFilter(forms.Form):
    month = forms.RegexField(label=_("Month"), required=False, regex=r"^\d{4}-(0[1-9]|1[0-2])$",
                             widget=forms.DateInput(attrs={"type": "month"}))
    body = forms.ModelChoiceField(label=_("Body"), required=False, queryset=Body.objects.none(),
                                  empty_label=_("all bodies"))

    def __init__(self, *args, bodies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if bodies is not None:
            self.fields["body"].queryset = bodies


class DisclosureFilter(forms.Form):
    region = forms.TypedChoiceField(label=_("Region"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("all kinds")), *Disclosure.Kind.choices])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices(regions, blank=_("all regions"))


# --- topics -------------------------------------------------------------------------------------------

class RegionField(forms.IntegerField):
    """A region picked from a list of likely ones; whether the person may act there is the use case's answer."""

    widget = forms.Select


class ProposeTopicForm(forms.Form):
    region = RegionField(label=_("Where"))
    title = masked_preview(forms.CharField(label=_("Title"), max_length=120,
                                           help_text=_("One line: what should be discussed or decided?")))
    description = masked_preview(forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why it matters and what you propose. Phone, ID and house numbers are masked when "
                    "published.")))

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.choices = _region_choices(regions)


class CommentForm(forms.Form):
    text = masked_preview(forms.CharField(label=_("Your comment"), max_length=2000,
                                          widget=forms.Textarea(attrs=TEXTAREA)))


class CollectOpinionForm(forms.Form):
    person = forms.IntegerField(label=_("Resident"), widget=forms.Select)
    # A signature is not an opinion: the resident agrees, disagrees or comments, and may also sign (本人已签字).
    stance = forms.ChoiceField(label=_("Opinion"), choices=[
        (value, label) for value, label in CollectedOpinion.Stance.choices
        if value != CollectedOpinion.Stance.SIGNATURE], widget=forms.RadioSelect)
    signed = forms.BooleanField(label=_("The resident signed in person"), required=False)
    text = masked_preview(forms.CharField(label=_("What the resident said"), max_length=500, required=False,
                                          widget=forms.Textarea(attrs={"rows": 2})))

    def __init__(self, *args, residents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].widget.choices = [("", "—")] + [
            (r.person_id, f"{r.unit} {r.name}".strip()) for r in residents if r.opinion is None]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class StatementForm(forms.Form):
    text = masked_preview(forms.CharField(
        label=_("Your statement"), max_length=280, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One short opinion others can agree or disagree with (up to 280 characters).")))


class VoteForm(forms.Form):
    vote = forms.TypedChoiceField(choices=StatementVote.Choice.choices, coerce=int)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class ProcedureForm(forms.Form):
    procedure = forms.ChoiceField(label=_("Procedure"))

    def __init__(self, *args, procedures=None, chinese=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [(code, p.name_zh if chinese else p.name_en)
                                            for code, p in (procedures or {}).items()]


class ScheduleMeetingForm(forms.Form):
    body = forms.ModelChoiceField(label=_("Body"), queryset=Body.objects.none())
    title = forms.CharField(label=_("Title"), max_length=160)
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea(attrs=TEXTAREA))
    starts_at = forms.DateTimeField(label=_("Starts at"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                               format="%Y-%m-%dT%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=160, required=False)

    def __init__(self, *args, bodies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if bodies is not None:
            self.fields["body"].queryset = bodies


# --- meetings and motions -----------------------------------------------------------------------------

class MotionForm(forms.Form):
    text = forms.CharField(label=_("Motion"), widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("What is put to the vote, e.g. “Agree to repair the village road”."))
    method = forms.ChoiceField(label=_("Voting method"), choices=Motion.Method.choices, initial="yes_no")
    options = forms.CharField(label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("One per line; not for a yes / no motion."))
    seats = forms.IntegerField(label=_("Seats"), min_value=1, initial=1,
                               help_text=_("How many options or candidates win."))
    secret = forms.BooleanField(label=_("Secret ballot"), required=False)
    stage_code = forms.ChoiceField(label=_("Procedure stage"), required=False)

    def __init__(self, *args, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage_code"].choices = [("", _("not a procedure stage")), *stages]

    def option_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 4}))


def ballot_choice(method: str, options: list[str], data) -> object:
    """The choice of a ballot form in the stored form (a string or a list of options), by the motion's method:
    one radio (yes / no / abstain, plurality), checkboxes (approval, election), or a rank per option (ranked
    methods). Raises ValidationFailed when the form is not filled in as its method needs."""
    if method in ("yes_no", "plurality"):
        choice = data.get("choice", "")
        if not choice:
            raise ValidationFailed(gettext("choose one"), code="invalid_choice")
        return choice
    if method in ("approval", "majority_seats"):
        return data.getlist("choice")
    ranks = {}
    for index, option in enumerate(options):
        value = data.get(f"rank-{index}", "")
        if value:
            if not value.isdigit():
                raise ValidationFailed(gettext("a rank is a number"), code="invalid_choice")
            if int(value) in ranks:
                raise ValidationFailed(gettext("two options have rank %(rank)s") % {"rank": value},
                                       code="invalid_choice")
            ranks[int(value)] = option
    return [ranks[rank] for rank in sorted(ranks)]


# --- disclosure ---------------------------------------------------------------------------------------

class DisclosureForm(forms.Form):
    region = RegionField(label=_("Region"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Disclosure.Kind.choices)
    title = masked_preview(forms.CharField(label=_("Title"), max_length=160))
    body = masked_preview(forms.CharField(label=_("Content"), widget=forms.Textarea(attrs={"rows": 5})))
    notice_days = forms.IntegerField(label=_("Notice period (days)"), initial=7)
    topic = forms.ModelChoiceField(label=_("Topic"), required=False, queryset=Topic.objects.none(),
                                   empty_label=_("none"))

    def __init__(self, *args, regions=(), topics=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.choices = _region_choices(regions)
        if topics is not None:
            self.fields["topic"].queryset = topics


class ObjectionForm(forms.Form):
    text = masked_preview(forms.CharField(label=_("Your objection"), max_length=2000,
                                          widget=forms.Textarea(attrs=TEXTAREA)))


class AnswerForm(forms.Form):
    answer = masked_preview(forms.CharField(label=_("Answer"), max_length=4000,
                                            widget=forms.Textarea(attrs=TEXTAREA)))
