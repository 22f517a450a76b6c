"""``Idempotency-Key``: a client that retries a write gets the first answer, not a second write.

The key is claimed by inserting a row before the write runs; the unique constraint on
(owner, key) makes a concurrent duplicate find that row instead of running too. The
first request stores its answer on success; a refused request (4xx) releases the key so
the client can correct the request and send it again with the same key. A key whose
request never finished (its process died) is taken over after
``ANNORIS_IDEMPOTENCY_LOCK_SECONDS``; keys expire after ``ANNORIS_IDEMPOTENCY_TTL``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from sessions_app.models import IdempotencyKey
from sessions_app.writes.errors import IdempotencyInProgress, IdempotencyMismatch, InvalidDocument

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredAnswer:
    """The answer the first request with this key got."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(*parts: Any) -> str:
    """SHA-256 of the request's parts (method, path, body, preconditions) as canonical JSON."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        raise InvalidDocument(message, errors={"Idempotency-Key": [message]})
    return key


def idempotency_claim(*, owner: str, key: str, fingerprint: str) -> IdempotencyKey | StoredAnswer:
    """Claim ``key`` for this request (returns the row), or return the first request's answer.

    Raises IdempotencyMismatch when the key was used for another request and
    IdempotencyInProgress while the first request with it is still running.
    """
    check_key(key)
    now = timezone.now()
    expires = now + timedelta(seconds=settings.ANNORIS_IDEMPOTENCY_TTL)
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                owner=owner, key=key, fingerprint=fingerprint, created_at=now, expires_at=expires
            )
    except IntegrityError:
        pass
    row = IdempotencyKey.objects.filter(owner=owner, key=key).first()
    if row is None:  # released between our insert and this read: try once more
        return idempotency_claim(owner=owner, key=key, fingerprint=fingerprint)
    stale = now - timedelta(seconds=settings.ANNORIS_IDEMPOTENCY_LOCK_SECONDS)
    expired = row.expires_at < now
    abandoned = row.response_status is None and row.created_at < stale and row.fingerprint == fingerprint
    if expired or abandoned:
        taken = IdempotencyKey.objects.filter(pk=row.pk, created_at=row.created_at).update(
            fingerprint=fingerprint, created_at=now, expires_at=expires, response_status=None,
            response_body=None, response_headers={},
        )  # fmt: skip
        if taken == 1:
            row.refresh_from_db()
            return row
        raise IdempotencyInProgress("A request with this Idempotency-Key is being processed; retry shortly.")
    if row.fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request; use a new key for a new request.",
            errors={"Idempotency-Key": ["Already used with a different request body."]},
        )
    if row.response_status is None:
        raise IdempotencyInProgress("A request with this Idempotency-Key is being processed; retry shortly.")
    return StoredAnswer(row.response_status, row.response_body, dict(row.response_headers or {}))


def idempotency_store(row: IdempotencyKey, answer: StoredAnswer) -> None:
    """Keep a successful answer for replays; release the key after a refusal."""
    if 200 <= answer.status < 300:
        IdempotencyKey.objects.filter(pk=row.pk).update(
            response_status=answer.status, response_body=answer.body, response_headers=answer.headers
        )
    else:
        idempotency_release(row)


def idempotency_release(row: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=row.pk, response_status__isnull=True).delete()


def idempotency_purge_expired() -> None:
    """Delete keys past their expiry (run by the outbox drain's task, beside the drain)."""
    try:
        IdempotencyKey.objects.filter(expires_at__lt=timezone.now()).delete()
    except DatabaseError:
        logger.warning("could not purge expired idempotency keys", exc_info=True)
