"""The sessions waiting to be indexed: how many (the ``incomplete`` flag of answers and /health's lag),
and which, in id order (the builds' batches)."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from annoris.state import Memo, per_process
from sessions_app.models import SearchDocument, SearchVector, Session

__all__ = ["forget", "index_waiting", "lacking"]

Entries = type[SearchDocument] | type[SearchVector]  # the tables that hold a session's index entries
WAITING_TTL = 1.0  # seconds a process reuses the count: each search counting would cost it every time


# with vectors? -> (count, valid until (monotonic))
_waiting: dict[bool, tuple[int, float]] = per_process(Memo())


def index_waiting(*, vectors: bool = False) -> int:
    """Live sessions not (yet) indexed under the current key: after a bulk import, before the
    worker's ``index_search`` task has run, and after a key rotation until ``rotate_keys`` ends.
    With ``vectors``, sessions whose sentence vector is not stored yet count too."""
    now = time.monotonic()
    count, until = _waiting.get(vectors, (0, 0.0))
    if until <= now:
        key_id = settings.ANNORIS_KEYRING.keys[0][0]  # the key the index is hashed under
        count = _count(key_id, [SearchDocument, SearchVector] if vectors else [SearchDocument])
        _waiting[vectors] = (count, now + WAITING_TTL)
    return count


def _count(key_id: str, models: list[Entries]) -> int:
    """Live sessions lacking an entry under ``key_id`` in any of ``models``' tables.

    Counted as live sessions minus the entries under the key of live sessions, the latter as all
    entries under the key minus those of soft-deleted sessions (an entry's session always exists:
    a foreign key). Three plain counts, no join of every session with its entry: the anti-join
    ``exclude(search_document__key_id=...)`` took ~55 ms at 100,000 sessions."""
    sessions = Session._meta.db_table
    parts, params = [f"(SELECT COUNT(*) FROM {sessions} WHERE deleted_at IS NULL)"], []  # noqa: S608
    for model in models:
        table = model._meta.db_table
        parts.append(
            f"(SELECT COUNT(*) FROM {table} WHERE key_id = %s) - (SELECT COUNT(*) FROM {table} x "  # noqa: S608
            f"JOIN {sessions} s ON s.id = x.session_id WHERE s.deleted_at IS NOT NULL AND x.key_id = %s)"
        )
        params += [key_id, key_id]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        live, *indexed = cursor.fetchone()
    return max(int(live) - int(found) for found in indexed)


def lacking(model: Entries, key_id: str, after: uuid.UUID | None) -> QuerySet[Session]:
    """The sessions after ``after`` by id (from the first: None) with no ``model`` entry under
    ``key_id``, in id order: a build's next batch is its first rows.

    A NOT EXISTS bounded below by ``after`` on both sides, so PostgreSQL reads the batch by the
    two keys from ``after`` on. The join it replaced (``exclude(search_document__key_id=...)``)
    matched every remaining session with every entry for each batch: at 100,000 sessions 25-43 ms
    a batch against 3-5, 22 s of a keyword build's 102 against 4.4 (docs/benchmarks.md)."""
    rows = Session.objects.order_by("id")
    entries = model.objects.filter(session_id=OuterRef("pk"), key_id=key_id)
    if after is not None:
        rows, entries = rows.filter(id__gt=after), entries.filter(session_id__gt=after)
    return rows.exclude(Exists(entries))


def forget() -> None:
    """Drop the remembered counts (indexing calls it, so its own process sees the change at once)."""
    _waiting.clear()
