"""`gongzhi db_worker`: the task worker of django-tasks-db, stopping safely (core/taskworker.py says how).
gongzhi.core comes before django_tasks_db in INSTALLED_APPS, so this command replaces the library's."""

from django.core.management.base import CommandError
from django_tasks_db.management.commands import db_worker as upstream

from gongzhi.core import taskworker


class Command(upstream.Command):
    help = "Run the task worker (django-tasks-db), stopping safely on SIGTERM/SIGINT"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None, reload=False)

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, **options) -> None:
        self.configure_logging(verbosity)
        queues = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queues:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        if reload:
            raise CommandError("--reload is not supported: a reload cannot stop a task in progress safely")
        worker = taskworker.StoppableWorker(
            queue_names=queues, interval=interval, batch=batch, backend_name=backend_name,
            startup_delay=startup_delay, max_tasks=max_tasks, worker_id=worker_id or taskworker.new_worker_id(),
            excluded_queue_names=excluded)
        worker.configure_signals()
        try:
            worker.run()
        finally:
            worker.stop.release()
