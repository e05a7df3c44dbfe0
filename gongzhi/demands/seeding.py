"""`gongzhi bench seed --demands N`: fill a fresh PostgreSQL database with N realistic demands for the volume
benchmarks (bench/bench_volume.py, bench/bench_demands.py): the demo district, then demands spread over years
by month with a daily curve and storm days, their contacts (kept apart, as DemandContact), their steps
(DemandEvent + core.Event, as services._record writes them) and, with `ledger=True`, the ledger entries of
those events computed in bulk with the ledger's own code (build_entry, merkle.Frontier), so that
`gongzhi ledger verify --db` passes.

Never for a real deployment: it refuses SQLite (no COPY) and any database that already holds a district,
demands or users, unless forced.
"""

import contextlib
import datetime as dt
import json
import math
import random
import time
from dataclasses import dataclass, field

from django.db import connection, transaction

from . import rules, tally

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no daylight saving
CHUNK = 50_000
EVENT_SLICE = 200_000
LEDGER_MODES = ("build", "queue")

TEXTS = {
    "environment": ("小区门口垃圾堆了三天没人清运，味道很大。", "楼下饭店油烟直排，窗户都不敢开。", "工地夜里施工，噪音吵得睡不着。"),
    "housing": ("楼道灯坏了一个多星期，物业一直没修。", "电梯又停了，老人上下楼很困难。", "楼顶漏水，家里墙皮都泡了。"),
    "traffic": ("路面有一个坑，骑车容易摔。", "共享单车把小区出入口堵住了。", "路口红绿灯坏了，车辆乱行。"),
    "utilities": ("暖气不热，屋里只有十五度。", "家里停水一整天了，没有通知。", "小区停电，冰箱里的东西都坏了。"),
}
DEFAULT_TEXTS = ("小区门口垃圾堆了三天没人清运，味道很大。", "楼上邻居装修，早上六点就开始砸墙。", "路边井盖松动，踩上去直晃。")
REPLIES = ("已安排人员现场处理，问题已解决。", "已联系物业公司维修，现已恢复正常。", "经核实，已督促责任单位整改完毕。",
           "已纳入本月维修计划，预计下周完成。")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
# Hour-of-day weights of a 12345-style hotline: quiet at night, peaks mid-morning and early afternoon.
HOURS = (2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 10, 12, 12, 11, 10, 8, 7, 6, 5, 4, 3)
CHANNELS = (("hotline", 62), ("web", 18), ("api", 10), ("patrol", 6), ("open311", 4))
URGENCIES = ((rules.ORDINARY, 86), (rules.UTILITIES, 8), (rules.COMPLEX, 4), (rules.EMERGENCY, 2))
DISPATCH_HOURS = {rules.EMERGENCY: 0.5, rules.UTILITIES: 1, rules.ORDINARY: 2, rules.COMPLEX: 2}
FEEDBACK_DAYS = {rules.EMERGENCY: 1, rules.UTILITIES: 2, rules.ORDINARY: 7, rules.COMPLEX: 15}


class Refused(Exception):
    """The database is not one to seed (SQLite, or already holding data)."""


@dataclass
class SeedReport:
    demands: int = 0
    contacts: int = 0
    events: int = 0
    entries: int = 0
    queued: int = 0
    seconds: dict = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def as_dict(self) -> dict:
        return {"demands": self.demands, "contacts": self.contacts, "events": self.events, "entries": self.entries, "queued": self.queued,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "demands_per_s": round(self.demands / max(1e-9, self.seconds.get("demands", 0))),
                # The whole of what a demand brings (its contact, steps, indexes, statistics), the district and
                # the ledger entries aside:
                "seeded_per_s": round(self.demands / max(1e-9, self.total_seconds - self.seconds.get("district", 0)
                                                         - self.seconds.get("ledger", 0))),
                "total_seconds": round(self.total_seconds, 2)}


