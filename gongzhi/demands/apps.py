from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "gongzhi.demands"
    label = "demands"
    verbose_name = _("demands (接诉即办)")

    def ready(self):
        from gongzhi.core import policy

        from . import notifications, permissions, routing_sync, signals  # noqa: F401 (receivers)

        policy.register("demands.", permissions.rule)

        from gongzhi.core import workbench as home_work

        from . import workbench

        home_work.register("demands", workbench.items)

        from gongzhi.org import queries as org_queries

        from . import queries

        org_queries.register_access_log("demand_contacts", queries.contact_reads)  # the data officer audits them

        from . import supervision

        policy.register("demands.supervision.", supervision.rule)  # 督办: who supervises, who answers
        home_work.register("demands.supervision", supervision.work_items)

        from . import milestones

        home_work.register("demands.milestones", milestones.work_items)  # 逾期项目节点 (decisions' projects)

        from . import indicators

        indicators.register_all()  # the three rates as duties' live indicators

        from gongzhi.duties import matters

        from .models import Category

        matters.register(lambda codes: {c.code: (c.name, c.name_en or c.name)
                                        for c in Category.objects.filter(code__in=codes)})

        from gongzhi.org import demo as org_demo

        from . import demo

        org_demo.register_extension("demands", demo.build_demo_demands, demo.reset_demo_demands)
        # After the demands: the sweep's 督办 orders on the demo's overdue demands (supervision.build_demo).
        org_demo.register_extension("demands.supervision", supervision.build_demo, supervision.reset_demo)

        from gongzhi.core import taskworker

        from . import tasks

        taskworker.on_abandoned(tasks.sweep_deadlines_task.module_path, tasks.restart_chain)

        from gongzhi.core import workdays

        from . import deadlines

        workdays.on_change("deadlines", deadlines.recompute_for_years)

        from gongzhi.org import accounts

        from . import guests

        accounts.on_account_opened.append(guests.join_account)

        from gongzhi.core import periodic

        periodic.register("demands.holiday_notice", deadlines.log_missing_notice, every_seconds=86400,
                          first_after_seconds=86400)  # the worker says it at start; then daily
        # A missed milestone of a decision's project: its unit told once (idempotent), hourly like duties' statuses.
        periodic.register("demands.missed_milestones", milestones.sweep, every_seconds=3600, first_after_seconds=240)
