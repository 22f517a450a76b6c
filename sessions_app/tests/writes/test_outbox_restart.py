"""Nothing accepted is lost across a restart of every process.

Real processes: gunicorn serves the API and ``manage.py qcluster`` runs the outbox, both
against this test's PostgreSQL database and the emulator. GitHub fails; writes are
accepted (202); the web and worker processes are SIGKILLed mid-outage (the worker while its
PUT hangs at GitHub) and started again; GitHub heals, and the hung PUT commits to a client
that is gone. Every write lands exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from annoris.api import tokens
from annoris.sources import get_source
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite, Session
from sessions_app.tests.writes.conftest import commit_count, file_at
from sync_app.engine import run_sync

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="web and worker processes share the test database: needs PostgreSQL",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Processes:
    """Start, wait for and SIGKILL the app's real processes (each in its own process group)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.port = _free_port()
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "annoris.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            "2",
            "--no-control-socket",
        ]
        worker = [sys.executable, "manage.py", "qcluster"]
        for name, cmd in (("web", web), ("worker", worker)):
            log = open(self.log_dir / f"{name}-{self.starts}.log", "wb")  # noqa: SIM115 - closed with the process
            self.running[name] = subprocess.Popen(  # noqa: S603 - our interpreter, our app
                cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for_web()

    def wait_for_web(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http().get(f"http://127.0.0.1:{self.port}/health", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start; see {self.log_dir}")

    def kill_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: qcluster's workers too
            proc.wait(10)
        self.running.clear()


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.fixture
def processes(
    transactional_db: None, github: GitHubEmulator, tmp_path: Path
) -> Iterator[tuple[Processes, dict[str, str]]]:
    run_sync(source=get_source())
    token = tokens.issue(name="assistant", scope=tokens.WRITE)[1]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        DATABASE_URL=_database_url(),
        SESSIONS_SOURCE="github",
        GITHUB_API_URL=github.base_url,
        GITHUB_REPO=github.full_name,
        GITHUB_TOKEN=github.token,
        GITHUB_BRANCH="main",
        NO_PROXY="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="annoris.tests.settings_tuned",  # reads the tuning below
        ANNORIS_WRITE_TIMEOUT="1",
        ANNORIS_OUTBOX_BACKOFF="0.3",
        ANNORIS_OUTBOX_MAX_BACKOFF="1",
        ANNORIS_OUTBOX_LEASE="4",
        ANNORIS_OUTBOX_DRAIN_SECONDS="3",
        GITHUB_TIMEOUT="1",
        Q_WORKERS="1",
        LOG_LEVEL="WARNING",
    )
    procs = Processes(env, tmp_path)
    try:
        yield procs, {"Authorization": f"Bearer {token}"}
    finally:
        github.reset_faults()
        procs.kill_all()


def test_accepted_writes_land_exactly_once_after_every_process_restarted(
    processes: tuple[Processes, dict[str, str]], github: GitHubEmulator
) -> None:
    procs, auth = processes
    commits = commit_count(github)
    existing = Session.objects.get(github_path__endswith="2025-10-21-railway-postgres-setup.md")
    procs.start()
    api = f"http://127.0.0.1:{procs.port}/api/sessions/"

    # GitHub fails: both writes are accepted into the outbox.
    github.fail_next(1_000_000, status=503)
    created = http().post(api, json={"content": "# Survives restarts\n", "project": "annoris"}, headers=auth)
    patched = http().patch(
        f"{api}{existing.id}/", json={"status": "✅ done"}, headers={**auth, "If-Match": existing.github_sha}
    )
    assert (created.status_code, patched.status_code) == (202, 202), (created.text, patched.text)
    # The worker retries them while GitHub keeps failing...
    assert wait_for(lambda: all(e.attempts >= 2 for e in PendingWrite.objects.all()), 20)
    # ...and then GitHub hangs, so the worker is stuck in a PUT when everything is killed.
    github.reset_faults()
    github.hang(None)
    hung = github.call_count("PUT")
    assert wait_for(lambda: github.call_count("PUT") > hung, 20)
    procs.kill_all()

    # Everything restarts while GitHub is still down; the new web accepts a third write.
    procs.start()
    later = http().post(api, json={"content": "# Accepted after the restart\n"}, headers=auth)
    assert later.status_code == 202, later.text
    assert PendingWrite.objects.filter(status="pending").count() == 3
    health = http().get(f"http://127.0.0.1:{procs.port}/health", headers=auth).json()["outbox"]
    assert health["pending"] == 3

    # GitHub heals (the hung PUT now commits, to a worker that is dead). All three land, once.
    github.release()
    github.reset_faults()
    assert wait_for(lambda: not PendingWrite.objects.exclude(status="landed").exists(), 60), list(
        PendingWrite.objects.values("path", "status", "attempts", "last_error")
    )
    assert commit_count(github) == commits + 3
    for response in (created, later):
        body = response.json()
        assert file_at(github, body["path"]) is not None
        assert Session.objects.get(id=body["id"]).github_sha == body["sha"]
    text = file_at(github, existing.github_path)
    assert text is not None and "status: ✅ done" in text
    assert Session.objects.get(id=existing.id).state == "done"
    assert http().get(f"http://127.0.0.1:{procs.port}/health", headers=auth).json()["outbox"] == {
        "status": "ok",
        "pending": 0,
        "conflict": 0,
    }
