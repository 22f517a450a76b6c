"""The circuit breaker: closed -> open -> half-open -> closed, thread-safe, logged once per change."""

from __future__ import annotations

import logging
import threading

import pytest

from annoris.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker("redis", cooldown=5.0, clock=clock)


def test_it_lets_calls_through_while_closed(breaker: CircuitBreaker) -> None:
    assert breaker.allow() and breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.down_since is None


def test_it_opens_on_a_failure_and_refuses_until_the_cooldown(breaker: CircuitBreaker, clock: Clock) -> None:
    breaker.record_failure(ConnectionError("refused"))
    assert breaker.state == OPEN and breaker.down_since is not None
    assert not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()
    assert breaker.state == HALF_OPEN


def test_it_lets_exactly_one_caller_probe(breaker: CircuitBreaker, clock: Clock) -> None:
    breaker.record_failure("down")
    clock.now += 5
    allowed = []
    threads = [threading.Thread(target=lambda: allowed.append(breaker.allow())) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1


def test_it_closes_when_the_probe_succeeds(breaker: CircuitBreaker, clock: Clock) -> None:
    breaker.record_failure("down")
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.down_since is None
    assert breaker.allow()


def test_it_reopens_when_the_probe_fails_and_keeps_the_first_down_time(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    breaker.record_failure("down")
    since = breaker.down_since
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure("still down")
    assert breaker.state == OPEN and breaker.down_since == since
    assert not breaker.allow()
    assert breaker.snapshot() == {"state": OPEN, "down_since": since.isoformat(), "error": "still down"}


def test_it_replaces_a_probe_that_never_reported(breaker: CircuitBreaker, clock: Clock) -> None:
    breaker.record_failure("down")
    clock.now += 5
    assert breaker.allow()  # this caller dies without reporting
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()


def test_it_waits_for_the_failure_threshold(clock: Clock) -> None:
    breaker = CircuitBreaker("db", failure_threshold=3, clock=clock)
    breaker.record_failure("one")
    breaker.record_failure("two")
    assert breaker.state == CLOSED
    breaker.record_failure("three")
    assert breaker.state == OPEN


def test_it_reads_a_callable_cooldown_each_time(clock: Clock) -> None:
    cooldown = [5.0]
    breaker = CircuitBreaker("db", cooldown=lambda: cooldown[0], clock=clock)
    breaker.record_failure("down")
    cooldown[0] = 0.5
    clock.now += 0.5
    assert breaker.allow()


def test_it_logs_once_per_state_change(
    breaker: CircuitBreaker, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="annoris.breaker")
    for _ in range(3):
        breaker.record_failure("refused")
        breaker.allow()
    for _ in range(3):
        clock.now += 5
        breaker.allow()
        breaker.record_failure("refused")
    clock.now += 5
    breaker.allow()
    breaker.record_success()
    breaker.record_success()
    assert [r.getMessage().split(" ", 2)[:2] for r in caplog.records] == [["redis", "is"], ["redis", "is"]]
    assert "down" in caplog.records[0].getMessage() and "back" in caplog.records[1].getMessage()
