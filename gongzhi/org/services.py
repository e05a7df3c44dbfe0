"""Org use cases: each checks can(), runs in one transaction and records its event."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, ValidationFailed

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


def appoint(user, *, person: Person, organisation, role: str, start_date, **where) -> Post:
    """Appoint `person` to a post; one person may hold several posts at once (一肩挑).

    Only a leader whose scope covers the post may appoint; nobody appoints themselves; leading
    posts are filled from a level above (see permissions.may_appoint).
    """
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
