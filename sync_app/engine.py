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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from annoris.sources import get_source
from annoris.sources.base import Source, SourceError, SourceFile, session_id_for
from projects_app.models import Project
from sessions_app.documents import DocumentError, parse_document
from sessions_app.models import Session
from sessions_app.services import SessionIdConflict, session_soft_delete_missing, session_upsert_from_source
from sync_app import services
from sync_app.plan import SyncPlan, plan_sync
from sync_app.result import SyncResult

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
BATCH = 200  # files committed per transaction: fewer commits, bounded rollback


class SyncAlreadyRunning(Exception):
    """Another sync holds the claim."""


def run_sync(
    *,
    source: Source | None = None,
    trigger: str = "manual",
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    if_busy: str = "raise",
) -> SyncResult | None:
    """Run one sync (and the follow-up runs triggers queued meanwhile); returns the first run's result.

    ``if_busy="raise"`` refuses with SyncAlreadyRunning while another run holds
    the claim; ``"queue"`` asks that run to go once more and returns None.
    A dry run lists and compares only: it reads no file and writes nothing.
    """
    source = source or get_source()
    if dry_run:
        return _dry_run(source, trigger, full)
    claim = services.sync_claim()
    if claim is None:
        if if_busy == "queue" and services.sync_request_followup(trigger=trigger):
            return None
        claim = services.sync_claim()  # the other run may just have ended
        if claim is None:
            raise SyncAlreadyRunning(_busy_message())
    first: SyncResult | None = None
    try:
        while claim is not None:
            logger.info("sync started (trigger %s%s)", trigger, ", full" if full else "")
            result = _run_once(source, trigger, full, progress, claim)
            _log_finished(result)
            first = first or result
            trigger, claim = services.sync_release(claim=claim)
            full = False
    except BaseException:
        # Interrupted (Ctrl-C, a worker timeout) or the database failed mid-run: give the
        # claim back now, or every sync would be refused until it goes stale.
        if claim is not None:
            services.sync_abandon(claim=claim)
        raise
    return first


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
    result.skip(listing.skipped)
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
    source: Source, trigger: str, full: bool, progress: Progress | None, claim: datetime
) -> SyncResult:
    started, usage = time.monotonic(), _usage(source)
    log = services.sync_log_start(source=trigger)
    services.sync_attach_log(claim=claim, log=log)
    result = SyncResult(trigger=trigger, full=full, log_id=str(log.id))
    state = services.sync_state()
    source_state = getattr(source, "state", None)
    if isinstance(source_state, dict) and not full:
        source_state.update(state.source_state)
    failed = dict(state.failed_files)
    try:
        listing = source.list_files()
        result.skip(listing.skipped)
        result.revision = listing.revision or ""
        plan = plan_sync(listing, known=_known(), failed=failed, full=full)
        _apply(_Run(source=source, result=result, failed=failed), plan, progress)
    except SourceError as exc:
        result.error = str(exc)
        logger.warning("sync %s failed: %s", log.id, exc)
    except Exception as exc:  # the log must be closed whatever happened
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
        logger.exception("sync %s failed unexpectedly", log.id)
    except BaseException as exc:  # interrupted: close the log as failed, then let it propagate
        result.error = f"interrupted ({type(exc).__name__})"
        raise
    finally:
        result.stats = _source_stats(source, usage)
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
    return result


@dataclass
class _Run:
    """What the steps of one run share."""

    source: Source
    result: SyncResult
    failed: dict[str, dict]  # path -> {"sha", "error"}, saved for the next run
    now: datetime = field(default_factory=timezone.now)
    projects: dict[str, Project] = field(default_factory=dict)  # project lookups, once per run


def _apply(run: _Run, plan: SyncPlan, progress: Progress | None) -> None:
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
    while batch := list(islice(reads, BATCH)):
        with transaction.atomic():
            for item, data in batch:
                _apply_file(run, item, data)
        done += len(batch)
        if progress:
            progress(done, total)


def _apply_file(run: _Run, item: SourceFile, data: bytes | SourceError) -> None:
    try:
        if isinstance(data, SourceError):
            raise data
        parsed = parse_document(data, path=item.path, fallback_date=run.now)
        action = session_upsert_from_source(
            session_id=parsed.session_id or session_id_for(run.source.repository, item.path),
            path=item.path,
            sha=item.sha,
            parsed=parsed,
            synced_at=run.now,
            projects=run.projects,
        )
    except (DocumentError, SourceError, SessionIdConflict, IntegrityError) as exc:
        _fail_file(run, item, str(exc))
        return
    except DatabaseError:
        raise  # the database itself is in trouble: stop the run, do not blame the file
    except Exception as exc:  # a bug met on one odd file must not stop the others
        logger.exception("sync could not process %s", item.path)
        _fail_file(run, item, f"internal error: {type(exc).__name__}: {exc}")
        return
    if parsed.repairs:
        run.result.counts["repaired"] += 1
        run.result.record(item.path, action, repairs=list(parsed.repairs))
    else:
        run.result.record(item.path, action)


def _fail_file(run: _Run, item: SourceFile, error: str) -> None:
    run.projects.clear()  # a project created in the failed file's rolled-back savepoint is gone
    run.failed[item.path] = {"sha": item.sha, "error": error}
    run.result.fail(item.path, error)
    logger.info("sync skipped %s: %s", item.path, error)


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
