"""The read path: cache -> database -> source, with write-backs and a breaker per layer.

``fetch(id)`` and ``fetch_by_path(path)`` (exposed as ``Session.objects.fetch*``) try:

1. the cache (only when ``ANNORIS_SESSION_CACHE`` is set);
2. the database (one query, its SQL compiled once per connection: see ``rowquery``); a hit
   is written back to the cache (``add``: never over a fresher entry);
3. the source (GitHub, or the local folder); a hit is written to the database (queued in
   this process while the database is down, applied on its first successful call) and the
   cache.

A layer that fails is skipped for ``ANNORIS_BREAKER_COOLDOWN`` seconds (its breaker is
open), so a dead layer adds nothing to later reads. When the database fails, Django's
connection is closed so the next try reconnects. Soft-deleted sessions are not found.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection

from annoris import crypto
from annoris.breaker import CircuitBreaker
from annoris.sources.base import Source, session_id_for
from sessions_app import cache, readsource, rowquery, writeback
from sessions_app.models import Session

logger = logging.getLogger("annoris.readpath")

database_breaker = CircuitBreaker("session database", cooldown=lambda: settings.ANNORIS_BREAKER_COOLDOWN)
DOWN: Any = object()  # sentinel: the database layer could not answer
T = TypeVar("T")


_NO_DATABASE_ID = (
    "the database is down and the source listing has no file for this id "
    "(a front matter id is only found through the database or the cache)"
)


class SessionNotFound(Exception):
    """No layer that answered has the session (or it was deleted from the repository)."""


class SessionUnavailable(Exception):
    """Neither the database nor the source could answer, and the cache did not have it."""


@dataclass(frozen=True)
class FetchResult:
    """A session, the layer that served it (cache, database, github or local) and the time taken."""

    session: Session
    layer: str
    elapsed_ms: float


def fetch(session_id: uuid.UUID | str, *, source: Source | None = None) -> FetchResult:
    """The live session ``session_id``: cache, then database, then source.

    Raises SessionNotFound (also for a malformed id) or SessionUnavailable.
    """
    started = time.perf_counter()
    try:
        sid = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        raise SessionNotFound(f"{session_id!r} is not a session id") from None
    _drain_write_backs()
    row = cache.get_row(sid)
    if row is not None and _decryptable(row):
        return _result(row, "cache", started)
    found = database_call(lambda: rowquery.session_by("pk", sid))
    if found is not DOWN and found is not None:
        cache.add_row(found)
        return _result(found, "database", started)
    src = source or readsource.read_source()
    # Without the database, an id the listing cannot derive may be a front matter id: unknown, not absent.
    absent = SessionUnavailable(_NO_DATABASE_ID) if found is DOWN else SessionNotFound("no such session")
    find = lambda: readsource.find_by_id(sid, source=src, hint=cache.path_of(sid))  # noqa: E731
    return _from_source(find, src, found is DOWN, started, absent=absent)


def fetch_by_path(path: str, *, sha: str | None = None, source: Source | None = None) -> FetchResult:
    """The live session stored at ``path``, in the same order as ``fetch``.

    With ``sha`` (a blob SHA the caller knows is current), a cached or database copy at
    another SHA is passed over, so the answer is that version or newer.
    """
    started = time.perf_counter()
    src = source or readsource.read_source()
    _drain_write_backs()
    row = _cached_at(path, src)
    if row is not None and (sha is None or row.github_sha == sha):
        return _result(row, "cache", started)
    found = database_call(lambda: rowquery.session_by("github_path", path))
    if found is not DOWN and found is not None and (sha is None or found.github_sha == sha):
        cache.add_row(found)
        return _result(found, "database", started)
    find = lambda: readsource.read_path(path, source=src)  # noqa: E731
    return _from_source(find, src, found is DOWN, started, absent=SessionNotFound("no such session"))


def _cached_at(path: str, source: Source) -> Session | None:
    """The cached row at ``path``: under the id derived from the path, else under the id the
    cache's path -> id map names (a front matter id), asked only when the first misses."""
    derived = session_id_for(source.repository, path)
    row = _cached_row(derived, path)
    if row is not None:
        return row
    mapped = cache.id_at(path)
    return _cached_row(mapped, path) if mapped is not None and mapped != derived else None


def _cached_row(session_id: uuid.UUID, path: str) -> Session | None:
    row = cache.get_row(session_id)
    return row if row is not None and row.github_path == path and _decryptable(row) else None


def _from_source(
    find: Callable[[], readsource.SourceHit | None],
    source: Source,
    database_down: bool,
    started: float,
    *,
    absent: Exception,
) -> FetchResult:
    """Read from the source and write back; ``absent`` is raised when the source does not have it."""
    try:
        hit = find()
    except readsource.SourceDown as exc:
        if not database_down:
            raise SessionNotFound("not in the database; the source cannot be asked now") from None
        raise SessionUnavailable(
            f"sessions are unavailable: the database and the source are down ({exc})"
        ) from None
    if hit is None:
        raise absent
    row = readsource.build_row(hit)
    # Written to the database, the upsert refreshes the cache after commit; queued, we do it here.
    if database_down or database_call(lambda: writeback.apply(hit)) is DOWN:
        writeback.queue(hit)
        cache.set_rows([row])  # the source is the master copy: newer than anything cached
    return _result(row, readsource.layer_name(source), started)


def _result(row: Session, layer: str, started: float) -> FetchResult:
    if row.deleted_at is not None:
        raise SessionNotFound("the session was deleted from the repository")
    return FetchResult(session=row, layer=layer, elapsed_ms=(time.perf_counter() - started) * 1000)


def _decryptable(row: Session) -> bool:
    """A cached row under a key no longer configured is a miss, not a failed read."""
    try:
        return crypto.key_id_of(row.content) in settings.ANNORIS_KEYRING.ids
    except crypto.DecryptionError:
        return False


# -- the database layer ------------------------------------------------------------------


def database_call(query: Callable[[], T]) -> T:
    """Run ``query`` through the database breaker: DOWN when it is open or the query fails."""
    if not database_breaker.allow():
        return DOWN
    try:
        result = query()
    except DatabaseError as exc:
        database_breaker.record_failure(exc)
        _reset_connection()
        return DOWN
    database_breaker.record_success()
    return result


def _reset_connection() -> None:
    """Drop the broken connection so the next try opens a new one (not inside a transaction)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass  # it was dead anyway


def _drain_write_backs() -> None:
    """Apply queued write-backs once the database answers (probing it after each cool-down)."""
    if writeback.pending_count():
        database_call(writeback.drain)


def breakers() -> dict[str, CircuitBreaker]:
    """The breaker of each layer, for /health."""
    return {"cache": cache.breaker, "database": database_breaker, "source": readsource.breaker}


def reset() -> None:
    """Close every breaker, empty the queue and forget the source (tests)."""
    database_breaker.reset()
    rowquery.reset()
    cache.reset()
    readsource.reset()
    writeback.reset()
