"""Real `manage.py sync_github` processes killed with SIGKILL and SIGTERM (issue 9, item 4).

Before: the claim was a row with a 30-minute timeout, so a killed sync wedged every sync
for half an hour, its log stayed `running`, and a webhook trigger that arrived meanwhile
never ran. Now the lock dies with its holder: the next run starts at once, closes the dead
run's log as `interrupted`, and a waiting trigger gets its sync.

The processes share the test's database: on PostgreSQL the test database itself, on
SQLite a database file made for the test (the suite's own SQLite database is in memory).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from annoris.testing.github_emulator import GitHubEmulator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MANAGE = str(ROOT / "manage.py")


@dataclass
class SharedDatabase:
    """A database the test and its subprocesses both see."""

    url: str
    query: Callable[[str], list[tuple[Any, ...]]]

    def one(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def logs(self) -> list[tuple[str, str]]:
        return [
            tuple(row) for row in self.query("SELECT source, status FROM sync_app_synclog ORDER BY synced_at")
        ]


@pytest.fixture
def shared_db(tmp_path: Path) -> Iterator[SharedDatabase]:
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"

        def query(sql: str) -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())

        yield SharedDatabase(url, query)
        return
    path = tmp_path / "shared.sqlite3"
    url = f"sqlite:///{path}"
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, MANAGE, "migrate", "--noinput"], env=env_for(url), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    def query_sqlite(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path, timeout=10) as db:
            return list(db.execute(sql).fetchall())

    yield SharedDatabase(url, query_sqlite)


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "Q_SYNC")}
    env.update(DATABASE_URL=database_url, DEBUG="1", CONN_MAX_AGE="0", **extra)
    return env


def start_sync(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, MANAGE, "sync_github", "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def make_folder(root: Path, count: int) -> Path:
    for n in range(count):
        folder = root / f"project-{n % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"- step {i} of session {n}: sync, parse, encrypt, upsert." for i in range(40))
        (folder / f"2025-10-{n % 28 + 1:02d}-session-{n:04d}.md").write_text(
            f"# Session {n}\n\n**Date:** October {n % 28 + 1}, 2025\n**Status:** 🚧 In progress\n\n{body}\n"
        )
    return root


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_trigger_that_arrived_during_a_killed_sync_still_syncs(
    shared_db: SharedDatabase, emulator: GitHubEmulator, sig: signal.Signals
) -> None:
    env = env_for(
        shared_db.url,
        SESSIONS_SOURCE="github",
        GITHUB_API_URL=emulator.base_url,
        GITHUB_REPO=emulator.full_name,
        GITHUB_TOKEN=emulator.token,
        GITHUB_BRANCH="main",
        GITHUB_TIMEOUT="60",
    )
    emulator.hang(path_prefix=f"/repos/{emulator.full_name}/git/blobs/")  # the run stalls mid-sync
    doomed = start_sync(env)
    try:
        wait_for(lambda: emulator.call_count(endpoint="blob") > 0)
        # What the webhook's queued task runs in a django-q worker.
        task = "import json; from sync_app.tasks import sync_sessions as s; print(json.dumps(s('webhook')))"
        trigger = subprocess.Popen(  # noqa: S603
            [sys.executable, MANAGE, "shell", "-c", task],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for(lambda: shared_db.one("SELECT pending_trigger FROM sync_app_syncstate") == "webhook")
        assert trigger.poll() is None  # it waits for the running sync
        doomed.send_signal(sig)
        doomed.wait(30)
    finally:
        emulator.release()
        if doomed.poll() is None:
            doomed.kill()
    out, err = trigger.communicate(timeout=60)
    assert trigger.returncode == 0, err.decode()[-2000:]
    outcome = json.loads(out.decode().strip().splitlines()[-1])
    assert outcome["status"] == "success" and outcome["added"] == 9
    assert shared_db.logs() == [("manual", "interrupted"), ("webhook", "success")]
    assert shared_db.one("SELECT count(*) FROM sessions_app_session") == 9


def test_a_sync_killed_at_random_points_20_times_never_wedges_or_duplicates(
    shared_db: SharedDatabase, tmp_path: Path
) -> None:
    files = 1500
    env = env_for(
        shared_db.url, SESSIONS_SOURCE=str(make_folder(tmp_path / "sessions", files)), GITHUB_REPO="acme/k"
    )
    rng = random.Random(9)
    kills = 0
    for round_ in range(20):
        # --full: every run re-reads every file, so each kill can land mid-write. Most kills
        # wait for the run's log to exist (start-up time varies with the machine's load);
        # some land during start-up, before the run has begun.
        started = len(shared_db.logs())
        proc = start_sync(env, "--full")
        if rng.random() < 0.8:
            wait_for(lambda: len(shared_db.logs()) > started or proc.poll() is not None)  # noqa: B023
            time.sleep(rng.uniform(0.0, 0.8))
        else:
            time.sleep(rng.uniform(0.2, 1.5))
        if proc.poll() is None:
            proc.send_signal(rng.choice([signal.SIGKILL, signal.SIGTERM]))
            kills += 1
        out, err = proc.communicate(timeout=60)
        assert b"another sync is running" not in err, f"round {round_}: refused after a kill"
    assert kills >= 15  # most rounds were really killed
    final = subprocess.run(
        [sys.executable, MANAGE, "sync_github", "--json"], env=env, capture_output=True, timeout=120
    )  # noqa: S603
    assert final.returncode == 0, final.stderr.decode()[-2000:]
    assert json.loads(final.stdout)["status"] == "success"
    assert shared_db.one("SELECT count(*) FROM sessions_app_session") == files
    assert shared_db.one("SELECT count(DISTINCT github_path) FROM sessions_app_session") == files
    statuses = [status for _, status in shared_db.logs()]
    assert "running" not in statuses and set(statuses) <= {"interrupted", "success"}
    assert statuses.count("interrupted") >= 5  # killed mid-run, not only during start-up
