"""The sync engine against a local folder: incremental, resilient, one at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection

from annoris.sources.local import LocalSource
from sessions_app.models import Session
from sync_app import services
from sync_app.engine import SyncAlreadyRunning, run_sync
from sync_app.lock import SyncLock
from sync_app.models import SyncLog

pytestmark = pytest.mark.django_db(transaction=True)

MISENCODED = "pricewise/2025-09-15-stripe-billing.md"


def fresh(source: LocalSource) -> LocalSource:
    """A new source object (a new process), so only persisted state carries over."""
    return LocalSource(source.root, repository=source.repository)


def test_it_syncs_every_sample(local_source: LocalSource) -> None:
    result = run_sync(source=local_source)
    files = list(local_source.root.rglob("*.md"))
    assert result.counts["added"] == len(files) == Session.objects.live().count()
    log = SyncLog.objects.get(pk=result.log_id)
    assert (log.status, log.files_synced, log.errors) == ("success", len(files), 0)
    assert log.details["duration_ms"] >= 0 and len(log.details["files"]) == len(files)


def test_it_reads_no_file_when_nothing_changed(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    again = fresh(local_source)
    result = run_sync(source=again)
    assert again.reads == 0
    assert result.counts["unchanged"] == Session.objects.count()
    assert result.files_synced == 0


def test_it_reads_only_the_changed_file(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    path = local_source.root / "lingua-drift" / "2025-08-27-annotation-schema.md"
    path.write_text(path.read_text() + "\n## Update\nНовый раздел.\n")
    again = fresh(local_source)
    result = run_sync(source=again)
    assert again.reads == 2  # hashed once for the listing, read once for the content
    assert result.counts["updated"] == 1 and result.counts["added"] == 0
    assert (
        "Новый раздел."
        in Session.objects.get(github_path="lingua-drift/2025-08-27-annotation-schema.md").text
    )


def test_it_soft_deletes_and_restores(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    path = local_source.root / "pricewise" / "2025-09-20-onboarding-emails.md"
    body = path.read_bytes()
    path.unlink()
    result = run_sync(source=fresh(local_source))
    session = Session.objects.get(github_path="pricewise/2025-09-20-onboarding-emails.md")
    assert result.counts["deleted"] == 1 and session.deleted_at is not None
    assert not Session.objects.live().filter(pk=session.pk).exists()
    path.write_bytes(body)
    result = run_sync(source=fresh(local_source))
    assert result.counts["restored"] == 1
    assert Session.objects.live().filter(pk=session.pk).exists()


def test_it_follows_a_rename_that_keeps_its_front_matter_id(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    with_id = next(s for s in Session.objects.all() if s.text.startswith("---") and "\nid:" in s.text)
    old = local_source.root / with_id.github_path
    new = old.with_name("renamed.md")
    old.rename(new)
    run_sync(source=fresh(local_source))
    moved = Session.objects.get(pk=with_id.pk)
    assert moved.github_path.endswith("renamed.md") and moved.deleted_at is None


BAD_FILES = {
    "bad/binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "bad/latin1.md": "# Caf\xe9 notes\n".encode("latin-1"),
    "bad/huge.md": b"# Huge\n" + b"x" * (10 * 1024 * 1024),
    "bad/front-matter.md": b"---\ntitle: [unclosed\n---\n# Body\n",
}


def test_it_logs_bad_files_and_lands_the_rest(local_source: LocalSource) -> None:
    (local_source.root / "bad").mkdir()
    for name, data in BAD_FILES.items():
        (local_source.root / name).write_bytes(data)
    result = run_sync(source=local_source)
    good = len(list(local_source.root.rglob("*.md"))) - len(BAD_FILES)
    assert result.counts["added"] == good == Session.objects.count()
    assert result.counts["failed"] == len(BAD_FILES)
    log = SyncLog.objects.get(pk=result.log_id)
    assert log.status == "partial" and log.errors == len(BAD_FILES)
    assert {e["path"] for e in log.details["errors"]} == set(BAD_FILES)
    assert all(e["error"] for e in log.details["errors"])


def test_it_does_not_reread_a_bad_file_until_it_changes(local_source: LocalSource) -> None:
    bad = local_source.root / "bad.md"
    bad.write_bytes(BAD_FILES["bad/binary.md"])
    run_sync(source=local_source)
    again = fresh(local_source)
    result = run_sync(source=again)
    assert again.reads == 0 and result.counts["failed"] == 1  # still reported, not re-read
    bad.write_text("# Fixed now\n")
    result = run_sync(source=fresh(local_source))
    assert result.counts["added"] == 1 and result.counts["failed"] == 0


def test_it_repairs_the_misencoded_sample_and_says_so(local_source: LocalSource) -> None:
    raw = (local_source.root / MISENCODED).read_bytes().decode()
    assert "–" in raw or "√" in raw  # the shipped file really is damaged
    result = run_sync(source=local_source)
    text = Session.objects.get(github_path=MISENCODED).text
    assert "Stripe" in text and any("а" <= ch <= "я" for ch in text)
    assert "–" not in text and "√" not in text and "Ä" not in text
    entry = next(f for f in result.files if f["path"] == MISENCODED)
    assert entry["repairs"] and "Mac Roman" in entry["repairs"][0]
    seed = Session.objects.get(github_path="annoris/2025-10-20-redis-strategy.md")
    assert seed.title.endswith("REDIS STRATEGY + READY FOR PHASE 1")
    assert "Проблема" in seed.text and "🚀" in seed.text and "✅" in seed.text


def test_it_rereads_everything_with_full(local_source: LocalSource) -> None:
    run_sync(source=local_source)
    again = fresh(local_source)
    result = run_sync(source=again, full=True)
    total = Session.objects.count()
    assert result.counts["updated"] == total and again.reads >= total


def test_a_dry_run_writes_nothing(local_source: LocalSource) -> None:
    result = run_sync(source=local_source, dry_run=True)
    assert result.counts["added"] == len(list(local_source.root.rglob("*.md")))
    assert local_source.reads == len(list(local_source.root.rglob("*.md")))  # hashing only
    assert Session.objects.count() == 0 and SyncLog.objects.count() == 0


def test_a_missing_folder_gives_a_failed_log(db: None, tmp_path: Path) -> None:
    result = run_sync(source=LocalSource(tmp_path / "nope"))
    log = SyncLog.objects.get(pk=result.log_id)
    assert log.status == "failed" and "does not exist" in log.details["error"]


def test_it_refuses_a_second_sync_while_one_runs(local_source: LocalSource) -> None:
    with SyncLock() as held:
        assert held.acquire()
        with pytest.raises(SyncAlreadyRunning, match="another sync is running"):
            run_sync(source=local_source)
        assert SyncLog.objects.count() == 0
    assert run_sync(source=local_source).status == "success"


@pytest.mark.postgres
def test_a_released_lock_is_free_at_once() -> None:
    """A run releases the lock and at once looks for a trigger that came meanwhile, taking the
    lock again to run it: the lock must be free when ``release`` returns, not only once the server
    has ended the closed connection's session (the follow-up was then left for the next run)."""
    from django.db import connection

    with connection.cursor() as cursor:  # open before: the check below costs one query
        cursor.execute("SELECT 1")
    still_held = 0
    for _ in range(50):
        lock = SyncLock()
        assert lock.acquire()
        lock.release()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            still_held += cursor.fetchone()[0]
    assert still_held == 0


