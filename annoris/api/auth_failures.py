"""Failed authentication, throttled per client IP (issue #20, smaller findings).

Every bad token cost a database query and nothing slowed a client guessing tokens. Each web
process now keeps, per IP (``REMOTE_ADDR``: a forwarded-for header is the client's to forge),
a bucket of ``ANNORIS_AUTH_FAILURE_RATE`` failures; while it is empty, any token from that
IP is answered 429 with ``Retry-After`` before a query is made. A valid token from that IP
waits too: the bucket says nothing about which token is good. Like the API throttle, it
counts per process.
"""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.request import Request

from annoris.api.throttling import parse_rate

MAX_IPS = 10_000  # a bound on memory; past it the table starts over (an attacker gains a refill)


class FailureBuckets:
    """Per key, ``capacity`` failures refilled over ``period`` seconds."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, capacity: int, period: float) -> float:
        """Seconds until ``key`` may try again (0.0: now)."""
        with self._lock:
            left = self._left(key, capacity, period, time.monotonic())
        return 0.0 if left >= 1.0 else (1.0 - left) * period / capacity

    def record(self, key: str, capacity: int, period: float) -> None:
        with self._lock:
            now = time.monotonic()
            left = self._left(key, capacity, period, now)
            if len(self._state) >= MAX_IPS and key not in self._state:
                self._state.clear()
            self._state[key] = (max(left - 1.0, 0.0), now)

    def clear(self) -> None:
        with self._lock:
            self._state.clear()

    def _left(self, key: str, capacity: int, period: float, now: float) -> float:
        left, at = self._state.get(key, (float(capacity), now))
        return min(float(capacity), left + (now - at) * capacity / period)


failures = FailureBuckets()


def _rate() -> tuple[int, float] | None:
    rate = settings.ANNORIS_AUTH_FAILURE_RATE
    return parse_rate(rate) if rate else None


def _ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR") or "-")


def refuse_if_throttled(request: Request) -> None:
    """Throttled (429) while this IP has used up its failures."""
    rate = _rate()
    if rate is None:
        return
    wait = failures.wait(_ip(request), *rate)
    if wait > 0:
        raise Throttled(wait=math.ceil(wait), detail="Too many failed authentications from this address.")


def record_failure(request: Request) -> None:
    rate = _rate()
    if rate is not None:
        failures.record(_ip(request), *rate)
