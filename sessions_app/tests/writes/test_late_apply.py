"""A write GitHub applies late must not undo the next one (issue #20, finding 2).

The emulator takes a PUT A->B but applies it only after the client's timeout; the write is
queued (202), its outcome unknown. The client then writes B->A, A byte for byte (202, queued
behind). Sending
the first again blind lands B, then A, and then the late PUT applies once more, because the
file is back at A: GitHub ends at B, the database at A, three commits for two writes. The
drain must first find out whether the unanswered try landed, and wait while it still may.
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from annoris.sources.base import git_blob_sha
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite, Session
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at
from sessions_app.writes import outbox_drain

B = "# Version B\n\nWritten first; GitHub applies it late.\n"


def _wait_for_the_emulator(gh: GitHubEmulator, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while gh.pending_calls():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture
def settle(settings: SettingsWrapper) -> float:
    settings.ANNORIS_OUTBOX_SETTLE_SECONDS = 4.0
    return 4.0


def test_a_put_applied_late_is_recognised_and_the_next_write_is_not_undone(
    writer: APIClient, gh: GitHubEmulator, settle: float
) -> None:
    row = a_session("redis")
    original = file_at(gh, row.github_path)  # A: the second write puts it back byte for byte
    assert original is not None and git_blob_sha(original.encode()) == row.github_sha
    url = reverse("session-detail", args=[row.id])
    commits = commit_count(gh)
    gh.apply_late(2.0, method="PUT", path_prefix=f"/repos/{gh.full_name}/contents/{row.github_path}")

    first = writer.put(url, {"content": B}, format="json", HTTP_IF_MATCH=row.github_sha)  # times out: 1 s
    assert first.status_code == 202, first.content
    second = writer.put(url, {"content": original}, format="json", HTTP_IF_MATCH=first.json()["sha"])
    assert second.status_code == 202, second.content

    report = outbox_drain(seconds=15).as_dict()
    _wait_for_the_emulator(gh)  # the late PUT has been applied (or refused) by now

    assert report["landed"] == 2 and report["conflicts"] == 0
    assert file_at(gh, row.github_path) == original
    assert Session.objects.get(id=row.id).github_sha == row.github_sha  # the database agrees: A
    assert commit_count(gh) == commits + 2  # two writes, two commits
    first_entry = PendingWrite.objects.order_by("id").first()
    assert first_entry is not None and first_entry.landed_commit  # found in the history


def test_a_put_github_dropped_is_sent_again_once_it_can_no_longer_land(
    writer: APIClient, gh: GitHubEmulator, settle: float
) -> None:
    row = a_session("redis")
    url = reverse("session-detail", args=[row.id])
    commits = commit_count(gh)
    prefix = f"/repos/{gh.full_name}/contents/{row.github_path}"
    gh.apply_late(2.0, method="PUT", path_prefix=prefix, drop=True)  # GitHub cuts it off: never applied

    first = writer.put(url, {"content": B}, format="json", HTTP_IF_MATCH=row.github_sha)
    assert first.status_code == 202

    started = time.monotonic()
    report = outbox_drain(seconds=15).as_dict()

    assert report["landed"] == 1
    assert time.monotonic() - started >= settle - 1.5  # not resent while it could still land
    assert file_at(gh, row.github_path) == B and commit_count(gh) == commits + 1
