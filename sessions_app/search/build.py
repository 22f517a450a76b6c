"""Building the blind index from the database: ``reindex_all`` (``reindex_search``,
``rotate_keys``) and ``index_pending`` (the worker's task after a bulk import).

Each batch is decrypted and analysed here (with a term memo the build keeps across batches)
and written by a writer thread with its own connection, one transaction a batch, so Python's
decrypting and analysing run beside PostgreSQL's writing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection, transaction
from django.db.models import QuerySet

from annoris.crypto import DecryptionError
from sessions_app.models import SearchDocument, SearchVector, Session

from .analysis import Analysed, analyse, bounded
from .bulk import BULK_MIN, term_index_deferred
from .freshness import forget, lacking
from .index import Batch, IndexDocument, index_key, make_batch, semantic_on, texts_of, write_batch
from .terms import TermHashes
from .vectors import embed_pending

__all__ = ["index_pending", "reindex_all"]


def index_pending(*, batch_size: int = 200, bulk_min: int = BULK_MIN) -> int:
    """Index every session not indexed under the current key (after a bulk import, a key
    rotation), then embed those without a vector; returns how many were indexed. Safe to run at
    any time and in several processes."""
    done = reindex_all(batch_size=batch_size, stale_only=True, bulk_min=bulk_min)[0]
    if semantic_on():
        embed_pending()
        forget()
    return done


def reindex_all(
    *,
    batch_size: int = 200,
    stale_only: bool = False,
    progress: Callable[[int], None] | None = None,
    bulk_min: int = BULK_MIN,
) -> tuple[int, list[str]]:
    """Rebuild the index from the database, decrypting each session once, a batch per transaction.

    ``stale_only`` skips sessions already indexed under the current primary key (what
    ``rotate_keys`` needs). Returns (sessions indexed, ids that could not be decrypted).
    Soft-deleted sessions are indexed too (a restore finds them at once); searches skip them.
    Into an empty index, ``bulk_min`` sessions or more build the term index at the end (``bulk``).
    """
    key_id, _ = index_key()
    stale = key_id if stale_only else None
    failed: list[str] = []

    def batches() -> Iterator[list[IndexDocument]]:
        last: uuid.UUID | None = None
        while True:
            batch = list(_after(last, stale)[:batch_size])
            if not batch:
                return
            docs = []
            for row in batch:
                try:
                    docs.append(IndexDocument(session_id=row.id, title=row.title, text=row.text))
                except DecryptionError:
                    failed.append(str(row.id))
            last = batch[-1].id
            if docs:
                yield docs

    with term_index_deferred(_after(None, stale).count, bulk_min=bulk_min):
        done = _write_all(batches(), progress)  # same content: vectors rebuilt below
    if not stale_only and semantic_on():  # a rebuild re-embeds every session too
        SearchVector.objects.all().delete()
        embed_pending()
    return done, failed


def _after(last: uuid.UUID | None, stale: str | None) -> QuerySet[Session]:
    """The sessions after ``last`` by id; with ``stale``, only those not indexed under that key id."""
    if stale is not None:
        return lacking(SearchDocument, stale, last).only("id", "title", "content")
    rows = Session.objects.order_by("id").only("id", "title", "content")
    return rows if last is None else rows.filter(id__gt=last)


def _write_all(batches: Iterator[list[IndexDocument]], progress: Callable[[int], None] | None) -> int:
    """Analyse and write each batch in its own transaction; returns the count.

    On PostgreSQL outside a transaction, one worker thread with its own connection writes a
    batch while this thread decrypts and analyses the next, so PostgreSQL's work (COPY, index
    upkeep, commit) runs beside Python's; psycopg releases the GIL while it waits for the
    server. Inside a transaction (a test, a caller's atomic block) another connection could
    not see the caller's rows: one batch after the other, here."""
    done = 0
    key_id, key = index_key()
    hashes = TermHashes(key)  # the build's memo, kept across its batches

    def analysed(docs: list[IndexDocument]) -> Analysed:
        nonlocal hashes
        hashes = bounded(hashes, key)
        return analyse(texts_of(docs), hashes)

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for docs in batches:
            done += write_batch(make_batch(docs, key_id, analysed(docs)))
            if progress:
                progress(done)
        return done
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer") as writer:
        pending: Future[int] | None = None
        try:
            for docs in batches:  # the next batch is decrypted and analysed while ``pending`` is written
                batch = make_batch(docs, key_id, analysed(docs))
                if pending is not None:
                    done += pending.result()
                    if progress:
                        progress(done)
                pending = writer.submit(_write_derived, batch)
            if pending is not None:
                done += pending.result()
                if progress:
                    progress(done)
        finally:
            writer.submit(_close).result()  # the worker thread's own connection
    return done


def _write_derived(batch: Batch) -> int:
    """``write_batch`` in a transaction whose commit does not wait for the WAL flush
    (``synchronous_commit`` off for it alone): the index is derived data, and a crash that
    loses the last such commits only leaves those sessions waiting for the next
    ``index_pending``, as a crash mid-build does; atomicity is unchanged. The writer waited
    for each batch's flush (~20 MB of WAL) before it could take the next batch."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return write_batch(batch)


def _close() -> None:
    """Close this thread's connection (``connection`` resolves per thread when called)."""
    connection.close()
