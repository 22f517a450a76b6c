"""The read path under real faults: Redis killed, PostgreSQL cut at a proxy, GitHub failing.

Each test starts what it breaks: its own redis-server, a TCP proxy between Django and
PostgreSQL, and the GitHub emulator serving the sample sessions. The data is spread over
the layers: some sessions are cached, some only in the database, two only on GitHub.
PostgreSQL only: the proxy needs a network database (SQLite is a file).
"""

from __future__ import annotations

import hashlib
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.sources.base import session_id_for
from annoris.sources.github import GitHubSource
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app import readpath
from sessions_app.documents import parse_document
from sessions_app.models import Session
from sessions_app.readpath import SessionUnavailable, rendered, writeback
from sessions_app.readpath import cache as session_cache
from sessions_app.services import content_checksum
from sessions_app.tests.faults import Clock, RedisServer, TcpProxy
from sync_app.engine import run_sync

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]  # cut at a TCP proxy

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "sessions"
COOLDOWN = 0.5
GITHUB_ONLY = {
    "annoris/2025-10-25-read-path.md": b"# Read path\n\n**Project:** Annoris\n\nCache, database, GitHub.\n",
    "pricewise/2025-09-22-refunds.md": b"# Refunds\n\n**Project:** Pricewise\n\nStripe refunds by hand.\n",
}


@dataclass
class Spread:
    """Which session lives where when the test starts, and what each must read back as."""

    cached: list[uuid.UUID]
    database_only: list[uuid.UUID]
    github_only: list[uuid.UUID]
    expected: dict[uuid.UUID, str]  # id -> md5 of the text the parser produces from the file
    front_matter_id: uuid.UUID  # the sample whose id is written in its front matter

    @property
    def all(self) -> list[uuid.UUID]:
        return self.cached + self.database_only + self.github_only


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(tmp_path / "repo")
    emu.commit_files({p.relative_to(SAMPLES).as_posix(): p.read_bytes() for p in SAMPLES.rglob("*.md")})
    with emu:
        yield emu


@pytest.fixture
def postgres() -> Iterator[TcpProxy]:
    """Django's connection rerouted through a proxy the test can cut; restored afterwards."""
    db = connection.settings_dict
    original = (db["HOST"], db["PORT"])
    proxy = TcpProxy(original[0] or "127.0.0.1", int(original[1] or 5432)).start()
    connection.close()
    db["HOST"], db["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.stop()
    connection.close()
    db["HOST"], db["PORT"] = original


@pytest.fixture
def clock() -> Clock:
    """The read path's breakers run on this clock: a test advances it instead of sleeping."""
    clock = Clock()
    readpath.reset(clock=clock)
    tokens.reset(clock=clock)  # the API's token check has a breaker of its own
    return clock


@pytest.fixture
def layers(
    settings: Any, redis: RedisServer, github: GitHubEmulator, postgres: TcpProxy, clock: Clock
) -> None:
    """Point the read path at this test's Redis, the emulator and the proxied PostgreSQL."""
    settings.CACHES = {
        "default": settings.CACHES["default"],
        "faults": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        },
    }
    settings.ANNORIS_SESSION_CACHE = "faults"
    settings.ANNORIS_BREAKER_COOLDOWN = COOLDOWN
    settings.SESSIONS_SOURCE, settings.GITHUB_REPO = "github", github.full_name
    settings.GITHUB_API_URL, settings.GITHUB_TOKEN = github.base_url, github.token
    settings.ANNORIS_SOURCE_TIMEOUT, settings.ANNORIS_SOURCE_RETRIES = 0.5, 0
    settings.ANNORIS_SOURCE_LISTING_TTL = 0.2


