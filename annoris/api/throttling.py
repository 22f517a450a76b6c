"""Per-token throttling kept in process memory (issue #7).

A token bucket per token (or per logged-in user) in each process: checking it costs a
dict lookup and some arithmetic, no Redis round trip, so a cache-hit read stays at one.
The trade-off: each process counts alone, so with N web processes a token may make up to
N times ``ANNORIS_API_THROTTLE_RATE`` before every process refuses it. The limit is a
guard against a runaway client, not an exact quota; a shared counter would cost a Redis
round trip per request.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$")


@functools.lru_cache(maxsize=16)  # a pure function of a setting, asked on every request
def parse_rate(rate: str) -> tuple[int, float]:
    """``"600/min"`` -> (600, 60.0); raises ImproperlyConfigured for anything else."""
    match = _RATE.match(rate or "")
    if not match or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"ANNORIS_API_THROTTLE_RATE must look like '600/min', not {rate!r}")
    return int(match.group(1)), float(PERIODS[match.group(2)])


class Buckets:
    """Token buckets by key: ``capacity`` requests, refilled over ``period`` seconds."""

    MAX_KEYS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._state: dict[Any, tuple[float, float]] = {}  # key -> (tokens left, at)
        self._lock = threading.Lock()

    def take(self, key: Any, capacity: int, period: float) -> float:
        """Take one request for ``key``: 0.0 if allowed, else the seconds until one is."""
        rate = capacity / period
        with self._lock:
            now = self.clock()
            left, at = self._state.get(key, (float(capacity), now))
            left = min(float(capacity), left + (now - at) * rate)
            if left >= 1.0:
                if len(self._state) >= self.MAX_KEYS and key not in self._state:
                    self._state.clear()
                self._state[key] = (left - 1.0, now)
                return 0.0
            self._state[key] = (left, now)
            return (1.0 - left) / rate

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


buckets = Buckets()


class TokenRateThrottle(BaseThrottle):
    """429 with ``Retry-After`` once a token (or user) exceeds ``ANNORIS_API_THROTTLE_RATE``."""

    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = settings.ANNORIS_API_THROTTLE_RATE
        if not rate:
            return True
        auth = request.auth
        if getattr(auth, "token_id", None) is not None:
            key: Any = ("token", auth.token_id)
        elif request.user is not None and request.user.is_authenticated:
            key = ("user", request.user.pk)
        else:
            return True  # unauthenticated requests are refused before they cost anything
        capacity, period = parse_rate(rate)
        self._wait = buckets.take(key, capacity, period)
        return self._wait == 0.0

    def wait(self) -> float | None:
        return float(math.ceil(self._wait)) if self._wait else None