@pytest.mark.postgres
def test_a_lock_whose_session_the_server_ended_releases_without_error() -> None:
    """The lock's session killed by the server (an administrator's pg_terminate_backend, a
    restart): ``release`` cannot unlock on it, closes it without raising, and the lock is free."""
    from django.db import connection

    lock = SyncLock()
    assert lock.acquire()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert cursor.fetchall() == [(True,)]
    lock.release()
    assert not lock.held
    again = SyncLock()
    assert again.acquire()
    again.release()


def test_queued_triggers_coalesce_into_one_followup(local_source: LocalSource) -> None:
    """Triggers arriving during a run are not lost and do not run concurrently."""
    started, release = threading.Event(), threading.Event()
    seen: list[int] = []

    class SlowSource(LocalSource):
        def list_files(self):  # type: ignore[no-untyped-def]
            seen.append(len(seen))
            if len(seen) == 1:
                started.set()
                release.wait(10)
            return super().list_files()

    slow = SlowSource(local_source.root, repository="acme/sessions")
    results = []

    def first() -> None:
        results.append(run_sync(source=slow, trigger="schedule"))
        connection.close()

    worker = threading.Thread(target=first)
    worker.start()
    assert started.wait(10)
    assert run_sync(source=slow, trigger="webhook", if_busy="queue") is None
    assert run_sync(source=slow, trigger="webhook", if_busy="queue") is None
    release.set()
    worker.join(20)
    logs = list(SyncLog.objects.order_by("synced_at").values_list("source", "status"))
    assert logs == [("schedule", "success"), ("webhook", "success")]
    assert len(seen) == 2


