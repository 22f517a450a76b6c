"""The read path: cache -> database -> source, one module per layer (see README's Layout).

This face is the lower level services call (errors, breakers, the database call,
``sessions_changed``, ``pending_counts``, ``reset``); ``read`` has ``fetch`` and calls the
services to write source hits back, so imports point one way."""

from __future__ import annotations

from typing import Any

from annoris import database
from annoris import state as annoris_state
from annoris.breaker import CircuitBreaker
from annoris.database import DOWN as DOWN
from annoris.database import available as database_available
from annoris.database import call as call_database
from sessions_app.readpath import invalidation, state
from sessions_app.readpath.cache import enabled as cache_enabled
from sessions_app.readpath.cache import ping as cache_ping
from sessions_app.readpath.errors import ReadError, SessionNotFound, SessionUnavailable, SessionUnreadable
from sessions_app.readpath.invalidation import sessions_changed

__all__ = [
    "DOWN", "ReadError", "SessionNotFound", "SessionUnavailable", "SessionUnreadable", "breakers",
    "cache_enabled", "cache_ping", "call_database", "database_available", "pending_counts", "reset",
    "sessions_changed",
]  # fmt: skip


def breakers() -> dict[str, CircuitBreaker]:
    """The breaker of each layer (``cache``, ``database``, ``source``), for /health."""
    s = state.STATE
    return {"cache": s.cache_breaker, "database": database.BREAKER, "source": s.source_breaker}


def pending_counts() -> dict[str, int | None]:
    """What waits in this process and in the database: write-backs, cache invalidations."""
    return {"write_backs": len(state.STATE.write_backs), "invalidations": invalidation.pending_count()}


def reset(clock: Any = None) -> None:
    """Forget all per-process state (``annoris.state.reset``, tokens' too); ``clock`` for breakers."""
    annoris_state.reset(clock)
