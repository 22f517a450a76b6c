"""API tokens: issue, hash, verify, remember (issue #7).

A token is ``ann_`` + 43 URL-safe characters (256 random bits). The database keeps its
SHA-256 only. Verifying a token the process has checked in the last
``ANNORIS_TOKEN_RECHECK`` seconds costs a dict lookup: no database query and no Redis
round trip, which is what keeps a cache-hit API read near a bare view's speed.

Bounds (documented in the README, tested):

- **Revocation** reaches every process within ``ANNORIS_TOKEN_RECHECK`` seconds (default
  30): that is when a process asks the database about a token again. The process that
  revokes forgets the token at once.
- **Database down:** a token this process (or, through the cache layer, any process)
  verified within ``ANNORIS_TOKEN_MEMORY_TTL`` seconds keeps working; an unseen one gets
  503. A token revoked during an outage therefore lives until the database is back and the
  next recheck, or that TTL, whichever is first.
- ``last_used_at`` is written at each recheck, so it is at most that many seconds behind.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.utils import timezone
from rest_framework import exceptions

from annoris import database, state
from annoris.models import ApiToken

logger = logging.getLogger("annoris.api.tokens")

TOKEN_PREFIX = "ann_"
SHARED_KEY_PREFIX = "annoris:v1:apitoken:"
READ, WRITE = ApiToken.Scope.READ.value, ApiToken.Scope.WRITE.value


class InvalidToken(Exception):
    """Unknown, revoked or expired."""


class TokenCheckUnavailable(exceptions.APIException):
    """The database cannot answer and the token was not verified recently: 503 (the API's
    handler adds Retry-After; the MCP endpoint answers it the same way)."""

    status_code = 503
    default_detail = (
        "The database is unavailable and this token has not been seen recently; try again shortly."
    )
    default_code = "authentication_unavailable"


@dataclass(frozen=True)
class TokenAuth:
    """What ``request.auth`` holds for any authenticated API request.

    ``scope`` is ``"read"`` or ``"write"``. ``token_id`` is None for a browser session
    (then ``name`` is the username and staff get ``write``).
    """

    scope: str
    name: str
    token_id: int | None = None
    expires_at: float | None = None  # POSIX seconds

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def generate() -> str:
    """A new secret token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(*, name: str, scope: str = READ, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret (the only time it exists in clear)."""
    secret = generate()
    row = ApiToken.objects.create(
        name=name, scope=scope, expires_at=expires_at, digest=digest_of(secret), prefix=secret[:10]
    )
    return row, secret


def revoke(row: ApiToken) -> None:
    """Revoke ``row``: at once in this process, in others within ``ANNORIS_TOKEN_RECHECK``."""
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=row.revoked_at)
    memory.forget(row.digest)
    _shared_call(lambda c: c.delete(SHARED_KEY_PREFIX + row.digest), None)


@dataclass
class _Entry:
    auth: TokenAuth
    checked: float  # clock() when the database last confirmed it


class TokenMemory:
    """Per-process memory of verified tokens, keyed by digest; ``clock`` is injectable for tests."""

    MAX_ENTRIES = 10_000  # bounded: a flood of fake tokens never reaches it (only valid ones are kept)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> _Entry | None:
        return self._entries.get(digest)  # a dict read is atomic under the GIL

    def put(self, digest: str, auth: TokenAuth) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES and digest not in self._entries:
                self._entries.clear()
            self._entries[digest] = _Entry(auth, self.clock())

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reset(self, clock: Callable[[], float] | None = None) -> None:
        """Forget every token (the registry's reset); verifications keep aging on this memory's clock."""
        self.clear()


memory = state.per_process(TokenMemory())


def verify(token: str) -> TokenAuth:
    """The token's identity; raises InvalidToken or TokenCheckUnavailable. See the module doc."""
    digest = digest_of(token)
    entry = memory.get(digest)
    now = memory.clock()
    if entry is not None and now - entry.checked < settings.ANNORIS_TOKEN_RECHECK:
        if entry.auth.expired(time.time()):
            raise InvalidToken("token expired")
        return entry.auth
    return _check_database(digest, entry, now)


def _check_database(digest: str, entry: _Entry | None, now: float) -> TokenAuth:
    row = _load(digest)
    if row is _DOWN:
        auth = _remembered(digest, entry, now)
        if auth is None:
            raise TokenCheckUnavailable()
        if auth.expired(time.time()):
            raise InvalidToken("token expired")
        return auth
    if row is None or not row.is_active:
        memory.forget(digest)
        raise InvalidToken("invalid, revoked or expired token")
    auth = TokenAuth(
        scope=row.scope,
        name=row.name,
        token_id=row.pk,
        expires_at=row.expires_at.timestamp() if row.expires_at else None,
    )
    memory.put(digest, auth)
    _touch(row)
    ttl = settings.ANNORIS_TOKEN_MEMORY_TTL
    _shared_call(lambda c: c.set(SHARED_KEY_PREFIX + digest, auth, ttl), None)
    return auth


_DOWN = object()


def _load(digest: str) -> ApiToken | None | object:
    try:  # through the process's one database breaker (annoris.database)
        row = database.call(ApiToken.objects.filter(digest=digest).first)
    except DatabaseError:  # the database answered with an error: no answer about this token either
        logger.warning("token check failed on the database", exc_info=True)
        return _DOWN
    return _DOWN if row is database.DOWN else row


def _touch(row: ApiToken) -> None:
    try:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    except DatabaseError:  # bookkeeping only; the check itself succeeded
        logger.debug("could not record last use of token %s", row.pk)


def _remembered(digest: str, entry: _Entry | None, now: float) -> TokenAuth | None:
    """A token verified within ANNORIS_TOKEN_MEMORY_TTL, by this process or (shared) another."""
    if entry is not None and now - entry.checked < settings.ANNORIS_TOKEN_MEMORY_TTL:
        return entry.auth
    shared = _shared_call(lambda c: c.get(SHARED_KEY_PREFIX + digest), None)
    return shared if isinstance(shared, TokenAuth) else None


def _shared_call(op: Callable, default: object) -> object:
    """Run ``op`` on the shared cache (Redis) if there is one; a cache failure is a miss."""
    alias = settings.ANNORIS_TOKEN_CACHE
    if not alias:
        return default
    try:
        return op(caches[alias])
    except Exception:  # noqa: BLE001 - django-redis raises its own types; the memory is optional
        logger.debug("token memory: cache unavailable", exc_info=True)
        return default


def reset(*, clock: Callable[[], float] | None = None) -> None:
    """Forget every verified token and close the database breaker (tests): the process's one
    reset (``annoris.state.reset``); ``clock``: the breakers' time source from now on."""
    state.reset(clock)
