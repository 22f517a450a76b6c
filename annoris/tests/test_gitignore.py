"""Secrets files are never committed: git ignores .env and its variants, not the example."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ignored(name: str) -> bool:
    found = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", name], check=False)
    return found.returncode == 0


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_git_ignores_env_files_but_not_the_example() -> None:
    assert _ignored(".env") and _ignored(".env.local") and _ignored(".env.production")
    assert not _ignored(".env.example")
