"""Scrub the texts stored before published free text was scrubbed when stored (issue #13 item 2): rows
written earlier could still show a phone, ID or house number on public pages and in the public API.
Irreversible by design: what was masked is not kept."""

from django.db import migrations

from gongzhi.core.scrub import scrub

PUBLISHED = {
    "Decision": ["title", "details"],
    "Responsibility": ["duty"],
    "Goal": ["title", "indicator"],
    "Task": ["title", "quality_standard"],
    "ProgressReport": ["note", "evidence"],
    "ReviewMeeting": ["participants", "conclusions"],
    "AccountabilityRecord": ["facts", "outcome"],
    "Need": ["title"],
    "Resource": ["title"],
    "Project": ["title", "outcome"],
}


def scrub_published(apps, schema_editor):
    for model_name, fields in PUBLISHED.items():
        model = apps.get_model("duties", model_name)
        for row in model.objects.only("pk", *fields).iterator(chunk_size=500):
            changed = {f: scrub(getattr(row, f)) for f in fields if getattr(row, f)
                       and scrub(getattr(row, f)) != getattr(row, f)}
            if changed:
                model.objects.filter(pk=row.pk).update(**changed)


class Migration(migrations.Migration):

    dependencies = [
        ("duties", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(scrub_published, migrations.RunPython.noop),
    ]
