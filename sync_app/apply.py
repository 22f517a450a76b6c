"""One sync run's changes, applied: deletes, then the changed files read, parsed and written
in batches (``BATCH`` files per transaction), each file's failure recorded and the run going on.

The engine (``engine.run_sync``) plans the run and keeps its log; this applies the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.db import DataError, IntegrityError, connection, connections, transaction
from django.utils import timezone

from annoris.sources.base import Source, SourceError, SourceFile, session_id_for
from projects_app.models import Project
from sessions_app.documents import DocumentError, ParsedDocument, parse_document
from sessions_app.services import SessionRefused, session_soft_delete_missing, session_upsert_from_source
from sessions_app.upsert import SourceDocument, sessions_upsert_from_source
from sync_app.plan import SyncPlan
from sync_app.result import SyncResult

logger = logging.getLogger("sync_app.engine")

Progress = Callable[[int, int], None]
BATCH = 200  # files committed per transaction: fewer commits, bounded rollback


@dataclass
class Run:
    """What the steps of one run share."""

    source: Source
    result: SyncResult
    failed: dict[str, dict]  # path -> {"sha", "error"}, saved for the next run
    now: datetime = field(default_factory=timezone.now)
    projects: dict[str, Project] = field(default_factory=dict)  # project lookups (the writer's)
    items: dict[str, SourceFile] = field(default_factory=dict)  # parsed, not yet recorded


def apply_plan(run: Run, plan: SyncPlan, progress: Progress | None) -> None:
    result, failed = run.result, run.failed
    if plan.to_delete:
        session_soft_delete_missing(paths=plan.to_delete, deleted_at=run.now)
        for path in plan.to_delete:
            result.record(path, "deleted")
            failed.pop(path, None)
    for item, error in plan.rejected:
        _fail_file(run, item, error)
    result.counts["unchanged"] = plan.unchanged
    for path in set(failed) - {item.path for item, _ in plan.rejected}:
        del failed[path]  # a failed file that is gone, or about to be read again
    total, done = len(plan.to_read), 0
    reads = run.source.read_many(plan.to_read)
    with _Writer(run) as writer:
        while batch := list(islice(reads, BATCH)):
            docs = _parse_batch(run, batch)
            writer.write(docs)  # while the database writes it, the next batch is fetched and parsed
            done += len(batch)
            if progress:
                progress(done, total)


class _Writer:
    """Writes parsed batches, on PostgreSQL in a thread of its own with its own connection.

    Fetching and parsing are Python work, the upsert is mostly the database server's: with
    the write of batch N in a thread (its wait releases the GIL), batch N+1 is fetched and
    parsed meanwhile. At most one batch is in flight, and outcomes are recorded in order by
    the run's own thread. Inside a caller's transaction (or on SQLite) the writes stay on
    the caller's connection, in line.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sync-writer") if threaded else None
        self._pending: Future | None = None

    def write(self, docs: list[SourceDocument]) -> None:
        self._collect()
        if not docs:
            return
        if self._pool is None:
            _record(self.run, docs, _write_batch(self.run, docs))
        else:
            self._pending = self._pool.submit(_write_batch, self.run, docs)
            self._pending.docs = docs  # type: ignore[attr-defined]

    def _collect(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            _record(self.run, pending.docs, pending.result())  # type: ignore[attr-defined]

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self._pool is None:
            return
        try:
            if kind is None:
                self._collect()
            elif self._pending is not None:
                self._pending.exception()  # the run is ending anyway: let the write finish, quietly
        finally:
            self._pool.submit(connections.close_all).result()  # the thread's own connection
            self._pool.shutdown(wait=True)


def _parse_batch(run: Run, batch: list[tuple[SourceFile, bytes | SourceError]]) -> list[SourceDocument]:
    docs: list[SourceDocument] = []
    for item, data in batch:
        parsed = _parse(run, item, data)
        if parsed is not None:
            session_id = parsed.session_id or session_id_for(run.source.repository, item.path)
            docs.append(SourceDocument(session_id=session_id, path=item.path, sha=item.sha, parsed=parsed))
            run.items[item.path] = item
    return docs


def _write_batch(run: Run, docs: list[SourceDocument]) -> list[str | Exception]:
    """Write a batch in one transaction, each file's failure its own.

    The batch goes in with one bulk upsert inside a savepoint. Should the database refuse
    it (a value no check foresaw), the savepoint is rolled back and the files are written
    one by one, each in its own savepoint, so only the file at fault fails.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                outcomes: list = sessions_upsert_from_source(
                    documents=docs, synced_at=run.now, projects=run.projects
                )
        except (IntegrityError, DataError) as exc:
            logger.warning("sync batch refused by the database (%s); writing its files one by one", exc)
            run.projects.clear()  # projects created in the rolled-back savepoint are gone
            outcomes = [_upsert_one(run, doc) for doc in docs]
    if any(isinstance(outcome, Exception) for outcome in outcomes):
        run.projects.clear()  # a project made in a failed file's rolled-back savepoint is gone
    return outcomes


def _record(run: Run, docs: list[SourceDocument], outcomes: list[str | Exception]) -> None:
    for doc, outcome in zip(docs, outcomes, strict=True):
        item = run.items.pop(doc.path)
        if isinstance(outcome, Exception):
            _fail_file(run, item, str(outcome))
        elif doc.parsed.repairs:
            run.result.counts["repaired"] += 1
            run.result.record(doc.path, outcome, repairs=list(doc.parsed.repairs))
        else:
            run.result.record(doc.path, outcome)


def _parse(run: Run, item: SourceFile, data: bytes | SourceError) -> ParsedDocument | None:
    if isinstance(data, SourceError):
        # Reading failed (I/O, the network): the file is not known to be bad, so the next run
        # reads it again instead of reporting this error until the file changes.
        _fail_file(run, item, str(data), remember=False)
        return None
    try:
        return parse_document(data, path=item.path, fallback_date=run.now, history_date=item.modified)
    except DocumentError as exc:
        _fail_file(run, item, str(exc))
    except Exception as exc:  # a bug met on one odd file must not stop the others
        logger.exception("sync could not parse %s", item.path)
        _fail_file(run, item, f"internal error: {type(exc).__name__}: {exc}")
    return None


def _upsert_one(run: Run, doc: SourceDocument) -> str | Exception:
    """One file's write in its own savepoint; the database's refusal is the file's failure."""
    try:
        return session_upsert_from_source(
            session_id=doc.session_id,
            path=doc.path,
            sha=doc.sha,
            parsed=doc.parsed,
            synced_at=run.now,
            projects=run.projects,
        )
    except (SessionRefused, IntegrityError, DataError) as exc:
        return exc


def _fail_file(run: Run, item: SourceFile, error: str, *, remember: bool = True) -> None:
    """Report a failed file; ``remember``: its content is bad, so later runs report it without
    reading it again until its SHA changes."""
    if remember:
        run.failed[item.path] = {"sha": item.sha, "error": error}
    else:
        run.failed.pop(item.path, None)
    run.result.fail(item.path, error)
    logger.info("sync skipped %r: %s", item.path, error)
