"""Residents' own accounts (issue #16 item 1): sign up with a mobile number confirmed by a text-message code
and a password; sign in with the number; a new password with a new code; say which household one lives in,
for the grid worker to confirm. docs/decisions/0009-resident-accounts.md says why this is written here
rather than taken from django-allauth.

A resident is a Person (name; the number in PersonalData, through the one logged door for everyone else)
with a User (a username of its own, never the number, so no page that names a user shows a phone). When an
account is opened, the demands its number filed as a guest with a confirmed number join it
(demands.guests.join_account, through the hook below).
"""

import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core import clock, events, phone_codes, policy, sms
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import PhoneCode
from gongzhi.core.text import clean_text

from .models import Building, Household, HouseholdClaim, Person, PersonalData, Region, ResidentAccount

# Called with (user, phone) inside the transaction that opens an account: apps that hold things filed by
# that number before (demands' guest reports) attach them. demands.apps registers its own.
on_account_opened = []


def _text(value: str | None, what: str, max_length: int) -> str:
    """Trimmed and checked (no control or invisible-only text); "" for nothing typed."""
    value = (value or "").strip()
    return clean_text(value, what, max_length=max_length) if value else ""


# What each of Django's password validators says, in our words (its own catalogue lacks some in Chinese).
PASSWORD_PROBLEMS = {
    "password_too_short": gettext_lazy("The password is too short: at least 10 characters."),
    "password_too_common": gettext_lazy("This password is too common: choose another."),
    "password_entirely_numeric": gettext_lazy("The password cannot be only digits."),
    "password_too_similar": gettext_lazy("The password is too like your name or number."),
}


