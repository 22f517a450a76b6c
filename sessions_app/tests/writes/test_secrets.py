"""Secrets never leave: a document holding one is refused (422, line and kind, never the value)
and nothing reaches GitHub."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import a_session, commit_count, writes_received
from sessions_app.writes.secrets import scan_text

GITHUB_TOKEN = "ghp_" + "Zx9Q" * 9
FINE_GRAINED = "github_pat_11ABCDEFG0" + "x7Y" * 25
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
)
LEAKS = {
    "GitHub Token": f"The deploy uses {GITHUB_TOKEN} for now.",
    "GitHub Token ": f"token: {FINE_GRAINED}",
    "Private Key": PRIVATE_KEY,
    "Basic Auth Credentials": "DATABASE_URL=postgres://annoris:Hunter2-pw@db.internal:5432/annoris",
    "Connection String Password": "dsn: host=db user=annoris password=Hunter2pw dbname=annoris",
    "AWS Access Key": "aws_access_key_id = AKIAZ3MEXAMPLEKEY7Q2",
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_a_document_holding_a_secret_is_refused_and_github_sees_nothing(
    writer: APIClient, gh: GitHubEmulator, kind: str
) -> None:
    commits = commit_count(gh)
    content = f"# Deploy notes\n\nSome context.\n{LEAKS[kind]}\nMore text.\n"

    response = writer.post(reverse("session-list"), {"content": content}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "secret_detected"
    assert body["errors"]["content"][0] == f"line 4: {kind.strip()}"
    for line in LEAKS[kind].splitlines():
        assert line not in response.content.decode()  # never echoed
    assert "Hunter2" not in response.content.decode() and GITHUB_TOKEN not in response.content.decode()
    assert (writes_received(gh), commit_count(gh)) == (0, commits)
    assert len(gh.calls) == 0  # not even a read
    assert not PendingWrite.objects.exists()


def test_a_secret_in_a_field_or_a_patch_is_refused_too(writer: APIClient, gh: GitHubEmulator) -> None:
    in_title = writer.post(
        reverse("session-list"), {"content": "# x\n", "title": GITHUB_TOKEN}, format="json"
    )
    row = a_session("redis")
    in_patch = writer.patch(
        reverse("session-detail", args=[row.id]),
        {"content": f"# x\n\n{PRIVATE_KEY}\n"},
        format="json",
        HTTP_IF_MATCH=row.github_sha,
    )
    assert in_title.status_code == 422 and in_title.json()["errors"] == {"title": ["GitHub Token"]}
    assert in_patch.status_code == 422 and in_patch.json()["errors"]["content"] == ["line 3: Private Key"]
    assert len(gh.calls) == 0


def test_a_secret_is_refused_even_while_github_is_down(writer: APIClient, gh: GitHubEmulator) -> None:
    gh.fail_next(100, status=503)
    response = writer.post(reverse("session-list"), {"content": f"# x\n{GITHUB_TOKEN}\n"}, format="json")
    assert response.status_code == 422
    assert not PendingWrite.objects.exists()  # not kept in the outbox either


def test_redacted_values_pass(writer: APIClient, gh: GitHubEmulator) -> None:
    content = (
        "# Deploy notes\n\nToken: ghp_***\nDATABASE_URL=postgres://annoris:***@db.internal/annoris\n"
        "password=${DB_PASSWORD}\nkey: -----BEGIN PUBLIC KEY-----\n"
        "commit 542a1ab9f0c1d8e0a1b2c3d4e5f6a7b8c9d0e1f2\n"
        "Local: postgres://postgres@127.0.0.1:5432/annoris\n"
    )
    response = writer.post(reverse("session-list"), {"content": content}, format="json")
    assert response.status_code == 201, response.content


def test_scanning_a_large_document_is_bounded() -> None:
    """A 1 MB document (the parser's limit) of one line, or of many URL-like lines, scans in bounded time."""
    for text in ("a" * 1_000_000, ("x://" + "b" * 60 + ":\n") * 15_000):
        started = time.monotonic()
        assert scan_text(text) == []
        assert time.monotonic() - started < 10  # generous: a shared CI machine; measured ~1 s
