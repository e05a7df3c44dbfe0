"""Opinions and signatures a building lead (楼栋长) collects door to door (楼栋长代收), for residents who do
not take part online: recording one, and the read side (counts for the topic's page, the lead's building
with who has been asked). The topic must be at a stage that seeks opinions (procedures.seeks_opinions); the
resident must live in one of the lead's buildings; each resident gives one per topic.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count

from gongzhi.core import clock, events, policy
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.i18n import gettext_lazy
from gongzhi.core.scrub import scrub
from gongzhi.core.text import clean_optional_text
from gongzhi.org.models import Person
from gongzhi.org.services import person_card

from . import permissions, procedures, services
from .models import CollectedOpinion, Topic

ADULT_AGE = 18


def collecting_stage(topic: Topic):
    """The procedure stage opinions are collected for now, or None when the topic is at no such stage."""
    if topic.status != Topic.Status.IN_PROCEDURE or not topic.procedure_definition:
        return None
    stage = procedures.next_stage(services.topic_procedure(topic), services.stage_history(topic))
    return stage if procedures.seeks_opinions(stage) else None


def _require_own_building(user, person: Person) -> None:
    # A person outside the lead's buildings is answered as one that does not exist (no probing of the register).
    if person.household_id is None or person.household.building_id not in permissions.lead_building_ids(user):
        raise NotFound(gettext_lazy("%(verbose_name)s %(pk)s") % {"verbose_name": Person._meta.verbose_name,
                                                                    "pk": person.pk})


def record_collected_opinion(user, topic: Topic, person: Person, *, stance: str, text: str = "",
                             signed: bool = False) -> CollectedOpinion:
    """A building lead records a resident's opinion (agree, disagree, a comment) on a topic, collected in
    person, and whether the resident also signed (本人已签字; a signature is not an opinion: the stance
    "signature" is still taken from API clients of before). Recorded with who collected it, when, and for
    which stage; once per resident."""
    policy.require(user, "deliberation.collect_opinion", topic)
    _require_own_building(user, person)
    if stance not in CollectedOpinion.Stance.values:
        raise ValidationFailed(gettext_lazy("choose agree, disagree, a comment or a signature"), code="invalid_stance")
    text = scrub(clean_optional_text(text, "comment", max_length=500))
    if stance == CollectedOpinion.Stance.COMMENT and not text:
        raise ValidationFailed(gettext_lazy("write down the resident's comment"), code="comment_required")
    age = person.age_on(clock.today())
    if age is not None and age < ADULT_AGE:
        raise ValidationFailed(gettext_lazy("opinions are collected from adult residents"), code="not_adult")
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        stage = collecting_stage(topic)
        if stage is None:
            raise ValidationFailed(gettext_lazy("the topic is not at a stage that seeks residents' opinions"),
                                   code="not_seeking_opinions")
        try:
            with transaction.atomic():
                row = CollectedOpinion.objects.create(topic=topic, person=person, stance=stance, text=text,
                                                      signed=bool(signed), stage_code=stage.code, collected_by=user,
                                                      collected_at=clock.now())
        except IntegrityError:
            raise Conflict(gettext_lazy("this resident's opinion on the topic is already recorded"),
                           code="already_collected") from None
        events.record("deliberation.collect_opinion", row, actor=user, topic=topic.pk, stance=stance,
                      signed=bool(signed), stage=stage.code, private={"person": person.pk, "text": text})
    return row


def counts(topic: Topic) -> dict:
    """How many opinions building leads collected on the topic, in all and by stance, and how many residents
    signed ("signature": ticked 本人已签字, or the old stance "signature") (public: no names)."""
    by_stance = dict(topic.collected_opinions.values_list("stance").annotate(n=Count("id")))
    out = {stance: by_stance.get(stance, 0) for stance in CollectedOpinion.Stance.values}
    out["signature"] += topic.collected_opinions.filter(signed=True).exclude(
        stance=CollectedOpinion.Stance.SIGNATURE).count()
    out["total"] = sum(by_stance.values())
    return out


@dataclass
class Resident:
    person_id: int
    name: str
    unit: str
    opinion: CollectedOpinion | None


def building_residents(user, topic: Topic) -> list[Resident]:
    """The adult residents of the lead's buildings, as the lead's post lets them see each (org's masking),
    with the opinion already recorded on the topic, if any."""
    buildings = permissions.lead_building_ids(user)
    today = clock.today()
    people = (Person.objects.filter(household__building_id__in=buildings)
              .select_related("household__building__grid", "personal_data").order_by("household__unit", "id"))
    recorded = {o.person_id: o for o in topic.collected_opinions.filter(person__in=people)}
    out = []
    for person in people:
        age = person.age_on(today)
        if age is not None and age < ADULT_AGE:
            continue
        card = person_card(user, person)
        out.append(Resident(person.pk, card.name, person.household.unit, recorded.get(person.pk)))
    return out


def minors_left_out(user) -> list[tuple[str, int]]:
    """(unit, how many) of the residents under 18 in the lead's buildings: not on the collecting list (opinions
    are collected from adults), which the page says, so no household seems forgotten."""
    today = clock.today()
    counted: dict[str, int] = {}
    people = (Person.objects.filter(household__building_id__in=permissions.lead_building_ids(user),
                                    birth_date__isnull=False)
              .select_related("household").order_by("household__unit", "id"))
    for person in people:
        if person.age_on(today) < ADULT_AGE:
            counted[person.household.unit] = counted.get(person.household.unit, 0) + 1
    return list(counted.items())


def topics_seeking_opinions(user) -> list[Topic]:
    """Public topics at a stage that seeks opinions, in the places of the user's building lead posts."""
    paths = {p.building.grid.path for p in permissions.building_lead_posts(user)}
    if not paths:
        return []
    rows = (Topic.objects.filter(Topic.public_q(), status=Topic.Status.IN_PROCEDURE).select_related("region")
            .order_by("-updated_at", "-id"))
    return [t for t in rows if any(path.startswith(t.region.path) for path in paths) and collecting_stage(t)]
