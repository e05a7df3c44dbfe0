"""Seed the default category taxonomy and time limits (gongzhi/demands/defaults.py); idempotent."""

from django.db import migrations


def seed(apps, schema_editor):
    from gongzhi.demands import defaults

    defaults.seed_categories(apps.get_model("demands", "Category"))
    defaults.seed_time_limits(apps.get_model("demands", "TimeLimitRule"))


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
