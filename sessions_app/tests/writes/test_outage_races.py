"""Concurrent writes that race on one session, one path or one front matter id, on PostgreSQL
with the GitHub emulator up or answering 503 (issue #20, findings 3 and 7).

Each request runs on its own thread with its own database connection, all released at once
by a barrier, so the checks really interleave. Exactly one is accepted; every other one gets
its 412 or 409 at once, and nothing is left to stop as a conflict later.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import a_session, file_at, git
from sessions_app.writes import outbox_drain

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n: int, send: Callable[[APIClient, int], Any]) -> list[int]:
    """Run ``send(client, i)`` on ``n`` threads at once; their status codes, sorted."""
    clients = []
    for i in range(n):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name=f'w{i}', scope=tokens.WRITE)[1]}")
        clients.append(client)
    start, statuses = threading.Barrier(n), []

    def run(i: int) -> None:
        try:
            start.wait()
            statuses.append(send(clients[i], i).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(statuses)


def test_twenty_puts_with_one_if_match_during_an_outage_accept_one(gh: GitHubEmulator) -> None:
    row = a_session("redis")
    url = reverse("session-detail", args=[row.id])
    gh.fail_next(100_000, status=503)

    statuses = _race(
        20,
        lambda client, i: client.put(
            url, {"content": f"# Writer {i}\n"}, format="json", HTTP_IF_MATCH=row.github_sha
        ),
    )

    assert statuses == [202] + [412] * 19
    assert PendingWrite.objects.count() == 1
    gh.reset_faults()
    report = outbox_drain(seconds=3).as_dict()
    assert (report["landed"], report["conflicts"]) == (1, 0)
    assert file_at(gh, row.github_path).startswith("# Writer ")


def test_ten_creates_of_one_path_during_an_outage_accept_one(gh: GitHubEmulator) -> None:
    gh.fail_next(100_000, status=503)
    path = "sessions/annoris/2026-12-06_race.md"

    statuses = _race(
        10,
        lambda client, i: client.post(
            reverse("session-list"), {"content": f"# Create {i}\n", "path": path}, format="json"
        ),
    )

    assert statuses == [202] + [409] * 9
    assert PendingWrite.objects.filter(path=path).count() == 1


@pytest.mark.parametrize("github_up", [True, False], ids=["github-up", "github-503"])
def test_ten_creates_with_one_front_matter_id_accept_one(gh: GitHubEmulator, github_up: bool) -> None:
    """Finding 7: one id at ten paths; two were accepted and two files landed on GitHub."""
    if not github_up:
        gh.fail_next(100_000, status=503)
    session_id = uuid.uuid4()
    before = set(git(gh, "ls-tree", "-r", "--name-only", "main").split())

    statuses = _race(
        10,
        lambda client, i: client.post(
            reverse("session-list"),
            {"content": f"---\nid: {session_id}\n---\n# Same id {i}\n", "path": f"sessions/race/{i}.md"},
            format="json",
        ),
    )

    assert statuses == [201 if github_up else 202] + [409] * 9
    added = set(git(gh, "ls-tree", "-r", "--name-only", "main").split()) - before
    assert len(added) == (1 if github_up else 0)
    assert PendingWrite.objects.count() == (0 if github_up else 1)
