"""`gongzhi bench seed`: the synthetic demands are consistent (each demand's steps, contact and ledger entries
as the services would have written them), and the command refuses SQLite and a database holding data."""

import io
from collections import Counter

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.core.management.base import CommandError

from gongzhi.core.models import Event
from gongzhi.demands import rules, seeding, services, tally
from gongzhi.demands.models import Demand, DemandContact, DemandCounter, DemandEvent, WeekTally
from gongzhi.ledger.models import Entry, Pending

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the seed writes with PostgreSQL's COPY and SQL")

# The state each step leads to, and so the steps a demand in a state has taken.
STEPS_TO = {state: [action for action, _, _, _ in seeding.STEPS[: i + 1]]
            for i, (_, _, state, _) in enumerate(seeding.STEPS)}


@postgres_only
@pytest.mark.django_db
def test_seeded_demands_carry_their_steps_contacts_and_a_ledger_that_verifies(ledger_keys, tmp_path):
    services.seed_defaults()  # the categories migrate puts in (a live-server test before may have flushed them)
    with connection.cursor() as cursor:  # as after demands filed in rolled-back transactions: the ids go on
        cursor.execute("SELECT setval(pg_get_serial_sequence('demands_demand', 'id'), 5000)")
    out = io.StringIO()
    call_command("bench", "seed", "--demands", "2000", "--years", "1", "--json", stdout=out)
    report = __import__("json").loads(out.getvalue())
    demands = Demand.objects.all()
    assert report["demands"] == demands.count() == 2000
    # The weekly tally was paused for the load and counted once after it: kept again, and right.
    assert tally.installed() and tally.differences() == [] and WeekTally.objects.exists()
    # Numbers are unique per day and each day's counter is where filing goes on from.
    per_day = Counter(number[:8] for number in demands.values_list("number", flat=True))
    counters = {day.strftime("%Y%m%d"): last for day, last in DemandCounter.objects.values_list("day", "last")}
    assert per_day == counters
    # Every demand has exactly the steps its state implies, in time order, each with its core event.
    steps: dict[int, list[str]] = {}
    for demand_id, action in DemandEvent.objects.order_by("demand_id", "at", "id").values_list("demand_id", "action"):
        steps.setdefault(demand_id, []).append(action)
    states = Counter()
    for demand in demands.only("id", "state", "dispatched_at", "rated_at", "solved", "satisfaction"):
        states[demand.state] += 1
        assert steps[demand.pk] == STEPS_TO[demand.state], demand.state
        if demand.state == rules.RATED:
            assert demand.solved is not None and demand.satisfaction
    assert {rules.RECEIVED, rules.RATED} <= set(states)  # recent ones still open, older ones rated
    assert states[rules.RATED] > 1000
    assert report["events"] == DemandEvent.objects.count() == sum(len(s) for s in steps.values())
    linked = Event.objects.filter(subject_type="demands.demand", kind__startswith="demands.")
    assert linked.count() == report["events"]
    # Contacts apart from the demand, and only as private (committed) values in the file step's event.
    assert DemandContact.objects.count() == report["contacts"] > 1500
    contact = DemandContact.objects.first()
    filed = Event.objects.get(subject_id=str(contact.demand_id), kind="demands.file")
    assert filed.private["contact_phone"] == contact.phone and "contact_phone" not in filed.data
    # The ledger: every seeded event has its entry, built as the sequencer would; the whole log verifies.
    assert Entry.objects.filter(event__in=linked).count() == report["entries"] == report["events"]
    assert not Pending.objects.filter(event__in=linked).exists()
    verified = io.StringIO()
    call_command("ledger", "verify", "--db", "--state", str(tmp_path / "state.json"), stdout=verified,
                 stderr=io.StringIO())
    assert "OK test.gongzhi.local/ledger" in verified.getvalue()
    assert f"{Entry.objects.count()} events compared" in verified.getvalue()


@postgres_only
@pytest.mark.django_db
def test_a_database_with_a_district_is_refused_unless_forced(world, ledger_keys):
    services.seed_defaults()  # the categories migrate puts in (a live-server test before may have flushed them)
    with pytest.raises(CommandError, match="already holds .*regions.*--force"):
        call_command("bench", "seed", "--demands", "10", stdout=io.StringIO())
    assert not Demand.objects.exists()
    call_command("bench", "seed", "--demands", "30", "--years", "0.2", "--ledger", "queue", "--force",
                 stdout=io.StringIO())
    assert Demand.objects.count() == 30
    seeded = Event.objects.filter(kind__startswith="demands.")
    assert Pending.objects.filter(event__in=seeded).count() == seeded.count() > 30  # in the outbox, for the sequencer
    # A second forced seed goes on from each day's counter: no number collides.
    call_command("bench", "seed", "--demands", "30", "--years", "0.2", "--no-steps", "--force", stdout=io.StringIO())
    assert Demand.objects.count() == 60 == Demand.objects.values("number").distinct().count()


@pytest.mark.skipif(ON_POSTGRES, reason="the refusal of SQLite")
@pytest.mark.django_db
def test_sqlite_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench", "seed", "--demands", "10", "--force", stdout=io.StringIO())
    assert not Demand.objects.exists()
