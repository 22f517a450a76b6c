"""A small thread-safe circuit breaker (no Django), one per layer of the read path.

``closed``: calls go through. A failure (``failure_threshold`` in a row) opens it.
``open``: calls are refused, so a dead Redis or database costs nothing per request.
After ``cooldown`` seconds the next ``allow()`` moves it to ``half_open`` and lets
exactly one caller probe; that probe's success closes it, its failure opens it again.

Logging happens once per state change (down, recovered), never once per request; a
failed probe is logged at DEBUG. ``down_since`` is the wall-clock time the layer first
failed, kept across failed probes, for /health.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

logger = logging.getLogger("annoris.breaker")


class CircuitBreaker:
    """Tracks one dependency; ``cooldown`` may be a number or a callable read on each check."""

    def __init__(
        self,
        name: str,
        *,
        cooldown: float | Callable[[], float] = 5.0,
        failure_threshold: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._cooldown = cooldown
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._down_since: datetime | None = None
        self._last_error = ""

    @property
    def cooldown(self) -> float:
        return float(self._cooldown() if callable(self._cooldown) else self._cooldown)

    @property
    def state(self) -> str:
        return self._state

    @property
    def down_since(self) -> datetime | None:
        """When the layer went down (UTC), or None while it is closed."""
        return self._down_since

    @property
    def last_error(self) -> str:
        return self._last_error

    def allow(self) -> bool:
        """May the caller use the layer now? In ``open`` past the cool-down, one caller probes."""
        if self._state == CLOSED:
            return True  # the hot path: no lock while nothing fails
        with self._lock:
            if self._state == CLOSED:
                return True
            # A probe that never reported (its caller died) is replaced after another cool-down.
            if self._clock() - self._opened_at >= self.cooldown:
                self._state, self._opened_at = HALF_OPEN, self._clock()
                return True
            return False  # open and cooling down, or another caller is probing

    def record_success(self) -> None:
        """The layer answered: close the breaker (logged when it was not closed)."""
        if self._state == CLOSED and not self._failures:
            return  # the hot path: no lock when nothing changes
        with self._lock:
            was, self._state, self._failures = self._state, CLOSED, 0
            since, self._down_since = self._down_since, None
        if was != CLOSED:
            logger.warning("%s is back (down since %s)", self.name, since.isoformat() if since else "?")

    def record_failure(self, error: BaseException | str) -> None:
        """The layer failed: open it once ``failure_threshold`` failures are reached."""
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self._lock:
            self._failures += 1
            self._last_error = message
            was = self._state
            if was == CLOSED and self._failures < self.failure_threshold:
                return
            self._state, self._opened_at = OPEN, self._clock()
            self._down_since = self._down_since or datetime.now(UTC)
        if was == CLOSED:
            logger.warning(
                "%s is down, skipping it for %.1f s at a time: %s", self.name, self.cooldown, message
            )
        else:
            logger.debug("%s is still down: %s", self.name, message)

    def reset(self, clock: Callable[[], float] | None = None) -> None:
        """Back to closed with no history (tests, or an operator who knows better); ``clock``:
        the time source from now on (a test advances it instead of sleeping)."""
        with self._lock:
            self._clock = clock or self._clock
            self._state, self._failures, self._down_since, self._last_error = CLOSED, 0, None, ""

    def snapshot(self) -> dict[str, object]:
        """State for /health: ``state``, and ``down_since`` / ``error`` when not closed."""
        report: dict[str, object] = {"state": self._state}
        if self._down_since is not None:
            report["down_since"] = self._down_since.isoformat()
            report["error"] = self._last_error
        return report
