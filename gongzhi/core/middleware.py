"""Chinese first: the interface language is the one the user chose (language cookie, set by the
language switch), else settings.LANGUAGE_CODE (zh-hans) — not the browser's Accept-Language,
because a shared office computer's browser says nothing about its user. A JSON API client is a program
that says what it reads: under /api/v1/ its Accept-Language is honoured (when it has no cookie)."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen in self.available:
            language = chosen
        elif request.path.startswith(ApiErrorsAsJsonMiddleware.PREFIX):
            language = translation.get_language_from_request(request)
        else:
            language = settings.LANGUAGE_CODE
        previous = translation.get_language()
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
        finally:
            # A request's language ends with it: the thread goes on (a task run in-process, the next test) in the
            # language it had, not in the last visitor's.
            if previous:
                translation.activate(previous)
            else:
                translation.deactivate()
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class ApiErrorsAsJsonMiddleware:
    """Under /api/v1/ every refusal is the JSON {"code", "message"} the README promises, including the
    ones Django and ninja answer before an operation runs (an unknown path, a method not allowed)."""

    PREFIX = "/api/v1/"
    CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 500: "server_error"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (not request.path.startswith(self.PREFIX) or response.status_code < 400
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        from django.http import JsonResponse  # noqa: PLC0415 (kept local: this module loads early)

        status = response.status_code
        message = {404: "Not found", 405: "Method not allowed", 500: "Internal error"}.get(
            status, response.reason_phrase)
        answer = JsonResponse({"code": self.CODES.get(status, "error"), "message": message}, status=status)
        for header in ("Allow", "Retry-After"):
            if header in response:
                answer[header] = response[header]
        return answer
