"""Signed notes, tlog checkpoints and witness cosignatures (C2SP signed-note, tlog-checkpoint, tlog-cosignature).

The log publishes its tree head as a *checkpoint*: a short text naming the log, the tree size and
the root hash, signed with Ed25519 in the C2SP signed-note format that Go's sumdb, Sigsum, Rekor v2
and the public witness network all read. Witnesses add their own *cosignature* lines to the same
note. Everything here is pure (no Django, no clock, no storage); keys come in and go out as the
standard vkey / skey strings.

Formats
-------
Checkpoint body (the note text)::

    <origin>\\n<tree size, decimal, no leading zeros>\\n<base64 root hash>\\n[<extension line>\\n …]

Signed note: the text (ending in a newline), one empty line, then one or more lines
``— <key name> <base64(key ID ‖ signature)>`` (U+2014 EM DASH, space). The key ID is
``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``, big-endian; type 0x01 is a plain Ed25519
signature over the text, type 0x04 a timestamped Ed25519 witness cosignature over::

    cosignature/v1\\ntime <unix seconds>\\n<checkpoint body>

whose signature bytes are ``timestamp (uint64 big-endian) ‖ Ed25519 signature``.

Keys: a verifier key (vkey) is ``<name>+<key ID as 8 hex digits>+<base64(type ‖ 32-byte public key)>``;
a signer key (skey) is ``PRIVATE+KEY+<name>+<key ID hex>+<base64(type ‖ 32-byte seed)>``. An skey
is a secret: keep it out of the database and the repository.

Worked example (asserted in tests/test_note.py, so it stays true)
-----------------------------------------------------------------
The log key is the Ed25519 seed 00 01 02 … 1f named ``gongzhi.example/ledger``; the witness key is
the seed 20 21 … 3f named ``witness.example/w1``, cosigning at Unix time 1700000000. The checkpoint
is that of the 8-leaf tree of the RFC 6962 test vectors (root 5dc9da79…4328)::

    log skey      PRIVATE+KEY+gongzhi.example/ledger+dc1c0bf4+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
    log vkey      gongzhi.example/ledger+dc1c0bf4+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4
    witness vkey  witness.example/w1+20324abe+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X

    gongzhi.example/ledger
    8
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

    — gongzhi.example/ledger 3BwL9ObRrU9NG62QgD8vYCy9yOI3Xe+KNDuz/puPd/kp9rgdLm08IzzfHC0BhYwXcUTuPhNEajaAIG9nsSrn85o3iwo=
    — witness.example/w1 IDJKvgAAAABlU/EAvj7EYpE2oYqnNm84LQnoQJPhgLVzLblqt9zk2Px6IZlPPzhtl5JnX6k8YNN3KQAr1UjeWu03FjBsCStDe1HTBA==

Key ID of the log key: SHA-256("gongzhi.example/ledger" ‖ 0x0A ‖ 0x01 ‖ public key)[:4] = dc1c0bf4,
which is also the first four bytes of its decoded signature line value. The witness line decodes
to key ID 20324abe, timestamp 00000000 6553f100 (= 1700000000), then the 64-byte signature over
``cosignature/v1\ntime 1700000000\n`` followed by the three checkpoint lines.
``python -m gongzhi.ledger.note`` prints these values again.

Errors: every malformed input raises a `NoteError` (a ValueError); `open_note` distinguishes a note
nobody we trust signed (`UnverifiedNote`) from a forged signature by a key we trust
(`InvalidSignature`).
"""

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "InvalidSignature",
    "MalformedNote",
    "NoteError",
    "NoteSignature",
    "Signer",
    "UnverifiedNote",
    "Verifier",
    "format_checkpoint",
    "key_id",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_note",
]

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
MAX_TIMESTAMP = 2**63 - 1
MAX_TREE_SIZE = 2**64 - 1
ROOT_HASH_SIZE = 32


class NoteError(ValueError):
    """A note, checkpoint or key string that does not follow the C2SP formats."""


class MalformedNote(NoteError):
    pass


class UnverifiedNote(NoteError):
    """No signature on the note is by a key we were asked to trust."""


class InvalidSignature(NoteError):
    """A signature by a trusted key does not verify: the note is forged or altered."""


