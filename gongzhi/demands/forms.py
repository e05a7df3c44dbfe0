"""Forms of the demands pages: filing a demand, one small form per workflow action, and the dashboard's
filter. They only parse input; every rule is checked again by the use case they feed."""

import calendar
import datetime as dt

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock
from gongzhi.org.models import Organisation, Region

from . import queries, ranking, rules
from .models import Demand, Urgency
from .services import MAX_TEXT

# What each action is called on a button, and what a step of the timeline says it did.
ACTION_LABELS = {
    "triage": _("Set category"),
    "dispatch": _("Dispatch"),
    "accept": _("Accept"),
    "return": _("Return to dispatch"),
    "start_work": _("Start work"),
    "reply": _("Reply"),
    "verify": _("Verify"),
    "close": _("Close"),
    "rate": _("Rate"),
    "reopen": _("Reopen"),
    "merge": _("Merge as duplicate"),
    "reject": _("Reject"),
    "confirm_urgency": _("Confirm urgency"),
}
STEP_LABELS = {
    "file": _("Filed"),
    "triage": _("Category set"),
    "dispatch": _("Dispatched"),
    "accept": _("Accepted"),
    "return": _("Returned to dispatch"),
    "start_work": _("Work started"),
    "reply": _("Replied"),
    "verify": _("Verified"),
    "close": _("Closed"),
    "rate": _("Rated"),
    "reopen": _("Reopened"),
    "merge": _("Merged as duplicate"),
    "reject": _("Rejected"),
    "confirm_urgency": _("Urgency confirmed"),
    "photo": _("Photos added"),
    "solve_on_spot": _("Solved on the spot on patrol"),
    "verify_failed": _("Verification failed: not done (the desk is asked to reopen it)"),
    "recompute_deadline": _("Deadline recomputed by a holiday notice"),
    # 督办 (supervision.py, escalation.py): the demand's state does not change.
    "supervise": _("Supervision order issued"),
    "answer_supervision": _("Supervision order answered"),
    "close_supervision": _("Supervision order closed"),
    "resolve_supervision": _("Supervision order resolved: the step was done"),
    "list_supervision": _("Listed for public supervision"),
}


def category_name(category) -> str:
    if category is None:
        return ""
    english = (get_language() or "").startswith("en")
    return category.name_en if english and category.name_en else category.name


def category_choices(*, blank: str) -> list:
    """The category tree as grouped choices: each top category is a group offering itself and its children."""
    choices = [("", blank)]
    for node in queries.category_tree():
        top = node["category"]
        options = [(top.code, category_name(top))]
        options += [(child["category"].code, category_name(child["category"])) for child in node["children"]]
        choices.append((category_name(top), options))
    return choices


