"""A sync of a local folder holding links out of it, a FIFO and a huge file (issue 9, item 3).

Nothing from outside the folder may reach SyncState.source_state; every skipped entry
is named in the SyncLog; the good files land; the run neither blocks nor fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from annoris.sources.base import git_blob_sha
from annoris.sources.local import MAX_FILE_BYTES, LocalSource
from sessions_app.documents import MAX_DOCUMENT_BYTES
from sessions_app.models import Session
from sync_app import services
from sync_app.engine import run_sync
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_source_cap_is_the_parsers_cap() -> None:
    assert MAX_FILE_BYTES == MAX_DOCUMENT_BYTES


def test_a_sync_skips_and_names_links_out_fifos_and_huge_files(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".env").write_bytes(b"SECRET_KEY=do-not-hash-me\n")
    subprocess.run(["truncate", "-s", str(2 * 1024**3), str(outside / "sparse.md")], check=True)
    root = tmp_path / "sessions"
    root.mkdir()
    for n in range(3):
        (root / f"good-{n}.md").write_bytes(f"# Good {n}\n\nBody.\n".encode())
    (root / "passwd.md").symlink_to("/etc/passwd")
    (root / "mem.md").symlink_to("/proc/self/mem")
    (root / "env.md").symlink_to(outside / ".env")
    (root / "sparse.md").symlink_to(outside / "sparse.md")
    os.mkfifo(root / "pipe.md")
    subprocess.run(["truncate", "-s", str(MAX_FILE_BYTES + 1), str(root / "huge.md")], check=True)

    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(result=run_sync(source=LocalSource(root))))
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the sync blocked"
    result = box["result"]

    log = SyncLog.objects.get(pk=result.log_id)  # type: ignore[attr-defined]
    assert log.status == "partial"  # huge.md failed alone; the rest is fine
    assert Session.objects.live().count() == 3
    skipped = {entry["path"]: entry["reason"] for entry in log.details["skipped"]}
    assert set(skipped) == {"passwd.md", "mem.md", "env.md", "sparse.md", "pipe.md"}
    assert "FIFO" in skipped["pipe.md"] and "symbolic link" in skipped["mem.md"]
    assert [e["path"] for e in log.details["errors"]] == ["huge.md"]
    assert "file too large" in log.details["errors"][0]["error"]

    state = services.sync_state().source_state
    assert set(state["stat"]) == {"good-0.md", "good-1.md", "good-2.md", "huge.md"}
    saved = json.dumps(state)
    for secret in (Path("/etc/passwd").read_bytes(), (outside / ".env").read_bytes()):
        assert git_blob_sha(secret) not in saved
