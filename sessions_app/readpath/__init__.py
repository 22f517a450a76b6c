"""The read path: cache -> database -> source, one module per layer.

Public face (import these, nothing else)::

    from sessions_app.readpath import fetch, fetch_by_path, FetchResult
    from sessions_app.readpath import ReadError, SessionNotFound, SessionUnavailable, SessionUnreadable
    from sessions_app.readpath import breakers, database_available, call_database, DOWN
    from sessions_app.readpath import sessions_changed, pending_counts, reset

Modules: ``read`` (fetch and fetch_by_path: the order of the layers), ``cache`` (Redis),
``database`` (the row query and the outage-aware call), ``source`` (GitHub or the local
folder), ``writeback`` (source hits queued for the database), ``invalidation`` (durable
pending cache invalidations), ``manager`` (``Session.objects``), ``errors``, and ``state``
(all per-process memory, in one object). The names below load on first use:
``sessions_app.models`` imports the manager
from this package, and the layers import the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessions_app.readpath.errors import ReadError, SessionNotFound, SessionUnavailable, SessionUnreadable

if TYPE_CHECKING:
    from annoris.breaker import CircuitBreaker
    from sessions_app.readpath.database import DOWN
    from sessions_app.readpath.database import call as call_database
    from sessions_app.readpath.invalidation import sessions_changed
    from sessions_app.readpath.read import FetchResult, fetch, fetch_by_path

__all__ = [
    "DOWN",
    "FetchResult",
    "ReadError",
    "SessionNotFound",
    "SessionUnavailable",
    "SessionUnreadable",
    "breakers",
    "cache_enabled",
    "cache_ping",
    "call_database",
    "database_available",
    "fetch",
    "fetch_by_path",
    "pending_counts",
    "reset",
    "sessions_changed",
]

_LAZY = {
    "fetch": ("sessions_app.readpath.read", "fetch"),
    "fetch_by_path": ("sessions_app.readpath.read", "fetch_by_path"),
    "FetchResult": ("sessions_app.readpath.read", "FetchResult"),
    "DOWN": ("sessions_app.readpath.database", "DOWN"),
    "call_database": ("sessions_app.readpath.database", "call"),
    "sessions_changed": ("sessions_app.readpath.invalidation", "sessions_changed"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sessions_app.readpath' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def breakers() -> dict[str, CircuitBreaker]:
    """The breaker of each layer (``cache``, ``database``, ``source``), for /health."""
    from sessions_app.readpath import state

    s = state.STATE
    return {"cache": s.cache_breaker, "database": s.database_breaker, "source": s.source_breaker}


def database_available() -> bool:
    """Is the database up as far as this process knows (its breaker closed)? Makes no call."""
    from sessions_app.readpath import database

    return database.available()


def cache_ping() -> bool:
    """Does the cache answer now? False while disabled or its breaker is open (then no call)."""
    from sessions_app.readpath import cache

    return cache.ping()


def cache_enabled() -> bool:
    from sessions_app.readpath import cache

    return cache.enabled()


def pending_counts() -> dict[str, int | None]:
    """What waits in this process and in the database: write-backs, cache invalidations."""
    from sessions_app.readpath import invalidation, writeback

    return {"write_backs": writeback.pending_count(), "invalidations": invalidation.pending_count()}


def reset(clock: Any = None) -> None:
    """Forget all per-process state: breakers closed, queues empty (tests); ``clock`` for breakers."""
    from sessions_app.readpath import state

    state.reset(clock)
