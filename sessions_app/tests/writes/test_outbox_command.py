"""``manage.py outbox --drain`` without ``--seconds`` drains everything due, not one batch of 50
(issue #20, smaller findings)."""

from __future__ import annotations

import json
import uuid
from io import StringIO

from django.core.management import call_command

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import file_at
from sessions_app.writes.outbox import outbox_enqueue


def test_drain_without_seconds_lands_every_due_entry(gh: GitHubEmulator) -> None:
    paths = [f"sessions/bulk/{i:03d}.md" for i in range(60)]
    for path in paths:
        outbox_enqueue(
            operation=PendingWrite.Operation.CREATE, path=path, session_id=uuid.uuid4(),
            text=f"# Bulk {path}\n", base_sha=None, message=f"Create {path}", attempted=False,
        )  # fmt: skip
    out = StringIO()

    call_command("outbox", "--drain", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["drain"]["landed"] == 60
    assert report["outbox"] == {"pending": 0, "conflict": 0}
    assert file_at(gh, paths[-1]) is not None
