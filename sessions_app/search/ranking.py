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
import struct
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from sessions_app.models import SearchDocument, SearchPosting, Session

from . import phrase_topk, topk
from .frequencies import document_frequencies, document_stats
from .parser import EXACT, Alternative, ParsedQuery, prune
from .postings import K1, B
from .terms import is_filter

__all__ = ["TIER", "Filters", "phrase_words", "query_terms", "rank"]

TIER = 1000.0


@dataclass(frozen=True)
class Filters:
    """Which sessions may be found besides the words: live always, then project, state, since."""

    project_id: uuid.UUID | None = None
    state: str | None = None
    since: datetime | None = None


def query_terms(parsed: ParsedQuery) -> set[str]:
    """The terms to hash for ``rank``: the query's, and the words of its phrases (``w:``), which
    rank the sessions holding a phrase (a pair set says only that a session holds it)."""
    found = parsed.all_terms()
    return found | {"w:" + run for term in found if term.startswith("b:") for run in term[2:].split(" ")}


def phrase_words(alt: Alternative, hashes: dict[str, int], idf: dict[int, float]) -> list[int]:
    """The hashes of the words of an alternative of pairs only (a phrase, a hyphenated word) that
    some session holds, sorted: BM25 over them ranks its matches. Empty otherwise (a prefix, or
    no word of the phrase indexed whole): then BM25's length normalisation alone ranks them."""
    if not alt.terms or not all(term.startswith("b:") for term in alt.terms):
        return []
    runs = {run for term in alt.terms for run in term[2:].split(" ")}
    return sorted({hashes["w:" + run] for run in runs if hashes.get("w:" + run) in idf})


def rank(
    parsed: ParsedQuery, hashes: dict[str, int], *, filters: Filters, limit: int | None, offset: int
) -> tuple[list[tuple[uuid.UUID, float]], int]:
    """([(session id, score)] best first, total matches)."""
    frequencies = document_frequencies(
        sorted({value for term, value in hashes.items() if not is_filter(term)})
    )
    # A pair or a prefix is not counted (it is no posting): any session may hold it.
    known = {term for term, value in hashes.items() if value in frequencies or is_filter(term)}
    parsed = prune(parsed, known)
    clauses = []
    for clause in parsed.clauses:
        alts = [alt for alt in clause if alt.terms <= known]
        if not alts:
            return [], 0  # a clause no session can satisfy
        clauses.append(alts)
    excluded = [alt for alt in parsed.excluded if alt.terms <= known]
    count, average = document_stats()
    count = max([count, *frequencies.values()])
    idf = {h: math.log(1 + (count - df + 0.5) / (df + 0.5)) for h, df in frequencies.items()}
    terms = _Terms(hashes, idf, math.log(1 + (count - 0.5) / 1.5), average)
    dense = topk.exact_terms(clauses, hashes, frequencies) if connection.vendor == "postgresql" else None
    if any(is_filter(term) for alt in excluded for term in alt.terms):
        dense = None  # an excluded phrase or prefix is no posting: only the SQL checks its sets
    if dense and limit is not None:  # the best page without scoring every match (see topk)
        out = [frozenset(hashes[t] for t in alt.terms) for alt in excluded]
        rarest = min(dense, key=frequencies.__getitem__)
        found = topk.top(
            dense,
            idf,
            out,
            filters,
            base=TIER * EXACT,
            k=offset + limit,
            rarest=rarest,
            held=frequencies[rarest],
        )
        if found is not None:
            return found[offset:], topk.AtLeast(topk.COUNT_CAP)
    phrase = phrase_topk.single_phrase(clauses, excluded) if dense is None else None
    if phrase and limit is not None and connection.vendor == "postgresql":
        words = phrase_words(phrase, hashes, idf)
        pairs = sorted(hashes[t] for t in phrase.terms)
        held = min(frequencies[word] for word in words) if words else 0
        paged = phrase_topk.top(
            pairs, words, idf, filters, base=TIER * phrase.level, k=offset + limit, held=held
        )
        if paged is not None:  # (the best, their count: exact, or at least COUNT_CAP)
            return paged[0][offset:], paged[1]
    params: list[object] = []
    ctes = [f"c{i} AS ({_clause_sql(alts, terms, params)})" for i, alts in enumerate(clauses)]
    joins = "".join(f" JOIN c{i} ON c{i}.session_id = c0.session_id" for i in range(1, len(clauses)))
    score = " + ".join(f"c{i}.s" for i in range(len(clauses)))
    where = _filter_sql(filters, params)
    if excluded:
        parts = " UNION ALL ".join(_alternative_sql(alt, terms, params, ids_only=True) for alt in excluded)
        where += f" AND c0.session_id NOT IN ({parts})"
    sql = (
        f"WITH {', '.join(ctes)} SELECT c0.session_id, {score} AS score, COUNT(*) OVER () "  # noqa: S608
        f"FROM c0{joins} WHERE {where} ORDER BY score DESC, c0.session_id"
    )
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    if connection.vendor != "postgresql":
        connection.ensure_connection()  # SQLite: the sets are blobs, checked by this function
        connection.connection.create_function("annoris_holds", 2, _holds, deterministic=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(_uuid(row[0]), float(row[1])) for row in rows], (int(rows[0][2]) if rows else 0)


@dataclass(frozen=True)
class _Terms:
    """What the SQL of one query needs: the hashes, their idf, BM25's average length."""

    hashes: dict[str, int]
    idf: dict[int, float]
    rare_idf: float  # a pair or prefix has no frequency of its own: scored as a rare term's
    average: float


