"""demands' rates as duties' live indicators: a goal like "the community's satisfaction rate reaches 95 %"
or a scorecard's "unit resolution rate" reads them from here (registered in DemandsConfig.ready())."""

from gongzhi.duties import indicators
from gongzhi.org.models import Region

from . import queries

RATES = (("response", "响应率", "response rate"), ("resolution", "解决率", "resolution rate"),
         ("satisfaction", "满意率", "satisfaction rate"))


def _for_region(attribute: str):
    def measure(region: Region, start, end):
        level = "community" if region.level == Region.Level.COMMUNITY else "street"
        if region.level not in (Region.Level.COMMUNITY, Region.Level.STREET):
            return None
        rows = [r for r in queries.rates(level, start, end, within=region) if r.id == region.pk]
        value = getattr(rows[0], attribute) if rows else None
        return None if value is None else round(100 * value, 2)

    return measure


def _for_unit(attribute: str):
    def measure(unit, start, end):
        rows = [r for r in queries.rates("unit", start, end) if r.id == unit.pk]
        value = getattr(rows[0], attribute) if rows else None
        return None if value is None else round(100 * value, 2)

    return measure


def _volume(region: Region, start, end):
    lower, upper = queries._day_bounds(start, end)
    return queries.Demand.objects.filter(grid__path__startswith=region.path, received_at__gte=lower,
                                         received_at__lt=upper).count()


def register_all() -> None:
    indicators.register(indicators.Indicator(
        code="demands.volume", name_zh="诉求件数", name_en="demands received", for_region=_volume,
        unit_of_measure="件"))
    for code, zh, en in RATES:
        indicators.register(indicators.Indicator(
            code=f"demands.{code}_rate", name_zh=f"诉求{zh}", name_en=f"demand {en}",
            for_region=_for_region(f"{code}_rate"), for_unit=_for_unit(f"{code}_rate"), unit_of_measure="%"))
