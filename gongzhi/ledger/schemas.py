"""Shapes of the ledger's JSON API. Hashes are lowercase hex; checkpoints are signed-note text."""

from ninja import Schema


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str
    note: str


class KeyOut(Schema):
    origin: str
    vkey: str


class EntryOut(Schema):
    index: int
    entry: str
    leaf_hash: str


class InclusionOut(Schema):
    index: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class ReceiptOut(Schema):
    index: int
    entry: str
    leaf_hash: str
    tree_size: int
    inclusion_proof: list[str]
    checkpoint: str


class ErrorOut(Schema):
    code: str
    message: str


class ReceiptCheckItem(Schema):
    code: str
    ok: bool
    detail: str


class ReceiptCheckOut(Schema):
    ok: bool
    index: int | None
    tree_size: int | None
    current_size: int | None
    checks: list[ReceiptCheckItem]


class CosignatureIn(Schema):
    size: int
    cosignature: str


class CosignatureOut(Schema):
    size: int
    witness: str
    key_id: str
    timestamp: int
