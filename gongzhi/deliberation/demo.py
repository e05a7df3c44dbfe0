"""Demo deliberation for `gongzhi demo`: in the demo community, a topic whose opinion map has two groups and
common ground, the residents' bodies and a finance notice; in the demo village, a cold-store project taken
through 四议两公开 up to the published resolution, with an objection answered; residents' meetings tonight and
next month; in the building lead's community a consultation with opinions collected door to door; and a
resident's proposal awaiting moderation. Everything goes through the
use cases (services), so the demo is what real use would leave behind, ledger entries included."""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gongzhi.core import clock, policy
from gongzhi.org import demo as org_demo
from gongzhi.org.models import Organisation, Person, Post, Region

from . import collected, services
from .models import (Ballot, Body, BodyMember, CollectedOpinion, Comment, Disclosure, Meeting, Motion, Objection,
                     OpinionMapSnapshot, Report, RollEntry, StageRecord, Statement, StatementVote, Support, Topic,
                     VoterMark)

DEMO_PARTICIPANTS = 160
# The community topic's statements: (text, stance) where stance says who agrees: "all" (common ground),
# "a" (those for the lift), "b" (those against), or "split" (nobody in particular).
STATEMENTS = (
    ("老楼加装电梯能让老人出门方便，应当尽快推进", "a"),
    ("加装电梯的费用应按楼层分摊，高层多出", "a"),
    ("一楼住户的采光和噪音损失应当得到补偿", "all"),
    ("施工期间要保证消防通道畅通", "all"),
    ("加装电梯会影响一楼二楼的房价，不应强行推进", "b"),
    ("电梯建成后的维保费用没有着落，不宜现在上马", "b"),
    ("方案和费用明细应当在楼道公示征求意见", "all"),
    ("可以先在一个单元试点，效果好再推广", "split"),
    ("政府补贴之外不应再让居民出钱", "b"),
    ("应当由业主自愿组成加装电梯小组负责", "a"),
    ("社区应请第三方评估房屋结构安全", "all"),
    ("电梯井占用的绿地应在小区内补种", "split"),
)


def _participants(community: Region, n: int) -> list:
    """Demo users for `n` adult residents of the community (no password: they exist to have voted)."""
    User = get_user_model()
    people = list(Person.objects.filter(household__building__grid__path__startswith=community.path, user__isnull=True,
                                        birth_date__lte=clock.today() - dt.timedelta(days=18 * 366))
                  .order_by("id")[:n])
    users = User.objects.bulk_create([User(username=f"demo-resident-{p.pk}", password="!") for p in people])
    for person, user in zip(people, users):
        person.user = user
    Person.objects.bulk_update(people, ["user"])
    return users


def _login(username: str):
    return get_user_model().objects.get(username=username)


def _opinion_topic(officer, community: Region, rng: random.Random) -> Topic:
    topic = services.propose_topic(officer, region=community, title="老旧小区加装电梯怎么推进",
                                   description="部分老楼居民希望加装电梯，也有居民担心费用和影响。请大家写下观点，并对别人的观点表态。",
                                   origin=Topic.Origin.ORGANISATION)
    statements = [(services.add_statement(officer, topic, text), stance) for text, stance in STATEMENTS]
    for user in _participants(community, DEMO_PARTICIPANTS):
        side = "a" if rng.random() < 0.58 else "b"
        for statement, stance in statements:
            if rng.random() < 0.25:
                continue  # not everyone votes on everything
            if stance == "all":
                p_agree = 0.88
            elif stance == "split":
                p_agree = 0.5
            else:
                p_agree = 0.85 if stance == side else 0.12
            roll = rng.random()
            vote = 1 if roll < p_agree else (0 if roll < p_agree + 0.05 else -1)
            services.vote_statement(user, statement, vote)
    services.opinion_map(topic)
    return topic


def _village_bodies(officer, village: Region, rng: random.Random) -> dict[str, Body]:
    branch = Post.objects.get(person__user=officer, role="secretary",
                              organisation__kind__in=services.PARTY_COMMITTEE_KINDS).organisation
    committee = Organisation.objects.filter(region=village, kind="villagers_committee").first()
    bodies = {
        "party_branch_committee": services.create_body(officer, region=village, kind="party_branch_committee",
                                                       name=f"{branch.name}委员会", organisation=branch),
        "two_committees_joint_meeting": services.create_body(officer, region=village,
                                                             kind="two_committees_joint_meeting",
                                                             name=f"{village.name}两委联席会议"),
        "party_members_meeting": services.create_body(officer, region=village, kind="party_members_meeting",
                                                      name=f"{branch.name}党员大会", organisation=branch),
        "villagers_representatives_meeting": services.create_body(
            officer, region=village, kind="villagers_representatives_meeting", name=f"{village.name}村民代表会议"),
        "villagers_meeting": services.create_body(officer, region=village, kind="villagers_meeting",
                                                  name=f"{village.name}村民会议"),
        "villagers_committee": services.create_body(officer, region=village, kind="villagers_committee",
                                                    name=committee.name, organisation=committee),
    }
    adults = [m.person for m in services.members_of(bodies["villagers_meeting"])]
    for person in rng.sample(adults, min(15, len(adults))):
        services.add_body_member(officer, bodies["villagers_representatives_meeting"], person)
    return bodies


