"""duties page forms: what a person types or picks, checked for shape only (required, a number, a date).
Whether the act is allowed and makes sense is the use case's answer in services.py."""

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.org.models import Organisation, Post

from .models import Goal, Scorecard

TEXTAREA = {"rows": 3}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WORDS = re.compile(r"[,，、;；\s]+")


def words(text: str) -> list[str]:
    """"cooking, 助餐、 driving" → ["cooking", "助餐", "driving"]."""
    return [w for w in WORDS.split(text or "") if w]


class UnitField(forms.ModelChoiceField):
    """An organisation, labelled with its place."""

    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name}（{obj.region.name}）" if getattr(obj, "region", None) else obj.name


# --- the power list -----------------------------------------------------------------------------------

class PowerItemForm(forms.Form):
    definition = forms.JSONField(label=_("Definition (JSON)"), widget=forms.Textarea(attrs={"rows": 14}),
                                 help_text=_("Thresholds, procedure, bodies, signatures and disclosures as "
                                             "docs/power-lists.md describes them. The code stays the same."))


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160,
                            help_text=_("What is decided, e.g. “Buy office supplies”."))
    amount = forms.DecimalField(label=_("Amount (yuan)"), required=False, min_value=0, max_digits=14,
                                decimal_places=2, help_text=_("Leave empty when no money is involved."))
    topic = forms.ModelChoiceField(label=_("Deliberation topic"), required=False, queryset=None,
                                   empty_label=_("none (no procedure)"),
                                   help_text=_("The topic whose procedure decided the matter, if any."))
    signatories = forms.MultipleChoiceField(label=_("Signed by"), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    details = forms.CharField(label=pgettext_lazy("decision", "Details"), required=False, widget=forms.Textarea(attrs=TEXTAREA),
                              help_text=_("Published with the decision where the list requires it. Do not write "
                                          "phone numbers or other personal details."))

    def __init__(self, *args, topics=None, signatories=(), units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topics
        self.fields["signatories"].choices = list(signatories)
        if units is not None:  # an officer who may plan: the project the decision starts, in the same submit
            add_plan_fields(self, units, required=False)

    def clean(self):
        return clean_plan(self, super().clean())


# --- the project a decision starts (立项) ---------------------------------------------------------------------

MILESTONE_ROWS = 4  # blank milestone rows on the form; more milestones are added as tasks on the project's goal


def add_plan_fields(form: forms.Form, units, *, required: bool) -> None:
    """The plan: the responsible unit (one the officer may name here), the budget (empty: the amount
    approved) and MILESTONE_ROWS rows of milestone, deadline and quality standard."""
    form.fields["unit"] = UnitField(
        label=_("Responsible unit"), queryset=units, required=required,
        empty_label=None if required else _("none: do not start a project now"),
        help_text=None if required else _("Name the unit to start the decision's project in the same step."))
    form.fields["budget"] = forms.DecimalField(
        label=_("Budget (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2,
        help_text=_("Empty: the amount approved. It cannot be more."))
    for i in range(MILESTONE_ROWS):
        form.fields[f"m{i}_title"] = forms.CharField(label=_("Milestone"), max_length=160, required=False)
        form.fields[f"m{i}_deadline"] = forms.DateField(label=_("Deadline"), required=False, widget=DATE)
        form.fields[f"m{i}_standard"] = forms.CharField(label=_("Quality standard"), max_length=300, required=False)


def milestone_rows(form: forms.Form) -> list[dict]:
    """The milestone rows as bound fields, for the template's table."""
    return [{"title": form[f"m{i}_title"], "deadline": form[f"m{i}_deadline"], "standard": form[f"m{i}_standard"]}
            for i in range(MILESTONE_ROWS) if f"m{i}_title" in form.fields]


def clean_plan(form: forms.Form, data: dict) -> dict:
    """The plan's shape: each milestone row filled has its title and its deadline; milestones need a unit.
    (Whether the plan is allowed: the budget within the amount, deadlines ahead, is services.start_project's.)"""
    if "unit" not in form.fields:
        return data
    milestones, typed = [], False
    for i in range(MILESTONE_ROWS):
        title, deadline = data.get(f"m{i}_title"), data.get(f"m{i}_deadline")
        standard = data.get(f"m{i}_standard") or ""
        if not (title or deadline or standard) and f"m{i}_deadline" not in form.errors:
            continue
        typed = True
        if not title:
            form.add_error(f"m{i}_title", _("Name the milestone."))
        elif not deadline and f"m{i}_deadline" not in form.errors:
            form.add_error(f"m{i}_deadline", _("Give the milestone its deadline."))
        else:
            milestones.append((title, deadline, standard))
    if (typed or data.get("budget") is not None) and not data.get("unit") and "unit" not in form.errors:
        form.add_error("unit", _("Name the unit responsible for the project."))
    data["milestones"] = milestones
    return data


class StartProjectForm(forms.Form):
    """立项: start the project of a decision already recorded."""

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        add_plan_fields(self, units, required=True)

    def clean(self):
        return clean_plan(self, super().clean())


# --- the responsibility list -----------------------------------------------------------------------

class ResponsibilityForm(forms.Form):
    unit = UnitField(label=_("Unit"), queryset=None)
    role = forms.ChoiceField(label=pgettext_lazy("job", "Post"), required=False)
    matters = forms.CharField(label=_("Matters"), max_length=500,
                              help_text=_("Demand category codes, separated by commas, e.g. "
                                          "environment.garbage, facilities.streetlight."))
    duty = forms.CharField(label=_("Duty"), widget=forms.Textarea(attrs=TEXTAREA),
                           help_text=_("What the unit must do, as written in the list."))
    priority = forms.IntegerField(label=_("Priority"), initial=0, min_value=-100, max_value=100,
                                  help_text=_("When two entries claim the same matter, the higher priority "
                                              "receives the demand."))

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["role"].choices = [("", _("the unit as a whole")), *Post.Role.choices]

    def clean_matters(self) -> list[str]:
        return words(self.cleaned_data["matters"])


# --- goals and tasks ---------------------------------------------------------------------------------

class GoalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=160,
                            help_text=_("e.g. “Raise the garbage sorting rate to 90 %”."))
    indicator = forms.CharField(label=_("Indicator"), max_length=120, help_text=_("What is measured."))
    unit_of_measure = forms.CharField(label=_("Unit of measure"), max_length=20, required=False,
                                      help_text=_("e.g. %, km, households"))
    start_value = forms.FloatField(label=_("Start value"))
    target_value = forms.FloatField(label=_("Target value"))
    direction = forms.ChoiceField(label=_("Better is"), choices=Goal.Direction.choices, initial="higher")
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    owner = UnitField(label=_("Responsible unit"), queryset=None)
    parent = forms.ModelChoiceField(label=_("Part of the goal"), required=False, queryset=None,
                                    empty_label=_("none (a top-level goal)"))
    live_indicator = forms.ChoiceField(label=_("Live indicator"), required=False,
                                       help_text=_("Optional: a figure measured by the system that feeds the "
                                                   "goal on its own."))

    def __init__(self, *args, units=None, goals=None, live_indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = units
        self.fields["parent"].queryset = goals
        self.fields["live_indicator"].choices = [("", _("none: values are reported by hand")), *live_indicators]


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=160)
    unit = UnitField(label=_("Responsible unit"), queryset=None)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    quality_standard = forms.CharField(label=_("Quality standard"), widget=forms.Textarea(attrs={"rows": 2}),
                                       help_text=_("How one tells the task is done well."))
    parent = forms.ModelChoiceField(label=_("Part of the task"), required=False, queryset=None,
                                    empty_label=_("none (a task of the goal itself)"))

    def __init__(self, *args, units=None, tasks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["parent"].queryset = tasks


class ProgressForm(forms.Form):
    value = forms.FloatField(label=_("Value now"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("What was done since the last report."))
    evidence = forms.CharField(label=_("Evidence"), max_length=300, required=False,
                               help_text=_("Where the figure comes from (a ledger, a survey, a link)."))


class CompleteTaskForm(forms.Form):
    QUALITY = [("", _("not checked yet")), ("yes", _("meets the quality standard")),
               ("no", _("below the quality standard"))]

    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    quality = forms.ChoiceField(label=_("Quality check (officers)"), required=False, choices=QUALITY)

    def quality_met(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("quality") or "")


class ReviewForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    participants = forms.CharField(label=_("Participants"), widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("Units and posts taking part."))
    conclusions = forms.CharField(label=_("Conclusions"), widget=forms.Textarea(attrs=TEXTAREA))
    goals = forms.ModelMultipleChoiceField(label=_("Goals reviewed"), required=False, queryset=None,
                                           widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, goals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goals"].queryset = goals


# --- scorecards ------------------------------------------------------------------------------------

class ScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("e.g. “Annual evaluation of the units”."))
    indicators = forms.CharField(
        label=_("Indicators (JSON)"), widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=_("A list of weighted indicators. “linear” scores 0 at “worst” and 1 at “best”; the weights "
                    "are shared out over the indicators measured."))

    def clean_indicators(self) -> list:
        try:
            rows = json.loads(self.cleaned_data["indicators"])
        except ValueError as error:
            raise forms.ValidationError(_("Not valid JSON: %(error)s"), params={"error": error}) from None
        if not isinstance(rows, list):
            raise forms.ValidationError(_("Give a list of indicators: [ {…}, {…} ]."))
        return rows

    def scorecard_data(self, number: int) -> dict:
        name = self.cleaned_data["name"].strip()
        return {"code": f"scorecard_{number}", "name_zh": name, "name_en": name, "subject": "unit",
                "indicators": self.cleaned_data["indicators"]}


class ComputeScoresForm(forms.Form):
    scorecard = forms.ModelChoiceField(label=_("Scorecard"), queryset=Scorecard.objects.none())
    period_start = forms.DateField(label=_("From"), widget=DATE)
    period_end = forms.DateField(label=_("To"), widget=DATE)

    def __init__(self, *args, scorecards=None, **kwargs):
        super().__init__(*args, **kwargs)
        if scorecards is not None:
            self.fields["scorecard"].queryset = scorecards


class EvaluateForm(forms.Form):
    STARS = [(5, "★★★★★"), (4, "★★★★"), (3, "★★★"), (2, "★★"), (1, "★")]

    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    score = forms.TypedChoiceField(label=_("Your rating"), coerce=int, choices=STARS, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Optional. Kept with your rating for the unit's evaluation, not published."))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]


# --- the matching board ------------------------------------------------------------------------------

class _PlacedForm(forms.Form):
    """A form with a point, filled in with the place's centre by default."""

    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)


class NeedForm(_PlacedForm):
    title = forms.CharField(label=_("Need"), max_length=160, help_text=_("e.g. “Meals for elderly people living "
                                                                         "alone”."))
    skills = forms.CharField(label=_("What it needs"), max_length=300,
                             help_text=_("Skills or kinds of resource, separated by commas, e.g. cooking, "
                                         "driving."))
    quantity = forms.FloatField(label=_("How much"), min_value=0, initial=1, help_text=_("In hours of help."))
    urgency = forms.FloatField(label=_("Urgency"), min_value=0, initial=1,
                               help_text=_("Higher is served first, e.g. 1 ordinary, 3 urgent, 5 very urgent."))
    field_order = ["title", "skills", "quantity", "urgency", "longitude", "latitude"]

    def clean_skills(self) -> list[str]:
        return words(self.cleaned_data["skills"])


class ResourceForm(_PlacedForm):
    owner = UnitField(label=_("Offered by"), queryset=None)
    title = forms.CharField(label=_("Resource"), max_length=160, help_text=_("e.g. “Volunteer cooks”."))
    offers = forms.CharField(label=_("What it offers"), max_length=300,
                             help_text=_("Skills or kinds of resource, separated by commas."))
    capacity = forms.FloatField(label=_("Capacity"), min_value=0, initial=1, help_text=_("In hours of help."))
    max_distance_km = forms.FloatField(label=_("Comes up to (km)"), required=False, min_value=0)
    field_order = ["owner", "title", "offers", "capacity", "max_distance_km", "longitude", "latitude"]

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = units

    def clean_offers(self) -> list[str]:
        return words(self.cleaned_data["offers"])


class AcceptMatchForm(forms.Form):
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    quality_standard = forms.CharField(label=_("Quality standard"), widget=forms.Textarea(attrs={"rows": 2}))


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs=TEXTAREA),
                              help_text=_("What was achieved, e.g. “30 meals served”. Do not write names."))
