from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

RETRAIN_EVERY_SECONDS = 7 * 24 * 3600


class InsightConfig(AppConfig):
    name = "gongzhi.insight"
    label = "insight"
    verbose_name = _("insight (data analysis)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from gongzhi.core import periodic, policy
        from gongzhi.demands import hooks

        from . import permissions, services

        policy.register("insight.", permissions.rule)

        from gongzhi.core import workbench as home_work

        from . import workbench

        home_work.register("insight", workbench.items)
        # The demands app asks these when they are registered (its seams for the app above it).
        hooks.register("propose_category", services.propose_category)
        hooks.register("similar_demands", services.similar_demands)
        hooks.register("check_reply", services.check_reply)
        # Run by the long-running worker, `gongzhi demands work --forever` (make demo starts it).
        periodic.register("insight.profiles", lambda: services.profile_new_demands(), every_seconds=10)
        periodic.register("insight.refresh", lambda: services.refresh(), every_seconds=3600, first_after_seconds=60)
        periodic.register("insight.retrain", services.scheduled_retrain, every_seconds=RETRAIN_EVERY_SECONDS,
                          first_after_seconds=3600)

        from gongzhi.org import demo as org_demo

        from . import demo

        org_demo.register_extension("insight", demo.build_demo_insight, demo.reset_demo_insight)
