"""The monthly report (月报) of a street or district: the three rates and the ranking of its communities and
units, overdue and supervised demands, hot spots, decisions taken and goals at risk, gathered as plain
tables (Table) that the page, the PDF, the CSV and the XLSX files all render, so they always agree.

Who may read it: the overseers of the region (policy "insight.view" on a street or district: leaders, members
and staff of the governing bodies at the street or above); one named out of scope answers as one that does
not exist. No person's name, phone or address appears: units, places, counts, demand numbers and
generated or scrubbed text only."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from gongzhi.core.i18n import gettext_lazy

from gongzhi.core import clock, policy
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.scrub import scrub
from gongzhi.demands import queries as demand_queries
from gongzhi.demands import rules as demand_rules
from gongzhi.demands import supervision
from gongzhi.demands.forms import category_name
from gongzhi.demands.models import Demand, ListedSupervision, SupervisionOrder
from gongzhi.duties import rules as duty_rules
from gongzhi.duties import services as duty_services
from gongzhi.duties.models import Decision, Goal
from gongzhi.insight.models import HotSpot, HotSpotRun
from gongzhi.org.models import Region

ACTION = "insight.view"  # the overseers of a region read its report, as they read its cockpit
REPORT_LEVELS = (Region.Level.DISTRICT, Region.Level.STREET)
MONTHS_OFFERED = 24
OVERDUE_LISTED = 200  # the longest overdue; the summary gives the full count
SUPERVISION_LISTED = 200
DECISIONS_LISTED = 200
GOALS_AT_RISK = (duty_rules.Status.AT_RISK, duty_rules.Status.OVERDUE)


# --- tables ------------------------------------------------------------------------------------------------

TEXT, NUMBER, PERCENT = "text", "number", "percent"


@dataclass
class Column:
    key: str
    label: str
    kind: str = TEXT


@dataclass
class Row:
    cells: list
    url: str = ""  # where the first cell links to on the page (a demand's page)
    flag: str = ""  # a CSS class for the row on the page ("worst", "late")
    rank_mark: str = ""  # shown next to the rank on the page and in the PDF ("below the floor")

    def __post_init__(self):
        self.cells = [None if cell == "" else cell for cell in self.cells]  # empty: None, as a spreadsheet has it


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row]
    note: str = ""  # what the table counts, shown under its title
    empty: str = ""

    def values(self) -> list[list]:
        """The rows' cells, as the CSV and XLSX files carry them."""
        return [row.cells for row in self.rows]

    def shown(self) -> list[dict]:
        """The rows as the page shows them: each cell as text ("—" for nothing, rates with "%"), numbers
        right-aligned."""
        out = []
        for row in self.rows:
            cells = []
            for column, value in zip(self.columns, row.cells, strict=True):
                if value is None or value == "":
                    text = "—" if column.kind != TEXT else ""
                elif column.kind == PERCENT:
                    text = f"{value:.1f}%"
                elif column.key == "change" and isinstance(value, int):
                    text = f"{value:+d}" if value else "0"
                else:
                    text = str(value)
                if column.key == "rank" and row.rank_mark and text:
                    text = f"{text} · {row.rank_mark}"
                cells.append({"text": text, "num": column.kind != TEXT})
            out.append({"cells": cells, "url": row.url, "flag": row.flag})
        return out


@dataclass
class Report:
    region: Region
    month: dt.date  # its first day
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    title: str
    summary: list[str]
    worst_units: list[str]
    worst_sentence: str
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise NotFound(gettext_lazy("table %(key)s") % {"key": key}, code="unknown_table")


# --- which region and month --------------------------------------------------------------------------------

def may_read(user, region: Region | None) -> bool:
    return region is not None and region.level in REPORT_LEVELS and policy.can(user, ACTION, region)


def report_regions(user) -> list[Region]:
    """The districts and streets whose report `user` may read, in tree order (the region chooser)."""
    regions = Region.objects.filter(level__in=REPORT_LEVELS).defer("polygon").order_by("path")
    return [r for r in regions if may_read(user, r)]