# --- small strict helpers ----------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    """Standard padded base64, canonical form only (one encoding per byte string)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"not standard base64: {text!r}") from error
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"not canonical base64: {text!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_characters(text: str, what: str) -> None:
    """Notes are UTF-8 without ASCII control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NoteError(f"{what} is not valid Unicode") from error
    for ch in text:
        if ch < " " and ch != "\n":
            raise NoteError(f"{what} contains control character {ch!r}")


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("note text must be a string ending in a newline")
    _check_characters(text, "note text")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    _check_characters(name, "key name")


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], the 4-byte key ID of signed-note."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


# --- checkpoints -------------------------------------------------------------------------------

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as the three mandatory checkpoint lines (plus rarely-used extensions)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """The checkpoint note text; refuses anything `parse_checkpoint` would refuse."""
    extensions = tuple(extensions)
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise NoteError(f"origin {origin!r} must be one non-empty line")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_TREE_SIZE:
        raise NoteError(f"tree size {size!r} must be an integer in [0, 2**64)")
    if not isinstance(root, (bytes, bytearray)) or len(root) != ROOT_HASH_SIZE:
        raise NoteError(f"root hash must be {ROOT_HASH_SIZE} bytes")
    for line in extensions:
        if not isinstance(line, str) or not line or "\n" in line:
            raise NoteError(f"extension line {line!r} must be one non-empty line")
    text = f"{origin}\n{size}\n{_b64encode(bytes(root))}\n" + "".join(line + "\n" for line in extensions)
    _check_characters(text, "checkpoint")
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint note text (signatures already stripped by `open_note`)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("a checkpoint is at least three non-empty lines")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise NoteError(f"tree size {size_text!r} is not a decimal without leading zeros")
    root = _b64decode(root_text)
    if len(root) != ROOT_HASH_SIZE:
        raise NoteError(f"root hash is {len(root)} bytes, not {ROOT_HASH_SIZE}")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


# --- keys --------------------------------------------------------------------------------------


def _split_key(key: str, parts: int, what: str) -> list[str]:
    # The base64 key material may itself contain '+', so only the first parts - 1 are separators.
    fields = key.split("+", parts - 1) if isinstance(key, str) else []
    if len(fields) != parts:
        raise NoteError(f"malformed {what}")
    return fields


def _key_material(name: str, hex_id: str, b64: str, what: str) -> tuple[int, bytes]:
    _check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"{what} key ID must be 8 lowercase hex digits")
    raw = _b64decode(b64)
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"{what} holds no Ed25519 (0x01) or cosignature/v1 (0x04) key")
    return raw[0], raw[1:]


class Verifier:
    """Checks plain Ed25519 note signatures (type 0x01) by one named key."""

    signature_type = ED25519

    def __init__(self, name: str, public_key: bytes):
        _check_name(name)
        if len(public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self.signature_type, self.public_key)
        self._key = Ed25519PublicKey.from_public_bytes(self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> "Verifier":
        """Parse ``name+hexid+base64(type‖key)``; returns a CosignatureVerifier for type 0x04."""
        name, hex_id, b64 = _split_key(vkey, 3, "verifier key")
        signature_type, public_key = _key_material(name, hex_id, b64, "verifier key")
        verifier_cls = CosignatureVerifier if signature_type == COSIGNATURE_V1 else Verifier
        if cls is not Verifier and verifier_cls is not cls:
            raise NoteError(f"verifier key is of type {signature_type:#04x}, not {cls.signature_type:#04x}")
        verifier = verifier_cls(name, public_key)
        if verifier.key_id.hex() != hex_id:
            raise NoteError("verifier key ID does not match its name and public key")
        return verifier

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([self.signature_type]) + self.public_key)}"

    def _verify_ed25519(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True

    def verify(self, text: str, signature: bytes) -> bool:
        """Is `signature` (the bytes after the key ID) this key's signature of `text`?"""
        return self._verify_ed25519(text.encode("utf-8"), signature)

    def __repr__(self):
        return f"{type(self).__name__}({self.vkey()!r})"


class CosignatureVerifier(Verifier):
    """Checks a witness's timestamped cosignature/v1 (type 0x04) over a checkpoint."""

    signature_type = COSIGNATURE_V1

    @staticmethod
    def timestamp(signature: bytes) -> int:
        """The Unix time a cosignature claims (the first 8 bytes after the key ID)."""
        if len(signature) != 8 + 64:
            raise NoteError("a cosignature/v1 signature is 72 bytes")
        return int.from_bytes(signature[:8], "big")

    def verify(self, text: str, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            parse_checkpoint(text)
        except NoteError:
            return False
        return self._verify_ed25519(cosignature_message(text, timestamp), signature[8:])


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header line, time line, then the whole checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode("utf-8")


class Signer:
    """Signs note texts with one named Ed25519 key (type 0x01)."""

    signature_type = ED25519
    verifier_class = Verifier

    def __init__(self, name: str, private_key: Ed25519PrivateKey):
        _check_name(name)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, self.signature_type, self.public_key)

    @classmethod
    def generate(cls, name: str, **kwargs) -> "Signer":
        return cls(name, Ed25519PrivateKey.generate(), **kwargs)

    @classmethod
    def from_seed(cls, name: str, seed: bytes, **kwargs) -> "Signer":
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed), **kwargs)

    @classmethod
    def from_skey(cls, skey: str, **kwargs) -> "Signer":
        """Parse ``PRIVATE+KEY+name+hexid+base64(type‖seed)``; a type 0x04 key gives a CosignatureSigner."""
        private, key, name, hex_id, b64 = _split_key(skey, 5, "signer key")
        if (private, key) != ("PRIVATE", "KEY"):
            raise NoteError("a signer key starts with PRIVATE+KEY+")
        signature_type, seed = _key_material(name, hex_id, b64, "signer key")
        signer_cls = CosignatureSigner if signature_type == COSIGNATURE_V1 else Signer
        if cls is not Signer and signer_cls is not cls:
            raise NoteError(f"signer key is of type {signature_type:#04x}, not {cls.signature_type:#04x}")
        signer = signer_cls.from_seed(name, seed, **kwargs)
        if signer.key_id.hex() != hex_id:
            raise NoteError("signer key ID does not match its name and key")
        return signer

    def to_skey(self) -> str:
        seed = self._private_key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64encode(bytes([self.signature_type]) + seed)}"

    def verifier(self) -> Verifier:
        return self.verifier_class(self.name, self.public_key)

    def verifier_key(self) -> str:
        return self.verifier().vkey()

    def _line(self, signature: bytes) -> str:
        return NoteSignature(self.name, self.key_id, signature).line()

    def sign(self, text: str) -> str:
        """The signature line ``— name base64(key ID ‖ signature)\\n`` for this note text."""
        _check_text(text)
        return self._line(self._private_key.sign(text.encode("utf-8")))

    def __repr__(self):
        return f"{type(self).__name__}({self.verifier_key()!r})"


