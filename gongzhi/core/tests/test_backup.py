"""Backups (`gongzhi backup` / `gongzhi restore`, core/backup.py): the encrypted stream refuses a wrong key, a changed
byte, a file cut short anywhere and an edited header; a real installation (SQLite in the SQLite pass, a database on
the suite's PostgreSQL server with real pg_dump in the PostgreSQL pass) comes back as it was at the backup, photos
included, and a refused restore changes nothing."""

import io
import struct

import pytest

from gongzhi.core import backup
from gongzhi.core.tests.backupkit import installation
from gongzhi.core.tests.throwaway import on_postgresql

KEY = bytes(range(32))


def sealed(payload: bytes, key: bytes = KEY, **header) -> bytes:
    out = io.BytesIO()
    writer = backup.EncryptedWriter(out, key, {"database": "sqlite", **header})
    for start in range(0, len(payload), 300_000):
        writer.write(payload[start : start + 300_000])
    writer.close()
    return out.getvalue()


def opened(data: bytes, key: bytes = KEY) -> bytes:
    stream = io.BytesIO(data)
    header, raw = backup.read_header(stream)
    return b"".join(backup.decrypted_chunks(stream, key, header, raw))


def chunk_ends(data: bytes) -> list[int]:
    """The offsets at which each sealed chunk ends."""
    stream = io.BytesIO(data)
    backup.read_header(stream)
    ends = []
    while prefix := stream.read(4):
        stream.seek(struct.unpack(">I", prefix)[0] & ~backup.LAST, 1)
        ends.append(stream.tell())
    return ends


PAYLOAD = bytes(range(256)) * 12_000  # about 3 MB: three chunks


def test_what_is_sealed_opens_with_its_key_in_chunks_of_one_mebibyte():
    data = sealed(PAYLOAD)
    assert opened(data) == PAYLOAD
    assert len(chunk_ends(data)) == 3
    assert PAYLOAD[:1000] not in data  # encrypted, not merely framed
    assert opened(sealed(b"")) == b""


def test_another_key_is_refused_as_the_wrong_key():
    with pytest.raises(backup.WrongKey, match="wrong key"):
        opened(sealed(PAYLOAD), bytes(32))


def body_start(data: bytes) -> int:
    return len(backup.MAGIC) + 4 + struct.unpack(">I", data[len(backup.MAGIC) : len(backup.MAGIC) + 4])[0]


@pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
def test_one_changed_byte_anywhere_in_the_chunks_is_refused(where):
    data = bytearray(sealed(PAYLOAD))
    start = body_start(bytes(data))
    data[start + int((len(data) - start - 1) * where)] ^= 0x01
    with pytest.raises(backup.Damaged):
        opened(bytes(data))


def test_a_file_cut_short_even_exactly_between_two_chunks_is_refused_as_truncated():
    data = sealed(PAYLOAD)
    for end in [*chunk_ends(data)[:-1], len(data) - 1, len(data) - 5000]:
        with pytest.raises(backup.Damaged, match="truncated"):
            opened(data[:end])


def test_an_edited_header_is_refused():
    data = sealed(PAYLOAD, note="a")
    with pytest.raises(backup.Damaged):
        opened(data.replace(b'"note": "a"', b'"note": "b"'))


def test_the_key_is_32_random_bytes_in_base64():
    assert len(backup.parse_key(backup.generate_key())) == 32
    assert backup.generate_key() != backup.generate_key()
    with pytest.raises(backup.BackupError, match="32 bytes"):
        backup.parse_key("c2hvcnQ=")


# --- a real installation -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with installation(tmp_path_factory.mktemp("backup"), "gongzhi_backup") as site:
        yield site


EVENTS = "SELECT count(*) FROM core_event"
LATE = "SELECT count(*) FROM core_event WHERE subject_id LIKE 'late-%%'"


