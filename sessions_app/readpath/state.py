"""The read path's per-process state, all of it in one object.

Everything a process remembers between reads lives in ``STATE``: the three breakers, the
write-back queue, the source and its listing, the compiled row queries per connection, the
redis client of the cache alias, the sessions changed in each thread's open transaction,
and when invalidations are next swept. ``reset()``
replaces it with a fresh one (tests), optionally with another clock, so a test moves time
forward instead of sleeping through a cool-down.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from annoris.breaker import CircuitBreaker


def _cooldown() -> float:
    return settings.ANNORIS_BREAKER_COOLDOWN


UNSET: Any = object()


class ReadPathState:
    """One process's memory of the read path (thread-safe where threads share it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.cache_breaker = CircuitBreaker("session cache", cooldown=_cooldown, clock=clock)
        self.database_breaker = CircuitBreaker("session database", cooldown=_cooldown, clock=clock)
        self.source_breaker = CircuitBreaker("session source", cooldown=_cooldown, clock=clock)
        # Source hits read while the database was down, one per session id, oldest first.
        self.write_backs: OrderedDict[uuid.UUID, Any] = OrderedDict()
        self.write_backs_lock = threading.Lock()
        # The read path's own Source, the settings it was built from, and its id -> path listing.
        self.source_memo: dict[str, Any] = {}
        self.source_lock = threading.Lock()
        # Row queries compiled per Django connection object (one per thread and alias).
        self.row_queries: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.prepared_reads_broken = False  # a pooler dropped a prepared statement: plain SQL from then on
        # The cache hit's fast reader, (redis client, make_key), when the alias's values are plain
        # pickles; None: use the cache API; UNSET: not looked at since the settings last changed.
        self.fast_reader: Any = UNSET
        # Cached values this process decoded last, per session id: (the bytes, the row), oldest
        # first, ANNORIS_CACHE_DECODED_BYTES of values at most (see cache._recent_row).
        # (An OrderedDict: dropping the oldest of a plain dict rescans the slots freed before it.)
        self.recent_rows: OrderedDict[uuid.UUID, tuple[bytes, Any]] = OrderedDict()
        self.recent_bytes = 0
        self.recent_misses = 0  # decoded values not kept while the budget was full
        self.recent_lock = threading.Lock()
        # Per thread: sessions changed in its open transaction, refreshed in the cache on commit.
        self.changed = threading.local()
        # When this process next replays the durable pending invalidations (clock time).
        self.next_sweep = 0.0
        self.sweep_lock = threading.Lock()


STATE = ReadPathState()


def reset(clock: Callable[[], float] | None = None) -> ReadPathState:
    """A fresh state (breakers closed, queues empty) on ``clock`` (default: the monotonic clock)."""
    global STATE
    STATE = ReadPathState(clock or time.monotonic)
    return STATE


@receiver(setting_changed, dispatch_uid="sessions_app.readpath.settings_changed")
def _settings_changed(**kwargs: Any) -> None:
    """Settings only change in tests (override_settings): look at the cache alias again."""
    STATE.fast_reader = UNSET
