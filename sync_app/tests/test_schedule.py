"""The safety net: the django-q2 schedule, and triggers that coalesce while a sync runs."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler
from pytest_django.fixtures import Settings as SettingsWrapper

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import Session
from sync_app.engine import run_sync
from sync_app.models import SyncLog, WebhookDelivery
from sync_app.schedules import SYNC_SCHEDULE_NAME
from sync_app.tests.conftest import push_payload, sample_files

CHANGED = "pricewise/2025-09-20-onboarding-emails.md"


def setup_schedule() -> str:
    out = io.StringIO()
    call_command("setup_schedule", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_creates_the_schedule_once_however_often_it_runs(settings: SettingsWrapper) -> None:
    settings.SYNC_SCHEDULE = 15
    first, second = setup_schedule(), setup_schedule()
    assert first.startswith("Sync schedule created: every 15 min")
    assert second.startswith("Sync schedule updated: every 15 min")
    schedule = Schedule.objects.get(name=SYNC_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "sync_app.tasks.sync_sessions",
        Schedule.MINUTES,
        -1,
    )
    assert Schedule.objects.filter(name=SYNC_SCHEDULE_NAME).count() == 1


@pytest.mark.django_db
def test_it_follows_sync_schedule_and_removes_it_at_zero(settings: SettingsWrapper) -> None:
    setup_schedule()
    settings.SYNC_SCHEDULE = 5
    setup_schedule()
    assert Schedule.objects.get(name=SYNC_SCHEDULE_NAME).minutes == 5
    settings.SYNC_SCHEDULE = 0
    assert "removed" in setup_schedule()
    assert not Schedule.objects.filter(name=SYNC_SCHEDULE_NAME).exists()
    assert "disabled" in setup_schedule()


@pytest.mark.django_db
def test_it_shows_the_schedule_in_the_admin(admin_client: Client) -> None:
    setup_schedule()
    page = admin_client.get("/admin/django_q/schedule/")
    assert page.status_code == 200 and SYNC_SCHEDULE_NAME in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_scheduled_sync_when_due(github: GitHubEmulator, q_sync: None) -> None:
    setup_schedule()
    Schedule.objects.filter(name=SYNC_SCHEDULE_NAME).update(next_run=timezone.now() - timedelta(seconds=1))
    scheduler()  # what the qcluster's scheduler does every few seconds
    log = SyncLog.objects.get()
    assert (log.source, log.status, log.files_synced) == ("schedule", "success", len(sample_files()))
    assert Task.objects.get(func="sync_app.tasks.sync_sessions").success
    # its 9 files are more than a sync embeds inline: it queued their vectors, and they were made
    assert Task.objects.get(func="sync_app.tasks.index_search").success
    assert Schedule.objects.get(name=SYNC_SCHEDULE_NAME).next_run > timezone.now() + timedelta(minutes=14)
    scheduler()  # not due again yet
    assert SyncLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_coalesces_webhooks_during_a_sync_into_one_followup(
    github: GitHubEmulator, q_sync: None, post_webhook: Callable[..., Any]
) -> None:
    """Three pushes while a scheduled sync runs: none runs concurrently, none is lost, one follow-up."""
    github.hang(path_prefix="/repos/acme/sessions/git/blobs/")  # the first run stalls reading files
    worker = threading.Thread(target=_scheduled_sync_then_close)
    worker.start()
    try:
        _wait_for(lambda: github.call_count(endpoint="blob") > 0)
        for n in range(3):  # three pushes (three commits): a replay of one push would queue nothing (#20)
            pushed = sample_files()[CHANGED] + b"\nPushed during the sync.\n" + f"Push {n}.\n".encode()
            github.commit_files({CHANGED: pushed})
            response = post_webhook(push_payload(github), delivery=f"during-{n}")
            assert response.status_code == 202  # queued; the running sync will run once more
        assert SyncLog.objects.count() == 1  # nothing ran beside the stalled sync
    finally:
        github.release()
        worker.join(30)
    logs = list(SyncLog.objects.order_by("synced_at"))
    assert [(log.source, log.status) for log in logs] == [("schedule", "success"), ("webhook", "success")]
    assert logs[1].details["counts"]["updated"] == 1
    assert "Pushed during the sync." in Session.objects.get(github_path=CHANGED).text
    assert set(WebhookDelivery.objects.values_list("status", "sync_log")) == {("done", logs[1].pk)}
    assert Task.objects.filter(func="sync_app.tasks.sync_sessions", success=True).count() == 3


def _scheduled_sync_then_close() -> None:
    try:
        run_sync(trigger="schedule")
    finally:
        connection.close()  # this thread's own connection


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.django_db
def test_a_second_setup_never_announces_a_run_in_the_past(settings: SettingsWrapper) -> None:
    settings.SYNC_SCHEDULE = 15
    setup_schedule()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Schedule.objects.filter(name=SYNC_SCHEDULE_NAME).update(next_run=an_hour_ago)  # no worker ran since
    second = setup_schedule()
    assert "next run as soon as a worker runs" in second
    assert f"{an_hour_ago:%H:%M}" not in second
    assert Schedule.objects.get(name=SYNC_SCHEDULE_NAME).next_run > an_hour_ago
