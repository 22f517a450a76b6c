"""The read path's per-process state in one object, ``STATE``, registered in annoris.state
(the database's breaker is ``annoris.database.BREAKER``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings

from annoris.breaker import CircuitBreaker
from annoris.state import per_process


class ReadPathState:
    """One process's memory of the read path (thread-safe where threads share it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.reset(clock)

    def reset(self, clock: Callable[[], float] | None = None) -> None:
        """Breakers closed, queues and memos empty, on ``clock``."""
        self.clock = clock or time.monotonic
        cooldown = lambda: settings.ANNORIS_BREAKER_COOLDOWN  # noqa: E731 - read at each failure
        self.cache_breaker = CircuitBreaker("session cache", cooldown=cooldown, clock=self.clock)
        self.source_breaker = CircuitBreaker("session source", cooldown=cooldown, clock=self.clock)
        # Source hits read while the database was down, one per session id, oldest first.
        self.write_backs: OrderedDict[uuid.UUID, Any] = OrderedDict()
        self.write_backs_lock = threading.Lock()
        # The read path's own Source, the settings it was built from, and its id -> path listing.
        self.source_memo: dict[str, Any] = {}
        self.source_lock = threading.Lock()
        # Per thread: sessions changed in its open transaction, refreshed in the cache on commit.
        self.changed = threading.local()
        # When this process next replays the durable pending invalidations (clock time).
        self.next_sweep = 0.0
        self.sweep_lock = threading.Lock()


STATE = per_process(ReadPathState())
