"""The read path's precompiled row query and the cached-row codec agree with the ORM.

Run on SQLite (char(32) ids, text datetimes through converters) and on PostgreSQL + Redis.
"""

from __future__ import annotations

import os
import pickle
import uuid
from typing import Any

import pytest
import redis
from django.db import connection
from django.db.models import Model

from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.readpath import cache, database, state
from sessions_app.serializers import detail_representation
from sync_app.engine import run_sync


def _fields(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_row_query_builds_what_the_orm_builds(synced: list[Session]) -> None:
    for expected in Session.objects.select_related("project"):
        for column, value in (
            ("pk", expected.pk),
            ("pk", str(expected.pk)),
            ("github_path", expected.github_path),
        ):
            row = database.session_by(column, value)
            assert row is not None and _fields(row) == _fields(expected)
            assert (row._state.adding, row._state.db) == (False, "default")
            assert Session.project.is_cached(row)  # no lazy query, with or without a project
            if expected.project is None:
                assert row.project is None
            else:
                assert _fields(row.project) == _fields(expected.project)


def test_the_row_query_handles_a_session_without_a_project_and_a_missing_one(synced: list[Session]) -> None:
    session = synced[0]
    Session.objects.filter(pk=session.pk).update(project=None)
    row = database.session_by("pk", session.pk)
    assert row is not None and row.project_id is None and row.project is None
    Session.objects.filter(pk=session.pk).delete()
    assert database.session_by("pk", session.pk) is None
    assert database.session_by("github_path", session.github_path) is None


def test_a_cached_row_reads_back_whole(synced: list[Session], session_cache: Any) -> None:
    expected = Session.objects.select_related("project").exclude(project=None).first()
    assert expected is not None
    cache.set_rows([expected])
    row = cache.get_row(expected.id)
    assert row is not None and _fields(row) == _fields(expected)
    assert Session.project.is_cached(row) and row.project.name == expected.project.name
    assert row.project.pk == expected.project_id


def test_a_cached_value_of_another_shape_or_not_a_pickle_is_a_miss(
    synced: list[Session], session_cache: Any
) -> None:
    sid = synced[0].id
    data = cache.row_data(synced[0])
    other_layout = ("0" * 8, *data[1:])
    for value in ((*data, 1), data[:-1], other_layout, list(data), dict(enumerate(data)), "text", 7):
        session_cache.set(cache.row_key(sid), value)
        assert cache.get_row(sid) is None
    if hasattr(session_cache, "client"):  # django-redis: bytes another program wrote under the key
        key = session_cache.client.make_key(cache.row_key(sid))
        session_cache.client.get_client().set(key, b"\x80not a pickle")
        assert cache.get_row(sid) is None
    assert state.STATE.cache_breaker.state == "closed"  # a bad value is a miss, not a cache failure


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the decoded-value memo is Redis's fast path")
def test_a_value_another_process_writes_is_read_at_once_and_the_memo_stays_bounded(
    synced: list[Session], session_cache: Any, settings: Any
) -> None:
    """A hit gives back the row decoded before only while Redis sends the same bytes."""
    session = Session.objects.select_related("project").get(pk=synced[0].pk)
    cache.set_rows([session])
    first = cache.get_row(session.id)
    assert first is not None and first.title == session.title
    assert cache.get_row(session.id) is first  # the same bytes: the same (read-only) row
    assert detail_representation(first)["title"] == session.title
    assert detail_representation(cache.get_row(session.id))["content"] == session.text

    changed = Session.objects.select_related("project").get(pk=session.pk)
    changed.title, changed.github_sha = "Renamed elsewhere", "f" * 40
    other = redis.Redis.from_url(os.environ["REDIS_URL"])  # another process's client
    other.set(session_cache.make_key(cache.row_key(session.id)), pickle.dumps(cache.row_data(changed)))
    other.close()
    now = cache.get_row(session.id)
    assert now is not None and (now.title, now.github_sha) == ("Renamed elsewhere", "f" * 40)
    shown = detail_representation(now)  # what the API renders for the new value
    assert (shown["title"], shown["sha"], shown["content"]) == ("Renamed elsewhere", "f" * 40, session.text)

    limit = 2 * max(len(pickle.dumps(cache.row_data(s))) for s in synced)
    settings.ANNORIS_CACHE_DECODED_BYTES = limit
    cache.set_rows(synced)
    assert len(synced) > 2
    for row in synced:
        assert cache.get_row(row.id) is not None
    assert 0 < state.STATE.recent_bytes <= limit and 0 < len(state.STATE.recent_rows) < len(synced)


def test_a_cached_row_without_its_project_loads_the_project_on_access(
    synced: list[Session], session_cache: Any
) -> None:
    expected = Session.objects.select_related("project").exclude(project=None).first()
    assert expected is not None
    row = cache.row_from_data((*cache.row_data(expected)[:-1], None))
    assert not Session.project.is_cached(row)
    assert row.project == expected.project  # one query, as before the codec changed


# -- PostgreSQL: the prepared statement (used outside atomic blocks only) -----------------------

postgres_only = pytest.mark.postgres  # prepared statements are a PostgreSQL path


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_lookup_is_prepared_once_and_reads_the_same(
    local_source: LocalSource,
) -> None:
    run_sync(source=local_source)
    for expected in Session.objects.select_related("project"):
        for column, value in (("pk", expected.pk), ("github_path", expected.github_path)):
            row = database.session_by(column, value)
            assert row is not None and _fields(row) == _fields(expected)
            assert row.project_id is None or _fields(row.project) == _fields(expected.project)
    assert {"annoris_session_by_pk", "annoris_session_by_github_path"} <= _prepared_names()
    assert database.session_by("pk", uuid.uuid4()) is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_statement_lost_by_a_pooler_switches_prepared_reads_off_without_failing_a_read(
    local_source: LocalSource,
) -> None:
    run_sync(source=local_source)
    session = Session.objects.select_related("project").first()
    assert session is not None and database.session_by("pk", session.pk) is not None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE annoris_session_by_pk")  # as another server session would see it
    try:
        row = database.session_by("pk", session.pk)
        assert row is not None and _fields(row) == _fields(session)
        assert state.STATE.prepared_reads_broken
        assert database.session_by("pk", session.pk) is not None  # the plain SQL from now on
    finally:
        state.reset()
