"""Writes when the source is a local folder: atomic replacement, the same SHA checks."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from rest_framework.test import APIClient

from annoris.sources.base import git_blob_sha
from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.tests.writes.conftest import a_session
from sync_app.engine import run_sync


def test_create_update_delete_in_a_local_folder(writer: APIClient, local: Path) -> None:
    before = {p.name for p in (local / "pricewise").iterdir()}
    created = writer.post(
        reverse("session-list"), {"content": "# Local one\n", "project": "pricewise", "date": "2025-12-01"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    path = local / body["path"]
    # The layout of the folder's pricewise/ files, not SESSIONS_PATH_PATTERN's sessions/pricewise/...
    assert body["path"] == "pricewise/2025-12-01-local-one.md" and body["commit"] is None
    assert git_blob_sha(path.read_bytes()) == body["sha"]

    url = reverse("session-detail", args=[body["id"]])
    stale = writer.put(url, {"content": "# Other\n"}, format="json", HTTP_IF_MATCH="0" * 40)
    updated = writer.put(url, {"content": "# Local two\n"}, format="json", HTTP_IF_MATCH=body["sha"])
    assert (stale.status_code, updated.status_code) == (412, 200)
    assert path.read_text() == "# Local two\n"
    # Nothing left behind by the atomic write: no temp files beside it.
    assert {p.name for p in path.parent.iterdir()} == before | {path.name}

    gone = writer.delete(url, HTTP_IF_MATCH=updated.json()["sha"])
    assert gone.status_code == 204 and not path.exists()
    assert Session.objects.get(id=body["id"]).deleted_at is not None


def test_a_file_changed_on_disk_is_a_412_and_stays(writer: APIClient, local: Path) -> None:
    row = a_session("redis-strategy")
    target = local / row.github_path
    target.write_text("# Edited in an editor\n")

    response = writer.patch(
        reverse("session-detail", args=[row.id]),
        {"status": "done"},
        format="json",
        HTTP_IF_MATCH=row.github_sha,
    )

    assert response.status_code == 412
    assert target.read_text() == "# Edited in an editor\n"


def test_an_existing_file_is_a_409(writer: APIClient, local: Path) -> None:
    (local / "sessions").mkdir(exist_ok=True)
    (local / "sessions" / "2025-12-02_mine.md").write_text("# Already here\n")
    response = writer.post(
        reverse("session-list"), {"content": "# New\n", "path": "sessions/2025-12-02_mine.md"}, format="json"
    )
    assert response.status_code == 409
    assert (local / "sessions" / "2025-12-02_mine.md").read_text() == "# Already here\n"


def test_the_write_lock_file_is_not_a_session(writer: APIClient, local: Path) -> None:
    assert writer.post(reverse("session-list"), {"content": "# Locked\n"}, format="json").status_code == 201
    assert (local / ".annoris-write.lock").exists()
    listed = {f.path for f in LocalSource(local, repository="acme/sessions").list_files().files}
    assert not any(path.endswith((".annoris-write.lock", ".tmp")) for path in listed)
    assert any(path.endswith("-locked.md") for path in listed)
    result = run_sync(source=LocalSource(local))
    assert result is not None and result.counts["failed"] == 0
