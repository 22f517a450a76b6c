"""The sync log list's "Sync now" button queues a real sync through django-q2."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from sessions_app.models import Session
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_offers_the_button_on_the_sync_log_list(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:sync_app_synclog_changelist")).content.decode()
    assert reverse("admin:sync_app_synclog_sync_now") in page and "Sync now" in page


def test_it_queues_a_sync_that_runs(admin_client: Client, sample_dir: Path, settings, q_sync: None) -> None:
    settings.SESSIONS_SOURCE = str(sample_dir)
    response = admin_client.post(reverse("admin:sync_app_synclog_sync_now"), follow=True)
    assert response.status_code == 200
    assert "Sync queued" in response.content.decode()
    log = SyncLog.objects.get()
    assert (log.source, log.status) == ("manual", "success")
    assert Session.objects.count() == len(list(sample_dir.rglob("*.md")))


def test_it_refuses_get_and_non_superusers(admin_client: Client, client: Client, django_user_model) -> None:
    url = reverse("admin:sync_app_synclog_sync_now")
    assert admin_client.get(url).status_code == 405
    staff = django_user_model.objects.create_user("staff", password="pw-staff-1234", is_staff=True)
    client.force_login(staff)
    assert client.post(url).status_code == 403
    assert SyncLog.objects.count() == 0
