"""The phrasebook of the demo demands: templates written for gongzhi (not taken from any data set), filled
with the demo district's own places, so each generated demand reads like a resident's call or message.

Slots: {addr} a building ("东华路3号院2号楼", "双桥乡前营村一组3号"), {compound} its compound or villagers'
group ("东华路3号院", "前营村一组"), {road} the community's road (a village's name in villages), {community},
{unit} a stairwell ("2单元", empty in villages), {floor}, {dur} how long it has lasted, {when} when it
happens, {shop} a small business, {n} a small number, {ask} the closing request. Templates are checked
by the tests: every slot filled, and the urgency proposed from the text is the one intended.
"""

# How long: (text, weight)
DURATIONS = ("两三天了", "快一个星期了", "一个多星期了", "半个多月了", "一个多月了", "好几天了", "从上周开始")
WHEN = ("每天晚上十点以后", "早上五六点", "中午午休的时候", "周末一整天", "每天傍晚", "夜里十二点多")
SHOPS = ("一家烧烤店", "一个小超市", "一家早点铺", "一家麻辣烫店", "一个水果摊", "一家洗车店", "一家装修公司")
ASKS = ("希望尽快处理。", "请相关部门尽快派人看看。", "麻烦尽快解决，谢谢。", "希望能给个说法。", "请尽快协调解决。",
        "盼复。", "希望有关部门重视一下。", "")
OPENERS = ("", "", "", "您好，", "你好，", "我是{community}的居民，", "我住在{addr}，", "反映个情况：")

