"""/api/projects/ (issue #7): CRUD with session count, newest session and revenue gap."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from projects_app.models import Project


@pytest.fixture
def api(db: None) -> APIClient:
    _, secret = tokens.issue(name="writer", scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_it_lists_projects_with_session_count_last_session_and_revenue_gap(
    api: APIClient, synced: list[Any]
) -> None:
    project = next(s.project for s in synced if s.project)
    Project.objects.filter(pk=project.pk).update(target_revenue="1000.00", current_revenue="250.50")
    rows = {row["id"]: row for row in api.get(reverse("project-list")).json()["results"]}
    row = rows[str(project.id)]
    mine = sorted((s for s in synced if s.project_id == project.id), key=lambda s: s.created_at)
    assert row["session_count"] == len(mine)
    assert row["last_session"]["id"] == str(mine[-1].id) and row["last_session"]["title"] == mine[-1].title
    assert row["revenue_gap"] == "749.50"
    assert row["sessions_url"].endswith(f"/api/projects/{project.id}/sessions/")


def test_it_creates_reads_updates_and_deletes_a_project(api: APIClient) -> None:
    created = api.post(reverse("project-list"), {"name": " Side quest ", "priority": 3}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["priority"], body["session_count"], body["last_session"]) == (
        "Side quest", 3, 0, None,
    )  # fmt: skip
    url = reverse("project-detail", args=[body["id"]])
    assert api.get(url).json()["name"] == "Side quest"
    assert api.patch(url, {"status": "paused"}, format="json").json()["status"] == "paused"
    replaced = api.put(url, {"name": "Main quest", "status": "active", "priority": 1}, format="json")
    assert replaced.status_code == 200 and replaced.json()["name"] == "Main quest"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_it_refuses_a_duplicate_name_and_bad_values_with_400(api: APIClient, synced: list[Any]) -> None:
    name = next(s.project.name for s in synced if s.project)
    response = api.post(reverse("project-list"), {"name": name.upper()}, format="json")
    assert response.status_code == 400 and "name" in response.json()["errors"]
    response = api.post(
        reverse("project-list"), {"name": "x", "status": "nope", "target_revenue": "-1"}, format="json"
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"status", "target_revenue"}
    assert api.post(reverse("project-list"), {"name": "a\u0000b"}, format="json").status_code == 400
    lone_surrogate = b'{"name": "a\\ud800b"}'
    response = api.post(reverse("project-list"), lone_surrogate, content_type="application/json")
    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_it_refuses_to_delete_a_project_that_sessions_belong_to(api: APIClient, synced: list[Any]) -> None:
    project = next(s.project for s in synced if s.project)
    response = api.delete(reverse("project-detail", args=[project.id]))
    assert response.status_code == 409 and response.json()["code"] == "project_has_sessions"
    assert Project.objects.filter(pk=project.pk).exists()


def test_it_answers_404_for_unknown_projects(api: APIClient) -> None:
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(reverse("project-detail", args=[uuid.uuid4()]))
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_rename_reaches_the_sessions_list(api: APIClient, synced: list[Any]) -> None:
    project = next(s.project for s in synced if s.project)
    api.patch(reverse("project-detail", args=[project.id]), {"name": "Renamed"}, format="json")
    rows = api.get(reverse("project-sessions", args=[project.id])).json()["results"]
    assert rows and {row["project"] for row in rows} == {"Renamed"}


@pytest.mark.parametrize("reference", ["Lingua Drift", "lingua drift", "lingua-drift", "LINGUA_DRIFT", "id"])
def test_every_project_url_takes_an_id_a_name_or_a_slug(
    api: APIClient, synced: list[Any], reference: str
) -> None:
    project = Project.objects.get(name="Lingua Drift")
    reference = str(project.id) if reference == "id" else reference
    detail = api.get(f"/api/projects/{reference}/")
    assert detail.status_code == 200 and detail.json()["id"] == str(project.id)
    sessions = api.get(f"/api/projects/{reference}/sessions/")
    assert sessions.status_code == 200
    assert {row["project"] for row in sessions.json()["results"]} == {"Lingua Drift"}
    steps = api.get(f"/api/projects/{reference}/next-steps/")
    assert steps.status_code == 200 and steps.json()["project_id"] == str(project.id)
    listed = api.get("/api/sessions/", {"project": reference}).json()["results"]
    assert len(listed) == project.sessions.count() and listed


def test_a_project_url_with_a_typo_says_did_you_mean(api: APIClient, synced: list[Any]) -> None:
    for url in ("/api/projects/Lingua Drfit/", "/api/projects/Lingua Drfit/sessions/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
        assert "did you mean 'Lingua Drift'" in response.json()["detail"]


def test_a_project_is_changed_by_its_name(api: APIClient, synced: list[Any]) -> None:
    response = api.patch("/api/projects/pricewise/", {"priority": 7}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Pricewise"
    assert Project.objects.get(name="Pricewise").priority == 7
