"""The default taxonomy of demand categories (two levels, stable codes) and the default time limits,
written by the data migration and by `seed_defaults()`. Both take the model classes as arguments so the
migration can pass its historical models; seeding is idempotent (existing codes and rules are kept)."""

from . import rules
from .calendar import DEFAULT_TIME_LIMITS

E, U, O, C = rules.EMERGENCY, rules.UTILITIES, rules.ORDINARY, rules.COMPLEX

# (code, 中文, English, default urgency, [(code, 中文, English, default urgency, cue words), …])
# The codes are stable: they are the Open311 service_code and what routing rules refer to.
TAXONOMY = [
    ("housing", "住房与物业", "Housing and property", O, [
        ("housing.property_service", "物业服务", "Property management service", O, {}),
        ("housing.repair", "房屋维修", "Building repairs", O, {U: ["漏雨", "渗水"]}),
        ("housing.elevator", "电梯运行", "Lifts", O, {E: ["困人", "关人"]}),
        ("housing.renovation", "老旧小区改造", "Old neighbourhood renovation", C, {}),
        ("housing.parking", "小区停车", "Residential parking", O, {}),
        ("housing.certificate", "不动产登记", "Property certificates", C, {}),
    ]),
    ("environment", "环境与卫生", "Environment and sanitation", O, [
        ("environment.garbage", "垃圾清运与分类", "Waste collection and sorting", O, {}),
        ("environment.cleaning", "道路保洁", "Street cleaning", O, {}),
        ("environment.noise", "噪声扰民", "Noise", O, {}),
        ("environment.pollution", "油烟与污染", "Fumes and pollution", O, {}),
        ("environment.greenery", "园林绿化", "Parks and greenery", O, {E: ["树倒", "断枝"]}),
        ("environment.pests", "病媒防治", "Pest control", O, {}),
    ]),
    ("traffic", "交通出行", "Traffic and transport", O, [
        ("traffic.roads", "道路与井盖", "Roads and manhole covers", O, {E: ["井盖缺失", "路面塌陷", "大坑"]}),
        ("traffic.parking", "违章停车", "Illegal parking", O, {}),
        ("traffic.public_transport", "公共交通", "Public transport", O, {}),
        ("traffic.signals", "信号灯与标志", "Signals and signs", O, {}),
        ("traffic.bicycles", "共享单车", "Shared bicycles", O, {}),
    ]),
    ("education", "教育文化", "Education and culture", O, [
        ("education.school_places", "入学与学位", "School places", C, {}),
        ("education.schools", "学校管理", "School affairs", O, {}),
        ("education.culture_sports", "文体设施", "Culture and sports facilities", O, {}),
    ]),
    ("employment", "就业与社会保障", "Employment and social security", O, [
        ("employment.wages", "劳动报酬", "Unpaid wages", C, {}),
        ("employment.jobs", "就业服务", "Job services", O, {}),
        ("employment.social_insurance", "社会保险", "Social insurance", O, {}),
        ("employment.assistance", "社会救助", "Social assistance", O, {}),
    ]),
    ("commerce", "商贸与市场", "Commerce and markets", O, [
        ("commerce.consumer", "消费纠纷", "Consumer disputes", O, {}),
        ("commerce.food_safety", "食品安全", "Food safety", O, {E: ["中毒"]}),
        ("commerce.street_vending", "占道经营", "Street vending", O, {}),
        ("commerce.prices", "价格监督", "Prices", O, {}),
    ]),
    ("health", "卫生健康", "Health", O, [
        ("health.medical", "医疗服务", "Medical services", O, {}),
        ("health.disease_control", "疾病防控", "Disease control", O, {}),
        ("health.insurance", "医疗保障", "Health insurance", O, {}),
    ]),
    ("care", "养老托育", "Elderly and child care", O, [
        ("care.elderly", "养老服务", "Elderly care", O, {E: ["摔倒", "独居老人联系不上"]}),
        ("care.childcare", "托育服务", "Childcare", O, {}),
        ("care.disability", "助残服务", "Disability services", O, {}),
    ]),
    ("utilities", "公用事业", "Public utilities", U, [
        ("utilities.water", "供水", "Water supply", U, {}),
        ("utilities.power", "供电", "Power supply", U, {}),
        ("utilities.gas", "燃气", "Gas supply", U, {E: ["燃气泄漏", "煤气味"]}),
        ("utilities.heating", "供暖", "Heating", U, {}),
        ("utilities.drainage", "排水", "Drainage and sewers", U, {}),
        ("utilities.telecom", "通信网络", "Telecommunications", O, {}),
    ]),
    ("safety", "公共安全", "Public safety", E, [
        ("safety.fire", "消防隐患", "Fire hazards", E, {}),
        ("safety.structures", "建筑与设施安全", "Unsafe buildings and structures", E, {}),
        ("safety.flooding", "防汛与灾害", "Flooding and disasters", E, {}),
        ("safety.public_order", "社会治安", "Public order", O, {E: ["打架", "持刀"]}),
    ]),
    ("community", "社区事务", "Community affairs", O, [
        ("community.disputes", "邻里纠纷", "Disputes between neighbours", O, {}),
        ("community.services", "社区服务", "Community services", O, {}),
        ("community.suggestions", "意见建议", "Suggestions", O, {}),
    ]),
    ("other", "其他", "Other", O, []),
]


def _put(Category, code, name, name_en, urgency, cues, parent, order):
    found = Category.objects.filter(code=code).first()
    if found is not None:
        return found
    node = Category.objects.create(code=code, name=name, name_en=name_en, default_urgency=urgency,
                                   urgency_cues=cues, parent=parent, sort_order=order, path="/0/")
    # Historical models (in migrations) have no custom save(): keep the materialized path true here too.
    path = f"{parent.path if parent else '/'}{node.pk}/"
    Category.objects.filter(pk=node.pk).update(path=path)
    node.path = path
    return node


def seed_categories(Category) -> int:
    """Create the default taxonomy's missing categories; return how many exist afterwards."""
    for order, (code, name, name_en, urgency, children) in enumerate(TAXONOMY, start=1):
        top = _put(Category, code, name, name_en, urgency, {}, None, order)
        for child_order, (child_code, child_name, child_en, child_urgency, cues) in enumerate(children, start=1):
            _put(Category, child_code, child_name, child_en, child_urgency, cues, top, child_order)
    return Category.objects.count()


def seed_time_limits(TimeLimitRule) -> int:
    """One category-wide rule per urgency from calendar.DEFAULT_TIME_LIMITS, unless one exists."""
    for urgency, limit in DEFAULT_TIME_LIMITS.items():
        TimeLimitRule.objects.get_or_create(
            urgency=urgency, category=None, is_active=True,
            defaults={"dispatch_hours": limit.dispatch_hours, "feedback_hours": limit.feedback_hours,
                      "feedback_days": limit.feedback_days, "working_days": limit.working_days},
        )
    return TimeLimitRule.objects.count()
