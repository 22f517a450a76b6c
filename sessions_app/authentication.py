"""API token authentication that keeps reads working while the database is down.

DRF's TokenAuthentication asks the database on every request, so a database
outage would turn every API read into a 503 even though the read path could
serve it from Redis or GitHub. Here the database is still asked first (through
the read path's breaker, so a dead database costs nothing per request), which
keeps revocation immediate while it is up. Each success is remembered, under
the SHA-256 of the token (never the token), in the cache layer and in this
process; while the database is down that memory answers.

Security trade-off: a token revoked during an outage keeps working until the
outage ends or ``ANNORIS_TOKEN_MEMORY_TTL`` passes, whichever comes first.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import APIException

from sessions_app import cache
from sessions_app.readpath import DOWN, database_call

_memory: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


class AuthenticationUnavailable(APIException):
    status_code = 503
    default_detail = (
        "The database is unavailable and this token has not been seen recently; try again shortly."
    )
    default_code = "authentication_unavailable"


class ResilientTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, answered from memory while the database is down."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Any]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        found = database_call(lambda: TokenAuthentication.authenticate_credentials(self, key))
        if found is not DOWN:
            _remember(digest, found[0])
            return found
        holder = _recall(digest)
        if holder is None:
            raise AuthenticationUnavailable()
        user = get_user_model()(pk=holder["pk"], username=holder["username"], is_active=True)
        user.is_staff = holder["is_staff"]
        return user, None


def _remember(digest: str, user: AbstractBaseUser) -> None:
    is_staff = bool(getattr(user, "is_staff", False))
    holder = {"pk": user.pk, "username": user.get_username(), "is_staff": is_staff}
    ttl = settings.ANNORIS_TOKEN_MEMORY_TTL
    with _lock:
        _memory[digest] = (time.monotonic() + ttl, holder)
    cache.remember_token_holder(digest, holder, ttl)


def _recall(digest: str) -> dict[str, Any] | None:
    with _lock:
        expires, holder = _memory.get(digest, (0.0, None))
    if holder is not None and time.monotonic() < expires:
        return holder
    return cache.token_holder(digest)


def forget_all() -> None:
    """Empty this process's memory (tests)."""
    with _lock:
        _memory.clear()