# Category code -> templates. Placed in a building's surroundings; no template names a real place.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "housing.property_service": (
        "{compound}的物业{dur}没人打扫楼道，{unit}楼道里堆满了杂物，物业电话也打不通。",
        "{addr}{unit}的楼道灯坏了{dur}，报给物业一直没人修，晚上上下楼看不清。",
        "{compound}物业费每年都交，可小区大门的门禁坏了{dur}，外来人员随便进出，物业不管。",
        "{compound}物业把小区里的绿地改成了收费车位，没有征求业主意见。",
        "{addr}楼下的单元门关不上{dur}，物业说没有配件，一直拖着。",
    ),
    "housing.repair": (
        "{addr}顶楼的房顶漏雨，下雨时屋里往下滴水，墙皮都泡掉了。",
        "{addr}{unit}外墙的瓷砖有松动，已经掉下来几块，楼下经常有人走动。",
        "{addr}{unit}楼梯扶手坏了{dur}，老人上下楼扶不住。",
        "{addr}的地下室墙面渗水，储藏的东西都发霉了。",
    ),
    "housing.elevator": (
        "{addr}{unit}的电梯{dur}三天两头停运，楼里老人多，上下楼很困难。",
        "{addr}{unit}电梯运行时有异响，门关不严，大家都不敢坐。",
        "{addr}{unit}电梯困人了，里面有两个人出不来，物业电话没人接！",
        "{addr}的电梯年检标志过期了{dur}，物业说在走流程，请督促。",
    ),
    "housing.renovation": (
        "{compound}是老旧小区，想问一下今年有没有纳入老旧小区综合整治的计划，加装电梯怎么申请？",
        "{compound}外墙保温改造施工{dur}，脚手架一直没拆，窗户都打不开。",
        "{compound}改造后的雨水管接错了，一下雨一楼门口就积水。",
    ),
    "housing.parking": (
        "{compound}里车位太少，每天晚上车都停到消防通道上，物业不管。",
        "{compound}地下车库的车位只卖不租，价格太高，希望有关部门监管。",
        "{compound}门口的地锁越来越多，有人私自占用公共车位。",
        "{compound}里有一辆车停了{dur}一直没动，轮胎都瘪了，像是僵尸车。",
    ),
    "housing.certificate": (
        "我在{compound}买的房子交房好几年了还办不下来房产证，开发商一直推脱。",
        "{compound}回迁房的不动产登记一直没有进展，想问一下进度。",
    ),
    "environment.garbage": (
        "{compound}的垃圾桶{dur}没有清运，垃圾都堆到桶外面了，味道很大。",
        "{addr}楼下的垃圾分类桶站没人值守，厨余垃圾和其他垃圾混在一起。",
        "{compound}门口有人乱倒装修垃圾，堆了一大堆，没人管。",
        "{road}路边的大件垃圾（旧沙发、床垫）放了{dur}，一直没人拉走。",
        "{compound}的垃圾清运车每天早上五点多就来，声音特别大。",
    ),
    "environment.cleaning": (
        "{road}人行道上{dur}没人清扫，落叶和塑料袋到处都是。",
        "{road}路边的雨水篦子被垃圾堵住了，需要清掏。",
        "{road}公交站附近有很多小广告，贴得到处都是。",
    ),
    "environment.noise": (
        "{compound}旁边的工地{when}还在施工，噪音很大，根本睡不着觉。",
        "{addr}楼下{shop}{when}开着音响，太吵了。",
        "{compound}广场上跳舞的音响声音太大，{when}还在放。",
        "{addr}楼上邻居装修，{when}就开始砸墙，已经{dur}。",
        "{road}上的{shop}门口放大喇叭招揽顾客，{when}一直在响。",
    ),
    "environment.pollution": (
        "{addr}楼下的{shop}油烟直排，{when}整栋楼都是油烟味，窗户都不敢开。",
        "{road}附近有人焚烧垃圾，烟很呛人。",
        "{compound}附近的{shop}排污水到雨水井里，味道很难闻。",
    ),
    "environment.greenery": (
        "{compound}里的树长得太高，挡住了{addr}低层的采光，希望修剪一下。",
        "{road}上的行道树有一根大树枝快要断了，挂在半空中，很危险。",
        "{compound}的绿地被人私自开荒种菜，希望恢复绿化。",
        "{road}边的树倒了，压在路中间，车和人都过不去！",
    ),
    "environment.pests": (
        "{addr}楼下垃圾站附近老鼠很多，晚上到处跑。",
        "{compound}的地下室积水，蚊子特别多，希望消杀一下。",
        "{compound}里的绿化带{dur}没有打药，虫子很多。",
    ),
    "traffic.roads": (
        "{road}路面有一个大坑，晚上骑车很容易摔倒，赶紧修一下。",
        "{road}上一个井盖缺失，只放了个路锥，非常危险！",
        "{compound}门口的路面坑坑洼洼，下雨就积水，已经{dur}。",
        "{road}的井盖松动，车一压就哐哐响，{when}特别吵。",
    ),
    "traffic.parking": (
        "{road}两侧有很多车违停，把人行道都占了，行人只能走机动车道。",
        "{compound}门口总有车堵着大门，进出很不方便。",
        "{road}的共享汽车乱停在盲道上。",
    ),
    "traffic.public_transport": (
        "{road}的公交站{dur}不停车了，也没有通知，希望恢复。",
        "{community}附近到地铁站没有公交，能不能增加一条社区微循环线路？",
        "{road}公交站的候车亭坏了，下雨没地方躲。",
    ),
    "traffic.signals": (
        "{road}路口的红绿灯坏了{dur}，车辆和行人抢行，很乱。",
        "{road}的人行横道线磨没了，希望重新画一下。",
        "{road}路口的绿灯时间太短，老人过马路走不到一半就变灯了。",
    ),
    "traffic.bicycles": (
        "{compound}门口的共享单车堆成一片，把出入口都堵住了。",
        "{road}地铁口的共享单车乱停，盲道上都是车。",
    ),
    "education.school_places": (
        "孩子今年上小学，户口在{community}，想咨询一下对口的学校和入学登记的时间。",
        "{community}的孩子被划到离家很远的学校，上学路上要四十分钟，希望调整学区。",
        "随迁子女在{community}附近上学需要准备哪些材料？",
    ),
    "education.schools": (
        "{community}附近学校门口放学时车辆乱停，孩子过马路不安全。",
        "学校周边的{shop}向学生卖三无零食，希望管一管。",
        "学校课后服务收费不透明，想咨询一下标准。",
    ),
    "education.culture_sports": (
        "{compound}的健身器材坏了{dur}，有的螺丝都松了，希望维修。",
        "{community}的社区图书室周末不开门，上班族没时间去。",
        "{community}附近没有篮球场，年轻人没地方锻炼，建议建一个。",
    ),
    "employment.wages": (
        "我在{road}的{shop}打工，老板拖欠了两个月工资一直不给。",
        "{compound}装修工地的工人工资被拖欠，包工头联系不上了。",
    ),
    "employment.jobs": (
        "我失业在家，户口在{community}，想咨询一下有没有就业培训和推荐岗位。",
        "{community}有没有给大龄失业人员的公益岗位？怎么报名？",
    ),
    "employment.social_insurance": (
        "单位{dur}没给我交社保，问人事也不给说法。",
        "想咨询一下灵活就业人员在{community}怎么续交养老保险。",
    ),
    "employment.assistance": (
        "{addr}有一户老人生活困难，子女不在身边，能不能申请低保？",
        "我家老人住院花了很多钱，想咨询一下临时救助怎么申请。",
        "{compound}有位残疾居民生活困难，希望社区上门了解一下情况。",
    ),
    "commerce.consumer": (
        "在{road}的{shop}办了预付卡，现在店关门了，钱退不回来。",
        "{road}的{shop}卖的东西缺斤短两，跟老板理论还被骂。",
        "在{road}一家健身房办了年卡，刚用两个月就跑路了。",
    ),
    "commerce.food_safety": (
        "{road}的{shop}后厨卫生很差，看到有老鼠跑过。",
        "在{road}的{shop}买的熟食有异味，怀疑过期了。",
        "在{road}的{shop}吃完饭后全家上吐下泻，怀疑食物中毒！",
    ),
    "commerce.street_vending": (
        "{road}路边{when}有很多流动摊贩，占道经营，垃圾扔一地。",
        "{compound}门口的{shop}把货架摆到人行道上，行人过不去。",
        "{road}的早市占了整条路，车都开不进去。",
    ),
    "commerce.prices": (
        "{compound}的停车收费标准没有公示，收费很随意。",
        "{road}的{shop}明码标价和结账价格不一样。",
    ),
    "health.medical": (
        "{community}的社区卫生服务站{dur}缺少常用的降压药，老人开药要跑很远。",
        "{community}卫生服务站挂号排队时间太长，希望增加医生。",
        "家庭医生签约后一直没有联系过我们，想问一下怎么回事。",
    ),
    "health.disease_control": (
        "{community}附近哪里可以打流感疫苗？要不要预约？",
        "{compound}有流浪狗咬人了，希望有关部门处理，另外想问狂犬疫苗在哪里打。",
    ),
    "health.insurance": (
        "异地就医备案怎么办理？老人在{community}住，医保在外地。",
        "社区卫生服务站不能刷医保卡，希望开通。",
    ),
    "care.elderly": (
        "{addr}有一位独居老人，{dur}没见他下楼了，打电话也没人接，希望社区上门看看。",
        "{community}的养老驿站助餐服务{dur}停了，老人吃饭成问题。",
        "想给家里老人申请居家养老服务补贴，需要什么条件？",
        "{addr}的老人在家里摔倒了，自己起不来，家属不在身边！",
    ),
    "care.childcare": (
        "{community}附近有没有普惠托育机构？孩子两岁，没人带。",
        "{community}的托育点收费太高了，希望增加普惠名额。",
    ),
    "care.disability": (
        "{compound}的无障碍坡道被堵住了，坐轮椅出不了门。",
        "残疾人两项补贴怎么申请？户口在{community}。",
    ),
    "utilities.water": (
        "{addr}{dur}自来水发黄，有很重的铁锈味。",
        "{compound}突然停水了，也没有提前通知，什么时候能恢复？",
        "{addr}的水压太低，高层几乎没水，{when}尤其严重。",
        "{road}路边的供水管道爆了，水流了一地。",
    ),
    "utilities.power": (
        "{compound}突然停电了，已经好几个小时，冰箱里的东西都化了。",
        "{addr}{unit}楼道的电表箱门坏了，电线露在外面。",
        "{compound}这几天老是跳闸停电，家里没法正常用电。",
    ),
    "utilities.gas": (
        "{addr}{unit}楼道里闻到很浓的煤气味，大家都不敢开火，请赶紧来人！",
        "{compound}燃气表{dur}显示异常，读数跳得很快。",
        "想咨询一下{compound}天然气改造什么时候能通气。",
    ),
    "utilities.heating": (
        "{addr}暖气不热，屋里只有十四五度，老人孩子都冻感冒了。",
        "{compound}供暖{dur}一直时冷时热，找供热公司也没解决。",
        "{addr}的暖气片漏水，地板都泡了，供热公司说要排队。",
        "{compound}已经到供暖日了，暖气还是凉的。",
    ),
    "utilities.drainage": (
        "{road}的下水道堵了，污水都冒到路面上了，味道很大。",
        "{addr}一楼的下水道{dur}往上返水，厕所都没法用。",
        "{compound}的化粪池满了，污水外溢。",
    ),
    "utilities.telecom": (
        "{compound}的宽带{dur}老是断网，运营商一直说在排查。",
        "{addr}手机信号很差，在家里打电话都听不清。",
    ),
    "safety.fire": (
        "{addr}{unit}的楼道里有人给电动车充电，电线从窗户拉下来，怕起火。",
        "{compound}的消防通道被车堵死了，消防栓也被挡住了。",
        "{addr}楼道里的灭火器都过期了，消防设施形同虚设。",
    ),
    "safety.structures": (
        "{addr}楼顶的广告牌松动了，风大的时候晃得厉害，怕掉下来。",
        "{compound}的围墙出现了很大的裂缝，往外歪了，担心倒下来砸到人。",
    ),
    "safety.flooding": (
        "{road}的下穿桥积水很深，有车熄火在里面了，赶紧来人！",
        "{compound}的地下车库进水了，水还在往里灌！",
        "{road}雨后积水到膝盖，行人过不去。",
    ),
    "safety.public_order": (
        "{compound}门口{when}总有人聚集喝酒吵闹，影响居民休息。",
        "{road}的{shop}门口有人打架，已经动手了！",
        "{compound}最近电动车电瓶接连被偷，希望加强巡逻。",
    ),
    "community.disputes": (
        "{addr}楼上邻居家空调外机滴水，正好滴在我家窗台上，沟通了几次都不改。",
        "{addr}邻居在楼道里堆放杂物还养了好几只狗，味道很大，协商不成。",
        "{addr}邻居私自在公共走廊加装铁门，把公共空间占了。",
    ),
    "community.services": (
        "想在{community}开具居住证明，需要带什么材料？社区居委会什么时候上班？",
        "{community}的便民服务大厅{when}没人，来了几次都办不了事。",
        "{community}能不能组织一下老年人智能手机培训？",
    ),
    "community.suggestions": (
        "建议在{compound}增设几个快递柜，现在快递都堆在门口。",
        "建议{community}多组织一些亲子活动，周末孩子没地方去。",
        "建议在{road}增设几个休息座椅，老人走路累了没地方坐。",
        "建议{compound}安装电动车集中充电桩，解决飞线充电问题。",
    ),
    "other": (
        "想咨询一下{community}附近哪里可以办理居住证。",
        "反映一个问题：{road}附近的公共厕所{dur}没有开门。",
        "{compound}门口有几只流浪猫，晚上叫得很厉害，没人管。",
    ),
}

