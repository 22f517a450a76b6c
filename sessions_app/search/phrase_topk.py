"""The top of a phrase thousands of sessions hold, without checking every one of them (issue #17).

A phrase matches on the pair set of ``SearchDocument`` (GIN ``@>``), and its matches rank by
BM25 over the phrase's words (``ranking.phrase_words``). When every session holds the phrase
(``"def step"`` in the generated corpus), the GIN index finds all 100,000 and each one's set is
read and rechecked: 971 ms. This module answers the same page as ``ranking``'s SQL when the
query is one phrase (one alternative of pairs, nothing excluded) held by COUNT_CAP sessions or
more:

1. **Threshold algorithm** over the words' posting lists, best weight first (as ``topk``). A
   session's score is ``base + idf * weight`` summed over the words it holds, in the SQL's order
   (a word it lacks adds 0); a candidate counts only when its pair set holds the pairs (checked
   by its key) and it passes the filters. A session in no list read so far scores at most the
   threshold (the sum of the lists' last weights, 0 for a list read to its end). The search stops
   when the k-th best score is above the threshold. Every list read to its end without that (the
   page's last sessions hold no word of the phrase), or MAX_READ postings of a word read (a
   phrase few of the words' sessions hold: the SQL over its matches is then cheaper), or fewer
   than MIN_HOLDING of the first round's sessions holding the phrase: the SQL.
2. **Count, capped**: the sessions holding the pairs (and passing the filters) are counted up to
   ``topk.COUNT_CAP`` (only then: a phrase the SQL answers is counted there). Fewer: the SQL
   answers (its count exact).
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Sequence

from django.db import connection

from sessions_app.models import SearchDocument, Session

from . import access, topk
from .parser import Alternative

__all__ = ["MAX_READ", "single_phrase", "top"]

MAX_READ = 1024  # postings of one word read before the SQL answers
# Of the sessions the first round reads, the share that must hold the phrase: at 100,000 sessions a
# phrase 8% of them hold ("cache redis") read MAX_READ deep in vain (~25 ms) before the SQL answered.
MIN_HOLDING = 0.5
# ... then every session holding it is read (as the SQL would), and the threshold algorithm runs
# again with those as the only candidates: scoring every match by its words' BM25 cost two random
# posting probes a match (8,000 matches: ~100 ms at 100,000 sessions, against ~7 ms for the sets).
MEMBERS_MAX_READ = 50_000


def single_phrase(clauses: list[list[Alternative]], excluded: list[Alternative]) -> Alternative | None:
    """The query's one alternative when it is pairs only (a phrase) and nothing is excluded."""
    if len(clauses) != 1 or len(clauses[0]) != 1 or excluded:
        return None
    (alt,) = clauses[0]
    return alt if alt.terms and all(term.startswith("b:") for term in alt.terms) else None


def top(
    pairs: list[int],
    words: list[int],
    idf: dict[int, float],
    filters: access.Filters,
    *,
    base: float,
    k: int,
    held: int,
) -> tuple[list[tuple[uuid.UUID, float]], int] | None:
    """The best ``k`` (session id, score) of the sessions holding every pair hash of ``pairs``, as
    ``ranking``'s SQL orders them; None when the SQL must answer. ``held``: sessions holding the
    rarest word (pages up to ``topk.max_k(held)``). PostgreSQL only."""
    if not words or k > topk.max_k(held):
        return None
    conditions = access.conditions(filters)
    found = _threshold(pairs, words, idf, conditions, base=base, k=k)
    if found is not None and _count(pairs, conditions) >= topk.COUNT_CAP:
        return found, topk.AtLeast(topk.COUNT_CAP)
    members = _members(pairs, conditions)
    if len(members) < topk.COUNT_CAP:
        return None
    found = _threshold(pairs, words, idf, conditions, base=base, k=k, members=members)
    return None if found is None else (found, len(members))


