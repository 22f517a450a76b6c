"""Real concurrency: threads against a live server (a threaded WSGI server in this process),
PostgreSQL when DATABASE_URL points at it. Exactly one of the racing writes wins."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from annoris.api import tokens
from annoris.sources import get_source
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sessions_app.tests.writes.conftest import FAST_OUTBOX, commit_count, file_at
from sync_app.engine import run_sync

THREADS = 6
# SQLite locks the whole file: concurrent writers there get "database is locked" (503), which
# says nothing about our logic. The races are run where they matter, on PostgreSQL.
pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"
)


@pytest.fixture
def racing(transactional_db: None, github: GitHubEmulator, settings: Any, live_server: Any) -> dict[str, Any]:
    for name, value in FAST_OUTBOX.items():
        setattr(settings, name, value)
    run_sync(source=get_source())
    token = tokens.issue(name="racer", scope=tokens.WRITE)[1]
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}, "emu": github}


def race(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run the calls at once (a barrier releases them together); their responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # never through a proxy to 127.0.0.1
    return http


def test_concurrent_patches_with_one_if_match_exactly_one_wins(racing: dict[str, Any]) -> None:
    row = Session.objects.get(github_path__endswith="2025-10-20-redis-strategy.md")
    emu: GitHubEmulator = racing["emu"]
    commits = commit_count(emu)
    url = racing["url"] + reverse("session-detail", args=[row.id])
    headers = {**racing["headers"], "If-Match": f'"{row.github_sha}"'}

    def patch(n: int) -> Callable[[], requests.Response]:
        return lambda: _session().patch(url, json={"status": f"writer {n}"}, headers=headers, timeout=30)

    responses = race([patch(n) for n in range(THREADS)])

    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 412: THREADS - 1}, [(r.status_code, r.text[:200]) for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert commit_count(emu) == commits + 1
    text = file_at(emu, row.github_path)
    assert text is not None and winner["sha"] and "status: writer " in text
    row.refresh_from_db()
    assert row.github_sha == winner["sha"]


def test_concurrent_creates_with_one_idempotency_key_create_one_session(racing: dict[str, Any]) -> None:
    emu: GitHubEmulator = racing["emu"]
    commits = commit_count(emu)
    url = racing["url"] + reverse("session-list")
    headers = {**racing["headers"], "Idempotency-Key": "retrying-client-1"}
    body = {"content": "# Once\n\nSent by a client that retries.\n", "project": "annoris"}

    responses = race([lambda: _session().post(url, json=body, headers=headers, timeout=30)] * THREADS)

    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {201, 409} and codes[201] >= 1, [(r.status_code, r.text[:200]) for r in responses]
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert commit_count(emu) == commits + 1
    assert Session.objects.filter(title="Once").count() == 1
    replay = _session().post(url, json=body, headers=headers, timeout=30)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"


def test_concurrent_creates_of_one_path_create_one_file(racing: dict[str, Any]) -> None:
    emu: GitHubEmulator = racing["emu"]
    commits = commit_count(emu)
    url = racing["url"] + reverse("session-list")

    def create(n: int) -> Callable[[], requests.Response]:
        body = {"content": f"# Same path\n\nwriter {n}\n", "path": "sessions/race/2025-11-05_same.md"}
        return lambda: _session().post(url, json=body, headers=racing["headers"], timeout=30)

    responses = race([create(n) for n in range(THREADS)])

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: THREADS - 1}, [(r.status_code, r.text[:200]) for r in responses]
    assert commit_count(emu) == commits + 1


def test_concurrent_drains_land_each_write_once_and_in_order(racing: dict[str, Any]) -> None:
    """Three workers drain one outbox at once: leases keep them off each other's entries."""
    from django.db import connection as thread_connection

    from sessions_app.models import PendingWrite
    from sessions_app.writes import outbox_drain, session_create, session_update

    emu: GitHubEmulator = racing["emu"]
    emu.fail_next(1_000_000, status=500)
    for n in range(5):
        assert session_create(content=f"# Queued {n}\n").queued is not None
    row = Session.objects.get(github_path__endswith="2025-10-22-webhook-hmac.md")
    first = session_update(session_id=row.id, if_match=row.github_sha, fields={"status": "one"})
    second = session_update(session_id=row.id, if_match=first.sha, fields={"status": "two"})
    assert first.queued is not None and second.queued is not None
    emu.reset_faults()
    commits = commit_count(emu)

    def drain() -> requests.Response:
        try:
            outbox_drain(seconds=5)
        finally:
            thread_connection.close()
        return None  # type: ignore[return-value]

    race([drain, drain, drain])

    assert set(PendingWrite.objects.values_list("status", flat=True)) == {"landed"}
    assert commit_count(emu) == commits + 7
    text = file_at(emu, row.github_path)
    assert text is not None and "status: two" in text
    row.refresh_from_db()
    assert row.github_sha == second.sha
