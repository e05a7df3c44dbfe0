"""Bulk writes below the ORM's per-row cost, for the hot paths: insert_rows() (one multi-row INSERT …
RETURNING with the SQL built once per shape), and refresh_planner_statistics() after bulk loads.

PostgreSQL plans from statistics that autovacuum gathers later and only from committed rows; a
query right after loading thousands of rows in one transaction can otherwise pick nested loops over
"empty" tables and run for minutes. ANALYZE inside the transaction counts its own new rows."""

import functools

from django.db import connection


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int, returning: str | None, vendor: str) -> str:
    quote = connection.ops.quote_name
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES {', '.join([one] * rows)}"
    return sql + (f" RETURNING {quote(returning)}" if returning else "")


def insert_rows(model, fields: tuple[str, ...], rows: list[tuple], *, returning: bool = True) -> list[int] | None:
    """Insert `rows` (values in the order of `fields`, model field names) into `model`'s table with one
    statement, inside the caller's transaction; the new primary keys in row order when `returning`.
    Each value goes through its field's get_db_prep_save, as the ORM does, so JSON, dates and foreign
    keys are stored exactly as save() would store them. No signals are sent and no defaults are
    filled in: give every column that has no database default."""
    if not rows:
        return [] if returning else None
    meta = model._meta
    prepared_fields = [meta.get_field(name) for name in fields]
    columns = tuple(f.column for f in prepared_fields)
    params = []
    for row in rows:
        params.extend(field.get_db_prep_save(value, connection) for field, value in zip(prepared_fields, row))
    sql = _insert_sql(meta.db_table, columns, len(rows), meta.pk.column if returning else None, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()] if returning else None


def refresh_planner_statistics(*models) -> None:
    if connection.vendor != "postgresql" or not models:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