def _members(pairs: list[int], filters: Sequence[tuple[str, object]]) -> set[str]:
    """Every session holding ``pairs`` and passing the filters (each set the GIN index finds is
    read: as the SQL would, without probing two postings a match to score it)."""
    documents, sessions = SearchDocument._meta.db_table, Session._meta.db_table
    params: list[object] = [pairs]
    if filters:
        conditions = " AND ".join(condition for condition, _ in filters)
        live = f"d.session_id IN (SELECT id FROM {sessions} WHERE deleted_at IS NULL AND {conditions})"  # noqa: S608
        params.extend(value for _, value in filters)
    else:
        live = f"d.session_id NOT IN (SELECT id FROM {sessions} WHERE deleted_at IS NOT NULL)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.session_id::text FROM {documents} d WHERE d.pairs @> %s::bigint[] AND {live}",  # noqa: S608
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _count(pairs: list[int], filters: Sequence[tuple[str, object]]) -> int:
    """Sessions holding ``pairs`` and passing the filters, up to COUNT_CAP: the GIN index finds
    them, and only the first COUNT_CAP sets are read and rechecked."""
    documents = SearchDocument._meta.db_table
    params: list[object] = [pairs]
    live = access.session_sql(filters, params, "d.session_id")
    rows = f"SELECT 1 FROM {documents} d WHERE d.pairs @> %s::bigint[] AND {live}"  # noqa: S608
    return access.capped_count(rows, params, topk.COUNT_CAP)


def _threshold(
    pairs: list[int],
    words: list[int],
    idf: dict[int, float],
    filters: Sequence[tuple[str, object]],
    *,
    base: float,
    k: int,
    members: set[str] | None = None,
) -> list[tuple[uuid.UUID, float]] | None:
    cursors: dict[int, tuple[float, str] | None] = dict.fromkeys(words)
    ended: set[int] = set()
    seen: set[str] = set()
    best: list[tuple[float, int]] = []  # a min-heap of the k best (score, -session id) so far
    batch = max(topk.FIRST_BATCH, 2 * k)
    read = 0
    while True:
        rows = access.sorted_access({w: c for w, c in cursors.items() if w not in ended}, batch)
        for word in words:
            if word in ended:
                continue
            got = rows.get(word, [])
            if len(got) < batch:
                ended.add(word)  # every session holding this word is now seen
            if got:
                cursors[word] = got[-1]
        new = {sid for got in rows.values() for _, sid in got} - seen
        seen |= new
        scored, holding = _scores(new, pairs, words, idf, filters, base, members)
        if members is None and not read and holding < MIN_HOLDING * len(new):
            return None  # few of the words' best sessions hold the phrase: the SQL over its matches
        for score, sid in scored:
            entry = (score, -access.uuid_int(sid))  # the higher of a tie: the lower id, as the SQL
            if len(best) < k:
                heapq.heappush(best, entry)
            elif entry > best[0]:
                heapq.heapreplace(best, entry)
        threshold = base
        for word in words:  # summed in the scores' order: an unseen session's bound, to the bit
            cursor = cursors[word]
            threshold += 0.0 if word in ended or cursor is None else idf[word] * cursor[0]
        if len(best) == k and best[0][0] > threshold:
            break
        read += batch
        if len(ended) == len(words) or read >= (MAX_READ if members is None else MEMBERS_MAX_READ):
            return None
        batch *= 2
    ranked = sorted(best, reverse=True)
    return [(uuid.UUID(int=-negated), score) for score, negated in ranked]


def _scores(
    sids: set[str],
    pairs: list[int],
    words: list[int],
    idf: dict[int, float],
    filters: Sequence[tuple[str, object]],
    base: float,
    members: set[str] | None,
) -> tuple[list[tuple[float, str]], int]:
    """([(score, session)] of the ``sids`` holding the pairs and passing the filters, how many of
    the ``sids`` hold the pairs)."""
    if not sids:
        return [], 0
    documents = SearchDocument._meta.db_table
    ids = list(sids)
    with connection.cursor() as cursor:
        if members is None:
            cursor.execute(
                f"SELECT session_id::text FROM {documents} WHERE session_id = ANY({access.IDS}) "  # noqa: S608
                "AND pairs @> %s::bigint[]",
                [",".join(ids), pairs],
            )
            holding = [row[0] for row in cursor.fetchall()]
        else:
            holding = [sid for sid in ids if sid in members]
        if not holding:
            return [], 0
        held = access.weights(cursor, [(sid, word) for sid in holding for word in words])
        allowed = access.allowed(cursor, holding, filters) if members is None else members
    out = []
    for sid in holding:
        if sid not in allowed:
            continue
        weights = held.get(sid, {})
        score = base
        for word in words:  # as the SQL: ((base + w0) + w1) + ..., a word not held adding 0
            score += idf[word] * weights[word] if word in weights else 0.0
        out.append((score, sid))
    return out, len(holding)
