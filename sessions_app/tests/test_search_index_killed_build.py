"""An index build SIGKILLed mid-way on PostgreSQL (issue #17): its batches commit with
``synchronous_commit`` off and are written by a thread with its own connection, yet once the
build is rerun nothing is lost or duplicated. A bulk build into an empty index writes without
the postings' term index and builds it at the end; killed mid-way, searches still answer and the
next build restores the index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from sessions_app.models import SearchDocument, SearchPosting, Session
from sessions_app.search import index_key, reindex_all, search_session_ids
from sessions_app.search.bulk import term_index_present
from sessions_app.search.parser import matches, parse
from sessions_app.search.terms import TermHashes, document_hashes, term_set
from sessions_app.tests.writes.processes import ROOT, database_url
from sync_app.health import health_report

sys.path.insert(0, str(ROOT / "bench"))
from corpus import make_corpus  # noqa: E402 - bench/ is not a package

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def import_corpus(folder: Path, count: int, seed: int) -> None:
    """A bulk import through the real sync: its sessions are left for the index task."""
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    for path, data in make_corpus(count, seed=seed, size=3000).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    assert run_sync(source=LocalSource(folder, repository="bench/corpus")).status == "success"
    assert not SearchDocument.objects.exists()


def index_state() -> tuple[set[tuple], set[tuple]]:
    """Every posting (session, term, tf) and every index entry (session, length, key, sets)."""
    postings = set(SearchPosting.objects.values_list("session_id", "term", "tf"))
    documents = set(SearchDocument.objects.values_list("session_id", "length", "key_id", "pairs", "prefixes"))
    return postings, documents


def expected_postings() -> set[tuple]:
    """What the index must hold, from each session decrypted and analysed on its own."""
    hashes = TermHashes(index_key()[1])
    return {
        (row.id, term, tf)
        for row in Session.objects.all()
        for term, tf in document_hashes(row.title, row.text, hashes).counts.items()
    }


def kill_mid_build(tmp_path: Path, *options: str, sig: signal.Signals = signal.SIGKILL) -> None:
    """Run ``reindex_search --stale-only`` (what index_pending runs) in its own process and
    signal it (SIGKILL by default) once some of its batches have committed."""
    env = {**os.environ, "DATABASE_URL": database_url(), "ANNORIS_SEARCH_SEMANTIC": "0"}
    command = [sys.executable, "manage.py", "reindex_search", "--stale-only", "--batch-size", "20", *options]
    with (tmp_path / "indexer.log").open("wb") as log:
        indexer = subprocess.Popen(  # noqa: S603 - our own command, in its own process
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while SearchDocument.objects.count() < 200:  # some batches committed: mid-build
            assert indexer.poll() is None, (tmp_path / "indexer.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the build did not start"
            time.sleep(0.02)
        os.kill(indexer.pid, sig)  # the indexer only, as an OOM killer or a stopping container would
        indexer.wait(timeout=10)
    finally:
        if indexer.poll() is None:
            os.killpg(indexer.pid, signal.SIGKILL)
            indexer.wait(timeout=10)
    connection.close()  # the killed backend's transaction is rolled back on the server


def test_an_indexer_killed_mid_build_loses_nothing_once_rerun(tmp_path: Path) -> None:
    count = 2500
    import_corpus(tmp_path, count, seed=6)
    kill_mid_build(tmp_path)
    partial = SearchDocument.objects.count()
    assert 200 <= partial < count, partial

    assert reindex_all(stale_only=True) == (count - partial, [])
    postings, documents = index_state()
    assert len(documents) == count == len({doc[0] for doc in documents})
    assert postings == expected_postings()
    assert SearchPosting.objects.count() == len(postings)


def term_index_definition() -> str:
    """PostgreSQL's definition of the postings' term index (it must exist)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", ["search_posting_term_weight"])
        return cursor.fetchone()[0]


def scan(query: str) -> set:
    """The indexed sessions a decrypt-and-scan finds for ``query``."""
    parsed = parse(query)
    indexed = set(SearchDocument.objects.values_list("session_id", flat=True))
    return {
        row.id
        for row in Session.objects.filter(id__in=indexed)
        if matches(parsed, term_set(row.title, row.text))
    }


def test_a_bulk_build_into_an_empty_index_builds_the_term_index_once_at_the_end(tmp_path: Path) -> None:
    import_corpus(tmp_path, 300, seed=7)
    definition = term_index_definition()
    seen: list[bool] = []
    assert reindex_all(
        stale_only=True, batch_size=50, bulk_min=300, progress=lambda _: seen.append(term_index_present())
    ) == (300, [])
    assert seen and not any(seen)  # absent while the batches were written
    assert term_index_definition() == definition  # then built once, as the migration made it
    assert index_state()[0] == expected_postings()

    seen.clear()  # into an index that is not empty: kept up row by row
    SearchDocument.objects.filter(
        session_id__in=list(Session.objects.values_list("id", flat=True)[:100])
    ).update(key_id="")
    assert (
        reindex_all(
            stale_only=True, batch_size=50, bulk_min=1, progress=lambda _: seen.append(term_index_present())
        )[0]
        == 100
    )
    assert seen and all(seen)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_bulk_build_killed_mid_way_leaves_searches_answering_and_the_next_build_restores_the_index(
    tmp_path: Path, sig: signal.Signals, settings: Any
) -> None:
    settings.ANNORIS_SEARCH_SEMANTIC = False  # words only, as the killed build (its env): no vectors wait
    count = 2500
    import_corpus(tmp_path, count, seed=8)
    definition = term_index_definition()
    kill_mid_build(tmp_path, "--bulk-min", "1", sig=sig)
    assert not term_index_present()
    assert health_report()[1]["search_index"]["status"] == "building"
    assert scan("cache")
    for query in ("cache", "redis -cache", '"cache redis"'):  # answered from a scan of the postings
        assert set(search_session_ids(query, limit=None)[0]) == scan(query), query

    partial = SearchDocument.objects.count()
    assert reindex_all(stale_only=True) == (count - partial, [])  # not empty: no deferral, and ...
    assert term_index_definition() == definition  # ... the index is restored first
    assert health_report()[1]["search_index"] == {"status": "ok", "waiting": 0}
    assert index_state()[0] == expected_postings()


def test_a_bulk_build_keeps_the_term_index_when_a_search_holds_the_table(tmp_path: Path) -> None:
    import_corpus(tmp_path, 120, seed=9)
    with psycopg.connect(database_url()) as reader:  # a long search: ACCESS SHARE until it ends
        reader.execute("SELECT count(*) FROM sessions_app_searchposting").fetchone()
        seen: list[bool] = []
        started = time.monotonic()
        assert reindex_all(
            stale_only=True, batch_size=40, bulk_min=1, progress=lambda _: seen.append(term_index_present())
        ) == (120, [])
        assert time.monotonic() - started < 10  # gave up the drop after LOCK_WAIT, did not queue
        reader.rollback()
    assert seen and all(seen)
    assert index_state()[0] == expected_postings()