def check_database(*, force: bool = False) -> None:
    """Refuse SQLite always; refuse a database with a district, demands or users unless forced."""
    from django.contrib.auth import get_user_model

    from gongzhi.org.models import Region

    from .models import Demand

    if connection.vendor != "postgresql":
        raise Refused(f"seeding needs PostgreSQL (COPY); this database is {connection.vendor}. "
                      "Point DATABASE_URL at a scratch PostgreSQL database.")
    if force:
        return
    held = [name for name, qs in (("demands", Demand.objects), ("regions", Region.objects),
                                  ("users", get_user_model().objects)) if qs.exists()]
    if held:
        raise Refused(f"this database already holds {', '.join(held)}: it may be a real one. Seed a fresh, "
                      "migrated scratch database, or pass --force to add synthetic demands to it anyway.")


def ensure_district():
    """The demo district (org.demo without the apps' extensions) unless a district is there."""
    from gongzhi.org import demo
    from gongzhi.org.models import Region

    if Region.objects.filter(level=Region.Level.GRID).exists():
        return
    saved = list(demo.EXTENSIONS)
    demo.EXTENSIONS.clear()
    try:
        demo.build_demo()
    finally:
        demo.EXTENSIONS[:] = saved


def day_weights(first: dt.date, last: dt.date, rng: random.Random) -> list[tuple[dt.date, float]]:
    """A weight per day: growth over the years, summer and heating-season peaks, weekends lower, and storm
    days (about one in sixty, 2.5-5 times an ordinary day, as after a rainstorm or a cold snap)."""
    days, day = [], first
    span = max(1, (last - first).days)
    while day <= last:
        growth = 1 + 0.25 * (day - first).days / span
        season = 1 + 0.18 * math.cos((day.timetuple().tm_yday - 200) / 365 * 2 * math.pi) \
            + 0.12 * (day.month in (11, 12, 1))
        weekend = 0.72 if day.weekday() >= 5 else 1.0
        storm = rng.uniform(2.5, 5) if rng.random() < 1 / 60 else 1.0
        days.append((day, growth * season * weekend * storm))
        day += dt.timedelta(days=1)
    return days


def _spread(n: int, weights: list[tuple[dt.date, float]]) -> list[tuple[dt.date, int]]:
    """n split over the days in proportion to their weights (largest remainders), so the total is exactly n."""
    total = sum(w for _, w in weights)
    shares = [(day, n * w / total) for day, w in weights]
    counts = [(day, int(s)) for day, s in shares]
    left = n - sum(c for _, c in counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i][1] - counts[i][1], reverse=True)
    for i in by_remainder[:left]:
        counts[i] = (counts[i][0], counts[i][1] + 1)
    return counts


def _district():
    from gongzhi.org.models import Organisation, Region

    from .models import Category

    grids = list(Region.objects.filter(level=Region.Level.GRID).order_by("id").values_list("id", "path"))
    if not grids:
        raise Refused("no grids: the district is missing")
    placed = [(g, *[int(x) for x in path.strip("/").split("/")[1:3]]) for g, path in grids]
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).order_by("id")
                      .values_list("id", "code"))
    if not categories:
        raise Refused("no categories: the defaults are missing (`gongzhi migrate` puts them in)")
    units = list(Organisation.objects.filter(kind__in=(
        "department", "residents_committee", "villagers_committee", "property_company", "street_office",
        "township_government")).order_by("id").values_list("id", flat=True))
    desks = dict(Organisation.objects.filter(kind__in=("street_office", "township_government"))
                 .values_list("region_id", "id"))
    return placed, categories, units, desks


def _lower_bounds(weights) -> list[float]:
    """Each bucket's lower bound on [0, 1), for PostgreSQL's width_bucket(random(), bounds)."""
    total, bounds, running = float(sum(weights)), [], 0.0
    for w in weights:
        bounds.append(float(running / total))
        running += w
    return bounds