def report_region(user, chosen: str | int | None = None) -> Region:
    """The region asked for (an id), else the widest the user may read. A region named but out of the
    user's reach, or not a street or district, answers NotFound, as one that does not exist; a user who
    may read no report at all is refused (PermissionDenied)."""
    chosen = str(chosen or "").strip()
    if chosen:
        known = chosen.isdigit() and int(chosen) < 2**63
        region = Region.objects.defer("polygon").filter(pk=int(chosen)).first() if known else None
        if not may_read(user, region):
            raise NotFound(gettext_lazy("region %(chosen)s") % {"chosen": chosen})
        return region
    regions = report_regions(user)
    if not regions:
        raise PermissionDenied(ACTION)
    return regions[0]


def last_complete_month(today: dt.date | None = None) -> dt.date:
    today = today or clock.today()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def parse_month(text: str | None, today: dt.date | None = None) -> dt.date:
    """"2026-11" → 1 November 2026; empty → the last complete month. A month not yet begun is refused."""
    if not text:
        return last_complete_month(today)
    try:
        month = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationFailed(gettext_lazy("month must look like 2026-11"), code="bad_month") from None
    if month > (today or clock.today()) or month.year < 2000:
        raise ValidationFailed(gettext_lazy("no report for %(month)s") % {"month": text}, code="bad_month")
    return month


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def month_choices(today: dt.date | None = None, count: int = MONTHS_OFFERED) -> list[dt.date]:
    """The months offered, newest first: this month so far and the `count` - 1 before it."""
    month = (today or clock.today()).replace(day=1)
    months = []
    for _i in range(count):
        months.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return months


def month_label(month: dt.date) -> str:
    return _("%(year)d-%(month)02d") % {"year": month.year, "month": month.month}


# --- the ranking -------------------------------------------------------------------------------------------

@dataclass
class Ranked:
    rank: int | None  # None: not ranked (样本不足)
    rates: demand_queries.Rates
    score: float | None
    change: int | None = None  # places gained since the previous month
    note: str = ""
    below_floor: tuple[str, ...] = ()  # the rates under the floor (ranking.Ranked.below_floor)


RATE_NAMES = {"response": gettext_lazy("response rate"), "resolution": gettext_lazy("resolution rate"),
              "satisfaction": gettext_lazy("satisfaction rate")}


def ranking(user, level: str, start: dt.date, end: dt.date, within: Region) -> list[Ranked]:
    """The one place the report asks demands for its ranking (queries.ranking_for: minimum sample, floors,
    ties and the change against the previous month), in ranking order."""
    rows = []
    for r in demand_queries.ranking_for(user, level, start, end, within=within):
        if r.insufficient:
            note = _("insufficient sample")
        elif r.below_floor:
            names = "、".join(str(RATE_NAMES.get(n, n)) for n in r.below_floor)
            note = _("below the floor: %(rates)s") % {"rates": names}
        else:
            note = ""
        # The change in places only between pools of the same size (ranking_change_shown).
        change = r.rank_change if r.previous_out_of == r.out_of else None
        rows.append(Ranked(r.rank, r.row, r.score, change, note, tuple(r.below_floor)))
    return rows


def worst(ranked: list[Ranked]) -> list[Ranked]:
    """The rows sharing the last rank (several when tied)."""
    ranks = [r.rank for r in ranked if r.rank is not None]
    return [r for r in ranked if ranks and r.rank == max(ranks)]


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _rates_table(key: str, title: str, name_label: str, ranked: list[Ranked], note: str) -> Table:
    columns = [Column("rank", _("Rank"), NUMBER), Column("name", name_label),
               Column("dispatched", _("Dispatched"), NUMBER), Column("accepted_in_time", _("Accepted in time"), NUMBER),
               Column("response_rate", _("Response rate (%)"), PERCENT), Column("rated", _("Rated"), NUMBER),
               Column("solved", _("Solved"), NUMBER), Column("resolution_rate", _("Resolution rate (%)"), PERCENT),
               Column("satisfied", _("Satisfied or basically satisfied"), NUMBER),
               Column("satisfaction_rate", _("Satisfaction rate (%)"), PERCENT), Column("score", _("Score"), NUMBER),
               Column("change", _("Change in rank"), NUMBER), Column("note", _("Note"))]
    last = {id(r) for r in worst(ranked)}
    rows = []
    for r in ranked:
        s = r.rates
        rows.append(Row([r.rank, s.name, s.dispatched, s.accepted_in_time, _percent(s.response_rate), s.rated,
                         s.solved, _percent(s.resolution_rate), s.satisfied + s.basically_satisfied,
                         _percent(s.satisfaction_rate), None if r.score is None else round(r.score, 1), r.change,
                         r.note],
                        flag="worst" if id(r) in last else "",
                        rank_mark=_("below the floor") if r.below_floor and r.rank is not None else ""))
    return Table(key, title, columns, rows, note, _("No demand was dispatched or rated in this month."))


