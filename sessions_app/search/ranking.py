"""A parsed query as SQL over the hashed postings: the match tiers, then BM25.

Each alternative is one GROUP BY over the postings of its terms (an index-only scan on
PostgreSQL); a clause keeps its best alternative per session; the clauses are joined; the
exclusions and the session filters (live, project, state, since) are subqueries on indexed
columns. The score is ``1000 * (sum of the clauses' levels) + BM25``, so every session
matching at a better tier (exact > stem > part) ranks above every one matching at a worse
tier, and BM25 (k1=1.2, b=0.75, title tokens counted 3 times) orders each tier.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from sessions_app.models import SearchDocument, SearchPosting, Session

from . import topk
from .parser import EXACT, Alternative, ParsedQuery, prune

__all__ = ["TIER", "Filters", "rank"]

TIER = 1000.0
STATS_TTL = 30.0  # seconds a process reuses document counts (ranking only, never recall)
_DF_CACHE_SIZE = 100_000
_df_cache: dict[int, tuple[int, float]] = {}
_count_cache: list[float] = [0, 0.0]


@dataclass(frozen=True)
class Filters:
    """Which sessions may be found besides the words: live always, then project, state, since."""

    project_id: uuid.UUID | None = None
    state: str | None = None
    since: datetime | None = None


def rank(
    parsed: ParsedQuery, hashes: dict[str, int], *, filters: Filters, limit: int | None, offset: int
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """([(session id, score)] best first, total matches)."""
    frequencies = _document_frequencies(list(set(hashes.values())))
    parsed = prune(parsed, {term for term, value in hashes.items() if value in frequencies})
    clauses = []
    for clause in parsed.clauses:
        alts = [alt for alt in clause if all(hashes[t] in frequencies for t in alt.terms)]
        if not alts:
            return [], 0  # a clause no session can satisfy
        clauses.append(alts)
    excluded = [alt for alt in parsed.excluded if all(hashes[t] in frequencies for t in alt.terms)]
    count = max([_document_count(), *frequencies.values()])
    idf = {h: math.log(1 + (count - df + 0.5) / (df + 0.5)) for h, df in frequencies.items()}
    dense = topk.exact_terms(clauses, hashes, frequencies) if connection.vendor == "postgresql" else None
    if dense and limit is not None:  # the best page without scoring every match (see topk)
        out = [frozenset(hashes[t] for t in alt.terms) for alt in excluded]
        rarest = min(dense, key=frequencies.__getitem__)
        found = topk.top(dense, idf, out, filters, base=TIER * EXACT, k=offset + limit, rarest=rarest)
        if found is not None:
            return found[offset:], topk.AtLeast(topk.COUNT_CAP)
    params: list[object] = []
    ctes = [f"c{i} AS ({_clause_sql(alts, hashes, idf, params)})" for i, alts in enumerate(clauses)]
    joins = "".join(f" JOIN c{i} ON c{i}.session_id = c0.session_id" for i in range(1, len(clauses)))
    score = " + ".join(f"c{i}.s" for i in range(len(clauses)))
    where = _filter_sql(filters, params)
    if excluded:
        parts = " UNION ALL ".join(
            _alternative_sql(alt, hashes, None, params, ids_only=True) for alt in excluded
        )
        where += f" AND c0.session_id NOT IN ({parts})"
    sql = (
        f"WITH {', '.join(ctes)} SELECT c0.session_id, {score} AS score, COUNT(*) OVER () "  # noqa: S608
        f"FROM c0{joins} WHERE {where} ORDER BY score DESC, c0.session_id"
    )
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(_uuid(row[0]), float(row[1])) for row in rows], (int(rows[0][2]) if rows else 0)


def _clause_sql(alts: list[Alternative], hashes: dict[str, int], idf: dict[int, float], params: list) -> str:
    if len(alts) == 1:
        return _alternative_sql(alts[0], hashes, idf, params)
    union = " UNION ALL ".join(_alternative_sql(alt, hashes, idf, params) for alt in alts)
    return f"SELECT session_id, MAX(s) AS s FROM ({union}) a GROUP BY session_id"


def _alternative_sql(
    alt: Alternative,
    hashes: dict[str, int],
    idf: dict[int, float] | None,
    params: list,
    *,
    ids_only: bool = False,
) -> str:
    table = SearchPosting._meta.db_table
    values = sorted({hashes[t] for t in alt.terms})
    if len(values) == 1:
        if ids_only:
            params.append(values[0])
            return f"SELECT session_id FROM {table} WHERE term = %s"  # noqa: S608
        params.extend([TIER * alt.level, idf[values[0]], values[0]])
        return f"SELECT session_id, %s + %s * weight AS s FROM {table} WHERE term = %s"  # noqa: S608
    placeholders = ", ".join(["%s"] * len(values))
    if ids_only:
        params.extend([*values, len(values)])
        return (
            f"SELECT session_id FROM {table} WHERE term IN ({placeholders}) "  # noqa: S608
            "GROUP BY session_id HAVING COUNT(*) = %s"
        )
    case = " ".join("WHEN %s THEN %s" for _ in values)
    params.append(TIER * alt.level)
    for value in values:
        params.extend([value, idf[value]])
    params.extend([*values, len(values)])
    return (
        f"SELECT session_id, %s + SUM((CASE term {case} END) * weight) AS s FROM {table} "  # noqa: S608
        f"WHERE term IN ({placeholders}) GROUP BY session_id HAVING COUNT(*) = %s"
    )


def _filter_sql(filters: Filters, params: list) -> str:
    sessions = Session._meta.db_table
    if filters.project_id is None and filters.state is None and filters.since is None:
        return f"c0.session_id NOT IN (SELECT id FROM {sessions} WHERE deleted_at IS NOT NULL)"  # noqa: S608
    conditions = ["deleted_at IS NULL"]
    if filters.project_id is not None:
        conditions.append("project_id = %s")
        params.append(filters.project_id if connection.vendor == "postgresql" else filters.project_id.hex)
    if filters.state is not None:
        conditions.append("state = %s")
        params.append(filters.state)
    if filters.since is not None:
        conditions.append("created_at >= %s")
        params.append(filters.since)
    return f"c0.session_id IN (SELECT id FROM {sessions} WHERE {' AND '.join(conditions)})"  # noqa: S608


def _document_count() -> int:
    """Indexed sessions (BM25's N), kept STATS_TTL seconds."""
    now = time.monotonic()
    if _count_cache[1] <= now or not _count_cache[0]:
        _count_cache[:] = [SearchDocument.objects.count(), now + STATS_TTL]
    return int(_count_cache[0])


def _document_frequencies(hashes: list[int]) -> dict[int, int]:
    """Sessions per term. Counts found are kept STATS_TTL seconds (they only tune the ranking);
    a term not known is always looked up, so a new word is found at once."""
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