@pytest.fixture
def spread(layers: None, github: GitHubEmulator) -> Spread:
    """Sync the samples, add two files on GitHub only, and keep three sessions in the cache."""
    run_sync(source=GitHubSource(github.client()))
    github.commit_files(GITHUB_ONLY, message="Two sessions not synced yet")
    files = {p.relative_to(SAMPLES).as_posix(): p.read_bytes() for p in SAMPLES.rglob("*.md")} | GITHUB_ONLY
    expected, front_matter_id = {}, None
    for path, raw in files.items():
        parsed = parse_document(raw, path=path, fallback_date=timezone.now())
        session_id = parsed.session_id or session_id_for(github.full_name, path)
        expected[session_id] = hashlib.md5(parsed.content.encode()).hexdigest()  # noqa: S324
        front_matter_id = parsed.session_id or front_matter_id
    assert front_matter_id is not None
    ids = [row.id for row in Session.objects.order_by("github_path") if row.id != front_matter_id]
    # Rows (and their API answers, cached with them) expire from the cache before the id <->
    # path maps do: keep the maps, drop the rows...
    expired = [*ids, front_matter_id]
    caches["faults"].delete_many([k for i in expired for k in (session_cache.row_key(i), rendered.key(i))])
    for session_id in ids[:3]:  # ...and read three back into the cache
        assert Session.objects.fetch(session_id).layer == "database"
    github_only = [session_id_for(github.full_name, path) for path in GITHUB_ONLY]
    return Spread(ids[:3], [*ids[3:], front_matter_id], github_only, expected, front_matter_id)


@pytest.fixture
def api() -> APIClient:
    """An API client with a real token, checked once while the database is up."""
    _, token = tokens.issue(name="reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/sessions/").status_code == 200
    return client


def _median_ms(session_id: uuid.UUID, reads: int = 50) -> float:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        assert Session.objects.fetch(session_id).layer == "database"
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - a checksum


def test_it_reads_from_the_database_while_redis_is_dead_and_from_redis_again_once_it_returns(
    spread: Spread, redis: RedisServer, settings: Any, clock: Clock
) -> None:
    session_id = spread.database_only[0]
    settings.ANNORIS_SESSION_CACHE = None
    database_only_ms = _median_ms(session_id)
    settings.ANNORIS_SESSION_CACHE = "faults"

    redis.kill()
    for any_id in spread.cached + spread.database_only:
        assert Session.objects.fetch(any_id).layer == "database"
    assert readpath.breakers()["cache"].state == "open"
    assert _median_ms(session_id) - database_only_ms < 5.0

    redis.start()  # empty, on the same port
    assert Session.objects.fetch(session_id).layer == "database"  # still within the cool-down
    clock.advance(COOLDOWN)
    assert Session.objects.fetch(session_id).layer == "database"  # the probe; written back
    assert Session.objects.fetch(session_id).layer == "cache"


def test_a_paused_redis_costs_the_read_that_meets_it_one_socket_timeout_and_no_retries(
    spread: Spread, redis: RedisServer, clock: Clock
) -> None:
    """SIGSTOP: the connection stays open and nothing answers. The read that meets it waits one
    SOCKET_TIMEOUT (0.1 s here) and is served by the database; the breaker then keeps later
    reads off Redis; once it answers again, each read gets its own reply."""
    cached = spread.cached[0]
    assert Session.objects.fetch(cached).layer == "cache"
    redis.pause()
    try:
        started = time.perf_counter()
        assert Session.objects.fetch(cached).layer == "database"
        first = time.perf_counter() - started
        assert readpath.breakers()["cache"].state == "open"
        started = time.perf_counter()
        assert Session.objects.fetch(spread.cached[1]).layer == "database"
        second = time.perf_counter() - started
    finally:
        redis.resume()
    assert 0.1 <= first < 0.3, f"the first read took {first:.3f} s"
    assert second < 0.05, f"a read with the breaker open took {second:.3f} s"
    clock.advance(COOLDOWN)
    # The GET that timed out got its reply once Redis resumed: it must not answer the next read.
    other = spread.cached[2]
    result = Session.objects.fetch(other)
    assert (result.layer, result.session.id, _md5(result.session.text)) == (
        "cache",
        other,
        spread.expected[other],
    )


