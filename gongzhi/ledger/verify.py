"""Auditing the whole log: recompute the tree from every entry and check it against the signed
checkpoints, the stored (or served) hashes and the checkpoint an auditor verified last time.

`verify(source, key=…, previous=…)` is the algorithm; it reads through a *source* with one small
interface, so the same checks run against a live server (`UrlSource`: the C2SP tiles and the JSON
API over HTTP), an export file (`ExportSource`, written by `write_export`) or, on the server itself,
the database (`DatabaseSource`, which also checks every core.Event against its entry). Nothing here
trusts the source: the only trust anchors are the log's verifier key (pinned, or trusted on first use
and then pinned in the state file) and the previously verified checkpoint in that state file.

What is checked, streaming in chunks so memory stays small:

1. every checkpoint note's signature by the log key, origin, and that sizes never go back;
2. the entries are indexes 0 … size-1, each once, in order ("entry 7 missing");
3. each entry is canonical JSON and its RFC 6962 leaf hash equals the stored one ("entry 41: leaf
   hash mismatch");
4. the tree recomputed with merkle.Frontier has, at each checkpoint size, the signed root, and each
   stored complete-subtree hash (tile hash for a URL) equals the recomputed one ("stored hash level 3
   index 5 wrong");
5. the latest checkpoint extends the one in the state file (the recomputed root at the old size is
   the old root; a URL source's consistency proof must verify too);
6. source-specific checks (database: every event has its entry and every entry matches its event).

When the recomputed roots disagree with what was signed, `_explain` names the first bad entry: two
entries swapped inside a batch show as event ids out of order ("entries 12 and 13 out of order").
"""

import abc
import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gongzhi.core.canonical import canonical_json

from . import merkle, note, tiles

__all__ = [
    "DEFAULT_STATE",
    "DatabaseSource",
    "ExportSource",
    "FetchError",
    "Problem",
    "Report",
    "Source",
    "UrlSource",
    "WitnessRefused",
    "cosign",
    "find_swap",
    "load_state",
    "read_vkey",
    "save_state",
    "state_for",
    "verify",
    "write_export",
]

CHUNK = 4096  # entries per read; a multiple of the tile width
EXPORT_FORMAT = "gongzhi-ledger-export/v1"
DEFAULT_STATE = Path("~/.gongzhi-ledger-state.json")
MAX_PROBLEMS = 200

Coord = tuple[int, int]


class FetchError(Exception):
    """The source could not be read at all (server unreachable, file unreadable): nothing was checked."""


@dataclass(frozen=True)
class Problem:
    """Something wrong; `index` is the first entry it concerns (None for the log as a whole)."""

    message: str
    index: int | None = None

    def __str__(self):
        return self.message


@dataclass
class Report:
    origin: str | None = None
    vkey: str | None = None
    tree_size: int | None = None
    root: bytes | None = None
    checkpoint: str | None = None  # the latest signed note, as the source gave it
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, index: int | None = None) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(message, index))

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def ordered_problems(self) -> list[Problem]:
        """Problems about an entry first, lowest index first; then those about the whole log."""
        indexed = sorted((p for p in self.problems if p.index is not None), key=lambda p: p.index)
        return indexed + [p for p in self.problems if p.index is None]

    def first_problem(self) -> Problem | None:
        ordered = self.ordered_problems()
        return ordered[0] if ordered else None


# --- sources --------------------------------------------------------------------------------------------


class Source(abc.ABC):
    """Where the log is read from. verify() calls, in this order: served_key, checkpoints, entries
    (interleaved with stored_hashes and check_entries per chunk), consistency_proof, finish."""

    description = "a log"
    identity = ""  # what the state file remembers it by (URL, export origin, "db")

    def served_key(self) -> str | None:
        """The verifier key the source itself offers (trusted only on first use)."""
        return None

    @abc.abstractmethod
    def checkpoints(self) -> Iterable[str]:
        """Signed checkpoint notes, oldest first; the last is the one verified against."""

    @abc.abstractmethod
    def entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        """(index, entry bytes) of entries [0, size), in the source's order."""

    def holds_level(self, level: int) -> bool:
        """Does the source keep stored hashes at this Merkle level?"""
        return False

    def stored_hashes(self, coords: list[Coord]) -> dict[Coord, bytes]:
        """The stored hashes it has for these (level, index) coordinates; absent ones are missing."""
        return {}

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        """The source's own consistency proof between two sizes, if it serves them."""
        return None

    def check_entries(self, rows: list[tuple[int, bytes, dict | None]], report: Report) -> None:
        """Extra checks per chunk of (index, entry bytes, parsed entry or None)."""

    def finish(self, size: int, root: bytes | None, report: Report) -> None:
        """Extra checks once every entry was read."""


