"""API token authentication that keeps reads working while the database is down.

DRF's TokenAuthentication asks the database on every request, so a database
outage would turn every API read into a 503 even though the read path could
serve it from Redis or GitHub. Here the database is still asked first (through
the read path's breaker, so a dead database costs nothing per request), which
keeps revocation immediate while it is up. Each success is remembered, under
the SHA-256 of the token (never the token), in this process and in the session
cache alias (Redis, skipped while the read path's cache breaker is open); while
the database is down that memory answers. Only the read path's public face is used.

Security trade-off: a token revoked during an outage keeps working until the
outage ends or ``ANNORIS_TOKEN_MEMORY_TTL`` passes, whichever comes first.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import APIException

from sessions_app import readpath

logger = logging.getLogger("annoris.authentication")
TOKEN_KEY_PREFIX = "annoris:v1:apitoken"
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
        found = readpath.call_database(lambda: TokenAuthentication.authenticate_credentials(self, key))
        if found is not readpath.DOWN:
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
        expires, known = _memory.get(digest, (0.0, None))
        if known == holder and expires - time.monotonic() > ttl / 2:
            return  # remembered recently: no Redis write per request
        _memory[digest] = (time.monotonic() + ttl, holder)
    _shared(lambda c: c.set(f"{TOKEN_KEY_PREFIX}:{digest}", holder, ttl))


def _recall(digest: str) -> dict[str, Any] | None:
    with _lock:
        expires, holder = _memory.get(digest, (0.0, None))
    if holder is not None and time.monotonic() < expires:
        return holder
    return _shared(lambda c: c.get(f"{TOKEN_KEY_PREFIX}:{digest}"))


def _shared(op: Any) -> Any:
    """Run ``op`` on the session cache alias, unless it is off or the read path knows it is down."""
    alias = settings.ANNORIS_SESSION_CACHE
    if not alias or readpath.breakers()["cache"].state != "closed":
        return None
    try:
        return op(caches[alias])
    except Exception as exc:  # the memory is a convenience: a cache error is "not remembered"
        logger.debug("token memory not reachable in the cache: %s", exc)
        return None


def forget_all() -> None:
    """Empty this process's memory (tests)."""
    with _lock:
        _memory.clear()