def _overall(ranked: list[Ranked]) -> dict:
    """The region's own rates: the counts of its parts added up."""
    total = {k: sum(getattr(r.rates, k) for r in ranked)
             for k in ("dispatched", "accepted_in_time", "rated", "solved", "satisfied", "basically_satisfied")}
    return {**total,
            "response": demand_rules.response_rate(total["accepted_in_time"], total["dispatched"]),
            "resolution": demand_rules.resolution_rate(total["solved"], total["rated"]),
            "satisfaction": demand_rules.satisfaction_rate(total["satisfied"], total["basically_satisfied"],
                                                           total["rated"], demand_queries.satisfaction_weights())}


# --- the other sections ------------------------------------------------------------------------------------

def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _community_names(demands) -> dict[int, str]:
    ids = {d.community_id for d in demands}
    return dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))


DEADLINE_NAMES = {"dispatch": gettext_lazy("dispatch"), "accept": gettext_lazy("accept"),
                  "feedback": gettext_lazy("first feedback")}


def _passed_deadline(demand: Demand, now: dt.datetime) -> tuple[str, dt.datetime | None]:
    for kind, late in (("dispatch", demand.is_dispatch_overdue), ("accept", demand.is_accept_overdue),
                       ("feedback", demand.is_feedback_overdue)):
        if late(now):
            return kind, getattr(demand, f"{kind}_due")
    return "", None


def overdue_table(user, region: Region, now: dt.datetime) -> tuple[Table, int]:
    found = demand_queries.overdue(user, within=region, now=now)
    total = found.count()
    demands = list(found[:OVERDUE_LISTED])
    communities = _community_names(demands)
    rows = []
    for d in demands:
        kind, due = _passed_deadline(d, now)
        # Whole working days, as the supervision board (督办台) counts them, and whole calendar days.
        days = supervision.working_days_late(due, now) if due else None
        calendar_days = supervision.calendar_days_late(due, now) if due else None
        rows.append(Row([d.number, category_name(d.category), communities.get(d.community_id, ""),
                         d.lead_unit.name if d.lead_unit_id else "", d.get_state_display(),
                         str(DEADLINE_NAMES.get(kind, "")), _local(due), days, calendar_days],
                        url=reverse("demands:detail", args=[d.number]), flag="late"))
    rows.sort(key=lambda r: (-(r.cells[-2] or 0), -(r.cells[-1] or 0)))
    note = _("Demands past a deadline on %(date)s, the longest overdue first.") % {"date": _local(now)}
    if total > len(rows):
        note += " " + _("The %(shown)d longest overdue of %(total)d are listed.") % {"shown": len(rows), "total": total}
    columns = [Column("number", _("Number")), Column("category", _("Category")), Column("community", _("Community")),
               Column("lead_unit", _("Lead unit")), Column("state", _("State")),
               Column("deadline", _("Deadline missed")), Column("due", _("Due")),
               Column("days_overdue", _("Working days overdue"), NUMBER),
               Column("calendar_days_overdue", _("Calendar days overdue"), NUMBER)]
    return Table("overdue", _("Overdue demands"), columns, rows, note, _("No demand is overdue.")), total


