"""GET /api/sessions/<id> and /api/sessions/: the read path over HTTP."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sessions_app.models import Session


@pytest.fixture
def api(db: None) -> APIClient:
    user = get_user_model().objects.create_user("reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_it_returns_the_decrypted_session_with_its_layer_and_timing(
    api: APIClient, synced: list[Session]
) -> None:
    session = synced[0]
    response = api.get(f"/api/sessions/{session.id}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["content"], body["checksum"]) == (
        str(session.id),
        session.text,
        session.checksum,
    )
    assert body["project"] == (session.project.name if session.project else None)
    assert response["X-Annoris-Source"] == "database"
    assert response["Server-Timing"].startswith("database;dur=")


def test_it_answers_404_for_an_unknown_session(api: APIClient, synced: list[Session]) -> None:
    response = api.get(f"/api/sessions/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such session."}


def test_it_refuses_anonymous_readers(synced: list[Session]) -> None:
    assert APIClient().get(f"/api/sessions/{synced[0].id}/").status_code in (401, 403)


def test_it_lists_live_sessions_filtered_by_project_and_status(api: APIClient, synced: list[Session]) -> None:
    project = next(s.project for s in synced if s.project)
    response = api.get("/api/sessions/", {"project": project.name.upper()})
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {str(s.id) for s in synced if s.project_id == project.id}
    assert "content" not in response.json()["results"][0]
    status = synced[0].status
    by_status = api.get("/api/sessions/", {"status": status}).json()["results"]
    assert by_status and all(row["status"].lower() == status.lower() for row in by_status)
