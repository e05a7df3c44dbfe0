from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "gongzhi.deliberation"
    label = "deliberation"
    verbose_name = _("deliberation (consultation and decisions)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import periodic, policy

        from . import permissions, services

        policy.register("deliberation.", permissions.rule)

        from gongzhi.core import workbench

        from . import work

        # Today's work: meetings and votes of the user's bodies, the moderation queue for officers.
        workbench.register("deliberation", work.work_items)
        # Notices whose period is over and whose objections are answered complete on their own.
        periodic.register("deliberation.disclosures", services.complete_due_disclosures, every_seconds=300)

        from gongzhi.org import demo as org_demo

        from . import demo

        org_demo.register_extension("deliberation", demo.build_demo_deliberation, demo.reset_demo_deliberation)
