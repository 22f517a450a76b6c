"""Database write-backs of sessions read from the source, queued while the database is down.

The queue lives in this process's memory (bounded, one entry per session id): it holds
what was read while the database could not be written, and is drained by the read path
on the first database call that succeeds. A write-back never overwrites a newer row: a
sync that ran meanwhile (in any process) wins.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from sessions_app.models import Session
from sessions_app.services import SessionIdConflict, session_upsert_from_source

if TYPE_CHECKING:
    from sessions_app.readsource import SourceHit

logger = logging.getLogger("annoris.readpath.writeback")

LIMIT = 1000  # sessions kept for write-back; beyond that the oldest are left to the next sync
_pending: OrderedDict[uuid.UUID, SourceHit] = OrderedDict()
_lock = threading.Lock()


def apply(hit: SourceHit) -> bool:
    """Write ``hit`` to the database unless it holds the same or a newer version; True if written.

    Raises DatabaseError when the database cannot be reached (the caller queues the hit).
    """
    with transaction.atomic():
        current = Session.objects.filter(id=hit.session_id).values("last_synced", "github_sha", "deleted_at")
        row = current.first()
        if row is not None and (row["last_synced"] >= hit.read_at or _same(row, hit)):
            return False
        try:  # the upsert is atomic itself: a failure rolls back to its savepoint only
            session_upsert_from_source(
                session_id=hit.session_id,
                path=hit.path,
                sha=hit.sha,
                parsed=hit.parsed,
                synced_at=hit.read_at,
            )
        except (SessionIdConflict, IntegrityError) as exc:
            logger.warning("write-back of %s skipped: %s", hit.path, exc)
            return False
    return True


def _same(row: dict, hit: SourceHit) -> bool:
    return row["github_sha"] == hit.sha and row["deleted_at"] is None


def queue(hit: SourceHit) -> None:
    """Keep ``hit`` for when the database answers again (a newer read of the same id replaces it)."""
    with _lock:
        _pending.pop(hit.session_id, None)
        _pending[hit.session_id] = hit
        while len(_pending) > LIMIT:
            dropped = _pending.popitem(last=False)[1]
            logger.warning("write-back queue full: %s left to the next sync", dropped.path)


def pending_count() -> int:
    return len(_pending)


def drain(limit: int = 100) -> int:
    """Apply up to ``limit`` queued write-backs, oldest first; returns how many were written.

    Raises DatabaseError if the database fails again; what was not applied stays queued.
    """
    written = 0
    for _ in range(limit):
        with _lock:
            if not _pending:
                break
            session_id, hit = next(iter(_pending.items()))
        written += apply(hit)  # raises before the entry is removed: it is kept
        with _lock:
            if _pending.get(session_id) is hit:
                del _pending[session_id]
    if written:
        logger.info("applied %d queued write-back(s); %d left", written, len(_pending))
    return written


def reset() -> None:
    with _lock:
        _pending.clear()
