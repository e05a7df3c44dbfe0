"""Raw reads and writes of the log's bulk tables (entries, subtree hashes), and the HashSource over them.

Plain SQL on the default connection: a proof needs one or two indexed lookups of O(log n) keys, and a
batch inserts thousands of rows, both paths where the ORM's per-row cost would dominate. Level 0 of
the tree (the leaf hashes) is read from ledger_entry, levels >= 1 from ledger_subtree, keyed
`level << 56 | index`.
"""

from collections.abc import Iterable

from django.db import connection

from .models import Entry, Opening, Pending, Subtree

LEVEL_SHIFT = 56
INDEX_MASK = (1 << LEVEL_SHIFT) - 1
# Stay under SQLite's historic 999-variable limit, whatever the build.
_CHUNK = 900


def subtree_key(level: int, index: int) -> int:
    if not 1 <= level < 127 or not 0 <= index <= INDEX_MASK:
        raise ValueError(f"no stored subtree at level {level} index {index}")
    return level << LEVEL_SHIFT | index


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in_query(sql: str, values: list) -> list[tuple]:
    """Run `sql` (with one `{}` for the IN list) over `values` in chunks; all rows."""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(values):
            cursor.execute(sql.format(", ".join(["%s"] * len(chunk))), chunk)
            rows.extend(cursor.fetchall())
    return rows


class DatabaseHashSource:
    """merkle.HashSource over the database: all coordinates of one proof in one query.

    One round trip matters on PostgreSQL, where it is most of a proof's cost (the query takes arrays,
    `= ANY(%s)`, there; SQLite gets IN lists). Hashes once read are kept, and `prefetch` coordinates are read with the first call, so a proof,
    its leaf hash and its root(s) cost one query together.
    """

    def __init__(self, prefetch: list[tuple[int, int]] = ()):
        self.queries = 0
        self._prefetch = list(prefetch)
        self._found: dict[tuple[int, int], bytes] = {}

    def get_hashes(self, coords: list[tuple[int, int]]) -> list[bytes]:
        wanted = {coord for coord in [*coords, *self._prefetch] if coord not in self._found}
        self._prefetch = []
        if wanted:
            leaves = sorted(index for level, index in wanted if level == 0)
            keys = sorted(subtree_key(level, index) for level, index in wanted if level)
            self.queries += 1
            for is_subtree, key, value in self._select(leaves, keys):
                self._found[(key >> LEVEL_SHIFT, key & INDEX_MASK) if is_subtree else (0, key)] = bytes(value)
        missing = [coord for coord in coords if coord not in self._found]
        if missing:
            raise KeyError(f"stored hashes missing at (level, index) {missing[:5]}")
        return [self._found[coord] for coord in coords]

    @staticmethod
    def _select(leaves: list[int], keys: list[int]) -> list[tuple]:
        entries = f"SELECT 0, {_q('index')}, {_q('leaf_hash')} FROM {_table(Entry)} WHERE {_q('index')}"
        subtrees = f"SELECT 1, {_q('key')}, {_q('hash')} FROM {_table(Subtree)} WHERE {_q('key')}"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"{entries} = ANY(%s) UNION ALL {subtrees} = ANY(%s)", [leaves, keys])
                return cursor.fetchall()
            if len(leaves) + len(keys) > _CHUNK:  # never for a proof; a caller asking for many hashes
                return _in_query(f"{entries} IN ({{}})", leaves) + _in_query(f"{subtrees} IN ({{}})", keys)
            cursor.execute(
                f"{entries} IN ({', '.join(['%s'] * len(leaves))}) UNION ALL "
                f"{subtrees} IN ({', '.join(['%s'] * len(keys))})",
                leaves + keys,
            )
            return cursor.fetchall()


# --- range reads (tiles, exports, verifiers) ----------------------------------------------------------


def leaf_hashes(start: int, end: int) -> list[bytes]:
    """The leaf hashes of entries [start, end), in order (shorter if the log is shorter)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_q('leaf_hash')} FROM {_table(Entry)} WHERE {_q('index')} >= %s AND {_q('index')} < %s "
            f"ORDER BY {_q('index')}",
            [start, end],
        )
        return [bytes(row[0]) for row in cursor.fetchall()]


def level_hashes(level: int, start: int, end: int) -> list[bytes]:
    """Stored hashes at `level`, indexes [start, end), in order; level 0 is the leaf hashes."""
    if level == 0:
        return leaf_hashes(start, end)
    if start >= end:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_q('hash')} FROM {_table(Subtree)} WHERE {_q('key')} >= %s AND {_q('key')} < %s "
            f"ORDER BY {_q('key')}",
            [subtree_key(level, start), subtree_key(level, 0) + min(end, INDEX_MASK + 1)],
        )
        return [bytes(row[0]) for row in cursor.fetchall()]


def entry_texts(start: int, end: int) -> list[tuple[int, str, bytes]]:
    """(index, text, leaf_hash) of entries [start, end), in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_q('index')}, {_q('text')}, {_q('leaf_hash')} FROM {_table(Entry)} "
            f"WHERE {_q('index')} >= %s AND {_q('index')} < %s ORDER BY {_q('index')}",
            [start, end],
        )
        return [(index, text, bytes(value)) for index, text, value in cursor.fetchall()]


def index_of_leaf(leaf_hash: bytes, size: int) -> int | None:
    """The lowest index below `size` whose leaf hash is `leaf_hash`, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN({_q('index')}) FROM {_table(Entry)} WHERE {_q('leaf_hash')} = %s AND {_q('index')} < %s",
            [leaf_hash, size],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# --- the sequencer's writes ---------------------------------------------------------------------------


def insert_entries(rows: Iterable[tuple[int, int, bytes, str]]) -> None:
    """(index, event_id, leaf_hash, text) rows."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(Entry)} ({_q('index')}, {_q('event_id')}, {_q('leaf_hash')}, {_q('text')}) "
            "VALUES (%s, %s, %s, %s)",
            list(rows),
        )


def insert_subtrees(rows: Iterable[tuple[int, int, bytes]]) -> None:
    """(level, index, hash) rows with level >= 1."""
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(Subtree)} ({_q('key')}, {_q('hash')}) VALUES (%s, %s)",
            [(subtree_key(level, index), value) for level, index, value in rows],
        )


def insert_openings(rows: Iterable[tuple[int, str]]) -> None:
    """(entry index, salts as JSON text) rows."""
    rows = list(rows)
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_table(Opening)} ({_q('entry_id')}, {_q('salts')}) VALUES (%s, %s)", rows
            )


def delete_pending(event_ids: list[int]) -> None:
    # Exactly these ids, never a range: on PostgreSQL a lower id may commit after we read the queue.
    with connection.cursor() as cursor:
        for chunk in _chunks(event_ids):
            cursor.execute(
                f"DELETE FROM {_table(Pending)} WHERE {_q('event_id')} IN ({', '.join(['%s'] * len(chunk))})", chunk
            )


def queue_unsequenced() -> int:
    """Queue events that have neither an entry nor a pending row (written around the ORM, e.g. by
    bulk_create, which sends no post_save). A full anti-join: run at sequencer start, not per batch."""
    from gongzhi.core.models import Event

    events = _table(Event)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Pending)} ({_q('event_id')}) SELECT e.{_q('id')} FROM {events} e "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_table(Entry)} x WHERE x.{_q('event_id')} = e.{_q('id')}) "
            f"AND NOT EXISTS (SELECT 1 FROM {_table(Pending)} p WHERE p.{_q('event_id')} = e.{_q('id')})"
        )
        return max(cursor.rowcount, 0)
