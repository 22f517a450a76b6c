"""Searching the blind index: BM25 over hashed terms, snippets decrypted for the hits only.

A session matches when it holds every word of the query (in its title or body, in any
case, accents and ``ё`` folded). Matches are ranked by BM25 (k1=1.2, b=0.75) computed
in SQL from the stored term frequencies and document lengths; soft-deleted sessions never
match. The same query over decrypted text (``terms.matches``) finds the same sessions.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection

from annoris.crypto import DecryptionError
from annoris.timestamps import iso
from projects_app.models import Project
from sessions_app.documents.folding import fold, words
from sessions_app.models import SearchDocument, SearchPosting, Session

from .index import index_key
from .terms import QueryTerm, query_terms, term_hash

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "SearchHit",
    "search_session_ids",
    "search_sessions",
]

MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
DEFAULT_LIMIT = 10  # each result costs a decryption for its snippet
SNIPPET_CHARS = 200
STATS_TTL = 30.0  # seconds a process reuses document counts (ranking only, never recall)
_DF_CACHE_SIZE = 100_000
_df_cache: dict[int, tuple[int, float]] = {}
_count_cache: list[float] = [0, 0.0]


@dataclass(frozen=True)
class SearchHit:
    """One result: the session's listed fields, its BM25 score and a decrypted snippet."""

    session_id: uuid.UUID
    title: str
    project: str | None
    state: str
    created_at: datetime
    path: str
    score: float
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as the API and the MCP tool answer it."""
        return {
            "id": str(self.session_id),
            "title": self.title,
            "project": self.project,
            "state": self.state,
            "created_at": iso(self.created_at),
            "path": self.path,
            "score": self.score,
            "snippet": self.snippet,
        }


def search_session_ids(
    query: str, *, project: Project | None = None, limit: int | None = MAX_LIMIT, offset: int = 0
) -> tuple[list[uuid.UUID], int]:
    """(ids of matching live sessions, best first; total matches). Decrypts nothing.

    For the admin's search box and anything else that wants ids: ``limit=None`` returns all.
    """
    ranked, total = _search(_terms(query), project=project, limit=limit, offset=offset)
    return [session_id for session_id, _ in ranked], total


def search_sessions(
    query: str, *, project: Project | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> tuple[list[SearchHit], int]:
    """(hits best first with snippets, total matches). Only the returned sessions are decrypted."""
    limit = max(1, min(limit, MAX_LIMIT))
    terms = _terms(query)
    ranked, total = _search(terms, project=project, limit=limit, offset=offset)
    if not ranked:
        return [], total
    scores = dict(ranked)
    rows = Session.objects.select_related("project").in_bulk(list(scores))
    hits = []
    for session_id, _ in ranked:
        row = rows.get(session_id)
        if row is None:
            continue
        hits.append(
            SearchHit(
                session_id=row.id,
                title=row.title,
                project=row.project.name if row.project else None,
                state=row.state,
                created_at=row.created_at,
                path=row.github_path,
                score=round(scores.get(session_id, 0.0), 4),
                snippet=_snippet(row, terms),
            )
        )
    return hits, total


def _terms(query: str) -> list[QueryTerm]:
    return query_terms(query[:MAX_QUERY_CHARS], prefix_min=settings.ANNORIS_SEARCH_PREFIX_MIN)


def _search(
    terms: list[QueryTerm], *, project: Project | None, limit: int | None, offset: int
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """([(session id, BM25 score)] best first, total matches) of sessions holding every term."""
    if not terms:
        return [], 0
    _, key = index_key()
    hashes = [term_hash(key, t.word, prefix=t.prefix) for t in terms]
    postings = SearchPosting._meta.db_table
    sessions = Session._meta.db_table
    count = _document_count()
    if not count:
        return [], 0
    frequencies = _document_frequencies(hashes)
    if len(frequencies) < len(set(hashes)):
        return [], 0  # a term no session has: nothing holds every term
    idf_params: list[object] = []
    for value in hashes:
        df = frequencies[value]
        count = max(count, df)  # both may come from caches of different ages
        idf_params += [value, math.log(1 + (count - df + 0.5) / (df + 0.5))]
    placeholders = ", ".join(["%s"] * len(hashes))
    idf_case = " ".join("WHEN %s THEN %s" for _ in hashes)
    # Only the postings are read (an index-only scan on PostgreSQL); soft-deleted sessions,
    # and sessions of other projects, are excluded through small subqueries on indexed columns.
    in_project = f" AND p.session_id IN (SELECT id FROM {sessions} WHERE project_id = %s)" if project else ""
    sql = (
        f"SELECT p.session_id, SUM((CASE p.term {idf_case} END) * p.weight) AS score, COUNT(*) OVER () "  # noqa: S608
        f"FROM {postings} p WHERE p.term IN ({placeholders}) "
        f"AND p.session_id NOT IN (SELECT id FROM {sessions} WHERE deleted_at IS NOT NULL){in_project} "
        f"GROUP BY p.session_id HAVING COUNT(*) = %s ORDER BY score DESC, p.session_id"
    )
    params: list[object] = [*idf_params, *hashes]
    if project is not None:
        params.append(project.pk if connection.vendor == "postgresql" else project.pk.hex)
    params.append(len(set(hashes)))
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(_uuid(row[0]), float(row[1])) for row in rows], (int(rows[0][2]) if rows else 0)


def _document_count() -> int:
    """Indexed sessions (BM25's N), kept STATS_TTL seconds."""
    now = time.monotonic()
    if _count_cache[1] <= now or not _count_cache[0]:
        _count_cache[:] = [SearchDocument.objects.count(), now + STATS_TTL]
    return int(_count_cache[0])


def _document_frequencies(hashes: list[int]) -> dict[int, int]:
    """Sessions per term. Counts found are kept STATS_TTL seconds (they only tune the ranking);
    a term not known is always looked up, so a new word is found at once.
    """
    now = time.monotonic()
    known = {h: _df_cache[h][0] for h in hashes if h in _df_cache and _df_cache[h][1] > now}
    missing = [h for h in hashes if h not in known]
    if missing:
        table = SearchPosting._meta.db_table
        placeholders = ", ".join(["%s"] * len(missing))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT term, COUNT(*) FROM {table} WHERE term IN ({placeholders}) GROUP BY term",  # noqa: S608
                missing,
            )
            for term, n in cursor.fetchall():
                known[int(term)] = int(n)
                if len(_df_cache) >= _DF_CACHE_SIZE:
                    _df_cache.clear()
                _df_cache[int(term)] = (int(n), now + STATS_TTL)
    return known


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _snippet(row: Session, terms: list[QueryTerm]) -> str:
    """The first line holding a query word, around that word; '' when undecryptable."""
    try:
        text = row.text
    except DecryptionError:
        return ""
    wanted = list(terms)
    quick = _raw_pattern(wanted).search(text)  # most words are written as typed, give or take case
    if quick:
        start = text.rfind("\n", 0, quick.start()) + 1
        end = text.find("\n", quick.end())
        return _around(text[start : end if end >= 0 else len(text)], wanted)
    for line in text.split("\n"):
        found = words(line)
        if any(
            (t.word in found) if not t.prefix else any(w.startswith(t.word) for w in found) for t in wanted
        ):
            return _around(line, wanted)
    return " ".join(text.split())[:SNIPPET_CHARS]


def _raw_pattern(terms: list[QueryTerm]) -> re.Pattern[str]:
    """A case-insensitive regex for the terms as written (``е`` also matching ``ё``)."""
    parts = []
    for term in terms:
        body = "".join("[её]" if ch == "е" else re.escape(ch) for ch in term.word)
        parts.append(body + ("" if term.prefix else r"(?![^\W_])"))
    return re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + ")", re.IGNORECASE)


def _around(line: str, terms: list[QueryTerm]) -> str:
    flat = " ".join(line.split())
    folded = fold(flat)
    position = min((folded.find(t.word) for t in terms if folded.find(t.word) >= 0), default=0)
    # fold() keeps lengths for Latin and Cyrillic, so the position maps back to ``flat``.
    start = max(0, position - SNIPPET_CHARS // 3) if len(folded) == len(flat) else 0
    piece = flat[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(flat) else "")
