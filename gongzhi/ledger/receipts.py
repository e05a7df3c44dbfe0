"""Checking a receipt: is this entry in the log the receipt's signed checkpoint describes, and is that
checkpoint an ancestor of the log's current one? Pure: the keys, the current checkpoint and a way to
get a consistency proof come in as arguments (services.verify_receipt supplies the server's own).

A receipt is the JSON object GET /api/v1/ledger/receipts/{index} returns::

    {"index": 41, "entry": "<canonical JSON>", "leaf_hash": "<hex>", "tree_size": 600,
     "inclusion_proof": ["<hex>", …], "checkpoint": "<signed note>",
     "openings": {field: {"salt": "<hex>", "value": …, "commitment": "<hex>"}}}   # optional, private

The checks, in order: the receipt's shape; the entry's RFC 6962 leaf hash; the checkpoint's
signature by the log key; the inclusion proof from the leaf to the checkpoint's root; consistency of
the checkpoint with the current one; and, when openings are present, that each opens its commitment.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from gongzhi.core.canonical import canonical_json

from . import merkle, note

__all__ = ["Check", "ReceiptCheck", "check_receipt", "commitment", "parse_receipt"]

MAX_RECEIPT_BYTES = 1 << 20


def commitment(salt: bytes, value) -> str:
    """sha256(salt ‖ canonical_json(value)) as hex: what the public entry shows for a private value."""
    return hashlib.sha256(salt + canonical_json(value)).hexdigest()


@dataclass(frozen=True)
class Check:
    """One step of the check: a stable `code` (the page translates it), passed or not, and a technical detail."""

    code: str
    ok: bool
    detail: str = ""


@dataclass
class ReceiptCheck:
    checks: list[Check] = field(default_factory=list)
    index: int | None = None
    tree_size: int | None = None
    current_size: int | None = None
    entry: dict | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, code: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(code, ok, detail))
        return ok

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "index": self.index,
            "tree_size": self.tree_size,
            "current_size": self.current_size,
            "checks": [{"code": c.code, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def parse_receipt(text: str | bytes) -> dict:
    """The receipt object in a pasted or uploaded text; ValueError if it is not a JSON object."""
    if isinstance(text, bytes):
        if len(text) > MAX_RECEIPT_BYTES:
            raise ValueError(f"a receipt is at most {MAX_RECEIPT_BYTES} bytes")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError("the receipt is not UTF-8 text") from error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError("a receipt is a JSON object")
    return value


def _hex_hash(value) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == merkle.HASH_SIZE else None


def _shape_problem(receipt) -> str | None:
    if not isinstance(receipt, dict):
        return "a receipt is a JSON object"
    for name, kind in (("index", int), ("tree_size", int), ("entry", str), ("checkpoint", str),
                       ("inclusion_proof", list)):
        value = receipt.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{name!r} is missing or not a {kind.__name__}"
    if any(_hex_hash(node) is None for node in receipt["inclusion_proof"]):
        return "every inclusion proof node is 64 hex digits"
    if "leaf_hash" in receipt and _hex_hash(receipt["leaf_hash"]) is None:
        return "'leaf_hash' is not 64 hex digits"
    if "openings" in receipt and not isinstance(receipt["openings"], dict):
        return "'openings' is not an object"
    return None


def check_receipt(
    receipt: dict,
    *,
    verifier: note.Verifier,
    current: note.Checkpoint,
    consistency: Callable[[int, int], list[bytes]],
) -> ReceiptCheck:
    """Check `receipt` against the log key and the log's `current` checkpoint (already verified).

    `consistency(first, second)` returns the RFC 6962 consistency proof between two tree sizes
    (the server's own, or one fetched from it: it is verified here, not trusted).
    """
    result = ReceiptCheck(current_size=current.size)
    problem = _shape_problem(receipt)
    if not result.add("format", problem is None, problem or ""):
        return result
    result.index, result.tree_size = receipt["index"], receipt["tree_size"]
    entry = receipt["entry"].encode("utf-8")
    leaf = merkle.leaf_hash(entry)
    try:
        result.entry = json.loads(entry)
    except json.JSONDecodeError:
        result.entry = None
    claimed = _hex_hash(receipt.get("leaf_hash", leaf.hex()))
    result.add("entry_hash", claimed == leaf,
               f"SHA-256(0x00 ‖ entry) = {leaf.hex()}" + ("" if claimed == leaf else f", receipt says {claimed.hex()}"))

    try:
        text, _ = note.open_note(receipt["checkpoint"], [verifier])
        signed = note.parse_checkpoint(text)
    except note.NoteError as error:
        result.add("signature", False, f"{type(error).__name__}: {error}")
        return result
    if signed.origin != verifier.name or signed.size != receipt["tree_size"]:
        result.add("signature", False, f"checkpoint is for {signed.origin} size {signed.size}, "
                                       f"receipt says size {receipt['tree_size']}")
        return result
    result.add("signature", True, f"signed by {verifier.vkey()}; tree size {signed.size}, root {signed.root.hex()}")

    proof = [_hex_hash(node) for node in receipt["inclusion_proof"]]
    included = merkle.verify_inclusion(leaf, receipt["index"], signed.size, proof, signed.root)
    result.add("inclusion", included, f"entry {receipt['index']} in the tree of size {signed.size}, "
                                      f"{len(proof)} proof hashes")

    if signed.size > current.size:
        result.add("consistency", False, f"the receipt's tree ({signed.size}) is larger than the current one "
                                         f"({current.size})")
    else:
        path = [] if signed.size == current.size else consistency(signed.size, current.size)
        consistent = merkle.verify_consistency(signed.size, current.size, signed.root, current.root, path)
        result.add("consistency", consistent, f"tree {signed.size} → current tree {current.size}, "
                                              f"root {current.root.hex()}")

    commitments = (result.entry or {}).get("commitments") or {}
    for name, opening in sorted((receipt.get("openings") or {}).items()):
        salt = opening.get("salt") if isinstance(opening, dict) else None
        try:
            opened = commitment(bytes.fromhex(salt), opening.get("value")) if isinstance(salt, str) else None
        except (ValueError, TypeError):
            opened = None
        result.add(f"opening:{name}", opened is not None and opened == commitments.get(name),
                   f"sha256(salt ‖ value) = {opened}, entry commits {commitments.get(name)}")
    return result
