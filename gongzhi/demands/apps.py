from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "gongzhi.demands"
    label = "demands"
    verbose_name = _("demands (接诉即办)")

    def ready(self):
        from gongzhi.core import policy

        from . import permissions

        policy.register("demands.", permissions.rule)