class UrlSource(Source):
    """A running server, through its public endpoints only: /ledger/checkpoint, the C2SP tiles and
    entry bundles, /api/v1/ledger/key and the consistency proof endpoint (urllib, no login)."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        self.base = url.rstrip("/")
        self.identity = self.base
        self.description = self.base
        self.timeout = timeout
        self.requests = 0
        self._size = 0
        self._key: str | None = None
        self._tiles: dict[tuple[int, int, int], list[bytes] | None] = {}

    def _get(self, path: str) -> bytes | None:
        """The body of GET base+path; None for a 404; FetchError if the server cannot be reached."""
        url = self.base + path
        self.requests += 1
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise FetchError(f"GET {url}: HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise FetchError(f"GET {url}: {error}") from error

    def _json(self, path: str) -> dict:
        body = self._get(path)
        if body is None:
            raise FetchError(f"GET {self.base}{path}: not found")
        try:
            return json.loads(body)
        except ValueError as error:
            raise FetchError(f"GET {self.base}{path}: not JSON") from error

    def served_key(self) -> str | None:
        if self._key is None:
            self._key = self._json("/api/v1/ledger/key").get("vkey")
        return self._key

    def checkpoints(self) -> list[str]:
        body = self._get("/ledger/checkpoint")
        if body is None:
            raise FetchError(f"{self.base}/ledger/checkpoint: no checkpoint has been published")
        return [body.decode("utf-8", "replace")]

    def entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        self._size = size
        for bundle, width in tiles.entry_bundles_for_size(size):
            first = bundle * tiles.TILE_WIDTH
            body = self._get("/ledger/" + tiles.entries_path(bundle, width))
            if body is not None:
                try:
                    yield from enumerate(tiles.decode_entry_bundle(body), start=first)
                    continue
                except ValueError:
                    pass
            # The bundle is missing or garbled: fetch its entries one by one to name what is missing.
            for index in range(first, first + width):
                found = self._get(f"/api/v1/ledger/entries/{index}")
                if found is not None:
                    yield index, json.loads(found)["entry"].encode("utf-8")

    def holds_level(self, level: int) -> bool:
        return level % tiles.TILE_HEIGHT == 0

    def _tile(self, tile_level: int, tile_index: int) -> list[bytes] | None:
        level = tile_level * tiles.TILE_HEIGHT
        width = min(tiles.TILE_WIDTH, (self._size >> level) - tile_index * tiles.TILE_WIDTH)
        key = (tile_level, tile_index, width)
        if key not in self._tiles:
            if tile_level == 0:  # each level 0 tile is read once: keep only the upper levels
                self._tiles = {k: v for k, v in self._tiles.items() if k[0]}
            body = self._get("/ledger/" + tiles.tile_path(tile_level, tile_index, width))
            try:
                self._tiles[key] = None if body is None else tiles.decode_tile(body, width)
            except ValueError:
                self._tiles[key] = None
        return self._tiles[key]

    def stored_hashes(self, coords: list[Coord]) -> dict[Coord, bytes]:
        found = {}
        for level, index in coords:
            hashes = self._tile(level // tiles.TILE_HEIGHT, index // tiles.TILE_WIDTH)
            if hashes is not None:
                found[(level, index)] = hashes[index % tiles.TILE_WIDTH]
        return found

    def post_json(self, path: str, body: dict) -> dict:
        """POST JSON; the server's {"code", "message"} becomes a FetchError naming it."""
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read()).get("message", "")
            except ValueError:
                detail = ""
            raise FetchError(f"POST {self.base}{path}: HTTP {error.code} {detail}".rstrip()) from error
        except (urllib.error.URLError, OSError) as error:
            raise FetchError(f"POST {self.base}{path}: {error}") from error

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        body = self._json(f"/api/v1/ledger/proof/consistency?first={first}&second={second}")
        return [bytes.fromhex(node) for node in body.get("proof", [])]


