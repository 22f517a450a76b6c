"""Fixtures for the GitHub client, source and emulator tests: real git, real HTTP, no mocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from annoris.sources.github_client import GitHubClient
from annoris.testing.github_emulator import GitHubEmulator

SEED_FILES: dict[str, bytes] = {
    "README.md": b"# Sessions\n\nOne file per work session.\n",
    "sessions/2025-10-20-evening.md": b"# Evening session\n\n**Date:** October 20, 2025 (Evening)\n",
    "sessions/2025-10-21.md": b"---\nstatus: done\n---\n# Morning\n\nShipped the parser.\n",
    "projects/annoris/2025-10-22-sync.md": "# Sync\n\nCaf\u00e9 \u2014 d\u00e9cid\u00e9.\n".encode(),
    "notes/todo.txt": b"not a session\n",
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[GitHubEmulator]:
    """A started emulator over a fresh git repository holding SEED_FILES."""
    emu = GitHubEmulator(tmp_path / "repo")
    emu.commit_files(SEED_FILES, message="Seed sessions")
    with emu:
        yield emu


@pytest.fixture
def make_client(emulator: GitHubEmulator) -> Callable[..., GitHubClient]:
    """Build clients pointed at the emulator, with test-sized timeouts and backoff."""

    def make(**overrides: Any) -> GitHubClient:
        return emulator.client(**{"timeout": (1.0, 2.0), **overrides})

    return make


@pytest.fixture
def client(make_client: Callable[..., GitHubClient]) -> GitHubClient:
    return make_client()
