"""GET /api/activity/: titles, dates, states and open steps of the newest sessions (issue #15)."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.sources.local import LocalSource
from sync_app.engine import run_sync


def _client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='reader', scope=tokens.READ)[1]}")
    return client


def test_it_lists_the_newest_sessions_of_a_project_without_their_text(db: None, sample_dir: Path) -> None:
    run_sync(source=LocalSource(sample_dir, repository="local"))
    response = _client().get(reverse("activity"), {"project": "LINGUA-drift", "limit": 1})

    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["title"] for s in body["sessions"]] == ["Annotation schema v1 — code-switching points"]
    assert body["more_sessions"] == 1
    assert body["sessions"][0]["url"].startswith("http://testserver/api/sessions/")
    assert all(set(step) == {"text", "session_id", "url"} for step in body["open_steps"])
    assert "content" not in body["sessions"][0] and "markdown" not in response.content.decode()


def test_an_unknown_project_or_a_bad_date_is_a_plain_error(db: None) -> None:
    client = _client()
    missing = client.get(reverse("activity"), {"project": "nope"})
    bad = client.get(reverse("activity"), {"since": "yesterday"})
    assert missing.status_code == 404 and missing.json()["detail"].startswith("no project 'nope'")
    assert bad.status_code == 400 and "since" in bad.json()["errors"]