def _completed_levels(index: int) -> Iterator[int]:
    """The levels >= 1 of the complete subtrees that leaf `index` completes (its trailing one bits)."""
    level = 1
    while (index + 1) % (1 << level) == 0:
        yield level
        level += 1


class ExportSource(Source):
    """A file written by `gongzhi ledger export` (JSON lines, see write_export), read in one pass."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.description = str(self.path)
        try:
            self._file = self.path.open(encoding="utf-8")
        except OSError as error:
            raise FetchError(f"{path}: {error}") from error
        self.header = self._next_record()
        if not isinstance(self.header, dict) or self.header.get("format") != EXPORT_FORMAT:
            raise FetchError(f"{path}: not a {EXPORT_FORMAT} file")
        self.identity = f"export:{self.header.get('origin')}"
        self._checkpoints: list[str] = []
        self._pending: dict | None = None
        while (record := self._next_record()) is not None and "checkpoint" in record:
            self._checkpoints.append(record["checkpoint"])
        self._pending = record
        self._hashes: dict[Coord, bytes] = {}

    def _next_record(self) -> dict | None:
        line = self._file.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError as error:
            raise FetchError(f"{self.path}: a line is not JSON ({error})") from error

    def served_key(self) -> str | None:
        return self.header.get("vkey")

    def checkpoints(self) -> list[str]:
        return self._checkpoints

    def entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        record = self._pending
        while record is not None:
            index = record.get("index")
            if isinstance(index, int) and isinstance(record.get("entry"), str):
                for level, value in [(0, record.get("leaf_hash")), *zip(_completed_levels(index), record.get("hashes", []))]:
                    if isinstance(value, str):
                        self._hashes[(level, index >> level)] = bytes.fromhex(value)
                yield index, record["entry"].encode("utf-8")
            record = self._next_record()
        self._file.close()

    def holds_level(self, level: int) -> bool:
        return True

    def stored_hashes(self, coords: list[Coord]) -> dict[Coord, bytes]:
        return {coord: self._hashes.pop(coord) for coord in coords if coord in self._hashes}


def _stored_subtrees(coords: list[Coord]) -> dict[Coord, bytes]:
    """The ledger_subtree hashes that exist at these (level >= 1, index) coordinates."""
    from . import storage
    from .models import Subtree

    keys = sorted(storage.subtree_key(level, index) for level, index in coords)
    found = {}
    for start in range(0, len(keys), 500):
        for key, value in Subtree.objects.filter(key__in=keys[start : start + 500]).values_list("key", "hash"):
            found[(key >> storage.LEVEL_SHIFT, key & storage.INDEX_MASK)] = bytes(value)
    return found


class DatabaseSource(Source):
    """The server's own database: the Checkpoint history, entries, stored subtree hashes, and, beyond
    what an outside auditor can see, every core.Event and the commitments' openings."""

    identity = "db"
    description = "the database"

    def __init__(self):
        from . import queries, services

        head = queries.head()
        self.head_size = head.size if head else 0
        # Entries before this index carry the legacy per-person actor pseudonym; from it on, per subject.
        per_subject_from = head.actors_per_subject_from if head else None
        self.actors_per_subject_from = self.head_size if per_subject_from is None else per_subject_from
        self.description = f"the database ({services.origin()})"
        self._leaves: dict[int, bytes] = {}
        self._event_ids: dict[int, int] = {}

    def served_key(self) -> str | None:
        from . import services

        return services.verifier_key() if services.key_path().exists() else None

    def checkpoints(self) -> Iterator[str]:
        from .models import Checkpoint

        # Only up to the head read at the start: batches committing meanwhile are for the next run.
        yield from Checkpoint.objects.filter(size__lte=self.head_size).order_by("id").values_list(
            "note", flat=True).iterator(chunk_size=2000)

    def entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        from .models import Entry

        for start in range(0, size, CHUNK):
            rows = Entry.objects.filter(index__gte=start, index__lt=min(start + CHUNK, size)).order_by(
                "index").values_list("index", "event_id", "leaf_hash", "text")
            for index, event_id, leaf, text in rows:
                self._leaves[index] = bytes(leaf)
                self._event_ids[index] = event_id
                yield index, text.encode("utf-8")

    def holds_level(self, level: int) -> bool:
        return True

    def stored_hashes(self, coords: list[Coord]) -> dict[Coord, bytes]:
        found = {coord: self._leaves.pop(coord[1]) for coord in coords if coord[0] == 0 and coord[1] in self._leaves}
        found.update(_stored_subtrees([coord for coord in coords if coord[0]]))
        return found

    def check_entries(self, rows: list[tuple[int, bytes, dict | None]], report: Report) -> None:
        """Each entry is the entry its event must have produced (kind, subject, actor, time, public
        fields; commitments recomputed from the stored openings)."""
        from gongzhi.core.models import Event

        from . import services
        from .models import Opening

        linked = {index: self._event_ids.pop(index, None) for index, _, _ in rows}
        events = Event.objects.in_bulk([event_id for event_id in linked.values() if event_id is not None])
        salts = dict(Opening.objects.filter(entry_id__in=list(linked)).values_list("entry_id", "salts"))
        for index, data, parsed in rows:
            event = events.get(linked[index])
            report.count("events compared")
            if event is None:
                report.fail(f"entry {index}: its event {linked[index]} does not exist", index)
                continue
            if event.kind == "ledger.entry_recovered" and event.subject_type == "ledger.entry":
                # Brought back from an export after a restore (ledger/recovery.py): the event's data was lost;
                # the stand-in names what the entry names, and the entry itself is checked by the signed tree.
                named = {"event": event.data.get("event"), "kind": event.data.get("kind"),
                         "subject": event.data.get("subject")}
                if event.subject_id != str(index) or parsed is None or any(
                        parsed.get(name) != value for name, value in named.items()):
                    report.fail(f"entry {index}: does not match its stand-in event {event.pk} (recovered entry)", index)
                report.count("recovered entries")
                continue
            if parsed is not None and parsed.get("event") != event.pk:
                report.fail(f"entry {index}: names event {parsed.get('event')} but is linked to event {event.pk}",
                            index)
                continue
            if parsed is not None and parsed.get("commitments") and index not in salts:
                report.fail(f"entry {index}: the opening of its commitments is missing", index)
                continue
            expected = services.expected_entry(event, salts.get(index, {}),
                                               actor_per_subject=index >= self.actors_per_subject_from)
            if expected != data:
                differ = sorted(name for name, value in json.loads(expected).items()
                                if parsed is None or parsed.get(name) != value)
                report.fail(f"entry {index}: does not match event {event.pk} ({', '.join(differ) or 'bytes'} differ)",
                            index)

    def finish(self, size: int, root: bytes | None, report: Report) -> None:
        from django.db.models import Exists, OuterRef

        from gongzhi.core.models import Event

        from . import queries
        from .models import Entry, Pending

        # The last entry before the head: a batch committing meanwhile moves both, never the entry alone.
        last = Entry.objects.order_by("-index").values_list("index", flat=True).first()
        head = queries.head()
        head_size = head.size if head else 0
        if last is not None and last >= head_size:
            report.fail(f"entry {last} is beyond the log head (size {head_size})", head_size)
        if head is not None and root is not None and head.size == size:
            if bytes(head.root) != root:
                report.fail(f"the log head's root for size {size} is not the recomputed root")
            if merkle.Frontier.from_json(head.frontier).root() != root:
                report.fail("the log head's frontier does not give the recomputed root")
        pending = Pending.objects.filter(event_id=OuterRef("pk"))
        unlogged = Event.objects.filter(ledger_entry__isnull=True).exclude(Exists(pending))
        first = unlogged.order_by("id").values_list("id", flat=True).first()
        if first is not None:
            report.fail(f"{unlogged.count()} events have no ledger entry and are not queued, the first is event {first}")
        both = Pending.objects.filter(event__ledger_entry__isnull=False).values_list("event_id", flat=True).first()
        if both is not None:
            report.fail(f"event {both} has a ledger entry and is still queued")
        if 0 < self.actors_per_subject_from < size:
            report.notes.append(f"entries 0 to {self.actors_per_subject_from - 1} name their actors by the legacy "
                                f"per-person pseudonym; later entries by one pseudonym per person per subject")
        waiting = Pending.objects.count()
        if waiting:
            report.notes.append(f"{waiting} events are queued for the sequencer (not yet in the log)")
        report.count("events", Event.objects.count())


