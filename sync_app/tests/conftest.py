"""Fixtures for GitHub-backed syncs and the webhook: a real emulator over real git, no mocks.

``emulator`` serves a git repository built from ``samples/sessions``; ``github`` points
the settings at it (SESSIONS_SOURCE=github), so ``get_source()`` and everything behind
the webhook talk to it over HTTP. ``q_sync`` makes django-q2 run queued tasks at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_q.conf import Conf
from pytest_django.fixtures import Settings as SettingsWrapper

from annoris.sources.github import GitHubSource
from annoris.testing.github_emulator import GitHubEmulator
from sync_app.webhooks import signature_for

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "sessions"
WEBHOOK_SECRET = "It's a Secret to Everybody"
WEBHOOK_URL = "/webhooks/github"


def sample_files() -> dict[str, bytes]:
    """The shipped sample sessions as {repository path: bytes}."""
    return {p.relative_to(SAMPLES).as_posix(): p.read_bytes() for p in sorted(SAMPLES.rglob("*.md"))}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[GitHubEmulator]:
    """A started emulator whose ``main`` holds the sample sessions in one commit."""
    emu = GitHubEmulator(tmp_path / "repo")
    emu.commit_files(sample_files(), message="Import sample sessions")
    with emu:
        yield emu


@pytest.fixture
def github(settings: SettingsWrapper, emulator: GitHubEmulator) -> GitHubEmulator:
    """Settings pointing the configured source (and the webhook) at the emulator."""
    settings.SESSIONS_SOURCE = "github"
    settings.GITHUB_API_URL = emulator.base_url
    settings.GITHUB_REPO = emulator.full_name
    settings.GITHUB_TOKEN = emulator.token
    settings.GITHUB_BRANCH = "main"
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    return emulator


@pytest.fixture
def make_source(emulator: GitHubEmulator) -> Callable[..., GitHubSource]:
    """GitHubSources on the emulator with test-sized timeouts and backoff (fault tests stay fast)."""

    def make(**client_options: Any) -> GitHubSource:
        return GitHubSource(emulator.client(**client_options), branch="main")

    return make


@pytest.fixture
def q_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs each queued task at once, in this process (``Q_CLUSTER["sync"] = True``).

    django-q2 reads Q_CLUSTER once, into ``Conf``, at import; overriding the setting
    later has no effect, so the library's own switch is set for the test.
    """
    monkeypatch.setattr(Conf, "SYNC", True)


def push_payload(emulator: GitHubEmulator, *, ref: str = "refs/heads/main", **extra: Any) -> dict[str, Any]:
    """A push event payload shaped like GitHub's (GITHUB.md 11), for the emulator's head."""
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": emulator.head(),
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": [],
        "repository": {"full_name": emulator.full_name, "default_branch": "main"},
        **extra,
    }


@pytest.fixture
def post_webhook(client: Client) -> Callable[..., Any]:
    """POST a delivery to the webhook, signed with WEBHOOK_SECRET unless told otherwise.

    ``payload`` (a dict) is sent as JSON, or as ``payload=`` when ``form=True``; ``body``
    (bytes) is sent as is. ``signature=None`` omits the header; a string replaces it.
    """

    def post(
        payload: dict[str, Any] | None = None,
        *,
        event: str = "push",
        delivery: str | None = "d-1",
        body: bytes | None = None,
        form: bool = False,
        signature: str | None | bool = True,
        content_type: str | None = None,
    ) -> Any:
        if body is None:
            text = json.dumps(payload if payload is not None else {})
            body = urlencode({"payload": text}).encode() if form else text.encode()
        headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_USER_AGENT": "GitHub-Hookshot/test"}
        if delivery is not None:
            headers["HTTP_X_GITHUB_DELIVERY"] = delivery
        if signature is True:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature_for(body, WEBHOOK_SECRET)
        elif isinstance(signature, str):
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        kind = content_type or ("application/x-www-form-urlencoded" if form else "application/json")
        return client.post(WEBHOOK_URL, data=body, content_type=kind, **headers)

    return post
