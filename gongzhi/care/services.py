"""Care use cases: each checks can(), runs in one transaction and records its event (free text and personal
data only in private=): register a person in a care group and end it, log a household visit (with photos, a
followed-up demand, a demand filed from it), post a notice to a building, file a demand for a resident (代办)."""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.core.text import clean_text
from gongzhi.demands import photos as demand_photos
from gongzhi.demands import queries as demand_queries
from gongzhi.demands import services as demand_services
from gongzhi.demands.models import Demand
from gongzhi.org.models import Building, Household, Person
from gongzhi.org.services import home_address, require_visible

from .models import CareGroup, CareRegistration, Notice, Visit, VisitPhoto


MAX_PHOTOS = demand_photos.MAX_PER_STAGE
MAX_NOTE = 500
MAX_NOTICE = 500
MAX_BACKDATE = dt.timedelta(days=30)  # a visit is logged within a month of it
CLOCK_SKEW = dt.timedelta(minutes=5)


# --- the care register ------------------------------------------------------------------------------------

def register(user, *, person: Person, group: CareGroup | str, note: str = "") -> CareRegistration:
    """Register `person` in a care group (重点关爱对象), so that they are visited at the group's interval. The
    community office or the grid worker of the person's grid registers them; a person is in a group once."""
    require_visible(user, person)
    if not person.household_id:
        raise ValidationFailed(_("only a person recorded in a household can be registered for visits"),
                               code="no_household")
    policy.require(user, "care.register", person)
    group = _group(group)
    note = clean_text(note, "note", max_length=200) if (note or "").strip() else ""
    try:
        with transaction.atomic():
            registration = CareRegistration.objects.create(person=person, group=group, note=note,
                                                           registered_by=user, registered_at=clock.now())
            events.record("care.registered", registration, actor=user, person=person.pk, group=group.code,
                          household=person.household_id, private={"note": note} if note else None)
    except IntegrityError:
        raise Conflict(_("%(name)s is already registered as %(group)s") % {"name": person.name, "group": group.name},
                       code="already_registered") from None
    return registration


def end_registration(user, registration: CareRegistration, *, reason: str) -> CareRegistration:
    """End a registration (moved away, no longer alone, passed away …) with the reason; kept for the record."""
    policy.require(user, "care.register", registration)
    reason = clean_text(reason, "reason", max_length=200, code="reason_required")
    with transaction.atomic():
        registration = CareRegistration.objects.select_for_update().get(pk=registration.pk)
        if registration.ended_at is not None:
            raise Conflict(_("the registration has already ended"), code="already_ended")
        registration.ended_at, registration.ended_by, registration.end_reason = clock.now(), user, reason
        registration.save(update_fields=["ended_at", "ended_by", "end_reason"])
        events.record("care.registration_ended", registration, actor=user, person=registration.person_id,
                      group=registration.group.code, private={"reason": reason})
    return registration


def _group(group: CareGroup | str) -> CareGroup:
    if isinstance(group, CareGroup):
        found = group if group.is_active else None
    else:
        found = CareGroup.objects.filter(code=str(group or ""), is_active=True).first()
    if found is None:
        raise ValidationFailed(_("unknown care group %(group)r") % {"group": str(group)}, code="unknown_group")
    return found


# --- household visits -------------------------------------------------------------------------------------

def member_of(household: Household, person_id: int | Person | None) -> Person | None:
    """The person named in a request, who must live in `household`: anyone else is an id that names nothing."""
    if person_id in (None, ""):
        return None
    pk = person_id.pk if isinstance(person_id, Person) else person_id
    found = Person.objects.filter(pk=pk, household=household).first()
    if found is None:
        raise NotFound(_("person %(pk)s") % {"pk": pk})
    return found


def _visited_at(value: dt.datetime | None) -> dt.datetime:
    now = clock.now()
    if value is None:
        return now
    if value > now + CLOCK_SKEW:
        raise ValidationFailed(_("a visit cannot be logged before it happens"), code="visit_in_future")
    if value < now - MAX_BACKDATE:
        raise ValidationFailed(_("a visit is logged within 30 days of it"), code="visit_too_old")
    return value


