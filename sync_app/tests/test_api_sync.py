"""/api/sync/ (issue #7): queue a sync (202 with its log), coalesce with a running one, watch runs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from sync_app import services
from sync_app.lock import SyncLock
from sync_app.models import SyncLog, SyncState


@pytest.fixture
def api(db: None, settings: Any, sample_dir: Any, q_sync: None) -> APIClient:
    settings.SESSIONS_SOURCE = str(sample_dir)
    _, secret = tokens.issue(name="writer", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_post_queues_a_sync_and_answers_202_with_its_log(api: APIClient) -> None:
    response = api.post(reverse("sync-list"))
    assert response.status_code == 202
    body = response.json()
    log = SyncLog.objects.get(pk=body["sync_log"])
    assert (log.source, log.status, body["coalesced"]) == ("api", "success", False)
    assert response["Location"] == body["sync_log_url"]
    detail = api.get(body["sync_log_url"]).json()
    assert detail["id"] == str(log.id) and detail["files_synced"] == log.files_synced > 0
    assert "details" in detail


def test_post_coalesces_with_a_running_sync(api: APIClient) -> None:
    lock = SyncLock()  # what a running sync holds
    assert lock.acquire()
    try:
        running = services.sync_log_start(source=SyncLog.Source.SCHEDULE)
        services.sync_begin(log=running)
        response = api.post(reverse("sync-list"))
    finally:
        lock.release()
    assert response.status_code == 202
    assert response.json()["coalesced"] is True and response.json()["sync_log"] == str(running.id)
    assert SyncState.objects.get(pk=1).pending_trigger == "api"  # the running sync goes once more
    assert SyncLog.objects.count() == 1  # and no second run started


def test_get_lists_runs_newest_first_and_404s_unknown_ones(api: APIClient) -> None:
    first = api.post(reverse("sync-list")).json()["sync_log"]
    second = api.post(reverse("sync-list")).json()["sync_log"]
    rows = api.get(reverse("sync-list")).json()["results"]
    assert [row["id"] for row in rows] == [second, first] and "details" not in rows[0]
    response = api.get(reverse("sync-detail", args=[uuid.uuid4()]))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
