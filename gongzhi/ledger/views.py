"""Public pages and the C2SP tlog-tiles read endpoints, no login.

Pages: /ledger/ (the current checkpoint, the public key, where to read the log) and /ledger/receipt/
(paste or upload a receipt and see it checked). Endpoints: /ledger/checkpoint,
/ledger/tile/<L>/<N>[.p/<W>] and /ledger/tile/entries/<N>[.p/<W>], plain bytes built from the stored hashes.
"""

import base64

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core import ratelimit
from gongzhi.core.errors import NotFound, RateLimited

from . import queries, receipts, services, tiles

# Full tiles never change once they exist; a partial tile's first W hashes never change either, but
# clients move on to wider ones, so there is no point keeping them long.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=3600"

CHECK_TITLES = {
    "format": _("The receipt is well-formed"),
    "entry_hash": _("The entry matches its hash"),
    "signature": _("The checkpoint is signed by the log key"),
    "inclusion": _("The entry is in the checkpoint's tree"),
    "consistency": _("The current log extends the receipt's checkpoint"),
    "opening": _("The commitment opens with the given value"),
}


@require_GET
def checkpoint(request):
    try:
        head = queries.latest_checkpoint()
    except NotFound as error:
        return HttpResponseNotFound(error.message("en"), content_type="text/plain; charset=utf-8")
    response = HttpResponse(queries.signed_checkpoint(head), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def tile(request, tile_path: str):
    try:
        level, index, width = tiles.parse_tile_path(tile_path)
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    try:
        if level == "entries":
            body = queries.entry_bundle(index, width)
        else:
            body = queries.tile(level, index, width)
    except NotFound as error:
        return HttpResponseNotFound(error.message("en"), content_type="text/plain; charset=utf-8")
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = PARTIAL_TILE_CACHE if width < tiles.TILE_WIDTH else FULL_TILE_CACHE
    return response


def _edge_tiles(size: int) -> list[str]:
    """The path of the right-most tile of each level, and of the last entry bundle."""
    paths = []
    level = 0
    while hashes := size >> (tiles.TILE_HEIGHT * level):
        index = (hashes - 1) // tiles.TILE_WIDTH
        width = hashes - index * tiles.TILE_WIDTH
        paths.append(tiles.tile_path(level, index, width))
        if level == 0:
            paths.append(tiles.entries_path(index, width))
        level += 1
    return paths


@require_GET
def index(request):
    head = queries.head()
    has_checkpoint = head is not None and bool(head.checkpoint)
    context = {
        "origin": services.origin(),
        "head": head if has_checkpoint else None,
        "note": queries.signed_checkpoint(head) if has_checkpoint else "",
        "root_hex": bytes(head.root).hex() if has_checkpoint else "",
        "root_base64": base64.b64encode(bytes(head.root)).decode() if has_checkpoint else "",
        "vkey": services.verifier_key() if services.key_path().exists() else "",
        "edge_tiles": [reverse("ledger:tile", args=[path]) for path in _edge_tiles(head.size)] if has_checkpoint else [],
        "site": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "ledger/index.html", context)


@require_http_methods(["GET", "POST"])
def receipt(request):
    """Paste or upload a receipt; services.verify_receipt checks it, exactly as the JSON API does."""
    text, result, error = "", None, None
    if request.method == "POST":
        try:
            ratelimit.check(request, "receipt_check")
        except RateLimited as refused:
            return render(request, "web/error.html", {"error": refused}, status=refused.status)
        upload = request.FILES.get("file")
        raw = upload.read(receipts.MAX_RECEIPT_BYTES + 1) if upload else request.POST.get("receipt", "").encode()
        text = raw.decode("utf-8", "replace")
        try:
            result = services.verify_receipt(receipts.parse_receipt(raw))
        except ValueError as problem:
            result = receipts.ReceiptCheck()
            result.add("format", False, str(problem))
        except NotFound:
            error = _("The log has no signed checkpoint yet, so there is nothing to check a receipt against.")
    checks = [
        {"title": CHECK_TITLES[check.code.partition(":")[0]], "field": check.code.partition(":")[2], "check": check}
        for check in (result.checks if result else [])
    ]
    checkpoint_at = None
    if result is not None and result.ok:
        checkpoint_at = queries.latest_checkpoint().updated_at
    return render(request, "ledger/receipt.html", {"text": text, "result": result, "checks": checks, "error": error,
                                                   "checkpoint_at": checkpoint_at})