def _clause_sql(alts: list[Alternative], terms: _Terms, params: list) -> str:
    if len(alts) == 1:
        return _alternative_sql(alts[0], terms, params)
    singles = _one_term_each(alts, terms)
    if singles is not None:
        # Every alternative one posting term (a word and its stem): one scan of the postings, so
        # PostgreSQL estimates the sessions from its statistics. Over a UNION ALL it assumed 200
        # and, at 10,000 sessions, probed another clause's postings 10,000 times by the key
        # (37 ms) instead of hashing them (13 ms). Each term's score is its alternative's
        # ``%s + %s * weight``, so the maximum is the UNION ALL's to the bit.
        table = SearchPosting._meta.db_table
        case = " ".join("WHEN %s THEN %s + %s * weight" for _ in alts)
        for alt, value in zip(alts, singles, strict=True):
            params.extend([value, TIER * alt.level, terms.idf[value]])
        params.extend(singles)
        placeholders = ", ".join(["%s"] * len(alts))
        return (
            f"SELECT session_id, MAX(CASE term {case} END) AS s FROM {table} "  # noqa: S608
            f"WHERE term IN ({placeholders}) GROUP BY session_id"
        )
    union = " UNION ALL ".join(_alternative_sql(alt, terms, params) for alt in alts)
    return f"SELECT session_id, MAX(s) AS s FROM ({union}) a GROUP BY session_id"


def _one_term_each(alts: list[Alternative], terms: _Terms) -> list[int] | None:
    """Each alternative's one posting term, when every alternative is one and they differ."""
    if any(is_filter(t) for alt in alts for t in alt.terms):
        return None
    found = [{terms.hashes[t] for t in alt.terms} for alt in alts]
    if any(len(hashes) != 1 for hashes in found):
        return None
    singles = [next(iter(hashes)) for hashes in found]
    return singles if len(set(singles)) == len(singles) else None


def _alternative_sql(alt: Alternative, terms: _Terms, params: list, *, ids_only: bool = False) -> str:
    if any(is_filter(term) for term in alt.terms):
        return _filtered_sql(alt, terms, params, ids_only=ids_only)
    table = SearchPosting._meta.db_table
    values = sorted({terms.hashes[t] for t in alt.terms})
    if len(values) == 1:
        if ids_only:
            params.append(values[0])
            return f"SELECT session_id FROM {table} WHERE term = %s"  # noqa: S608
        params.extend([TIER * alt.level, terms.idf[values[0]], values[0]])
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
        params.extend([value, terms.idf[value]])
    params.extend([*values, len(values)])
    return (
        f"SELECT session_id, %s + SUM((CASE term {case} END) * weight) AS s FROM {table} "  # noqa: S608
        f"WHERE term IN ({placeholders}) GROUP BY session_id HAVING COUNT(*) = %s"
    )


def _filtered_sql(alt: Alternative, terms: _Terms, params: list, *, ids_only: bool) -> str:
    """An alternative of pairs (a phrase) or a prefix: the documents whose sets hold them all.

    On PostgreSQL a GIN index over each set answers ``@>`` (migration 0013). The pairs' and
    prefixes' frequencies are not stored: a phrase's match scores as BM25 over the phrase's
    words (``phrase_words``); a prefix's as a rare term found once, BM25's length
    normalisation ordering it."""
    documents = SearchDocument._meta.db_table
    checks = [
        (column, sorted({terms.hashes[t] for t in alt.terms if t.startswith(kind)}))
        for column, kind in (("pairs", "b:"), ("prefixes", "p:"))
    ]
    if ids_only:
        holds = " AND ".join(_holds_sql(column, values, params) for column, values in checks if values)
        return f"SELECT session_id FROM {documents} WHERE {holds}"  # noqa: S608
    words = phrase_words(alt, terms.hashes, terms.idf)
    if words:  # BM25 of the phrase's words: a session about the phrase holds them often
        table = SearchPosting._meta.db_table
        # ((base + w0) + w1) + ...: the order phrase_topk sums them in, so scores are equal to the bit
        adds = " + ".join(f"COALESCE(%s * p{i}.weight, 0)" for i in range(len(words)))
        params.append(TIER * alt.level)
        params.extend(terms.idf[word] for word in words)
        joins = "".join(
            f" LEFT JOIN {table} p{i} ON p{i}.session_id = d.session_id AND p{i}.term = %s"
            for i in range(len(words))
        )
        params.extend(words)
        holds = " AND ".join(_holds_sql(column, values, params) for column, values in checks if values)
        return f"SELECT d.session_id, %s + {adds} AS s FROM {documents} d{joins} WHERE {holds}"  # noqa: S608
    # BM25's tf factor at tf 1: (k1 + 1) / (1 + k1 * (1 - b + b * length / average))
    params.extend([TIER * alt.level, terms.rare_idf * (K1 + 1), 1 + K1 * (1 - B), K1 * B / terms.average])
    holds = " AND ".join(_holds_sql(column, values, params) for column, values in checks if values)
    return f"SELECT session_id, %s + %s / (%s + %s * length) AS s FROM {documents} WHERE {holds}"  # noqa: S608


def _holds_sql(column: str, values: list[int], params: list) -> str:
    """SQL true when the hash set in ``column`` holds every one of ``values``."""
    if connection.vendor == "postgresql":
        params.append(values)
        return f"{column} @> %s::bigint[]"
    params.append(struct.pack(f">{len(values)}q", *values))
    return f"annoris_holds({column}, %s)"


def _holds(stored: bytes | None, needles: bytes) -> bool:
    """SQLite's ``annoris_holds``: every 8-byte hash of ``needles`` is one of ``stored``."""
    if stored is None:
        return False
    have = {stored[i : i + 8] for i in range(0, len(stored), 8)}
    return all(needles[i : i + 8] in have for i in range(0, len(needles), 8))


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


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
