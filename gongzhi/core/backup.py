"""Backups of a whole installation in one encrypted file, and restoring one (`gongzhi backup`, `gongzhi restore`).

A backup holds the database (SQLite's online backup API, or PostgreSQL's `pg_dump` custom format taken in one
exported snapshot), the uploaded files under MEDIA_ROOT, and the var/ keys the data cannot be read without
(SECRET_KEY seals ballots; the ledger's keys: see the apps' parts). Apps above core add their own files, header
fields and after-restore checks through `register(Part())` (the ledger does: gongzhi/ledger/backup.py).

The file, streamed so a dump of many GB never sits in memory (docs/decisions/0011-backups.md):

    MAGIC  u32 header length  header (JSON, readable without the key, authenticated with every chunk)
    then chunks: u32 (top bit: the last chunk; the rest: ciphertext length)  AES-256-GCM ciphertext of <= 1 MiB

The chunk key is HKDF-SHA256(GONGZHI_BACKUP_KEY, the header's salt); chunk i's nonce is i (96 bits), its
associated data SHA-256(MAGIC ‖ header) ‖ i ‖ last-flag. So a changed byte anywhere, chunks swapped, dropped
or cut off after any chunk, or a header edited, all fail authentication ("STREAM", Hoang et al. 2015).

Inside, the plaintext is a sequence of members: u32 length + JSON {"name": ...}, then blocks (u32 length +
bytes) ended by a zero length; the last member is {"end": true}.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"GONGZHI-BACKUP\n"
FORMAT = "gongzhi-backup/1"
CHUNK = 1 << 20
LAST = 0x8000_0000
KEY_ENV = "GONGZHI_BACKUP_KEY"
SECRET_KEY_FILE = "keys/secret_key"  # the secret key's name inside a backup


class BackupError(Exception):
    """The backup cannot be made or restored; nothing was changed. `exit_code` for the command."""

    exit_code = 1


class WrongKey(BackupError):
    pass


class Damaged(BackupError):
    """Tampered with, cut short or not a backup: authentication failed."""


class WrongKind(BackupError):
    pass


# --- keys ----------------------------------------------------------------------------------------------------


def generate_key() -> str:
    """A new backup key: 32 random bytes, base64url (what GONGZHI_BACKUP_KEY holds)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str | None) -> bytes:
    if not text:
        raise BackupError(f"{KEY_ENV} is not set: make a key with `gongzhi backup --keygen` and keep it apart "
                          "from the backups (docs/deployment.md, Backup and restore)")
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as error:
        raise BackupError(f"{KEY_ENV} is not base64: {error}") from error
    if len(key) != 32:
        raise BackupError(f"{KEY_ENV} must hold 32 bytes (base64url, as `gongzhi backup --keygen` prints)")
    return key


def key_from_environment() -> bytes:
    return parse_key(os.environ.get(KEY_ENV))


def key_id(key: bytes) -> str:
    """Names a key without revealing it: which key a backup was made with."""
    return hmac.new(key, b"gongzhi-backup key id", hashlib.sha256).hexdigest()[:16]


def _chunk_key(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=FORMAT.encode()).derive(key)
    return AESGCM(derived)


def _aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + struct.pack(">QB", index, 1 if last else 0)


# --- the encrypted stream ------------------------------------------------------------------------------------


class EncryptedWriter:
    """Writes MAGIC, the header, then the sealed chunks of whatever is written; close() seals the last one."""

    def __init__(self, out, key: bytes, header: dict):
        salt = os.urandom(16)
        header = {**header, "format": FORMAT, "salt": salt.hex(), "key_id": key_id(key), "chunk": CHUNK}
        raw = json.dumps(header, ensure_ascii=False, sort_keys=True).encode()
        out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
        self.out, self.header = out, header
        self._aead = _chunk_key(key, salt)
        self._digest = hashlib.sha256(MAGIC + raw).digest()
        self._buffer = bytearray()
        self._index = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # more follows: not the last chunk
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = self._index.to_bytes(12, "big")
        sealed = self._aead.encrypt(nonce, plain, _aad(self._digest, self._index, last))
        self.out.write(struct.pack(">I", len(sealed) | (LAST if last else 0)) + sealed)
        self._index += 1


