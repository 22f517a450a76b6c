"""The read path's order: cache -> database (``rowquery``) -> source, with write-backs.

A database hit is written back with ``add`` (never over a fresher entry); a source hit goes to
the database (or a queue while it is down) and the cache. A layer that is out is skipped for
``ANNORIS_BREAKER_COOLDOWN`` s; data that cannot be served fails that read only (422)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from annoris import crypto, database
from annoris.sources.base import Source, SourceUnavailable, session_id_for
from sessions_app.models import Session
from sessions_app.readpath import cache, invalidation, rendered, writeback
from sessions_app.readpath import source as source_layer
from sessions_app.readpath.errors import SessionNotFound, SessionUnavailable, SessionUnreadable
from sessions_app.readpath.rowquery import session_by

logger = logging.getLogger("annoris.readpath")

DOWN = database.DOWN

_NO_DATABASE_ID = "the database is down and the source listing has no file for this id (a front matter id is only found through the database or the cache)"  # noqa: E501


class FetchResult(NamedTuple):
    """A session (the caller's own: change it freely), the layer that served it, the ms taken."""

    session: Session
    layer: str
    elapsed_ms: float


def fetch(session_id: uuid.UUID | str, *, source: Source | None = None) -> FetchResult:
    """The live session: cache, database, source. Raises SessionNotFound (a malformed id too),
    SessionUnavailable (an outage) or SessionUnreadable (its data)."""
    started = time.perf_counter()
    try:
        sid = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        raise SessionNotFound(f"{session_id!r} is not a session id") from None
    _work_for_others()
    row = cache.get_row(sid)
    if row is not None and _decryptable(row):
        return _result(row, "cache", started)
    found = _database(lambda: session_by("pk", sid), f"session {sid}")
    if found is not DOWN and found is not None:
        cache.add_row(found)
        return _result(found, "database", started)
    src = source or source_layer.read_source()
    # Without the database, an id the listing cannot derive may be a front matter id: unknown, not absent.
    absent = SessionUnavailable(_NO_DATABASE_ID) if found is DOWN else SessionNotFound("no such session")
    find = lambda: source_layer.find_by_id(sid, source=src, hint=cache.path_of(sid))  # noqa: E731
    return _from_source(find, src, found is DOWN, started, absent=absent)


def cached_answer(session_id: str) -> tuple[rendered.Answer, float] | None:
    """The API's cached answer (``rendered``) and the ms taken; None: ``fetch`` answers."""
    started = time.perf_counter()
    _work_for_others()  # pending invalidations first, as for every read
    answer = cache.get_answer(session_id)
    return None if answer is None else (answer, (time.perf_counter() - started) * 1000)


def fetch_by_path(path: str, *, sha: str | None = None, source: Source | None = None) -> FetchResult:
    """The live session at ``path``, as ``fetch``; with ``sha``, that version or newer only."""
    started = time.perf_counter()
    src = source or source_layer.read_source()
    _work_for_others()
    row = _cached_at(path, src)
    if row is not None and (sha is None or row.github_sha == sha):
        return _result(row, "cache", started)
    found = _database(lambda: session_by("github_path", path), f"the session at {path!r}")
    if found is not DOWN and found is not None and (sha is None or found.github_sha == sha):
        cache.add_row(found)
        return _result(found, "database", started)
    find = lambda: source_layer.read_path(path, source=src)  # noqa: E731
    return _from_source(find, src, found is DOWN, started, absent=SessionNotFound("no such session"))


def _work_for_others() -> None:
    """The bounded work one read does for the process: a due invalidation sweep, a few write-backs."""
    invalidation.sweep_if_due()
    if writeback.pending_count():
        writeback.drain()


def _database(query: Callable[[], Session | None], what: str) -> Session | None:
    """The database layer's answer, DOWN on an outage; a data error fails this read only."""
    try:
        return database.call(query)
    except DatabaseError as exc:
        logger.warning("%s cannot be served: the database refuses it: %s: %s", what, type(exc).__name__, exc)
        raise SessionUnreadable(f"{what} cannot be served: the database refuses its data") from None


def _cached_at(path: str, src: Source) -> Session | None:
    """The cached row at ``path``: under the id derived from it, else the path -> id map's id."""
    derived = session_id_for(src.repository, path)
    row = _cached_row(derived, path)
    if row is not None:
        return row
    mapped = cache.id_at(path)
    return _cached_row(mapped, path) if mapped is not None and mapped != derived else None


def _cached_row(session_id: uuid.UUID, path: str) -> Session | None:
    row = cache.get_row(session_id)
    return row if row is not None and row.github_path == path and _decryptable(row) else None


Find = Callable[[], source_layer.SourceHit | None]


def _from_source(
    find: Find, src: Source, database_down: bool, started: float, *, absent: Exception
) -> FetchResult:
    """Read from the source and write back; ``absent`` is raised when the source does not have it."""
    try:
        hit = find()
    except SourceUnavailable as exc:
        if not database_down:
            raise SessionNotFound("not in the database; the source cannot be asked now") from None
        raise SessionUnavailable(
            f"sessions are unavailable: the database and the source are down ({exc})"
        ) from None
    if hit is None:
        raise absent
    row = source_layer.build_row(hit)
    # Written to the database, the upsert refreshes the cache after commit; queued, we do it here.
    if database_down or _database(lambda: writeback.apply(hit), f"the file {hit.path!r}") is DOWN:
        writeback.queue(hit)
        cache.set_rows([row])  # the source is the master copy: newer than anything cached
    return _result(row, src.kind, started)


def _result(row: Session, layer: str, started: float) -> FetchResult:
    if row.deleted_at is not None:
        raise SessionNotFound("the session was deleted from the repository")
    _check_servable(row)
    return FetchResult(session=row, layer=layer, elapsed_ms=(time.perf_counter() - started) * 1000)


def _check_servable(row: Session) -> None:
    """Refuse, with a sentence, dates at the calendar's edge the local time zone cannot show."""
    for name in ("created_at", "last_synced"):
        value: datetime | None = getattr(row, name)
        if value is not None and value.year in (1, 9999):
            try:
                timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
            except (OverflowError, ValueError):
                logger.warning("session %s has a %s outside the calendar: %r", row.id, name, value)
                raise SessionUnreadable(
                    f"session {row.id} has a {name} that cannot be shown in the time zone "
                    f"{timezone.get_current_timezone_name()}"
                ) from None


def _decryptable(row: Session) -> bool:
    """A cached row under a retired key is a miss (key id read in place: no copy of the token)."""
    content, start = row.content, len(crypto.PREFIX)
    end = content.find(":", start) if isinstance(content, str) and content.startswith(crypto.PREFIX) else -1
    return end > 0 and content[start:end] in settings.ANNORIS_KEYRING.ids
