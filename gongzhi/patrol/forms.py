"""Forms of the patrol pages. The ids a form names (grid, buildings, places) are checked by the services
against the caller's scope, not by the form's choices alone."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WEEKDAY_NAMES

WEEKDAYS = list(enumerate(WEEKDAY_NAMES))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(PhotosField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class IdsField(forms.Field):
    """Ids ticked in a list; which of them the caller may name is the service's check (404 otherwise)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        try:
            return [int(v) for v in (value or [])]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("not a list of ids"), code="invalid") from None


class CheckInForm(forms.Form):
    client_key = forms.CharField(max_length=64)
    longitude = forms.FloatField(required=False)
    latitude = forms.FloatField(required=False)
    accuracy = forms.FloatField(required=False, min_value=0)
    recorded_at = forms.DateTimeField(required=False)
    note = forms.CharField(max_length=200, required=False)


class FindingForm(forms.Form):
    client_key = forms.CharField(max_length=64)
    text = forms.CharField(label=_("What did you find?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    solved = forms.TypedChoiceField(label=_("Solved?"), coerce=lambda v: v == "yes",
                                    choices=[("yes", _("Solved on the spot (随手办)")),
                                             ("no", _("File it for a unit to handle"))],
                                    widget=forms.RadioSelect, initial="yes")
    solution = forms.CharField(label=_("What did you do?"), max_length=1000, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    longitude = forms.FloatField(required=False)
    latitude = forms.FloatField(required=False)
    recorded_at = forms.DateTimeField(required=False)
    task = forms.IntegerField(required=False)
    photos = PhotosField(label=_("Photos"), required=False)


class VerifyForm(forms.Form):
    note = forms.CharField(label=_("What you saw"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos of the place"), required=False)


class NotDoneForm(forms.Form):
    """核查未通过: what is still not done (required), with optional photos; distinct ids from VerifyForm's."""
    note = forms.CharField(label=_("What is still not done"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos of the place"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "notdone_%s")
        super().__init__(*args, **kwargs)


class PlaceForm(forms.Form):
    grid = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Place name"), max_length=60)
    longitude = forms.FloatField(label=_("Longitude"))
    latitude = forms.FloatField(label=_("Latitude"))


class PlanForm(forms.Form):
    grid = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Plan name"), max_length=60)
    buildings = IdsField(label=_("Buildings"), required=False)
    places = IdsField(label=_("Places"), required=False)
    every_days = forms.IntegerField(label=_("Every N days"), required=False, min_value=1, max_value=365)
    weekdays = forms.TypedMultipleChoiceField(label=_("Or on these weekdays"), coerce=int, required=False,
                                              choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple)
    start_date = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, buildings=(), places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buildings"].widget.choices = [(b.pk, b.name) for b in buildings]
        self.fields["places"].widget.choices = [(p.pk, p.name) for p in places]