def read_header(stream) -> tuple[dict, bytes]:
    """The header (readable without the key) and its raw bytes; Damaged if this is not a backup."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise Damaged("not a gongzhi backup (its first bytes are not GONGZHI-BACKUP)")
    size = stream.read(4)
    if len(size) != 4:
        raise Damaged("the backup is cut short inside its header")
    raw = stream.read(struct.unpack(">I", size)[0])
    try:
        header = json.loads(raw)
    except ValueError as error:
        raise Damaged("the backup's header is damaged") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise Damaged(f"not a {FORMAT} file (format {header.get('format') if isinstance(header, dict) else '?'})")
    return header, raw


def decrypted_chunks(stream, key: bytes, header: dict, raw: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, each authenticated before it is given; raises at the first bad one."""
    if header.get("key_id") != key_id(key):
        raise WrongKey(f"wrong key: this backup was made with key {header.get('key_id')}, {KEY_ENV} is key "
                       f"{key_id(key)}")
    aead = _chunk_key(key, bytes.fromhex(header["salt"]))
    digest = hashlib.sha256(MAGIC + raw).digest()
    index = 0
    while True:
        prefix = stream.read(4)
        if len(prefix) < 4:
            raise Damaged(f"the backup is truncated: it ends after {index} chunks without its last one")
        (word,) = struct.unpack(">I", prefix)
        last, length = bool(word & LAST), word & ~LAST
        if length > header.get("chunk", CHUNK) + 16:
            raise Damaged(f"the backup is damaged at chunk {index} (impossible length)")
        sealed = stream.read(length)
        if len(sealed) < length:
            raise Damaged(f"the backup is truncated inside chunk {index}")
        try:
            plain = aead.decrypt(index.to_bytes(12, "big"), sealed, _aad(digest, index, last))
        except InvalidTag as error:
            raise Damaged(f"the backup was tampered with or damaged: chunk {index} does not authenticate") from error
        yield plain
        index += 1
        if last:
            if stream.read(1):
                raise Damaged("the backup has bytes after its last chunk")
            return


# --- members inside the plaintext ----------------------------------------------------------------------------


class MemberWriter:
    def __init__(self, sink: EncryptedWriter):
        self.sink = sink

    def _record(self, meta: dict) -> None:
        raw = json.dumps(meta, ensure_ascii=False).encode()
        self.sink.write(struct.pack(">I", len(raw)) + raw)

    def add_stream(self, name: str, read: Callable[[int], bytes]) -> int:
        self._record({"name": name})
        total = 0
        while block := read(CHUNK):
            self.sink.write(struct.pack(">I", len(block)) + block)
            total += len(block)
        self.sink.write(struct.pack(">I", 0))
        return total

    def add_file(self, name: str, path: Path) -> int:
        with path.open("rb") as handle:
            return self.add_stream(name, handle.read)

    def end(self) -> None:
        self._record({"end": True})


class _Plain:
    """A read(n) over the decrypted chunks."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.buffer = chunks, bytearray()

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def exact(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) != n:
            raise Damaged("the backup's contents end too early")
        return data


def _safe_name(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise Damaged(f"the backup names an unsafe path: {name!r}")
    return path


def unpack(plain: _Plain, into: Path) -> list[str]:
    """Writes every member under `into`; the names written."""
    names = []
    while True:
        meta = json.loads(plain.exact(struct.unpack(">I", plain.exact(4))[0]))
        if meta.get("end"):
            if plain.read(1):
                raise Damaged("the backup has contents after its end")
            return names
        target = into / _safe_name(meta["name"])
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            while size := struct.unpack(">I", plain.exact(4))[0]:
                out.write(plain.exact(size))
        names.append(meta["name"])


# --- what apps add -------------------------------------------------------------------------------------------


class Part:
    """One app's share of backups; register(Part()) from AppConfig.ready()."""

    name = "part"

    def add_arguments(self, parser) -> None:
        """Options of `gongzhi restore` this part reads."""

    def header(self, query: Callable[[str], list[tuple]]) -> dict:
        """Fields for the backup's header, read from the snapshot being backed up (`query(sql)` gives rows)."""
        return {}

    def files(self) -> dict[str, Path]:
        """Secret files under var/ to keep in the backup: member name -> path (restored only where absent)."""
        return {}

    def before_restore(self, header: dict, options: dict) -> None:
        """Raise BackupError to refuse before anything is touched."""

    def after_restore(self, header: dict, options: dict, write: Callable[[str], None]) -> bool:
        """Checks once the database is back; False makes `gongzhi restore` exit 1."""
        return True


_parts: list[Part] = []


def register(part: Part) -> None:
    if all(existing.name != part.name for existing in _parts):
        _parts.append(part)


def parts() -> list[Part]:
    return list(_parts)


# --- this installation's files -------------------------------------------------------------------------------


def _settings():
    from django.conf import settings

    return settings


