"""Demo cases for `gongzhi demo`: one case taken the whole way round the loop in the demo community (a lift
in an old estate that keeps breaking down: the residents' complaints → one issue → a topic and its opinion map
→ 社区协商 with a 居民会议 resolution → a 三重一大 decision under the power list → its disclosure → the
property company's project with photos of each milestone → the residents' verdict: solved), and one case
still running in the demo village, stuck at a missed milestone. Everything goes through the use cases with
time moved by core.clock.frozen_at, so the demo is what real use would leave behind, ledger entries included."""

import datetime as dt
import io
import logging
import random

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw

from gongzhi.core import clock
from gongzhi.deliberation import services as deliberation
from gongzhi.deliberation.demo import session_start
from gongzhi.deliberation.models import Body, Topic
from gongzhi.demands import services as demands
from gongzhi.demands.models import Demand, Notification
from gongzhi.duties import services as duties
from gongzhi.duties.models import PowerItem
from gongzhi.insight import services as insight
from gongzhi.insight.models import DemandProfile
from gongzhi.org import demo as org_demo
from gongzhi.org.models import Building, Organisation, Person, Post

from . import services
from .models import Case, ProgressPhoto

logger = logging.getLogger(__name__)

LIFT_AMOUNT = "186000"  # ≥ 5 万元: 三重一大 under the community's procurement item
LIFT_ITEM = "procurement"
# (who: "resident" = the demo login, "neighbour" = a neighbour with an account, "guest" = by phone without one;
# the day after the first complaint; the text)
LIFT_COMPLAINTS = (
    ("resident", 0, "{addr}的电梯故障停运三天了，家里老人腿脚不好，下不了楼。"),
    ("neighbour", 4, "{addr}的电梯又故障停运了，修好过两天又坏，请彻底解决。"),
    ("guest", 9, "{addr}的电梯故障停运，我母亲八十多岁住六楼，一个星期没下楼了。"),
    ("neighbour", 15, "{addr}的电梯故障停运，运行时有异响，上周还困过人。"),
    ("neighbour", 21, "{addr}的电梯又故障停运了，维修师傅说主机和控制柜老化，需要整体更换。"),
    ("guest", 26, "{addr}的电梯故障停运快半个月了，楼里老人看病都成问题。"),
    ("resident", 33, "{addr}的电梯还是故障停运，反映多次了，希望社区牵头解决。"),
    ("neighbour", 36, "{addr}的电梯又故障停运了，物业说费用大，请社区组织居民商量解决。"),
)
LIFT_STATEMENTS = (
    ("电梯主机和控制柜已经老化，修修补补不是办法，应当整体更换", "a"),
    ("更换费用应当优先使用住宅专项维修资金", "all"),
    ("物业公司日常维保不到位，应当承担相应责任", "all"),
    ("先大修主机，能再用几年，费用低得多", "b"),
    ("低楼层住户很少坐电梯，不应平摊费用", "b"),
    ("施工期间应当为行动不便的老人提供上下楼帮助", "all"),
    ("应当公开招标，选择有资质的电梯公司", "all"),
    ("更换后应在单元门口公开电梯维保记录", "split"),
)
LIFT_PARTICIPANTS = 48
LIFT_MILESTONES = (  # (title, days after the decision, quality standard, progress note)
    ("签订合同并订购电梯主机和控制柜", 12, "合同经公示，设备符合国家标准", "已与中标电梯公司签订合同，主机和控制柜到货验收。"),
    ("拆除旧设备并安装调试新机", 30, "施工期间消防通道畅通，每日公示进度", "旧主机和控制柜已拆除，新机安装调试完成。"),
    ("特种设备检验合格并恢复运行", 40, "取得特种设备检验合格报告，电梯恢复运行", "经特种设备检验机构检验合格，电梯已恢复运行。"),
)
# The residents' answers once the work is done, in the order the followers are asked: (solved, satisfaction, comment)
LIFT_VERDICTS = (
    (True, "satisfied", "电梯换了新的，运行平稳，老人终于能下楼了。"),
    (True, "satisfied", ""),
    (True, "basically_satisfied", "施工时间比预计长了几天，总体满意。"),
    (True, "satisfied", ""),
    (False, "not_satisfied", "门还是关得慢，希望再调一调。"),
    (True, "basically_satisfied", ""),
    (True, "satisfied", "感谢社区和物业。"),
)

