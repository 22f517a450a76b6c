"""DRF authentication for OAuth access tokens, on /mcp (through the MCP view) and /api/.

Listed before the API-token class in ``DEFAULT_AUTHENTICATION_CLASSES``: it takes a bearer
token unless it is a static API token (``ann_...``), which it leaves to that class. Sets
``request.auth`` to a :class:`TokenAuth` like the others, so the ``read``/``write`` scope
check (ScopePermission, the MCP tools' Grant) is the same for every kind of token.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from annoris.api import auth_failures
from annoris.api.authentication import AuthenticationUnavailable, TokenUser
from annoris.api.tokens import TOKEN_PREFIX, InvalidToken, TokenAuth, TokenCheckUnavailable
from annoris.oauth import access
from annoris.oauth.resources import challenge, resource_for_path


class OAuthUser(TokenUser):
    """``request.user`` for an OAuth token: the person who consented (no query to build it)."""

    def __init__(self, grant: access.OAuthGrant) -> None:
        super().__init__(grant.auth)
        self.username = grant.username
        self.pk = self.id = grant.user_id  # per-user throttling


class OAuthTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <OAuth access token>`` for the resource the path belongs to."""

    def authenticate(self, request: Request) -> tuple[OAuthUser, TokenAuth] | None:
        if not settings.ANNORIS_PUBLIC_URL:
            return None
        keyword, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if keyword.lower() != "bearer" or not token or token.startswith(TOKEN_PREFIX):
            return None
        if " " in token or len(token) > 200:
            return None  # malformed: the API-token class answers it
        auth_failures.refuse_if_throttled(request)  # failed authentication is throttled per IP (#20)
        try:
            grant = access.verify(token, resource=resource_for_path(request.path))
        except access.WrongResource:
            auth_failures.record_failure(request)
            raise exceptions.AuthenticationFailed("This token was issued for another resource.") from None
        except InvalidToken:
            auth_failures.record_failure(request)
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired token.") from None
        except TokenCheckUnavailable:
            raise AuthenticationUnavailable() from None
        return OAuthUser(grant), grant.auth

    def authenticate_header(self, request: Request) -> str:
        return challenge(request.path, realm="api" if request.path.startswith("/api/") else "annoris")
