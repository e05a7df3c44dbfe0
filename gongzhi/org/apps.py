from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "gongzhi.org"
    label = "org"
    verbose_name = _("organisation and grids")

    def ready(self):
        from gongzhi.core import policy

        from . import permissions

        policy.register("org.", permissions.rule)
        policy.register("core.calendar.", permissions.calendar_rule)

        from gongzhi.core import workbench as home_work

        from . import workbench

        home_work.register("org", workbench.items)