# One INSERT per month: the day's counts come from Python (the curve, the storms); every row is drawn by
# PostgreSQL itself, which writes about ten times faster than rows built in Python and sent with COPY.
DEMANDS_SQL = """
WITH day AS (
    SELECT d AS day, n, o FROM unnest(%(days)s::date[], %(counts)s::int[], %(offsets)s::int[]) AS x(d, n, o)
), moment AS (
    SELECT day, o, ((day::timestamp + make_interval(hours => width_bucket(random(), %(hours)s::float8[]) - 1,
                                                 secs => floor(random() * 3600)))
                 AT TIME ZONE 'Asia/Shanghai') AS received
    FROM day, generate_series(1, n)
), drawn AS (
    SELECT day, received, o + row_number() OVER (PARTITION BY day ORDER BY received) AS serial,
           width_bucket(random(), %(grids)s::float8[]) AS g, 1 + floor(random() * %(n_categories)s)::int AS c,
           1 + floor(random() * %(n_units)s)::int AS u, width_bucket(random(), %(channels)s::float8[]) AS ch,
           width_bucket(random(), %(urgencies)s::float8[]) AS ug, random() AS r1, random() AS r2, random() AS r3,
           random() AS r4, random() AS r5, random() AS r6, random() AS r7, random() AS r8, random() AS r9,
           1 + floor(random() * 3)::int AS k
    FROM moment
), timed AS MATERIALIZED (
    SELECT *, extract(epoch FROM %(now)s::timestamptz - received) / 86400 AS age,
           received + make_interval(mins => 5 + floor(r2 * 145)::int) AS dispatched
    FROM drawn
), stepped AS MATERIALIZED (
    SELECT *, r1 * least(1.0, age / 12) + CASE WHEN age > 12 THEN 0.35 ELSE 0 END AS progress,
           dispatched + make_interval(mins => CASE WHEN r3 < (%(accepts)s::float8[])[u]
                                                   THEN 1 + floor(r4 * 109)::int ELSE 121 + floor(r4 * 779)::int END)
               AS accepted,
           (%(feedback_days)s::int[])[ug] AS feedback_days
    FROM timed
), stepped2 AS MATERIALIZED (
    SELECT *, accepted + make_interval(secs => 3600 + r5 * (feedback_days * 86400 * 1.2 - 3600)) AS replied,
           r6 < (%(solves)s::float8[])[u] AS is_solved
    FROM stepped
), stepped3 AS MATERIALIZED (
    SELECT *, replied + make_interval(secs => 7200 + r7 * 100800) AS closed FROM stepped2
), final AS MATERIALIZED (
    SELECT *,
           progress > 0.03 AND dispatched < %(now)s AS is_dispatched,
           progress > 0.08 AND accepted < %(now)s AS is_accepted,
           progress > 0.25 AND replied < %(now)s AS is_replied,
           progress > 0.4 AND closed < %(now)s AS is_closed,
           closed + make_interval(secs => 14400 + r8 * 244800) AS rated
    FROM stepped3
), shaped AS MATERIALIZED (
    SELECT *, is_dispatched AND is_accepted AND is_replied AND is_closed AND r9 < 0.9 AND rated < %(now)s AS is_rated
    FROM final
)
INSERT INTO demands_demand (
    number, channel, text, category_id, urgency, urgency_overridden, suggested_urgency, address, grid_id,
    community_id, street_id, desk_id, state, lead_unit_id, dispatch_due, accept_due, feedback_due, received_at,
    dispatched_at, accepted_at, replied_at, verified_at, closed_at, rated_at, reply, solved, satisfaction,
    suggestion, reopen_count, deadline_basis)
SELECT
    to_char(day, 'YYYYMMDD') || CASE WHEN serial > 99999 THEN serial::text ELSE lpad(serial::text, 5, '0') END,
    (%(channel_names)s::text[])[ch], (%(texts)s::text[])[(c - 1) * 3 + k], (%(categories)s::int[])[c],
    (%(urgency_names)s::text[])[ug], false, '', '', (%(grid_ids)s::int[])[g], (%(communities)s::int[])[g],
    (%(streets)s::int[])[g], (%(desks)s::int[])[g],
    CASE WHEN NOT is_dispatched THEN 'received' WHEN NOT is_accepted THEN 'dispatched'
         WHEN NOT is_replied THEN 'accepted' WHEN NOT is_closed THEN 'replied'
         WHEN NOT is_rated THEN 'closed' ELSE 'rated' END,
    CASE WHEN is_dispatched THEN (%(units)s::int[])[u] END,
    received + make_interval(secs => (%(dispatch_hours)s::float8[])[ug] * 3600),
    CASE WHEN is_dispatched THEN dispatched + interval '2 hours' END,
    received + make_interval(days => feedback_days), received,
    CASE WHEN is_dispatched THEN dispatched END,
    CASE WHEN is_dispatched AND is_accepted THEN accepted END,
    CASE WHEN is_dispatched AND is_accepted AND is_replied THEN replied END,
    CASE WHEN is_dispatched AND is_accepted AND is_replied AND is_closed THEN closed - interval '1 hour' END,
    CASE WHEN is_dispatched AND is_accepted AND is_replied AND is_closed THEN closed END,
    CASE WHEN is_rated THEN rated END,
    CASE WHEN is_dispatched AND is_accepted AND is_replied THEN (%(replies)s::text[])[k] ELSE '' END,
    CASE WHEN is_rated THEN is_solved END,
    CASE WHEN NOT is_rated THEN ''
         WHEN is_solved THEN (CASE WHEN r2 < 0.72 THEN 'satisfied' WHEN r2 < 0.96 THEN 'basically_satisfied'
                                   ELSE 'not_satisfied' END)
         ELSE (CASE WHEN r2 < 0.04 THEN 'satisfied' WHEN r2 < 0.30 THEN 'basically_satisfied'
                    ELSE 'not_satisfied' END) END,
    '{}'::jsonb, 0, '{}'::jsonb
FROM shaped
ORDER BY received
"""