ROAD_AMOUNT = "4800"  # below 5 千元: the item's routine tier, signed by the handler, the secretary and the director
ROAD_COMPLAINTS = (
    ("villager", 0, "{addr}门前的村路坑洼不平，下雨全是积水，电动车过不去。"),
    ("guest", 3, "{addr}门前的村路坑洼不平，晚上骑车差点摔倒，请尽快修补。"),
    ("villager", 6, "{addr}门前村路坑洼积水，孩子上学天天踩一脚泥。"),
    ("guest", 8, "{addr}门前的村路坑洼积水，老人走路不安全，希望村里修一修。"),
)


def _login(username: str):
    return get_user_model().objects.get(username=username)


def _organisation(user, kind: str) -> Organisation:
    return Post.objects.filter(person__user=user, organisation__kind=kind).select_related(
        "organisation__region").first().organisation


def _phone(rng: random.Random) -> str:
    return "139" + "".join(str(rng.randrange(10)) for _ in range(8))


def _picture(kind: int, rng: random.Random) -> bytes:
    """A simple drawing of the work, as a JPEG: new equipment in crates, the lift being fitted, the lift done."""
    image = Image.new("RGB", (960, 720), (222, 228, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, 960, 720), fill=(150, 140, 128))  # the floor
    draw.rectangle((300, 120, 660, 560), fill=(120, 124, 130))  # the shaft
    if kind == 0:
        for i, (x, y) in enumerate(((120, 420), (380, 440), (640, 400))):
            colour = (176 + 10 * i, 132, 84)
            draw.rectangle((x, y, x + 200, 560), fill=colour, outline=(90, 60, 30), width=6)
            draw.line((x, y, x + 200, 560), fill=(90, 60, 30), width=4)
            draw.line((x + 200, y, x, 560), fill=(90, 60, 30), width=4)
    elif kind == 1:
        draw.rectangle((330, 150, 630, 560), fill=(70, 74, 80))
        for y in range(170, 560, 60):
            draw.line((340, y, 620, y), fill=(240, 190, 40), width=5)  # scaffolding
        draw.ellipse((440, 250, 500, 310), fill=(250, 200, 30))  # a worker's helmet
        draw.rectangle((445, 310, 495, 420), fill=(30, 90, 170))
    else:
        draw.rectangle((340, 160, 620, 560), fill=(196, 200, 206))
        draw.line((480, 160, 480, 560), fill=(90, 94, 100), width=6)  # the doors
        draw.ellipse((650, 300, 700, 350), fill=(40, 160, 80))  # the call button, lit
        draw.line((380, 100, 430, 140, 560, 40), fill=(40, 160, 80), width=14)  # done
    for _ in range(40):  # texture, so no two photos are alike
        x, y = rng.randrange(960), rng.randrange(720)
        shade = rng.randrange(100, 240)
        draw.point((x, y), fill=(shade, shade, shade))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _file(kind: str, user, building: Building, place: str, text: str, category: str, rng: random.Random) -> Demand:
    lon = building.longitude + rng.uniform(-0.00008, 0.00008)
    lat = building.latitude + rng.uniform(-0.00006, 0.00006)
    text = text.format(addr=place)
    if kind == "guest":
        surname = rng.choice("王李张刘陈杨赵黄周吴")
        return demands.file_demand(None, text=text, longitude=lon, latitude=lat, category=category, guest=True,
                                   contact_name=surname + rng.choice(("先生", "女士")), contact_phone=_phone(rng),
                                   channel=Demand.Channel.WEB).demand
    return demands.file_demand(user, text=text, longitude=lon, latitude=lat, category=category,
                               channel=Demand.Channel.WEB).demand


def _issue_of(demand: Demand):
    return DemandProfile.objects.select_related("issue").get(demand=demand).issue


