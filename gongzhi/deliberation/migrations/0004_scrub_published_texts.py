"""Scrub the texts stored before published free text was scrubbed when stored (issue #13 item 2): rows
written earlier could still show a phone, ID or house number on public pages and in the public API.
Irreversible by design: what was masked is not kept."""

from django.db import migrations

from gongzhi.core.scrub import scrub

PUBLISHED = {
    "Topic": ["title", "description", "returned_reason", "draft_resolution"],
    "Comment": ["text", "hidden_reason"],
    "Statement": ["text", "moderation_reason"],
    "Meeting": ["title", "agenda", "minutes"],
    "Motion": ["text"],
    "StageRecord": ["reason", "minutes"],
    "Disclosure": ["title", "body"],
    "Objection": ["text", "answer"],
}


def scrub_published(apps, schema_editor):
    for model_name, fields in PUBLISHED.items():
        model = apps.get_model("deliberation", model_name)
        for row in model.objects.only("pk", *fields).iterator(chunk_size=500):
            changed = {f: scrub(getattr(row, f)) for f in fields if getattr(row, f)
                       and scrub(getattr(row, f)) != getattr(row, f)}
            if changed:
                model.objects.filter(pk=row.pk).update(**changed)
    topic = apps.get_model("deliberation", "Topic")
    for row in topic.objects.only("pk", "evidence").iterator(chunk_size=500):
        scrubbed = _scrub_data(row.evidence)
        if scrubbed != row.evidence:
            topic.objects.filter(pk=row.pk).update(evidence=scrubbed)


def _scrub_data(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_data(item) for item in value]
    return value


class Migration(migrations.Migration):

    dependencies = [
        ("deliberation", "0003_sealed_secret_ballots_and_paper_marks"),
    ]

    operations = [
        migrations.RunPython(scrub_published, migrations.RunPython.noop),
    ]
