"""The case file's forms: a resident's verdict, a milestone's progress with photos, the project's outcome."""

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.demands.forms import PhotosField

from . import services
from .models import Verdict


class VerdictForm(forms.Form):
    solved = forms.TypedChoiceField(label=_("Is the problem solved?"), widget=forms.RadioSelect,
                                    choices=[("yes", _("Yes, it is solved")), ("no", _("No, it is not solved"))],
                                    coerce=lambda value: value == "yes")
    satisfaction = forms.ChoiceField(label=_("Are you satisfied with the outcome?"), widget=forms.RadioSelect,
                                     choices=Verdict.Satisfaction.choices)
    comment = forms.CharField(label=_("Anything to add (optional)"), required=False,
                              max_length=services.MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3}))


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos of the work (up to 6)"))
    done = forms.BooleanField(label=_("This milestone is complete"), required=False)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class CheckForm(forms.Form):
    """An officer's check of a completed milestone against its quality standard (验收)."""

    quality_met = forms.TypedChoiceField(label=_("Does the work meet the quality standard?"), widget=forms.RadioSelect,
                                         choices=[("yes", _("Yes: accept it")),
                                                  ("no", _("No: send it back to be put right"))],
                                         coerce=lambda value: value == "yes")
    note = forms.CharField(label=_("What was checked"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReplyAllForm(forms.Form):
    """The lead unit's one answer to every demand of the case it holds."""

    text = forms.CharField(label=_("Your answer to each of them"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))