def _meeting(officer, body: Body, topic: Topic, stage: str, start: dt.datetime, people, rng, *, place: str,
             agenda: str, yes: float = 0.9, amount=None, attend: float = 1.0, motion: str = ""):
    """One meeting stage of the topic's procedure: notice, open (the roll frozen), sign-in, a yes/no vote on the
    topic, the count, minutes and the stage recorded. Returns (motion, when it ended)."""
    notice = dt.timedelta(days=deliberation.NOTICE_DAYS.get(body.kind, deliberation.DEFAULT_NOTICE_DAYS))
    at = session_start(body.kind, start + notice)
    with clock.frozen_at(start):
        meeting = deliberation.schedule_meeting(officer, body, title=f"{body.name}：{topic.title}", agenda=agenda,
                                                starts_at=at, topic=topic, place=place)
    with clock.frozen_at(at):
        deliberation.open_meeting(officer, meeting)
    roll = {e.person_id for e in meeting.roll.all()}
    present = [p for p in people if p.pk in roll and (attend >= 1 or rng.random() < attend)]
    with clock.frozen_at(at + dt.timedelta(minutes=10)):
        for person in present:
            deliberation.sign_in(person.user, meeting)
    with clock.frozen_at(at + dt.timedelta(minutes=40)):
        motion = deliberation.open_motion(officer, meeting, text=motion or f"同意：{topic.title}", topic=topic,
                                          stage_code=stage,
                                          amount=amount)
        for person in present:
            choice = "yes" if rng.random() < yes else rng.choice(["no", "abstain"])
            deliberation.cast_ballot(person.user, motion, choice)
    with clock.frozen_at(at + dt.timedelta(minutes=70)):
        deliberation.close_motion(officer, motion)
        deliberation.close_meeting(officer, meeting, minutes=f"会议审议了{topic.title}，进行了表决，结果见表决记录。")
        deliberation.record_stage(officer, topic, stage, meeting=meeting, motion=motion,
                                  signatures=["会议主持人", "记录人"])
    motion.refresh_from_db()
    return motion, at + dt.timedelta(hours=2)


def _notice(officer, topic: Topic, stage: str, start: dt.datetime, *, kind: str, title: str, body: str,
            objection: tuple | None = None) -> dt.datetime:
    """A publication stage: the notice, its period (an objection answered in it), completed and recorded."""
    with clock.frozen_at(start):
        notice = deliberation.publish(officer, region=topic.region, kind=kind, title=title, body=body, notice_days=7,
                                      topic=topic)
    if objection:
        _object(officer, notice, start, *objection)
    end = notice.notice_ends_at + dt.timedelta(hours=2)
    with clock.frozen_at(end):
        deliberation.complete_disclosure(notice)
        deliberation.record_stage(officer, topic, stage, disclosure=notice)
    return end


def _object(officer, notice, start: dt.datetime, who, text: str, reply: str) -> None:
    with clock.frozen_at(start + dt.timedelta(days=2, hours=3)):
        objection = deliberation.file_objection(who, notice, text)
    with clock.frozen_at(start + dt.timedelta(days=3, hours=1)):
        deliberation.answer_objection(officer, objection, reply)


def _opinion_map(officer, topic: Topic, voters: list, start: dt.datetime, rng: random.Random) -> None:
    with clock.frozen_at(start):
        statements = [(deliberation.add_statement(officer, topic, text), stance) for text, stance in LIFT_STATEMENTS]
    for i, user in enumerate(voters):
        side = "a" if rng.random() < 0.62 else "b"
        with clock.frozen_at(start + dt.timedelta(hours=3 + 2 * i)):
            for statement, stance in statements:
                if rng.random() < 0.2:
                    continue
                p_agree = 0.9 if stance == "all" else 0.5 if stance == "split" else 0.85 if stance == side else 0.12
                roll = rng.random()
                vote = 1 if roll < p_agree else 0 if roll < p_agree + 0.05 else -1
                deliberation.vote_statement(user, statement, vote)
    with clock.frozen_at(start + dt.timedelta(hours=4 + 2 * len(voters))):
        deliberation.opinion_map(topic, force=True)


