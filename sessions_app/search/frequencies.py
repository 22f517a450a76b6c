"""BM25's corpus statistics: how many sessions are indexed, their average length, and how many
hold each term, counted in the postings and reused by each process for a while.

They tune the ranking only, never what is found: a term not known here is always counted, so a
new word is found at once, and a count is reused longer the more it counted (``kept``).
"""

from __future__ import annotations

import time

from django.db import connection
from django.db.models import Count, Sum

from annoris.state import Figures, Memo, per_process
from sessions_app.models import SearchDocument, SearchPosting

__all__ = ["document_frequencies", "document_stats", "kept"]

STATS_TTL = 30.0  # seconds a process reuses document counts (ranking only, never recall) ...
# ... per STATS_PER sessions counted, up to STATS_SPAN times as long. A count costs in proportion
# to what it counts (at 100,000 sessions: a word all of them hold 13-22 ms, two such words 38,
# the documents' count and lengths 11-26; hybrid queries that recounted two words took
# 160-200 ms against a median of 85), and a large count changes little in relative terms.
STATS_PER = 1000
STATS_SPAN = 20
_DF_CACHE_SIZE = 100_000
# Per-process (annoris.state: every test's reset empties them): term -> (sessions, valid until),
# and (documents, their total length, valid until).
_df_cache: dict[int, tuple[int, float]] = per_process(Memo())
_count_cache: list[float] = per_process(Figures(0, 0, 0.0))


def kept(counted: int) -> float:
    """Seconds a count of ``counted`` sessions is reused: STATS_TTL a STATS_PER, within STATS_SPAN."""
    return STATS_TTL * min(STATS_SPAN, max(1.0, counted / STATS_PER))


def document_stats() -> tuple[int, float]:
    """(indexed sessions, their average length): BM25's N and average, kept ``kept`` seconds."""
    now = time.monotonic()
    if _count_cache[2] <= now or not _count_cache[0]:
        found = SearchDocument.objects.aggregate(count=Count("pk"), total=Sum("length"))
        _count_cache[:] = [found["count"], found["total"] or 0, now + kept(found["count"])]
    count, total = int(_count_cache[0]), _count_cache[1]
    return count, max(1.0, total / count) if count else 1.0


def document_frequencies(hashes: list[int]) -> dict[int, int]:
    """Sessions per term. Counts found are kept ``kept`` seconds (they only tune the ranking);
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
                _df_cache[int(term)] = (int(n), now + kept(int(n)))
    return known