def _secret_files() -> dict[str, Path]:
    settings = _settings()
    files = {}
    if not os.environ.get("GONGZHI_SECRET_KEY"):
        files[SECRET_KEY_FILE] = Path(settings.VAR_DIR) / "secret_key"
    for part in _parts:
        files.update(part.files())
    return {name: path for name, path in files.items() if path.is_file()}


def database_kind() -> str:
    from django.db import connection

    return {"sqlite": "sqlite", "postgresql": "postgresql"}.get(connection.vendor, connection.vendor)


def _pg_bin(program: str) -> str:
    """Debian's client of the server's major version (pg_dump refuses a newer server than itself)."""
    from django.db import connection

    connection.ensure_connection()
    major = connection.pg_version // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin/{program}")
    if debian.is_file():
        return str(debian)
    found = shutil.which(program)
    if not found:
        raise BackupError(f"{program} is missing: install Debian's postgresql-client-{major}")
    return found


def _pg_env() -> dict:
    """libpq's variables for the default database (the password never on a command line)."""
    db = _settings().DATABASES["default"]
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                          ("PGDATABASE", "NAME")):
        if db.get(key):
            env[variable] = str(db[key])
    if (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = db["OPTIONS"]["sslmode"]
    return env


# --- backup --------------------------------------------------------------------------------------------------


def backup(target: Path, key: bytes) -> dict:
    """Write a backup of this installation to `target` (made as target.part, renamed when complete); its header."""
    target = Path(target)
    partial = target.with_name(target.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            header = _backup_sqlite(out, key) if database_kind() == "sqlite" else _backup_postgresql(out, key)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return header


def _header(kind: str, query) -> dict:
    header = {"database": kind, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    for part in _parts:
        header.update(part.header(query))
    return header


def _write_files(members: MemberWriter) -> int:
    count = 0
    for name, path in _secret_files().items():
        members.add_file(name, path)
        count += 1
    media = Path(_settings().MEDIA_ROOT)
    if media.is_dir():
        for path in sorted(media.rglob("*")):
            if path.is_file() and not path.is_symlink():
                members.add_file("media/" + path.relative_to(media).as_posix(), path)
                count += 1
    return count


def _backup_sqlite(out, key: bytes) -> dict:
    source_path = Path(_settings().DATABASES["default"]["NAME"])
    with tempfile.TemporaryDirectory(prefix="gongzhi-backup-") as scratch:
        copy_path = Path(scratch) / "database.sqlite3"
        source = sqlite3.connect(source_path)
        copy = sqlite3.connect(copy_path)
        try:
            source.backup(copy)  # one step: a consistent snapshot, while writers go on (WAL)
            header = _header("sqlite", lambda sql: copy.execute(sql).fetchall())
        finally:
            source.close()
            copy.close()
        sink = EncryptedWriter(out, key, header)
        header = sink.header
        members = MemberWriter(sink)
        members.add_file("database.sqlite3", copy_path)
        header["files"] = _write_files(members)
        members.end()
        sink.close()
    return header


def _backup_postgresql(out, key: bytes) -> dict:
    from django.db import connection, transaction

    pg_dump = _pg_bin("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        # One snapshot for the header and the dump: the ledger head in the header is the one in the dump.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]

        def query(sql):
            cursor.execute(sql)
            return cursor.fetchall()

        header = _header("postgresql", query)
        sink = EncryptedWriter(out, key, header)
        header = sink.header
        members = MemberWriter(sink)
        with subprocess.Popen([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"],
                              env=_pg_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as dump:
            members.add_stream("database.pgdump", dump.stdout.read)
            errors = dump.stderr.read().decode(errors="replace")
        if dump.returncode != 0:
            raise BackupError(f"pg_dump failed (exit {dump.returncode}): {errors.strip()[-2000:]}")
    header["files"] = _write_files(members)
    members.end()
    sink.close()
    return header


# --- restore -------------------------------------------------------------------------------------------------


class Staged:
    """A backup decrypted and checked in full into a private folder; nothing of the installation touched yet."""

    def __init__(self, folder: Path, header: dict, names: list[str]):
        self.folder, self.header, self.names = folder, header, names

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def open_backup(path: Path, key: bytes, options: dict) -> Staged:
    """Check kind and key, let each part refuse, then decrypt everything into a staging folder: any failure
    raises before the installation is touched."""
    kind = database_kind()
    try:
        stream = Path(path).open("rb")
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error}") from error
    with stream:
        header, raw = read_header(stream)
        if header.get("database") != kind:
            raise WrongKind(f"this is a backup of a {header.get('database')} database; this installation runs on "
                            f"{kind}: restore it into a {header.get('database')} installation")
        chunks = decrypted_chunks(stream, key, header, raw)
        first = next(chunks)  # wrong key or a damaged first chunk: refused before any part is asked
        for part in _parts:
            part.before_restore(header, options)
        var = Path(_settings().VAR_DIR)
        folder = Path(tempfile.mkdtemp(prefix=".restore-", dir=var))
        try:
            names = unpack(_Plain(_chain(first, chunks)), folder)
            staged = Staged(folder, header, names)
            _check_keys(staged)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return staged


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _replaceable(name: str) -> bool:
    """A key this restore's own process created a moment ago (a new machine: any `gongzhi` command creates the
    secret key as it starts): nothing depends on it, so the backup's key takes its place."""
    return name == SECRET_KEY_FILE and bool(getattr(_settings(), "GONGZHI_SECRET_KEY_NEW", False))


def _check_keys(staged: Staged) -> None:
    for name, path in _secret_files_all().items():
        kept = staged.folder / name
        if _replaceable(name):
            continue
        if kept.is_file() and path.is_file() and kept.read_bytes().strip() != path.read_bytes().strip():
            raise BackupError(f"{path} differs from the {name} in the backup: the restored data needs the backup's "
                              f"key. Move {path} aside (keep it) if this machine's key is not the one in use, "
                              "then restore again")


def _secret_files_all() -> dict[str, Path]:
    """Every secret file this installation could keep (present or not)."""
    settings = _settings()
    files = {} if os.environ.get("GONGZHI_SECRET_KEY") else {SECRET_KEY_FILE: Path(settings.VAR_DIR) / "secret_key"}
    for part in _parts:
        files.update(part.files())
    return files


def describe_current() -> str:
    """What the restore would replace, in words for the confirmation question."""
    db = _settings().DATABASES["default"]
    return f"the {database_kind()} database {db['NAME']}"


def apply(staged: Staged) -> list[str]:
    """Replace the database, the media folder and absent keys with the staged backup; what was done."""
    from django.db import connections

    done = []
    connections.close_all()
    if database_kind() == "sqlite":
        _restore_sqlite(staged.folder / "database.sqlite3")
    else:
        _restore_postgresql(staged.folder / "database.pgdump")
    connections.close_all()
    done.append(f"database restored from the backup of {staged.header.get('created_at')}")
    media = Path(_settings().MEDIA_ROOT)
    kept_media = staged.folder / "media"
    if media.exists():
        aside = media.with_name(f"{media.name}.before-restore-{dt.datetime.now():%Y%m%d-%H%M%S}")
        media.rename(aside)
        done.append(f"the media folder as it was is kept at {aside} (delete it when you are sure)")
    if kept_media.is_dir():
        shutil.move(str(kept_media), str(media))
    else:
        media.mkdir(parents=True, exist_ok=True)
    done.append(f"{sum(1 for n in staged.names if n.startswith('media/'))} uploaded files restored to {media}")
    for name, path in _secret_files_all().items():
        kept = staged.folder / name
        if kept.is_file() and _replaceable(name) and path.exists():
            fresh = path.with_name(f"{path.name}.created-before-restore")
            path.rename(fresh)
            done.append(f"the key this command had just created is kept at {fresh} (unused; delete it)")
        if kept.is_file() and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(kept.read_bytes())
            done.append(f"{path} restored from the backup")
    return done


def _restore_sqlite(staged: Path) -> None:
    target = Path(_settings().DATABASES["default"]["NAME"])
    source = sqlite3.connect(staged)
    destination = sqlite3.connect(target, timeout=20)
    try:
        source.backup(destination)  # page by page under the write lock; the file stays a valid database
    finally:
        source.close()
        destination.close()


def _restore_postgresql(staged: Path) -> None:
    """One transaction (psql -1): drop the public schema, recreate it, load the dump. A failure rolls back."""
    env = _pg_env()
    pg_restore, psql = _pg_bin("pg_restore"), _pg_bin("psql")
    with subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-", str(staged)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as script, \
            subprocess.Popen([psql, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "--no-password"], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as load:
        load.stdin.write(b"SET lock_timeout = '30s';\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        try:
            shutil.copyfileobj(script.stdout, load.stdin, CHUNK)
            load.stdin.close()
        except BrokenPipeError:
            pass
        script_errors = script.stderr.read().decode(errors="replace")
        load_errors = load.stderr.read().decode(errors="replace")
    if script.returncode != 0 or load.returncode != 0:
        raise BackupError(f"the database was NOT changed: restoring failed (pg_restore exit {script.returncode}, "
                          f"psql exit {load.returncode}): {(script_errors + load_errors).strip()[-2000:]}")
