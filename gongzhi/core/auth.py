"""API authentication: bearer tokens (`gongzhi token create USER`) or the browser session."""

from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.find_user(token)
        if user is not None:
            request.user = user
        return user


def api_auth():
    """Token first, then the session cookie (ninja enforces CSRF for unsafe methods on it)."""
    return [BearerToken(), SessionAuth()]
