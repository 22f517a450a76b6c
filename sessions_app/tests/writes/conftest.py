"""Fixtures for session writes: an API client with a token, the emulator as the source,
and helpers that read the emulator's git repository the way a person would check it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.sources import get_source
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.tests import conftest as sync_fixtures

# The GitHub emulator fixtures, shared with the sync tests.
sample_files = sync_fixtures.sample_files
emulator = sync_fixtures.emulator
github = sync_fixtures.github

FAST_OUTBOX = {
    "ANNORIS_WRITE_TIMEOUT": 1.0,
    "ANNORIS_OUTBOX_BACKOFF": 0.05,
    "ANNORIS_OUTBOX_MAX_BACKOFF": 0.2,
    "ANNORIS_OUTBOX_DRAIN_SECONDS": 0.0,
    "ANNORIS_OUTBOX_LEASE": 30.0,
}


def make_writer(username: str = "writer", scope: str = tokens.WRITE) -> APIClient:
    """An API client with a real token of ``scope`` (hashed in the database, as in production)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name=username, scope=scope)[1]}")
    return client


@pytest.fixture
def writer(db: None) -> APIClient:
    return make_writer()


@pytest.fixture
def fast_outbox(settings: SettingsWrapper) -> None:
    for name, value in FAST_OUTBOX.items():
        setattr(settings, name, value)


@pytest.fixture
def gh(db: None, github: GitHubEmulator, fast_outbox: None) -> GitHubEmulator:
    """The emulator as the configured source, its sample sessions synced into the database."""
    run_sync(source=get_source())
    github.reset_calls()
    return github


@pytest.fixture
def local(db: None, settings: SettingsWrapper, sample_dir: Any, fast_outbox: None) -> Any:
    """A local folder (a copy of the samples) as the configured source, synced."""
    settings.SESSIONS_SOURCE = str(sample_dir)
    settings.GITHUB_REPO = ""
    run_sync(source=get_source())
    return sample_dir


def git(emu: GitHubEmulator, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - git on the emulator's own repository
        ["git", f"--git-dir={emu.repo.path}", *args], capture_output=True, check=False
    )
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def file_at(emu: GitHubEmulator, path: str) -> str | None:
    """The file on the emulator's main branch, or None."""
    out = subprocess.run(  # noqa: S603
        ["git", f"--git-dir={emu.repo.path}", "show", f"main:{path}"], capture_output=True, check=False
    )
    return out.stdout.decode() if out.returncode == 0 else None


def commit_count(emu: GitHubEmulator) -> int:
    return int(git(emu, "rev-list", "--count", "main").strip() or 0)


def writes_received(emu: GitHubEmulator) -> int:
    """PUT and DELETE requests the emulator received (what would reach GitHub)."""
    return emu.call_count("PUT") + emu.call_count("DELETE")


def a_session(path_part: str = "") -> Session:
    rows = Session.objects.live().order_by("github_path")
    return next(r for r in rows if path_part in r.github_path)


@pytest.fixture
def doc() -> Callable[..., str]:
    def make(title: str = "Outbox design", body: str = "Decided: writes go to GitHub first.\n") -> str:
        return f"# {title}\n\n{body}"

    return make