def seed_demands(n: int, *, years: float = 3.0, end: dt.date | None = None, seed: int = 1) -> tuple[int, int]:
    """n demands received over `years` ending on `end` (default today), inserted in time order (so ids follow
    received_at, as in real life), a month per statement; each day's serials numbered as file_demand does.
    Returns (first id, last id)."""
    from .models import Demand, DemandCounter

    rng = random.Random(seed)
    end = end or dt.date.today()
    first_day = end - dt.timedelta(days=int(years * 365.25) - 1)
    placed, categories, units, desks = _district()
    texts = []
    for _, code in categories:
        choices = TEXTS.get(code.split(".")[0], DEFAULT_TEXTS)
        texts.extend(choices[i % len(choices)] for i in range(3))
    params = {
        "hours": _lower_bounds(HOURS),
        "grids": _lower_bounds([rng.paretovariate(1.5) for _ in placed]),  # some grids far busier than others
        "grid_ids": [g for g, _, _ in placed], "streets": [s for _, s, _ in placed],
        "communities": [c for _, _, c in placed], "desks": [desks.get(s) for _, s, _ in placed],
        "categories": [c for c, _ in categories], "n_categories": len(categories), "texts": texts,
        "units": units, "n_units": len(units),
        "accepts": [rng.uniform(0.8, 0.99) for _ in units], "solves": [rng.uniform(0.7, 0.97) for _ in units],
        "channel_names": [c for c, _ in CHANNELS], "channels": _lower_bounds([w for _, w in CHANNELS]),
        "urgency_names": [u for u, _ in URGENCIES], "urgencies": _lower_bounds([w for _, w in URGENCIES]),
        "dispatch_hours": [float(DISPATCH_HOURS[u]) for u, _ in URGENCIES],
        "feedback_days": [FEEDBACK_DAYS[u] for u, _ in URGENCIES], "replies": list(REPLIES),
        "now": dt.datetime.combine(end, dt.time(18), tzinfo=TZ),
    }
    days = [(day, count) for day, count in _spread(n, day_weights(first_day, end, rng)) if count]
    table = connection.ops.quote_name(Demand._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # compiling each month's statement costs more than it saves
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        before = cursor.fetchone()[0]
        months: dict[tuple[int, int], list] = {}
        for day, count in days:
            months.setdefault((day.year, day.month), []).append((day, count))
        # Serials go on from the day's counter (a forced seed beside demands filed or seeded before).
        taken = dict(DemandCounter.objects.filter(day__in=[d for d, _ in days]).values_list("day", "last"))
        for month in months.values():
            cursor.execute(DEMANDS_SQL, {**params, "days": [d for d, _ in month], "counts": [c for _, c in month],
                                         "offsets": [taken.get(d, 0) for d, _ in month]})
        # The sequence may be ahead of max(id) (rolled-back inserts keep their numbers): the range is read back.
        cursor.execute(f"SELECT coalesce(min(id), %s), coalesce(max(id), %s) FROM {table} WHERE id > %s",
                       [before + 1, before, before])
        first, last = cursor.fetchone()
        counter = connection.ops.quote_name(DemandCounter._meta.db_table)
        cursor.execute(f"INSERT INTO {counter} (day, last) SELECT * FROM unnest(%s::date[], %s::int[]) "
                       "ON CONFLICT (day) DO UPDATE SET last = {counter}.last + excluded.last".replace("{counter}", counter),
                       [[d for d, _ in days], [c for _, c in days]])
    return first, last


def seed_contacts(first: int, last: int) -> int:
    """A contact (name, mobile) for nine demands in ten, apart from the demand, as file_demand keeps it."""
    surnames = "{" + ",".join(SURNAMES) + "}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO demands_demandcontact (demand_id, name, phone) "
            "SELECT id, (%s::text[])[1 + (id * 7919) %% 20] || (CASE WHEN id %% 2 = 0 THEN '女士' ELSE '先生' END), "
            "'13' || lpad(((id * 2654435761) %% 1000000000)::text, 9, '0') "
            "FROM demands_demand WHERE id BETWEEN %s AND %s AND id %% 10 <> 0", [surnames, first, last])
        return cursor.rowcount


