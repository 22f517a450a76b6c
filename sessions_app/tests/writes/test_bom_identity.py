"""A byte-order mark is read the same way by the write path and the sync (issue #20, finding 8):
an ``id:`` change hidden behind a BOM is the same 422 as without it, and a BOM that keeps the
id is written and read back under that id."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.sources import get_source
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sessions_app.tests.writes.conftest import a_session, commit_count
from sync_app.engine import run_sync

BOM = "\ufeff"
FRONT_MATTER_ID = "3f6c2a9e-8b41-4d7f-9a35-1c0e5b7d2f84"  # webhook-hmac's, from its front matter


@pytest.mark.parametrize("bom", ["", BOM], ids=["plain", "bom"])
@pytest.mark.parametrize("which", ["redis", "webhook-hmac"], ids=["path-id", "front-matter-id"])
def test_an_id_change_is_refused_with_or_without_a_bom(
    writer: APIClient, gh: GitHubEmulator, bom: str, which: str
) -> None:
    row = a_session(which)
    commits = commit_count(gh)
    content = f"{bom}---\nid: {uuid.uuid4()}\ntitle: Taken over\n---\n# Taken over\n"

    response = writer.put(
        reverse("session-detail", args=[row.id]), {"content": content}, format="json",
        HTTP_IF_MATCH=row.github_sha,
    )  # fmt: skip

    assert response.status_code == 422, response.content
    assert response.json()["errors"]["content"] == [f"The id must stay {row.id}."]
    assert commit_count(gh) == commits


def test_a_bom_that_keeps_the_id_is_written_and_the_full_sync_keeps_the_id(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    row = a_session("webhook-hmac")
    assert str(row.id) == FRONT_MATTER_ID
    content = f"{BOM}---\nid: {row.id}\ntitle: Still mine\n---\n# Still mine\n"
    response = writer.put(
        reverse("session-detail", args=[row.id]), {"content": content}, format="json",
        HTTP_IF_MATCH=row.github_sha,
    )  # fmt: skip
    assert response.status_code == 200, response.content

    result = run_sync(source=get_source(), full=True)

    assert result is not None and result.status == "success"
    assert writer.get(reverse("session-detail", args=[row.id])).status_code == 200
    assert Session.objects.live().get(id=row.id).title == "Still mine"
