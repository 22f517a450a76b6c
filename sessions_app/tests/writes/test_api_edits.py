"""PATCH /api/sessions/{id}/ with {"edit": ...}: small edits through the write path, against the emulator."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.documents.nextsteps import extract_steps
from sessions_app.models import Session
from sessions_app.tests.writes.conftest import a_session, commit_count, file_at, writes_received


def _patch(writer: APIClient, row: Session, edit: dict, sha: str | None = None) -> object:
    url = reverse("session-detail", args=[row.id])
    return writer.patch(url, {"edit": edit}, format="json", HTTP_IF_MATCH=f'"{sha or row.github_sha}"')


def test_it_appends_a_paragraph_and_keeps_every_other_byte(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("webhook-hmac")
    before = file_at(gh, row.github_path)
    commits = commit_count(gh)

    response = _patch(writer, row, {"append": "Decided: retry deliveries with backoff."})

    assert response.status_code == 200, response.content
    after = file_at(gh, row.github_path)
    assert after is not None and before is not None
    assert after.startswith(before.rstrip("\n")) and after.endswith(
        "\n\nDecided: retry deliveries with backoff.\n"
    )
    assert commit_count(gh) == commits + 1
    row.refresh_from_db()
    assert row.github_sha == response.json()["sha"] and row.text == after


def test_it_checks_off_a_step_and_the_step_closes(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("webhook-hmac")  # front matter "next: Encryption key rotation (...)"
    text = file_at(gh, row.github_path)

    response = _patch(writer, row, {"check_step": "encryption KEY rotation"})

    assert response.status_code == 200, response.content
    after = file_at(gh, row.github_path)
    assert text is not None and after is not None and after.startswith(text)  # the rest byte for byte
    assert after.endswith("- [x] Encryption key rotation (ANNORIS_ENCRYPTION_KEYS)\n")
    # The document itself no longer lists the step as open (whatever later sessions say).
    assert extract_steps(text, next_field=row.next_step).open == (row.next_step,)
    row.refresh_from_db()
    assert extract_steps(row.text, next_field=row.next_step).open == ()


def test_a_missing_section_or_a_stale_sha_writes_nothing(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("webhook-hmac")
    missing = _patch(writer, row, {"section": "No such heading", "replace_with": "x"})
    stale = _patch(writer, row, {"append": "x"}, sha="0" * 40)
    mixed = writer.patch(
        reverse("session-detail", args=[row.id]),
        {"edit": {"append": "x"}, "status": "done"},
        format="json",
        HTTP_IF_MATCH=row.github_sha,
    )
    two = _patch(writer, row, {"append": "x", "check_step": "y"})

    assert missing.status_code == 422 and "No section is headed 'No such heading'" in missing.json()["detail"]
    assert stale.status_code == 412
    assert mixed.status_code == 400 and two.status_code == 400
    assert writes_received(gh) == 0


def test_an_edit_that_adds_a_secret_is_refused(writer: APIClient, gh: GitHubEmulator) -> None:
    row = a_session("webhook-hmac")
    response = _patch(writer, row, {"append": "token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"})
    assert response.status_code == 422 and response.json()["code"] == "secret_detected"
    assert writes_received(gh) == 0
