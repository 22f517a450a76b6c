"""Per-process state, in one registry: what a process remembers between requests.

The database breaker, the verified-token memory, the read path's breakers, queues and
source listing, the MCP stdio process's trust: each is one object, created once when its
module loads and registered here. ``reset()`` resets them all (tests), optionally on another
clock, so a test moves time forward instead of sleeping through a cool-down. Nothing else
in the project keeps mutable state between requests, and no module global is ever rebound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

Clock = Callable[[], float]


class Resettable(Protocol):
    def reset(self, clock: Clock | None = None) -> None: ...


R = TypeVar("R", bound=Resettable)


class Registry:
    """The process's stateful objects; ``reset`` resets each of them."""

    def __init__(self) -> None:
        self._members: list[Resettable] = []
        self._lock = threading.Lock()

    def register(self, member: R) -> R:
        with self._lock:
            self._members.append(member)
        return member

    def reset(self, clock: Clock | None = None) -> None:
        """Breakers closed, memories and queues empty; on ``clock`` (default: the monotonic clock)."""
        with self._lock:
            members = list(self._members)
        for member in members:
            member.reset(clock or time.monotonic)


REGISTRY = Registry()


class Memo(dict):
    """A per-process dict (a memo of counts, say) that ``reset`` empties."""

    def reset(self, clock: Clock | None = None) -> None:
        self.clear()


class Figures(list):
    """A per-process list of numbers (totals and when they expire) that ``reset`` sets back."""

    def __init__(self, *initial: float) -> None:
        super().__init__(initial)
        self._initial = list(initial)

    def reset(self, clock: Clock | None = None) -> None:
        self[:] = self._initial


def per_process(member: R) -> R:
    """Register ``member`` (an object with ``reset(clock)``) as per-process state; returns it."""
    return REGISTRY.register(member)


def reset(clock: Clock | None = None) -> None:
    REGISTRY.reset(clock)