def grid_choices(grids: list[dict]) -> list:
    """Grids (queries.grid_outlines) grouped by community, for filing without the map."""
    groups: dict[str, list] = {}
    for grid in sorted(grids, key=lambda g: (g["community"], g["code"] or "", g["name"])):  # G01, G02 … G10
        # Under its community's heading a grid is named without it: 第一网格, not 东华园社区第一网格 · code.
        name = grid["name"].removeprefix(grid["community"]) or grid["name"]
        groups.setdefault(grid["community"], []).append((grid["id"], name))
    return [("", _("— choose your grid —")), *groups.items()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to photos.MAX_PER_STAGE photos from the camera or the files; checked by content in photos.py."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        from .photos import MAX_PER_STAGE

        if len(files) > MAX_PER_STAGE:
            raise forms.ValidationError(_("At most %(count)s photos.") % {"count": MAX_PER_STAGE})
        return [super(PhotosField, self).clean(f, initial) for f in files]


class FileDemandForm(forms.Form):
    text = forms.CharField(label=_("What is the problem?"), max_length=MAX_TEXT, strip=True,
                           widget=forms.Textarea(attrs={"rows": 5}))
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 help_text=_("Not sure? Leave it: the dispatch desk will choose."))
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    grid = forms.TypedChoiceField(label=_("Grid"), required=False, coerce=int, empty_value=None)
    address = forms.CharField(label=_("Address"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("e.g. Building 3, 12 Dongyuan Road")}))
    contact_name = forms.CharField(label=_("Your name"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("Your phone"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    photos = PhotosField(label=_("Photos (up to 6)"),
                         help_text=_("Take them with the camera or choose them. Only those handling your report "
                                     "see them, unless the desk publishes them."))
    share_location = forms.BooleanField(label=_("Keep where the photos were taken (from the camera's GPS)"),
                                        required=False)

    def __init__(self, *args, grids: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(blank=_("— not sure —"))
        self.fields["grid"].choices = grid_choices(grids)

    def clean(self):
        data = super().clean()
        has_point = data.get("longitude") is not None and data.get("latitude") is not None
        if not has_point and not data.get("grid"):
            raise forms.ValidationError(_("Tap the map where the problem is, or choose your grid and give an address."),
                                        code="location_required")
        return data

    def grid_region(self) -> Region | None:
        """The chosen grid when no map point was given (the point wins: it is placed by point-to-grid)."""
        data = self.cleaned_data
        if data.get("longitude") is not None and data.get("latitude") is not None:
            return None
        return Region.objects.filter(pk=data["grid"], level=Region.Level.GRID).first()


# --- one form per action ----------------------------------------------------------------------------------

class ActionForm(forms.Form):
    """No input: the button is the whole form (accept, start work)."""

    def __init__(self, *args, demand: Demand, action: str, user=None, shared: dict | None = None, **kwargs):
        kwargs.setdefault("auto_id", f"id_{demand.number}_{action}_%s")
        kwargs.setdefault("label_suffix", "")  # labels end in their own words ("问题是否已解决？"), never a colon
        super().__init__(*args, **kwargs)
        self.demand, self.action, self.user = demand, action, user
        # `shared`: one dict for every form of a list page (one user, one request), so that what every card's
        # form offers (the category tree, the units of a grid) is read once per page, not once per card.
        self.shared = shared

    def _once(self, key, compute):
        """compute(), or what it gave for `key` on this list page already."""
        if self.shared is None:
            return compute()
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def _categories(self, blank: str) -> list:
        return self._once(("categories", str(blank)), lambda: category_choices(blank=blank))


class NoteForm(ActionForm):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, strip=True)


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, strip=True,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Give a reason.")})


class ReplyForm(ActionForm):
    text = forms.CharField(label=_("Reply to the resident"), max_length=MAX_TEXT, strip=True,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _("Write the reply.")})
    photos = PhotosField(label=_("Photos after handling (up to 6)"),
                         help_text=_("Take them with the phone's camera or choose them: the resident sees them "
                                     "with the reply."))


class AddPhotosForm(forms.Form):
    photos = PhotosField(label=_("Add photos"), required=True)
    share_location = forms.BooleanField(label=_("Keep where the photos were taken (from the camera's GPS)"),
                                        required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TriageForm(ActionForm):
    category = forms.ChoiceField(label=_("Category"))
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = self._categories(_("— choose —"))
        self.fields["urgency"].choices = [("", _("— as proposed —")), *Urgency.choices]
        if self.demand.category_id:
            self.fields["category"].initial = self.demand.category.code
        elif self.demand.suggested_category_id:  # the classifier's proposal, for a person to confirm or correct
            self.fields["category"].initial = self.demand.suggested_category.code


class DispatchForm(ActionForm):
    unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=Organisation.objects.none(), required=False,
                                  empty_label=_("— by the routing rules —"))
    assisting = forms.ModelMultipleChoiceField(label=_("Assisting units"), queryset=Organisation.objects.none(),
                                               required=False, widget=forms.SelectMultiple(attrs={"size": 4}))
    category = forms.ChoiceField(label=_("Category"), required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The units this user may send it to; dispatch refuses any other (services.dispatch).
        units = queries.dispatch_units(self.user, self.demand)
        self.fields["unit"].queryset = units
        self.fields["assisting"].queryset = units
        if self.shared is not None:  # a list page: the offered units read once per grid (they depend on its place)
            offered = self._once(("units", self.demand.grid_id), lambda: [
                (unit.pk, self.fields["unit"].label_from_instance(unit)) for unit in units])
            self.fields["unit"].choices = [("", self.fields["unit"].empty_label), *offered]
            self.fields["assisting"].choices = offered
        self.fields["category"].choices = self._categories(_("— keep —"))
        if self.demand.category_id:
            self.fields["category"].initial = self.demand.category.code
        elif self.demand.suggested_category_id:
            self.fields["category"].initial = self.demand.suggested_category.code


class RateForm(ActionForm):
    solved = forms.TypedChoiceField(label=_("Was the problem solved?"), widget=forms.RadioSelect,
                                    choices=[("yes", _("Solved")), ("no", _("Not solved"))],
                                    coerce=lambda value: value == "yes")
    satisfaction = forms.ChoiceField(label=_("How satisfied are you?"), widget=forms.RadioSelect,
                                     choices=Demand.Satisfaction.choices)
    note = forms.CharField(label=_("Anything to add?"), max_length=2000, required=False, strip=True)


class MergeForm(ActionForm):
    original = forms.CharField(label=_("Number of the original demand"), max_length=24, strip=True)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, strip=True)


class ConfirmUrgencyForm(ActionForm):
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        suggested = self.demand.get_suggested_urgency_display()
        blank = (_("— as the reporter suggested (%(urgency)s) —") % {"urgency": suggested}
                 if self.demand.suggested_urgency else _("— choose —"))
        self.fields["urgency"].choices = [("", blank), *Urgency.choices]


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "triage": TriageForm,
    "dispatch": DispatchForm,
    "accept": ActionForm,
    "return": ReasonForm,
    "start_work": ActionForm,
    "reply": ReplyForm,
    "verify": NoteForm,
    "close": NoteForm,
    "rate": RateForm,
    "reopen": ReasonForm,
    "merge": MergeForm,
    "reject": ReasonForm,
    "confirm_urgency": ConfirmUrgencyForm,
}
assert set(ACTION_FORMS) == set(rules.ACTIONS), "every workflow action needs a form"


# --- the dashboard ---------------------------------------------------------------------------------------

class DashboardFilter(forms.Form):
    level = forms.ChoiceField(label=_("Per"), required=False, initial="street", choices=[
        ("street", _("street")), ("community", _("community")), ("unit", _("unit")), ("category", _("category")),
    ])
    month = forms.CharField(label=_("Month"), required=False, widget=forms.DateInput(attrs={"type": "month"}))
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    within = forms.TypedChoiceField(label=_("Within"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, regions=(), default_level: str = "street", **kwargs):
        super().__init__(*args, **kwargs)
        # The level below the user's widest scope (queries.default_rates_level): never a ranking of one.
        self.default_level = default_level
        self.fields["level"].initial = default_level
        self.fields["within"].choices = [("", _("everything I may see")), *[(r.pk, r.name) for r in regions]]
        # The picker shows the default period: the last complete month (ranking.last_complete_month).
        default_month = ranking.last_complete_month(clock.today())[0].strftime("%Y-%m")
        self.fields["month"].initial = default_month
        if self.is_bound and not any(self.data.get(name) for name in ("month", "start", "end")):
            self.data = self.data.copy()
            self.data["month"] = default_month

    def clean_month(self):
        value = self.cleaned_data.get("month")
        if not value:
            return None
        try:
            return dt.date.fromisoformat(f"{value}-01")
        except ValueError:
            raise forms.ValidationError(_("Give the month as YYYY-MM.")) from None

    def period(self) -> tuple[str, dt.date, dt.date]:
        """(level, start, end): a range given wins over a month; neither: the last complete month, so that a
        ranking never rests on a few days (ranking.last_complete_month)."""
        data = self.cleaned_data if self.is_valid() else {}
        today = clock.today()
        level = data.get("level") or self.default_level
        if data.get("start") or data.get("end"):
            return level, data.get("start") or (data.get("end") or today).replace(day=1), data.get("end") or today
        if data.get("month"):
            first = data["month"]
            return level, first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return level, *ranking.last_complete_month(today)


# --- placing an Open311 request the address register could not place ----------------------------------------

def placement_grid_choices(grids) -> list:
    """The grids a desk may place a request in (queries.placement_grids), grouped by community."""
    groups: dict[str, list] = {}
    for grid in grids:
        label = f"{grid.name} · {grid.grid_code}" if grid.grid_code else grid.name
        groups.setdefault(grid.parent.name if grid.parent_id else "", []).append((grid.pk, label))
    return [("", _("— choose the grid —")), *groups.items()]


class PlaceSubmissionForm(forms.Form):
    # Any grid id is taken (a select offers the desk's own): the use case answers 404 for a grid outside
    # the desk's scope, as for one that does not exist.
    grid = forms.IntegerField(label=_("Grid"), widget=forms.Select,
                              error_messages={"required": _("Choose the grid.")})

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].widget.choices = placement_grid_choices(grids)


class RefuseSubmissionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=400, strip=True,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Give a reason.")})
