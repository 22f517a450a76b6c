"""Writes to sessions. Views, admin and the sync engine go through these."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q

from annoris import crypto
from annoris.encryption import decrypt_text, encrypt_text, primary_key_id
from projects_app.models import Project
from projects_app.services import project_get_or_create
from sessions_app import cache as session_cache
from sessions_app.documents import ParsedDocument
from sessions_app.models import Session


class SessionIdConflict(Exception):
    """Two files claim the same session id (a copied front matter ``id:``)."""


def content_checksum(text: str) -> str:
    """MD5 hex of the plaintext, as stored in ``Session.checksum``."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - a checksum, not security


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
        "content": encrypt_text(parsed.content),
        "checksum": content_checksum(parsed.content),
        "size": len(parsed.content.encode("utf-8")),
        "github_path": path,
        "github_sha": sha,
        "last_synced": synced_at,
        "deleted_at": None,
    }


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
    its front matter ``id:`` moves a session to its new path. Once the transaction
    commits, the cached copy is refreshed (and a replaced id's entry dropped).
    ``projects`` memoises project lookups across the calls of one sync run.
    """
    # One query finds both the row at this path and the row with this id (often the same).
    found = list(Session.objects.filter(Q(github_path=path) | Q(id=session_id)).order_by())
    at_path = next((r for r in found if r.github_path == path), None)
    row = next((r for r in found if r.id == session_id), None)
    if at_path is not None and at_path.id != session_id:
        at_path.delete()  # the file's id changed (front matter id added or edited): GitHub wins
        _on_commit_drop([at_path.id])
    if row is not None and row.github_path != path and row.deleted_at is None:
        raise SessionIdConflict(f"session id {session_id} is already used by {row.github_path}")
    action = "added" if row is None else ("restored" if row.deleted_at else "updated")
    row = row or Session(id=session_id, created_at=parsed.created_at)
    if parsed.date_source != "fallback" or action == "added":
        row.created_at = parsed.created_at
    row.project = _project(parsed.project, projects)
    for name, value in session_fields_from_source(
        path=path, sha=sha, parsed=parsed, synced_at=synced_at
    ).items():
        setattr(row, name, value)
    # The id has no default, so a plain save() of a new row would try an UPDATE first.
    row.save(force_insert=action == "added")
    if session_cache.enabled():
        transaction.on_commit(partial(session_cache.set_rows, [row]))
    return action


def _project(name: str | None, memo: dict[str, Project] | None) -> Project | None:
    if not name:
        return None
    if memo is None:
        return project_get_or_create(name=name)
    key = name.strip().casefold()
    if key not in memo:
        memo[key] = project_get_or_create(name=name)
    return memo[key]


def session_soft_delete_missing(*, paths: list[str], deleted_at: datetime) -> int:
    """Mark the live sessions at ``paths`` deleted (their files left the repository).

    After commit the cached copies are refreshed, so every process sees the deletion.
    """
    rows = Session.objects.live().filter(github_path__in=paths)
    ids = list(rows.values_list("id", flat=True)) if session_cache.enabled() else []
    count = rows.update(deleted_at=deleted_at)
    _on_commit_refresh(ids)
    return count


def session_cache_refresh(*, session_ids: list[uuid.UUID]) -> None:
    """Put the committed rows for ``session_ids`` in the cache; ids with no row are dropped.

    For writes that change rows in bulk (soft deletes, key rotation, a future API write):
    called after commit, so other processes never read a cached row older than the database.
    """
    if not session_ids or not session_cache.enabled():
        return
    try:
        rows = list(Session.objects.select_related("project").filter(id__in=session_ids))
    except DatabaseError:
        session_cache.drop(session_ids)  # cannot read the truth back: make the next read go to it
        return
    session_cache.set_rows(rows)
    session_cache.drop(set(session_ids) - {row.id for row in rows})


def sessions_project_changed(*, project_id: uuid.UUID) -> None:
    """Refresh the cached sessions of a project whose row changed (its name is cached with them)."""
    if session_cache.enabled():
        ids = list(Session.objects.filter(project_id=project_id).values_list("id", flat=True))
        _on_commit_refresh(ids)


def _on_commit_refresh(session_ids: list[uuid.UUID]) -> None:
    if session_ids and session_cache.enabled():
        transaction.on_commit(partial(session_cache_refresh, session_ids=session_ids))


def _on_commit_drop(session_ids: list[uuid.UUID]) -> None:
    if session_cache.enabled():
        transaction.on_commit(partial(session_cache.drop, session_ids))


@dataclass
class RotationReport:
    rotated: int = 0
    from_keys: Counter = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)  # session id -> error


def sessions_rotate_keys(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> RotationReport:
    """Re-encrypt every session not under the primary key, one committed batch at a time.

    Each batch commits on its own, so an interrupted run keeps its progress and a
    second run picks up what is left. Rows that cannot be decrypted (their key
    is gone) are reported and left untouched.
    """
    prefix = f"{crypto.PREFIX}{primary_key_id()}:"
    report = RotationReport()
    while True:
        with transaction.atomic():
            rows = list(
                Session.objects.exclude(content__startswith=prefix)
                .exclude(id__in=list(report.failed))
                .select_for_update()
                .only("id", "content")[:batch_size]
            )
            if not rows:
                return report
            done = [row for row in rows if _reencrypt(row, report)]
            Session.objects.bulk_update(done, ["content"])
            _on_commit_refresh([row.id for row in done])  # the old ciphertext must not outlive its key
        report.rotated += len(done)
        if progress:
            progress(report.rotated)


def _reencrypt(row: Session, report: RotationReport) -> bool:
    try:
        old_key = crypto.key_id_of(row.content)
        row.content = encrypt_text(decrypt_text(row.content))
    except crypto.DecryptionError as exc:
        report.failed[str(row.id)] = str(exc)
        return False
    report.from_keys[old_key] += 1
    return True