# The steps each state implies, in order: (action, from state, to state, the time column it happened at).
STEPS = (
    ("file", "", rules.RECEIVED, "received_at"),
    ("dispatch", rules.RECEIVED, rules.DISPATCHED, "dispatched_at"),
    ("accept", rules.DISPATCHED, rules.ACCEPTED, "accepted_at"),
    ("reply", rules.ACCEPTED, rules.REPLIED, "replied_at"),
    ("verify", rules.REPLIED, rules.VERIFIED, "verified_at"),
    ("close", rules.VERIFIED, rules.CLOSED, "closed_at"),
    ("rate", rules.CLOSED, rules.RATED, "rated_at"),
)


def seed_events(first: int, last: int) -> int:
    """Each demand's steps as services._record writes them: one core.Event (kind "demands.<action>", the public
    fields, the text, reply and contact as private values) and its DemandEvent, in one statement per slice of
    demands, ordered by time so event ids follow the time as the sequencer's log does."""
    steps = ", ".join(f"({i}, '{action}', '{before}', '{after}', d.{column})"
                      for i, (action, before, after, column) in enumerate(STEPS))
    local = "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"'"
    sql = f"""
        WITH made AS (
            INSERT INTO core_event (kind, subject_type, subject_id, actor_id, at, data, private)
            SELECT 'demands.' || s.action, 'demands.demand', d.id::text, NULL, s.at,
                   jsonb_strip_nulls(jsonb_build_object(
                       'number', d.number, 'action', s.action, 'from', s.from_state, 'to', s.to_state,
                       'unit', CASE WHEN s.action = 'file' THEN d.desk_id
                                    WHEN s.action IN ('verify', 'close') THEN NULL ELSE d.lead_unit_id END))
                   || CASE s.action
                        WHEN 'file' THEN jsonb_build_object(
                            'channel', d.channel, 'grid', d.grid_id, 'community', d.community_id,
                            'street', d.street_id, 'category', c.code, 'urgency', d.urgency,
                            'dispatch_due', to_char(d.dispatch_due AT TIME ZONE 'Asia/Shanghai', {local}),
                            'feedback_due', to_char(d.feedback_due AT TIME ZONE 'Asia/Shanghai', {local}))
                        WHEN 'rate' THEN jsonb_build_object('solved', d.solved, 'satisfaction', d.satisfaction)
                        ELSE '{{}}'::jsonb END,
                   CASE s.action
                        WHEN 'file' THEN jsonb_build_object('text', d.text, 'address', d.address, 'location', NULL)
                            || CASE WHEN k.demand_id IS NULL THEN '{{}}'::jsonb
                                    ELSE jsonb_build_object('contact_name', k.name, 'contact_phone', k.phone) END
                        WHEN 'reply' THEN jsonb_build_object('reply', d.reply)
                        ELSE '{{}}'::jsonb END
            FROM demands_demand d
                 CROSS JOIN LATERAL (VALUES {steps}) AS s (ord, action, from_state, to_state, at)
                 LEFT JOIN demands_category c ON c.id = d.category_id
                 LEFT JOIN demands_demandcontact k ON k.demand_id = d.id AND s.action = 'file'
                      AND k.demand_id BETWEEN %(first)s AND %(last)s
            WHERE d.id BETWEEN %(first)s AND %(last)s AND s.at IS NOT NULL
            ORDER BY s.at, d.id, s.ord
            RETURNING id, subject_id, at, data)
        INSERT INTO demands_demandevent (demand_id, actor_id, at, from_state, to_state, action, note, unit_id,
                                         event_id)
        SELECT subject_id::bigint, NULL, at, data->>'from', data->>'to', data->>'action', '',
               (data->>'unit')::bigint, id
        FROM made"""
    made = 0
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")  # each slice's sort in memory
        # In slices of demands (ids follow time), so each sort stays in memory and event ids still follow time.
        for low in range(first, last + 1, EVENT_SLICE):
            cursor.execute(sql, {"first": low, "last": min(last, low + EVENT_SLICE - 1)})
            made += cursor.rowcount
    return made


