"""Writes to sessions. Views, admin and the sync engine go through these."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Substr

from annoris import crypto
from annoris.encryption import decrypt_text, encrypt_text, primary_key_id
from annoris.text import NUL, SURROGATE, unstorable
from projects_app.models import Project
from projects_app.services import project_get_or_create
from sessions_app import readpath, search
from sessions_app.documents import ParsedDocument
from sessions_app.models import Session
from sessions_app.search import IndexDocument, index_documents, index_session


class SessionRefused(Exception):
    """A source file the database cannot take as a session; nothing was written for it."""


class SessionIdConflict(SessionRefused):
    """Two files claim the same session id (a copied front matter ``id:``)."""


class SessionNotStorable(SessionRefused):
    """A value no column can hold: a path past its column's length, a NUL, a lone surrogate."""


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
        "created_time": parsed.created_time[:20],
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
    row.project = _project(parsed.project, projects)
    for name, value in fields.items():
        setattr(row, name, value)
    # The id has no default, so a plain save() of a new row would try an UPDATE first.
    row.save(force_insert=action == "added")
    index_session(session_id=row.id, title=row.title, text=parsed.content)
    readpath.sessions_changed([row.id])
    return action


@dataclass(frozen=True)
class SourceDocument:
    """One parsed source file for ``sessions_upsert_from_source``."""

    session_id: uuid.UUID
    path: str
    sha: str
    parsed: ParsedDocument


# The columns a source write sets; ``id`` is the conflict target of the bulk upsert.
_UPSERT_FIELDS = (
    "created_at", "created_time", "project", "priority", "status", "state", "title", "next_step",
    "content", "size",
    "github_path", "github_sha", "checksum", "last_synced", "deleted_at",
)  # fmt: skip


def sessions_upsert_from_source(
    *,
    documents: list[SourceDocument],
    synced_at: datetime,
    projects: dict[str, Project] | None = None,
) -> list[str | SessionRefused]:
    """The bulk form of ``session_upsert_from_source``, for the sync engine: one outcome per
    document, in order: ``'added'``, ``'updated'``, ``'restored'`` or the SessionRefused that
    kept it out.

    The common cases (a new file; a file whose session is already at its path) are written
    with one query to find the rows and one ``INSERT ... ON CONFLICT (id) DO UPDATE``. The
    rare ones (an id that moved to another path, a path whose id changed, two files with
    one id) go through ``session_upsert_from_source`` one by one, which knows their rules.
    Call it inside a transaction: a database error (a value the database refuses) rolls
    the whole call back, and the caller retries its documents one at a time to find the
    file at fault. The cache is refreshed after commit, as for the single upsert.
    """
    outcomes: list[str | SessionRefused | None] = [None] * len(documents)
    fields_of: dict[int, dict[str, Any]] = {}
    for index, doc in enumerate(documents):
        fields = session_fields_from_source(
            path=doc.path, sha=doc.sha, parsed=doc.parsed, synced_at=synced_at
        )
        try:
            session_check_storable(fields)
        except SessionNotStorable as exc:
            outcomes[index] = exc
            continue
        fields_of[index] = fields
    paths = [documents[i].path for i in fields_of]
    ids = [documents[i].session_id for i in fields_of]
    existing = {
        row_id: (path, deleted, created)
        for row_id, path, deleted, created in Session.objects.filter(Q(github_path__in=paths) | Q(id__in=ids))
        .order_by()
        .values_list("id", "github_path", "deleted_at", "created_at")
    }
    id_at_path = {path: row_id for row_id, (path, _, _) in existing.items()}
    rows: list[Session] = []
    texts: list[str] = []  # each row's plaintext, for the search index
    slow: list[int] = []
    claimed: set[uuid.UUID] = set()
    for index, fields in fields_of.items():
        doc = documents[index]
        current = existing.get(doc.session_id)
        simple = doc.session_id not in claimed and (
            (current is None and doc.path not in id_at_path)
            or (current is not None and current[0] == doc.path)
        )
        claimed.add(doc.session_id)
        if not simple:
            slow.append(index)
            continue
        if current is None:
            action, created_at = "added", doc.parsed.created_at
        else:
            action = "restored" if current[1] is not None else "updated"
            keep = doc.parsed.date_source == "fallback"
            created_at = current[2] if keep else doc.parsed.created_at
        row = Session(id=doc.session_id, created_at=created_at, **fields)
        row.project = _project(doc.parsed.project, projects)
        rows.append(row)
        texts.append(doc.parsed.content)
        outcomes[index] = action
    if rows:
        _insert_or_update(rows)
        if len(rows) <= search.INLINE_LIMIT:  # a few files (a push): searchable at once
            index_documents(
                IndexDocument(session_id=row.id, title=row.title, text=text)
                for row, text in zip(rows, texts, strict=True)
            )
        else:  # an import: the engine queues search.index_pending once the run has committed
            search.mark_stale(row.id for row in rows)
        readpath.sessions_changed([row.id for row in rows])
    for index in slow:
        doc = documents[index]
        try:
            outcomes[index] = session_upsert_from_source(
                session_id=doc.session_id,
                path=doc.path,
                sha=doc.sha,
                parsed=doc.parsed,
                synced_at=synced_at,
                projects=projects,
            )
        except SessionRefused as exc:
            outcomes[index] = exc
    return outcomes  # type: ignore[return-value]  # every slot is filled by now


