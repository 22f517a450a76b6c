"""The API's default permission: authenticated, and a scope that allows the method."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from annoris.api.tokens import READ, WRITE

SAFE_METHODS = frozenset(permissions.SAFE_METHODS)


def scope_of(request: Request) -> str | None:
    """``"read"``, ``"write"`` or None (not authenticated through annoris.api)."""
    return getattr(request.auth, "scope", None)


class ScopePermission(permissions.BasePermission):
    """Safe methods need a ``read`` or ``write`` scope; anything else needs ``write``.

    Without credentials DRF answers 401 (the authenticators give a challenge header).
    """

    message = "This token's scope does not allow this method; a 'write' token is needed."
    code = "insufficient_scope"

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = scope_of(request)
        if scope is None:
            return False  # DRF turns this into 401 when no authenticator succeeded
        if request.method in SAFE_METHODS:
            return scope in (READ, WRITE)
        return scope == WRITE
