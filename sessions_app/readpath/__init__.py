"""The read path: cache -> database -> source, one module per layer.

Two levels, so that imports point one way:

- this package's face, the lower level that the services call (no fetch in it)::

    from sessions_app.readpath import ReadError, SessionNotFound, SessionUnavailable, SessionUnreadable
    from sessions_app.readpath import breakers, database_available, call_database, DOWN
    from sessions_app.readpath import sessions_changed, pending_counts, reset

- ``sessions_app.readpath.read``: ``fetch``, ``fetch_by_path``, ``FetchResult`` (also
  ``Session.objects.fetch``), which calls the services to write source hits back.

Modules: ``read`` (the order of the layers), ``cache`` (Redis), ``database`` (the row
query and the outage-aware call), ``source`` (GitHub or the local folder), ``writeback``
(source hits queued for the database), ``invalidation`` (durable pending cache
invalidations), ``errors``, and ``state`` (all per-process memory, in one object).
"""

from __future__ import annotations

from typing import Any

from annoris.breaker import CircuitBreaker
from sessions_app.readpath import cache, database, invalidation, state
from sessions_app.readpath.database import DOWN
from sessions_app.readpath.database import call as call_database
from sessions_app.readpath.errors import ReadError, SessionNotFound, SessionUnavailable, SessionUnreadable
from sessions_app.readpath.invalidation import sessions_changed

__all__ = [
    "DOWN",
    "ReadError",
    "SessionNotFound",
    "SessionUnavailable",
    "SessionUnreadable",
    "breakers",
    "cache_enabled",
    "cache_ping",
    "call_database",
    "database_available",
    "pending_counts",
    "reset",
    "sessions_changed",
]


def breakers() -> dict[str, CircuitBreaker]:
    """The breaker of each layer (``cache``, ``database``, ``source``), for /health."""
    s = state.STATE
    return {"cache": s.cache_breaker, "database": s.database_breaker, "source": s.source_breaker}


def database_available() -> bool:
    """Is the database up as far as this process knows (its breaker closed)? Makes no call."""
    return database.available()


def cache_ping() -> bool:
    """Does the cache answer now? False while disabled or its breaker is open (then no call)."""
    return cache.ping()


def cache_enabled() -> bool:
    return cache.enabled()


def pending_counts() -> dict[str, int | None]:
    """What waits in this process and in the database: write-backs, cache invalidations."""
    return {"write_backs": len(state.STATE.write_backs), "invalidations": invalidation.pending_count()}


def reset(clock: Any = None) -> None:
    """Forget all per-process state: breakers closed, queues empty (tests); ``clock`` for breakers."""
    state.reset(clock)
