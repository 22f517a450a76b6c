"""/health: each layer of the read path, the queue and the last sync."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from annoris.api import tokens
from sessions_app import readpath


@pytest.fixture(autouse=True)
def _closed_breakers() -> None:
    readpath.reset()


def test_it_reports_every_layer_connected_or_disabled(db: None) -> None:
    token = tokens.issue(name="ops")[1]  # the counts need a token or staff (#20)
    response = Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    report = response.json()
    assert report["database"]["status"] == "connected"
    assert report["cache"]["status"] == ("connected" if settings.ANNORIS_SESSION_CACHE else "disabled")
    assert report["source"] == {"status": "connected", "kind": "local"}
    assert report["queue"]["status"] == "ok" and report["queue"]["queued"] == 0
    assert report["status"] == "ok"
