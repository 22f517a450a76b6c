"""Searching: parse, rank over the blind index (and, in hybrid mode, by meaning), snippet the hits.

Only the sessions returned are decrypted (for their snippets). Neither the query's words nor
their hashes are ever logged. See ``parser`` for the language and ``ranking`` for the SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from annoris.crypto import DecryptionError
from annoris.timestamps import iso
from projects_app.models import Project
from sessions_app.models import Session

from . import semantic
from .freshness import index_waiting
from .index import index_key
from .parser import EXACT, PART, STEM, ParsedQuery, parse
from .phrases import VERIFY_MAX, keep_phrases
from .ranking import TIER, Filters, query_terms, rank
from .snippets import snippet
from .terms import term_hash
from .topk import AtLeast

__all__ = [
    "QUERY_SYNTAX",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "SearchHit",
    "SearchResult",
    "run_search",
    "search_session_ids",
    "search_sessions",
]

QUERY_SYNTAX = (
    "Words to find, all of them, in any case and any form (English and Russian stems; "
    'identifiers such as DEFAULT_AUTO_FIELD whole or in parts). "a phrase" for adjacent words, '
    "a OR b for either, -word to leave out sessions holding it, pre* (3+ characters) for a prefix. "
    "What cannot be honoured is listed in the answer's ignored."
)
MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
DEFAULT_LIMIT = 10  # each result costs a decryption for its snippet
_LEVELS = {EXACT: "exact", STEM: "stem", PART: "part"}


@dataclass(frozen=True)
class SearchHit:
    """One result: the session's listed fields, its score, how it matched and a marked snippet.

    ``score`` orders hits within one answer, higher first: BM25 for a search by words, the
    reciprocal-rank fusion of words and meaning for a hybrid one (``match`` says the tier)."""

    session_id: uuid.UUID
    title: str
    project: str | None
    state: str
    created_at: datetime
    path: str
    score: float
    snippet: str
    match: str = "exact"

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
            "match": self.match,
            "snippet": self.snippet,
        }


@dataclass
class SearchResult:
    """The page of hits, the total, what the query could not honour and whether all is indexed.

    ``total_exact`` is False when ``total`` is a lower bound: over ``topk.COUNT_CAP`` sessions
    holding every word, matches are counted up to the cap only (counting them all is linear)."""

    hits: list[SearchHit]
    total: int
    ignored: list[str] = field(default_factory=list)
    waiting: int = 0
    total_exact: bool = True

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"count": self.total, "results": [hit.as_dict() for hit in self.hits]}
        answer["count_exact"] = self.total_exact
        answer["ignored"] = self.ignored
        answer["incomplete"] = self.waiting > 0
        if self.waiting:
            answer["waiting_to_index"] = self.waiting
        return answer


def run_search(
    query: str,
    *,
    project: Project | None = None,
    state: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    hybrid: bool | None = None,
) -> SearchResult:
    """Search, with the hits' snippets, the ``ignored`` parts of the query and the index lag."""
    limit = max(1, min(limit, MAX_LIMIT))
    parsed = parse(query[:MAX_QUERY_CHARS])
    filters = Filters(project_id=project.pk if project else None, state=state, since=since)
    use_semantic = settings.ANNORIS_SEARCH_SEMANTIC if hybrid is None else hybrid
    if use_semantic and semantic.available() and parsed.clauses:  # nothing to search: nothing found
        keyword = _keyword(parsed, filters, semantic.CANDIDATES, 0)
        exact_count = not isinstance(keyword[1], AtLeast)
        if parsed.phrases:
            keyword = keep_phrases(*keyword, parsed.phrases, parsed.ignored)
        exact = EXACT * len(parsed.clauses)
        ranked, total = semantic.fuse(
            query[:MAX_QUERY_CHARS], keyword, filters, limit, offset, exact_tier=exact
        )
        tiers = {sid: score // TIER for sid, score in keyword[0]}
    else:
        if parsed.phrases:  # the index matched them pair by pair: check them whole
            ranked, total = keep_phrases(
                *_keyword(parsed, filters, VERIFY_MAX, 0), parsed.phrases, parsed.ignored
            )
            ranked = ranked[offset : offset + limit]
        else:
            ranked, total = _keyword(parsed, filters, limit, offset)
        exact_count = not isinstance(total, AtLeast)
        tiers = {sid: score // TIER for sid, score in ranked}
        ranked = [(sid, score - tiers[sid] * TIER) for sid, score in ranked]  # the BM25 part
    hits = _hits(ranked, parsed, tiers)
    return SearchResult(hits, total, parsed.ignored, index_waiting(vectors=use_semantic), exact_count)


def search_session_ids(
    query: str, *, project: Project | None = None, limit: int | None = MAX_LIMIT, offset: int = 0
) -> tuple[list[uuid.UUID], int]:
    """(ids of matching live sessions, best first; total matches), by words only. Decrypts nothing.

    For the admin's search box and anything else that wants ids: ``limit=None`` returns all (and
    counts them all); with a limit, a total of the type ``topk.AtLeast`` is a lower bound.
    """
    parsed = parse(query[:MAX_QUERY_CHARS])
    filters = Filters(project_id=project.pk if project else None)
    ranked, total = _keyword(parsed, filters, limit, offset)
    return [session_id for session_id, _ in ranked], total


def search_sessions(
    query: str, *, project: Project | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> tuple[list[SearchHit], int]:
    """(hits best first with snippets, total matches) by words only."""
    result = run_search(query, project=project, limit=limit, offset=offset, hybrid=False)
    return result.hits, result.total


def _keyword(
    parsed: ParsedQuery, filters: Filters, limit: int | None, offset: int
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    if not parsed.clauses:
        return [], 0
    _, key = index_key()
    hashes = {term: term_hash(key, term) for term in query_terms(parsed)}
    return rank(parsed, hashes, filters=filters, limit=limit, offset=offset)


def _hits(
    ranked: list[tuple[uuid.UUID, float]], parsed: ParsedQuery, tiers: dict[uuid.UUID, float]
) -> list[SearchHit]:
    """The page's hits; ``tiers`` holds the keyword tier of the sessions found by words."""
    if not ranked:
        return []
    rows = Session.objects.select_related("project").in_bulk([session_id for session_id, _ in ranked])
    clauses = max(1, len(parsed.clauses))
    hits = []
    for session_id, score in ranked:
        row = rows.get(session_id)
        if row is None:
            continue
        tier = int(tiers.get(session_id, 0))
        hits.append(
            SearchHit(
                session_id=row.id,
                title=row.title,
                project=row.project.name if row.project else None,
                state=row.state,
                created_at=row.created_at,
                path=row.github_path,
                score=round(score, 4),
                snippet=_snippet(row, parsed),
                match=_LEVELS.get(tier // clauses, "part") if tier else "meaning",
            )
        )
    return hits


def _snippet(row: Session, parsed: ParsedQuery) -> str:
    try:
        return snippet(row.text, parsed)
    except DecryptionError:
        return ""
