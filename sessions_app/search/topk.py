"""The top of a dense AND query of plain words without scoring every match (issue #17).

``ranking.rank`` scores every matching session in one GROUP BY: linear in the matches, ~10x
slower at 100,000 sessions than at 10,000 when every session holds the words. When each clause
has one exact word (``w:`` term) held by at least DENSE_MIN sessions, this module answers the
same page instead:

1. **Count, capped.** The sessions holding every word exactly (and passing the filters and the
   exclusions) are counted up to COUNT_CAP: those the threshold algorithm (2) scores, then, when
   they are fewer, the rest, streaming the rarest word's postings and checking the others'; the
   count stops at the cap. Fewer than COUNT_CAP: back to ``ranking``'s SQL (exact count; the
   lower tiers may then reach the page). Otherwise the answer's count is ``AtLeast(COUNT_CAP)``:
   a lower bound, as Elasticsearch's ``track_total_hits``.
2. **Threshold algorithm** (Fagin, Lotem and Naor, 2001). A session holding every clause exactly
   ranks above any other (its tiers sum to ``TIER * EXACT * clauses``; BM25 stays far below TIER),
   so the page is the best ``offset + limit`` of those. Each word's postings are read by weight,
   best first (the ``(term, -weight, session)`` index), in growing keyset batches; each new
   session's weights for the other words and the excluded terms are read by the key, and its
   filters from the sessions table; its score is summed as the SQL sums it (the same float
   operations in the same order, so the scores are equal to the bit). The search stops when the
   k-th best score is above the threshold, the score of a session holding every word at the depth
   read (no unseen session can reach it), or a word's list ends (every session holding it is seen).
   Ties order by session id, as the SQL does; a threshold equal to the k-th score reads on.

Past MAX_READ postings of one word (weights tied over thousands of sessions), ``ranking``'s SQL
answers: the result is the same either way, only the cost differs.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Collection, Sequence

from django.db import connection

from sessions_app.models import SearchPosting

from . import access
from .access import Filters
from .parser import EXACT, Alternative

__all__ = ["COUNT_CAP", "DEEP_K", "DEEP_MIN", "DENSE_MIN", "MAX_K", "max_k", "AtLeast", "exact_terms", "top"]

# Measured at 10,000 sessions with bench/search_rows.py (30 two-word queries, page of 10): rows
# read 12,510 against the SQL's 44,660 (median), PostgreSQL time 6.5 ms against 35.4 ms. A page
# of 100 (hybrid) read 8-11 statements deep (the corpus's weights are flat, so the threshold
# falls slowly) and cost more than the SQL: hence MAX_K. At 100,000 the SQL's GROUP BY for a page of
# 100 took 300-1,200 ms (median 440) and this module 60-190 ms: pages up to DEEP_K when the rarest
# word is held by DEEP_MIN sessions or more.
DENSE_MIN = 1000  # sessions holding the rarest word: below, the SQL's GROUP BY is cheap enough
COUNT_CAP = 1000  # matches counted one by one; above, the count says "at least"
MAX_K = 20  # offset + limit served here (hybrid fuses 100: deeper than the SQL at 10,000) ...
DEEP_K, DEEP_MIN = 100, 30_000  # ... or up to DEEP_K, the rarest word held by DEEP_MIN sessions
# Postings read per word in the first round; each round reads twice as many. At 100,000
# sessions (100 two-word queries in-process, page of 10), 64 -> 128 took the median 26.0 ->
# 24.2 ms in three alternating runs: one round fewer, and 804 -> 783 probes a query (256: 873).
FIRST_BATCH = 128
COUNT_ROUND = 2  # by this round, mostly sessions that do not match: count them all (sparse)
MAX_READ = 20_000  # postings of one word read before giving the query back to the SQL
GONE_MAX = 1000  # soft-deleted sessions read once a query; past this, each round asks the table


class AtLeast(int):
    """A match count that stopped at a cap: at least this many sessions match."""


def exact_terms(
    clauses: list[list[Alternative]], hashes: dict[str, int], frequencies: dict[int, int]
) -> list[int] | None:
    """Each clause's exact word hash, in clause order, when this module can rank the query:
    every clause one exact single word, the rarest held by DENSE_MIN sessions or more."""
    terms = []
    for alts in clauses:
        exact = [alt for alt in alts if alt.level == EXACT]
        if len(exact) != 1 or len(exact[0].terms) != 1:
            return None
        (term,) = exact[0].terms
        if not term.startswith("w:"):
            return None
        terms.append(hashes[term])
    if not terms or min(frequencies[t] for t in terms) < DENSE_MIN:
        return None
    return terms


def top(
    terms: list[int],
    idf: dict[int, float],
    excluded: list[frozenset[int]],
    filters: Filters,
    *,
    base: float,
    k: int,
    rarest: int,
    held: int,
) -> list[tuple[uuid.UUID, float]] | None:
    """The best ``k`` (session id, score) of the sessions holding every word of ``terms`` (one
    per clause) exactly, as ``ranking``'s SQL orders them; None when the SQL must answer.

    ``base`` is a clause's exact tier (``TIER * EXACT``), ``rarest`` the word held by the fewest
    sessions (``held`` of them) and ``excluded`` the term sets that leave a session out.
    PostgreSQL only."""
    if k > max_k(held):
        return None
    return _threshold(terms, idf, excluded, access.conditions(filters), base=base, k=k, rarest=rarest)


def max_k(held: int) -> int:
    """The deepest page served here when ``held`` sessions hold the rarest word."""
    return DEEP_K if held >= DEEP_MIN else MAX_K


def _count(
    terms: list[int],
    excluded: list[frozenset[int]],
    filters: Sequence,
    rarest: int,
    *,
    cap: int,
    skip: Collection[str] = (),
) -> int:
    """Sessions holding every term exactly, filtered and not excluded, counted up to ``cap``,
    the sessions ``skip`` left out (a hashed NOT IN: each costs no probe).
    PostgreSQL hashes the rarest word's postings (a semi-join: 4.7 ms at 10,000 sessions); with
    ``OFFSET 0`` in the EXISTS, 1,000 probes by the key cost 8.9 ms there (pages not cached)."""
    table = SearchPosting._meta.db_table
    params: list[object] = [rarest]
    holds = []
    if skip:
        holds.append(f"p.session_id NOT IN (SELECT unnest({access.IDS}))")
        params.append(",".join(skip))
    for term in sorted(set(terms) - {rarest}):
        holds.append(f"EXISTS (SELECT 1 FROM {table} q WHERE q.session_id = p.session_id AND q.term = %s)")  # noqa: S608
        params.append(term)
    for terms_out in excluded:
        inner = " AND ".join(
            f"EXISTS (SELECT 1 FROM {table} q WHERE q.session_id = p.session_id AND q.term = %s)"  # noqa: S608
            for _ in terms_out
        )
        holds.append(f"NOT ({inner})")
        params.extend(sorted(terms_out))
    holds.append(access.session_sql(filters, params, "p.session_id"))
    rows = f"SELECT 1 FROM {table} p WHERE p.term = %s AND {' AND '.join(holds)}"  # noqa: S608
    return access.capped_count(rows, params, cap)


def _threshold(
    terms: list[int],
    idf: dict[int, float],
    excluded: list[frozenset[int]],
    filters: Sequence[tuple[str, object]],
    *,
    base: float,
    k: int,
    rarest: int,
) -> list[tuple[uuid.UUID, float]] | None:
    """The top ``k``, or None for the SQL (fewer than COUNT_CAP sessions match, or too deep).

    The matches this scores are counted as it goes, so the capped count (``_count``) only looks
    at the sessions it did not score: not at all once they reach COUNT_CAP (a hybrid query's page
    of 100 scores ~2,700 matches at 100,000 sessions), else for the rest (a page of 10 scores
    ~890 there: counting the rest took ~2 ms, the whole count 8-10). When, at round COUNT_ROUND,
    fewer than half the sessions scored match, all are counted at once: a sparse intersection
    goes to the SQL before a deeper read."""
    distinct = sorted(set(terms))
    gone = None if filters else access.soft_deleted(GONE_MAX)  # None: each round asks the table
    cursors: dict[int, tuple[float, str] | None] = dict.fromkeys(distinct)
    seen: set[str] = set()
    best: list[tuple[float, int]] = []  # a min-heap of the k best (score, -session id) so far
    batch = max(FIRST_BATCH, 2 * k)
    read = rounds = 0
    matched: set[str] = set()
    probed: set[str] = set()  # scored, matching or not
    counted = False  # COUNT_CAP sessions or more are known to match
    while True:
        rows = access.sorted_access(cursors, batch)
        ended = False
        for term in distinct:
            got = rows.get(term, [])
            if len(got) < batch:
                ended = True  # every session holding this word is now seen
            if got:
                cursors[term] = got[-1]
        weights = _weights_read(rows)
        new = weights.keys() - seen
        seen |= new
        if len(best) == k and all(cursors[t] is not None for t in distinct):
            new = _may_enter(new, weights, terms, idf, cursors, base, best[0][0])
        scored = _scores(new, weights, terms, idf, excluded, filters, base, gone)
        for score, sid in scored:
            entry = (score, -access.uuid_int(sid))  # the higher of a tie: the lower id, as the SQL
            if len(best) < k:
                heapq.heappush(best, entry)
            elif entry > best[0]:
                heapq.heapreplace(best, entry)
        matched.update(sid for _, sid in scored)
        probed |= new
        rounds += 1
        counted = counted or len(matched) >= COUNT_CAP
        if not counted and rounds == COUNT_ROUND and 2 * len(matched) < len(probed):
            if _count(terms, excluded, filters, rarest, cap=COUNT_CAP) < COUNT_CAP:
                return None  # a sparse intersection: the SQL counts and ranks it whole
            counted = True
        if ended:
            break
        threshold = sum(base + idf[t] * cursors[t][0] for t in terms)
        if len(best) == k and best[0][0] > threshold:
            break
        read += batch
        if read >= MAX_READ:
            return None
        batch *= 2
    if len(best) < k:
        return None  # fewer sessions hold every word than the page shows: the lower tiers follow
    if not counted:  # the sessions not scored (pruned, or not read) may hold the rest
        more = COUNT_CAP - len(matched)
        if _count(terms, excluded, filters, rarest, cap=more, skip=probed) < more:
            return None
    ranked = sorted(best, reverse=True)
    return [(uuid.UUID(int=-negated), score) for score, negated in ranked]


def _weights_read(rows: dict[int, list[tuple[float, str]]]) -> dict[str, dict[int, float]]:
    """A round's sorted access by session: session -> {term: weight} of the lists it was read in."""
    read: dict[str, dict[int, float]] = {}
    for term, got in rows.items():
        for weight, sid in got:
            read.setdefault(sid, {})[term] = weight
    return read


