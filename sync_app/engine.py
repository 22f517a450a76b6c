"""The sync engine: bring the database in step with the source.

It knows sources and models, not HTTP. ``run_sync`` lists the source, compares
by path and blob SHA, reads only new or changed files, soft-deletes sessions
whose files are gone, and writes a SyncLog for every run, failed ones included.
One file's failure is recorded and the run goes on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from annoris.sources import get_source
from annoris.sources.base import Source, SourceError
from sessions_app import search
from sessions_app.models import Session
from sync_app import services
from sync_app.apply import Progress, Run, apply_plan
from sync_app.delete_guard import DeleteGuard, check_deletes
from sync_app.lock import SyncLock
from sync_app.plan import plan_sync
from sync_app.result import SyncResult

logger = logging.getLogger(__name__)


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock."""


# How long a queued trigger waits for a busy run to end before leaving its work to the
# next run (stays under django-q's task timeout of 600 s). The lock dies with its holder,
# so a waiter sees a killed run end at once.
WAIT_SECONDS = 540.0
_POLL_SECONDS = 0.25


def run_sync(
    *,
    source: Source | None = None,
    trigger: str = "manual",
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    if_busy: str = "raise",
    allow_deletes: bool = False,
    log_id: str | None = None,
) -> SyncResult | None:
    """Run one sync (and the follow-up runs triggers queued meanwhile); returns the first run's result.

    Only one run goes at a time, decided by ``SyncLock``, a lock that dies with the process
    holding it: a killed run blocks nothing, and the next run closes its log as
    ``interrupted``. While another run holds it, ``if_busy="raise"`` refuses with
    SyncAlreadyRunning; ``"queue"`` records the trigger for a follow-up run of the busy
    one and returns None; ``"wait"`` (for queue workers) records it too, and the first
    such trigger then waits for the lock, so that if the busy run dies instead of
    ending, the trigger still gets its sync (returns None when the busy run covered it).

    ``allow_deletes`` lifts the delete guard (``SYNC_MAX_DELETE_RATIO``) for this call.
    A dry run lists and compares only: it reads no file and writes nothing.

    ``log_id`` is a log made ``queued`` when the sync was requested: the first run fills it
    in; when another run covers this call instead, it is closed as ``coalesced``.
    """
    source = source or get_source()
    if dry_run:
        return _dry_run(source, trigger, full)
    lock = SyncLock()
    try:
        if not lock.acquire():
            if if_busy not in ("queue", "wait"):
                raise SyncAlreadyRunning(_busy_message())
            services.sync_request_followup(trigger=trigger)
            # Look once more after recording the trigger: a run that ended in between has
            # already looked for triggers and would not see this one.
            held = lock.acquire() if if_busy == "queue" else _wait_for(lock)
            if not held:
                services.sync_log_coalesce(log_id=log_id)
                return None  # the busy run, or the trigger already waiting, covers this one
            trigger = services.sync_take_pending()
            if not trigger:
                services.sync_log_coalesce(log_id=log_id)
                return None  # the run we waited for ran the follow-up itself
        first: SyncResult | None = None
        while True:
            logger.info("sync started (trigger %s%s)", trigger, ", full" if full else "")
            result = _run_once(source, trigger, full, progress, allow_deletes, log_id)
            _log_finished(result)
            _queue_search_index(result)
            first = first or result
            full = allow_deletes = False
            log_id = None
            # Release first, then look for a trigger: one that arrives after the look finds
            # the lock free and runs itself, so none is left behind.
            lock.release()
            if not services.sync_pending() or not lock.acquire():
                return first
            trigger = services.sync_take_pending()
            if not trigger:
                return first
    finally:
        lock.release()


def _wait_for(lock: SyncLock) -> bool:
    """Wait for the sync lock (True once held), as the one waiting trigger; False when
    another trigger already waits, the running run took the trigger, or time ran out."""
    with SyncLock("waiter") as waiter:
        if not waiter.acquire():
            return False
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if lock.acquire():
                return True
            if not services.sync_pending():
                return False
            time.sleep(_POLL_SECONDS)
    return False


def _queue_search_index(result: SyncResult) -> None:
    """After a run, queue the worker's indexing when sessions wait for it, unless a queued task
    will do it: an import larger than search.INLINE_LIMIT (words), more files than a sync embeds
    inline (vectors: make run's 9 samples waited for a task that was never queued), or sessions an
    earlier run left waiting (a worker that was down, an upgrade). The sync does not wait for it."""
    try:
        few = result.files_synced <= search.INLINE_LIMIT
        if few and not search.index_waiting(vectors=search.semantic_on()):
            return
        if services.search_index_queued():
            return
        task = services.search_index_enqueue()
    except Exception:  # the index is derived: a sync that worked must not fail for it
        logger.exception("could not queue the search indexing after sync %s", result.log_id)
        return
    logger.info("search indexing of sync %s queued (task %s)", result.log_id, task)


