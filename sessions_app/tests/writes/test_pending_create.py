"""A create queued while GitHub answers 503 can be read and changed (issue #20, finding 11):
GET serves the queued version marked pending, and a PATCH with its sha queues behind it;
once GitHub is back both land, in order."""

from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite
from sessions_app.tests.writes.conftest import file_at
from sessions_app.writes import outbox_drain

DOC = "# Queued while GitHub is down\n\nDecided: the outbox keeps it.\n"


def test_a_queued_create_is_served_pending_and_a_patch_queues_behind_it(
    writer: APIClient, gh: GitHubEmulator
) -> None:
    gh.fail_next(100_000, status=503)
    created = writer.post(reverse("session-list"), {"content": DOC, "project": "annoris"}, format="json")
    assert created.status_code == 202, created.content
    session_id, sha, path = created.json()["id"], created.json()["sha"], created.json()["path"]
    url = reverse("session-detail", args=[session_id])

    read = writer.get(url)
    assert read.status_code == 200, read.content
    body = read.json()
    assert body["pending"] is True and body["sha"] == sha and body["path"] == path
    assert body["title"] == "Queued while GitHub is down" and "the outbox keeps it" in body["content"]
    assert read["ETag"] == f'"{sha}"' and read["X-Annoris-Pending"] == "true"
    assert writer.get(url, HTTP_ACCEPT="text/markdown").content.decode().endswith(DOC)

    patched = writer.patch(url, {"status": "✅ done"}, format="json", HTTP_IF_MATCH=sha)
    assert patched.status_code == 202, patched.content
    stale = writer.patch(url, {"status": "blocked"}, format="json", HTTP_IF_MATCH=sha)
    assert stale.status_code == 412  # the queued PATCH moved the sha on
    assert list(PendingWrite.objects.order_by("id").values_list("operation", flat=True)) == [
        "create",
        "update",
    ]

    gh.reset_faults()
    report = outbox_drain(seconds=5).as_dict()
    assert (report["landed"], report["conflicts"]) == (2, 0)
    landed = file_at(gh, path)
    assert landed is not None and "status: ✅ done" in landed and "the outbox keeps it" in landed
    final = writer.get(url)
    assert final.status_code == 200 and "pending" not in final.json()
    assert final.json()["sha"] == patched.json()["sha"]


def test_an_unknown_id_is_still_a_404(writer: APIClient, gh: GitHubEmulator) -> None:
    url = reverse("session-detail", args=["00000000-0000-4000-8000-000000000000"])
    assert writer.get(url).status_code == 404
    assert writer.patch(url, {"status": "x"}, format="json", HTTP_IF_MATCH="a" * 40).status_code == 404