# --- export ---------------------------------------------------------------------------------------------


def write_export(out) -> int:
    """Write everything an offline `verify --export` needs to the text stream `out`; return the tree size.

    JSON lines: a header (format, origin, verifier key, tree size); every signed checkpoint, oldest
    first; then one line per entry in index order: {"index", "entry" (the canonical JSON text),
    "leaf_hash", "hashes"}, where "hashes" are the stored complete-subtree hashes that this leaf
    completes, level 1 up (the sequencer's writes, so the verifier can check them too). Reads only up to
    the head at the start, so it is consistent while the sequencer keeps appending.
    """
    from django.utils import timezone

    from . import queries, services, storage
    from .models import Checkpoint

    head = queries.latest_checkpoint()
    size = head.size
    header = {"format": EXPORT_FORMAT, "origin": services.origin(), "vkey": services.verifier_key(),
              "tree_size": size, "exported_at": timezone.now().isoformat()}
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    history = Checkpoint.objects.filter(size__lte=size).order_by("id").values_list("size", "note")
    for checkpoint_size, signed in history.iterator(chunk_size=2000):
        out.write(json.dumps({"size": checkpoint_size, "checkpoint": signed}, ensure_ascii=False) + "\n")
    for start in range(0, size, CHUNK):
        rows = storage.entry_texts(start, min(start + CHUNK, size))
        stored = _stored_subtrees([(level, index >> level) for index, _, _ in rows for level in _completed_levels(index)])
        for index, text, leaf in rows:
            hashes = [stored.get((level, index >> level)) for level in _completed_levels(index)]
            out.write(json.dumps({"index": index, "entry": text, "leaf_hash": leaf.hex(),
                                  "hashes": [h.hex() if h else None for h in hashes]}, ensure_ascii=False) + "\n")
    return size


