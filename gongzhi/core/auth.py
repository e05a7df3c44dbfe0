"""API authentication: bearer tokens (`gongzhi token create USER`) or the browser session."""

from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.find_user(token)
        if user is not None:
            request.user = user
        return user


class SignedInSession(SessionAuth):
    """The browser session. CSRF guards a session that exists: a caller with no signed-in session is
    answered 401 (sign in), not a CSRF 403."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


def api_auth():
    """Token first, then the session cookie (ninja enforces CSRF for unsafe methods on it)."""
    return [BearerToken(), SignedInSession()]
