"""The idempotent retry after a crash (issue #20, finding 9), with real processes: GitHub takes
a create (the emulator applies it and holds the answer), gunicorn is SIGKILLed before it can
store the answer under the Idempotency-Key, and the client retries with the same key and body
against a new gunicorn. The retry recognises its own commit (same path, same content): it
answers 201 as the first would have and creates the row, and GitHub gets no second commit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import IdempotencyKey, Session
from sessions_app.tests.writes.conftest import commit_count, file_at
from sessions_app.tests.writes.processes import serving, web_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PATH = "sessions/annoris/2026-12-06_crash.md"
BODY = {"content": "# Crash\n\nGitHub took it, the web process died.\n", "path": PATH}


def test_a_retry_after_a_crash_answers_201_and_creates_the_row(gh: GitHubEmulator, tmp_path: Path) -> None:
    token = tokens.issue(name="crash", scope=tokens.WRITE)[1]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "crash-1"}
    env = web_env(gh)
    commits = commit_count(gh)
    gh.hold_answer(None, method="PUT", path_prefix=f"/repos/{gh.full_name}/contents/{PATH}")

    with serving(env, tmp_path / "web-1.log") as web:
        first = threading.Thread(target=_post_and_lose_answer, args=(web.url, headers), daemon=True)
        first.start()
        deadline = time.monotonic() + 20
        while file_at(gh, PATH) is None:  # GitHub has committed it; the answer is held
            assert time.monotonic() < deadline, "the create never reached the emulator"
            time.sleep(0.05)
        web.kill()
    gh.release()
    assert not Session.objects.filter(github_path=PATH).exists()  # the process died before the row
    # The dead request's claim on the key ages past the lock time (ANNORIS_IDEMPOTENCY_LOCK_SECONDS).
    stale = timezone.now() - timedelta(seconds=settings.ANNORIS_IDEMPOTENCY_LOCK_SECONDS + 1)
    assert IdempotencyKey.objects.filter(key="crash-1", response_status=None).update(created_at=stale) == 1

    with serving(env, tmp_path / "web-2.log") as web:
        retry = requests.post(f"{web.url}/api/sessions/", json=BODY, headers=headers, timeout=30)
        replay = requests.post(f"{web.url}/api/sessions/", json=BODY, headers=headers, timeout=30)

    assert retry.status_code == 201, retry.text
    answer = retry.json()
    assert answer["path"] == PATH and answer["commit"] and answer["outbox"] is None
    assert Session.objects.live().filter(id=answer["id"], github_path=PATH).exists()
    assert commit_count(gh) == commits + 1  # one commit for one create
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (201, "true")
    assert replay.json() == answer


def _post_and_lose_answer(url: str, headers: dict[str, str]) -> None:
    try:
        requests.post(f"{url}/api/sessions/", json=BODY, headers=headers, timeout=30)
    except requests.RequestException:
        pass  # the server died: the client never hears
