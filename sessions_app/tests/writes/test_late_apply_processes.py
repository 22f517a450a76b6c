"""A write GitHub applies late must not undo the next one (issue #20, finding 2), with real
processes: gunicorn takes both writes and ``manage.py worker`` (qcluster) drains the outbox,
both on this test's PostgreSQL database; the emulator holds the first PUT past the web
process's 1 s write timeout and applies it only once the worker has looked at it. Resent
blind, that PUT lands B, the second write lands A, and the held PUT then applies on A:
GitHub at B, the database at A, three commits for two writes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from annoris.api import tokens
from annoris.sources.base import git_blob_sha
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite, Session
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at
from sessions_app.tests.writes.processes import ROOT, serving, tuned_env, working

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

B = "# Version B\n\nWritten first; GitHub applies it late.\n"


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.parametrize("killed", [False, True], ids=["running", "all-killed-while-it-waits"])
def test_a_put_applied_late_does_not_undo_the_next_write(
    gh: GitHubEmulator, tmp_path: Path, killed: bool
) -> None:
    """``killed``: once the worker is waiting on the unanswered PUT, web and worker are SIGKILLed
    and ``manage.py outbox --drain`` finishes the job: what the dead worker knew of that PUT is
    in the database, not in the process. (A restarted qcluster would get there too, at its
    scheduler's next pass, up to 30 s later.)"""
    row = a_session("redis")
    original = file_at(gh, row.github_path)  # A: the second write puts it back byte for byte
    assert original is not None and git_blob_sha(original.encode()) == row.github_sha
    auth = {"Authorization": f"Bearer {tokens.issue(name='late', scope=tokens.WRITE)[1]}"}
    commits = commit_count(gh)
    gh.apply_late(None, method="PUT", path_prefix=f"/repos/{gh.full_name}/contents/{row.github_path}")
    # An unanswered PUT may land for 4 s; a dead worker's claim on an entry lapses after 3 s.
    env = tuned_env(gh, ANNORIS_OUTBOX_SETTLE_SECONDS="4", ANNORIS_OUTBOX_LEASE="3")

    with serving(env, tmp_path / "web.log") as web, working(env, tmp_path / "worker.log") as worker:
        url = f"{web.url}/api/sessions/{row.id}/"
        first = requests.put(
            url, json={"content": B}, headers={**auth, "If-Match": row.github_sha}, timeout=30
        )
        assert first.status_code == 202, first.text  # GitHub did not answer within 1 s
        second = requests.put(
            url, json={"content": original}, headers={**auth, "If-Match": first.json()["sha"]}, timeout=30
        )
        assert second.status_code == 202, second.text  # queued behind the first
        # GitHub applies the held PUT once the worker has looked at the entry: a blind resend
        # has landed both writes by then; a careful drain is still waiting on the first.
        entries = PendingWrite.objects.order_by("id")

        def looked() -> bool:  # both landed, or the first still pending after the worker's try
            first = entries[0]
            return not entries.exclude(status="landed").exists() or (
                first.status == "pending" and first.attempts >= 2
            )

        assert wait_for(looked, 30), list(entries.values("status", "attempts", "last_error"))
        if killed:
            worker.kill()
            web.kill()
        gh.release()
        if killed:  # the operator's command drains what the dead worker left, from the database alone
            assert wait_for(lambda: not gh.pending_calls(), 10)
            drain = subprocess.run(  # noqa: S603 - our own command
                [sys.executable, "manage.py", "outbox", "--drain", "--seconds", "10"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert drain.returncode == 0, drain.stdout + drain.stderr
        settled = wait_for(
            lambda: not gh.pending_calls() and not entries.exclude(status="landed").exists(), 30
        )
        assert settled, list(entries.values("status", "attempts", "last_error"))

    assert file_at(gh, row.github_path) == original  # GitHub ends at A
    assert Session.objects.get(id=row.id).github_sha == row.github_sha  # and so does the database
    assert commit_count(gh) == commits + 2  # two writes, two commits
    assert gh.call_count("PUT") == 2  # the late one was recognised in the history, never resent
