# Warnings become actions: their level, who handled them and when, the unit assigned, the reason for a dismissal.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0001_initial'),
        ('org', '0002_integrity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='warning',
            name='state',
            field=models.CharField(choices=[('open', 'open'), ('acted', 'proactive demand opened'), ('assigned', 'assigned to a unit'), ('dismissed', 'dismissed')], default='open', max_length=10, verbose_name='state'),
        ),
        migrations.AddField(
            model_name='warning',
            name='level',
            field=models.CharField(choices=[('medium', 'medium'), ('high', 'high')], default='medium', help_text='rules.warning_level of its evidence: high ones are urgent work', max_length=8, verbose_name='level'),
        ),
        migrations.AddField(
            model_name='warning',
            name='assigned_unit',
            field=models.ForeignKey(blank=True, help_text='the unit its proactive demand was dispatched to', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='org.organisation'),
        ),
        migrations.AddField(
            model_name='warning',
            name='handled_by',
            field=models.ForeignKey(blank=True, help_text='who acted on it, assigned or dismissed it', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='warning',
            name='handled_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='handled at'),
        ),
        migrations.AddField(
            model_name='warning',
            name='dismissal_reason',
            field=models.TextField(blank=True, verbose_name='reason for dismissal'),
        ),
    ]