def _may_enter(
    new: set[str],
    read: dict[str, dict[int, float]],
    terms: list[int],
    idf: dict[int, float],
    cursors: dict[int, tuple[float, str] | None],
    base: float,
    kth: float,
) -> set[str]:
    """The ``new`` sessions whose score may still reach the k-th best (``kth``), the others left
    unread (Fagin's combined algorithm). A word a session was not read in this round weighs at
    most its list's cursor (lists fall; earlier rounds did not see the session); the bound sums as
    the scores do, so it holds to the bit, and the k-th best only rises."""
    kept = set()
    for sid in new:
        weights = read.get(sid, {})
        if sum(base + idf[t] * weights.get(t, cursors[t][0]) for t in terms) >= kth:  # type: ignore[index]
            kept.add(sid)
    return kept


def _scores(
    sids: set[str],
    read: dict[str, dict[int, float]],
    terms: list[int],
    idf: dict[int, float],
    excluded: list[frozenset[int]],
    filters: Sequence[tuple[str, object]],
    base: float,
    gone: set[str] | None = None,
) -> list[tuple[float, str]]:
    """(score, session) of the ``sids`` holding every word, passing the filters, not excluded.
    ``gone``: the soft-deleted sessions, given only when there are no filters (None: the
    sessions table is asked).

    The weights ``read`` by sorted access are taken as read; only the others are probed, each
    (session, term) by its key. At 100,000 sessions a hybrid query scores ~2,700 sessions here:
    probing every term of each (``term = ANY``, a descent per term) took 65 ms a query, probing
    the unknown ones alone (about one a session) 50 ms (docs/benchmarks.md)."""
    if not sids:
        return []
    wanted = sorted(set(terms).union(*excluded))
    ids = list(sids)
    held = {sid: dict(read.get(sid, ())) for sid in ids}
    probes = [(sid, term) for sid, weights in held.items() for term in wanted if term not in weights]
    with connection.cursor() as cursor:
        for sid, found in access.weights(cursor, probes).items():
            held[sid].update(found)
        allowed = access.allowed(cursor, ids, filters, gone)
    out = []
    for sid, weights in held.items():
        if sid not in allowed or any(t not in weights for t in terms):
            continue
        if any(all(t in weights for t in out_terms) for out_terms in excluded):
            continue
        # As the SQL: each clause's ``%s + %s * weight``, then c0.s + c1.s + ... left to right.
        out.append((sum(base + idf[t] * weights[t] for t in terms), sid))
    return out
