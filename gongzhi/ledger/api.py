"""The ledger's public JSON API under /api/v1/ledger/ (no login): checkpoint, key, entries, proofs,
receipts and their check, witness cosignatures. The C2SP tile endpoints are plain views (views.py)."""

from ninja import Body, Path, Query, Router, Status

from gongzhi.core import ratelimit

from . import queries, services
from .schemas import (
    CheckpointOut,
    ConsistencyOut,
    CosignatureIn,
    CosignatureOut,
    EntryOut,
    ErrorOut,
    InclusionOut,
    KeyOut,
    ReceiptCheckOut,
    ReceiptOut,
)

router = Router(tags=["ledger"], auth=None)
ERRORS = {400: ErrorOut, 404: ErrorOut}


@router.get("/checkpoint", response={200: CheckpointOut, 404: ErrorOut})
def checkpoint(request):
    """The latest signed tree head."""
    head = queries.latest_checkpoint()
    return {"origin": services.origin(), "size": head.size, "root": bytes(head.root).hex(),
            "note": queries.signed_checkpoint(head)}


@router.get("/key", response=KeyOut)
def key(request):
    """The verifier key (signed-note vkey) that checks every checkpoint."""
    return {"origin": services.origin(), "vkey": services.verifier_key()}


@router.get("/entries/{index}", response={200: EntryOut, **ERRORS})
def entry(request, index: int = Path(..., ge=0)):
    return queries.entry(index)


@router.get("/proof/inclusion", response={200: InclusionOut, **ERRORS})
def inclusion_proof(request, index: int = Query(..., ge=0), tree_size: int | None = Query(None, ge=0)):
    """RFC 6962 audit path of entry `index` in the tree of `tree_size` (default: current)."""
    return queries.inclusion(index, tree_size)


@router.get("/proof/consistency", response={200: ConsistencyOut, **ERRORS})
def consistency_proof(request, first: int = Query(..., ge=0), second: int | None = Query(None, ge=0)):
    """RFC 6962 proof that the tree of size `second` (default: current) extends that of size `first`."""
    return queries.consistency(first, second)


@router.get("/proof/by-hash", response={200: InclusionOut, **ERRORS})
def proof_by_hash(request, hash: str = Query(..., pattern="^[0-9a-fA-F]{64}$"),
                  tree_size: int | None = Query(None, ge=0)):
    """Inclusion proof of the entry whose leaf hash (hex) is `hash`."""
    return queries.by_hash(hash, tree_size)


@router.post("/receipts/verify", response={200: ReceiptCheckOut, **ERRORS})
def verify_receipt(request, receipt: dict = Body(...)):
    """Check a receipt (as GET /receipts/{index} returns it) against the current checkpoint: entry hash,
    checkpoint signature, inclusion, consistency with the current checkpoint, and any openings.
    A receipt that fails a check is still a 200: `ok` is false and the failed checks say why."""
    ratelimit.check(request, "receipt_check")
    return services.verify_receipt(receipt).as_dict()


# Declared after /receipts/verify, whose path it would otherwise swallow.
@router.get("/receipts/{index}", response={200: ReceiptOut, **ERRORS})
def receipt(request, index: int = Path(..., ge=0)):
    """Entry `index`, its inclusion proof and the latest checkpoint it is proven against."""
    return queries.receipt(index)


@router.post("/cosignatures", response={201: CosignatureOut, 403: ErrorOut, **ERRORS})
def add_cosignature(request, body: CosignatureIn):
    """A witness's cosignature/v1 line over the checkpoint of tree `size` (`gongzhi ledger witness` sends it).
    Accepted only from keys in GONGZHI_LEDGER_WITNESSES; then served with /ledger/checkpoint."""
    cosignature = services.add_cosignature(body.size, body.cosignature)
    return Status(201, {"size": cosignature.size, "witness": cosignature.witness, "key_id": cosignature.key_id,
                         "timestamp": cosignature.timestamp})