class CosignatureSigner(Signer):
    """A witness key: cosignature/v1 lines (type 0x04) over checkpoints.

    `now` returns Unix seconds; the Django side passes one reading core.clock so tests can move time.
    """

    signature_type = COSIGNATURE_V1
    verifier_class = CosignatureVerifier

    def __init__(self, name: str, private_key: Ed25519PrivateKey, now: Callable[[], int] | None = None):
        super().__init__(name, private_key)
        self._now = now or (lambda: int(time.time()))

    def sign(self, text: str, timestamp: int | None = None) -> str:
        """The cosignature line for a checkpoint body, stamped `timestamp` (default: now)."""
        parse_checkpoint(text)
        if timestamp is None:
            timestamp = self._now()
        if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise NoteError(f"cosignature timestamp {timestamp!r} is outside [0, 2**63)")
        signature = self._private_key.sign(cosignature_message(text, timestamp))
        return self._line(timestamp.to_bytes(8, "big") + signature)


# --- notes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who claims to have signed, and the bytes after the key ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}\n"


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note: text, an empty line, one signature line per signer."""
    _check_text(text)
    if not signers:
        raise NoteError("a signed note needs at least one signature")
    return text + "\n" + "".join(signer.sign(text) for signer in signers)


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, checking syntax only (no crypto)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedNote("note is not UTF-8") from error
    try:
        _check_characters(note, "note")
    except NoteError as error:
        raise MalformedNote(str(error)) from error
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note has no empty line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNote("note must end with a signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote(f"signature line {line!r} does not start with an em dash and a space")
        name, space, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            _check_name(name)
            raw = _b64decode(b64)
        except NoteError as error:
            raise MalformedNote(f"bad signature line {line!r}: {error}") from error
        if not space or len(raw) < 5:
            raise MalformedNote(f"bad signature line {line!r}")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, signatures


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """Verify a signed note against the keys we trust; return its text and who verifiably signed it.

    Signatures by keys we do not know (name and key ID both matching) are ignored, as the spec
    requires; a known key's signature that fails raises InvalidSignature; a note with no verified
    signature at all raises UnverifiedNote.
    """
    text, signatures = parse_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[str] = []
    seen = set()
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if (signature.name, signature.key_id) in seen:
            continue  # a repeated line by one key counts once, as in Go's note package
        seen.add((signature.name, signature.key_id))
        if not verifier.verify(text, signature.signature):
            raise InvalidSignature(f"signature by {signature.name} does not verify")
        verified.append(signature.name)
    if not verified:
        raise UnverifiedNote("note carries no signature by a trusted key")
    return text, verified


def _worked_example() -> str:
    """The values quoted in the module docstring and in docs/ledger.md."""
    log = Signer.from_seed("gongzhi.example/ledger", bytes(range(32)))
    witness = CosignatureSigner.from_seed("witness.example/w1", bytes(range(32, 64)), now=lambda: 1700000000)
    root = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    body = format_checkpoint("gongzhi.example/ledger", 8, root)
    note = sign_note(body, [log])
    return "\n".join(
        [
            f"log skey      {log.to_skey()}",
            f"log vkey      {log.verifier_key()}",
            f"log key ID    {log.key_id.hex()}",
            f"witness skey  {witness.to_skey()}",
            f"witness vkey  {witness.verifier_key()}",
            f"witness key ID {witness.key_id.hex()}",
            "",
            note + witness.sign(body),
        ]
    )


if __name__ == "__main__":
    print(_worked_example())