# Category codes a grid worker reports on patrol (巡查上报): what can be seen in the street.
PATROL_CATEGORIES = frozenset({
    "environment.garbage", "environment.cleaning", "environment.greenery", "environment.pollution",
    "traffic.roads", "traffic.parking", "traffic.bicycles", "traffic.signals", "commerce.street_vending",
    "safety.fire", "safety.structures", "safety.public_order", "housing.parking", "utilities.drainage",
})
PATROL_TEMPLATES = (
    "网格巡查发现：{text}",
    "巡查上报：{text}",
    "日常巡查中发现，{text}",
)

# Replies of the lead unit: "{issue}" is the category name.
REPLY_SOLVED = (
    "您好！关于您反映的{compound}{issue}问题，我单位已安排工作人员到现场核实处理，{action}。感谢您的监督。",
    "您好，收到您反映的{issue}问题后，我单位当天派人到{compound}查看，{action}。如还有问题请再联系我们。",
    "经现场核实，您反映的情况属实。{action}，后续将加强日常巡查，防止问题反复。",
)
REPLY_NOT_SOLVED = (
    "您好，关于您反映的{issue}问题，经现场核实，{obstacle}，我单位将{plan}，请您理解。",
    "经调查，{obstacle}，目前暂时无法彻底解决。我单位已{plan}，有进展会及时告知您。",
)
ACTIONS = {
    "housing": ("已督促物业公司完成维修，并对相关责任人进行了约谈", "已协调物业公司制定整改方案并完成整改",
                "已联系专业维修单位上门处理完毕"),
    "environment": ("已安排清运、清理完毕，并增加了巡查和作业频次", "已责令相关商户整改，现场已恢复正常",
                    "已完成现场处置，并对周边进行了检查"),
    "traffic": ("已完成修复，现场恢复通行", "已联合交管部门进行了集中整治，违停车辆已清理",
                "已设置警示标志并完成维修"),
    "education": ("已向您详细解答了相关政策和办理流程", "已协调学校落实整改", "已安排维修，设施恢复使用"),
    "employment": ("已协调用人单位补发相关款项", "已为您登记并推荐了合适的岗位和培训", "已按政策为您办理了相关手续"),
    "commerce": ("已对涉事商户立案调查并责令整改", "已协调商家为您办理退款", "已开展专项检查，违规经营行为已制止"),
    "health": ("已协调卫生服务站补充药品并优化服务流程", "已为您解答了相关政策并提供了办理渠道",
               "已安排家庭医生团队与您联系"),
    "care": ("社区工作人员已上门查看并落实了相关服务", "已为老人办理了相关补贴申请", "已协调养老驿站恢复服务"),
    "utilities": ("已组织抢修，目前已恢复正常", "已安排专业人员上门排查并更换了故障设备", "已完成管线疏通和维修"),
    "safety": ("已组织现场处置，隐患已消除", "已清理占用的消防通道并对责任方进行了教育", "已加强巡逻防控并开展了排查"),
    "community": ("社区已组织双方调解，达成了一致意见", "社区已上门解答并协助您办理", "已采纳您的建议并纳入今年的工作计划"),
    "other": ("已转交相关部门并为您解答", "已安排人员处理完毕"),
}
OBSTACLES = (
    "该问题涉及多个产权单位，需要协调各方意见", "所需资金尚未落实，需要纳入明年的预算", "相关方不配合整改，需要依法走程序",
    "该问题属于历史遗留问题，短期内难以解决", "维修需要全体业主表决同意，目前尚未达成一致",
)
PLANS = (
    "持续跟进协调，每周向您通报进展", "将此问题上报区级部门协调解决", "纳入下一阶段的专项治理计划", "先采取临时措施减少影响",
)

RETURN_REASONS = (
    "经核实，该诉求不属于本单位职责范围，请重新派单。",
    "诉求地址不在本单位辖区，请核实后改派。",
    "该事项应由属地街道牵头办理，本单位可以协办。",
    "该问题涉及物业管理，请派至物业服务企业。",
)
REJECT_REASONS = (
    "来电人多次拨打但未说明具体诉求，无法受理。",
    "诉求内容为咨询类，已当场解答，无需派单。",
    "诉求内容与本区无关，已告知来电人向属地反映。",
    "诉求内容不明确，多次回访无法联系到来电人。",
)
MERGE_NOTES = ("同一问题已有工单在办，合并办理。", "重复诉求，并入原工单。", "")
VERIFY_NOTES = ("现场核实，问题已处理。", "已电话回访核实。", "", "", "网格员现场查看，情况属实已整改。")
RATING_NOTES_GOOD = ("处理很及时，谢谢！", "工作人员态度很好。", "", "", "")
RATING_NOTES_BAD = ("问题还是没解决。", "只是来看了一下，没有处理。", "答复和实际情况不符。", "")
DESK_REOPEN_REASONS = ("核查发现现场未整改到位，请重新办理。", "答复内容未回应诉求人的主要问题，请重新办理。")
