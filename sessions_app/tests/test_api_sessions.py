"""GET /api/sessions/ and /api/sessions/{id}/ (issue #7): filters, cursor, ETag, markdown, speed rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annoris.api import tokens
from projects_app.models import Project
from sessions_app.models import Session
from sessions_app.tests.faults import RedisServer


@pytest.fixture
def api(db: None) -> APIClient:
    _, secret = tokens.issue(name="reader", scope="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_it_lists_sessions_without_content_with_the_documented_fields(
    api: APIClient, synced: list[Session]
) -> None:
    response = api.get(reverse("session-list"))
    assert _ids(response) == {str(s.id) for s in synced}
    row = next(r for r in response.json()["results"] if r["id"] == str(synced[0].id))
    assert set(row) == {
        "id", "title", "project", "status", "state", "priority", "next", "created_at", "path", "sha",
        "size", "last_synced", "url",
    }  # fmt: skip
    assert row["size"] == len(synced[0].text.encode()) and row["sha"] == synced[0].github_sha
    assert row["url"] == f"http://testserver/api/sessions/{synced[0].id}/"


def test_it_filters_by_project_id_or_name_state_status_priority_dates_and_words(
    api: APIClient, synced: list[Session]
) -> None:
    url = reverse("session-list")
    project = next(s.project for s in synced if s.project)
    mine = {str(s.id) for s in synced if s.project_id == project.id}
    assert _ids(api.get(url, {"project": project.name.upper()})) == mine
    assert _ids(api.get(url, {"project": str(project.id)})) == mine
    state = synced[0].state
    assert _ids(api.get(url, {"state": state})) == {str(s.id) for s in synced if s.state == state}
    status = synced[0].status
    assert _ids(api.get(url, {"status": status.upper()})) == {
        str(s.id) for s in synced if s.status.lower() == status.lower()
    }
    priority = next(s.priority for s in synced if s.priority)
    assert _ids(api.get(url, {"priority": priority})) == {
        str(s.id) for s in synced if s.priority.lower() == priority.lower()
    }
    middle = sorted(s.created_at for s in synced)[4]
    assert _ids(api.get(url, {"created_after": middle.isoformat()})) == {
        str(s.id) for s in synced if s.created_at >= middle
    }
    assert _ids(api.get(url, {"created_before": middle.isoformat()})) == {
        str(s.id) for s in synced if s.created_at < middle
    }
    day = middle.date().isoformat()  # a plain date means midnight UTC
    assert _ids(api.get(url, {"created_after": day})) == {
        str(s.id) for s in synced if s.created_at.date() >= middle.date()
    }
    word = synced[0].github_path.split("/")[0]
    assert _ids(api.get(url, {"q": word})) == {
        str(s.id) for s in synced if word in s.github_path.lower() or word in s.title.lower()
    }


def test_it_hides_soft_deleted_sessions_unless_asked(api: APIClient, synced: list[Session]) -> None:
    gone = synced[0]
    Session.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    assert str(gone.id) not in _ids(api.get(reverse("session-list")))
    assert str(gone.id) in _ids(api.get(reverse("session-list"), {"deleted": "true"}))
    assert api.get(reverse("session-detail", args=[gone.id])).status_code == 404


def test_it_refuses_malformed_filters_with_400_naming_them(api: APIClient, synced: list[Session]) -> None:
    response = api.get(reverse("session-list"), {"state": "bogus", "created_after": "yesterday"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"state", "created_after"}


def test_it_answers_a_nul_byte_in_a_query_parameter_with_400_not_unavailable(
    api: APIClient, synced: list[Session]
) -> None:
    response = api.get(reverse("session-list") + "?project=a%00b&q=x")
    assert response.status_code == 400
    assert response.json()["errors"] == {"project": ["Contains a NUL byte or an invalid character."]}


def test_it_orders_and_pages_with_a_cursor_that_stays_stable_while_sessions_are_added(
    api: APIClient, synced: list[Session]
) -> None:
    url = reverse("session-list")
    titles = [r["title"] for r in api.get(url, {"ordering": "title", "page_size": 50}).json()["results"]]
    assert titles == sorted(titles)
    first = api.get(url, {"page_size": 4}).json()
    seen = [r["id"] for r in first["results"]]
    newest = Session.objects.order_by("-created_at").first()
    assert newest is not None
    _add_session(newest, created_at=newest.created_at + timedelta(days=1))  # lands before the cursor
    page = api.get(first["next"]).json()
    while True:
        seen += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        page = api.get(page["next"]).json()
    assert sorted(seen) == sorted(str(s.id) for s in synced)  # nothing skipped, nothing twice


def _add_session(like: Session, *, created_at: Any) -> Session:
    row = Session.objects.get(pk=like.pk)
    row.pk, row.github_path, row.created_at = uuid.uuid4(), f"new/{uuid.uuid4()}.md", created_at
    row.save(force_insert=True)
    return row


def test_it_reads_one_session_with_layer_timing_and_etag(api: APIClient, synced: list[Session]) -> None:
    session = synced[0]
    response = api.get(reverse("session-detail", args=[session.id]))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["content"], body["checksum"]) == (
        str(session.id),
        session.text,
        session.checksum,
    )
    assert response["ETag"] == f'"{session.github_sha}"'
    assert response["X-Annoris-Source"] == "database"
    assert response["Server-Timing"].startswith("database;dur=")


def test_it_answers_304_when_if_none_match_carries_the_etag(api: APIClient, synced: list[Session]) -> None:
    url = reverse("session-detail", args=[synced[0].id])
    etag = api.get(url)["ETag"]
    response = api.get(url, HTTP_IF_NONE_MATCH=f'W/"0000", {etag}')
    assert response.status_code == 304 and response.content == b"" and response["ETag"] == etag
    assert response["Vary"] == "Accept"
    assert api.get(url, HTTP_IF_NONE_MATCH='"0000"').status_code == 200


def test_it_serves_the_markdown_document_for_format_md_or_accept_markdown(
    api: APIClient, synced: list[Session]
) -> None:
    session = synced[0]
    url = reverse("session-detail", args=[session.id])
    for response in (api.get(url, {"format": "md"}), api.get(url, HTTP_ACCEPT="text/markdown")):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert response["Vary"] == "Accept"  # a shared cache must not serve it for JSON
        assert response.content.decode() == session.text


def test_it_answers_json_404s_for_unknown_ids_and_the_old_slashless_url(
    api: APIClient, synced: list[Session]
) -> None:
    for path, fragment in [
        (reverse("session-detail", args=[uuid.uuid4()]), "No such session."),
        (f"/api/sessions/{synced[0].id}", "end with a slash"),
        ("/api/sessions/not-an-id/", "Not found"),
        (reverse("session-detail", args=[uuid.uuid4()]) + "?format=md", "No such session."),
    ]:
        response = api.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert fragment in response.json()["detail"] and response.json()["code"] == "not_found"


def test_it_lists_a_projects_sessions_and_404s_for_an_unknown_project(
    api: APIClient, synced: list[Session]
) -> None:
    project = next(s.project for s in synced if s.project)
    response = api.get(reverse("project-sessions", args=[project.id]))
    assert _ids(response) == {str(s.id) for s in synced if s.project_id == project.id}
    assert api.get(reverse("project-sessions", args=[uuid.uuid4()])).status_code == 404


def test_it_refuses_anonymous_readers_with_a_json_401(synced: list[Session]) -> None:
    for url in (reverse("session-list"), reverse("session-detail", args=[synced[0].id])):
        response = APIClient().get(url)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def private_redis(settings: Any) -> Iterator[RedisServer]:
    """A redis-server of this test's own as the cache layer, so its command counts are ours alone."""
    server = RedisServer().start()
    settings.CACHES = {
        **settings.CACHES,
        "private": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": server.url},
    }
    settings.ANNORIS_SESSION_CACHE = settings.ANNORIS_TOKEN_CACHE = "private"
    yield server
    server.kill()


