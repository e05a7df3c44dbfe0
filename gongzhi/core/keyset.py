"""Keyset ("seek") pagination for long lists: the next page starts after the last row shown, found through the
sort key's index, instead of OFFSET, which reads and throws away every earlier row (page 1,000 of ten million
demands would read 20,000 rows to show 20). The cursor in the link is the sort key of that row, opaque to the
reader; the sort key must end with a unique column (id) so that ties never hide or repeat a row.

    page = keyset.paginate(qs, [Key("received_at", descending=True), Key("id", descending=True)],
                           request.GET, per_page=20)
    {% for demand in page %} … {% if page.has_next %}<a href="?{{ query }}&amp;{{ page.next_query }}">…

A row's key values are read from the objects (attributes; annotations included), so the queryset must select
them. NULLs sort last in both directions, on SQLite and PostgreSQL alike.
"""

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import F, Q

AFTER, BEFORE = "after", "before"


@dataclass(frozen=True)
class Key:
    """One column (or annotation) of the sort key. `nullable`: NULLs sort after the values (an ORDER BY the
    plain index cannot serve, so say it only of columns that may be NULL)."""

    name: str
    descending: bool = False
    nullable: bool = False

    def order(self, reverse: bool = False):
        descending = self.descending != reverse
        if not self.nullable:
            return F(self.name).desc() if descending else F(self.name).asc()
        # NULLs after the values read forwards, so before them read backwards.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return F(self.name).desc(**nulls) if descending else F(self.name).asc(**nulls)


class BadCursor(ValueError):
    pass


def _encode(values: list) -> str:
    plain = [{"t": v.isoformat()} if isinstance(v, dt.datetime) else {"d": v.isoformat()}
             if isinstance(v, dt.date) else str(v) if isinstance(v, Decimal) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str, n: int) -> list:
    try:
        plain = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError) as error:
        raise BadCursor(token) from error
    if not isinstance(plain, list) or len(plain) != n:
        raise BadCursor(token)
    values = []
    for v in plain:
        if isinstance(v, dict) and set(v) == {"t"}:
            v = dt.datetime.fromisoformat(v["t"])
        elif isinstance(v, dict) and set(v) == {"d"}:
            v = dt.date.fromisoformat(v["d"])
        elif not (v is None or isinstance(v, (int, float, str, bool))):
            raise BadCursor(token)
        values.append(v)
    return values


def _beyond(keys: list[Key], values: list, reverse: bool) -> Q:
    """Rows strictly after `values` in the order of `keys` (before them, with reverse)."""
    condition = Q(pk__in=[])
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        descending = key.descending != reverse
        nulls_last = not reverse
        if value is None and not key.nullable:
            raise BadCursor(key.name)
        if not key.nullable:
            step = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
            same = Q(**{key.name: value})
        elif value is None:
            step = Q(pk__in=[]) if nulls_last else Q(**{f"{key.name}__isnull": False})
            same = Q(**{f"{key.name}__isnull": True})
        else:
            step = Q(**{f"{key.name}__{'lt' if descending else 'gt'}": value})
            if nulls_last:
                step |= Q(**{f"{key.name}__isnull": True})
            same = Q(**{key.name: value})
        condition |= equal & step
        equal &= same
    first, value = keys[0], values[0]
    if not first.nullable:
        # The same rows, said so that the first key's index starts at the cursor (a range, not a filter over
        # every row before it): first <= value (or >=), and the exact order among ties from the rest.
        descending = first.descending != reverse
        condition &= Q(**{f"{first.name}__{'lte' if descending else 'gte'}": value})
    return condition


class KeysetPage:
    """One page: iterable like a Paginator's page; links to the next and previous pages as query strings."""

    def __init__(self, rows: list, keys: list[Key], *, has_next: bool, has_previous: bool, number: int,
                 param: str, count=None):
        self.object_list = rows
        self.keys = keys
        self.has_next = has_next
        self.has_previous = has_previous
        self.number = number
        self.param = param
        self._count = count

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def __bool__(self):
        return bool(self.object_list)

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def _cursor(self, row) -> str:
        return _encode([getattr(row, key.name) for key in self.keys])

    def _query(self, direction: str, row, number: int) -> str:
        return urlencode({self.param: f"{direction}.{number}.{self._cursor(row)}"})

    @property
    def next_query(self) -> str:
        return self._query(AFTER, self.object_list[-1], self.number + 1) if self.has_next else ""

    @property
    def previous_query(self) -> str:
        return self._query(BEFORE, self.object_list[0], self.number - 1) if self.has_previous else ""

    @property
    def count(self) -> int:
        """All the rows of the list (one COUNT query, asked only when a page shows it)."""
        if callable(self._count):
            self._count = self._count()
        return self._count

    @property
    def paginator(self):  # what templates written for Django's Paginator read: page.paginator.count
        return self


def paginate(qs, keys: list[Key], params, *, per_page: int, param: str = "page") -> KeysetPage:
    """The page `params[param]` names ("after.<n>.<cursor>" or "before.<n>.<cursor>"; absent or unreadable:
    the first page) of `qs` in the order of `keys`."""
    token = params.get(param) or ""
    direction, _, rest = token.partition(".")
    number_text, _, cursor = rest.partition(".")
    values = None
    if direction in (AFTER, BEFORE) and number_text.isdigit() and cursor:
        try:
            values = _decode(cursor, len(keys))
        except BadCursor:
            values = None
    reverse = values is not None and direction == BEFORE
    ordered = qs.order_by(*(key.order(reverse) for key in keys))
    if values is not None:
        try:
            ordered = ordered.filter(_beyond(keys, values, reverse))
        except BadCursor:
            return paginate(qs, keys, {}, per_page=per_page, param=param)
    rows = list(ordered[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    number = max(1, int(number_text)) if values is not None else 1
    if reverse:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, values is not None
    if not rows and values is not None:  # a stale cursor past the end: show the first page
        return paginate(qs, keys, {}, per_page=per_page, param=param)
    if reverse and not more:
        number = 1
    return KeysetPage(rows, keys, has_next=has_next, has_previous=has_previous, number=number, param=param,
                      count=qs.order_by().count)