# --- the algorithm --------------------------------------------------------------------------------------


def find_swap(values) -> tuple[int, int | None] | None:
    """Where a sequence that should strictly increase does not: None if it does, else (p, q) when
    swapping positions p and q makes it increase, or (p, None) with p the first descent."""
    values = list(values)
    descent = next((p for p in range(len(values) - 1) if values[p] >= values[p + 1]), None)
    if descent is None:
        return None
    q = min(range(descent + 1, len(values)), key=values.__getitem__)
    swapped = list(values)
    swapped[descent], swapped[q] = swapped[q], swapped[descent]
    if all(a < b for a, b in zip(swapped, swapped[1:])):
        return descent, q
    return descent, None


def _parse_entry(data: bytes) -> dict | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class _Run:
    """One verification: the state carried from chunk to chunk."""

    def __init__(self, source: Source, report: Report, size: int, wanted: set[int]):
        self.source, self.report, self.size, self.wanted = source, report, size, wanted
        self.frontier = merkle.Frontier()
        self.expected = 0  # the next index
        self.broken_at: int | None = None  # the tree cannot be recomputed past a missing entry
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in wanted else {}
        self.event_ids = array("q")
        self.stored_mismatches: list[Coord] = []

    def read(self) -> None:
        chunk: list[tuple[int, bytes]] = []
        for row in self.source.entries(self.size):
            chunk.append(row)
            if len(chunk) == CHUNK:
                self._chunk(chunk)
                chunk = []
        self._chunk(chunk)
        if self.expected < self.size and self.broken_at is None:
            self._missing(self.expected, self.size)

    def _missing(self, start: int, end: int) -> None:
        what = f"entry {start} missing" if end == start + 1 else f"entries {start}–{end - 1} missing"
        self.report.fail(what, start)
        if self.broken_at is None:
            self.broken_at = start

    def _chunk(self, chunk: list[tuple[int, bytes]]) -> None:
        report = self.report
        swap = find_swap([index for index, _ in chunk])
        if swap is not None:
            p, q = swap
            first = chunk[p][0]
            if q is not None:
                pair = sorted((chunk[p][0], chunk[q][0]))
                report.fail(f"entries {pair[0]} and {pair[1]} out of order", pair[0])
            elif first == chunk[p + 1][0]:
                report.fail(f"entry {first} appears twice", first)
            else:
                report.fail(f"entry {first} out of order (before entry {chunk[p + 1][0]})", min(first, chunk[p + 1][0]))
            chunk = sorted({index: data for index, data in chunk}.items())
        checks: list[tuple[Coord, bytes]] = []
        rows: list[tuple[int, bytes, dict | None]] = []
        for index, data in chunk:
            if index >= self.size or index < 0:
                report.fail(f"entry {index} is beyond the signed tree (size {self.size})", index)
                continue
            if index < self.expected:
                report.fail(f"entry {index} out of order", index)
                continue
            if index > self.expected:
                self._missing(self.expected, index)
            self.expected = index + 1
            leaf = merkle.leaf_hash(data)
            parsed = _parse_entry(data)
            if parsed is None:
                report.fail(f"entry {index}: not a JSON object", index)
            elif canonical_json(parsed) != data:
                report.fail(f"entry {index}: not canonical JSON", index)
            rows.append((index, data, parsed))
            report.count("entries")
            if self.broken_at is not None:
                if self.source.holds_level(0):
                    checks.append(((0, index), leaf))
                continue
            event = (parsed or {}).get("event")
            self.event_ids.append(event if isinstance(event, int) and not isinstance(event, bool) else -1)
            for level, node, value in self.frontier.append(leaf):
                if self.source.holds_level(level):
                    checks.append(((level, node), value))
            if self.frontier.size in self.wanted:
                self.roots[self.frontier.size] = self.frontier.root()
        stored = self.source.stored_hashes([coord for coord, _ in checks])
        missing_levels = set()  # one report per level and chunk: a missing tile lacks 256 at once
        for (level, node), value in checks:
            found = stored.get((level, node))
            report.count("stored hashes")
            if found is None:
                if level not in missing_levels:
                    missing_levels.add(level)
                    what = f"entry {node}: stored leaf hash" if level == 0 else f"stored hash level {level} index {node}"
                    report.fail(f"{what} missing", node << level)
            elif found != value:
                if level == 0:
                    report.fail(f"entry {node}: leaf hash mismatch", node)
                else:
                    self.stored_mismatches.append((level, node))
        self.source.check_entries(rows, report)


