"""The API's cached answers (``readpath.rendered``, issue #18's seam for throughput).

A cache hit of ``GET /api/sessions/{id}/`` is served from the session's rendered, encrypted
answer. These tests hold it to what the full read path answers, byte for byte, and to the
freshness of the cached row it is written and dropped with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import BaseCache
from django.urls import reverse
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.readpath import rendered
from sync_app.engine import run_sync

PATH = "annoris/2025-10-20-redis-strategy.md"
SAME_HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "X-Annoris-Source")


@pytest.fixture
def api(db: None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='reader', scope='read')[1]}")
    return client


@pytest.fixture
def cached(
    session_cache: BaseCache, local_source: LocalSource, django_capture_on_commit_callbacks: Any
) -> Session:
    """The samples synced with the cache on (the refresh after commit writes rows and answers)."""
    with django_capture_on_commit_callbacks(execute=True):
        run_sync(source=local_source)
    return Session.objects.get(github_path=PATH)


def _sync(local_source: LocalSource, capture: Any) -> None:
    with capture(execute=True):
        run_sync(source=local_source)


def test_a_cached_answer_is_byte_for_byte_what_the_full_read_path_answers(
    api: APIClient, cached: Session, session_cache: BaseCache
) -> None:
    Session.objects.filter(pk=cached.pk).update(title='Quotes "url":"" and\u2028separators \U0001f600')
    session_cache.delete_many([rendered.key(cached.pk), f"annoris:v2:session:{cached.pk}"])
    url = reverse("session-detail", args=[cached.id])
    first = api.get(url)  # the database: the row and its answer are written back
    assert first.status_code == 200 and first["X-Annoris-Source"] == "database"
    from_answer = api.get(url)
    assert session_cache.get(rendered.key(cached.pk)) not in (None, rendered.NO_ANSWER)
    session_cache.delete(rendered.key(cached.pk))
    from_row = api.get(url)  # no answer: the cached row through the serializer
    assert from_answer["X-Annoris-Source"] == from_row["X-Annoris-Source"] == "cache"
    for header in SAME_HEADERS:
        assert from_answer[header] == from_row[header], header
    assert from_answer.content == from_row.content
    assert first.content == from_row.content
    body = from_answer.json()
    assert body["title"] == 'Quotes "url":"" and\u2028separators \U0001f600'
    assert body["url"] == f"http://testserver{url}" and body["content"] == cached.text
    assert b"\\u2028" in from_answer.content  # escaped as DRF does: JSON that is also JavaScript


def test_the_answer_names_the_host_and_etag_of_each_request(
    api: APIClient, cached: Session, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["a.example", "b.example", "testserver"]
    url = reverse("session-detail", args=[cached.id])
    for host in ("a.example", "b.example"):
        response = api.get(url, HTTP_HOST=host, secure=True)
        assert response["X-Annoris-Source"] == "cache"
        assert response.json()["url"] == f"https://{host}{url}"
    etag = api.get(url)["ETag"]
    assert etag == f'"{cached.github_sha}"'
    not_modified = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""


def test_markdown_and_indented_json_are_answered_by_the_full_read_path(
    api: APIClient, cached: Session
) -> None:
    url = reverse("session-detail", args=[cached.id])
    assert api.get(url, {"format": "md"}).content.decode() == cached.text
    indented = api.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "id"') and indented.json()["content"] == cached.text


def test_a_changed_session_is_read_new_and_a_deleted_one_is_gone(
    api: APIClient, cached: Session, local_source: LocalSource, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("session-detail", args=[cached.id])
    assert api.get(url)["X-Annoris-Source"] == "cache"
    file: Path = local_source.root / PATH
    file.write_bytes(file.read_bytes() + b"\nA line added after the answer was cached.\n")
    _sync(local_source, django_capture_on_commit_callbacks)
    response = api.get(url)
    assert response["X-Annoris-Source"] == "cache"  # the refreshed answer, not the old one
    assert response.json()["content"].endswith("A line added after the answer was cached.\n")
    file.unlink()
    _sync(local_source, django_capture_on_commit_callbacks)
    assert api.get(url).status_code == 404


def test_redis_holds_the_answer_encrypted_and_an_answer_under_another_key_is_a_miss(
    api: APIClient, cached: Session, session_cache: BaseCache, settings: Any, new_keyring: Any
) -> None:
    token = session_cache.get(rendered.key(cached.pk))
    assert token.startswith(b"enc:v1:") and cached.title.encode() not in token
    original, settings.ANNORIS_KEYRING = settings.ANNORIS_KEYRING, new_keyring
    under_new = rendered.encode(Session.objects.select_related("project").get(pk=cached.pk))
    settings.ANNORIS_KEYRING = original  # the new key is not configured here
    assert under_new is not None and under_new.startswith(b"enc:v1:k-new:")
    assert rendered.decode(under_new) is None
    session_cache.set(rendered.key(cached.pk), under_new)
    response = api.get(reverse("session-detail", args=[cached.id]))
    assert response.status_code == 200 and response.json()["content"] == cached.text
