"""``manage.py worker`` stops on SIGTERM to its process group, as honcho (``make run``) sends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_worker_stops_cleanly_when_its_process_group_gets_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PYTHONUNBUFFERED": "1", "Q_WORKERS": "1"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:  # a session of its own, like honcho's processes
        worker = subprocess.Popen(
            [*manage, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while "running." not in log.read_text(errors="replace"):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        started = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)  # what honcho does on Ctrl-C, before its SIGKILL at 5 s
        worker.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    output = log.read_text(errors="replace")
    assert "has stopped." in output, output
    assert took < 5, f"took {took:.1f} s: honcho would have sent SIGKILL"
    assert worker.returncode == 0, output