def _commands(server: RedisServer) -> int:
    import redis

    # Counted by the server; this probe's own INFO and connection handshake are left out.
    stats = redis.Redis(port=server.port).info("commandstats")
    probe = ("cmdstat_info", "cmdstat_hello", "cmdstat_client")
    return sum(v["calls"] for k, v in stats.items() if not k.startswith(probe))


def test_it_reads_a_cached_session_with_a_seen_token_in_no_query_and_one_redis_round_trip(
    api: APIClient, synced: list[Session], private_redis: RedisServer, django_assert_num_queries: Any
) -> None:
    url = reverse("session-detail", args=[synced[0].id])
    assert api.get(url)["X-Annoris-Source"] == "database"  # first read: token checked, row cached
    before = _commands(private_redis)
    with django_assert_num_queries(0):
        response = api.get(url)
    assert response.status_code == 200 and response["X-Annoris-Source"] == "cache"
    assert _commands(private_redis) - before == 1


def test_it_keeps_project_names_current_in_the_list(api: APIClient, synced: list[Session]) -> None:
    project = Project.objects.filter(sessions__isnull=False).first()
    assert project is not None
    Project.objects.filter(pk=project.pk).update(name="Renamed")
    rows = api.get(reverse("session-list"), {"project": "renamed"}).json()["results"]
    assert rows and {r["project"] for r in rows} == {"Renamed"}
