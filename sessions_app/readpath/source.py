"""The last layer: the Source (GitHub, or a local folder), with short timeouts and few retries.
Without the database an id is found through one listing (reused ``ANNORIS_SOURCE_LISTING_TTL`` s)
or the cache's id -> path map (front matter ids)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from annoris.sources import get_source
from annoris.sources.base import (
    Source,
    SourceError,
    SourceNotFound,
    SourceUnavailable,
    git_blob_sha,
    session_id_for,
)
from projects_app.models import Project, project_id_for
from sessions_app.documents import DocumentError, ParsedDocument, parse_document
from sessions_app.models import Session
from sessions_app.readpath import state as _state
from sessions_app.readpath.errors import SessionUnreadable
from sessions_app.services import session_fields_from_source

logger = logging.getLogger("annoris.readpath.source")


@dataclass(frozen=True)
class SourceHit:
    """One file read from the source, parsed, with the id it belongs to."""

    session_id: uuid.UUID
    path: str
    sha: str
    parsed: ParsedDocument
    read_at: datetime


def read_source() -> Source:
    """This process's source for reads, rebuilt only when the settings that shape it change."""
    key = repr(
        (settings.SESSIONS_SOURCE, settings.SESSIONS_GLOB, settings.GITHUB_REPO, settings.GITHUB_BRANCH)
        + (settings.GITHUB_API_URL, settings.ANNORIS_SOURCE_TIMEOUT, settings.ANNORIS_SOURCE_RETRIES)
    )
    state = _state.STATE
    with state.source_lock:  # settings key, source, (source, listed at, id -> path)
        if state.source_memo.get("key") != key:
            state.source_memo.clear()
            state.source_memo.update(key=key, source=_build_source())
        return state.source_memo["source"]


def _build_source() -> Source:
    timeout = settings.ANNORIS_SOURCE_TIMEOUT
    return get_source(
        client_options={
            "timeout": (min(timeout, 1.0), timeout),
            "max_retries": settings.ANNORIS_SOURCE_RETRIES,
            "max_wait": timeout,  # never sleep out a rate limit inside a read
            "backoff": 0.1,
        }
    )


def find_by_id(session_id: uuid.UUID, *, source: Source, hint: str | None = None) -> SourceHit | None:
    """The file holding ``session_id``, or None when the source does not have it. Raises SourceUnavailable."""
    if hint:
        hit = read_path(hint, source=source)
        if hit is not None and hit.session_id == session_id:
            return hit
    path = _path_from_listing(session_id, source)
    if path is None or path == hint:
        return None
    hit = read_path(path, source=source)
    return hit if hit is not None and hit.session_id == session_id else None


def read_path(path: str, *, source: Source) -> SourceHit | None:
    """The file at ``path`` parsed, or None when it is absent. A file that is there but is not
    a readable session document (the sync fails it too) raises SessionUnreadable (422)."""
    try:
        raw = _guarded(lambda: source.read(path))
    except SourceNotFound:
        return None
    now = timezone.now()
    try:
        parsed = parse_document(raw, path=path, fallback_date=now)
    except DocumentError as exc:
        logger.info("source file %s is not a readable session: %s", path, exc)
        raise SessionUnreadable(f"{path} cannot be served: {exc}") from None
    session_id = parsed.session_id or session_id_for(source.repository, path)
    return SourceHit(session_id, path, git_blob_sha(raw), parsed, now)


def build_row(hit: SourceHit) -> Session:
    """An unsaved Session for ``hit``, content encrypted, project primed (no database access)."""
    fields = session_fields_from_source(path=hit.path, sha=hit.sha, parsed=hit.parsed, synced_at=hit.read_at)
    row = Session(id=hit.session_id, created_at=hit.parsed.created_at, **fields)
    if hit.parsed.project:
        name = hit.parsed.project.strip()[:255]
        row.project = Project(id=project_id_for(name), name=name)
    return row


def _path_from_listing(session_id: uuid.UUID, source: Source) -> str | None:
    state = _state.STATE
    with state.source_lock:  # GitHubSource keeps its ETag and listing in mutable state: one lister at a time
        cached = state.source_memo.get("listing")
        ttl = settings.ANNORIS_SOURCE_LISTING_TTL
        if not isinstance(cached, tuple) or cached[0] is not source or state.clock() - cached[1] > ttl:
            listing = _guarded(source.list_files)
            ids = {session_id_for(source.repository, f.path): f.path for f in listing.files}
            cached = state.source_memo["listing"] = (source, state.clock(), ids)
    return cached[2].get(session_id)


def _guarded(call):  # type: ignore[no-untyped-def]
    """Run a source call through the breaker; SourceNotFound passes through as an answer."""
    breaker = _state.STATE.source_breaker
    if not breaker.allow():
        raise SourceUnavailable(f"the source is skipped after a failure ({breaker.last_error})")
    try:
        result = call()
    except SourceNotFound:
        breaker.record_success()
        raise
    except (SourceError, OSError, ValueError) as exc:  # ValueError: a garbled answer
        breaker.record_failure(exc)
        raise SourceUnavailable(str(exc)) from None
    breaker.record_success()
    return result
