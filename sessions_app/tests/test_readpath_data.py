"""Bad data fails one read with a 4xx and a message; it never looks like an outage (issue #10).

And what comes out of the cache equals what comes out of the database, field by field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.encryption import encrypt_text
from annoris.sources.base import session_id_for
from annoris.sources.local import LocalSource
from projects_app.models import Project
from sessions_app import readpath
from sessions_app.models import Session
from sessions_app.readpath import cache, database, read

postgres_only = pytest.mark.postgres  # PostgreSQL refuses what SQLite stores (NUL bytes, infinity)


@pytest.fixture
def api(db: None) -> APIClient:
    _, token = tokens.issue(name="reader")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def read_source(settings: Any, local_source: LocalSource) -> LocalSource:
    """The read path's own source is the test's sample folder, under the same repository name."""
    settings.SESSIONS_SOURCE, settings.GITHUB_REPO = str(local_source.root), local_source.repository
    return local_source


@postgres_only
def test_a_nul_byte_in_a_file_read_by_its_derived_id_fails_that_read_and_opens_no_breaker(
    api: APIClient, synced: list[Session], read_source: LocalSource
) -> None:
    path = "annoris/2025-11-01-nul.md"  # not synced yet: read from the source, written back
    (read_source.root / path).write_bytes(b'---\ntitle: "Null\\0title"\n---\n# Nul\n\nBody.\n')
    response = api.get(reverse("session-detail", args=[session_id_for(read_source.repository, path)]))
    assert response.status_code == 422, response.content
    assert path in response.json()["detail"] and "NUL" in response.json()["detail"]
    assert readpath.breakers()["database"].state == "closed"
    assert api.get(reverse("session-detail", args=[uuid.uuid4()])).status_code == 404  # not 503
    assert api.get(reverse("session-detail", args=[synced[0].id])).status_code == 200
    health = api.get("/health")
    assert health.status_code == 200 and health.json()["database"]["status"] == "connected"
    assert readpath.pending_counts()["write_backs"] == 0  # nothing queued "for when it is back"


@postgres_only
def test_a_timestamp_the_driver_cannot_load_fails_that_read_and_opens_no_breaker(
    api: APIClient, synced: list[Session]
) -> None:
    session = synced[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sessions_app_session SET created_at = 'infinity' WHERE id = %s", [session.id])
    response = api.get(reverse("session-detail", args=[session.id]))
    assert response.status_code == 422, response.content
    assert str(session.id) in response.json()["detail"]
    assert readpath.breakers()["database"].state == "closed"
    assert api.get(reverse("session-detail", args=[synced[1].id])).status_code == 200


@pytest.mark.parametrize("edge", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)])
def test_a_date_at_the_edge_of_the_calendar_answers_422_not_500(
    api: APIClient, synced: list[Session], edge: datetime
) -> None:
    session = synced[0]
    Session.objects.filter(pk=session.pk).update(created_at=edge)
    zone = "America/New_York" if edge.year == 1 else "Asia/Tokyo"  # local time leaves the calendar
    with override_settings(TIME_ZONE=zone):
        response = api.get(reverse("session-detail", args=[session.id]))
    assert response.status_code == 422, response.content
    assert "created_at" in response.json()["detail"] and zone in response.json()["detail"]
    assert api.get(reverse("session-detail", args=[session.id])).status_code == 200  # fine in UTC


# -- the cache returns the database's row, field by field ------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_moment = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond - d.microsecond % 1))
_money = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@given(
    project=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "name": _text.filter(str.strip),
                "status": st.sampled_from(Project.Status.values),
                "priority": st.integers(-(2**31), 2**31 - 1),
                "target_revenue": _money,
                "current_revenue": _money,
            }
        ),
    ),
    title=_text,
    status=_text,
    priority=_text,
    created_at=_moment,
    deleted=st.one_of(st.none(), _moment),
    text=_text,
)
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_cached_row_equals_the_database_row_field_by_field(
    session_cache: Any, db: None, project: dict | None, title: str, status: str, priority: str,
    created_at: datetime, deleted: datetime | None, text: str,
) -> None:  # fmt: skip
    owner = Project.objects.create(**project) if project else None
    sid = uuid.uuid4()
    Session.objects.create(
        id=sid, created_at=created_at, project=owner, title=title, status=status, priority=priority,
        content=encrypt_text(text), github_path=f"p/{sid}.md", github_sha="a" * 40, checksum="c" * 32,
        last_synced=created_at + timedelta(seconds=1), deleted_at=deleted,
    )  # fmt: skip
    from_database = database.session_by("pk", sid)
    assert from_database is not None
    assert cache.set_rows([from_database])
    from_cache = cache.get_row(sid)
    assert from_cache is not None
    assert _fields(from_cache) == _fields(from_database) == _fields(Session.objects.get(pk=sid))
    if owner is None:
        assert from_cache.project is None
    else:
        assert (
            _fields(from_cache.project)
            == _fields(from_database.project)
            == _fields(Project.objects.get(pk=owner.pk))
        )
    if owner is not None:
        owner.delete()
    Session.objects.filter(pk=sid).delete()


def test_a_row_cached_from_the_source_while_the_database_was_down_is_replaced_by_the_database_row(
    synced: list[Session],
    session_cache: Any,
    read_source: LocalSource,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from sessions_app.tests.faults import Clock

    clock = Clock()
    readpath.reset(clock=clock)
    session = Session.objects.select_related("project").exclude(project=None).first()
    assert session is not None
    Project.objects.filter(pk=session.project_id).update(status="paused", priority=7, target_revenue=100)
    readpath.breakers()["database"].record_failure("database cut")  # as after a refused connection
    result = read.fetch(session.id)  # from the source, cached with what the file knows
    assert result.layer == "local"
    clock.advance(settings.ANNORIS_BREAKER_COOLDOWN)  # the database answers the next probe
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        read.fetch(session.id)  # applies the queued write-back: the database already has it
    cached = read.fetch(session.id)
    assert cached.layer == "cache"
    assert _fields(cached.session.project) == _fields(Project.objects.get(pk=session.project_id))
