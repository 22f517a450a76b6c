"""Where a write without a path goes: the layout the repository already uses (issue #19, item 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.urls import reverse
from rest_framework.test import APIClient

from annoris.sources import get_source
from sync_app.engine import run_sync


def create(writer: APIClient, **fields: str) -> str:
    response = writer.post(reverse("session-list"), {"content": "# A note\n", **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["path"]


def resync(local: Path) -> None:
    result = run_sync(source=get_source(), allow_deletes=True)
    assert result is not None and result.counts["failed"] == 0


def test_a_project_s_files_teach_its_layout(writer: APIClient, local: Path) -> None:
    # The samples keep "<project>/<date>-<slug>.md": a new Annoris session goes beside them.
    path = create(writer, project="Annoris", title="Cache warm-up", date="2025-11-30")
    assert path == "annoris/2025-11-30-cache-warm-up.md"
    assert (local / path).is_file() and not (local / "sessions").exists()


def test_a_project_kept_elsewhere_keeps_its_own_folder_and_separator(writer: APIClient, local: Path) -> None:
    kept = local / "archive" / "Pricewise notes"
    kept.mkdir(parents=True)
    for file in (local / "pricewise").iterdir():  # 2025-09-15-stripe-billing.md -> 2025-09-15_stripe...
        shutil.move(file, kept / f"{file.name[:10]}_{file.name[11:]}")
    resync(local)
    path = create(writer, project="pricewise", title="Dunning", date="2025-12-01")
    assert path == "archive/Pricewise notes/2025-12-01_dunning.md"


def test_a_new_project_follows_the_other_projects_layout(writer: APIClient, local: Path) -> None:
    path = create(writer, project="Side Quest", title="Kick-off", date="2025-12-02")
    assert path == "side-quest/2025-12-02-kick-off.md"


def test_without_dated_files_the_configured_pattern_decides(
    writer: APIClient, local: Path, settings: object
) -> None:
    for file in local.rglob("*.md"):
        file.rename(file.with_name("notes-" + file.name[11:]))  # no date in any file name
    resync(local)
    assert settings.SESSIONS_PATH_PATTERN == "sessions/{project}/{date}_{slug}.md"  # type: ignore[attr-defined]
    path = create(writer, project="Annoris", title="Plain", date="2025-12-03")
    assert path == "sessions/annoris/2025-12-03_plain.md"
