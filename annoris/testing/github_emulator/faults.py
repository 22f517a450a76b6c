"""Thread-safe state the emulator's request threads share with tests: faults, rate limit, calls.

Tests flip these from the main thread while the server answers on its own threads,
so every mutation happens under a lock.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Failure:
    """An injected error answer for the next ``remaining`` matching requests."""

    remaining: int
    status: int
    retry_after: float | None
    body: object | None
    path_prefix: str | None
    # Headers set on the answer after the emulator's own; None drops one it would send
    # (e.g. {"x-ratelimit-remaining": "0", "x-ratelimit-reset": None}).
    headers: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Call:
    """One request the emulator received, recorded on arrival (``status`` 0 until answered).

    ``not_modified`` marks a 304, which costs no rate limit.
    """

    method: str
    endpoint: str  # short name: branch, ref, commit, tree, blob, contents, tarball, codeload, rate_limit
    template: str  # e.g. /repos/{owner}/{repo}/git/blobs/{sha}
    path: str
    status: int
    not_modified: bool = False
    headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Late:
    """Hold the next ``remaining`` matching requests for ``seconds`` (until released if None).

    ``when="before"``: the request is applied only after the wait (GitHub applying a write
    after the client gave up); ``"after"``: it is applied at once and only the answer waits
    (the write landed, the client never heard). ``drop``: after the wait it is answered 504
    and never applied (GitHub cut it off).
    """

    remaining: int
    method: str | None
    path_prefix: str | None
    seconds: float | None
    when: str = "before"
    drop: bool = False
    released: threading.Event = field(default_factory=threading.Event)

    def wait(self) -> None:
        self.released.wait(self.seconds)


def _matches(prefix: str | None, path: str) -> bool:
    return prefix is None or path.startswith(prefix)


class Faults:
    """Failures, hangs, slowness and secondary limits injected by tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[Failure] = []
        self._hang: tuple[float | None, str | None] | None = None
        self._released = threading.Event()
        self._slow = 0.0
        self._secondary: list[float | None] = []  # one entry (its Retry-After) per request to refuse
        self._late: list[Late] = []

    def fail_next(self, failure: Failure) -> None:
        with self._lock:
            self._failures.append(failure)

    def take_failure(self, path: str) -> Failure | None:
        """Consume one injected failure that applies to ``path``."""
        with self._lock:
            for failure in self._failures:
                if failure.remaining > 0 and _matches(failure.path_prefix, path):
                    failure.remaining -= 1
                    return failure
            return None

    def late(self, late: Late) -> None:
        with self._lock:
            self._late.append(late)

    def take_late(self, method: str, path: str) -> Late | None:
        """Consume one ``Late`` that applies to this request."""
        with self._lock:
            for late in self._late:
                if late.remaining > 0 and late.method in (None, method) and _matches(late.path_prefix, path):
                    late.remaining -= 1
                    return late
            return None

    def hang(self, seconds: float | None, path_prefix: str | None) -> None:
        with self._lock:
            self._released.clear()
            self._hang = (seconds, path_prefix)

    def release(self) -> None:
        """End a hang: requests waiting in it go on and answer (to clients that may be gone)."""
        with self._lock:
            self._hang = None
            self._released.set()
            for late in self._late:
                late.released.set()
            self._late.clear()

    def slow(self, seconds: float) -> None:
        with self._lock:
            self._slow = seconds

    def delay(self, path: str) -> None:
        """Sleep as the current hang/slow settings say (called on the request's own thread)."""
        with self._lock:
            hang, slow, released = self._hang, self._slow, self._released
        if hang is not None and _matches(hang[1], path):
            released.wait(hang[0])
        if slow:
            time.sleep(slow)

    def secondary_limit(self, n: int, retry_after: float | None) -> None:
        with self._lock:
            self._secondary.extend([retry_after] * n)

    def take_secondary(self) -> tuple[bool, float | None]:
        """(refuse?, Retry-After) for the current request."""
        with self._lock:
            if self._secondary:
                return True, self._secondary.pop(0)
            return False, None

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._secondary.clear()
            self._slow = 0.0
        self.release()


class RateLimiter:
    """GitHub's primary ("core") limit: a budget per window, refilled at ``reset``."""

    def __init__(self, limit: int = 5000, window: float = 3600.0) -> None:
        self._lock = threading.Lock()
        self.window = window
        self.limit = limit
        self.remaining = limit
        self.reset_at = time.time() + window

    def set(self, *, remaining: int, reset_in: float, limit: int | None = None) -> None:
        with self._lock:
            self.limit = limit if limit is not None else max(self.limit, remaining)
            self.remaining = remaining
            self.reset_at = time.time() + reset_in

    def _refill(self) -> None:
        if time.time() >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = time.time() + self.window

    def exhausted(self) -> bool:
        with self._lock:
            self._refill()
            return self.remaining <= 0

    def spend(self) -> None:
        with self._lock:
            self._refill()
            self.remaining = max(self.remaining - 1, 0)

    def snapshot(self) -> tuple[int, int, int]:
        """(limit, remaining, reset as epoch seconds rounded up, so waiting until it is enough)."""
        with self._lock:
            self._refill()
            return self.limit, self.remaining, math.ceil(self.reset_at)

    def headers(self) -> dict[str, str]:
        limit, remaining, reset = self.snapshot()
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(limit - remaining),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }
