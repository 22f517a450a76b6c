"""An index build SIGKILLed mid-way on PostgreSQL (issue #17): its batches commit with
``synchronous_commit`` off and are written by a thread with its own connection, yet once the
build is rerun nothing is lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from sessions_app.models import SearchDocument, SearchPosting, Session
from sessions_app.search import index_key, reindex_all
from sessions_app.search.terms import TermHashes, document_hashes
from sessions_app.tests.writes.processes import ROOT, database_url

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


def test_an_indexer_killed_mid_build_loses_nothing_once_rerun(tmp_path: Path) -> None:
    count = 2500
    import_corpus(tmp_path, count, seed=6)
    env = {**os.environ, "DATABASE_URL": database_url(), "ANNORIS_SEARCH_SEMANTIC": "0"}
    with (tmp_path / "indexer.log").open("wb") as log:
        indexer = subprocess.Popen(  # noqa: S603 - our own command: what index_pending runs, in its own process
            [sys.executable, "manage.py", "reindex_search", "--stale-only", "--batch-size", "20"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while SearchDocument.objects.count() < 200:  # some batches committed: mid-build
            assert indexer.poll() is None, (tmp_path / "indexer.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the build did not start"
            time.sleep(0.02)
        os.kill(indexer.pid, signal.SIGKILL)  # the indexer only, as an OOM killer would
        indexer.wait(timeout=10)
    finally:
        if indexer.poll() is None:
            os.killpg(indexer.pid, signal.SIGKILL)
            indexer.wait(timeout=10)
    connection.close()  # the killed backend's transaction is rolled back on the server
    partial = SearchDocument.objects.count()
    assert 200 <= partial < count, partial

    assert reindex_all(stale_only=True) == (count - partial, [])
    postings, documents = index_state()
    assert len(documents) == count == len({doc[0] for doc in documents})
    assert postings == expected_postings()
    assert SearchPosting.objects.count() == len(postings)