def supervision_table(region: Region, lower: dt.datetime, upper: dt.datetime) -> tuple[Table, int, int]:
    # Whoever may read the region's report oversees it, and an overseer sees every demand in the region
    # (demands.permissions.visible_q): the region's path narrows these as visible(user) would, only faster.
    here = Q(demand__grid__path__startswith=region.path)
    orders = list(SupervisionOrder.objects.filter(here, issued_at__gte=lower, issued_at__lt=upper)
                  .select_related("demand__category", "unit", "supervisor").order_by("issued_at", "id")
                  [:SUPERVISION_LISTED])
    listings = list(ListedSupervision.objects.filter(here, listed_at__gte=lower, listed_at__lt=upper)
                    .select_related("demand__category", "unit", "supervisor").order_by("listed_at", "id")
                    [:SUPERVISION_LISTED])
    rows = []
    for o in orders:
        state = _("resolved %(at)s") % {"at": _local(o.resolved_at)} if o.resolved_at else _("open")
        rows.append((o.issued_at, Row([o.demand.number, _("supervision order"), category_name(o.demand.category),
                                       o.unit.name if o.unit_id else "", o.supervisor.name if o.supervisor_id else "",
                                       _("missed the %(deadline)s deadline") % {
                                           "deadline": DEADLINE_NAMES.get(o.deadline, o.deadline)},
                                       _local(o.issued_at), state],
                                      url=reverse("demands:detail", args=[o.demand.number]),
                                      flag="" if o.resolved_at else "late")))
    for item in listings:
        rows.append((item.listed_at, Row([item.demand.number, _("listed supervision"),
                                          category_name(item.demand.category), item.unit.name if item.unit_id else "",
                                          item.supervisor.name if item.supervisor_id else "",
                                          "%s (%d)" % (item.get_reason_display(), item.count),
                                          _local(item.listed_at), item.demand.get_state_display()],
                                         url=reverse("demands:detail", args=[item.demand.number]), flag="late")))
    rows.sort(key=lambda pair: pair[0])
    columns = [Column("number", _("Number")), Column("kind", _("Kind")), Column("category", _("Category")),
               Column("unit", _("Unit")), Column("supervisor", _("Supervisor")), Column("reason", _("Reason")),
               Column("issued_at", _("Issued")), Column("state", _("State"))]
    table = Table("supervision", _("Supervision (督办) and listed supervision (挂牌督办)"), columns,
                  [row for _at, row in rows], _("Orders issued and demands listed in the month."),
                  _("No supervision order was issued in this month."))
    return table, len(orders), len(listings)


def _runs_covering(region: Region):
    parts = region.path.strip("/").split("/")
    above = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    return HotSpotRun.objects.filter(Q(region__path__in=above) | Q(region__path__startswith=region.path))


def hot_spots_table(region: Region, start: dt.date, end: dt.date) -> Table:
    """The hot spots found for the weeks of the month (each analysis tests its last complete week), the
    latest finding per grid and category."""
    runs = _runs_covering(region).filter(last_period_start__gte=start, last_period_start__lte=end)
    spots = (HotSpot.objects.filter(run__in=runs, grid__path__startswith=region.path)
             .select_related("grid__parent", "category", "run").order_by("-run__at", "-run_id", "q", "-z"))
    seen, rows = set(), []
    for h in spots:
        if (h.grid_id, h.category_id) in seen:
            continue
        seen.add((h.grid_id, h.category_id))
        place = f"{h.grid.parent.name} · {h.grid.name}" if h.grid.parent_id else h.grid.name
        rows.append(Row([place, category_name(h.category), h.since.isoformat(), h.observed, round(h.expected, 1),
                         _("yes") if h.is_emerging else _("no"), h.explanation()]))
    columns = [Column("place", _("Place")), Column("category", _("Category")), Column("since", _("Since")),
               Column("observed", _("Observed"), NUMBER), Column("expected", _("Expected"), NUMBER),
               Column("emerging", _("New")), Column("explanation", _("Explanation"))]
    return Table("hot_spots", _("Hot spots"), columns, rows,
                 _("Found by the weekly analyses of the month. Each one passed a statistical test: not a chance "
                   "fluctuation."),
                 _("No hot spot was found in this month."))