def _check_password(password: str, user=None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as refused:
        said = [str(PASSWORD_PROBLEMS.get(e.code, " ".join(e.messages))) for e in refused.error_list]
        raise ValidationFailed(" ".join(said), code="weak_password") from None


def account_for_phone(phone: str) -> ResidentAccount | None:
    try:
        phone = phone_codes.normalised_mobile(phone)
    except ValidationFailed:
        return None
    return ResidentAccount.objects.select_related("user").filter(phone_digest=phone_codes.digest(phone)).first()


def send_sign_up_code(phone: str) -> None:
    """A code to confirm the number, unless it already has an account (then: sign in, or a new password)."""
    phone = phone_codes.normalised_mobile(phone)
    if account_for_phone(phone) is not None:
        raise Conflict(_("This number already has an account. Sign in, or set a new password with a code."),
                       code="phone_taken")
    phone_codes.send(phone, PhoneCode.Purpose.SIGN_UP)


def sign_up(*, phone: str, code: str, password: str, name: str) -> "User":  # noqa: F821
    """Open a resident's account. Everything but the code is checked first, so that a refused sign-up does not
    use the code up; then the code; then, in one transaction, the user, the person, the number and the
    account, with their event, and the guest reports of that number join it."""
    phone = phone_codes.normalised_mobile(phone)
    name = _text(name, "name", 60)
    if not name:
        raise ValidationFailed(_("Say how we should call you (a name or a surname with 先生/女士)."),
                               code="empty_name")
    if account_for_phone(phone) is not None:
        raise Conflict(_("This number already has an account. Sign in, or set a new password with a code."),
                       code="phone_taken")
    User = get_user_model()
    user = User(username=_new_username(), first_name=name[:30])
    _check_password(password, user)
    phone_codes.confirm(phone, PhoneCode.Purpose.SIGN_UP, code)
    try:
        with transaction.atomic():
            user.set_password(password)
            user.save()
            person = Person.objects.create(name=name, user=user)
            PersonalData.objects.create(person=person, phone=phone)
            ResidentAccount.objects.create(user=user, phone_digest=phone_codes.digest(phone),
                                           confirmed_at=clock.now())
            joined = sum(hook(user, phone) or 0 for hook in on_account_opened)
            events.record("org.account_opened", person, actor=user, joined_reports=joined)
    except IntegrityError:  # the same number opened at the same moment from another browser
        raise Conflict(_("This number already has an account. Sign in, or set a new password with a code."),
                       code="phone_taken") from None
    user.joined_reports = joined
    return user


def _new_username() -> str:
    User = get_user_model()
    while True:
        candidate = f"r-{secrets.token_hex(5)}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


def send_reset_code(phone: str) -> None:
    """A code for a new password. Sent only to a number with an account, yet the answer is the same either way
    (no one learns from it whether a number has an account)."""
    phone = phone_codes.normalised_mobile(phone)
    if account_for_phone(phone) is not None:
        phone_codes.send(phone, PhoneCode.Purpose.RESET)


def reset_password(*, phone: str, code: str, password: str):
    account = account_for_phone(phone)
    if account is None:  # the same answer as a wrong code
        raise ValidationFailed(_("The code is not right. Check the text message and try again."), code="wrong_code")
    user = account.user
    _check_password(password, user)
    phone_codes.confirm(phone, PhoneCode.Purpose.RESET, code)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        events.record("org.password_reset", user.person, actor=user)
    return user


# --- "I live here" ----------------------------------------------------------------------------------------

def resident_person(user) -> Person:
    person = Person.objects.filter(user=user).select_related("household__building__grid").first()
    if person is None or not hasattr(user, "resident_account"):
        raise PermissionDenied(_("Only a resident's own account can say where it lives."), code="not_resident")
    return person


def claim_household(user, *, building: Building, unit: str) -> HouseholdClaim:
    """Ask to be recorded in the household at `unit` of `building`; one claim waits at a time (a new one
    replaces it)."""
    person = resident_person(user)
    unit = _text(unit, "unit", 40)
    if not unit:
        raise ValidationFailed(_("Give the unit and room, such as 2单元301."), code="empty_unit")
    if building.grid_id is None:
        raise ValidationFailed(_("This building is not in a grid yet; ask the community office."), code="no_grid")
    with transaction.atomic():
        HouseholdClaim.objects.filter(person=person, status=HouseholdClaim.Status.PENDING).delete()
        claim = HouseholdClaim.objects.create(person=person, building=building, unit=unit, created_at=clock.now())
        events.record("org.household_claimed", claim, actor=user, building=building.pk)
    return claim


def pending_claims(user):
    """The claims waiting that `user` may decide: buildings in their grids or communities."""
    from .queries import scoped

    buildings = scoped(user, Building, "org.confirm_household")
    return (HouseholdClaim.objects.filter(status=HouseholdClaim.Status.PENDING, building__in=buildings)
            .select_related("person", "building__grid").order_by("created_at", "id"))


def decide_claim(user, claim: HouseholdClaim, *, confirm: bool, note: str = "") -> HouseholdClaim:
    """The grid worker confirms (the person joins the household, created if the unit has none yet) or turns
    the claim down, with a note the resident reads."""
    if not policy.can(user, "org.confirm_household", claim.building):
        raise NotFound(_("household claim"))
    note = _text(note, "note", 200)
    if not confirm and not note:
        raise ValidationFailed(_("Say why, so the resident knows what to correct."), code="empty_note")
    with transaction.atomic():
        claim = HouseholdClaim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != HouseholdClaim.Status.PENDING:
            raise Conflict(_("This claim was already decided."), code="decided")
        claim.status = HouseholdClaim.Status.CONFIRMED if confirm else HouseholdClaim.Status.REFUSED
        claim.decided_by, claim.decided_at, claim.note = user, clock.now(), note
        claim.save()
        if confirm:
            household, _created = Household.objects.get_or_create(building=claim.building, unit=claim.unit)
            person = claim.person
            person.household = household
            community = claim.building.grid.parent if claim.building.grid.parent_id else claim.building.grid
            person.residence = community if community.level <= Region.Level.COMMUNITY else person.residence
            person.save(update_fields=["household", "residence"])
        events.record("org.household_confirmed" if confirm else "org.household_refused", claim, actor=user,
                      building=claim.building_id)
        # The resident hears of it by text message, at their account's number (after the commit).
        phone = PersonalData.objects.filter(person=claim.person).values_list("phone", flat=True).first()
        where = f"{claim.building.address} {claim.unit}"
        sms.send(phone, _("[Gongzhi] Your grid worker confirmed where you live: %(where)s.") % {"where": where}
                 if confirm else _("[Gongzhi] Your grid worker could not confirm %(where)s: %(note)s") % {
                     "where": where, "note": note})
    return claim


def find_buildings(text: str, limit: int = 20) -> list[Building]:
    """Buildings for "where I live": by address or name (东华路1号院), or all of a community, estate or grid
    named (东华园社区); public facts only."""
    from django.db.models import Q

    text = " ".join((text or "").split())[:60]
    if len(text) < 2:
        return []
    return list(Building.objects.filter(Q(address__icontains=text) | Q(name__icontains=text)
                                        | Q(grid__name__icontains=text) | Q(grid__parent__name__icontains=text))
                .filter(grid__isnull=False).select_related("grid__parent").order_by("address", "name", "pk")[:limit])


def find_building(building_id) -> Building:
    building = Building.objects.filter(pk=building_id).select_related("grid").first()
    if building is None:
        raise NotFound(_("building"))
    return building
