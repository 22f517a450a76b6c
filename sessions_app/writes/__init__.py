"""Writing session documents through the source, with an outbox for when GitHub is away.

The public face: ``session_create``, ``session_update``, ``session_edit``, ``session_delete`` (source first,
then database and cache), the outbox (``outbox_drain`` and the admin's retry/discard),
``Idempotency-Key`` handling, and the errors each write can be refused with.
"""

from __future__ import annotations

from sessions_app.readpath.errors import SessionNotFound
from sessions_app.writes.edit import Edit, session_edit
from sessions_app.writes.errors import (
    IdempotencyInProgress,
    IdempotencyMismatch,
    InvalidDocument,
    PathExists,
    PreconditionFailed,
    PreconditionRequired,
    SecretFound,
    SourceRefused,
    WriteError,
)
from sessions_app.writes.idempotency import (
    StoredAnswer,
    fingerprint,
    idempotency_claim,
    idempotency_purge_expired,
    idempotency_release,
    idempotency_store,
)
from sessions_app.writes.outbox import outbox_drain
from sessions_app.writes.outbox_actions import outbox_counts, outbox_discard, outbox_retry
from sessions_app.writes.service import WriteOutcome, session_create, session_delete, session_update

__all__ = [
    "Edit",
    "IdempotencyInProgress",
    "IdempotencyMismatch",
    "InvalidDocument",
    "PathExists",
    "PreconditionFailed",
    "PreconditionRequired",
    "SecretFound",
    "SessionNotFound",
    "SourceRefused",
    "StoredAnswer",
    "WriteError",
    "WriteOutcome",
    "fingerprint",
    "idempotency_claim",
    "idempotency_purge_expired",
    "idempotency_release",
    "idempotency_store",
    "outbox_counts",
    "outbox_discard",
    "outbox_drain",
    "outbox_retry",
    "session_create",
    "session_delete",
    "session_edit",
    "session_update",
]