def decisions_table(region: Region, lower: dt.datetime, upper: dt.datetime) -> tuple[Table, int]:
    decisions = list(Decision.objects.filter(item__region__path__startswith=region.path, recorded_at__gte=lower,
                                             recorded_at__lt=upper)
                     .select_related("item__region").order_by("-is_major", "recorded_at", "id")[:DECISIONS_LISTED])
    chinese = (get_language() or "").startswith("zh")
    rows = []
    for d in decisions:
        verdict = d.verdict or {}
        rows.append(Row([timezone.localtime(d.recorded_at).date().isoformat(), d.item.region.name, d.item.name,
                         scrub(d.title), None if d.amount is None else float(d.amount),
                         _("yes") if d.is_major else _("no"),
                         verdict.get("classification_zh" if chinese else "classification_en", "")]))
    columns = [Column("date", _("Date")), Column("place", _("Place")), Column("item", _("Power item")),
               Column("title", _("Decision")), Column("amount", _("Amount (yuan)"), NUMBER),
               Column("major", _("Major matter (三重一大)")), Column("classification", _("Classification"))]
    table = Table("decisions", _("Decisions taken"), columns, rows,
                  _("Decisions recorded under the power lists of the region in the month, major matters first."),
                  _("No decision was recorded in this month."))
    return table, sum(1 for d in decisions if d.is_major)


def goals_table(region: Region, on: dt.date) -> Table:
    chinese = (get_language() or "").startswith("zh")
    goals = Goal.objects.filter(region__path__startswith=region.path, start_date__lte=on).select_related(
        "region", "owner").order_by("deadline", "id")
    rows = []
    for goal in goals:
        assessment = duty_services.goal_status(goal, on)
        if assessment.status not in GOALS_AT_RISK:
            continue
        zh, en = duty_rules.STATUS_NAMES[assessment.status]
        rows.append(Row([scrub(goal.title), goal.region.name, goal.owner.name, goal.deadline.isoformat(),
                         zh if chinese else en, assessment.reason_zh if chinese else assessment.reason_en],
                        flag="late" if assessment.status == duty_rules.Status.OVERDUE else ""))
    columns = [Column("goal", _("Goal")), Column("place", _("Place")), Column("owner", _("Owner")),
               Column("deadline", _("Deadline")), Column("status", _("Status")), Column("reason", _("Reason"))]
    return Table("goals", _("Goals at risk"), columns, rows,
                 _("Status computed on %(date)s from the progress reports and the time left.") % {
                     "date": on.isoformat()},
                 _("No goal is at risk."))


# --- the report ----------------------------------------------------------------------------------------------