def test_it_serves_redis_and_github_while_postgres_is_cut_and_lands_the_write_backs_after(
    spread: Spread, postgres: TcpProxy, api: APIClient, clock: Clock
) -> None:
    postgres.cut()
    for session_id in spread.all:
        response = api.get(f"/api/sessions/{session_id}/")
        assert response.status_code == 200, response.content
        layer = "cache" if session_id in spread.cached else "github"
        assert response["X-Annoris-Source"] == layer
        assert response["Server-Timing"].startswith(f"{layer};dur=")
        assert _md5(response.json()["content"]) == spread.expected[session_id]
    health = api.get("/health")
    assert health.status_code == 200  # reads are served
    assert health.json()["database"]["status"] == "down" and health.json()["database"]["since"]

    postgres.restore()
    clock.advance(COOLDOWN)
    queued = readpath.pending_counts()["write_backs"]
    assert queued == len(spread.all) - len(spread.cached)  # every source hit waits for the database
    # A read applies at most DRAIN_PER_READ of them for others (issue #10, item 5), so two reads do.
    assert Session.objects.fetch(spread.cached[0]).layer == "cache"
    assert readpath.pending_counts()["write_backs"] == queued - writeback.DRAIN_PER_READ
    assert Session.objects.fetch(spread.cached[0]).layer == "cache"
    assert readpath.pending_counts()["write_backs"] == 0
    for session_id in spread.github_only:
        assert _md5(Session.objects.get(pk=session_id).text) == spread.expected[session_id]
    assert api.get("/health").json()["database"]["status"] == "connected"


def test_it_answers_unavailable_in_bounded_time_when_github_fails_or_hangs_while_postgres_is_cut(
    spread: Spread, postgres: TcpProxy, github: GitHubEmulator, api: APIClient, clock: Clock
) -> None:
    postgres.cut()
    github.fail_next(1000, status=500)
    started = time.monotonic()
    with pytest.raises(SessionUnavailable, match="unavailable"):
        Session.objects.fetch(spread.database_only[0])
    assert time.monotonic() - started < 1.0
    response = api.get(f"/api/sessions/{spread.database_only[1]}/")
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"] and "Traceback" not in response.content.decode()

    github.reset_faults()
    github.hang()
    clock.advance(COOLDOWN)  # let the source breaker probe again: into the hang
    started = time.monotonic()
    response = api.get(f"/api/sessions/{spread.github_only[0]}/")
    elapsed = time.monotonic() - started
    github.release()
    assert response.status_code == 503 and set(response.json()) == {"detail", "code", "errors"}
    assert elapsed < 1.5  # one 0.5 s read timeout, not a hang
    assert api.get("/health").status_code == 503


def test_it_reads_from_github_when_redis_and_postgres_are_both_down(
    spread: Spread, redis: RedisServer, postgres: TcpProxy
) -> None:
    redis.kill()
    postgres.cut()
    for session_id in spread.all:
        if session_id == spread.front_matter_id:
            continue
        result = Session.objects.fetch(session_id)
        assert result.layer == "github"
        assert _md5(result.session.text) == spread.expected[session_id]
    # An id written in front matter is not derivable from the path: only the database or the
    # cache's id -> path map can find it. With both down that is "unavailable", not "not found".
    with pytest.raises(SessionUnavailable, match="front matter"):
        Session.objects.fetch(spread.front_matter_id)


def test_it_reads_every_session_back_identical_to_its_file_after_the_faults_heal(
    spread: Spread, redis: RedisServer, postgres: TcpProxy, api: APIClient, clock: Clock
) -> None:
    redis.kill()
    postgres.cut()
    for session_id in spread.all:
        if session_id != spread.front_matter_id:  # not findable with both down (see above)
            Session.objects.fetch(session_id)
    redis.start()
    postgres.restore()
    clock.advance(COOLDOWN)
    for _ in range(2):  # the first round heals and writes back, the second reads the result
        for session_id in spread.all:
            response = api.get(f"/api/sessions/{session_id}/")
            assert response.status_code == 200
            assert _md5(response.json()["content"]) == spread.expected[session_id]
            assert response.json()["checksum"] == content_checksum(response.json()["content"])  # keyed (#20)
    assert all(row.checksum == content_checksum(row.text) for row in Session.objects.all())
    assert {row.id: _md5(row.text) for row in Session.objects.all()} == spread.expected


def test_it_refuses_a_token_it_has_never_seen_with_503_while_postgres_is_cut(
    spread: Spread, postgres: TcpProxy, api: APIClient, clock: Clock
) -> None:
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer ann_0123456789abcdef0123456789abcdef01234567")
    postgres.cut()
    response = stranger.get(f"/api/sessions/{spread.cached[0]}/")
    assert response.status_code == 503 and "token" in response.json()["detail"]
    assert api.get(f"/api/sessions/{spread.cached[0]}/").status_code == 200  # a known token still reads
    postgres.restore()
    clock.advance(COOLDOWN)
    assert stranger.get(f"/api/sessions/{spread.cached[0]}/").status_code == 401  # and now: simply wrong
