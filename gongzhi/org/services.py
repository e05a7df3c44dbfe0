"""Org use cases: each checks can(), runs in one transaction and records its event."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _

from .models import Person, PersonalData, PersonalDataAccess, Post
from .permissions import PERSONAL_FIELDS, REVEAL, SHOWN, personal_sight, region_paths_of
from .rules import MASKERS, is_meaningful_purpose, mask_address, mask_id_number, mask_name, mask_phone

CONTACT_FIELDS = ("phone", "id_number")  # kept in PersonalData, apart from Person
REVEAL_WINDOW = dt.timedelta(hours=1)


@dataclass
class PersonCard:
    """A person as one user sees them: each field of PERSONAL_FIELDS in full or masked.

    `is_party_member` and `party_branch` are None when party membership is masked; `revealable` lists
    the masked fields the user may have shown with a purpose; `revealed` those this request showed."""

    person_id: int
    name: str
    is_party_member: bool | None
    party_branch: str | None
    address: str
    phone: str
    id_number: str
    shown: list[str] = field(default_factory=list)
    revealable: list[str] = field(default_factory=list)
    revealed: list[str] = field(default_factory=list)

    @property
    def masked(self) -> list[str]:
        return [f for f in PERSONAL_FIELDS if f not in self.shown and f not in self.revealed]


def home_address(person: Person) -> str:
    """Where the person lives, as precisely as the register knows: building address, building, flat."""
    if not person.household_id:
        return ""
    building = person.household.building
    # A building named in its own address (东华路1号院2号楼, 2号楼) is not said twice.
    name = "" if building.name and building.name in building.address else building.name
    return " ".join(part for part in (building.address, name, person.household.unit) if part)


def _full_values(person: Person, fields) -> dict:
    values = {
        "name": person.name,
        "party": (person.is_party_member, person.party_branch.name if person.party_branch_id else None),
        "address": home_address(person),
    }
    if set(fields) & set(CONTACT_FIELDS):
        try:
            record = person.personal_data  # uses select_related("personal_data") when the caller did
        except PersonalData.DoesNotExist:
            record = None
        values.update({f: getattr(record, f, "") if record else "" for f in CONTACT_FIELDS})
    return values


def person_card(user, person: Person, *, reveal=(), paths: list[str] | None = None) -> PersonCard:
    """`person` as `user` sees them under PERSONAL_DATA_ACCESS; fields in `reveal` that the user may reveal
    come back in full (the caller logs them: see read_personal_data)."""
    sight = personal_sight(user)
    tiers = {f: sight.tier(person, f, paths) for f in PERSONAL_FIELDS}
    full = _full_values(person, PERSONAL_FIELDS)
    shown = [f for f, t in tiers.items() if t == SHOWN]
    revealed = [f for f in reveal if tiers[f] == REVEAL]
    visible = set(shown) | set(revealed)
    party, branch = full["party"] if "party" in visible else (None, None)
    return PersonCard(
        person_id=person.pk,
        name=full["name"] if "name" in visible else mask_name(full["name"]),
        is_party_member=party, party_branch=branch,
        address=full["address"] if "address" in visible else mask_address(full["address"]),
        phone=full["phone"] if "phone" in visible else mask_phone(full["phone"]),
        id_number=full["id_number"] if "id_number" in visible else mask_id_number(full["id_number"]),
        shown=shown,
        revealable=[f for f, t in tiers.items() if t == REVEAL and f not in revealed and _has(full[f])],
        revealed=revealed,
    )


def _has(value) -> bool:
    return bool(value[0]) if isinstance(value, tuple) else bool(value)


def check_purpose(purpose: str) -> str:
    """The purpose, tidied; ValidationFailed unless it is in real words (rules.is_meaningful_purpose)."""
    if not is_meaningful_purpose(purpose or ""):
        raise ValidationFailed(
            _("state the purpose in words: at least two Chinese characters or three words"),
            code="purpose_not_meaningful",
        )
    return " ".join(purpose.split())[:120]


def reveals_left(user) -> tuple[int, int]:
    """(reveals the user may still make in the current hour, seconds until the next one frees up)."""
    limit = settings.GONGZHI_REVEALS_PER_HOUR
    since = clock.now() - REVEAL_WINDOW
    recent = PersonalDataAccess.objects.filter(user=user, at__gt=since)
    used = recent.count()
    if used < limit:
        return limit - used, 0
    # The window frees up when the (used - limit + 1)-th oldest row in it turns an hour old.
    oldest = recent.order_by("at").values_list("at", flat=True)[used - limit]
    return 0, max(1, int((oldest + REVEAL_WINDOW - clock.now()).total_seconds()) + 1)


def read_personal_data(user, person: Person, *, purpose: str, channel: str,
                       fields: tuple[str, ...] = PERSONAL_FIELDS) -> PersonCard:
    """Show `user` the masked fields of `person` their posts let them reveal (个人信息保护法 art. 5-6,
    need-to-know; PERSONAL_DATA_ACCESS says who may reveal what).

    The purpose must be in real words; each reveal is one access-log row (who, whose, which fields, why,
    when, through what) and counts against GONGZHI_REVEALS_PER_HOUR, counted from that log so the limit
    holds across processes. Fields the user may not reveal come back masked and are not logged.
    """
    unknown = set(fields) - set(PERSONAL_FIELDS)
    if unknown:
        raise ValidationFailed(_("unknown personal data fields: %(join)s") % {"join": ', '.join(sorted(unknown))})
    purpose = check_purpose(purpose)
    paths = region_paths_of(person)
    card = person_card(user, person, reveal=fields, paths=paths)
    if not card.revealed:
        return card
    full = _full_values(person, card.revealed)
    card.revealed = [f for f in card.revealed if _has(full[f])]
    if not card.revealed:
        return person_card(user, person, paths=paths)
    with transaction.atomic():
        if getattr(user, "pk", None) is not None:
            # One reveal at a time per user, so concurrent requests cannot all slip under the limit.
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            left, retry_after = reveals_left(user)
            if left <= 0:
                raise RateLimited(
                    _("at most %(limit)s reveals of personal data per hour")
                    % {"limit": settings.GONGZHI_REVEALS_PER_HOUR},
                    retry_after=retry_after,
                )
        PersonalDataAccess.objects.create(
            user=user if getattr(user, "is_authenticated", False) else None,
            person=person, fields=card.revealed, purpose=purpose, channel=channel, at=clock.now(),
        )
    return card


def masked_personal_data(person: Person) -> dict[str, str]:
    """Masked phone and ID number only: safe for any page that shows a person to someone without need."""
    try:
        record = person.personal_data  # uses select_related("personal_data") when the caller did
    except PersonalData.DoesNotExist:
        record = None
    return {f: MASKERS[f](getattr(record, f, "") if record else "") for f in CONTACT_FIELDS}


def end_post(user, post: Post, end_date) -> Post:
    """End a post on `end_date` (not before it started)."""
    policy.require(user, "org.change", post)
    if post.end_date is not None:
        raise Conflict(_("the post already ended on %(isoformat)s") % {"isoformat": post.end_date.isoformat()})
    if end_date < post.start_date:
        raise ValidationFailed(_("a post cannot end before it starts"))
    with transaction.atomic():
        post.end_date = end_date
        post.save(update_fields=["end_date"])
        events.record("org.post_ended", post, actor=user, end_date=end_date.isoformat())
    return post


def require_visible(user, obj, what: str | None = None) -> None:
    """An object named inside a request (in its body or query) is checked exactly like one named in
    its path: outside the caller's scope it does not exist for them (NotFound, as queries.get_scoped
    answers), so a request cannot reach, or learn of, another place's people and units."""
    if obj is not None and not policy.can(user, "org.view", obj):
        raise NotFound(_("%(verbose_name)s %(pk)s") % {"verbose_name": what or obj._meta.verbose_name, "pk": obj.pk})


def appoint(user, *, person: Person, organisation, role: str, start_date, **where) -> Post:
    """Appoint `person` to a post; one person may hold several posts at once (一肩挑).

    Only a leader whose scope covers the post may appoint; nobody appoints themselves; leading
    posts are filled from a level above (see permissions.may_appoint). The person, the
    organisation and the grid, building or unit the post names must all lie in the caller's scope.
    """
    require_visible(user, person)
    require_visible(user, organisation)
    for place in ("grid", "building", "served_organisation"):
        require_visible(user, where.get(place))
    if role not in Post.Role.values:
        raise ValidationFailed(_("unknown role %(role)r") % {"role": role})
    post = Post(person=person, organisation=organisation, role=role, start_date=start_date, **where)
    post.full_clean()
    policy.require(user, "org.appoint", post)
    try:
        with transaction.atomic():
            post.save()
            events.record("org.post_appointed", post, actor=user, person=person.pk, organisation=organisation.pk,
                          role=role)
    except IntegrityError:
        raise Conflict(_("the person already holds this post")) from None
    return post
