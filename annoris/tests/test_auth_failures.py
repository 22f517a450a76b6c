"""Failed authentication is throttled per client IP, before any database query
(issue #20, smaller findings)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from annoris.api import tokens

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _five_per_minute(settings: SettingsWrapper) -> None:
    settings.ANNORIS_AUTH_FAILURE_RATE = "5/min"


def _get(token: str, ip: str = "203.0.113.7") -> tuple[int, str | None, int]:
    """(status, Retry-After, queries on the token table) of one request."""
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/sessions/")
    token_queries = sum(1 for q in queries.captured_queries if "apitoken" in q["sql"].lower())
    return response.status_code, response.get("Retry-After"), token_queries


def test_bad_tokens_from_one_ip_are_throttled_before_the_database_is_asked() -> None:
    answers = [_get(f"guess-{i}") for i in range(5)]
    assert [status for status, _, _ in answers] == [401] * 5

    status, retry_after, queries = _get("guess-6")

    assert status == 429 and retry_after is not None and int(retry_after) >= 1
    assert queries == 0


def test_another_ip_and_a_good_token_elsewhere_are_not_affected() -> None:
    for i in range(6):
        _get(f"guess-{i}")
    assert _get("guess-x", ip="198.51.100.9")[0] == 401
    good = tokens.issue(name="reader")[1]
    assert _get(good, ip="198.51.100.9")[0] == 200