class InterruptedSource(LocalSource):
    """A source whose listing is cut short the way Ctrl-C or a worker timeout would."""

    def __init__(self, *args: object, interrupt: type[BaseException], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.interrupt = interrupt

    def list_files(self):  # type: ignore[no-untyped-def]
        raise self.interrupt()


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupted_sync_gives_the_lock_back_and_logs_it(
    local_source: LocalSource, interrupt: type[BaseException]
) -> None:
    broken = InterruptedSource(local_source.root, repository="acme/sessions", interrupt=interrupt)
    with pytest.raises(interrupt):
        run_sync(source=broken)
    log = SyncLog.objects.get()
    assert log.status == "interrupted" and "interrupted" in log.details["error"]
    assert services.sync_state().running_since is None
    assert run_sync(source=local_source).status == "success"  # not refused for half an hour


def test_a_run_that_dies_outside_its_own_error_handling_gives_the_lock_back(
    local_source: LocalSource,
) -> None:
    class BrokenUsage(LocalSource):
        calls = 0

        def usage(self) -> dict:
            self.calls += 1
            if self.calls > 1:  # after the run: while its log is being closed
                raise RuntimeError("usage counter broke")
            return {}

    with pytest.raises(RuntimeError, match="usage counter broke"):
        run_sync(source=BrokenUsage(local_source.root, repository="acme/sessions"))
    assert services.sync_state().running_since is None
    assert run_sync(source=local_source).status == "success"


def test_an_import_too_large_to_index_inline_is_indexed_by_the_queued_task(
    db: None, tmp_path: Path, q_sync: None
) -> None:
    """Bulk batches leave indexing to a task (the sync stays near the fetch's speed); with the
    queue running tasks at once, the import is searchable when run_sync returns."""
    from sessions_app.search import INLINE_LIMIT, search_session_ids

    count = INLINE_LIMIT + 10
    for n in range(count):
        note = tmp_path / "bulk" / f"2025-01-{n % 28 + 1:02d}-note-{n}.md"
        note.parent.mkdir(exist_ok=True)
        note.write_text(f"# Note {n}\n\nThe word zebracorn{n} is in this body only.\n", encoding="utf-8")
    result = run_sync(source=LocalSource(tmp_path, repository="acme/bulk"))
    assert result.counts["added"] == count
    for n in (0, count - 1):
        ids, total = search_session_ids(f"zebracorn{n}")
        assert total == 1 and Session.objects.get(pk=ids[0]).title == f"Note {n}"


def test_a_bulk_update_never_leaves_old_words_findable(db: None, tmp_path: Path) -> None:
    """Without a worker, rows rewritten in bulk are found by no search until indexed, never by
    words they no longer hold."""
    from sessions_app.search import INLINE_LIMIT, index_pending, search_session_ids

    count = INLINE_LIMIT + 5
    folder = tmp_path / "bulk"
    folder.mkdir()
    for n in range(count):
        (folder / f"2025-02-{n % 28 + 1:02d}-n{n}.md").write_text(f"# N{n}\n\noldword{n}\n", encoding="utf-8")
    source = LocalSource(tmp_path, repository="acme/bulk2")
    run_sync(source=source)
    index_pending()  # what the worker's task does
    assert search_session_ids("oldword3")[1] == 1
    for n in range(count):
        (folder / f"2025-02-{n % 28 + 1:02d}-n{n}.md").write_text(f"# N{n}\n\nnewword{n}\n", encoding="utf-8")
    run_sync(source=source)  # no worker here: the queued task does not run
    assert search_session_ids("oldword3")[1] == 0
    assert index_pending() == count
    assert search_session_ids("newword3")[1] == 1


def test_the_bulk_upsert_writes_every_column_a_source_file_sets() -> None:
    """A column left out of the bulk INSERT made every batch fail on PostgreSQL (NOT NULL) and
    fall back to writing its files one by one: 48x slower, and silent."""
    from datetime import UTC, datetime

    from sessions_app.documents import parse_document
    from sessions_app.services import session_fields_from_source
    from sessions_app.upsert import _UPSERT_FIELDS

    parsed = parse_document(b"# T\n", path="a.md", fallback_date=datetime(2025, 1, 1, tzinfo=UTC))
    fields = session_fields_from_source(path="a.md", sha="0" * 40, parsed=parsed, synced_at=parsed.created_at)
    assert set(fields) - {"project"} <= set(_UPSERT_FIELDS)