def _explain(run: _Run, batches: list[int], start: int, end: int) -> Problem:
    """The first bad entry in [start, end), where the recomputed tree stops matching the signed one."""
    bounds = sorted({start, end, *(size for size in batches if start < size < end)})
    for low, high in zip(bounds, bounds[1:]):
        # The sequencer gives each batch's events consecutive indexes in event id order.
        swap = find_swap(run.event_ids[low:high])
        if swap is not None:
            p, q = swap
            if q is not None:
                return Problem(f"entries {low + p} and {low + q} out of order", low + p)
            return Problem(f"entry {low + p} out of order (event {run.event_ids[low + p]} before "
                           f"{run.event_ids[low + p + 1]})", low + p)
    inside = sorted(((node << level, level, node) for level, node in run.stored_mismatches
                     if start <= node << level < end), key=lambda t: (t[0], t[1]))
    if inside:
        first, level, node = inside[0]
        last = min((node + 1) << level, end) - 1
        return Problem(f"entries {first}–{last} do not match the signed checkpoint "
                       f"(their stored hash level {level} index {node} differs from the recomputed one)", first)
    return Problem(f"entries {start}–{end - 1} do not match the signed checkpoint of size {end}", start)


def verify(source: Source, *, key: str | None = None, previous: dict | None = None,
           witnesses: Iterable[str] = ()) -> Report:
    """Check the whole log behind `source`; see the module docstring. FetchError if it cannot be read.

    `key` pins the log's verifier key (else the source's own key is trusted, and the report says so);
    `previous` is the state file's record of the last verified checkpoint ({"size", "root" hex}).
    `witnesses` are cosignature/v1 vkeys that must each have cosigned the latest checkpoint.
    """
    report = Report()
    served = source.served_key()
    if key:
        if served and served != key:
            report.fail(f"{source.description} serves verifier key {served}, not the pinned {key}")
        trusted = key
    elif served:
        trusted = served
        report.notes.append(f"trusting the verifier key {served} on first use: compare it with one published "
                            "elsewhere, and pin it with --key")
    else:
        report.fail("no verifier key: pass --key")
        return report
    try:
        verifier = note.Verifier.from_vkey(trusted)
    except note.NoteError as error:
        report.fail(f"the verifier key is malformed: {error}")
        return report
    report.vkey, report.origin = trusted, verifier.name

    signed: dict[int, bytes] = {}
    latest: tuple[note.Checkpoint, str] | None = None
    for position, text in enumerate(source.checkpoints(), start=1):
        try:
            body, _ = note.open_note(text, [verifier])
            checkpoint = note.parse_checkpoint(body)
        except note.NoteError as error:
            report.fail(f"checkpoint {position}: {error}")
            continue
        report.count("checkpoint signatures")
        if checkpoint.origin != verifier.name:
            report.fail(f"checkpoint {position} is for {checkpoint.origin}, not {verifier.name}")
            continue
        if latest is not None and checkpoint.size < latest[0].size:
            report.fail(f"checkpoint {position} goes back from size {latest[0].size} to {checkpoint.size}")
        if signed.get(checkpoint.size, checkpoint.root) != checkpoint.root:
            report.fail(f"two signed checkpoints of size {checkpoint.size} have different roots (a fork)")
        signed.setdefault(checkpoint.size, checkpoint.root)
        latest = (checkpoint, text)
    if latest is None:
        report.fail(f"{source.description} has no checkpoint signed by {trusted}")
        return report
    current, report.checkpoint = latest
    size = report.tree_size = current.size
    report.root = current.root

    old_size = old_root = None
    if previous:
        old_size, old_root = previous.get("size"), bytes.fromhex(previous.get("root", ""))
        if old_size > size:
            report.fail(f"the log shrank: checkpoint of size {size} after size {old_size} was verified "
                        f"on {previous.get('verified_at', 'an earlier run')}")
            old_size = None

    run = _Run(source, report, size, set(signed) | ({old_size} if old_size is not None else set()))
    run.read()

    if run.broken_at is None:
        bad = sorted(s for s, root in signed.items() if run.roots.get(s) != root)
        if bad:
            if not any(p.index is not None and p.index < bad[0] for p in report.problems):
                good = max((s for s in signed if s < bad[0] and s not in bad), default=0)
                explained = _explain(run, sorted(signed), good, bad[0])
                report.fail(explained.message, explained.index)
            report.fail(f"{len(bad)} signed checkpoints do not match the entries, the first of size {bad[0]}")
        else:
            for level, node in run.stored_mismatches:
                report.fail(f"stored hash level {level} index {node} wrong", node << level)
        if old_size is not None and old_size > 0:
            if run.roots.get(old_size) != old_root:
                report.fail(f"the checkpoint of size {size} is not consistent with the checkpoint of size {old_size} "
                            f"verified on {previous.get('verified_at', 'an earlier run')}: the log's history was "
                            "rewritten")
            proof = source.consistency_proof(old_size, size)
            if proof is not None and not merkle.verify_consistency(old_size, size, old_root, current.root, proof):
                report.fail(f"the consistency proof from size {old_size} to {size} that "
                            f"{source.description} serves does not verify")
            report.count("consistency checks")

    for vkey in witnesses:
        try:
            note.open_note(report.checkpoint, [note.Verifier.from_vkey(vkey)])
            report.count("witness cosignatures")
        except note.NoteError as error:
            report.fail(f"the latest checkpoint has no valid cosignature by witness {vkey}: {error}")

    source.finish(size, current.root if run.broken_at is None else None, report)
    return report