def _log_finished(result: SyncResult) -> None:
    """One line per run: status, counts and duration (paths and errors stay in the SyncLog)."""
    counts = {name: count for name, count in result.counts.items() if count}
    logger.info(
        "sync %s %s in %d ms: %s",
        result.log_id,
        result.status,
        result.duration_ms,
        ", ".join(f"{name} {count}" for name, count in counts.items()) or "nothing to do",
        extra={"sync_log": result.log_id, "status": result.status, "counts": counts,
               "duration_ms": result.duration_ms, "revision": result.revision},
    )  # fmt: skip


def _busy_message() -> str:
    state = services.sync_state()
    since = state.running_since.strftime("%Y-%m-%d %H:%M:%S UTC") if state.running_since else "just now"
    return f"another sync is running (started {since}); try again when it ends"


def _known() -> dict[str, tuple[str, bool]]:
    rows = Session.objects.values_list("github_path", "github_sha", "deleted_at")
    return {path: (sha, deleted is not None) for path, sha, deleted in rows.iterator(chunk_size=2000)}


def _dry_run(source: Source, trigger: str, full: bool) -> SyncResult:
    result = SyncResult(trigger=trigger, dry_run=True, full=full)
    usage = _usage(source)
    listing = source.list_files()
    _note_skipped(result, listing)
    result.stats = _source_stats(source, usage)
    state = services.sync_state()
    known = _known()
    plan = plan_sync(listing, known=known, failed=state.failed_files, full=full)
    for item in plan.to_read:
        sha, deleted = known.get(item.path, ("", False))
        result.record(item.path, "added" if not sha else ("restored" if deleted else "updated"))
    for path in plan.to_delete:
        result.record(path, "deleted")
    for item, error in plan.rejected:
        result.fail(item.path, error)
    result.counts["unchanged"] = plan.unchanged
    result.revision = listing.revision or ""
    result.status = result.final_status()
    return result


def _run_once(
    source: Source,
    trigger: str,
    full: bool,
    progress: Progress | None,
    allow_deletes: bool,
    log_id: str | None = None,
) -> SyncResult:
    started, usage = time.monotonic(), _usage(source)
    log = services.sync_log_take(log_id=log_id, source=trigger)
    result = SyncResult(trigger=trigger, full=full, log_id=str(log.id))
    source_state = getattr(source, "state", None)
    failed: dict[str, dict] = {}
    try:
        services.sync_begin(log=log)
        state = services.sync_state()
        if isinstance(source_state, dict) and not full:
            source_state.update(state.source_state)
        failed = dict(state.failed_files)
        listing = source.list_files()
        result.revision = listing.revision or ""
        _note_skipped(result, listing)
        plan = plan_sync(listing, known=_known(), failed=failed, full=full)
        check_deletes(plan, allow=allow_deletes)
        apply_plan(Run(source=source, result=result, failed=failed), plan, progress)
    except (SourceError, DeleteGuard) as exc:
        result.error = str(exc)
        logger.warning("sync %s failed: %s", log.id, exc)
    except Exception as exc:  # the log must be closed whatever happened
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
        logger.exception("sync %s failed unexpectedly", log.id)
    except BaseException as exc:  # interrupted: close the log as such, then let it propagate
        result.error = f"interrupted ({type(exc).__name__})"
        result.interrupted = True
        raise
    finally:
        try:
            _close(log, result, source, usage, started, source_state, failed)
        finally:
            services.sync_end(log=log)
    return result


def _close(
    log: Any, result: SyncResult, source: Source, usage: dict, started: float, source_state: Any, failed: dict
) -> None:
    """Close the run's log (and save the source's state after a run that did not fail)."""
    try:
        result.stats = _source_stats(source, usage)
    finally:  # whatever the source's counters do, the log is closed
        result.duration_ms = round((time.monotonic() - started) * 1000)
        result.status = result.final_status()
        services.sync_log_finish(
            log=log,
            status=result.status,
            files_synced=result.files_synced,
            errors=result.counts["failed"] + (1 if result.error else 0),
            revision=result.revision,
            details=result.as_details(),
        )
    if not result.error:
        services.sync_save_source_state(
            source_state=source_state if isinstance(source_state, dict) else {},
            failed_files=failed,
            revision=result.revision,
        )


def _note_skipped(result: SyncResult, listing: Any) -> None:
    """Entries the source saw but left out (special files, links leaving the folder)."""
    for path, reason in listing.skipped:
        result.skip(path, reason)


def _usage(source: Source) -> dict[str, Any]:
    """The source's cumulative API use (``Source.usage()`` where it has one), taken before a run."""
    usage = getattr(source, "usage", None)
    return dict(usage()) if callable(usage) else {}


def _source_stats(source: Source, before: dict[str, Any]) -> dict[str, Any]:
    """What the run cost the source: ``api_calls`` and ``api_calls_by_endpoint`` spent since
    ``before`` (retries included, as the rate limit sees them) and ``rate_limit_remaining``."""
    after = _usage(source)
    if not after:
        return {}
    by_endpoint = Counter(after.get("api_calls_by_endpoint", {}))
    by_endpoint.subtract(before.get("api_calls_by_endpoint", {}))
    return {
        "api_calls": after.get("api_calls", 0) - before.get("api_calls", 0),
        "api_calls_by_endpoint": {name: n for name, n in by_endpoint.items() if n > 0},
        "rate_limit_remaining": after.get("rate_limit_remaining"),
    }
