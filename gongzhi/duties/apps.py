from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutiesConfig(AppConfig):
    name = "gongzhi.duties"
    label = "duties"
    verbose_name = _("duties (powers, responsibilities, goals)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import periodic, policy

        from . import permissions, services

        policy.register("duties.", permissions.rule)
        # Time moves goals and tasks to at risk or overdue: recomputed hourly by the worker, changes logged.
        periodic.register("duties.statuses", services.refresh_statuses, every_seconds=3600, first_after_seconds=120)

        from gongzhi.org import demo as org_demo

        from . import demo

        org_demo.register_extension("duties", demo.build_demo_duties, demo.reset_demo_duties)
