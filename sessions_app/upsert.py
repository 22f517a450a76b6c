"""Many sessions from the source in one go: the sync's batch upsert.

``sessions_upsert_from_source`` stores a batch of parsed files with one ``INSERT ... ON
CONFLICT`` per chunk (PostgreSQL) and indexes them for search; a file the database cannot
take is reported in its slot, never stopping the batch. One session at a time is
``services.session_upsert_from_source``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from projects_app.models import Project
from sessions_app import readpath, search
from sessions_app.documents import ParsedDocument
from sessions_app.models import Session
from sessions_app.search import IndexDocument, index_documents
from sessions_app.services import (
    SessionRefused,
    project_for,
    session_check_storable,
    session_fields_from_source,
    session_upsert_from_source,
)


@dataclass(frozen=True)
class SourceDocument:
    """One parsed source file for ``sessions_upsert_from_source``."""

    session_id: uuid.UUID
    path: str
    sha: str
    parsed: ParsedDocument


# The columns a source write sets; ``id`` is the conflict target of the bulk upsert.
_UPSERT_FIELDS = (
    "created_at", "created_time", "undated", "project", "priority", "status", "state", "title", "next_step",
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
        except SessionRefused as exc:  # not storable
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
        row.project = project_for(doc.parsed.project, projects)
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
