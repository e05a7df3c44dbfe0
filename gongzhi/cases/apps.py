from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "gongzhi.cases"
    label = "cases"
    verbose_name = _("case files (案卷)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from gongzhi.core import periodic, policy, workbench
        from gongzhi.core.models import Event
        from gongzhi.duties import indicators
        from gongzhi.org import demo as org_demo

        from . import demo, permissions, services
        from . import workbench as case_work

        policy.register("cases.", permissions.rule)
        # After insight's, deliberation's and duties' builders (INSTALLED_APPS order): the demo cases run on
        # their issues, bodies, demo voters and power lists, and are reset before them.
        org_demo.register_extension("cases", demo.build_demo_cases, demo.reset_demo_cases)
        workbench.register("cases", case_work.work_items)
        post_save.connect(services.on_event, sender=Event, dispatch_uid="cases.on_event")
        # Rounds of asking whose time is up end (solved, or the project reopened for review).
        periodic.register("cases.sweep", services.sweep, every_seconds=3600, first_after_seconds=180)
        indicators.register(indicators.Indicator(
            "cases.solved_share", "居民认为问题已解决的比例", "share of residents saying the problem is solved",
            for_region=services.solved_share_for_region, for_unit=services.solved_share_for_unit,
            unit_of_measure="%"))
        indicators.register(indicators.Indicator(
            "cases.satisfaction", "居民对办理结果满意的比例", "share of residents satisfied with the outcome",
            for_region=services.satisfaction_for_region, for_unit=services.satisfaction_for_unit,
            unit_of_measure="%"))