def _lift_case(rng: random.Random, now: dt.datetime) -> Case:
    officer, staff = _login("community_secretary"), _login("property_staff")
    committee = _organisation(officer, "residents_committee")
    community = committee.region
    company = _organisation(staff, "property_company")
    resident = _login("resident")
    building = Person.objects.select_related("household__building").get(user=resident).household.building
    neighbours = [p.user for p in Person.objects.filter(household__building__grid=building.grid,
                                                        user__username__startswith="demo-resident-")
                  .select_related("user").order_by("id")]
    place = f"{community.name}{building.name}"  # no house number: public titles keep no address digits
    start = now - dt.timedelta(days=130)

    # 1. The complaints, over five weeks.
    filed, k = [], 0
    for who, day, text in LIFT_COMPLAINTS:
        user = resident if who == "resident" else neighbours[k % len(neighbours)] if who == "neighbour" else None
        k += who == "neighbour"
        at = start + dt.timedelta(days=day, hours=8 + rng.randrange(12), minutes=rng.randrange(60))
        with clock.frozen_at(at):
            filed.append(_file(who, user, building, place, text, "housing.elevator", rng))
    # The property company takes the first one on and answers it: the lift needs replacing, which the
    # residents must decide.
    with clock.frozen_at(start + dt.timedelta(days=1, hours=10)):
        first = Demand.objects.get(pk=filed[0].pk)
        if first.lead_unit_id == company.pk:
            demands.accept(staff, first)
            demands.reply(staff, first, text="已派维保人员抢修恢复运行。经检测电梯主机和控制柜老化，需整体更换，"
                                             "费用较大，已报社区组织居民协商。")

    # 2. Insight groups them into one issue; the community secretary puts it to deliberation: the case opens.
    t_topic = start + dt.timedelta(days=40, hours=9)
    with clock.frozen_at(t_topic):
        insight.profile_new_demands()
        topic = insight.open_topic_from_issue(officer, insight.refresh_issue(_issue_of(filed[0])),
                                              title=f"{place}电梯频繁故障停运")
    case = Case.objects.get(topic=topic)

    # 3. The opinion map: neighbours across the community vote on the statements.
    voters = [p.user for p in Person.objects.filter(household__building__grid__parent=community,
                                                    user__username__startswith="demo-resident-")
              .select_related("user").order_by("id")[:LIFT_PARTICIPANTS]]
    _opinion_map(officer, topic, voters, t_topic + dt.timedelta(hours=2), rng)

    # 4. 社区协商: proposal, opinions sought, the residents' council consults, the residents' meeting resolves
    # the amount, the resolution is posted; then the decision under the power list starts the project.
    at = t_topic + dt.timedelta(days=6)
    with clock.frozen_at(at):
        topic = deliberation.start_procedure(officer, topic, "community_consultation")
        deliberation.record_stage(officer, topic, "topic_proposal")
    at = _notice(officer, topic, "opinion_seeking", at + dt.timedelta(hours=1), kind="village_affairs",
                 title=f"征求意见：{place}电梯整体更换方案",
                 body=f"{place}电梯主机和控制柜老化，故障频繁。拟整体更换主机、控制柜和门机系统，"
                      f"估算费用18.6万元，由住宅专项维修资金列支。请居民在公示期内提出意见。")
    with clock.frozen_at(at):
        council = (Body.objects.filter(region=community, kind="residents_committee").first()
                   or deliberation.create_body(officer, region=community, kind="residents_committee",
                                               name=committee.name, organisation=committee))
    members = [m.person for m in deliberation.members_of(council, at.date())]
    _give_accounts(members)
    _, at = _meeting(officer, council, topic, "consultation", at, members, rng, place="社区居委会会议室",
                     agenda="一、电梯整体更换方案说明\n二、费用来源和分摊\n三、施工期间老人出行保障", yes=1.0,
                     motion="同意将电梯整体更换方案提交居民会议表决")
    assembly = Body.objects.get(region=community, kind="residents_meeting")
    roll = [m.person for m in deliberation.members_of(assembly, at.date())]
    _give_accounts(roll)
    rng.shuffle(roll)
    present = sorted(roll[:len(roll) * 3 // 5], key=lambda p: p.pk)
    resolution, at = _meeting(officer, assembly, topic, "resolution", at, present, rng, place="社区党群服务中心",
                              agenda="一、电梯整体更换方案\n二、表决：使用住宅专项维修资金18.6万元更换电梯",
                              yes=0.88, amount=LIFT_AMOUNT,
                              motion=f"同意使用住宅专项维修资金18.6万元，整体更换{place}电梯的主机、控制柜和门机系统")
    objector = neighbours[1 % len(neighbours)]
    at = _notice(officer, topic, "notice", at + dt.timedelta(hours=14), kind="resolution",
                 title=f"公示：{place}电梯整体更换决议",
                 body=f"经{assembly.name}表决通过：使用住宅专项维修资金18.6万元，整体更换{place}电梯的主机、"
                      f"控制柜和门机系统，由北京永宁物业管理有限公司组织实施。公示期内如有异议，请在本页提出。",
                 objection=(objector, "更换期间楼里的老人怎么上下楼？有没有安排？",
                            "施工期间由楼栋长和志愿者每天两次上门，帮助行动不便的老人上下楼、代购生活用品。"))
    item = PowerItem.objects.get(region=community, code=LIFT_ITEM)
    with clock.frozen_at(at):
        today = clock.today()
        plan = duties.ProjectPlan(unit=company, title=f"{place}电梯整体更换", milestones=tuple(
            duties.Milestone(title, today + dt.timedelta(days=days), standard)
            for title, days, standard, _ in LIFT_MILESTONES))
        decision = duties.record_decision(officer, item, title=f"更换{place}电梯主机、控制柜和门机系统",
                                          amount=LIFT_AMOUNT, topic=topic, project=plan,
                                          details="由住宅专项维修资金列支，公开招标选定有资质的电梯公司施工。")
    decided = at
    if decision.disclosure_id:
        notice = decision.disclosure
        _object(officer, notice, decided, neighbours[2 % len(neighbours)], "18.6万元里设备和施工各多少钱？",
                "设备（主机、控制柜、门机）14.2万元，拆除安装和调试3.6万元，检验费0.8万元，明细张贴在单元门口。")
        with clock.frozen_at(notice.notice_ends_at + dt.timedelta(hours=1)):
            deliberation.complete_disclosure(notice)

    # 5. The work, milestone by milestone, with photos; then done, and the residents asked.
    project = decision.project
    case.refresh_from_db()
    for i, (task, (_, days, _, note)) in enumerate(zip(project.tasks.order_by("deadline"), LIFT_MILESTONES)):
        with clock.frozen_at(decided + dt.timedelta(days=days - 2, hours=3)):
            services.report_progress(staff, case, task, note=note, done=True,
                                     photos=[_picture(i, rng), _picture(i, rng)] if i else [_picture(i, rng)])
    finished = decided + dt.timedelta(days=LIFT_MILESTONES[-1][1])
    with clock.frozen_at(finished):
        duties.record_project_outcome(officer, project, "电梯主机、控制柜和门机系统整体更换完成，经特种设备检验合格，"
                                                       "已恢复运行。")
        deliberation.record_stage(officer, topic, "implementation")
    # The property company answers each complaint at once; the community checks on the spot and closes them,
    # so each complainant's verdict on the case is also their rating of their own demand.
    with clock.frozen_at(finished + dt.timedelta(hours=2)):
        services.reply_to_demands(staff, case, text="电梯主机、控制柜和门机系统已整体更换，经特种设备检验合格，"
                                                    "已恢复运行。全过程见本诉求所在的案卷。")
    with clock.frozen_at(finished + dt.timedelta(hours=20)):
        for demand in Demand.objects.filter(case_links__case=case, state="replied").order_by("id"):
            demands.verify(officer, demand, note="现场查看，电梯运行正常")
            demands.close(officer, demand)
    case.refresh_from_db()
    users, guests = services.followers(case)
    voices = [{"user": u} for u in get_user_model().objects.filter(pk__in=users).order_by("pk")]
    voices += [{"demand": d} for d in Demand.objects.filter(pk__in=guests).order_by("pk")]
    for i, voice in enumerate(voices):
        solved, satisfaction, comment = LIFT_VERDICTS[i % len(LIFT_VERDICTS)]
        with clock.frozen_at(finished + dt.timedelta(days=1 + i, hours=2)):
            services.answer(Case.objects.get(pk=case.pk), solved=solved, satisfaction=satisfaction, comment=comment,
                            **voice)
    case.refresh_from_db()
    if case.status == Case.Status.SOLVED:
        with clock.frozen_at(case.closed_at + dt.timedelta(hours=1)):
            deliberation.record_stage(officer, topic, "evaluation")
    if case.issue_id:  # the worker's recount (insight.refresh): the issue's demands are now answered
        insight.refresh_issue(case.issue)
    return case


def _give_accounts(people) -> None:
    """Accounts for the people on a roll who have none (demo voters, without a password), as the
    deliberation demo gives them."""
    User = get_user_model()
    missing = [p for p in people if p.user_id is None]
    users = User.objects.bulk_create([User(username=f"demo-resident-{p.pk}", password="!") for p in missing])
    for person, user in zip(missing, users):
        person.user = user
    Person.objects.bulk_update(missing, ["user"])


def _road_case(rng: random.Random, now: dt.datetime) -> Case:
    """A village case decided and started, whose first milestone's deadline has passed undone."""
    officer = _login("village_secretary")
    committee = _organisation(officer, "villagers_committee")
    village = committee.region
    building = Building.objects.filter(grid__parent=village, longitude__isnull=False).order_by("id").first()
    villagers = [p.user for p in Person.objects.filter(household__building__grid__parent=village,
                                                       user__username__startswith="demo-villager-")
                 .select_related("user").order_by("id")[:4]]
    place = f"{village.name}{building.name[:2]}"  # the villagers' group, e.g. 前营村一组
    start = now - dt.timedelta(days=45)
    filed, k = [], 0
    for who, day, text in ROAD_COMPLAINTS:
        user = villagers[k % len(villagers)] if who == "villager" and villagers else None
        k += who == "villager"
        with clock.frozen_at(start + dt.timedelta(days=day, hours=9 + rng.randrange(9))):
            filed.append(_file(who if user else "guest", user, building, place, text, "traffic.roads", rng))
    with clock.frozen_at(start + dt.timedelta(days=12, hours=10)):
        insight.profile_new_demands()
        topic = insight.open_topic_from_issue(officer, insight.refresh_issue(_issue_of(filed[0])),
                                              title=f"{place}村道坑洼破损")
    case = Case.objects.get(topic=topic)
    decided = start + dt.timedelta(days=20, hours=15)
    with clock.frozen_at(decided):
        today = clock.today()
        item = PowerItem.objects.get(region=village, code="procurement")
        plan = duties.ProjectPlan(unit=committee, title=f"修补{place}附近村路坑洼", milestones=(
            duties.Milestone("采购冷补沥青料", today + dt.timedelta(days=14), "材料有合格证"),
            duties.Milestone("修补坑洼并清理积水", today + dt.timedelta(days=35), "路面平整，雨后无积水")))
        decision = duties.record_decision(officer, item, title=f"采购冷补沥青料修补{place}附近村路",
                                          amount=ROAD_AMOUNT, topic=topic, project=plan,
                                          signatories=("handler", "party_secretary", "committee_director"),
                                          details="由村级公益事业经费列支。")
    task = decision.project.tasks.order_by("deadline").first()
    case.refresh_from_db()
    with clock.frozen_at(decided + dt.timedelta(days=6, hours=2)):
        services.report_progress(officer, case, task, note="已联系两家供货商询价，等待报价。")
    case.refresh_from_db()
    return case


def build_demo_cases(seed: int = org_demo.DEMO_SEED):
    if org_demo.demo_district() is None:
        raise RuntimeError("load the demo district first")
    rng = random.Random(seed)
    now = clock.now()
    with transaction.atomic():
        lift = _lift_case(rng, now)
        road = _road_case(rng, now)
    return {"solved": lift.pk, "running": road.pk, "lift_status": lift.status, "road_status": road.status}


def demo_cases() -> dict[str, Case | None]:
    """The demo's two cases: "complete" (the lift, solved) and "running" (the road, a missed milestone)."""
    district = org_demo.demo_district()
    if district is None:
        return {"complete": None, "running": None}
    cases = Case.objects.filter(region__path__startswith=district.path, issue__category__code__in=(
        "housing.elevator", "traffic.roads")).select_related("issue__category").order_by("pk")
    found = {"complete": None, "running": None}
    for case in cases:
        key = "complete" if case.issue.category.code == "housing.elevator" else "running"
        found[key] = found[key] or case
    return found


def reset_demo_cases() -> dict[str, int]:
    district = org_demo.demo_district()
    if district is None:
        return {}
    with transaction.atomic():
        cases = Case.objects.filter(region__path__startswith=district.path)
        links = [services.link(c) for c in cases]
        files = list(ProgressPhoto.objects.filter(case__in=cases).values_list("image", "thumbnail"))
        photos = ProgressPhoto.objects.filter(case__in=cases).delete()[0]
        notifications = 0
        for href in links:
            notifications += Notification.objects.filter(kind=Notification.Kind.CASE, link__startswith=href).delete()[0]
        deleted = cases.delete()[1]
        names = [name for pair in files for name in pair if name]
        transaction.on_commit(lambda: _delete_files(names))
    return {"cases": deleted.get("cases.Case", 0), "case_photos": photos, "case_notifications": notifications}


def _delete_files(names) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name)
