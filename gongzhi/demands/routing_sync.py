"""Routing rules generated from duties' responsibility list (责任清单): one rule per (entry, matter).

The list is the source of truth for "who handles what"; rules typed by hand (no `responsibility`) stay as
they are and still compete by specificity and priority. Runs inside the transaction that changed the list;
a matter naming no category refuses the whole change."""

from django.dispatch import receiver

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.i18n import gettext_lazy as _
from gongzhi.duties.models import Responsibility
from gongzhi.duties.signals import responsibilities_changed

from .models import Category, RoutingRule


@receiver(responsibilities_changed, dispatch_uid="demands.routing_sync")
def sync_routing_rules(sender=None, **kwargs) -> dict[str, int]:
    entries = list(Responsibility.objects.filter(is_active=True))
    codes = {code for entry in entries for code in entry.matters}
    categories = dict(Category.objects.filter(code__in=codes).values_list("code", "pk"))
    unknown = sorted(codes - set(categories))
    if unknown:
        raise ValidationFailed(_("no demand category %(join)s") % {"join": ', '.join(unknown)}, code="unknown_category")
    wanted = {(categories[code], entry.region_id, entry.unit_id, entry.priority, entry.pk)
              for entry in entries for code in entry.matters}
    existing = {(r.category_id, r.region_id, r.unit_id, r.priority, r.responsibility_id): r.pk
                for r in RoutingRule.objects.filter(responsibility__isnull=False)}
    stale = [pk for key, pk in existing.items() if key not in wanted]
    RoutingRule.objects.filter(pk__in=stale).delete()
    RoutingRule.objects.bulk_create([
        RoutingRule(category_id=c, region_id=r, unit_id=u, priority=p, responsibility_id=e, is_active=True)
        for c, r, u, p, e in sorted(wanted - set(existing))])
    return {"removed": len(stale), "added": len(wanted - set(existing))}
