"""After a bulk load, tell the database's planner how big the tables now are.

PostgreSQL plans from statistics that autovacuum gathers later and only from committed rows; a
query right after loading thousands of rows in one transaction can otherwise pick nested loops over
"empty" tables and run for minutes. ANALYZE inside the transaction counts its own new rows."""

from django.db import connection


def refresh_planner_statistics(*models) -> None:
    if connection.vendor != "postgresql" or not models:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
