"""Task entry points of demands (the django.tasks API of the django-tasks backport): each a thin call of a
service. With the django-tasks-db backend `gongzhi db_worker` runs them; the deadline sweep re-enqueues
itself (run_after) so one `gongzhi demands sweep --enqueue` starts a chain that lasts. Without a worker,
`gongzhi demands sweep --forever` does the same work in-process."""

import datetime as dt

from django.apps import apps
from django_tasks import TaskResultStatus, task

from gongzhi.core import clock, stopping

from . import escalation, notifications

SWEEP_INTERVAL_SECONDS = 60


@task()
def sweep_deadlines_task(reschedule_seconds: float | None = None) -> dict:
    """Reminders, supervision orders and 挂牌督办 (escalation.sweep_deadlines), then the webhook deliveries
    due; then, when `reschedule_seconds` is given, the next sweep that many seconds later. Asked to stop
    (`gongzhi db_worker` got SIGTERM), it ends after the row in progress and still queues the next, due at once:
    the rows it left are the next worker's first work, not a minute later."""
    report = escalation.sweep_deadlines(should_stop=stopping.stop_requested).as_dict()
    report["webhooks"] = {} if stopping.stop_requested() else notifications.deliver_due()
    if reschedule_seconds:
        schedule_sweep(reschedule_seconds, start_now=stopping.stop_requested())
    return report


@task()
def deliver_webhook_task(delivery_id: int) -> dict | None:
    """One attempt of one webhook delivery; a retry is queued for its backoff time when the backend can
    defer (the sweep's deliver_due catches it otherwise)."""
    delivery = notifications.attempt_delivery(delivery_id)
    if delivery is None:
        return None
    if delivery.next_attempt_at is not None and deliver_webhook_task.get_backend().supports_defer:
        deliver_webhook_task.using(run_after=delivery.next_attempt_at).enqueue(delivery_id)
    return {"attempts": delivery.attempts, "status": delivery.last_status,
            "delivered": delivery.delivered_at is not None, "failed": delivery.failed_at is not None}


def schedule_sweep(after_seconds: float = SWEEP_INTERVAL_SECONDS, *, start_now: bool = False) -> bool:
    """Queue the next sweep (which queues the one after), unless one is already waiting: a chain, never
    two. False when the backend cannot defer (the immediate backend would recurse) or one is queued."""
    backend = sweep_deadlines_task.get_backend()
    if not backend.supports_defer or _sweep_waiting(backend):
        return False
    run_after = clock.now() + dt.timedelta(seconds=0 if start_now else after_seconds)
    sweep_deadlines_task.using(run_after=run_after).enqueue(reschedule_seconds=after_seconds)
    return True


def _sweep_waiting(backend) -> bool:
    if apps.is_installed("django_rq"):
        from django_tasks_rq import RQBackend

        if isinstance(backend, RQBackend):
            return _rq_sweep_waiting()
    if not apps.is_installed("django_tasks_db"):
        return False
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(backend, DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=sweep_deadlines_task.module_path, backend_name=backend.alias,
                                       status=TaskResultStatus.READY).exists()


def restart_chain(task_result) -> None:
    """A sweep link a stopped worker abandoned (core/taskworker.py): queue the chain again, due now. If the
    abandoned link had already queued its successor (it was stopped between rows, queued the next and was then
    forced out), that one is brought forward to now: the rows left unswept do not wait for its time."""
    seconds = (task_result.args_kwargs.get("kwargs") or {}).get("reschedule_seconds")
    if not seconds or schedule_sweep(seconds, start_now=True):
        return
    if apps.is_installed("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(task_path=sweep_deadlines_task.module_path, backend_name=task_result.backend_name,
                                    status=TaskResultStatus.READY, run_after__gt=clock.now()).update(run_after=clock.now())


def _rq_sweep_waiting() -> bool:
    """On Redis (GONGZHI_TASKS_REDIS_URL): a sweep is queued or scheduled in RQ's registries."""
    import django_rq
    from rq.registry import ScheduledJobRegistry

    queue = django_rq.get_queue(sweep_deadlines_task.queue_name)
    waiting = [*queue.get_job_ids(), *ScheduledJobRegistry(queue=queue).get_job_ids()]
    return any(job is not None and job.func_name == sweep_deadlines_task.module_path
               for job in queue.job_class.fetch_many(waiting, connection=queue.connection))
