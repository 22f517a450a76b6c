"""Tokens while PostgreSQL is down (issue #7): a token seen recently, by any process, still reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.tests.faults import RedisServer, TcpProxy
from sync_app.engine import run_sync

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="cuts PostgreSQL at a TCP proxy; set DATABASE_URL to a PostgreSQL database",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def postgres() -> Iterator[TcpProxy]:
    """Django's connection rerouted through a proxy the test can cut; restored afterwards."""
    db = connection.settings_dict
    original = (db["HOST"], db["PORT"])
    proxy = TcpProxy(original[0] or "127.0.0.1", int(original[1] or 5432)).start()
    connection.close()
    db["HOST"], db["PORT"] = "127.0.0.1", str(proxy.port)
    yield proxy
    proxy.stop()
    connection.close()
    db["HOST"], db["PORT"] = original


@pytest.fixture
def shared_redis(settings: Any) -> Iterator[RedisServer]:
    server = RedisServer().start()
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    settings.ANNORIS_SESSION_CACHE = settings.ANNORIS_TOKEN_CACHE = "shared"
    settings.ANNORIS_BREAKER_COOLDOWN = 0.5
    yield server
    server.kill()


def test_a_token_another_process_verified_reads_while_postgres_is_cut_and_a_stranger_gets_503(
    postgres: TcpProxy, shared_redis: RedisServer, local_source: LocalSource
) -> None:
    run_sync(source=local_source)
    session = Session.objects.order_by("github_path").first()
    assert session is not None
    url = reverse("session-detail", args=[session.id])
    _, seen = tokens.issue(name="seen")
    _, stranger = tokens.issue(name="never used")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {seen}")
    assert reader.get(url).status_code == 200  # verified (and shared, hashed) while the database is up

    tokens.memory.clear()  # this process now knows no token, as another web process would
    postgres.cut()
    response = reader.get(url)
    assert response.status_code == 200 and response["X-Annoris-Source"] == "cache"
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {stranger}")
    refused = other.get(url)
    assert refused.status_code == 503 and refused.json()["code"] == "authentication_unavailable"
    assert "Retry-After" in refused
