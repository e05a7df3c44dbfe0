from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "gongzhi.care"
    label = "care"
    verbose_name = _("care and buildings (重点关爱、入户走访、楼栋)")

    def ready(self):
        from gongzhi.core import policy, workbench
        from gongzhi.org import demo as org_demo

        from . import demo, permissions, queries

        policy.register("care.", permissions.rule)
        workbench.register("care", queries.work_items)
        org_demo.register_extension("care", demo.build_demo_care, demo.reset_demo_care)
