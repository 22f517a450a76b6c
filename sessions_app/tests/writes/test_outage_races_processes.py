"""Concurrent writes racing on one session, one path or one front-matter id, sent over HTTP to
a real gunicorn with four worker processes on PostgreSQL, the emulator answering 503 or up
(issue #20, findings 3 and 7). Each request is its own connection, all released at once; the
checks interleave across processes, not threads of the test. Exactly one is accepted and
every other gets its 412 or 409 at once; once GitHub is back, the worker lands the one with no
conflict left behind."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import a_session, file_at, git
from sessions_app.tests.writes.processes import serving, tuned_env, working

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n: int, send: Callable[[dict[str, str], int], requests.Response]) -> list[int]:
    """``send(auth, i)`` from ``n`` threads at once, each with its own write token; the statuses, sorted."""
    auths = [
        {"Authorization": f"Bearer {tokens.issue(name=f'w{i}', scope=tokens.WRITE)[1]}"} for i in range(n)
    ]
    start, statuses = threading.Barrier(n), []

    def run(i: int) -> None:
        start.wait()
        statuses.append(send(auths[i], i).status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def test_twenty_puts_with_one_if_match_during_an_outage_accept_one(
    gh: GitHubEmulator, tmp_path: Path
) -> None:
    row = a_session("redis")
    gh.fail_next(100_000, status=503)
    env = tuned_env(gh)

    with serving(env, tmp_path / "web.log", config=True, workers=4) as web:
        url = f"{web.url}/api/sessions/{row.id}/"
        statuses = _race(
            20,
            lambda auth, i: requests.put(
                url,
                json={"content": f"# Writer {i}\n"},
                headers={**auth, "If-Match": row.github_sha},
                timeout=30,
            ),
        )
        assert statuses == [202] + [412] * 19
        assert PendingWrite.objects.count() == 1
        gh.reset_faults()
        with working(env, tmp_path / "worker.log"):
            deadline = time.monotonic() + 30
            while PendingWrite.objects.exclude(status="landed").exists():
                assert time.monotonic() < deadline, list(PendingWrite.objects.values("status", "last_error"))
                time.sleep(0.2)

    assert file_at(gh, row.github_path).startswith("# Writer ")  # one landed, no conflict stopped


def test_ten_creates_of_one_path_during_an_outage_accept_one(gh: GitHubEmulator, tmp_path: Path) -> None:
    gh.fail_next(100_000, status=503)
    path = "sessions/annoris/2026-12-06_race.md"

    with serving(tuned_env(gh), tmp_path / "web.log", config=True, workers=4) as web:
        statuses = _race(
            10,
            lambda auth, i: requests.post(
                f"{web.url}/api/sessions/",
                json={"content": f"# Create {i}\n", "path": path},
                headers=auth,
                timeout=30,
            ),
        )

    assert statuses == [202] + [409] * 9
    assert PendingWrite.objects.filter(path=path).count() == 1


@pytest.mark.parametrize("github_up", [True, False], ids=["github-up", "github-503"])
def test_ten_creates_with_one_front_matter_id_accept_one(
    gh: GitHubEmulator, tmp_path: Path, github_up: bool
) -> None:
    """Finding 7: one id at ten paths; two were accepted and two files landed on GitHub."""
    if not github_up:
        gh.fail_next(100_000, status=503)
    session_id = uuid.uuid4()
    before = set(git(gh, "ls-tree", "-r", "--name-only", "main").split())

    with serving(tuned_env(gh), tmp_path / "web.log", config=True, workers=4) as web:
        statuses = _race(
            10,
            lambda auth, i: requests.post(
                f"{web.url}/api/sessions/",
                json={
                    "content": f"---\nid: {session_id}\n---\n# Same id {i}\n",
                    "path": f"sessions/race/{i}.md",
                },
                headers=auth,
                timeout=30,
            ),
        )

    assert statuses == [201 if github_up else 202] + [409] * 9
    added = set(git(gh, "ls-tree", "-r", "--name-only", "main").split()) - before
    assert len(added) == (1 if github_up else 0)
    assert PendingWrite.objects.count() == (0 if github_up else 1)
