"""Index builds with forked analysis processes, on PostgreSQL (issue #17, "at least 1,000
sessions per second"): the same index as a build without them, and an indexer SIGKILLed
mid-build leaves no orphan process and nothing lost or duplicated once the build is rerun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

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


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def test_a_build_with_analysis_processes_writes_the_same_index_as_one_without(
    tmp_path: Path, settings
) -> None:  # noqa: ANN001
    import_corpus(tmp_path, 300, seed=5)
    settings.ANNORIS_INDEX_PROCESSES = 2
    settings.ANNORIS_SEARCH_SEMANTIC = False  # a full rebuild re-embeds every session: 45 s here
    workers: set[int] = set()
    done, failed = reindex_all(batch_size=40, progress=lambda n: workers.update(children(os.getpid())))
    assert (done, failed) == (300, [])
    assert len(workers) == 2  # the batches were analysed in two forked processes
    assert not children(os.getpid())  # and they are gone once the build is over
    with_processes = index_state()

    SearchPosting.objects.all().delete()
    SearchDocument.objects.all().delete()
    with transaction.atomic():  # inside a transaction: one batch after the other, in this process
        assert reindex_all(batch_size=40) == (300, [])
    assert index_state() == with_processes
    assert with_processes[0] == expected_postings()
    assert len(with_processes[1]) == 300


def test_an_indexer_killed_mid_build_leaves_no_orphan_and_a_rerun_completes(tmp_path: Path) -> None:
    count = 2500
    import_corpus(tmp_path, count, seed=6)
    env = {**os.environ, "DATABASE_URL": database_url(), "ANNORIS_INDEX_PROCESSES": "2",
           "ANNORIS_SEARCH_SEMANTIC": "0"}  # fmt: skip
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
        workers = children(indexer.pid)
        assert len(workers) == 2, workers  # its analysis processes
        os.kill(indexer.pid, signal.SIGKILL)  # the indexer only, as an OOM killer would
        indexer.wait(timeout=10)
    finally:
        if indexer.poll() is None:
            os.killpg(indexer.pid, signal.SIGKILL)
            indexer.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers):  # PR_SET_PDEATHSIG: they die with their parent
        assert time.monotonic() < deadline, "an analysis process outlived the killed indexer"
        time.sleep(0.05)
    connection.close()  # the killed backend's transaction is rolled back on the server
    partial = SearchDocument.objects.count()
    assert 200 <= partial < count, partial

    assert reindex_all(stale_only=True) == (count - partial, [])
    postings, documents = index_state()
    assert len(documents) == count == len({doc[0] for doc in documents})
    assert postings == expected_postings()
    assert SearchPosting.objects.count() == len(postings)
