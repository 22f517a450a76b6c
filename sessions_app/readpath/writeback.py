"""Database write-backs of source hits read while the database was down: in this process's
memory (bounded, one per id), never over a newer row, drained ``DRAIN_PER_READ`` per read.
A process that dies loses its queue harmlessly: GitHub is the master copy."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import DatabaseError, IntegrityError, transaction

from annoris import database
from sessions_app.models import Session
from sessions_app.readpath import invalidation
from sessions_app.readpath import state as _state
from sessions_app.services import SessionRefused, session_upsert_from_source

if TYPE_CHECKING:
    from sessions_app.readpath.source import SourceHit

logger = logging.getLogger("annoris.readpath.writeback")

LIMIT = 1000  # sessions kept for write-back; beyond that the oldest are left to the next sync
DRAIN_PER_READ = 5  # queued write-backs one read applies for others, at most


def apply(hit: SourceHit) -> bool:
    """Write ``hit`` unless the database holds it or newer; True if written. Raises
    OperationalError/InterfaceError on an outage (the caller queues it), DataError for its data."""
    with transaction.atomic():
        current = Session.objects.filter(id=hit.session_id).values("last_synced", "github_sha", "deleted_at")
        row = current.first()
        if row is not None and (row["last_synced"] >= hit.read_at or _same(row, hit)):
            # The database has it already; the cache may hold the row built from the source
            # (its project with default fields): refresh it from the database.
            invalidation.sessions_changed([hit.session_id])
            return False
        try:  # the upsert is atomic itself: a failure rolls back to its savepoint only
            session_upsert_from_source(
                session_id=hit.session_id,
                path=hit.path,
                sha=hit.sha,
                parsed=hit.parsed,
                synced_at=hit.read_at,
            )
        except (SessionRefused, IntegrityError) as exc:  # an id conflict, a value no column holds
            logger.warning("write-back of %s skipped: %s", hit.path, exc)
            return False
    return True


def _same(row: dict, hit: SourceHit) -> bool:
    return row["github_sha"] == hit.sha and row["deleted_at"] is None


def queue(hit: SourceHit) -> None:
    """Keep ``hit`` for when the database answers again (a newer read of the same id replaces it)."""
    state = _state.STATE
    with state.write_backs_lock:
        state.write_backs.pop(hit.session_id, None)
        state.write_backs[hit.session_id] = hit
        while len(state.write_backs) > LIMIT:
            dropped = state.write_backs.popitem(last=False)[1]
            logger.warning("write-back queue full: %s left to the next sync", dropped.path)


def pending_count() -> int:
    return len(_state.STATE.write_backs)


def drain(limit: int = DRAIN_PER_READ) -> int:
    """Apply up to ``limit`` queued write-backs, oldest first; how many were written. An outage
    stops it (the rest stay queued); an entry refused as data is dropped with a log line."""
    state = _state.STATE
    written = 0
    for _ in range(limit):
        with state.write_backs_lock:
            if not state.write_backs:
                break
            session_id, hit = next(iter(state.write_backs.items()))
        try:
            done = database.call(lambda hit=hit: apply(hit))
        except DatabaseError as exc:  # data, not an outage
            logger.warning("write-back of %s dropped: the database refuses it: %s", hit.path, exc)
            done = False
        if done is database.DOWN:
            break
        written += done
        with state.write_backs_lock:
            if state.write_backs.get(session_id) is hit:
                del state.write_backs[session_id]
    if written:
        logger.info("applied %d queued write-back(s); %d left", written, pending_count())
    return written
