"""Forms of the care pages: parsing only; every rule is in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.demands.forms import PhotosField

from .models import CareGroup, Visit
from .services import MAX_NOTE, MAX_NOTICE


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class VisitForm(_Form):
    kind = forms.ChoiceField(label=_("Kind of visit"), choices=Visit.Kind.choices, initial=Visit.Kind.CARE)
    person = forms.TypedChoiceField(label=_("Whom you saw"), coerce=int, required=False, empty_value=None)
    note = forms.CharField(label=_("What you found"), max_length=MAX_NOTE, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos (optional)"))
    follow_up = forms.CharField(label=_("Demand followed up (its number)"), max_length=24, required=False)
    demand_text = forms.CharField(label=_("File a demand from this visit (optional)"), max_length=2000,
                                  required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("Write what the household needs solved; it is filed for the person "
                                              "you saw and goes to the dispatch desk."))

    def __init__(self, *args, members=(), **kwargs):
        kwargs.setdefault("auto_id", "visit_%s")  # its own ids: the household page also holds RegisterForm
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("the household"))] + [(m["person"].pk, m["card"].name)
                                                                      for m in members]


class RegisterForm(_Form):
    person = forms.TypedChoiceField(label=_("Resident"), coerce=int)
    group = forms.ChoiceField(label=_("Care group"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, members=(), **kwargs):
        kwargs.setdefault("auto_id", "register_%s")
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(m["person"].pk, m["card"].name) for m in members]
        self.fields["group"].choices = [
            (g.code, _("%(name)s (visit every %(days)s days)") % {"name": g.name, "days": g.visit_every_days})
            for g in CareGroup.objects.filter(is_active=True)]


class EndRegistrationForm(_Form):
    reason = forms.CharField(label=_("Why it ends"), max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "end_%s")
        super().__init__(*args, **kwargs)


class NoticeForm(_Form):
    text = forms.CharField(label=_("Notice to the building"), max_length=MAX_NOTICE,
                           widget=forms.Textarea(attrs={"rows": 3}))


class OnBehalfForm(_Form):
    person = forms.TypedChoiceField(label=_("For whom"), coerce=int)
    text = forms.CharField(label=_("What is the problem?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos (optional)"))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("choose a resident"))] + [
            (m["person"].pk, f'{m["card"].name} · {m["person"].household.unit}') for m in members]
