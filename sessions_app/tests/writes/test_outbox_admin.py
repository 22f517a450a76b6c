"""The outbox admin's retry and discard (issue #20, finding 4): a view-only staff member can
look but not act; one with the change permission is asked to confirm, and the admin's
history (LogEntry) names who retried or discarded which entry."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.testing.github_emulator import GitHubEmulator
from sessions_app.models import PendingWrite

CHANGELIST = "admin:sessions_app_pendingwrite_changelist"


def _queued(writer: APIClient, gh: GitHubEmulator) -> PendingWrite:
    """A create the API accepted (202) while GitHub answered 503."""
    gh.fail_next(1000, status=503)
    response = writer.post(reverse("session-list"), {"content": "# Accepted\n"}, format="json")
    assert response.status_code == 202, response.content
    return PendingWrite.objects.get(pk=response.json()["outbox"]["id"])


def _staff(username: str, *perms: str) -> Client:
    user = get_user_model().objects.create_user(username, password="pw-123456789", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def test_a_view_only_staff_member_cannot_discard_or_retry(writer: APIClient, gh: GitHubEmulator) -> None:
    entry = _queued(writer, gh)
    viewer = _staff("viewer", "view_pendingwrite")

    page = viewer.get(reverse(CHANGELIST))
    assert page.status_code == 200 and entry.path in page.content.decode()
    assert 'value="discard"' not in page.content.decode() and 'value="retry"' not in page.content.decode()
    for action in ("discard", "retry"):
        viewer.post(reverse(CHANGELIST), {"action": action, "_selected_action": [entry.pk], "post": "yes"})

    entry.refresh_from_db()
    assert entry.status == "pending"
    assert not LogEntry.objects.exists()


def test_discard_asks_for_confirmation_then_logs_who_did_it(writer: APIClient, gh: GitHubEmulator) -> None:
    entry = _queued(writer, gh)
    operator = _staff("operator", "view_pendingwrite", "change_pendingwrite")

    asked = operator.post(reverse(CHANGELIST), {"action": "discard", "_selected_action": [entry.pk]})

    assert asked.status_code == 200
    assert "Yes, discard them" in asked.content.decode() and entry.path in asked.content.decode()
    entry.refresh_from_db()
    assert entry.status == "pending"  # nothing done before the confirmation

    confirmed = {"action": "discard", "_selected_action": [entry.pk], "post": "yes"}
    assert operator.post(reverse(CHANGELIST), confirmed).status_code == 302
    entry.refresh_from_db()
    assert entry.status == "discarded"
    log = LogEntry.objects.get()
    assert (log.user.username, log.object_id) == ("operator", str(entry.pk))
    assert "discard" in log.get_change_message() and entry.path in log.get_change_message()


def test_retry_asks_for_confirmation_then_logs_who_did_it(writer: APIClient, gh: GitHubEmulator) -> None:
    entry = _queued(writer, gh)
    PendingWrite.objects.filter(pk=entry.pk).update(status="conflict", remote_sha="a" * 40)
    operator = _staff("operator", "view_pendingwrite", "change_pendingwrite")

    asked = operator.post(reverse(CHANGELIST), {"action": "retry", "_selected_action": [entry.pk]})
    assert "Yes, retry them" in asked.content.decode() and "a" * 40 in asked.content.decode()
    entry.refresh_from_db()
    assert entry.status == "conflict"

    operator.post(reverse(CHANGELIST), {"action": "retry", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert entry.status == "pending"
    assert "retry" in LogEntry.objects.get(user__username="operator").get_change_message()