def test_a_restore_brings_back_the_database_and_photos_of_the_backup_and_a_log_that_verifies(site, tmp_path_factory):
    site.write(4, "early", "sequence")
    made = site.gongzhi("backup", str(site.folder / "site.backup"))
    assert "ledger tree size 4" in made.stdout
    site.write(3, "late")  # not yet sequenced: nothing about these was published
    assert (site.scalar(EVENTS), site.photos()) == (7, {"early.jpg", "late.jpg"})
    file = (site.folder / "site.backup").read_bytes()
    assert b"13800000" not in file and b"JFIF" not in file  # phone numbers and photos only encrypted

    done = site.gongzhi("restore", str(site.folder / "site.backup"), "--yes")

    assert (site.scalar(EVENTS), site.scalar(LATE)) == (4, 0)
    assert site.photos() == {"early.jpg"}
    assert (site.var / "media" / "photos" / "early.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # the JPEG itself
    assert "the restored log verifies: tree size 4" in done.stdout
    assert "contains the published checkpoint of size 4" in done.stdout


def test_a_restore_refuses_a_wrong_key_a_changed_byte_a_cut_file_and_the_other_kind_and_changes_nothing(site):
    good = site.folder / "site.backup"
    if not good.exists():
        site.write(2, "early", "sequence")
        site.gongzhi("backup", str(good))
    site.write(1, "marker")
    before = (site.scalar(EVENTS), site.photos())
    data = good.read_bytes()
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0x20
    other_kind = "sqlite" if on_postgresql() else "postgresql"
    wrong_kind = sealed(b"", backup.parse_key(site.env["GONGZHI_BACKUP_KEY"]), database=other_kind)
    cases = {
        "wrong key": (data, {"GONGZHI_BACKUP_KEY": backup.generate_key()}),
        "tampered with": (bytes(changed), {}),
        "truncated": (data[: ends[0] if len(ends := chunk_ends(data)) > 1 else len(data) - 100], {}),
        f"backup of a {other_kind} database": (wrong_kind, {}),
    }
    for message, (content, env) in cases.items():
        bad = site.folder / "bad.backup"
        bad.write_bytes(content)
        refused = site.gongzhi("restore", str(bad), "--yes", expect=2, env=env)
        assert message in refused.stderr and "REFUSED (nothing was changed)" in refused.stderr, refused.stderr
        assert (site.scalar(EVENTS), site.photos()) == before, message


def test_a_restore_asks_before_replacing_the_database(site):
    good = site.folder / "site.backup"
    if not good.exists():
        pytest.skip("needs the backup the first test makes")
    before = site.scalar(EVENTS)
    asked = site.gongzhi("restore", str(good), expect=2, stdin="no\n")
    assert "Type yes" in asked.stdout and "not restored" in asked.stderr
    assert site.scalar(EVENTS) == before


def test_a_restore_on_a_new_machine_takes_the_backups_secret_key_instead_of_the_one_it_just_created(site):
    """On a new machine every `gongzhi` command, restore included, creates a secret key as it starts; that key
    sealed nothing yet, so the restore puts the backup's key (which sealed the restored ballots) in its place."""
    good = site.folder / "site.backup"
    if not good.exists():
        site.write(2, "early", "sequence")
        site.gongzhi("backup", str(good))
    key = site.var / "secret_key"
    original = key.read_bytes()
    key.rename(site.var / "secret_key.moved-aside")  # as the refusal's advice says, or a machine that never had one

    done = site.gongzhi("restore", str(good), "--yes")

    assert key.read_bytes() == original, done.stdout
    assert "restored from the backup" in done.stdout
    assert (site.var / "secret_key.created-before-restore").is_file()  # the fresh one, kept aside, never used
    # A key that was already there (not created by the restore itself) and differs is still refused.
    key.write_text("another machine's key in use\n")
    refused = site.gongzhi("restore", str(good), "--yes", expect=2)
    assert "differs from the keys/secret_key in the backup" in refused.stderr
    key.write_bytes(original)
