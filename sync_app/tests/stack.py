"""A real Annoris run for end-to-end tests: manage.py commands, a web server and a django-q worker
as subprocesses on their own SQLite file, each one's output captured to a file.

Used by the full-run log test (gunicorn, DEBUG off, JSON logs) and the browser test.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_keyring(key_id: str = "k-test") -> tuple[str, bytes]:
    key = secrets.token_bytes(32)
    return f"{key_id}:{base64.urlsafe_b64encode(key).decode()}", key


class Stack:
    """Processes sharing one environment and database; ``stop()`` ends the ones it started."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.db_path = tmp / "annoris.sqlite3"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        self.env = (
            keep
            | {
                "DATABASE_URL": f"sqlite:///{self.db_path}",
                "PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
                "STATIC_ROOT": str(tmp / "static"),
            }
            | env
        )
        self.logs: dict[str, Path] = {}
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py args``; its stderr (where logging goes) is kept as a log."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        name = f"manage-{args[0]}-{len(self.logs)}"
        (self.tmp / f"{name}.log").write_text(done.stderr)
        self.logs[name] = self.tmp / f"{name}.log"
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def create_superuser(self, username: str, password: str) -> None:
        code = "from django.contrib.auth.models import User; import os; User.objects.create_superuser("
        code += "os.environ['NEW_USER'], '', os.environ['NEW_PASSWORD'])"
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT, env=self.env | {"NEW_USER": username, "NEW_PASSWORD": password},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self._procs.append((name, proc))
        return proc

    def start_web(self, *, gunicorn: bool) -> None:
        if gunicorn:
            argv = [sys.executable, "-m", "gunicorn", "annoris.wsgi", "--config", "gunicorn.conf.py"]
        else:
            argv = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"]
        proc = self.start("web", argv)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"web server exited:\n{self.logs['web'].read_text()}"
            try:
                requests.get(f"{self.base_url}/health", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError(f"web server did not answer:\n{self.logs['web'].read_text()}")

    def start_worker(self) -> None:
        self.start("worker", [sys.executable, "manage.py", "qcluster"])

    def query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with sqlite3.connect(self.db_path, timeout=10) as db:
            return db.execute(sql, tuple(params)).fetchall()

    def wait_for(self, sql: str, params: Iterable[object] = (), *, timeout: float = 30) -> list[tuple]:  # type: ignore[type-arg]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(sql, params)
            if rows:
                return rows
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {sql!r}; worker log:\n{self.read('worker')}")

    def read(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def all_logs(self) -> str:
        return "\n".join(self.read(name) for name in self.logs)

    def stop(self) -> None:
        """SIGTERM what this stack started (django-q and gunicorn shut down cleanly), then SIGKILL."""
        for _, proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self._procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._procs.clear()