def queue_events(after_event: int) -> int:
    """Put the seeded events in the ledger's outbox (ledger.Pending), as if the sequencer had not caught up:
    `ledger verify --db` then reports them as queued, and `ledger sequence` would integrate them."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO ledger_pending (event_id) SELECT id FROM core_event WHERE id > %s "
                       "AND NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.event_id = core_event.id)", [after_event])
        return cursor.rowcount


def seed_ledger(after_event: int) -> int:
    """The ledger entries of every event with id > after_event, appended to the log as the sequencer would
    (services.build_entry, the same pseudonyms, merkle.Frontier's subtree hashes), streamed with COPY, then
    the head moved and one checkpoint signed. Holds the head lock throughout, so no sequencer runs meanwhile."""
    from gongzhi.ledger import merkle, note, services, storage
    from gongzhi.ledger.models import Checkpoint

    from gongzhi.core import clock

    private_keys = services._private_keys()
    done = 0
    with transaction.atomic():
        head = services._locked_head()
        frontier = merkle.Frontier.from_json(head.frontier)
        if head.actors_per_subject_from is None:
            head.actors_per_subject_from = head.size
        with connection.cursor() as reader, connection.cursor() as writer:
            reader.execute("SELECT id FROM core_event WHERE id > %s AND NOT EXISTS "
                           "(SELECT 1 FROM ledger_entry e WHERE e.event_id = core_event.id) ORDER BY id LIMIT 1",
                           [after_event])
            start = reader.fetchone()
            while start is not None:
                reader.execute("SELECT id, kind, subject_type, subject_id, actor_id, at, data, private FROM core_event "
                               "WHERE id >= %s ORDER BY id LIMIT %s", [start[0], CHUNK])
                rows = reader.fetchall()
                entries, subtrees, openings = [], [], []
                for event_id, kind, subject_type, subject_id, actor_id, at, data, private in rows:
                    # Django's PostgreSQL backend hands jsonb to raw cursors as text (JSONField parses it).
                    data, private = json.loads(data), json.loads(private)
                    index = frontier.size
                    text, salts = services.build_entry(
                        event_id=event_id, kind=kind, subject_type=subject_type, subject_id=subject_id,
                        actor=services.pseudonym(actor_id, f"{subject_type}:{subject_id}"), at=at, data=data,
                        private=private, private_keys=private_keys)
                    leaf = merkle.leaf_hash(text)
                    subtrees.extend(node for node in frontier.append(leaf) if node[0])
                    entries.append((index, event_id, leaf, text.decode()))
                    if salts:
                        openings.append((index, json.dumps(salts)))
                with writer.copy('COPY ledger_entry ("index", event_id, leaf_hash, text) FROM STDIN') as copy:
                    for row in entries:
                        copy.write_row(row)
                with writer.copy('COPY ledger_subtree ("key", hash) FROM STDIN') as copy:
                    for level, i, value in subtrees:
                        copy.write_row((storage.subtree_key(level, i), value))
                with writer.copy("COPY ledger_opening (entry_id, salts) FROM STDIN") as copy:
                    for row in openings:
                        copy.write_row(row)
                done += len(rows)
                start = (rows[-1][0] + 1,) if len(rows) == CHUNK else None
        if done:
            root = frontier.root()
            signed = note.sign_note(note.format_checkpoint(services.origin(), frontier.size, root),
                                    [services.signer()])
            Checkpoint.objects.create(size=frontier.size, root=root, note=signed, signed_at=clock.now())
            head.size, head.root, head.frontier, head.checkpoint = frontier.size, root, frontier.to_json(), signed
            head.save()
    return done


BULK_TABLES = ("demands_demand", "demands_demandcontact", "demands_demandevent", "core_event", "ledger_pending")


@contextlib.contextmanager
def bulk_load(tables=BULK_TABLES):
    """While loading a fresh database: the tables' secondary indexes dropped and built again afterwards (one sort
    per index instead of a B-tree insert per row and index), and, for a superuser, the foreign-key triggers off
    (session_replication_role = replica: the seed only names rows it read, so nothing is left unchecked that
    could be wrong). Unique and primary keys stay."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [list(tables)])
        indexes = cursor.fetchall()
        # Foreign keys checked now, not at commit: a table with pending trigger events cannot be indexed.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        if superuser:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if superuser:
                cursor.execute("SET session_replication_role = DEFAULT")
            for _, definition in indexes:
                cursor.execute(definition)


