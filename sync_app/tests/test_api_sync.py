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


@pytest.fixture
def api_queued(db: None, settings: Any, sample_dir: Any) -> APIClient:
    """The API with django-q2 as deployed: a request queues the task; a worker runs it later."""
    settings.SESSIONS_SOURCE = str(sample_dir)
    _, secret = tokens.issue(name="writer", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_queued_sync_names_its_log_at_once_and_the_worker_fills_it_in(api_queued: APIClient) -> None:
    from django_q.models import OrmQ

    from sync_app.tasks import sync_sessions

    response = api_queued.post(reverse("sync-list"))
    assert response.status_code == 202
    body = response.json()
    assert body["sync_log"] and body["coalesced"] is False
    assert response["Location"] == body["sync_log_url"]
    queued = api_queued.get(body["sync_log_url"]).json()
    assert (queued["status"], queued["source"]) == ("queued", "api")
    # The worker runs the task as queued (its arguments carry the log) and fills that log in.
    task = OrmQ.objects.get().task
    assert task["kwargs"]["log_id"] == body["sync_log"]
    sync_sessions(*task["args"], **task["kwargs"])
    done = api_queued.get(body["sync_log_url"]).json()
    assert done["status"] == "success" and done["files_synced"] > 0 and done["finished_at"]
    assert SyncLog.objects.count() == 1  # the run wrote into the requested log, not a new one


def test_a_queued_log_that_another_run_covers_is_closed_as_coalesced(api_queued: APIClient) -> None:
    from sync_app.engine import run_sync

    log = services.sync_log_queue(source=SyncLog.Source.API)
    lock = SyncLock()  # a run started between the request and the worker
    assert lock.acquire()
    try:
        assert run_sync(trigger="api", if_busy="queue", log_id=str(log.id)) is None
    finally:
        lock.release()
    log.refresh_from_db()
    assert log.status == "coalesced" and log.finished_at is not None
    assert SyncState.objects.get(pk=1).pending_trigger == "api"  # the busy run goes once more
