from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "gongzhi.ledger"
    label = "ledger"
    verbose_name = _("transparency log")

    def ready(self):
        from django.db.models.signals import post_save

        from gongzhi.core import events
        from gongzhi.core.models import Event

        from . import services

        # The outbox: every event queues itself for the sequencer in its own transaction.
        post_save.connect(services.on_event_saved, sender=Event, dispatch_uid="ledger.queue_event")
        events.recorded_in_bulk.connect(services.on_events_recorded_in_bulk, sender=Event,
                                        dispatch_uid="ledger.queue_events_in_bulk")
        # Backups carry the log's keys and head; a restore is checked against the last published checkpoint.
        from . import backup

        backup.register()
