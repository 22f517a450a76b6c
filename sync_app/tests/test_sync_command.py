"""manage.py sync_github as an operator uses it: summary, --json, --dry-run, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from sessions_app.models import Session
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db


def sync(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_github", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_a_summary(sample_dir: Path) -> None:
    with override_settings(SESSIONS_SOURCE=str(sample_dir)):
        first, second = sync(), sync()
    total = len(list(sample_dir.rglob("*.md")))
    assert f"Synced: {total} added / 0 updated / 0 restored / 0 unchanged / 0 deleted / 0 failed" in first
    assert f"0 added / 0 updated / 0 restored / {total} unchanged" in second
    assert "success" in second


def test_it_speaks_json_for_scripts(sample_dir: Path) -> None:
    with override_settings(SESSIONS_SOURCE=str(sample_dir)):
        data = json.loads(sync("--json"))
    assert data["status"] == "success" and data["counts"]["added"] == Session.objects.count()
    assert SyncLog.objects.filter(pk=data["log_id"]).exists()


def test_a_dry_run_changes_nothing(sample_dir: Path) -> None:
    with override_settings(SESSIONS_SOURCE=str(sample_dir)):
        out = sync("--dry-run")
    assert out.startswith("Dry run: would sync")
    assert Session.objects.count() == 0 and SyncLog.objects.count() == 0


def test_failed_files_give_exit_status_1(sample_dir: Path) -> None:
    (sample_dir / "broken.md").write_bytes(b"\xff\xfe\x00binary")
    with override_settings(SESSIONS_SOURCE=str(sample_dir)), pytest.raises(CommandError) as info:
        sync()
    assert info.value.returncode == 1 and "1 file(s) failed" in str(info.value)
    assert Session.objects.count() == len(list(sample_dir.rglob("*.md"))) - 1


def test_an_unreachable_source_gives_exit_status_2(tmp_path: Path) -> None:
    with override_settings(SESSIONS_SOURCE=str(tmp_path / "missing")), pytest.raises(CommandError) as info:
        sync()
    assert info.value.returncode == 2 and "does not exist" in str(info.value)
    assert SyncLog.objects.get().status == "failed"
