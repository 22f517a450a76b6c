"""Search over encrypted sessions through a blind index (issue #8).

Public API::

    run_search(query, *, project=None, state=None, since=None, limit=10, offset=0, hybrid=None)
        -> SearchResult (hits, total, ignored, waiting)
    search_sessions(query, *, project=None, limit=10, offset=0) -> (list[SearchHit], total)
    search_session_ids(query, *, project=None, limit=100, offset=0) -> (list[UUID], total)
    index_session(*, session_id, title, text)            # one session, from its plaintext
    index_documents(documents: Iterable[IndexDocument])  # a batch (the bulk upsert)
    reindex_all(*, batch_size=200, stale_only=False, progress=None) -> (count, failed ids)
    mark_stale(session_ids)  /  index_pending() -> count   # bulk writes: index later, in a task
    semantic_on() -> bool  /  preload_model() -> bool      # hybrid search configured; load its model now
"""

from __future__ import annotations

from .build import index_pending, reindex_all
from .bulk import BULK_MIN, term_index_present
from .freshness import index_waiting
from .index import (
    INLINE_LIMIT,
    IndexDocument,
    index_documents,
    index_key,
    index_session,
    mark_stale,
    preload_model,
    semantic_on,
)
from .params import StateName, parse_since
from .query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    QUERY_SYNTAX,
    SearchHit,
    SearchResult,
    run_search,
    search_session_ids,
    search_sessions,
)
from .vectors import embed_pending, rotate_vectors

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "QUERY_SYNTAX",
    "StateName",
    "parse_since",
    "SearchResult",
    "index_waiting",
    "embed_pending",
    "rotate_vectors",
    "run_search",
    "BULK_MIN",
    "INLINE_LIMIT",
    "IndexDocument",
    "SearchHit",
    "index_documents",
    "index_key",
    "index_pending",
    "index_session",
    "mark_stale",
    "preload_model",
    "reindex_all",
    "semantic_on",
    "term_index_present",
    "search_session_ids",
    "search_sessions",
]