def _rate_words(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def weights_words(weights: dict) -> str:
    """The score's weights in force, in per cent: "response rate 10%, resolution rate 30%, satisfaction rate
    60%" (the configured GONGZHI_DEMANDS_SCORE_WEIGHTS, normalised to 100)."""
    total = sum(weights.get(name, 0) for name in RATE_NAMES) or 1
    return "、".join(f"{RATE_NAMES[name]} {100 * weights.get(name, 0) / total:g}%" for name in RATE_NAMES)


def floor_words(r: Ranked) -> str:
    """Why a unit is ranked after the others: "below the floor: response rate 50.0%"."""
    rates = {"response": r.rates.response_rate, "resolution": r.rates.resolution_rate,
             "satisfaction": r.rates.satisfaction_rate}
    names = "、".join(f"{RATE_NAMES[name]} {_rate_words(rates[name])}" for name in r.below_floor)
    return _("below the floor: %(rates)s") % {"rates": names}


def build(user, region: Region, month: dt.date, *, now: dt.datetime | None = None) -> Report:
    """The report of `region` for `month` as `user` may read it (NotFound / PermissionDenied otherwise)."""
    if not may_read(user, region):
        raise NotFound(gettext_lazy("region %(chosen)s") % {"chosen": region.pk})
    now = now or clock.now()
    start, end = month, month_end(month)
    lower, upper = _bounds(start, end)
    places_level = "community" if region.level == Region.Level.STREET else "street"
    places = ranking(user, places_level, start, end, region)
    units = ranking(user, "unit", start, end, region)
    settings = demand_queries.ranking_settings()
    basis = _("Response rate: accepted in time ÷ dispatched; resolution rate: rated solved ÷ rated; satisfaction "
              "rate: satisfied and basically satisfied ÷ rated; score weights: %(weights)s. "
              "Fewer than %(min_cases)d cases: not ranked (insufficient sample); below %(floor)d%% on any rate: "
              "ranked after every unit that is not.") % {
        "weights": weights_words(settings["weights"]),
        "min_cases": settings["min_cases"], "floor": round(100 * (settings["floor"] or 0))}
    tables = [
        _rates_table("places", _("Ranking of communities") if places_level == "community" else _("Ranking of streets"),
                     _("Community") if places_level == "community" else _("Street"), places, basis),
    ]
    if region.level == Region.Level.DISTRICT:
        tables.append(_rates_table("communities", _("Ranking of communities"), _("Community"),
                                   ranking(user, "community", start, end, region), _("By the same rules.")))
    tables.append(_rates_table("units", _("Ranking of units"), _("Unit"), units,
                               _("Units ranked by the same rules, by the demands they led.")))
    overdue, overdue_total = overdue_table(user, region, now)
    supervision, orders, listings = supervision_table(region, lower, upper)
    hot = hot_spots_table(region, start, end)
    decisions, major = decisions_table(region, lower, upper)
    goals = goals_table(region, min(end, timezone.localdate(now)))
    tables += [overdue, supervision, hot, decisions, goals]

    received = (demand_queries.visible(user).filter(grid__path__startswith=region.path, received_at__gte=lower,
                                                    received_at__lt=upper).count())
    overall = _overall(places)
    label = month_label(month)
    summary = [
        _("In %(month)s, %(region)s received %(received)d demands; %(dispatched)d were dispatched. Response rate "
          "%(response)s, resolution rate %(resolution)s, satisfaction rate %(satisfaction)s.") % {
            "month": label, "region": region.name, "received": received, "dispatched": overall["dispatched"],
            "response": _rate_words(overall["response"]), "resolution": _rate_words(overall["resolution"]),
            "satisfaction": _rate_words(overall["satisfaction"])},
    ]
    last_units = worst(units)
    if last_units:
        ranked_count = sum(1 for r in units if r.rank is not None)
        worst_sentence = (_("The worst-ranked unit of the month: %(names)s (rank %(rank)d of %(count)d, score "
                         "%(score).1f).") % {"names": "、".join(r.rates.name for r in last_units),
                                             "rank": last_units[0].rank, "count": ranked_count,
                                             "score": last_units[0].score})
        if last_units[0].below_floor:  # last because of the floor, whatever its score: say so
            worst_sentence = (_("The worst-ranked unit of the month: %(names)s (rank %(rank)d of %(count)d, "
                                "%(floor)s; score %(score).1f).") % {
                "names": "、".join(r.rates.name for r in last_units), "rank": last_units[0].rank,
                "count": ranked_count, "floor": floor_words(last_units[0]), "score": last_units[0].score})
    else:
        worst_sentence = _("No unit could be ranked this month.")
    summary.append(worst_sentence)
    last_places = worst(places)
    if last_places and sum(1 for r in places if r.rank is not None) > 1:
        level_words = _("communities") if places_level == "community" else _("streets")
        names = "、".join(r.rates.name for r in last_places)
        if last_places[0].below_floor:
            summary.append(_("Last of the %(level)s: %(names)s (%(floor)s; score %(score).1f).") % {
                "level": level_words, "names": names, "floor": floor_words(last_places[0]),
                "score": last_places[0].score})
        else:
            summary.append(_("Last of the %(level)s: %(names)s (score %(score).1f).") % {
                "level": level_words, "names": names, "score": last_places[0].score})
    summary.append(_("%(overdue)d demands overdue on %(date)s; %(orders)d supervision orders issued and %(listings)d "
                     "demands listed for supervision in the month.") % {
        "overdue": overdue_total, "date": timezone.localtime(now).date().isoformat(), "orders": orders,
        "listings": listings})
    summary.append(_("%(hot)d hot spots; %(decisions)d decisions recorded, %(major)d of them major matters "
                     "(三重一大); %(goals)d goals at risk.") % {
        "hot": len(hot.rows), "decisions": len(decisions.rows), "major": major, "goals": len(goals.rows)})
    title = _("Monthly report of %(region)s, %(month)s") % {"region": region.name, "month": label}
    return Report(region, month, start, end, now, title, summary, [r.rates.name for r in last_units], worst_sentence,
                  tables)

