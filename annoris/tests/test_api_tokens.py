"""API tokens (issue #7): hashed, scoped, bounded revocation, command and admin, throttling."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annoris.api import throttling, tokens
from annoris.models import ApiToken

pytestmark = pytest.mark.django_db

PROJECTS = "/api/projects/"


def client_for(secret: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


class FakeClock:
    """An injectable monotonic clock: the test moves time, nothing sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_stores_only_the_sha256_of_a_token() -> None:
    row, secret = tokens.issue(name="laptop", scope="write")
    assert secret.startswith("ann_") and len(secret) > 40
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM annoris_apitoken")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in stored and secret[10:] not in stored


def test_it_accepts_bearer_and_token_keywords_and_refuses_wrong_tokens_with_401() -> None:
    _, secret = tokens.issue(name="reader")
    assert client_for(secret).get(PROJECTS).status_code == 200
    assert client_for(secret, "Token").get(PROJECTS).status_code == 200
    for header in (f"Bearer {secret}x", "Bearer", f"Bearer {secret} extra"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(PROJECTS)
        assert response.status_code == 401, header
        assert set(response.json()) == {"detail", "code", "errors"}


def test_a_read_token_cannot_write_but_a_write_token_can() -> None:
    _, read = tokens.issue(name="reader", scope="read")
    _, write = tokens.issue(name="writer", scope="write")
    refused = client_for(read).post(PROJECTS, {"name": "Nope"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert client_for(write).post(PROJECTS, {"name": "Yes"}, format="json").status_code == 201
    assert client_for(read).post("/api/sync/").status_code == 403


def test_it_refuses_expired_tokens() -> None:
    _, secret = tokens.issue(name="old", expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(secret).get(PROJECTS).status_code == 401


def test_a_revoked_token_stops_working_within_the_recheck_interval_everywhere(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(tokens, "memory", tokens.TokenMemory(clock=clock))
    settings.ANNORIS_TOKEN_RECHECK = 30
    row, secret = tokens.issue(name="leaked")
    client = client_for(secret)
    assert client.get(PROJECTS).status_code == 200
    # Revoked by another process (a plain UPDATE: this process's memory is not told)...
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    clock.now += 29
    assert client.get(PROJECTS).status_code == 200  # ...still remembered inside the bound
    clock.now += 2
    assert client.get(PROJECTS).status_code == 401  # ...and refused once it has passed


def test_revoking_in_this_process_takes_effect_at_once() -> None:
    row, secret = tokens.issue(name="leaked")
    client = client_for(secret)
    assert client.get(PROJECTS).status_code == 200
    tokens.revoke(row)
    assert client.get(PROJECTS).status_code == 401


def test_a_seen_token_is_verified_without_a_query_and_last_use_is_recorded_at_recheck(
    django_assert_num_queries: Any,
) -> None:
    row, secret = tokens.issue(name="busy")
    assert tokens.verify(secret).scope == "read"
    with django_assert_num_queries(0):
        assert tokens.verify(secret).token_id == row.pk
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_it_throttles_a_token_with_429_and_retry_after(settings: Any) -> None:
    settings.ANNORIS_API_THROTTLE_RATE = "3/min"
    _, secret = tokens.issue(name="greedy")
    _, other = tokens.issue(name="calm")
    client = client_for(secret)
    assert [client.get(PROJECTS).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(PROJECTS)
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 20
    assert client_for(other).get(PROJECTS).status_code == 200  # per token


def test_the_throttle_refills_over_time() -> None:
    clock = FakeClock()
    buckets = throttling.Buckets(clock=clock)
    assert [buckets.take("k", 2, 60) for _ in range(3)][:2] == [0.0, 0.0]
    assert buckets.take("k", 2, 60) == pytest.approx(30.0)
    clock.now += 30
    assert buckets.take("k", 2, 60) == 0.0


def test_a_malformed_throttle_rate_is_a_configuration_error() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        throttling.parse_rate("lots")


def test_browser_sessions_read_and_staff_sessions_write() -> None:
    user = get_user_model().objects.create_user("person", password="pw")
    browser = Client()
    browser.force_login(user)
    assert browser.get(PROJECTS).status_code == 200
    page = browser.get(PROJECTS, HTTP_ACCEPT="text/html")  # the browsable API
    assert page.status_code == 200 and b"<html" in page.content
    assert browser.post(PROJECTS, {"name": "X"}, content_type="application/json").status_code == 403
    user.is_staff = True
    user.save()
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(user)
    refused = staff.post(PROJECTS, {"name": "X"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]  # session writes need CSRF
    assert Client().get(PROJECTS).status_code == 401


def test_the_command_creates_lists_and_revokes_showing_the_secret_once() -> None:
    out = StringIO()
    call_command("api_token", "create", "assistant", "--scope", "write", "--expires-in-days", "7", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    assert client_for(secret).post(PROJECTS, {"name": "Via CLI"}, format="json").status_code == 201
    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert "assistant" in listing.getvalue() and secret not in listing.getvalue()
    call_command("api_token", "revoke", "assistant", stdout=StringIO())
    assert client_for(secret).get(PROJECTS).status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token", "revoke", "nobody", stdout=StringIO())


def test_the_admin_creates_a_token_showing_its_secret_once_and_revokes_it(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:annoris_apitoken_add"), {"name": "from admin", "scope": "read"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    secret = next(word for m in shown for word in m.split() if word.startswith("ann_"))
    assert client_for(secret).get(PROJECTS).status_code == 200
    row = ApiToken.objects.get(name="from admin")
    page = admin_client.get(reverse("admin:annoris_apitoken_change", args=[row.pk]))
    assert secret not in page.content.decode()
    admin_client.post(
        reverse("admin:annoris_apitoken_changelist"), {"action": "revoke", "_selected_action": [row.pk]}
    )
    assert client_for(secret).get(PROJECTS).status_code == 401