def _insert_or_update(rows: list[Session], chunk: int = 500) -> None:
    """``INSERT ... ON CONFLICT (id) DO UPDATE`` of ``rows``, ``chunk`` rows per statement.

    On PostgreSQL the statement is sent with server-side parameter binding: Django's
    bulk_create binds on the client, and quoting each ~7 KB ciphertext in Python cost
    more than the database's own work. Other backends use bulk_create.
    """
    if connection.vendor != "postgresql":
        Session.objects.bulk_create(
            rows,
            batch_size=chunk,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=list(_UPSERT_FIELDS),
        )
        return
    import psycopg

    fields = [Session._meta.get_field(name) for name in ("id", *_UPSERT_FIELDS)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    updates = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields[1:])
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = quote(Session._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {one_row} "
        f"ON CONFLICT ({quote('id')}) DO UPDATE SET {updates}"
    )
    connection.ensure_connection()
    values = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] for row in rows]
    # executemany pipelines the rows: one round trip per call, the statement parsed once.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.executemany(sql, values)


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


@dataclass
class RotationReport:
    rotated: int = 0
    from_keys: Counter = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)  # session id -> error
    checked: int = 0  # rows read back at the end
    # Rows that do not decrypt under the primary key after the run, by the key id they carry;
    # ``reused`` holds the ids whose own configured key failed on them (another key reusing the id).
    unverified: Counter = field(default_factory=Counter)
    reused: Counter = field(default_factory=Counter)

    @property
    def verified(self) -> bool:
        return not self.unverified


def sessions_rotate_keys(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> RotationReport:
    """Re-encrypt every session not under the primary key, one committed batch at a time,
    then read every row back to prove it decrypts under the primary key.

    Each batch commits on its own, so an interrupted run keeps its progress and a
    second run picks up what is left. Rows that cannot be decrypted (their key
    is gone, or a different key reuses their key id) are reported and left untouched;
    the final check counts them in ``unverified`` so the caller can refuse to call it done.
    """
    primary = primary_key_id()
    prefix = f"{crypto.PREFIX}{primary}:"
    report = RotationReport()
    last = None  # keyset paging: rows left behind (undecryptable) are passed, never re-read
    while True:
        with transaction.atomic():
            # Substr equality, not startswith: SQLite's LIKE ignores case, and a row under
            # "k1" must not pass for one under "K1".
            todo = (
                Session.objects.annotate(key_prefix=Substr("content", 1, len(prefix)))
                .exclude(key_prefix=prefix)
                .order_by("pk")
            )
            if last is not None:
                todo = todo.filter(pk__gt=last)
            rows = list(todo.select_for_update().only("id", "content")[:batch_size])
            if not rows:
                break
            last = rows[-1].pk
            done = [row for row in rows if _reencrypt(row, report)]
            Session.objects.bulk_update(done, ["content"])
            readpath.sessions_changed([row.id for row in done])  # the old ciphertext must not outlive its key
        report.rotated += len(done)
        if progress:
            progress(report.rotated)
    _verify_rotation(report, primary, batch_size)
    return report


def _verify_rotation(report: RotationReport, primary: str, batch_size: int) -> None:
    """Decrypt every row: each must carry the primary key id and authenticate under that key."""
    last = None
    while True:
        page = Session.objects.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", "content")[:batch_size])
        if not rows:
            return
        last = rows[-1][0]
        for _, token in rows:
            report.checked += 1
            try:
                key_id = crypto.key_id_of(token)
            except crypto.DecryptionError:
                report.unverified["(not ciphertext)"] += 1
                continue
            try:
                decrypt_text(token)
            except crypto.WrongKey:
                report.unverified[key_id] += 1
                report.reused[key_id] += 1  # its id is configured, but with another key
                continue
            except crypto.DecryptionError:
                report.unverified[key_id] += 1
                continue
            if key_id != primary:
                report.unverified[key_id] += 1


def _reencrypt(row: Session, report: RotationReport) -> bool:
    try:
        old_key = crypto.key_id_of(row.content)
        row.content = encrypt_text(decrypt_text(row.content))
    except crypto.DecryptionError as exc:
        report.failed[str(row.id)] = str(exc)
        return False
    report.from_keys[old_key] += 1
    return True
