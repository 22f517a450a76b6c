"""No stale read after a cache fault (issue #10, item 1), with real processes and a real Redis.

A session is cached; Redis is paused with SIGSTOP (or cut off at a proxy, or killed); its
file changes and ``manage.py sync_github`` runs in another process, whose cache refresh
cannot reach Redis and which then exits. Once Redis answers again, a reader process that
was running all along serves the new content within the stated bound, and a reader started
afterwards (every process restarted) serves it on its first read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from annoris.sources.local import LocalSource
from sessions_app.models import CacheInvalidation, Session
from sessions_app.tests.faults import RedisServer, TcpProxy
from sync_app.engine import run_sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # processes share it

ROOT = Path(__file__).resolve().parents[2]
PATH = "annoris/2025-10-20-redis-strategy.md"
COOLDOWN, SWEEP, TIMEOUT = 0.5, 1.0, 0.1
# invalidation.py: sweep interval + breaker cool-down + 1 s retry + settling (SWEEP / 5)
BOUND = SWEEP + COOLDOWN + 1.0 + SWEEP / 5

READER = """
import json, sys
import django
django.setup()
from sessions_app.models import Session
from sessions_app.readpath.read import cached_answer
for line in sys.stdin:  # as GET /api/sessions/{id}/ reads: its cached answer, else fetch()
    if (hit := cached_answer(line.strip())) is not None:
        print(json.dumps({"layer": "cache", "checksum": json.loads(hit[0].body)["checksum"]}), flush=True)
        continue
    r = Session.objects.fetch(line.strip())
    print(json.dumps({"layer": r.layer, "checksum": r.session.checksum}), flush=True)
"""


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture
def redis_proxy(redis: RedisServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", redis.port).start()
    yield proxy
    proxy.stop()


def _env(redis_port: int, source: LocalSource) -> dict[str, str]:
    db = connection.settings_dict
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "annoris.tests.settings_tuned",  # reads the tuning below
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "REDIS_SOCKET_TIMEOUT": str(TIMEOUT),
        "REDIS_CONNECT_TIMEOUT": str(TIMEOUT),
        "ANNORIS_BREAKER_COOLDOWN": str(COOLDOWN),
        "ANNORIS_CACHE_SWEEP_INTERVAL": str(SWEEP),
        "SESSIONS_SOURCE": str(source.root),
        "GITHUB_REPO": source.repository,  # the local source's name, from which ids derive
    }


class Reader:
    """A Django process reading as the API does (cached answer, else fetch()), one id per line on stdin."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", READER], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip

    def ask(self, session_id: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(session_id + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)


@pytest.fixture
def readers() -> Iterator[Callable[[dict[str, str]], Reader]]:
    started: list[Reader] = []

    def start(env: dict[str, str]) -> Reader:
        started.append(Reader(env))
        return started[-1]

    yield start
    for reader in started:
        reader.close()


def _sync_in_another_process(env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "sync_github"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 updated" in done.stdout, done.stdout


def _until_fresh(reader: Reader, session_id: str, expected: str, bound: float) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        answer = reader.ask(session_id)
        elapsed = time.monotonic() - started
        if answer["checksum"] == expected or elapsed > bound + 2:
            return elapsed, answer
        time.sleep(0.05)


@pytest.mark.parametrize("fault", ["paused", "partitioned", "killed"])
def test_no_read_is_stale_longer_than_the_bound_after_redis_answers_again(
    fault: str,
    redis: RedisServer,
    redis_proxy: TcpProxy,
    local_source: LocalSource,
    readers: Callable,
    settings: Any,
) -> None:
    port = redis_proxy.port if fault == "partitioned" else redis.port
    env = _env(port, local_source)
    settings.CACHES = settings.CACHES | {
        "stale": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "annoris",  # as the other processes' settings build it
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": TIMEOUT, "SOCKET_TIMEOUT": TIMEOUT},
        }
    }
    settings.ANNORIS_SESSION_CACHE = "stale"
    run_sync(source=local_source)
    session_id = str(Session.objects.get(github_path=PATH).id)
    old = Session.objects.get(pk=session_id).checksum

    running = readers(env)
    assert running.ask(session_id) == {"layer": "cache", "checksum": old}  # the sync cached it

    {"paused": redis.pause, "partitioned": redis_proxy.cut, "killed": redis.kill}[fault]()
    path = local_source.root / PATH
    path.write_bytes(path.read_bytes() + b"\nChanged while Redis could not be told.\n")
    _sync_in_another_process(env)  # its refresh fails; the process exits
    new = Session.objects.get(pk=session_id).checksum
    assert new != old
    assert CacheInvalidation.objects.filter(session_id=session_id).exists()  # durable, not in a memory

    {"paused": redis.resume, "partitioned": redis_proxy.restore, "killed": redis.start}[fault]()
    elapsed, answer = _until_fresh(running, session_id, new, BOUND)
    assert answer["checksum"] == new, f"still stale {elapsed:.1f} s after Redis answered again"
    assert elapsed <= BOUND

    restarted = readers(env)  # every process restarted: nothing was kept in a memory
    assert restarted.ask(session_id)["checksum"] == new
    time.sleep(SWEEP / 5)
    assert _until_fresh(restarted, session_id, new, BOUND)[1] == {"layer": "cache", "checksum": new}
    assert not CacheInvalidation.objects.exists()


def test_a_restarted_reader_sweeps_before_its_first_read(
    redis: RedisServer, local_source: LocalSource, readers: Callable, settings: Any
) -> None:
    """Redis paused during the sync, resumed while no reader runs: a new process reads fresh at once."""
    env = _env(redis.port, local_source)
    settings.CACHES = settings.CACHES | {
        "stale": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis.url,
            "KEY_PREFIX": "annoris",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": TIMEOUT, "SOCKET_TIMEOUT": TIMEOUT},
        }
    }
    settings.ANNORIS_SESSION_CACHE = "stale"
    run_sync(source=local_source)
    session_id = str(Session.objects.get(github_path=PATH).id)
    redis.pause()
    path = local_source.root / PATH
    path.write_bytes(path.read_bytes() + b"\nChanged while Redis was paused.\n")
    _sync_in_another_process(env)
    redis.resume()
    time.sleep(SWEEP / 5)  # the records settle (left to their writer that long)
    first = readers(env).ask(session_id)
    assert first["checksum"] == Session.objects.get(pk=session_id).checksum