def log_visit(user, *, household: Household, kind: str, person: Person | int | None = None, note: str = "",
              visited_at: dt.datetime | None = None, follow_up: str | None = None, photos: list[bytes] = (),
              demand_text: str = "") -> Visit:
    """Log a household visit (入户走访) by the community office or the household's grid worker: when (now, or
    earlier within 30 days), which kind, whom (a member of the household), a short note, photos (checked and
    re-encoded without EXIF by demands.photos), the demand it follows up (one the visitor may see) and,
    with `demand_text`, a demand filed from it for the person visited (on patrol: channel patrol)."""
    require_visible(user, household)
    policy.require(user, "care.visit", household)
    if kind not in Visit.Kind.values:
        raise ValidationFailed(_("unknown kind of visit %(kind)r") % {"kind": kind}, code="unknown_kind")
    person = member_of(household, person)
    note = clean_text(note, "note", max_length=MAX_NOTE) if (note or "").strip() else ""
    visited_at = _visited_at(visited_at)
    followed = None
    if (follow_up or "").strip():
        followed = demand_queries.get_visible(user, follow_up.strip())
    if kind == Visit.Kind.FOLLOW_UP and followed is None:
        raise ValidationFailed(_("a follow-up visit names the demand it follows up"), code="follow_up_demand")
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise demand_photos.PhotoRefused(_("at most %(max)s photos") % {"max": MAX_PHOTOS})
    processed = [demand_photos.process(content) for content in photos]
    stored = []
    try:
        with transaction.atomic():
            filed = None
            if (demand_text or "").strip():
                filed = _file_from_visit(user, household, person, demand_text)
            visit = Visit.objects.create(household=household, person=person, visitor=user, visited_at=visited_at,
                                         kind=kind, note=note, follow_up_of=followed, filed_demand=filed,
                                         recorded_at=clock.now())
            stored = demand_photos.store(processed, "care/visits")
            VisitPhoto.objects.bulk_create([
                VisitPhoto(visit=visit, image=image, thumbnail=thumb, width=item.width, height=item.height,
                           sha256=item.sha256) for item, (image, thumb) in zip(processed, stored)])
            events.record("care.visit_logged", visit, actor=user, household=household.pk,
                          person=person.pk if person else None, visit_kind=kind, visited_at=visited_at.isoformat(),
                          follow_up=followed.number if followed else None, filed=filed.number if filed else None,
                          photos=[item.sha256 for item in processed], private={"note": note} if note else None)
    except Exception:
        demand_photos.delete_stored(stored)  # the rows were rolled back: their files go too
        raise
    return visit


def _file_from_visit(user, household: Household, person: Person | None, text: str) -> Demand:
    building = household.building
    channel = (Demand.Channel.PATROL if policy.can(user, "demands.patrol", building.grid) else Demand.Channel.WEB)
    step = demand_services.file_demand(
        user, text=text, channel=channel, longitude=building.longitude, latitude=building.latitude,
        address=home_address(person) if person else f"{building.address} {household.unit}",
        reporter=person, contact_name=person.name if person else "")
    return step.demand


# --- the building -----------------------------------------------------------------------------------------

def post_notice(user, *, building: Building, text: str) -> Notice:
    """Post a short notice to a building's residents (楼栋通知): its building lead or the community office.
    Residents with accounts who live there read it on their "where I live" page."""
    require_visible(user, building)
    policy.require(user, "care.post_notice", building)
    text = clean_text(text, "text", max_length=MAX_NOTICE, code="text_required")
    with transaction.atomic():
        notice = Notice.objects.create(building=building, text=text, posted_by=user, posted_at=clock.now())
        events.record("care.notice_posted", notice, actor=user, building=building.pk, private={"text": text})
    return notice


def on_behalf_words(user) -> str:
    """What the filing step says of a demand filed for a resident (代办), in the site's language."""
    name = getattr(getattr(user, "person", None), "name", "") or user.get_username()
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("Filed on behalf of the resident (代办) by %(name)s") % {"name": name})


def file_on_behalf(user, *, building: Building, person: Person | int, text: str, photos: list[bytes] = ()):
    """File a demand for a resident of `building` who has no phone or cannot file themself (代办), by the
    building's lead or the community office: the resident is the demand's reporter, the filer its account (so
    they follow it and relay the answer), and the filing step says who filed it for whom. One transaction with
    its photos. Returns the filing Step (demands.services)."""
    require_visible(user, building)
    policy.require(user, "care.file_on_behalf", building)
    pk = person.pk if isinstance(person, Person) else person
    resident = (Person.objects.filter(pk=pk, household__building=building).select_related("household__building")
                .first() if pk not in (None, "") else None)
    if resident is None:
        raise NotFound(_("person %(pk)s") % {"pk": pk})
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise demand_photos.PhotoRefused(_("at most %(max)s photos") % {"max": MAX_PHOTOS})
    for content in photos:  # refused before anything is filed
        demand_photos.process(content)
    with transaction.atomic():
        step = demand_services.file_demand(
            user, text=text, channel=Demand.Channel.WEB, longitude=building.longitude, latitude=building.latitude,
            address=home_address(resident), reporter=resident, contact_name=resident.name,
            on_behalf=on_behalf_words(user))
        if photos:
            demand_photos.add(user, step.demand, photos)
    return step
