"""Writes to sessions. Views, admin and the sync engine go through these."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from annoris.encryption import encrypt_text
from annoris.errors import DomainError
from annoris.keyed_checksum import keyed_checksum
from annoris.text import NUL, SURROGATE, unstorable
from projects_app.models import Project
from projects_app.services import project_get_or_create
from sessions_app import readpath
from sessions_app.documents import ParsedDocument
from sessions_app.models import Session
from sessions_app.search import index_session


class SessionRefused(DomainError):
    """A source file the database cannot take as a session; nothing was written for it.

    ``code`` says why: ``id_conflict`` (two files claim one session id, a copied front matter
    ``id:``) or ``not_storable`` (a value no column can hold: a path past its column's length,
    a NUL, a lone surrogate).
    """

    status_code = 422

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def SessionIdConflict(message: str) -> SessionRefused:  # reads as the refusal it makes
    return SessionRefused(message, code="id_conflict")


def SessionNotStorable(message: str) -> SessionRefused:
    return SessionRefused(message, code="not_storable")


_TEXT_COLUMNS = ("github_path", "github_sha", "title", "status", "priority", "next_step")


def session_check_storable(fields: dict[str, Any]) -> None:
    """Raise SessionNotStorable, naming the column and why, when ``fields`` cannot be stored as is."""
    for name in _TEXT_COLUMNS:
        value = fields[name]
        limit = Session._meta.get_field(name).max_length
        if len(value) > limit:
            raise SessionNotStorable(
                f"{_LABELS.get(name, name)} is {len(value)} characters long (limit {limit})"
            )
        why = unstorable(value)
        if why:
            raise SessionNotStorable(f"{_LABELS.get(name, name)} contains {_UNSTORABLE_WHAT[why]}")


_LABELS = {"github_path": "path", "github_sha": "blob SHA", "next_step": "next"}
_UNSTORABLE_WHAT = {NUL: "a NUL character", SURROGATE: "bytes that are not UTF-8"}


def content_checksum(text: str) -> str:
    """The keyed checksum of the plaintext, as stored in ``Session.checksum`` (never a bare MD5,
    which would confirm a guessed document to whoever holds the database: issue #20)."""
    return keyed_checksum(text)


def session_fields_from_source(
    *, path: str, sha: str, parsed: ParsedDocument, synced_at: datetime
) -> dict[str, Any]:
    """The columns a source file sets (content encrypted), project excepted; no database access."""
    return {
        "title": parsed.title[:300],
        "status": parsed.status[:100],
        "state": parsed.state,
        "priority": parsed.priority[:50],
        "next_step": parsed.next[:500],
        "created_time": parsed.created_time[:20],
        "undated": parsed.undated,
        "content": encrypt_text(parsed.content),
        "checksum": content_checksum(parsed.content),
        "size": len(parsed.content.encode("utf-8")),
        "github_path": path,
        "github_sha": sha,
        "last_synced": synced_at,
        "deleted_at": None,
    }


def session_check_path(path: str) -> None:
    """Raise SessionNotStorable when no session can be kept at ``path`` (checked before reading it)."""
    limit = Session._meta.get_field("github_path").max_length
    if len(path) > limit:
        raise SessionNotStorable(f"path is {len(path)} characters long (limit {limit})")
    why = unstorable(path)
    if why:
        raise SessionNotStorable(f"path contains {_UNSTORABLE_WHAT[why]}")


@transaction.atomic
def session_upsert_from_source(
    *,
    session_id: uuid.UUID,
    path: str,
    sha: str,
    parsed: ParsedDocument,
    synced_at: datetime,
    projects: dict[str, Project] | None = None,
) -> str:
    """Create, update or restore the session for ``path``; returns 'added', 'updated' or 'restored'.

    Soft-deleted rows are restored in place, which is how a rename that keeps
    its front matter ``id:`` moves a session to its new path. The cached copies of both
    ids are invalidated durably in the same transaction (readpath.sessions_changed).
    ``projects`` memoises project lookups across the calls of one sync run.
    """
    fields = session_fields_from_source(path=path, sha=sha, parsed=parsed, synced_at=synced_at)
    session_check_storable(fields)
    # One query finds both the row at this path and the row with this id (often the same).
    found = list(Session.objects.filter(Q(github_path=path) | Q(id=session_id)).order_by())
    at_path = next((r for r in found if r.github_path == path), None)
    row = next((r for r in found if r.id == session_id), None)
    if at_path is not None and at_path.id != session_id:
        replaced = at_path.id  # delete() sets the instance's pk to None
        at_path.delete()  # the file's id changed (front matter id added or edited): GitHub wins
        readpath.sessions_changed([replaced])
    if row is not None and row.github_path != path and row.deleted_at is None:
        raise SessionIdConflict(f"session id {session_id} is already used by {row.github_path}")
    action = "added" if row is None else ("restored" if row.deleted_at else "updated")
    row = row or Session(id=session_id, created_at=parsed.created_at)
    if parsed.date_source != "fallback" or action == "added":
        row.created_at = parsed.created_at
    row.project = project_for(parsed.project, projects)
    for name, value in fields.items():
        setattr(row, name, value)
    # The id has no default, so a plain save() of a new row would try an UPDATE first.
    row.save(force_insert=action == "added")
    index_session(session_id=row.id, title=row.title, text=parsed.content)
    readpath.sessions_changed([row.id])
    return action


def session_soft_delete_missing(*, paths: list[str], deleted_at: datetime) -> int:
    """Mark the live sessions at ``paths`` deleted (their files left the repository).

    The cached copies are invalidated durably, so every process sees the deletion.
    """
    with transaction.atomic():
        rows = Session.objects.live().filter(github_path__in=paths)
        ids = list(rows.values_list("id", flat=True)) if readpath.cache_enabled() else []
        count = rows.update(deleted_at=deleted_at)
        readpath.sessions_changed(ids)
    return count


def sessions_project_changed(*, project_id: uuid.UUID) -> None:
    """Invalidate the cached sessions of a project whose row changed (it is cached with them)."""
    if readpath.cache_enabled():
        readpath.sessions_changed(Session.objects.filter(project_id=project_id).values_list("id", flat=True))


def project_for(name: str | None, memo: dict[str, Project] | None) -> Project | None:
    """The project named ``name`` (created when new), through ``memo`` for a batch."""
    if not name:
        return None
    if memo is None:
        return project_get_or_create(name=name)
    key = name.strip().casefold()
    if key not in memo:
        memo[key] = project_get_or_create(name=name)
    return memo[key]