def _ensure_users(people: list[Person]) -> None:
    User = get_user_model()
    missing = [p for p in people if p.user_id is None]
    users = User.objects.bulk_create([User(username=f"demo-villager-{p.pk}", password="!") for p in missing])
    for person, user in zip(missing, users):
        person.user = user
    Person.objects.bulk_update(missing, ["user"])


# When a demo meeting sits, local time: committees in office hours, meetings of villagers, residents, their
# representatives or the party members in the evening, when people are back from work.
DAYTIME_KINDS = {"party_branch_committee", "two_committees_joint_meeting", "villagers_committee",
                 "residents_committee"}


def session_start(kind: str, earliest: dt.datetime) -> dt.datetime:
    """The first sensible local time for a meeting of a body of `kind` not before `earliest` (aware): 9:00
    for a committee, 19:30 for a meeting of the people, on that day or the next."""
    hour, minute = (9, 0) if kind in DAYTIME_KINDS else (19, 30)
    local = timezone.localtime(earliest)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at < local:
        at = (local + dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at


def _meeting_stage(officer, body: Body, topic: Topic, stage: str, start: dt.datetime, rng: random.Random,
                   *, attend: float = 0.9, yes: float = 0.85, amount=None) -> dt.datetime:
    """One meeting stage: notice, open, sign-in, a yes/no vote on the topic, minutes, the stage recorded.
    Returns when it ended."""
    notice = dt.timedelta(days=services.NOTICE_DAYS.get(body.kind, services.DEFAULT_NOTICE_DAYS))
    at = session_start(body.kind, start + notice)  # at a local hour people meet, not the hour the demo ran
    with clock.frozen_at(start):
        meeting = services.schedule_meeting(officer, body, title=f"{body.name}：{topic.title}",
                                            agenda=f"审议：{topic.title}", starts_at=at, topic=topic,
                                            place="村委会议室")
    with clock.frozen_at(at):
        services.open_meeting(officer, meeting)
    roll = list(meeting.roll.select_related("person"))
    _ensure_users([e.person for e in roll])
    present = [e.person for e in roll if e.is_principal or len(roll) <= 9 or rng.random() < attend]
    with clock.frozen_at(at + dt.timedelta(minutes=10)):
        for person in present:
            services.sign_in(Person.objects.get(pk=person.pk).user, meeting)
    with clock.frozen_at(at + dt.timedelta(minutes=30)):
        motion = services.open_motion(officer, meeting, text=f"同意：{topic.title}", topic=topic, stage_code=stage,
                                      amount=amount)
        for person in present:
            # Small committees agree after discussion; larger meetings have a few against.
            choice = "yes" if len(roll) <= 9 or rng.random() < yes else rng.choice(["no", "abstain"])
            services.cast_ballot(Person.objects.get(pk=person.pk).user, motion, choice)
    with clock.frozen_at(at + dt.timedelta(minutes=50)):
        services.close_motion(officer, motion)
        services.close_meeting(officer, meeting, minutes=f"会议审议了{topic.title}，进行了表决，结果见表决记录。")
        services.record_stage(officer, topic, stage, meeting=meeting, motion=motion, signatures=["会议主持人", "记录人"])
    return at + dt.timedelta(hours=1)


def _village_project(officer, village: Region, rng: random.Random) -> Topic:
    start = clock.now() - dt.timedelta(days=40)
    with clock.frozen_at(start - dt.timedelta(days=1)):  # the representatives were elected before all this
        bodies = _village_bodies(officer, village, rng)
    with clock.frozen_at(start):
        topic = services.propose_topic(officer, region=village, title="村集体投资30万元修建果蔬冷库",
                                       description="利用村集体经营收入30万元，在村东空地建设200吨果蔬冷库，出租给合作社，收益归村集体。",
                                       origin=Topic.Origin.ORGANISATION)
        topic = services.start_procedure(officer, topic, "four_deliberations_two_disclosures")
    at = start + dt.timedelta(hours=1)
    for stage, kind in (("party_proposal", "party_branch_committee"),
                        ("two_committees_deliberation", "two_committees_joint_meeting"),
                        ("party_members_review", "party_members_meeting"),
                        ("villagers_resolution", "villagers_representatives_meeting")):
        at = _meeting_stage(officer, bodies[kind], topic, stage, at, rng, attend=0.95 if "party" in kind else 0.9,
                            amount="300000" if stage == "villagers_resolution" else None)
    with clock.frozen_at(at):
        notice = services.publish(officer, region=village, kind="resolution", title="关于修建果蔬冷库的决议公开",
                                  body="经村民代表会议表决通过：村集体投资30万元修建果蔬冷库。公示期内如有异议，请在本页提出。",
                                  notice_days=7, topic=topic)
    return topic, notice


def _council_meeting(officer, community: Region) -> Meeting | None:
    """The community's residents' council (居民议事会, five demo residents) met three weeks ago: a closed
    meeting with its roll, quorum and minutes, the first of the community's meetings in the index."""
    people = list(Person.objects.filter(user__username__startswith="demo-resident-",
                                        household__building__grid__path__startswith=community.path)
                  .select_related("user").order_by("id")[:5])
    if len(people) < 5:
        return None
    council = services.create_body(officer, region=community, kind="configured", name=f"{community.name}居民议事会")
    start = timezone.localtime(clock.now() - dt.timedelta(days=21)).replace(hour=19, minute=0, second=0,
                                                                             microsecond=0)
    with clock.frozen_at(start - dt.timedelta(days=3)):
        for person in people:
            services.add_body_member(officer, council, person)
        meeting = services.schedule_meeting(officer, council, title="居民议事会：加装电梯意见梳理", place="社区议事厅",
                                            agenda="一、梳理居民对加装电梯的意见\n二、确定征求意见方式", starts_at=start)
    with clock.frozen_at(start):
        services.open_meeting(officer, meeting)
        for person in people:
            services.sign_in(person.user, meeting)
    with clock.frozen_at(start + dt.timedelta(hours=1)):
        services.close_meeting(officer, meeting, minutes="议事会梳理出费用分摊、一楼补偿、施工安全三类意见，"
                                                         "决定在楼道公示方案并由楼栋长上门征求意见。")
    return meeting


def _meetings_calendar(officer, body: Body) -> list[Meeting]:
    """A residents' meeting tonight (called with its notice a week ago) and one next month, for the meetings
    index, the calendar and the members' "meetings today"."""
    now = clock.now()
    tonight = timezone.localtime(now).replace(hour=19, minute=30, second=0, microsecond=0)
    notice = dt.timedelta(days=services.NOTICE_DAYS.get(body.kind, services.DEFAULT_NOTICE_DAYS) + 1)
    with clock.frozen_at(tonight - notice):
        today = services.schedule_meeting(officer, body, title="居民会议：老旧小区加装电梯方案", place="社区党群服务中心",
                                          agenda="一、加装电梯方案说明\n二、费用分摊办法\n三、表决是否启动试点", starts_at=tonight)
    later = services.schedule_meeting(officer, body, title="居民会议：停车位重新划线", place="社区党群服务中心",
                                      agenda="一、停车位划线方案\n二、收费标准", starts_at=tonight + dt.timedelta(days=30))
    return [today, later]


def _building_consultation(rng: random.Random) -> Topic | None:
    """In the demo building lead's community: a consultation at its "seeking opinions" stage, with two opinions
    the lead collected door to door, so the lead has work and the topic shows its count."""
    lead = _login("building_lead")
    post = Post.objects.filter(person__user=lead, role="building_lead").select_related("organisation__region",
                                                                                       "building").first()
    if post is None:
        return None
    community = post.organisation.region
    officer = next((p.person.user for p in Post.objects.filter(organisation__region=community, role="secretary")
                    .select_related("person__user") if p.person.user_id), None)
    if officer is None or not policy.can(officer, "deliberation.manage", community):
        return None
    topic = services.propose_topic(officer, region=community, title="小区停车位重新划线方案",
                                   description="小区车位紧张，拟对地面停车位重新划线并增设非机动车棚。请各楼栋居民提出意见。",
                                   origin=Topic.Origin.ORGANISATION)
    topic = services.start_procedure(officer, topic, "community_consultation")
    services.record_stage(officer, topic, "topic_proposal")
    today = clock.today()
    residents = [p for p in Person.objects.filter(household__building=post.building).order_by("id")
                 if (p.age_on(today) or 0) >= 18 and p.user_id != lead.pk][:2]
    for person, (stance, text) in zip(residents, (("agree", ""), ("comment", "非机动车棚请远离一楼窗户"))):
        collected.record_collected_opinion(lead, topic, person, stance=stance, text=text)
    return topic


def _held_proposal() -> Topic | None:
    """A resident's proposal waiting for the community's moderators."""
    resident = _login("resident")
    person = Person.objects.filter(user=resident).select_related("household__building__grid__parent").first()
    if person is None or person.home_region is None or person.home_region.parent is None:
        return None
    community = person.home_region.parent
    if not policy.can(resident, "deliberation.propose", community):
        return None
    return services.propose_topic(resident, region=community, title="小区东门增设电动自行车充电桩",
                                  description="东门附近电动自行车多，充电要拉飞线，存在安全隐患，建议增设充电桩。")


def build_demo_deliberation(seed: int = org_demo.DEMO_SEED):
    district = org_demo.demo_district()
    if district is None:
        raise RuntimeError("load the demo district first")
    rng = random.Random(seed)
    community_officer, village_officer = _login("community_secretary"), _login("village_secretary")
    community = Post.objects.filter(person__user=community_officer, organisation__kind="residents_committee") \
        .select_related("organisation__region").first().organisation.region
    village = Post.objects.filter(person__user=village_officer, organisation__kind="villagers_committee") \
        .select_related("organisation__region").first().organisation.region
    with transaction.atomic():
        residents_meeting = services.create_body(community_officer, region=community, kind="residents_meeting",
                                                 name=f"{community.name}居民会议")
        topic = _opinion_topic(community_officer, community, rng)
        _council_meeting(community_officer, community)
        _meetings_calendar(community_officer, residents_meeting)
        _building_consultation(rng)
        _held_proposal()
        finance = services.publish(community_officer, region=community, kind="finances",
                                   title=f"{community.name}第三季度党建经费和惠民资金使用公开",
                                   body="党建经费：收入5.0万元，支出3.2万元（党员教育1.1万元，志愿服务2.1万元）。"
                                        "惠民资金：收入20万元，支出12.5万元（楼道照明改造8万元，适老化改造4.5万元）。",
                                   notice_days=10)
        project, notice = _village_project(village_officer, village, rng)
        objector = _login("resident")
        if policy.can(objector, "deliberation.object", finance.region):
            objection = services.file_objection(objector, finance, "楼道照明改造8万元包括哪几栋楼？请公开明细。")
            services.answer_objection(community_officer, objection, "包括1至6号楼共24个单元，明细已张贴在各楼道公示栏。")
    return {"topic": topic.pk, "project": project.pk, "notices": Disclosure.objects.count()}


def reset_demo_deliberation() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    prefix = district.path
    deleted = {}
    with transaction.atomic():
        topics = Topic.objects.filter(region__path__startswith=prefix)
        meetings = Meeting.objects.filter(body__region__path__startswith=prefix)
        motions = Motion.objects.filter(meeting__in=meetings)
        StageRecord.objects.filter(topic__in=topics).delete()
        Ballot.objects.filter(motion__in=motions).delete()
        VoterMark.objects.filter(motion__in=motions).delete()
        deleted["motions"] = motions.delete()[0]
        RollEntry.objects.filter(meeting__in=meetings).delete()
        deleted["meetings"] = meetings.delete()[0]
        Objection.objects.filter(disclosure__region__path__startswith=prefix).delete()
        deleted["disclosures"] = Disclosure.objects.filter(region__path__startswith=prefix).delete()[0]
        Report.objects.filter(comment__topic__in=topics).delete()
        Report.objects.filter(statement__topic__in=topics).delete()
        Report.objects.filter(topic__in=topics).delete()
        deleted["collected_opinions"] = CollectedOpinion.objects.filter(topic__in=topics).delete()[0]
        for model in (StatementVote, OpinionMapSnapshot, Support, Comment):
            model.objects.filter(topic__in=topics).delete()
        Statement.objects.filter(topic__in=topics).delete()
        deleted["topics"] = topics.delete()[0]
        BodyMember.objects.filter(body__region__path__startswith=prefix).delete()
        deleted["bodies"] = Body.objects.filter(region__path__startswith=prefix).delete()[0]
        # The demo voters' accounts stay (the event journal names them as actors), unlinked and inactive.
        User = get_user_model()
        voters = User.objects.filter(username__regex=r"^demo-(resident|villager)-")
        Person.objects.filter(user__in=voters).update(user=None)
        deleted["demo_voters_deactivated"] = voters.update(is_active=False)
    return deleted
