"""PostgreSQL's JIT compiler off for this database (new sessions). The rates, rankings and the cockpit's counts
over millions of demands cost the planner enough to compile, and the compiling took longer than the query: a
month's ranking at 10,000,000 demands ran 0.8 s and compiled 2.9 s (docs/benchmarks.md, Volume). Set on the
database, not per connection, so it holds through PgBouncer. Nothing on SQLite; a role that may not alter the
database gets a notice, and the setting can be made by its owner: ALTER DATABASE <name> SET jit = off."""

from django.db import migrations

JIT_OFF = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'gongzhi: could not turn JIT off for this database; ask its owner to run ALTER DATABASE ... SET jit = off';
END $$;
"""
JIT_DEFAULT = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
"""


def jit_off(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: format()'s %I stays as it is
            cursor.execute(JIT_OFF)


def jit_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(JIT_DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("demands", "0017_notification_link")]

    operations = [migrations.RunPython(jit_off, jit_default, elidable=False)]
