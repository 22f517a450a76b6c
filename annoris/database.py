"""The database as a dependency that can be out: one breaker per process, and the call through it.

``call(query)`` runs any query through the breaker. Only an outage counts: a connection
refused or reset, a timeout, ``OperationalError`` or ``InterfaceError``. Then the breaker
opens, the broken connection is closed and ``DOWN`` is returned; while it is open no query
is tried for ``ANNORIS_BREAKER_COOLDOWN`` seconds. A data error (``DataError``,
``IntegrityError``, anything else the database answered with) is raised to the caller: the
database is up, only that one query fails. The read path and the token check share it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from annoris.breaker import CLOSED, CircuitBreaker
from annoris.state import per_process

DOWN: Any = object()  # sentinel: the database could not answer
OUTAGES = (OperationalError, InterfaceError)  # what opens the breaker; every other error is data
T = TypeVar("T")

BREAKER = per_process(CircuitBreaker("database", cooldown=lambda: settings.ANNORIS_BREAKER_COOLDOWN))


def call(query: Callable[[], T]) -> T:
    """Run ``query`` through the database breaker: DOWN when it is open or the database is out.

    A data error is raised as it is (the database answered, so the breaker closes).
    """
    if not BREAKER.allow():
        return DOWN
    try:
        result = query()
    except OUTAGES as exc:
        BREAKER.record_failure(exc)
        _reset_connection()
        return DOWN
    except DatabaseError:
        BREAKER.record_success()
        raise
    BREAKER.record_success()
    return result


def available() -> bool:
    """Is the database up as far as this process knows (its breaker closed)? Makes no call."""
    return BREAKER.state == CLOSED


def _reset_connection() -> None:
    """Drop the broken connection so the next try opens a new one (not inside a transaction)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass  # it was dead anyway
