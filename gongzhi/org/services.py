"""Org use cases: each checks can(), runs in one transaction and records its event."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed

from .models import Person, PersonalData, PersonalDataAccess, Post
from .rules import MASKERS

PERSONAL_FIELDS = ("phone", "id_number")


@dataclass
class PersonalDataView:
    values: dict[str, str]
    revealed: list[str]


def read_personal_data(user, person: Person, *, purpose: str, channel: str,
                       fields: tuple[str, ...] = PERSONAL_FIELDS) -> PersonalDataView:
    """The person's phone / ID number as `user` may see them (个人信息保护法 art. 5-6, need-to-know).

    A field the user's posts grant (org.personal.<field> within the person's region) is returned in
    full and the read is written to the access log; any other field comes back masked. Nothing is
    revealed without a stated purpose.
    """
    unknown = set(fields) - set(PERSONAL_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown personal data fields: {', '.join(sorted(unknown))}")
    record = PersonalData.objects.filter(person=person).first()
    values = {f: getattr(record, f, "") if record else "" for f in fields}
    if not purpose.strip():
        raise ValidationFailed("a purpose is required to read personal data")
    revealed = [f for f in fields if values[f] and policy.can(user, f"org.personal.{f}", person)]
    result = {f: (values[f] if f in revealed else MASKERS[f](values[f])) for f in fields}
    if revealed:
        with transaction.atomic():
            PersonalDataAccess.objects.create(
                user=user if getattr(user, "is_authenticated", False) else None,
                person=person, fields=revealed, purpose=purpose.strip()[:120], channel=channel, at=clock.now(),
            )
    return PersonalDataView(values=result, revealed=revealed)


def masked_personal_data(person: Person) -> dict[str, str]:
    """Masked values only: safe for any page that shows a person to someone without need."""
    try:
        record = person.personal_data  # uses select_related("personal_data") when the caller did
    except PersonalData.DoesNotExist:
        record = None
    return {f: MASKERS[f](getattr(record, f, "") if record else "") for f in PERSONAL_FIELDS}


def end_post(user, post: Post, end_date) -> Post:
    """End a post on `end_date` (not before it started)."""
    policy.require(user, "org.change", post)
    if post.end_date is not None:
        raise Conflict(f"the post already ended on {post.end_date.isoformat()}")
    if end_date < post.start_date:
        raise ValidationFailed("a post cannot end before it starts")
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
        raise NotFound(f"{what or obj._meta.model_name} {obj.pk}")


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
        raise ValidationFailed(f"unknown role {role!r}")
    post = Post(person=person, organisation=organisation, role=role, start_date=start_date, **where)
    post.full_clean()
    policy.require(user, "org.appoint", post)
    try:
        with transaction.atomic():
            post.save()
            events.record("org.post_appointed", post, actor=user, person=person.pk, organisation=organisation.pk,
                          role=role)
    except IntegrityError:
        raise Conflict("the person already holds this post") from None
    return post
