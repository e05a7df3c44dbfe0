"""The default care groups and their visit intervals (care/defaults.py)."""

from django.db import migrations


def add_groups(apps, schema_editor):
    from gongzhi.care.defaults import seed_groups

    seed_groups(apps.get_model("care", "CareGroup"))


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(add_groups, migrations.RunPython.noop)]
