"""The C2SP tlog-tiles read endpoints: /ledger/checkpoint, /ledger/tile/<L>/<N>[.p/<W>] and
/ledger/tile/entries/<N>[.p/<W>]. Public, no login; plain bytes, built from the stored hashes."""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.views.decorators.http import require_GET

from gongzhi.core.errors import NotFound

from . import queries, tiles

# Full tiles never change once they exist; a partial tile's first W hashes never change either, but
# clients move on to wider ones, so there is no point keeping them long.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=3600"


@require_GET
def checkpoint(request):
    try:
        head = queries.latest_checkpoint()
    except NotFound as error:
        return HttpResponseNotFound(error.message("en"), content_type="text/plain; charset=utf-8")
    response = HttpResponse(head.checkpoint, content_type="text/plain; charset=utf-8")
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
