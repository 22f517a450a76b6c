"""A real gunicorn and a real task worker (``manage.py worker``: django-q2's qcluster) on this
test's PostgreSQL database and the GitHub emulator, for issue #20's tests with real processes.
Each is started in its own process group, so a test can SIGKILL a whole server (master and
workers) as an OOM killer or a host crash would."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from annoris.testing.github_emulator import GitHubEmulator

ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    """The test database as a DATABASE_URL (PostgreSQL: the subprocess shares committed rows)."""
    params = connection.settings_dict
    auth = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"], safe="")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Web:
    """One gunicorn (``workers`` processes, 1 by default) serving the API; ``kill()`` SIGKILLs
    its whole process group."""

    def __init__(self, env: dict[str, str], log: Path, *, config: bool = False, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "annoris.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
        ]
        argv += ["--no-control-socket"]  # gunicorn 27's control socket is one path for every server
        if config:  # the Procfile's settings: gunicorn.conf.py (its logging, limits and timeouts)
            argv += ["--config", "gunicorn.conf.py"]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own server
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        # Ready when a worker answers, not when the port does: the master listens first and forks
        # its workers only after loading the sentence model (2.7 s on a slow machine), and tests
        # that time a request must not time that. A path no view has: no database, no GitHub.
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, log.read_text()[-3000:]
            try:
                wait = max(1.0, deadline - time.monotonic())  # one request waits for the worker
                answer = http.client.HTTPConnection("127.0.0.1", self.port, timeout=wait)
                answer.request("GET", "/__tests_wait_for_a_worker__")
                answer.getresponse().read()
                answer.close()
                return
            except (OSError, http.client.HTTPException):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10  # its workers are not our children: wait for them too
        while time.monotonic() < deadline and _group_alive(self.proc.pid):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker:
    """The Procfile's task worker, ``manage.py worker``: it runs django-q2's qcluster in a process
    group of its own. ``kill()`` SIGKILLs both groups, the command's and the cluster's (sentinel,
    workers, monitor), as a host crash would; killing only the command's would leave the cluster
    running, draining later tests' outboxes."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own worker
                [sys.executable, "manage.py", "worker"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while "running." not in log.read_text(errors="replace"):  # django-q2: "Q Cluster ... running."
            assert self.proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        self.groups = [int(pid) for pid in children] + [self.proc.pid]  # the cluster leads its own

    def kill(self) -> None:
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass  # gone already
        self.proc.wait(timeout=10)
        # The cluster's processes are not our children: wait until they are gone, so that the
        # database sessions (and the sync's advisory lock) they held are closed before the next
        # test starts a sync of its own.
        deadline = time.monotonic() + 10
        for group in self.groups:
            while time.monotonic() < deadline and _group_alive(group):
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM to the command (it stops the cluster cleanly), then SIGKILL to what is left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def _group_alive(group: int) -> bool:
    """A process of ``group`` still runs (zombies, which hold no socket, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def tuned_env(emulator: GitHubEmulator, **extra: str) -> dict[str, str]:
    """``web_env`` with the tests' short tuning (annoris/tests/settings_tuned.py): a write waits
    1 s for GitHub before the outbox takes it, and the outbox retries within a second."""
    tuning = {
        "DJANGO_SETTINGS_MODULE": "annoris.tests.settings_tuned",
        "ANNORIS_WRITE_TIMEOUT": "1",
        "ANNORIS_OUTBOX_BACKOFF": "0.2",
        "ANNORIS_OUTBOX_MAX_BACKOFF": "1",
        "ANNORIS_OUTBOX_LEASE": "10",
        "ANNORIS_OUTBOX_DRAIN_SECONDS": "20",  # one drain task waits out short backoffs
        "Q_WORKERS": "1",
    }
    return web_env(emulator, **{**tuning, **extra})


def web_env(emulator: GitHubEmulator, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SESSIONS_SOURCE": "github",
        "GITHUB_API_URL": emulator.base_url,
        "GITHUB_REPO": emulator.full_name,
        "GITHUB_TOKEN": emulator.token,
        "GITHUB_BRANCH": "main",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@contextmanager
def serving(env: dict[str, str], log: Path, *, config: bool = False, workers: int = 1) -> Iterator[Web]:
    web = Web(env, log, config=config, workers=workers)
    try:
        yield web
    finally:
        web.stop()


@contextmanager
def working(env: dict[str, str], log: Path) -> Iterator[Worker]:
    worker = Worker(env, log)
    try:
        yield worker
    finally:
        worker.stop()
