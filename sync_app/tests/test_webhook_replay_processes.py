"""A captured, correctly signed push replayed under fresh delivery ids (issue #20, finding 12),
sent to a real gunicorn (2 workers, gunicorn.conf.py) with ``manage.py worker`` (qcluster)
running syncs, both on PostgreSQL with the emulator as GitHub. Ten replays at once were ten
202s, each queuing a sync; now one is queued and run, and the other nine are told why not."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django_q.models import OrmQ

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sessions_app.tests.writes.processes import serving, tuned_env, working
from sync_app.models import SyncLog
from sync_app.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL, push_payload
from sync_app.webhooks import signature_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_concurrent_replays_of_one_push_run_one_sync(github: GitHubEmulator, tmp_path: Path) -> None:
    body = json.dumps(push_payload(github)).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": signature_for(body, WEBHOOK_SECRET),
        "User-Agent": "GitHub-Hookshot/test",
    }
    env = tuned_env(github, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET)
    statuses: list[int] = []

    with (
        serving(env, tmp_path / "web.log", config=True, workers=2) as web,
        working(env, tmp_path / "worker.log"),
    ):
        start = threading.Barrier(10)

        def replay() -> None:
            start.wait()
            delivery = {"X-GitHub-Delivery": str(uuid.uuid4())}
            answer = requests.post(
                f"{web.url}{WEBHOOK_URL}", data=body, headers={**headers, **delivery}, timeout=30
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=replay) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        deadline = time.monotonic() + 30
        while OrmQ.objects.exists() or not SyncLog.objects.filter(finished_at__isnull=False).exists():
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.2)
        time.sleep(1)  # a second queued sync, had there been one, would have started by now

    assert sorted(statuses) == [200] * 9 + [202]
    runs = list(SyncLog.objects.values_list("source", "status"))
    assert runs == [("webhook", "success")], runs
    assert Session.objects.live().count() == 9  # the one sync did its work
