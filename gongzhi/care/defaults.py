"""The care groups a new installation starts with, and the interval each is visited at (days). The intervals
follow common practice of Beijing's communities (独居老人 visited weekly, 巡访 of the elderly living alone
or with only an elderly partner; others fortnightly or monthly); each is changed per group in the admin."""

# (code, name, English name, visit every N days)
GROUPS = (
    ("elderly_alone", "独居老人", "elderly living alone", 7),
    ("empty_nest", "空巢老人", "elderly without children nearby", 14),
    ("disabled", "残疾人", "people with disabilities", 14),
    ("left_behind_children", "留守儿童", "left-behind children", 14),
    ("extreme_poverty", "特困人员", "people in extreme poverty", 7),
    ("low_income", "低保户", "minimum-living-allowance households", 30),
    ("seriously_ill", "重病患者", "seriously ill", 14),
)


def seed_groups(model) -> int:
    """Create the default groups that are missing (by code); existing ones keep their interval. Returns how
    many were created. `model` is CareGroup (or its historical model, from the data migration)."""
    created = 0
    for order, (code, name, name_en, days) in enumerate(GROUPS):
        _row, made = model.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "visit_every_days": days, "sort_order": order})
        created += made
    return created
