"""DRF authentication: hashed API tokens, and browser sessions for the browsable API.

Both set ``request.auth`` to a :class:`annoris.api.tokens.TokenAuth`, so permission
checks (and the write path, and MCP) read one attribute: ``request.auth.scope``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from annoris.api import auth_failures, tokens
from annoris.api.tokens import TokenAuth

KEYWORDS = ("bearer", "token")


class TokenUser:
    """``request.user`` for a token: authenticated, not a database user (no query to build it)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, auth: TokenAuth) -> None:
        self.username = f"token:{auth.name}"
        self.auth = auth

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False


AuthenticationUnavailable = tokens.TokenCheckUnavailable  # 503: the database cannot say


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (or ``Token <token>``)."""

    def authenticate(self, request: Request) -> tuple[TokenUser, TokenAuth] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword.lower() not in KEYWORDS:
            return None  # another scheme (e.g. Basic): not ours
        auth_failures.refuse_if_throttled(request)  # before any query: a guesser costs nothing (#20)
        token = token.strip()
        if not token or " " in token or len(token) > 200:
            auth_failures.record_failure(request)
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        try:
            auth = tokens.verify(token)
        except tokens.InvalidToken:  # TokenCheckUnavailable (503) is an APIException already
            auth_failures.record_failure(request)
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired token.") from None
        return TokenUser(auth), auth

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in Django user (the browsable API): staff may write, others read."""

    def authenticate(self, request: Request) -> tuple[Any, TokenAuth] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user = found[0]
        scope = tokens.WRITE if user.is_staff else tokens.READ
        return user, TokenAuth(scope=scope, name=user.get_username())
