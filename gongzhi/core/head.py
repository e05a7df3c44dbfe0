"""HEAD for every GET route (RFC 9110 §9.1: the same answer as GET, headers and status, without a body), in
one place rather than per view: pages with require_GET, the ledger's tiles, Open311 and the ninja API all
answer GET only, and would each refuse HEAD with a 405 otherwise."""


class HeadAsGetMiddleware:
    """Runs a HEAD request as a GET through the rest of the stack and the view, then drops the body and
    keeps every header, Content-Length included where GET has one (CommonMiddleware sets it). It sits
    first in MIDDLEWARE so that every layer below (CSRF, caching, the view's method check) sees a GET."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "HEAD":
            response = self.get_response(request)
            allowed = [m.strip() for m in response.get("Allow", "").split(",")]
            if response.status_code == 405 and "GET" in allowed and "HEAD" not in allowed:
                response["Allow"] = ", ".join([*allowed, "HEAD"])  # a view that says GET allows HEAD too
            return response
        request.method = request.META["REQUEST_METHOD"] = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = request.META["REQUEST_METHOD"] = "HEAD"
        if response.streaming:
            # A file or generator, left unread (the handler closes it with the response); its length, when
            # known, is already in the headers.
            response.streaming_content = []
        else:
            response.content = b""  # Content-Length, when GET's answer has one, stays as GET's
        return response