def analyze() -> None:
    """Planner statistics, and (outside a transaction) the visibility map index-only scans rely on."""
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in ("demands_demand", "demands_demandcontact", "demands_demandevent", "core_event",
                      "ledger_entry", "ledger_subtree", "ledger_opening", "demands_demandcounter"):
            cursor.execute(f"{verb} {table}")


def seed(n: int, *, years: float = 3.0, end: dt.date | None = None, seed_value: int = 1, ledger: str = "build",
         steps: bool = True, force: bool = False, progress=lambda message: None) -> SeedReport:
    """The whole seed; see the module's docstring. Each part timed in the report."""
    check_database(force=force)
    report = SeedReport()
    lap = time.perf_counter()

    def timed(name):
        nonlocal lap
        now = time.perf_counter()
        report.seconds[name] = now - lap
        lap = now
        progress(f"{name}: {report.seconds[name]:.1f} s")

    ensure_district()
    timed("district")
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM core_event")
        events_before = cursor.fetchone()[0]
    with transaction.atomic(), (contextlib.nullcontext() if force else bulk_load()):
        tally.pause()  # counted once at the end, not by a trigger per row (rebuild() turns it back on)
        first, last = seed_demands(n, years=years, end=end, seed=seed_value)
        report.demands = max(0, last - first + 1)
        timed("demands")
        report.contacts = seed_contacts(first, last)
        timed("contacts")
        if steps:
            report.events = seed_events(first, last)
            timed("events")
        if steps and ledger == "queue":
            report.queued = queue_events(events_before)
        tally.rebuild()
        timed("tally")
    timed("indexes")
    if steps and ledger == "build":
        report.entries = seed_ledger(events_before)
        timed("ledger")

    analyze()
    timed("analyze")
    return report
