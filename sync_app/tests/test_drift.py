"""GET /api/sync/drift/ against the GitHub emulator over HTTP: edits show before a sync, clear after."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.drift import drift_report
from sync_app.engine import run_sync
from sync_app.tests.conftest import sample_files

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = sample_files()
EDITED = "lingua-drift/2025-08-27-annotation-schema.md"
REMOVED = "pricewise/2025-09-20-onboarding-emails.md"


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    return client


def test_before_any_sync_every_file_is_not_yet_synced(github: GitHubEmulator, api: APIClient) -> None:
    github.reset_calls()
    response = api.get("/api/sync/drift/")
    assert response.status_code == 200
    report = response.json()
    assert report["counts"] == {"changed": 0, "not_synced": len(SAMPLES), "gone": 0}
    assert report["last_sync_at"] is None and report["in_sync"] is False
    assert github.call_count() <= 2


def test_it_shows_an_edit_made_on_github_and_clears_after_a_sync(
    github: GitHubEmulator, api: APIClient
) -> None:
    run_sync()
    assert api.get("/api/sync/drift/").json()["in_sync"] is True
    edited_row = Session.objects.get(github_path=EDITED)
    github.commit_files(
        {
            EDITED: SAMPLES[EDITED] + b"\n## Later\nEdited on GitHub.\n",
            REMOVED: None,
            "new/2026-01-01-new.md": b"# New\n",
        }
    )
    github.reset_calls()
    report = api.get("/api/sync/drift/").json()
    assert github.call_count() <= 2  # the branch, then the tree (conditional on its ETag)
    assert report["counts"] == {"changed": 1, "not_synced": 1, "gone": 1}
    assert report["changed"][0]["path"] == EDITED and report["changed"][0]["id"] == str(edited_row.id)
    assert report["changed"][0]["stored_sha"] == edited_row.github_sha != report["changed"][0]["source_sha"]
    assert report["not_synced"] == [
        {"path": "new/2026-01-01-new.md", "source_sha": report["not_synced"][0]["source_sha"]}
    ]
    assert report["gone"][0]["path"] == REMOVED
    assert report["last_sync_age_seconds"] is not None and report["revision"] == github.head()
    health = api.get("/health").json()["drift"]  # counts need a token (#20)
    assert (health["changed"], health["not_synced"], health["gone"], health["status"]) == (1, 1, 1, "drift")

    result = run_sync()  # the drift check saved nothing: the sync still sees every change
    assert (result.counts["updated"], result.counts["added"], result.counts["deleted"]) == (1, 1, 1)
    github.reset_calls()
    after = api.get("/api/sync/drift/").json()
    assert after["in_sync"] is True and after["counts"] == {"changed": 0, "not_synced": 0, "gone": 0}
    assert github.call_count() <= 2
    assert api.get("/health").json()["drift"]["status"] == "ok"


def test_an_unreachable_github_is_reported_not_raised(github: GitHubEmulator, api: APIClient) -> None:
    run_sync()
    github.fail_next(5, status=503)
    response = api.get("/api/sync/drift/")
    assert response.status_code == 200
    report = response.json()
    assert report["error"] and report["counts"] == {"changed": None, "not_synced": None, "gone": None}
    assert report["last_sync_age_seconds"] is not None


def test_it_reports_zero_outbox_entries_and_works_with_a_local_source(local_source) -> None:  # noqa: ANN001
    run_sync(source=local_source)
    report = drift_report(source=local_source)
    assert report.in_sync and report.outbox_pending == 0 and report.source_calls is None