# --- keys and the state file ----------------------------------------------------------------------------


def read_vkey(value: str) -> str:
    """A verifier key given on the command line: the key itself, or a file holding it."""
    path = Path(value).expanduser()
    if "+" not in value or path.is_file():
        return path.read_text(encoding="utf-8").strip()
    return value.strip()


def state_path(value: str | None) -> Path:
    return Path(value or os.environ.get("GONGZHI_LEDGER_STATE") or DEFAULT_STATE).expanduser()


def load_state(path: Path) -> dict:
    """{"logs": {origin: {"source", "vkey", "size", "root", "checkpoint", "verified_at"}}}; empty if absent."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"logs": {}}
    if not isinstance(state, dict) or not isinstance(state.get("logs"), dict):
        raise ValueError(f"{path} is not a ledger state file")
    return state


def _key_name(vkey: str | None) -> str | None:
    try:
        return note.Verifier.from_vkey(vkey).name if vkey else None
    except note.NoteError:
        return None


def state_for(state: dict, source: Source, key: str | None = None) -> dict | None:
    """The remembered record of this log: by the pinned key's name; else by where it was read from,
    or by the name of the key the source serves (the same log read another way, e.g. a new export)."""
    logs = state.get("logs", {})
    if key:
        return logs.get(_key_name(key))
    by_source = next((record for record in logs.values() if record.get("source") == source.identity), None)
    return by_source or logs.get(_key_name(source.served_key()))


def save_state(path: Path, state: dict, source: Source, report: Report) -> None:
    """Remember the checkpoint just verified (only call it when the report is ok)."""
    state.setdefault("logs", {})[report.origin] = {
        "source": source.identity, "vkey": report.vkey, "size": report.tree_size, "root": report.root.hex(),
        "checkpoint": report.checkpoint, "verified_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write_state(path, state)


def _write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


# --- witnessing -----------------------------------------------------------------------------------------

DEFAULT_WITNESS_STATE = Path("~/.gongzhi-witness-state.json")


class WitnessRefused(Exception):
    """The witness will not cosign: the checkpoint does not verify or does not extend the last one it cosigned."""


@dataclass(frozen=True)
class Cosigned:
    origin: str
    size: int
    root: bytes
    line: str


def cosign(source: UrlSource, signer: note.CosignatureSigner, *, log_key: str, previous: dict | None) -> Cosigned:
    """Witness the log's latest checkpoint (C2SP tlog-witness, simplified to one HTTP round):
    verify its signature by `log_key`, check it extends `previous` (the last checkpoint this witness
    cosigned: same size needs the same root, a larger size a valid consistency proof, a smaller one
    is refused), then cosign it and submit the line to POST /api/v1/ledger/cosignatures.
    WitnessRefused if a check fails (nothing is signed); FetchError if the server cannot be reached."""
    verifier = note.Verifier.from_vkey(log_key)
    signed = source.checkpoints()[-1]
    try:
        body, _ = note.open_note(signed, [verifier])
        checkpoint = note.parse_checkpoint(body)
    except note.NoteError as error:
        raise WitnessRefused(f"the checkpoint does not verify with {log_key}: {error}") from error
    if checkpoint.origin != verifier.name:
        raise WitnessRefused(f"the checkpoint is for {checkpoint.origin}, not {verifier.name}")
    if previous:
        old_size, old_root = previous["size"], bytes.fromhex(previous["root"])
        if checkpoint.size < old_size:
            raise WitnessRefused(f"the log went back from size {old_size} to {checkpoint.size}")
        if checkpoint.size == old_size and checkpoint.root != old_root:
            raise WitnessRefused(f"a second, different tree of size {old_size}: the log forked")
        if 0 < old_size < checkpoint.size:
            proof = source.consistency_proof(old_size, checkpoint.size)
            if not merkle.verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root, proof or []):
                raise WitnessRefused(f"the tree of size {checkpoint.size} is not consistent with the tree of size "
                                     f"{old_size} cosigned before: the log's history was rewritten")
    line = signer.sign(body)
    source.post_json("/api/v1/ledger/cosignatures", {"size": checkpoint.size, "cosignature": line})
    return Cosigned(checkpoint.origin, checkpoint.size, checkpoint.root, line)


def remember_cosigned(path: Path, state: dict, cosigned: Cosigned, log_key: str) -> None:
    state.setdefault("logs", {})[cosigned.origin] = {
        "vkey": log_key, "size": cosigned.size, "root": cosigned.root.hex(),
        "cosigned_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write_state(path, state)
