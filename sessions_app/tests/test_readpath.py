"""Session.objects.fetch(): layer order, write-backs, and invalidation after commit.

These run on the embedded default (SQLite, the locmem cache standing in for Redis) and
against PostgreSQL + Redis. The fault tests are in test_readpath_faults.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from annoris import crypto
from annoris.sources.base import git_blob_sha
from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sessions_app.readpath import SessionNotFound
from sessions_app.readpath import cache as session_cache
from sessions_app.readpath.read import FetchResult
from sessions_app.services import content_checksum, sessions_rotate_keys
from sync_app.engine import run_sync

REDIS_STRATEGY = "annoris/2025-10-20-redis-strategy.md"
ROOT = Path(__file__).resolve().parents[2]


def _id(path: str = REDIS_STRATEGY) -> uuid.UUID:
    return Session.objects.get(github_path=path).id


def test_it_reads_from_the_database_when_there_is_no_cache(synced: list[Session]) -> None:
    session = synced[0]
    result = Session.objects.fetch(session.id)
    assert isinstance(result, FetchResult)
    assert (result.layer, result.session.text) == ("database", session.text)
    assert result.elapsed_ms > 0


def test_it_serves_the_second_read_from_the_cache(synced: list[Session], session_cache: Any) -> None:
    session = synced[0]
    assert Session.objects.fetch(session.id).layer == "database"
    again = Session.objects.fetch(str(session.id))
    assert again.layer == "cache"
    assert (again.session.text, again.session.checksum) == (session.text, session.checksum)
    assert again.session.project == session.project
    assert again.session.project.name == session.project.name


def test_it_caches_ciphertext_never_plaintext(synced: list[Session], session_cache: Any) -> None:
    session = next(s for s in synced if "Redis" in s.text)
    Session.objects.fetch(session.id)
    cached = session_cache.get(session_cache_key(session.id))
    fields = dict(zip(session_cache_layout(), cached[1:-1], strict=True))
    assert fields["content"].startswith(crypto.PREFIX)
    assert "Redis" not in repr({k: v for k, v in fields.items() if k != "title"})


def session_cache_key(session_id: uuid.UUID) -> str:
    return session_cache.row_key(session_id)


def session_cache_layout() -> list[str]:
    return [f.attname for f in Session._meta.concrete_fields]


def test_it_reads_a_session_missing_from_the_database_from_the_source_and_writes_it_back(
    synced: list[Session], local_source: LocalSource
) -> None:
    session = Session.objects.get(github_path=REDIS_STRATEGY)
    Session.objects.filter(pk=session.pk).delete()
    result = Session.objects.fetch(session.id, source=local_source)
    assert (result.layer, result.session.checksum) == ("local", session.checksum)
    assert Session.objects.get(pk=session.pk).checksum == session.checksum
    assert Session.objects.fetch(session.id, source=local_source).layer == "database"


def test_it_raises_not_found_for_unknown_and_malformed_ids(
    synced: list[Session], local_source: LocalSource
) -> None:
    for bad in (uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(SessionNotFound):
            Session.objects.fetch(bad, source=local_source)


def test_it_does_not_find_a_session_deleted_from_the_repository(
    synced: list[Session], local_source: LocalSource, session_cache: Any, capture_commits: Callable
) -> None:
    session_id = _id()
    Session.objects.fetch(session_id)
    (local_source.root / REDIS_STRATEGY).unlink()
    with capture_commits():
        run_sync(source=local_source)
    with pytest.raises(SessionNotFound):
        Session.objects.fetch(session_id, source=local_source)


def test_it_fetches_by_path_and_passes_over_an_older_sha(
    synced: list[Session], local_source: LocalSource, session_cache: Any
) -> None:
    assert Session.objects.fetch_by_path(REDIS_STRATEGY, source=local_source).layer == "database"
    assert Session.objects.fetch_by_path(REDIS_STRATEGY, source=local_source).layer == "cache"
    path = local_source.root / REDIS_STRATEGY
    path.write_bytes(path.read_bytes() + b"\nA line pushed but not synced yet.\n")
    new_sha = git_blob_sha(path.read_bytes())
    result = Session.objects.fetch_by_path(REDIS_STRATEGY, sha=new_sha, source=local_source)
    assert result.layer == "local"
    assert result.session.text.endswith("A line pushed but not synced yet.\n")


def test_it_leaves_queryset_chaining_and_get_alone(synced: list[Session]) -> None:
    project = next(s.project for s in synced if s.project)
    chained = Session.objects.live().for_project(project).changed_since(min(s.last_synced for s in synced))
    assert chained.count() == 0  # every row was synced at the same moment
    assert Session.objects.live().for_project(project).count() == project.sessions.count()
    assert Session.objects.get(pk=synced[0].pk) == synced[0]


# -- invalidation after commit ---------------------------------------------------------------


@pytest.fixture
def capture_commits(django_capture_on_commit_callbacks: Callable) -> Callable:
    """Run on_commit hooks (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_it_refreshes_the_cache_after_a_sync_changes_a_file(
    synced: list[Session], local_source: LocalSource, session_cache: Any, capture_commits: Callable
) -> None:
    session_id = _id()
    Session.objects.fetch(session_id)
    path = local_source.root / REDIS_STRATEGY
    path.write_bytes(path.read_bytes() + b"\nDecided: Redis is a cache only.\n")
    with capture_commits():
        run_sync(source=local_source)
    result = Session.objects.fetch(session_id)
    assert result.layer == "cache"
    assert result.session.text.endswith("Decided: Redis is a cache only.\n")
    assert result.session.checksum == content_checksum(result.session.text)


def test_it_refreshes_cached_sessions_when_their_project_is_renamed_in_the_admin(
    synced: list[Session], session_cache: Any, admin_client: Any, capture_commits: Callable
) -> None:
    from django.urls import reverse

    from projects_app.models import Project

    session = Session.objects.fetch(_id()).session
    assert Session.objects.fetch(_id()).layer == "cache"
    project = Project.objects.get(pk=session.project_id)
    form = {"name": "Annoris Core", "status": project.status, "priority": 3}
    with capture_commits():
        response = admin_client.post(reverse("admin:projects_app_project_change", args=[project.pk]), form)
    assert response.status_code == 302
    result = Session.objects.fetch(_id())
    assert result.layer == "cache" and result.session.project.name == "Annoris Core"


def test_it_refreshes_the_cache_after_a_key_rotation(
    synced: list[Session], session_cache: Any, new_keyring: crypto.Keyring, capture_commits: Callable
) -> None:
    for session in synced:
        Session.objects.fetch(session.id)
    with override_settings(ANNORIS_KEYRING=new_keyring):
        with capture_commits():
            sessions_rotate_keys()
        for session in synced:
            result = Session.objects.fetch(session.id)
            assert result.layer == "cache"
            assert crypto.key_id_of(result.session.content) == "k-new"
            assert result.session.text == session.text


def test_it_treats_a_cached_row_under_a_removed_key_as_a_miss(
    synced: list[Session], session_cache: Any
) -> None:
    session = synced[0]
    Session.objects.fetch(session.id)
    other = crypto.parse_keyring(crypto.generate_key("k-other"))
    with override_settings(ANNORIS_KEYRING=other):
        assert Session.objects.fetch(session.id).layer == "database"


# -- two processes, one Redis: no stale read -------------------------------------------------------

READER = """
import json, sys
import django
django.setup()
from sessions_app.models import Session
for line in sys.stdin:
    r = Session.objects.fetch(line.strip())
    print(json.dumps({"layer": r.layer, "checksum": r.session.checksum}), flush=True)
"""


@pytest.mark.postgres
@pytest.mark.skipif(
    not settings.ANNORIS_SESSION_CACHE, reason="needs REDIS_URL: two processes share the cache"
)
@pytest.mark.django_db(transaction=True)
def test_it_shows_another_process_no_stale_read_after_a_sync(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    session_id = str(_id())
    with _reader_process() as ask:
        before = ask(session_id)  # the sync put it in the shared cache after commit
        assert before["layer"] == "cache"
        path = local_source.root / REDIS_STRATEGY
        path.write_bytes(path.read_bytes() + b"\nChanged while another process had it cached.\n")
        run_sync(source=local_source)
        after = ask(session_id)
    expected = Session.objects.get(pk=session_id).checksum
    assert before["checksum"] != expected
    assert after == {"layer": "cache", "checksum": expected}


class _reader_process:  # noqa: N801 - used as a context manager like a function
    """A second Django process reading through fetch(), one id per line on stdin."""

    def __enter__(self) -> Callable[[str], dict]:
        db = connection.settings_dict
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "annoris.settings",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        }
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", READER], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        return self.ask

    def ask(self, session_id: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(session_id + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)
