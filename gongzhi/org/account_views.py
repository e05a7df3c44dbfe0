"""Pages of residents' own accounts (org/accounts.py): sign up with a mobile number and a code, a new password
with a code, "I live here"; and the grid worker's list of such claims to confirm. A code is asked for with
the form's own button (the page comes back with what was typed, passwords aside) or, with script, without
leaving the page (/accounts/code/, JSON)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gongzhi.core import phone_codes, policy, ratelimit
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied, RateLimited, ValidationFailed
from gongzhi.core.models import PhoneCode
from gongzhi.core.pages import page, public

from . import accounts, queries
from .models import Building, HouseholdClaim

PHONE_WIDGET = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel",
                                      "placeholder": gettext_lazy("11-digit mobile number")})
CODE_WIDGET = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"})


class CodeForm(forms.Form):
    """A mobile number, the code texted to it, and a new password typed twice."""

    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=20, widget=PHONE_WIDGET)
    code = forms.CharField(label=gettext_lazy("Code from the text message"), max_length=10, required=False,
                           widget=CODE_WIDGET)
    password = forms.CharField(label=gettext_lazy("New password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=gettext_lazy("At least 10 characters, not only digits."))
    password_again = forms.CharField(label=gettext_lazy("Password again"), required=False, strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class SignUpForm(CodeForm):
    name = forms.CharField(label=gettext_lazy("How should we call you?"), max_length=60, required=False,
                           help_text=gettext_lazy("Your name, or a surname with 先生/女士. Those handling your "
                                                  "reports see it; public pages never do."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = gettext_lazy("Password")


ResetForm = CodeForm


def _same_passwords(form) -> None:
    data = form.cleaned_data
    if not data.get("password"):
        raise ValidationFailed(_("Choose a password."), code="empty_password")
    if data["password"] != data.get("password_again"):
        raise ValidationFailed(_("The two passwords differ."), code="passwords_differ")
    if not (data.get("code") or "").strip():
        raise ValidationFailed(_("Ask for a code and type it in."), code="empty_code")


def _code_form(request, form_class, *, template, send, finish, purpose):
    """The shared shape of sign-up and new password: "send the code" or "done"."""
    form = form_class(request.POST or None)
    sent = error = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if "send_code" in request.POST:
                ratelimit.check(request, "phone_code")
                send(form.cleaned_data["phone"])
                sent = _sent_notice(purpose, form.cleaned_data["phone"])
            else:
                ratelimit.check(request, "sign_up")
                _same_passwords(form)
                return finish(form.cleaned_data)
        except DomainError as refused:
            if refused.status >= 500:
                raise
            error, status = refused.message(), refused.status
    elif request.method == "POST":
        status = 400
    if request.method == "POST":  # typed passwords are not sent back
        form.data = form.data.copy()
        form.data.pop("password", None)
        form.data.pop("password_again", None)
    return render(request, template, {"form": form, "sent": sent, "error": error, "purpose": purpose},
                  status=status)


def _sent_notice(purpose: str, phone: str) -> str:
    if purpose == PhoneCode.Purpose.RESET:  # the same words whether the number has an account or not
        return _("If %(phone)s has an account, a code is on its way, valid for 10 minutes. Nothing after a few "
                 "minutes? Check that it is the number you opened the account with.") % {"phone": _masked(phone)}
    return _("A code was sent to %(phone)s. It is valid for 10 minutes.") % {"phone": _masked(phone)}


def _masked(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 11 else phone


@public
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("web:home")

    def finish(data):
        user = accounts.sign_up(phone=data["phone"], code=data["code"], password=data["password"], name=data["name"])
        login(request, user, backend="gongzhi.org.backends.PhoneBackend")
        joined = getattr(user, "joined_reports", 0)
        messages.success(request, _("Your account is open. Sign in from now on with your mobile number."))
        if joined:
            messages.info(request, ngettext("%(n)d report you made before is now under My demands.",
                                            "%(n)d reports you made before are now under My demands.", joined)
                          % {"n": joined})
        return redirect(reverse("org:my_household"))

    return _code_form(request, SignUpForm, template="org/accounts/sign_up.html", send=accounts.send_sign_up_code,
                      finish=finish, purpose=PhoneCode.Purpose.SIGN_UP)


@public
def reset_password(request):
    def finish(data):
        accounts.reset_password(phone=data["phone"], code=data["code"], password=data["password"])
        messages.success(request, _("Your password is changed. Sign in with it."))
        return redirect("login")

    return _code_form(request, ResetForm, template="org/accounts/reset.html", send=accounts.send_reset_code,
                      finish=finish, purpose=PhoneCode.Purpose.RESET)


@require_POST
def send_code(request):
    """Script's way to ask for a code without leaving the page: {"message"} or {"code", "message"} with 4xx."""
    purpose = request.POST.get("purpose", "")
    senders = {PhoneCode.Purpose.SIGN_UP: accounts.send_sign_up_code, PhoneCode.Purpose.RESET: accounts.send_reset_code,
               PhoneCode.Purpose.GUEST: lambda phone: phone_codes.send(phone, PhoneCode.Purpose.GUEST)}
    try:
        if purpose not in senders:
            raise ValidationFailed(_("Unknown purpose."), code="invalid_purpose")
        ratelimit.check(request, "phone_code")
        senders[purpose](request.POST.get("phone", "")[:20])
    except DomainError as refused:
        answer = JsonResponse({"code": refused.code, "message": refused.message()}, status=refused.status)
        if isinstance(refused, RateLimited) and refused.retry_after:
            answer["Retry-After"] = str(refused.retry_after)
        return answer
    return JsonResponse({"message": _sent_notice(purpose, request.POST.get("phone", "")),
                         "resend_after": int(phone_codes.RESEND_AFTER.total_seconds())})


# --- "I live here" ------------------------------------------------------------------------------------------

@page
def my_household(request):
    """Where the resident lives as the register has it, the claim waiting, or a search for the building."""
    person = accounts.resident_person(request.user)
    q = (request.GET.get("q") or "").strip()[:60]
    found = []
    if q:
        found = accounts.find_buildings(q)
    error = None
    status = 200
    if request.method == "POST":
        try:
            building = accounts.find_building(request.POST.get("building") or 0)
            accounts.claim_household(request.user, building=building, unit=request.POST.get("unit", ""))
        except DomainError as refused:
            error, status = refused.message(), refused.status
        else:
            messages.success(request, _("Sent to the grid worker, who will confirm it."))
            return redirect("org:my_household")
    claims = list(person.household_claims.select_related("building")[:5])
    return render(request, "org/accounts/household.html", {
        "person": person, "household": person.household, "claims": claims, "q": q, "found": found,
        "error": error}, status=status)


@page
def claims(request):
    """The grid worker's list: residents who say they live in a building of their grids."""
    waiting = list(accounts.pending_claims(request.user))
    if not policy.can(request.user, "org.confirm_household"):
        raise PermissionDenied(_("Only a grid worker or the community office confirms where residents live."))
    return render(request, "org/accounts/claims.html", {"claims": waiting})


@require_POST
@page
def decide_claim(request, claim_id: int):
    claim = HouseholdClaim.objects.filter(pk=claim_id).select_related("building__grid").first()
    if claim is None:
        raise NotFound(_("household claim"))
    try:
        accounts.decide_claim(request.user, claim, confirm=request.POST.get("decision") == "confirm",
                              note=request.POST.get("note", ""))
    except DomainError as refused:
        if refused.status == 404:
            raise
        messages.error(request, refused.message())
    else:
        messages.success(request, _("Done: the resident sees your answer."))
    return redirect("org:claims")
