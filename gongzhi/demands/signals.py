"""demand_changed: sent once per step of a demand, inside the step's transaction, right after its DemandEvent
is written. Receivers (notifications here; insight and others later) add rows in that same transaction and
defer anything slow or fallible (HTTP) until after commit, so they can never break the step."""

from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from .models import DemandEvent

# kwargs: demand (the Demand as the step left it), demand_event (the DemandEvent just written).
demand_changed = Signal()


@receiver(post_save, sender=DemandEvent, dispatch_uid="demands.signals.demand_event_written")
def _demand_event_written(sender, instance: DemandEvent, created: bool, raw: bool = False, **kwargs):
    # Every service writes its steps through services._record, i.e. DemandEvent.objects.create: hooking
    # its post_save reaches every step without touching the use cases. Fixtures (raw) are not steps.
    if created and not raw:
        demand_changed.send(sender=DemandEvent, demand=instance.demand, demand_event=instance)
