"""OAuth access tokens at the resource server: checked like API tokens (annoris/api/tokens.py).

A token this process verified less than ``ANNORIS_TOKEN_RECHECK`` seconds ago costs a dict
lookup; then one query reads it again from DOT's table (joined to its client, user and
refresh-token family, with the connection's last use). Revocation therefore reaches every
process within that bound, and the process that revokes forgets the tokens at once. The
connection's "last used" is written only when it is ``LAST_USED_PRECISION`` seconds old, so
a recheck is one query, and an update at most every five minutes per connection.

The memory is keyed by the token's SHA-256, the value DOT stores (``token_checksum``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from oauth2_provider.models import AccessToken

from annoris.api.tokens import (
    READ,
    WRITE,
    InvalidToken,
    TokenAuth,
    TokenCheckUnavailable,
    TokenMemory,
    digest_of,
)
from annoris.oauth.models import Connection

FIELDS = (
    "expires", "scope", "resource", "user_id", "user__username", "user__is_active", "application__name",
    "refresh_token__token_family", "last_used",
)  # fmt: skip
LAST_USED_PRECISION = 300  # seconds: how far behind a connection's "last used" may be


class WrongResource(InvalidToken):
    """A valid token issued for another resource (RFC 8707 audience)."""


@dataclass(frozen=True)
class OAuthGrant:
    """What a verified OAuth access token allows; ``auth`` is what DRF's ``request.auth`` gets."""

    auth: TokenAuth
    user_id: int
    username: str
    resource: str
    family: uuid.UUID | None

    def expired(self, now: float) -> bool:
        return self.auth.expired(now)


memory = TokenMemory()


def verify(token: str, *, resource: str) -> OAuthGrant:
    """The grant of ``token`` on ``resource``; raises InvalidToken (or WrongResource) or
    TokenCheckUnavailable."""
    digest = digest_of(token)
    entry = memory.get(digest)
    now = memory.clock()
    if entry is not None and now - entry.checked < settings.ANNORIS_TOKEN_RECHECK:
        grant = entry.auth
    else:
        grant = _check_database(digest, entry, now)
    if grant.expired(time.time()):
        memory.forget(digest)
        raise InvalidToken("token expired")
    if grant.resource != resource:
        raise WrongResource("token issued for another resource")
    return grant


def _check_database(digest: str, entry: object, now: float) -> OAuthGrant:
    last_used = Connection.objects.filter(token_family=OuterRef("refresh_token__token_family"))
    try:
        row = (
            AccessToken.objects.filter(token_checksum=digest)
            .annotate(last_used=Subquery(last_used.values("last_used_at")[:1]))
            .values(*FIELDS)
            .first()
        )
    except DatabaseError:
        remembered = getattr(entry, "auth", None)
        if remembered is not None and now - entry.checked < settings.ANNORIS_TOKEN_MEMORY_TTL:  # type: ignore[attr-defined]
            return remembered
        raise TokenCheckUnavailable(
            "the database is unavailable and this token was not seen recently"
        ) from None
    grant = _grant_of(row)
    if grant is None:
        memory.forget(digest)
        raise InvalidToken("invalid, revoked or expired token")
    memory.put(digest, grant)  # type: ignore[arg-type]  (the memory holds any verified identity)
    if row["last_used"] is None or (timezone.now() - row["last_used"]).total_seconds() > LAST_USED_PRECISION:
        _touch(grant.family)
    return grant


def _grant_of(row: dict | None) -> OAuthGrant | None:  # type: ignore[type-arg]
    """None unless the row is a live user's token for exactly one resource with read or write."""
    if row is None or row["user_id"] is None or not row["user__is_active"]:
        return None
    resources = row["resource"] or []
    scopes = set((row["scope"] or "").split())
    scope = WRITE if WRITE in scopes else READ if READ in scopes else None
    if len(resources) != 1 or scope is None:  # e.g. DOT's registration tokens: no resource, no scope
        return None
    client = row["application__name"] or "OAuth client"
    auth = TokenAuth(
        scope=scope, name=f"{client} for {row['user__username']}", expires_at=row["expires"].timestamp()
    )
    return OAuthGrant(
        auth=auth,
        user_id=row["user_id"],
        username=row["user__username"],
        resource=resources[0],
        family=row["refresh_token__token_family"],
    )


def _touch(family: uuid.UUID | None) -> None:
    if family is None:
        return
    try:
        Connection.objects.filter(token_family=family).update(last_used_at=timezone.now())
    except DatabaseError:  # bookkeeping only
        pass


def forget(digests: list[str]) -> None:
    """Drop tokens from this process's memory (they were just revoked here)."""
    for digest in digests:
        memory.forget(digest)
