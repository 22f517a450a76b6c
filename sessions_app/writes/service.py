"""Create, update and delete session documents: the source first, then the database and cache.

These are the services the API calls (a management command could call them too). Each
write is checked before anything leaves: secrets (422), the document parses (422), the path
is safe and free (409), the writer's SHA is current (412/428). Then the source takes it:
a commit through the Contents API on GitHub, an atomic file replacement in a local folder.
When GitHub is unreachable, failing or rate limited, the write goes to the outbox and the
caller gets the entry (202). Writes to a path with open outbox entries queue behind them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from annoris.crypto import DecryptionError
from annoris.encryption import decrypt_text
from annoris.http import etag_matches
from annoris.sources.base import (
    Source,
    SourceConflict,
    SourceError,
    SourceForbidden,
    SourceNotFound,
    SourceOutcomeUnknown,
    SourceUnavailable,
    WriteResult,
    git_blob_sha,
    session_id_for,
)
from sessions_app.documents import DocumentError, ParsedDocument, edits, parse_document
from sessions_app.models import PendingWrite, Session
from sessions_app.readpath.errors import SessionNotFound
from sessions_app.writes import acceptance, document, outcome, paths, pending, secrets
from sessions_app.writes.errors import (
    InvalidDocument,
    PathExists,
    PreconditionFailed,
    PreconditionRequired,
    SecretFound,
    SourceRefused,
)
from sessions_app.writes.mirror import apply_to_database
from sessions_app.writes.outbox import outbox_enqueue, outbox_open_entries
from sessions_app.writes.source import remote_sha, write_source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteOutcome:
    """What a write did. ``queued`` is the outbox entry when the source could not take it yet;
    ``sha`` is then the blob SHA the file will have once it lands (None for a delete)."""

    operation: str
    session_id: uuid.UUID
    path: str
    sha: str | None
    commit: str | None = None
    queued: PendingWrite | None = None


# -- create -----------------------------------------------------------------------------------


def session_create(
    *,
    content: str,
    fields: dict[str, Any] | None = None,
    path: str | None = None,
    requested_by: str = "",
    source: Source | None = None,
) -> WriteOutcome:
    """Write a new session document; PathExists when its path is taken anywhere."""
    fields = fields or {}
    refuse_secrets(content=content, fields={**fields, "path": path})
    content, fields = _merge_fields(content, fields)  # the body's own fields are never overridden
    text = document.compose(content, fields)
    now = timezone.now()
    draft = _parse(text, path=path or "session.md", now=now)
    if path:
        path = paths.check_path(path)
    else:
        dated = draft.date_source in ("front_matter", "field")
        day = (draft.created_at if dated else now).date()
        path = paths.new_session_path(project=draft.project, day=day, title=draft.title)
    parsed = _parse(text, path=path, now=now)
    source = source or write_source()
    session_id = parsed.session_id or session_id_for(source.repository, path)
    with acceptance.held(session_id=session_id, path=path):  # one create per path and per id
        _refuse_taken(path, session_id)
        return _create(path, session_id, text, _message("Create", path, requested_by), requested_by, source)


def _create(
    path: str, session_id: uuid.UUID, text: str, message: str, requested_by: str, source: Source
) -> WriteOutcome:
    try:
        result = source.write(path, text.encode("utf-8"), sha=None, message=message)
    except SourceConflict:
        result = outcome.already_there(source, path, text)  # an earlier try of this very create (#20)
        if result is None:
            raise PathExists(f"{path} already exists in the source; choose another path or title.") from None
    except SourceUnavailable as exc:
        _refuse_if_not_outage(exc)
        entry = outbox_enqueue(
            operation=PendingWrite.Operation.CREATE, path=path, session_id=session_id, text=text,
            base_sha=None, message=message, requested_by=requested_by, error=str(exc),
            unknown=isinstance(exc, SourceOutcomeUnknown),
        )  # fmt: skip
        return WriteOutcome("create", session_id, path, entry.content_sha, queued=entry)
    except SourceError as exc:
        raise SourceRefused(f"The source refused the write: {exc}") from None
    _mirror("create", session_id, path, text, result)
    return WriteOutcome("create", session_id, path, result.sha, commit=result.revision)


def _refuse_taken(path: str, session_id: uuid.UUID) -> None:
    live = Session.objects.live()
    if live.filter(github_path=path).exists():
        raise PathExists(f"A session already exists at {path}; choose another path or title.")
    if live.filter(id=session_id).exists():
        raise PathExists(f"The front matter id {session_id} belongs to another session.")
    if outbox_open_entries(path):
        raise PathExists(f"A queued write (outbox) already goes to {path}; choose another path or title.")
    acceptance.refuse_queued_id(session_id)


# -- update -----------------------------------------------------------------------------------


@acceptance.one_at_a_time  # checks and acceptance of one session's writes never interleave
def session_update(
    *,
    session_id: uuid.UUID,
    if_match: str | None,
    content: str | None = None,
    fields: dict[str, Any] | None = None,
    path: str | None = None,
    requested_by: str = "",
    source: Source | None = None,
    keep_front_matter: bool = False,
) -> WriteOutcome:
    """Replace a session's document (``content``) and/or set fields in its front matter.

    ``if_match`` must be the blob SHA the writer last saw (428 without, 412 when stale).
    Without ``content`` the current document is kept and only ``fields`` change (PATCH).
    With ``keep_front_matter``, a ``content`` without front matter keeps the current block.
    """
    fields = fields or {}
    row = _live_row(session_id)
    if path is not None and path != row.github_path:
        raise InvalidDocument(
            "A session's path cannot be changed by an update.",
            errors={"path": ["Renaming is not supported; create a new session and delete this one."]},
        )
    queue = outbox_open_entries(row.github_path)
    current_sha, current_text = _current(row, queue)
    _check_precondition(if_match, current_sha)
    refuse_secrets(content=content, fields=fields)
    if content is not None and keep_front_matter:
        content = edits.keep_front_matter(current_text, content)
    text = document.compose(content if content is not None else current_text, fields)
    if content is None:
        refuse_secrets(content=text, fields={})  # the document as it will be sent
    source = source or write_source()
    text = _keep_identity(text, row, source)
    _parse(text, path=row.github_path, now=timezone.now())
    message = _message("Update", row.github_path, requested_by)
    if queue:
        return _queue_behind(PendingWrite.Operation.UPDATE, row, text, current_sha, message, requested_by)

    def send() -> WriteResult:
        if remote_sha(source, row.github_path) is None:
            # GitHub's PUT ignores ``sha`` for a missing path and would bring the file back.
            raise PreconditionFailed(f"{row.github_path} was deleted at the source since {current_sha}.")
        return source.write(row.github_path, text.encode("utf-8"), sha=current_sha, message=message)

    return _send_or_queue(
        PendingWrite.Operation.UPDATE, row, text, current_sha, message, requested_by, send, what="write"
    )


def _keep_identity(text: str, row: Session, source: Source) -> str:
    """A session whose id comes from its front matter keeps it; another id is refused."""
    written = document.front_matter_id(text)
    if written is not None:
        try:
            same = uuid.UUID(str(written).strip()) == row.id
        except ValueError:
            same = False
        if not same:
            raise InvalidDocument(
                "The front matter id cannot change.", errors={"content": [f"The id must stay {row.id}."]}
            )
        return text
    if row.id == session_id_for(source.repository, row.github_path):
        return text
    meta, body = document.split(text)
    meta["id"] = str(row.id)
    return document.compose_meta(meta, body)


# -- delete -----------------------------------------------------------------------------------


@acceptance.one_at_a_time
def session_delete(
    *, session_id: uuid.UUID, if_match: str | None, requested_by: str = "", source: Source | None = None
) -> WriteOutcome:
    """Delete the file at the source (with ``If-Match``) and soft-delete the row."""
    row = _live_row(session_id)
    queue = outbox_open_entries(row.github_path)
    current_sha, _ = _current(row, queue, need_text=False)
    _check_precondition(if_match, current_sha)
    source = source or write_source()
    message = _message("Delete", row.github_path, requested_by)
    if queue:
        return _queue_behind(PendingWrite.Operation.DELETE, row, None, current_sha, message, requested_by)

    def send() -> WriteResult:
        try:
            return source.delete(row.github_path, sha=current_sha, message=message)
        except SourceNotFound:
            return WriteResult(path=row.github_path, sha=None)  # already gone: the goal is met

    return _send_or_queue(
        PendingWrite.Operation.DELETE, row, None, current_sha, message, requested_by, send, what="delete"
    )


# -- shared -------------------------------------------------------------------------------------


def refuse_secrets(*, content: str | None, fields: dict[str, Any]) -> None:
    """SecretFound naming each field and line that holds a credential (never the value)."""
    errors: dict[str, list[str]] = {}
    if content:
        errors["content"] = [str(finding) for finding in secrets.scan_text(content)]
    for name, value in fields.items():
        if isinstance(value, list):  # save_session's next steps
            value = "\n".join(map(str, value))
        if isinstance(value, str) and value:
            errors[name] = [finding.kind for finding in secrets.scan_text(value)]
    errors = {name: found for name, found in errors.items() if found}
    if errors:
        where = "; ".join(f"{name}: {', '.join(found)}" for name, found in errors.items())
        raise SecretFound(
            f"The document holds what looks like a secret ({where}). Remove or redact it "
            "(e.g. replace it with ***) and send it again.",
            errors=errors,
        )


def _check_precondition(if_match: str | None, current_sha: str) -> None:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the session's sha (its ETag) so that a concurrent change is not overwritten."
        )
    if not etag_matches(if_match, current_sha):
        raise PreconditionFailed(
            f"The session is at {current_sha}, not {if_match.strip()[:80]}; read it again and retry."
        )


def _live_row(session_id: uuid.UUID) -> Session:
    row = Session.objects.live().filter(id=session_id).first() or pending.stand_in(session_id)
    if row is None:  # neither a row nor a create waiting in the outbox (#20 finding 11)
        raise SessionNotFound("No such session.")
    return row


def _current(row: Session, queue: list[PendingWrite], *, need_text: bool = True) -> tuple[str, str]:
    """The SHA and text the session will have once the queued writes land (the row's without)."""
    if queue:
        last = queue[-1]
        if last.operation == PendingWrite.Operation.DELETE:
            raise SessionNotFound("A queued write (outbox) deletes this session.")
        return last.content_sha, decrypt_text(last.content) if need_text else ""
    if not need_text:
        return row.github_sha, ""
    try:
        return row.github_sha, row.text
    except DecryptionError:
        raise InvalidDocument("The session cannot be decrypted with the configured keys.") from None


def _queue_behind(
    operation: str,
    row: Session,
    text: str | None,
    base_sha: str,
    message: str,
    requested_by: str,
    error: Exception | None = None,
) -> WriteOutcome:
    reason = str(error) if error else "queued behind an earlier write to the same path"
    entry = outbox_enqueue(
        operation=operation, path=row.github_path, session_id=row.id, text=text, base_sha=base_sha,
        message=message, requested_by=requested_by, error=reason, attempted=error is not None,
        unknown=isinstance(error, SourceOutcomeUnknown),
    )  # fmt: skip
    sha = entry.content_sha or None
    return WriteOutcome(operation, row.id, row.github_path, sha, queued=entry)


def _send_or_queue(
    operation: str,
    row: Session,
    text: str | None,
    base_sha: str,
    message: str,
    requested_by: str,
    send: Callable[[], WriteResult],
    *,
    what: str,
) -> WriteOutcome:
    """Change an existing file at the source with ``send`` and mirror it; queue it on an outage.

    A change since ``base_sha`` is a 412 (PreconditionFailed), any other refusal a 502
    (SourceRefused, saying which ``what`` was refused).
    """
    try:
        result = send()
    except SourceConflict:
        raise PreconditionFailed(
            f"{row.github_path} changed at the source since {base_sha}; read it again and retry."
        ) from None
    except SourceUnavailable as exc:
        _refuse_if_not_outage(exc)
        return _queue_behind(operation, row, text, base_sha, message, requested_by, exc)
    except SourceError as exc:
        raise SourceRefused(f"The source refused the {what}: {exc}") from None
    _mirror(str(operation), row.id, row.github_path, text, result)
    return WriteOutcome(str(operation), row.id, row.github_path, result.sha, commit=result.revision)


def _refuse_if_not_outage(exc: SourceUnavailable) -> None:
    """SourceForbidden (bad token, no permission) is a SourceUnavailable, but not an outage: refusing
    it (502) tells the operator now instead of filling the outbox with writes that cannot land."""
    if isinstance(exc, SourceForbidden):
        raise SourceRefused(f"The source refused the write: {exc}") from None


def _merge_fields(content: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    try:
        return edits.merge_fields(content, fields)
    except edits.EditError as exc:
        raise InvalidDocument(str(exc), errors={"content": [str(exc)]}) from None


def _parse(text: str, *, path: str, now: datetime) -> ParsedDocument:
    try:
        return parse_document(text.encode("utf-8"), path=path, fallback_date=now)
    except DocumentError as exc:
        raise InvalidDocument(str(exc), errors={"content": [str(exc)]}) from None


def _mirror(operation: str, session_id: uuid.UUID, path: str, text: str | None, result: WriteResult) -> None:
    """The source has the write: mirror it. A database failure here is logged, not raised:
    the write is done, and the next sync brings the row in step."""
    sha = result.sha or (git_blob_sha(text.encode("utf-8")) if text is not None else None)
    try:
        apply_to_database(operation=operation, session_id=session_id, path=path, text=text, sha=sha)
    except DatabaseError:
        logger.exception("wrote %s to the source but could not update the database", path)


def _message(verb: str, path: str, requested_by: str) -> str:
    return f"{verb} {path} (Annoris API{f', {requested_by}' if requested_by else ''})"
