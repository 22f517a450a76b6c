"""/health in public says each part's status only; the counts need staff or an API token
(issue #20, smaller findings)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from annoris.api import tokens
from sessions_app import readpath

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _closed_breakers() -> None:
    readpath.reset()


def test_the_public_report_is_status_only() -> None:
    report = Client().get("/health").json()
    assert report["status"] == "ok"
    assert all(part["status"] for name, part in report.items() if name != "status"), report
    parts = {name: set(part) for name, part in report.items() if name != "status"}
    assert {"database", "cache", "source", "queue", "last_sync", "drift", "outbox"} <= set(parts)
    assert all(keys == {"status"} for keys in parts.values()), parts


def test_a_bad_token_or_a_user_who_is_not_staff_sees_the_public_report() -> None:
    assert set(Client().get("/health", HTTP_AUTHORIZATION="Bearer nope").json()["queue"]) == {"status"}
    user = get_user_model().objects.create_user("reader", password="pw-123456789")
    client = Client()
    client.force_login(user)
    assert set(client.get("/health").json()["outbox"]) == {"status"}


def test_a_token_or_a_staff_member_sees_the_counts() -> None:
    token = tokens.issue(name="ops", scope=tokens.READ)[1]
    with_token = Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert with_token["queue"]["queued"] == 0 and with_token["outbox"]["pending"] == 0
    staff = get_user_model().objects.create_user("ops", password="pw-123456789", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/health").json()["outbox"] == {"status": "ok", "pending": 0, "conflict": 0}
