"""The read path's row query and the cached-row codec agree with the ORM.

Run on SQLite (char(32) ids, text datetimes through converters) and on PostgreSQL + Redis.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from sessions_app.models import Session
from sessions_app.readpath import cache, read, state


def _fields(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_row_query_builds_what_the_orm_builds(synced: list[Session]) -> None:
    for expected in Session.objects.select_related("project"):
        for column, value in (
            ("pk", expected.pk),
            ("pk", str(expected.pk)),
            ("github_path", expected.github_path),
        ):
            row = read.session_by(column, value)
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
    row = read.session_by("pk", session.pk)
    assert row is not None and row.project_id is None and row.project is None
    Session.objects.filter(pk=session.pk).delete()
    assert read.session_by("pk", session.pk) is None
    assert read.session_by("github_path", session.github_path) is None


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


def test_a_cached_row_without_its_project_loads_the_project_on_access(
    synced: list[Session], session_cache: Any
) -> None:
    expected = Session.objects.select_related("project").exclude(project=None).first()
    assert expected is not None
    row = cache.row_from_data((*cache.row_data(expected)[:-1], None))
    assert not Session.project.is_cached(row)
    assert row.project == expected.project  # one query, as before the codec changed
