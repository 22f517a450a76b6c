"""Building the blind index from the database: ``reindex_all`` (``reindex_search``,
``rotate_keys``) and ``index_pending`` (the worker's task after a bulk import).

Each batch is decrypted here, analysed (in forked worker processes when the build is large,
see ``analysis``) and written by a writer thread with its own connection, one transaction a
batch, so decrypting, analysing and PostgreSQL's writing run side by side.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from itertools import chain

from django.conf import settings
from django.db import connection, transaction

from annoris.crypto import DecryptionError
from sessions_app.models import SearchVector, Session

from .analysis import Analysed, analyse, analysers, bounded, can_fork
from .freshness import forget
from .index import Batch, IndexDocument, index_key, make_batch, semantic_on, texts_of, write_batch
from .terms import TermHashes
from .vectors import embed_pending

__all__ = ["index_pending", "reindex_all"]


def index_pending(*, batch_size: int = 200) -> int:
    """Index every session not indexed under the current key (after a bulk import, a key
    rotation), then embed those without a vector; returns how many were indexed. Safe to run at
    any time and in several processes."""
    done = reindex_all(batch_size=batch_size, stale_only=True)[0]
    if semantic_on():
        embed_pending()
        forget()
    return done


def reindex_all(
    *, batch_size: int = 200, stale_only: bool = False, progress: Callable[[int], None] | None = None
) -> tuple[int, list[str]]:
    """Rebuild the index from the database, decrypting each session once, a batch per transaction.

    ``stale_only`` skips sessions already indexed under the current primary key (what
    ``rotate_keys`` needs). Returns (sessions indexed, ids that could not be decrypted).
    Soft-deleted sessions are indexed too (a restore finds them at once); searches skip them.
    """
    key_id, _ = index_key()
    rows = Session.objects.order_by("id").only("id", "title", "content")
    if stale_only:
        rows = rows.exclude(search_document__key_id=key_id)
    failed: list[str] = []

    def batches() -> Iterator[list[IndexDocument]]:
        last: uuid.UUID | None = None
        while True:
            batch = list((rows.filter(id__gt=last) if last else rows)[:batch_size])
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

    done = _write_all(batches(), progress, full=batch_size)  # same content: vectors rebuilt below
    if not stale_only and semantic_on():  # a rebuild re-embeds every session too
        SearchVector.objects.all().delete()
        embed_pending()
    return done, failed


def _processes() -> int:
    """Worker processes for a build's analysis (ANNORIS_INDEX_PROCESSES; 0: none), if possible here."""
    wanted = getattr(settings, "ANNORIS_INDEX_PROCESSES", 2)
    return wanted if wanted > 0 and can_fork() else 0


def _write_all(
    batches: Iterator[list[IndexDocument]], progress: Callable[[int], None] | None, *, full: int
) -> int:
    """Analyse and write each batch in its own transaction; returns the count.

    On PostgreSQL outside a transaction, one worker thread with its own connection writes a
    batch while this thread decrypts the next, so PostgreSQL's work (COPY, index upkeep,
    commit) runs beside Python's; psycopg releases the GIL while it waits for the server.
    When the first batch is full (more may follow), ``_processes()`` forked workers analyse
    the batches (tokenizing and hashing, ~1 ms of CPU a session), forked before the writer
    thread starts; with none (the default on 2 cores), this thread analyses. Inside a
    transaction (a test, a caller's atomic block) another connection could not see the
    caller's rows: one batch after the other, here."""
    done = 0
    key_id, key = index_key()
    memo = [TermHashes(key)]  # this process's memo, kept across batches

    def here(docs: list[IndexDocument]) -> Future[Analysed]:
        memo[0] = bounded(memo[0], key)
        found: Future[Analysed] = Future()
        found.set_result(analyse(texts_of(docs), memo[0]))
        return found

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for docs in batches:
            done += write_batch(make_batch(docs, key_id, here(docs).result()))
            if progress:
                progress(done)
        return done
    first = next(batches, None)
    if first is None:
        return 0
    processes = _processes() if len(first) >= full else 0
    with ExitStack() as stack:
        pool = stack.enter_context(analysers(key, processes)) if processes else None
        writer = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer"))
        stack.callback(lambda: writer.submit(_close).result())  # the worker thread's own connection
        queued: deque[tuple[list[IndexDocument], Future[Analysed]]] = deque()
        pending: Future[int] | None = None

        def write_oldest() -> None:
            nonlocal done, pending
            docs, found = queued.popleft()
            batch = make_batch(docs, key_id, found.result())
            if pending is not None:
                done += pending.result()
                if progress:
                    progress(done)
            pending = writer.submit(_write_derived, batch)

        # the next batches are decrypted while others are analysed and written
        for docs in chain([first], batches):
            queued.append((docs, pool.submit(texts_of(docs)) if pool else here(docs)))
            if len(queued) > processes:
                write_oldest()
        while queued:
            write_oldest()
        if pending is not None:
            done += pending.result()
            if progress:
                progress(done)
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
