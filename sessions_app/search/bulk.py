"""A build into an empty index writes its postings first and their term index once, at the end.

Why (issue #17, docs/benchmarks.md): every posting lands at a random place of the
``(term, -weight, session)`` index, and keeping it up row by row made PostgreSQL the build's
bottleneck. Measured with PostgreSQL's default settings, index kept -> built at the end:
1,000 sessions 665 -> 771/s, 10,000 551 -> 850/s, 100,000 (18 million postings) 284 -> 118 s,
of which building the index once takes ~17 s.

While it is absent, searches still answer, from a scan of the postings (seconds at 100,000):
a build from empty leaves them incomplete anyway. A build killed before its end leaves the
index absent until the next build, which restores it first (``ensure_term_index``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import Index

from sessions_app.models import SearchPosting

__all__ = ["BULK_MIN", "ensure_term_index", "term_index_deferred", "term_index_present"]

logger = logging.getLogger("annoris.search")

BULK_MIN = 1_000  # sessions to index into an empty index: below, the DDL is most of the gain
SORT_MEMORY = "256MB"  # maintenance_work_mem for building it: 18 million postings sort in ~20 s
LOCK_WAIT = "2s"  # dropping it waits this long for searches holding the table, else it is kept
_LOCK = 0x616E6E6F7269  # the advisory lock that orders the index's DDL between processes


def _term_index() -> Index:
    return next(i for i in SearchPosting._meta.indexes if i.name == "search_posting_term_weight")


def term_index_present() -> bool:
    """Does the postings' term index exist? (Always True off PostgreSQL: it is never dropped there.)"""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:  # one catalog lookup: /health asks on every call
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [connection.ops.quote_name(_term_index().name)])
        return bool(cursor.fetchone()[0])


def ensure_term_index() -> bool:
    """Build the term index if a build killed mid-way left it absent; True if it was built."""
    if connection.vendor != "postgresql" or term_index_present():
        return False
    with transaction.atomic(), connection.schema_editor(atomic=False) as editor:
        editor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        if term_index_present():
            return False  # another process built it while this one waited
        editor.execute(f"SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'")
        editor.execute("SET LOCAL statement_timeout = 0")  # minutes at millions of postings
        editor.add_index(SearchPosting, _term_index())
    return True


@contextmanager
def term_index_deferred(sessions: Callable[[], int], *, bulk_min: int = BULK_MIN) -> Iterator[bool]:
    """Around a build: without the term index when the postings are empty and the build's
    ``sessions()`` are at least ``bulk_min`` (PostgreSQL, outside a transaction), rebuilt on the
    way out. Yields whether it was deferred."""
    ensure_term_index()
    deferred = (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not SearchPosting.objects.exists()
        and sessions() >= bulk_min
    )
    deferred = deferred and _drop_term_index()
    try:
        yield deferred
    finally:
        if deferred:
            ensure_term_index()


def _drop_term_index() -> bool:
    """Drop the index (if another build has not); False, keeping it, when searches hold the
    table past LOCK_WAIT: a DROP waiting longer would queue every search behind it."""
    try:
        with transaction.atomic(), connection.schema_editor(atomic=False) as editor:
            editor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            editor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            if term_index_present():
                editor.remove_index(SearchPosting, _term_index())
    except OperationalError as exc:  # lock_timeout: build with the index kept
        logger.warning("search build keeps the term index: the table is busy (%s)", type(exc).__name__)
        return False
    return True
