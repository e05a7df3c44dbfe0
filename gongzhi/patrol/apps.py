from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolConfig(AppConfig):
    name = "gongzhi.patrol"
    label = "patrol"
    verbose_name = _("patrol (巡查)")

    def ready(self):
        from gongzhi.core import policy, workbench
        from gongzhi.org import demo as org_demo

        from . import demo, permissions, queries

        policy.register("patrol.", permissions.rule)
        workbench.register("patrol", queries.work_items)
        org_demo.register_extension("patrol", demo.build_demo_patrol, demo.reset_demo_patrol)
